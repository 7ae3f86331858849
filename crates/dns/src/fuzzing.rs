//! Fuzz target bodies, for the workspace's fuzz crate (feature `fuzzing`). Each takes the
//! fuzzer's bytes and panics only when an invariant breaks.

use std::string::{String, ToString};
use std::sync::OnceLock;
use std::vec::Vec;

use crate::resolver::{Event, Resolver, ResolverConfig};
use crate::server::{Server, ServerConfig, Transport};
use crate::tcp::TcpDecoder;
use crate::zone::{ParseOptions, Zone, parse_records};
use crate::{Class, Edns, Message, MessageBuilder, NameBuf, RecordType};

/// Zone text: parsing never panics; every record parsed displays as text that parses back
/// to the same record; a zone that passes the checks loads into a server, whose precompiled
/// answers equal its computed ones for every owner name.
pub fn zone_text(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let origin = NameBuf::from_dotted("example.").ok();
    let Ok(records) = parse_records(
        text,
        ParseOptions {
            origin,
            ..ParseOptions::default()
        },
    ) else {
        let _ = Zone::parse("example.", text);
        return;
    };
    let printed: String = records.iter().map(|r| r.to_string() + "\n").collect();
    let again = parse_records(&printed, ParseOptions::default())
        .unwrap_or_else(|e| panic!("printed zone does not parse: {e}\n{printed}"));
    assert_eq!(again, records, "round trip changed the records:\n{printed}");
    let Ok(zone) = Zone::parse("example.", text) else {
        return;
    };
    let owners: Vec<NameBuf> = zone
        .records()
        .iter()
        .map(|r| r.owner().to_name_buf())
        .collect();
    let types: Vec<RecordType> = zone.records().iter().map(|r| r.rtype()).collect();
    let mut server = Server::new(ServerConfig::default());
    if server.add_zone(zone).is_err() {
        return;
    }
    for (owner, t) in owners.iter().zip(types).take(64) {
        for qtype in [
            t,
            RecordType::A,
            RecordType::Any,
            RecordType::Unknown(65400),
        ] {
            for dnssec in [false, true] {
                let q = query(owner, qtype, Some(dnssec));
                check(&server, &q, Transport::Udp);
            }
        }
    }
}

/// One query (the fuzzer's bytes) to a server holding signed (NSEC, NSEC3) and unsigned
/// zones, over UDP and TCP: never a panic; any response is well-formed, echoes the ID,
/// respects the size limit, and equals the answer computed without templates.
pub fn engine_query(data: &[u8]) {
    let s = fuzz_server();
    // Warming reads only: any bytes, whole or in pieces, and the answers stay the same.
    s.warm_always([data]);
    s.warm_always(data.chunks(40));
    check(s, data, Transport::Udp);
    check(s, data, Transport::Tcp);
}

/// The stub resolver, driven by the fuzzer's bytes: a script of steps (`op len bytes...`)
/// that let time pass, deliver the real server's answers, or deliver the fuzzer's bytes as
/// responses over UDP or TCP, with the ID, source and port of a transmission in flight
/// patched in (and, for one kind of step, the question asked), so that they get past the
/// first checks. Never a panic; every lookup ends in exactly one event.
pub fn resolver_responses(data: &[u8]) {
    let server: core::net::SocketAddr = ([192, 0, 2, 53], 53).into();
    let mut config = ResolverConfig::new([server]);
    config.randomize_case = data.first().is_some_and(|b| b & 1 == 1);
    config.timeouts = std::vec![core::time::Duration::from_secs(1); 2];
    let mut x = 0x9e37_79b9u32;
    let mut r = Resolver::new(config, move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    });
    let mut now = core::time::Duration::ZERO;
    let mut ids = Vec::new();
    for (name, qtype) in [
        ("www.example.org", RecordType::A),
        ("example.net", RecordType::Any),
        ("nothere.example.com", RecordType::Txt),
    ] {
        if let Ok(id) = r.start(now, name, qtype) {
            ids.push(id);
        }
    }
    // What was sent: transport, port, the query.
    let mut sent: Vec<(Transport, u16, Vec<u8>)> = Vec::new();
    let mut storage = std::vec![0u8; 4096];
    let mut rest = data.get(1..).unwrap_or_default();
    loop {
        while let Some(t) = r.poll_transmit(now) {
            let query = match t.transport {
                Transport::Udp => t.bytes,
                Transport::Tcp => t.bytes.get(2..).unwrap_or_default(),
            };
            sent.push((t.transport, t.local_port, query.to_vec()));
        }
        let [op, len, tail @ ..] = rest else { break };
        let n = usize::from(*len).min(tail.len());
        let (bytes, after) = tail.split_at(n);
        rest = after;
        let Some((transport, port, query)) = sent.get(usize::from(*op >> 2) % sent.len().max(1))
        else {
            continue;
        };
        let mut msg = bytes.to_vec();
        match op & 3 {
            0 => {
                now += core::time::Duration::from_millis(u64::from(*len) * 10);
                r.handle_timeout(now);
                continue;
            }
            1 => {
                let mut out = std::vec![0u8; 65535];
                match fuzz_server().handle(query, *transport, &mut out) {
                    Ok(n) => msg = out.get(..n).unwrap_or_default().to_vec(),
                    Err(_) => continue,
                }
            }
            2 => {
                // The fuzzer's header, the question asked, the fuzzer's records.
                let qlen = Message::new(query)
                    .ok()
                    .and_then(|m| m.questions().next())
                    .and_then(Result::ok)
                    .map_or(0, |q| q.range().end);
                let head = bytes.get(..12.min(bytes.len())).unwrap_or_default();
                msg = head.to_vec();
                msg.resize(12, 0);
                msg.extend_from_slice(query.get(12..qlen).unwrap_or_default());
                msg.extend_from_slice(bytes.get(12..).unwrap_or_default());
                if let Some(qd) = msg.get_mut(4..6) {
                    qd.copy_from_slice(&[0, 1]);
                }
            }
            _ => {}
        }
        if let (Some(dst), Some(id)) = (msg.get_mut(..3), query.get(..2)) {
            dst.get_mut(..2).unwrap_or_default().copy_from_slice(id);
            if let Some(flags) = dst.get_mut(2) {
                *flags |= 0x80;
            }
        }
        match transport {
            Transport::Udp => {
                let _ = r.handle_response(now, server, *port, &msg);
            }
            Transport::Tcp => {
                let mut dec = TcpDecoder::new(&mut storage);
                let prefix = (msg.len().min(65535) as u16).to_be_bytes();
                dec.feed(&prefix);
                for piece in msg.chunks(7) {
                    dec.feed(piece);
                    let _ = r.handle_tcp(now, server, &mut dec);
                }
            }
        }
    }
    for _ in 0..64 {
        let Some(t) = r.poll_timeout() else { break };
        now = now.max(t);
        r.handle_timeout(now);
        while r.poll_transmit(now).is_some() {}
    }
    assert_eq!(r.poll_timeout(), None, "a lookup never ends");
    let mut ended = Vec::new();
    while let Some(e) = r.poll_event() {
        if let Event::Answer(a) = &e {
            for rec in a.records.iter().chain(&a.cnames).chain(&a.soa) {
                assert!(rec.rdata().is_ok(), "an answer with bad RDATA: {rec}");
            }
        }
        ended.push(e.query());
    }
    ended.sort();
    assert_eq!(ended, ids, "every lookup ends in exactly one event");
}

fn fuzz_server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let mut s = Server::new(ServerConfig::default());
        for (origin, text) in [
            (
                "example.com",
                include_str!("../tests/data/example.com.signed"),
            ),
            (
                "example.net",
                include_str!("../tests/data/example.net.signed"),
            ),
        ] {
            if let Ok(z) = Zone::parse(origin, text) {
                let _ = s.add_zone(z);
            }
        }
        let plain =
            include_str!("../tests/data/example.com.zone").replace("example.com", "example.org");
        if let Ok(z) = Zone::parse("example.org", &plain) {
            let _ = s.add_zone(z);
        }
        s
    })
}

fn query(name: &NameBuf, qtype: RecordType, dnssec: Option<bool>) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let Ok(mut b) = MessageBuilder::new(&mut buf) else {
        return Vec::new();
    };
    let _ = b.push_question(name, qtype, Class::In);
    if let Some(d) = dnssec {
        let mut e = Edns::new(1232);
        e.dnssec_ok = d;
        let _ = b.set_edns(&e);
    }
    b.finish().to_vec()
}

fn check(s: &Server, q: &[u8], transport: Transport) {
    let mut a = std::vec![0u8; 65535];
    let mut b = std::vec![0u8; 65535];
    let ra = s.handle(q, transport, &mut a);
    let rb = s.handle_uncached(q, transport, &mut b);
    assert_eq!(ra, rb);
    let Ok(n) = ra else {
        return;
    };
    assert_eq!(
        a.get(..n),
        b.get(..n),
        "precompiled and computed answers differ"
    );
    let resp = a.get(..n).unwrap_or_default();
    let m = Message::new(resp).expect("a header");
    if let Err(e) = m.check() {
        panic!("malformed response: {e}: {}", m.to_string());
    }
    assert!(m.is_response());
    assert_eq!(resp.get(..2), q.get(..2));
    let limit = match (
        transport,
        Message::new(q).ok().and_then(|q| q.edns().ok().flatten()),
    ) {
        (Transport::Tcp, _) => 65535,
        (Transport::Udp, Some(e)) => usize::from(e.effective_udp_payload_size().min(1232)),
        (Transport::Udp, None) => 512,
    };
    assert!(
        n <= limit,
        "response of {n} bytes over the {limit}-byte limit"
    );
}
