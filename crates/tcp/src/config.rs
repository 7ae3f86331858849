//! Per-connection settings.

use core::time::Duration;

use crate::cc::Algorithm;

/// Keep-alive probing (RFC 9293 3.8.4): off unless asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepAlive {
    /// Idle time before the first probe (RFC 1122: at least two hours by default).
    pub idle: Duration,
    /// Time between unanswered probes.
    pub interval: Duration,
    /// Unanswered probes before the connection is dropped.
    pub probes: u32,
}

impl Default for KeepAlive {
    fn default() -> Self {
        KeepAlive {
            idle: Duration::from_secs(7200),
            interval: Duration::from_secs(75),
            probes: 9,
        }
    }
}

/// Connection settings. `Default` follows Linux's defaults where the RFCs leave a choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The MSS we advertise (what we can receive): MTU minus 40.
    pub mss: u16,
    /// The initial congestion window, in segments (RFC 6928).
    pub initial_window: usize,
    /// The RTO before any RTT sample (RFC 6298: 1 s).
    pub rto_initial: Duration,
    /// The RTO floor (Linux: 200 ms; RFC 6298 says 1 s).
    pub rto_min: Duration,
    /// The RTO ceiling (RFC 6298: at least 60 s).
    pub rto_max: Duration,
    /// Retransmissions of one segment before the connection is dropped.
    pub max_retransmissions: u32,
    /// SYN (and SYN-ACK) retransmissions before giving up.
    pub syn_retries: u32,
    /// Maximum segment lifetime; TIME-WAIT lasts twice this.
    pub msl: Duration,
    /// Nagle's algorithm (RFC 896): hold small segments while data is unacknowledged.
    pub nagle: bool,
    /// Delayed ACKs (RFC 1122 4.2.3.2, RFC 9293 3.8.6.3): the longest an ACK waits; `None`
    /// acknowledges every segment at once. At most 500 ms.
    pub delayed_ack: Option<Duration>,
    /// Keep-alive probing.
    pub keep_alive: Option<KeepAlive>,
    /// Offer window scaling (RFC 7323).
    pub window_scaling: bool,
    /// Offer SACK (RFC 2018).
    pub sack: bool,
    /// Offer timestamps (RFC 7323).
    pub timestamps: bool,
    /// The window growth function.
    pub congestion: Algorithm,
    /// Challenge ACKs (RFC 5961) per second per connection, at most.
    pub challenge_ack_limit: u32,
    /// How long FIN-WAIT-2 may last once we have closed (`None`: until the peer closes).
    pub fin_wait2_timeout: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mss: 1460,
            initial_window: 10,
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_millis(200),
            rto_max: Duration::from_secs(120),
            max_retransmissions: 15,
            syn_retries: 6,
            msl: Duration::from_secs(30),
            nagle: true,
            delayed_ack: Some(Duration::from_millis(40)),
            keep_alive: None,
            window_scaling: true,
            sack: true,
            timestamps: true,
            congestion: Algorithm::NewReno,
            challenge_ack_limit: 10,
            fin_wait2_timeout: Some(Duration::from_secs(60)),
        }
    }
}

impl Config {
    /// The delayed-ACK bound actually used (clamped to RFC 9293's 500 ms).
    pub(crate) fn ack_delay(&self) -> Option<Duration> {
        self.delayed_ack.map(|d| d.min(Duration::from_millis(500)))
    }
}

/// The window shift that lets a 16-bit window describe `capacity` bytes (RFC 7323: at most
/// 14).
pub fn window_shift_for(capacity: usize) -> u8 {
    let mut shift = 0u8;
    while shift < 14 && (capacity >> shift) > usize::from(u16::MAX) {
        shift += 1;
    }
    shift
}
