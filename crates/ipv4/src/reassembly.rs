//! Reassembly of fragmented datagrams (RFC 791 §3.2, RFC 815), bounded in buffers, bytes,
//! fragments and time, sans-IO.
//!
//! # Policy
//! - Fragments are keyed by (source, destination, protocol, identification).
//! - **Buffers**: at most `SLOTS` datagrams are in progress. A fragment of a new datagram
//!   when every slot is busy evicts the oldest datagram in progress (as Linux does under
//!   memory pressure). Refusing new datagrams instead would let anyone pin every slot for the
//!   whole timeout with `SLOTS` tiny fragments per timeout (a fraction of a packet per
//!   second); evicting the oldest makes an attacker out-send the peers' own fragments, which
//!   arrive within milliseconds of each other.
//! - **Empty fragments** are refused ([`ReassemblyError::BadFragment`]): they carry nothing
//!   and only serve to hold a slot.
//! - **Bytes**: a datagram whose payload would exceed `MAX_LEN`, or whose total length would
//!   exceed 65535 (the ping of death: with the *first* fragment's options, which the
//!   reassembled header carries, whatever order the fragments arrive in), is dropped.
//! - **Fragments**: at most `MAX_FRAGS` distinct fragments per datagram; more drops it.
//! - **Time**: a datagram must complete within the timeout of its first fragment's arrival
//!   (RFC 791 suggests 15 s, Linux uses 30 s); later fragments do not extend it, so a peer
//!   cannot keep a slot alive by trickling. Expiry happens on any call that takes `now`.
//! - **Duplicates**: a fragment with exactly the offset, length and bytes of one already held
//!   is ignored (retransmissions and duplicating links are harmless).
//! - **Overlaps and inconsistency drop the whole datagram**, as Linux has done since 2018
//!   and as RFC 5722 requires for IPv6: any other overlap (teardrop, or the same range with
//!   different bytes), a second last fragment with a different end, or a fragment reaching
//!   past the end the last fragment declared. The error says why; later fragments with the
//!   same key start a new datagram, which then cannot complete and times out.
//! - The reassembled header is the first fragment's (offset 0): its options, TTL, DSCP, ECN
//!   and DF; More Fragments and the offset cleared.
//!
//! Not done: sending ICMP "fragment reassembly time exceeded" on expiry (the caller learns
//! how many datagrams expired from [`Reassembler::handle_timeout`]).

use core::fmt;
use core::time::Duration;

use crate::address::Ipv4Address;
use crate::ipv4::{Ipv4Options, Ipv4Repr, MAX_DATAGRAM_LEN, MAX_OPTIONS_LEN};
use crate::wire::{Ecn, Ipv4Header, Protocol};

/// What identifies the fragments of one datagram (RFC 791).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragKey {
    /// Source address.
    pub src: Ipv4Address,
    /// Destination address.
    pub dst: Ipv4Address,
    /// Protocol.
    pub protocol: Protocol,
    /// Identification.
    pub ident: u16,
}

impl FragKey {
    /// The key of a fragment.
    pub fn of(repr: &Ipv4Repr<'_>) -> Self {
        FragKey {
            src: repr.src_addr,
            dst: repr.dst_addr,
            protocol: repr.protocol,
            ident: repr.ident,
        }
    }
}

/// Why a fragment was not taken. Errors marked *drops* also discarded the datagram it
/// belonged to.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReassemblyError {
    /// The datagram is not a fragment (no More Fragments, offset 0): use it as it is.
    NotAFragment,
    /// The fragment itself is bad: its payload length differs from the header's, its offset
    /// is not a multiple of 8, or it has More Fragments and a length not a multiple of 8.
    BadFragment,
    /// Every slot is busy with another datagram.
    NoSlot,
    /// *Drops*: the datagram would exceed `MAX_LEN` payload bytes or 65535 bytes in all.
    TooLarge,
    /// *Drops*: the fragment overlaps one already held without being an exact duplicate.
    Overlap,
    /// *Drops*: a second last fragment with a different end, or data past the declared end.
    Inconsistent,
    /// *Drops*: the datagram has more than `MAX_FRAGS` fragments.
    TooManyFragments,
}

impl fmt::Display for ReassemblyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReassemblyError::NotAFragment => "not a fragment",
            ReassemblyError::BadFragment => "bad fragment",
            ReassemblyError::NoSlot => "no free reassembly slot",
            ReassemblyError::TooLarge => "reassembled datagram too large",
            ReassemblyError::Overlap => "overlapping fragment",
            ReassemblyError::Inconsistent => "inconsistent fragment end",
            ReassemblyError::TooManyFragments => "too many fragments",
        })
    }
}

impl core::error::Error for ReassemblyError {}

/// A reassembled datagram, borrowed from the reassembler until its next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reassembled<'a> {
    /// The header: the first fragment's, not a fragment any more, `payload_len` the total.
    pub repr: Ipv4Repr<'a>,
    /// The reassembled payload.
    pub payload: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Free,
    Assembling,
    /// Returned to the caller; freed on the next call.
    Done,
}

#[derive(Debug, Clone, Copy)]
struct First {
    ttl: u8,
    dscp: u8,
    ecn: Ecn,
    dont_frag: bool,
    options: [u8; MAX_OPTIONS_LEN],
    options_len: usize,
}

#[derive(Debug, Clone)]
struct Slot<const MAX_LEN: usize, const MAX_FRAGS: usize> {
    state: State,
    key: FragKey,
    deadline: Duration,
    first: Option<First>,
    /// Payload length, known once the last fragment arrived.
    end: Option<usize>,
    /// Payload bytes held (ranges never overlap, so this is their total length).
    received: usize,
    /// Ranges held, `start..end` of the payload, in arrival order.
    ranges: [(usize, usize); MAX_FRAGS],
    nranges: usize,
    data: [u8; MAX_LEN],
}

impl<const MAX_LEN: usize, const MAX_FRAGS: usize> Slot<MAX_LEN, MAX_FRAGS> {
    const FREE: Self = Slot {
        state: State::Free,
        key: FragKey {
            src: Ipv4Address::UNSPECIFIED,
            dst: Ipv4Address::UNSPECIFIED,
            protocol: Protocol::Unknown(0),
            ident: 0,
        },
        deadline: Duration::ZERO,
        first: None,
        end: None,
        received: 0,
        ranges: [(0, 0); MAX_FRAGS],
        nranges: 0,
        data: [0; MAX_LEN],
    };

    fn start(&mut self, key: FragKey, deadline: Duration) {
        self.state = State::Assembling;
        self.key = key;
        self.deadline = deadline;
        self.first = None;
        self.end = None;
        self.received = 0;
        self.nranges = 0;
    }

    fn held(&self) -> &[(usize, usize)] {
        self.ranges.get(..self.nranges).unwrap_or_default()
    }
}

/// A sans-IO IPv4 reassembler with room for `SLOTS` datagrams of up to `MAX_LEN` payload
/// bytes and `MAX_FRAGS` fragments each, all inline (no heap): `SLOTS * MAX_LEN` bytes and a
/// little more. Build it in place (`static`, or a field of a larger structure) when it is
/// large: `new` is `const`. See the [module docs](self) for the policy.
///
/// Call order: [`accept`](Self::accept) each received fragment; call
/// [`handle_timeout`](Self::handle_timeout) at [`poll_timeout`](Self::poll_timeout) (or
/// whenever convenient: `accept` also expires old datagrams).
#[derive(Debug, Clone)]
pub struct Reassembler<const SLOTS: usize, const MAX_LEN: usize, const MAX_FRAGS: usize> {
    slots: [Slot<MAX_LEN, MAX_FRAGS>; SLOTS],
    timeout: Duration,
}

impl<const SLOTS: usize, const MAX_LEN: usize, const MAX_FRAGS: usize>
    Reassembler<SLOTS, MAX_LEN, MAX_FRAGS>
{
    /// An empty reassembler whose datagrams must complete within `timeout`.
    pub const fn new(timeout: Duration) -> Self {
        Reassembler {
            slots: [const { Slot::FREE }; SLOTS],
            timeout,
        }
    }

    /// Return the number of datagrams being reassembled.
    pub fn in_progress(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.state == State::Assembling)
            .count()
    }

    /// Return the earliest time at which a datagram in progress expires.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.slots
            .iter()
            .filter(|s| s.state == State::Assembling)
            .map(|s| s.deadline)
            .min()
    }

    /// Drop datagrams whose time is up at `now`; return how many.
    pub fn handle_timeout(&mut self, now: Duration) -> usize {
        let mut n = 0;
        for s in &mut self.slots {
            if s.state == State::Done {
                s.state = State::Free;
            }
            if s.state == State::Assembling && s.deadline <= now {
                s.state = State::Free;
                n += 1;
            }
        }
        n
    }

    /// Take a fragment (`repr` as parsed, `payload` its data) received at `now`; return the
    /// datagram if this fragment completed it.
    ///
    /// # Errors
    /// See [`ReassemblyError`]; the errors marked *drops* also discard the datagram.
    pub fn accept(
        &mut self,
        now: Duration,
        repr: &Ipv4Repr<'_>,
        payload: &[u8],
    ) -> Result<Option<Reassembled<'_>>, ReassemblyError> {
        self.handle_timeout(now);
        if !repr.is_fragment() {
            return Err(ReassemblyError::NotAFragment);
        }
        let len = payload.len();
        if len == 0
            || len != repr.payload_len
            || !repr.frag_offset.is_multiple_of(8)
            || (repr.more_frags && !len.is_multiple_of(8))
        {
            return Err(ReassemblyError::BadFragment);
        }
        let key = FragKey::of(repr);
        let index = match self
            .slots
            .iter()
            .position(|s| s.state == State::Assembling && s.key == key)
        {
            Some(i) => i,
            None => {
                // A free slot, or else the oldest datagram in progress is evicted.
                let free = self.slots.iter().position(|s| s.state == State::Free);
                let oldest = || {
                    self.slots
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, s)| s.deadline)
                        .map(|(i, _)| i)
                };
                let i = free.or_else(oldest).ok_or(ReassemblyError::NoSlot)?;
                let deadline = now.saturating_add(self.timeout);
                if let Some(s) = self.slots.get_mut(i) {
                    s.start(key, deadline);
                }
                i
            }
        };
        let Some(slot) = self.slots.get_mut(index) else {
            return Err(ReassemblyError::NoSlot);
        };
        match Self::insert(slot, repr, payload) {
            Ok(()) => {}
            Err(e) => {
                // Every error past the checks above drops the datagram.
                slot.state = State::Free;
                return Err(e);
            }
        }
        let complete = slot.first.is_some() && slot.end == Some(slot.received);
        if !complete {
            return Ok(None);
        }
        slot.state = State::Done;
        let slot = &*slot;
        let (Some(first), Some(end)) = (slot.first.as_ref(), slot.end) else {
            return Ok(None);
        };
        let options = first.options.get(..first.options_len).unwrap_or_default();
        let out = Ipv4Repr {
            src_addr: key.src,
            dst_addr: key.dst,
            protocol: key.protocol,
            payload_len: end,
            ttl: first.ttl,
            dscp: first.dscp,
            ecn: first.ecn,
            ident: key.ident,
            dont_frag: first.dont_frag,
            more_frags: false,
            frag_offset: 0,
            options: Ipv4Options::new(options).unwrap_or_default(),
        };
        Ok(Some(Reassembled {
            repr: out,
            payload: slot.data.get(..end).unwrap_or_default(),
        }))
    }

    /// Add a fragment to a slot; any error means the datagram is to be dropped.
    fn insert(
        slot: &mut Slot<MAX_LEN, MAX_FRAGS>,
        repr: &Ipv4Repr<'_>,
        payload: &[u8],
    ) -> Result<(), ReassemblyError> {
        let start = usize::from(repr.frag_offset);
        let end = start + payload.len();
        if end > MAX_LEN || Ipv4Header::SIZE + repr.options.len() + end > MAX_DATAGRAM_LEN {
            return Err(ReassemblyError::TooLarge);
        }
        if repr.more_frags {
            // The datagram continues past this fragment: it must end after it.
            if slot.end.is_some_and(|e| end >= e) {
                return Err(ReassemblyError::Inconsistent);
            }
        } else {
            if slot.end.is_some_and(|e| e != end) || slot.held().iter().any(|&(_, e)| e > end) {
                return Err(ReassemblyError::Inconsistent);
            }
            slot.end = Some(end);
        }
        if start == 0 && slot.first.is_none() {
            let mut options = [0u8; MAX_OPTIONS_LEN];
            let o = repr.options.as_bytes();
            if let Some(dst) = options.get_mut(..o.len()) {
                dst.copy_from_slice(o);
            }
            slot.first = Some(First {
                ttl: repr.ttl,
                dscp: repr.dscp,
                ecn: repr.ecn,
                dont_frag: repr.dont_frag,
                options,
                options_len: o.len(),
            });
        }
        // The reassembled header carries the first fragment's options: with them, the datagram
        // must still fit in 65535 bytes, whichever fragment arrived first.
        if let (Some(o), Some(e)) = (slot.first.map(|f| f.options_len), slot.end)
            && Ipv4Header::SIZE + o + e > MAX_DATAGRAM_LEN
        {
            return Err(ReassemblyError::TooLarge);
        }
        if payload.is_empty() {
            return Ok(());
        }
        for &(s, e) in slot.held() {
            if (s, e) == (start, end) {
                // An exact duplicate is ignored; the same range with other bytes is not.
                return if slot.data.get(s..e) == Some(payload) {
                    Ok(())
                } else {
                    Err(ReassemblyError::Overlap)
                };
            }
            if start < e && s < end {
                return Err(ReassemblyError::Overlap);
            }
        }
        let Some(r) = slot.ranges.get_mut(slot.nranges) else {
            return Err(ReassemblyError::TooManyFragments);
        };
        *r = (start, end);
        let Some(dst) = slot.data.get_mut(start..end) else {
            return Err(ReassemblyError::TooLarge);
        };
        dst.copy_from_slice(payload);
        slot.nranges += 1;
        slot.received += payload.len();
        Ok(())
    }
}
