//! BBR congestion control (version 1, as described in draft-cardwell-iccrg-bbr-congestion-
//! control-00 and implemented in Linux's `tcp_bbr.c`): a model of the path — its bottleneck
//! bandwidth (a windowed maximum of delivery-rate samples over 10 round trips) and its
//! propagation delay (a minimum of RTT samples over 10 seconds) — sets the pacing rate and
//! the congestion window, instead of reacting to loss. Random loss that does not mean
//! congestion (a lossy radio link, a policer's stray drop) therefore costs only the
//! retransmissions, where a loss-based sender halves its rate each time.
//!
//! What this implementation does, and where it differs from Linux:
//! - **Delivery rate**, one sample per round trip: bytes delivered (cumulatively or by SACK)
//!   from the ACK that began the round to the ACK that ends it, over the time between them. A
//!   round ends when delivery reaches the highest sequence sent when it began. Linux samples
//!   every ACK from per-packet send state; a per-round sample needs none (the socket keeps no
//!   per-packet table) and is the same quantity averaged over one round trip. A round in
//!   which the sender ran out of data (application-limited) only ever raises the estimate.
//! - **States**: Startup (pacing gain 2.885 until the bandwidth estimate stops growing by 25%
//!   over three rounds), Drain (the inverse gain until the flight is down to one
//!   bandwidth-delay product), ProbeBW (pacing gains 1.25, 0.75, then six rounds of 1, each
//!   phase one min-RTT long), ProbeRTT (every 10 s without a new minimum: the window drops to
//!   4 segments for 200 ms and one round so the queue drains and the minimum is measured
//!   again).
//! - **Window**: 2 × bandwidth × min RTT plus 3 segments for ACK aggregation (Linux's
//!   `bbr_quantization_budget`), growing towards it by what each ACK delivered; never below 4
//!   segments.
//! - **Loss**: fast recovery does not reduce the window (Linux v1 holds the window to the
//!   flight for the first round of a recovery; here the pacing rate alone bounds what
//!   recovery sends). A retransmission timeout still falls to one segment, and the window
//!   grows back by what is delivered. ECN marks are not answered (as in BBR v1).
//! - **Pacing**: [`Bbr::pacing_rate`] is 99% of gain × bandwidth (Linux's margin), and the
//!   socket spaces its segments by it; before the first RTT sample nothing is paced.

use core::time::Duration;

use crate::SeqNumber;
use crate::rack::{micros, since};

/// Gains in 1/256.
const UNIT: u64 = 256;
/// 2 / ln 2, the smallest gain that doubles the delivery rate each round (Startup).
const HIGH_GAIN: u64 = 739;
/// Drain's pacing gain, the inverse of Startup's.
const DRAIN_GAIN: u64 = 89;
/// ProbeBW's window gain.
const CWND_GAIN: u64 = 2 * UNIT;
/// ProbeBW's pacing gain cycle.
const CYCLE: [u64; 8] = [320, 192, 256, 256, 256, 256, 256, 256];
/// Bandwidth filter window, in round trips.
const BW_ROUNDS: u32 = 10;
/// How long a min-RTT sample stays valid, µs.
const MIN_RTT_WINDOW: u32 = 10_000_000;
/// How long ProbeRTT holds the small window, µs.
const PROBE_RTT_TIME: u32 = 200_000;
/// The window floor, segments.
const MIN_SEGMENTS: usize = 4;
/// Rounds without 25% growth after which the pipe is full.
const FULL_BW_ROUNDS: u8 = 3;

/// The four states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Exponential search for the bottleneck bandwidth.
    Startup,
    /// Draining the queue Startup built.
    Drain,
    /// Steady state: cycling the pacing gain around 1.
    ProbeBw,
    /// Measuring the propagation delay with a small window.
    ProbeRtt,
}

/// Kathleen Nichols' windowed maximum (as Linux's `lib/win_minmax.c`): the best, second-best
/// and third-best samples in the window, so the maximum ages out in O(1) time and space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct MaxFilter {
    /// Values, best first.
    v: [u64; 3],
    /// When each was taken (rounds).
    t: [u32; 3],
}

impl MaxFilter {
    pub(crate) const fn new() -> Self {
        MaxFilter {
            v: [0; 3],
            t: [0; 3],
        }
    }

    pub(crate) fn get(&self) -> u64 {
        self.v[0]
    }

    fn set(&mut self, i: usize, t: u32, v: u64) {
        self.t[i] = t;
        self.v[i] = v;
    }

    /// Drop the best: the others move up and `(t, v)` comes in last.
    fn shift(&mut self, t: u32, v: u64) {
        self.t = [self.t[1], self.t[2], t];
        self.v = [self.v[1], self.v[2], v];
    }

    /// Add the sample `v` taken at `t`, with `win` the window length; returns the maximum.
    pub(crate) fn update(&mut self, win: u32, t: u32, v: u64) -> u64 {
        if v >= self.v[0] || t.wrapping_sub(self.t[2]) > win {
            self.t = [t; 3];
            self.v = [v; 3];
            return v;
        }
        if v >= self.v[1] {
            self.set(1, t, v);
            self.set(2, t, v);
        } else if v >= self.v[2] {
            self.set(2, t, v);
        }
        let dt = t.wrapping_sub(self.t[0]);
        if dt > win {
            // The best aged out: promote the others and look again.
            self.shift(t, v);
            if t.wrapping_sub(self.t[0]) > win {
                self.shift(t, v);
            }
        } else if self.t[1] == self.t[0] && dt > win / 4 {
            // A quarter of the window passed without a second-best: take this one.
            self.set(1, t, v);
            self.set(2, t, v);
        } else if self.t[2] == self.t[1] && dt > win / 2 {
            self.set(2, t, v);
        }
        self.v[0]
    }
}

/// What one ACK told the sender, as [`Bbr::on_ack`] takes it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AckSample {
    /// The time, on the socket's clock.
    pub now: Duration,
    /// Bytes newly delivered (cumulatively acknowledged or SACKed).
    pub delivered: usize,
    /// The highest sequence number delivered so far (RACK's FACK, or SND.UNA).
    pub high: SeqNumber,
    /// SND.NXT.
    pub snd_nxt: SeqNumber,
    /// Bytes in flight after this ACK (RFC 6675's pipe).
    pub inflight: usize,
    /// The smallest RTT this ACK measured, µs (not from a retransmission).
    pub rtt_us: Option<u32>,
}

/// A BBR sender's state (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bbr {
    mode: Mode,
    /// Bytes per second.
    bw: MaxFilter,
    /// µs; `u32::MAX` before the first sample.
    min_rtt: u32,
    min_rtt_at: u32,
    /// Round trips counted.
    round: u32,
    /// The round ends when delivery reaches this.
    round_end: Option<SeqNumber>,
    round_start_at: u32,
    round_start_delivered: u32,
    /// Bytes delivered over the connection (wrapping: only differences within a round are
    /// used).
    delivered: u32,
    round_app_limited: bool,
    filled_pipe: bool,
    full_bw_count: u8,
    cycle_idx: u8,
    probe_rtt_round_done: bool,
    full_bw: u64,
    cycle_start: u32,
    /// When ProbeRTT may end (µs), once the flight has drained.
    probe_rtt_done: Option<u32>,
    /// The window to return to after ProbeRTT or a timeout.
    prior_cwnd: usize,
    /// The pacing rate, bytes per second (0: not paced).
    pacing_rate: u64,
}

impl Default for Bbr {
    fn default() -> Self {
        Self::new()
    }
}

impl Bbr {
    pub(crate) const fn new() -> Self {
        Bbr {
            mode: Mode::Startup,
            bw: MaxFilter::new(),
            min_rtt: u32::MAX,
            min_rtt_at: 0,
            round: 0,
            round_end: None,
            round_start_at: 0,
            round_start_delivered: 0,
            delivered: 0,
            round_app_limited: false,
            filled_pipe: false,
            full_bw_count: 0,
            cycle_idx: 0,
            probe_rtt_round_done: false,
            full_bw: 0,
            cycle_start: 0,
            probe_rtt_done: None,
            prior_cwnd: 0,
            pacing_rate: 0,
        }
    }

    /// The current state.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The bottleneck bandwidth estimate, bytes per second (0 before the first sample).
    pub fn bandwidth(&self) -> u64 {
        self.bw.get()
    }

    /// The propagation delay estimate.
    pub fn min_rtt(&self) -> Option<Duration> {
        (self.min_rtt != u32::MAX).then(|| Duration::from_micros(u64::from(self.min_rtt)))
    }

    /// The pacing rate, bytes per second (`None`: not paced yet).
    pub fn pacing_rate(&self) -> Option<u64> {
        (self.pacing_rate > 0).then_some(self.pacing_rate)
    }

    /// Round trips counted so far.
    pub fn rounds(&self) -> u32 {
        self.round
    }

    fn pacing_gain(&self) -> u64 {
        match self.mode {
            Mode::Startup => HIGH_GAIN,
            Mode::Drain => DRAIN_GAIN,
            Mode::ProbeBw => CYCLE[usize::from(self.cycle_idx) % CYCLE.len()],
            Mode::ProbeRtt => UNIT,
        }
    }

    fn cwnd_gain(&self) -> u64 {
        match self.mode {
            Mode::Startup | Mode::Drain => HIGH_GAIN,
            Mode::ProbeBw | Mode::ProbeRtt => CWND_GAIN,
        }
    }

    /// gain × bandwidth × min RTT, bytes (`None` without both estimates).
    fn bdp(&self, gain: u64) -> Option<usize> {
        let bw = self.bw.get();
        if bw == 0 || self.min_rtt == u32::MAX {
            return None;
        }
        let bytes = u128::from(bw) * u128::from(self.min_rtt) * u128::from(gain)
            / (1_000_000 * u128::from(UNIT));
        Some(usize::try_from(bytes).unwrap_or(usize::MAX))
    }

    /// The sender had nothing to send although the window allowed it.
    pub(crate) fn app_limited(&mut self) {
        self.round_app_limited = true;
    }

    /// A retransmission timeout: remember the window (restored once the model says so) and
    /// start again from one segment, as every TCP does.
    pub(crate) fn on_timeout(&mut self, cwnd: usize) {
        self.prior_cwnd = self.prior_cwnd.max(cwnd);
    }

    /// One ACK: update the model, the state and the pacing rate, and return the new window
    /// from the current one `cwnd` (`mss` and `initial` segments for the floors).
    pub(crate) fn on_ack(
        &mut self,
        a: AckSample,
        cwnd: usize,
        mss: usize,
        initial: usize,
    ) -> usize {
        let now = micros(a.now);
        self.delivered = self.delivered.wrapping_add(a.delivered as u32);
        // Round trips and the delivery-rate sample.
        let round_start = match self.round_end {
            None => {
                self.start_round(now, a.snd_nxt);
                false
            }
            Some(end) if a.high >= end => {
                let dt = since(now, self.round_start_at);
                if dt > 0 {
                    let bytes = u64::from(self.delivered.wrapping_sub(self.round_start_delivered));
                    let rate = bytes * 1_000_000 / u64::from(dt);
                    if !self.round_app_limited || rate >= self.bw.get() {
                        self.bw.update(BW_ROUNDS, self.round, rate);
                    }
                }
                self.round = self.round.wrapping_add(1);
                let app_limited = self.round_app_limited;
                self.start_round(now, a.snd_nxt);
                self.check_full_pipe(app_limited);
                true
            }
            Some(_) => false,
        };
        // The propagation delay, and ProbeRTT when it has not been refreshed for 10 s.
        let expired = self.min_rtt != u32::MAX && since(now, self.min_rtt_at) > MIN_RTT_WINDOW;
        if let Some(rtt) = a.rtt_us
            && (rtt < self.min_rtt || expired)
        {
            self.min_rtt = rtt.max(1);
            self.min_rtt_at = now;
        }
        let mut cwnd = cwnd;
        if expired && self.mode != Mode::ProbeRtt {
            self.mode = Mode::ProbeRtt;
            self.prior_cwnd = self.prior_cwnd.max(cwnd);
            self.probe_rtt_done = None;
        }
        // The state machine.
        match self.mode {
            Mode::Startup if self.filled_pipe => {
                self.mode = Mode::Drain;
                self.drain_if_done(now, a.inflight);
            }
            Mode::Drain => self.drain_if_done(now, a.inflight),
            Mode::ProbeBw => self.advance_cycle(now, a.inflight),
            Mode::ProbeRtt => {
                if let Some(done) = self.probe_rtt_done {
                    if round_start {
                        self.probe_rtt_round_done = true;
                    }
                    if self.probe_rtt_round_done && since(now, done) > 0 {
                        // Measured: the minimum stands for another 10 s.
                        self.min_rtt_at = now;
                        cwnd = cwnd.max(self.prior_cwnd);
                        self.prior_cwnd = 0;
                        if self.filled_pipe {
                            self.enter_probe_bw(now);
                        } else {
                            self.mode = Mode::Startup;
                        }
                    }
                } else if a.inflight <= MIN_SEGMENTS * mss {
                    self.probe_rtt_done = Some(now.wrapping_add(PROBE_RTT_TIME));
                    self.probe_rtt_round_done = false;
                    self.round_end = Some(a.snd_nxt);
                }
            }
            Mode::Startup => {}
        }
        self.update_pacing_rate(cwnd, initial, mss);
        // The window: towards gain × BDP + 3 segments by what was delivered.
        let floor = MIN_SEGMENTS * mss;
        let cwnd = match self.bdp(self.cwnd_gain()) {
            Some(bdp) => {
                let target = bdp.saturating_add(3 * mss).max(floor);
                if self.prior_cwnd > 0 && self.mode != Mode::ProbeRtt {
                    // After a timeout: grow back like slow start, up to what we had.
                    cwnd.saturating_add(a.delivered)
                        .min(target.max(self.prior_cwnd))
                } else if self.filled_pipe {
                    cwnd.saturating_add(a.delivered).min(target)
                } else if cwnd < target {
                    cwnd.saturating_add(a.delivered)
                } else {
                    cwnd
                }
            }
            None => cwnd.saturating_add(a.delivered),
        };
        if self.prior_cwnd > 0 && self.mode != Mode::ProbeRtt && cwnd >= self.prior_cwnd {
            self.prior_cwnd = 0;
        }
        let cwnd = cwnd.max(floor);
        if self.mode == Mode::ProbeRtt {
            cwnd.min(floor)
        } else {
            cwnd
        }
    }

    fn start_round(&mut self, now: u32, snd_nxt: SeqNumber) {
        self.round_end = Some(snd_nxt);
        self.round_start_at = now;
        self.round_start_delivered = self.delivered;
        self.round_app_limited = false;
    }

    /// Startup ends when three rounds in a row failed to raise the estimate by 25%.
    fn check_full_pipe(&mut self, app_limited: bool) {
        if self.filled_pipe || app_limited {
            return;
        }
        let bw = self.bw.get();
        if bw >= self.full_bw.saturating_mul(5) / 4 {
            self.full_bw = bw;
            self.full_bw_count = 0;
            return;
        }
        self.full_bw_count += 1;
        if self.full_bw_count >= FULL_BW_ROUNDS {
            self.filled_pipe = true;
        }
    }

    fn drain_if_done(&mut self, now: u32, inflight: usize) {
        if self.bdp(UNIT).is_some_and(|bdp| inflight <= bdp) {
            self.enter_probe_bw(now);
        }
    }

    fn enter_probe_bw(&mut self, now: u32) {
        self.mode = Mode::ProbeBw;
        // Start in a cruising phase that depends on the round (Linux picks at random),
        // never in the draining one.
        self.cycle_idx = 2 + (self.round % 6) as u8;
        self.cycle_start = now;
    }

    fn advance_cycle(&mut self, now: u32, inflight: usize) {
        let elapsed = since(now, self.cycle_start);
        let full = self.min_rtt != u32::MAX && elapsed > self.min_rtt;
        let gain = self.pacing_gain();
        let next = if gain > UNIT {
            // Probing: until the flight reached gain × BDP (or two rounds passed).
            full && (self.bdp(gain).is_some_and(|b| inflight >= b)
                || elapsed > self.min_rtt.saturating_mul(2))
        } else if gain < UNIT {
            // Draining what probing queued: a round, or until the flight is one BDP.
            full || self.bdp(UNIT).is_some_and(|b| inflight <= b)
        } else {
            full
        };
        if next {
            self.cycle_idx = (self.cycle_idx + 1) % CYCLE.len() as u8;
            self.cycle_start = now;
        }
    }

    fn update_pacing_rate(&mut self, cwnd: usize, initial: usize, mss: usize) {
        let bw = self.bw.get();
        let rate = if bw == 0 {
            // Before a bandwidth sample: the initial window per min RTT, at Startup's gain.
            if self.min_rtt == u32::MAX {
                return;
            }
            let window = cwnd.max(initial * mss) as u64;
            (window.saturating_mul(1_000_000) / u64::from(self.min_rtt)).saturating_mul(HIGH_GAIN)
                / UNIT
        } else {
            bw.saturating_mul(self.pacing_gain()) / UNIT
        };
        let rate = rate / 100 * 99;
        // Startup never slows down (the estimate lags the rate by a round).
        if self.filled_pipe || rate > self.pacing_rate {
            self.pacing_rate = rate.max(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_filter_ages_out() {
        let mut f = MaxFilter::default();
        assert_eq!(f.update(10, 0, 100), 100);
        assert_eq!(f.update(10, 1, 50), 100);
        assert_eq!(f.update(10, 5, 80), 100);
        // Round 11: the 100 from round 0 is older than the window.
        assert_eq!(f.update(10, 11, 10), 80);
        assert_eq!(f.update(10, 16, 10), 10);
    }

    /// The windowed maximum against a brute-force one: never above it, and never below the
    /// maximum of the last quarter window (the filter's guarantee).
    #[test]
    fn max_filter_against_brute_force() {
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..200 {
            let mut f = MaxFilter::default();
            let mut seen: std::vec::Vec<(u32, u64)> = std::vec::Vec::new();
            let mut t = 0u32;
            for _ in 0..200 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                t += (x % 3) as u32;
                let v = (x >> 20) % 1000;
                let got = f.update(10, t, v);
                seen.push((t, v));
                let window_max = seen
                    .iter()
                    .filter(|&&(s, _)| t - s <= 10)
                    .map(|&(_, v)| v)
                    .max()
                    .unwrap();
                let recent_max = seen
                    .iter()
                    .filter(|&&(s, _)| t - s <= 10 / 4)
                    .map(|&(_, v)| v)
                    .max()
                    .unwrap();
                assert!(got <= window_max, "{got} > {window_max} at {t}");
                assert!(got >= recent_max, "{got} < {recent_max} at {t}");
            }
        }
    }

    /// A fluid model of one bottleneck: `rate` bytes/s, `rtt` µs of propagation, an infinite
    /// queue. Each step delivers one round's worth of ACKs as `n` ACKs.
    struct Path {
        bbr: Bbr,
        cwnd: usize,
        now: u64,
        snd_nxt: u32,
        delivered_seq: u32,
        rate: u64,
        rtt: u64,
        /// The application is the limit (it says so on every ACK).
        app_limited: bool,
    }

    const MSS: usize = 1000;

    impl Path {
        fn new(rate: u64, rtt: u64) -> Self {
            Path {
                bbr: Bbr::new(),
                cwnd: 10 * MSS,
                now: 1_000_000,
                snd_nxt: 0,
                delivered_seq: 0,
                rate,
                rtt,
                app_limited: false,
            }
        }

        /// One round: the sender puts out min(cwnd, pacing × rtt) bytes; they come back
        /// spread over max(rtt, bytes / rate) (the queue adds the excess).
        fn round(&mut self) -> u64 {
            let pace_limit = self
                .bbr
                .pacing_rate()
                .map_or(usize::MAX, |r| (r * self.rtt / 1_000_000) as usize);
            let flight = self.cwnd.min(pace_limit).max(MSS);
            self.snd_nxt += flight as u32;
            let serial = flight as u64 * 1_000_000 / self.rate;
            let queue = serial.saturating_sub(self.rtt);
            let span = self.rtt.max(serial);
            let acks = (flight / MSS).max(1);
            for i in 0..acks {
                let t =
                    self.now + self.rtt + span * (i as u64 + 1) / acks as u64 - span / acks as u64;
                let bytes = if i + 1 == acks {
                    flight - MSS * (acks - 1)
                } else {
                    MSS
                };
                self.delivered_seq += bytes as u32;
                let inflight = (self.snd_nxt - self.delivered_seq) as usize;
                if self.app_limited {
                    self.bbr.app_limited();
                }
                self.cwnd = self.bbr.on_ack(
                    AckSample {
                        now: Duration::from_micros(t),
                        delivered: bytes,
                        high: SeqNumber(self.delivered_seq),
                        snd_nxt: SeqNumber(self.snd_nxt),
                        inflight,
                        rtt_us: Some((self.rtt + queue.min(span)) as u32),
                    },
                    self.cwnd,
                    MSS,
                    10,
                );
            }
            self.now += span;
            flight as u64
        }
    }

    #[test]
    fn startup_finds_the_bottleneck_then_cruises() {
        // 12.5 MB/s (100 Mbit/s), 10 ms: BDP 125 kB.
        let mut p = Path::new(12_500_000, 10_000);
        let mut modes = std::vec::Vec::new();
        for _ in 0..60 {
            p.round();
            if modes.last() != Some(&p.bbr.mode()) {
                modes.push(p.bbr.mode());
            }
        }
        // Startup, Drain (which may end on the ACK that begins it: this model's queue is
        // empty at the end of each round), then ProbeBW for good.
        assert!(
            modes.starts_with(&[Mode::Startup, Mode::Drain, Mode::ProbeBw])
                || modes.starts_with(&[Mode::Startup, Mode::ProbeBw]),
            "{modes:?}"
        );
        assert_eq!(modes.last(), Some(&Mode::ProbeBw), "{modes:?}");
        let bw = p.bbr.bandwidth();
        assert!((11_000_000..=13_000_000).contains(&bw), "bandwidth {bw}");
        assert_eq!(p.bbr.min_rtt(), Some(Duration::from_millis(10)));
        // The window is 2 BDP + 3 segments, give or take the estimate.
        assert!((230_000..=280_000).contains(&p.cwnd), "cwnd {}", p.cwnd);
        // Pacing cycles around the estimate.
        let rate = p.bbr.pacing_rate().unwrap();
        assert!(
            rate >= bw * 192 / 256 * 98 / 100 && rate <= bw * 320 / 256,
            "{rate}"
        );
    }

    #[test]
    fn probe_rtt_every_ten_seconds() {
        let mut p = Path::new(12_500_000, 10_000);
        let mut probe_rtt_at = std::vec::Vec::new();
        let mut smallest_in_probe = usize::MAX;
        for _ in 0..2500 {
            p.round();
            if p.bbr.mode() == Mode::ProbeRtt {
                smallest_in_probe = smallest_in_probe.min(p.cwnd);
                if probe_rtt_at.last().is_none_or(|&t| p.now - t > 1_000_000) {
                    probe_rtt_at.push(p.now);
                }
            }
        }
        // 2500 rounds of ≥ 10 ms: at least 25 s, so two or more ProbeRTTs, 10 s apart.
        assert!(probe_rtt_at.len() >= 2, "{probe_rtt_at:?}");
        for w in probe_rtt_at.windows(2) {
            assert!(
                (10_000_000..=11_000_000).contains(&(w[1] - w[0])),
                "{probe_rtt_at:?}"
            );
        }
        assert_eq!(smallest_in_probe, MIN_SEGMENTS * MSS);
        // And it comes back to its window afterwards.
        assert_ne!(p.bbr.mode(), Mode::ProbeRtt);
        assert!(p.cwnd > 100_000, "{}", p.cwnd);
    }

    #[test]
    fn app_limited_rounds_do_not_lower_the_estimate() {
        let mut p = Path::new(12_500_000, 10_000);
        for _ in 0..40 {
            p.round();
        }
        let bw = p.bbr.bandwidth();
        // Now the application sends a trickle, and says so.
        p.app_limited = true;
        for _ in 0..30 {
            let saved = p.cwnd;
            p.cwnd = 2 * MSS;
            p.round();
            p.cwnd = p.cwnd.max(saved);
        }
        assert!(p.bbr.bandwidth() >= bw, "{} < {bw}", p.bbr.bandwidth());
        // Without the flag, the same trickle ages the estimate out within 10 rounds.
        p.app_limited = false;
        for _ in 0..30 {
            let saved = p.cwnd;
            p.cwnd = 2 * MSS;
            p.round();
            p.cwnd = p.cwnd.max(saved);
        }
        assert!(p.bbr.bandwidth() < bw / 4, "{} vs {bw}", p.bbr.bandwidth());
    }

    #[test]
    fn timeout_restarts_from_one_segment_and_regrows() {
        let mut p = Path::new(12_500_000, 10_000);
        for _ in 0..40 {
            p.round();
        }
        let before = p.cwnd;
        p.bbr.on_timeout(p.cwnd);
        p.cwnd = MSS;
        let mut rounds = 0;
        while p.cwnd < before * 9 / 10 && rounds < 20 {
            p.round();
            rounds += 1;
        }
        // Doubling from 4 segments to ~250: 6-7 rounds.
        assert!(rounds <= 8, "{} after {rounds} rounds", p.cwnd);
        // The model survived the timeout.
        assert!(p.bbr.bandwidth() >= 11_000_000, "{}", p.bbr.bandwidth());
    }
}
