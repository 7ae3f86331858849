//! Errors: what a hostile or broken peer did ([`Corrupt`]) is kept apart from what the caller
//! asked for ([`Error`]'s other variants) and from what the platform refused ([`BackendError`]).

use core::fmt;

use crate::shm::AccessError;

/// A protocol violation by the peer. The channel or ring that saw it is unusable afterwards
/// (vchan makes it sticky); nothing the peer writes can turn it into a panic, a hang or an
/// access outside the shared memory.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Corrupt {
    /// A producer index further ahead of the consumer index than the ring allows (or behind it).
    Index {
        /// The producer index read.
        prod: u32,
        /// The consumer index.
        cons: u32,
        /// How far ahead the producer may legitimately be.
        limit: u32,
    },
    /// vchan ring orders outside 10..=20, both in the same in-page slot, or whose grant list
    /// would run into an in-page ring or off the page.
    Order {
        /// The left (client to server) order.
        left: u16,
        /// The right (server to client) order.
        right: u16,
    },
    /// A vchan liveness byte other than 0 (exited), 1 (connected) or 2 (not yet connected),
    /// or 2 on the server's side.
    Live(u8),
    /// A store value that is not the decimal number expected (or is zero).
    StoreValue,
    /// A message field out of range (named as in the Xen header).
    Field {
        /// The field's name.
        field: &'static str,
        /// The value received.
        value: u64,
    },
    /// A response for an id with no outstanding request.
    UnknownId(u64),
    /// A shared region shorter than the protocol needs (a mapping the peer sized).
    Access(AccessError),
}

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Corrupt::Index { prod, cons, limit } => write!(
                f,
                "producer index {prod} is not within {limit} ahead of consumer index {cons}"
            ),
            Corrupt::Order { left, right } => write!(f, "bad ring orders {left}/{right}"),
            Corrupt::Live(b) => write!(f, "bad liveness byte {b}"),
            Corrupt::StoreValue => f.write_str("bad store value"),
            Corrupt::Field { field, value } => write!(f, "bad {field} {value}"),
            Corrupt::UnknownId(id) => write!(f, "response for unknown id {id}"),
            Corrupt::Access(e) => write!(f, "{e}"),
        }
    }
}

/// What a backend (grant table, event channel or store) refused.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendError {
    /// No such grant (or not granted to us, or not mappable as asked).
    NoSuchGrant(u32),
    /// No such event-channel port (or not bindable by us).
    NoSuchPort(u32),
    /// Out of grant references, ports or memory.
    Exhausted,
    /// A store key or value too long, or a malformed key.
    BadKey,
    /// An operating-system error (`errno`).
    Os(i32),
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BackendError::NoSuchGrant(r) => write!(f, "no such grant {r}"),
            BackendError::NoSuchPort(p) => write!(f, "no such event channel {p}"),
            BackendError::Exhausted => f.write_str("out of grants, ports or memory"),
            BackendError::BadKey => f.write_str("bad store key or value"),
            BackendError::Os(e) => write!(f, "OS error {e}"),
        }
    }
}

impl core::error::Error for BackendError {}

#[cfg(feature = "std")]
impl From<std::io::Error> for BackendError {
    fn from(e: std::io::Error) -> Self {
        BackendError::Os(e.raw_os_error().unwrap_or(libc::EIO))
    }
}

/// Why a ring or vchan operation did not complete.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The peer broke the protocol.
    Corrupt(Corrupt),
    /// The operation would block (non-blocking calls only), or a ring is full.
    WouldBlock,
    /// A deadline passed.
    TimedOut,
    /// The channel is closed: by us, or by the peer with nothing left to read.
    Closed,
    /// A packet longer than the ring can ever hold.
    TooLarge {
        /// Bytes asked for.
        len: usize,
        /// The ring's size.
        max: usize,
    },
    /// An argument out of range (ring size, path length, a commit past the guard).
    InvalidArgument,
    /// The store has no such key (the server is not up yet).
    NotFound,
    /// The backend refused.
    Backend(BackendError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Corrupt(c) => write!(f, "peer broke the protocol: {c}"),
            Error::WouldBlock => f.write_str("operation would block"),
            Error::TimedOut => f.write_str("timed out"),
            Error::Closed => f.write_str("channel closed"),
            Error::TooLarge { len, max } => {
                write!(f, "{len} bytes do not fit a {max}-byte ring")
            }
            Error::InvalidArgument => f.write_str("invalid argument"),
            Error::NotFound => f.write_str("store key not found"),
            Error::Backend(e) => write!(f, "backend: {e}"),
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

impl From<AccessError> for Error {
    fn from(e: AccessError) -> Self {
        Error::Corrupt(Corrupt::Access(e))
    }
}

#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        use std::io::ErrorKind as K;
        let kind = match e {
            Error::WouldBlock => K::WouldBlock,
            Error::TimedOut => K::TimedOut,
            Error::Closed => K::BrokenPipe,
            Error::TooLarge { .. } | Error::InvalidArgument => K::InvalidInput,
            Error::NotFound => K::NotFound,
            Error::Corrupt(_) => K::InvalidData,
            Error::Backend(BackendError::Os(code)) => {
                return std::io::Error::from_raw_os_error(code);
            }
            Error::Backend(_) => K::Other,
        };
        std::io::Error::new(kind, e)
    }
}
