//! Two interfaces joined by an in-memory cable: ARP, ping, UDP, ICMP errors, TCP transfers
//! (clean and under injected faults), resets, and demultiplexing at 10,000 connections.

use std::time::Duration;

use unistack_ethif::{EtherType, EthernetRepr, MacAddress};
use unistack_ipv4::{
    ChecksumCaps, Icmpv4Packet, Icmpv4Repr, Ipv4Address, Ipv4Cidr, Ipv4Options, Ipv4Packet,
    Ipv4Repr, Protocol,
};
use unistack_stack::{
    Device, FaultInjector, Faults, Interface, InterfaceConfig, ListenerHandle, PipeEnd, RxInfo,
    TcpHandle, UdpSocket,
};
use unistack_tcp::{Algorithm, Config, Socket, State};

const A_IP: Ipv4Address = Ipv4Address::new(192, 0, 2, 1);
const B_IP: Ipv4Address = Ipv4Address::new(192, 0, 2, 2);
const A_MAC: MacAddress = MacAddress([2, 0, 0, 0, 0, 1]);
const B_MAC: MacAddress = MacAddress([2, 0, 0, 0, 0, 2]);

fn iface(mac: MacAddress, ip: Ipv4Address) -> Interface<'static> {
    Interface::new(
        InterfaceConfig {
            mac,
            addr: Ipv4Cidr::new(ip, 24).unwrap(),
            gateway: None,
            ttl: 64,
            icmp_error_rate: 10,
            secret: [ip.octets()[3]; 16],
        },
        ChecksumCaps::all(),
    )
}

fn sock(buf: usize) -> Socket<'static> {
    Socket::new(vec![0u8; buf], vec![0u8; buf], Config::default())
}

/// Poll both sides on a virtual clock until `done` or the step limit.
fn run<D1: Device, D2: Device>(
    now: &mut Duration,
    a: &mut Interface<'static>,
    da: &mut D1,
    b: &mut Interface<'static>,
    db: &mut D2,
    steps: usize,
    mut done: impl FnMut(&mut Interface<'static>, &mut Interface<'static>) -> bool,
) -> bool {
    for _ in 0..steps {
        let act = a.poll(*now, da) | b.poll(*now, db);
        if done(a, b) {
            return true;
        }
        if !act {
            let next = [a.poll_at(), b.poll_at()].into_iter().flatten().min();
            *now = match next {
                Some(t) if t > *now => t,
                _ => *now + Duration::from_millis(1),
            };
        }
    }
    false
}

fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

/// Send `total` bytes from `from` to `to` over established handles; return bytes read.
#[allow(clippy::too_many_arguments)]
fn transfer<D1: Device, D2: Device>(
    now: &mut Duration,
    a: &mut Interface<'static>,
    da: &mut D1,
    b: &mut Interface<'static>,
    db: &mut D2,
    ha: TcpHandle,
    hb: TcpHandle,
    total: usize,
) -> usize {
    let mut sent = 0;
    let mut got = 0;
    let ok = run(now, a, da, b, db, 2_000_000, |a, b| {
        let s = a.tcp(ha).unwrap();
        while sent < total {
            let n = s
                .send_with(|buf| {
                    let n = buf.len().min(total - sent);
                    for (i, x) in buf[..n].iter_mut().enumerate() {
                        *x = pattern(sent + i);
                    }
                    n
                })
                .unwrap();
            if n == 0 {
                break;
            }
            sent += n;
        }
        let r = b.tcp(hb).unwrap();
        while let Ok(n) = r.recv_with(|d| {
            for (i, &x) in d.iter().enumerate() {
                assert_eq!(x, pattern(got + i), "byte {} corrupted", got + i);
            }
            d.len()
        }) {
            if n == 0 {
                break;
            }
            got += n;
        }
        got == total
    });
    assert!(ok, "transfer stalled at {got}/{total}");
    got
}

/// B's application reads two connections in place (`Interface::poll_with`): each stream
/// arrives intact on its own handle, almost all of it never copied into B's socket buffers,
/// and the bytes that were (queued behind a read the application left for later) come out
/// in order.
#[test]
fn tcp_read_in_place_through_the_interface() {
    let (mut da, mut db) = PipeEnd::pair(1500, 1024);
    let (mut a, mut b) = (iface(A_MAC, A_IP), iface(B_MAC, B_IP));
    let mut now = Duration::from_secs(1);
    let l = b
        .tcp_listen(
            80,
            16,
            vec![sock(256 << 10), sock(256 << 10)],
            Config::default(),
        )
        .unwrap();
    let (ha, hb) = open_from(
        &mut now,
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        l,
        &[40_000, 40_001],
        256 << 10,
    );
    let total = 4usize << 20;
    // Connection k carries pattern(i + k * 7919).
    let (mut sent, mut got, mut turn) = ([0usize; 2], [0usize; 2], 0u64);
    let check = |k: usize, got: &mut [usize; 2], d: &[u8]| {
        for (i, &x) in d.iter().enumerate() {
            let at = got[k] + i;
            assert_eq!(x, pattern(at + k * 7919), "connection {k}, byte {at}");
        }
        got[k] += d.len();
        d.len()
    };
    for _ in 0..2_000_000 {
        for k in 0..2 {
            let s = a.tcp(ha[k]).unwrap();
            while sent[k] < total {
                let at = sent[k];
                let n = s
                    .send_with(|buf| {
                        let n = buf.len().min(total - at);
                        for (i, x) in buf[..n].iter_mut().enumerate() {
                            *x = pattern(at + i + k * 7919);
                        }
                        n
                    })
                    .unwrap();
                if n == 0 {
                    break;
                }
                sent[k] += n;
            }
        }
        turn += 1;
        let mut act = a.poll(now, &mut da);
        act |= b.poll_with(now, &mut db, &mut |h, d| {
            let k = hb
                .iter()
                .position(|&x| x == h)
                .expect("a connection of ours");
            // Every 64th turn the application takes only half, leaving the rest queued.
            let d = if turn % 64 == 0 { &d[..d.len() / 2] } else { d };
            check(k, &mut got, d)
        });
        for (k, &h) in hb.iter().enumerate() {
            while let Ok(n) = b.tcp(h).unwrap().recv_with(|d| check(k, &mut got, d))
                && n > 0
            {}
        }
        if got == [total; 2] {
            break;
        }
        if !act {
            let next = [a.poll_at(), b.poll_at()].into_iter().flatten().min();
            now = match next {
                Some(t) if t > now => t,
                _ => now + Duration::from_millis(1),
            };
        }
    }
    assert_eq!(got, [total; 2], "transfer stalled");
    for &h in &hb {
        let st = *b.tcp(h).unwrap().stats();
        assert_eq!(st.rx_bytes_direct + st.rx_bytes_copied, total as u64);
        assert!(
            st.rx_bytes_copied > 0,
            "half-reads left bytes to the buffer"
        );
        assert!(
            st.rx_bytes_direct > (total as u64) * 3 / 4,
            "most of the stream read in place: {st:?}"
        );
    }
}

/// Data queued before the handshake completes rides on the segment that completes it at
/// the listener; with `poll_with` that data is read in place like any later segment's,
/// although the application has not yet accepted the connection (it sees a handle it will
/// get from `tcp_accept`).
#[test]
fn data_on_the_handshake_completing_segment_is_read_in_place() {
    let (mut da, mut db) = PipeEnd::pair(1500, 1024);
    let (mut a, mut b) = (iface(A_MAC, A_IP), iface(B_MAC, B_IP));
    let mut now = Duration::from_secs(1);
    let l = b
        .tcp_listen(80, 16, vec![sock(64 << 10)], Config::default())
        .unwrap();
    let ha = a
        .tcp_connect(now, sock(64 << 10), 40_000, (B_IP, 80))
        .unwrap();
    let hello: Vec<u8> = (0..1000).map(pattern).collect();
    assert_eq!(a.tcp(ha).unwrap().send_slice(&hello).unwrap(), hello.len());
    let mut seen: Vec<(TcpHandle, Vec<u8>)> = Vec::new();
    let mut accepted = None;
    for _ in 0..1000 {
        let act = a.poll(now, &mut da)
            | b.poll_with(now, &mut db, &mut |h, d| {
                seen.push((h, d.to_vec()));
                d.len()
            });
        if accepted.is_none() {
            accepted = b.tcp_accept(l);
        }
        if accepted.is_some() && a.tcp(ha).unwrap().send_queue() == 0 {
            break;
        }
        if !act {
            now += Duration::from_millis(1);
        }
    }
    let hb = accepted.expect("accepted");
    assert_eq!(
        seen.len(),
        1,
        "one segment offered in place: {:?}",
        seen.len()
    );
    assert_eq!(seen[0].0, hb, "offered under the handle tcp_accept returns");
    assert_eq!(seen[0].1, hello);
    let st = *b.tcp(hb).unwrap().stats();
    assert_eq!(
        (st.rx_bytes_direct, st.rx_bytes_copied),
        (1000, 0),
        "{st:?}"
    );
}

/// A connection that closed and stays in its slot must not take the 4-tuple's route with it
/// when it is removed after the peer came back from the same port: the new connection keeps
/// receiving.
#[test]
fn removing_a_closed_connection_keeps_a_newer_one_with_the_same_tuple() {
    let (mut da, mut db) = PipeEnd::pair(1500, 1024);
    let (mut a, mut b) = (iface(A_MAC, A_IP), iface(B_MAC, B_IP));
    let mut now = Duration::from_secs(1);
    let l = b
        .tcp_listen(
            80,
            16,
            vec![sock(64 << 10), sock(64 << 10)],
            Config::default(),
        )
        .unwrap();
    let (ha, hb) = open_from(
        &mut now,
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        l,
        &[40_000],
        64 << 10,
    );
    let (ha, hb) = (ha[0], hb[0]);
    // B closes first and A answers, so B ends in TIME-WAIT and A in CLOSED.
    b.tcp(hb).unwrap().close();
    assert!(run(
        &mut now,
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        10_000,
        |a, _| a.tcp(ha).unwrap().state() == State::CloseWait
    ));
    a.tcp(ha).unwrap().close();
    assert!(run(
        &mut now,
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        10_000,
        |a, b| {
            a.tcp(ha).unwrap().state() == State::Closed
                && b.tcp(hb).unwrap().state() == State::TimeWait
        }
    ));
    // Wait out B's TIME-WAIT (the socket stays in its slot, closed), then A connects again
    // from the same port.
    now += Duration::from_secs(300);
    assert!(run(
        &mut now,
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        1000,
        |_, b| { b.tcp(hb).unwrap().state() == State::Closed }
    ));
    a.tcp_remove(ha).unwrap();
    let (ha2, hb2) = open_from(
        &mut now,
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        l,
        &[40_000],
        64 << 10,
    );
    let (ha2, hb2) = (ha2[0], hb2[0]);
    // The new connection took the freed slot; the old handle does not reach it.
    assert_ne!(ha2, ha);
    assert!(a.tcp_ref(ha).is_none() && a.tcp(ha).is_none() && a.tcp_remove(ha).is_none());
    assert_ne!(hb2, hb, "the old connection still holds its slot");
    // B's application now drops the old, closed connection.
    assert_eq!(b.tcp_remove(hb).unwrap().state(), State::Closed);
    a.tcp(ha2).unwrap().send_slice(b"still routed").unwrap();
    let mut got = Vec::new();
    assert!(run(
        &mut now,
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        10_000,
        |_, b| {
            let _ = b.tcp(hb2).unwrap().recv_with(|d| {
                got.extend_from_slice(d);
                d.len()
            });
            got == b"still routed"
        }
    ));
    assert_eq!(b.stats().tcp_resets, 0, "no segment went unrouted");
}

/// Connect A to B's listener `l` on port 80 from each of `ports`; A's handles and B's, in the
/// order of `ports`.
#[allow(clippy::too_many_arguments)]
fn open_from<D1: Device, D2: Device>(
    now: &mut Duration,
    a: &mut Interface<'static>,
    da: &mut D1,
    b: &mut Interface<'static>,
    db: &mut D2,
    l: ListenerHandle,
    ports: &[u16],
    buf: usize,
) -> (Vec<TcpHandle>, Vec<TcpHandle>) {
    let ha: Vec<TcpHandle> = ports
        .iter()
        .map(|&port| a.tcp_connect(*now, sock(buf), port, (B_IP, 80)).unwrap())
        .collect();
    let mut accepted = Vec::new();
    assert!(run(now, a, da, b, db, 10_000, |a, b| {
        while let Some(h) = b.tcp_accept(l) {
            accepted.push(h);
        }
        accepted.len() == ports.len() && ha.iter().all(|&h| a.tcp(h).unwrap().is_established())
    }));
    let hb = ports
        .iter()
        .map(|&port| {
            *accepted
                .iter()
                .find(|&&h| b.tcp_ref(h).unwrap().tuple().remote_port == port)
                .unwrap()
        })
        .collect();
    (ha, hb)
}

fn connect<D1: Device, D2: Device>(
    now: &mut Duration,
    a: &mut Interface<'static>,
    da: &mut D1,
    b: &mut Interface<'static>,
    db: &mut D2,
    buf: usize,
) -> (TcpHandle, TcpHandle) {
    connect_with(now, a, da, b, db, sock(buf), buf)
}

/// [`connect`] with A's socket given (its `Config`).
fn connect_with<D1: Device, D2: Device>(
    now: &mut Duration,
    a: &mut Interface<'static>,
    da: &mut D1,
    b: &mut Interface<'static>,
    db: &mut D2,
    client: Socket<'static>,
    buf: usize,
) -> (TcpHandle, TcpHandle) {
    let l = b
        .tcp_listen(80, 16, vec![sock(buf)], Config::default())
        .unwrap();
    let ha = a.tcp_connect(*now, client, 40_000, (B_IP, 80)).unwrap();
    let mut hb = None;
    assert!(run(now, a, da, b, db, 10_000, |a, b| {
        hb = hb.or_else(|| b.tcp_accept(l));
        hb.is_some() && a.tcp(ha).unwrap().state() == State::Established
    }));
    (ha, hb.unwrap())
}

#[test]
fn arp_then_tcp_transfer_and_close() {
    let (mut da, mut db) = PipeEnd::pair(1500, 1024);
    let (mut a, mut b) = (iface(A_MAC, A_IP), iface(B_MAC, B_IP));
    let mut now = Duration::from_secs(1);
    let (ha, hb) = connect(&mut now, &mut a, &mut da, &mut b, &mut db, 256 * 1024);
    let n = transfer(&mut now, &mut a, &mut da, &mut b, &mut db, ha, hb, 8 << 20);
    assert_eq!(n, 8 << 20);
    assert_eq!(a.tcp(ha).unwrap().stats().retransmits, 0);
    // The copy count: each received byte was copied once into the socket buffer.
    assert_eq!(b.tcp(hb).unwrap().stats().rx_bytes_copied, 8 << 20);
    a.tcp(ha).unwrap().close();
    b.tcp(hb).unwrap().close();
    assert!(run(
        &mut now,
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        10_000,
        |a, b| {
            let (sa, sb) = (a.tcp(ha).unwrap().state(), b.tcp(hb).unwrap().state());
            matches!(sa, State::TimeWait | State::Closed) && sb == State::Closed
        }
    ));
    assert_eq!(a.stats().bad_checksums + b.stats().bad_checksums, 0);
}

#[test]
fn transfer_survives_injected_faults() {
    let (pa, pb) = PipeEnd::pair(1500, 1024);
    let faults = Faults {
        drop_ppm: 20_000,
        duplicate_ppm: 10_000,
        reorder_ppm: 50_000,
        corrupt_ppm: 1_000,
    };
    let mut da = FaultInjector::new(pa, faults, 1);
    let mut db = FaultInjector::new(pb, faults, 2);
    let (mut a, mut b) = (iface(A_MAC, A_IP), iface(B_MAC, B_IP));
    let mut now = Duration::from_secs(1);
    let (ha, hb) = connect(&mut now, &mut a, &mut da, &mut b, &mut db, 128 * 1024);
    let n = transfer(&mut now, &mut a, &mut da, &mut b, &mut db, ha, hb, 2 << 20);
    assert_eq!(n, 2 << 20);
    let (fa, fb) = (da.stats(), db.stats());
    assert!(
        fa.dropped > 0 && fa.duplicated > 0 && fa.reordered > 0,
        "{fa:?}"
    );
    eprintln!(
        "faults a {fa:?} b {fb:?}; a {:?}",
        a.tcp(ha).unwrap().stats()
    );
}

fn echo_request_frame(data: &[u8]) -> Vec<u8> {
    let icmp = Icmpv4Repr::EchoRequest {
        ident: 7,
        seq_no: 1,
        data,
    };
    let ip = Ipv4Repr {
        src_addr: A_IP,
        dst_addr: B_IP,
        protocol: Protocol::Icmp,
        payload_len: icmp.buffer_len(),
        ttl: 64,
        dscp: 0,
        ecn: Default::default(),
        ident: 9,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4Options::EMPTY,
    };
    let mut frame = vec![0u8; 14 + ip.buffer_len()];
    let rest = EthernetRepr::new(A_MAC, B_MAC, EtherType::Ipv4)
        .emit(&mut frame)
        .unwrap();
    let (head, body) = rest.split_at_mut(20);
    ip.emit(&mut Ipv4Packet::new_unchecked(head), &ChecksumCaps::all());
    icmp.emit(&mut Icmpv4Packet::new_unchecked(body), &ChecksumCaps::all());
    frame
}

fn parse_ip(frame: &[u8]) -> (Ipv4Address, Ipv4Address, Protocol, Vec<u8>) {
    let (eth, payload) = unistack_ethif::parse_frame(frame).unwrap();
    assert_eq!(eth.ethertype, EtherType::Ipv4);
    let p = Ipv4Packet::new_checked(payload).unwrap();
    let r = Ipv4Repr::parse(&p, &ChecksumCaps::all()).unwrap();
    (r.src_addr, r.dst_addr, r.protocol, p.payload().to_vec())
}

fn answer_arp(da: &PipeEnd) {
    let arp = da.take().expect("an ARP request");
    let (eth, payload) = unistack_ethif::parse_frame(&arp).unwrap();
    assert_eq!(
        (eth.ethertype, eth.dst),
        (EtherType::Arp, MacAddress::BROADCAST)
    );
    let req = unistack_ethif::ArpRepr::parse_bytes(payload).unwrap();
    assert_eq!(req.target_ip, A_IP.octets());
    let reply = unistack_ethif::ArpRepr {
        op: unistack_ethif::ArpOp::Reply,
        sender_mac: A_MAC,
        sender_ip: A_IP.octets(),
        target_mac: B_MAC,
        target_ip: B_IP.octets(),
    };
    let mut frame = vec![0u8; 60];
    let rest = EthernetRepr::new(A_MAC, B_MAC, EtherType::Arp)
        .emit(&mut frame)
        .unwrap();
    reply.emit_bytes(rest).unwrap();
    da.inject(&frame);
}

#[test]
fn answers_ping_after_resolving_the_sender() {
    let (da, mut db) = PipeEnd::pair(1500, 64);
    let mut b = iface(B_MAC, B_IP);
    let now = Duration::from_secs(1);
    da.inject(&echo_request_frame(b"hello ping"));
    b.poll(now, &mut db);
    // B does not know A's MAC (no unsolicited learning): it asks first, the reply waits.
    answer_arp(&da);
    assert!(da.take().is_none());
    b.poll(now, &mut db);
    let frame = da.take().expect("the echo reply");
    let (src, dst, proto, payload) = parse_ip(&frame);
    assert_eq!((src, dst, proto), (B_IP, A_IP, Protocol::Icmp));
    let packet = Icmpv4Packet::new_checked(&payload[..]).unwrap();
    let icmp = Icmpv4Repr::parse(&packet, &ChecksumCaps::all()).unwrap();
    assert_eq!(
        icmp,
        Icmpv4Repr::EchoReply {
            ident: 7,
            seq_no: 1,
            data: b"hello ping"
        }
    );
    assert_eq!(b.stats().echo_replies, 1);
}

/// A datagram an application queues asks for a poll now, and a socket's datagrams leave in
/// the order it queued them, even when the first must be fragmented and the next could go
/// straight to the device.
#[test]
fn udp_datagrams_keep_their_order_and_ask_for_a_poll() {
    let (mut da, mut db) = PipeEnd::pair(1500, 1024);
    let (mut a, mut b) = (iface(A_MAC, A_IP), iface(B_MAC, B_IP));
    let mut now = Duration::from_secs(1);
    let ua = a.udp_bind(5000, UdpSocket::new(16)).unwrap();
    let ub = b.udp_bind(53, UdpSocket::new(16)).unwrap();
    a.poll(now, &mut da);
    assert_ne!(a.poll_at(), Some(Duration::ZERO), "nothing to do");
    a.udp(ua).unwrap().send_to(b"hello", B_IP, 53).unwrap();
    assert_eq!(
        a.poll_at(),
        Some(Duration::ZERO),
        "a queued datagram is due now"
    );
    assert!(run(
        &mut now,
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        1000,
        |_, b| { b.udp(ub).unwrap().recv().is_some() }
    ));
    let big: Vec<u8> = (0..3000).map(pattern).collect();
    a.udp(ua).unwrap().send_to(&big, B_IP, 53).unwrap();
    a.udp(ua).unwrap().send_to(b"after", B_IP, 53).unwrap();
    let mut got = Vec::new();
    assert!(run(
        &mut now,
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        1000,
        |_, b| {
            while let Some(d) = b.udp(ub).unwrap().recv() {
                got.push(d.data);
            }
            got.len() == 2
        }
    ));
    assert!(got[0] == big && got[1] == b"after", "in order");
}

/// A device that takes at most `budget` frames, then refuses (a full transmit ring).
struct Gated {
    inner: PipeEnd,
    budget: usize,
}

impl Device for Gated {
    fn caps(&self) -> unistack_stack::DeviceCaps {
        self.inner.caps()
    }

    fn receive<R>(&mut self, now: Duration, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        self.inner.receive(now, f)
    }

    fn transmit<R>(
        &mut self,
        now: Duration,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        self.budget = self.budget.checked_sub(1)?;
        self.inner.transmit(now, len, f)
    }
}

/// When the device fills, the next poll starts with the socket after the last one served:
/// a socket that always has datagrams does not starve one bound after it, and a refused
/// datagram waits in its socket instead of being lost.
#[test]
fn udp_sockets_take_turns_at_a_full_device() {
    let (da, mut db) = PipeEnd::pair(1500, 1024);
    let mut da = Gated {
        inner: da,
        budget: usize::MAX,
    };
    let (mut a, mut b) = (iface(A_MAC, A_IP), iface(B_MAC, B_IP));
    let mut now = Duration::from_secs(1);
    let busy = a.udp_bind(5000, UdpSocket::new(16)).unwrap();
    let quiet = a.udp_bind(5001, UdpSocket::new(16)).unwrap();
    let sink = b.udp_bind(53, UdpSocket::new(256)).unwrap();
    // Resolve B's address first.
    a.udp(busy).unwrap().send_to(b"hello", B_IP, 53).unwrap();
    assert!(run(
        &mut now,
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        1000,
        |_, b| { b.udp(sink).unwrap().recv().is_some() }
    ));
    for k in 0..4u8 {
        a.udp(quiet).unwrap().send_to(&[k], B_IP, 53).unwrap();
    }
    let mut from = [0usize; 2];
    for _ in 0..20 {
        let s = a.udp(busy).unwrap();
        while s.send_queue() < 8 {
            s.send_to(b"busy", B_IP, 53).unwrap();
        }
        // Two frames per poll.
        da.budget = 2;
        a.poll(now, &mut da);
        b.poll(now, &mut db);
        while let Some(d) = b.udp(sink).unwrap().recv() {
            from[usize::from(d.port - 5000)] += 1;
        }
        now += Duration::from_millis(1);
    }
    assert_eq!(
        from[1], 4,
        "the quiet socket's datagrams all went out: {from:?}"
    );
    assert_eq!(
        from[0] + from[1],
        40,
        "two frames per poll, none lost: {from:?}"
    );
    assert_eq!(a.udp(quiet).unwrap().send_queue(), 0);
}

#[test]
fn udp_exchange_and_rate_limited_port_unreachable() {
    let (mut da, mut db) = PipeEnd::pair(1500, 1024);
    let (mut a, mut b) = (iface(A_MAC, A_IP), iface(B_MAC, B_IP));
    let mut now = Duration::from_secs(1);
    let ua = a.udp_bind(5000, UdpSocket::new(64)).unwrap();
    let ub = b.udp_bind(53, UdpSocket::new(64)).unwrap();
    a.udp(ua).unwrap().send_to(b"question", B_IP, 53).unwrap();
    assert!(run(
        &mut now,
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        1000,
        |_, b| {
            match b.udp(ub).unwrap().recv() {
                Some(d) => {
                    assert_eq!(
                        (d.addr, d.port, &d.data[..]),
                        (A_IP, 5000, &b"question"[..])
                    );
                    b.udp(ub)
                        .unwrap()
                        .send_to(b"answer", d.addr, d.port)
                        .unwrap();
                    true
                }
                None => false,
            }
        }
    ));
    assert!(run(
        &mut now,
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        1000,
        |a, _| {
            a.udp(ua)
                .unwrap()
                .recv()
                .is_some_and(|d| d.data == b"answer")
        }
    ));
    // Datagrams larger than the MTU leave as fragments and are reassembled on the other side.
    for size in [1473, 4000, 65_507] {
        let data: Vec<u8> = (0..size).map(pattern).collect();
        a.udp(ua).unwrap().send_to(&data, B_IP, 53).unwrap();
        let mut got = None;
        assert!(run(
            &mut now,
            &mut a,
            &mut da,
            &mut b,
            &mut db,
            1000,
            |_, b| {
                got = b.udp(ub).unwrap().recv();
                got.is_some()
            }
        ));
        assert!(got.unwrap().data == data, "{size}-byte datagram");
    }
    assert_eq!(a.stats().tx_fragments, 2 + 3 + 45, "{:?}", a.stats());
    // 50 datagrams to a closed port within a second: 10 ICMP errors, 40 suppressed.
    for _ in 0..50 {
        a.udp(ua).unwrap().send_to(b"nobody", B_IP, 9).unwrap();
    }
    for _ in 0..20 {
        a.poll(now, &mut da);
        b.poll(now, &mut db);
    }
    assert_eq!(b.stats().icmp_errors, 10);
    assert_eq!(b.stats().icmp_rate_limited, 40);
}

#[test]
fn syn_to_a_closed_port_gets_a_reset() {
    let (mut da, mut db) = PipeEnd::pair(1500, 1024);
    let (mut a, mut b) = (iface(A_MAC, A_IP), iface(B_MAC, B_IP));
    let mut now = Duration::from_secs(1);
    let h = a.tcp_connect(now, sock(4096), 40_001, (B_IP, 81)).unwrap();
    assert!(run(
        &mut now,
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        1000,
        |a, _| { a.tcp(h).unwrap().error() == Some(unistack_tcp::ConnectionError::Refused) }
    ));
    assert_eq!(b.stats().tcp_resets, 1);
}

#[test]
fn ten_thousand_connections_cost_per_packet_not_per_socket() {
    const N: usize = 10_000;
    let (mut da, mut db) = PipeEnd::pair(1500, 100_000);
    let (mut a, mut b) = (iface(A_MAC, A_IP), iface(B_MAC, B_IP));
    let mut now = Duration::from_secs(1);
    let pool: Vec<_> = (0..N).map(|_| sock(1024)).collect();
    let l = b.tcp_listen(80, N, pool, Config::default()).unwrap();
    let ha: Vec<_> = (0..N)
        .map(|i| {
            a.tcp_connect(now, sock(1024), 10_000 + i as u16, (B_IP, 80))
                .unwrap()
        })
        .collect();
    let mut hb = Vec::new();
    assert!(run(
        &mut now,
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        100_000,
        |_, b| {
            while let Some(h) = b.tcp_accept(l) {
                hb.push(h);
            }
            hb.len() == N
        }
    ));
    assert_eq!(b.tcp_count(), N);
    // Drain the queues and let delayed ACKs and timers settle, then measure one exchange on
    // one connection.
    for _ in 0..100_000 {
        let act = a.poll(now, &mut da) | b.poll(now, &mut db);
        if !act && da.pending() == 0 && db.pending() == 0 {
            break;
        }
    }
    now += Duration::from_secs(1);
    a.poll(now, &mut da);
    b.poll(now, &mut db);
    let (va, vb) = (a.stats().tcp_sockets_visited, b.stats().tcp_sockets_visited);
    let last = *ha.last().unwrap();
    a.tcp(last).unwrap().send_slice(b"ping").unwrap();
    let mut got = false;
    let ok = run(&mut now, &mut a, &mut da, &mut b, &mut db, 100, |_, b| {
        // Read-only queries: they do not mark sockets for the next poll.
        got = got
            || hb
                .iter()
                .any(|&h| b.tcp_ref(h).is_some_and(|s| s.recv_queue() == 4));
        got
    });
    if !ok {
        let s = a.tcp_ref(last).unwrap();
        panic!(
            "not delivered: a {s:?} {:?} a.stats {:?} b.stats {:?} pending {} {}",
            s.stats(),
            a.stats(),
            b.stats(),
            da.pending(),
            db.pending()
        );
    }
    let visited = (a.stats().tcp_sockets_visited - va) + (b.stats().tcp_sockets_visited - vb);
    eprintln!("one exchange among {N} connections visited {visited} sockets");
    assert!(
        visited < 50,
        "one exchange visited {visited} sockets of {N}"
    );
}

#[test]
fn recorded_session_dissects_cleanly_in_tshark() {
    use std::process::Command;
    use unistack_stack::{PcapWriter, Recorder};
    let (pa, mut db) = PipeEnd::pair(1500, 1024);
    let path = std::env::temp_dir().join(format!("unistack-pipe-{}.pcap", std::process::id()));
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut da = Recorder::new(pa, PcapWriter::new(file).unwrap());
    let (mut a, mut b) = (iface(A_MAC, A_IP), iface(B_MAC, B_IP));
    let mut now = Duration::from_secs(1);
    let (ha, hb) = connect(&mut now, &mut a, &mut da, &mut b, &mut db, 64 * 1024);
    transfer(
        &mut now,
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        ha,
        hb,
        256 * 1024,
    );
    a.tcp(ha).unwrap().close();
    b.tcp(hb).unwrap().close();
    run(
        &mut now,
        &mut a,
        &mut da,
        &mut b,
        &mut db,
        10_000,
        |a, b| {
            a.tcp_ref(ha).unwrap().state() == State::TimeWait
                && b.tcp_ref(hb).unwrap().state() == State::Closed
        },
    );
    let (_, pcap) = da.into_parts();
    let frames = pcap.frames;
    assert!(pcap.error.is_none());
    pcap.into_inner().unwrap();
    assert!(frames > 200, "{frames} frames recorded");
    if Command::new("tshark").arg("--version").output().is_err() {
        println!("SKIPPED: tshark is not installed (apt-get install tshark)");
        return;
    }
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&path)
        .args([
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "tcp.check_checksum:TRUE",
        ])
        // Port 80 carries our test pattern, not HTTP.
        .args(["--disable-protocol", "http"])
        .args([
            "-T",
            "fields",
            "-E",
            "separator=|",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=,",
        ])
        .args([
            "-e",
            "frame.protocols",
            "-e",
            "ip.checksum.status",
            "-e",
            "tcp.checksum.status",
        ])
        .args([
            "-e",
            "_ws.malformed",
            "-e",
            "_ws.expert.severity",
            "-e",
            "_ws.expert.message",
        ])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
    assert_eq!(rows.len() as u64, frames);
    let mut tcp = 0;
    for (i, r) in rows.iter().enumerate() {
        let [protocols, ip_ck, tcp_ck, malformed, severity, message] = r[..] else {
            panic!("{r:?}")
        };
        assert_eq!(malformed, "", "frame {}: {r:?}", i + 1);
        // Below "warning" (6291456), except flow-control analysis: a bulk sender filling the
        // receiver's window is what TCP is meant to do.
        let flow_control = message
            .split(',')
            .all(|m| m.contains("window") || m.contains("Window"));
        for sev in severity.split(',').filter(|s| !s.is_empty()) {
            let sev: u32 = sev.parse().unwrap();
            assert!(sev < 6_291_456 || flow_control, "frame {}: {r:?}", i + 1);
        }
        if protocols.contains(":tcp") {
            tcp += 1;
            assert_eq!(
                (ip_ck, tcp_ck),
                ("1", "1"),
                "frame {}: checksums {r:?}",
                i + 1
            );
        }
    }
    assert!(tcp > 200);
}

/// Counts of ECN-capable IPv4 frames seen, and a CE mark on every `every`-th (as an AQM
/// router would mark them).
#[derive(Default)]
struct Marks {
    every: u64,
    ect: u64,
    marked: u64,
}

impl Marks {
    fn mark(&mut self, frame: &mut [u8]) {
        if frame.len() < 34 || frame[12..14] != [0x08, 0x00] {
            return;
        }
        let ip = &mut frame[14..];
        if ip[1] & 3 != 2 {
            return; // not ECT(0)
        }
        self.ect += 1;
        if !self.ect.is_multiple_of(self.every) {
            return;
        }
        let old = u16::from_be_bytes([ip[0], ip[1]]);
        ip[1] |= 3;
        let new = u16::from_be_bytes([ip[0], ip[1]]);
        let sum = u16::from_be_bytes([ip[10], ip[11]]);
        let sum = unistack_ipv4::checksum::update(sum, old, new);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        self.marked += 1;
    }
}

/// A device whose transmitted frames pass through [`Marks`].
struct CeMarker<D> {
    inner: D,
    marks: Marks,
}

impl<D: Device> Device for CeMarker<D> {
    fn caps(&self) -> unistack_stack::DeviceCaps {
        self.inner.caps()
    }
    fn receive<R>(&mut self, now: Duration, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        self.inner.receive(now, f)
    }
    fn transmit<R>(
        &mut self,
        now: Duration,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        let CeMarker { inner, marks } = self;
        inner.transmit(now, len, |buf| {
            let r = f(buf);
            marks.mark(buf);
            r
        })
    }
}

#[test]
fn ecn_end_to_end_ce_marks_are_echoed_and_the_sender_backs_off() {
    // A asks for ECN, B's listener accepts; one in twenty of A's ECT data frames is marked CE
    // on the way. B must echo, A must reduce (without retransmitting) and still deliver every
    // byte.
    let (pa, mut db) = PipeEnd::pair(1500, 1024);
    let mut da = CeMarker {
        inner: pa,
        marks: Marks {
            every: 20,
            ..Marks::default()
        },
    };
    let mut a = iface(A_MAC, A_IP);
    let mut b = iface(B_MAC, B_IP);
    let mut now = Duration::ZERO;
    let buf = 256 << 10;
    let ecn = Socket::new(
        vec![0u8; buf],
        vec![0u8; buf],
        Config {
            ecn: true,
            ..Config::default()
        },
    );
    let (ha, hb) = connect_with(&mut now, &mut a, &mut da, &mut b, &mut db, ecn, buf);
    assert!(
        a.tcp(ha).unwrap().ecn() && b.tcp(hb).unwrap().ecn(),
        "negotiated both ways"
    );
    let total = 4 << 20;
    assert_eq!(
        transfer(&mut now, &mut a, &mut da, &mut b, &mut db, ha, hb, total),
        total
    );
    let stats = *a.tcp(ha).unwrap().stats();
    assert!(da.marks.ect > 100, "A's data left ECT(0): {}", da.marks.ect);
    assert!(da.marks.marked > 0);
    assert!(stats.ecn_reductions > 0, "{stats:?}");
    assert_eq!(
        stats.retransmits, 0,
        "congestion was signalled, nothing was lost"
    );
}

/// A device that leaves every TCP and UDP checksum partial on receive, as Linux's TAP does
/// for packets its own stack sent (`VIRTIO_NET_HDR_F_NEEDS_CSUM`: only the pseudo-header sum
/// in the field), and, when `vouch`, says so through [`Device::receive_info`].
struct PartialChecksums<D> {
    inner: D,
    vouch: bool,
    left_partial: u64,
}

impl<D> PartialChecksums<D> {
    fn new(inner: D, vouch: bool) -> Self {
        PartialChecksums {
            inner,
            vouch,
            left_partial: 0,
        }
    }

    fn make_partial(count: &mut u64, frame: &mut [u8]) {
        let Some(ip) = frame.get(14..) else { return };
        let Ok(packet) = Ipv4Packet::new_checked(ip) else {
            return;
        };
        let (src, dst, proto, ihl) = (
            packet.src_addr(),
            packet.dst_addr(),
            packet.protocol(),
            packet.header_len(),
        );
        let l4_len = packet.payload().len();
        let field = match proto {
            Protocol::Tcp => 16,
            Protocol::Udp => 6,
            _ => return,
        };
        let at = 14 + ihl + field;
        let pseudo = unistack_ipv4::checksum::pseudo_header(src, dst, proto, l4_len as u16);
        if let Some(f) = frame.get_mut(at..at + 2) {
            f.copy_from_slice(&pseudo.to_be_bytes());
            *count += 1;
        }
    }
}

impl<D: Device> Device for PartialChecksums<D> {
    fn caps(&self) -> unistack_stack::DeviceCaps {
        self.inner.caps()
    }
    fn receive<R>(&mut self, now: Duration, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        self.receive_info(now, |frame, _| f(frame))
    }
    fn receive_info<R>(
        &mut self,
        now: Duration,
        f: impl FnOnce(&mut [u8], RxInfo) -> R,
    ) -> Option<R> {
        let PartialChecksums {
            inner,
            vouch,
            left_partial,
        } = self;
        inner.receive(now, |frame| {
            PartialChecksums::<D>::make_partial(left_partial, frame);
            let info = RxInfo {
                l4_checksum_valid: *vouch,
            };
            f(frame, info)
        })
    }
    fn transmit<R>(
        &mut self,
        now: Duration,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        self.inner.transmit(now, len, f)
    }
}

#[test]
fn checksums_the_device_vouches_for_are_not_verified_and_no_others() {
    // Both ends leave every TCP/UDP checksum partial and vouch for it: the stack must take
    // the frames without a pass over them and deliver every byte.
    let (pa, pb) = PipeEnd::pair(1500, 1024);
    let (mut da, mut db) = (
        PartialChecksums::new(pa, true),
        PartialChecksums::new(pb, true),
    );
    let (mut a, mut b) = (iface(A_MAC, A_IP), iface(B_MAC, B_IP));
    let mut now = Duration::from_secs(1);
    let (ha, hb) = connect(&mut now, &mut a, &mut da, &mut b, &mut db, 64 * 1024);
    let n = transfer(&mut now, &mut a, &mut da, &mut b, &mut db, ha, hb, 1 << 20);
    assert_eq!(n, 1 << 20);
    assert!(db.left_partial > 700, "{}", db.left_partial);
    assert_eq!(a.stats().bad_checksums + b.stats().bad_checksums, 0);
    // UDP the same; but a fragmented datagram's checksum spans frames, so the device's word
    // for one frame does not cover it: the reassembled datagram, left partial, is dropped.
    let ua = a.udp_bind(5000, UdpSocket::new(64)).unwrap();
    let ub = b.udp_bind(53, UdpSocket::new(64)).unwrap();
    for (size, delivered) in [(1000, true), (4000, false)] {
        let data: Vec<u8> = (0..size).map(pattern).collect();
        a.udp(ua).unwrap().send_to(&data, B_IP, 53).unwrap();
        let bad = b.stats().bad_checksums;
        let mut got = None;
        let arrived = run(&mut now, &mut a, &mut da, &mut b, &mut db, 200, |_, b| {
            got = b.udp(ub).unwrap().recv();
            got.is_some()
        });
        assert_eq!(arrived, delivered, "{size}-byte datagram");
        if delivered {
            assert!(got.unwrap().data == data);
        } else {
            assert_eq!(b.stats().bad_checksums, bad + 1, "{size}-byte datagram");
        }
    }

    // The same frames from a device that does not vouch: verified, and dropped.
    let (pa, pb) = PipeEnd::pair(1500, 1024);
    let (mut da, mut db) = (
        PartialChecksums::new(pa, false),
        PartialChecksums::new(pb, false),
    );
    let (mut a, mut b) = (iface(A_MAC, A_IP), iface(B_MAC, B_IP));
    let l = b
        .tcp_listen(80, 16, vec![sock(4096)], Config::default())
        .unwrap();
    let ha = a.tcp_connect(now, sock(4096), 40_000, (B_IP, 80)).unwrap();
    let up = run(&mut now, &mut a, &mut da, &mut b, &mut db, 1000, |a, b| {
        b.tcp_accept(l).is_some() || a.tcp(ha).unwrap().state() == State::Established
    });
    assert!(!up, "a handshake on unverifiable checksums");
    assert!(b.stats().bad_checksums > 0, "{:?}", b.stats());
}

#[test]
fn a_corrupted_frame_loses_its_devices_word_for_the_checksum() {
    // The fault injector flips bits in frames the inner device vouched for; the stack must
    // then verify (and drop) them, and the transfer still delivers exactly the bytes sent.
    let (pa, pb) = PipeEnd::pair(1500, 1024);
    let corrupt = Faults {
        corrupt_ppm: 20_000,
        ..Faults::default()
    };
    let mut da = FaultInjector::new(PartialChecksums::new(pa, true), corrupt, 3);
    let mut db = FaultInjector::new(PartialChecksums::new(pb, true), corrupt, 4);
    let (mut a, mut b) = (iface(A_MAC, A_IP), iface(B_MAC, B_IP));
    let mut now = Duration::from_secs(1);
    let (ha, hb) = connect(&mut now, &mut a, &mut da, &mut b, &mut db, 64 * 1024);
    let n = transfer(&mut now, &mut a, &mut da, &mut b, &mut db, ha, hb, 1 << 20);
    assert_eq!(n, 1 << 20);
    assert!(db.stats().corrupted > 5, "{:?}", db.stats());
    assert!(b.stats().bad_checksums > 0, "{:?}", b.stats());
}

#[test]
fn looking_at_a_socket_does_not_make_poll_at_say_now_but_acting_on_it_does() {
    // An event loop that checks its sockets after every poll and then sleeps until
    // `poll_at` must sleep when the sockets are idle (it spun at 100% CPU when any access
    // counted as work), and must wake at once when the application queued data or closed.
    let (mut da, mut db) = PipeEnd::pair(1500, 1024);
    let (mut a, mut b) = (iface(A_MAC, A_IP), iface(B_MAC, B_IP));
    let mut now = Duration::from_secs(1);
    let (ha, hb) = connect(&mut now, &mut a, &mut da, &mut b, &mut db, 64 * 1024);
    let n = transfer(&mut now, &mut a, &mut da, &mut b, &mut db, ha, hb, 100_000);
    assert_eq!(n, 100_000);
    // Let every delayed ACK and timer settle (`run` jumps the clock to each deadline).
    let settle = |now: &mut Duration, a: &mut _, da: &mut _, b: &mut _, db: &mut _| {
        let _ = run(now, a, da, b, db, 200, |_, _| false);
    };
    settle(&mut now, &mut a, &mut da, &mut b, &mut db);
    let idle = |i: &Interface<'static>, now: Duration| i.poll_at().is_none_or(|t| t > now);
    assert!(!a.poll(now, &mut da) && !b.poll(now, &mut db));
    // Looking: state queries, an empty read, an empty send.
    assert_eq!(a.tcp(ha).unwrap().state(), State::Established);
    assert_eq!(b.tcp(hb).unwrap().recv_with(|d| d.len()), Ok(0));
    assert_eq!(a.tcp(ha).unwrap().send_slice(&[]), Ok(0));
    assert!(
        idle(&a, now),
        "a looked-at socket is due: {:?}",
        a.poll_at()
    );
    assert!(
        idle(&b, now),
        "a looked-at socket is due: {:?}",
        b.poll_at()
    );
    // Polling with nothing to do does not change that.
    assert!(!a.poll(now, &mut da) && !b.poll(now, &mut db));
    assert!(idle(&a, now) && idle(&b, now));
    // Acting: queued data is due now, and goes out on the next poll.
    assert_eq!(a.tcp(ha).unwrap().send_slice(b"more"), Ok(4));
    assert_eq!(a.poll_at(), Some(Duration::ZERO));
    assert!(a.poll(now, &mut da));
    assert!(idle(&a, now), "{:?}", a.poll_at());
    b.poll(now, &mut db);
    let mut got = Vec::new();
    b.tcp(hb)
        .unwrap()
        .recv_with(|d| {
            got.extend_from_slice(d);
            d.len()
        })
        .unwrap();
    assert_eq!(got, b"more");
    // Closing is due now too.
    settle(&mut now, &mut a, &mut da, &mut b, &mut db);
    assert!(idle(&b, now));
    b.tcp(hb).unwrap().close();
    assert_eq!(b.poll_at(), Some(Duration::ZERO));
    assert!(b.poll(now, &mut db));
    assert_eq!(b.tcp(hb).unwrap().state(), State::FinWait1);
}

/// A device whose receive side can be shut (so a poll can only act on timers and the
/// application), counting what it transmits.
struct Gate<D> {
    inner: D,
    shut: bool,
    sent: u64,
}

impl<D: Device> Device for Gate<D> {
    fn caps(&self) -> unistack_stack::DeviceCaps {
        self.inner.caps()
    }
    fn receive<R>(&mut self, now: Duration, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        if self.shut {
            return None;
        }
        self.inner.receive(now, f)
    }
    fn transmit<R>(
        &mut self,
        now: Duration,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        let r = self.inner.transmit(now, len, f);
        self.sent += u64::from(r.is_some());
        r
    }
}

#[derive(Debug, Clone)]
enum AppOp {
    Send(bool, usize),
    Recv(bool),
    Look(bool),
    Close(bool),
    Advance(u64),
    Pump,
}

fn app_op() -> impl proptest::strategy::Strategy<Value = AppOp> {
    use proptest::prelude::*;
    prop_oneof![
        (any::<bool>(), 0usize..6000).prop_map(|(a, n)| AppOp::Send(a, n)),
        any::<bool>().prop_map(AppOp::Recv),
        any::<bool>().prop_map(AppOp::Look),
        any::<bool>().prop_map(AppOp::Close),
        (0u64..400).prop_map(AppOp::Advance),
        Just(AppOp::Pump),
        Just(AppOp::Pump),
    ]
}

/// With no frame waiting, check that `poll_at` tells the truth: if it says nothing is due,
/// a poll sends nothing; and after a poll that sent nothing, an application that only looks
/// at its socket (`h`) leaves nothing due (else a loop that sleeps until `poll_at` spins).
fn check_poll_at<D: Device>(
    now: Duration,
    i: &mut Interface<'static>,
    d: &mut Gate<D>,
    h: TcpHandle,
    who: &str,
) {
    d.shut = true;
    let due = i.poll_at().is_some_and(|t| t <= now);
    let before = d.sent;
    i.poll(now, d);
    let sent = d.sent - before;
    assert!(
        due || sent == 0,
        "{who}: poll_at said nothing was due, yet a poll sent {sent} frames"
    );
    if sent == 0 {
        if let Some(s) = i.tcp(h) {
            let _ = (s.state(), s.recv_with(|_| 0), s.send_slice(&[]));
        }
        let at = i.poll_at();
        assert!(
            at.is_none_or(|t| t > now),
            "{who}: a poll that sent nothing left poll_at at {at:?} (now {now:?}): a spin"
        );
    }
    d.shut = false;
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

    #[test]
    fn poll_at_never_hides_work_and_never_asks_for_a_spin(
        ops in proptest::collection::vec(app_op(), 1..48),
        bbr in proptest::prelude::any::<bool>(),
    ) {
        let (pa, pb) = PipeEnd::pair(1500, 1024);
        let mut da = Gate { inner: pa, shut: false, sent: 0 };
        let mut db = Gate { inner: pb, shut: false, sent: 0 };
        let (mut a, mut b) = (iface(A_MAC, A_IP), iface(B_MAC, B_IP));
        let mut now = Duration::from_secs(1);
        // A sends with BBR in half the cases: its pacing is one more deadline to tell.
        let congestion = if bbr { Algorithm::Bbr } else { Algorithm::NewReno };
        let client = Socket::new(
            vec![0u8; 16 * 1024],
            vec![0u8; 16 * 1024],
            Config { congestion, ..Config::default() },
        );
        let (ha, hb) =
            connect_with(&mut now, &mut a, &mut da, &mut b, &mut db, client, 16 * 1024);
        let mut sent = 0;
        for op in ops {
            match op {
                AppOp::Send(on_a, n) => {
                    let (i, h) = if on_a { (&mut a, ha) } else { (&mut b, hb) };
                    let data: Vec<u8> = (sent..sent + n).map(pattern).collect();
                    sent += i.tcp(h).map_or(0, |s| s.send_slice(&data).unwrap_or(0));
                }
                AppOp::Recv(on_a) => {
                    let (i, h) = if on_a { (&mut a, ha) } else { (&mut b, hb) };
                    if let Some(s) = i.tcp(h) {
                        while matches!(s.recv_with(|d| d.len()), Ok(n) if n > 0) {}
                    }
                }
                AppOp::Look(on_a) => {
                    let (i, h) = if on_a { (&mut a, ha) } else { (&mut b, hb) };
                    let _ = i.tcp(h).map(|s| (s.state(), s.send_queue(), s.recv_queue()));
                }
                AppOp::Close(on_a) => {
                    let (i, h) = if on_a { (&mut a, ha) } else { (&mut b, hb) };
                    let _ = i.tcp(h).map(Socket::close);
                }
                AppOp::Advance(ms) => now += Duration::from_millis(ms),
                AppOp::Pump => {
                    for _ in 0..8 {
                        a.poll(now, &mut da);
                        b.poll(now, &mut db);
                    }
                }
            }
            check_poll_at(now, &mut a, &mut da, ha, "A");
            check_poll_at(now, &mut b, &mut db, hb, "B");
        }
    }
}

/// A UDP handle kept after `udp_unbind` does not reach the socket bound next in its slot.
#[test]
fn a_stale_udp_handle_finds_nothing() {
    let mut a = iface(A_MAC, A_IP);
    let old = a.udp_bind(5000, UdpSocket::new(4)).unwrap();
    assert!(a.udp_unbind(old).is_some());
    let new = a.udp_bind(5001, UdpSocket::new(4)).unwrap();
    assert_ne!(new, old);
    assert!(a.udp(old).is_none() && a.udp_unbind(old).is_none());
    assert!(a.udp(new).is_some());
}
