//! The stub resolver, scripted against the crate's own authoritative engine in process: a
//! virtual clock, servers that answer or stay silent, and forged responses.
#![cfg(feature = "zone")]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use unistack_dns::resolver::{
    Event, FailureReason, Ignored, QueryId, Resolver, ResolverConfig, StartError, Transport,
};
use unistack_dns::server::{Server, ServerConfig};
use unistack_dns::tcp::encode_frame;
use unistack_dns::{HeaderView, Message, Rcode, RecordType, TcpDecoder, Zone};

const S0: &str = "192.0.2.53:53";
const S1: &str = "198.51.100.53:53";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// xorshift32: deterministic, never zero.
fn rng(seed: u32) -> impl FnMut() -> u32 {
    let mut x = seed.max(1);
    move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    }
}

fn zones() -> Server {
    let mut big = String::new();
    for i in 0..12 {
        big.push_str(&format!("big 3600 TXT \"{i:02}{}\"\n", "x".repeat(200)));
    }
    let mut long = String::new();
    for i in 0..10 {
        long.push_str(&format!("c{i} CNAME c{}\n", i + 1));
    }
    long.push_str("c10 A 192.0.2.10\n");
    let com = format!(
        "$TTL 3600
@     SOA ns1 hostmaster 1 7200 3600 1209600 300
      NS  ns1
ns1   A   192.0.2.53
www   300 CNAME web
web   600 CNAME host
host  60  A 192.0.2.80
host  60  AAAA 2001:db8::80
off   CNAME www.example.net.
loop1 CNAME loop2
loop2 CNAME loop1
sub   NS ns.sub
ns.sub A 192.0.2.99
{big}{long}"
    );
    let net = "$TTL 3600
@     SOA ns1 hostmaster 1 7200 3600 1209600 600
      NS  ns1
ns1   A   192.0.2.54
www   120 CNAME host
host  A   192.0.2.81
";
    let mut s = Server::new(ServerConfig::default());
    s.add_zone(Zone::parse("example.com", &com).unwrap())
        .unwrap();
    s.add_zone(Zone::parse("example.net", net).unwrap())
        .unwrap();
    s
}

/// A transmission taken out of the resolver.
#[derive(Debug, Clone)]
struct Sent {
    query: QueryId,
    server: SocketAddr,
    transport: Transport,
    port: u16,
    bytes: Vec<u8>,
}

/// The resolver, a virtual clock, and the servers that answer.
struct Net {
    r: Resolver<Box<dyn FnMut() -> u32>>,
    now: Duration,
    up: HashMap<SocketAddr, Server>,
    log: Vec<Sent>,
}

impl Net {
    fn new(config: ResolverConfig) -> Self {
        let mut up = HashMap::new();
        up.insert(addr(S0), zones());
        Net {
            r: Resolver::new(config, Box::new(rng(7))),
            now: Duration::ZERO,
            up,
            log: Vec::new(),
        }
    }

    fn one_server() -> Self {
        Net::new(ResolverConfig::new([addr(S0)]))
    }

    fn start(&mut self, name: &str, qtype: RecordType) -> QueryId {
        self.r.start(self.now, name, qtype).unwrap()
    }

    /// Take every pending transmission without delivering it.
    fn take(&mut self) -> Vec<Sent> {
        let mut out = Vec::new();
        while let Some(t) = self.r.poll_transmit(self.now) {
            out.push(Sent {
                query: t.query,
                server: t.server,
                transport: t.transport,
                port: t.local_port,
                bytes: t.bytes.to_vec(),
            });
        }
        self.log.extend(out.iter().cloned());
        out
    }

    /// What the server at `to` answers (None when it is down or drops the query).
    fn answer(&self, s: &Sent) -> Option<Vec<u8>> {
        let server = self.up.get(&s.server)?;
        let query = match s.transport {
            Transport::Udp => &s.bytes[..],
            Transport::Tcp => {
                let len = usize::from(u16::from_be_bytes([s.bytes[0], s.bytes[1]]));
                assert_eq!(len + 2, s.bytes.len(), "TCP bytes carry their prefix");
                &s.bytes[2..]
            }
        };
        let mut out = vec![0u8; 65535];
        let n = server.handle(query, s.transport, &mut out).ok()?;
        out.truncate(n);
        Some(out)
    }

    /// Hand a response to the resolver as it would arrive for `s` (TCP: framed, one byte
    /// at a time through a decoder).
    fn deliver(&mut self, s: &Sent, response: &[u8]) -> Result<(), Ignored> {
        match s.transport {
            Transport::Udp => self.r.handle_response(self.now, s.server, s.port, response),
            Transport::Tcp => {
                let mut frame = vec![0u8; response.len() + 2];
                encode_frame(response, &mut frame).unwrap();
                let mut storage = vec![0u8; 65537];
                let mut dec = TcpDecoder::new(&mut storage);
                let mut result = Ok(());
                for b in frame.chunks(1) {
                    assert_eq!(dec.feed(b), 1);
                    let r = self.r.handle_tcp(self.now, s.server, &mut dec);
                    if r.is_err() {
                        result = r;
                    }
                }
                result
            }
        }
    }

    /// Send and answer until nothing is left to send.
    fn run(&mut self) {
        for _ in 0..32 {
            let sent = self.take();
            if sent.is_empty() {
                return;
            }
            for s in sent {
                if let Some(resp) = self.answer(&s) {
                    self.deliver(&s, &resp).unwrap();
                }
            }
        }
        panic!("the resolver keeps sending");
    }

    /// Advance the clock to `t`, handling timeouts.
    fn at(&mut self, t: Duration) {
        self.now = t;
        self.r.handle_timeout(t);
    }

    fn event(&mut self) -> Event {
        self.r.poll_event().expect("an event")
    }

    fn answer_for(&mut self, name: &str, qtype: RecordType) -> unistack_dns::resolver::Answer {
        let id = self.start(name, qtype);
        self.run();
        match self.event() {
            Event::Answer(a) => {
                assert_eq!(a.query, id);
                a
            }
            Event::Failure(f) => panic!("{name}: {:?}", f.reason),
        }
    }

    fn failure_for(&mut self, name: &str, qtype: RecordType) -> FailureReason {
        let id = self.start(name, qtype);
        self.run();
        match self.event() {
            Event::Failure(f) => {
                assert_eq!(f.query, id);
                f.reason
            }
            Event::Answer(a) => panic!("{name}: answered {a:?}"),
        }
    }
}

fn lines(records: &[unistack_dns::ZoneRecord]) -> Vec<String> {
    records.iter().map(ToString::to_string).collect()
}

#[test]
fn cname_chain_inside_a_zone() {
    let mut n = Net::one_server();
    let a = n.answer_for("www.example.com", RecordType::A);
    assert_eq!(a.rcode, Rcode::NoError);
    assert_eq!(a.name.to_string(), "www.example.com.");
    assert_eq!(a.canonical.to_string(), "host.example.com.");
    assert_eq!(
        lines(&a.cnames),
        [
            "www.example.com. 300 IN CNAME web.example.com.",
            "web.example.com. 600 IN CNAME host.example.com."
        ]
    );
    assert_eq!(lines(&a.records), ["host.example.com. 60 IN A 192.0.2.80"]);
    assert_eq!(a.ttl, 60, "the least TTL of the chain and the records");
    assert!(!a.from_cache && !a.authenticated && a.soa.is_none());
    assert_eq!(n.log.len(), 1);
    assert_eq!(n.r.stats().udp_sent, 1);
    assert_eq!(n.r.in_flight(), 0);
    assert!(n.r.poll_event().is_none());
}

#[test]
fn query_bytes() {
    let mut n = Net::one_server();
    n.start("Host.Example.COM", RecordType::Aaaa);
    let s = n.take().pop().unwrap();
    assert_eq!(s.server, addr(S0));
    assert_eq!(s.transport, Transport::Udp);
    assert!(s.port >= 1024);
    let m = Message::new(&s.bytes).unwrap();
    m.check().unwrap();
    assert!(!m.is_response());
    assert!(m.header().rd());
    let q = m.questions().next().unwrap().unwrap();
    assert_eq!(q.to_string(), "Host.Example.COM. IN AAAA");
    assert_eq!(m.edns().unwrap().unwrap().udp_payload_size, 1232);
    // A second lookup gets another ID and port.
    n.start("host.example.com", RecordType::A);
    let t = n.take().pop().unwrap();
    assert_ne!(Message::new(&t.bytes).unwrap().id(), m.id());
    assert_ne!(t.port, s.port);
}

#[test]
fn chain_across_zones_is_asked_again() {
    let mut n = Net::one_server();
    let a = n.answer_for("off.example.com", RecordType::A);
    assert_eq!(
        lines(&a.cnames),
        [
            "off.example.com. 3600 IN CNAME www.example.net.",
            "www.example.net. 120 IN CNAME host.example.net."
        ]
    );
    assert_eq!(
        lines(&a.records),
        ["host.example.net. 3600 IN A 192.0.2.81"]
    );
    assert_eq!(a.canonical.to_string(), "host.example.net.");
    assert_eq!(a.name.to_string(), "off.example.com.");
    assert_eq!(a.ttl, 120);
    let asked: Vec<String> = n
        .log
        .iter()
        .map(|s| {
            let m = Message::new(&s.bytes).unwrap();
            m.questions().next().unwrap().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        asked,
        ["off.example.com. IN A", "www.example.net. IN A"],
        "the second query asks for where the first chain left off"
    );
}

#[test]
fn cname_loops_and_long_chains_fail() {
    let mut n = Net::one_server();
    assert_eq!(
        n.failure_for("loop1.example.com", RecordType::A),
        FailureReason::CnameLimit
    );
    assert_eq!(
        n.failure_for("c0.example.com", RecordType::A),
        FailureReason::CnameLimit
    );
    // Eight links are allowed: c2 -> c10 is 8.
    let a = n.answer_for("c2.example.com", RecordType::A);
    assert_eq!(a.cnames.len(), 8);
    assert_eq!(lines(&a.records), ["c10.example.com. 3600 IN A 192.0.2.10"]);
    // A tighter limit.
    let mut config = ResolverConfig::new([addr(S0)]);
    config.max_cname = 1;
    let mut n = Net::new(config);
    assert_eq!(
        n.failure_for("www.example.com", RecordType::A),
        FailureReason::CnameLimit
    );
    assert_eq!(
        n.answer_for("web.example.com", RecordType::A).cnames.len(),
        1
    );
}

#[test]
fn nxdomain_is_cached_for_every_type() {
    let mut n = Net::one_server();
    let a = n.answer_for("nothere.example.com", RecordType::A);
    assert!(a.is_nxdomain() && !a.is_nodata());
    assert!(a.records.is_empty() && a.cnames.is_empty());
    assert_eq!(
        a.soa.as_ref().unwrap().to_string(),
        "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300",
        "the server already lowered it to MINIMUM"
    );
    assert_eq!(
        a.ttl, 300,
        "RFC 2308: the lesser of the SOA TTL and MINIMUM"
    );
    assert_eq!(n.log.len(), 1);
    n.at(secs(100));
    let id = n.start("NotHere.example.com", RecordType::Mx);
    assert!(n.take().is_empty(), "answered from the cache");
    let Event::Answer(b) = n.event() else {
        panic!()
    };
    assert_eq!(
        (b.query, b.qtype, b.rcode),
        (id, RecordType::Mx, Rcode::NxDomain)
    );
    assert_eq!(b.name.to_string(), "NotHere.example.com.");
    assert!(b.from_cache);
    assert_eq!(b.ttl, 200);
    assert_eq!(b.soa.unwrap().ttl(), 200);
    // Expired at 300 s.
    n.at(secs(300));
    n.start("nothere.example.com", RecordType::A);
    assert_eq!(n.take().len(), 1);
}

#[test]
fn nxdomain_at_the_end_of_a_chain() {
    let mut n = Net::one_server();
    // A server with a dangling alias.
    let mut s = Server::new(ServerConfig::default());
    s.add_zone(
        Zone::parse(
            "example.org",
            "@ 60 SOA ns hm 1 2 3 4 30\n@ 60 NS ns\nns 60 A 192.0.2.1\nd 60 CNAME gone\n",
        )
        .unwrap(),
    )
    .unwrap();
    n.up.insert(addr(S0), s);
    let a = n.answer_for("d.example.org", RecordType::A);
    assert!(a.is_nxdomain());
    assert_eq!(a.canonical.to_string(), "gone.example.org.");
    assert_eq!(a.cnames.len(), 1);
    assert_eq!(a.ttl, 30);
    // Cached under the name and type asked only: the NXDOMAIN is for the target.
    n.start("d.example.org", RecordType::A);
    assert!(n.take().is_empty());
    assert!(matches!(n.event(), Event::Answer(b) if b.from_cache && b.is_nxdomain()));
    n.start("d.example.org", RecordType::Txt);
    assert_eq!(n.take().len(), 1);
}

#[test]
fn nodata() {
    let mut n = Net::one_server();
    let a = n.answer_for("host.example.com", RecordType::Mx);
    assert!(a.is_nodata());
    assert_eq!(a.rcode, Rcode::NoError);
    assert_eq!(a.ttl, 300);
    // Through a chain.
    let a = n.answer_for("www.example.com", RecordType::Txt);
    assert!(a.is_nodata());
    assert_eq!(a.cnames.len(), 2);
    assert_eq!(a.canonical.to_string(), "host.example.com.");
    // The A lookup is a different cache entry.
    let a = n.answer_for("host.example.com", RecordType::A);
    assert_eq!(a.records.len(), 1);
    assert_eq!(n.log.len(), 3);
}

#[test]
fn any_cname_and_aaaa() {
    let mut n = Net::one_server();
    let a = n.answer_for("host.example.com", RecordType::Any);
    assert_eq!(
        lines(&a.records),
        [
            "host.example.com. 60 IN A 192.0.2.80",
            "host.example.com. 60 IN AAAA 2001:db8::80"
        ]
    );
    assert_eq!(
        a.addresses().map(|a| a.to_string()).collect::<Vec<_>>(),
        ["192.0.2.80", "2001:db8::80"]
    );
    let a = n.answer_for("www.example.com", RecordType::Cname);
    assert!(a.cnames.is_empty());
    assert_eq!(
        lines(&a.records),
        ["www.example.com. 300 IN CNAME web.example.com."]
    );
    let a = n.answer_for("www.example.com", RecordType::Aaaa);
    assert_eq!(
        a.addresses().map(|a| a.to_string()).collect::<Vec<_>>(),
        ["2001:db8::80"]
    );
}

#[test]
fn referral_from_a_non_recursive_server() {
    let mut n = Net::one_server();
    assert_eq!(
        n.failure_for("a.sub.example.com", RecordType::A),
        FailureReason::Referral
    );
}

#[test]
fn truncation_falls_back_to_tcp() {
    let mut n = Net::one_server();
    let id = n.start("big.example.com", RecordType::Txt);
    let udp = n.take().pop().unwrap();
    let resp = n.answer(&udp).unwrap();
    assert!(Message::new(&resp).unwrap().header().tc());
    n.deliver(&udp, &resp).unwrap();
    assert!(n.r.poll_event().is_none());
    // The same truncated answer again (a duplicate) asks for no second connection.
    n.deliver(&udp, &resp).unwrap();
    let tcp = n.take();
    assert_eq!(tcp.len(), 1);
    let tcp = tcp.into_iter().next().unwrap();
    assert_eq!(
        (tcp.server, tcp.transport, tcp.port),
        (addr(S0), Transport::Tcp, 0)
    );
    assert_eq!(tcp.query, id);
    n.deliver(&udp, &resp).unwrap();
    assert!(n.take().is_empty());
    // The UDP response does not match the TCP transmission.
    assert_eq!(n.deliver(&tcp, &resp), Err(Ignored::Unmatched));
    let full = n.answer(&tcp).unwrap();
    assert!(full.len() > 2000);
    n.deliver(&tcp, &full).unwrap();
    let Event::Answer(a) = n.event() else {
        panic!()
    };
    assert_eq!(a.records.len(), 12);
    let st = n.r.stats();
    assert_eq!((st.udp_sent, st.tcp_sent, st.truncated), (1, 1, 3));
    // Without EDNS the limit is 512 bytes; the same happens, and two messages in one TCP
    // read are both taken.
    let mut config = ResolverConfig::new([addr(S0)]);
    config.udp_payload_size = None;
    let mut n = Net::new(config);
    assert_eq!(
        n.answer_for("big.example.com", RecordType::Txt)
            .records
            .len(),
        12
    );
    assert_eq!(
        n.log
            .iter()
            .filter(|s| s.transport == Transport::Tcp)
            .count(),
        1
    );
}

#[test]
fn pipelined_tcp_responses() {
    let mut n = Net::one_server();
    let a = n.start("big.example.com", RecordType::Txt);
    let b = n.start("big.example.com", RecordType::Txt);
    for s in n.take() {
        let resp = n.answer(&s).unwrap();
        n.deliver(&s, &resp).unwrap();
    }
    let tcp = n.take();
    assert_eq!(tcp.len(), 2);
    // Both answers arrive on one stream, in one read.
    let mut stream = Vec::new();
    for s in tcp.iter().rev() {
        let r = n.answer(s).unwrap();
        stream.extend_from_slice(&(r.len() as u16).to_be_bytes());
        stream.extend_from_slice(&r);
    }
    let mut storage = vec![0u8; 65537];
    let mut dec = TcpDecoder::new(&mut storage);
    assert_eq!(dec.feed(&stream), stream.len());
    n.r.handle_tcp(n.now, addr(S0), &mut dec).unwrap();
    let mut ids = vec![n.event().query(), n.event().query()];
    ids.sort();
    assert_eq!(ids, [a, b]);
}

#[test]
fn forged_responses_are_ignored() {
    let mut n = Net::one_server();
    let id = n.start("host.example.com", RecordType::A);
    let s = n.take().pop().unwrap();
    let good = n.answer(&s).unwrap();
    let udp = |n: &mut Net, from: &str, port: u16, bytes: &[u8]| {
        n.r.handle_response(n.now, addr(from), port, bytes)
    };
    // Wrong ID.
    let mut bad = good.clone();
    bad[1] ^= 1;
    assert_eq!(udp(&mut n, S0, s.port, &bad), Err(Ignored::Unmatched));
    // Wrong source address, wrong source port, wrong destination port.
    assert_eq!(udp(&mut n, S1, s.port, &good), Err(Ignored::Unmatched));
    assert_eq!(
        udp(&mut n, "192.0.2.53:5353", s.port, &good),
        Err(Ignored::Unmatched)
    );
    assert_eq!(
        udp(&mut n, S0, s.port.wrapping_add(1), &good),
        Err(Ignored::Unmatched)
    );
    // Over TCP instead of UDP.
    assert_eq!(
        n.r.handle_tcp_message(n.now, addr(S0), &good),
        Err(Ignored::Unmatched)
    );
    // Not a response; too short.
    let mut bad = good.clone();
    bad[2] &= 0x7f;
    assert_eq!(udp(&mut n, S0, s.port, &bad), Err(Ignored::NotAResponse));
    assert_eq!(
        udp(&mut n, S0, s.port, &good[..11]),
        Err(Ignored::NotAResponse)
    );
    // Another question: a different name of the same length, another type, another class.
    let qname = 12;
    let mut bad = good.clone();
    bad[qname + 1] = b'g';
    assert_eq!(udp(&mut n, S0, s.port, &bad), Err(Ignored::WrongQuestion));
    let qtype = qname + "host.example.com".len() + 2;
    let mut bad = good.clone();
    bad[qtype + 1] = 28;
    assert_eq!(udp(&mut n, S0, s.port, &bad), Err(Ignored::WrongQuestion));
    let mut bad = good.clone();
    bad[qtype + 3] = 3;
    assert_eq!(udp(&mut n, S0, s.port, &bad), Err(Ignored::WrongQuestion));
    // No question.
    let mut bad = good.clone();
    bad[5] = 0;
    assert_eq!(udp(&mut n, S0, s.port, &bad), Err(Ignored::WrongQuestion));
    // Right header and question, garbage after.
    let mut bad = good.clone();
    bad.truncate(good.len() - 3);
    assert_eq!(udp(&mut n, S0, s.port, &bad), Err(Ignored::Malformed));
    assert!(
        n.r.poll_event().is_none(),
        "nothing forged ended the lookup"
    );
    assert_eq!(n.r.stats().ignored, 12);
    // The real one, then a replay of it.
    udp(&mut n, S0, s.port, &good).unwrap();
    assert_eq!(n.event().query(), id);
    assert_eq!(udp(&mut n, S0, s.port, &good), Err(Ignored::Unmatched));
    // A forged answer with different data but the right everything is (necessarily) taken:
    // what protects the resolver is that the ID and port are unguessable.
}

#[test]
fn question_case_is_checked_under_0x20() {
    let mut config = ResolverConfig::new([addr(S0)]);
    config.randomize_case = true;
    let mut n = Net::new(config);
    n.start("host.example.com", RecordType::A);
    let s = n.take().pop().unwrap();
    let sent_name = &s.bytes[12..12 + 18];
    assert_ne!(
        sent_name, b"\x04host\x07example\x03com\x00",
        "case randomised"
    );
    assert!(sent_name.eq_ignore_ascii_case(b"\x04host\x07example\x03com\x00"));
    let good = n.answer(&s).unwrap();
    assert_eq!(&good[12..30], sent_name, "the server echoes the case");
    let mut lowered = good.clone();
    lowered[12..30].make_ascii_lowercase();
    let mut flipped = good.clone();
    flipped[13] ^= 0x20;
    for bad in [lowered, flipped] {
        assert_eq!(
            n.r.handle_response(n.now, s.server, s.port, &bad),
            Err(Ignored::WrongQuestion)
        );
    }
    n.deliver(&s, &good).unwrap();
    assert!(matches!(n.event(), Event::Answer(_)));

    // Without 0x20, a server that changes the case is fine.
    let mut n = Net::one_server();
    n.start("host.example.com", RecordType::A);
    let s = n.take().pop().unwrap();
    let mut upper = n.answer(&s).unwrap();
    upper[12..30].make_ascii_uppercase();
    n.deliver(&s, &upper).unwrap();
    assert!(matches!(n.event(), Event::Answer(_)));
}

#[test]
fn retries_follow_the_schedule_across_servers() {
    let mut n = Net::new(ResolverConfig::new([addr(S0), addr(S1)]));
    n.up.clear();
    let id = n.start("host.example.com", RecordType::A);
    let first = n.take();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].server, addr(S0));
    assert_eq!(n.r.poll_timeout(), Some(secs(1)));
    n.at(Duration::from_millis(999));
    assert!(n.take().is_empty());
    n.at(secs(1));
    let second = n.take();
    assert_eq!(second[0].server, addr(S1));
    assert_ne!(second[0].port, first[0].port);
    assert_eq!(n.r.poll_timeout(), Some(secs(3)));
    n.at(secs(3));
    assert_eq!(n.take()[0].server, addr(S0));
    assert_eq!(n.r.poll_timeout(), Some(secs(7)));
    n.at(Duration::from_millis(6999));
    assert!(n.r.poll_event().is_none());
    n.at(secs(7));
    assert!(n.take().is_empty());
    assert_eq!(n.r.poll_timeout(), None);
    let Event::Failure(f) = n.event() else {
        panic!()
    };
    assert_eq!((f.query, f.reason), (id, FailureReason::Timeout));
    assert_eq!(f.name.to_string(), "host.example.com.");
    assert_eq!(n.r.stats().timeouts, 3);
    assert_eq!(n.r.in_flight(), 0);
}

#[test]
fn a_late_answer_to_an_earlier_transmission_is_taken() {
    let mut n = Net::new(ResolverConfig::new([addr(S0), addr(S1)]));
    n.start("host.example.com", RecordType::A);
    let first = n.take().pop().unwrap();
    n.at(secs(1));
    let second = n.take().pop().unwrap();
    assert_eq!(second.server, addr(S1));
    // S0's answer to the first query arrives now.
    let late = n.answer(&first).unwrap();
    n.deliver(&first, &late).unwrap();
    assert!(matches!(n.event(), Event::Answer(_)));
    assert_eq!(n.r.poll_timeout(), None);
}

#[test]
fn error_codes_move_on_to_the_next_server() {
    // S0 serves nothing (REFUSED), S1 has the zones.
    let mut n = Net::new(ResolverConfig::new([addr(S0), addr(S1)]));
    n.up.insert(addr(S0), Server::new(ServerConfig::default()));
    n.up.insert(addr(S1), zones());
    let a = n.answer_for("host.example.com", RecordType::A);
    assert_eq!(a.records.len(), 1);
    let servers: Vec<_> = n.log.iter().map(|s| s.server).collect();
    assert_eq!(servers, [addr(S0), addr(S1)], "no wait for the timeout");
    // With only refusing servers, the lookup fails with the code.
    let mut n = Net::new(ResolverConfig::new([addr(S0)]));
    n.up.insert(addr(S0), Server::new(ServerConfig::default()));
    assert_eq!(
        n.failure_for("host.example.com", RecordType::A),
        FailureReason::Rcode(Rcode::Refused)
    );
    assert_eq!(n.log.len(), 1);
    // SERVFAIL from the one server, forged into its response.
    let mut n = Net::one_server();
    n.start("host.example.com", RecordType::A);
    let s = n.take().pop().unwrap();
    let mut resp = n.answer(&s).unwrap();
    HeaderView::new_unchecked(&mut resp[..]).set_rcode(Rcode::ServFail);
    n.deliver(&s, &resp).unwrap();
    let Event::Failure(f) = n.event() else {
        panic!()
    };
    assert_eq!(f.reason, FailureReason::Rcode(Rcode::ServFail));
}

#[test]
fn tcp_timeout_goes_on_with_the_schedule() {
    let mut n = Net::new(ResolverConfig::new([addr(S0), addr(S1)]));
    n.up.insert(addr(S1), zones());
    n.start("big.example.com", RecordType::Txt);
    let udp = n.take().pop().unwrap();
    let resp = n.answer(&udp).unwrap();
    n.deliver(&udp, &resp).unwrap();
    let tcp = n.take().pop().unwrap();
    assert_eq!(tcp.transport, Transport::Tcp);
    assert_eq!(n.r.poll_timeout(), Some(secs(5)));
    // The TCP connection never answers.
    n.at(secs(5));
    let next = n.take().pop().unwrap();
    assert_eq!((next.server, next.transport), (addr(S1), Transport::Udp));
    let resp = n.answer(&next).unwrap();
    n.deliver(&next, &resp).unwrap();
    n.run();
    let Event::Answer(a) = n.event() else {
        panic!()
    };
    assert_eq!(a.records.len(), 12);
}

#[test]
fn cache_hits_age_and_expire() {
    let mut n = Net::one_server();
    let a = n.answer_for("www.example.com", RecordType::A);
    assert_eq!(a.ttl, 60);
    n.at(secs(59));
    let id = n.start("WWW.EXAMPLE.COM.", RecordType::A);
    assert!(n.take().is_empty());
    let Event::Answer(b) = n.event() else {
        panic!()
    };
    assert_eq!(b.query, id);
    assert!(b.from_cache);
    assert_eq!(b.ttl, 1);
    assert_eq!(b.name.to_string(), "WWW.EXAMPLE.COM.");
    assert_eq!(
        lines(&b.cnames),
        [
            "www.example.com. 241 IN CNAME web.example.com.",
            "web.example.com. 541 IN CNAME host.example.com."
        ]
    );
    assert_eq!(lines(&b.records), ["host.example.com. 1 IN A 192.0.2.80"]);
    assert_eq!(n.r.stats().cache_hits, 1);
    n.at(secs(60));
    n.start("www.example.com", RecordType::A);
    let sent = n.take();
    assert_eq!(sent.len(), 1, "expired");
    let r = n.answer(&sent[0]).unwrap();
    n.deliver(&sent[0], &r).unwrap();
    assert!(!matches!(n.event(), Event::Answer(a) if a.from_cache));
    assert_eq!(n.r.cache_len(), 1);
    n.r.clear_cache();
    assert_eq!(n.r.cache_len(), 0);
}

#[test]
fn the_rest_of_a_chain_may_come_from_the_cache() {
    let mut n = Net::one_server();
    n.answer_for("www.example.net", RecordType::A);
    assert_eq!(n.log.len(), 1);
    let a = n.answer_for("off.example.com", RecordType::A);
    assert_eq!(n.log.len(), 2, "www.example.net came from the cache");
    assert_eq!(a.cnames.len(), 2);
    assert_eq!(
        lines(&a.records),
        ["host.example.net. 3600 IN A 192.0.2.81"]
    );
    assert_eq!(a.ttl, 120);
}

#[test]
fn the_cache_is_bounded() {
    let mut config = ResolverConfig::new([addr(S0)]);
    config.cache_size = 2;
    let mut n = Net::new(config);
    n.answer_for("host.example.com", RecordType::A); // 60 s
    n.answer_for("ns1.example.com", RecordType::A); // 3600 s
    n.answer_for("www.example.net", RecordType::A); // 120 s: evicts the 60 s one
    assert_eq!(n.r.cache_len(), 2);
    let sent = n.log.len();
    n.answer_for("ns1.example.com", RecordType::A);
    n.answer_for("www.example.net", RecordType::A);
    assert_eq!(n.log.len(), sent);
    n.answer_for("host.example.com", RecordType::A);
    assert_eq!(n.log.len(), sent + 1);
    // No cache at all.
    let mut config = ResolverConfig::new([addr(S0)]);
    config.cache_size = 0;
    let mut n = Net::new(config);
    n.answer_for("ns1.example.com", RecordType::A);
    n.answer_for("ns1.example.com", RecordType::A);
    assert_eq!(n.log.len(), 2);
    // A TTL cap.
    let mut config = ResolverConfig::new([addr(S0)]);
    config.max_ttl = 10;
    let mut n = Net::new(config);
    assert_eq!(n.answer_for("ns1.example.com", RecordType::A).ttl, 10);
}

#[test]
fn start_errors_and_cancel() {
    let mut n = Net::one_server();
    assert!(matches!(
        n.r.start(n.now, "a..b", RecordType::A),
        Err(StartError::BadName(_))
    ));
    assert_eq!(
        n.r.start(n.now, "a.b", RecordType::Opt),
        Err(StartError::BadType)
    );
    assert_eq!(
        n.r.start(n.now, "a.b", RecordType::Axfr),
        Err(StartError::BadType)
    );
    let mut none = Resolver::new(ResolverConfig::new([]), rng(1));
    assert_eq!(
        none.start(Duration::ZERO, "a.b", RecordType::A),
        Err(StartError::NoServers)
    );
    let mut config = ResolverConfig::new([addr(S0)]);
    config.max_queries = 2;
    let mut n = Net::new(config);
    let a = n.start("host.example.com", RecordType::A);
    n.start("ns1.example.com", RecordType::A);
    assert_eq!(
        n.r.start(n.now, "x.example.com", RecordType::A),
        Err(StartError::TooManyQueries)
    );
    assert!(n.r.cancel(a));
    assert!(!n.r.cancel(a));
    n.run();
    // Unpolled events count too.
    n.start("host.example.com", RecordType::A);
    assert_eq!(
        n.r.start(n.now, "x.example.com", RecordType::A),
        Err(StartError::TooManyQueries)
    );
    let only = n.event();
    assert!(matches!(only, Event::Answer(ref a) if a.name.to_string() == "ns1.example.com."));
    n.run();
    assert!(matches!(n.event(), Event::Answer(_)));
    assert!(n.r.poll_event().is_none());
}

#[test]
fn many_lookups_at_once() {
    let mut n = Net::new(ResolverConfig::new([addr(S0)]));
    let names = [
        "host.example.com",
        "www.example.com",
        "nothere.example.com",
        "off.example.com",
    ];
    let ids: Vec<_> = names.iter().map(|q| n.start(q, RecordType::A)).collect();
    // Answers delivered in reverse order.
    let mut sent = n.take();
    sent.reverse();
    for s in &sent {
        let r = n.answer(s).unwrap();
        n.deliver(s, &r).unwrap();
    }
    n.run();
    let mut got: Vec<_> = std::iter::from_fn(|| n.r.poll_event())
        .map(|e| e.query())
        .collect();
    got.sort();
    assert_eq!(got, ids);
}

#[test]
fn a_failed_tcp_connection_moves_on_at_once() {
    let mut n = Net::new(ResolverConfig::new([addr(S0), addr(S1)]));
    n.up.insert(addr(S1), zones());
    let id = n.start("big.example.com", RecordType::Txt);
    assert!(!n.r.handle_tcp_error(id), "not on TCP yet");
    let udp = n.take().pop().unwrap();
    let resp = n.answer(&udp).unwrap();
    n.deliver(&udp, &resp).unwrap();
    let tcp = n.take().pop().unwrap();
    assert_eq!(tcp.transport, Transport::Tcp);
    // Connection refused, at once.
    assert!(n.r.handle_tcp_error(id));
    assert!(!n.r.handle_tcp_error(id), "reported once");
    let next = n.take().pop().unwrap();
    assert_eq!((next.server, next.transport), (addr(S1), Transport::Udp));
    assert_eq!(n.now, Duration::ZERO);
    // With no step left, the lookup fails.
    let mut config = ResolverConfig::new([addr(S0)]);
    config.timeouts = vec![secs(1)];
    let mut n = Net::new(config);
    let id = n.start("big.example.com", RecordType::Txt);
    let udp = n.take().pop().unwrap();
    let resp = n.answer(&udp).unwrap();
    n.deliver(&udp, &resp).unwrap();
    n.take();
    assert!(n.r.handle_tcp_error(id));
    let Event::Failure(f) = n.event() else {
        panic!()
    };
    assert_eq!((f.query, f.reason), (id, FailureReason::Timeout));
}

#[test]
fn query_options() {
    let mut config = ResolverConfig::new([addr(S0)]);
    config.random_source_port = false;
    config.recursion_desired = false;
    config.udp_payload_size = None;
    let mut n = Net::new(config);
    n.start("host.example.com", RecordType::A);
    let s = n.take().pop().unwrap();
    assert_eq!(s.port, 0);
    let m = Message::new(&s.bytes).unwrap();
    assert!(!m.header().rd());
    assert_eq!(m.edns().unwrap(), None);
    assert_eq!(s.bytes.len(), 12 + 18 + 4);
    // Port 0: the response may arrive on any port; AD is passed on.
    let mut resp = n.answer(&s).unwrap();
    HeaderView::new_unchecked(&mut resp[..]).set_ad(true);
    n.r.handle_response(n.now, s.server, 40000, &resp).unwrap();
    let Event::Answer(a) = n.event() else {
        panic!()
    };
    assert!(a.authenticated);
}

/// What a server that does not speak EDNS (RFC 1035 only) answers to a query with an OPT
/// record: FORMERR, no OPT, the question echoed or not.
fn formerr_without_opt(query: &[u8], echo_question: bool) -> Vec<u8> {
    let m = Message::new(query).unwrap();
    let q = m.questions().next().unwrap().unwrap();
    let mut out = query[..12].to_vec();
    let mut h = HeaderView::new_unchecked(&mut out[..]);
    h.set_qr(true);
    h.set_rcode(Rcode::FormErr);
    h.set_qdcount(u16::from(echo_question));
    h.set_ancount(0);
    h.set_nscount(0);
    h.set_arcount(0);
    if echo_question {
        out.extend_from_slice(&query[q.range()]);
    }
    out
}

fn has_opt(query: &[u8]) -> bool {
    Message::new(query).unwrap().edns().unwrap().is_some()
}

#[test]
fn a_server_without_edns_is_asked_again_without_opt() {
    for echo_question in [true, false] {
        let mut n = Net::one_server();
        assert!(n.r.speaks_edns(addr(S0)));
        let id = n.start("host.example.com", RecordType::A);
        let first = n.take().pop().unwrap();
        assert!(has_opt(&first.bytes));
        let refusal = formerr_without_opt(&first.bytes, echo_question);
        n.deliver(&first, &refusal).unwrap();
        // At once, to the same server, without OPT: no wait for a timeout.
        let second = n.take().pop().expect("sent again");
        assert_eq!(
            (second.server, second.transport),
            (addr(S0), Transport::Udp)
        );
        assert!(!has_opt(&second.bytes));
        let resp = n.answer(&second).unwrap();
        n.deliver(&second, &resp).unwrap();
        let Event::Answer(a) = n.event() else {
            panic!("no answer")
        };
        assert_eq!(a.query, id);
        assert_eq!(lines(&a.records), ["host.example.com. 60 IN A 192.0.2.80"]);
        assert_eq!(n.r.stats().edns_fallbacks, 1);
        assert!(!n.r.speaks_edns(addr(S0)));
        // The server is remembered: the next lookup goes without OPT from the start.
        n.start("web.example.com", RecordType::A);
        let next = n.take().pop().unwrap();
        assert!(!has_opt(&next.bytes));
        // And a FORMERR to a query without OPT is the server's error, not another fallback
        // (without the question it is not known to be about ours, and is ignored).
        let again = formerr_without_opt(&next.bytes, echo_question);
        if !echo_question {
            assert_eq!(n.deliver(&next, &again), Err(Ignored::WrongQuestion));
            let again = formerr_without_opt(&next.bytes, true);
            n.deliver(&next, &again).unwrap();
        } else {
            n.deliver(&next, &again).unwrap();
        }
        let Event::Failure(f) = n.event() else {
            panic!("answered")
        };
        assert_eq!(f.reason, FailureReason::Rcode(Rcode::FormErr));
        assert_eq!(n.r.stats().edns_fallbacks, 1);
    }
}

#[test]
fn formerr_from_a_server_that_speaks_edns_is_an_error() {
    // The FORMERR carries an OPT record: the server speaks EDNS and objects to something
    // else. No fallback; with one server the lookup fails with the code.
    let mut n = Net::one_server();
    n.start("host.example.com", RecordType::A);
    let s = n.take().pop().unwrap();
    let mut resp = n.answer(&s).unwrap();
    assert!(has_opt(&resp));
    HeaderView::new_unchecked(&mut resp[..]).set_rcode(Rcode::FormErr);
    n.deliver(&s, &resp).unwrap();
    let Event::Failure(f) = n.event() else {
        panic!("answered")
    };
    assert_eq!(f.reason, FailureReason::Rcode(Rcode::FormErr));
    assert!(n.take().is_empty());
    assert!(n.r.speaks_edns(addr(S0)));
    assert_eq!(n.r.stats().edns_fallbacks, 0);

    // EDNS off: a FORMERR is an error too.
    let mut config = ResolverConfig::new([addr(S0)]);
    config.udp_payload_size = None;
    let mut n = Net::new(config);
    n.start("host.example.com", RecordType::A);
    let s = n.take().pop().unwrap();
    assert!(!has_opt(&s.bytes));
    let refusal = formerr_without_opt(&s.bytes, true);
    n.deliver(&s, &refusal).unwrap();
    assert!(matches!(n.event(), Event::Failure(_)));
    assert!(!n.r.speaks_edns(addr(S0)));
}

#[test]
fn a_forged_formerr_does_not_turn_edns_off() {
    let mut n = Net::one_server();
    n.start("host.example.com", RecordType::A);
    let s = n.take().pop().unwrap();
    let refusal = formerr_without_opt(&s.bytes, false);
    // Wrong port, wrong source, wrong ID: all ignored.
    assert!(
        n.r.handle_response(n.now, s.server, s.port ^ 1, &refusal)
            .is_err()
    );
    assert!(
        n.r.handle_response(n.now, addr(S1), s.port, &refusal)
            .is_err()
    );
    let mut wrong_id = refusal.clone();
    wrong_id[0] ^= 0xff;
    assert!(
        n.r.handle_response(n.now, s.server, s.port, &wrong_id)
            .is_err()
    );
    // A question that is not ours.
    let other =
        n.r.start(n.now, "other.example.com", RecordType::Aaaa)
            .unwrap();
    let o = n.take().pop().unwrap();
    assert_eq!(o.query, other);
    let mut mixed = formerr_without_opt(&o.bytes, true);
    mixed[..2].copy_from_slice(&s.bytes[..2]);
    assert!(
        n.r.handle_response(n.now, s.server, s.port, &mixed)
            .is_err()
    );
    assert!(n.r.speaks_edns(addr(S0)));
    assert_eq!(n.r.stats().edns_fallbacks, 0);
    assert!(n.take().is_empty(), "nothing sent again");
}
