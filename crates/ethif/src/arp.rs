//! ARP for Ethernet and IPv4 (RFC 826): typed packets.

use core::fmt;

use crate::wire::{ArpHardware, ArpHeader, ArpOperation, ArpPacket, EtherType};
use crate::{Error, MacAddress};

/// An IPv4 address as ARP carries it. (This crate sits below `unistack-ipv4`; its
/// `Ipv4Address` converts from and to `[u8; 4]`.)
pub type ProtocolAddress = [u8; 4];

/// Dotted-quad display of a [`ProtocolAddress`].
#[derive(Clone, Copy)]
pub struct Dotted(pub ProtocolAddress);

impl fmt::Display for Dotted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

/// The operation of a supported ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArpOp {
    /// Who has `target_ip`? Tell `sender_ip`.
    Request,
    /// `sender_ip` is at `sender_mac`.
    Reply,
}

/// A validated ARP packet for Ethernet/IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpRepr {
    /// Request or reply.
    pub op: ArpOp,
    /// Sender hardware address.
    pub sender_mac: MacAddress,
    /// Sender protocol address.
    pub sender_ip: ProtocolAddress,
    /// Target hardware address (all zero in a request).
    pub target_mac: MacAddress,
    /// Target protocol address.
    pub target_ip: ProtocolAddress,
}

impl ArpRepr {
    /// The length of an Ethernet/IPv4 ARP packet.
    pub const LEN: usize = ArpHeader::SIZE;

    /// A request from `(sender_mac, sender_ip)` for `target_ip`.
    pub const fn request(
        sender_mac: MacAddress,
        sender_ip: ProtocolAddress,
        target_ip: ProtocolAddress,
    ) -> Self {
        ArpRepr {
            op: ArpOp::Request,
            sender_mac,
            sender_ip,
            target_mac: MacAddress::UNSPECIFIED,
            target_ip,
        }
    }

    /// Validate a checked view.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for hardware other than Ethernet, protocols other than IPv4,
    /// address lengths other than 6 and 4, or operations other than request and reply;
    /// [`Error::Malformed`] for a multicast or broadcast sender hardware address (no host
    /// owns one; such packets are a poisoning attempt or garbage).
    #[inline]
    pub fn parse<T: AsRef<[u8]>>(p: &ArpPacket<T>) -> Result<Self, Error> {
        if p.htype() != ArpHardware::Ethernet
            || p.ptype() != EtherType::Ipv4
            || p.hlen() != 6
            || p.plen() != 4
        {
            return Err(Error::Unsupported);
        }
        let op = match p.oper() {
            ArpOperation::Request => ArpOp::Request,
            ArpOperation::Reply => ArpOp::Reply,
            ArpOperation::Unknown(_) => return Err(Error::Unsupported),
        };
        let sender_mac = MacAddress(*p.sha());
        if sender_mac.is_multicast() {
            return Err(Error::Malformed);
        }
        Ok(ArpRepr {
            op,
            sender_mac,
            sender_ip: *p.spa(),
            target_mac: MacAddress(*p.tha()),
            target_ip: *p.tpa(),
        })
    }

    /// Parse the payload of an ARP frame (trailing padding ignored).
    ///
    /// # Errors
    /// [`Error::Truncated`] below 28 bytes, else as [`parse`](Self::parse).
    #[inline]
    pub fn parse_bytes(buf: &[u8]) -> Result<Self, Error> {
        ArpRepr::parse(&ArpPacket::new_checked(buf)?)
    }

    /// The bytes [`emit`](Self::emit) needs.
    pub const fn buffer_len(&self) -> usize {
        Self::LEN
    }

    /// Write the packet into a view over at least [`Self::LEN`] bytes.
    #[inline]
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut ArpPacket<T>) {
        p.set_htype(ArpHardware::Ethernet);
        p.set_ptype(EtherType::Ipv4);
        p.set_hlen(6);
        p.set_plen(4);
        p.set_oper(match self.op {
            ArpOp::Request => ArpOperation::Request,
            ArpOp::Reply => ArpOperation::Reply,
        });
        p.set_sha(&self.sender_mac.0);
        p.set_spa(&self.sender_ip);
        p.set_tha(&self.target_mac.0);
        p.set_tpa(&self.target_ip);
    }

    /// Write the packet at the start of `buf`, returning its length.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `buf` is shorter than [`Self::LEN`].
    #[inline]
    pub fn emit_bytes(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let mut p = ArpPacket::new_checked(buf).map_err(|_| Error::BufferTooSmall)?;
        self.emit(&mut p);
        Ok(Self::LEN)
    }

    /// Whether this announces the sender's own address (gratuitous ARP: sender and target
    /// protocol addresses equal).
    pub fn is_gratuitous(&self) -> bool {
        self.sender_ip == self.target_ip
    }

    /// Whether this is an address probe (RFC 5227: sender protocol address 0.0.0.0).
    pub fn is_probe(&self) -> bool {
        self.sender_ip == [0; 4]
    }
}

/// Like tcpdump: `ARP, Request who-has 192.0.2.2 tell 192.0.2.1` / `ARP, Reply 192.0.2.2
/// is-at 4e:d6:5a:44:24:22`.
impl fmt::Display for ArpRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            ArpOp::Request => write!(
                f,
                "ARP, Request who-has {} tell {}",
                Dotted(self.target_ip),
                Dotted(self.sender_ip)
            ),
            ArpOp::Reply => write!(
                f,
                "ARP, Reply {} is-at {}",
                Dotted(self.sender_ip),
                self.sender_mac
            ),
        }
    }
}

impl<T: AsRef<[u8]>> fmt::Display for ArpPacket<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match ArpRepr::parse(self) {
            Ok(r) => write!(f, "{r}, length {}", self.as_bytes().len()),
            Err(e) => write!(
                f,
                "ARP, {} (hardware {}, protocol {}) [{e}]",
                self.oper(),
                self.htype(),
                self.ptype()
            ),
        }
    }
}
