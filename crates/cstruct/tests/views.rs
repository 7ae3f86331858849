//! Fixture tests: real header bytes in, named fields out; spans; errors; owned and narrowed views.

mod common;

use common::*;
use unistack_cstruct::{ByteSource, CEnum, Error, Hexdump, Layout, Span};

#[test]
fn sizes_and_spans_match_the_rfc_diagrams() {
    assert_eq!(Ipv4Header::SIZE, 20);
    assert_eq!(TcpHeader::SIZE, 20);
    assert_eq!(EthHeader::SIZE, 14);
    assert_eq!(LittleRecord::SIZE, 8 + 4 + 3 + 2 + 2 + 1);
    assert_eq!(Mixed::SIZE, 2 + 14 + 3 + 5 + 8 + 20 + 4);

    // Byte 0 of IPv4: version in the high nibble, IHL in the low one.
    assert_eq!(Ipv4Header::VERSION, Span::bits(0, 1, 4, 4, false));
    assert_eq!(Ipv4Header::IHL, Span::bits(0, 1, 0, 4, false));
    assert_eq!(Ipv4Header::ECN, Span::bits(1, 1, 0, 2, false));
    assert_eq!(Ipv4Header::TOTAL_LEN, Span::bytes(2, 2, false));
    assert_eq!(Ipv4Header::DONT_FRAG, Span::bits(6, 2, 14, 1, false));
    assert_eq!(Ipv4Header::FRAG_OFFSET, Span::bits(6, 2, 0, 13, false));
    assert_eq!(Ipv4Header::PROTOCOL, Span::bytes(9, 1, false));
    assert_eq!(Ipv4Header::DST, Span::bytes(16, 4, false));
    assert_eq!(TcpHeader::SYN.offset, 13);
    assert_eq!(TcpHeader::SYN.shift, 1);
    assert_eq!(TcpHeader::WINDOW.range(), 14..16);
    // Little-endian bitfields are allocated from the least significant bit.
    assert_eq!(LittleRecord::ECN, Span::bits(12, 3, 0, 2, true));
    assert_eq!(LittleRecord::REST, Span::bits(12, 3, 12, 12, true));
    assert_eq!(LittleRecord::PORT_BE, Span::bytes(15, 2, false));
    // Nested and constant-expression sizes.
    assert_eq!(Mixed::ETH, Span::bytes(2, 14, false));
    assert_eq!(Mixed::TAIL, Span::bytes(16, 3, false));
    assert_eq!(Mixed::B, Span::bits(19, 5, 0, 28, false));
    assert_eq!(Mixed::WIDE, Span::bits(24, 8, 0, 63, false));
    assert_eq!(Mixed::LAST.offset, 52);

    let names: Vec<&str> = Ipv4Header::FIELDS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names[..3], ["version", "ihl", "dscp"]);
    assert_eq!(<Ipv4Header as Layout>::FIELDS.len(), 15);
}

#[test]
fn bit_masks_cover_exactly_the_field() {
    assert_eq!(Ipv4Header::VERSION.bit_mask(0), 0xf0);
    assert_eq!(Ipv4Header::IHL.bit_mask(0), 0x0f);
    assert_eq!(Ipv4Header::FRAG_OFFSET.bit_mask(6), 0x1f);
    assert_eq!(Ipv4Header::FRAG_OFFSET.bit_mask(7), 0xff);
    assert_eq!(Ipv4Header::FRAG_OFFSET.bit_mask(5), 0);
    assert_eq!(LittleRecord::SMALL.bit_mask(12), 0xfc);
    assert_eq!(LittleRecord::SMALL.bit_mask(13), 0x0f);
    assert_eq!(LittleRecord::SMALL.bit_mask(14), 0x00);
    // Every bit of every layout belongs to exactly one field.
    fn tiles<L: Layout>() {
        for byte in 0..<L as unistack_cstruct::Field>::SIZE {
            let mut seen = 0u8;
            for (name, span) in L::FIELDS {
                let m = span.bit_mask(byte);
                assert_eq!(seen & m, 0, "{name} overlaps at byte {byte}");
                seen |= m;
            }
            assert_eq!(seen, 0xff, "byte {byte} not fully covered");
        }
    }
    tiles::<Ipv4Header>();
    tiles::<TcpHeader>();
    tiles::<EthHeader>();
    tiles::<LittleRecord>();
    tiles::<Mixed>();
}

#[test]
fn parses_a_real_syn() {
    let ip = Ipv4Packet::new_checked(&SYN[..]).unwrap();
    assert_eq!(ip.version(), 4);
    assert_eq!(ip.ihl(), 5);
    assert_eq!(ip.dscp(), 0);
    assert_eq!(ip.ecn(), Ecn::NotEct);
    assert_eq!(ip.total_len(), 60);
    assert_eq!(ip.ident(), 0x1c46);
    assert!(!ip.reserved());
    assert!(ip.dont_frag());
    assert!(!ip.more_frags());
    assert_eq!(ip.frag_offset(), 0);
    assert_eq!(ip.ttl(), 64);
    assert_eq!(ip.protocol(), Protocol::Tcp);
    assert_eq!(ip.checksum(), 0x9b6d);
    assert_eq!(ip.src(), &[192, 0, 2, 1]);
    assert_eq!(ip.dst(), &[192, 0, 2, 2]);
    assert_eq!(ip.header_len(), 20);
    assert_eq!(ip.packet_len(), 60);
    assert!(ip.options().is_empty());
    assert_eq!(ip.payload().len(), 40, "Ethernet padding is not payload");

    let tcp = TcpSegment::new_checked(ip.payload()).unwrap();
    assert_eq!(tcp.src_port(), 51000);
    assert_eq!(tcp.dst_port(), 80);
    assert_eq!(tcp.seq(), 0x1234_5678);
    assert_eq!(tcp.ack(), 0);
    assert_eq!(tcp.data_offset(), 10);
    assert!(tcp.syn() && !tcp.ack_flag() && !tcp.fin() && !tcp.rst());
    assert_eq!(tcp.window(), 64240);
    assert_eq!(tcp.checksum(), 0x5d1a);
    assert_eq!(tcp.header_len(), 40);
    assert_eq!(tcp.options().len(), 20);
    assert_eq!(&tcp.options()[..4], &[0x02, 0x04, 0x05, 0xb4]);
    assert!(tcp.payload().is_empty());
    assert_eq!(tcp.header().len(), 40);
}

#[test]
fn every_truncation_is_a_typed_error() {
    for len in 0..SYN.len() {
        let r = Ipv4Packet::new_checked(&SYN[..len]);
        if len < 20 {
            assert_eq!(
                r,
                Err(Error::Truncated {
                    needed: 20,
                    got: len
                })
            );
        } else if len < 60 {
            assert_eq!(
                r,
                Err(Error::Truncated {
                    needed: 60,
                    got: len
                })
            );
        } else {
            assert!(r.is_ok());
        }
    }
    let tcp = &SYN[20..60];
    for len in 0..tcp.len() {
        let needed = if len < 20 { 20 } else { 40 };
        assert_eq!(
            TcpSegment::new_checked(&tcp[..len]),
            Err(Error::Truncated { needed, got: len })
        );
    }
}

#[test]
fn inconsistent_lengths_are_typed_errors() {
    let mut b = SYN;
    b[0] = 0x44; // IHL 4: shorter than the fixed header
    assert_eq!(
        Ipv4Packet::new_checked(&b[..]),
        Err(Error::BadHeaderLen {
            header_len: 16,
            min: 20
        })
    );
    b[0] = 0x46; // IHL 6 with total length 60: fine
    assert!(Ipv4Packet::new_checked(&b[..]).is_ok());
    b[2] = 0;
    b[3] = 22; // total length shorter than the 24-byte header
    assert_eq!(
        Ipv4Packet::new_checked(&b[..]),
        Err(Error::BadTotalLen {
            total_len: 22,
            header_len: 24
        })
    );
    b[0] = 0x4f; // IHL 15: 60-byte header
    b[3] = 60;
    let ip = Ipv4Packet::new_checked(&b[..]).unwrap();
    assert_eq!(ip.options().len(), 40);
    assert!(ip.payload().is_empty());
    b[3] = 61; // one byte of payload
    assert_eq!(Ipv4Packet::new_checked(&b[..]).unwrap().payload(), &[0xee]);
    b[3] = 63; // longer than the buffer
    assert_eq!(
        Ipv4Packet::new_checked(&b[..]),
        Err(Error::Truncated {
            needed: 63,
            got: 62
        })
    );
}

#[test]
fn accessors_never_panic_after_a_setter_breaks_the_invariant() {
    let mut b = SYN;
    let mut ip = Ipv4Packet::new_checked(&mut b[..]).unwrap();
    ip.set_ihl(15); // a 60-byte header inside a 60-byte packet: still consistent
    assert_eq!(ip.header().len(), 60);
    assert_eq!(ip.options().len(), 40);
    assert!(ip.payload().is_empty());
    ip.set_total_len(0xffff); // past the buffer: the payload no longer fits
    assert!(ip.payload().is_empty());
    assert_eq!(ip.header().len(), 60, "the header still fits");
    assert_eq!(
        ip.check_len(),
        Err(Error::Truncated {
            needed: 0xffff,
            got: 62
        })
    );
    ip.set_total_len(10); // shorter than the header
    assert!(ip.payload().is_empty());
    assert_eq!(
        ip.check_len(),
        Err(Error::BadTotalLen {
            total_len: 10,
            header_len: 60
        })
    );
    ip.set_ihl(5);
    ip.set_total_len(60);
    assert!(ip.check_len().is_ok());
    assert_eq!(ip.payload_mut().len(), 40);
    assert_eq!(ip.into_payload().len(), 40);
}

#[test]
fn setters_write_the_rfc_bits() {
    let mut b = [0u8; 20];
    let mut ip = Ipv4Packet::new_unchecked(&mut b[..]);
    ip.set_version(4);
    ip.set_ihl(5);
    ip.set_ecn(Ecn::Ce);
    ip.set_dont_frag(true);
    ip.set_frag_offset(0x0abc);
    ip.set_protocol(Protocol::Unknown(0x99));
    ip.set_src(&[10, 20, 30, 40]);
    ip.dst_mut()[3] = 7;
    assert_eq!(b[0], 0x45);
    assert_eq!(b[1], 0x03);
    assert_eq!(&b[6..8], &[0x4a, 0xbc]);
    assert_eq!(b[9], 0x99);
    assert_eq!(&b[12..16], &[10, 20, 30, 40]);
    assert_eq!(b[19], 7);
    // Values wider than the bitfield lose their high bits only.
    let mut ip = Ipv4Packet::new_unchecked(&mut b[..]);
    ip.set_version(0x1f);
    assert_eq!(ip.version(), 0xf);
    assert_eq!(ip.ihl(), 5);
}

#[test]
fn little_endian_layout() {
    let mut b = [0u8; LittleRecord::SIZE];
    let mut r = LittleRecordView::new_checked(&mut b[..]).unwrap();
    r.set_id(0x0102_0304_0506_0708);
    r.set_len(0xaabb_ccdd);
    r.set_ecn(Ecn::Ect0);
    r.set_small(0x3ff);
    r.set_rest(0xabc);
    r.set_port_be(0x1234);
    r.set_kind(EtherType::Arp);
    r.set_flags(0x5a);
    assert_eq!(&b[0..8], &[8, 7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(&b[8..12], &[0xdd, 0xcc, 0xbb, 0xaa]);
    // group integer = rest << 12 | small << 2 | ecn = 0xabc_ffe, stored little-endian.
    assert_eq!(&b[12..15], &[0xfe, 0xcf, 0xab]);
    assert_eq!(&b[15..17], &[0x12, 0x34]);
    assert_eq!(&b[17..19], &[0x06, 0x08]);
    assert_eq!(b[19], 0x5a);
    let r = LittleRecordView::new_checked(&b[..]).unwrap();
    assert_eq!(r.ecn(), Ecn::Ect0);
    assert_eq!(r.small(), 0x3ff);
    assert_eq!(r.rest(), 0xabc);
    assert_eq!(r.kind(), EtherType::Arp);
}

#[test]
fn nested_views_read_and_write_in_place() {
    let mut b = [0u8; Mixed::SIZE];
    let mut m = MixedView::new_checked(&mut b[..]).unwrap();
    m.eth_mut().set_ethertype(EtherType::Ipv6);
    m.eth_mut().set_src(&[2, 0, 0, 0, 0, 1]);
    let mut tcp = m.tcp_mut();
    tcp.set_dst_port(443);
    tcp.set_syn(true);
    m.set_wide(u64::MAX);
    m.set_b(0x0fff_ffff);
    assert_eq!(m.eth().ethertype(), EtherType::Ipv6);
    assert_eq!(m.eth().src(), &[2, 0, 0, 0, 0, 1]);
    assert_eq!(m.tcp().dst_port(), 443);
    assert!(m.tcp().syn());
    assert_eq!(m.wide(), u64::MAX >> 1);
    assert!(!m.top());
    assert_eq!(m.a(), 0);
    assert_eq!(&b[16 + 3 + 5 + 8 + 2..16 + 3 + 5 + 8 + 4], &[0x01, 0xbb]);

    let value = Mixed::from_bytes(&b);
    assert_eq!(value.eth.ethertype, EtherType::Ipv6);
    assert!(value.tcp.syn);
    let mut again = [0u8; Mixed::SIZE];
    let mut v = MixedView::new_unchecked(&mut again[..]);
    v.set_eth(value.eth);
    v.set_tcp(value.tcp);
    v.set_wide(value.wide);
    v.set_b(value.b);
    assert_eq!(again, b);
    assert_eq!(value.to_bytes(), b);
}

#[test]
fn decode_encode_round_trips() {
    let ip = Ipv4Packet::new_checked(&SYN[..]).unwrap();
    let value = ip.decode();
    assert_eq!(value.ttl, 64);
    assert_eq!(value.protocol, Protocol::Tcp);
    assert_eq!(&value.to_bytes()[..], &SYN[..20]);
    assert_eq!(Ipv4Header::from_bytes(&value.to_bytes()), value);
}

/// Named values below 256 (converted through the generated table) and above it (through the
/// `match`), with gaps, the table's last slot and a value just past it.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
enum Spread {
    Zero = 0,
    Five = 5,
    Top = 255,
    Over = 256,
    Big = 0x8000,
    Unknown(u16),
}

#[test]
fn enum_conversion_is_the_same_below_and_above_the_table() {
    for raw in 0..=u16::MAX {
        let want = match raw {
            0 => Spread::Zero,
            5 => Spread::Five,
            255 => Spread::Top,
            256 => Spread::Over,
            0x8000 => Spread::Big,
            other => Spread::Unknown(other),
        };
        assert_eq!(Spread::from_raw(raw), want, "{raw}");
        assert_eq!(want.to_raw(), raw);
    }
}

#[test]
fn enums_keep_unknown_values() {
    for raw in 0..=255u8 {
        let p = Protocol::from_raw(raw);
        assert_eq!(p.to_raw(), raw);
        assert_eq!(u8::from(p), raw);
        assert_eq!(p.is_known(), matches!(raw, 1 | 6 | 17));
    }
    assert_eq!(Protocol::from(6), Protocol::Tcp);
    assert_eq!(Protocol::Udp.to_string(), "UDP");
    assert_eq!(Protocol::Unknown(42).to_string(), "unknown (0x2a)");
    assert_eq!(EtherType::Unknown(0x88cc).to_string(), "unknown (0x88cc)");
    assert_eq!(EtherType::Ipv4.to_string(), "Ipv4");
    assert_eq!(
        Protocol::KNOWN,
        &[Protocol::Icmp, Protocol::Tcp, Protocol::Udp]
    );
    assert_eq!(<Ecn as CEnum>::BITS, 8);
    assert_eq!(<Ecn as CEnum>::from_bits(0x103), Ecn::Ce);
    // A hand-built catch-all with a named value still reports as known, and converts canonically.
    assert!(Protocol::Unknown(6).is_known());
    assert_eq!(
        Protocol::from_raw(Protocol::Unknown(6).to_raw()),
        Protocol::Tcp
    );
}

#[test]
fn owned_views_copy_out_of_a_byte_source() {
    let owned = Ipv4Header::read_from(&SYN[..]).unwrap();
    assert_eq!(owned.ttl(), 64);
    assert_eq!(
        owned.into_inner(),
        <[u8; 20]>::try_from(&SYN[..20]).unwrap()
    );
    let tcp = TcpHeader::read_from_at(&SYN, 20).unwrap();
    assert_eq!(tcp.dst_port(), 80);
    // The copy holds the fixed part only: options are not there, and nothing panics.
    assert_eq!(tcp.header_len(), 40);
    assert!(tcp.options().is_empty());
    assert_eq!(
        TcpHeader::read_from_at(&SYN[..], 50).unwrap_err(),
        Error::OutOfRange {
            offset: 50,
            len: 20,
            available: 62
        }
    );
    assert!(Ipv4Header::read_from_at(&SYN[..], usize::MAX).is_err());
    let v: Vec<u8> = SYN.to_vec();
    assert_eq!(v.byte_len(), 62);
    assert_eq!(Ipv4Header::read_from(&v).unwrap().total_len(), 60);
    let boxed: Box<[u8]> = v.into_boxed_slice();
    assert_eq!(Ipv4Header::read_from(&boxed).unwrap().ident(), 0x1c46);

    // An owned view is a full view: setters work on the private copy.
    let mut copy = Ipv4Header::read_from(&SYN).unwrap();
    copy.set_ttl(1);
    assert_eq!(copy.ttl(), 1);
    assert_eq!(SYN[8], 64);
}

#[test]
fn narrowing_keeps_the_buffer_type() {
    fn tcp_payload_of(frame: &[u8]) -> Option<&[u8]> {
        // The returned slice outlives both views: into_payload keeps the 'a borrow.
        let ip = Ipv4Packet::new_checked(frame).ok()?;
        let tcp = TcpSegment::new_checked(ip.into_payload()).ok()?;
        Some(tcp.into_payload())
    }
    let mut with_data = SYN.to_vec();
    with_data[3] = 64; // total length 64: four bytes of TCP payload
    with_data[60..62].copy_from_slice(&[0xde, 0xad]);
    with_data.extend_from_slice(&[0xbe, 0xef]);
    assert_eq!(
        tcp_payload_of(&with_data),
        Some(&[0xde, 0xad, 0xbe, 0xef][..])
    );
    assert_eq!(tcp_payload_of(&SYN[..30]), None);

    let mut buf = SYN;
    let ip = Ipv4Packet::new_checked(&mut buf[..]).unwrap();
    let payload: &mut [u8] = ip.into_payload();
    payload[0] = 0xff;
    assert_eq!(buf[20], 0xff);

    let bytes = bytes::Bytes::copy_from_slice(&SYN);
    let ip = Ipv4Packet::new_checked(bytes.clone()).unwrap();
    let header = Ipv4Packet::new_checked(bytes.clone())
        .unwrap()
        .into_header();
    let payload = ip.into_payload();
    assert_eq!(payload.len(), 40);
    assert_eq!(header.len(), 20);
    // Zero-copy: the payload points into the original allocation.
    assert_eq!(payload.as_ptr(), bytes[20..].as_ptr());

    let bm = bytes::BytesMut::from(&SYN[..]);
    let p = Ipv4Packet::new_checked(bm).unwrap().into_payload();
    assert_eq!(&p[..], &SYN[20..60]);
}

#[test]
fn narrowing_to_read_only() {
    let mut buf = SYN;
    let ip = Ipv4Packet::new_checked(&mut buf[..]).unwrap();
    let ro: Ipv4Packet<&[u8]> = ip.as_view();
    assert_eq!(ro.ttl(), 64);
    assert_eq!(ro.as_bytes().len(), 62);
}

#[test]
fn debug_prints_fields_by_name() {
    let ip = Ipv4Packet::new_checked(&SYN[..]).unwrap();
    let s = format!("{ip:?}");
    assert!(
        s.starts_with("Ipv4Packet { version: 4, ihl: 5, dscp: 0, ecn: NotEct, total_len: 60,"),
        "{s}"
    );
    assert!(s.contains("protocol: Tcp"), "{s}");
    assert!(s.contains("src: [192, 0, 2, 1]"), "{s}");
    assert!(
        s.ends_with("header_len: 20, options_len: 0, packet_len: 60, payload_len: 40 }"),
        "{s}"
    );
    let m = MixedView::new_checked(&[0u8; Mixed::SIZE][..]).unwrap();
    let s = format!("{m:?}");
    assert!(
        s.contains("eth: EthHeaderView { dst: [0, 0, 0, 0, 0, 0]"),
        "{s}"
    );
    let e = format!("{:?}", EthHeaderView::new_checked(&[0u8; 14][..]).unwrap());
    assert!(
        !e.contains("payload_len"),
        "a fixed layout has no tail to print: {e}"
    );
    // Debug on a short unchecked view does not panic.
    let short = Ipv4Packet::new_unchecked(&SYN[..3]);
    assert_eq!(format!("{short:?}"), "Ipv4Packet { truncated_len: 3 }");
}

#[test]
fn hexdump_renders_like_hexdump_c() {
    let ip = Ipv4Packet::new_checked(&SYN[..]).unwrap();
    let text = ip.hexdump().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0],
        "00000000  45 00 00 3c 1c 46 40 00  40 06 9b 6d c0 00 02 01  |E..<.F@.@..m....|"
    );
    assert!(lines[3].starts_with("00000030  "));
    assert_eq!(Hexdump::new(&[]).to_string(), "");
}

#[test]
#[should_panic(expected = "new_unchecked over a short buffer")]
fn unchecked_short_view_panics_with_a_message() {
    let short = Ipv4Packet::new_unchecked(&SYN[..3]);
    let _ = short.ttl();
}

#[test]
fn layout_trait_is_new_checked_for_generic_code() {
    fn accepts<L: Layout>(b: &[u8]) -> Result<(), Error> {
        L::view(b).map(|_| ())
    }
    for len in 0..SYN.len() {
        assert_eq!(
            accepts::<Ipv4Header>(&SYN[..len]),
            Ipv4Packet::new_checked(&SYN[..len]).map(|_| ())
        );
        assert_eq!(
            accepts::<TcpHeader>(&SYN[20..len.max(20)]),
            TcpSegment::new_checked(&SYN[20..len.max(20)]).map(|_| ())
        );
    }
}

mod edge {
    //! Layouts at the edges: raw identifiers, names that shadow the derive's generic
    //! parameters and std types, 64-bit length fields, enums taking the field's byte order.
    #![allow(dead_code, non_camel_case_types, clippy::enum_variant_names)]
    use unistack_cstruct::{CEnum, Cstruct};

    #[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq)]
    #[repr(u16)]
    pub enum B {
        r#match = 1,
        Ab = 2,
        AB = 3,
        Unknown(u16),
    }

    #[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
    #[cstruct(header_len = r#type * 2)]
    pub struct S {
        pub r#type: u8,
        pub b: B,
        #[cstruct(little)]
        pub b_le: B,
    }

    #[allow(clippy::upper_case_acronyms)]
    pub type Result = ();

    #[derive(Cstruct, Clone, Copy, Debug)]
    #[cstruct(header_len = hl * 8, total_len = tl * 2)]
    pub struct Huge {
        pub hl: u64,
        pub tl: u64,
    }
}

#[test]
fn edge_layouts() {
    use edge::*;
    assert_eq!(B::from_raw(1), B::r#match);
    assert_eq!(B::r#match.to_string(), "match");
    assert_eq!(B::from_raw(3), B::AB);
    let bytes = [3u8, 0, 2, 3, 0, 0xaa];
    let v = SView::new_checked(&bytes[..]).unwrap();
    assert_eq!(v.r#type(), 3);
    assert_eq!(v.header_len(), 6);
    assert_eq!(v.b(), B::Ab);
    assert_eq!(
        v.b_le(),
        B::AB,
        "an enum field takes the field's byte order"
    );
    const { assert!(S::B_LE.little) };
    assert_eq!(S::TYPE.offset, 0);

    // Lengths that would overflow saturate and fail the check instead of wrapping past it.
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&0x4000_0000_0000_0002u64.to_be_bytes());
    b[8..16].copy_from_slice(&6u64.to_be_bytes());
    let huge = HugeView::new_unchecked(&b[..]);
    assert_eq!(huge.header_len(), usize::MAX);
    assert!(huge.payload().is_empty());
    assert!(matches!(
        HugeView::new_checked(&b[..]),
        Err(Error::BadTotalLen { .. })
    ));
    b[15] = 0;
    b[8..16].copy_from_slice(&u64::MAX.to_be_bytes());
    b[..8].copy_from_slice(&2u64.to_be_bytes());
    assert_eq!(
        HugeView::new_checked(&b[..]),
        Err(Error::Truncated {
            needed: usize::MAX,
            got: 32
        })
    );
}

#[test]
fn a_header_length_below_the_fixed_layout_never_exposes_it_as_payload() {
    let mut b = SYN;
    let mut ip = Ipv4Packet::new_checked(&mut b[..]).unwrap();
    ip.set_ihl(1);
    assert!(ip.header().is_empty());
    assert!(ip.options().is_empty());
    assert!(ip.payload().is_empty());
    assert!(ip.payload_mut().is_empty());
    assert!(ip.header_mut().is_empty());
    assert!(ip.into_payload().is_empty());
    // An owned copy is never checked: the same rule keeps its accessors honest.
    let mut raw = SYN;
    raw[0] = 0x40;
    let owned = Ipv4Header::read_from(&raw).unwrap();
    assert!(owned.payload().is_empty() && owned.header().is_empty());
}
