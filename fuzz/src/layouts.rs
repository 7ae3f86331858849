//! Layouts the fuzz targets exercise: every field kind, both byte orders, both length tails.

use unistack_cstruct::{CEnum, Cstruct};

/// IP protocol numbers.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Protocol {
    /// ICMP.
    Icmp = 1,
    /// TCP.
    Tcp = 6,
    /// UDP.
    Udp = 17,
    /// Anything else.
    Unknown(u8),
}

/// A 16-bit code point.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Kind {
    /// IPv4.
    Ipv4 = 0x0800,
    /// ARP.
    Arp = 0x0806,
    /// Anything else.
    Unknown(u16),
}

/// The IPv4 header with both length tails.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = Ipv4Packet, header_len = ihl * 4, total_len = total_len)]
pub struct Ipv4Header {
    #[bits(4)]
    pub version: u8,
    #[bits(4)]
    pub ihl: u8,
    #[bits(6)]
    pub dscp: u8,
    #[bits(2)]
    pub ecn: u8,
    pub total_len: u16,
    pub ident: u16,
    #[bits(3)]
    pub flags: u8,
    #[bits(13)]
    pub frag_offset: u16,
    pub ttl: u8,
    pub protocol: Protocol,
    pub checksum: u16,
    pub src: [u8; 4],
    pub dst: [u8; 4],
}

/// The TCP header with its options tail.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = TcpSegment, header_len = data_offset * 4)]
pub struct TcpHeader {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    #[bits(4)]
    pub data_offset: u8,
    #[bits(12)]
    pub flags: u16,
    pub window: u16,
    pub checksum: u16,
    pub urgent: u16,
}

/// An Ethernet header, nested below.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Eth {
    pub dst: [u8; 6],
    pub src: [u8; 6],
    pub ethertype: Kind,
}

/// A little-endian record with LSB-first bitfields.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(little)]
pub struct LittleRecord {
    pub id: u64,
    #[bits(3)]
    pub kind: u8,
    #[bits(21)]
    pub len: u32,
    #[cstruct(big)]
    pub port: u16,
}

/// Every field kind at once.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Everything {
    pub tag: u16,
    pub eth: Eth,
    pub kind: Kind,
    #[bits(12)]
    pub a: u16,
    #[bits(28)]
    pub b: u32,
    #[bits(1)]
    pub flag: bool,
    #[bits(63)]
    pub wide: u64,
    pub little: LittleRecord,
    pub tail: [u8; 3],
}
