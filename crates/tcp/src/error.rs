//! The wire error of this crate.

use core::fmt;

/// Why a segment was rejected.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The buffer is shorter than the header, or than the data offset declares.
    Truncated,
    /// A field or option holds a value the protocol forbids (data offset below 5, an option
    /// whose length is impossible or runs past the header, a SYN with a FIN or RST...).
    Malformed,
    /// The checksum does not match.
    BadChecksum,
    /// An output buffer is too small for what is being emitted.
    BufferTooSmall,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "truncated",
            Error::Malformed => "malformed",
            Error::BadChecksum => "bad checksum",
            Error::BufferTooSmall => "output buffer too small",
        })
    }
}

impl core::error::Error for Error {}

impl From<unistack_cstruct::Error> for Error {
    fn from(e: unistack_cstruct::Error) -> Self {
        match e {
            unistack_cstruct::Error::BadHeaderLen { .. } => Error::Malformed,
            _ => Error::Truncated,
        }
    }
}
