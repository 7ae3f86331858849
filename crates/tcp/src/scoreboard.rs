//! The sender's SACK scoreboard (RFC 6675): which bytes above `SND.UNA` the receiver holds.

use crate::SeqNumber;

/// How many disjoint SACKed ranges are remembered; beyond that the lowest range is merged
/// away by forgetting it (it will be retransmitted, which is safe).
pub const MAX_SACKED: usize = 16;

/// SACKed ranges, sorted, disjoint, each `[start, end)`.
#[derive(Debug, Clone, Default)]
pub struct Scoreboard {
    ranges: heapless::Vec<(SeqNumber, SeqNumber), MAX_SACKED>,
}

impl Scoreboard {
    /// An empty scoreboard.
    pub const fn new() -> Self {
        Scoreboard {
            ranges: heapless::Vec::new(),
        }
    }

    /// Forget everything (after reneging is suspected).
    pub fn clear(&mut self) {
        self.ranges.clear();
    }

    /// Whether nothing is SACKed.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Record a SACK block, ignoring blocks outside `[una, nxt]` or empty (RFC 2018 allows
    /// the receiver no more; a block below `una` is a D-SACK and carries no new information
    /// for the scoreboard). Returns whether the block was used.
    pub fn add(
        &mut self,
        start: SeqNumber,
        end: SeqNumber,
        una: SeqNumber,
        nxt: SeqNumber,
    ) -> bool {
        if end <= start || start < una || end > nxt {
            return false;
        }
        let (mut start, mut end) = (start, end);
        // Remove every range touching [start, end], widening the new one.
        let mut i = 0;
        while let Some(&(s, e)) = self.ranges.get(i) {
            if e >= start && s <= end {
                start = start.min(s);
                end = end.max(e);
                self.ranges.remove(i);
            } else {
                i += 1;
            }
        }
        let at = self
            .ranges
            .iter()
            .position(|&(s, _)| s > start)
            .unwrap_or(self.ranges.len());
        if self.ranges.is_full() {
            // Drop the lowest range: it is the oldest information and the cheapest to resend.
            if at == 0 {
                return false;
            }
            self.ranges.remove(0);
            let _ = self.ranges.insert(at - 1, (start, end));
        } else {
            let _ = self.ranges.insert(at, (start, end));
        }
        true
    }

    /// `SND.UNA` moved to `una`: drop what it covers.
    pub fn ack(&mut self, una: SeqNumber) {
        self.ranges.retain(|&(_, e)| e > una);
        if let Some(first) = self.ranges.first_mut() {
            first.0 = first.0.max(una);
        }
    }

    /// Bytes SACKed.
    pub fn sacked_bytes(&self) -> usize {
        self.ranges.iter().map(|&(s, e)| (e - s) as usize).sum()
    }

    /// SACKed bytes inside `[from, to)`.
    pub fn sacked_in(&self, from: SeqNumber, to: SeqNumber) -> usize {
        self.ranges
            .iter()
            .map(|&(s, e)| {
                let (s, e) = (s.max(from), e.min(to));
                if e > s { (e - s) as usize } else { 0 }
            })
            .sum()
    }

    /// One past the highest SACKed byte.
    pub fn highest(&self) -> Option<SeqNumber> {
        self.ranges.last().map(|&(_, e)| e)
    }

    /// RFC 6675's IsLost boundary: every un-SACKed byte below the returned sequence number
    /// has at least `min_ranges` SACKed ranges, or more than `min_bytes` SACKed bytes, above
    /// it (DupThresh = 3: 3 ranges, 2 MSS).
    pub fn lost_below(&self, min_ranges: usize, min_bytes: usize) -> Option<SeqNumber> {
        let n = self.ranges.len();
        let by_count = n
            .checked_sub(min_ranges.max(1))
            .and_then(|i| self.ranges.get(i))
            .map(|&(s, _)| s);
        let mut above = 0usize;
        let mut by_bytes = None;
        for &(s, e) in self.ranges.iter().rev() {
            above += (e - s) as usize;
            if above > min_bytes {
                by_bytes = Some(s);
                break;
            }
        }
        match (by_count, by_bytes) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// The first run of un-SACKed bytes at or after `from` and before `to`.
    pub fn next_hole(&self, from: SeqNumber, to: SeqNumber) -> Option<(SeqNumber, SeqNumber)> {
        let mut at = from;
        for &(s, e) in &self.ranges {
            if e <= at {
                continue;
            }
            if s > at {
                let end = s.min(to);
                return (end > at).then_some((at, end));
            }
            at = e;
        }
        (to > at).then_some((at, to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u32) -> SeqNumber {
        SeqNumber(n)
    }

    #[test]
    fn holes_between_sacked_ranges() {
        let mut b = Scoreboard::new();
        assert!(b.add(s(300), s(400), s(100), s(1000)));
        assert!(b.add(s(500), s(600), s(100), s(1000)));
        assert!(!b.add(s(50), s(80), s(100), s(1000)), "D-SACK below una");
        assert!(
            !b.add(s(900), s(1100), s(100), s(1000)),
            "beyond what was sent"
        );
        assert_eq!(b.sacked_bytes(), 200);
        assert_eq!(b.next_hole(s(100), s(600)), Some((s(100), s(300))));
        assert_eq!(b.next_hole(s(300), s(600)), Some((s(400), s(500))));
        assert_eq!(b.next_hole(s(500), s(600)), None);
        assert_eq!(b.next_hole(s(500), s(700)), Some((s(600), s(700))));
        assert!(b.add(s(390), s(510), s(100), s(1000)));
        assert_eq!(b.highest(), Some(s(600)));
        assert_eq!(b.sacked_in(s(350), s(450)), 100);
        b.ack(s(350));
        assert_eq!(b.sacked_bytes(), 250);
        b.ack(s(600));
        assert!(b.is_empty());
    }

    #[test]
    fn bounded_and_wrapping() {
        let mut b = Scoreboard::new();
        let una = SeqNumber(u32::MAX - 1000);
        for i in 0..(MAX_SACKED as u32 + 4) {
            b.add(
                una + (100 * i as usize + 50),
                una + (100 * i as usize + 60),
                una,
                una + 10_000,
            );
        }
        assert_eq!(b.ranges.len(), MAX_SACKED);
        assert_eq!(b.sacked_bytes(), 10 * MAX_SACKED);
        assert_eq!(b.highest(), Some(una + 100 * (MAX_SACKED + 3) + 60));
    }
}
