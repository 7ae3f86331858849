//! The assembled interface fed hostile frames: Ethernet → ARP / IPv4 (fragments) → ICMP, UDP,
//! TCP (a listener, accepted connections, a connection of our own), with the device's word
//! for the checksums ([`RxInfo`]) chosen by the input.
//!
//! Oracle: nothing panics, and every frame the interface sends parses back as well-formed
//! Ethernet / ARP / IPv4 with every checksum correct (checked directly: parsing skips checksums
//! under `cfg(fuzzing)`), whatever it was fed.

use std::collections::VecDeque;
use std::time::Duration;

use unistack_ethif::{ArpRepr, EtherType, MacAddress, parse_frame};
use unistack_ipv4::{
    ChecksumCaps, Icmpv4Packet, Icmpv4Repr, Ipv4Address, Ipv4Cidr, Ipv4Packet, Ipv4Repr, Protocol,
    UdpPacket, UdpRepr, checksum,
};
use unistack_stack::{
    Device, DeviceCaps, Interface, InterfaceConfig, RxInfo, TcpHandle, UdpSocket,
};
use unistack_tcp::{Config, Socket, TcpRepr};

const MAC: MacAddress = MacAddress([2, 0, 0, 0, 0, 2]);
const IP: Ipv4Address = Ipv4Address::new(192, 0, 2, 2);
const PEER: Ipv4Address = Ipv4Address::new(192, 0, 2, 1);
const CAPS: ChecksumCaps = ChecksumCaps::all();

/// Frames from the input, each with its [`RxInfo`]; what the interface sends is checked.
struct Script {
    frames: VecDeque<(Vec<u8>, RxInfo)>,
    sent: usize,
}

/// Check one frame the interface sent.
fn check_sent(frame: &[u8]) {
    let (eth, payload) = parse_frame(frame).expect("we sent a malformed Ethernet frame");
    assert_eq!(eth.src, MAC, "we sent a frame from another MAC");
    match eth.ethertype {
        EtherType::Arp => {
            ArpRepr::parse_bytes(payload).expect("we sent a malformed ARP packet");
        }
        EtherType::Ipv4 => {
            let packet = Ipv4Packet::new_checked(payload).expect("we sent a malformed IPv4 header");
            let ip = Ipv4Repr::parse(&packet, &CAPS).expect("we sent a bad IPv4 header");
            // Parsing skips checksum checks under `cfg(fuzzing)`: check them here, directly.
            assert!(
                packet.verify_checksum(),
                "we sent a bad IPv4 header checksum"
            );
            assert_eq!(ip.src_addr, IP, "we sent from another address");
            if ip.is_fragment() {
                return;
            }
            let body = packet.payload();
            match ip.protocol {
                Protocol::Tcp | Protocol::Udp => {
                    let sum = l4_sum(ip.src_addr, ip.dst_addr, ip.protocol, body);
                    assert_eq!(sum, 0xffff, "we sent a bad L4 checksum");
                }
                Protocol::Icmp => assert!(checksum::verify(body), "we sent a bad ICMP checksum"),
                _ => {}
            }
            match ip.protocol {
                Protocol::Tcp => {
                    TcpRepr::parse_bytes(body, ip.src_addr, ip.dst_addr, CAPS.tcp)
                        .expect("we sent a bad TCP segment");
                }
                Protocol::Udp => {
                    let p = UdpPacket::new_checked(body).expect("we sent a short UDP datagram");
                    UdpRepr::parse(&p, ip.src_addr, ip.dst_addr, &CAPS)
                        .expect("we sent a bad UDP datagram");
                }
                Protocol::Icmp => {
                    let p = Icmpv4Packet::new_checked(body).expect("we sent a short ICMP message");
                    Icmpv4Repr::parse(&p, &CAPS).expect("we sent a bad ICMP message");
                }
                other => panic!("we sent IP protocol {other:?}"),
            }
        }
        other => panic!("we sent EtherType {other:?}"),
    }
}

impl Device for Script {
    fn caps(&self) -> DeviceCaps {
        DeviceCaps {
            max_burst: 4,
            ..DeviceCaps::default()
        }
    }
    fn receive<R>(&mut self, now: Duration, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        self.receive_info(now, |frame, _| f(frame))
    }
    fn receive_info<R>(
        &mut self,
        _now: Duration,
        f: impl FnOnce(&mut [u8], RxInfo) -> R,
    ) -> Option<R> {
        let (mut frame, info) = self.frames.pop_front()?;
        Some(f(&mut frame, info))
    }
    fn transmit<R>(
        &mut self,
        _now: Duration,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        assert!(len <= 1514, "a {len}-byte frame on a 1500-byte MTU");
        let mut buf = vec![0u8; len];
        let r = f(&mut buf);
        check_sent(&buf);
        self.sent += 1;
        Some(r)
    }
}

/// Make the input's frame reach deeper: address it to us and, on request, repair the
/// checksums the fuzzer cannot compute.
fn aim(frame: &mut [u8], flags: u8) {
    if flags & 4 != 0 && frame.len() >= 14 {
        frame[..6].copy_from_slice(&MAC.0);
        frame[12..14].copy_from_slice(&[0x08, 0x00]);
    }
    let Some(ip) = frame.get_mut(14..) else {
        return;
    };
    if flags & 8 != 0 && ip.len() >= 20 {
        ip[16..20].copy_from_slice(&IP.octets());
    }
    if flags & 16 == 0 || ip.len() < 20 {
        return;
    }
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    if ihl < 20 || ip.len() < ihl {
        return;
    }
    ip[10..12].fill(0);
    let sum = !checksum::data(&ip[..ihl]);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]])).min(ip.len());
    let (proto, field) = match ip[9] {
        6 => (Protocol::Tcp, 16),
        17 => (Protocol::Udp, 6),
        _ => return,
    };
    if total < ihl + field + 2 {
        return;
    }
    let src = Ipv4Address::new(ip[12], ip[13], ip[14], ip[15]);
    let dst = Ipv4Address::new(ip[16], ip[17], ip[18], ip[19]);
    let l4 = &mut ip[ihl..total];
    l4[field..field + 2].fill(0);
    let sum = !l4_sum(src, dst, proto, l4);
    l4[field..field + 2].copy_from_slice(&sum.to_be_bytes());
}

/// The ones' complement sum of a TCP or UDP segment with its pseudo-header (0xffff when
/// the checksum in it is right).
fn l4_sum(src: Ipv4Address, dst: Ipv4Address, proto: Protocol, segment: &[u8]) -> u16 {
    checksum::fold_words(
        u64::from(checksum::pseudo_header(
            src,
            dst,
            proto,
            segment.len() as u16,
        )) + u64::from(checksum::data(segment)),
    )
}

/// Input: records `[flags, len, frame bytes...]`. Flags: bit 0 the device vouches for the
/// L4 checksum, bit 1 advance the clock 50 ms before the frame, bit 2 address the frame to
/// our MAC as IPv4, bit 3 to our IP, bit 4 repair its checksums, bit 5 the application
/// sends on every connection, bit 6 it closes them, bit 7 it aborts one.
pub fn stack_ingress(data: &[u8]) {
    let sock = |n| Socket::new(vec![0u8; n], vec![0u8; n], Config::default());
    let mut iface = Interface::new(
        InterfaceConfig {
            mac: MAC,
            addr: Ipv4Cidr::new(IP, 24).expect("cidr"),
            gateway: None,
            ttl: 64,
            icmp_error_rate: 10,
            secret: [9; 16],
        },
        CAPS,
    );
    let mut dev = Script {
        frames: VecDeque::new(),
        sent: 0,
    };
    let mut now = Duration::from_secs(1);
    let Ok(listener) = iface.tcp_listen(80, 4, vec![sock(4096), sock(4096)], Config::default())
    else {
        return;
    };
    let Ok(udp) = iface.udp_bind(53, UdpSocket::new(8)) else {
        return;
    };
    let mut conns: Vec<TcpHandle> = Vec::new();
    if let Ok(h) = iface.tcp_connect(now, sock(4096), 40_000, (PEER, 9)) {
        conns.push(h);
    }
    // Our connection asks for the peer's MAC first, so a reply in the input is one we asked
    // for (the cache ignores unsolicited ones).
    iface.poll(now, &mut dev);
    let mut rest = data;
    let mut records = 0;
    while let [flags, len, tail @ ..] = rest {
        records += 1;
        if records > 64 {
            break;
        }
        let n = (usize::from(*len) * 6).min(tail.len());
        let (bytes, next) = tail.split_at(n);
        rest = next;
        if flags & 2 != 0 {
            now += Duration::from_millis(50);
        }
        let mut frame = bytes.to_vec();
        aim(&mut frame, *flags);
        let info = RxInfo {
            l4_checksum_valid: flags & 1 != 0,
        };
        dev.frames.push_back((frame, info));
        iface.poll(now, &mut dev);
        // The application: accept, read everything, answer, close or abort on request.
        while let Some(h) = iface.tcp_accept(listener) {
            conns.push(h);
            iface.tcp_replenish(listener, sock(4096));
        }
        while let Some(d) = iface.udp(udp).and_then(UdpSocket::recv) {
            let _ = iface.udp(udp).map(|u| u.send_to(&d.data, d.addr, d.port));
        }
        for (k, &h) in conns.iter().enumerate() {
            let Some(s) = iface.tcp(h) else { continue };
            while matches!(s.recv_with(|d| d.len()), Ok(n) if n > 0) {}
            if flags & 32 != 0 {
                let _ = s.send_slice(b"HTTP/1.1 200 OK\r\n\r\n");
            }
            if flags & 64 != 0 {
                s.close();
            }
            if flags & 128 != 0 && k == 0 {
                s.abort();
            }
        }
        iface.poll(now, &mut dev);
        // Whatever the interface asks to be woken for must be reachable: time may jump there.
        if let Some(t) = iface.poll_at()
            && t > now
            && flags & 2 != 0
        {
            now = t;
            iface.poll(now, &mut dev);
        }
    }
    // Bounded output: a frame in cannot make more than a few frames out (plus timers).
    assert!(dev.sent <= 64 * 8 + 64, "{} frames sent", dev.sent);
}
