//! Errors: what the peer did wrong ([`Error::Corrupt`]) is kept apart from what the caller
//! asked for, from what the peer answered for one request, and from what the platform refused.

use core::fmt;

use unistack_vchan::{BackendError, Corrupt};

/// Why a block operation did not complete.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The peer broke the protocol: a response with an unknown, repeated or mismatched id, an
    /// unknown status, a producer index out of range, a bad store value. On the front end
    /// this is sticky: every later call returns the same error.
    Corrupt(Corrupt),
    /// Nothing to do without blocking: no free request slot, nothing completed yet, the peer
    /// has not reached the next handshake state.
    WouldBlock,
    /// A deadline passed (blocking calls only).
    TimedOut,
    /// The peer closed the device (its xenbus state is Closing or Closed, or it is gone).
    Closed,
    /// A request the caller made that cannot be right: unaligned to the sector size, beyond
    /// the capacity, empty, or larger than one request can carry; an unknown tag.
    InvalidArgument,
    /// A write or discard on a read-only device.
    ReadOnly,
    /// The operation is not offered by the peer (not negotiated, or answered
    /// `BLKIF_RSP_EOPNOTSUPP`).
    NotSupported,
    /// The peer answered `BLKIF_RSP_ERROR` for the request.
    Io,
    /// The store has no such key (the peer's nodes are not there).
    NotFound,
    /// A grant, event-channel or store operation failed.
    Backend(BackendError),
    /// An operating-system error on the disk image (`errno`), back end only.
    Os(i32),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Corrupt(c) => write!(f, "peer broke the protocol: {c}"),
            Error::WouldBlock => f.write_str("operation would block"),
            Error::TimedOut => f.write_str("timed out"),
            Error::Closed => f.write_str("device closed by the peer"),
            Error::InvalidArgument => f.write_str("invalid argument"),
            Error::ReadOnly => f.write_str("device is read-only"),
            Error::NotSupported => f.write_str("operation not supported by the peer"),
            Error::Io => f.write_str("I/O error reported by the peer"),
            Error::NotFound => f.write_str("store key not found"),
            Error::Backend(e) => write!(f, "backend: {e}"),
            Error::Os(e) => write!(f, "OS error {e}"),
        }
    }
}

impl core::error::Error for Error {}

impl From<Corrupt> for Error {
    fn from(c: Corrupt) -> Self {
        Error::Corrupt(c)
    }
}

impl From<BackendError> for Error {
    fn from(e: BackendError) -> Self {
        Error::Backend(e)
    }
}

impl From<unistack_vchan::Error> for Error {
    fn from(e: unistack_vchan::Error) -> Self {
        use unistack_vchan::Error as V;
        match e {
            V::Corrupt(c) => Error::Corrupt(c),
            V::WouldBlock => Error::WouldBlock,
            V::TimedOut => Error::TimedOut,
            V::Closed => Error::Closed,
            V::NotFound => Error::NotFound,
            V::Backend(b) => Error::Backend(b),
            _ => Error::InvalidArgument,
        }
    }
}

impl From<unistack_vchan::shm::AccessError> for Error {
    fn from(e: unistack_vchan::shm::AccessError) -> Self {
        Error::Corrupt(Corrupt::Access(e))
    }
}

#[cfg(feature = "std")]
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Os(e.raw_os_error().unwrap_or(libc::EIO))
    }
}

#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        use std::io::ErrorKind as K;
        let kind = match e {
            Error::Os(code) => return std::io::Error::from_raw_os_error(code),
            Error::WouldBlock => K::WouldBlock,
            Error::TimedOut => K::TimedOut,
            Error::Closed => K::BrokenPipe,
            Error::InvalidArgument => K::InvalidInput,
            Error::ReadOnly => K::PermissionDenied,
            Error::NotSupported => K::Unsupported,
            Error::NotFound => K::NotFound,
            Error::Corrupt(_) => K::InvalidData,
            Error::Io | Error::Backend(_) => K::Other,
        };
        std::io::Error::new(kind, e)
    }
}
