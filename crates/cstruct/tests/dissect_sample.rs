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
    assert_eq!(f.len(), 22);
    assert_eq!(line(f[2]), "ARP, Request who-has 192.0.2.2 tell 192.0.2.1");
    assert_eq!(line(f[3]), "ARP, Reply 192.0.2.2 is-at 4e:d6:5a:44:24:22");
    assert_eq!(
        line(f[4]),
        "IP 192.0.2.1.58498 > 192.0.2.2.53: UDP, length 29"
    );
    assert_eq!(
        line(f[6]),
        "IP 192.0.2.1.33448 > 192.0.2.2.80: Flags [S], seq 113783334, ack 0, win 64240, options 20 bytes, length 0"
    );
    assert_eq!(
        line(f[7]),
        "IP 192.0.2.2.80 > 192.0.2.1.33448: Flags [S.], seq 1701244846, ack 113783335, win 65160, options 20 bytes, length 0"
    );
    assert_eq!(
        line(f[11]),
        "IP 192.0.2.2.80 > 192.0.2.1.33448: Flags [P.], seq 1701244847, ack 113783353, win 64, options 12 bytes, length 28"
    );
    assert!(line(f[0]).ends_with("ethertype IPv6, length 86"));
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
    dissect::dissect(f[4], Some(&mut d), &mut s).unwrap();
    assert!(d.contains("Ipv4Packet { version: 4, ihl: 5,"), "{d}");
    assert!(
        d.contains("UdpDatagram { src_port: 58498, dst_port: 53, length: 37,"),
        "{d}"
    );
}
