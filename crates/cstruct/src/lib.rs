//! Declare a wire layout once; get checked zero-copy views over any byte buffer.
//!
//! `unistack-cstruct` is unistack's answer to MirageOS's `[%%cstruct]`: a struct whose fields
//! describe a header, and a derive that writes the offset arithmetic you would otherwise get
//! wrong by hand.
//!
//! ```
//! use unistack_cstruct::{CEnum, Cstruct};
//!
//! /// An IP protocol number: named code points plus a catch-all that keeps the rest.
//! #[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq)]
//! #[repr(u8)]
//! pub enum Protocol {
//!     #[cenum(display = "ICMP")]
//!     Icmp = 1,
//!     #[cenum(display = "TCP")]
//!     Tcp = 6,
//!     #[cenum(display = "UDP")]
//!     Udp = 17,
//!     Unknown(u8),
//! }
//!
//! /// The fixed part of an IPv4 header (RFC 791, figure 4), drawn MSB-first.
//! #[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
//! #[cstruct(view = Ipv4Packet, header_len = ihl * 4, total_len = total_len)]
//! pub struct Ipv4Header {
//!     #[bits(4)] pub version: u8,
//!     #[bits(4)] pub ihl: u8,
//!     #[bits(6)] pub dscp: u8,
//!     #[bits(2)] pub ecn: u8,
//!     pub total_len: u16,
//!     pub ident: u16,
//!     #[bits(1)] pub reserved: bool,
//!     #[bits(1)] pub dont_frag: bool,
//!     #[bits(1)] pub more_frags: bool,
//!     #[bits(13)] pub frag_offset: u16,
//!     pub ttl: u8,
//!     pub protocol: Protocol,
//!     pub checksum: u16,
//!     pub src: [u8; 4],
//!     pub dst: [u8; 4],
//! }
//!
//! let frame: &[u8] = &[
//!     0x45, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
//!     192, 0, 2, 1, 192, 0, 2, 2, // header ends here
//!     0x04, 0xd2, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00, // 8 bytes of payload
//!     0x00, 0x00, // Ethernet padding: not part of the packet
//! ];
//! assert_eq!(Ipv4Header::SIZE, 20);
//! let ip = Ipv4Packet::new_checked(frame)?; // the one length check
//! assert_eq!(ip.version(), 4);
//! assert_eq!(ip.header_len(), 20);
//! assert!(ip.dont_frag());
//! assert_eq!(ip.protocol(), Protocol::Udp);
//! assert_eq!(ip.protocol().to_string(), "UDP");
//! assert_eq!(ip.src(), &[192, 0, 2, 1]);
//! assert_eq!(ip.payload().len(), 8); // total_len bounds it, padding excluded
//!
//! // Views over mutable buffers have setters; they never touch a neighbouring field.
//! let mut buf = [0u8; 28];
//! let mut out = Ipv4Packet::new_unchecked(&mut buf[..]);
//! out.encode(&ip.decode());
//! out.set_ttl(1);
//! out.set_frag_offset(0x1fff);
//! assert_eq!(out.ttl(), 1);
//! assert!(out.dont_frag());
//! assert_eq!(out.frag_offset(), 0x1fff);
//!
//! // A short or inconsistent buffer is a typed error, never a panic.
//! assert!(Ipv4Packet::new_checked(&frame[..19]).is_err());
//! # Ok::<(), unistack_cstruct::Error>(())
//! ```
//!
//! # `#[derive(Cstruct)]`
//! On a struct with named fields. Each field is one of
//! - `u8`, `u16`, `u32`, `u64`: an unsigned integer, in network byte order unless the struct
//!   or the field says `#[cstruct(little)]` (or `#[cstruct(big)]` to override a little struct);
//! - `[u8; N]`: bytes, borrowed in place (`N` may be any constant expression);
//! - a type deriving `Cstruct`: a nested layout, read as a sub-view;
//! - a type deriving `CEnum`: a code point, read as the enum;
//! - a bitfield `#[bits(N)]` of type `u8`/`u16`/`u32`/`u64`, `bool` (`#[bits(1)]` only) or a
//!   `CEnum`. Consecutive bitfields pack into a group that must end on a byte boundary (at
//!   most 64 bits). In big-endian layouts bits are allocated from the most significant bit, as
//!   RFC diagrams draw them; in little-endian layouts from the least significant bit, as C
//!   compilers on little-endian machines do.
//!
//! Struct attributes, in `#[cstruct(...)]`:
//! - `big` (default) / `little`: byte order of every field;
//! - `view = Name`: the view type's name (default: the struct's name followed by `View`);
//! - `header_len = field * N`: the header length in bytes is `field * N` (IPv4's IHL, TCP's
//!   data offset); the view gains `options()` and the payload starts after it;
//! - `total_len = field [* N]`: the packet length (header included); the payload ends there
//!   and trailing bytes (Ethernet padding) are excluded;
//! - `crate = path`: where this crate is, if it is renamed.
//!
//! Generated, for a layout `Foo` with view `FooView<B>`:
//! - `Foo::SIZE`, a [`Span`] constant per field (`Foo::TOTAL_LEN`), `Foo::FIELDS` listing them;
//! - `Foo::to_bytes`, `Foo::from_bytes`, and `Foo::read_from(source)` /
//!   `read_from_at(source, offset)` that copy exactly `SIZE` bytes out of a [`ByteSource`] (such
//!   as a page shared with another domain) into an owned `FooView<[u8; Foo::SIZE]>`;
//! - on `FooView<B: AsRef<[u8]>>`: `new_checked` (one length check, after which no accessor
//!   panics), `new_unchecked`, `check_len`, `into_inner`, `as_bytes`, `as_view`, a getter per
//!   field named after it, `header_len`, `header`, `options` (with `header_len`), `packet_len`
//!   (with `total_len`), `payload`, `decode` (all fields into a `Foo`), `hexdump`, and a `Debug`
//!   that prints every field by name;
//! - on `FooView<B: AsRef<[u8]> + AsMut<[u8]>>`: `set_<field>` per field, `<field>_mut` for
//!   arrays and nested layouts, `header_mut`, `options_mut`, `payload_mut`, `encode`;
//! - on `FooView<B: Split>`: `into_payload` / `into_header`, which narrow the buffer while keeping
//!   its type (a `&'a [u8]` stays borrowed for `'a`; a `bytes::Bytes` shares its allocation).
//!
//! Setters drop bits of a value that do not fit its bitfield; a setter never changes another
//! field. `header()`, `options()` and `payload()` return an empty slice if a length field was
//! changed after the check so that it no longer fits, rather than panic (re-run `check_len`).
//!
//! The view's `Debug` prints enum fields with their `Debug`, so derive `Debug` on every
//! `CEnum` used in a layout. A type alias of an integer (`type Port = u16`) is not recognised
//! as one (the derive sees only the name): write the integer type itself.
//!
//! Layout mistakes are compile errors pointing at the field: an unsupported type, a bitfield
//! group that does not end on a byte boundary or exceeds 64 bits, a bitfield wider than its
//! type, `bool` outside a one-bit bitfield, a byte order on a byte array, attributes given
//! twice or in conflict, a length attribute naming a non-integer field, or a field name that
//! clashes with a generated item (or with another field's, such as `foo` and `set_foo`), and a
//! byte order on a nested layout (which keeps its own).
//!
//! # `#[derive(CEnum)]`
//! On a `#[repr(u8|u16|u32|u64)]` enum whose variants are unit variants with explicit values
//! plus exactly one catch-all tuple variant holding the repr type (`Unknown(u8)`). It generates
//! `from_raw` (every value converts; unnamed ones land in the catch-all, so no data is lost),
//! `to_raw`, `is_known`, `KNOWN`, `From` both ways, `Display` (the variant name, or
//! `#[cenum(display = "...")]`; unknown values print as `unknown (0x2a)`), and the [`CEnum`]
//! and [`Field`] impls that let it be a layout field or bitfield. The enum must be `Copy`.
//! `from_raw` always yields the named variant for a named value; a hand-built
//! `Unknown(6)` where 6 has a name is not canonical and compares unequal to it. Rust gives the
//! catch-all the discriminant after the previous variant's: if that overflows (a named `0xff`
//! just before `Unknown(u8)`), give it an unused one explicitly (`Unknown(u8) = 0xfe`).
//!
//! # Panics
//! Only views built with `new_unchecked` over a buffer shorter than the layout panic (with a
//! message naming the offset), as does an `AsRef` implementation that returns a shorter slice
//! than it did when the view was checked. Nothing reachable from `new_checked` input panics.
//!
//! # Unsafe
//! None. Every byte access is a bounds-checked slice operation in [`bytes`]; the benches show
//! the checks cost nothing measurable because the optimizer merges them. A page shared with
//! another domain is reached through [`ByteSource`], whose implementation (volatile or atomic
//! reads) belongs to the crate that owns the shared memory.
//!
//! # Features
//! - `alloc`: [`ByteSource`] for `Vec<u8>` and `Box<[u8]>`.
//! - `std` (default): implies `alloc`.
//! - `bytes`: [`Split`] for `bytes::Bytes` and `bytes::BytesMut`.
//!
//! Not supported: signed or floating-point fields, arrays of anything but `u8`, variable-length
//! fields other than the single header-options/payload tail, and generic layouts.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;

// Lets the derive's `::unistack_cstruct::...` paths resolve inside this crate's own tests.
extern crate self as unistack_cstruct;

pub mod bytes;
mod hexdump;

pub use hexdump::Hexdump;
pub use unistack_cstruct_derive::{CEnum, Cstruct};

use core::fmt;

/// Why a buffer cannot be viewed as a layout.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The buffer is shorter than the layout, or than a length its fields declare.
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        got: usize,
    },
    /// The header length field declares less than the fixed layout.
    BadHeaderLen {
        /// Declared header length in bytes.
        header_len: usize,
        /// The fixed layout's size.
        min: usize,
    },
    /// The total length field declares less than the header.
    BadTotalLen {
        /// Declared packet length in bytes.
        total_len: usize,
        /// The header length.
        header_len: usize,
    },
    /// A read from a [`ByteSource`] fell outside it.
    OutOfRange {
        /// Requested offset.
        offset: usize,
        /// Requested length.
        len: usize,
        /// The source's length.
        available: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Truncated { needed, got } => {
                write!(f, "truncated: need {needed} bytes, have {got}")
            }
            Error::BadHeaderLen { header_len, min } => {
                write!(f, "bad header length {header_len} (minimum {min})")
            }
            Error::BadTotalLen {
                total_len,
                header_len,
            } => write!(
                f,
                "bad total length {total_len} (shorter than the {header_len}-byte header)"
            ),
            Error::OutOfRange {
                offset,
                len,
                available,
            } => write!(
                f,
                "{len} bytes at offset {offset} are outside a {available}-byte source"
            ),
        }
    }
}

impl core::error::Error for Error {}

/// Byte order of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endian {
    /// Network byte order, most significant byte first.
    Big,
    /// Least significant byte first.
    Little,
}

/// Where a field lies in its layout.
///
/// For a byte-aligned field, `offset..offset + len` are its bytes and `shift` is 0. For a
/// bitfield, `offset..offset + len` are the bytes of its group, read as one integer in the
/// group's byte order, and the field is the `bits` bits starting `shift` bits above that
/// integer's least significant bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    /// Byte offset of the field (or of its bitfield group).
    pub offset: usize,
    /// Length in bytes of the field (or of its bitfield group).
    pub len: usize,
    /// Bit shift from the group integer's least significant bit (0 for whole fields).
    pub shift: u32,
    /// Width in bits.
    pub bits: u32,
    /// Whether the field (or group) is little-endian.
    pub little: bool,
}

impl Span {
    /// A byte-aligned field of `len` bytes at `offset`.
    pub const fn bytes(offset: usize, len: usize, little: bool) -> Self {
        Span {
            offset,
            len,
            shift: 0,
            bits: (len * 8) as u32,
            little,
        }
    }

    /// A bitfield: `bits` bits at `shift` within the `len`-byte group at `offset`.
    pub const fn bits(offset: usize, len: usize, shift: u32, bits: u32, little: bool) -> Self {
        Span {
            offset,
            len,
            shift,
            bits,
            little,
        }
    }

    /// The byte range the field (or its group) occupies.
    pub const fn range(&self) -> core::ops::Range<usize> {
        self.offset..self.offset + self.len
    }

    /// Which bits of buffer byte `index` belong to this field (0 for bytes outside it).
    pub const fn bit_mask(&self, index: usize) -> u8 {
        if index < self.offset || index >= self.offset + self.len {
            return 0;
        }
        let i = index - self.offset;
        // The integer bits this byte holds: [lo, lo + 8).
        let lo = if self.little {
            i * 8
        } else {
            (self.len - 1 - i) * 8
        } as u32;
        let mut mask = 0u8;
        let mut bit = 0;
        while bit < 8 {
            let pos = lo + bit;
            if pos >= self.shift && pos < self.shift + self.bits {
                mask |= 1 << bit;
            }
            bit += 1;
        }
        mask
    }
}

/// A type that can be a field of a layout: a nested `Cstruct` or a `CEnum`.
///
/// Implemented by the derives. Every `bytes` argument is exactly `SIZE` bytes long (generated
/// accessors slice it so); implementations may panic otherwise.
pub trait Field {
    /// Size on the wire in bytes.
    const SIZE: usize;
    /// Whether the containing field's byte order applies (an enum's integer), or the type has
    /// its own (a nested layout).
    const BYTE_ORDERED: bool;
    /// What a getter returns: the enum itself, or a nested layout's read-only view.
    type Ref<'a>;
    /// What a `_mut` accessor returns: a nested layout's mutable view, or an enum's raw bytes.
    type Mut<'a>;
    /// Borrow the field from its bytes.
    fn get(bytes: &[u8], endian: Endian) -> Self::Ref<'_>;
    /// Borrow the field's bytes mutably.
    fn get_mut(bytes: &mut [u8], endian: Endian) -> Self::Mut<'_>;
    /// Decode the field into a value.
    fn read(bytes: &[u8], endian: Endian) -> Self;
    /// Encode a value into the field's bytes.
    fn write(&self, bytes: &mut [u8], endian: Endian);
}

/// A code-point enum generated by `#[derive(CEnum)]`.
pub trait CEnum: Copy + Field + 'static {
    /// The repr type.
    type Raw: Copy;
    /// Width of the repr in bits.
    const BITS: u32;
    /// Every named code point.
    const KNOWN: &'static [Self];
    /// Convert a raw value (never fails: unnamed values are kept).
    fn from_raw(raw: Self::Raw) -> Self;
    /// Return the raw value.
    fn to_raw(self) -> Self::Raw;
    /// Convert the low `BITS` bits of a bitfield value.
    fn from_bits(bits: u64) -> Self;
    /// Return the raw value widened to `u64`.
    fn to_bits(self) -> u64;
}

/// A layout generated by `#[derive(Cstruct)]`, for code generic over layouts.
pub trait Layout: Field + Sized {
    /// The view type over a buffer `B`.
    type View<B: AsRef<[u8]>>;
    /// Every field by name with where it lies.
    const FIELDS: &'static [(&'static str, Span)];
    /// Build a checked view (`new_checked`).
    ///
    /// # Errors
    /// As the view's `new_checked`.
    fn view<B: AsRef<[u8]>>(buffer: B) -> Result<Self::View<B>, Error>;
}

/// Bytes that can be copied out, possibly memory another party may change at any time.
///
/// `read_at` must copy each byte once; callers parse the copy, never the source, so a peer
/// that rewrites the source mid-parse cannot make a checked value change under them.
pub trait ByteSource {
    /// The number of bytes available.
    fn byte_len(&self) -> usize;
    /// Copy `dst.len()` bytes starting at `offset` into `dst`.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] if the range is not inside the source.
    fn read_at(&self, offset: usize, dst: &mut [u8]) -> Result<(), Error>;
}

impl ByteSource for [u8] {
    fn byte_len(&self) -> usize {
        self.len()
    }
    fn read_at(&self, offset: usize, dst: &mut [u8]) -> Result<(), Error> {
        let src = offset
            .checked_add(dst.len())
            .and_then(|end| self.get(offset..end))
            .ok_or(Error::OutOfRange {
                offset,
                len: dst.len(),
                available: self.len(),
            })?;
        dst.copy_from_slice(src);
        Ok(())
    }
}

impl<const N: usize> ByteSource for [u8; N] {
    fn byte_len(&self) -> usize {
        N
    }
    fn read_at(&self, offset: usize, dst: &mut [u8]) -> Result<(), Error> {
        self.as_slice().read_at(offset, dst)
    }
}

impl<T: ByteSource + ?Sized> ByteSource for &T {
    fn byte_len(&self) -> usize {
        (**self).byte_len()
    }
    fn read_at(&self, offset: usize, dst: &mut [u8]) -> Result<(), Error> {
        (**self).read_at(offset, dst)
    }
}

#[cfg(feature = "alloc")]
impl ByteSource for alloc::vec::Vec<u8> {
    fn byte_len(&self) -> usize {
        self.len()
    }
    fn read_at(&self, offset: usize, dst: &mut [u8]) -> Result<(), Error> {
        self.as_slice().read_at(offset, dst)
    }
}

#[cfg(feature = "alloc")]
impl ByteSource for alloc::boxed::Box<[u8]> {
    fn byte_len(&self) -> usize {
        self.len()
    }
    fn read_at(&self, offset: usize, dst: &mut [u8]) -> Result<(), Error> {
        (**self).read_at(offset, dst)
    }
}

/// A buffer that can be narrowed to a sub-range without copying, keeping its type.
pub trait Split: AsRef<[u8]> + Sized {
    /// Narrow to `start..end`; empty if that is not a range inside the buffer (never a panic).
    fn split_range(self, start: usize, end: usize) -> Self;
}

impl Split for &[u8] {
    fn split_range(self, start: usize, end: usize) -> Self {
        bytes::range(self, start, end)
    }
}

impl Split for &mut [u8] {
    fn split_range(self, start: usize, end: usize) -> Self {
        bytes::range_mut(self, start, end)
    }
}

#[cfg(feature = "bytes")]
impl Split for ::bytes::Bytes {
    fn split_range(self, start: usize, end: usize) -> Self {
        if start <= end && end <= self.len() {
            self.slice(start..end)
        } else {
            ::bytes::Bytes::new()
        }
    }
}

#[cfg(feature = "bytes")]
impl Split for ::bytes::BytesMut {
    fn split_range(mut self, start: usize, end: usize) -> Self {
        if start <= end && end <= self.len() {
            self.truncate(end);
            self.split_off(start)
        } else {
            ::bytes::BytesMut::new()
        }
    }
}
