//! The wire error of this crate.

use core::fmt;

/// Why a frame or packet was rejected.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The buffer is shorter than the header, or than a length it declares.
    Truncated,
    /// A field holds a value the protocol forbids.
    Malformed,
    /// Valid on the wire, but not something this crate handles (an 802.3 length field instead
    /// of an EtherType, ARP for other hardware or protocols, an unknown ARP operation).
    Unsupported,
    /// More than two stacked VLAN tags.
    TooManyVlanTags,
    /// An output buffer is too small for what is being emitted.
    BufferTooSmall,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "truncated",
            Error::Malformed => "malformed",
            Error::Unsupported => "unsupported",
            Error::TooManyVlanTags => "more than two VLAN tags",
            Error::BufferTooSmall => "output buffer too small",
        })
    }
}

impl core::error::Error for Error {}

impl From<unistack_cstruct::Error> for Error {
    fn from(e: unistack_cstruct::Error) -> Self {
        match e {
            unistack_cstruct::Error::BadHeaderLen { .. }
            | unistack_cstruct::Error::BadTotalLen { .. } => Error::Malformed,
            _ => Error::Truncated,
        }
    }
}
