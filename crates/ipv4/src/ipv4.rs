//! IPv4 datagrams: options, the typed header [`Ipv4Repr`], and tcpdump-style printing.

use core::fmt;

use unistack_cstruct::CEnum;

use crate::address::Ipv4Address;
use crate::checksum::{self, ChecksumCaps};
use crate::error::Error;
use crate::wire::{Ecn, Icmpv4Packet, Ipv4Header, Ipv4Packet, Protocol, UdpHeader, UdpPacket};

/// The largest IPv4 datagram, header included.
pub const MAX_DATAGRAM_LEN: usize = 65535;

/// The most option bytes a header can carry (IHL 15).
pub const MAX_OPTIONS_LEN: usize = 40;

/// An IPv4 option type (RFC 791 and the IANA registry); unknown values are kept.
///
/// The type's top bit is the "copied" flag: such options are repeated in every fragment.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Ipv4OptionKind {
    /// End of option list.
    #[cenum(display = "EOL")]
    EndOfList = 0,
    /// No operation (padding between options).
    #[cenum(display = "NOP")]
    Nop = 1,
    /// Record route.
    #[cenum(display = "RR")]
    RecordRoute = 7,
    /// Internet timestamp.
    #[cenum(display = "TS")]
    Timestamp = 68,
    /// Security (RFC 1108).
    #[cenum(display = "SEC")]
    Security = 130,
    /// Loose source and record route.
    #[cenum(display = "LSRR")]
    LooseSourceRoute = 131,
    /// Stream identifier.
    #[cenum(display = "SID")]
    StreamId = 136,
    /// Strict source and record route.
    #[cenum(display = "SSRR")]
    StrictSourceRoute = 137,
    /// Router alert (RFC 2113).
    #[cenum(display = "RA")]
    RouterAlert = 148,
    /// Any other option type.
    Unknown(u8),
}

/// One option of an IPv4 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Option<'a> {
    /// The option type.
    pub kind: Ipv4OptionKind,
    /// The option's value (after the type and length bytes; empty for NOP).
    pub data: &'a [u8],
    /// The whole option as on the wire (type, length and value).
    pub raw: &'a [u8],
}

impl Ipv4Option<'_> {
    /// Whether this option is copied into every fragment (the type's top bit).
    pub fn copied(&self) -> bool {
        self.kind.to_raw() & 0x80 != 0
    }
}

/// The options area of an IPv4 header: zero to 40 bytes, a multiple of 4, well-formed.
///
/// Well-formed means that, up to the first End-of-List option, every option other than NOP
/// has a length byte of at least 2 that stays inside the area. Bytes after End-of-List are
/// padding and are not inspected. Option contents (route pointers, timestamps) are not
/// interpreted.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ipv4Options<'a> {
    bytes: &'a [u8],
}

impl<'a> Ipv4Options<'a> {
    /// No options.
    pub const EMPTY: Ipv4Options<'static> = Ipv4Options { bytes: &[] };

    /// Check and wrap an options area.
    ///
    /// # Errors
    /// [`Error::BadLength`] if `bytes` is longer than 40 bytes or not a multiple of 4;
    /// [`Error::BadOption`] if an option is malformed.
    #[inline]
    pub fn new(bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_OPTIONS_LEN || !bytes.len().is_multiple_of(4) {
            return Err(Error::BadLength {
                len: bytes.len(),
                min: 0,
            });
        }
        let options = Ipv4Options { bytes };
        let mut it = options.iter();
        for _ in &mut it {}
        match it.error {
            Some(offset) => Err(Error::BadOption { offset }),
            None => Ok(options),
        }
    }

    /// Return the raw options area.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Return the length of the options area in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether there are no option bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Iterate over the options, NOPs included, up to End-of-List.
    pub fn iter(&self) -> Ipv4OptionIter<'a> {
        Ipv4OptionIter {
            rest: self.bytes,
            offset: 0,
            error: None,
        }
    }
}

impl fmt::Debug for Ipv4Options<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for Ipv4Options<'a> {
    type Item = Ipv4Option<'a>;
    type IntoIter = Ipv4OptionIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// An iterator over IPv4 options; it stops at End-of-List or at a malformed option.
#[derive(Debug, Clone)]
pub struct Ipv4OptionIter<'a> {
    rest: &'a [u8],
    offset: usize,
    error: Option<usize>,
}

impl<'a> Ipv4OptionIter<'a> {
    /// The offset of a malformed option, once iteration has stopped on one.
    pub fn error(&self) -> Option<usize> {
        self.error
    }
}

impl<'a> Iterator for Ipv4OptionIter<'a> {
    type Item = Ipv4Option<'a>;

    fn next(&mut self) -> Option<Ipv4Option<'a>> {
        let (&kind, tail) = self.rest.split_first()?;
        let kind = Ipv4OptionKind::from_raw(kind);
        let len = match kind {
            Ipv4OptionKind::EndOfList => {
                self.rest = &[];
                return None;
            }
            Ipv4OptionKind::Nop => 1,
            _ => match tail.first() {
                Some(&l) if l >= 2 && usize::from(l) <= self.rest.len() => usize::from(l),
                _ => {
                    self.error = Some(self.offset);
                    self.rest = &[];
                    return None;
                }
            },
        };
        let (raw, rest) = self.rest.split_at_checked(len)?;
        let data = raw.get(2..).unwrap_or_default();
        self.rest = rest;
        self.offset += len;
        Some(Ipv4Option { kind, data, raw })
    }
}

/// A validated IPv4 header in typed form (RFC 791).
///
/// `parse` checks, in this order: the lengths (buffer ≥ 20, IHL ≥ 5, header ≤ total length ≤
/// buffer; bytes past the total length are link padding and ignored), the version, the
/// options' framing, the header checksum (when `caps.ipv4.rx()`), and the fragment fields (the
/// fragment must end at or before byte 65535, and a fragment with More Fragments must carry a
/// multiple of 8 bytes). The reserved flag is ignored on parse and sent as zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Repr<'a> {
    /// Source address.
    pub src_addr: Ipv4Address,
    /// Destination address.
    pub dst_addr: Ipv4Address,
    /// Protocol of the payload.
    pub protocol: Protocol,
    /// Payload length in bytes (total length minus header length).
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// Differentiated services code point (six bits; higher bits are dropped on emit).
    pub dscp: u8,
    /// ECN code point.
    pub ecn: Ecn,
    /// Identification.
    pub ident: u16,
    /// Don't Fragment.
    pub dont_frag: bool,
    /// More Fragments.
    pub more_frags: bool,
    /// Fragment offset in bytes (a multiple of 8; emit writes `frag_offset / 8`).
    pub frag_offset: u16,
    /// Options, emitted as they are.
    pub options: Ipv4Options<'a>,
}

impl<'a> Ipv4Repr<'a> {
    /// A header for an unfragmented datagram without options: DSCP 0, not ECN-capable,
    /// ident 0, DF clear.
    pub const fn new(
        src_addr: Ipv4Address,
        dst_addr: Ipv4Address,
        protocol: Protocol,
        payload_len: usize,
        ttl: u8,
    ) -> Self {
        Ipv4Repr {
            src_addr,
            dst_addr,
            protocol,
            payload_len,
            ttl,
            dscp: 0,
            ecn: Ecn::NotEct,
            ident: 0,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
            options: Ipv4Options { bytes: &[] },
        }
    }

    /// Validate a datagram and return its header.
    ///
    /// The payload is `packet.payload()`. Works on views built with `new_unchecked` too: the
    /// length check is repeated first.
    ///
    /// # Errors
    /// The first failed check (see the type's docs): [`Error::Truncated`],
    /// [`Error::BadHeaderLen`], [`Error::BadLength`], [`Error::BadVersion`],
    /// [`Error::BadOption`], [`Error::BadChecksum`], [`Error::BadFragment`].
    #[inline]
    pub fn parse<B: AsRef<[u8]>>(
        packet: &'a Ipv4Packet<B>,
        caps: &ChecksumCaps,
    ) -> Result<Ipv4Repr<'a>, Error> {
        packet.check_len()?;
        let version = packet.version();
        if version != 4 {
            return Err(Error::BadVersion(version));
        }
        let options = Ipv4Options::new(packet.options())?;
        if caps.ipv4.rx() && !packet.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        let payload_len = packet.packet_len() - packet.header_len();
        let frag_offset = packet.frag_offset() * 8;
        let more_frags = packet.more_frags();
        // The datagram this fragment belongs to would exceed 65535 bytes (ping of death), or
        // a non-final fragment's data does not end on an 8-byte boundary.
        if usize::from(frag_offset) + packet.packet_len() > MAX_DATAGRAM_LEN
            || (more_frags && !payload_len.is_multiple_of(8))
        {
            return Err(Error::BadFragment);
        }
        Ok(Ipv4Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len,
            ttl: packet.ttl(),
            dscp: packet.dscp(),
            ecn: packet.ecn(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            more_frags,
            frag_offset,
            options,
        })
    }

    /// Return the header length in bytes (20 plus the options).
    #[inline]
    pub fn header_len(&self) -> usize {
        Ipv4Header::SIZE + self.options.len()
    }

    /// Return the datagram length in bytes (header plus payload).
    #[inline]
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload_len
    }

    /// Whether this header describes a fragment.
    pub fn is_fragment(&self) -> bool {
        self.more_frags || self.frag_offset != 0
    }

    /// Write the header (options and checksum included) into `packet`; the payload bytes
    /// after `header_len()` are left for the caller.
    ///
    /// The total length is `buffer_len()`, which must not exceed 65535 (a parsed repr never
    /// does; a larger one is written as 65535).
    ///
    /// # Panics
    /// If the buffer is shorter than `header_len()` (a caller bug, never input-dependent).
    #[inline(always)]
    pub fn emit<B: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Ipv4Packet<B>,
        caps: &ChecksumCaps,
    ) {
        let header_len = self.header_len();
        packet.set_version(4);
        packet.set_ihl((header_len / 4) as u8);
        packet.set_dscp(self.dscp);
        packet.set_ecn(self.ecn);
        packet.set_total_len(u16::try_from(self.buffer_len()).unwrap_or(u16::MAX));
        packet.set_ident(self.ident);
        packet.set_reserved(false);
        packet.set_dont_frag(self.dont_frag);
        packet.set_more_frags(self.more_frags);
        packet.set_frag_offset(self.frag_offset / 8);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_checksum(0);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        let opts = self.options.as_bytes();
        let bytes = packet.as_bytes_mut();
        let area = bytes.get_mut(Ipv4Header::SIZE..header_len);
        match area {
            Some(area) => area.copy_from_slice(opts),
            None => too_short(header_len, bytes.len()),
        }
        if caps.ipv4.tx() {
            // Summed from the values, not read back from the bytes just written (a wide load
            // over narrow stores still in the store buffer stalls until they retire).
            packet.set_checksum(!self.header_word_sum(header_len));
        }
    }

    /// The ones' complement sum of the header `emit` writes (checksum field zero), from the
    /// values and the options' own bytes.
    #[inline(always)]
    fn header_word_sum(&self, header_len: usize) -> u16 {
        let total = u16::try_from(self.buffer_len()).unwrap_or(u16::MAX);
        let [a, b, c, d] = self.src_addr.octets();
        let [e, f, g, h] = self.dst_addr.octets();
        let w = |hi: u8, lo: u8| u64::from(u16::from_be_bytes([hi, lo]));
        let first = (4u64 << 12)
            | ((header_len as u64 / 4) << 8)
            | (u64::from(self.dscp & 0x3f) << 2)
            | u64::from(self.ecn.to_raw() & 3);
        let frag = (u64::from(self.dont_frag) << 14)
            | (u64::from(self.more_frags) << 13)
            | u64::from((self.frag_offset / 8) & 0x1fff);
        let acc = first
            + u64::from(total)
            + u64::from(self.ident)
            + frag
            + w(self.ttl, self.protocol.to_raw())
            + w(a, b)
            + w(c, d)
            + w(e, f)
            + w(g, h)
            + u64::from(checksum::data(self.options.as_bytes()));
        checksum::fold_words(acc)
    }
}

#[cold]
#[track_caller]
fn too_short(needed: usize, got: usize) -> ! {
    panic!("emit into a {got}-byte buffer; the header needs {needed}")
}

/// tcpdump `-v` style: `IP (tos 0x0, ttl 64, id 4660, offset 0, flags [DF], proto UDP (17),
/// length 57) 192.0.2.1 > 192.0.2.2`.
impl fmt::Display for Ipv4Repr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tos = (self.dscp << 2) | (self.ecn.to_raw() & 3);
        write!(
            f,
            "IP (tos {tos:#x}, ttl {}, id {}, offset {}, flags [",
            self.ttl, self.ident, self.frag_offset
        )?;
        match (self.more_frags, self.dont_frag) {
            (false, false) => f.write_str("none")?,
            (true, false) => f.write_str("+")?,
            (false, true) => f.write_str("DF")?,
            (true, true) => f.write_str("+DF")?,
        }
        write!(
            f,
            "], proto {} ({}), length {}",
            self.protocol,
            self.protocol.to_raw(),
            self.buffer_len()
        )?;
        if !self.options.is_empty() {
            f.write_str(", options (")?;
            for (i, o) in self.options.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{}", o.kind)?;
            }
            f.write_str(")")?;
        }
        write!(f, ") {} > {}", self.src_addr, self.dst_addr)
    }
}

/// tcpdump style, one line, dissecting UDP and ICMP payloads without verifying checksums:
/// `IP 192.0.2.1 > 192.0.2.2: ICMP echo request, id 1, seq 2, length 64`,
/// `IP 192.0.2.1.5353 > 192.0.2.2.53: UDP, length 29`. Other protocols and non-first
/// fragments print as `ip-proto-N`; a short or inconsistent buffer prints `[|ip]`.
impl<B: AsRef<[u8]>> fmt::Display for Ipv4Packet<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.check_len().is_err() {
            return f.write_str("IP [|ip]");
        }
        if self.version() != 4 {
            return write!(f, "IP bad version {}", self.version());
        }
        let (src, dst) = (self.src_addr(), self.dst_addr());
        let payload = self.payload();
        if self.frag_offset() != 0 {
            return write!(f, "IP {src} > {dst}: ip-proto-{}", self.protocol().to_raw());
        }
        match self.protocol() {
            Protocol::Udp => {
                if payload.len() < UdpHeader::SIZE {
                    return write!(f, "IP {src} > {dst}: [|udp]");
                }
                // A first fragment holds less than the UDP length: print the header anyway.
                let udp = UdpPacket::new_unchecked(payload);
                let (sp, dp) = (udp.src_port(), udp.dst_port());
                match usize::from(udp.len()).checked_sub(UdpHeader::SIZE) {
                    Some(n) => write!(f, "IP {src}.{sp} > {dst}.{dp}: UDP, length {n}"),
                    None => write!(
                        f,
                        "IP {src}.{sp} > {dst}.{dp}: UDP, bad length {}",
                        udp.len()
                    ),
                }
            }
            Protocol::Icmp => {
                let icmp = Icmpv4Packet::new_unchecked(payload);
                write!(f, "IP {src} > {dst}: {icmp}")
            }
            p => write!(
                f,
                "IP {src} > {dst}: ip-proto-{} {}",
                p.to_raw(),
                payload.len()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    /// A header with options: NOP, Router Alert (RFC 2113), then End-of-List padding.
    const WITH_OPTIONS: [u8; 28] = [
        0x47, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 192, 0, 2, 1, 224,
        0, 0, 22, // options
        0x01, 0x94, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn options_are_framed_and_iterated() {
        let mut b = WITH_OPTIONS;
        let mut p = Ipv4Packet::new_checked(&mut b[..]).unwrap();
        p.fill_checksum();
        let p = p.as_view();
        let r = Ipv4Repr::parse(&p, &ChecksumCaps::all()).unwrap();
        let kinds: std::vec::Vec<_> = r.options.iter().map(|o| o.kind).collect();
        assert_eq!(kinds, [Ipv4OptionKind::Nop, Ipv4OptionKind::RouterAlert]);
        let ra = r.options.iter().nth(1).unwrap();
        assert_eq!(ra.data, &[0, 0]);
        assert!(ra.copied());
        assert_eq!(r.header_len(), 28);
        assert_eq!(r.payload_len, 0);
        assert!(r.to_string().contains("options (NOP,RA)"), "{r}");
    }

    #[test]
    fn malformed_options_are_typed_errors() {
        for (opts, offset) in [
            ([0x07u8, 0x01, 0, 0], 0),     // length below 2
            ([0x01, 0x07, 0x09, 0], 1),    // runs past the header
            ([0x01, 0x01, 0x01, 0x44], 3), // no length byte
        ] {
            assert_eq!(
                Ipv4Options::new(&opts),
                Err(Error::BadOption { offset }),
                "{opts:?}"
            );
        }
        // Garbage after End-of-List is padding.
        assert!(Ipv4Options::new(&[0x00, 0x07, 0x01, 0xff]).is_ok());
        assert!(Ipv4Options::new(&[0x01; 3]).is_err());
        assert!(Ipv4Options::new(&[0x01; 44]).is_err());
    }
}
