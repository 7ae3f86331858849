//! vchan over the in-process backend: modes, guards, states, wrapping, timeouts, leaks, and a
//! two-thread stress run with a content hash.

use std::time::{Duration, Instant};

use unistack_vchan::local::{Domain, Hypervisor, Outstanding};
use unistack_vchan::{Error, ServerConfig, State, Vchan};

const PATH: &str = "/local/domain/1/data/vchan/test";

fn pair(config: ServerConfig) -> (Hypervisor, Vchan<Domain>, Vchan<Domain>) {
    let hv = Hypervisor::new();
    let server = Vchan::server(hv.domain(1), 2, PATH, config).unwrap();
    let client = Vchan::client(hv.domain(2), 1, PATH).unwrap();
    (hv, server, client)
}

/// A deterministic byte stream: FNV-mixed counter.
fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8
}

fn fnv(h: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

#[test]
fn server_waits_then_both_directions_work() {
    let hv = Hypervisor::new();
    let mut server = Vchan::server(hv.domain(1), 2, PATH, ServerConfig::new(100, 100)).unwrap();
    assert_eq!(server.state(), Ok(State::Waiting));
    assert_eq!(server.try_read(&mut [0u8; 4]), Err(Error::WouldBlock));
    // Writes before the client connects are buffered (libxenvchan allows them).
    assert_eq!(server.try_write(b"early"), Ok(5));
    let mut client = Vchan::client(hv.domain(2), 1, PATH).unwrap();
    assert_eq!(server.wait_connected(), Ok(State::Connected));
    assert_eq!(client.state(), Ok(State::Connected));
    let mut buf = [0u8; 16];
    assert_eq!(client.try_read(&mut buf), Ok(5));
    assert_eq!(&buf[..5], b"early");
    client.write_all(b"hello server").unwrap();
    assert_eq!(server.read(&mut buf), Ok(12));
    assert_eq!(&buf[..12], b"hello server");
    assert_eq!(
        (server.read_ring_size(), server.write_ring_size()),
        (1024, 2048)
    );
    assert_eq!(
        (client.read_ring_size(), client.write_ring_size()),
        (2048, 1024)
    );
}

#[test]
fn every_ring_order_carries_data_across_the_wrap() {
    for (l, r) in [
        (1024, 2048),
        (2048, 1024),
        (4096, 4096),
        (8192, 100),
        (100, 1 << 16),
        (1 << 20, 1 << 20),
    ] {
        let (hv, mut server, mut client) = pair(ServerConfig::new(l, r));
        let total = 3 * server.write_ring_size().max(server.read_ring_size()) + 17;
        let chunk = 777;
        let mut got_s = Vec::new();
        let mut got_c = Vec::new();
        let (mut sent_s, mut sent_c) = (0usize, 0usize);
        let mut buf = vec![0u8; chunk];
        while got_s.len() < total || got_c.len() < total {
            if sent_s < total {
                let src: Vec<u8> = (sent_s..total.min(sent_s + chunk))
                    .map(|i| pattern(i as u64))
                    .collect();
                sent_s += server.try_write(&src).unwrap_or(0);
            }
            if sent_c < total {
                let src: Vec<u8> = (sent_c..total.min(sent_c + chunk))
                    .map(|i| pattern(!(i as u64)))
                    .collect();
                sent_c += client.try_write(&src).unwrap_or(0);
            }
            if let Ok(n) = client.try_read(&mut buf) {
                got_c.extend_from_slice(&buf[..n]);
            }
            if let Ok(n) = server.try_read(&mut buf) {
                got_s.extend_from_slice(&buf[..n]);
            }
        }
        assert!(
            got_c
                .iter()
                .enumerate()
                .all(|(i, &b)| b == pattern(i as u64))
        );
        assert!(
            got_s
                .iter()
                .enumerate()
                .all(|(i, &b)| b == pattern(!(i as u64)))
        );
        drop((server, client));
        assert_eq!(hv.outstanding(), Outstanding::default(), "{l}/{r}");
    }
}

#[test]
fn indexes_near_u32_max_wrap() {
    for first in [u32::MAX - 3, u32::MAX - 1024, u32::MAX] {
        let config = ServerConfig {
            first_index: first,
            ..ServerConfig::new(1024, 4096)
        };
        let (_hv, mut server, mut client) = pair(config);
        let mut expect = 0u64;
        let mut next = 0u64;
        for round in 0..40 {
            let len = 100 + round * 37;
            let src: Vec<u8> = (next..next + len).map(pattern).collect();
            client.send(&src[..len.min(1024) as usize]).unwrap();
            next += len.min(1024);
            let mut dst = vec![0u8; len.min(1024) as usize];
            server.recv(&mut dst).unwrap();
            for b in dst {
                assert_eq!(b, pattern(expect));
                expect += 1;
            }
        }
        assert!(next > 2 * 1024, "wrapped the index and the ring");
    }
}

#[test]
fn packets_are_all_or_nothing() {
    let (_hv, mut server, mut client) = pair(ServerConfig::new(1024, 2048));
    assert_eq!(
        client.try_send(&[0u8; 1025]),
        Err(Error::TooLarge {
            len: 1025,
            max: 1024
        })
    );
    client.try_send(&[1u8; 1000]).unwrap();
    assert_eq!(client.try_send(&[2u8; 25]), Err(Error::WouldBlock));
    client.try_send(&[2u8; 24]).unwrap();
    let mut big = [0u8; 1025];
    assert!(matches!(
        server.try_recv(&mut big),
        Err(Error::TooLarge { .. })
    ));
    let mut a = [0u8; 1000];
    server.try_recv(&mut a).unwrap();
    assert!(a.iter().all(|&b| b == 1));
    let mut b = [0u8; 25];
    assert_eq!(server.try_recv(&mut b), Err(Error::WouldBlock));
    assert_eq!(server.try_recv(&mut b[..24]), Ok(()));
    server.set_timeout(Some(Duration::from_millis(20)));
    let t = Instant::now();
    assert_eq!(server.recv(&mut b), Err(Error::TimedOut));
    assert!(t.elapsed() >= Duration::from_millis(20));
}

#[test]
fn guards_read_and_write_in_place_across_the_wrap() {
    let (_hv, mut server, mut client) = pair(ServerConfig::new(1024, 2048));
    // Move the indexes to 1000 so the next 100 bytes wrap.
    client.write_all(&[0u8; 1000]).unwrap();
    let mut sink = [0u8; 1000];
    server.recv(&mut sink).unwrap();
    let g = client.write_guard().unwrap();
    assert_eq!(g.len(), 1024);
    assert_eq!(g.runs(), (24, 1000));
    g.write_at(20, b"WXYZ-after-wrap").unwrap();
    g.write_at(0, b"header:").unwrap();
    assert_eq!(g.write_at(1020, b"12345"), Err(Error::InvalidArgument));
    g.commit(35).unwrap();
    let g = server.read_guard().unwrap();
    assert_eq!(g.len(), 35);
    assert_eq!(g.runs(), (24, 11));
    let mut head = [0u8; 7];
    g.read_at(0, &mut head).unwrap();
    assert_eq!(&head, b"header:");
    let mut tail = [0u8; 15];
    g.read_at(20, &mut tail).unwrap();
    assert_eq!(&tail, b"WXYZ-after-wrap");
    assert_eq!(g.read_at(30, &mut [0u8; 6]), Err(Error::InvalidArgument));
    g.commit(7).unwrap();
    // Uncommitted bytes stay.
    let g = server.read_guard().unwrap();
    assert_eq!(g.len(), 28);
    assert_eq!(g.commit(29), Err(Error::InvalidArgument));
    assert_eq!(server.data_ready(), Ok(28));
}

#[test]
fn peer_close_is_drainable_then_end_of_stream() {
    let (hv, mut server, mut client) = pair(ServerConfig::new(1024, 2048));
    client.write_all(b"last words").unwrap();
    drop(client);
    assert_eq!(server.state(), Ok(State::PeerClosed));
    assert_eq!(server.try_write(b"x"), Err(Error::Closed));
    let mut buf = [0u8; 64];
    assert_eq!(server.read(&mut buf), Ok(10));
    assert_eq!(server.state(), Ok(State::Closed));
    assert_eq!(server.read(&mut buf), Ok(0));
    assert_eq!(server.try_recv(&mut buf[..1]), Err(Error::Closed));
    server.close();
    assert_eq!(server.state(), Ok(State::Closed));
    assert_eq!(server.try_read(&mut buf), Err(Error::Closed));
    assert_eq!(hv.outstanding().keys, 0, "server removed its keys at close");
    drop(server);
    assert_eq!(hv.outstanding(), Outstanding::default());
}

#[test]
fn server_close_ends_a_blocked_client_read() {
    let (_hv, server, mut client) = pair(ServerConfig::new(1024, 2048));
    let t = std::thread::spawn(move || {
        let mut buf = [0u8; 4];
        client.read(&mut buf)
    });
    std::thread::sleep(Duration::from_millis(20));
    drop(server);
    assert_eq!(t.join().unwrap(), Ok(0));
}

#[test]
fn client_without_server_is_not_found_or_times_out() {
    let hv = Hypervisor::new();
    assert_eq!(
        Vchan::client(hv.domain(2), 1, PATH).err(),
        Some(Error::NotFound)
    );
    let t = Instant::now();
    let r = Vchan::client_timeout(hv.domain(2), 1, PATH, Duration::from_millis(30));
    assert_eq!(r.err(), Some(Error::TimedOut));
    assert!(t.elapsed() >= Duration::from_millis(30));
    // A server that shows up later is found.
    let hv2 = hv.clone();
    let s = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        Vchan::server(hv2.domain(1), 2, PATH, ServerConfig::new(10, 10)).unwrap()
    });
    let c = Vchan::client_timeout(hv.domain(2), 1, PATH, Duration::from_secs(5)).unwrap();
    let mut server = s.join().unwrap();
    assert_eq!(server.wait_connected(), Ok(State::Connected));
    drop((c, server));
    assert_eq!(hv.outstanding(), Outstanding::default());
}

#[test]
fn wrong_domain_cannot_connect() {
    let hv = Hypervisor::new();
    let _server = Vchan::server(hv.domain(1), 2, PATH, ServerConfig::new(10, 10)).unwrap();
    assert!(matches!(
        Vchan::client(hv.domain(3), 1, PATH),
        Err(Error::Backend(_))
    ));
}

#[test]
fn bad_arguments() {
    let hv = Hypervisor::new();
    let long = "p".repeat(unistack_vchan::vchan::MAX_PATH_LEN + 1);
    assert_eq!(
        Vchan::server(hv.domain(1), 2, &long, ServerConfig::new(1, 1)).err(),
        Some(Error::InvalidArgument)
    );
    assert_eq!(
        Vchan::server(hv.domain(1), 2, PATH, ServerConfig::new(1 << 21, 1)).err(),
        Some(Error::InvalidArgument)
    );
    assert_eq!(hv.outstanding(), Outstanding::default());
}

/// Two threads move 50 MB (`STRESS_BYTES` overrides) through a 64 KiB ring, in stream and packet
/// mode alternately, and compare FNV hashes of what was written and read.
#[test]
fn two_thread_stress_with_hash() {
    let total: u64 = std::env::var("STRESS_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50 << 20);
    let (hv, mut server, mut client) = pair(ServerConfig::new(1 << 16, 1 << 12));
    let writer = std::thread::spawn(move || {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        let mut i = 0u64;
        let mut buf = vec![0u8; 10_007];
        let mut round = 0usize;
        while i < total {
            // Vary sizes so every alignment and wrap point is hit.
            let n = ((round * 7919) % buf.len() + 1).min((total - i) as usize);
            for (k, b) in buf[..n].iter_mut().enumerate() {
                *b = pattern(i + k as u64);
            }
            h = fnv(h, &buf[..n]);
            if round.is_multiple_of(2) {
                client.write_all(&buf[..n]).unwrap();
            } else {
                for piece in buf[..n].chunks(client.write_ring_size()) {
                    client.send(piece).unwrap();
                }
            }
            i += n as u64;
            round += 1;
        }
        h
    });
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut got = 0u64;
    let mut buf = vec![0u8; 6007];
    while got < total {
        let n = server.read(&mut buf).unwrap();
        assert!(n > 0);
        h = fnv(h, &buf[..n]);
        got += n as u64;
    }
    assert_eq!(writer.join().unwrap(), h);
    assert_eq!(
        server.read(&mut buf),
        Ok(0),
        "client gone after the last byte"
    );
    drop(server);
    assert_eq!(hv.outstanding(), Outstanding::default());
}

/// A blocking read that finds data while polling has asked the writer for no event, so the
/// writer sends none (it would cost the writer a notification and leave us an event to
/// drain); one that sleeps (budget 0 or 1 turn) asks, and the write's event wakes it. Either
/// way the data arrives and no event is left over.
#[test]
fn polling_reads_ask_for_no_event() {
    for spin in [u32::MAX, 0, 1] {
        let (_hv, mut server, mut client) = pair(ServerConfig::new(1024, 4096));
        client.set_spin(spin);
        client.set_timeout(Some(Duration::from_secs(30)));
        // The page starts with a write request set for each side (as libxenvchan's does):
        // one exchange clears it, then drain the events so far.
        server.write_all(b"x").unwrap();
        assert_eq!(client.read(&mut [0u8; 1]), Ok(1));
        while client.wait_event(Some(Duration::ZERO)).unwrap() {}
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            server.write_all(b"hello").unwrap();
            server
        });
        let mut buf = [0u8; 16];
        let mut got = 0;
        while got < 5 {
            got += client.read(&mut buf[got..]).unwrap();
        }
        assert_eq!(&buf[..5], b"hello");
        let _server = writer.join().unwrap();
        let pending = client.wait_event(Some(Duration::from_millis(20))).unwrap();
        assert!(
            !pending,
            "spin {spin}: the writer sent an event nobody asked for"
        );
    }
}

/// A polling call that times out has asked for an event first, so a caller that then
/// waits on the event channel itself (as an event loop does) is woken by the peer's write.
#[test]
fn a_polling_call_that_times_out_has_asked_for_an_event() {
    let (_hv, mut server, mut client) = pair(ServerConfig::new(1024, 4096));
    server.write_all(b"x").unwrap();
    assert_eq!(client.read(&mut [0u8; 1]), Ok(1));
    while client.wait_event(Some(Duration::ZERO)).unwrap() {}
    client.set_spin(1000);
    client.set_timeout(Some(Duration::ZERO));
    assert_eq!(client.read(&mut [0u8; 8]), Err(Error::TimedOut));
    server.write_all(b"y").unwrap();
    assert_eq!(client.wait_event(Some(Duration::from_secs(10))), Ok(true));
    assert_eq!(client.try_read(&mut [0u8; 8]), Ok(1));
}

/// Blocking calls that poll before sleeping (`set_spin`) move the same bytes, both ways.
#[test]
fn spinning_blocking_calls_move_the_same_bytes() {
    let (_hv, mut server, mut client) = pair(ServerConfig::new(1024, 4096));
    server.set_spin(1000);
    client.set_spin(1000);
    server.set_timeout(Some(Duration::from_secs(30)));
    client.set_timeout(Some(Duration::from_secs(30)));
    const N: u64 = 1 << 20;
    let writer = std::thread::spawn(move || {
        let mut i = 0u64;
        while i < N {
            let chunk: Vec<u8> = (i..(i + 777).min(N)).map(pattern).collect();
            server.write_all(&chunk).unwrap();
            i += chunk.len() as u64;
        }
        // Wait for the reader's answer, then close.
        let mut k = [0u8; 1];
        server.read(&mut k).unwrap();
        server
    });
    let (mut got, mut hash) = (0u64, 0xcbf2_9ce4_8422_2325u64);
    let mut buf = vec![0u8; 4096];
    while got < N {
        let n = client.read(&mut buf).unwrap();
        hash = fnv(hash, &buf[..n]);
        got += n as u64;
    }
    client.write_all(b"k").unwrap();
    drop(writer.join().unwrap());
    let want = fnv(
        0xcbf2_9ce4_8422_2325,
        &(0..N).map(pattern).collect::<Vec<u8>>(),
    );
    assert_eq!((got, hash), (N, want));
}
