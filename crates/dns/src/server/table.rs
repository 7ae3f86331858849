//! The name → entry table of the hot path: open addressing with linear probing over 8-byte
//! slots, each the top 24 bits of the key's hash (never zero: zero is an empty slot) and
//! the 40-bit offset of the entry in the arena. A lookup loads one slot (its neighbours
//! share the cache line) and then the entry, whose key settles it; hashbrown's control
//! bytes would be one more dependent load. At most three quarters full.

use alloc::vec::Vec;

const OFFSET_BITS: u32 = 40;
const OFFSET_MASK: u64 = (1 << OFFSET_BITS) - 1;

/// The largest offset a slot holds.
pub(crate) const MAX_OFFSET: u64 = OFFSET_MASK;

#[inline(always)]
fn tag(hash: u64) -> u64 {
    (hash >> OFFSET_BITS).max(1) << OFFSET_BITS
}

/// Entry offsets keyed by the hashes of their names; the caller compares keys.
#[derive(Debug, Default)]
pub(crate) struct NameTable {
    slots: Vec<u64>,
    len: usize,
}

impl NameTable {
    /// The entry whose hash is `hash` and for which `eq(offset)` holds.
    #[inline]
    pub(crate) fn find(&self, hash: u64, mut eq: impl FnMut(u64) -> bool) -> Option<u64> {
        let mask = self.slots.len().wrapping_sub(1);
        let t = tag(hash);
        let mut i = hash as usize & mask;
        // The table is never full, so an empty slot ends the probe; the bound says so.
        for _ in 0..self.slots.len() {
            let s = *self.slots.get(i)?;
            if s == 0 {
                return None;
            }
            if s & !OFFSET_MASK == t && eq(s & OFFSET_MASK) {
                return Some(s & OFFSET_MASK);
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// The table's size in bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.slots.len() * core::mem::size_of::<u64>()
    }

    /// The slot a lookup of `hash` reads first, as a hint: the entry offset it holds if its
    /// tag matches (the key is not compared), else `None`.
    #[inline]
    pub(crate) fn home(&self, hash: u64) -> Option<u64> {
        let mask = self.slots.len().wrapping_sub(1);
        let s = *self.slots.get(hash as usize & mask)?;
        (s != 0 && s & !OFFSET_MASK == tag(hash)).then_some(s & OFFSET_MASK)
    }

    /// Make room for `additional` more entries; `rehash` gives an entry's hash.
    pub(crate) fn reserve(&mut self, additional: usize, rehash: impl Fn(u64) -> u64) {
        let need = self.len + additional;
        if need * 4 <= self.slots.len() * 3 {
            return;
        }
        let mut size = self.slots.len().max(16);
        while need * 4 > size * 3 {
            size *= 2;
        }
        let old = core::mem::replace(&mut self.slots, alloc::vec![0; size]);
        self.len = 0;
        for s in old.into_iter().filter(|&s| s != 0) {
            let off = s & OFFSET_MASK;
            self.put(rehash(off), off, |_| false);
        }
    }

    /// Insert `offset` under `hash`, or replace the entry for which `eq` holds; `rehash`
    /// gives an entry's hash (to grow). Offsets above [`MAX_OFFSET`] are not stored.
    pub(crate) fn insert(
        &mut self,
        hash: u64,
        offset: u64,
        eq: impl FnMut(u64) -> bool,
        rehash: impl Fn(u64) -> u64,
    ) {
        if offset > MAX_OFFSET {
            return;
        }
        self.reserve(1, rehash);
        self.put(hash, offset, eq);
    }

    fn put(&mut self, hash: u64, offset: u64, mut eq: impl FnMut(u64) -> bool) {
        let mask = self.slots.len().wrapping_sub(1);
        let t = tag(hash);
        let mut i = hash as usize & mask;
        for _ in 0..self.slots.len() {
            let Some(s) = self.slots.get_mut(i) else {
                return;
            };
            if *s == 0 {
                *s = t | offset;
                self.len += 1;
                return;
            }
            if *s & !OFFSET_MASK == t && eq(*s & OFFSET_MASK) {
                *s = t | offset;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Keep only the entries for which `keep(offset)` holds (rebuilding the table).
    pub(crate) fn retain(
        &mut self,
        mut keep: impl FnMut(u64) -> bool,
        rehash: impl Fn(u64) -> u64,
    ) {
        let old = core::mem::take(&mut self.slots);
        self.len = 0;
        self.slots = alloc::vec![0; old.len()];
        for s in old.into_iter().filter(|&s| s != 0) {
            let off = s & OFFSET_MASK;
            if keep(off) {
                self.put(rehash(off), off, |_| false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_find_replace_retain() {
        // Offsets are their own keys; a weak hash makes long probe runs and wraps.
        let hash = |off: u64| (off % 7) * 0x0123_4567_89ab_cdef;
        let mut t = NameTable::default();
        assert_eq!(t.find(hash(3), |o| o == 3), None);
        for off in 1..=1000u64 {
            t.insert(hash(off), off, |o| o == off, hash);
        }
        for off in 1..=1000u64 {
            assert_eq!(t.find(hash(off), |o| o == off), Some(off));
        }
        assert_eq!(t.find(hash(1001), |o| o == 1001), None);
        // Replacing: the key is "equal mod 1000", the value changes.
        t.insert(hash(5), 5, |o| o == 5, hash);
        assert_eq!(t.len, 1000);
        t.retain(|o| o % 2 == 0, hash);
        assert_eq!(t.len, 500);
        for off in 1..=1000u64 {
            let want = (off % 2 == 0).then_some(off);
            assert_eq!(t.find(hash(off), |o| o == off), want);
        }
        t.insert(hash(1 << 41), 1 << 41, |_| false, hash);
        assert_eq!(t.len, 500);
    }
}
