//! Segment-in/segment-out scripts for each RFC behaviour, read like packetdrill: `inject`
//! is a segment from the peer, `expect` the segment we must send, numbers relative to each
//! side's ISS.

mod common;

use std::time::Duration;

use common::*;
use unistack_tcp::{
    Algorithm, Config, ConnectionError, KeepAlive, Outcome, RecvError, SendError, State,
};

fn abs(s: &Script, rel: u32) -> u32 {
    s.peer_iss.wrapping_add(rel)
}

// ----- RFC 9293: opening -----

#[test]
fn active_open_offers_options_and_completes() {
    let (mut s, syn) = Script::connect(plain());
    assert_eq!(syn.line(), "S seq 0 len 0");
    assert_eq!(syn.options.max_seg_size, Some(1460));
    assert_eq!(
        syn.options.window_scale,
        Some(1),
        "65536-byte buffer needs shift 1"
    );
    assert!(syn.options.sack_permitted);
    assert_eq!(syn.options.timestamp, None);
    assert_eq!(syn.win, 65535, "SYN windows are never scaled");
    assert_eq!(s.sock.state(), State::SynSent);
    assert_eq!(
        s.inject(seg("S.").ack(1).mss(1000).wscale(7).sack_ok()),
        Outcome::Accepted
    );
    assert_eq!(s.sock.state(), State::Established);
    let ack = s.expect(". seq 1 ack 1 len 0");
    assert_eq!(ack.win, 32768, "65536 >> 1");
    assert_eq!(s.sock.send_mss(), 1000);
    s.sock.send_slice(&[7; 100]).unwrap();
    s.expect("P. seq 1 ack 1 len 100");
}

#[test]
fn syn_retransmits_with_backoff_then_times_out() {
    let cfg = Config {
        syn_retries: 3,
        ..plain()
    };
    let (mut s, _) = Script::connect(cfg);
    for expected in [1000, 2000, 4000] {
        assert_eq!(s.until_deadline(), Duration::from_millis(expected));
        s.expect("S seq 0 len 0");
    }
    assert_eq!(s.until_deadline(), Duration::from_millis(8000));
    s.expect_none();
    assert_eq!(s.sock.state(), State::Closed);
    assert_eq!(s.sock.error(), Some(ConnectionError::TimedOut));
}

#[test]
fn syn_sent_accepts_only_a_reset_that_acks_our_syn() {
    let (mut s, _) = Script::connect(plain());
    assert_eq!(
        s.inject(seg("R").seq(0)),
        Outcome::Dropped,
        "RST without ACK"
    );
    assert_eq!(s.sock.state(), State::SynSent);
    // An ACK of something we never sent: RST <SEQ=SEG.ACK>, stay in SYN-SENT.
    assert_eq!(s.inject(seg(".").ack(5)), Outcome::Dropped);
    s.expect("R seq 5 len 0");
    assert_eq!(
        s.inject(seg("R.").ack(7)),
        Outcome::Dropped,
        "RST with a bad ACK"
    );
    assert_eq!(s.inject(seg("R.").ack(1)), Outcome::Reset);
    assert_eq!(s.sock.error(), Some(ConnectionError::Refused));
    assert_eq!(s.sock.state(), State::Closed);
}

#[test]
fn simultaneous_open() {
    let (mut s, _) = Script::connect(plain());
    assert_eq!(s.inject(seg("S").seq(0).mss(1460)), Outcome::Accepted);
    assert_eq!(s.sock.state(), State::SynReceived);
    s.expect("S. seq 0 ack 1 len 0");
    // The peer's SYN-ACK (its SYN again, acknowledging ours) completes the open.
    assert_eq!(s.inject(seg("S.").seq(0).ack(1)), Outcome::Accepted);
    assert_eq!(s.sock.state(), State::Established);
    s.expect_none();
}

#[test]
fn passive_open_through_the_listener() {
    let mut s = Script::accepted(plain(), seg("S").mss(1400).wscale(3).sack_ok());
    assert_eq!(s.sock.state(), State::Established);
    assert_eq!(s.sock.send_mss(), 1400);
    s.sock.send_slice(b"hello").unwrap();
    let o = s.expect("P. seq 1 ack 1 len 5");
    assert_eq!(o.payload, b"hello");
}

// ----- data, ACKs, SACK -----

#[test]
fn delayed_ack_waits_then_every_second_segment_is_acked_at_once() {
    let cfg = Config {
        timestamps: false,
        ..Config::default()
    };
    let mut s = Script::established(cfg, seg("S."));
    assert_eq!(
        s.inject(seg("P.").seq(1).ack(1).len(100)),
        Outcome::Accepted
    );
    s.expect_none();
    assert_eq!(s.until_deadline(), Duration::from_millis(40));
    s.expect(". seq 1 ack 101 len 0");
    s.inject(seg(".").seq(101).ack(1).len(1460));
    s.expect_none();
    s.inject(seg(".").seq(1561).ack(1).len(1460));
    s.expect(". seq 1 ack 3021 len 0");
}

#[test]
fn out_of_order_data_is_sacked_and_reassembled() {
    let mut s = Script::established(plain(), seg("S.").sack_ok());
    s.inject(seg(".").seq(101).ack(1).len(100));
    let o = s.expect(". seq 1 ack 1 len 0");
    assert_eq!(
        o.options.sack_blocks.as_slice(),
        &[(abs(&s, 101), abs(&s, 201))]
    );
    s.inject(seg(".").seq(301).ack(1).len(100));
    let o = s.expect(". seq 1 ack 1 len 0");
    assert_eq!(
        o.options.sack_blocks.as_slice(),
        &[(abs(&s, 301), abs(&s, 401)), (abs(&s, 101), abs(&s, 201))],
        "most recent block first"
    );
    // A duplicate of held data changes nothing.
    s.inject(seg(".").seq(101).ack(1).len(100));
    s.expect(". seq 1 ack 1 len 0");
    s.inject(seg(".").seq(1).ack(1).data(&[b'a'; 100]));
    let o = s.expect(". seq 1 ack 201 len 0");
    assert_eq!(
        o.options.sack_blocks.as_slice(),
        &[(abs(&s, 301), abs(&s, 401))]
    );
    s.inject(seg(".").seq(201).ack(1).len(100));
    let o = s.expect(". seq 1 ack 401 len 0");
    assert!(o.options.sack_blocks.is_empty());
    assert_eq!(s.read_all(), 400);
    assert_eq!(&s.received[..100], &[b'a'; 100]);
    assert_eq!(
        s.sock.stats().rx_bytes_copied,
        400,
        "every byte copied once, the dup not at all"
    );
}

/// `handle_segment_with`: in-order data with nothing buffered is read in place (no copy) and
/// acknowledged as usual, the window's right edge moving by the same rule as after a read.
#[test]
fn in_order_data_is_read_in_place_without_a_copy() {
    let cfg = Config {
        timestamps: false,
        ..Config::default()
    };
    let mut s = Script::established(cfg, seg("S."));
    let (o, offered) = s.inject_direct(seg("P.").seq(1).ack(1).data(&[b'a'; 100]), usize::MAX);
    assert_eq!((o, offered), (Outcome::Accepted, Some(100)));
    assert_eq!(s.received, [b'a'; 100]);
    assert_eq!(s.sock.recv_queue(), 0);
    assert_eq!(s.sock.rcv_nxt().0.wrapping_sub(s.peer_iss), 101);
    // Acknowledged like any data (delayed). The buffer is empty, but the window's right
    // edge stays where it was until it can move by an MSS (SWS avoidance), as after a read.
    s.expect_none();
    s.after(40);
    let ack = s.expect(". seq 1 ack 101 len 0");
    assert_eq!(ack.win, 65535 - 100);
    // A second segment too; with its FIN, the FIN follows the data read in place.
    let (_, offered) = s.inject_direct(seg("F.").seq(101).ack(1).data(b"bye"), usize::MAX);
    assert_eq!(offered, Some(3));
    assert_eq!(s.sock.state(), State::CloseWait);
    s.expect(". seq 1 ack 105 len 0");
    assert_eq!(&s.received[100..], b"bye");
    let st = s.sock.stats();
    assert_eq!((st.rx_bytes_direct, st.rx_bytes_copied), (103, 0));
    let mut b = [0u8; 4];
    assert_eq!(s.sock.recv_slice(&mut b), Err(RecvError::Finished));
}

/// Reading in place opens the window the way a `recv` does: once the opening reaches the SWS
/// threshold (min(MSS, buffer / 2)) the ACK goes at once with the new window, instead of
/// waiting for the delayed-ACK timer while a peer holds back its tail.
#[test]
fn reading_in_place_announces_the_window_it_opens() {
    let cfg = Config {
        timestamps: false,
        ..Config::default()
    };
    let (mut s, _) = Script::connect_with(cfg, 2048, 2048);
    s.inject(seg("S.").ack(1).mss(1448));
    let o = s.expect(". seq 1 ack 1 len 0");
    assert_eq!(o.win, 2048);
    let (_, offered) = s.inject_direct(seg(".").seq(1).ack(1).len(1448), usize::MAX);
    assert_eq!(offered, Some(1448));
    let o = s.expect(". seq 1 ack 1449 len 0");
    assert_eq!(o.win, 2048, "the whole buffer again, at once");
    // A small segment opens less than the threshold: the delayed ACK as usual.
    s.inject_direct(seg(".").seq(1449).ack(1).len(100), usize::MAX);
    s.expect_none();
}

/// What the reader leaves is buffered, and from then on data queues behind it (never read in
/// place ahead of buffered bytes) until the application has drained the buffer.
#[test]
fn data_left_by_the_in_place_reader_is_buffered_in_order() {
    let mut s = Script::established(plain(), seg("S."));
    let data: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    let (_, offered) = s.inject_direct(seg(".").seq(1).ack(1).data(&data[..100]), 30);
    assert_eq!(offered, Some(100));
    assert_eq!(s.sock.recv_queue(), 70);
    let (_, offered) = s.inject_direct(seg(".").seq(101).ack(1).data(&data[100..200]), 30);
    assert_eq!(offered, None, "bytes are buffered ahead of it");
    s.read_all();
    let (_, offered) = s.inject_direct(seg(".").seq(201).ack(1).data(&data[200..]), 30);
    assert_eq!(offered, Some(100), "the buffer is empty again");
    s.read_all();
    assert_eq!(s.received, data);
    let st = s.sock.stats();
    assert_eq!((st.rx_bytes_direct, st.rx_bytes_copied), (60, 240));
}

/// Out-of-order data is never offered, nor the segment that fills the hole in front of it
/// (the reassembled run is in the buffer); a segment beyond the window is offered only what
/// fits.
#[test]
fn out_of_order_and_excess_data_are_not_read_in_place() {
    let (mut s, _) = Script::connect_with(plain(), 1000, 1000);
    s.inject(seg("S.").ack(1).mss(1460));
    s.expect(". seq 1 ack 1 len 0");
    let (_, offered) = s.inject_direct(seg(".").seq(101).ack(1).len(100), usize::MAX);
    assert_eq!(offered, None, "out of order");
    let (_, offered) = s.inject_direct(seg(".").seq(1).ack(1).data(&[7; 100]), usize::MAX);
    assert_eq!(offered, None, "held data behind the hole");
    assert_eq!(s.sock.recv_queue(), 200);
    s.read_all();
    let (_, offered) = s.inject_direct(seg(".").seq(201).ack(1).len(1400), usize::MAX);
    // The last window advertised was 800 (200 bytes were buffered then; reading them
    // opened less than SWS avoidance announces).
    assert_eq!(offered, Some(800), "only what the advertised window allows");
    assert_eq!(s.received.len(), 1000);
    assert_eq!(&s.received[..100], &[7; 100]);
}

/// Data behind a pending urgent mark is buffered, so that `urgent_pending` keeps counting
/// from what the application has read.
#[test]
fn urgent_data_is_not_read_in_place() {
    let mut s = Script::established(plain(), seg("S."));
    let (_, offered) = s.inject_direct(seg("PU.").seq(1).ack(1).data(b"abc!").urg(4), 4);
    assert_eq!(offered, None);
    assert_eq!(s.sock.urgent_pending(), Some(4));
    s.read_all();
    assert_eq!(s.sock.urgent_pending(), None);
    let (_, offered) = s.inject_direct(seg("P.").seq(5).ack(1).data(b"def"), 4);
    assert_eq!(offered, Some(3));
    assert_eq!(s.received, b"abc!def");
}

#[test]
fn data_beyond_the_window_is_trimmed() {
    let (mut s, _) = Script::connect_with(plain(), 1000, 1000);
    s.inject(seg("S.").ack(1).mss(1460));
    let o = s.expect(". seq 1 ack 1 len 0");
    assert_eq!(o.win, 1000);
    s.inject(seg("P.").seq(1).ack(1).len(1400));
    let o = s.expect(". seq 1 ack 1001 len 0");
    assert_eq!(o.win, 0);
    // Zero window: only RCV.NXT itself is acceptable for an empty segment; data is not.
    assert_eq!(
        s.inject(seg(".").seq(1001).ack(1).len(10)),
        Outcome::Dropped
    );
    s.expect(". seq 1 ack 1001 len 0");
}

#[test]
fn receiver_avoids_silly_window_updates() {
    let (mut s, _) = Script::connect_with(plain(), 8192, 8192);
    s.inject(seg("S.").ack(1).mss(1460));
    s.expect(". seq 1 ack 1 len 0");
    let mut seq = 1;
    while seq < 8193 {
        let n = (8193 - seq).min(1460);
        s.inject(seg(".").seq(seq).ack(1).len(n as usize));
        seq += n;
    }
    let o = s.drain().pop().unwrap();
    assert_eq!((o.ack, o.win), (Some(8193), 0));
    let mut small = [0u8; 100];
    assert_eq!(s.sock.recv_slice(&mut small), Ok(100));
    s.expect_none();
    let mut more = [0u8; 2000];
    assert_eq!(s.sock.recv_slice(&mut more), Ok(2000));
    let o = s.expect(". seq 1 ack 8193 len 0");
    assert_eq!(o.win, 2100);
}

#[test]
fn nagle_holds_small_segments_until_acked() {
    let mut s = Script::established(plain(), seg("S."));
    s.sock.send_slice(&[1; 10]).unwrap();
    s.expect("P. seq 1 ack 1 len 10");
    s.sock.send_slice(&[2; 10]).unwrap();
    s.sock.send_slice(&[3; 10]).unwrap();
    s.expect_none();
    s.inject(seg(".").seq(1).ack(11));
    s.expect("P. seq 11 ack 1 len 20");
    s.sock.set_nagle(false);
    s.sock.send_slice(&[4; 10]).unwrap();
    s.expect("P. seq 31 ack 1 len 10");
}

#[test]
fn window_scale_applies_after_the_handshake() {
    let mut s = Script::established(plain(), seg("S.").wscale(2).win(1000));
    s.inject(seg(".").seq(1).ack(1).win(730)); // 2920 bytes once scaled
    s.sock.send_slice(&[0; 6000]).unwrap();
    let sent: Vec<usize> = s.drain().iter().map(|o| o.len).collect();
    assert_eq!(sent, [1460, 1460]);
    // A window update for the rest of the data lets the remainder go.
    s.inject(seg(".").seq(1).ack(2921).win(1000));
    let sent: Vec<usize> = s.drain().iter().map(|o| o.len).collect();
    assert_eq!(
        sent,
        [1460, 1460],
        "Nagle holds the 160-byte tail while data is in flight"
    );
    s.inject(seg(".").seq(1).ack(5841).win(1000));
    s.expect("P. seq 5841 ack 1 len 160");
}

// ----- RFC 5961 -----

#[test]
fn resets_need_an_exact_sequence_number() {
    let mut s = Script::established(plain(), seg("S."));
    assert_eq!(s.inject(seg("R").seq(5)), Outcome::Challenged);
    s.expect(". seq 1 ack 1 len 0");
    assert_eq!(s.inject(seg("R").seq(1_000_000)), Outcome::Dropped);
    s.expect_none();
    assert_eq!(
        s.inject(seg("S").seq(7)),
        Outcome::Challenged,
        "SYN in ESTABLISHED"
    );
    s.expect(". seq 1 ack 1 len 0");
    assert_eq!(s.sock.state(), State::Established);
    assert_eq!(s.inject(seg("R").seq(1)), Outcome::Reset);
    assert_eq!(s.sock.state(), State::Closed);
    assert_eq!(s.sock.error(), Some(ConnectionError::Reset));
    assert_eq!(
        s.sock.send_slice(b"x"),
        Err(SendError::Connection(ConnectionError::Reset))
    );
}

#[test]
fn challenge_acks_are_rate_limited() {
    let cfg = Config {
        challenge_ack_limit: 2,
        ..plain()
    };
    let mut s = Script::established(cfg, seg("S."));
    let mut acks = 0;
    for _ in 0..5 {
        assert_eq!(s.inject(seg("R").seq(9)), Outcome::Challenged);
        acks += s.drain().len();
    }
    assert_eq!(acks, 2);
    s.after(1000);
    s.inject(seg("R").seq(9));
    assert_eq!(s.drain().len(), 1, "a new second, a new allowance");
}

#[test]
fn acks_outside_the_sent_range_are_refused() {
    let mut s = Script::established(plain(), seg("S."));
    s.sock.send_slice(&[1; 100]).unwrap();
    s.expect("P. seq 1 ack 1 len 100");
    assert_eq!(
        s.inject(seg(".").seq(1).ack(1000)),
        Outcome::Dropped,
        "ACK of unsent data"
    );
    s.expect(". seq 101 ack 1 len 0");
    assert_eq!(s.sock.send_queue(), 100);
    // Blind data injection with an ACK far in the past: challenged, data not taken.
    let old = 0u32.wrapping_sub(200_000);
    assert_eq!(
        s.inject(seg("P.").seq(1).ack(old).len(50)),
        Outcome::Challenged
    );
    assert_eq!(s.sock.recv_queue(), 0);
}

// ----- RFC 7323 -----

#[test]
fn paws_drops_old_timestamps_and_segments_without_them() {
    let cfg = Config {
        delayed_ack: None,
        ..Config::default()
    };
    let mut s = Script::established(cfg, seg("S.").ts(1000, 0));
    assert_eq!(s.sock.send_mss(), 1448);
    let o = s.drain();
    assert!(o.is_empty());
    assert_eq!(
        s.inject(seg("P.").seq(1).ack(1).len(10).ts(900, 0)),
        Outcome::Dropped
    );
    let o = s.expect(". seq 1 ack 1 len 0");
    assert_eq!(
        o.options.timestamp.map(|t| t.1),
        Some(1000),
        "TSecr echoes TS.Recent"
    );
    assert_eq!(
        s.inject(seg("P.").seq(1).ack(1).len(10)),
        Outcome::Dropped,
        "no timestamp"
    );
    s.drain();
    assert_eq!(
        s.inject(seg("P.").seq(1).ack(1).len(10).ts(1001, 0)),
        Outcome::Accepted
    );
    let o = s.expect(". seq 1 ack 11 len 0");
    assert_eq!(o.options.timestamp.map(|t| t.1), Some(1001));
    // Timestamp wrap-around counts as newer.
    s.inject(
        seg("P.")
            .seq(11)
            .ack(1)
            .len(10)
            .ts(1001u32.wrapping_add(0x7fff_0000), 0),
    );
    s.expect(". seq 1 ack 21 len 0");
}

#[test]
fn timestamps_measure_rtt_even_for_retransmissions() {
    let cfg = Config {
        delayed_ack: None,
        ..Config::default()
    };
    let mut s = Script::established(cfg, seg("S.").ts(1000, 0));
    s.sock.send_slice(&[0; 100]).unwrap();
    let o = s.expect("P. seq 1 ack 1 len 100");
    let tsval = o.options.timestamp.unwrap().0;
    s.after(30);
    s.inject(seg(".").seq(1).ack(101).ts(1001, tsval));
    let srtt = s.sock.srtt().unwrap();
    assert!(srtt > Duration::ZERO, "{srtt:?}");
}

// ----- loss recovery: RFC 6298, 5681, 6582, 6675 -----

#[test]
fn rto_retransmits_backs_off_and_obeys_karn() {
    let mut s = Script::established(plain(), seg("S."));
    let srtt = s.sock.srtt();
    s.sock.send_slice(&[5; 100]).unwrap();
    s.expect("P. seq 1 ack 1 len 100");
    assert_eq!(s.until_deadline(), Duration::from_millis(200), "RTO floor");
    s.expect("P. seq 1 ack 1 len 100");
    assert_eq!(s.until_deadline(), Duration::from_millis(400), "doubled");
    s.expect("P. seq 1 ack 1 len 100");
    assert_eq!(s.sock.stats().rto_fired, 2);
    s.after(10);
    s.inject(seg(".").seq(1).ack(101));
    assert_eq!(
        s.sock.srtt(),
        srtt,
        "Karn: no sample from a retransmitted segment"
    );
    assert_eq!(s.sock.send_queue(), 0);
    assert_eq!(
        s.sock.poll_timeout(),
        None,
        "timer stopped when nothing is outstanding"
    );
}

#[test]
fn retransmissions_run_out() {
    let cfg = Config {
        max_retransmissions: 3,
        ..plain()
    };
    let mut s = Script::established(cfg, seg("S."));
    s.sock.send_slice(&[5; 100]).unwrap();
    s.expect("P. seq 1 ack 1 len 100");
    for _ in 0..3 {
        s.until_deadline();
        s.expect("P. seq 1 ack 1 len 100");
    }
    s.until_deadline();
    s.expect("R. seq 101 ack 1 len 0");
    assert_eq!(s.sock.error(), Some(ConnectionError::TimedOut));
}

fn ten_segments(s: &mut Script) {
    s.sock.send_slice(&vec![0; 14600]).unwrap();
    let sent = s.drain();
    assert_eq!(sent.len(), 10, "initial window of 10 segments");
}

#[test]
fn newreno_fast_retransmit_and_partial_acks() {
    let mut s = Script::established(plain(), seg("S."));
    ten_segments(&mut s);
    s.inject(seg(".").seq(1).ack(1));
    s.inject(seg(".").seq(1).ack(1));
    s.expect_none();
    s.inject(seg(".").seq(1).ack(1));
    s.expect(". seq 1 ack 1 len 1460");
    s.expect_none();
    assert_eq!(s.sock.stats().fast_recoveries, 1);
    assert_eq!(s.sock.congestion_window(), 7300);
    // Partial ACK: the next hole goes at once (RFC 6582).
    s.inject(seg(".").seq(1).ack(2921));
    s.expect(". seq 2921 ack 1 len 1460");
    s.inject(seg(".").seq(1).ack(14601));
    assert_eq!(s.sock.send_queue(), 0);
    assert_eq!(s.sock.stats().retransmits, 2);
    assert_eq!(s.sock.stats().rto_fired, 0);
}

#[test]
fn sack_recovery_resends_only_the_holes() {
    let mut s = Script::established(plain(), seg("S.").sack_ok());
    ten_segments(&mut s);
    s.inject(seg(".").seq(1).ack(1).sack(&[(1461, 2921)]));
    s.inject(seg(".").seq(1).ack(1).sack(&[(1461, 4381)]));
    s.expect_none();
    s.inject(seg(".").seq(1).ack(1).sack(&[(1461, 5841)]));
    s.expect(". seq 1 ack 1 len 1460");
    s.expect_none();
    // Second loss at 5841: one SACKed segment above it is not enough (pipe = cwnd) ...
    s.inject(seg(".").seq(1).ack(1).sack(&[(7301, 8761), (1461, 5841)]));
    s.expect_none();
    // ... three are: the hole is lost and the pipe has room, so it is resent next.
    s.inject(seg(".").seq(1).ack(1).sack(&[(7301, 11681), (1461, 5841)]));
    s.expect(". seq 5841 ack 1 len 1460");
    s.expect_none();
    s.inject(seg(".").seq(1).ack(14601));
    assert_eq!(s.sock.stats().retransmits, 2);
    assert_eq!(s.sock.stats().rto_fired, 0);
}

/// A SACK connection whose RTT is measured at 1 ms: 2 segments sent and acknowledged after
/// 1 ms. Returns the next relative sequence number to be sent.
fn sack_connection_with_rtt() -> (Script, u32) {
    let mut s = Script::established(plain(), seg("S.").sack_ok());
    s.sock.set_nagle(false);
    s.sock.send_slice(&[1; 2920]).unwrap();
    assert_eq!(s.drain().len(), 2);
    s.after(1);
    s.inject(seg(".").seq(1).ack(2921));
    assert!(s.sock.srtt().is_some());
    (s, 2921)
}

fn micros(s: &mut Script, us: u64) {
    s.now += Duration::from_micros(us);
}

// ----- RACK-TLP (RFC 8985) -----

#[test]
fn tail_loss_is_repaired_by_a_probe_not_a_timeout() {
    let (mut s, base) = sack_connection_with_rtt();
    s.sock.send_slice(&vec![2; 4 * 1460]).unwrap();
    assert_eq!(s.drain().len(), 4);
    // The first two arrive; the last two (the tail) are lost: no later data, no dupACKs.
    s.after(1);
    s.inject(seg(".").seq(1).ack(base + 2920));
    s.expect_none();
    // The probe timeout, 2·SRTT + 2 ms, comes long before the 200 ms RTO: the last segment
    // goes again (no new data to send).
    let pto = s.until_deadline();
    assert!(pto <= Duration::from_millis(5), "{pto:?}");
    s.expect(&format!("P. seq {} ack 1 len 1460", base + 3 * 1460));
    s.expect_none();
    assert_eq!(s.sock.stats().tlp_probes, 1);
    // Its SACK shows the segment before it missing: RACK marks it lost once an RTT has
    // passed since it was sent, and fast recovery resends it.
    s.after(1);
    s.inject(
        seg(".")
            .seq(1)
            .ack(base + 2920)
            .sack(&[(base + 3 * 1460, base + 4 * 1460)]),
    );
    s.expect(&format!(". seq {} ack 1 len 1460", base + 2920));
    s.expect_none();
    s.after(1);
    s.inject(seg(".").seq(1).ack(base + 4 * 1460));
    assert_eq!(s.sock.send_queue(), 0);
    let st = *s.sock.stats();
    assert_eq!(
        (st.rto_fired, st.retransmits, st.fast_recoveries),
        (0, 2, 1)
    );
    assert!(st.rack_losses >= 1, "{st:?}");
}

#[test]
fn a_whole_flight_lost_is_repaired_by_a_probe_not_a_timeout() {
    // As when one TSO frame carrying the whole flight is dropped.
    let (mut s, base) = sack_connection_with_rtt();
    s.sock.send_slice(&vec![2; 3 * 1460]).unwrap();
    assert_eq!(s.drain().len(), 3);
    assert!(s.until_deadline() <= Duration::from_millis(5));
    s.expect(&format!("P. seq {} ack 1 len 1460", base + 2 * 1460));
    s.after(1);
    s.inject(
        seg(".")
            .seq(1)
            .ack(base)
            .sack(&[(base + 2 * 1460, base + 3 * 1460)]),
    );
    s.expect(&format!(". seq {base} ack 1 len 1460"));
    s.expect(&format!(". seq {} ack 1 len 1460", base + 1460));
    s.after(1);
    s.inject(seg(".").seq(1).ack(base + 3 * 1460));
    assert_eq!(s.sock.stats().rto_fired, 0);
}

#[test]
fn a_lost_retransmission_is_resent_without_a_timeout() {
    let (mut s, base) = sack_connection_with_rtt();
    let seg_at = |i: u32| base + i * 1460;
    s.sock.send_slice(&vec![3; 8 * 1460]).unwrap();
    assert_eq!(s.drain().len(), 8);
    // Segment 0 is lost; 1..8 arrive: it is lost by RFC 6675's rule, resent at once.
    s.after(1);
    s.inject(seg(".").seq(1).ack(base).sack(&[(seg_at(1), seg_at(8))]));
    s.expect(&format!(". seq {base} ack 1 len 1460"));
    s.expect_none();
    // New data follows the retransmission, a little later.
    micros(&mut s, 200);
    s.sock.send_slice(&vec![4; 2 * 1460]).unwrap();
    assert_eq!(s.drain().len(), 2);
    // The retransmission is lost too, but data sent after it is SACKed: once RACK's RTT has
    // passed since the retransmission, it is lost again and resent, with no RTO.
    s.after(1);
    s.inject(seg(".").seq(1).ack(base).sack(&[(seg_at(1), seg_at(10))]));
    s.expect(&format!(". seq {base} ack 1 len 1460"));
    s.expect_none();
    assert_eq!(s.sock.stats().lost_retransmits, 1);
    s.after(1);
    s.inject(seg(".").seq(1).ack(seg_at(10)));
    assert_eq!(s.sock.send_queue(), 0);
    let st = *s.sock.stats();
    assert_eq!(
        (st.rto_fired, st.retransmits, st.fast_recoveries),
        (0, 2, 1)
    );
}

#[test]
fn reordering_within_the_window_is_not_loss() {
    // Three segments sent 100 µs apart; the second overtakes the first.
    let run = |first_arrives: bool| {
        let (mut s, base) = sack_connection_with_rtt();
        for i in 0..3 {
            s.sock.send_slice(&[5; 1460]).unwrap();
            assert_eq!(s.drain().len(), 1, "segment {i}");
            micros(&mut s, 100);
        }
        // 1.1 ms after the first was sent, the second is SACKed.
        micros(&mut s, 800);
        s.inject(
            seg(".")
                .seq(1)
                .ack(base)
                .sack(&[(base + 1460, base + 2920)]),
        );
        s.expect_none();
        // The first is deemed lost only after RACK.rtt (1 ms) + reo_wnd (min_RTT / 4) since
        // it was sent: 1.25 ms. The timer is set for then.
        let wait = s.sock.poll_timeout().unwrap() - s.now;
        assert_eq!(wait, Duration::from_micros(150));
        if first_arrives {
            // It arrives within the window: nothing is resent.
            micros(&mut s, 100);
            s.inject(seg(".").seq(1).ack(base + 2920));
            s.expect_none();
            micros(&mut s, 100);
            s.inject(seg(".").seq(1).ack(base + 3 * 1460));
        } else {
            // It does not: at the deadline it is resent, without waiting for an RTO.
            s.until_deadline();
            s.expect(&format!(". seq {base} ack 1 len 1460"));
            s.after(1);
            s.inject(seg(".").seq(1).ack(base + 3 * 1460));
        }
        assert_eq!(s.sock.send_queue(), 0);
        *s.sock.stats()
    };
    let st = run(true);
    assert_eq!(
        (st.retransmits, st.fast_recoveries, st.rto_fired),
        (0, 0, 0)
    );
    let st = run(false);
    assert_eq!(
        (st.retransmits, st.fast_recoveries, st.rto_fired),
        (1, 1, 0)
    );
}

#[test]
fn duplicate_data_is_reported_with_a_dsack() {
    let mut s = Script::established(plain(), seg("S.").sack_ok());
    s.inject(seg(".").seq(1).ack(1).len(100));
    s.expect(". seq 1 ack 101 len 0");
    // The same segment again (our ACK was lost, the peer retransmitted): RFC 2883.
    s.inject(seg(".").seq(1).ack(1).len(100));
    let o = s.expect(". seq 1 ack 101 len 0");
    assert_eq!(
        o.options.sack_blocks.as_slice(),
        &[(abs(&s, 1), abs(&s, 101))]
    );
    assert_eq!(s.sock.stats().dsacks_sent, 1);
    // Reported once.
    s.inject(seg(".").seq(101).ack(1).len(100));
    let o = s.expect(". seq 1 ack 201 len 0");
    assert!(o.options.sack_blocks.is_empty());
}

#[test]
fn limited_transmit_sends_new_data_on_early_dupacks() {
    let mut s = Script::established(plain(), seg("S."));
    s.sock.send_slice(&vec![0; 14600 + 2920]).unwrap();
    assert_eq!(s.drain().len(), 10);
    s.inject(seg(".").seq(1).ack(1));
    s.expect(". seq 14601 ack 1 len 1460");
    s.inject(seg(".").seq(1).ack(1));
    s.expect("P. seq 16061 ack 1 len 1460");
}

#[test]
fn cubic_is_selectable_per_connection() {
    let cfg = Config {
        congestion: Algorithm::Cubic,
        ..plain()
    };
    let mut s = Script::established(cfg, seg("S."));
    ten_segments(&mut s);
    for _ in 0..3 {
        s.inject(seg(".").seq(1).ack(1));
    }
    s.expect(". seq 1 ack 1 len 1460");
    assert_eq!(s.sock.congestion_window(), 14600 * 717 / 1024, "beta 0.7");
}

// ----- BBR -----

#[test]
fn bbr_paces_new_data_and_does_not_back_off_on_loss() {
    let cfg = Config {
        congestion: Algorithm::Bbr,
        ..plain()
    };
    let mut s = Script::established_with(cfg, seg("S.").sack_ok(), 1 << 20, 1 << 20);
    s.sock.set_nagle(false);
    // Before an RTT is measured nothing is paced: the initial window goes at once.
    assert_eq!(s.sock.congestion().pacing_rate(), None);
    ten_segments(&mut s);
    // All ten acknowledged 1 ms later: a 1 ms RTT sample and a delivery.
    s.after(1);
    s.inject(seg(".").seq(1).ack(14601));
    let bbr = *s.sock.congestion().bbr().expect("BBR");
    assert_eq!(bbr.min_rtt(), Some(Duration::from_millis(1)));
    let rate = bbr.pacing_rate().expect("paced once an RTT is known");
    // Startup: 2.885 x the initial window per RTT (less Linux's 1% margin), ~42 MB/s.
    assert!((40_000_000..43_000_000).contains(&rate), "{rate}");
    // Now segments leave one at a time, len / rate apart, and the deadline says when.
    s.sock.send_slice(&vec![0; 20 * 1460]).unwrap();
    let interval = Duration::from_nanos(1460 * 1_000_000_000 / rate);
    let mut sent = Vec::new();
    let start = s.now;
    while sent.len() < 20 {
        let out = s.drain();
        assert!(
            out.len() <= 1,
            "a burst of {} at {:?}",
            out.len(),
            s.now - start
        );
        sent.extend(out.iter().map(|o| (o.seq, s.now - start)));
        if sent.len() < 20 {
            let wait = s.until_deadline();
            assert!(wait <= interval, "{wait:?} > {interval:?}");
        }
    }
    let (first, last) = (sent[0].1, sent[19].1);
    let spread = last - first;
    assert!(
        spread >= interval * 19 - Duration::from_micros(1) && spread <= interval * 19 + interval,
        "20 segments over {spread:?}, interval {interval:?}"
    );
    // A loss shown by SACKs: the hole is resent, and the window stays where the model put
    // it (NewReno would halve it).
    let cwnd = s.sock.congestion_window();
    let at = |i: u32| 14601 + i * 1460;
    s.inject(seg(".").seq(1).ack(at(0)).sack(&[(at(1), at(5))]));
    let mut resent = Vec::new();
    for _ in 0..10 {
        resent.extend(s.drain().into_iter().filter(|o| o.seq == at(0)));
        if !resent.is_empty() {
            break;
        }
        s.until_deadline();
    }
    assert_eq!(resent.len(), 1, "the hole is retransmitted");
    assert_eq!(s.sock.stats().fast_recoveries, 1);
    assert!(
        s.sock.congestion_window() >= cwnd,
        "{} < {cwnd}",
        s.sock.congestion_window()
    );
}

// ----- PRR (RFC 6937) and undo (RFC 3522, RFC 3708) -----

#[test]
fn prr_spreads_the_reduction_over_the_recovery() {
    // 20 segments in flight, the first lost; limited transmit adds 4, so ssthresh is 12
    // segments. Dropping the window to it at once sends nothing new until the pipe (21
    // segments after the retransmission) falls below it, 9 SACKs later; PRR sends about one
    // new segment per two delivered from the start.
    let cfg = Config {
        initial_window: 20,
        ..plain()
    };
    let mut s = Script::established(cfg, seg("S.").sack_ok());
    s.sock.set_nagle(false);
    s.sock.send_slice(&vec![0; 40 * 1460]).unwrap();
    assert_eq!(s.drain().len(), 20);
    let at = |i: u32| 1 + i * 1460;
    let mut new_after = Vec::new();
    for k in 1..20 {
        s.inject(seg(".").seq(1).ack(1).sack(&[(at(1), at(k + 1))]));
        let out = s.drain();
        if k == 3 {
            assert_eq!(out[0].line(), ". seq 1 ack 1 len 1460", "fast retransmit");
            assert_eq!(s.sock.stats().fast_recoveries, 1);
        }
        new_after.push(out.iter().filter(|o| o.seq >= at(20)).count());
    }
    // Limited transmit (RFC 3042) sent two segments on each of the first two SACKs.
    assert_eq!(new_after[..2], [2, 2], "{new_after:?}");
    // SACKs 4 to 9 (the retransmission left with the third): new data already flows.
    let early: usize = new_after[3..9].iter().sum();
    assert!((2..=4).contains(&early), "{new_after:?}");
    // Over the recovery about half of what was delivered is replaced (ssthresh /
    // RecoverFS, the retransmission included), one segment at a time.
    let total: usize = new_after[2..].iter().sum();
    assert!((6..=9).contains(&total), "{new_after:?}");
    assert!(
        new_after[2..].iter().all(|&n| n <= 1),
        "no bursts: {new_after:?}"
    );
    let nxt = s.sock.snd_nxt().0.wrapping_sub(s.iss);
    s.inject(seg(".").seq(1).ack(nxt));
    assert_eq!(
        s.sock.congestion_window(),
        12 * 1460,
        "ssthresh when recovery ends"
    );
}

#[test]
fn a_reduction_shown_spurious_by_dsack_is_undone() {
    let mut s = Script::established(plain(), seg("S.").sack_ok());
    ten_segments(&mut s);
    for k in 2..=4u32 {
        s.inject(seg(".").seq(1).ack(1).sack(&[(1461, 1 + k * 1460)]));
    }
    s.expect(". seq 1 ack 1 len 1460");
    assert_eq!(s.sock.stats().fast_recoveries, 1);
    // The original was only delayed: it arrives, then the retransmission comes back as a
    // duplicate (RFC 2883), so the halving was for nothing.
    s.inject(seg(".").seq(1).ack(14601));
    assert_eq!(s.sock.congestion_window(), 7300);
    s.inject(seg(".").seq(1).ack(14601).sack(&[(1, 1461)]));
    assert_eq!(s.sock.stats().undos, 1);
    assert_eq!(
        s.sock.congestion_window(),
        14600,
        "window before the reduction"
    );
    // Slow start again (ssthresh was unset before), as before the false alarm.
    s.sock.send_slice(&vec![0; 20 * 1460]).unwrap();
    assert_eq!(s.drain().len(), 10);
    s.inject(seg(".").seq(1).ack(14601 + 1460));
    assert_eq!(s.sock.congestion_window(), 14600 + 1460);
}

#[test]
fn a_dsack_for_one_of_two_retransmissions_undoes_nothing() {
    let mut s = Script::established(plain(), seg("S.").sack_ok());
    ten_segments(&mut s);
    // Segments 0 and 5 missing; 1-4 and 6-9 SACKed: both are resent.
    s.inject(seg(".").seq(1).ack(1).sack(&[(1461, 7301)]));
    s.inject(seg(".").seq(1).ack(1).sack(&[(8761, 14601), (1461, 7301)]));
    let out: Vec<String> = s.drain().iter().map(|o| o.line()).collect();
    assert_eq!(
        out,
        [". seq 1 ack 1 len 1460", ". seq 7301 ack 1 len 1460"],
        "{out:?}"
    );
    s.inject(seg(".").seq(1).ack(14601));
    s.inject(seg(".").seq(1).ack(14601).sack(&[(1, 1461)]));
    assert_eq!(s.sock.stats().undos, 0, "the other loss was real");
    assert_eq!(s.sock.congestion_window(), 7300);
}

#[test]
fn a_spurious_timeout_is_undone_by_the_timestamp_echo() {
    let cfg = Config {
        delayed_ack: None,
        ..Config::default()
    };
    let mut s = Script::established(cfg, seg("S.").ts(1000, 0));
    s.sock.set_nagle(false);
    s.sock.send_slice(&vec![0; 4 * 1448]).unwrap();
    let sent = s.drain();
    assert_eq!(sent.len(), 4);
    let tsval = sent[0].options.timestamp.unwrap().0;
    // The path stalls past the RTO: the first segment goes again, later.
    s.until_deadline();
    let o = s.expect(". seq 1 ack 1 len 1448");
    assert!(o.options.timestamp.unwrap().0 > tsval);
    assert_eq!(s.sock.stats().rto_fired, 1);
    assert_eq!(s.sock.congestion_window(), 1448);
    // The ACK of the originals arrives, echoing their timestamp (RFC 3522): the timeout was
    // spurious, the window comes back and nothing else is resent.
    s.inject(seg(".").seq(1).ack(4 * 1448 + 1).ts(1001, tsval));
    assert_eq!(s.sock.stats().undos, 1);
    assert_eq!(s.sock.congestion_window(), 10 * 1448);
    s.expect_none();
    assert_eq!(s.sock.stats().retransmits, 1);
}

#[test]
fn a_timeout_acked_by_the_retransmission_is_not_undone() {
    let cfg = Config {
        delayed_ack: None,
        ..Config::default()
    };
    let mut s = Script::established(cfg, seg("S.").ts(1000, 0));
    s.sock.send_slice(&[0; 100]).unwrap();
    s.expect("P. seq 1 ack 1 len 100");
    s.until_deadline();
    let o = s.expect("P. seq 1 ack 1 len 100");
    let tsval = o.options.timestamp.unwrap().0;
    s.inject(seg(".").seq(1).ack(101).ts(1001, tsval));
    assert_eq!(s.sock.stats().undos, 0);
    assert!(s.sock.congestion_window() < 10 * 1448);
}

// ----- zero window, keep-alive -----

#[test]
fn zero_window_probes_until_the_window_opens() {
    let mut s = Script::established(plain(), seg("S.").win(0));
    s.sock.send_slice(&[9; 100]).unwrap();
    s.expect_none();
    assert_eq!(s.until_deadline(), Duration::from_millis(200));
    s.expect(". seq 1 ack 1 len 1");
    s.inject(seg(".").seq(1).ack(1).win(0));
    for i in 0..20 {
        s.until_deadline();
        let o = s.expect(". seq 1 ack 1 len 1");
        assert_eq!(o.payload, [9]);
        if i < 19 {
            s.inject(seg(".").seq(1).ack(1).win(0));
        }
    }
    assert_eq!(
        s.sock.state(),
        State::Established,
        "probing never gives up while answered"
    );
    s.inject(seg(".").seq(1).ack(2).win(65535));
    s.expect("P. seq 2 ack 1 len 99");
}

#[test]
fn a_small_window_held_back_by_sws_avoidance_is_used_after_the_override_timeout() {
    // RFC 9293 3.8.6.2.1: the sender holds back a segment smaller than both the MSS and half
    // the largest window seen, but "MUST" not wait forever: with nothing in flight no ACK will
    // come to open the window, so an override timeout sends what fits.
    let mut s = Script::established(plain(), seg("S.").win(65535));
    s.inject(seg(".").seq(1).ack(1).win(100));
    s.sock.send_slice(&[7; 1000]).unwrap();
    s.expect_none();
    let wait = s.until_deadline();
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_secs(1),
        "override timer {wait:?}"
    );
    let o = s.expect(". seq 1 ack 1 len 100");
    assert_eq!(o.payload, [7; 100]);
    // Acknowledged with the same small window: held back again, sent again on the timer.
    s.inject(seg(".").seq(1).ack(101).win(100));
    s.expect_none();
    s.until_deadline();
    s.expect(". seq 101 ack 1 len 100");
    // The window opens: the rest goes at once, no timer needed.
    s.inject(seg(".").seq(1).ack(201).win(65535));
    s.expect("P. seq 201 ack 1 len 800");
    assert_eq!(s.sock.stats().rto_fired, 0, "an override is not a timeout");
}

// ----- ECN (RFC 3168) -----

fn ecn_established(syn_ack_flags: &'static str) -> Script {
    let cfg = Config {
        ecn: true,
        nagle: false,
        ..plain()
    };
    let (mut s, syn) = Script::connect(cfg);
    assert_eq!(syn.flags, "SEW", "an ECN-setup SYN: ECE and CWR");
    assert!(!syn.ect, "SYNs are never ECT");
    s.inject(seg(syn_ack_flags).seq(0).ack(1).mss(1460));
    let ack = s.expect(". seq 1 ack 1 len 0");
    assert!(!ack.ect, "pure ACKs are never ECT");
    s
}

#[test]
fn ecn_is_negotiated_and_only_new_data_is_ect() {
    let mut s = ecn_established("SE.");
    assert!(s.sock.ecn());
    s.sock.send_slice(&[1; 100]).unwrap();
    let o = s.expect("P. seq 1 ack 1 len 100");
    assert!(o.ect, "new data is ECT(0)");
    // Its retransmission is not (6.1.5).
    s.until_deadline();
    let o = s.expect("P. seq 1 ack 1 len 100");
    assert!(!o.ect, "a retransmission is not ECT");
}

#[test]
fn ecn_needs_ece_without_cwr_on_the_syn_ack() {
    for flags in ["S.", "SEW."] {
        let mut s = ecn_established(flags);
        assert!(!s.sock.ecn(), "{flags}");
        s.sock.send_slice(&[1; 10]).unwrap();
        assert!(!s.expect("P. seq 1 ack 1 len 10").ect);
        // CE marks and ECE are then meaningless.
        s.inject(seg("P.").seq(1).ack(11).data(b"x").ce());
        let o = s.out().unwrap();
        assert!(!o.flags.contains('E'), "{o:?}");
    }
}

#[test]
fn ce_is_echoed_with_ece_until_the_peer_sends_cwr() {
    let mut s = ecn_established("SE.");
    s.inject(seg("P.").seq(1).ack(1).data(b"a").ce());
    s.expect("E. seq 1 ack 2 len 0");
    // Unmarked data: still echoing, as the peer has not answered.
    s.inject(seg("P.").seq(2).ack(1).data(b"b"));
    s.until_deadline();
    s.expect("E. seq 1 ack 3 len 0");
    // CWR ends the echo.
    s.inject(seg("PW.").seq(3).ack(1).data(b"c"));
    s.until_deadline();
    s.expect(". seq 1 ack 4 len 0");
    // A CE mark on a pure ACK is not a router's (pure ACKs are never ECT): no echo, no reply.
    s.inject(seg(".").seq(4).ack(1).ce());
    s.expect_none();
    s.inject(seg("P.").seq(4).ack(1).data(b"d"));
    s.until_deadline();
    s.expect(". seq 1 ack 5 len 0");
}

#[test]
fn ece_halves_the_window_once_per_window_and_the_next_data_says_cwr() {
    let mut s = ecn_established("SE.");
    s.sock.send_slice(&[5; 20 * 1460]).unwrap();
    let first = s.drain();
    assert_eq!(first.len(), 10, "the initial window");
    assert!(first.iter().all(|o| o.ect));
    let before = s.sock.congestion_window();
    // The first segment acknowledged with ECE: one reduction, by half of the flight.
    s.inject(seg("E.").seq(1).ack(1 + 1460));
    assert_eq!(s.sock.stats().ecn_reductions, 1);
    let after = s.sock.congestion_window();
    assert!(after < before, "{before} -> {after}");
    assert_eq!(s.sock.stats().retransmits, 0, "no retransmission for ECN");
    // More ECE within the same window: no further reduction.
    s.inject(seg("E.").seq(1).ack(1 + 2 * 1460));
    s.inject(seg("E.").seq(1).ack(1 + 3 * 1460));
    assert_eq!(s.sock.stats().ecn_reductions, 1);
    // The window's remaining data is acknowledged; new data goes out, the first with CWR.
    s.inject(seg(".").seq(1).ack(1 + 10 * 1460));
    let next = s.drain();
    assert!(!next.is_empty());
    assert!(next[0].flags.contains('W'), "{:?}", next[0]);
    assert!(next.iter().skip(1).all(|o| !o.flags.contains('W')));
    // ECE after that window: a second reduction.
    let top = next.iter().map(|o| o.seq + o.len as u32).max().unwrap();
    s.inject(seg("E.").seq(1).ack(top));
    assert_eq!(s.sock.stats().ecn_reductions, 2);
}

#[test]
fn a_passive_open_accepts_ecn_when_the_syn_asks() {
    let syn = seg("SEW").mss(1460);
    let mut s = Script::accepted(plain(), syn);
    assert!(s.sock.ecn(), "the SYN asked: a passive open accepts");
    s.sock.send_slice(b"hi").unwrap();
    assert!(s.out().unwrap().ect);
    // Without the request: no ECN.
    let s = Script::accepted(plain(), seg("S").mss(1460));
    assert!(!s.sock.ecn());
}

// ----- urgent data (RFC 9293 3.8.5, RFC 6093: inline, pointer after the last urgent byte) -----

#[test]
fn urgent_data_is_reported_and_read_inline() {
    let mut s = Script::established(plain(), seg("S."));
    assert_eq!(s.sock.urgent_pending(), None);
    assert!(!s.sock.take_urgent_event());
    // "abc" then urgent "!": the pointer is 4 (the octet after the '!').
    s.inject(seg("PU.").seq(1).ack(1).data(b"abc!def").urg(4));
    assert!(
        s.sock.take_urgent_event(),
        "MUST-32: the application hears of it"
    );
    assert!(!s.sock.take_urgent_event(), "once");
    assert_eq!(
        s.sock.urgent_pending(),
        Some(4),
        "MUST-33: how much to read"
    );
    let mut two = [0u8; 2];
    assert_eq!(s.sock.recv_slice(&mut two), Ok(2));
    assert_eq!(&two, b"ab");
    assert_eq!(s.sock.urgent_pending(), Some(2));
    let mut rest = [0u8; 16];
    assert_eq!(s.sock.recv_slice(&mut rest), Ok(5));
    assert_eq!(&rest[..5], b"c!def", "urgent bytes stay inline, in order");
    assert_eq!(s.sock.urgent_pending(), None);
    // A repeated pointer is no news; one further ahead is, even beyond what has arrived.
    s.inject(seg("PU.").seq(8).ack(1).data(b"gh").urg(0));
    assert!(!s.sock.take_urgent_event(), "a zero pointer marks nothing");
    s.inject(seg("PU.").seq(10).ack(1).data(b"ij").urg(100));
    assert!(s.sock.take_urgent_event());
    // Unread "ghij" from seq 8; the mark is 10 + 100 = 110: 102 bytes, most not yet arrived.
    assert_eq!(s.sock.urgent_pending(), Some(102));
    s.inject(seg("PU.").seq(12).ack(1).data(b"kl").urg(50));
    assert!(
        !s.sock.take_urgent_event(),
        "a pointer behind the current mark is ignored"
    );
    assert_eq!(s.sock.urgent_pending(), Some(102));
}

#[test]
fn urgent_pointer_is_ignored_after_the_peer_closed() {
    let mut s = Script::established(plain(), seg("S."));
    s.inject(seg("F.").seq(1).ack(1));
    assert_eq!(s.sock.state(), State::CloseWait);
    s.inject(seg("PU.").seq(2).ack(1).data(b"x").urg(1));
    assert!(!s.sock.take_urgent_event());
    assert_eq!(s.sock.urgent_pending(), None);
}

#[test]
fn urgent_mode_marks_every_segment_until_the_mark_is_acknowledged() {
    let mut s = Script::established(plain(), seg("S."));
    s.sock.set_nagle(false);
    s.sock.send_slice(b"hello").unwrap();
    assert_eq!(s.sock.send_urgent(b"!"), Ok(1));
    // One segment with both: URG, pointer 6 (after the '!').
    let o = s.expect("PU. seq 1 ack 1 len 6");
    assert_eq!(o.urgent, Some(6));
    assert_eq!(o.payload, b"hello!");
    // More ordinary data before the mark is acknowledged: still in urgent mode, and the
    // pointer is relative to each segment (the mark is behind this one: no URG).
    s.sock.send_slice(b"later").unwrap();
    let o = s.expect("P. seq 7 ack 1 len 5");
    assert_eq!(o.urgent, None, "the mark lies before this segment");
    // A retransmission of the urgent segment carries the pointer again.
    s.until_deadline();
    let o = s.out().unwrap();
    assert_eq!((o.seq, o.urgent), (1, Some(6)), "{o:?}");
    // Acknowledged: urgent mode ends.
    s.inject(seg(".").seq(1).ack(12));
    s.sock.send_slice(b"x").unwrap();
    let o = s.expect("P. seq 12 ack 1 len 1");
    assert_eq!(o.urgent, None);
}

#[test]
fn urgent_pointer_reaches_the_peer_before_the_data_when_the_window_is_shut() {
    // The point of urgent data: the peer learns of it even when flow control holds the bytes.
    let mut s = Script::established(plain(), seg("S.").win(0));
    s.sock.send_urgent(b"!").unwrap();
    s.expect_none();
    // Whatever goes out first — the ACK of the peer's data or the window probe — carries
    // the pointer to the mark (sequence 2, just after the '!').
    s.inject(seg("P.").seq(1).ack(1).win(0).data(b"q"));
    s.until_deadline();
    let o = s.out().unwrap();
    assert_eq!(o.seq + u32::from(o.urgent.unwrap()), 2, "{o:?}");
}

#[test]
fn keep_alive_probes_then_drops_a_dead_peer() {
    let ka = KeepAlive {
        idle: Duration::from_secs(10),
        interval: Duration::from_secs(1),
        probes: 3,
    };
    let cfg = Config {
        keep_alive: Some(ka),
        ..plain()
    };
    let mut s = Script::established(cfg, seg("S."));
    assert_eq!(s.until_deadline(), Duration::from_secs(10));
    s.expect(". seq 0 ack 1 len 0");
    // An answer restarts the idle timer.
    s.inject(seg(".").seq(1).ack(1));
    assert_eq!(s.until_deadline(), Duration::from_secs(10));
    s.expect(". seq 0 ack 1 len 0");
    for _ in 0..2 {
        assert_eq!(s.until_deadline(), Duration::from_secs(1));
        s.expect(". seq 0 ack 1 len 0");
    }
    assert_eq!(s.until_deadline(), Duration::from_secs(1));
    s.expect("R. seq 1 ack 1 len 0");
    assert_eq!(s.sock.error(), Some(ConnectionError::TimedOut));
}

// ----- closing -----

#[test]
fn time_wait_lasts_two_msl_and_re_acks_a_repeated_fin() {
    let mut s = Script::established(plain(), seg("S."));
    s.sock.close();
    s.expect("F. seq 1 ack 1 len 0");
    assert_eq!(s.sock.state(), State::FinWait1);
    s.inject(seg(".").seq(1).ack(2));
    assert_eq!(s.sock.state(), State::FinWait2);
    s.inject(seg("F.").seq(1).ack(2));
    assert_eq!(s.sock.state(), State::TimeWait);
    s.expect(". seq 2 ack 2 len 0");
    s.after(30_000);
    s.inject(seg("F.").seq(1).ack(2));
    s.expect(". seq 2 ack 2 len 0");
    assert_eq!(s.until_deadline(), Duration::from_secs(60), "restarted");
    s.expect_none();
    assert_eq!(s.sock.state(), State::Closed);
    assert_eq!(s.sock.error(), None);
}

#[test]
fn simultaneous_close_goes_through_closing() {
    let mut s = Script::established(plain(), seg("S."));
    s.sock.close();
    s.expect("F. seq 1 ack 1 len 0");
    s.inject(seg("F.").seq(1).ack(1));
    assert_eq!(s.sock.state(), State::Closing);
    s.expect(". seq 2 ack 2 len 0");
    s.inject(seg(".").seq(2).ack(2));
    assert_eq!(s.sock.state(), State::TimeWait);
}

#[test]
fn half_close_keeps_receiving() {
    let mut s = Script::established(plain(), seg("S."));
    s.sock.send_slice(b"request").unwrap();
    s.sock.close();
    s.expect("FP. seq 1 ack 1 len 7");
    assert_eq!(s.sock.send_slice(b"more"), Err(SendError::InvalidState));
    s.inject(seg(".").seq(1).ack(9));
    assert_eq!(s.sock.state(), State::FinWait2);
    s.inject(seg("P.").seq(1).ack(9).data(b"response"));
    s.expect(". seq 9 ack 9 len 0");
    s.read_all();
    assert_eq!(s.received, b"response");
    s.inject(seg("F.").seq(9).ack(9));
    assert_eq!(s.sock.state(), State::TimeWait);
    let mut b = [0u8; 4];
    assert_eq!(s.sock.recv_slice(&mut b), Err(RecvError::Finished));
}

#[test]
fn passive_close_through_last_ack() {
    let mut s = Script::established(plain(), seg("S."));
    s.inject(seg("F.").seq(1).ack(1));
    assert_eq!(s.sock.state(), State::CloseWait);
    s.expect(". seq 1 ack 2 len 0");
    s.sock.send_slice(b"last words").unwrap();
    s.sock.close();
    s.expect("FP. seq 1 ack 2 len 10");
    assert_eq!(s.sock.state(), State::LastAck);
    s.inject(seg(".").seq(2).ack(12));
    assert_eq!(s.sock.state(), State::Closed);
}

#[test]
fn fin_is_retransmitted_with_its_data() {
    let mut s = Script::established(plain(), seg("S."));
    s.sock.send_slice(b"abc").unwrap();
    s.sock.close();
    s.expect("FP. seq 1 ack 1 len 3");
    s.until_deadline();
    s.expect("FP. seq 1 ack 1 len 3");
    s.inject(seg(".").seq(1).ack(5));
    assert_eq!(s.sock.state(), State::FinWait2);
}

#[test]
fn abort_sends_a_reset() {
    let mut s = Script::established(plain(), seg("S."));
    s.sock.send_slice(b"doomed").unwrap();
    s.drain();
    s.sock.abort();
    s.expect("R. seq 7 ack 1 len 0");
    assert_eq!(s.sock.state(), State::Closed);
    assert_eq!(s.sock.error(), Some(ConnectionError::Aborted));
    s.expect_none();
}

// ----- zero copy -----

#[test]
fn transmit_payload_borrows_the_send_buffer() {
    let rx: &'static mut [u8] = Box::leak(vec![0u8; 4096].into_boxed_slice());
    let tx: &'static mut [u8] = Box::leak(vec![0u8; 4096].into_boxed_slice());
    let range = tx.as_ptr_range();
    let mut s = Script::new(plain(), 0, 0);
    s.sock = unistack_tcp::Socket::new(rx, tx, plain());
    s.sock.connect(s.now, tuple(), &key()).unwrap();
    s.iss = s.sock.poll_transmit(s.now).unwrap().repr.seq_number.0;
    s.inject(seg("S.").ack(1).mss(1460));
    s.drain();
    let n = s
        .sock
        .send_with(|free| {
            free[..300].fill(0xab);
            300
        })
        .unwrap();
    assert_eq!(n, 300);
    let now = s.now;
    let t = s.sock.poll_transmit(now).unwrap();
    assert_eq!(t.repr.payload.len(), 300);
    assert!(
        range.contains(&t.repr.payload.as_ptr()),
        "payload is not a copy"
    );
    assert_eq!(s.sock.stats().tx_bytes_queued, 300);
}
