//! Property tests: the checksum against the RFC 1071 reference, RFC 1624 updates against
//! recomputation, and Repr → emit → parse → the same Repr for IPv4, UDP and ICMPv4.

mod common;

use common::*;
use proptest::prelude::*;
use unistack_ipv4::checksum;
use unistack_ipv4::*;

/// Equal as ones' complement numbers: 0x0000 and 0xffff are both zero.
fn same_ones(a: u16, b: u16) -> bool {
    a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0)
}

/// A well-framed options area: NOPs and TLVs of assorted kinds, then End-of-List padding.
fn options() -> impl Strategy<Value = Vec<u8>> {
    let option = prop_oneof![
        Just(vec![1u8]),
        (
            prop::sample::select(vec![7u8, 68, 130, 131, 136, 137, 148, 25, 200]),
            prop::collection::vec(any::<u8>(), 0..8)
        )
            .prop_map(|(kind, data)| {
                let mut o = vec![kind, data.len() as u8 + 2];
                o.extend(data);
                o
            }),
    ];
    prop::collection::vec(option, 0..6).prop_map(|opts| {
        let mut v: Vec<u8> = Vec::new();
        for o in opts {
            if v.len() + o.len() <= 40 {
                v.extend(o);
            }
        }
        while !v.len().is_multiple_of(4) {
            v.push(0);
        }
        v
    })
}

fn addr() -> impl Strategy<Value = Ipv4Address> {
    any::<[u8; 4]>().prop_map(Ipv4Address)
}

#[derive(Debug, Clone)]
struct IpCase {
    src: Ipv4Address,
    dst: Ipv4Address,
    protocol: u8,
    payload_len: usize,
    ttl: u8,
    dscp: u8,
    ecn: u8,
    ident: u16,
    dont_frag: bool,
    more_frags: bool,
    frag_units: u16,
    options: Vec<u8>,
}

impl IpCase {
    fn repr(&self) -> Ipv4Repr<'_> {
        Ipv4Repr {
            src_addr: self.src,
            dst_addr: self.dst,
            protocol: Protocol::from(self.protocol),
            payload_len: self.payload_len,
            ttl: self.ttl,
            dscp: self.dscp,
            ecn: Ecn::from(self.ecn),
            ident: self.ident,
            dont_frag: self.dont_frag,
            more_frags: self.more_frags,
            frag_offset: self.frag_units * 8,
            options: Ipv4Options::new(&self.options).unwrap(),
        }
    }
}

fn ip_case() -> impl Strategy<Value = IpCase> {
    (
        (addr(), addr(), any::<u8>(), 0usize..1500, any::<u8>()),
        (0u8..64, 0u8..4, any::<u16>(), any::<bool>(), any::<bool>()),
        (0u16..8000, options()),
    )
        .prop_map(
            |(
                (src, dst, protocol, payload_len, ttl),
                (dscp, ecn, ident, dont_frag, more_frags),
                (frag_units, options),
            )| {
                // Keep the fragment fields valid: MF carries a multiple of 8 bytes, and the
                // datagram ends within 65535 bytes.
                let payload_len = if more_frags {
                    payload_len & !7
                } else {
                    payload_len
                };
                let max_units = (65535 - 20 - options.len() - payload_len) / 8;
                IpCase {
                    src,
                    dst,
                    protocol,
                    payload_len,
                    ttl,
                    dscp,
                    ecn,
                    ident,
                    dont_frag,
                    more_frags,
                    frag_units: frag_units.min(max_units as u16),
                    options,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn checksum_matches_the_reference(data in prop::collection::vec(any::<u8>(), 0..2000),
                                      skip in 0usize..8) {
        let b = &data[skip.min(data.len())..];
        prop_assert_eq!(checksum::data(b), reference_sum(b));
        prop_assert_eq!(checksum::checksum(b), !reference_sum(b));
    }

    #[test]
    fn checksum_of_all_ones_and_zeros(len in 0usize..2000, byte in prop::sample::select(vec![0u8, 0xff, 0x80, 0x01])) {
        let b = vec![byte; len];
        prop_assert_eq!(checksum::data(&b), reference_sum(&b));
    }

    #[test]
    fn sums_of_pieces_combine(data in prop::collection::vec(any::<u8>(), 0..600),
                              cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..5)) {
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(data.len() + 1)).collect();
        cuts.sort();
        let mut sum = checksum::Sum::new();
        let mut at = 0;
        for c in cuts.into_iter().chain([data.len()]) {
            sum = sum.add_bytes(&data[at..c]);
            at = c;
        }
        prop_assert!(same_ones(sum.finish(), reference_sum(&data)));
    }

    #[test]
    fn rfc1624_update_matches_recomputation(mut data in prop::collection::vec(any::<u8>(), 4..200),
                                            at in any::<prop::sample::Index>(),
                                            new16 in any::<u16>(), new32 in any::<u32>()) {
        // The first two bytes hold the checksum field.
        data.truncate(data.len() & !1);
        data[0] = 0;
        data[1] = 0;
        let c = checksum::checksum(&data);
        data[..2].copy_from_slice(&c.to_be_bytes());
        // Change one 16-bit word (not the checksum) and update incrementally.
        let words = data.len() / 2 - 1;
        let i = 2 + 2 * at.index(words);
        let old = u16::from_be_bytes([data[i], data[i + 1]]);
        data[i..i + 2].copy_from_slice(&new16.to_be_bytes());
        let inc = checksum::update(c, old, new16);
        let mut zeroed = data.clone();
        zeroed[..2].copy_from_slice(&[0, 0]);
        prop_assert!(same_ones(inc, checksum::checksum(&zeroed)));
        data[..2].copy_from_slice(&inc.to_be_bytes());
        prop_assert!(reference_ok(&data) || data[2..].iter().all(|&b| b == 0));

        // And a 32-bit field at an even offset (an address).
        if data.len() >= 6 {
            let j = 2 + 2 * at.index((data.len() - 4) / 2);
            let old = u32::from_be_bytes(data[j..j + 4].try_into().unwrap());
            data[j..j + 4].copy_from_slice(&new32.to_be_bytes());
            let inc32 = checksum::update_u32(inc, old, new32);
            let mut zeroed = data.clone();
            zeroed[..2].copy_from_slice(&[0, 0]);
            prop_assert!(same_ones(inc32, checksum::checksum(&zeroed)));
        }
    }

    /// `emit` sums the header from the repr's values (not from the bytes it wrote): the
    /// field must verify by the book for every value, including a DSCP above six bits (emit
    /// drops the high bits) and any fragment offset.
    #[test]
    fn emitted_header_checksum_is_the_reference(case in ip_case(), dscp in any::<u8>(),
                                                frag in any::<u16>()) {
        let repr = Ipv4Repr { dscp, frag_offset: frag & !7, ..case.repr() };
        let mut buf = vec![0x5au8; repr.buffer_len()];
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]), &ChecksumCaps::default());
        prop_assert!(reference_ok(&buf[..repr.header_len()]));
    }

    #[test]
    fn ipv4_repr_round_trips(case in ip_case()) {
        let repr = case.repr();
        let mut buf = vec![0xa5u8; repr.buffer_len() + 3]; // + link padding
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]), &ChecksumCaps::default());
        prop_assert!(reference_ok(&buf[..repr.header_len()]));
        let packet = Ipv4Packet::new_checked(&buf[..]).unwrap();
        let parsed = Ipv4Repr::parse(&packet, &ChecksumCaps::default()).unwrap();
        prop_assert_eq!(parsed, repr);
        prop_assert_eq!(packet.payload().len(), case.payload_len);
        // Display never panics and names both addresses.
        let line = packet.to_string();
        prop_assert!(line.starts_with("IP "), "{}", line);
        let tail = format!("{} > {}", case.src, case.dst);
        prop_assert!(repr.to_string().ends_with(&tail));
    }

    #[test]
    fn udp_repr_round_trips(src in addr(), dst in addr(), sp in any::<u16>(), dp in any::<u16>(),
                            data in prop::collection::vec(any::<u8>(), 0..1500),
                            compute in any::<bool>()) {
        let caps = if compute { ChecksumCaps::default() } else { ChecksumCaps::ignored() };
        let repr = UdpRepr { src_port: sp, dst_port: dp, payload_len: data.len() };
        let mut buf = vec![0u8; repr.buffer_len() + 5];
        repr.emit(&mut UdpPacket::new_unchecked(&mut buf[..]), src, dst, &caps,
                  |p| p.copy_from_slice(&data));
        let ck = u16::from_be_bytes([buf[6], buf[7]]);
        if compute {
            // Never the "not computed" value, and correct by the reference.
            prop_assert_ne!(ck, 0);
            prop_assert!(reference_udp_ok(src.0, dst.0, &buf[..repr.buffer_len()]));
        } else {
            prop_assert_eq!(ck, 0);
        }
        // Parsing always verifies: a zero checksum is accepted as "not computed".
        let packet = UdpPacket::new_checked(&buf[..]).unwrap();
        let parsed = UdpRepr::parse(&packet, src, dst, &ChecksumCaps::default()).unwrap();
        prop_assert_eq!(parsed, repr);
        prop_assert_eq!(packet.payload(), &data[..]);
    }

    #[test]
    fn icmp_repr_round_trips(kind in 0u8..4, ident in any::<u16>(), seq in any::<u16>(),
                             code in any::<u8>(), mtu in any::<u16>(),
                             data in prop::collection::vec(any::<u8>(), 0..600),
                             quoted in ip_case()) {
        // A quote: a real emitted header plus up to 8 bytes of its data.
        let opts = Ipv4Options::new(&quoted.options).unwrap();
        let mut qrepr = Ipv4Repr::new(quoted.src, quoted.dst, Protocol::Udp, quoted.payload_len, quoted.ttl);
        qrepr.options = opts;
        let mut qbuf = vec![0u8; qrepr.header_len() + 8.min(quoted.payload_len)];
        let hl = qrepr.header_len();
        qrepr.emit(&mut Ipv4Packet::new_unchecked(&mut qbuf[..hl]), &ChecksumCaps::default());
        let quote = Icmpv4Quote::new(&qbuf).unwrap();
        let repr = match kind {
            0 => Icmpv4Repr::EchoRequest { ident, seq_no: seq, data: &data },
            1 => Icmpv4Repr::EchoReply { ident, seq_no: seq, data: &data },
            2 => Icmpv4Repr::DstUnreachable { code: DstUnreachable::from(code), next_hop_mtu: mtu, quote },
            _ => Icmpv4Repr::TimeExceeded { code: TimeExceeded::from(code), quote },
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]), &ChecksumCaps::default());
        prop_assert!(reference_ok(&buf));
        let packet = Icmpv4Packet::new_checked(&buf[..]).unwrap();
        let parsed = Icmpv4Repr::parse(&packet, &ChecksumCaps::default()).unwrap();
        prop_assert_eq!(parsed, repr);
        prop_assert!(parsed.to_string().starts_with("ICMP "));
    }
}
