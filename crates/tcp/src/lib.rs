//! A sans-IO TCP for unistack: the wire format on cstruct views, and connections that take
//! segments and the time and give back segments to send and the next deadline — no clock,
//! allocator or I/O inside.
//!
//! ```
//! use core::time::Duration;
//! use unistack_ipv4::{Ipv4Address, checksum::Checksum};
//! use unistack_tcp::{Config, FourTuple, IsnKey, ListenOutcome, Listener, Socket, State, TcpRepr};
//!
//! let (a, b) = (Ipv4Address::new(192, 0, 2, 1), Ipv4Address::new(192, 0, 2, 2));
//! let key = IsnKey::new([42; 16]); // 16 secret random bytes in real use
//! let now = Duration::from_secs(1);
//! let (mut rx, mut tx) = ([0u8; 4096], [0u8; 4096]);
//! let mut client = Socket::new(&mut rx[..], &mut tx[..], Config::default());
//! let mut backlog = [None; 4];
//! let mut listener = Listener::new(b, 80, &mut backlog[..], 4096, Config::default(), key.clone());
//!
//! let tuple = FourTuple { local_addr: a, local_port: 40000, remote_addr: b, remote_port: 80 };
//! client.connect(now, tuple, &key)?;
//! // Segments cross the "wire" as bytes: emit with checksums, parse verifying them.
//! let mut frame = [0u8; 1500];
//! let syn = client.poll_transmit(now).unwrap();
//! let n = syn.repr.emit(&mut frame, syn.src, syn.dst, Checksum::Both)?;
//! let syn = TcpRepr::parse_bytes(&frame[..n], a, b, Checksum::Both)?;
//! let ListenOutcome::Reply(syn_ack) = listener.handle_segment(now, a, b, &syn) else { panic!() };
//! client.handle_segment(now, b, a, &syn_ack.repr);
//! assert_eq!(client.state(), State::Established);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is here
//! - Wire: [`TcpHeader`]/[`TcpSegment`] views, [`parse_options`] (MSS, window scale,
//!   SACK-permitted, SACK, timestamps, NOP/EOL; unknown options skipped, malformed lengths are
//!   errors), [`TcpRepr`] with checksum verification and a zero-copy `emit_header`.
//! - [`Socket`]: every RFC 9293 state, simultaneous open and close, TIME-WAIT (2 MSL), RST
//!   generation and the RFC 5961 acceptance rules with rate-limited challenge ACKs, half-close;
//!   RFC 7323 window scaling, timestamps (RTTM, PAWS); RFC 2018 SACK generation with RFC 2883
//!   D-SACK for duplicate data; on the sender an RFC 6675 scoreboard, pipe and IsLost
//!   (DupThresh 3: more than 2 MSS or 3 SACKed ranges above a hole), and RFC 8985 RACK-TLP:
//!   time-based loss detection from the send time of the most recently delivered segment with
//!   a reordering window (min RTT / 4, widened by D-SACKs, 0 in recovery until reordering is
//!   seen), which also catches lost retransmissions, and tail loss probes (PTO = 2·SRTT +
//!   2 ms, plus 200 ms for a lone segment, never after the RTO) so a lost tail or a whole lost
//!   flight is repaired by SACK recovery instead of a timeout; RFC 6298 RTO with Karn's rule and
//!   backoff; RFC 5681 slow start and congestion avoidance, fast retransmit, RFC 6582 NewReno
//!   (the window is ssthresh when recovery ends), RFC 3042 limited transmit, CUBIC (RFC 9438)
//!   or BBR v1 with pacing ([`bbr`]) per connection ([`Algorithm`], NewReno by default); with
//!   SACK, RFC 6937 PRR with the
//!   slow-start reduction bound paces fast recovery (each ACK lets out `ssthresh /
//!   RecoverFS` of what it delivered while the pipe is above ssthresh, at most what it
//!   delivered plus one segment below), so the window comes down over a round trip rather
//!   than at once; a reduction whose retransmissions are all shown spurious — by D-SACKs
//!   inside the episode's range (RFC 3708, Linux's `undo_retrans`) or, for the first
//!   retransmission, by an ACK echoing an older timestamp (RFC 3522 Eifel) — is undone,
//!   restoring the window and `max(ssthresh, 3/4 window)` as before it: at once after a
//!   timeout (which also stops its go-back-N) or outside recovery, when it ends within a
//!   fast recovery; Nagle, delayed ACKs, keep-alive, zero-window probing,
//!   sender and receiver silly-window avoidance (with the sender's override timer); urgent
//!   data (RFC 9293 3.8.5, RFC 6093: delivered inline, `Socket::urgent_pending` says how much
//!   to read, `take_urgent_event` reports a new pointer, `send_urgent` marks outgoing data);
//!   ECN (RFC 3168: asked for with `Config::ecn`, always granted to a peer that asks except
//!   through a SYN cookie; new data is marked ECT(0) through `Transmit::ect`, CE marks come
//!   in through `Socket::handle_segment_ecn`, ECE halves the window once per window of data
//!   and CWR answers);
//!   closure APIs (`send_with`, `recv_with`) over the buffers. [`Stats`] counts RTOs, fast recoveries, probes, RACK losses, lost
//!   retransmissions and D-SACKs.
//! - RACK's send times live in a bounded table of 16 send ranges per connection (not one
//!   entry per segment): sends close in time merge, and a full table merges the least
//!   informative neighbours keeping the later time, which can only delay a time-based
//!   verdict; IsLost and the timers cover what a coarse range hides. A range merged from sends
//!   at different times is marked coarse and its delivery gives no RTT sample and does not move
//!   RACK.xmit (its late time made RACK's RTT look shorter than the path's and declared
//!   segments still in flight lost: a cascade of spurious retransmissions with CUBIC's larger
//!   windows). Times are microseconds of the caller's clock; with a coarse clock RACK degrades
//!   towards IsLost.
//! - Size: a [`Socket`] is 1280 bytes on 64-bit targets (a unit test holds the budget): the
//!   `Config` is kept packed (96 bytes, [`Socket::config`] rebuilds it), the RTT estimator
//!   and the timers count nanoseconds in `u64`s (durations saturate at 584 years) and the
//!   assembler's ranges hold `u32` offsets.
//! - [`Listener`]: a bounded SYN backlog in caller storage and RFC 4987 SYN cookies when it is
//!   full or always ([`CookieMode`]); a completed handshake is a [`Handshake`] that
//!   [`Socket::accept`] turns into a connection. RFC 6528 ISNs from the caller's [`IsnKey`].
//! - Zero copy: a received byte is copied once (device buffer → receive ring, out-of-order
//!   bytes straight to their place) and can be read in place; a sent byte is copied once (app →
//!   send ring) and [`Transmit`]'s payload borrows the ring, to be emitted into the device
//!   buffer. [`Stats`] counts the copies; tests check both.
//! - `sim` (feature `sim`): a seeded lossy/duplicating/reordering/corrupting link with rate
//!   and delay, and a driver that runs a transfer between two endpoints on a virtual clock.
//!
//! See `ARCHITECTURE.md` for the decisions (loss recovery as one mechanism, cookies' option
//! bits, PAWS strictness, simultaneous-open SYN-ACK handling).
//!
//! # Features
//! - `alloc`: `Vec`-backed buffers through `managed`. `std` (default): `alloc`. `sim`: the
//!   simulated link (needs `std`). The core builds for `x86_64-unknown-none` without any.
//!
//! # Panics
//! None on any input: views are built with `new_checked`, options are parsed with every length
//! checked, every sequence-space computation is modular, and loops are bounded by buffer sizes
//! and fixed-size tables. A fuzz target drives connections with hostile segments.
//!
//! # Not supported yet
//! TCP Fast Open, MPTCP, AccECN,
//! PRR without SACK (a NewReno connection's window still drops to ssthresh at once), undoing a
//! TLP-triggered reduction, pacing, path MTU discovery (the stack issue), IPv6.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "std")]
extern crate std;

mod assembler;
pub mod bbr;
mod buffer;
mod cc;
mod config;
mod error;
mod isn;
mod listener;
pub mod options;
mod rack;
mod repr;
mod rtt;
mod scoreboard;
mod seq;
#[cfg(feature = "sim")]
pub mod sim;
mod socket;
pub mod wire;

pub use assembler::Assembler;
pub use buffer::RingBuffer;
pub use cc::{Algorithm, Congestion, ParseAlgorithmError};
pub use config::{Config, KeepAlive, window_shift_for};
pub use error::Error;
pub use isn::{COOKIE_MSS, CookieData, FourTuple, IsnKey, siphash};
pub use listener::{CookieMode, HalfOpen, ListenOutcome, Listener, ListenerStats};
pub use options::{OptionsRepr, SackBlocks, SackRef, TcpOption, parse_options};
pub use repr::{Control, TcpRepr};
pub use rtt::RttEstimator;
pub use scoreboard::Scoreboard;
pub use seq::SeqNumber;
pub use socket::{
    ConnectError, ConnectionError, Handshake, Outcome, RecvError, SendError, Socket, State, Stats,
    Transmit, reset_for,
};
pub use wire::{TcpHeader, TcpSegment};
