//! The stub resolver under random and mutated responses: never a panic, and every lookup
//! ends in exactly one event whatever arrives, in whatever order, at whatever time.
#![cfg(feature = "zone")]

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use proptest::prelude::*;
use unistack_dns::resolver::{Event, Resolver, ResolverConfig, Transport};
use unistack_dns::server::{Server, ServerConfig};
use unistack_dns::{Message, RecordType, TcpDecoder, Zone};

fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let mut big = String::new();
        for i in 0..8 {
            big.push_str(&format!("big TXT \"{i}{}\"\n", "y".repeat(150)));
        }
        let com = format!(
            "$TTL 60
@ SOA ns1 hm 1 2 3 4 30
  NS ns1
ns1 A 192.0.2.53
www CNAME web
web CNAME host
host A 192.0.2.80
host AAAA 2001:db8::80
off CNAME www.example.net.
loop1 CNAME loop2
loop2 CNAME loop1
sub NS ns.sub
ns.sub A 192.0.2.99
*.wild TXT wild
{big}"
        );
        let mut s = Server::new(ServerConfig::default());
        s.add_zone(Zone::parse("example.com", &com).unwrap())
            .unwrap();
        s.add_zone(
            Zone::parse(
                "example.net",
                "$TTL 5\n@ SOA ns1 hm 1 2 3 4 5\n NS ns1\nns1 A 192.0.2.54\nwww CNAME off.example.com.\n",
            )
            .unwrap(),
        )
        .unwrap();
        s
    })
}

const NAMES: &[&str] = &[
    "host.example.com",
    "www.example.com",
    "off.example.com",
    "loop1.example.com",
    "a.sub.example.com",
    "x.wild.example.com",
    "nothere.example.com",
    "big.example.com",
    "www.example.net",
    "example.org",
];
const TYPES: &[RecordType] = &[
    RecordType::A,
    RecordType::Aaaa,
    RecordType::Txt,
    RecordType::Any,
    RecordType::Cname,
    RecordType::Mx,
];

fn servers() -> [SocketAddr; 2] {
    [
        "192.0.2.53:53".parse().unwrap(),
        "[2001:db8::53]:53".parse().unwrap(),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    None,
    Flip(Vec<(usize, u8)>),
    Truncate(usize),
    Append(Vec<u8>),
}

#[derive(Debug, Clone)]
enum Action {
    /// Deliver the server's response to transmission `which`, mutated, maybe over TCP in
    /// chunks of `chunk` bytes.
    Deliver {
        which: usize,
        mutation: Mutation,
        chunk: usize,
        wrong_source: bool,
    },
    /// Random bytes from the right source and port.
    Garbage { which: usize, bytes: Vec<u8> },
    /// Let time pass.
    Advance(u16),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => Just(Mutation::None),
        4 => prop::collection::vec((any::<usize>(), any::<u8>()), 1..6).prop_map(Mutation::Flip),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => prop::collection::vec(any::<u8>(), 1..20).prop_map(Mutation::Append),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        5 => (any::<usize>(), mutation(), 1usize..64, prop::bool::weighted(0.1)).prop_map(
            |(which, mutation, chunk, wrong_source)| Action::Deliver { which, mutation, chunk, wrong_source }
        ),
        1 => (any::<usize>(), prop::collection::vec(any::<u8>(), 0..80))
            .prop_map(|(which, bytes)| Action::Garbage { which, bytes }),
        2 => (0u16..3000).prop_map(Action::Advance),
    ]
}

struct Sent {
    server: SocketAddr,
    transport: Transport,
    port: u16,
    response: Option<Vec<u8>>,
}

fn mutate(mut r: Vec<u8>, m: &Mutation) -> Vec<u8> {
    match m {
        Mutation::None => {}
        Mutation::Flip(flips) => {
            for &(at, x) in flips {
                if !r.is_empty() {
                    let i = at % r.len();
                    r[i] ^= x;
                }
            }
        }
        Mutation::Truncate(at) => {
            let n = at % (r.len() + 1);
            r.truncate(n);
        }
        Mutation::Append(extra) => r.extend_from_slice(extra),
    }
    r
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn every_lookup_ends_once(
        lookups in prop::collection::vec((0..NAMES.len(), 0..TYPES.len()), 1..6),
        actions in prop::collection::vec(action(), 0..40),
        case in any::<bool>(),
        seed in 1u32..,
    ) {
        let mut config = ResolverConfig::new(servers());
        config.randomize_case = case;
        config.timeouts = vec![Duration::from_millis(500), Duration::from_secs(1), Duration::from_secs(2)];
        let mut x = seed;
        let mut r = Resolver::new(config, move || { x ^= x << 13; x ^= x >> 17; x ^= x << 5; x });
        let mut now = Duration::ZERO;
        let mut ids = Vec::new();
        for (n, t) in lookups {
            ids.push(r.start(now, NAMES[n], TYPES[t]).unwrap());
        }
        let mut log: Vec<Sent> = Vec::new();
        let mut storage = vec![0u8; 65537];
        let drain = |r: &mut Resolver<_>, now: Duration, log: &mut Vec<Sent>| {
            while let Some(t) = r.poll_transmit(now) {
                let query = match t.transport {
                    Transport::Udp => t.bytes,
                    Transport::Tcp => &t.bytes[2..],
                };
                let mut out = vec![0u8; 65535];
                let response = server().handle(query, t.transport, &mut out).ok().map(|n| out[..n].to_vec());
                log.push(Sent { server: t.server, transport: t.transport, port: t.local_port, response });
            }
        };
        drain(&mut r, now, &mut log);
        for a in &actions {
            match a {
                Action::Advance(ms) => {
                    now += Duration::from_millis(u64::from(*ms));
                    r.handle_timeout(now);
                }
                Action::Deliver { which, mutation, chunk, wrong_source } if !log.is_empty() => {
                    let s = &log[which % log.len()];
                    let Some(resp) = s.response.clone() else { continue };
                    let bytes = mutate(resp, mutation);
                    let from = if *wrong_source { servers()[1 - usize::from(s.server == servers()[1])] } else { s.server };
                    match s.transport {
                        Transport::Udp => {
                            let _ = r.handle_response(now, from, s.port, &bytes);
                        }
                        Transport::Tcp => {
                            let mut dec = TcpDecoder::new(&mut storage);
                            let mut framed = (bytes.len().min(65535) as u16).to_be_bytes().to_vec();
                            framed.extend_from_slice(&bytes);
                            for piece in framed.chunks(*chunk) {
                                dec.feed(piece);
                                let _ = r.handle_tcp(now, from, &mut dec);
                            }
                        }
                    }
                }
                Action::Garbage { which, bytes } if !log.is_empty() => {
                    let s = &log[which % log.len()];
                    let _ = r.handle_response(now, s.server, s.port, bytes);
                    if let Ok(m) = Message::new(bytes) { let _ = m.to_string(); }
                }
                _ => {}
            }
            drain(&mut r, now, &mut log);
        }
        // Let every schedule run out.
        for _ in 0..100 {
            let Some(t) = r.poll_timeout() else { break };
            now = now.max(t);
            r.handle_timeout(now);
            drain(&mut r, now, &mut log);
        }
        prop_assert_eq!(r.poll_timeout(), None);
        prop_assert_eq!(r.in_flight(), 0);
        let mut ended: Vec<_> = std::iter::from_fn(|| r.poll_event()).map(|e| {
            if let Event::Answer(a) = &e {
                assert!(a.records.iter().chain(&a.cnames).all(|rec| rec.rdata().is_ok()));
            }
            e.query()
        }).collect();
        ended.sort();
        prop_assert_eq!(ended, ids);
    }
}
