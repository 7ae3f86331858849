//! Domain names: borrowed label sequences inside a message ([`Name`]) and an owned,
//! fixed-size uncompressed name ([`NameBuf`]) for input and comparison.
//!
//! A [`Name`] is a message and an offset. Building one walks it once and checks every RFC 1035
//! limit (labels up to 63 octets, at most 255 octets in all, counting what compression pointers
//! bring in); after that its label iterator cannot fail. Compression pointers must point
//! strictly before the start of the label sequence they occur in (so every hop goes backwards
//! and no loop is possible) and at most [`MAX_POINTER_HOPS`] are followed.

use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::str::FromStr;

use crate::Error;
use crate::present::write_label;

/// The longest name in wire form, length octets and root included (RFC 1035 2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// The longest label (RFC 1035 2.3.4).
pub const MAX_LABEL_LEN: usize = 63;
/// The most compression pointers followed in one name. A name has at most 127 labels, and a
/// valid message never needs more than one pointer per label.
pub const MAX_POINTER_HOPS: usize = 127;

const POINTER: u8 = 0xc0;

/// What walking a name in place found.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Walked {
    /// Offset just after the name's bytes in place (after its first pointer, or its root).
    pub end: usize,
    /// Uncompressed wire length, 1..=255.
    pub wire_len: u8,
    /// Number of labels, root excluded.
    pub labels: u8,
}

/// What one walk learned about the name at an offset, for a later walk whose pointer lands
/// there: in a response almost every owner name is a pointer to the question's name, and with
/// this each of them is one step instead of a second walk over the same labels.
///
/// Only names written without pointers are remembered. Such a name is valid wherever a pointer
/// to it comes from, provided its bytes are inside the buffer being walked (`reach`: a name
/// inside RDATA is walked over the message cut at the RDATA's end).
///
/// One word (offset 16 bits, reach 16, wire length 8, label count 8): it is written and
/// copied whole, where a struct of small fields written one by one and then copied stalls
/// store forwarding. Only offsets a pointer can reach (below 16384) are remembered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Memo(u64);

impl Memo {
    /// No entry.
    pub(crate) const fn empty() -> Memo {
        Memo(0xffff)
    }

    #[inline(always)]
    fn new(at: usize, reach: usize, wire_len: u8, labels: u8) -> Memo {
        if at >= 0x4000 {
            return Memo::empty();
        }
        // `reach` is at most `at` + 255.
        Memo(at as u64 | (reach as u64) << 16 | u64::from(wire_len) << 32 | u64::from(labels) << 40)
    }

    #[inline(always)]
    fn at(self) -> usize {
        (self.0 & 0xffff) as usize
    }

    #[inline(always)]
    fn reach(self) -> usize {
        (self.0 >> 16 & 0xffff) as usize
    }

    #[inline(always)]
    fn wire_len(self) -> u8 {
        (self.0 >> 32) as u8
    }

    #[inline(always)]
    fn labels(self) -> u8 {
        (self.0 >> 40) as u8
    }
}

/// Walk the name at `start` in `msg`, following pointers when `compression` allows them, using
/// and refreshing `memo`: a pointer to the memo's offset finishes the walk
/// at once, unless the sum would be too long (then the walk goes on as without the memo, so
/// the error is the same one); a name written without pointers becomes the memo's entry.
#[inline(always)]
pub(crate) fn walk_memo(
    msg: &[u8],
    start: usize,
    compression: bool,
    memo: &mut Memo,
) -> Result<Walked, Error> {
    let mut pos = start;
    let mut seq_start = start;
    let mut end = None;
    let mut len = 0usize;
    let mut labels = 0u8;
    let mut hops = 0usize;
    // Each turn either consumes a label (at most 127 fit in 255 octets) or a pointer (at most
    // MAX_POINTER_HOPS), so the loop is bounded; the explicit bound says so.
    for _ in 0..(MAX_NAME_LEN + MAX_POINTER_HOPS + 1) {
        let b = *msg.get(pos).ok_or(Error::Truncated)?;
        match b & POINTER {
            0 => {
                let l = usize::from(b);
                len += l + 1;
                if len > MAX_NAME_LEN {
                    return Err(Error::NameTooLong);
                }
                if l == 0 {
                    if end.is_none() {
                        // Written without pointers: remember it.
                        *memo = Memo::new(start, pos + 1, len as u8, labels);
                    }
                    return Ok(Walked {
                        end: end.unwrap_or(pos + 1),
                        wire_len: len as u8,
                        labels,
                    });
                }
                if msg.len() < pos + 1 + l {
                    return Err(Error::Truncated);
                }
                labels += 1;
                pos += 1 + l;
            }
            POINTER => {
                if !compression {
                    return Err(Error::CompressedName);
                }
                let lo = *msg.get(pos + 1).ok_or(Error::Truncated)?;
                let target = (usize::from(b & !POINTER) << 8) | usize::from(lo);
                if target >= seq_start {
                    return Err(Error::BadPointer);
                }
                hops += 1;
                if hops > MAX_POINTER_HOPS {
                    return Err(Error::TooManyPointers);
                }
                let after = *end.get_or_insert(pos + 2);
                if memo.at() == target
                    && memo.reach() <= msg.len()
                    && len + usize::from(memo.wire_len()) <= MAX_NAME_LEN
                {
                    return Ok(Walked {
                        end: after,
                        wire_len: (len + usize::from(memo.wire_len())) as u8,
                        labels: labels + memo.labels(),
                    });
                }
                pos = target;
                seq_start = target;
            }
            _ => return Err(Error::BadLabelType),
        }
    }
    Err(Error::TooManyPointers)
}

/// A domain name inside a message (or inside a [`NameBuf`]): the message and an offset.
///
/// Copy, two words and two bytes; comparing, hashing and printing walk the labels in place.
/// `==` is DNS equality: ASCII case-insensitive (RFC 4343).
#[derive(Clone, Copy)]
pub struct Name<'a> {
    msg: &'a [u8],
    start: usize,
    wire_len: u8,
    labels: u8,
}

impl<'a> Name<'a> {
    /// The root name `.`.
    pub const ROOT: Name<'static> = Name {
        msg: &[0],
        start: 0,
        wire_len: 1,
        labels: 0,
    };

    /// Parse the name at `offset` in `msg`, following compression pointers, and return it
    /// with the offset just after its bytes in place.
    ///
    /// # Errors
    /// [`Error::Truncated`], [`Error::BadLabelType`], [`Error::BadPointer`],
    /// [`Error::TooManyPointers`], [`Error::NameTooLong`].
    #[inline]
    pub fn parse(msg: &'a [u8], offset: usize) -> Result<(Name<'a>, usize), Error> {
        Self::parse_with(msg, offset, true)
    }

    /// As [`parse`](Self::parse), but a compression pointer is [`Error::CompressedName`].
    ///
    /// # Errors
    /// As [`parse`](Self::parse), and [`Error::CompressedName`].
    #[inline]
    pub fn parse_uncompressed(msg: &'a [u8], offset: usize) -> Result<(Name<'a>, usize), Error> {
        Self::parse_with(msg, offset, false)
    }

    #[inline]
    pub(crate) fn parse_with(
        msg: &'a [u8],
        offset: usize,
        compression: bool,
    ) -> Result<(Name<'a>, usize), Error> {
        Self::parse_memo(msg, offset, compression, &mut Memo::empty())
    }

    /// As [`parse_with`](Self::parse_with), through `memo` (see [`walk_memo`]).
    #[inline]
    pub(crate) fn parse_memo(
        msg: &'a [u8],
        offset: usize,
        compression: bool,
        memo: &mut Memo,
    ) -> Result<(Name<'a>, usize), Error> {
        let w = walk_memo(msg, offset, compression, memo)?;
        let name = Name {
            msg,
            start: offset,
            wire_len: w.wire_len,
            labels: w.labels,
        };
        Ok((name, w.end))
    }

    /// View `bytes`, which must be exactly one uncompressed name in wire form.
    ///
    /// # Errors
    /// As [`parse_uncompressed`](Self::parse_uncompressed), and [`Error::BadRdata`] if bytes
    /// follow the name.
    pub fn from_wire(bytes: &'a [u8]) -> Result<Name<'a>, Error> {
        let (name, end) = Self::parse_uncompressed(bytes, 0)?;
        if end != bytes.len() {
            return Err(Error::BadRdata);
        }
        Ok(name)
    }

    /// The labels, leftmost first, root excluded, each borrowed from the message.
    #[inline]
    pub fn labels(&self) -> Labels<'a> {
        Labels {
            msg: self.msg,
            pos: self.start,
            remaining: self.labels,
        }
    }

    /// The number of labels, root excluded (`example.com.` has 2).
    #[inline]
    pub fn label_count(&self) -> usize {
        usize::from(self.labels)
    }

    /// The length of the name in uncompressed wire form (1 for the root, at most 255).
    #[inline]
    pub fn wire_len(&self) -> usize {
        usize::from(self.wire_len)
    }

    /// Where the name starts in its message.
    pub fn offset(&self) -> usize {
        self.start
    }

    /// The buffer the name lives in: its message (for a name inside RDATA, the message cut at
    /// the end of that RDATA).
    pub fn message(&self) -> &'a [u8] {
        self.msg
    }

    /// Whether this is the root name.
    #[inline]
    pub fn is_root(&self) -> bool {
        self.labels == 0
    }

    /// The name without its leftmost label, or `None` for the root.
    pub fn parent(&self) -> Option<Name<'a>> {
        let mut labels = self.labels();
        let first = labels.next()?;
        Some(Name {
            msg: self.msg,
            start: labels.pos,
            wire_len: self.wire_len.saturating_sub(first.len() as u8 + 1),
            labels: self.labels - 1,
        })
    }

    /// Whether both names are equal ignoring ASCII case, wherever each lives.
    pub fn eq_ignore_ascii_case(&self, other: &Name<'_>) -> bool {
        self.wire_len == other.wire_len
            && self.labels == other.labels
            && self
                .labels()
                .zip(other.labels())
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }

    /// Whether this name equals a presentation-format name (`"www.example.com."`, escapes
    /// allowed, the final dot optional) ignoring ASCII case. An invalid `dotted` is unequal.
    pub fn eq_str(&self, dotted: &str) -> bool {
        NameBuf::from_dotted(dotted).is_ok_and(|n| self.eq_ignore_ascii_case(&n.as_name()))
    }

    /// Whether this name has exactly these labels (root excluded), ignoring ASCII case.
    pub fn eq_labels<I>(&self, labels: I) -> bool
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let mut mine = self.labels();
        for label in labels {
            match mine.next() {
                Some(l) if l.eq_ignore_ascii_case(label.as_ref()) => {}
                _ => return false,
            }
        }
        mine.next().is_none()
    }

    /// Whether this name is `suffix` or below it (`www.example.com.` ends with `com.`),
    /// ignoring ASCII case. Every name ends with the root.
    pub fn ends_with(&self, suffix: &Name<'_>) -> bool {
        let Some(skip) = self.labels.checked_sub(suffix.labels) else {
            return false;
        };
        let mut mine = self.labels();
        for _ in 0..skip {
            mine.next();
        }
        mine.zip(suffix.labels())
            .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }

    /// Compare in DNSSEC canonical order (RFC 4034 6.1): by labels from the rightmost, each
    /// compared as lower-cased octets, a label that is a prefix of another sorting first.
    pub fn cmp_canonical(&self, other: &Name<'_>) -> Ordering {
        let mut a: heapless::Vec<&[u8], 128> = heapless::Vec::new();
        let mut b: heapless::Vec<&[u8], 128> = heapless::Vec::new();
        // At most 127 labels fit in 255 octets, so these pushes cannot fail.
        for l in self.labels() {
            let _ = a.push(l);
        }
        for l in other.labels() {
            let _ = b.push(l);
        }
        for (x, y) in a.iter().rev().zip(b.iter().rev()) {
            let ord = x
                .iter()
                .map(u8::to_ascii_lowercase)
                .cmp(y.iter().map(u8::to_ascii_lowercase));
            if ord != Ordering::Equal {
                return ord;
            }
        }
        a.len().cmp(&b.len())
    }

    /// The name's bytes in place when it is written without compression pointers (a name
    /// read from uncompressed wire form, or the literal part of a message): its wire form,
    /// borrowed.
    pub fn literal_wire(&self) -> Option<&'a [u8]> {
        let end = self.start + usize::from(self.wire_len);
        let wire = self.msg.get(self.start..end)?;
        // Literal iff the length octets, followed from the start, end at the root exactly
        // at `end` (a pointer octet is 0xc0 or more, never a label length).
        let mut pos = 0usize;
        while let Some(&l) = wire.get(pos) {
            if l == 0 {
                return (pos + 1 == wire.len()).then_some(wire);
            }
            if l & POINTER != 0 {
                return None;
            }
            pos += 1 + usize::from(l);
        }
        None
    }

    /// Copy into an owned, uncompressed [`NameBuf`].
    pub fn to_name_buf(&self) -> NameBuf {
        let mut out = NameBuf::root();
        let mut pos = 0usize;
        for label in self.labels() {
            // A parsed name is at most 255 octets, so this fits.
            if let Some((len, rest)) = out
                .bytes
                .get_mut(pos..pos + 1 + label.len())
                .and_then(<[u8]>::split_first_mut)
            {
                *len = label.len() as u8;
                rest.copy_from_slice(label);
            }
            pos += 1 + label.len();
        }
        if let Some(b) = out.bytes.get_mut(pos) {
            *b = 0;
        }
        out.len = (pos + 1) as u8;
        out.labels = self.labels;
        out
    }
}

impl PartialEq for Name<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.eq_ignore_ascii_case(other)
    }
}

impl Eq for Name<'_> {}

impl Hash for Name<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for label in self.labels() {
            state.write_u8(label.len() as u8);
            for b in label {
                state.write_u8(b.to_ascii_lowercase());
            }
        }
        state.write_u8(0);
    }
}

/// Presentation format: `www.example.com.`, `.` for the root, RFC 1035 escapes.
impl fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str(".");
        }
        for label in self.labels() {
            write_label(f, label)?;
            f.write_str(".")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name(\"{self}\" @{})", self.start)
    }
}

/// The labels of a [`Name`], leftmost first, root excluded.
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    msg: &'a [u8],
    pos: usize,
    remaining: u8,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        // The name was validated when built; the bound only guards the impossible.
        for _ in 0..=MAX_POINTER_HOPS {
            let b = *self.msg.get(self.pos)?;
            if b & POINTER == POINTER {
                let lo = *self.msg.get(self.pos + 1)?;
                self.pos = (usize::from(b & !POINTER) << 8) | usize::from(lo);
                continue;
            }
            let len = usize::from(b);
            let label = self.msg.get(self.pos + 1..self.pos + 1 + len)?;
            self.pos += 1 + len;
            self.remaining -= 1;
            return Some(label);
        }
        None
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (
            usize::from(self.remaining),
            Some(usize::from(self.remaining)),
        )
    }
}

impl ExactSizeIterator for Labels<'_> {}

/// An owned domain name in uncompressed wire form, in a fixed 255-byte array (no heap).
///
/// Built from presentation format ([`from_dotted`](Self::from_dotted), [`FromStr`]), from
/// labels, from wire bytes or from a [`Name`]; viewed as a [`Name`] for everything else.
/// `==` is DNS equality (ASCII case-insensitive).
#[derive(Clone, Copy)]
pub struct NameBuf {
    bytes: [u8; MAX_NAME_LEN],
    len: u8,
    labels: u8,
}

impl NameBuf {
    /// The root name.
    pub const fn root() -> Self {
        NameBuf {
            bytes: [0; MAX_NAME_LEN],
            len: 1,
            labels: 0,
        }
    }

    /// Parse presentation format: labels separated by `.`, `\.`/`\\`/`\X` for a literal
    /// character, `\DDD` for an octet in decimal. The final dot is optional (there is no
    /// origin here: every name is absolute); `.` alone is the root. Non-ASCII characters are
    /// copied as their UTF-8 octets (no IDNA).
    ///
    /// # Errors
    /// [`Error::EmptyLabel`] (`""`, `a..b`, `.a`), [`Error::LabelTooLong`],
    /// [`Error::NameTooLong`], [`Error::BadEscape`].
    pub fn from_dotted(s: &str) -> Result<Self, Error> {
        let b = s.as_bytes();
        if b == b"." {
            return Ok(Self::root());
        }
        let mut out = Self::root();
        let mut len_pos = 0usize; // where the current label's length octet goes
        let mut label_len = 0usize;
        let mut i = 0usize;
        while let Some(&c) = b.get(i) {
            let byte = match c {
                b'.' => {
                    if label_len == 0 {
                        return Err(Error::EmptyLabel);
                    }
                    out.put(len_pos, label_len as u8)?;
                    out.labels += 1;
                    len_pos += 1 + label_len;
                    label_len = 0;
                    i += 1;
                    continue;
                }
                b'\\' => {
                    let (byte, used) = unescape(b.get(i + 1..).unwrap_or_default())?;
                    i += 1 + used;
                    byte
                }
                other => {
                    i += 1;
                    other
                }
            };
            if label_len == MAX_LABEL_LEN {
                return Err(Error::LabelTooLong);
            }
            out.put(len_pos + 1 + label_len, byte)?;
            label_len += 1;
        }
        if label_len > 0 {
            out.put(len_pos, label_len as u8)?;
            out.labels += 1;
            len_pos += 1 + label_len;
        } else if len_pos == 0 {
            return Err(Error::EmptyLabel);
        }
        out.put(len_pos, 0)?;
        out.len = (len_pos + 1) as u8;
        Ok(out)
    }

    /// Build from labels, leftmost first, root excluded.
    ///
    /// # Errors
    /// [`Error::EmptyLabel`], [`Error::LabelTooLong`], [`Error::NameTooLong`].
    pub fn from_labels<I>(labels: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let mut out = Self::root();
        let mut pos = 0usize;
        for label in labels {
            let label = label.as_ref();
            if label.is_empty() {
                return Err(Error::EmptyLabel);
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(Error::LabelTooLong);
            }
            let dst = out
                .bytes
                .get_mut(pos..pos + 1 + label.len())
                .ok_or(Error::NameTooLong)?;
            if let Some((len, rest)) = dst.split_first_mut() {
                *len = label.len() as u8;
                rest.copy_from_slice(label);
            }
            pos += 1 + label.len();
            out.labels += 1;
        }
        out.put(pos, 0)?;
        out.len = (pos + 1) as u8;
        Ok(out)
    }

    /// Copy exactly one uncompressed name in wire form.
    ///
    /// # Errors
    /// As [`Name::from_wire`].
    pub fn from_wire(bytes: &[u8]) -> Result<Self, Error> {
        Ok(Name::from_wire(bytes)?.to_name_buf())
    }

    fn put(&mut self, at: usize, v: u8) -> Result<(), Error> {
        *self.bytes.get_mut(at).ok_or(Error::NameTooLong)? = v;
        Ok(())
    }

    /// The name in uncompressed wire form, root octet included.
    pub fn as_wire(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[0])
    }

    /// View as a [`Name`] (for comparison, labels, printing).
    pub fn as_name(&self) -> Name<'_> {
        Name {
            msg: self.as_wire(),
            start: 0,
            wire_len: self.len,
            labels: self.labels,
        }
    }

    /// The length in wire form (1 for the root, at most 255).
    #[inline]
    pub fn wire_len(&self) -> usize {
        usize::from(self.len)
    }

    /// The number of labels, root excluded.
    #[inline]
    pub fn label_count(&self) -> usize {
        usize::from(self.labels)
    }

    /// Put `label` in front (`example.com.` becomes `www.example.com.`).
    ///
    /// # Errors
    /// [`Error::EmptyLabel`], [`Error::LabelTooLong`], [`Error::NameTooLong`]; the name is
    /// unchanged then.
    pub fn prepend_label(&mut self, label: &[u8]) -> Result<(), Error> {
        if label.is_empty() {
            return Err(Error::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(Error::LabelTooLong);
        }
        let old = usize::from(self.len);
        let new = old + 1 + label.len();
        if new > MAX_NAME_LEN {
            return Err(Error::NameTooLong);
        }
        self.bytes.copy_within(0..old, 1 + label.len());
        if let Some((len, rest)) = self.bytes.split_first_mut() {
            *len = label.len() as u8;
            if let Some(dst) = rest.get_mut(..label.len()) {
                dst.copy_from_slice(label);
            }
        }
        self.len = new as u8;
        self.labels += 1;
        Ok(())
    }

    /// Lower-case every ASCII letter (the canonical form of RFC 4034 6.2).
    pub fn make_ascii_lowercase(&mut self) {
        // Length octets are at most 63, below 'A', so only label bytes change.
        let len = usize::from(self.len);
        if let Some(b) = self.bytes.get_mut(..len) {
            b.make_ascii_lowercase();
        }
    }
}

/// Decode the escape after a `\`: three decimal digits, or one literal octet. Returns the
/// octet and how many bytes of `rest` it used.
fn unescape(rest: &[u8]) -> Result<(u8, usize), Error> {
    match rest {
        [d0, d1, d2, ..] if d0.is_ascii_digit() => {
            if !d1.is_ascii_digit() || !d2.is_ascii_digit() {
                return Err(Error::BadEscape);
            }
            let v = u16::from(d0 - b'0') * 100 + u16::from(d1 - b'0') * 10 + u16::from(d2 - b'0');
            u8::try_from(v)
                .map(|v| (v, 3))
                .map_err(|_| Error::BadEscape)
        }
        [d0, ..] if d0.is_ascii_digit() => Err(Error::BadEscape),
        [c, ..] => Ok((*c, 1)),
        [] => Err(Error::BadEscape),
    }
}

impl Default for NameBuf {
    fn default() -> Self {
        Self::root()
    }
}

impl FromStr for NameBuf {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::from_dotted(s)
    }
}

impl PartialEq for NameBuf {
    fn eq(&self, other: &Self) -> bool {
        self.as_name() == other.as_name()
    }
}

impl Eq for NameBuf {}

impl Hash for NameBuf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_name().hash(state);
    }
}

impl PartialEq<Name<'_>> for NameBuf {
    fn eq(&self, other: &Name<'_>) -> bool {
        self.as_name() == *other
    }
}

impl PartialEq<NameBuf> for Name<'_> {
    fn eq(&self, other: &NameBuf) -> bool {
        *self == other.as_name()
    }
}

impl fmt::Display for NameBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.as_name(), f)
    }
}

impl fmt::Debug for NameBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NameBuf(\"{self}\")")
    }
}

/// Anything the builder can write as a name: a [`Name`], a [`NameBuf`], a presentation-format
/// `str`, or a slice of labels.
pub trait ToName {
    /// Copy into an uncompressed [`NameBuf`].
    ///
    /// # Errors
    /// When the input is not a valid name (see [`NameBuf::from_dotted`] and
    /// [`NameBuf::from_labels`]).
    fn to_name(&self) -> Result<NameBuf, Error>;

    /// The name in valid uncompressed wire form, borrowed, when it is at hand without a copy
    /// (a [`NameBuf`], a [`Name`] written without pointers); `None` makes the builder call
    /// [`to_name`](Self::to_name). Implementations must return a valid name or `None`.
    fn literal_wire(&self) -> Option<&[u8]> {
        None
    }
}

impl ToName for Name<'_> {
    fn to_name(&self) -> Result<NameBuf, Error> {
        Ok(self.to_name_buf())
    }

    fn literal_wire(&self) -> Option<&[u8]> {
        Name::literal_wire(self)
    }
}

impl ToName for NameBuf {
    fn to_name(&self) -> Result<NameBuf, Error> {
        Ok(*self)
    }

    fn literal_wire(&self) -> Option<&[u8]> {
        Some(self.as_wire())
    }
}

impl ToName for str {
    fn to_name(&self) -> Result<NameBuf, Error> {
        NameBuf::from_dotted(self)
    }
}

impl<L: AsRef<[u8]>> ToName for [L] {
    fn to_name(&self) -> Result<NameBuf, Error> {
        NameBuf::from_labels(self)
    }
}

impl<T: ToName + ?Sized> ToName for &T {
    fn to_name(&self) -> Result<NameBuf, Error> {
        (**self).to_name()
    }

    fn literal_wire(&self) -> Option<&[u8]> {
        (**self).literal_wire()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn plain_name() {
        let msg = b"\x03www\x07example\x03com\x00rest";
        let (name, end) = Name::parse(msg, 0).unwrap();
        assert_eq!(end, 17);
        assert_eq!(name.label_count(), 3);
        assert_eq!(name.wire_len(), 17);
        assert_eq!(name.to_string(), "www.example.com.");
        let labels: std::vec::Vec<&[u8]> = name.labels().collect();
        assert_eq!(labels, [&b"www"[..], b"example", b"com"]);
        assert!(name.eq_str("WWW.Example.COM"));
        assert!(name.eq_str("www.example.com."));
        assert!(!name.eq_str("www.example.org."));
        assert!(!name.eq_str("www..com"));
        assert!(name.eq_labels([&b"www"[..], b"EXAMPLE", b"com"]));
        assert!(!name.eq_labels([&b"www"[..], b"example"]));
        assert!(!name.eq_labels([&b"www"[..], b"example", b"com", b"x"]));
    }

    #[test]
    fn compressed_name_follows_pointers() {
        // "example.com." at 0, then "www" + pointer to 0 at 13.
        let msg = b"\x07example\x03com\x00\x03www\xc0\x00";
        let (name, end) = Name::parse(msg, 13).unwrap();
        assert_eq!(end, 19);
        assert_eq!(name.to_string(), "www.example.com.");
        assert_eq!(name.wire_len(), 17);
        assert_eq!(
            Name::parse_uncompressed(msg, 13).unwrap_err(),
            Error::CompressedName
        );
        let parent = name.parent().unwrap();
        assert_eq!(parent.to_string(), "example.com.");
        assert_eq!(parent.wire_len(), 13);
        assert_eq!(parent.parent().unwrap().parent().unwrap(), Name::ROOT);
        assert!(Name::ROOT.parent().is_none());
        assert!(name.ends_with(&parent));
        assert!(name.ends_with(&Name::ROOT));
        assert!(!parent.ends_with(&name));
        assert_eq!(
            name.to_name_buf().as_wire(),
            b"\x03www\x07example\x03com\x00"
        );
    }

    #[test]
    fn hostile_pointers() {
        // Pointer to itself.
        assert_eq!(Name::parse(b"\xc0\x00", 0).unwrap_err(), Error::BadPointer);
        // Forward pointer.
        assert_eq!(
            Name::parse(b"\xc0\x02\x00", 0).unwrap_err(),
            Error::BadPointer
        );
        // Two names pointing at each other: the second hop is not strictly backwards.
        let msg = b"\x01a\xc0\x04\x01b\xc0\x00";
        assert_eq!(Name::parse(msg, 4).unwrap_err(), Error::BadPointer);
        // Pointer into the same label sequence, before the pointer but not before its start.
        assert_eq!(
            Name::parse(b"\x01a\xc0\x00", 0).unwrap_err(),
            Error::BadPointer
        );
        // Truncated pointer and label.
        assert_eq!(Name::parse(b"\xc0", 0).unwrap_err(), Error::Truncated);
        assert_eq!(Name::parse(b"\x05ab", 0).unwrap_err(), Error::Truncated);
        assert_eq!(Name::parse(b"", 0).unwrap_err(), Error::Truncated);
        // Reserved label types (a "label" of 64 or more).
        assert_eq!(Name::parse(b"\x40", 0).unwrap_err(), Error::BadLabelType);
        assert_eq!(Name::parse(b"\x80", 0).unwrap_err(), Error::BadLabelType);
    }

    #[test]
    fn pointer_chains_are_bounded() {
        // A chain of pointer-to-pointer hops, each strictly backwards: 0 is the root; each
        // later pair points at the previous pair.
        let mut msg = std::vec![0u8];
        let mut prev = 0usize;
        for _ in 0..200 {
            let here = msg.len();
            msg.push(0xc0 | (prev >> 8) as u8);
            msg.push(prev as u8);
            prev = here;
        }
        let last = msg.len() - 2;
        assert_eq!(Name::parse(&msg, last).unwrap_err(), Error::TooManyPointers);
        // 127 hops are fine: start at the 127th pair.
        let (name, _) = Name::parse(&msg, 1 + 2 * 126).unwrap();
        assert!(name.is_root());
    }

    #[test]
    fn long_names_via_pointers() {
        // 4 labels of 63 = 256 octets in place: too long.
        let mut msg = std::vec::Vec::new();
        for _ in 0..4 {
            msg.push(63);
            msg.extend_from_slice(&[b'a'; 63]);
        }
        msg.push(0);
        assert_eq!(Name::parse(&msg, 0).unwrap_err(), Error::NameTooLong);
        // 3 labels of 63 plus a 61-octet label = 255 exactly.
        let mut ok = std::vec::Vec::new();
        for _ in 0..3 {
            ok.push(63);
            ok.extend_from_slice(&[b'a'; 63]);
        }
        ok.push(61);
        ok.extend_from_slice(&[b'b'; 61]);
        ok.push(0);
        assert_eq!(Name::parse(&ok, 0).unwrap().0.wire_len(), 255);
        // 192 octets of labels plus a pointer to a 64-octet name: 256.
        let mut msg = std::vec![62u8];
        msg.extend_from_slice(&[b'x'; 62]);
        msg.push(0); // 64-octet name at 0
        let here = msg.len();
        for _ in 0..3 {
            msg.push(63);
            msg.extend_from_slice(&[b'a'; 63]);
        }
        msg.extend_from_slice(&[0xc0, 0x00]);
        assert_eq!(Name::parse(&msg, here).unwrap_err(), Error::NameTooLong);
    }

    #[test]
    fn dotted_names() {
        let n = NameBuf::from_dotted("www.example.com").unwrap();
        assert_eq!(n.as_wire(), b"\x03www\x07example\x03com\x00");
        assert_eq!(n, NameBuf::from_dotted("WWW.example.com.").unwrap());
        assert_eq!(NameBuf::from_dotted(".").unwrap().as_wire(), b"\x00");
        assert_eq!(NameBuf::from_dotted("").unwrap_err(), Error::EmptyLabel);
        assert_eq!(NameBuf::from_dotted("a..b").unwrap_err(), Error::EmptyLabel);
        assert_eq!(NameBuf::from_dotted(".a").unwrap_err(), Error::EmptyLabel);
        assert_eq!(NameBuf::from_dotted("a\\").unwrap_err(), Error::BadEscape);
        assert_eq!(NameBuf::from_dotted("a\\25").unwrap_err(), Error::BadEscape);
        assert_eq!(
            NameBuf::from_dotted("a\\256").unwrap_err(),
            Error::BadEscape
        );
        let esc = NameBuf::from_dotted("a\\.b\\032c\\\\.d").unwrap();
        assert_eq!(esc.as_wire(), b"\x06a.b c\\\x01d\x00");
        assert_eq!(esc.to_string(), "a\\.b\\032c\\\\.d.");
        let long = "a".repeat(63);
        assert!(NameBuf::from_dotted(&long).is_ok());
        assert_eq!(
            NameBuf::from_dotted(&"a".repeat(64)).unwrap_err(),
            Error::LabelTooLong
        );
        // 4 x 63-octet labels: 257 octets.
        let too_long = [long.as_str(); 4].join(".");
        assert_eq!(
            NameBuf::from_dotted(&too_long).unwrap_err(),
            Error::NameTooLong
        );
        let max = std::format!("{long}.{long}.{long}.{}", "b".repeat(61));
        assert_eq!(NameBuf::from_dotted(&max).unwrap().wire_len(), 255);
        assert_eq!(
            NameBuf::from_dotted(&std::format!("{max}."))
                .unwrap()
                .wire_len(),
            255
        );
        assert_eq!(
            NameBuf::from_dotted(&std::format!("c.{max}")).unwrap_err(),
            Error::NameTooLong
        );
    }

    #[test]
    fn labels_and_prepend() {
        let mut n = NameBuf::from_labels([&b"example"[..], b"com"]).unwrap();
        n.prepend_label(b"*").unwrap();
        assert_eq!(n.to_string(), "*.example.com.");
        assert_eq!(n.label_count(), 3);
        assert_eq!(
            NameBuf::from_labels([&b""[..]]).unwrap_err(),
            Error::EmptyLabel
        );
        let l63 = "a".repeat(63);
        let mut big = NameBuf::from_dotted(&[l63.as_str(); 3].join(".")).unwrap();
        assert_eq!(
            big.prepend_label(&[b'x'; 63]).unwrap_err(),
            Error::NameTooLong
        );
        assert_eq!(big.wire_len(), 193);
        let mut mixed = NameBuf::from_dotted("WwW.ExAmple").unwrap();
        mixed.make_ascii_lowercase();
        assert_eq!(mixed.as_wire(), b"\x03www\x07example\x00");
    }

    #[test]
    fn canonical_order_rfc4034() {
        // RFC 4034 section 6.1's example, in order.
        let order = [
            "example.",
            "a.example.",
            "yljkjljk.a.example.",
            "Z.a.example.",
            "zABC.a.EXAMPLE.",
            "z.example.",
            "\\001.z.example.",
            "*.z.example.",
            "\\200.z.example.",
        ];
        for w in order.windows(2) {
            let a = NameBuf::from_dotted(w[0]).unwrap();
            let b = NameBuf::from_dotted(w[1]).unwrap();
            assert_eq!(
                a.as_name().cmp_canonical(&b.as_name()),
                Ordering::Less,
                "{w:?}"
            );
            assert_eq!(b.as_name().cmp_canonical(&a.as_name()), Ordering::Greater);
        }
        let a = NameBuf::from_dotted("Z.a.example.").unwrap();
        let b = NameBuf::from_dotted("z.A.example.").unwrap();
        assert_eq!(a.as_name().cmp_canonical(&b.as_name()), Ordering::Equal);
    }

    #[test]
    fn to_name_inputs() {
        let a = "example.com".to_name().unwrap();
        let b = [&b"EXAMPLE"[..], b"com"].to_name().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_name().to_name().unwrap(), b);
        assert!("a..b".to_name().is_err());
    }
}
