//! The ARP cache, scripted at explicit times like packetdrill, and under random operations.

use core::time::Duration;

use proptest::prelude::*;
use unistack_ethif::{ArpCache, ArpEvent, ArpOp, ArpRepr, Config, MacAddress, Resolve};

const US: MacAddress = MacAddress([0x02, 0, 0, 0, 0, 1]);
const OUR_IP: [u8; 4] = [192, 0, 2, 1];
const PEER: MacAddress = MacAddress([0x02, 0, 0, 0, 0, 2]);
const PEER_IP: [u8; 4] = [192, 0, 2, 2];
const EVIL: MacAddress = MacAddress([0x02, 0, 0, 0, 0, 0x66]);

fn s(secs: f64) -> Duration {
    Duration::from_secs_f64(secs)
}

type Cache = ArpCache<u32, 4, 6>;

fn cache() -> Cache {
    ArpCache::new(US, OUR_IP, Config::default())
}

fn reply(from: MacAddress, from_ip: [u8; 4]) -> ArpRepr {
    ArpRepr {
        op: ArpOp::Reply,
        sender_mac: from,
        sender_ip: from_ip,
        target_mac: US,
        target_ip: OUR_IP,
    }
}

fn gratuitous(from: MacAddress, ip: [u8; 4]) -> ArpRepr {
    ArpRepr {
        op: ArpOp::Request,
        sender_mac: from,
        sender_ip: ip,
        target_mac: MacAddress::UNSPECIFIED,
        target_ip: ip,
    }
}

#[test]
fn resolves_queued_packets_in_order() {
    let mut c = cache();
    assert_eq!(
        c.resolve(s(0.0), PEER_IP, 1),
        Resolve::Queued { evicted: None }
    );
    assert_eq!(
        c.resolve(s(0.0), PEER_IP, 2),
        Resolve::Queued { evicted: None }
    );
    assert_eq!(c.poll_timeout(), Some(s(0.0)));
    assert_eq!(
        c.poll_transmit(s(0.0)),
        Some(ArpRepr::request(US, OUR_IP, PEER_IP))
    );
    assert_eq!(
        c.poll_transmit(s(0.0)),
        None,
        "one request per address per second"
    );
    assert_eq!(c.poll_timeout(), Some(s(1.0)));
    assert_eq!(c.poll_event(), None, "still waiting");
    assert_eq!(c.handle(s(0.01), &reply(PEER, PEER_IP)), None);
    assert_eq!(
        c.poll_event(),
        Some(ArpEvent::Send {
            mac: PEER,
            packet: 1
        })
    );
    assert_eq!(
        c.poll_event(),
        Some(ArpEvent::Send {
            mac: PEER,
            packet: 2
        })
    );
    assert_eq!(c.poll_event(), None);
    assert_eq!(c.poll_timeout(), None);
    assert_eq!(c.resolve(s(0.02), PEER_IP, 3), Resolve::Ready(PEER, 3));
    assert_eq!(c.lookup(s(0.02), PEER_IP), Some(PEER));
}

#[test]
fn gives_up_after_max_requests_and_drops_waiting_packets() {
    let mut c = cache();
    assert!(matches!(
        c.resolve(s(0.0), PEER_IP, 7),
        Resolve::Queued { .. }
    ));
    let mut sent = 0;
    let mut t = s(0.0);
    for _ in 0..10 {
        while c.poll_transmit(t).is_some() {
            sent += 1;
        }
        match c.poll_timeout() {
            Some(next) => t = next,
            None => break,
        }
    }
    assert_eq!(sent, 3);
    assert_eq!(t, s(3.0), "requests at 0, 1, 2; given up at 3");
    assert_eq!(
        c.poll_event(),
        Some(ArpEvent::Unreachable {
            ip: PEER_IP,
            packet: 7
        })
    );
    assert!(c.is_empty());
    assert_eq!(c.stats().failed_resolutions, 1);
    assert_eq!(c.stats().requests_sent, 3);
}

#[test]
fn per_address_queue_drops_the_oldest() {
    let mut c = cache();
    for p in 0..3 {
        assert_eq!(
            c.resolve(s(0.0), PEER_IP, p),
            Resolve::Queued { evicted: None }
        );
    }
    assert_eq!(
        c.resolve(s(0.0), PEER_IP, 3),
        Resolve::Queued { evicted: Some(0) }
    );
    assert_eq!(c.queued(), 3);
    // The global queue (6) fills with other addresses; then packets are refused.
    for p in 10..13 {
        assert!(matches!(
            c.resolve(s(0.0), [192, 0, 2, 3], p),
            Resolve::Queued { .. }
        ));
    }
    assert_eq!(c.resolve(s(0.0), [192, 0, 2, 4], 20), Resolve::NoRoom(20));
    assert!(c.stats().dropped_packets >= 2);
}

#[test]
fn unsolicited_and_gratuitous_arp_create_nothing() {
    let mut c = cache();
    assert_eq!(c.handle(s(0.0), &reply(EVIL, PEER_IP)), None);
    assert_eq!(c.handle(s(0.0), &gratuitous(EVIL, PEER_IP)), None);
    assert_eq!(c.lookup(s(0.0), PEER_IP), None);
    assert!(c.is_empty());
    assert_eq!(c.stats().ignored_unsolicited, 2);
}

#[test]
fn a_resolved_binding_cannot_be_overwritten_unasked() {
    let mut c = cache();
    let _ = c.resolve(s(0.0), PEER_IP, 1);
    let _ = c.poll_transmit(s(0.0));
    c.handle(s(0.1), &reply(PEER, PEER_IP));
    // An attacker's reply and gratuitous announcement with another MAC change nothing.
    c.handle(s(0.2), &reply(EVIL, PEER_IP));
    c.handle(s(0.3), &gratuitous(EVIL, PEER_IP));
    let mut req_for_us = reply(EVIL, PEER_IP);
    req_for_us.op = ArpOp::Request;
    assert!(
        c.handle(s(0.4), &req_for_us).is_some(),
        "we still answer the request"
    );
    assert_eq!(c.lookup(s(0.5), PEER_IP), Some(PEER));
    assert_eq!(c.stats().ignored_conflicting, 3);
    // The real host's gratuitous announcement (same MAC) refreshes the binding.
    c.handle(s(59.0), &gratuitous(PEER, PEER_IP));
    assert_eq!(c.lookup(s(100.0), PEER_IP), Some(PEER));
    assert_eq!(
        c.poll_timeout(),
        None,
        "still fresh at 100 s: refreshed at 59 s"
    );
}

#[test]
fn stale_bindings_are_used_while_confirmed_and_may_change_when_we_ask() {
    let mut c = cache();
    let _ = c.resolve(s(0.0), PEER_IP, 1);
    let _ = c.poll_transmit(s(0.0));
    c.handle(s(0.0), &reply(PEER, PEER_IP));
    let _ = c.poll_event();
    // At 61 s the binding is stale: still used, and a request goes out to confirm it.
    assert_eq!(c.resolve(s(61.0), PEER_IP, 2), Resolve::Ready(PEER, 2));
    assert_eq!(c.poll_timeout(), Some(s(61.0)));
    assert_eq!(
        c.poll_transmit(s(61.0)),
        Some(ArpRepr::request(US, OUR_IP, PEER_IP))
    );
    // The host moved to another NIC and answers our request: the binding follows.
    const NEW: MacAddress = MacAddress([0x02, 0, 0, 0, 0, 3]);
    c.handle(s(61.1), &reply(NEW, PEER_IP));
    assert_eq!(c.lookup(s(61.2), PEER_IP), Some(NEW));
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn stale_binding_that_stops_answering_is_removed() {
    let mut c = cache();
    let _ = c.resolve(s(0.0), PEER_IP, 1);
    let _ = c.poll_transmit(s(0.0));
    c.handle(s(0.0), &reply(PEER, PEER_IP));
    let _ = c.poll_event();
    assert_eq!(c.lookup(s(70.0), PEER_IP), Some(PEER));
    for t in [70.0, 71.0, 72.0] {
        assert!(c.poll_transmit(s(t)).is_some());
    }
    assert_eq!(c.poll_transmit(s(73.0)), None);
    assert_eq!(c.lookup(s(73.0), PEER_IP), None);
    assert!(matches!(
        c.resolve(s(73.0), PEER_IP, 9),
        Resolve::Queued { .. }
    ));
}

#[test]
fn answers_requests_for_us_without_learning_by_default() {
    let mut c = cache();
    let req = ArpRepr::request(PEER, PEER_IP, OUR_IP);
    assert_eq!(
        c.handle(s(0.0), &req),
        Some(ArpRepr {
            op: ArpOp::Reply,
            sender_mac: US,
            sender_ip: OUR_IP,
            target_mac: PEER,
            target_ip: PEER_IP
        })
    );
    assert_eq!(c.lookup(s(0.0), PEER_IP), None);
    assert_eq!(
        c.handle(s(0.0), &ArpRepr::request(PEER, PEER_IP, [192, 0, 2, 77])),
        None
    );

    let mut learning: Cache = ArpCache::new(
        US,
        OUR_IP,
        Config {
            learn_from_requests: true,
            ..Config::default()
        },
    );
    assert!(learning.handle(s(0.0), &req).is_some());
    assert_eq!(learning.lookup(s(0.0), PEER_IP), Some(PEER));
}

#[test]
fn probes_and_conflicts() {
    let mut c = cache();
    // An RFC 5227 probe for our address gets an answer (we defend it), teaches nothing.
    let probe = ArpRepr::request(PEER, [0; 4], OUR_IP);
    let r = c.handle(s(0.0), &probe).unwrap();
    assert_eq!(r.target_ip, [0; 4]);
    assert!(c.is_empty());
    // Someone else using our address.
    assert_eq!(c.handle(s(0.0), &gratuitous(EVIL, OUR_IP)), None);
    assert_eq!(
        c.poll_event(),
        Some(ArpEvent::AddressConflict { mac: EVIL })
    );
    assert_eq!(c.poll_event(), None);
    assert_eq!(c.stats().address_conflicts, 1);
    // Our own packets looped back are not a conflict.
    c.handle(s(0.0), &gratuitous(US, OUR_IP));
    assert_eq!(c.poll_event(), None);
}

#[test]
fn group_addresses_and_static_entries() {
    let mut c = cache();
    assert_eq!(
        c.resolve(s(0.0), [255; 4], 1),
        Resolve::Ready(MacAddress::BROADCAST, 1)
    );
    assert_eq!(
        c.resolve(s(0.0), [224, 0, 0, 251], 2),
        Resolve::Ready(MacAddress([1, 0, 0x5e, 0, 0, 251]), 2)
    );
    c.insert_static(PEER_IP, PEER).unwrap();
    c.handle(s(1.0), &reply(EVIL, PEER_IP));
    assert_eq!(c.lookup(s(1000.0), PEER_IP), Some(PEER));
    assert_eq!(c.poll_timeout(), None, "static entries are never confirmed");
    assert_eq!(c.resolve(s(0.0), OUR_IP, 3), Resolve::NoRoom(3));
}

/// Fill a cache with four resolved bindings, 192.0.2.10..=13, used at 0, 1, 2 and 3 s.
fn full_cache() -> Cache {
    let mut c = cache();
    for i in 0..4u8 {
        let ip = [192, 0, 2, 10 + i];
        let _ = c.resolve(s(f64::from(i)), ip, u32::from(i));
        let _ = c.poll_transmit(s(f64::from(i)));
        c.handle(s(f64::from(i)), &reply(MacAddress([2, 0, 0, 0, 1, i]), ip));
        while c.poll_event().is_some() {}
    }
    assert_eq!(c.len(), 4);
    c
}

#[test]
fn a_full_cache_evicts_only_idle_or_stale_bindings() {
    let mut c = full_cache();
    let _ = c.lookup(s(5.0), [192, 0, 2, 10]);
    // At 6 s every binding is in use: a new address gets no room.
    assert_eq!(c.resolve(s(6.0), [192, 0, 2, 50], 9), Resolve::NoRoom(9));
    // At 40 s, 11, 12 and 13 have been idle for over 30 s (half the reachable time); the
    // least recently used one (11) makes room. 10 was used at 5 s: still least but one.
    assert!(matches!(
        c.resolve(s(40.0), [192, 0, 2, 50], 9),
        Resolve::Queued { .. }
    ));
    assert_eq!(c.lookup(s(40.0), [192, 0, 2, 11]), None);
    assert!(c.lookup(s(40.0), [192, 0, 2, 10]).is_some());
    // With every slot unresolved, new addresses get no room.
    let mut c = cache();
    for i in 0..4u8 {
        assert!(matches!(
            c.resolve(s(0.0), [10, 0, 0, i], 0),
            Resolve::Queued { .. }
        ));
    }
    assert_eq!(c.resolve(s(0.0), [10, 0, 0, 9], 5), Resolve::NoRoom(5));
}

/// Review finding R2: lookups for addresses that never answer must not push out a binding
/// in use (the gateway), however long they go on.
#[test]
fn a_lookup_flood_cannot_starve_the_gateway() {
    let gw = [192, 0, 2, 254];
    let mut c = cache();
    let _ = c.resolve(s(0.0), gw, 0);
    let _ = c.poll_transmit(s(0.0));
    c.handle(s(0.0), &reply(PEER, gw));
    while c.poll_event().is_some() {}
    let mut t = 0.0;
    let mut n = 1;
    while t < 300.0 {
        // The gateway carries traffic every 100 ms; the flood asks for 8 dead addresses.
        assert!(
            matches!(c.resolve(s(t), gw, n), Resolve::Ready(PEER, _)),
            "at {t} s"
        );
        for i in 0..8u8 {
            let _ = c.resolve(s(t), [198, 51, 100, i], n);
        }
        while c.poll_transmit(s(t)).is_some() {}
        while c.poll_event().is_some() {}
        t += 0.1;
        n += 1;
        // The gateway confirms itself whenever asked.
        c.handle(s(t), &reply(PEER, gw));
    }
    assert_eq!(c.lookup(s(t), gw), Some(PEER));
}

/// Review finding R3: with `learn_from_requests`, spoofed requests cannot evict a binding in
/// use and then plant a new one for its address.
#[test]
fn learning_from_requests_never_evicts_a_binding_in_use() {
    let gw = [192, 0, 2, 254];
    let mut c: Cache = ArpCache::new(
        US,
        OUR_IP,
        Config {
            learn_from_requests: true,
            ..Config::default()
        },
    );
    let _ = c.resolve(s(0.0), gw, 0);
    let _ = c.poll_transmit(s(0.0));
    c.handle(s(0.0), &reply(PEER, gw));
    while c.poll_event().is_some() {}
    for i in 0..8u8 {
        c.handle(
            s(1.0),
            &ArpRepr::request(EVIL, [192, 0, 2, 100 + i], OUR_IP),
        );
    }
    c.handle(s(1.0), &ArpRepr::request(EVIL, gw, OUR_IP));
    assert_eq!(c.lookup(s(2.0), gw), Some(PEER));
}

/// Review finding R5: a binding with packets still waiting to be drained is never evicted,
/// so those packets come out as `Send`, not `Unreachable`.
#[test]
fn bindings_with_waiting_packets_are_not_evicted() {
    let mut c: ArpCache<u32, 1, 4> = ArpCache::new(US, OUR_IP, Config::default());
    let _ = c.resolve(s(0.0), PEER_IP, 1);
    let _ = c.poll_transmit(s(0.0));
    c.handle(s(0.0), &reply(PEER, PEER_IP));
    assert_eq!(c.resolve(s(100.0), [192, 0, 2, 9], 2), Resolve::NoRoom(2));
    assert_eq!(
        c.poll_event(),
        Some(ArpEvent::Send {
            mac: PEER,
            packet: 1
        })
    );
}

#[test]
fn an_unconfigured_interface_answers_nothing() {
    let mut c: Cache = ArpCache::new(US, [0; 4], Config::default());
    assert_eq!(
        c.handle(s(0.0), &ArpRepr::request(PEER, PEER_IP, [0; 4])),
        None
    );
}

#[derive(Debug, Clone)]
enum Op {
    Resolve(u8, u32),
    Handle(bool, u8, u8, u8),
    Transmit,
    Event,
    Advance(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..8, any::<u32>()).prop_map(|(a, p)| Op::Resolve(a, p)),
        (any::<bool>(), 0u8..8, 0u8..4, 0u8..8).prop_map(|(r, a, m, t)| Op::Handle(r, a, m, t)),
        Just(Op::Transmit),
        Just(Op::Event),
        (0u16..3000).prop_map(Op::Advance),
    ]
}

proptest! {
    /// Any sequence of operations stays within the bounds, never panics, and every packet
    /// handed in comes back out exactly once (sent, dropped, or still queued).
    #[test]
    fn random_operations_keep_every_invariant(ops in prop::collection::vec(op(), 0..300)) {
        let mut c: Cache = cache();
        let mut now = Duration::ZERO;
        let mut given = 0u64;
        let mut returned = 0u64;
        let ip = |a: u8| [192, 0, 2, 2 + a];
        for op in ops {
            match op {
                Op::Resolve(a, p) => {
                    given += 1;
                    match c.resolve(now, ip(a), p) {
                        Resolve::Ready(_, _) | Resolve::NoRoom(_) => returned += 1,
                        Resolve::Queued { evicted } => returned += u64::from(evicted.is_some()),
                    }
                }
                Op::Handle(is_reply, a, m, t) => {
                    let arp = ArpRepr {
                        op: if is_reply { ArpOp::Reply } else { ArpOp::Request },
                        sender_mac: MacAddress([2, 0, 0, 0, 9, m]),
                        sender_ip: ip(a),
                        target_mac: US,
                        target_ip: if t == 0 { OUR_IP } else { ip(t) },
                    };
                    if let Some(r) = c.handle(now, &arp) {
                        prop_assert_eq!(r.op, ArpOp::Reply);
                        prop_assert_eq!(r.sender_ip, OUR_IP);
                    }
                }
                Op::Transmit => {
                    if let Some(r) = c.poll_transmit(now) {
                        prop_assert_eq!(r.op, ArpOp::Request);
                    }
                }
                Op::Event => {
                    if let Some(ArpEvent::Send { .. } | ArpEvent::Unreachable { .. }) = c.poll_event() {
                        returned += 1;
                    }
                }
                Op::Advance(ms) => now += Duration::from_millis(u64::from(ms)),
            }
            prop_assert!(c.len() <= 4);
            prop_assert!(c.queued() <= 6);
            if let Some(t) = c.poll_timeout() {
                prop_assert!(t <= now + Duration::from_secs(1));
            }
        }
        prop_assert_eq!(given, returned + c.queued() as u64);
    }
}
