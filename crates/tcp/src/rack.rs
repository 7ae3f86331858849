//! RACK-TLP (RFC 8985) bookkeeping: when each outstanding range was last sent, which ranges
//! are deemed lost, and the RACK variables.
//!
//! RACK needs a send time per segment. A table per segment would cost kilobytes per
//! connection, so [`TxLog`] keeps at most [`LOG_RANGES`] ranges covering `[SND.UNA, SND.NXT)`
//! in sequence order, each with one send time (the latest of the transmissions it covers) and
//! two flags (retransmitted, lost). Transmissions close in time merge into one range (new data
//! sent in a burst is one range; so is a run of retransmissions), and when the table is full
//! the least informative neighbours merge: a fully SACKed range first, then the pair of
//! equal-flag neighbours closest in time. Merging keeps the later send time, which only ever
//! delays a time-based loss verdict, never hastens it; the sequence-based rule (RFC 6675's
//! DupThresh) and the timers still cover what a coarse range hides.
//!
//! Times are microseconds on the caller's clock, kept in a wrapping `u32` (71 minutes): every
//! comparison is between transmissions that are still outstanding, far closer than that.

use core::time::Duration;

use crate::SeqNumber;
use crate::scoreboard::Scoreboard;

/// Ranges a [`TxLog`] keeps.
pub(crate) const LOG_RANGES: usize = 16;

/// The range was retransmitted (its send time is the retransmission's).
const RETRANS: u8 = 1;
/// The range is deemed lost and waits to be retransmitted.
const LOST: u8 = 2;
/// The range was merged from sends further apart than the granule when the table was full:
/// its time is the latest of them, too late for the earlier parts, so its delivery must not
/// yield an RTT sample nor move RACK.xmit (it would make the RTT look shorter than it is and
/// declare segments still in flight lost).
const COARSE: u8 = 4;

/// Microseconds on the caller's clock, wrapping.
pub(crate) fn micros(d: Duration) -> u32 {
    d.as_micros() as u32
}

/// `a` is strictly later than `b` (wrapping).
pub(crate) fn later(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// `a - b` in microseconds, 0 if `a` is not later.
pub(crate) fn since(a: u32, b: u32) -> u32 {
    let d = a.wrapping_sub(b) as i32;
    if d > 0 { d as u32 } else { 0 }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sent {
    /// One past the range's last sequence number; the start is the previous range's end
    /// (or SND.UNA for the first).
    end: SeqNumber,
    /// When the range was last sent, µs.
    at: u32,
    /// How long before `at` its earliest send was, µs (saturating; in the padding).
    span: u16,
    flags: u8,
}

/// `b` (sent after `a`, the range just above it) merged into `a`, if their flags match and all
/// their sends lie within `granule` µs of `a`'s *first* send (see `TxLog::merge_left`).
fn merged(a: Sent, b: Sent, granule: u32) -> Option<Sent> {
    let first = a.at.wrapping_sub(u32::from(a.span));
    (a.flags == b.flags
        && a.flags & LOST == 0
        && !later(a.at, b.at)
        && since(b.at, first) <= granule)
        .then(|| Sent {
            span: span(b.at, first),
            ..b
        })
}

/// The span of a range whose sends ran from `first` to `last` (µs), saturating.
fn span(last: u32, first: u32) -> u16 {
    since(last, first).min(u32::from(u16::MAX)) as u16
}

/// A delivered piece of the sequence space, as [`TxLog::for_each_in`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Piece {
    /// One past its last sequence number.
    pub end: SeqNumber,
    /// When it was last sent, µs.
    pub at: u32,
    /// Whether it was retransmitted.
    pub retransmitted: bool,
    /// Whether its time only bounds sends merged from different times (see `COARSE`).
    pub coarse: bool,
}

/// Send times and loss marks for the outstanding sequence space (see the module docs).
#[derive(Debug, Clone, Default)]
pub(crate) struct TxLog {
    ranges: heapless::Vec<Sent, LOG_RANGES>,
}

impl TxLog {
    pub(crate) const fn new() -> Self {
        TxLog {
            ranges: heapless::Vec::new(),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.ranges.clear();
    }

    fn start_of(&self, i: usize, una: SeqNumber) -> SeqNumber {
        match i.checked_sub(1).and_then(|j| self.ranges.get(j)) {
            Some(prev) => prev.end,
            None => una,
        }
    }

    fn end(&self) -> Option<SeqNumber> {
        self.ranges.last().map(|r| r.end)
    }

    /// SND.UNA moved to `una`: forget what it covers.
    pub(crate) fn ack(&mut self, una: SeqNumber) {
        let drop = self.ranges.iter().take_while(|r| r.end <= una).count();
        if drop > 0 {
            let keep = self.ranges.len() - drop;
            for i in 0..keep {
                self.ranges[i] = self.ranges[i + drop];
            }
            self.ranges.truncate(keep);
        }
    }

    /// Make a range boundary at `seq` (when `una < seq` lies inside a range). Needs one free
    /// slot; without one nothing happens and `false` says so.
    fn split(&mut self, una: SeqNumber, seq: SeqNumber) -> bool {
        if seq <= una {
            return true;
        }
        let Some(i) = self.ranges.iter().position(|r| r.end > seq) else {
            return true;
        };
        if self.start_of(i, una) >= seq {
            return true;
        }
        let mut left = self.ranges[i];
        left.end = seq;
        self.ranges.insert(i, left).is_ok()
    }

    /// Merge ranges until at most `len` remain (see the module docs for the order).
    fn compact(&mut self, una: SeqNumber, sacked: &Scoreboard, len: usize) {
        while self.ranges.len() > len.max(1) {
            // 1. A fully SACKed range: its flags and time no longer matter.
            let n = self.ranges.len();
            let dead = if sacked.is_empty() {
                None
            } else {
                (0..n).find(|&i| {
                    let (s, e) = (self.start_of(i, una), self.ranges[i].end);
                    e > s && sacked.sacked_in(s, e) == (e - s) as usize
                })
            };
            if let Some(i) = dead {
                if i + 1 < n {
                    // The next range extends down over it.
                    self.ranges.remove(i);
                } else {
                    self.ranges[i - 1].end = self.ranges[i].end;
                    self.ranges.remove(i);
                }
                continue;
            }
            // 2. Equal flags, closest in time; 3. else the oldest pair.
            let mut best: Option<(usize, u32)> = None;
            for i in 0..n - 1 {
                let (a, b) = (self.ranges[i], self.ranges[i + 1]);
                if a.flags != b.flags {
                    continue;
                }
                let gap = if later(a.at, b.at) {
                    since(a.at, b.at)
                } else {
                    since(b.at, a.at)
                };
                if best.is_none_or(|(_, g)| gap < g) {
                    best = Some((i, gap));
                }
            }
            let i = best.map_or(0, |(i, _)| i);
            let (a, b) = (self.ranges[i], self.ranges[i + 1]);
            let last = if later(a.at, b.at) { a.at } else { b.at };
            let (fa, fb) = (
                a.at.wrapping_sub(u32::from(a.span)),
                b.at.wrapping_sub(u32::from(b.span)),
            );
            let first = if later(fa, fb) { fb } else { fa };
            self.ranges[i + 1] = Sent {
                end: b.end,
                at: last,
                span: span(last, first),
                flags: (a.flags & b.flags & LOST)
                    | ((a.flags | b.flags) & (RETRANS | COARSE))
                    | if a.at == b.at { 0 } else { COARSE },
            };
            self.ranges.remove(i);
        }
    }

    /// `[start, end)` was sent at `at` (a retransmission when `retrans`). Sends within
    /// `granule` µs of their left neighbour with the same flags merge with it.
    pub(crate) fn sent(
        &mut self,
        una: SeqNumber,
        (start, end): (SeqNumber, SeqNumber),
        at: u32,
        retrans: bool,
        granule: u32,
        sacked: &Scoreboard,
    ) {
        if end <= start || end <= una {
            return;
        }
        let start = start.max(una);
        self.compact(una, sacked, LOG_RANGES - 3);
        let top = self.end().unwrap_or(una);
        if start < top {
            // A retransmission (or a re-send after SND.NXT was pulled back).
            let inner_end = end.min(top);
            self.split(una, start);
            self.split(una, inner_end);
            let flags = if retrans { RETRANS } else { 0 };
            let mut first = None;
            let mut i = 0;
            while let Some(r) = self.ranges.get_mut(i) {
                // With boundaries at `start` and `inner_end`, these are exactly the covered
                // ranges.
                if r.end > start && r.end <= inner_end {
                    r.at = at;
                    r.span = 0;
                    r.flags = flags;
                    first.get_or_insert(i);
                }
                i += 1;
            }
            // Fold the touched ranges into one, then into the left neighbour when alike.
            if let Some(f) = first {
                while self
                    .ranges
                    .get(f + 1)
                    .is_some_and(|r| r.end <= inner_end && r.at == at && r.flags == flags)
                {
                    self.ranges.remove(f);
                }
                self.merge_left(f, granule);
            }
        }
        if end > top {
            let flags = if retrans { RETRANS } else { 0 };
            let new = Sent {
                end,
                at,
                span: 0,
                flags,
            };
            // New data joins the newest range when it can (merged from the values in hand:
            // pushing it and merging from memory reloaded a just-written record).
            match self.ranges.last_mut() {
                Some(last) if let Some(m) = merged(*last, new, granule) => *last = m,
                _ => {
                    let _ = self.ranges.push(new);
                }
            }
        }
    }

    /// Merge range `i` into its left neighbour when their flags match and all their sends
    /// lie within `granule` µs — of the neighbour's *first* send, not its last: a train of
    /// sends each close to the previous one (an ACK-clocked or paced flight) would otherwise
    /// chain into one range spanning the whole round trip, whose single (latest) time makes
    /// its early parts look delivered in far less than the RTT.
    fn merge_left(&mut self, i: usize, granule: u32) {
        let Some(j) = i.checked_sub(1) else { return };
        if let Some(m) = merged(self.ranges[j], self.ranges[i], granule) {
            // Into the left slot, then the right one goes: nothing is reloaded right after a
            // narrower store (a store-forwarding stall that was half of `sent`'s time).
            self.ranges[j] = m;
            self.ranges.remove(i);
        }
    }

    /// Call `f` for each piece of `[from, to)` with its send record.
    pub(crate) fn for_each_in(
        &self,
        una: SeqNumber,
        from: SeqNumber,
        to: SeqNumber,
        mut f: impl FnMut(Piece),
    ) {
        let mut s = una;
        for r in &self.ranges {
            let e = r.end;
            if e > from && s < to {
                f(Piece {
                    end: e.min(to),
                    at: r.at,
                    retransmitted: r.flags & RETRANS != 0,
                    coarse: r.flags & COARSE != 0,
                });
            }
            s = e;
            if s >= to {
                break;
            }
        }
    }

    /// Mark every outstanding range lost (a retransmission timeout).
    pub(crate) fn mark_all_lost(&mut self) {
        for r in &mut self.ranges {
            r.flags |= LOST;
        }
    }

    /// RFC 6675's IsLost by sequence: every range below `seq` that was not retransmitted is
    /// lost (a range straddling `seq` is split when there is room).
    pub(crate) fn mark_lost_below(
        &mut self,
        una: SeqNumber,
        seq: SeqNumber,
        sacked: &Scoreboard,
    ) -> bool {
        self.compact(una, sacked, LOG_RANGES - 1);
        self.split(una, seq);
        let mut marked = false;
        for r in &mut self.ranges {
            if r.end > seq {
                break;
            }
            if r.flags & (RETRANS | LOST) == 0 {
                r.flags |= LOST;
                marked = true;
            }
        }
        marked
    }

    /// Forget every loss mark (a NewReno recovery ended).
    pub(crate) fn clear_lost(&mut self) {
        for r in &mut self.ranges {
            r.flags &= !LOST;
        }
    }

    /// Mark `[from, to)` lost whatever its history (NewReno's next segment).
    pub(crate) fn mark_lost_range(&mut self, from: SeqNumber, to: SeqNumber, sacked: &Scoreboard) {
        // Ranges start at SND.UNA; `from` is SND.UNA here (or just became it).
        let una = from;
        self.compact(una, sacked, LOG_RANGES - 1);
        self.split(una, to);
        for r in &mut self.ranges {
            if r.end <= from {
                continue;
            }
            if r.end > to {
                break;
            }
            r.flags |= LOST;
        }
    }

    /// RACK's loss detection (RFC 8985 6.2 step 5): a range not yet lost and not wholly
    /// SACKed, sent before the most recently delivered segment (`xmit`, `xmit_end`), is lost
    /// once `rtt + reo_wnd` has passed since it was sent. Returns how many ranges were marked
    /// (and how many of those were retransmissions), and the longest wait left, if any.
    pub(crate) fn rack_detect(
        &mut self,
        una: SeqNumber,
        sacked: &Scoreboard,
        now: u32,
        xmit: u32,
        xmit_end: SeqNumber,
        wait: u32,
    ) -> (u32, u32, Option<u32>) {
        let (mut marked, mut retrans, mut timeout) = (0, 0, None);
        let mut s = una;
        for r in &mut self.ranges {
            let e = r.end;
            let start = s;
            s = e;
            if r.flags & LOST != 0 || sacked.sacked_in(start, e) == (e - start) as usize {
                continue;
            }
            // Sends at the same instant went out in sequence order, except retransmissions,
            // which followed the originals.
            let before =
                later(xmit, r.at) || (xmit == r.at && xmit_end > e && r.flags & RETRANS == 0);
            if !before {
                continue;
            }
            let deadline = r.at.wrapping_add(wait);
            if later(deadline, now) {
                let left = since(deadline, now);
                timeout = Some(timeout.map_or(left, |t: u32| t.max(left)));
            } else {
                r.flags |= LOST;
                marked += 1;
                if r.flags & RETRANS != 0 {
                    retrans += 1;
                }
            }
        }
        (marked, retrans, timeout)
    }

    /// The first un-SACKed run of a lost range.
    pub(crate) fn next_lost(
        &self,
        una: SeqNumber,
        sacked: &Scoreboard,
    ) -> Option<(SeqNumber, SeqNumber)> {
        let mut s = una;
        for r in &self.ranges {
            let start = s;
            s = r.end;
            if r.flags & LOST != 0
                && let Some(h) = sacked.next_hole(start, r.end)
            {
                return Some(h);
            }
        }
        None
    }

    /// Lost bytes not SACKed (RFC 6675's pipe leaves them out).
    pub(crate) fn lost_bytes(&self, una: SeqNumber, sacked: &Scoreboard) -> usize {
        let mut s = una;
        let mut n = 0;
        for r in &self.ranges {
            let start = s;
            s = r.end;
            if r.flags & LOST != 0 && r.end > start {
                n += (r.end - start) as usize - sacked.sacked_in(start, r.end);
            }
        }
        n
    }

    /// Whether anything is marked lost (SACKed ranges aside).
    pub(crate) fn has_lost(&self, una: SeqNumber, sacked: &Scoreboard) -> bool {
        self.next_lost(una, sacked).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u32) -> SeqNumber {
        SeqNumber(n)
    }

    /// A paced or ACK-clocked train: each send close to the previous one, none close to the
    /// first. Ranges stop growing once their sends span the granule, so a delivery's time
    /// is never more than a granule off (it used to chain into one range of the whole train,
    /// and RACK measured 13 µs RTTs on a 10 ms path).
    #[test]
    fn a_train_of_close_sends_does_not_chain_past_the_granule() {
        let sb = Scoreboard::new();
        let mut l = TxLog::new();
        for k in 0..10u32 {
            l.sent(
                s(0),
                (s(k * 100), s(k * 100 + 100)),
                1000 + 3 * k,
                false,
                5,
                &sb,
            );
        }
        // Sends at 1000, 1003 | 1006, 1009 | ...: each range spans at most 5 µs.
        assert_eq!(
            dump(&l),
            [
                (200, 1003, 0),
                (400, 1009, 0),
                (600, 1015, 0),
                (800, 1021, 0),
                (1000, 1027, 0)
            ]
        );
        assert!(l.ranges.iter().all(|r| r.span <= 5));
    }

    fn dump(l: &TxLog) -> std::vec::Vec<(u32, u32, u8)> {
        l.ranges.iter().map(|r| (r.end.0, r.at, r.flags)).collect()
    }

    extern crate std;

    #[test]
    fn bursts_merge_and_retransmissions_split() {
        let sb = Scoreboard::new();
        let mut l = TxLog::new();
        l.sent(s(0), (s(0), s(100)), 10, false, 5, &sb);
        l.sent(s(0), (s(100), s(200)), 12, false, 5, &sb);
        l.sent(s(0), (s(200), s(300)), 30, false, 5, &sb);
        assert_eq!(dump(&l), [(200, 12, 0), (300, 30, 0)]);
        assert!(l.mark_lost_below(s(0), s(150), &sb));
        assert_eq!(dump(&l), [(150, 12, LOST), (200, 12, 0), (300, 30, 0)]);
        assert_eq!(l.lost_bytes(s(0), &sb), 150);
        assert_eq!(l.next_lost(s(0), &sb), Some((s(0), s(150))));
        l.sent(s(0), (s(0), s(100)), 40, true, 5, &sb);
        assert_eq!(
            dump(&l),
            [
                (100, 40, RETRANS),
                (150, 12, LOST),
                (200, 12, 0),
                (300, 30, 0)
            ]
        );
        l.sent(s(0), (s(100), s(150)), 41, true, 5, &sb);
        assert_eq!(dump(&l), [(150, 41, RETRANS), (200, 12, 0), (300, 30, 0)]);
        // Delivery of 250..300 (sent at 30): 150..200 (sent at 12) is lost after the wait.
        let (m, r, t) = l.rack_detect(s(0), &sb, 35, 30, s(300), 10);
        assert_eq!((m, r, t), (1, 0, None));
        assert_eq!(l.next_lost(s(0), &sb), Some((s(150), s(200))));
        // A later delivery with a longer wait: the retransmission sent at 41 waits.
        let (m, _, t) = l.rack_detect(s(0), &sb, 45, 50, s(300), 10);
        assert_eq!(
            (m, t),
            (1, Some(6)),
            "30 + 10 <= 45 lost; 41 + 10 - 45 = 6 left"
        );
    }

    #[test]
    fn bounded() {
        let sb = Scoreboard::new();
        let mut l = TxLog::new();
        for i in 0..1000u32 {
            l.sent(s(0), (s(i * 10), s(i * 10 + 10)), i * 100, false, 5, &sb);
            if i % 3 == 0 {
                l.mark_lost_below(s(0), s(i * 5), &sb);
            }
            if i % 7 == 0 {
                l.sent(s(0), (s(i * 3), s(i * 3 + 10)), i * 100 + 1, true, 5, &sb);
            }
            assert!(l.ranges.len() <= LOG_RANGES);
            assert_eq!(l.end(), Some(s(i * 10 + 10)));
        }
        l.ack(s(5000));
        assert!(l.ranges.iter().all(|r| r.end > s(5000)));
    }

    #[test]
    fn ranges_merged_across_times_are_coarse() {
        // Sends 1 ms apart (granule 5 µs) fill the table; compaction merges some, and those
        // report their time as a bound only (no RTT sample, no RACK.xmit).
        let sb = Scoreboard::new();
        let mut l = TxLog::new();
        for i in 0..40u32 {
            l.sent(s(0), (s(i * 10), s(i * 10 + 10)), i * 1000, false, 5, &sb);
        }
        let mut pieces = std::vec::Vec::new();
        l.for_each_in(s(0), s(0), s(400), |p| pieces.push(p));
        assert!(pieces.iter().any(|p| p.coarse), "{pieces:?}");
        // The newest sends are still exact.
        assert!(!pieces.last().unwrap().coarse);
        assert_eq!(pieces.last().unwrap().at, 39_000);
    }
}
