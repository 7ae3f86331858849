//! Layouts shared by the integration tests: every field kind the derive supports.
#![allow(dead_code)]

use unistack_cstruct::{CEnum, Cstruct};

/// IP protocol numbers.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Protocol {
    #[cenum(display = "ICMP")]
    Icmp = 1,
    #[cenum(display = "TCP")]
    Tcp = 6,
    #[cenum(display = "UDP")]
    Udp = 17,
    Unknown(u8),
}

/// EtherType (16 bits).
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum EtherType {
    Ipv4 = 0x0800,
    Arp = 0x0806,
    Vlan = 0x8100,
    Ipv6 = 0x86dd,
    Unknown(u16),
}

/// The ECN code point (2 bits, used in a bitfield).
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Ecn {
    NotEct = 0,
    Ect1 = 1,
    Ect0 = 2,
    Ce = 3,
    Unknown(u8),
}

/// IPv4 header, RFC 791.
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
    pub ecn: Ecn,
    pub total_len: u16,
    pub ident: u16,
    #[bits(1)]
    pub reserved: bool,
    #[bits(1)]
    pub dont_frag: bool,
    #[bits(1)]
    pub more_frags: bool,
    #[bits(13)]
    pub frag_offset: u16,
    pub ttl: u8,
    pub protocol: Protocol,
    pub checksum: u16,
    pub src: [u8; 4],
    pub dst: [u8; 4],
}

/// TCP header, RFC 9293.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = TcpSegment, header_len = data_offset * 4)]
pub struct TcpHeader {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    #[bits(4)]
    pub data_offset: u8,
    #[bits(4)]
    pub reserved: u8,
    #[bits(1)]
    pub cwr: bool,
    #[bits(1)]
    pub ece: bool,
    #[bits(1)]
    pub urg: bool,
    #[bits(1)]
    pub ack_flag: bool,
    #[bits(1)]
    pub psh: bool,
    #[bits(1)]
    pub rst: bool,
    #[bits(1)]
    pub syn: bool,
    #[bits(1)]
    pub fin: bool,
    pub window: u16,
    pub checksum: u16,
    pub urgent: u16,
}

/// Ethernet II header, nested below.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
pub struct EthHeader {
    pub dst: [u8; 6],
    pub src: [u8; 6],
    pub ethertype: EtherType,
}

/// A little-endian layout in the style of a Xen ring structure: LSB-first bitfields in a
/// 3-byte group, a CEnum inside a bitfield, and one big-endian field overriding the default.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(little)]
pub struct LittleRecord {
    pub id: u64,
    pub len: u32,
    #[bits(2)]
    pub ecn: Ecn,
    #[bits(10)]
    pub small: u16,
    #[bits(12)]
    pub rest: u16,
    #[cstruct(big)]
    pub port_be: u16,
    pub kind: EtherType,
    pub flags: u8,
}

/// Nesting, odd-width groups, a 64-bit bitfield group, a constant-sized array.
pub const TAIL: usize = 3;

#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mixed {
    pub tag: u16,
    pub eth: EthHeader,
    pub tail: [u8; TAIL],
    #[bits(12)]
    pub a: u16,
    #[bits(28)]
    pub b: u32,
    #[bits(1)]
    pub top: bool,
    #[bits(63)]
    pub wide: u64,
    pub tcp: TcpHeader,
    pub last: u32,
}

/// Frame bytes: an IPv4/TCP SYN from 192.0.2.1:51000 to 192.0.2.2:80 with MSS, SACK-permitted,
/// timestamps and window scale options (as Linux sends), then Ethernet padding.
pub const SYN: [u8; 62] = [
    // IPv4: version 4, IHL 5, DSCP 0, ECN 0, total length 60, ident 0x1c46, DF, TTL 64, TCP
    0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0x9b, 0x6d, 192, 0, 2, 1, 192, 0, 2,
    2, // TCP: 51000 -> 80, seq 0x12345678, ack 0, data offset 10, SYN, window 64240
    0xc7, 0x38, 0x00, 0x50, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0,
    0x5d, 0x1a, 0x00, 0x00, // options: MSS 1460, SACK permitted, timestamps, NOP, WS 7
    0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x9d, 0x5c, 0x2e, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x03, 0x03, 0x07, // Ethernet padding
    0xee, 0xee,
];
