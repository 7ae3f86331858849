//! Fuzz bodies for unistack-ipv4.

use core::time::Duration;

use unistack_ipv4::{
    Checksum, ChecksumCaps, EchoConfig, Fragmenter, Icmpv4Packet, Icmpv4Repr, Ipv4Address,
    Ipv4Packet, Ipv4Repr, Protocol, Reassembler, UdpPacket, UdpRepr, respond_to_echo,
};

/// Compute checksums on emit, never verify on parse: the same under `cargo fuzz` (which skips
/// verification anyway) and in the stable corpus replay, so mutated inputs reach past the
/// checksum there too.
const CAPS: ChecksumCaps = ChecksumCaps {
    ipv4: Checksum::Tx,
    udp: Checksum::Tx,
    icmpv4: Checksum::Tx,
    tcp: Checksum::Tx,
};

/// An IPv4 datagram: parse, print, and re-emit an accepted header to the same repr.
pub fn ipv4_packet(data: &[u8]) {
    let Ok(packet) = Ipv4Packet::new_checked(data) else {
        return;
    };
    let _ = packet.to_string();
    let Ok(repr) = Ipv4Repr::parse(&packet, &CAPS) else {
        return;
    };
    let _ = repr.to_string();
    assert_eq!(repr.buffer_len(), packet.packet_len());
    let mut out = vec![0u8; repr.buffer_len()];
    let (head, body) = out.split_at_mut(repr.header_len());
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut *head), &CAPS);
    body.copy_from_slice(packet.payload());
    let again = Ipv4Packet::new_checked(&out[..]).expect("emitted header is consistent");
    let back = Ipv4Repr::parse(&again, &CAPS).expect("emitted header parses");
    assert_eq!(back, repr, "IPv4 repr does not round-trip");
}

/// A UDP datagram: the first 8 bytes are the source and destination addresses.
pub fn udp_datagram(data: &[u8]) {
    let Some((addrs, rest)) = data.split_first_chunk::<8>() else {
        return;
    };
    let src = Ipv4Address([addrs[0], addrs[1], addrs[2], addrs[3]]);
    let dst = Ipv4Address([addrs[4], addrs[5], addrs[6], addrs[7]]);
    let Ok(packet) = UdpPacket::new_checked(rest) else {
        return;
    };
    let _ = packet.to_string();
    let Ok(repr) = UdpRepr::parse(&packet, src, dst, &CAPS) else {
        return;
    };
    let _ = repr.to_string();
    let mut out = vec![0u8; repr.buffer_len()];
    let mut view = UdpPacket::new_unchecked(&mut out[..]);
    repr.emit(&mut view, src, dst, &CAPS, |p| {
        p.copy_from_slice(packet.payload())
    });
    let again = UdpPacket::new_checked(&out[..]).expect("emitted datagram is consistent");
    assert_eq!(UdpRepr::parse(&again, src, dst, &CAPS), Ok(repr));
    assert_eq!(again.payload(), packet.payload());
}

/// An ICMPv4 message: parse, print, walk a quoted datagram, re-emit to the same repr.
pub fn icmpv4_message(data: &[u8]) {
    let Ok(packet) = Icmpv4Packet::new_checked(data) else {
        return;
    };
    let _ = packet.to_string();
    let Ok(repr) = Icmpv4Repr::parse(&packet, &CAPS) else {
        return;
    };
    let _ = repr.to_string();
    if let Icmpv4Repr::DstUnreachable { quote, .. } | Icmpv4Repr::TimeExceeded { quote, .. } = repr
    {
        let _ = (quote.ip().to_string(), quote.transport(), quote.dst_port());
        assert!(quote.header().len() + quote.transport().len() <= quote.as_bytes().len());
    }
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut out[..]), &CAPS);
    let again = Icmpv4Packet::new_checked(&out[..]).expect("emitted message is consistent");
    assert_eq!(
        Icmpv4Repr::parse(&again, &CAPS),
        Ok(repr),
        "ICMPv4 does not round-trip"
    );
}

/// The echo responder: a reply, when there is one, answers exactly the request and is never
/// larger than it (no amplification).
pub fn echo_responder(data: &[u8]) {
    let me = Ipv4Address([192, 0, 2, 1]);
    let config = EchoConfig {
        addr: me,
        ttl: 64,
        caps: CAPS,
    };
    let mut out = [0u8; 2048];
    let Ok(n) = respond_to_echo(&config, &CAPS, data, 7, &mut out) else {
        return;
    };
    let req_packet = Ipv4Packet::new_checked(data).expect("a request was parsed");
    let req = Ipv4Repr::parse(&req_packet, &CAPS).expect("a request was parsed");
    let reply_packet = Ipv4Packet::new_checked(&out[..n]).expect("the reply is consistent");
    let reply = Ipv4Repr::parse(&reply_packet, &CAPS).expect("the reply parses");
    assert_eq!((reply.src_addr, reply.dst_addr), (me, req.src_addr));
    assert!(
        n <= req_packet.packet_len(),
        "reply larger than the request"
    );
    let q = Icmpv4Packet::new_checked(req_packet.payload()).expect("request ICMP");
    let a = Icmpv4Packet::new_checked(reply_packet.payload()).expect("reply ICMP");
    match (Icmpv4Repr::parse(&q, &CAPS), Icmpv4Repr::parse(&a, &CAPS)) {
        (
            Ok(Icmpv4Repr::EchoRequest {
                ident,
                seq_no,
                data,
            }),
            Ok(Icmpv4Repr::EchoReply {
                ident: i,
                seq_no: s,
                data: d,
            }),
        ) => assert_eq!((ident, seq_no, data), (i, s, d)),
        other => panic!("the reply does not answer the request: {other:?}"),
    }
}

/// The reassembler fed fragment records decoded from the input: bounds hold, every datagram it
/// returns is whole and no larger than its capacity.
pub fn reassembler(data: &[u8]) {
    const TIMEOUT: Duration = Duration::from_secs(30);
    let mut r: Reassembler<4, 2048, 16> = Reassembler::new(TIMEOUT);
    let mut now = Duration::ZERO;
    let src = Ipv4Address([192, 0, 2, 9]);
    let dst = Ipv4Address([192, 0, 2, 1]);
    let mut payload = [0u8; 1500];
    for rec in data.chunks(6) {
        let b = |i: usize| rec.get(i).copied().unwrap_or(0);
        now += Duration::from_millis(u64::from(b(5)) * 100);
        let len = usize::from(b(3)) * 8 + usize::from(b(4) & 7);
        let len = len.min(payload.len());
        payload.iter_mut().for_each(|x| *x = b(4));
        let mut repr = Ipv4Repr::new(src, dst, Protocol::Udp, len, 64);
        repr.ident = u16::from(b(0) % 4);
        repr.frag_offset = (u16::from(b(1)) << 3) | (u16::from(b(2) & 0x3f) << 11);
        repr.more_frags = b(2) & 0x80 != 0;
        if let Ok(Some(done)) = r.accept(now, &repr, &payload[..len]) {
            assert!(done.payload.len() <= 2048);
            assert_eq!(done.repr.payload_len, done.payload.len());
            assert!(!done.repr.is_fragment());
        }
        assert!(r.in_progress() <= 4);
        if let Some(t) = r.poll_timeout() {
            assert!(t <= now + TIMEOUT);
        }
    }
}

/// Fragment a datagram built from the input at an MTU it chooses, reassemble the fragments
/// (in reverse order), and get the original back.
pub fn fragmenter(data: &[u8]) {
    let Some((&m, rest)) = data.split_first() else {
        return;
    };
    let mtu = 68 + usize::from(m) * 6;
    let payload = rest.get(..rest.len().min(4000)).unwrap_or_default();
    let mut repr = Ipv4Repr::new(
        Ipv4Address([192, 0, 2, 9]),
        Ipv4Address([192, 0, 2, 1]),
        Protocol::Udp,
        payload.len(),
        64,
    );
    repr.ident = 0x1234;
    let Ok(mut f) = Fragmenter::new(&repr, payload, mtu) else {
        return;
    };
    let mut frags: Vec<Vec<u8>> = Vec::new();
    let mut buf = vec![0u8; mtu];
    while let Ok(Some(n)) = f.emit_next(&mut buf, &CAPS) {
        assert!(n <= mtu, "fragment larger than the MTU");
        frags.push(buf[..n].to_vec());
        assert!(frags.len() <= 65536 / 8, "unbounded fragment count");
    }
    assert!(f.is_done());
    let mut r: Reassembler<1, 4096, 512> = Reassembler::new(Duration::from_secs(30));
    let mut whole = None;
    for frag in frags.iter().rev() {
        let p = Ipv4Packet::new_checked(&frag[..]).expect("fragment is consistent");
        let fr = Ipv4Repr::parse(&p, &CAPS).expect("fragment parses");
        if !fr.is_fragment() {
            assert_eq!(
                p.payload(),
                payload,
                "a single datagram must be the original"
            );
            return;
        }
        if let Ok(Some(done)) = r.accept(Duration::ZERO, &fr, p.payload()) {
            whole = Some(done.payload.to_vec());
        }
    }
    if frags.len() <= 512 {
        assert_eq!(
            whole.as_deref(),
            Some(payload),
            "fragments do not reassemble"
        );
    }
}

/// The whole receive path of a frame, as a stack runs it: Ethernet (and VLAN tags), then ARP
/// or IPv4, then ICMP (with the echo responder), UDP or TCP; every layer's error is typed.
pub fn frame_path(data: &[u8]) {
    use unistack_ethif::{ArpRepr, EtherType, parse_frame};
    let Ok((eth, payload)) = parse_frame(data) else {
        return;
    };
    match eth.ethertype {
        EtherType::Arp => {
            let _ = ArpRepr::parse_bytes(payload).map(|a| a.to_string());
        }
        EtherType::Ipv4 => {
            let Ok(packet) = Ipv4Packet::new_checked(payload) else {
                return;
            };
            let Ok(ip) = Ipv4Repr::parse(&packet, &CAPS) else {
                return;
            };
            let body = packet.payload();
            assert_eq!(body.len(), ip.payload_len);
            match ip.protocol {
                Protocol::Icmp => {
                    if let Ok(p) = Icmpv4Packet::new_checked(body) {
                        let _ = Icmpv4Repr::parse(&p, &CAPS).map(|r| r.to_string());
                    }
                    let config = EchoConfig {
                        addr: ip.dst_addr,
                        ttl: 64,
                        caps: CAPS,
                    };
                    let mut out = [0u8; 1600];
                    if let Ok(n) = respond_to_echo(&config, &CAPS, payload, 1, &mut out) {
                        assert!(n <= packet.packet_len());
                    }
                }
                Protocol::Udp => {
                    if let Ok(p) = UdpPacket::new_checked(body) {
                        let _ = UdpRepr::parse(&p, ip.src_addr, ip.dst_addr, &CAPS);
                    }
                }
                Protocol::Tcp => {
                    let _ = unistack_tcp::TcpRepr::parse_bytes(
                        body,
                        ip.src_addr,
                        ip.dst_addr,
                        Checksum::Tx,
                    )
                    .map(|t| t.to_string());
                }
                _ => {}
            }
        }
        _ => {}
    }
}
