//! The DNS client socket against the dns crate's authoritative server on another interface:
//! answers, CNAME chains, NXDOMAIN and NODATA over UDP; a response too large for UDP asked
//! again over TCP; a silent server timing out; every port and connection released.

use std::time::Duration;

use unistack_dns::resolver::{Event, FailureReason, ResolverConfig};
use unistack_dns::server::{Server, ServerConfig, Transport};
use unistack_dns::{RecordType, TcpDecoder, Zone};
use unistack_ethif::MacAddress;
use unistack_ipv4::{ChecksumCaps, Ipv4Address, Ipv4Cidr};
use unistack_stack::dns::first_ipv4;
use unistack_stack::{DnsSocket, Interface, InterfaceConfig, PipeEnd, TcpHandle, UdpSocket};
use unistack_tcp::{Config, RecvError, Socket};

const CLIENT: Ipv4Address = Ipv4Address::new(192, 0, 2, 1);
const SERVER: Ipv4Address = Ipv4Address::new(192, 0, 2, 53);

fn iface(ip: Ipv4Address) -> Interface<'static> {
    let last = ip.octets()[3];
    Interface::new(
        InterfaceConfig {
            mac: MacAddress([2, 0, 0, 0, 0, last]),
            addr: Ipv4Cidr::new(ip, 24).unwrap(),
            gateway: None,
            ttl: 64,
            icmp_error_rate: 100,
            secret: [last; 16],
        },
        ChecksumCaps::all(),
    )
}

fn zone() -> Zone {
    let mut text = String::from(
        "@ 3600 SOA ns hostmaster 1 7200 3600 1209600 300\n\
         @ 3600 NS ns\n\
         ns 3600 A 192.0.2.53\n\
         www 600 CNAME web\n\
         web 600 A 192.0.2.80\n\
         web 600 A 192.0.2.81\n\
         mail 600 MX 10 web\n",
    );
    // About 3 KiB of TXT: too large for a 1232-byte UDP answer.
    for i in 0..24 {
        text.push_str(&format!("big 600 TXT \"{i:02} {}\"\n", "x".repeat(120)));
    }
    // About 10 KiB: for a client that advertises 16 KiB of UDP payload.
    for i in 0..80 {
        text.push_str(&format!("huge 600 TXT \"{i:02} {}\"\n", "y".repeat(120)));
    }
    Zone::parse("example.com.", &text).unwrap()
}

/// The server side: the engine on UDP 53 and TCP 53 (one query per connection is enough).
struct DnsServer {
    server: Server,
    udp: unistack_stack::UdpHandle,
    listener: unistack_stack::ListenerHandle,
    conns: Vec<(TcpHandle, Vec<u8>)>,
    answer_udp: bool,
}

impl DnsServer {
    fn new(i: &mut Interface<'static>) -> Self {
        let mut server = Server::new(ServerConfig {
            udp_payload_size: 16_384,
        });
        server.add_zone(zone()).unwrap();
        let udp = i.udp_bind(53, UdpSocket::new(64)).unwrap();
        let socks = (0..4)
            .map(|_| Socket::new(vec![0; 8192], vec![0; 70_000], Config::default()))
            .collect();
        let listener = i.tcp_listen(53, 8, socks, Config::default()).unwrap();
        DnsServer {
            server,
            udp,
            listener,
            conns: Vec::new(),
            answer_udp: true,
        }
    }

    fn serve(&mut self, i: &mut Interface<'static>) {
        let mut out = vec![0u8; 65_535];
        while let Some(d) = i.udp(self.udp).unwrap().recv() {
            if !self.answer_udp {
                continue;
            }
            if let Ok(n) = self.server.handle(&d.data, Transport::Udp, &mut out) {
                i.udp(self.udp)
                    .unwrap()
                    .send_to(&out[..n], d.addr, d.port)
                    .unwrap();
            }
        }
        while let Some(h) = i.tcp_accept(self.listener) {
            self.conns.push((h, Vec::new()));
            i.tcp_replenish(
                self.listener,
                Socket::new(vec![0; 8192], vec![0; 70_000], Config::default()),
            );
        }
        let server = &self.server;
        self.conns.retain_mut(|(h, input)| {
            let Some(s) = i.tcp(*h) else { return false };
            while let Ok(n) = s.recv_with(|d| {
                input.extend_from_slice(d);
                d.len()
            }) {
                if n == 0 {
                    break;
                }
            }
            let mut buf = vec![0u8; 70_000];
            let mut dec = TcpDecoder::new(&mut buf);
            dec.feed(input);
            if let Some(Ok(q)) = dec.next_message() {
                let n = server.handle(q, Transport::Tcp, &mut out[2..]).unwrap();
                out[..2].copy_from_slice(&(n as u16).to_be_bytes());
                assert_eq!(s.send_slice(&out[..n + 2]).unwrap(), n + 2);
                input.clear();
            }
            if matches!(s.recv_with(|_| 0), Err(RecvError::Finished)) {
                s.close();
            }
            s.is_open()
        });
    }
}

struct World {
    now: Duration,
    a: Interface<'static>,
    da: PipeEnd,
    b: Interface<'static>,
    db: PipeEnd,
    server: DnsServer,
    dns: DnsSocket<Box<dyn FnMut() -> u32>>,
}

impl World {
    fn new() -> World {
        World::advertising(None)
    }

    /// A world whose resolver advertises `udp_payload_size` (its default when `None`).
    fn advertising(udp_payload_size: Option<u16>) -> World {
        let (da, db) = PipeEnd::pair(1500, 1024);
        let (a, mut b) = (iface(CLIENT), iface(SERVER));
        let server = DnsServer::new(&mut b);
        let mut cfg = ResolverConfig::new([std::net::SocketAddr::from((SERVER.octets(), 53))]);
        cfg.recursion_desired = false;
        if let Some(n) = udp_payload_size {
            cfg.udp_payload_size = Some(n);
        }
        let mut x = 0x1234_5678u32;
        let rng: Box<dyn FnMut() -> u32> = Box::new(move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        });
        World {
            now: Duration::from_secs(1),
            a,
            da,
            b,
            db,
            server,
            dns: DnsSocket::new(cfg, rng),
        }
    }

    /// Run until an event comes out (bounded in steps and virtual time).
    fn event(&mut self) -> Event {
        for _ in 0..100_000 {
            let act = self.a.poll(self.now, &mut self.da)
                | self.b.poll(self.now, &mut self.db)
                | self.dns.poll(self.now, &mut self.a);
            self.server.serve(&mut self.b);
            if let Some(e) = self.dns.poll_event() {
                return e;
            }
            if !act {
                let next = [self.a.poll_at(), self.b.poll_at(), self.dns.poll_at()]
                    .into_iter()
                    .flatten()
                    .filter(|&t| t > self.now)
                    .min();
                self.now = next.unwrap_or(self.now + Duration::from_millis(10));
            }
            assert!(self.now < Duration::from_secs(60), "no event in 60 s");
        }
        panic!("no event");
    }

    fn settle(&mut self) {
        for _ in 0..50 {
            self.a.poll(self.now, &mut self.da);
            self.b.poll(self.now, &mut self.db);
            self.dns.poll(self.now, &mut self.a);
            self.server.serve(&mut self.b);
            self.now += Duration::from_millis(10);
        }
    }
}

#[test]
fn answers_cnames_and_negative_answers_over_udp() {
    let mut w = World::new();
    let q = w
        .dns
        .start(w.now, "www.example.com", RecordType::A)
        .unwrap();
    let e = w.event();
    assert_eq!(e.query(), q);
    let Event::Answer(a) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(a.canonical.to_string(), "web.example.com.");
    assert_eq!(a.addresses().count(), 2);
    assert_eq!(first_ipv4(&e), Some(Ipv4Address::new(192, 0, 2, 80)));

    w.dns
        .start(w.now, "nothere.example.com", RecordType::A)
        .unwrap();
    let Event::Answer(a) = w.event() else {
        panic!("no answer")
    };
    assert!(a.is_nxdomain() && a.soa.is_some());

    w.dns
        .start(w.now, "web.example.com", RecordType::Mx)
        .unwrap();
    let Event::Answer(a) = w.event() else {
        panic!("no answer")
    };
    assert!(a.is_nodata());

    let s = w.dns.stats();
    assert_eq!((s.udp_sent, s.udp_received, s.tcp_connections), (3, 3, 0));
    w.settle();
    assert_eq!(w.dns.sockets_in_use(), 0, "ports released when idle");
}

#[test]
fn a_truncated_answer_is_asked_again_over_tcp() {
    let mut w = World::new();
    w.dns
        .start(w.now, "big.example.com", RecordType::Txt)
        .unwrap();
    let e = w.event();
    let Event::Answer(a) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(a.records.len(), 24, "every TXT record, over TCP");
    let s = w.dns.stats();
    assert_eq!(s.tcp_connections, 1, "{s:?}");
    w.settle();
    assert_eq!(w.dns.sockets_in_use(), 0);
}

/// A resolver advertising 16 KiB gets a 10 KiB answer over UDP (in IPv4 fragments): its
/// socket's receive ring is sized for the responses it asked for, not for the default.
#[test]
fn a_large_edns_answer_arrives_over_udp() {
    let mut w = World::advertising(Some(16_384));
    w.dns
        .start(w.now, "huge.example.com", RecordType::Txt)
        .unwrap();
    let e = w.event();
    let Event::Answer(a) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(a.records.len(), 80, "every TXT record");
    let s = w.dns.stats();
    assert_eq!((s.udp_received, s.tcp_connections), (1, 0), "{s:?}");
}

#[test]
fn a_silent_server_times_out_on_schedule() {
    let mut w = World::new();
    w.server.answer_udp = false;
    let start = w.now;
    w.dns
        .start(w.now, "www.example.com", RecordType::A)
        .unwrap();
    let e = w.event();
    let Event::Failure(f) = e else {
        panic!("{e:?}")
    };
    assert_eq!(f.reason, FailureReason::Timeout);
    // 1 s + 2 s + 4 s of retries (the default schedule).
    let waited = w.now - start;
    assert!(
        waited >= Duration::from_secs(7) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
    assert_eq!(w.dns.stats().udp_sent, 3);
    w.settle();
    assert_eq!(w.dns.sockets_in_use(), 0);
}
