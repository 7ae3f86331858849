//! IPv4, ICMPv4, UDP, the Internet checksum, fragmentation and reassembly on cstruct views.
//!
//! Every layer has the same shape:
//! - a view, derived with `unistack-cstruct` ([`Ipv4Packet`], [`UdpPacket`], [`Icmpv4Packet`]):
//!   `new_checked(buf)` is the one length check, after which getters (named after the RFC
//!   fields) and `payload()` borrow from the buffer without copying;
//! - a typed `Repr` ([`Ipv4Repr`], [`UdpRepr`], [`Icmpv4Repr`]) whose `parse` does every
//!   semantic check in one place and returns a typed [`Error`], and whose `emit` writes a
//!   header that cannot fail when the buffer has `buffer_len()` bytes;
//! - a tcpdump-style `Display` on views and reprs.
//!
//! ```
//! use unistack_ipv4::{ChecksumCaps, Icmpv4Packet, Icmpv4Repr, Ipv4Packet, Ipv4Repr};
//!
//! // An echo request as Linux `ping -c1 -s 8 192.0.2.2` sends it.
//! let bytes: &[u8] = &[
//!     0x45, 0x00, 0x00, 0x24, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0xa4, 0xa1, // IPv4
//!     192, 0, 2, 1, 192, 0, 2, 2,
//!     0x08, 0x00, 0x66, 0x67, 0x00, 0x01, 0x00, 0x02, // ICMP echo request, id 1, seq 2
//!     0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, // data "abcdefgh"
//! ];
//! let caps = ChecksumCaps::default();
//! let ip = Ipv4Packet::new_checked(bytes)?;
//! let ip_repr = Ipv4Repr::parse(&ip, &caps)?;
//! let icmp = Icmpv4Packet::new_checked(ip.payload())?;
//! let icmp_repr = Icmpv4Repr::parse(&icmp, &caps)?;
//! assert_eq!(ip_repr.src_addr.to_string(), "192.0.2.1");
//! assert_eq!(
//!     ip.to_string(),
//!     "IP 192.0.2.1 > 192.0.2.2: ICMP echo request, id 1, seq 2, length 16"
//! );
//!
//! // Answer it in a caller-provided buffer, without allocating.
//! let config = unistack_ipv4::EchoConfig { addr: ip_repr.dst_addr, ttl: 64, caps };
//! let mut out = [0u8; 64];
//! let n = unistack_ipv4::echo_reply(&config, &ip_repr, &icmp_repr, 7, &mut out)?;
//! let reply = Ipv4Packet::new_checked(&out[..n])?;
//! assert_eq!(
//!     reply.to_string(),
//!     "IP 192.0.2.2 > 192.0.2.1: ICMP echo reply, id 1, seq 2, length 16"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Contents
//! - [`checksum`]: the Internet checksum (RFC 1071) with a wide, vectorisable inner loop,
//!   RFC 1624 incremental updates, the TCP/UDP pseudo-header, and [`ChecksumCaps`] for
//!   devices that offload checksums.
//! - [`Ipv4Address`], [`Ipv4Cidr`].
//! - IPv4 ([`Ipv4Repr`]): version, IHL ≥ 5, total length against the buffer (link padding
//!   ignored), header checksum, options framing ([`Ipv4Options`], skipped safely and emitted
//!   when present in the repr), fragment fields.
//! - UDP ([`UdpRepr`]): length ≥ 8 and ≤ buffer (bytes past it ignored); a zero checksum means
//!   "not computed" and is accepted; a computed zero is sent as `0xffff`.
//! - ICMPv4 ([`Icmpv4Repr`]): echo request/reply, destination unreachable (all codes kept),
//!   time exceeded; the quoted datagram of an error as bytes and as an [`Ipv4Packet`] view
//!   ([`Icmpv4Quote`]); an echo responder ([`echo_reply`], [`respond_to_echo`]) that builds
//!   the reply in a caller buffer.
//! - [`Fragmenter`]: fragmentation on emit respecting MTU and DF (RFC 791).
//! - [`Reassembler`]: sans-IO reassembly bounded in slots, bytes, fragments and time (RFC
//!   791/815), with a drop-the-datagram policy for overlaps (see [`reassembly`]).
//!
//! # Features
//! - `alloc`: adds nothing yet; it enables the same feature of `unistack-cstruct`.
//! - `std` (default): on x86-64, [`checksum::data`] checks once (cached by the standard
//!   library) whether the CPU has AVX2 and then runs an AVX2 build of the same loop for
//!   buffers of 128 bytes or more. Without `std` the loop is built for the target's own
//!   features (`-C target-cpu`). The crate is `#![no_std]` and needs no allocator.
//!
//! # Unsafe code
//! None, except the one call into that AVX2 build (`checksum::avx2`): calling a
//! `#[target_feature]` function is `unsafe`, and it is made only after the run-time check.
//! A test compares both builds at every length and alignment.
//!
//! # Fuzzing
//! Built with `cfg(fuzzing)` (as `cargo fuzz` builds), received checksums are never verified
//! ([`Checksum::rx`] returns `false`), so fuzzers reach the code behind them. Emitted
//! checksums are still computed.
//!
//! # Panics
//! Nothing reachable from received bytes panics: parsing, printing, the echo responder and
//! the reassembler return typed errors. The only panics are caller bugs, documented on the
//! functions: `emit` into a buffer shorter than `buffer_len()` (as with any view built by
//! `new_unchecked` over a short buffer).
//!
//! # Not supported
//! - Interpreting option contents (record route, timestamps, source routing): options are
//!   checked for framing, kept, copied into fragments by their "copied" bit, and otherwise
//!   ignored. Source-routed datagrams are not forwarded or answered specially.
//! - ICMP types other than echo, destination unreachable and time exceeded parse as
//!   [`Error::Unsupported`] (the views still read them); RFC 4884 extensions are kept as
//!   quoted bytes, not parsed. No ICMP error is generated automatically (the caller builds
//!   them with [`Icmpv4Repr::emit`] and [`Icmpv4Quote::from_datagram`]).
//! - The echo responder does not echo request options and ignores broadcast and multicast
//!   requests.
//! - UDP-Lite, IPv6, IGMP, routing and forwarding.

#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod address;
#[cfg(feature = "std")]
extern crate std;

pub mod checksum;
pub mod error;
pub mod frag;
pub mod icmp;
pub mod ipv4;
pub mod reassembly;
pub mod udp;
pub mod wire;

pub use address::{AddrParseError, Ipv4Address, Ipv4Cidr};
pub use checksum::{Checksum, ChecksumCaps};
pub use error::Error;
pub use frag::{FragmentError, Fragmenter};
pub use icmp::{EchoConfig, EchoError, Icmpv4Quote, Icmpv4Repr, echo_reply, respond_to_echo};
pub use ipv4::{Ipv4Option, Ipv4OptionKind, Ipv4Options, Ipv4Repr};
pub use reassembly::{FragKey, Reassembled, Reassembler, ReassemblyError};
pub use udp::UdpRepr;
pub use wire::{
    DstUnreachable, Ecn, Icmpv4EchoHeader, Icmpv4EchoPacket, Icmpv4ErrorHeader, Icmpv4ErrorPacket,
    Icmpv4Header, Icmpv4Message, Icmpv4Packet, Ipv4Header, Ipv4Packet, Protocol, TimeExceeded,
    UdpHeader, UdpPacket,
};
