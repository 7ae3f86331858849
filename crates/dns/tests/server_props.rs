//! The engine under hostile and random input: never a panic, every response well-formed,
//! within its size limit and echoing the query; precompiled and computed answers identical;
//! and hickory-proto reads our responses as we do.
#![cfg(feature = "zone")]

use std::sync::OnceLock;

use hickory_proto::op::{Message as HMessage, ResponseCode};
use proptest::prelude::*;
use unistack_dns::server::{Server, ServerConfig, Transport};
use unistack_dns::{Class, Edns, Message, MessageBuilder, RecordType, Zone};

fn data(file: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Signed (NSEC and NSEC3) and unsigned zones, with a child zone.
fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let mut s = Server::new(ServerConfig::default());
        s.add_zone(Zone::parse("example.com", &data("example.com.signed")).unwrap())
            .unwrap();
        s.add_zone(Zone::parse("example.net", &data("example.net.signed")).unwrap())
            .unwrap();
        let plain = data("example.com.zone").replace("example.com", "example.org");
        s.add_zone(Zone::parse("example.org", &plain).unwrap())
            .unwrap();
        s.add_zone(
            Zone::parse(
                "sub.example.org",
                "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.7\n*.w TXT x\n",
            )
            .unwrap(),
        )
        .unwrap();
        s
    })
}

/// Check one exchange; returns the response if there is one.
fn exchange(query: &[u8], transport: Transport, buf_len: usize) -> Option<Vec<u8>> {
    let s = server();
    let mut a = vec![0u8; buf_len];
    let mut b = vec![0u8; buf_len];
    let ra = s.handle(query, transport, &mut a);
    let rb = s.handle_uncached(query, transport, &mut b);
    assert_eq!(ra, rb);
    let n = ra.ok()?;
    assert_eq!(a[..n], b[..n], "template and computed answers differ");
    let resp = &a[..n];
    let m = Message::new(resp).expect("a header");
    m.check()
        .unwrap_or_else(|e| panic!("malformed response ({e}): {m}"));
    assert!(m.is_response());
    assert_eq!(resp[..2], query[..2], "ID");
    let q = Message::new(query).unwrap();
    // The size limit: 512 without EDNS over UDP, the client's size (at least 512, at most
    // ours) with it.
    let limit = match (transport, q.edns()) {
        (Transport::Tcp, _) => 65535,
        (Transport::Udp, Ok(Some(e))) => usize::from(e.effective_udp_payload_size().min(1232)),
        (Transport::Udp, _) => 512,
    };
    assert!(n <= limit.min(buf_len), "{n} > {limit}");
    // Whenever a question is echoed, it is the query's bytes.
    if m.header().qdcount() == 1 {
        let rq = m.questions().next().unwrap().unwrap();
        let qq = q.questions().next().unwrap().unwrap();
        assert_eq!(resp[rq.range()], query[qq.range()]);
    }
    Some(resp.to_vec())
}

fn query(name: &str, qtype: u16, edns: Option<(u16, bool)>, id: u16) -> Vec<u8> {
    let mut buf = vec![0u8; 600];
    let mut q = MessageBuilder::new(&mut buf).unwrap();
    q.header_mut().set_id(id);
    q.push_question(name, RecordType::from_raw(qtype), Class::In)
        .unwrap();
    if let Some((size, dnssec)) = edns {
        let mut e = Edns::new(size);
        e.dnssec_ok = dnssec;
        q.set_edns(&e).unwrap();
    }
    q.finish().to_vec()
}

/// Names near the zones' content, in random case.
fn qname() -> impl Strategy<Value = String> {
    let labels = prop::sample::select(vec![
        "www", "web", "host", "a", "b", "wild", "*", "x", "sub", "ns", "ns1", "mail", "alias",
        "insecure", "loop1", "dangling", "out", "_sip", "_udp", "nope", "w", "txt",
    ]);
    (
        prop::collection::vec(labels, 0..4),
        prop::sample::select(vec![
            "example.com",
            "example.net",
            "example.org",
            "sub.example.org",
            "com",
            "test",
        ]),
        any::<u64>(),
    )
        .prop_map(|(labels, zone, case)| {
            let mut s = labels.join(".");
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(zone);
            s.chars()
                .enumerate()
                .map(|(i, c)| {
                    if case >> (i % 64) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect()
        })
}

fn qtype() -> impl Strategy<Value = u16> {
    prop_oneof![
        prop::sample::select(vec![
            1u16, 2, 5, 6, 12, 15, 16, 28, 33, 43, 46, 47, 48, 50, 51, 255, 257, 65400
        ]),
        any::<u16>(),
    ]
}

fn edns() -> impl Strategy<Value = Option<(u16, bool)>> {
    prop::option::of((
        prop_oneof![Just(0u16), Just(512), Just(1232), 0u16..5000, Just(65535)],
        any::<bool>(),
    ))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), tcp in any::<bool>()) {
        let t = if tcp { Transport::Tcp } else { Transport::Udp };
        exchange(&bytes, t, 65535);
        exchange(&bytes, t, 512);
    }

    #[test]
    fn valid_queries(name in qname(), t in qtype(), e in edns(), id in any::<u16>(), tcp in any::<bool>()) {
        let q = query(&name, t, e, id);
        let transport = if tcp { Transport::Tcp } else { Transport::Udp };
        let r = exchange(&q, transport, 65535).expect("a query is answered");
        let m = Message::new(&r).unwrap();
        prop_assert_eq!(m.edns().unwrap().is_some(), e.is_some());
    }

    #[test]
    fn mutated_queries(
        name in qname(),
        t in qtype(),
        e in edns(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..6),
    ) {
        let mut q = query(&name, t, e, 7);
        for (at, byte, kind) in edits {
            if q.is_empty() {
                break;
            }
            let i = at.index(q.len());
            match kind {
                0 => q[i] = byte,
                1 => q[i] ^= 1 << (byte % 8),
                2 => q.truncate(i),
                _ => q.insert(i, byte),
            }
        }
        exchange(&q, Transport::Udp, 65535);
        exchange(&q, Transport::Tcp, 4096);
    }

    /// hickory-proto parses every response and agrees on the header and records.
    #[test]
    fn hickory_reads_our_responses(name in qname(), t in qtype(), e in edns()) {
        let q = query(&name, t, e, 99);
        let Some(r) = exchange(&q, Transport::Udp, 65535) else { return Ok(()) };
        let ours = Message::new(&r).unwrap();
        let theirs = HMessage::from_vec(&r).map_err(|err| TestCaseError::fail(format!("hickory: {err}\n{ours}")))?;
        prop_assert_eq!(theirs.metadata.id, 99);
        prop_assert_eq!(theirs.metadata.authoritative, ours.header().aa());
        prop_assert_eq!(theirs.metadata.truncation, ours.header().tc());
        prop_assert_eq!(u16::from(theirs.metadata.response_code), ours.extended_rcode().unwrap().to_raw());
        prop_assert_eq!(theirs.answers.len(), usize::from(ours.header().ancount()));
        prop_assert_eq!(theirs.authorities.len(), usize::from(ours.header().nscount()));
        for (h, o) in theirs.answers.iter().chain(&theirs.authorities).zip(ours.records()) {
            let o = o.unwrap();
            prop_assert!(o.name().eq_labels(h.name.iter()), "{} vs {}", o.name(), h.name);
            prop_assert_eq!(u16::from(h.record_type()), o.rtype().to_raw());
            prop_assert_eq!(h.ttl, o.ttl());
        }
        prop_assert_eq!(theirs.edns.is_some(), e.is_some());
        if let Some(he) = &theirs.edns {
            prop_assert_eq!(he.flags().dnssec_ok, e.unwrap().1);
        }
        if theirs.metadata.response_code == ResponseCode::NXDomain {
            prop_assert!(ours.header().aa());
        }
    }
}
