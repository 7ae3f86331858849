//! The retransmission timer (RFC 6298).

use core::time::Duration;

/// Smoothed RTT, its variation, and the RTO with exponential backoff. Kept in nanoseconds
/// (`u64`, 48 bytes instead of 88 as `Duration`s; durations saturate at 584 years).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RttEstimator {
    /// `u64::MAX` until the first sample.
    srtt: u64,
    rttvar: u64,
    rto: u64,
    min: u64,
    max: u64,
    backoff: u32,
}

/// The clock granularity `G` of RFC 6298 (we count in microseconds; 1 ms keeps RTO sane on
/// very short paths, like Linux's jiffy).
const GRANULARITY: Duration = Duration::from_millis(1);

const UNSET: u64 = u64::MAX;

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(UNSET - 1)
}

fn dur(n: u64) -> Duration {
    Duration::from_nanos(n)
}

impl RttEstimator {
    /// A fresh estimator: RTO `initial` until the first sample, then at least `min`, at most
    /// `max`.
    pub fn new(initial: Duration, min: Duration, max: Duration) -> Self {
        RttEstimator {
            srtt: UNSET,
            rttvar: 0,
            rto: ns(initial.clamp(min, max.max(min))),
            backoff: 0,
            min: ns(min),
            max: ns(max.max(min)),
        }
    }

    /// The smoothed RTT, once measured.
    pub fn srtt(&self) -> Option<Duration> {
        (self.srtt != UNSET).then(|| dur(self.srtt))
    }

    /// [`srtt`](Self::srtt) in nanoseconds, for per-segment timer arithmetic.
    pub(crate) fn srtt_ns(&self) -> Option<u64> {
        (self.srtt != UNSET).then_some(self.srtt)
    }

    /// The RTT variation.
    pub fn rttvar(&self) -> Duration {
        dur(self.rttvar)
    }

    /// The current timeout, backoff included.
    pub fn rto(&self) -> Duration {
        let max = dur(self.max);
        dur(self.rto)
            .checked_mul(1u32 << self.backoff.min(16))
            .unwrap_or(max)
            .min(max)
    }

    /// How many times in a row the timer has backed off.
    pub fn backoff(&self) -> u32 {
        self.backoff
    }

    /// Take an RTT measurement (never from a retransmitted segment unless timestamps say which
    /// transmission it answers: Karn's rule is the caller's). Clears the backoff.
    pub fn sample(&mut self, r: Duration) {
        let (srtt, rttvar) = match self.srtt() {
            None => (r, r / 2),
            Some(srtt) => {
                let delta = srtt.abs_diff(r);
                ((srtt * 7 + r) / 8, (self.rttvar() * 3 + delta) / 4)
            }
        };
        self.srtt = ns(srtt);
        self.rttvar = ns(rttvar);
        self.rto = ns((srtt + (rttvar * 4).max(GRANULARITY)).clamp(dur(self.min), dur(self.max)));
        self.backoff = 0;
    }

    /// The timer expired: double the timeout (RFC 6298 5.5).
    pub fn back_off(&mut self) {
        self.backoff = self.backoff.saturating_add(1);
    }

    /// New data was acknowledged without an RTT sample: keep the RTO, drop the backoff
    /// (RFC 6298 5.7 allows this once the ACK is for new data).
    pub fn reset_backoff(&mut self) {
        self.backoff = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn rfc6298_arithmetic() {
        let mut e = RttEstimator::new(MS(1000), MS(200), MS(60_000));
        assert_eq!(e.rto(), MS(1000));
        e.sample(MS(100));
        // SRTT 100, RTTVAR 50, RTO = 100 + 200 = 300.
        assert_eq!(e.rto(), MS(300));
        e.sample(MS(200));
        // RTTVAR = 3/4*50 + 1/4*100 = 62.5; SRTT = 7/8*100 + 25 = 112.5; RTO = 362.5.
        assert_eq!(e.srtt(), Some(Duration::from_micros(112_500)));
        assert_eq!(e.rto(), Duration::from_micros(362_500));
        e.back_off();
        e.back_off();
        assert_eq!(e.rto(), Duration::from_micros(1_450_000));
        for _ in 0..40 {
            e.back_off();
        }
        assert_eq!(e.rto(), MS(60_000));
        e.sample(MS(1));
        assert_eq!(e.backoff(), 0);
    }

    #[test]
    fn floor_holds() {
        let mut e = RttEstimator::new(MS(1000), MS(200), MS(60_000));
        e.sample(Duration::from_micros(50));
        assert_eq!(e.rto(), MS(200));
    }
}
