//! The xenbus side of a virtual block device: store paths, key names, states and the strict
//! parsing of values the peer wrote.
//!
//! Paths follow Xen's toolstack: the front end's node is
//! `/local/domain/<front>/device/vbd/<devid>`, the back end's
//! `/local/domain/<back>/backend/vbd/<front>/<devid>`; each names the other (`backend`,
//! `backend-id`; `frontend`, `frontend-id`). [`create_device`] plays the toolstack's part
//! (both nodes, state `Initialising`); [`remove_device`] removes them.
//!
//! Keys, as in `xen/include/public/io/blkif.h`:
//!
//! | node  | key | written | meaning |
//! |-------|-----|---------|---------|
//! | back  | `feature-flush-cache`, `feature-barrier`, `feature-discard`, `feature-persistent`, `feature-max-indirect-segments`, `discard-granularity`, `discard-alignment` | before `InitWait` | what the back end offers |
//! | front | `ring-ref`, `event-channel`, `protocol` (`x86_64-abi`), `feature-persistent` | before `Initialised` | the transport |
//! | back  | `sectors`, `sector-size`, `physical-sector-size`, `info`, `mode` | before `Connected` | the device |
//! | both  | `state` | | [`XenbusState`] as a decimal |
//!
//! Values are decimal without sign or leading `+`; a value the peer wrote that does not
//! parse, or is out of range, is [`Corrupt::StoreValue`].

use core::fmt::Write;

use unistack_vchan::{Corrupt, DomId, Store};

use crate::error::Error;

/// `enum xenbus_state` (`xen/include/public/io/xenbus.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum XenbusState {
    /// 0: no state yet.
    Unknown = 0,
    /// 1: the toolstack created the node.
    Initialising = 1,
    /// 2: the back end published its features and waits for the front end.
    InitWait = 2,
    /// 3: the front end published its transport.
    Initialised = 3,
    /// 4: ready for I/O.
    Connected = 4,
    /// 5: shutting down.
    Closing = 5,
    /// 6: shut down.
    Closed = 6,
    /// 7: reconfiguring (not used here).
    Reconfiguring = 7,
    /// 8: reconfigured (not used here).
    Reconfigured = 8,
}

impl XenbusState {
    /// From the store's decimal value.
    pub fn from_u64(v: u64) -> Option<Self> {
        use XenbusState::*;
        Some(match v {
            0 => Unknown,
            1 => Initialising,
            2 => InitWait,
            3 => Initialised,
            4 => Connected,
            5 => Closing,
            6 => Closed,
            7 => Reconfiguring,
            8 => Reconfigured,
            _ => return None,
        })
    }

    /// Closing or Closed.
    pub fn is_closing(self) -> bool {
        matches!(self, XenbusState::Closing | XenbusState::Closed)
    }
}

/// `VDISK_READONLY`, a bit of the back end's `info` key.
pub const VDISK_READONLY: u32 = 4;
/// The protocol we speak (`XEN_IO_PROTO_ABI_X86_64`).
pub const PROTOCOL: &str = "x86_64-abi";
/// The longest store key this crate builds.
pub const MAX_KEY: usize = 128;

/// A store key or value built in a fixed buffer (no allocation).
#[derive(Clone)]
pub struct Key {
    buf: [u8; MAX_KEY],
    len: usize,
    overflow: bool,
}

impl Default for Key {
    fn default() -> Self {
        Key {
            buf: [0; MAX_KEY],
            len: 0,
            overflow: false,
        }
    }
}

impl core::fmt::Debug for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Write for Key {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(s.as_bytes());
                self.len = end;
                Ok(())
            }
            None => {
                self.overflow = true;
                Err(core::fmt::Error)
            }
        }
    }
}

impl Key {
    /// Format a key; [`Error::InvalidArgument`] if it is longer than [`MAX_KEY`].
    ///
    /// # Errors
    /// As above.
    pub fn format(args: core::fmt::Arguments<'_>) -> Result<Self, Error> {
        let mut k = Key::default();
        if k.write_fmt(args).is_err() || k.overflow {
            return Err(Error::InvalidArgument);
        }
        Ok(k)
    }

    /// `<self>/<leaf>`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if too long.
    pub fn join(&self, leaf: &str) -> Result<Self, Error> {
        Key::format(format_args!("{}/{}", self.as_str(), leaf))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.buf
            .get(..self.len)
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

/// Where one virtual block device's two nodes live.
#[derive(Debug, Clone)]
pub struct DevicePaths {
    /// The front end's domain.
    pub front_dom: DomId,
    /// The back end's domain.
    pub back_dom: DomId,
    /// The virtual device number (`virtual-device`; 51712 is `xvda`).
    pub devid: u32,
    /// `/local/domain/<front>/device/vbd/<devid>`.
    pub front: Key,
    /// `/local/domain/<back>/backend/vbd/<front>/<devid>`.
    pub back: Key,
}

impl DevicePaths {
    /// The paths of device `devid` of `front_dom`, served by `back_dom`.
    pub fn new(front_dom: DomId, back_dom: DomId, devid: u32) -> Self {
        // Both fit MAX_KEY for any ids (at most 49 bytes), so formatting cannot fail.
        let front = Key::format(format_args!("/local/domain/{front_dom}/device/vbd/{devid}"))
            .unwrap_or_default();
        let back = Key::format(format_args!(
            "/local/domain/{back_dom}/backend/vbd/{front_dom}/{devid}"
        ))
        .unwrap_or_default();
        DevicePaths {
            front_dom,
            back_dom,
            devid,
            front,
            back,
        }
    }
}

/// `xvda`'s device number (`202 << 8`), used by the examples and the binary.
pub const XVDA: u32 = 51712;

/// Do the toolstack's part: create both nodes, each naming the other, both in state
/// `Initialising`, and the front's `virtual-device` and `device-type`.
///
/// # Errors
/// Store errors.
pub fn create_device(store: &impl Store, paths: &DevicePaths) -> Result<(), Error> {
    let (f, b) = (&paths.front, &paths.back);
    write_num(store, f, "backend-id", paths.back_dom.into())?;
    store.write(f.join("backend")?.as_str(), b.as_str())?;
    write_num(store, f, "virtual-device", paths.devid.into())?;
    store.write(f.join("device-type")?.as_str(), "disk")?;
    write_num(store, b, "frontend-id", paths.front_dom.into())?;
    store.write(b.join("frontend")?.as_str(), f.as_str())?;
    write_num(store, b, "state", XenbusState::Initialising as u64)?;
    write_num(store, f, "state", XenbusState::Initialising as u64)?;
    Ok(())
}

/// Remove both nodes (the toolstack, after both ends closed).
///
/// # Errors
/// Store errors.
pub fn remove_device(store: &impl Store, paths: &DevicePaths) -> Result<(), Error> {
    store.remove(paths.front.as_str())?;
    store.remove(paths.back.as_str())?;
    Ok(())
}

/// Write `dir/leaf` = decimal `v`.
pub(crate) fn write_num(store: &impl Store, dir: &Key, leaf: &str, v: u64) -> Result<(), Error> {
    let value = Key::format(format_args!("{v}"))?;
    store.write(dir.join(leaf)?.as_str(), value.as_str())?;
    Ok(())
}

/// Parse a decimal the peer wrote: digits only, at most 20 of them, fits `u64` (vchan's
/// store-number rule, shared by every driver).
pub use unistack_vchan::backend::parse_store_number as parse_u64;

/// Read `dir/leaf` as a decimal: `Ok(None)` if absent.
///
/// # Errors
/// [`Corrupt::StoreValue`] for a value that is not a decimal `u64`; store errors.
pub(crate) fn read_num(store: &impl Store, dir: &Key, leaf: &str) -> Result<Option<u64>, Error> {
    Ok(unistack_vchan::backend::read_store_number(
        store,
        dir.join(leaf)?.as_str(),
    )?)
}

/// Read a boolean feature key: absent is `false`; `0`/`1` only.
pub(crate) fn read_bool(store: &impl Store, dir: &Key, leaf: &str) -> Result<bool, Error> {
    match read_num(store, dir, leaf)? {
        None | Some(0) => Ok(false),
        Some(1) => Ok(true),
        Some(_) => Err(Corrupt::StoreValue.into()),
    }
}

/// Read a node's `state`: absent is [`XenbusState::Unknown`]... unless the node is gone
/// entirely, which callers treat as closed.
pub(crate) fn read_state(store: &impl Store, dir: &Key) -> Result<Option<XenbusState>, Error> {
    match read_num(store, dir, "state")? {
        None => Ok(None),
        Some(v) => Ok(Some(XenbusState::from_u64(v).ok_or(Corrupt::StoreValue)?)),
    }
}

/// Write a node's `state`.
pub(crate) fn write_state(store: &impl Store, dir: &Key, s: XenbusState) -> Result<(), Error> {
    write_num(store, dir, "state", s as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_toolstack_layout() {
        let p = DevicePaths::new(65535, 65534, u32::MAX);
        assert_eq!(
            p.front.as_str(),
            "/local/domain/65535/device/vbd/4294967295"
        );
        assert_eq!(
            p.back.as_str(),
            "/local/domain/65534/backend/vbd/65535/4294967295"
        );
        assert!(
            p.back.join("feature-max-indirect-segments").is_ok(),
            "the longest key fits"
        );
    }

    #[test]
    fn numbers_are_strict() {
        assert_eq!(parse_u64("0"), Ok(0));
        assert_eq!(parse_u64("18446744073709551615"), Ok(u64::MAX));
        for bad in [
            "",
            "-1",
            "+1",
            " 1",
            "1 ",
            "0x10",
            "18446744073709551616",
            "1e3",
        ] {
            assert_eq!(parse_u64(bad), Err(Corrupt::StoreValue), "{bad:?}");
        }
        assert_eq!(XenbusState::from_u64(9), None);
        assert!(XenbusState::Closing.is_closing());
    }
}
