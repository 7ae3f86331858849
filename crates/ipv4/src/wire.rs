//! Wire layouts (derived views) and code points.
//!
//! Every header here is declared once as a `#[derive(Cstruct)]` struct; the derive writes the
//! view (`Ipv4Packet`, `UdpPacket`, `Icmpv4Packet`, …) with its one length check, getters and
//! setters. This module adds only what the derive cannot know: typed address accessors and
//! checksum helpers.

use unistack_cstruct::{CEnum, Cstruct};

use crate::address::Ipv4Address;
use crate::checksum;

/// An IP protocol number (IANA "Assigned Internet Protocol Numbers"); unknown values are kept.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Protocol {
    /// ICMP, RFC 792.
    #[cenum(display = "ICMP")]
    Icmp = 1,
    /// IGMP, RFC 1112.
    #[cenum(display = "IGMP")]
    Igmp = 2,
    /// TCP, RFC 9293.
    #[cenum(display = "TCP")]
    Tcp = 6,
    /// UDP, RFC 768.
    #[cenum(display = "UDP")]
    Udp = 17,
    /// IPv6 encapsulated in IPv4, RFC 4213.
    #[cenum(display = "IPv6")]
    Ipv6 = 41,
    /// GRE, RFC 2784.
    #[cenum(display = "GRE")]
    Gre = 47,
    /// ESP, RFC 4303.
    #[cenum(display = "ESP")]
    Esp = 50,
    /// AH, RFC 4302.
    #[cenum(display = "AH")]
    Ah = 51,
    /// SCTP, RFC 9260.
    #[cenum(display = "SCTP")]
    Sctp = 132,
    /// Any other protocol number.
    Unknown(u8),
}

/// Explicit Congestion Notification code point (RFC 3168), two bits.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum Ecn {
    /// Not ECN-capable transport.
    #[default]
    NotEct = 0,
    /// ECN-capable transport, ECT(1).
    Ect1 = 1,
    /// ECN-capable transport, ECT(0).
    Ect0 = 2,
    /// Congestion experienced.
    Ce = 3,
    /// Unreachable for a two-bit field; required by the derive.
    Unknown(u8),
}

/// The fixed part of an IPv4 header (RFC 791 §3.1), drawn MSB-first; options follow up to
/// `ihl * 4` bytes and the packet ends at `total_len` (trailing link padding is not payload).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = Ipv4Packet, header_len = ihl * 4, total_len = total_len)]
pub struct Ipv4Header {
    /// Version, 4.
    #[bits(4)]
    pub version: u8,
    /// Header length in 32-bit words (5 to 15).
    #[bits(4)]
    pub ihl: u8,
    /// Differentiated services code point (RFC 2474).
    #[bits(6)]
    pub dscp: u8,
    /// ECN (RFC 3168).
    #[bits(2)]
    pub ecn: Ecn,
    /// Length of the datagram, header included, in bytes.
    pub total_len: u16,
    /// Identification, for reassembly.
    pub ident: u16,
    /// Reserved flag; must be zero.
    #[bits(1)]
    pub reserved: bool,
    /// Don't Fragment.
    #[bits(1)]
    pub dont_frag: bool,
    /// More Fragments.
    #[bits(1)]
    pub more_frags: bool,
    /// Fragment offset in 8-byte units.
    #[bits(13)]
    pub frag_offset: u16,
    /// Time to live.
    pub ttl: u8,
    /// Protocol of the payload.
    pub protocol: Protocol,
    /// Header checksum.
    pub checksum: u16,
    /// Source address.
    pub src: [u8; 4],
    /// Destination address.
    pub dst: [u8; 4],
}

impl<B: AsRef<[u8]>> Ipv4Packet<B> {
    /// Return the source address.
    #[inline]
    pub fn src_addr(&self) -> Ipv4Address {
        Ipv4Address(*self.src())
    }

    /// Return the destination address.
    #[inline]
    pub fn dst_addr(&self) -> Ipv4Address {
        Ipv4Address(*self.dst())
    }

    /// Return the fragment offset in bytes.
    #[inline]
    pub fn frag_offset_bytes(&self) -> usize {
        usize::from(self.frag_offset()) * 8
    }

    /// Whether this is a fragment (More Fragments set or a non-zero offset).
    #[inline]
    pub fn is_fragment(&self) -> bool {
        self.more_frags() || self.frag_offset() != 0
    }

    /// Whether the header checksum is correct (the header's ones' complement sum is `0xffff`).
    #[inline]
    pub fn verify_checksum(&self) -> bool {
        checksum::verify(self.header())
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<B> {
    /// Set the source address.
    #[inline]
    pub fn set_src_addr(&mut self, addr: Ipv4Address) {
        self.set_src(&addr.0);
    }

    /// Set the destination address.
    #[inline]
    pub fn set_dst_addr(&mut self, addr: Ipv4Address) {
        self.set_dst(&addr.0);
    }

    /// Compute the header checksum and write it.
    #[inline]
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.header());
        self.set_checksum(c);
    }
}

/// A UDP header (RFC 768); the datagram ends at `len` (header included).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = UdpPacket, total_len = len)]
pub struct UdpHeader {
    /// Source port (0: none).
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Length of header and data in bytes (at least 8).
    pub len: u16,
    /// Checksum over the pseudo-header, header and data (0: not computed).
    pub checksum: u16,
}

impl<B: AsRef<[u8]>> UdpPacket<B> {
    /// Whether the checksum is correct for these addresses. A zero checksum means "not
    /// computed" (RFC 768) and is accepted.
    #[inline]
    pub fn verify_checksum(&self, src: Ipv4Address, dst: Ipv4Address) -> bool {
        if self.checksum() == 0 {
            return true;
        }
        let bytes = unistack_cstruct::bytes::range(self.as_bytes(), 0, self.packet_len());
        let sum = checksum::Sum::new()
            .add_sum(checksum::pseudo_header(
                src,
                dst,
                Protocol::Udp,
                bytes.len() as u16,
            ))
            .add_bytes(bytes)
            .finish();
        sum == 0xffff
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<B> {
    /// Compute the checksum for these addresses and write it (a computed zero is sent as
    /// `0xffff`, RFC 768, since zero means "not computed").
    #[inline]
    pub fn fill_checksum(&mut self, src: Ipv4Address, dst: Ipv4Address) {
        self.set_checksum(0);
        let len = self.packet_len();
        let bytes = unistack_cstruct::bytes::range(self.as_bytes(), 0, len);
        let sum = checksum::Sum::new()
            .add_sum(checksum::pseudo_header(src, dst, Protocol::Udp, len as u16))
            .add_bytes(bytes)
            .finish();
        let c = !sum;
        self.set_checksum(if c == 0 { 0xffff } else { c });
    }
}

/// An ICMPv4 message type (RFC 792 and later); unknown values are kept.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Icmpv4Message {
    /// Echo reply.
    #[cenum(display = "echo reply")]
    EchoReply = 0,
    /// Destination unreachable.
    #[cenum(display = "destination unreachable")]
    DstUnreachable = 3,
    /// Redirect.
    #[cenum(display = "redirect")]
    Redirect = 5,
    /// Echo request.
    #[cenum(display = "echo request")]
    EchoRequest = 8,
    /// Router advertisement (RFC 1256).
    #[cenum(display = "router advertisement")]
    RouterAdvert = 9,
    /// Router solicitation (RFC 1256).
    #[cenum(display = "router solicitation")]
    RouterSolicit = 10,
    /// Time exceeded.
    #[cenum(display = "time exceeded")]
    TimeExceeded = 11,
    /// Parameter problem.
    #[cenum(display = "parameter problem")]
    ParamProblem = 12,
    /// Timestamp request.
    #[cenum(display = "timestamp request")]
    Timestamp = 13,
    /// Timestamp reply.
    #[cenum(display = "timestamp reply")]
    TimestampReply = 14,
    /// Any other type.
    Unknown(u8),
}

/// Destination Unreachable codes (RFC 792, RFC 1122, RFC 1812); unknown values are kept.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum DstUnreachable {
    /// Net unreachable.
    NetUnreachable = 0,
    /// Host unreachable.
    HostUnreachable = 1,
    /// Protocol unreachable.
    ProtoUnreachable = 2,
    /// Port unreachable.
    PortUnreachable = 3,
    /// Fragmentation needed and DF set (the next-hop MTU is in the header, RFC 1191).
    FragRequired = 4,
    /// Source route failed.
    SrcRouteFailed = 5,
    /// Destination network unknown.
    DstNetUnknown = 6,
    /// Destination host unknown.
    DstHostUnknown = 7,
    /// Source host isolated.
    SrcHostIsolated = 8,
    /// Network administratively prohibited.
    NetProhibited = 9,
    /// Host administratively prohibited.
    HostProhibited = 10,
    /// Network unreachable for the type of service.
    NetUnreachToS = 11,
    /// Host unreachable for the type of service.
    HostUnreachToS = 12,
    /// Communication administratively prohibited (RFC 1812).
    CommProhibited = 13,
    /// Host precedence violation.
    HostPrecedenceViolation = 14,
    /// Precedence cutoff in effect.
    PrecedenceCutoff = 15,
    /// Any other code.
    Unknown(u8),
}

/// Time Exceeded codes (RFC 792); unknown values are kept.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TimeExceeded {
    /// TTL reached zero in transit.
    TtlExpired = 0,
    /// Fragment reassembly time exceeded.
    FragExpired = 1,
    /// Any other code.
    Unknown(u8),
}

/// The common ICMPv4 header: type, code, checksum and four bytes whose meaning depends on the
/// type. The message is the whole buffer (ICMP has no length field).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = Icmpv4Packet)]
pub struct Icmpv4Header {
    /// Message type.
    pub msg_type: Icmpv4Message,
    /// Code (meaning depends on the type).
    pub code: u8,
    /// Checksum over the whole message.
    pub checksum: u16,
    /// The type-specific "rest of header".
    pub rest_of_header: u32,
}

/// An Echo Request or Echo Reply header (RFC 792); the payload is the echoed data.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = Icmpv4EchoPacket)]
pub struct Icmpv4EchoHeader {
    /// Echo request (8) or reply (0).
    pub msg_type: Icmpv4Message,
    /// Code, 0.
    pub code: u8,
    /// Checksum over the whole message.
    pub checksum: u16,
    /// Identifier.
    pub ident: u16,
    /// Sequence number.
    pub seq_no: u16,
}

/// A Destination Unreachable or Time Exceeded header (RFC 792, RFC 1191); the payload quotes
/// the offending datagram's IP header and at least its first 8 data bytes.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = Icmpv4ErrorPacket)]
pub struct Icmpv4ErrorHeader {
    /// Destination unreachable (3) or time exceeded (11).
    pub msg_type: Icmpv4Message,
    /// Code.
    pub code: u8,
    /// Checksum over the whole message.
    pub checksum: u16,
    /// Unused (zero); RFC 4884 puts a length in its low byte.
    pub unused: u16,
    /// Next-hop MTU for "fragmentation needed" (RFC 1191), else zero.
    pub next_hop_mtu: u16,
}

impl<B: AsRef<[u8]>> Icmpv4Packet<B> {
    /// Whether the checksum over the whole message is correct.
    #[inline]
    pub fn verify_checksum(&self) -> bool {
        checksum::verify(self.as_bytes())
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<B> {
    /// Compute the checksum over the whole message and write it.
    #[inline]
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.as_bytes());
        self.set_checksum(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unistack_cstruct::Span;

    #[test]
    fn layouts_match_the_rfc_diagrams() {
        assert_eq!(Ipv4Header::SIZE, 20);
        assert_eq!(Ipv4Header::FRAG_OFFSET, Span::bits(6, 2, 0, 13, false));
        assert_eq!(Ipv4Header::MORE_FRAGS, Span::bits(6, 2, 13, 1, false));
        assert_eq!(Ipv4Header::DST, Span::bytes(16, 4, false));
        assert_eq!(UdpHeader::SIZE, 8);
        assert_eq!(UdpHeader::CHECKSUM, Span::bytes(6, 2, false));
        assert_eq!(Icmpv4Header::SIZE, 8);
        assert_eq!(Icmpv4EchoHeader::SEQ_NO, Span::bytes(6, 2, false));
        assert_eq!(Icmpv4ErrorHeader::NEXT_HOP_MTU, Span::bytes(6, 2, false));
    }

    #[test]
    fn code_points_keep_unknown_values() {
        for raw in 0..=255u8 {
            assert_eq!(Protocol::from_raw(raw).to_raw(), raw);
            assert_eq!(Icmpv4Message::from_raw(raw).to_raw(), raw);
            assert_eq!(DstUnreachable::from_raw(raw).to_raw(), raw);
            assert_eq!(TimeExceeded::from_raw(raw).to_raw(), raw);
        }
        assert_eq!(Protocol::from_raw(17), Protocol::Udp);
        assert_eq!(Icmpv4Message::from_raw(8), Icmpv4Message::EchoRequest);
    }
}
