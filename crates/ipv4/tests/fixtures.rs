//! Real packets in, named fields and tcpdump lines out; the echo responder on a real ping.

mod common;

use common::*;
use unistack_ipv4::checksum;
use unistack_ipv4::*;

fn caps() -> ChecksumCaps {
    ChecksumCaps::default()
}

#[test]
fn fixture_checksums_verify_by_the_reference() {
    for (name, f) in [
        ("ping request", &PING_REQUEST[..]),
        ("ping reply", &PING_REPLY[..]),
        ("dns", &DNS_QUERY[..]),
        ("unreachable", &PORT_UNREACHABLE[..]),
        ("time exceeded", &TIME_EXCEEDED[..]),
    ] {
        assert!(reference_ok(&f[..20]), "{name}: IP header");
        let proto = f[9];
        if proto == 1 {
            assert!(reference_ok(&f[20..]), "{name}: ICMP");
        } else {
            let src = f[12..16].try_into().unwrap();
            let dst = f[16..20].try_into().unwrap();
            assert!(reference_udp_ok(src, dst, &f[20..]), "{name}: UDP");
        }
        // And by the crate's fast implementation, against the reference.
        assert_eq!(checksum::data(f), reference_sum(f), "{name}");
    }
    // The hand calculation in common/mod.rs.
    assert_eq!(&PING_REQUEST[10..12], &[0x5d, 0x11]);
}

#[test]
fn linux_ping_request() {
    let ip = Ipv4Packet::new_checked(&PING_REQUEST[..]).unwrap();
    let r = Ipv4Repr::parse(&ip, &caps()).unwrap();
    assert_eq!(r.src_addr, Ipv4Address::new(192, 168, 1, 10));
    assert_eq!(r.dst_addr, "192.168.1.1".parse().unwrap());
    assert_eq!(r.protocol, Protocol::Icmp);
    assert_eq!(r.payload_len, 64);
    assert_eq!(r.ttl, 64);
    assert_eq!(r.ident, 0x5a3c);
    assert!(r.dont_frag && !r.more_frags && r.frag_offset == 0);
    assert!(r.options.is_empty());
    assert_eq!(r.dscp, 0);
    assert_eq!(r.ecn, Ecn::NotEct);

    let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
    let m = Icmpv4Repr::parse(&icmp, &caps()).unwrap();
    let Icmpv4Repr::EchoRequest {
        ident,
        seq_no,
        data,
    } = m
    else {
        panic!("{m:?}")
    };
    assert_eq!((ident, seq_no, data.len()), (0x0b7e, 1, 56));
    assert_eq!(data[16..], (0x10..0x38).collect::<Vec<u8>>()[..]);
    assert_eq!(m.buffer_len(), 64);
    assert_eq!(
        icmp.to_string(),
        "ICMP echo request, id 2942, seq 1, length 64"
    );
    let mut ts = PING_REQUEST[20..].to_vec();
    ts[0] = 13;
    assert_eq!(
        Icmpv4Packet::new_checked(&ts[..]).unwrap().to_string(),
        "ICMP type-13, length 64"
    );
    assert_eq!(Icmpv4Packet::new_unchecked(&ts[..7]).to_string(), "[|icmp]");
    assert_eq!(
        ip.to_string(),
        "IP 192.168.1.10 > 192.168.1.1: ICMP echo request, id 2942, seq 1, length 64"
    );
    assert_eq!(
        r.to_string(),
        "IP (tos 0x0, ttl 64, id 23100, offset 0, flags [DF], proto ICMP (1), length 84) \
         192.168.1.10 > 192.168.1.1"
    );
}

#[test]
fn echo_responder_answers_a_linux_ping_like_linux() {
    let config = EchoConfig {
        addr: Ipv4Address::new(192, 168, 1, 1),
        ttl: 64,
        caps: caps(),
    };
    let mut out = [0u8; 128];
    let n = respond_to_echo(&config, &caps(), &PING_REQUEST, 0x9d1f, &mut out).unwrap();
    // Byte for byte what the Linux host sent back (same ident, no DF, TTL 64).
    assert_eq!(&out[..n], &PING_REPLY[..]);
    let reply = Ipv4Packet::new_checked(&out[..n]).unwrap();
    assert_eq!(
        reply.to_string(),
        "IP 192.168.1.1 > 192.168.1.10: ICMP echo reply, id 2942, seq 1, length 64"
    );

    // Not for us, too small a buffer, not a request: typed errors, nothing written.
    let other = EchoConfig {
        addr: Ipv4Address::new(192, 168, 1, 2),
        ..config
    };
    assert_eq!(
        respond_to_echo(&other, &caps(), &PING_REQUEST, 1, &mut out),
        Err(EchoError::NotForUs)
    );
    let mut small = [0u8; 83];
    assert_eq!(
        respond_to_echo(&config, &caps(), &PING_REQUEST, 1, &mut small),
        Err(EchoError::BufferTooSmall {
            needed: 84,
            got: 83
        })
    );
    assert_eq!(small, [0u8; 83]);
    let to_host_a = EchoConfig {
        addr: Ipv4Address::new(192, 168, 1, 10),
        ..config
    };
    assert_eq!(
        respond_to_echo(&to_host_a, &caps(), &PING_REPLY, 1, &mut out),
        Err(EchoError::NotEchoRequest)
    );
    assert_eq!(
        respond_to_echo(&config, &caps(), &DNS_QUERY, 1, &mut out),
        Err(EchoError::NotEchoRequest)
    );
    let mut bad = PING_REQUEST;
    bad[30] ^= 1; // corrupt the ICMP data
    assert_eq!(
        respond_to_echo(&config, &caps(), &bad, 1, &mut out),
        Err(EchoError::Parse(Error::BadChecksum))
    );
    // A broadcast source is not answered (smurf).
    let ip = Ipv4Packet::new_checked(&PING_REQUEST[..]).unwrap();
    let mut r = Ipv4Repr::parse(&ip, &caps()).unwrap();
    let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
    let m = Icmpv4Repr::parse(&icmp, &caps()).unwrap();
    r.src_addr = Ipv4Address::BROADCAST;
    assert_eq!(
        echo_reply(&config, &r, &m, 1, &mut out),
        Err(EchoError::BadSource)
    );
    r.src_addr = Ipv4Address::new(192, 168, 1, 10);
    r.more_frags = true;
    assert_eq!(
        echo_reply(&config, &r, &m, 1, &mut out),
        Err(EchoError::Fragment)
    );
}

#[test]
fn linux_ping_reply() {
    let ip = Ipv4Packet::new_checked(&PING_REPLY[..]).unwrap();
    let r = Ipv4Repr::parse(&ip, &caps()).unwrap();
    assert!(!r.dont_frag);
    let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
    assert!(matches!(
        Icmpv4Repr::parse(&icmp, &caps()).unwrap(),
        Icmpv4Repr::EchoReply {
            ident: 0x0b7e,
            seq_no: 1,
            ..
        }
    ));
}

#[test]
fn dns_query_over_udp() {
    let ip = Ipv4Packet::new_checked(&DNS_QUERY[..]).unwrap();
    let r = Ipv4Repr::parse(&ip, &caps()).unwrap();
    assert_eq!(r.protocol, Protocol::Udp);
    let udp = UdpPacket::new_checked(ip.payload()).unwrap();
    let u = UdpRepr::parse(&udp, r.src_addr, r.dst_addr, &caps()).unwrap();
    assert_eq!(
        u,
        UdpRepr {
            src_port: 5353,
            dst_port: 53,
            payload_len: 29
        }
    );
    assert_eq!(&udp.payload()[12..20], b"\x07example");
    assert_eq!(
        ip.to_string(),
        "IP 192.0.2.1.5353 > 192.0.2.2.53: UDP, length 29"
    );
    assert_eq!(u.to_string(), "5353 > 53: UDP, length 29");
    assert_eq!(udp.to_string(), "5353 > 53: UDP, length 29");
    // The checksum depends on the addresses (pseudo-header).
    assert_eq!(
        UdpRepr::parse(&udp, r.src_addr, Ipv4Address::new(192, 0, 2, 3), &caps()),
        Err(Error::BadChecksum)
    );

    // Emitting the same repr and payload reproduces the bytes.
    let mut out = [0u8; 57];
    let (head, body) = out.split_at_mut(20);
    r.emit(&mut Ipv4Packet::new_unchecked(head), &caps());
    u.emit(
        &mut UdpPacket::new_unchecked(body),
        r.src_addr,
        r.dst_addr,
        &caps(),
        |p| p.copy_from_slice(udp.payload()),
    );
    assert_eq!(out, DNS_QUERY);
}

#[test]
fn port_unreachable_quotes_the_query() {
    let ip = Ipv4Packet::new_checked(&PORT_UNREACHABLE[..]).unwrap();
    let r = Ipv4Repr::parse(&ip, &caps()).unwrap();
    assert_eq!(r.dscp, 0x30); // TOS 0xc0: precedence 6 (internetwork control)
    let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
    let m = Icmpv4Repr::parse(&icmp, &caps()).unwrap();
    let Icmpv4Repr::DstUnreachable {
        code,
        next_hop_mtu,
        quote,
    } = m
    else {
        panic!("{m:?}")
    };
    assert_eq!(code, DstUnreachable::PortUnreachable);
    assert_eq!(next_hop_mtu, 0);
    assert_eq!(quote.as_bytes(), &DNS_QUERY[..28]);
    // The quote as a view: the original header's fields, though its total length (57)
    // exceeds the 28 quoted bytes.
    let q = quote.ip();
    assert_eq!(q.total_len(), 57);
    assert_eq!(q.src_addr(), Ipv4Address::new(192, 0, 2, 1));
    assert_eq!(q.protocol(), Protocol::Udp);
    assert!(q.verify_checksum());
    assert_eq!(quote.header(), &DNS_QUERY[..20]);
    assert_eq!(quote.transport(), &DNS_QUERY[20..28]);
    let u = UdpPacket::new_unchecked(quote.transport());
    assert_eq!((u.src_port(), u.dst_port()), (5353, 53));
    assert_eq!(quote.dst_port(), Some(53));
    assert_eq!(
        ip.to_string(),
        "IP 192.0.2.2 > 192.0.2.1: ICMP 192.0.2.2 udp port 53 unreachable, length 36"
    );

    // Building the same error from the received query reproduces the message.
    let q2 = Icmpv4Quote::from_datagram(&DNS_QUERY[..]).unwrap();
    assert_eq!(q2, quote);
    let rebuilt = Icmpv4Repr::DstUnreachable {
        code: DstUnreachable::PortUnreachable,
        next_hop_mtu: 0,
        quote: q2,
    };
    let mut out = [0u8; 36];
    rebuilt.emit(&mut Icmpv4Packet::new_unchecked(&mut out[..]), &caps());
    assert_eq!(&out[..], &PORT_UNREACHABLE[20..]);
}

#[test]
fn time_exceeded_from_a_router() {
    let ip = Ipv4Packet::new_checked(&TIME_EXCEEDED[..]).unwrap();
    let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
    let m = Icmpv4Repr::parse(&icmp, &caps()).unwrap();
    assert!(matches!(
        m,
        Icmpv4Repr::TimeExceeded {
            code: TimeExceeded::TtlExpired,
            ..
        }
    ));
    assert_eq!(
        ip.to_string(),
        "IP 198.51.100.1 > 192.0.2.1: ICMP time exceeded in-transit, length 36"
    );
}

#[test]
fn icmp_error_wording_follows_tcpdump() {
    let quote = Icmpv4Quote::new(&DNS_QUERY[..28]).unwrap();
    let line = |code, mtu| {
        Icmpv4Repr::DstUnreachable {
            code,
            next_hop_mtu: mtu,
            quote,
        }
        .to_string()
    };
    assert_eq!(
        line(DstUnreachable::FragRequired, 1400),
        "ICMP 192.0.2.2 unreachable - need to frag (mtu 1400), length 36"
    );
    assert_eq!(
        line(DstUnreachable::HostUnreachable, 0),
        "ICMP host 192.0.2.2 unreachable, length 36"
    );
    assert_eq!(
        line(DstUnreachable::ProtoUnreachable, 0),
        "ICMP 192.0.2.2 protocol 17 unreachable, length 36"
    );
    assert_eq!(
        line(DstUnreachable::CommProhibited, 0),
        "ICMP host 192.0.2.2 unreachable - admin prohibited filter, length 36"
    );
    assert_eq!(
        line(DstUnreachable::Unknown(99), 0),
        "ICMP 192.0.2.2 unreachable - #99, length 36"
    );
    let te = Icmpv4Repr::TimeExceeded {
        code: TimeExceeded::FragExpired,
        quote,
    };
    assert_eq!(
        te.to_string(),
        "ICMP ip reassembly time exceeded, length 36"
    );
}

#[test]
fn other_protocols_and_fragments_print_like_tcpdump() {
    let mut b = DNS_QUERY;
    b[9] = 99; // protocol 99
    let ip = Ipv4Packet::new_checked(&b[..]).unwrap();
    assert_eq!(ip.to_string(), "IP 192.0.2.1 > 192.0.2.2: ip-proto-99 37");
    b[9] = 17;
    b[7] = 4; // fragment offset 32 bytes
    let ip = Ipv4Packet::new_checked(&b[..]).unwrap();
    assert_eq!(ip.to_string(), "IP 192.0.2.1 > 192.0.2.2: ip-proto-17");
    assert_eq!(
        Ipv4Packet::new_unchecked(&DNS_QUERY[..10]).to_string(),
        "IP [|ip]"
    );
}

#[test]
fn incremental_ttl_decrement_on_a_real_header() {
    // What a router does: TTL - 1 and an RFC 1624 update instead of a full recomputation.
    let mut b = DNS_QUERY;
    let old = u16::from_be_bytes([b[8], b[9]]);
    b[8] -= 1;
    let new = u16::from_be_bytes([b[8], b[9]]);
    let c = checksum::update(u16::from_be_bytes([b[10], b[11]]), old, new);
    b[10..12].copy_from_slice(&c.to_be_bytes());
    assert!(reference_ok(&b[..20]));
    let ip = Ipv4Packet::new_checked(&b[..]).unwrap();
    assert_eq!(Ipv4Repr::parse(&ip, &caps()).unwrap().ttl, 63);
}

/// Review finding: martian sources (our own address, loopback, 0/8, 240/4, broadcast) are
/// never answered.
#[test]
fn echo_requests_from_martian_sources_get_no_reply() {
    let me = Ipv4Address::new(192, 0, 2, 1);
    let config = EchoConfig {
        addr: me,
        ttl: 64,
        caps: ChecksumCaps::all(),
    };
    let echo = Icmpv4Repr::EchoRequest {
        ident: 1,
        seq_no: 1,
        data: b"ping",
    };
    for src in [
        me,
        Ipv4Address::new(127, 0, 0, 1),
        Ipv4Address::new(0, 1, 2, 3),
        Ipv4Address::new(240, 0, 0, 1),
        Ipv4Address::BROADCAST,
        Ipv4Address::new(224, 0, 0, 1),
    ] {
        let ip = Ipv4Repr::new(
            src,
            me,
            unistack_ipv4::Protocol::Icmp,
            echo.buffer_len(),
            64,
        );
        let mut out = [0u8; 128];
        assert_eq!(
            unistack_ipv4::echo_reply(&config, &ip, &echo, 0, &mut out),
            Err(EchoError::BadSource),
            "{src}"
        );
    }
    let ok = Ipv4Repr::new(
        Ipv4Address::new(198, 51, 100, 7),
        me,
        unistack_ipv4::Protocol::Icmp,
        echo.buffer_len(),
        64,
    );
    assert!(unistack_ipv4::echo_reply(&config, &ok, &echo, 0, &mut [0u8; 128]).is_ok());
}
