//! The `dissect` example on the committed capture (tests/data/sample.pcap, made by
//! scripts/capture-sample.sh from a real exchange between two Linux network namespaces).

#[allow(dead_code)]
#[path = "../examples/dissect.rs"]
mod dissect;

use unistack_cstruct::Hexdump;

const SAMPLE: &[u8] = include_bytes!("../../../tests/data/sample.pcap");

/// Frames of the sample, split by a plain reading of the pcap format (independent of the
/// example's own record layouts).
fn frames() -> Vec<&'static [u8]> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= SAMPLE.len() {
        let incl = u32::from_le_bytes(SAMPLE[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push(&SAMPLE[at + 16..at + 16 + incl]);
        at += 16 + incl;
    }
    out
}

fn line(frame: &[u8]) -> String {
    let mut s = String::new();
    dissect::dissect(frame, None, &mut s).unwrap();
    s
}

#[test]
fn dissects_the_captured_exchange() {
    let f = frames();
    assert_eq!(f.len(), 14);
    assert_eq!(line(f[0]), "ARP, Request who-has 192.0.2.2 tell 192.0.2.1");
    assert_eq!(line(f[1]), "ARP, Reply 192.0.2.2 is-at 02:00:00:00:00:0b");
    assert_eq!(
        line(f[2]),
        "IP 192.0.2.1.40001 > 192.0.2.2.53: UDP, length 29"
    );
    assert_eq!(
        line(f[4]),
        "IP 192.0.2.1.40000 > 192.0.2.2.80: Flags [S], seq 3689459285, ack 0, win 64240, options 20 bytes, length 0"
    );
    assert_eq!(
        line(f[5]),
        "IP 192.0.2.2.80 > 192.0.2.1.40000: Flags [S.], seq 3261043161, ack 3689459286, win 65160, options 20 bytes, length 0"
    );
    assert_eq!(
        line(f[9]),
        "IP 192.0.2.2.80 > 192.0.2.1.40000: Flags [P.], seq 3261043162, ack 3689459304, win 64, options 12 bytes, length 28"
    );
    assert!(line(f[11]).contains("Flags [F.]"));
}

#[test]
fn every_truncation_of_every_frame_is_an_error_not_a_panic() {
    for frame in frames() {
        for len in 0..frame.len() {
            let mut s = String::new();
            let mut d = String::new();
            // A cut frame either still parses (the cut fell in padding or payload) or errors.
            let _ = dissect::dissect(&frame[..len], Some(&mut d), &mut s);
            let _ = Hexdump::new(&frame[..len]).to_string();
        }
    }
}

#[test]
fn verbose_detail_names_every_field() {
    let f = frames();
    let mut s = String::new();
    let mut d = String::new();
    dissect::dissect(f[2], Some(&mut d), &mut s).unwrap();
    assert!(d.contains("Ipv4Packet { version: 4, ihl: 5,"), "{d}");
    assert!(
        d.contains("UdpDatagram { src_port: 40001, dst_port: 53, length: 37,"),
        "{d}"
    );
}
