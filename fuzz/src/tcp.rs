//! Fuzz bodies for unistack-tcp.

use unistack_ipv4::Ipv4Address;
use unistack_ipv4::checksum::Checksum;
use unistack_tcp::{TcpRepr, TcpSegment, parse_options};

/// A TCP segment: view, options, repr; an accepted segment re-emits to the same repr.
pub fn tcp_segment(data: &[u8]) {
    let (src, dst) = (Ipv4Address([192, 0, 2, 1]), Ipv4Address([192, 0, 2, 2]));
    let Ok(seg) = TcpSegment::new_checked(data) else {
        return;
    };
    let _ = format!("{seg:?}");
    for o in parse_options(seg.options()) {
        if o.is_err() {
            break;
        }
    }
    // Parse without verifying (as under `cargo fuzz`), emit with checksums.
    let Ok(repr) = TcpRepr::parse(&seg, src, dst, Checksum::Tx) else {
        return;
    };
    let _ = repr.to_string();
    let mut out = vec![0u8; repr.buffer_len()];
    let n = repr
        .emit(&mut out, src, dst, Checksum::Both)
        .expect("buffer_len bytes");
    let back = TcpRepr::parse_bytes(&out[..n], src, dst, Checksum::Both).expect("re-parses");
    // Only SACK blocks beyond what fits beside the other options may be lost; nothing else.
    assert!(back.options.sack_blocks.len() <= repr.options.sack_blocks.len());
    let mut want = repr;
    want.options
        .sack_blocks
        .truncate(back.options.sack_blocks.len());
    assert_eq!(back, want, "TCP repr does not round-trip");
}
