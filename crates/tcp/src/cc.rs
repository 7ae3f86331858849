//! Congestion control: RFC 5681 slow start and congestion avoidance with the RFC 6582 NewReno
//! reduction, CUBIC (RFC 9438), or BBR (a model of the path instead of loss as the signal; see
//! [`crate::bbr`]). All count in bytes; loss recovery itself (what to resend) lives in the
//! connection.

use core::time::Duration;

use crate::bbr::{AckSample, Bbr};

/// Which window growth function a connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// RFC 5681 / RFC 6582.
    #[default]
    NewReno,
    /// RFC 9438.
    Cubic,
    /// BBR v1 (see [`crate::bbr`]): paced at its estimate of the bottleneck bandwidth, with a
    /// window of two bandwidth-delay products; random loss costs only its retransmissions.
    Bbr,
}

impl core::str::FromStr for Algorithm {
    type Err = ParseAlgorithmError;

    /// `newreno` (or `reno`), `cubic` or `bbr`, in any case (as command lines take them).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            ("newreno", Algorithm::NewReno),
            ("reno", Algorithm::NewReno),
            ("cubic", Algorithm::Cubic),
            ("bbr", Algorithm::Bbr),
        ]
        .into_iter()
        .find(|(name, _)| s.eq_ignore_ascii_case(name))
        .map(|(_, a)| a)
        .ok_or(ParseAlgorithmError)
    }
}

/// A name [`Algorithm`]'s `FromStr` does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseAlgorithmError;

impl core::fmt::Display for ParseAlgorithmError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("congestion control: newreno, cubic or bbr")
    }
}

impl core::error::Error for ParseAlgorithmError {}

/// CUBIC's multiplicative decrease, scaled by 1024 (beta = 0.7).
const CUBIC_BETA: u64 = 717;
/// CUBIC's C = 0.4, scaled by 1024.
const CUBIC_C: u64 = 410;

/// The congestion window and slow-start threshold, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Congestion {
    cwnd: usize,
    ssthresh: usize,
    mss: usize,
    /// Bytes acknowledged since cwnd last grew in congestion avoidance (RFC 5681 3.1's
    /// byte counting).
    acked: usize,
    model: Model,
}

/// Each algorithm's own state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Model {
    NewReno,
    Cubic(Cubic),
    Bbr(Bbr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Cubic {
    /// Window before the last reduction, bytes.
    w_max: usize,
    /// Start of the current epoch.
    epoch: Option<Duration>,
    /// K in milliseconds.
    k_ms: u64,
    /// The Reno-friendly estimate, bytes.
    w_est: usize,
}

/// Integer cube root (floor).
fn cbrt(x: u64) -> u64 {
    if x == 0 {
        return 0;
    }
    let mut r = 1u64 << (64 - x.leading_zeros()).div_ceil(3);
    loop {
        let next = (2 * r + x / (r * r)) / 3;
        if next >= r {
            break;
        }
        r = next;
    }
    while r * r * r > x {
        r -= 1;
    }
    r
}

impl Congestion {
    /// A window for a connection with send MSS `mss`, starting at `initial_segments` segments
    /// (RFC 6928's 10 is the usual choice; RFC 5681 allows 2–4).
    pub fn new(algorithm: Algorithm, mss: usize, initial_segments: usize) -> Self {
        let mss = mss.max(1);
        Congestion {
            cwnd: mss * initial_segments.max(1),
            ssthresh: usize::MAX,
            mss,
            acked: 0,
            model: match algorithm {
                Algorithm::NewReno => Model::NewReno,
                Algorithm::Cubic => Model::Cubic(Cubic::default()),
                Algorithm::Bbr => Model::Bbr(Bbr::new()),
            },
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self.model {
            Model::NewReno => Algorithm::NewReno,
            Model::Cubic(_) => Algorithm::Cubic,
            Model::Bbr(_) => Algorithm::Bbr,
        }
    }

    /// BBR's model of the path, when BBR is the algorithm.
    pub fn bbr(&self) -> Option<&Bbr> {
        match &self.model {
            Model::Bbr(b) => Some(b),
            _ => None,
        }
    }

    /// Whether the window follows a model of the path rather than loss (BBR): fast
    /// recovery's reductions and PRR do not apply.
    pub(crate) fn model_based(&self) -> bool {
        matches!(self.model, Model::Bbr(_))
    }

    /// The rate to pace segments at, bytes per second (`None`: unpaced).
    pub fn pacing_rate(&self) -> Option<u64> {
        self.bbr().and_then(Bbr::pacing_rate)
    }

    /// The sender had no data to send while the window had room (BBR's application-limited
    /// rounds).
    pub(crate) fn app_limited(&mut self) {
        if let Model::Bbr(b) = &mut self.model {
            b.app_limited();
        }
    }

    /// New data goes out with nothing in flight (BBR restarts its rate sample's clock).
    pub(crate) fn send_from_idle(&mut self, now: Duration) {
        if let Model::Bbr(b) = &mut self.model {
            b.send_from_idle(now);
        }
    }

    /// Every ACK, in or out of recovery: what it delivered (BBR's input; the loss-based
    /// algorithms take theirs through [`Congestion::on_ack`]).
    pub(crate) fn on_delivery(&mut self, a: AckSample, initial_segments: usize) {
        if let Model::Bbr(b) = &mut self.model {
            self.cwnd = b.on_ack(a, self.cwnd, self.mss, initial_segments.max(1));
        }
    }

    /// The congestion window.
    pub fn window(&self) -> usize {
        self.cwnd
    }

    /// The slow-start threshold.
    pub fn ssthresh(&self) -> usize {
        self.ssthresh
    }

    /// Set the send MSS once the handshake has negotiated it.
    pub fn set_mss(&mut self, mss: usize, initial_segments: usize) {
        self.mss = mss.max(1);
        self.cwnd = self.mss * initial_segments.max(1);
    }

    /// New data `acked` bytes was cumulatively acknowledged outside recovery, with `rtt` the
    /// smoothed RTT (for CUBIC) at time `now`.
    pub fn on_ack(&mut self, acked: usize, now: Duration, rtt: Option<Duration>) {
        if self.model_based() {
            return;
        }
        if self.cwnd < self.ssthresh {
            // Slow start, with RFC 3465's L = 2 * SMSS limit.
            self.cwnd = self.cwnd.saturating_add(acked.min(2 * self.mss));
            return;
        }
        match self.model {
            Model::NewReno => self.reno_avoidance(acked),
            Model::Cubic(mut c) => {
                self.cubic_avoidance(&mut c, acked, now, rtt);
                self.model = Model::Cubic(c);
            }
            Model::Bbr(_) => {}
        }
    }

    fn reno_avoidance(&mut self, acked: usize) {
        self.acked += acked;
        if self.acked >= self.cwnd {
            self.acked -= self.cwnd;
            self.cwnd = self.cwnd.saturating_add(self.mss);
        }
    }

    fn cubic_avoidance(
        &mut self,
        c: &mut Cubic,
        acked: usize,
        now: Duration,
        rtt: Option<Duration>,
    ) {
        let mss = self.mss as u64;
        let epoch = *c.epoch.get_or_insert_with(|| {
            c.w_est = self.cwnd;
            if c.w_max <= self.cwnd {
                c.k_ms = 0;
                c.w_max = self.cwnd;
            } else {
                // K = cbrt((W_max - cwnd) / C), in seconds, windows in segments.
                let diff_seg_1024 = ((c.w_max - self.cwnd) as u64 * 1024) / mss;
                let k3 = diff_seg_1024.saturating_mul(1_000_000_000) / CUBIC_C; // in ms^3
                c.k_ms = cbrt(k3);
            }
            now
        });
        let rtt_ms = rtt.map_or(100, |r| r.as_millis().max(1) as u64);
        let t_ms = (now.saturating_sub(epoch).as_millis() as u64).saturating_add(rtt_ms);
        // W_cubic(t) = C (t - K)^3 + W_max, in bytes.
        let d = t_ms.abs_diff(c.k_ms).min(1_000_000); // cap: ~16 min keeps the cube in range
        let delta_seg_1024 = CUBIC_C * (d * d / 1000) * d / 1_000_000; // C*d^3 in seg*1024
        let delta = (delta_seg_1024 * mss / 1024) as usize;
        let w_max = c.w_max;
        let target = if t_ms >= c.k_ms {
            w_max.saturating_add(delta)
        } else {
            w_max.saturating_sub(delta)
        };
        // Reno-friendly region: W_est grows by alpha = 3(1-beta)/(1+beta) ~ 0.53 segments per RTT.
        c.w_est = c.w_est.saturating_add(
            acked * 3 * (1024 - CUBIC_BETA as usize) / (1024 + CUBIC_BETA as usize) * self.mss
                / self.cwnd.max(1),
        );
        let target = target
            .max(c.w_est)
            .min(self.cwnd.saturating_add(self.cwnd / 2));
        if target > self.cwnd {
            // Grow by (target - cwnd) / cwnd per acked segment.
            self.acked += acked;
            let grow = (target - self.cwnd).saturating_mul(self.acked) / self.cwnd.max(1);
            if grow > 0 {
                self.acked = 0;
                self.cwnd = self.cwnd.saturating_add(grow.min(self.mss.max(acked)));
            }
        }
    }

    /// Loss detected by duplicate ACKs or SACK with `flight` bytes outstanding: set ssthresh
    /// and the window for recovery (RFC 5681 (4), RFC 6582, RFC 9438 4.6).
    pub fn on_fast_retransmit(&mut self, flight: usize) {
        if self.model_based() {
            return;
        }
        self.ssthresh = self.reduced(flight);
        self.cwnd = self.ssthresh;
        self.acked = 0;
    }

    /// A retransmission timeout: ssthresh from the flight, window back to one segment
    /// (RFC 5681 (4) and the loss window).
    pub fn on_timeout(&mut self, flight: usize) {
        if let Model::Bbr(b) = &mut self.model {
            b.on_timeout(self.cwnd);
            self.cwnd = self.mss;
            return;
        }
        self.ssthresh = self.reduced(flight);
        self.cwnd = self.mss;
        self.acked = 0;
    }

    fn reduced(&mut self, flight: usize) -> usize {
        match &mut self.model {
            Model::NewReno | Model::Bbr(_) => (flight / 2).max(2 * self.mss),
            Model::Cubic(c) => {
                // Fast convergence (RFC 9438 4.7).
                c.w_max = if self.cwnd < c.w_max {
                    self.cwnd * (1024 + CUBIC_BETA as usize) / 2048
                } else {
                    self.cwnd
                };
                c.epoch = None;
                (flight * CUBIC_BETA as usize / 1024).max(2 * self.mss)
            }
        }
    }

    /// Recovery ended (the recovery point was acknowledged): the window is ssthresh (RFC
    /// 6582 3.2 (3)'s second option, RFC 6675's and Linux's choice). The first option,
    /// `min(ssthresh, FlightSize + SMSS)`, leaves a window of one segment when recovery drained
    /// the flight, and a lone segment waits out the peer's delayed ACK (40 ms on Linux).
    pub fn on_recovery_end(&mut self) {
        if self.model_based() {
            return;
        }
        self.cwnd = self.ssthresh.max(self.mss);
    }

    /// Set the window directly: RFC 6937's PRR sets it to `pipe + sndcnt` on each ACK of a
    /// recovery.
    pub(crate) fn set_window(&mut self, cwnd: usize) {
        if self.model_based() {
            return;
        }
        self.cwnd = cwnd.max(self.mss);
    }

    /// What an undo restores: the window and `max(ssthresh, 3/4 of the window)` (Linux's
    /// `tcp_current_ssthresh`), taken before a reduction.
    pub(crate) fn prior(&self) -> (usize, usize) {
        (self.cwnd, self.ssthresh.max(self.cwnd / 4 * 3))
    }

    /// The last reduction was spurious (RFC 3522 / RFC 3708): restore the window and
    /// threshold saved by [`Congestion::prior`] before it, keeping anything larger since.
    pub(crate) fn undo(&mut self, (cwnd, ssthresh): (usize, usize)) {
        self.cwnd = self.cwnd.max(cwnd);
        self.ssthresh = self.ssthresh.max(ssthresh);
        self.acked = 0;
        if let Model::Cubic(c) = &mut self.model {
            c.w_max = c.w_max.max(cwnd);
            c.epoch = None;
        }
    }

    /// Restart after an idle period longer than an RTO (RFC 5681 4.1).
    pub fn on_idle(&mut self, initial_segments: usize) {
        match &mut self.model {
            // Pacing spreads the restart; the model still holds.
            Model::Bbr(_) => return,
            Model::Cubic(c) => c.epoch = None,
            Model::NewReno => {}
        }
        self.cwnd = self.cwnd.min(self.mss * initial_segments.max(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Duration = Duration::from_secs(1);

    #[test]
    fn names_parse() {
        assert_eq!("NewReno".parse(), Ok(Algorithm::NewReno));
        assert_eq!("reno".parse(), Ok(Algorithm::NewReno));
        assert_eq!("cubic".parse(), Ok(Algorithm::Cubic));
        assert_eq!("BBR".parse(), Ok(Algorithm::Bbr));
        assert_eq!("vegas".parse::<Algorithm>(), Err(ParseAlgorithmError));
    }

    #[test]
    fn cube_roots() {
        for x in [
            0u64,
            1,
            7,
            8,
            9,
            26,
            27,
            1000,
            999_999,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let r = cbrt(x);
            assert!(r.checked_pow(3).is_some_and(|c| c <= x), "{x}");
            assert!((r + 1).checked_pow(3).is_none_or(|c| c > x), "{x}");
        }
    }

    #[test]
    fn reno_slow_start_then_linear() {
        let mut c = Congestion::new(Algorithm::NewReno, 1000, 2);
        c.on_ack(1000, NOW, None);
        c.on_ack(1000, NOW, None);
        assert_eq!(c.window(), 4000);
        c.on_fast_retransmit(4000);
        assert_eq!((c.window(), c.ssthresh()), (2000, 2000));
        c.on_ack(1000, NOW, None);
        assert_eq!(c.window(), 2000);
        c.on_ack(1000, NOW, None);
        assert_eq!(c.window(), 3000);
        c.on_timeout(3000);
        assert_eq!((c.window(), c.ssthresh()), (1000, 2000));
    }

    #[test]
    fn cubic_recovers_towards_w_max_then_probes() {
        let mss = 1000;
        let mut c = Congestion::new(Algorithm::Cubic, mss, 100);
        c.ssthresh = 0; // congestion avoidance from the start
        c.on_fast_retransmit(100 * mss);
        assert_eq!(c.window(), 70_019); // 0.7 * 100 segments
        let rtt = Some(Duration::from_millis(100));
        let mut now = NOW;
        let mut prev = c.window();
        let mut reached = None;
        for step in 0..5000u32 {
            now += Duration::from_millis(1);
            c.on_ack(c.window() / 100, now, rtt); // a window per RTT
            assert!(c.window() >= prev);
            prev = c.window();
            if reached.is_none() && c.window() >= 99 * mss {
                reached = Some(step);
            }
        }
        // K = cbrt(30 / 0.4) ~ 4.2 s; within a segment of W_max when (K - t)^3 <= 1 / 0.4,
        // at t ~ 2.9 s (the Reno-friendly estimate stays below: ~0.53 segments per RTT).
        let reached = reached.expect("window returns to W_max");
        assert!((2500..3400).contains(&reached), "{reached}");
        assert!(c.window() >= 99 * mss, "{}", c.window());
    }
}
