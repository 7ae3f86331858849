//! Property tests: every setter/getter pair round-trips, no setter touches another field's bits,
//! decode/encode is the identity, and no byte slice of any length makes a view panic.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use unistack_cstruct::{CEnum, Span};

/// One field under test: its name and a closure that sets it from a seed on a view over the
/// given bytes and reports whether the getter returns what was set (masked to `bits`).
type Setter = (&'static str, &'static dyn Fn(&mut [u8], u64, u32) -> bool);

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// SplitMix64: deterministic filler bytes from a seed.
fn fill(seed: u64, out: &mut [u8]) {
    let mut s = seed;
    for b in out {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        *b = (z ^ (z >> 31)) as u8;
    }
}

macro_rules! uint {
    ($view:ident, $get:ident, $set:ident, $t:ty) => {
        (stringify!($get), &|b: &mut [u8], r: u64, bits: u32| {
            let mut v = $view::new_unchecked(b);
            let x = r as $t;
            v.$set(x);
            v.$get() as u64 == (x as u64) & mask(bits)
        })
    };
}
macro_rules! flag {
    ($view:ident, $get:ident, $set:ident) => {
        (stringify!($get), &|b: &mut [u8], r: u64, _bits: u32| {
            let mut v = $view::new_unchecked(b);
            let x = r & 1 == 1;
            v.$set(x);
            v.$get() == x
        })
    };
}
macro_rules! cenum {
    ($view:ident, $get:ident, $set:ident, $e:ty) => {
        (stringify!($get), &|b: &mut [u8], r: u64, bits: u32| {
            let mut v = $view::new_unchecked(b);
            let x = <$e as CEnum>::from_bits(r);
            v.$set(x);
            v.$get() == <$e as CEnum>::from_bits(x.to_bits() & mask(bits))
        })
    };
}
macro_rules! array {
    ($view:ident, $get:ident, $set:ident, $n:expr) => {
        (stringify!($get), &|b: &mut [u8], r: u64, _bits: u32| {
            let mut v = $view::new_unchecked(b);
            let mut x = [0u8; $n];
            fill(r, &mut x);
            v.$set(&x);
            *v.$get() == x
        })
    };
}
macro_rules! nested {
    ($view:ident, $get:ident, $set:ident, $l:ty) => {
        (stringify!($get), &|b: &mut [u8], r: u64, _bits: u32| {
            let mut v = $view::new_unchecked(b);
            let mut raw = [0u8; <$l>::SIZE];
            fill(r, &mut raw);
            let x = <$l>::from_bytes(&raw);
            v.$set(x);
            v.$get().decode() == x
        })
    };
}

fn span_of(fields: &[(&str, Span)], name: &str) -> Span {
    fields
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .expect("field listed")
}

/// For each field: set it from `seeds[i]` on a copy of `base`; the getter must return the
/// value, and every bit outside the field's span must be unchanged.
fn check_fields(
    base: &[u8],
    fields: &[(&str, Span)],
    setters: &[Setter],
    seeds: &[u64],
) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        fields.len(),
        setters.len(),
        "every field has a setter under test"
    );
    for (i, (name, set)) in setters.iter().enumerate() {
        let span = span_of(fields, name);
        let mut after = base.to_vec();
        let seed = seeds[i % seeds.len()].rotate_left(i as u32);
        prop_assert!(
            set(&mut after, seed, span.bits),
            "{} does not round-trip",
            name
        );
        for (j, (a, b)) in base.iter().zip(&after).enumerate() {
            let outside = !span.bit_mask(j);
            prop_assert_eq!(
                (a ^ b) & outside,
                0,
                "setting {} changed bits {:#04x} of byte {}",
                name,
                (a ^ b) & outside,
                j
            );
        }
    }
    Ok(())
}

const IPV4_SETTERS: &[Setter] = &[
    uint!(Ipv4Packet, version, set_version, u8),
    uint!(Ipv4Packet, ihl, set_ihl, u8),
    uint!(Ipv4Packet, dscp, set_dscp, u8),
    cenum!(Ipv4Packet, ecn, set_ecn, Ecn),
    uint!(Ipv4Packet, total_len, set_total_len, u16),
    uint!(Ipv4Packet, ident, set_ident, u16),
    flag!(Ipv4Packet, reserved, set_reserved),
    flag!(Ipv4Packet, dont_frag, set_dont_frag),
    flag!(Ipv4Packet, more_frags, set_more_frags),
    uint!(Ipv4Packet, frag_offset, set_frag_offset, u16),
    uint!(Ipv4Packet, ttl, set_ttl, u8),
    cenum!(Ipv4Packet, protocol, set_protocol, Protocol),
    uint!(Ipv4Packet, checksum, set_checksum, u16),
    array!(Ipv4Packet, src, set_src, 4),
    array!(Ipv4Packet, dst, set_dst, 4),
];

const TCP_SETTERS: &[Setter] = &[
    uint!(TcpSegment, src_port, set_src_port, u16),
    uint!(TcpSegment, dst_port, set_dst_port, u16),
    uint!(TcpSegment, seq, set_seq, u32),
    uint!(TcpSegment, ack, set_ack, u32),
    uint!(TcpSegment, data_offset, set_data_offset, u8),
    uint!(TcpSegment, reserved, set_reserved, u8),
    flag!(TcpSegment, cwr, set_cwr),
    flag!(TcpSegment, ece, set_ece),
    flag!(TcpSegment, urg, set_urg),
    flag!(TcpSegment, ack_flag, set_ack_flag),
    flag!(TcpSegment, psh, set_psh),
    flag!(TcpSegment, rst, set_rst),
    flag!(TcpSegment, syn, set_syn),
    flag!(TcpSegment, fin, set_fin),
    uint!(TcpSegment, window, set_window, u16),
    uint!(TcpSegment, checksum, set_checksum, u16),
    uint!(TcpSegment, urgent, set_urgent, u16),
];

const LITTLE_SETTERS: &[Setter] = &[
    uint!(LittleRecordView, id, set_id, u64),
    uint!(LittleRecordView, len, set_len, u32),
    cenum!(LittleRecordView, ecn, set_ecn, Ecn),
    uint!(LittleRecordView, small, set_small, u16),
    uint!(LittleRecordView, rest, set_rest, u16),
    uint!(LittleRecordView, port_be, set_port_be, u16),
    cenum!(LittleRecordView, kind, set_kind, EtherType),
    uint!(LittleRecordView, flags, set_flags, u8),
];

const MIXED_SETTERS: &[Setter] = &[
    uint!(MixedView, tag, set_tag, u16),
    nested!(MixedView, eth, set_eth, EthHeader),
    array!(MixedView, tail, set_tail, TAIL),
    uint!(MixedView, a, set_a, u16),
    uint!(MixedView, b, set_b, u32),
    flag!(MixedView, top, set_top),
    uint!(MixedView, wide, set_wide, u64),
    nested!(MixedView, tcp, set_tcp, TcpHeader),
    uint!(MixedView, last, set_last, u32),
];

const ETH_SETTERS: &[Setter] = &[
    array!(EthHeaderView, dst, set_dst, 6),
    array!(EthHeaderView, src, set_src, 6),
    cenum!(EthHeaderView, ethertype, set_ethertype, EtherType),
];

fn seeds() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(any::<u64>(), 1..8)
}

/// The accept decision for an IPv4 header, computed straight from the RFC, not the derive.
fn ipv4_should_accept(b: &[u8]) -> bool {
    if b.len() < 20 {
        return false;
    }
    let hl = usize::from(b[0] & 0x0f) * 4;
    let tl = usize::from(u16::from_be_bytes([b[2], b[3]]));
    hl >= 20 && hl <= b.len() && tl >= hl && tl <= b.len()
}

/// Bytes that look like an IPv4 packet: IHL 0..15 and a total length near the buffer length,
/// so the accept path and every length error are exercised, not just truncation.
fn plausible_ipv4() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(any::<u8>(), 20..120),
        0u8..16,
        -8i32..8,
    )
        .prop_map(|(mut b, ihl, d)| {
            b[0] = 0x40 | ihl;
            let tl = (b.len() as i32 + d).clamp(0, 0xffff) as u16;
            b[2..4].copy_from_slice(&tl.to_be_bytes());
            b
        })
}

fn tcp_should_accept(b: &[u8]) -> bool {
    b.len() >= 20 && {
        let hl = usize::from(b[12] >> 4) * 4;
        hl >= 20 && hl <= b.len()
    }
}

proptest! {
    #[test]
    fn ipv4_fields(base in any::<[u8; 20]>(), seeds in seeds()) {
        check_fields(&base, Ipv4Header::FIELDS, IPV4_SETTERS, &seeds)?;
    }

    #[test]
    fn tcp_fields(base in any::<[u8; 20]>(), seeds in seeds()) {
        check_fields(&base, TcpHeader::FIELDS, TCP_SETTERS, &seeds)?;
    }

    #[test]
    fn little_fields(base in any::<[u8; LittleRecord::SIZE]>(), seeds in seeds()) {
        check_fields(&base, LittleRecord::FIELDS, LITTLE_SETTERS, &seeds)?;
    }

    #[test]
    fn mixed_fields(base in prop::collection::vec(any::<u8>(), Mixed::SIZE), seeds in seeds()) {
        check_fields(&base, Mixed::FIELDS, MIXED_SETTERS, &seeds)?;
    }

    #[test]
    fn eth_fields(base in any::<[u8; 14]>(), seeds in seeds()) {
        check_fields(&base, EthHeader::FIELDS, ETH_SETTERS, &seeds)?;
    }

    #[test]
    fn decode_then_encode_is_identity(
        ip in any::<[u8; 20]>(),
        little in any::<[u8; LittleRecord::SIZE]>(),
        mixed in prop::collection::vec(any::<u8>(), Mixed::SIZE),
    ) {
        prop_assert_eq!(Ipv4Header::from_bytes(&ip).to_bytes(), ip);
        prop_assert_eq!(TcpHeader::from_bytes(&ip).to_bytes(), ip);
        prop_assert_eq!(LittleRecord::from_bytes(&little).to_bytes(), little);
        let mixed: [u8; Mixed::SIZE] = mixed.try_into().unwrap();
        prop_assert_eq!(Mixed::from_bytes(&mixed).to_bytes(), mixed);
        let v = Mixed::from_bytes(&mixed);
        prop_assert_eq!(Mixed::from_bytes(&v.to_bytes()), v);
    }

    #[test]
    fn any_slice_builds_or_errors(bytes in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        plausible_ipv4(),
    ]) {
        match Ipv4Packet::new_checked(&bytes[..]) {
            Ok(ip) => {
                prop_assert!(ipv4_should_accept(&bytes));
                let _ = ip.decode();
                let _ = format!("{ip:?} {}", ip.hexdump());
                prop_assert_eq!(ip.header().len(), ip.header_len());
                prop_assert_eq!(ip.options().len() + 20, ip.header_len());
                prop_assert_eq!(ip.header_len() + ip.payload().len(), ip.packet_len());
                prop_assert_eq!(ip.into_payload().len(), ip.payload().len());
            }
            Err(_) => prop_assert!(!ipv4_should_accept(&bytes)),
        }
        match TcpSegment::new_checked(&bytes[..]) {
            Ok(tcp) => {
                prop_assert!(tcp_should_accept(&bytes));
                let _ = format!("{tcp:?}");
                prop_assert_eq!(tcp.header_len() + tcp.payload().len(), bytes.len());
            }
            Err(_) => prop_assert!(!tcp_should_accept(&bytes)),
        }
        prop_assert_eq!(MixedView::new_checked(&bytes[..]).is_ok(), bytes.len() >= Mixed::SIZE);
        prop_assert_eq!(
            LittleRecordView::new_checked(&bytes[..]).is_ok(),
            bytes.len() >= LittleRecord::SIZE
        );
        if let Ok(m) = MixedView::new_checked(&bytes[..]) {
            let _ = format!("{m:?}");
            let _ = m.decode();
        }
        // With the fixed part present, inconsistent length fields never make the clamping
        // accessors panic, even on a view that skipped the check.
        let raw = Ipv4Packet::new_unchecked(&bytes[..]);
        let _ = format!("{raw:?}");
        if bytes.len() >= Ipv4Header::SIZE {
            let _ = (raw.header(), raw.options(), raw.payload(), raw.hexdump().to_string());
        }
    }

    #[test]
    fn owned_copy_matches_borrowed_view(
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        offset in 0usize..64,
    ) {
        match Ipv4Header::read_from_at(&bytes[..], offset) {
            Ok(owned) => {
                let borrowed = Ipv4Packet::new_unchecked(&bytes[offset..offset + 20]);
                prop_assert_eq!(owned.decode(), borrowed.decode());
            }
            Err(_) => prop_assert!(offset + 20 > bytes.len()),
        }
    }
}
