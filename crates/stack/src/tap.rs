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

use crate::device::{Device, DeviceCaps, RxInfo, Tso};

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
/// `VIRTIO_NET_HDR_F_DATA_VALID`: the kernel verified the checksum.
const F_DATA_VALID: u8 = 2;
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
    /// Frames read whose TCP or UDP checksum the device vouched for without a pass over
    /// the data (through [`Device::receive_info`]: partial from the host's own stack, or
    /// verified by the kernel).
    pub rx_csum_trusted: u64,
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
    ///
    /// Below a millisecond the wait is a `ppoll` on the device alone, to the nanosecond:
    /// `poll(2)` would round it up to a whole millisecond, and at a TAP's tens of
    /// microseconds of RTT the stack's deadlines (pacing, RACK's reordering window, delayed
    /// ACKs of a fast peer) are that short. The interrupt event is not watched for so short
    /// a wait; the caller looks at it when the wait returns.
    pub fn wait(&mut self, timeout: StdDuration) {
        // An error (say, an interrupted poll) is a spurious wakeup: the caller polls anyway.
        if timeout < StdDuration::from_millis(1) {
            use rustix::event::{PollFd, PollFlags, Timespec, poll};
            let mut fds = [PollFd::new(&self.dev, PollFlags::IN)];
            let ts = Timespec {
                tv_sec: 0,
                tv_nsec: i64::from(timeout.subsec_nanos()),
            };
            let _ = poll(&mut fds, Some(&ts));
            return;
        }
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

    /// Read the next frame into `rx`: where it starts, its length, and what the kernel said
    /// of its checksum. With `trust`, a TCP or UDP checksum the kernel left partial is left
    /// so and vouched for (the frame came from this host's stack and crossed no wire: Linux
    /// treats such a packet as verified, `CHECKSUM_PARTIAL`), as is one the kernel marked
    /// `DATA_VALID`; without it, a partial checksum is completed so that whoever reads the
    /// frame (a recorder, a corrupting wrapper, the stack) sees a real one.
    fn next_frame(&mut self, trust: bool) -> Option<(usize, usize, RxInfo)> {
        loop {
            let n = self.dev.recv(&mut self.rx).ok()?;
            self.stats.rx_frames += 1;
            if !self.offload {
                return Some((0, n.min(self.rx.len()), RxInfo::default()));
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
            let mut info = RxInfo::default();
            if hdr.flags & F_NEEDS_CSUM != 0 {
                if trust && Self::l4_partial(&hdr, frame) {
                    self.stats.rx_csum_trusted += 1;
                    info.l4_checksum_valid = true;
                } else if Self::complete_checksum(&hdr, frame) {
                    self.stats.rx_csum_completed += 1;
                } else {
                    self.stats.rx_malformed += 1;
                    continue;
                }
            } else if trust && hdr.flags & F_DATA_VALID != 0 {
                self.stats.rx_csum_trusted += 1;
                info.l4_checksum_valid = true;
            }
            return Some((VNET, n - VNET, info));
        }
    }

    /// Whether a partial checksum is the TCP or UDP checksum of an unfragmented IPv4 packet
    /// behind an untagged Ethernet header (the only kind the stack may leave unverified).
    fn l4_partial(hdr: &VirtioNetHdr, frame: &[u8]) -> bool {
        let Some(Ok(ip)) = frame.get(ETH..).map(Ipv4Packet::new_checked) else {
            return false;
        };
        let l4 = ETH + ip.header_len();
        let offset = match ip.protocol() {
            Protocol::Tcp => 16,
            Protocol::Udp => 6,
            _ => return false,
        };
        frame.get(12..14) == Some(&[0x08, 0x00][..])
            && usize::from(hdr.csum_start) == l4
            && usize::from(hdr.csum_offset) == offset
            && !ip.is_fragment()
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
        let (at, len, _) = self.next_frame(false)?;
        Some(f(&mut self.rx[at..at + len]))
    }

    fn receive_info<R>(
        &mut self,
        _now: Duration,
        f: impl FnOnce(&mut [u8], RxInfo) -> R,
    ) -> Option<R> {
        let (at, len, info) = self.next_frame(true)?;
        Some(f(&mut self.rx[at..at + len], info))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An untagged Ethernet frame with an IPv4 header (checksum right) and `l4` bytes of
    /// `protocol` payload.
    fn frame(protocol: u8, frag: u16, l4: usize) -> Vec<u8> {
        let mut f = vec![0u8; ETH + 20 + l4];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        let ip = &mut f[ETH..ETH + 20];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&((20 + l4) as u16).to_be_bytes());
        ip[6..8].copy_from_slice(&frag.to_be_bytes());
        ip[8] = 64;
        ip[9] = protocol;
        ip[12..16].copy_from_slice(&[192, 0, 2, 1]);
        ip[16..20].copy_from_slice(&[192, 0, 2, 2]);
        let sum = checksum::data(ip);
        ip[10..12].copy_from_slice(&(!sum).to_be_bytes());
        f
    }

    fn hdr(csum_start: u16, csum_offset: u16) -> VirtioNetHdr {
        VirtioNetHdr {
            flags: F_NEEDS_CSUM,
            csum_start,
            csum_offset,
            ..VirtioNetHdr::default()
        }
    }

    #[test]
    fn only_an_unfragmented_tcp_or_udp_checksum_is_vouched_for() {
        let l4 = (ETH + 20) as u16;
        assert!(TapDevice::l4_partial(&hdr(l4, 16), &frame(6, 0x4000, 40)));
        assert!(TapDevice::l4_partial(&hdr(l4, 6), &frame(17, 0, 16)));
        // Another protocol, a field elsewhere, a fragment (more fragments, or an offset).
        assert!(!TapDevice::l4_partial(&hdr(l4, 2), &frame(1, 0, 16)));
        assert!(!TapDevice::l4_partial(&hdr(l4, 6), &frame(6, 0, 40)));
        assert!(!TapDevice::l4_partial(&hdr(l4 + 4, 16), &frame(6, 0, 40)));
        assert!(!TapDevice::l4_partial(&hdr(l4, 6), &frame(17, 0x2000, 16)));
        assert!(!TapDevice::l4_partial(&hdr(l4, 6), &frame(17, 0x0001, 16)));
        // Not IPv4 behind an untagged header, or not a valid IPv4 header.
        let mut tagged = frame(6, 0, 40);
        tagged[12..14].copy_from_slice(&[0x81, 0x00]);
        assert!(!TapDevice::l4_partial(&hdr(l4, 16), &tagged));
        let mut broken = frame(6, 0, 40);
        broken[ETH] = 0x44; // IHL 4: shorter than the fixed header
        assert!(!TapDevice::l4_partial(&hdr(l4, 16), &broken));
        assert!(!TapDevice::l4_partial(&hdr(l4, 16), &frame(6, 0, 40)[..20]));
    }
}
