//! Sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293 3.4, RFC 1982).

use core::cmp::Ordering;
use core::fmt;
use core::ops::{Add, AddAssign, Sub};

/// A TCP sequence number. Ordering is circular: `a < b` when `b` is less than 2^31 ahead of
/// `a`, which is what every comparison in the state machine means.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// The signed distance from `other` to `self` (`self - other`), in -2^31..2^31.
    pub const fn distance(self, other: SeqNumber) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// `self + n` modulo 2^32.
    pub const fn wrapping_add(self, n: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(n))
    }

    /// The larger of two sequence numbers in circular order.
    pub fn max(self, other: SeqNumber) -> SeqNumber {
        if self.distance(other) >= 0 {
            self
        } else {
            other
        }
    }

    /// The smaller of two sequence numbers in circular order.
    pub fn min(self, other: SeqNumber) -> SeqNumber {
        if self.distance(other) <= 0 {
            self
        } else {
            other
        }
    }

    /// Whether `self` lies in `[start, end)` in circular order.
    pub fn in_window(self, start: SeqNumber, end: SeqNumber) -> bool {
        self.distance(start) >= 0 && end.distance(self) > 0
    }
}

impl PartialOrd for SeqNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.distance(*other).cmp(&0))
    }
}

impl Add<usize> for SeqNumber {
    type Output = SeqNumber;
    /// Advance by `n` bytes (`n` is truncated to 32 bits: windows never exceed 2^30).
    fn add(self, n: usize) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(n as u32))
    }
}

impl AddAssign<usize> for SeqNumber {
    fn add_assign(&mut self, n: usize) {
        *self = *self + n;
    }
}

impl Sub for SeqNumber {
    type Output = i32;
    /// The signed distance `self - other`.
    fn sub(self, other: SeqNumber) -> i32 {
        self.distance(other)
    }
}

impl fmt::Display for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_wraps() {
        let a = SeqNumber(u32::MAX - 10);
        let b = a + 20;
        assert_eq!(b.0, 9);
        assert!(a < b);
        assert!(b > a);
        assert_eq!(b - a, 20);
        assert_eq!(a - b, -20);
        assert_eq!(a.max(b), b);
        assert_eq!(a.min(b), a);
        assert!(SeqNumber(5).in_window(a, b));
        assert!(!b.in_window(a, b));
        assert!(a.in_window(a, b));
        assert!(!SeqNumber(10).in_window(a, b));
        let mut c = a;
        c += 11;
        assert_eq!(c, SeqNumber(0));
    }
}
