//! Fragmentation on emit (RFC 791 §3.2, "Fragmentation").

use core::fmt;

use crate::checksum::ChecksumCaps;
use crate::ipv4::{Ipv4Options, Ipv4Repr, MAX_DATAGRAM_LEN, MAX_OPTIONS_LEN};
use crate::wire::{Ipv4Header, Ipv4Packet};

/// Why a datagram cannot be sent in fragments (a caller's or a path's problem, not a peer's).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FragmentError {
    /// Don't Fragment is set and the datagram is larger than the MTU: the caller should report
    /// it (for a forwarded datagram, an ICMP "fragmentation needed" with this MTU).
    DontFragment {
        /// The MTU.
        mtu: usize,
        /// The datagram's length.
        len: usize,
    },
    /// The MTU cannot carry the header and 8 bytes of data (RFC 791's minimum MTU is 68).
    MtuTooSmall {
        /// The MTU.
        mtu: usize,
    },
    /// `payload.len()` differs from the header's `payload_len`.
    PayloadLenMismatch {
        /// The header's payload length.
        repr: usize,
        /// The payload's length.
        payload: usize,
    },
    /// The datagram (or, for a fragment being re-fragmented, its end) exceeds 65535 bytes.
    TooLarge,
    /// The output buffer cannot hold the next fragment.
    BufferTooSmall {
        /// Bytes the fragment needs.
        needed: usize,
        /// Bytes the buffer has.
        got: usize,
    },
}

impl fmt::Display for FragmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FragmentError::DontFragment { mtu, len } => {
                write!(f, "{len}-byte datagram with DF exceeds the MTU {mtu}")
            }
            FragmentError::MtuTooSmall { mtu } => {
                write!(f, "MTU {mtu} cannot carry a header and 8 bytes")
            }
            FragmentError::PayloadLenMismatch { repr, payload } => {
                write!(f, "header says {repr} payload bytes, payload has {payload}")
            }
            FragmentError::TooLarge => f.write_str("datagram exceeds 65535 bytes"),
            FragmentError::BufferTooSmall { needed, got } => {
                write!(f, "fragment needs {needed} bytes, buffer has {got}")
            }
        }
    }
}

impl core::error::Error for FragmentError {}

/// Splits one datagram into fragments that fit an MTU, emitting them one at a time into
/// caller buffers (no allocation).
///
/// A datagram that fits is emitted unchanged as a single "fragment". Otherwise every fragment
/// but the last carries a multiple of 8 data bytes; the first carries all options, the others
/// only those whose type has the "copied" bit (RFC 791), padded with End-of-List. A datagram
/// that is itself a fragment can be fragmented further: offsets are relative to its own, and
/// its More Fragments flag is kept on its last piece.
#[derive(Debug, Clone)]
pub struct Fragmenter<'a> {
    repr: Ipv4Repr<'a>,
    payload: &'a [u8],
    mtu: usize,
    sent: usize,
    done: bool,
    copied: [u8; MAX_OPTIONS_LEN],
    copied_len: usize,
}

impl<'a> Fragmenter<'a> {
    /// Prepare to send `repr` with `payload` over a link with `mtu` (the largest datagram,
    /// header included).
    ///
    /// # Errors
    /// [`FragmentError::PayloadLenMismatch`], [`FragmentError::TooLarge`],
    /// [`FragmentError::DontFragment`], [`FragmentError::MtuTooSmall`].
    pub fn new(repr: &Ipv4Repr<'a>, payload: &'a [u8], mtu: usize) -> Result<Self, FragmentError> {
        if payload.len() != repr.payload_len {
            return Err(FragmentError::PayloadLenMismatch {
                repr: repr.payload_len,
                payload: payload.len(),
            });
        }
        let len = repr.buffer_len();
        if usize::from(repr.frag_offset) + len > MAX_DATAGRAM_LEN {
            return Err(FragmentError::TooLarge);
        }
        let mut copied = [0u8; MAX_OPTIONS_LEN];
        let mut copied_len = 0;
        for o in repr.options.iter().filter(|o| o.copied()) {
            if let Some(dst) = copied.get_mut(copied_len..copied_len + o.raw.len()) {
                dst.copy_from_slice(o.raw);
                copied_len += o.raw.len();
            }
        }
        // Pad to a 4-byte boundary with End-of-List (zero) bytes.
        let copied_len = copied_len.next_multiple_of(4);
        let f = Fragmenter {
            repr: *repr,
            payload,
            mtu,
            sent: 0,
            done: false,
            copied,
            copied_len,
        };
        if len > mtu {
            if repr.dont_frag {
                return Err(FragmentError::DontFragment { mtu, len });
            }
            if f.max_data(true) < 8 || f.max_data(false) < 8 {
                return Err(FragmentError::MtuTooSmall { mtu });
            }
        }
        Ok(f)
    }

    /// Data bytes a fragment can carry (a multiple of 8).
    fn max_data(&self, first: bool) -> usize {
        let hl = if first {
            self.repr.header_len()
        } else {
            Ipv4Header::SIZE + self.copied_len
        };
        self.mtu.saturating_sub(hl) & !7
    }

    fn fits(&self) -> bool {
        self.repr.buffer_len() <= self.mtu
    }

    /// The next fragment's header and data, if any is left.
    fn next_parts(&self) -> Option<(Ipv4Repr<'_>, &'a [u8])> {
        if self.done {
            return None;
        }
        let first = self.sent == 0;
        let options = if first {
            self.repr.options
        } else {
            let bytes = self.copied.get(..self.copied_len).unwrap_or_default();
            Ipv4Options::new(bytes).unwrap_or_default()
        };
        let rest = self.payload.get(self.sent..).unwrap_or_default();
        let take = if self.fits() {
            rest.len()
        } else {
            rest.len().min(self.max_data(first))
        };
        let data = rest.get(..take).unwrap_or_default();
        let last = take == rest.len();
        let mut repr = self.repr;
        repr.options = options;
        repr.payload_len = take;
        repr.frag_offset = self.repr.frag_offset + self.sent as u16;
        repr.more_frags = !last || self.repr.more_frags;
        Some((repr, data))
    }

    /// Whether every fragment has been emitted.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Return the length of the next fragment, or `None` when done.
    pub fn next_len(&self) -> Option<usize> {
        self.next_parts().map(|(r, _)| r.buffer_len())
    }

    /// Return how many fragments are left to emit.
    pub fn remaining(&self) -> usize {
        if self.done {
            return 0;
        }
        if self.fits() {
            return 1;
        }
        let rest = self.payload.len() - self.sent.min(self.payload.len());
        let (first, others) = if self.sent == 0 {
            (self.max_data(true), self.max_data(false))
        } else {
            (self.max_data(false), self.max_data(false))
        };
        if rest <= first || others == 0 {
            return 1;
        }
        1 + (rest - first).div_ceil(others)
    }

    /// Emit the next fragment into `out` and return its length, or `Ok(None)` when done.
    ///
    /// # Errors
    /// [`FragmentError::BufferTooSmall`] if `out` cannot hold it (nothing is consumed; call
    /// again with a larger buffer).
    pub fn emit_next(
        &mut self,
        out: &mut [u8],
        caps: &ChecksumCaps,
    ) -> Result<Option<usize>, FragmentError> {
        let Some((repr, data)) = self.next_parts() else {
            return Ok(None);
        };
        let len = repr.buffer_len();
        let got = out.len();
        let Some(buf) = out.get_mut(..len) else {
            return Err(FragmentError::BufferTooSmall { needed: len, got });
        };
        let (head, body) = buf.split_at_mut(repr.header_len());
        repr.emit(&mut Ipv4Packet::new_unchecked(head), caps);
        body.copy_from_slice(data);
        self.sent += data.len();
        if self.sent >= self.payload.len() {
            self.done = true;
        }
        Ok(Some(len))
    }
}
