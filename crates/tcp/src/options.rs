//! TCP options (RFC 9293 3.2, RFC 7323, RFC 2018): a borrowing parser and an emitter.

use core::fmt;

use crate::Error;

/// Option kinds this crate understands.
pub mod kind {
    /// End of option list.
    pub const END: u8 = 0;
    /// No operation (padding).
    pub const NOP: u8 = 1;
    /// Maximum segment size.
    pub const MSS: u8 = 2;
    /// Window scale (RFC 7323).
    pub const WINDOW_SCALE: u8 = 3;
    /// SACK permitted (RFC 2018).
    pub const SACK_PERMITTED: u8 = 4;
    /// SACK blocks (RFC 2018).
    pub const SACK: u8 = 5;
    /// Timestamps (RFC 7323).
    pub const TIMESTAMP: u8 = 8;
}

/// The most SACK blocks an option can carry (40 bytes of options: 2 + 4 * 8 = 34).
pub const MAX_SACK_BLOCKS: usize = 4;

/// Up to four SACK blocks `(left edge, right edge)` in the order they appear.
#[derive(Clone, Copy, Default)]
pub struct SackBlocks {
    blocks: [(u32, u32); MAX_SACK_BLOCKS],
    len: u8,
}

impl SackBlocks {
    /// No blocks.
    pub const EMPTY: SackBlocks = SackBlocks {
        blocks: [(0, 0); MAX_SACK_BLOCKS],
        len: 0,
    };

    /// Blocks from a slice; `None` if there are more than four.
    pub fn from_slice(blocks: &[(u32, u32)]) -> Option<Self> {
        let mut s = SackBlocks::EMPTY;
        for b in blocks {
            s.push(*b).ok()?;
        }
        Some(s)
    }

    /// Append a block.
    ///
    /// # Errors
    /// Gives the block back when four are already held.
    pub fn push(&mut self, block: (u32, u32)) -> Result<(), (u32, u32)> {
        match self.blocks.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = block;
                self.len += 1;
                Ok(())
            }
            None => Err(block),
        }
    }

    /// The blocks.
    pub fn as_slice(&self) -> &[(u32, u32)] {
        self.blocks.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// How many blocks.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keep at most `n` blocks (the first ones: RFC 2018 puts the most recent first).
    pub fn truncate(&mut self, n: usize) {
        self.len = self.len.min(u8::try_from(n).unwrap_or(u8::MAX));
    }
}

impl PartialEq for SackBlocks {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for SackBlocks {}

impl core::hash::Hash for SackBlocks {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl fmt::Debug for SackBlocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// SACK blocks as they lie in the option: 1 to 4 blocks of 8 bytes, decoded on demand.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SackRef<'a>(&'a [u8]);

impl<'a> SackRef<'a> {
    /// How many blocks.
    pub fn len(&self) -> usize {
        self.0.len() / 8
    }

    /// Whether there are none (never, for a parsed option).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The blocks `(left edge, right edge)` in order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32)> + 'a {
        self.0
            .chunks_exact(8)
            .map(|b| (be32(b), be32(b.get(4..).unwrap_or_default())))
    }

    /// The blocks, copied out.
    pub fn to_blocks(&self) -> SackBlocks {
        let mut out = SackBlocks::EMPTY;
        for b in self.iter() {
            if out.push(b).is_err() {
                break;
            }
        }
        out
    }
}

impl fmt::Debug for SackRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One option as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// End of the option list; what follows is padding.
    EndOfList,
    /// Padding.
    NoOperation,
    /// Maximum segment size the sender can receive.
    MaxSegmentSize(u16),
    /// Window scale shift count as sent (values above 14 are the receiver's to clamp).
    WindowScale(u8),
    /// SACK may be used.
    SackPermitted,
    /// Selective acknowledgment blocks, read in place.
    Sack(SackRef<'a>),
    /// Timestamps.
    Timestamp {
        /// The sender's timestamp value.
        tsval: u32,
        /// The echoed timestamp.
        tsecr: u32,
    },
    /// An option this crate does not interpret, skipped.
    Unknown {
        /// The option kind.
        kind: u8,
        /// Its data (after kind and length).
        data: &'a [u8],
    },
}

/// Iterate over the options in `bytes` (the header after its fixed 20 bytes).
///
/// Yields an error and stops at the first malformed option: a length below 2 or past the end,
/// or a known option with the wrong length.
#[inline]
pub fn parse_options(bytes: &[u8]) -> Options<'_> {
    Options { rest: bytes }
}

/// Iterator returned by [`parse_options`].
#[derive(Debug, Clone)]
pub struct Options<'a> {
    rest: &'a [u8],
}

#[inline]
fn be32(b: &[u8]) -> u32 {
    match b.first_chunk::<4>() {
        Some(a) => u32::from_be_bytes(*a),
        None => 0,
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<TcpOption<'a>, Error>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (&k, after_kind) = self.rest.split_first()?;
        match k {
            kind::END => {
                self.rest = &[];
                return Some(Ok(TcpOption::EndOfList));
            }
            kind::NOP => {
                self.rest = after_kind;
                return Some(Ok(TcpOption::NoOperation));
            }
            _ => {}
        }
        let len = match after_kind.first() {
            Some(&l) if l >= 2 && usize::from(l) <= self.rest.len() => usize::from(l),
            _ => {
                self.rest = &[];
                return Some(Err(Error::Malformed));
            }
        };
        let (opt, rest) = self.rest.split_at(len);
        self.rest = rest;
        let data = opt.get(2..).unwrap_or_default();
        let parsed = match (k, len) {
            (kind::MSS, 4) => TcpOption::MaxSegmentSize(u16::from_be_bytes([
                data.first().copied().unwrap_or(0),
                data.get(1).copied().unwrap_or(0),
            ])),
            (kind::WINDOW_SCALE, 3) => TcpOption::WindowScale(data.first().copied().unwrap_or(0)),
            (kind::SACK_PERMITTED, 2) => TcpOption::SackPermitted,
            (kind::SACK, l) if (10..=2 + 8 * MAX_SACK_BLOCKS).contains(&l) && (l - 2) % 8 == 0 => {
                TcpOption::Sack(SackRef(data))
            }
            (kind::TIMESTAMP, 10) => TcpOption::Timestamp {
                tsval: be32(data),
                tsecr: be32(data.get(4..).unwrap_or_default()),
            },
            (
                kind::MSS
                | kind::WINDOW_SCALE
                | kind::SACK_PERMITTED
                | kind::SACK
                | kind::TIMESTAMP,
                _,
            ) => {
                self.rest = &[];
                return Some(Err(Error::Malformed));
            }
            (k, _) => TcpOption::Unknown { kind: k, data },
        };
        Some(Ok(parsed))
    }
}

/// Options to emit, in the order and padding Linux uses, so peers and middleboxes see what
/// they expect: `MSS`, `SACK-permitted` + `timestamps` (or `NOP NOP` in place of SACK-permitted),
/// `NOP window-scale`, `NOP NOP SACK`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OptionsRepr {
    /// Maximum segment size (SYN only).
    pub max_seg_size: Option<u16>,
    /// Window scale shift (SYN only).
    pub window_scale: Option<u8>,
    /// SACK permitted (SYN only).
    pub sack_permitted: bool,
    /// SACK blocks; as many as fit in the 40 bytes beside the other options are emitted (four
    /// alone, three beside timestamps, fewer on a SYN that also carries MSS and window scale).
    pub sack_blocks: SackBlocks,
    /// Timestamps `(tsval, tsecr)`.
    pub timestamp: Option<(u32, u32)>,
}

impl OptionsRepr {
    /// The SACK blocks that fit beside the other options in 40 bytes.
    #[inline]
    fn sack_fit(&self) -> usize {
        let used = self.fixed_len();
        // NOP NOP kind len = 4, then 8 per block.
        let room = 40usize.saturating_sub(used).saturating_sub(4) / 8;
        self.sack_blocks.len().min(room)
    }

    #[inline]
    fn fixed_len(&self) -> usize {
        let mut n = 0;
        if self.max_seg_size.is_some() {
            n += 4;
        }
        if self.timestamp.is_some() {
            n += 12;
        } else if self.sack_permitted {
            n += 4;
        }
        if self.window_scale.is_some() {
            n += 4;
        }
        n
    }

    /// The bytes the options take, a multiple of four, at most 40.
    #[inline]
    pub fn len(&self) -> usize {
        let sack = self.sack_fit();
        self.fixed_len() + if sack > 0 { 4 + 8 * sack } else { 0 }
    }

    /// Whether no option is set.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Write the options at the start of `buf`, returning the bytes written
    /// ([`len`](Self::len)).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `buf` is shorter than [`len`](Self::len).
    #[inline]
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        if let Some(n) = self.emit_data_segment(buf) {
            return n;
        }
        let len = self.len();
        let out = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        let mut w = Writer { out, at: 0 };
        if let Some(mss) = self.max_seg_size {
            w.put(&[kind::MSS, 4]);
            w.put(&mss.to_be_bytes());
        }
        match (self.sack_permitted, self.timestamp) {
            (sp, Some((tsval, tsecr))) => {
                if sp {
                    w.put(&[kind::SACK_PERMITTED, 2]);
                } else {
                    w.put(&[kind::NOP, kind::NOP]);
                }
                w.put(&[kind::TIMESTAMP, 10]);
                w.put(&tsval.to_be_bytes());
                w.put(&tsecr.to_be_bytes());
            }
            (true, None) => w.put(&[kind::NOP, kind::NOP, kind::SACK_PERMITTED, 2]),
            (false, None) => {}
        }
        if let Some(ws) = self.window_scale {
            w.put(&[kind::NOP, kind::WINDOW_SCALE, 3, ws]);
        }
        let n = self.sack_fit();
        if n > 0 {
            w.put(&[kind::NOP, kind::NOP, kind::SACK, (2 + 8 * n) as u8]);
            for (l, r) in self.sack_blocks.as_slice().iter().take(n) {
                w.put(&l.to_be_bytes());
                w.put(&r.to_be_bytes());
            }
        }
        Ok(w.at)
    }
}

impl OptionsRepr {
    /// The shape of every segment of an established connection: timestamps and nothing else,
    /// or no option at all.
    #[inline(always)]
    fn is_data_segment_shape(&self) -> bool {
        self.max_seg_size.is_none()
            && self.window_scale.is_none()
            && !self.sack_permitted
            && self.sack_blocks.is_empty()
    }

    /// The data-segment shape written as one fixed 12-byte block (`None` for any other
    /// shape). Same bytes as the general path (`data_segment_options_are_linux_bytes` pins
    /// them, the round-trip proptests cover the rest); it exists because the general path's
    /// per-option branches and cursor cost more than the rest of the header.
    #[inline(always)]
    fn emit_data_segment(&self, buf: &mut [u8]) -> Option<Result<usize, Error>> {
        if !self.is_data_segment_shape() {
            return None;
        }
        let Some((tsval, tsecr)) = self.timestamp else {
            return Some(Ok(0));
        };
        let Some(out) = buf.first_chunk_mut::<12>() else {
            return Some(Err(Error::BufferTooSmall));
        };
        let mut block = [
            kind::NOP,
            kind::NOP,
            kind::TIMESTAMP,
            10,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        block[4..8].copy_from_slice(&tsval.to_be_bytes());
        block[8..12].copy_from_slice(&tsecr.to_be_bytes());
        *out = block;
        Some(Ok(12))
    }
}

impl OptionsRepr {
    /// The 16-bit-word sum of what [`emit`](Self::emit) writes, from the values (no read of
    /// the written bytes), for the data-segment shape; `None` for any other shape.
    #[inline(always)]
    pub(crate) fn data_segment_word_sum(&self) -> Option<u64> {
        if !self.is_data_segment_shape() {
            return None;
        }
        Some(self.timestamp.map_or(0, |(v, e)| {
            u64::from(u16::from_be_bytes([kind::NOP, kind::NOP]))
                + u64::from(u16::from_be_bytes([kind::TIMESTAMP, 10]))
                + u64::from(v >> 16)
                + u64::from(v & 0xffff)
                + u64::from(e >> 16)
                + u64::from(e & 0xffff)
        }))
    }
}

struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        let end = self.at + bytes.len();
        if let Some(dst) = self.out.get_mut(self.at..end) {
            dst.copy_from_slice(bytes);
            self.at = end;
        }
    }
}

impl fmt::Display for OptionsRepr {
    /// Like tcpdump: `mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        let mut item = |f: &mut fmt::Formatter<'_>, args: fmt::Arguments<'_>| {
            let r = write!(f, "{sep}{args}");
            sep = ",";
            r
        };
        if let Some(m) = self.max_seg_size {
            item(f, format_args!("mss {m}"))?;
        }
        if self.sack_permitted {
            item(f, format_args!("sackOK"))?;
        }
        if let Some((v, e)) = self.timestamp {
            item(f, format_args!("TS val {v} ecr {e}"))?;
        }
        if let Some(ws) = self.window_scale {
            item(f, format_args!("wscale {ws}"))?;
        }
        if !self.sack_blocks.is_empty() {
            item(f, format_args!("sack {}", self.sack_blocks.len()))?;
            for (l, r) in self.sack_blocks.as_slice() {
                write!(f, " {{{l}:{r}}}")?;
            }
        }
        Ok(())
    }
}
