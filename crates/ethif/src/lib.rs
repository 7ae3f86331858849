//! Ethernet II frames, 802.1Q/802.1ad VLAN tags and ARP for Ethernet/IPv4, on cstruct views,
//! with a sans-IO ARP cache.
//!
//! Every header is declared once in [`wire`] with `#[derive(Cstruct)]`; nothing here does
//! offset arithmetic by hand. Each layer has the same shape:
//! - a view (`EthernetFrame`, `ArpPacket`) built with `new_checked`, borrowing the buffer;
//! - a typed, validated `Repr` ([`EthernetRepr`], [`ArpRepr`]) with `parse` and `emit`;
//! - a tcpdump-style `Display` on both.
//!
//! ```
//! use unistack_ethif::{parse_frame, ArpRepr, EtherType};
//!
//! // A real ARP request captured between two Linux network namespaces.
//! let frame = [
//!     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x22, 0x44, 0x7b, 0x0d, 0x6f, 0x40, 0x08, 0x06,
//!     0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x22, 0x44, 0x7b, 0x0d, 0x6f, 0x40,
//!     192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 192, 0, 2, 2,
//! ];
//! let (eth, payload) = parse_frame(&frame)?;
//! assert_eq!(eth.ethertype, EtherType::Arp);
//! assert!(eth.dst.is_broadcast());
//! let arp = ArpRepr::parse_bytes(payload)?;
//! assert_eq!(arp.to_string(), "ARP, Request who-has 192.0.2.2 tell 192.0.2.1");
//! # Ok::<(), unistack_ethif::Error>(())
//! ```
//!
//! # The ARP cache
//! [`ArpCache`] is sans-IO: it is given time and packets and returns what to send. It holds at
//! most `N` entries and `Q` packets waiting for resolution (the caller picks what a waiting
//! packet is: a buffer index, a handle, or an owned packet with `alloc`). Its anti-poisoning
//! policy is documented on the type.
//!
//! # Features
//! - `alloc`, `std` (default): nothing yet beyond `unistack-cstruct`'s; the core never needs
//!   them.
//!
//! # Panics
//! None on any input. Views built with `new_checked` cannot panic; `Repr::emit` into a buffer
//! of `buffer_len()` bytes cannot fail.
//!
//! # Not supported
//! 802.3/LLC frames (an EtherType below 0x0600 is [`Error::Unsupported`]), more than two VLAN
//! tags, ARP for hardware other than Ethernet or protocols other than IPv4, RARP/InARP, and
//! the FCS (devices strip it). Frames shorter than 60 bytes are accepted; padding on transmit
//! is the device's job.
#![no_std]
#![forbid(unsafe_code)]

mod arp;
mod cache;
mod error;
mod ethernet;
mod mac;
pub mod wire;

pub use arp::{ArpOp, ArpRepr, Dotted, ProtocolAddress};
pub use cache::{ArpCache, ArpEvent, CacheStats, Config, Resolve};
pub use error::Error;
pub use ethernet::{EthernetRepr, MAX_VLAN_TAGS, MIN_FRAME_LEN, VlanTag, parse_frame};
pub use mac::{MacAddress, ParseMacError};
pub use wire::{ArpPacket, EtherType, EthernetFrame};
