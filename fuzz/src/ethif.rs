//! Fuzz bodies for unistack-ethif.

use core::time::Duration;

use unistack_ethif::{
    ArpCache, ArpEvent, ArpOp, ArpPacket, ArpRepr, Config, EtherType, EthernetFrame, MacAddress,
    Resolve, parse_frame,
};

/// An Ethernet frame: parse (VLAN tags included), then ARP when the EtherType says so; every
/// accepted header re-emits to the same bytes, and Display never fails.
pub fn ethernet_frame(data: &[u8]) {
    let _ = EthernetFrame::new_checked(data).map(|f| f.to_string());
    let Ok((eth, payload)) = parse_frame(data) else {
        return;
    };
    assert_eq!(eth.header_len() + payload.len(), data.len());
    let mut out = vec![0u8; data.len()];
    let rest = eth.emit(&mut out).expect("buffer of header_len bytes");
    rest.copy_from_slice(payload);
    assert_eq!(out, data, "Ethernet header does not round-trip");
    let _ = eth.to_string();
    if eth.ethertype == EtherType::Arp {
        let _ = ArpPacket::new_checked(payload).map(|p| p.to_string());
        if let Ok(arp) = ArpRepr::parse_bytes(payload) {
            let mut b = [0u8; ArpRepr::LEN];
            arp.emit_bytes(&mut b).expect("28 bytes");
            assert_eq!(&b[..], &payload[..ArpRepr::LEN], "ARP does not round-trip");
            let _ = arp.to_string();
        }
    }
}

/// The ARP cache driven by operations decoded from the input: it must stay in bounds, never
/// panic, and give back every packet it was handed exactly once.
pub fn arp_cache(data: &[u8]) {
    const US: MacAddress = MacAddress([2, 0, 0, 0, 0, 1]);
    const OUR_IP: [u8; 4] = [192, 0, 2, 1];
    let config = Config {
        max_requests: data.first().map_or(3, |b| b % 5),
        max_queued_per_addr: data.get(1).map_or(3, |b| usize::from(b % 4)),
        learn_from_requests: data.get(2).is_some_and(|b| b & 1 == 1),
        ..Config::default()
    };
    let mut c: ArpCache<u32, 8, 16> = ArpCache::new(US, OUR_IP, config);
    let mut now = Duration::ZERO;
    let (mut given, mut returned) = (0u64, 0u64);
    for (n, chunk) in data.get(3..).unwrap_or_default().chunks(4).enumerate() {
        let b = |i: usize| chunk.get(i).copied().unwrap_or(0);
        let ip = [192, 0, 2, b(1) % 16];
        match b(0) % 6 {
            0 => {
                given += 1;
                match c.resolve(now, ip, n as u32) {
                    Resolve::Ready(..) | Resolve::NoRoom(_) => returned += 1,
                    Resolve::Queued { evicted } => returned += u64::from(evicted.is_some()),
                }
            }
            1 | 2 => {
                let arp = ArpRepr {
                    op: if b(0) % 6 == 1 {
                        ArpOp::Reply
                    } else {
                        ArpOp::Request
                    },
                    sender_mac: MacAddress([2, 0, 0, 0, 0, b(2) % 4]),
                    sender_ip: ip,
                    target_mac: MacAddress([0; 6]),
                    target_ip: if b(3) & 1 == 0 {
                        OUR_IP
                    } else {
                        [192, 0, 2, b(3) % 16]
                    },
                };
                let _ = c.handle(now, &arp);
            }
            3 => {
                let _ = c.poll_transmit(now);
            }
            4 => {
                if let Some(ArpEvent::Send { .. } | ArpEvent::Unreachable { .. }) = c.poll_event() {
                    returned += 1;
                }
            }
            _ => now += Duration::from_millis(u64::from(b(1)) * 40),
        }
        assert!(c.len() <= 8 && c.queued() <= 16);
    }
    assert_eq!(
        given,
        returned + c.queued() as u64,
        "a packet was lost or duplicated"
    );
}
