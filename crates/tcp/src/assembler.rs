//! Out-of-order bookkeeping on the receive side: which byte ranges past `RCV.NXT` are held,
//! and the SACK blocks that report them (RFC 2018).

use crate::SeqNumber;

/// How many separate out-of-order ranges are remembered. A segment that would need more is
/// dropped (the sender retransmits it); the bound keeps the state fixed-size.
pub const MAX_RANGES: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    /// Offset of the first byte from the assembler's origin (`RCV.NXT`); `u32`, as a TCP
    /// window never exceeds 2^30 bytes (12-byte ranges instead of 24).
    start: u32,
    /// Offset one past the last byte.
    end: u32,
    /// Recency: larger is more recently extended.
    stamp: u32,
}

/// Out-of-order ranges, as offsets from the next expected byte.
#[derive(Debug, Clone, Default)]
pub struct Assembler {
    ranges: heapless::Vec<Range, MAX_RANGES>,
    clock: u32,
}

impl Assembler {
    /// An empty assembler.
    pub const fn new() -> Self {
        Assembler {
            ranges: heapless::Vec::new(),
            clock: 0,
        }
    }

    /// Whether nothing out of order is held.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Bytes held out of order.
    pub fn held(&self) -> usize {
        self.ranges.iter().map(|r| (r.end - r.start) as usize).sum()
    }

    /// The end of the furthest range (0 when empty).
    pub fn extent(&self) -> usize {
        self.ranges.last().map_or(0, |r| r.end as usize)
    }

    /// Record `[offset, offset + len)` as held (`offset > 0`; offset 0 is in-order data, see
    /// [`advance`](Self::advance)). Returns `false`, changing nothing, when the range would need
    /// a new slot and all are taken, or would end beyond 2^32 bytes from the origin.
    pub fn add(&mut self, offset: usize, len: usize) -> bool {
        if len == 0 {
            return true;
        }
        let (Ok(start), Some(Ok(end))) = (
            u32::try_from(offset),
            offset.checked_add(len).map(u32::try_from),
        ) else {
            return false;
        };
        self.clock = self.clock.wrapping_add(1);
        // Ranges are sorted and disjoint and non-adjacent. Find those touching [start, end].
        let first = self.ranges.iter().position(|r| r.end >= start);
        let Some(i) = first else {
            return self.insert(self.ranges.len(), start, end);
        };
        if self.ranges.get(i).is_some_and(|r| r.start > end) {
            return self.insert(i, start, end);
        }
        // Merge ranges i..j that touch [start, end].
        let mut j = i;
        while self.ranges.get(j + 1).is_some_and(|r| r.start <= end) {
            j += 1;
        }
        let (Some(lo), Some(hi)) = (self.ranges.get(i).copied(), self.ranges.get(j).copied())
        else {
            return false;
        };
        let merged = Range {
            start: lo.start.min(start),
            end: hi.end.max(end),
            stamp: self.clock,
        };
        for _ in i..j {
            self.ranges.remove(i + 1);
        }
        if let Some(r) = self.ranges.get_mut(i) {
            *r = merged;
        }
        true
    }

    fn insert(&mut self, at: usize, start: u32, end: u32) -> bool {
        self.ranges
            .insert(
                at,
                Range {
                    start,
                    end,
                    stamp: self.clock,
                },
            )
            .is_ok()
    }

    /// `n` in-order bytes arrived at offset 0: move the origin past them and past any held
    /// range they now join, and return how far the origin moved in total.
    pub fn advance(&mut self, n: usize) -> usize {
        let mut moved = n;
        // Ranges wholly covered by the new data vanish; one that overlaps or touches extends.
        while let Some(r) = self.ranges.first().copied() {
            if r.start as usize > moved {
                break;
            }
            moved = moved.max(r.end as usize);
            self.ranges.remove(0);
        }
        // Any range left starts beyond `moved`, so `moved` fits in a u32 then.
        let shift = moved.min(u32::MAX as usize) as u32;
        for r in self.ranges.iter_mut() {
            r.start -= shift;
            r.end -= shift;
        }
        moved
    }

    /// The held ranges as sequence-number blocks, most recently changed first (RFC 2018 4),
    /// at most `max`.
    pub fn sack_blocks(&self, origin: SeqNumber, max: usize) -> heapless::Vec<(u32, u32), 4> {
        let mut order: heapless::Vec<Range, MAX_RANGES> = self.ranges.clone();
        order.sort_unstable_by_key(|r| core::cmp::Reverse(r.stamp));
        order
            .iter()
            .take(max.min(4))
            .map(|r| ((origin + r.start as usize).0, (origin + r.end as usize).0))
            .collect()
    }

    /// Whether `[offset, offset + len)` is entirely held already.
    pub fn contains(&self, offset: usize, len: usize) -> bool {
        self.ranges
            .iter()
            .any(|r| r.start as usize <= offset && offset.saturating_add(len) <= r.end as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_and_advances() {
        let mut a = Assembler::new();
        assert!(a.add(10, 5));
        assert!(a.add(20, 5));
        assert!(a.add(15, 5)); // joins both
        assert_eq!(a.held(), 15);
        assert_eq!(a.sack_blocks(SeqNumber(100), 4).as_slice(), &[(110, 125)]);
        assert_eq!(a.advance(5), 5);
        assert!(a.contains(5, 15));
        assert_eq!(a.advance(5), 20);
        assert!(a.is_empty());
    }

    #[test]
    fn most_recent_first_and_bounded() {
        let mut a = Assembler::new();
        for i in 0..MAX_RANGES {
            assert!(a.add(10 * (i + 1), 2));
        }
        assert!(!a.add(200, 1));
        assert!(a.add(11, 3)); // extends the first range: now most recent
        let blocks = a.sack_blocks(SeqNumber(0), 3);
        assert_eq!(blocks.as_slice(), &[(10, 14), (80, 82), (70, 72)]);
        // Overlapping the origin consumes ranges it reaches.
        assert_eq!(a.advance(31), 32);
        assert_eq!(a.extent(), 82 - 32);
    }
}
