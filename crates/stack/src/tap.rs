//! A Linux TAP device (feature `std`, Linux only).
//!
//! One `read`/`write` system call per frame, without `IFF_VNET_HDR`: correct, but not yet the
//! batched, offloading device the stack issue asks for (see the crate docs).

use std::io;
use std::time::Duration as StdDuration;
use std::vec;
use std::vec::Vec;

use core::time::Duration;

use crate::device::{Device, DeviceCaps};

/// A TAP interface opened (and created, if needed) by name.
pub struct TapDevice {
    iface: tun_tap::Iface,
    rx: Vec<u8>,
    tx: Vec<u8>,
    mtu: usize,
    /// Frames that failed to send (the kernel refused them).
    pub tx_errors: u64,
}

impl core::fmt::Debug for TapDevice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TapDevice")
            .field("name", &self.iface.name())
            .field("mtu", &self.mtu)
            .finish()
    }
}

impl TapDevice {
    /// Open TAP device `name` (created when absent; needs `CAP_NET_ADMIN`), for IP `mtu`.
    ///
    /// # Errors
    /// The open or the mode change failed.
    pub fn open(name: &str, mtu: usize) -> io::Result<Self> {
        let iface = tun_tap::Iface::without_packet_info(name, tun_tap::Mode::Tap)?;
        iface.set_non_blocking()?;
        Ok(TapDevice {
            iface,
            rx: vec![0u8; mtu + 18],
            tx: vec![0u8; mtu + 18],
            mtu,
            tx_errors: 0,
        })
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        self.iface.name()
    }

    /// Wait a little (at most `timeout`) for frames: a short sleep, since the TAP crate
    /// exposes no borrowed descriptor to `poll` without unsafe code.
    pub fn wait(&mut self, timeout: StdDuration) {
        std::thread::sleep(timeout.min(StdDuration::from_micros(200)));
    }
}

impl Device for TapDevice {
    fn caps(&self) -> DeviceCaps {
        DeviceCaps {
            mtu: self.mtu,
            ..DeviceCaps::default()
        }
    }

    fn receive<R>(&mut self, _now: Duration, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        let n = self.iface.recv(&mut self.rx).ok()?;
        Some(f(self.rx.get_mut(..n)?))
    }

    fn transmit<R>(
        &mut self,
        _now: Duration,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        if len > self.tx.len() {
            self.tx.resize(len, 0);
        }
        let buf = self.tx.get_mut(..len)?;
        let r = f(buf);
        if self.iface.send(buf).is_err() {
            self.tx_errors += 1;
        }
        Some(r)
    }
}
