//! TCP segments: the captured Linux exchange with its real checksums, malformed segments,
//! round trips, and smoltcp as a reference.

use proptest::prelude::*;
use unistack_ipv4::Ipv4Address;
use unistack_ipv4::checksum::Checksum;
use unistack_tcp::{Control, Error, OptionsRepr, SackBlocks, SeqNumber, TcpRepr, TcpSegment};

const SAMPLE: &[u8] = include_bytes!("../../../tests/data/sample.pcap");
const A: Ipv4Address = Ipv4Address([192, 0, 2, 1]);
const B: Ipv4Address = Ipv4Address([192, 0, 2, 2]);

/// (source, destination, TCP segment) of every TCP frame in the capture.
fn captured() -> Vec<(Ipv4Address, Ipv4Address, &'static [u8])> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= SAMPLE.len() {
        let incl = u32::from_le_bytes(SAMPLE[at + 8..at + 12].try_into().unwrap()) as usize;
        let f = &SAMPLE[at + 16..at + 16 + incl];
        at += 16 + incl;
        if f[12..14] == [0x08, 0x00] && f[23] == 6 {
            let ihl = usize::from(f[14] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([f[16], f[17]]));
            let src = Ipv4Address(f[26..30].try_into().unwrap());
            let dst = Ipv4Address(f[30..34].try_into().unwrap());
            out.push((src, dst, &f[14 + ihl..14 + total]));
        }
    }
    out
}

#[test]
fn the_captured_exchange_parses_with_real_checksums() {
    let segs = captured();
    assert_eq!(segs.len(), 10);
    let reprs: Vec<TcpRepr<'_>> = segs
        .iter()
        .map(|(s, d, b)| TcpRepr::parse_bytes(b, *s, *d, Checksum::Both).unwrap())
        .collect();
    let syn = &reprs[0];
    assert_eq!(syn.control, Control::Syn);
    assert_eq!(syn.ack_number, None);
    assert_eq!(syn.options.max_seg_size, Some(1460));
    assert!(syn.options.sack_permitted);
    assert_eq!(syn.options.window_scale, Some(10));
    assert!(syn.options.timestamp.is_some());
    let synack = &reprs[1];
    assert_eq!(synack.control, Control::Syn);
    assert_eq!(synack.ack_number, Some(syn.seq_number + 1));
    assert_eq!(
        syn.to_string(),
        format!(
            "{} > 80: Flags [S], seq {}, win 64240, options [{}], length 0",
            syn.src_port, syn.seq_number, syn.options
        )
    );
    let request = &reprs[3];
    assert!(request.push);
    assert_eq!(request.payload, b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(reprs[5].payload, b"HTTP/1.0 200 OK\r\n\r\nunistack\n");
    assert!(reprs.iter().any(|r| r.control == Control::Fin));
    // Every captured segment re-emits to the same bytes, checksum included.
    for ((s, d, bytes), r) in segs.iter().zip(&reprs) {
        let mut out = vec![0u8; r.buffer_len()];
        assert_eq!(r.emit(&mut out, *s, *d, Checksum::Both), Ok(bytes.len()));
        assert_eq!(&out[..], *bytes, "{r}");
    }
    // The wrong addresses break the pseudo-header checksum.
    let (s, _, b) = segs[0];
    assert_eq!(
        TcpRepr::parse_bytes(b, s, s, Checksum::Both),
        Err(Error::BadChecksum)
    );
    assert!(TcpRepr::parse_bytes(b, s, s, Checksum::None).is_ok());
}

fn segment(flags: u8) -> Vec<u8> {
    let r = TcpRepr {
        src_port: 1000,
        dst_port: 2000,
        control: Control::None,
        push: false,
        ece: false,
        cwr: false,
        ae: false,
        seq_number: SeqNumber(1),
        ack_number: None,
        window_len: 100,
        urgent: None,
        options: OptionsRepr::default(),
        payload: b"abc",
    };
    let mut b = vec![0u8; r.buffer_len()];
    r.emit(&mut b, A, B, Checksum::None).unwrap();
    b[13] = flags;
    b
}

#[test]
fn malformed_segments_are_typed_errors() {
    let parse = |b: &[u8]| TcpRepr::parse_bytes(b, A, B, Checksum::None).map(|r| r.control);
    assert_eq!(parse(&segment(0x02)), Ok(Control::Syn));
    assert_eq!(parse(&segment(0x03)), Err(Error::Malformed), "SYN+FIN");
    assert_eq!(parse(&segment(0x06)), Err(Error::Malformed), "SYN+RST");
    assert_eq!(parse(&segment(0x05)), Err(Error::Malformed), "FIN+RST");
    let mut zero_port = segment(0x10);
    zero_port[0..2].copy_from_slice(&[0, 0]);
    assert_eq!(parse(&zero_port), Err(Error::Malformed));
    let mut short_offset = segment(0x10);
    short_offset[12] = 0x40;
    assert_eq!(parse(&short_offset), Err(Error::Malformed));
    let mut long_offset = segment(0x10);
    long_offset[12] = 0x60; // 24-byte header in a 23-byte segment
    assert_eq!(parse(&long_offset), Err(Error::Truncated));
    let mut bad_option = segment(0x10);
    bad_option[12] = 0x60;
    bad_option.extend_from_slice(&[0; 1]);
    bad_option[20..24].copy_from_slice(&[2, 3, 0, 0]); // MSS with length 3
    assert_eq!(parse(&bad_option), Err(Error::Malformed));
    let good = segment(0x18);
    for len in 0..20 {
        assert_eq!(parse(&good[..len]), Err(Error::Truncated));
    }
    let mut bad_sum = good.clone();
    bad_sum[16] ^= 1;
    assert_eq!(
        TcpRepr::parse_bytes(&bad_sum, A, B, Checksum::Both).map(|r| r.control),
        Err(Error::BadChecksum)
    );
}

#[test]
fn emit_refuses_short_buffers_and_builds_in_place() {
    let seg = segment(0x18);
    let r = TcpRepr::parse_bytes(&seg, A, B, Checksum::None).unwrap();
    assert_eq!(
        r.emit(&mut [0u8; 22], A, B, Checksum::Both),
        Err(Error::BufferTooSmall)
    );
    // Zero-copy transmit: the payload is already where it belongs.
    let mut buf = [0u8; 23];
    buf[20..].copy_from_slice(b"xyz");
    let n = r.emit_header(&mut buf, 3, A, B, Checksum::Both).unwrap();
    let back = TcpRepr::parse_bytes(&buf[..n], A, B, Checksum::Both).unwrap();
    assert_eq!(back.payload, b"xyz");
    assert_eq!(back.segment_len(), 3);
}

/// A segment header from random parts; the payload is attached in the test.
fn repr_strategy() -> impl Strategy<Value = TcpRepr<'static>> {
    let opts = (
        prop::option::of(any::<u16>()),
        prop::option::of(0u8..15),
        any::<bool>(),
        prop::collection::vec(any::<(u32, u32)>(), 0..=4),
        prop::option::of(any::<(u32, u32)>()),
    )
        .prop_map(|(mss, ws, sp, blocks, ts)| OptionsRepr {
            max_seg_size: mss,
            window_scale: ws,
            sack_permitted: sp,
            sack_blocks: SackBlocks::from_slice(&blocks).unwrap_or_default(),
            timestamp: ts,
        });
    (
        (1u16.., 1u16.., 0usize..4, any::<[bool; 4]>()),
        (
            any::<u32>(),
            prop::option::of(any::<u32>()),
            any::<u16>(),
            prop::option::of(any::<u16>()),
        ),
        opts,
    )
        .prop_map(
            |((sp, dp, c, [push, ece, cwr, ae]), (seq, ack, win, urg), options)| TcpRepr {
                src_port: sp,
                dst_port: dp,
                control: [Control::None, Control::Syn, Control::Fin, Control::Rst][c],
                push,
                ece,
                cwr,
                ae,
                seq_number: SeqNumber(seq),
                ack_number: ack.map(SeqNumber),
                window_len: win,
                urgent: urg,
                options,
                payload: &[],
            },
        )
}

/// RFC 1071 by the book: 16-bit big-endian words, odd byte padded, end-around carry.
fn reference_sum(bytes: &[u8]) -> u16 {
    let mut acc: u32 = 0;
    for w in bytes.chunks(2) {
        acc += u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)]));
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

proptest! {
    /// `emit_header` sums the header from the repr's values (not from the bytes it wrote):
    /// the field must equal a by-the-book checksum of the bytes, for every flag combination,
    /// the data-segment option shapes (none, timestamps alone) and any other options.
    #[test]
    fn emit_header_checksum_is_the_reference(r in repr_strategy(),
                                             shape in 0usize..3,
                                             ts in any::<(u32, u32)>(),
                                             payload in prop::collection::vec(any::<u8>(), 0..1500)) {
        let mut r = r;
        match shape {
            0 => r.options = OptionsRepr::default(),
            1 => r.options = OptionsRepr { timestamp: Some(ts), ..OptionsRepr::default() },
            _ => {}
        }
        let hl = r.header_len();
        let mut buf = vec![0u8; hl + payload.len()];
        buf[hl..].copy_from_slice(&payload);
        let n = r.emit_header(&mut buf, payload.len(), A, B, Checksum::Both).unwrap();
        prop_assert_eq!(n, buf.len());
        let field = u16::from_be_bytes([buf[16], buf[17]]);
        let mut zeroed = buf.clone();
        zeroed[16..18].copy_from_slice(&[0, 0]);
        let mut pseudo = Vec::from(A.octets());
        pseudo.extend_from_slice(&B.octets());
        pseudo.extend_from_slice(&[0, 6]);
        pseudo.extend_from_slice(&(n as u16).to_be_bytes());
        pseudo.extend_from_slice(&zeroed);
        let want = !reference_sum(&pseudo);
        // Ones' complement: 0x0000 and 0xffff are the same number.
        prop_assert!(field == want || (field, want) == (0, 0xffff) || (field, want) == (0xffff, 0),
                     "field {:#06x}, reference {:#06x}", field, want);
        prop_assert!(TcpRepr::parse_bytes(&buf, A, B, Checksum::Both).is_ok());
    }

    #[test]
    fn repr_round_trips(r in repr_strategy(), payload in prop::collection::vec(any::<u8>(), 0..64)) {
        let r = TcpRepr { payload: &payload, ..r };
        let mut buf = vec![0u8; r.buffer_len()];
        let n = r.emit(&mut buf, A, B, Checksum::Both).unwrap();
        prop_assert_eq!(n, r.buffer_len());
        let back = TcpRepr::parse_bytes(&buf[..n], A, B, Checksum::Both).unwrap();
        // Only SACK blocks that did not fit in 40 bytes of options are dropped.
        let mut want = r;
        want.options.sack_blocks.truncate(back.options.sack_blocks.len());
        prop_assert_eq!(back, want);
    }

    #[test]
    fn arbitrary_segments_parse_or_error(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(r) = TcpRepr::parse_bytes(&bytes, A, B, Checksum::None) {
            prop_assert!(r.header_len() <= bytes.len());
            let _ = r.to_string();
        }
        let _ = TcpSegment::new_checked(&bytes[..]).map(|s| format!("{s:?}"));
    }

    /// smoltcp decides the same on random segments (checksums ignored by both) and reads the
    /// same fields.
    #[test]
    fn agrees_with_smoltcp(bytes in prop::collection::vec(any::<u8>(), 20..80), doff in 5u8..16, flags in any::<u8>()) {
        use smoltcp::phy::ChecksumCapabilities;
        use smoltcp::wire::{IpAddress, TcpControl, TcpPacket, TcpRepr as STcpRepr};
        let mut bytes = bytes;
        bytes[12] = doff << 4;
        bytes[13] = flags & 0x1f; // no ECN/URG: smoltcp ignores them
        let ours = TcpRepr::parse_bytes(&bytes, A, B, Checksum::None);
        let src = IpAddress::v4(192, 0, 2, 1);
        let dst = IpAddress::v4(192, 0, 2, 2);
        let theirs = TcpPacket::new_checked(&bytes[..])
            .ok()
            .and_then(|p| STcpRepr::parse(&p, &src, &dst, &ChecksumCapabilities::ignored()).ok());
        match (ours, theirs) {
            (Ok(o), Some(s)) => {
                prop_assert_eq!((o.src_port, o.dst_port), (s.src_port, s.dst_port));
                prop_assert_eq!(o.seq_number.0, s.seq_number.0 as u32);
                prop_assert_eq!(o.ack_number.map(|a| a.0), s.ack_number.map(|a| a.0 as u32));
                prop_assert_eq!(o.window_len, s.window_len);
                prop_assert_eq!(o.payload, s.payload);
                let c = match s.control {
                    TcpControl::None | TcpControl::Psh => Control::None,
                    TcpControl::Syn => Control::Syn,
                    TcpControl::Fin => Control::Fin,
                    TcpControl::Rst => Control::Rst,
                };
                prop_assert_eq!(o.control, c);
                prop_assert_eq!(o.options.max_seg_size, s.max_seg_size);
                prop_assert_eq!(o.options.window_scale, s.window_scale);
                prop_assert_eq!(o.options.sack_permitted, s.sack_permitted);
            }
            (Err(_), None) => {}
            // smoltcp drops a segment whose options it cannot parse exactly as we do; any other
            // disagreement is a bug on one side.
            (o, s) => prop_assert!(false, "ours {:?}, smoltcp {:?}", o, s),
        }
    }
}
