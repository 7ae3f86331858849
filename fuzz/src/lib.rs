//! Fuzz target bodies. Each `pub fn` takes arbitrary bytes and must never panic, loop or
//! allocate without bound; it asserts invariants that a correct implementation keeps.
//!
//! The libFuzzer binaries in `fuzz_targets/` call these (`cargo +nightly fuzz run NAME
//! --features libfuzzer`), and `tests/replay.rs` replays every file of `corpus/NAME/` through
//! them on stable, so the committed corpora are regression tests.
#![forbid(unsafe_code)]

mod dns;
mod ethif;
mod ipv4;
mod layouts;
mod netif;
mod stack;
mod tcp;

pub use dns::{dns_message, dns_name, dns_tcp};
pub use ethif::{arp_cache, ethernet_frame};
pub use ipv4::{
    echo_responder, fragmenter, frame_path, icmpv4_message, ipv4_packet, reassembler, udp_datagram,
};
pub use netif::netif_hostile;
pub use stack::stack_ingress;
pub use tcp::{tcp_connection, tcp_segment};

use layouts::*;
use unistack_cstruct::{ByteSource, Layout};

/// A fuzz target body.
pub type Target = fn(&[u8]);

/// Names of the targets, for the replay test: each has a `corpus/<name>/` folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("cstruct_views", cstruct_views),
    ("ethernet_frame", ethernet_frame),
    ("frame_path", frame_path),
    ("arp_cache", arp_cache),
    ("ipv4_packet", ipv4_packet),
    ("udp_datagram", udp_datagram),
    ("icmpv4_message", icmpv4_message),
    ("echo_responder", echo_responder),
    ("reassembler", reassembler),
    ("fragmenter", fragmenter),
    ("tcp_segment", tcp_segment),
    ("tcp_connection", tcp_connection),
    ("dns_message", dns_message),
    ("dns_name", dns_name),
    ("dns_tcp", dns_tcp),
    ("dns_zone_text", unistack_dns::fuzzing::zone_text),
    ("dns_engine_query", unistack_dns::fuzzing::engine_query),
    (
        "dns_resolver_responses",
        unistack_dns::fuzzing::resolver_responses,
    ),
    ("vchan_hostile_page", unistack_vchan::fuzzing::hostile_page),
    ("xen_ring_hostile", unistack_vchan::fuzzing::hostile_ring),
    ("netif_hostile", netif_hostile),
    ("stack_ingress", stack_ingress),
    ("blk_back_requests", unistack_blk::fuzzing::back_requests),
    (
        "blk_front_responses",
        unistack_blk::fuzzing::front_responses,
    ),
    ("appliance_tar", appliance_tar),
];

/// A tar archive index over arbitrary bytes (the appliance's `--disk` reader): entries it
/// accepts lie inside the image.
pub fn appliance_tar(data: &[u8]) {
    let mut read = |off: u64, buf: &mut [u8]| -> Result<(), String> {
        let o = usize::try_from(off).map_err(|_| "offset")?;
        let src = data.get(o..o + buf.len()).ok_or("out of range")?;
        buf.copy_from_slice(src);
        Ok(())
    };
    if let Ok(index) = unistack_appliance::tar::TarIndex::load(data.len() as u64, &mut read) {
        for (name, e) in index.iter() {
            assert!(!name.is_empty() && !name.starts_with('/'));
            assert!(!name.split('/').any(|p| p == ".." || p.is_empty()));
            assert!(
                e.offset
                    .checked_add(e.size)
                    .is_some_and(|end| end <= data.len() as u64)
            );
        }
    }
}

/// Views of every field kind over arbitrary bytes.
///
/// The first byte picks an offset for the owned copy; the rest is the buffer. Checked views
/// either build or return an error; built views answer every accessor; decoding then
/// encoding reproduces the bytes exactly; a setter changes no byte outside its field.
pub fn cstruct_views(data: &[u8]) {
    let (offset, buf) = match data.split_first() {
        Some((o, rest)) => (usize::from(*o), rest),
        None => (0, data),
    };

    if let Ok(ip) = Ipv4Packet::new_checked(buf) {
        assert!(ip.header_len() >= Ipv4Header::SIZE);
        assert!(ip.header_len() <= ip.packet_len() && ip.packet_len() <= buf.len());
        assert_eq!(ip.header().len() + ip.payload().len(), ip.packet_len());
        assert_eq!(ip.options().len(), ip.header_len() - Ipv4Header::SIZE);
        let _ = format!("{ip:?}{}", ip.protocol());
        let value = ip.decode();
        assert_eq!(&value.to_bytes()[..], &buf[..Ipv4Header::SIZE]);
        if let Ok(tcp) = TcpSegment::new_checked(ip.into_payload()) {
            assert!(tcp.header_len() <= ip.payload().len());
            let _ = format!("{tcp:?}");
            assert_eq!(tcp.payload().len(), ip.payload().len() - tcp.header_len());
        }
    }

    if let Ok(m) = EverythingView::new_checked(buf) {
        let _ = format!("{m:?}");
        let v = m.decode();
        assert_eq!(&v.to_bytes()[..], &buf[..Everything::SIZE]);
        // Writing the same value back through every setter changes nothing.
        let mut copy = buf.to_vec();
        let mut w = EverythingView::new_unchecked(&mut copy[..]);
        w.set_tag(v.tag);
        w.set_eth(v.eth);
        w.set_kind(v.kind);
        w.set_a(v.a);
        w.set_b(v.b);
        w.set_flag(v.flag);
        w.set_wide(v.wide);
        w.set_little(v.little);
        w.set_tail(&v.tail);
        assert_eq!(&copy[..], buf);
        // Flip one field; only its bytes may change.
        let mut copy = buf.to_vec();
        let mut w = EverythingView::new_unchecked(&mut copy[..]);
        w.set_b(!v.b);
        for (i, (x, y)) in buf.iter().zip(&copy).enumerate() {
            assert_eq!(
                (x ^ y) & !Everything::B.bit_mask(i),
                0,
                "set_b leaked into byte {i}"
            );
        }
    }

    if let Ok(r) = LittleRecord::read_from_at(buf, offset) {
        let borrowed = LittleRecordView::new_checked(&buf[offset..]);
        assert!(borrowed.is_ok());
        if let Ok(b) = borrowed {
            assert_eq!(r.decode(), b.decode());
        }
    } else {
        assert!(offset + LittleRecord::SIZE > buf.byte_len());
    }

    // The accept decision equals one computed straight from RFC 791, not from the derive.
    let rfc_accepts = buf.len() >= 20 && {
        let hl = usize::from(buf[0] & 0x0f) * 4;
        let tl = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
        hl >= 20 && hl <= tl && tl <= buf.len()
    };
    assert_eq!(Ipv4Packet::new_checked(buf).is_ok(), rfc_accepts);
    assert_eq!(<Ipv4Header as Layout>::view(buf).is_ok(), rfc_accepts);
}
