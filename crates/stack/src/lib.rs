//! The assembled unistack: an [`Interface`] that moves Ethernet frames between a [`Device`]
//! and TCP/UDP sockets, with ARP, IPv4 reassembly and ICMP (echo replies, rate-limited port
//! unreachable) wired in.
//!
//! Sans-IO at its core: [`Interface::poll`] takes the time and a device, and
//! [`Interface::poll_at`] says when to call it again. Devices lend their buffers
//! ([`Device::receive`], [`Device::transmit`]), so a received segment is parsed in place and a
//! transmitted one is written straight into the device's buffer: the only payload copies are
//! socket buffer ↔ device buffer.
//!
//! # What is here
//! - [`Interface`]: static addressing ([`InterfaceConfig`]), next hop via the subnet or a
//!   gateway, the ARP cache (packets wait for resolution in it; sockets keep their segments in
//!   their own buffers meanwhile), reassembly, ICMP echo and port unreachable (rate-limited),
//!   TCP resets for segments no socket owns.
//! - Sockets: TCP connections and listeners from `unistack-tcp` (a listener has a pool of
//!   closed sockets for the connections it accepts), UDP sockets ([`UdpSocket`]: a
//!   [`PacketRing`] each way in caller-provided storage, read and written in place), and a DNS
//!   client socket ([`DnsSocket`]: the dns crate's stub resolver on the interface's UDP,
//!   and TCP after a truncated answer; see [`dns`]).
//!   Demultiplexing is a keyed-hash lookup on the 4-tuple (the key is the interface secret,
//!   so peers cannot aim for collisions), then a hashed lookup of the port among those bound
//!   (constant time per packet), and only
//!   sockets with work — touched by a packet or the app, or whose deadline passed (a heap of
//!   deadlines) — are visited on transmit: a poll costs what happened, not the socket count.
//! - Devices: [`Loopback`], [`PipeEnd`] (an in-memory cable joining two interfaces) and
//!   [`FaultInjector`] (seeded drop, duplication, reordering, corruption around any device),
//!   [`Netfront`] and [`Netback`] (Xen's paravirtual network device and its peer, over the
//!   netif rings and grant pages of `unistack-vchan`, in one process or across processes:
//!   see [`netfront`]); with `std`, `TapDevice` (Linux; with `IFF_VNET_HDR`, checksum
//!   offload and TSO on request, so TCP crosses it in segments of up to 64 KiB both ways) and
//!   `Recorder`, which writes any
//!   device's traffic as a pcap capture.
//! - With `std` on Linux, `netns`: throwaway network namespaces (`ip netns`) for the root-only
//!   tests and benches that put a TAP device or a veth pair in one.
//!
//! # Features
//! The core needs `alloc` (socket tables, ARP-queued packets). `std` (default) adds nothing
//! yet beyond the dependencies' own.
//!
//! # Not supported yet
//! Batched (several frames per system call) TAP I/O, netif scatter-gather/GSO and
//! multi-queue, ICMP errors delivered to sockets, DHCP, IPv6. TCP never
//! fragments (its MSS follows the MTU); UDP datagrams larger than the MTU leave as IPv4
//! fragments.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod device;
pub mod dns;
mod iface;
pub mod netfront;
#[cfg(all(feature = "std", target_os = "linux"))]
pub mod netns;
#[cfg(feature = "std")]
mod pcap;
#[cfg(all(feature = "std", target_os = "linux"))]
mod tap;
mod udp;

pub use device::{
    Device, DeviceCaps, FaultInjector, FaultStats, Faults, Loopback, PipeEnd, RxInfo, Tso,
};
pub use dns::{DnsSocket, DnsSocketStats};
pub use iface::{
    Interface, InterfaceConfig, InterfaceStats, ListenerHandle, SocketError, TcpHandle, UdpHandle,
};
pub use netfront::{NetConfig, NetStats, Netback, Netfront};
#[cfg(feature = "std")]
pub use pcap::{PcapWriter, Recorder};
#[cfg(all(feature = "std", target_os = "linux"))]
pub use tap::{TapDevice, TapStats, VirtioNetHdr};
pub use udp::{Datagram, MAX_PAYLOAD, PacketMeta, PacketRing, UdpError, UdpSocket};
