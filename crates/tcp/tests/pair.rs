//! Two sockets wired back to back through the wire format (emit → parse), no faults.

use core::time::Duration;

use unistack_ipv4::Ipv4Address;
use unistack_ipv4::checksum::Checksum;
use unistack_tcp::{
    Config, FourTuple, IsnKey, ListenOutcome, Listener, Outcome, Socket, State, TcpRepr,
};

const A: Ipv4Address = Ipv4Address::new(192, 0, 2, 1);
const B: Ipv4Address = Ipv4Address::new(192, 0, 2, 2);

/// Move every pending segment from `from` into `to` (through bytes), returning how many.
fn pump(now: Duration, from: &mut Socket<'_>, to: &mut Socket<'_>) -> usize {
    let mut n = 0;
    let mut buf = vec![0u8; 70_000];
    while let Some(t) = from.poll_transmit(now) {
        let len = t.repr.emit(&mut buf, t.src, t.dst, Checksum::Both).unwrap();
        let (src, dst) = (t.src, t.dst);
        let repr = TcpRepr::parse_bytes(&buf[..len], src, dst, Checksum::Both).unwrap();
        to.handle_segment(now, src, dst, &repr);
        n += 1;
        assert!(n < 10_000, "runaway sender");
    }
    n
}

fn connected_pair(cfg: Config) -> (Socket<'static>, Socket<'static>, Duration) {
    let key = IsnKey::new([3; 16]);
    let mut now = Duration::from_secs(1);
    let mut client = Socket::new(vec![0u8; 65536], vec![0u8; 65536], cfg);
    let mut server = Socket::new(vec![0u8; 65536], vec![0u8; 65536], cfg);
    let mut backlog = [None; 4];
    let mut listener = Listener::new(B, 80, &mut backlog[..], 65536, cfg, key.clone());
    let tuple = FourTuple {
        local_addr: A,
        local_port: 40000,
        remote_addr: B,
        remote_port: 80,
    };
    client.connect(now, tuple, &key).unwrap();
    let mut buf = vec![0u8; 2000];
    // SYN → listener → SYN-ACK → client → ACK → listener → accept → server.
    let syn = client.poll_transmit(now).unwrap();
    let len = syn
        .repr
        .emit(&mut buf, syn.src, syn.dst, Checksum::Both)
        .unwrap();
    let syn = TcpRepr::parse_bytes(&buf[..len], A, B, Checksum::Both).unwrap();
    let ListenOutcome::Reply(synack) = listener.handle_segment(now, A, B, &syn) else {
        panic!("no SYN-ACK")
    };
    now += Duration::from_millis(5);
    assert_eq!(
        client.handle_segment(now, B, A, &synack.repr),
        Outcome::Accepted
    );
    assert_eq!(client.state(), State::Established);
    let ack = client.poll_transmit(now).unwrap();
    let len = ack
        .repr
        .emit(&mut buf, ack.src, ack.dst, Checksum::Both)
        .unwrap();
    let ack = TcpRepr::parse_bytes(&buf[..len], A, B, Checksum::Both).unwrap();
    let ListenOutcome::Accept(hs) = listener.handle_segment(now, A, B, &ack) else {
        panic!("no accept")
    };
    server.accept(now, &hs).unwrap();
    assert_eq!(server.handle_segment(now, A, B, &ack), Outcome::Accepted);
    assert_eq!(server.state(), State::Established);
    (client, server, now)
}

#[test]
fn handshake_transfer_and_orderly_close() {
    let (mut c, mut s, mut now) = connected_pair(Config::default());
    assert_eq!(c.send_mss(), 1460 - 12);
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let mut sent = 0;
    let mut got = Vec::new();
    let mut rbuf = vec![0u8; 8192];
    for _ in 0..10_000 {
        if sent < data.len() {
            sent += c.send_slice(&data[sent..]).unwrap();
        }
        pump(now, &mut c, &mut s);
        loop {
            let n = s.recv_slice(&mut rbuf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&rbuf[..n]);
        }
        pump(now, &mut s, &mut c);
        now += Duration::from_millis(1);
        if got.len() == data.len() {
            break;
        }
    }
    assert_eq!(got.len(), data.len());
    assert!(got == data);
    assert_eq!(c.stats().retransmits, 0);
    assert_eq!(
        s.stats().rx_bytes_copied,
        data.len() as u64,
        "each byte copied once"
    );
    c.close();
    pump(now, &mut c, &mut s);
    assert_eq!(c.state(), State::FinWait1);
    assert_eq!(s.state(), State::CloseWait);
    pump(now, &mut s, &mut c);
    assert_eq!(c.state(), State::FinWait2);
    assert_eq!(
        s.recv_slice(&mut rbuf),
        Err(unistack_tcp::RecvError::Finished)
    );
    s.send_slice(b"bye").unwrap();
    s.close();
    pump(now, &mut s, &mut c);
    assert_eq!(s.state(), State::LastAck);
    assert_eq!(c.state(), State::TimeWait);
    pump(now, &mut c, &mut s);
    assert_eq!(s.state(), State::Closed);
    assert_eq!(s.error(), None);
    let n = c.recv_slice(&mut rbuf).unwrap();
    assert_eq!(&rbuf[..n], b"bye");
    now += Duration::from_secs(61);
    assert!(c.poll_transmit(now).is_none());
    assert_eq!(c.state(), State::Closed);
    assert!(c.srtt().is_some());
}

/// With a segment limit (TSO), new data leaves in segments of up to the limit (a fraction of
/// the count at one MSS each), the peer takes them as they are, and the stream arrives intact.
#[test]
fn segment_limit_sends_large_segments_in_mss_multiples() {
    let (mut client, mut server, mut now) = connected_pair(Config::default());
    let mss = client.send_mss();
    client.set_segment_limit(60_000);
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7) as u8).collect();
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 70_000];
    let (mut largest, mut segments, mut odd) = (0, 0, 0);
    for _ in 0..10_000 {
        sent += client.send_slice(&data[sent..]).unwrap();
        while let Some(t) = client.poll_transmit(now) {
            let n = t.repr.payload.len();
            largest = largest.max(n);
            let len = t.repr.emit(&mut buf, t.src, t.dst, Checksum::Both).unwrap();
            let (src, dst) = (t.src, t.dst);
            assert!(n <= 60_000);
            segments += usize::from(n > 0);
            // A large segment is cut at an MSS multiple when the window or congestion
            // window limits it; otherwise it ends at the queued data or the buffer's wrap.
            odd += usize::from(n > mss && n % mss != 0);
            let repr = TcpRepr::parse_bytes(&buf[..len], src, dst, Checksum::Both).unwrap();
            server.handle_segment(now, src, dst, &repr);
        }
        let mut chunk = [0u8; 65536];
        while let Ok(k) = server.recv_slice(&mut chunk) {
            if k == 0 {
                break;
            }
            got.extend_from_slice(&chunk[..k]);
        }
        pump(now, &mut server, &mut client);
        if got.len() == data.len() {
            break;
        }
        now += Duration::from_millis(1);
    }
    assert!(
        got == data,
        "stream differs ({} of {} bytes)",
        got.len(),
        data.len()
    );
    assert!(
        largest > 4 * mss,
        "largest segment {largest} bytes (MSS {mss})"
    );
    assert!(
        segments * mss * 3 < data.len(),
        "{segments} data segments for {} bytes (MSS {mss})",
        data.len()
    );
    assert!(
        odd * 2 <= segments,
        "{odd} of {segments} large segments not MSS multiples"
    );
}

/// A receiver that reads in place (`handle_segment_with`) gets the whole stream intact with
/// no copy at all, and one that takes only part of each offer falls back to the buffer for
/// the rest without reordering anything.
#[test]
fn bulk_read_in_place_copies_nothing() {
    for take in [usize::MAX, 1000, 0] {
        let (mut c, mut s, mut now) = connected_pair(Config::default());
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        let mut sent = 0;
        let mut got = Vec::new();
        let mut buf = vec![0u8; 70_000];
        for _ in 0..100_000 {
            if sent < data.len() {
                sent += c.send_slice(&data[sent..]).unwrap();
            }
            while let Some(t) = c.poll_transmit(now) {
                let len = t.repr.emit(&mut buf, t.src, t.dst, Checksum::Both).unwrap();
                let (src, dst) = (t.src, t.dst);
                let repr = TcpRepr::parse_bytes(&buf[..len], src, dst, Checksum::Both).unwrap();
                s.handle_segment_with(now, src, dst, &repr, false, &mut |d: &[u8]| {
                    let k = take.min(d.len());
                    got.extend_from_slice(&d[..k]);
                    k
                });
            }
            // Every other turn the application also drains what was buffered.
            if now.as_micros() % 20 == 0 {
                while let Ok(n) = s.recv_with(|d| {
                    got.extend_from_slice(d);
                    d.len()
                }) && n > 0
                {}
            }
            pump(now, &mut s, &mut c);
            now += Duration::from_micros(10);
            if got.len() == data.len() {
                break;
            }
        }
        assert_eq!(got.len(), data.len(), "take {take}");
        assert!(got == data, "take {take}: stream intact and in order");
        let st = s.stats();
        assert_eq!(
            st.rx_bytes_direct + st.rx_bytes_copied,
            data.len() as u64,
            "take {take}: each byte either read in place or copied once"
        );
        match take {
            usize::MAX => assert_eq!(st.rx_bytes_copied, 0, "nothing copied"),
            0 => assert_eq!(st.rx_bytes_direct, 0),
            _ => assert!(st.rx_bytes_direct > 0 && st.rx_bytes_copied > 0),
        }
    }
}
