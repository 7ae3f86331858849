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
    /// Ask for Explicit Congestion Notification (RFC 3168) on active opens (default off).
    /// Passive opens accept ECN whenever the SYN asks for it (Linux's default, `tcp_ecn = 2`),
    /// except through a SYN cookie, which has no room to remember it.
    pub ecn: bool,
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
            ecn: false,
        }
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

/// `None` in a [`Packed`] duration.
const NONE: u64 = u64::MAX;

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(NONE - 1)
}

fn nanos_opt(d: Option<Duration>) -> u64 {
    d.map_or(NONE, nanos)
}

fn duration(n: u64) -> Duration {
    Duration::from_nanos(n)
}

fn duration_opt(n: u64) -> Option<Duration> {
    (n != NONE).then(|| Duration::from_nanos(n))
}

/// A [`Config`] as a socket keeps it: durations as nanoseconds (`u64::MAX` for `None`),
/// counts as `u32`; 96 bytes instead of 168. Lossless for durations under 584 years and an
/// initial window under 2^32 segments (longer or larger values saturate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Packed {
    rto_initial: u64,
    rto_min: u64,
    rto_max: u64,
    msl: u64,
    delayed_ack: u64,
    ka_idle: u64,
    ka_interval: u64,
    fin_wait2_timeout: u64,
    initial_window: u32,
    max_retransmissions: u32,
    syn_retries: u32,
    challenge_ack_limit: u32,
    ka_probes: u32,
    pub(crate) mss: u16,
    pub(crate) nagle: bool,
    pub(crate) window_scaling: bool,
    pub(crate) sack: bool,
    pub(crate) timestamps: bool,
    pub(crate) ecn: bool,
    pub(crate) congestion: Algorithm,
}

impl Packed {
    pub(crate) fn new(c: &Config) -> Self {
        let ka = c.keep_alive;
        Packed {
            rto_initial: nanos(c.rto_initial),
            rto_min: nanos(c.rto_min),
            rto_max: nanos(c.rto_max),
            msl: nanos(c.msl),
            delayed_ack: nanos_opt(c.delayed_ack),
            ka_idle: nanos_opt(ka.map(|k| k.idle)),
            ka_interval: ka.map_or(0, |k| nanos(k.interval)),
            fin_wait2_timeout: nanos_opt(c.fin_wait2_timeout),
            initial_window: u32::try_from(c.initial_window).unwrap_or(u32::MAX),
            max_retransmissions: c.max_retransmissions,
            syn_retries: c.syn_retries,
            challenge_ack_limit: c.challenge_ack_limit,
            ka_probes: ka.map_or(0, |k| k.probes),
            mss: c.mss,
            nagle: c.nagle,
            window_scaling: c.window_scaling,
            sack: c.sack,
            timestamps: c.timestamps,
            ecn: c.ecn,
            congestion: c.congestion,
        }
    }

    /// The settings back as a [`Config`].
    pub(crate) fn config(&self) -> Config {
        Config {
            mss: self.mss,
            initial_window: self.initial_window(),
            rto_initial: self.rto_initial(),
            rto_min: self.rto_min(),
            rto_max: self.rto_max(),
            max_retransmissions: self.max_retransmissions,
            syn_retries: self.syn_retries,
            msl: self.msl(),
            nagle: self.nagle,
            delayed_ack: duration_opt(self.delayed_ack),
            keep_alive: self.keep_alive(),
            window_scaling: self.window_scaling,
            sack: self.sack,
            timestamps: self.timestamps,
            congestion: self.congestion,
            challenge_ack_limit: self.challenge_ack_limit,
            fin_wait2_timeout: self.fin_wait2_timeout(),
            ecn: self.ecn,
        }
    }

    pub(crate) fn initial_window(&self) -> usize {
        self.initial_window as usize
    }
    pub(crate) fn rto_initial(&self) -> Duration {
        duration(self.rto_initial)
    }
    pub(crate) fn rto_min(&self) -> Duration {
        duration(self.rto_min)
    }
    pub(crate) fn rto_max(&self) -> Duration {
        duration(self.rto_max)
    }
    pub(crate) fn msl(&self) -> Duration {
        duration(self.msl)
    }
    pub(crate) fn max_retransmissions(&self) -> u32 {
        self.max_retransmissions
    }
    pub(crate) fn syn_retries(&self) -> u32 {
        self.syn_retries
    }
    pub(crate) fn challenge_ack_limit(&self) -> u32 {
        self.challenge_ack_limit
    }
    pub(crate) fn fin_wait2_timeout(&self) -> Option<Duration> {
        duration_opt(self.fin_wait2_timeout)
    }
    pub(crate) fn keep_alive(&self) -> Option<KeepAlive> {
        duration_opt(self.ka_idle).map(|idle| KeepAlive {
            idle,
            interval: duration(self.ka_interval),
            probes: self.ka_probes,
        })
    }
    /// The delayed-ACK bound actually used (clamped to RFC 9293's 500 ms).
    pub(crate) fn ack_delay(&self) -> Option<Duration> {
        duration_opt(self.delayed_ack).map(|d| d.min(Duration::from_millis(500)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_round_trips() {
        let d = Config::default();
        assert_eq!(Packed::new(&d).config(), d);
        let c = Config {
            mss: 9000,
            initial_window: 4,
            rto_initial: Duration::new(3, 7),
            rto_min: Duration::from_micros(1500),
            rto_max: Duration::from_secs(60),
            max_retransmissions: 3,
            syn_retries: 2,
            msl: Duration::from_millis(1),
            nagle: false,
            delayed_ack: None,
            keep_alive: Some(KeepAlive {
                idle: Duration::from_secs(10),
                interval: Duration::from_nanos(1),
                probes: 7,
            }),
            window_scaling: false,
            sack: false,
            timestamps: false,
            congestion: Algorithm::Cubic,
            challenge_ack_limit: 0,
            fin_wait2_timeout: None,
            ecn: true,
        };
        assert_eq!(Packed::new(&c).config(), c);
        assert_eq!(core::mem::size_of::<Packed>(), 96);
    }
}
