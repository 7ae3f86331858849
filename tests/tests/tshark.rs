//! Interop: frames built by unistack's emitters, written to a pcap, dissected by Wireshark's
//! tshark. tshark must read every field we meant and find every checksum good.
//!
//! Needs `tshark` (Debian package `tshark`; `scripts/test` installs it). Without it the test
//! says so and passes without checking anything.

use std::path::PathBuf;
use std::process::Command;

use unistack_ethif::{ArpRepr, EtherType, EthernetRepr, MacAddress, VlanTag};
use unistack_ipv4::checksum::Checksum;
use unistack_ipv4::{
    ChecksumCaps, EchoConfig, Fragmenter, Icmpv4Packet, Icmpv4Repr, Ipv4Address, Ipv4Packet,
    Ipv4Repr, Protocol, UdpPacket, UdpRepr, respond_to_echo,
};
use unistack_tcp::{Control, OptionsRepr, SackBlocks, SeqNumber, TcpRepr};

const A_MAC: MacAddress = MacAddress([2, 0, 0, 0, 0, 0x0a]);
const B_MAC: MacAddress = MacAddress([2, 0, 0, 0, 0, 0x0b]);
const A: Ipv4Address = Ipv4Address([192, 0, 2, 1]);
const B: Ipv4Address = Ipv4Address([192, 0, 2, 2]);
const CAPS: ChecksumCaps = ChecksumCaps::all();

/// An Ethernet frame around an IPv4 datagram whose payload `fill` writes.
fn ipv4_frame(eth: &EthernetRepr, ip: &Ipv4Repr<'_>, fill: impl FnOnce(&mut [u8])) -> Vec<u8> {
    let mut f = vec![0u8; eth.header_len() + ip.buffer_len()];
    let rest = eth.emit(&mut f).unwrap();
    let (head, body) = rest.split_at_mut(ip.header_len());
    ip.emit(&mut Ipv4Packet::new_unchecked(head), &CAPS);
    fill(body);
    f
}

fn tcp(control: Control, ack: Option<u32>, options: OptionsRepr, payload: &[u8]) -> TcpRepr<'_> {
    TcpRepr {
        src_port: 40000,
        dst_port: 80,
        control,
        push: !payload.is_empty(),
        ece: false,
        cwr: false,
        ae: false,
        seq_number: SeqNumber(1000),
        ack_number: ack.map(SeqNumber),
        window_len: 64240,
        urgent: None,
        options,
        payload,
    }
}

fn frames() -> Vec<Vec<u8>> {
    let eth = EthernetRepr::new(A_MAC, B_MAC, EtherType::Ipv4);
    let mut out = Vec::new();

    // 1: ARP request.
    let arp_eth = EthernetRepr::new(A_MAC, MacAddress::BROADCAST, EtherType::Arp);
    let mut f = vec![0u8; 42];
    let rest = arp_eth.emit(&mut f).unwrap();
    ArpRepr::request(A_MAC, A.0, B.0).emit_bytes(rest).unwrap();
    out.push(f);

    // 2, 3: ICMP echo request, and the reply our responder builds.
    let echo = Icmpv4Repr::EchoRequest {
        ident: 0x1234,
        seq_no: 7,
        data: b"unistack ping",
    };
    let ip = Ipv4Repr::new(A, B, Protocol::Icmp, echo.buffer_len(), 64);
    let req = ipv4_frame(&eth, &ip, |b| {
        echo.emit(&mut Icmpv4Packet::new_unchecked(b), &CAPS)
    });
    let mut reply = vec![0u8; 1500];
    let config = EchoConfig {
        addr: B,
        ttl: 64,
        caps: CAPS,
    };
    let n = respond_to_echo(&config, &CAPS, &req[14..], 99, &mut reply[14..]).unwrap();
    let back = EthernetRepr::new(B_MAC, A_MAC, EtherType::Ipv4);
    back.emit(&mut reply).unwrap();
    reply.truncate(14 + n);
    out.push(req);
    out.push(reply);

    // 4: UDP, inside an 802.1ad + 802.1Q double tag.
    let mut tagged = eth.clone();
    tagged
        .vlans
        .push(VlanTag {
            tpid: EtherType::QinQ,
            pcp: 3,
            dei: false,
            vid: 200,
        })
        .unwrap();
    tagged
        .vlans
        .push(VlanTag {
            tpid: EtherType::Vlan,
            pcp: 0,
            dei: true,
            vid: 100,
        })
        .unwrap();
    let data =
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
    let udp = UdpRepr {
        src_port: 40001,
        dst_port: 53,
        payload_len: data.len(),
    };
    let ip = Ipv4Repr::new(A, B, Protocol::Udp, udp.buffer_len(), 64);
    out.push(ipv4_frame(&tagged, &ip, |b| {
        udp.emit(&mut UdpPacket::new_unchecked(b), A, B, &CAPS, |p| {
            p.copy_from_slice(data)
        });
    }));

    // 5: TCP SYN with Linux's options.
    let syn_opts = OptionsRepr {
        max_seg_size: Some(1460),
        window_scale: Some(7),
        sack_permitted: true,
        sack_blocks: SackBlocks::EMPTY,
        timestamp: Some((111, 0)),
    };
    let seg = tcp(Control::Syn, None, syn_opts, b"");
    let ip = Ipv4Repr::new(A, B, Protocol::Tcp, seg.buffer_len(), 64);
    out.push(ipv4_frame(&eth, &ip, |b| {
        seg.emit(b, A, B, Checksum::Both).unwrap();
    }));

    // 6: TCP data with timestamps and two SACK blocks.
    let data_opts = OptionsRepr {
        timestamp: Some((222, 111)),
        sack_blocks: SackBlocks::from_slice(&[(5000, 6000), (7000, 8000)]).unwrap(),
        ..OptionsRepr::default()
    };
    let seg = tcp(
        Control::None,
        Some(4242),
        data_opts,
        b"GET / HTTP/1.0\r\n\r\n",
    );
    let ip = Ipv4Repr::new(A, B, Protocol::Tcp, seg.buffer_len(), 64);
    out.push(ipv4_frame(&eth, &ip, |b| {
        seg.emit(b, A, B, Checksum::Both).unwrap();
    }));

    // 7..: a 3000-byte UDP datagram in fragments for a 1500-byte MTU.
    let big: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    let udp = UdpRepr {
        src_port: 40002,
        dst_port: 9,
        payload_len: big.len(),
    };
    let mut whole = vec![0u8; udp.buffer_len()];
    udp.emit(
        &mut UdpPacket::new_unchecked(&mut whole[..]),
        A,
        B,
        &CAPS,
        |p| p.copy_from_slice(&big),
    );
    let mut ip = Ipv4Repr::new(A, B, Protocol::Udp, whole.len(), 64);
    ip.ident = 0x4242;
    let mut frag = Fragmenter::new(&ip, &whole, 1500).unwrap();
    let mut buf = vec![0u8; 1500];
    while let Some(n) = frag.emit_next(&mut buf, &CAPS).unwrap() {
        let mut f = vec![0u8; 14 + n];
        eth.emit(&mut f).unwrap().copy_from_slice(&buf[..n]);
        out.push(f);
    }
    out
}

fn write_pcap(frames: &[Vec<u8>]) -> PathBuf {
    let mut p = Vec::new();
    p.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    p.extend_from_slice(&2u16.to_le_bytes());
    p.extend_from_slice(&4u16.to_le_bytes());
    p.extend_from_slice(&[0; 8]);
    p.extend_from_slice(&65535u32.to_le_bytes());
    p.extend_from_slice(&1u32.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        p.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        p.extend_from_slice(&0u32.to_le_bytes());
        p.extend_from_slice(&(f.len() as u32).to_le_bytes());
        p.extend_from_slice(&(f.len() as u32).to_le_bytes());
        p.extend_from_slice(f);
    }
    let path = std::env::temp_dir().join(format!("unistack-tshark-{}.pcap", std::process::id()));
    std::fs::write(&path, p).unwrap();
    path
}

const FIELDS: &[&str] = &[
    "frame.number",
    "ieee8021ad.id",
    "vlan.id",
    "arp.opcode",
    "arp.dst.proto_ipv4",
    "ip.src",
    "ip.checksum.status",
    "icmp.type",
    "icmp.seq",
    "icmp.checksum.status",
    "udp.dstport",
    "udp.checksum.status",
    "tcp.flags.syn",
    "tcp.options.mss_val",
    "tcp.options.wscale.shift",
    "tcp.options.sack_perm",
    "tcp.options.timestamp.tsval",
    "tcp.options.sack_le",
    "tcp.checksum.status",
    "tcp.len",
    "ip.fragment.count",
    "_ws.malformed",
    "_ws.expert.severity",
];

#[test]
fn tshark_dissects_what_we_emit() {
    if Command::new("tshark").arg("--version").output().is_err() {
        eprintln!("SKIPPED: tshark is not installed (apt-get install tshark)");
        return;
    }
    let path = write_pcap(&frames());
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-r"]).arg(&path);
    for pref in [
        "ip.check_checksum:TRUE",
        "tcp.check_checksum:TRUE",
        "udp.check_checksum:TRUE",
        "ip.defragment:TRUE",
        "tcp.relative_sequence_numbers:FALSE",
    ] {
        cmd.args(["-o", pref]);
    }
    cmd.args([
        "-T",
        "fields",
        "-E",
        "separator=|",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]);
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark runs");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
    let field = |row: usize, name: &str| {
        let i = FIELDS.iter().position(|f| *f == name).unwrap();
        rows[row][i]
    };
    assert_eq!(rows.len(), 9, "{text}");
    // Nothing malformed, no warnings or errors from any dissector (severities below 6291456).
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(field(i, "_ws.malformed"), "", "frame {}: {r:?}", i + 1);
        for sev in field(i, "_ws.expert.severity")
            .split(',')
            .filter(|s| !s.is_empty())
        {
            let sev: u32 = sev.parse().unwrap();
            assert!(
                sev < 6_291_456,
                "frame {}: expert severity {sev}: {r:?}",
                i + 1
            );
        }
    }
    // Checksum status: 0 bad, 1 good, 2 unverified.
    let good = |row: usize, name: &str| {
        let v = field(row, name);
        assert!(
            v == "1" || v.split(',').all(|x| x == "1"),
            "frame {}: {name} = {v:?}",
            row + 1
        );
    };
    assert_eq!(field(0, "arp.opcode"), "1");
    assert_eq!(field(0, "arp.dst.proto_ipv4"), "192.0.2.2");
    for row in [1, 2] {
        good(row, "ip.checksum.status");
        good(row, "icmp.checksum.status");
    }
    assert_eq!(field(1, "icmp.type"), "8");
    assert_eq!(field(2, "icmp.type"), "0");
    assert_eq!(field(2, "icmp.seq"), "7");
    assert_eq!(field(2, "ip.src"), "192.0.2.2");
    assert_eq!(field(3, "ieee8021ad.id"), "200");
    assert_eq!(field(3, "vlan.id"), "100");
    assert_eq!(field(3, "udp.dstport"), "53");
    good(3, "udp.checksum.status");
    assert_eq!(field(4, "tcp.flags.syn"), "1");
    assert_eq!(field(4, "tcp.options.mss_val"), "1460");
    assert_eq!(field(4, "tcp.options.wscale.shift"), "7");
    assert_eq!(field(4, "tcp.options.timestamp.tsval"), "111");
    assert!(!field(4, "tcp.options.sack_perm").is_empty());
    good(4, "tcp.checksum.status");
    assert_eq!(field(5, "tcp.options.sack_le"), "5000,7000");
    assert_eq!(field(5, "tcp.len"), "18");
    good(5, "tcp.checksum.status");
    // The three fragments reassemble in tshark into one datagram whose UDP checksum is good.
    assert_eq!(field(8, "ip.fragment.count"), "3");
    good(8, "udp.checksum.status");
    good(8, "ip.checksum.status");
}
