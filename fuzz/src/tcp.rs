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

/// A connection driven by fuzzed segments, time steps and application calls.
///
/// A client socket is connected to a server accepted through a listener; then each input
/// byte picks an operation: a structured segment near the server's sequence space (so it
/// gets past the window checks), a raw segment parsed from the input, a listener segment, a
/// time step, or an application call. Invariants: SND.UNA <= SND.MAX, transmit loops end,
/// after draining every deadline lies in the future (no busy loop), and the client only
/// ever reads what the server wrote.
pub fn tcp_connection(data: &[u8]) {
    use std::time::Duration;
    use unistack_tcp::{
        Config, Control, FourTuple, IsnKey, ListenOutcome, Listener, OptionsRepr, SackBlocks,
        SeqNumber, Socket,
    };

    let (a, b) = (Ipv4Address([192, 0, 2, 1]), Ipv4Address([192, 0, 2, 2]));
    let mut input = data;
    let mut take = |n: usize| -> Option<Vec<u8>> {
        let (h, t) = input.split_at_checked(n)?;
        input = t;
        Some(h.to_vec())
    };
    let Some(cfg_byte) = take(1) else { return };
    let c = cfg_byte[0];
    let cfg = Config {
        sack: c & 1 != 0,
        timestamps: c & 2 != 0,
        window_scaling: c & 4 != 0,
        nagle: c & 8 != 0,
        delayed_ack: (c & 16 != 0).then_some(Duration::from_millis(40)),
        // Bit 5 picks a non-default algorithm: BBR with window scaling, else CUBIC.
        congestion: match (c & 32 != 0, c & 4 != 0) {
            (false, _) => unistack_tcp::Algorithm::NewReno,
            (true, false) => unistack_tcp::Algorithm::Cubic,
            (true, true) => unistack_tcp::Algorithm::Bbr,
        },
        keep_alive: (c & 64 != 0).then(|| unistack_tcp::KeepAlive {
            idle: Duration::from_secs(5),
            interval: Duration::from_secs(1),
            probes: 2,
        }),
        // No spare bit in the config byte: ECN is asked for when SACK and Nagle both are.
        ecn: c & 9 == 9,
        ..Config::default()
    };
    let key = IsnKey::new([c; 16]);
    let mut now = Duration::from_secs(1000);
    let mut backlog = [None; 2];
    let mut listener = Listener::new(b, 80, &mut backlog[..], 8192, cfg, key.clone());
    if c & 128 != 0 {
        listener.set_cookie_mode(unistack_tcp::CookieMode::Always);
    }
    let mut client = Socket::new(vec![0u8; 8192], vec![0u8; 8192], cfg);
    let mut server = Socket::new(vec![0u8; 8192], vec![0u8; 8192], cfg);
    let tuple = FourTuple {
        local_addr: a,
        local_port: 1234,
        remote_addr: b,
        remote_port: 80,
    };
    client.connect(now, tuple, &key).expect("closed socket");
    let syn = client.poll_transmit(now).expect("SYN").repr;
    let ListenOutcome::Reply(sa) = listener.handle_segment(now, a, b, &syn) else {
        panic!("listener ignored a SYN")
    };
    client.handle_segment(now, b, a, &sa.repr);
    let ack = client.poll_transmit(now).expect("ACK").repr;
    let ListenOutcome::Accept(hs) = listener.handle_segment(now, a, b, &ack) else {
        panic!("handshake did not complete")
    };
    server.accept(now, &hs).expect("closed socket");
    server.handle_segment(now, a, b, &ack);

    let mut written = 0usize;
    let mut read = 0usize;
    let mut buf = vec![0u8; 70_000];
    let pattern = |i: usize| (i as u8).wrapping_mul(31);
    let mut steps = 0;
    while let Some(op) = take(1) {
        steps += 1;
        if steps > 400 {
            break;
        }
        match op[0] % 10 {
            0 | 1 => {
                // A structured segment to the client, near its sequence space.
                let Some(f) = take(12) else { break };
                let seq = SeqNumber(
                    client
                        .rcv_nxt()
                        .0
                        .wrapping_add(u32::from(u16::from_le_bytes([f[0], f[1]])))
                        .wrapping_sub(8192),
                );
                let ackn = SeqNumber(
                    client
                        .snd_una()
                        .0
                        .wrapping_add(u32::from(u16::from_le_bytes([f[2], f[3]])))
                        .wrapping_sub(8192),
                );
                let sack_a = client.snd_una().0.wrapping_add(u32::from(f[8]) * 100);
                let sack =
                    SackBlocks::from_slice(&[(sack_a, sack_a.wrapping_add(u32::from(f[9]) * 50))])
                        .unwrap_or_default();
                let payload = vec![0xEE; usize::from(f[6]) * 8];
                let seg = TcpRepr {
                    src_port: 80,
                    dst_port: 1234,
                    control: match f[7] % 5 {
                        0 => Control::Syn,
                        1 => Control::Fin,
                        2 => Control::Rst,
                        _ => Control::None,
                    },
                    push: false,
                    ece: f[9] & 1 != 0,
                    cwr: f[9] & 2 != 0,
                    ae: false,
                    seq_number: seq,
                    ack_number: (f[7] & 0x80 == 0).then_some(ackn),
                    window_len: u16::from_le_bytes([f[4], f[5]]),
                    urgent: (f[9] & 4 != 0).then_some(u16::from_le_bytes([f[10], f[11]])),
                    options: OptionsRepr {
                        sack_blocks: if f[7] & 0x40 != 0 {
                            sack
                        } else {
                            SackBlocks::default()
                        },
                        timestamp: (f[7] & 0x20 != 0)
                            .then_some((u32::from(f[10]) << 8, u32::from(f[11]))),
                        ..OptionsRepr::default()
                    },
                    payload: if f[7] & 0x10 != 0 { &payload } else { &[] },
                };
                // Hostile data would (rightly) be delivered; track it as unverifiable.
                if !seg.payload.is_empty() {
                    read = usize::MAX;
                }
                client.handle_segment_ecn(now, b, a, &seg, f[9] & 8 != 0);
                let _ = (client.urgent_pending(), client.take_urgent_event());
            }
            2 => {
                // A raw segment from the input, to the client or the listener.
                let Some(len) = take(1) else { break };
                let Some(raw) = take(usize::from(len[0])) else {
                    break;
                };
                if let Ok(seg) = TcpRepr::parse_bytes(&raw, b, a, Checksum::Tx) {
                    if !seg.payload.is_empty() {
                        read = usize::MAX;
                    }
                    client.handle_segment(now, b, a, &seg);
                }
                if let Ok(seg) = TcpRepr::parse_bytes(&raw, a, b, Checksum::Tx) {
                    let _ = listener.handle_segment(now, a, b, &seg);
                }
            }
            3 => {
                let Some(t) = take(2) else { break };
                now += Duration::from_millis(u64::from(u16::from_le_bytes([t[0], t[1]])));
            }
            4 => {
                let Some(n) = take(1) else { break };
                let data: Vec<u8> = (0..usize::from(n[0]) * 64)
                    .map(|i| pattern(written + i))
                    .collect();
                // Odd counts go as urgent data (still inline, so still checkable).
                let sent = if n[0] & 1 == 1 {
                    server.send_urgent(&data)
                } else {
                    server.send_slice(&data)
                };
                if let Ok(q) = sent {
                    written += q;
                }
            }
            5 => {
                let mut out = [0u8; 3000];
                if let Ok(n) = client.recv_slice(&mut out)
                    && read != usize::MAX
                {
                    for (i, &byte) in out[..n].iter().enumerate() {
                        assert_eq!(
                            byte,
                            pattern(read + i),
                            "client read bytes the server never wrote"
                        );
                    }
                    read += n;
                }
            }
            6 => client.close(),
            7 => server.close(),
            8 => {
                if op[0] > 250 {
                    client.abort();
                }
            }
            _ => {
                // Deliver server → client and client → server traffic.
                for _ in 0..64 {
                    let mut moved = false;
                    if let Some(t) = server.poll_transmit(now) {
                        let n = t
                            .repr
                            .emit(&mut buf, t.src, t.dst, Checksum::Both)
                            .expect("fits");
                        let ect = t.ect;
                        let seg = TcpRepr::parse_bytes(&buf[..n], b, a, Checksum::Both)
                            .expect("own segment parses");
                        assert!(!ect || !seg.payload.is_empty(), "ECT without data");
                        // Every seventh step's deliveries arrive CE-marked. From op 29 up,
                        // the client's application reads in place, at most (op / 10 - 2) *
                        // 64 bytes of each offer (op 249: all of it), checking them as a
                        // buffered read does.
                        let ce = ect && steps % 7 == 0;
                        if op[0] >= 29 {
                            let limit = match op[0] / 10 - 2 {
                                22.. => usize::MAX,
                                k => usize::from(k) * 64,
                            };
                            client.handle_segment_with(now, b, a, &seg, ce, &mut |d: &[u8]| {
                                let d = &d[..d.len().min(limit)];
                                if read != usize::MAX {
                                    for (i, &byte) in d.iter().enumerate() {
                                        assert_eq!(
                                            byte,
                                            pattern(read + i),
                                            "client read in place bytes the server never wrote"
                                        );
                                    }
                                    read += d.len();
                                }
                                d.len()
                            });
                        } else {
                            client.handle_segment_ecn(now, b, a, &seg, ce);
                        }
                        moved = true;
                    }
                    if let Some(t) = client.poll_transmit(now) {
                        let n = t
                            .repr
                            .emit(&mut buf, t.src, t.dst, Checksum::Both)
                            .expect("fits");
                        let ect = t.ect;
                        let seg = TcpRepr::parse_bytes(&buf[..n], a, b, Checksum::Both)
                            .expect("own segment parses");
                        assert!(!ect || !seg.payload.is_empty(), "ECT without data");
                        server.handle_segment_ecn(now, a, b, &seg, ect && steps % 7 == 0);
                        moved = true;
                    }
                    if !moved {
                        break;
                    }
                }
            }
        }
        // Drain what the client wants to send (lost), then check invariants.
        for s in [&mut client, &mut server] {
            let mut n = 0;
            while s.poll_transmit(now).is_some() {
                n += 1;
                assert!(n < 10_000, "unbounded transmit loop");
            }
            if let Some(t) = s.poll_timeout() {
                assert!(t > now, "deadline {t:?} not after now {now:?}: busy loop");
            }
            assert!(s.snd_una() <= s.snd_nxt());
        }
        while listener.poll_transmit(now).is_some() {}
    }
}
