//! The answer cache: a fixed number of entries, each kept for its TTL.

use alloc::vec::Vec;
use core::time::Duration;

use super::Answer;
use crate::name::NameBuf;
use crate::wire::RecordType;

#[derive(Debug)]
struct Entry {
    name: NameBuf,
    /// `None`: an NXDOMAIN, good for every type.
    qtype: Option<RecordType>,
    stored: Duration,
    expires: Duration,
    answer: Answer,
}

/// Linear search: the cache is small (a stub keeps a few hundred answers), and each probe is
/// a length check before any label comparison.
#[derive(Debug)]
pub(super) struct Cache {
    capacity: usize,
    entries: Vec<Entry>,
}

impl Cache {
    pub(super) fn new(capacity: usize) -> Self {
        Cache {
            capacity,
            entries: Vec::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn clear(&mut self) {
        self.entries.clear();
    }

    fn position(&self, name: &NameBuf, qtype: Option<RecordType>) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.qtype == qtype && e.name == *name)
    }

    /// The answer for `name` and `qtype`, its TTLs lowered by its age, if it has not
    /// expired (an expired entry is removed).
    pub(super) fn get(
        &mut self,
        now: Duration,
        name: &NameBuf,
        qtype: RecordType,
    ) -> Option<Answer> {
        let i = self
            .position(name, Some(qtype))
            .or_else(|| self.position(name, None))?;
        let e = self.entries.get(i)?;
        if now >= e.expires {
            self.entries.swap_remove(i);
            return None;
        }
        let mut answer = e.answer.clone();
        let age = now.saturating_sub(e.stored).as_secs();
        answer.age(u32::try_from(age).unwrap_or(u32::MAX));
        answer.from_cache = true;
        Some(answer)
    }

    /// Keep `answer` for `answer.ttl` seconds, replacing an entry for the same key, or
    /// evicting the expired entries, or else the one closest to expiring, when full.
    pub(super) fn insert(
        &mut self,
        now: Duration,
        name: &NameBuf,
        qtype: RecordType,
        any_type: bool,
        answer: &Answer,
    ) {
        if self.capacity == 0 {
            return;
        }
        let key = if any_type { None } else { Some(qtype) };
        if let Some(i) = self.position(name, key) {
            self.entries.swap_remove(i);
        }
        if self.entries.len() >= self.capacity {
            self.entries.retain(|e| e.expires > now);
        }
        if self.entries.len() >= self.capacity
            && let Some(i) = self
                .entries
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.expires)
                .map(|(i, _)| i)
        {
            self.entries.swap_remove(i);
        }
        self.entries.push(Entry {
            name: *name,
            qtype: key,
            stored: now,
            expires: now.saturating_add(Duration::from_secs(u64::from(answer.ttl))),
            answer: answer.clone(),
        });
    }
}
