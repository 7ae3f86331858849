//! A Linux TAP device (feature `std`, Linux only), optionally with `IFF_VNET_HDR` offloads.
//!
//! [`TapDevice::open`] gives a plain TAP: one `read`/`write` system call per Ethernet frame of
//! at most the MTU. [`TapDevice::open_offload`] asks the kernel for `IFF_VNET_HDR` and
//! `TUNSETOFFLOAD` (checksum and TCPv4 segmentation offload), so every frame carries a
//! `virtio_net_hdr` and both directions move TCP in segments of up to 64 KiB:
//! - receive: the kernel hands over coalesced TCP segments (GRO/TSO from its side), possibly
//!   with the TCP checksum left partial (`VIRTIO_NET_HDR_F_NEEDS_CSUM`: only the
//!   pseudo-header sum is in the field); the device completes it before lending the frame,
//!   so the stack verifies every checksum as usual (and a corrupting wrapper is still
//!   caught);
//! - transmit: the stack sends new data in segments of up to [`DeviceCaps::tso_max`] through
//!   [`Device::transmit_tso`]; the device marks them `VIRTIO_NET_HDR_GSO_TCPV4` with the
//!   connection's MSS and a partial checksum, and the kernel cuts them into MTU-sized segments.
//!
//! That is one system call per up to 64 KiB instead of per 1.5 KiB. The ioctls live in the
//! `tun-rs` crate; there is no unsafe code here.

use std::io;
use std::string::String;
use std::time::Duration as StdDuration;
use std::vec;
use std::vec::Vec;

use core::time::Duration;

use tun_rs::{DeviceBuilder, InterruptEvent, Layer, SyncDevice};
use unistack_cstruct::Cstruct;
use unistack_ipv4::{Ipv4Packet, Protocol, checksum};

use crate::device::{Device, DeviceCaps, Tso};

/// `struct virtio_net_hdr` (10 bytes, little-endian on the TAP of a little-endian host).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cstruct(little, view = VirtioNetHdrView)]
pub struct VirtioNetHdr {
    /// `VIRTIO_NET_HDR_F_*`.
    pub flags: u8,
    /// `VIRTIO_NET_HDR_GSO_*`.
    pub gso_type: u8,
    /// Bytes of headers in front of the payload.
    pub hdr_len: u16,
    /// Payload bytes per segment.
    pub gso_size: u16,
    /// Where the partial checksum's coverage starts.
    pub csum_start: u16,
    /// Where, after `csum_start`, the checksum field is.
    pub csum_offset: u16,
}

/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`: the checksum at `csum_start + csum_offset` is partial.
const F_NEEDS_CSUM: u8 = 1;
/// `VIRTIO_NET_HDR_GSO_TCPV4`.
const GSO_TCPV4: u8 = 1;
const VNET: usize = VirtioNetHdr::SIZE;
/// The Ethernet header the stack puts in front of IPv4 (it sends no VLAN tags).
const ETH: usize = 14;
/// Ethernet header with one VLAN tag.
const L2_MAX: usize = 18;
/// The largest IP packet.
const IP_MAX: usize = 65535;

/// Counters of a [`TapDevice`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TapStats {
    /// Frames read.
    pub rx_frames: u64,
    /// Frames read that arrived coalesced (a GSO type in their header).
    pub rx_coalesced: u64,
    /// Frames read whose partial checksum the device completed.
    pub rx_csum_completed: u64,
    /// Frames dropped on read: a malformed `virtio_net_hdr` or checksum position.
    pub rx_malformed: u64,
    /// Frames written.
    pub tx_frames: u64,
    /// Of those, segments handed to the kernel to cut (TSO).
    pub tx_tso: u64,
    /// Frames the kernel refused.
    pub tx_errors: u64,
}

/// A TAP interface opened (and created, if needed) by name.
pub struct TapDevice {
    dev: SyncDevice,
    wake: InterruptEvent,
    name: String,
    offload: bool,
    rx: Vec<u8>,
    tx: Vec<u8>,
    mtu: usize,
    stats: TapStats,
}

impl core::fmt::Debug for TapDevice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TapDevice")
            .field("name", &self.name)
            .field("mtu", &self.mtu)
            .field("offload", &self.offload)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl TapDevice {
    /// Open TAP device `name` (created when absent; needs `CAP_NET_ADMIN`) for IP `mtu`,
    /// without offloads: one system call per frame.
    ///
    /// # Errors
    /// The open or a setting failed.
    pub fn open(name: &str, mtu: usize) -> io::Result<Self> {
        Self::build(name, mtu, false)
    }

    /// Open TAP device `name` with `IFF_VNET_HDR`, checksum offload and TCPv4 segmentation
    /// offload (see the module docs).
    ///
    /// # Errors
    /// The open failed, or the kernel refused the offloads.
    pub fn open_offload(name: &str, mtu: usize) -> io::Result<Self> {
        let dev = Self::build(name, mtu, true)?;
        if !dev.dev.tcp_gso() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "the kernel refused TUNSETOFFLOAD",
            ));
        }
        Ok(dev)
    }

    fn build(name: &str, mtu: usize, offload: bool) -> io::Result<Self> {
        let dev = DeviceBuilder::new()
            .name(name)
            .layer(Layer::L2)
            .offload(offload)
            .build_sync()?;
        dev.set_nonblocking(true)?;
        let frame_max = if offload { IP_MAX } else { mtu } + L2_MAX + VNET;
        Ok(TapDevice {
            dev,
            wake: InterruptEvent::new()?,
            name: String::from(name),
            offload,
            rx: vec![0u8; frame_max],
            tx: vec![0u8; frame_max],
            mtu,
            stats: TapStats::default(),
        })
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether `IFF_VNET_HDR` offloads are on.
    pub fn offload(&self) -> bool {
        self.offload
    }

    /// Counters.
    pub fn stats(&self) -> TapStats {
        self.stats
    }

    /// Sleep until a frame can be read or `timeout` passes.
    pub fn wait(&mut self, timeout: StdDuration) {
        // An error (say, an interrupted poll) is a spurious wakeup: the caller polls anyway.
        let _ = self
            .dev
            .wait_readable_intr_timeout(&self.wake, Some(timeout));
    }

    /// Complete a partial checksum as `virtio_net_hdr` describes it; false if the header
    /// points outside the frame.
    fn complete_checksum(hdr: &VirtioNetHdr, frame: &mut [u8]) -> bool {
        let start = usize::from(hdr.csum_start);
        let field = start + usize::from(hdr.csum_offset);
        if field + 2 > frame.len() {
            return false;
        }
        // The field holds the pseudo-header sum; summing the covered bytes with it in place
        // gives the full sum.
        let sum = checksum::data(&frame[start..]);
        frame[field..field + 2].copy_from_slice(&(!sum).to_be_bytes());
        true
    }

    fn send_tx(&mut self, len: usize) {
        match self.dev.send(&self.tx[..len]) {
            Ok(_) => self.stats.tx_frames += 1,
            Err(_) => self.stats.tx_errors += 1,
        }
    }
}

impl Device for TapDevice {
    fn caps(&self) -> DeviceCaps {
        DeviceCaps {
            mtu: self.mtu,
            tso_max: if self.offload { IP_MAX } else { 0 },
            ..DeviceCaps::default()
        }
    }

    fn receive<R>(&mut self, _now: Duration, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        loop {
            let n = self.dev.recv(&mut self.rx).ok()?;
            self.stats.rx_frames += 1;
            if !self.offload {
                return Some(f(self.rx.get_mut(..n)?));
            }
            let Some((head, frame)) = self
                .rx
                .get_mut(..n)
                .and_then(|b| b.split_at_mut_checked(VNET))
            else {
                self.stats.rx_malformed += 1;
                continue;
            };
            let hdr = VirtioNetHdrView::new_unchecked(&*head).decode();
            if hdr.gso_type != 0 {
                self.stats.rx_coalesced += 1;
            }
            if hdr.flags & F_NEEDS_CSUM != 0 {
                if !Self::complete_checksum(&hdr, frame) {
                    self.stats.rx_malformed += 1;
                    continue;
                }
                self.stats.rx_csum_completed += 1;
            }
            return Some(f(frame));
        }
    }

    fn transmit<R>(
        &mut self,
        _now: Duration,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        let pre = if self.offload { VNET } else { 0 };
        if len > self.tx.len() - pre {
            return None;
        }
        self.tx[..pre].fill(0); // no flags, GSO_NONE
        let r = f(&mut self.tx[pre..pre + len]);
        self.send_tx(pre + len);
        Some(r)
    }

    fn transmit_tso<R>(
        &mut self,
        _now: Duration,
        len: usize,
        tso: Tso,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        if !self.offload || len > self.tx.len() - VNET {
            return None;
        }
        let (head, frame) = self.tx.split_at_mut(VNET);
        let frame = &mut frame[..len];
        let r = f(frame);
        // The kernel wants a partial checksum: the pseudo-header sum (with the whole
        // segment's length) in the TCP checksum field.
        let ip_at = ETH;
        let Ok(ip) = Ipv4Packet::new_checked(&frame[ip_at..]) else {
            self.stats.tx_errors += 1;
            return Some(r);
        };
        let (src, dst, ihl) = (ip.src_addr(), ip.dst_addr(), ip.header_len());
        if ip.protocol() != Protocol::Tcp {
            self.stats.tx_errors += 1;
            return Some(r);
        }
        let tcp_at = ip_at + ihl;
        let tcp_len = len.saturating_sub(tcp_at);
        let Some(field) = frame.get_mut(tcp_at + 16..tcp_at + 18) else {
            self.stats.tx_errors += 1;
            return Some(r);
        };
        let pseudo = checksum::pseudo_header(src, dst, Protocol::Tcp, tcp_len as u16);
        field.copy_from_slice(&pseudo.to_be_bytes());
        VirtioNetHdrView::new_unchecked(&mut *head).encode(&VirtioNetHdr {
            flags: F_NEEDS_CSUM,
            gso_type: GSO_TCPV4,
            hdr_len: tso.header_len,
            gso_size: tso.mss,
            csum_start: tcp_at as u16,
            csum_offset: 16,
        });
        self.stats.tx_tso += 1;
        self.send_tx(VNET + len);
        Some(r)
    }
}
