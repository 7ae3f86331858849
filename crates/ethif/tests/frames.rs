//! Ethernet, VLAN and ARP: fixtures from a real capture, malformed input, round trips, and
//! differential checks against etherparse and smoltcp.

use proptest::prelude::*;
use unistack_ethif::wire::{ArpHeader, EthernetHeader};
use unistack_ethif::{
    ArpOp, ArpPacket, ArpRepr, Error, EtherType, EthernetFrame, EthernetRepr, MacAddress, VlanTag,
    parse_frame,
};

const SAMPLE: &[u8] = include_bytes!("../../../tests/data/sample.pcap");

fn sample_frames() -> Vec<&'static [u8]> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= SAMPLE.len() {
        let incl = u32::from_le_bytes(SAMPLE[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push(&SAMPLE[at + 16..at + 16 + incl]);
        at += 16 + incl;
    }
    out
}

const A: MacAddress = MacAddress([0x02, 0, 0, 0, 0, 0x0a]);
const B: MacAddress = MacAddress([0x02, 0, 0, 0, 0, 0x0b]);

#[test]
fn arp_exchange_from_the_capture() {
    let f = sample_frames();
    let (eth, payload) = parse_frame(f[0]).unwrap();
    assert_eq!(eth.src, A);
    assert!(eth.dst.is_broadcast());
    assert_eq!(eth.ethertype, EtherType::Arp);
    assert!(eth.vlans.is_empty());
    let req = ArpRepr::parse_bytes(payload).unwrap();
    assert_eq!(req, ArpRepr::request(A, [192, 0, 2, 1], [192, 0, 2, 2]));
    assert_eq!(
        req.to_string(),
        "ARP, Request who-has 192.0.2.2 tell 192.0.2.1"
    );

    let (eth, payload) = parse_frame(f[1]).unwrap();
    assert_eq!((eth.src, eth.dst), (B, A));
    let reply = ArpRepr::parse_bytes(payload).unwrap();
    assert_eq!(reply.op, ArpOp::Reply);
    assert_eq!(reply.sender_mac, B);
    assert_eq!(reply.sender_ip, [192, 0, 2, 2]);
    assert_eq!((reply.target_mac, reply.target_ip), (A, [192, 0, 2, 1]));
    assert_eq!(
        reply.to_string(),
        "ARP, Reply 192.0.2.2 is-at 02:00:00:00:00:0b"
    );
    assert_eq!(
        EthernetFrame::new_checked(f[1]).unwrap().to_string(),
        "02:00:00:00:00:0b > 02:00:00:00:00:0a, ethertype ARP (0x0806), length 42"
    );
    assert_eq!(
        ArpPacket::new_checked(payload).unwrap().to_string(),
        "ARP, Reply 192.0.2.2 is-at 02:00:00:00:00:0b, length 28"
    );

    // Emitting the parsed reprs reproduces the captured bytes exactly.
    let mut out = [0u8; 42];
    let rest = eth.emit(&mut out).unwrap();
    assert_eq!(rest.len(), 28);
    reply.emit_bytes(rest).unwrap();
    assert_eq!(&out[..], f[1]);
}

#[test]
fn every_sample_frame_parses_and_round_trips() {
    for frame in sample_frames() {
        let (eth, payload) = parse_frame(frame).unwrap();
        let mut out = vec![0u8; frame.len()];
        let rest = eth.emit(&mut out).unwrap();
        rest.copy_from_slice(payload);
        assert_eq!(&out[..], frame);
    }
}

fn tagged(tags: &[(u16, u16)], inner: u16) -> Vec<u8> {
    let mut f = vec![];
    f.extend_from_slice(&B.0);
    f.extend_from_slice(&A.0);
    for (tpid, tci) in tags {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&tci.to_be_bytes());
    }
    f.extend_from_slice(&inner.to_be_bytes());
    f.extend_from_slice(&[0x45, 0, 0, 20]);
    f
}

#[test]
fn vlan_tags() {
    // One C-tag: PCP 5, DEI set, VID 100.
    let f = tagged(&[(0x8100, 0b1011_0000_0110_0100)], 0x0800); // PCP 101, DEI 1, VID 100
    let (eth, payload) = parse_frame(&f).unwrap();
    assert_eq!(eth.ethertype, EtherType::Ipv4);
    assert_eq!(
        eth.vlans.as_slice(),
        &[VlanTag {
            tpid: EtherType::Vlan,
            pcp: 5,
            dei: true,
            vid: 100
        }]
    );
    assert_eq!(eth.header_len(), 18);
    assert_eq!(payload, &[0x45, 0, 0, 20]);
    assert_eq!(
        eth.to_string(),
        "02:00:00:00:00:0a > 02:00:00:00:00:0b, 802.1Q vlan 100, p 5, DEI, ethertype IPv4 (0x0800)"
    );

    // QinQ: S-tag 200 outside a C-tag 4095.
    let f = tagged(&[(0x88a8, 200), (0x8100, 0x0fff)], 0x0806);
    let (eth, payload) = parse_frame(&f).unwrap();
    assert_eq!(eth.vlans.len(), 2);
    assert_eq!(eth.vlans[0].tpid, EtherType::QinQ);
    assert_eq!(eth.vlans[0].vid, 200);
    assert_eq!(eth.vlans[1].vid, 4095);
    assert_eq!(eth.ethertype, EtherType::Arp);
    assert_eq!(payload.len(), 4);
    let mut out = vec![0u8; f.len()];
    eth.emit(&mut out).unwrap()[..4].copy_from_slice(payload);
    assert_eq!(out, f);

    // The legacy 0x9100 TPID counts as a tag too.
    let f = tagged(&[(0x9100, 7), (0x8100, 8)], 0x86dd);
    assert_eq!(
        parse_frame(&f).unwrap().0.vlans[0].tpid,
        EtherType::QinQLegacy
    );

    // A third tag is refused, and so is an 802.3 length field.
    let f = tagged(&[(0x88a8, 1), (0x8100, 2), (0x8100, 3)], 0x0800);
    assert_eq!(parse_frame(&f), Err(Error::TooManyVlanTags));
    let f = tagged(&[], 0x0040);
    assert_eq!(parse_frame(&f), Err(Error::Unsupported));
    let f = tagged(&[(0x8100, 1)], 0x05ff);
    assert_eq!(parse_frame(&f), Err(Error::Unsupported));
}

#[test]
fn truncation_at_every_length_is_a_typed_error() {
    let f = tagged(&[(0x88a8, 200), (0x8100, 300)], 0x0806);
    for len in 0..f.len() {
        let r = parse_frame(&f[..len]);
        if len < 22 {
            assert_eq!(r, Err(Error::Truncated), "len {len}");
        } else {
            assert!(r.is_ok());
        }
    }
    let arp = sample_frames()[0];
    for len in 0..arp.len() {
        let r = parse_frame(&arp[..len]).and_then(|(_, p)| ArpRepr::parse_bytes(p));
        if len < 42 {
            assert_eq!(r, Err(Error::Truncated));
        }
    }
}

#[test]
fn unsupported_and_malformed_arp() {
    let good = &sample_frames()[0][14..];
    let check = |i: usize, v: u8, want: Error| {
        let mut b = good.to_vec();
        b[i] = v;
        assert_eq!(ArpRepr::parse_bytes(&b), Err(want), "byte {i} = {v}");
        // Display never fails, whatever the packet says.
        let _ = ArpPacket::new_checked(&b[..]).unwrap().to_string();
    };
    check(1, 6, Error::Unsupported); // hardware type 6 (IEEE 802)
    check(2, 0x86, Error::Unsupported); // protocol type 0x8600
    check(4, 8, Error::Unsupported); // hardware length 8
    check(5, 16, Error::Unsupported); // protocol length 16
    check(7, 3, Error::Unsupported); // operation 3 (RARP request)
    check(8, 0x01, Error::Malformed); // multicast sender MAC
    assert_eq!(
        ArpPacket::new_checked(
            &{
                let mut b = good.to_vec();
                b[7] = 9;
                b
            }[..]
        )
        .unwrap()
        .to_string(),
        "ARP, unknown (0x0009) (hardware Ethernet, protocol IPv4) [unsupported]"
    );
}

#[test]
fn emit_refuses_short_buffers() {
    let eth = EthernetRepr::new(A, B, EtherType::Ipv4);
    assert_eq!(eth.emit(&mut [0u8; 13]).err(), Some(Error::BufferTooSmall));
    let mut tagged = eth.clone();
    tagged
        .vlans
        .push(VlanTag {
            tpid: EtherType::Vlan,
            pcp: 0,
            dei: false,
            vid: 1,
        })
        .unwrap();
    assert_eq!(
        tagged.emit(&mut [0u8; 17]).err(),
        Some(Error::BufferTooSmall)
    );
    assert_eq!(tagged.emit(&mut [0u8; 18]).unwrap().len(), 0);
    let arp = ArpRepr::request(A, [192, 0, 2, 1], [192, 0, 2, 9]);
    assert_eq!(arp.emit_bytes(&mut [0u8; 27]), Err(Error::BufferTooSmall));
    assert_eq!(arp.buffer_len(), ArpHeader::SIZE);
    assert_eq!(EthernetHeader::SIZE, 14);
}

fn mac() -> impl Strategy<Value = MacAddress> {
    any::<[u8; 6]>().prop_map(MacAddress)
}

fn ethertype() -> impl Strategy<Value = EtherType> {
    (0x0600u16..=0xffff)
        .prop_map(EtherType::from_raw)
        .prop_filter("not a VLAN TPID", |t| !t.is_vlan())
}

fn vlan_tag() -> impl Strategy<Value = VlanTag> {
    (
        prop_oneof![
            Just(EtherType::Vlan),
            Just(EtherType::QinQ),
            Just(EtherType::QinQLegacy)
        ],
        0u8..8,
        any::<bool>(),
        0u16..4096,
    )
        .prop_map(|(tpid, pcp, dei, vid)| VlanTag {
            tpid,
            pcp,
            dei,
            vid,
        })
}

fn eth_repr() -> impl Strategy<Value = EthernetRepr> {
    (
        mac(),
        mac(),
        prop::collection::vec(vlan_tag(), 0..=2),
        ethertype(),
    )
        .prop_map(|(dst, src, tags, ethertype)| EthernetRepr {
            dst,
            src,
            vlans: tags.into_iter().collect(),
            ethertype,
        })
}

fn arp_repr() -> impl Strategy<Value = ArpRepr> {
    (
        prop_oneof![Just(ArpOp::Request), Just(ArpOp::Reply)],
        mac().prop_map(|m| MacAddress([m.0[0] & 0xfe, m.0[1], m.0[2], m.0[3], m.0[4], m.0[5]])),
        any::<[u8; 4]>(),
        mac(),
        any::<[u8; 4]>(),
    )
        .prop_map(
            |(op, sender_mac, sender_ip, target_mac, target_ip)| ArpRepr {
                op,
                sender_mac,
                sender_ip,
                target_mac,
                target_ip,
            },
        )
}

proptest! {
    #[test]
    fn ethernet_repr_round_trips(repr in eth_repr(), payload in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut buf = vec![0u8; repr.buffer_len(payload.len())];
        repr.emit(&mut buf).unwrap().copy_from_slice(&payload);
        let (back, p) = parse_frame(&buf).unwrap();
        prop_assert_eq!(&back, &repr);
        prop_assert_eq!(p, &payload[..]);
    }

    #[test]
    fn arp_repr_round_trips(repr in arp_repr()) {
        let mut buf = [0u8; 28];
        repr.emit(&mut ArpPacket::new_checked(&mut buf[..]).unwrap());
        prop_assert_eq!(ArpRepr::parse_bytes(&buf).unwrap(), repr);
    }

    #[test]
    fn arbitrary_frames_parse_or_error(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        if let Ok((eth, payload)) = parse_frame(&bytes) {
            prop_assert_eq!(eth.header_len() + payload.len(), bytes.len());
            let _ = eth.to_string();
            let _ = ArpRepr::parse_bytes(payload).map(|a| a.to_string());
        }
        let _ = EthernetFrame::new_checked(&bytes[..]).map(|f| f.to_string());
    }

    /// etherparse: same accept decision and fields for Ethernet II with up to two tags.
    #[test]
    fn agrees_with_etherparse(repr in eth_repr(), payload in prop::collection::vec(any::<u8>(), 0..8), cut in 0usize..40) {
        let mut buf = vec![0u8; repr.buffer_len(payload.len())];
        repr.emit(&mut buf).unwrap().copy_from_slice(&payload);
        let buf = &buf[..buf.len().saturating_sub(cut)];
        let ours = parse_frame(buf);
        let theirs = etherparse::Ethernet2Header::from_slice(buf).and_then(|(h, mut rest)| {
            let mut tags = vec![];
            let mut ty = h.ether_type;
            while [0x8100u16, 0x88a8, 0x9100].contains(&ty.0) && tags.len() < 3 {
                let (v, r) = etherparse::SingleVlanHeader::from_slice(rest)?;
                tags.push((ty.0, v.pcp.value(), v.drop_eligible_indicator, v.vlan_id.value()));
                ty = v.ether_type;
                rest = r;
            }
            Ok((h, tags, ty, rest.len()))
        });
        match (ours, theirs) {
            (Ok((o, p)), Ok((h, tags, ty, rest))) => {
                prop_assert_eq!(o.dst.0, h.destination);
                prop_assert_eq!(o.src.0, h.source);
                prop_assert_eq!(o.ethertype.to_raw(), ty.0);
                let ours: Vec<_> = o.vlans.iter().map(|t| (t.tpid.to_raw(), t.pcp, t.dei, t.vid)).collect();
                prop_assert_eq!(ours, tags);
                prop_assert_eq!(p.len(), rest);
            }
            (Err(Error::Truncated), Err(_)) => {}
            (o, t) => prop_assert!(false, "disagree: ours {:?}, etherparse {:?}", o, t.map(|x| x.1)),
        }
    }

    /// smoltcp: same fields for untagged frames, same decision on ARP (see the test below for
    /// the two documented differences).
    #[test]
    fn agrees_with_smoltcp(bytes in prop::collection::vec(any::<u8>(), 0..64), arp in arp_repr()) {
        use smoltcp::wire::{EthernetFrame as SFrame, ArpPacket as SArp, ArpRepr as SArpRepr, ArpOperation};
        match (EthernetFrame::new_checked(&bytes[..]), SFrame::new_checked(&bytes[..])) {
            (Ok(o), Ok(s)) => {
                prop_assert_eq!(&o.dst()[..], &s.dst_addr().0[..]);
                prop_assert_eq!(&o.src()[..], &s.src_addr().0[..]);
                prop_assert_eq!(o.ethertype().to_raw(), u16::from(s.ethertype()));
                prop_assert_eq!(o.payload(), s.payload());
            }
            (Err(_), Err(_)) => {}
            (o, s) => prop_assert!(false, "disagree: {:?} vs {:?}", o.is_ok(), s.is_ok()),
        }
        let mut buf = [0u8; 28];
        arp.emit_bytes(&mut buf).unwrap();
        match SArpRepr::parse(&SArp::new_checked(&buf[..]).unwrap()) {
            Ok(SArpRepr::EthernetIpv4 { operation, source_hardware_addr, source_protocol_addr, target_hardware_addr, target_protocol_addr }) => {
                prop_assert_eq!(operation, if arp.op == ArpOp::Request { ArpOperation::Request } else { ArpOperation::Reply });
                prop_assert_eq!(source_hardware_addr.as_bytes(), &arp.sender_mac.0[..]);
                prop_assert_eq!(source_protocol_addr.octets(), arp.sender_ip);
                prop_assert_eq!(target_hardware_addr.as_bytes(), &arp.target_mac.0[..]);
                prop_assert_eq!(target_protocol_addr.octets(), arp.target_ip);
            }
            other => prop_assert!(false, "smoltcp rejected what we emit: {:?}", other),
        }
    }
}

/// Documented differences from smoltcp's ARP parser: it accepts any operation value and a
/// multicast sender hardware address; we refuse both (no host owns a group MAC, and an unknown
/// operation is not something we can act on).
#[test]
fn documented_differences_from_smoltcp() {
    use smoltcp::wire::{ArpPacket as SArp, ArpRepr as SArpRepr};
    let good = sample_frames()[0][14..].to_vec();
    let mut op3 = good.clone();
    op3[7] = 3;
    assert!(SArpRepr::parse(&SArp::new_checked(&op3[..]).unwrap()).is_ok());
    assert_eq!(ArpRepr::parse_bytes(&op3), Err(Error::Unsupported));
    let mut mcast = good.clone();
    mcast[8] |= 1;
    assert!(SArpRepr::parse(&SArp::new_checked(&mcast[..]).unwrap()).is_ok());
    assert_eq!(ArpRepr::parse_bytes(&mcast), Err(Error::Malformed));
    // And smoltcp knows no VLAN tags: it reports the TPID as the EtherType.
    let f = tagged(&[(0x8100, 5)], 0x0800);
    let s = smoltcp::wire::EthernetFrame::new_checked(&f[..]).unwrap();
    assert_eq!(u16::from(s.ethertype()), 0x8100);
    assert_eq!(parse_frame(&f).unwrap().0.ethertype, EtherType::Ipv4);
}
