//! The platform under the rings and vchan: grant pages, event channels and a key store.
//!
//! Three small traits, each one Xen interface: [`Grants`] (gntshr/gnttab: share pages with a
//! peer by grant reference, map a peer's grants), [`Events`] and [`EventChannel`] (evtchn:
//! allocate or bind a port, notify, wait) and [`Store`] (xenstore: a few string keys).
//! [`Backend`] is any type with all three. Implementations: [`crate::local`] (two or more
//! "domains" in one process) and [`crate::linux`] (processes on one Linux host), both `std`; a
//! unikernel implements them with hypercalls.

use core::time::Duration;

use crate::error::{BackendError, Corrupt, Error};
use crate::shm::Shm;

/// A grant reference: names a page one domain shares with another.
pub type GrantRef = u32;
/// A domain id.
pub type DomId = u16;
/// An event-channel port number.
pub type Port = u32;

/// Pages shared with or mapped from a peer. Dropping it ends the grant or unmaps the pages.
pub trait Mapping {
    /// The pages, contiguous and in grant order.
    fn shm(&self) -> &Shm;
}

/// Grant tables: share pages with a peer, map pages a peer shared.
pub trait Grants {
    /// Pages we share; dropping them ends the grants.
    type Shared: Mapping;
    /// A peer's pages we mapped; dropping them unmaps.
    type Mapped: Mapping;

    /// Share `refs.len()` fresh zeroed pages with `peer` read-write, writing a grant
    /// reference per page into `refs` (never 0).
    ///
    /// # Errors
    /// [`BackendError::Exhausted`] and platform errors.
    fn share(&self, peer: DomId, refs: &mut [GrantRef]) -> Result<Self::Shared, BackendError>;

    /// Map read-write, contiguously and in order, the pages `peer` granted us as `refs`.
    ///
    /// # Errors
    /// [`BackendError::NoSuchGrant`] for a reference `peer` did not grant us (or that this
    /// backend cannot map together with the others), and platform errors.
    fn map(&self, peer: DomId, refs: &[GrantRef]) -> Result<Self::Mapped, BackendError>;
}

/// One end of an event channel. Dropping it closes the port.
pub trait EventChannel {
    /// Our port number (what the store's `event-channel` key publishes).
    fn port(&self) -> Port;

    /// Send an event to the other end (a no-op if it is not bound yet or has gone).
    ///
    /// # Errors
    /// Platform errors.
    fn notify(&self) -> Result<(), BackendError>;

    /// Wait until an event is pending, or `timeout` passes (`None`: forever), and clear it.
    /// Returns whether an event was pending. Events do not count: many notifies before a
    /// wait are one pending event. Spurious wakeups are allowed.
    ///
    /// # Errors
    /// Platform errors.
    fn wait(&self, timeout: Option<Duration>) -> Result<bool, BackendError>;

    /// Whether the other end still exists, when the platform can tell: `Some(false)` once
    /// it is known to be gone without having closed (a crashed process). Xen needs no such
    /// probe (its unmap notification clears the peer's liveness byte); the default is `None`
    /// (cannot tell).
    fn peer_alive(&self) -> Option<bool> {
        None
    }
}

/// Event-channel allocation.
pub trait Events {
    /// A port.
    type Channel: EventChannel;

    /// Allocate a port that `peer` may bind to.
    ///
    /// # Errors
    /// [`BackendError::Exhausted`] and platform errors.
    fn alloc_unbound(&self, peer: DomId) -> Result<Self::Channel, BackendError>;

    /// Bind a new local port to `peer`'s unbound port `remote`.
    ///
    /// # Errors
    /// [`BackendError::NoSuchPort`] if `remote` is not a port `peer` allocated for us.
    fn bind(&self, peer: DomId, remote: Port) -> Result<Self::Channel, BackendError>;
}

/// A store of small string values under `/`-separated keys (xenstore).
pub trait Store {
    /// Set `key` to `value`, creating it.
    ///
    /// # Errors
    /// [`BackendError::BadKey`] and platform errors.
    fn write(&self, key: &str, value: &str) -> Result<(), BackendError>;

    /// Read `key` into `buf`: `Ok(None)` if it does not exist.
    ///
    /// # Errors
    /// [`BackendError::BadKey`] if the value does not fit `buf` or is not UTF-8.
    fn read<'b>(&self, key: &str, buf: &'b mut [u8]) -> Result<Option<&'b str>, BackendError>;

    /// Remove `key` and everything under it (no error if absent).
    ///
    /// # Errors
    /// Platform errors.
    fn remove(&self, key: &str) -> Result<(), BackendError>;
}

/// Everything vchan needs from a platform.
pub trait Backend: Grants + Events + Store {}

impl<T: Grants + Events + Store> Backend for T {}

/// Parse a number a peer wrote into the store: decimal digits only (no sign, no spaces, a
/// trailing newline allowed), fitting `u64`.
///
/// # Errors
/// [`Corrupt::StoreValue`] for anything else.
pub fn parse_store_number(s: &str) -> Result<u64, Corrupt> {
    let s = s.strip_suffix('\n').unwrap_or(s);
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Corrupt::StoreValue);
    }
    s.parse::<u64>().map_err(|_| Corrupt::StoreValue)
}

/// Read store key `key` as a number a peer wrote ([`parse_store_number`]): `Ok(None)` if the
/// key does not exist.
///
/// # Errors
/// [`Corrupt::StoreValue`] for a malformed value, or one the store refuses as too long or not
/// UTF-8 ([`BackendError::BadKey`]); the store's other errors.
pub fn read_store_number<S: Store + ?Sized>(store: &S, key: &str) -> Result<Option<u64>, Error> {
    let mut buf = [0u8; 32];
    match store.read(key, &mut buf) {
        Ok(Some(v)) => Ok(Some(parse_store_number(v)?)),
        Ok(None) => Ok(None),
        Err(BackendError::BadKey) => Err(Corrupt::StoreValue.into()),
        Err(e) => Err(e.into()),
    }
}
