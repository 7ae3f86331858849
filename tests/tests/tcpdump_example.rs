//! The README's main command: the tcpdump example on the committed capture, through the
//! protocol crates with every checksum verified.

#[allow(dead_code)]
#[path = "../examples/tcpdump.rs"]
mod tcpdump;

const SAMPLE: &[u8] = include_bytes!("../data/sample.pcap");

#[test]
fn prints_the_capture_like_tcpdump() {
    let frames = tcpdump::frames(SAMPLE).unwrap();
    let lines: Vec<String> = frames
        .iter()
        .map(|(_, _, f)| tcpdump::describe(f, false))
        .collect();
    assert_eq!(lines.len(), 14);
    assert_eq!(
        lines[0],
        "ARP, Request who-has 192.0.2.2 tell 192.0.2.1, length 28"
    );
    assert_eq!(
        lines[2],
        "IP 192.0.2.1.40001 > 192.0.2.2.53: UDP, length 29"
    );
    assert!(lines[4].starts_with(
        "IP 192.0.2.1.40000 > 192.0.2.2.80: Flags [S], seq 3689459285, win 64240, options [mss 1460,sackOK,TS val "
    ), "{}", lines[4]);
    assert!(
        lines[9].contains("Flags [P.]") && lines[9].ends_with("length 28"),
        "{}",
        lines[9]
    );
    // Every frame parsed at every layer: no bracketed error anywhere.
    assert!(
        lines
            .iter()
            .all(|l| !l.contains('[') || l.contains("Flags [")),
        "{lines:#?}"
    );
    assert!(tcpdump::describe(frames[1].2, true).starts_with(
        "02:00:00:00:00:0b > 02:00:00:00:00:0a, ethertype ARP (0x0806), length 42: ARP, Reply"
    ));
}

#[test]
fn broken_frames_show_the_refusing_layer() {
    let frames = tcpdump::frames(SAMPLE).unwrap();
    let mut syn = frames[4].2.to_vec();
    syn[14 + 20 + 16] ^= 0xff; // TCP checksum
    assert!(tcpdump::describe(&syn, false).ends_with("TCP [bad checksum]"));
    let mut ip = frames[2].2.to_vec();
    ip[14 + 10] ^= 0xff; // IPv4 header checksum
    assert!(
        tcpdump::describe(&ip, false).starts_with("IP ["),
        "{}",
        tcpdump::describe(&ip, false)
    );
    for f in &frames {
        for len in 0..f.2.len() {
            let _ = tcpdump::describe(&f.2[..len], true);
        }
    }
    assert!(tcpdump::frames(&SAMPLE[..30]).is_err());
    assert!(tcpdump::frames(b"not a pcap").is_err());
}
