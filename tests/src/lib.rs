//! Cross-crate and interop tests for unistack live in `tests/tests/`.
//!
//! This library is a `#![no_std]` consumer of the derives: `scripts/test` builds it for
//! `x86_64-unknown-none`, which proves the generated code needs neither `std` nor `alloc`.
#![no_std]
#![forbid(unsafe_code)]

use wire::{CEnum, Cstruct};

/// A code point, derived without `std`.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[cenum(crate = ::wire)]
#[repr(u8)]
pub enum ProbeKind {
    /// One.
    One = 1,
    /// Anything else.
    Other(u8),
}

/// A layout with every field kind, derived without `std`.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(crate = ::wire, view = ProbeView, header_len = hlen * 4, total_len = len)]
pub struct Probe {
    /// Header length in words.
    #[bits(4)]
    pub hlen: u8,
    /// A flag.
    #[bits(1)]
    pub flag: bool,
    /// A code point in a bitfield.
    #[bits(3)]
    pub kind: ProbeKind,
    /// Total length in bytes.
    pub len: u16,
    /// A little-endian word.
    #[cstruct(little)]
    pub word: u32,
    /// Bytes.
    pub mac: [u8; 6],
}

/// Read the payload of a probe packet (exercises the generated code in a no_std build).
pub fn probe_payload(buf: &[u8]) -> Result<&[u8], wire::Error> {
    Ok(ProbeView::new_checked(buf)?.into_payload())
}
