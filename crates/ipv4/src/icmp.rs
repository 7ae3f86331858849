//! ICMPv4 (RFC 792): echo, destination unreachable and time exceeded, and an echo responder.

use core::fmt;

use crate::address::Ipv4Address;
use crate::checksum::{self, ChecksumCaps};
use crate::error::Error;
use crate::ipv4::{Ipv4Repr, MAX_DATAGRAM_LEN};
use crate::wire::{
    DstUnreachable, Icmpv4EchoPacket, Icmpv4ErrorPacket, Icmpv4Header, Icmpv4Message, Icmpv4Packet,
    Ipv4Header, Ipv4Packet, Protocol, TimeExceeded,
};

/// Bytes of the offending datagram's data that an ICMP error quotes at least (RFC 792).
pub const QUOTED_DATA_LEN: usize = 8;

/// The part of an offending datagram that an ICMP error message quotes: its IP header and
/// (normally) the first 8 bytes of its data.
///
/// Checked on construction: at least 20 bytes, version 4, IHL at least 5 and the whole
/// quoted header present. The quoted header's checksum and total length are not checked
/// (the total length describes the original datagram, usually longer than the quote).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Icmpv4Quote<'a> {
    bytes: &'a [u8],
}

impl<'a> Icmpv4Quote<'a> {
    /// Check and wrap quoted bytes (as found in a received ICMP error).
    ///
    /// # Errors
    /// [`Error::Truncated`] if the bytes do not hold the quoted header,
    /// [`Error::BadVersion`] / [`Error::BadHeaderLen`] if it is not an IPv4 header.
    pub fn new(bytes: &'a [u8]) -> Result<Self, Error> {
        let ip = Ipv4Packet::new_unchecked(bytes);
        if bytes.len() < Ipv4Header::SIZE {
            return Err(Error::Truncated {
                needed: Ipv4Header::SIZE,
                got: bytes.len(),
            });
        }
        if ip.version() != 4 {
            return Err(Error::BadVersion(ip.version()));
        }
        if ip.header_len() < Ipv4Header::SIZE {
            return Err(Error::BadHeaderLen {
                header_len: ip.header_len(),
            });
        }
        if bytes.len() < ip.header_len() {
            return Err(Error::Truncated {
                needed: ip.header_len(),
                got: bytes.len(),
            });
        }
        Ok(Icmpv4Quote { bytes })
    }

    /// Quote a received datagram for an error about it: its header and the first 8 bytes of
    /// its data (fewer if it has fewer), as RFC 792 asks. Link padding is never quoted.
    ///
    /// # Errors
    /// As [`Icmpv4Quote::new`], or the datagram's own length errors.
    pub fn from_datagram<B: AsRef<[u8]> + ?Sized>(datagram: &'a B) -> Result<Self, Error> {
        let bytes = datagram.as_ref();
        let ip = Ipv4Packet::new_checked(bytes)?;
        let end = ip
            .packet_len()
            .min(ip.header_len() + QUOTED_DATA_LEN)
            .min(bytes.len());
        Icmpv4Quote::new(bytes.get(..end).unwrap_or_default())
    }

    /// Return the quoted bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Return the length of the quote in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the quote is empty (never true for a checked quote).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Return an IPv4 view over the quoted bytes.
    ///
    /// Every fixed field, `header()` and `options()` are readable; `payload()` is empty when
    /// the quoted total length exceeds the quote, which is the usual case: use
    /// [`transport`](Self::transport) for the quoted data.
    pub fn ip(&self) -> Ipv4Packet<&'a [u8]> {
        Ipv4Packet::new_unchecked(self.bytes)
    }

    /// Return the quoted IP header (options included).
    pub fn header(&self) -> &'a [u8] {
        let hl = self.ip().header_len();
        self.bytes.get(..hl).unwrap_or_default()
    }

    /// Return the quoted data after the IP header (the transport header's first bytes).
    pub fn transport(&self) -> &'a [u8] {
        let hl = self.ip().header_len();
        self.bytes.get(hl..).unwrap_or_default()
    }

    /// Return the quoted source address.
    pub fn src_addr(&self) -> Ipv4Address {
        self.ip().src_addr()
    }

    /// Return the quoted destination address.
    pub fn dst_addr(&self) -> Ipv4Address {
        self.ip().dst_addr()
    }

    /// Return the quoted protocol.
    pub fn protocol(&self) -> Protocol {
        self.ip().protocol()
    }

    /// Return the quoted destination port (bytes 2–3 of the transport header, for TCP, UDP
    /// and SCTP), if quoted.
    pub fn dst_port(&self) -> Option<u16> {
        let t = self.transport();
        Some(u16::from_be_bytes([*t.get(2)?, *t.get(3)?]))
    }
}

impl fmt::Debug for Icmpv4Quote<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Icmpv4Quote")
            .field("src", &self.src_addr())
            .field("dst", &self.dst_addr())
            .field("protocol", &self.protocol())
            .field("len", &self.len())
            .finish()
    }
}

/// An ICMPv4 message in typed form.
///
/// `parse` checks the length (at least 8 bytes), the checksum over the whole message (when
/// `caps.icmpv4.rx()`), that echo messages have code 0, and that error messages quote an
/// IPv4 header. Other message types are [`Error::Unsupported`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv4Repr<'a> {
    /// Echo request (type 8).
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Data to echo.
        data: &'a [u8],
    },
    /// Echo reply (type 0).
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Echoed data.
        data: &'a [u8],
    },
    /// Destination unreachable (type 3).
    DstUnreachable {
        /// Why.
        code: DstUnreachable,
        /// The next-hop MTU (RFC 1191): meaningful for [`DstUnreachable::FragRequired`],
        /// else zero (the raw low 16 bits of the rest of the header).
        next_hop_mtu: u16,
        /// The offending datagram's header and first bytes.
        quote: Icmpv4Quote<'a>,
    },
    /// Time exceeded (type 11).
    TimeExceeded {
        /// Why.
        code: TimeExceeded,
        /// The offending datagram's header and first bytes.
        quote: Icmpv4Quote<'a>,
    },
}

impl<'a> Icmpv4Repr<'a> {
    /// Validate a message (the whole IPv4 payload) and return it in typed form.
    ///
    /// # Errors
    /// [`Error::Truncated`] (shorter than 8 bytes), [`Error::BadChecksum`],
    /// [`Error::Malformed`] (echo with a nonzero code, an error quoting no IPv4 header),
    /// [`Error::Unsupported`] (another message type).
    pub fn parse<B: AsRef<[u8]>>(
        packet: &'a Icmpv4Packet<B>,
        caps: &ChecksumCaps,
    ) -> Result<Icmpv4Repr<'a>, Error> {
        packet.check_len()?;
        if caps.icmpv4.rx() && !packet.verify_checksum() {
            return Err(Error::BadChecksum);
        }
        let bytes = packet.as_bytes();
        let payload = packet.payload();
        match packet.msg_type() {
            t @ (Icmpv4Message::EchoRequest | Icmpv4Message::EchoReply) => {
                if packet.code() != 0 {
                    return Err(Error::Malformed);
                }
                let echo = Icmpv4EchoPacket::new_checked(bytes)?;
                let (ident, seq_no, data) = (echo.ident(), echo.seq_no(), payload);
                Ok(if t == Icmpv4Message::EchoRequest {
                    Icmpv4Repr::EchoRequest {
                        ident,
                        seq_no,
                        data,
                    }
                } else {
                    Icmpv4Repr::EchoReply {
                        ident,
                        seq_no,
                        data,
                    }
                })
            }
            Icmpv4Message::DstUnreachable => {
                let err = Icmpv4ErrorPacket::new_checked(bytes)?;
                let quote = Icmpv4Quote::new(payload).map_err(|_| Error::Malformed)?;
                Ok(Icmpv4Repr::DstUnreachable {
                    code: DstUnreachable::from_raw(err.code()),
                    next_hop_mtu: err.next_hop_mtu(),
                    quote,
                })
            }
            Icmpv4Message::TimeExceeded => {
                let quote = Icmpv4Quote::new(payload).map_err(|_| Error::Malformed)?;
                Ok(Icmpv4Repr::TimeExceeded {
                    code: TimeExceeded::from_raw(packet.code()),
                    quote,
                })
            }
            _ => Err(Error::Unsupported),
        }
    }

    /// Return the message type.
    pub fn msg_type(&self) -> Icmpv4Message {
        match self {
            Icmpv4Repr::EchoRequest { .. } => Icmpv4Message::EchoRequest,
            Icmpv4Repr::EchoReply { .. } => Icmpv4Message::EchoReply,
            Icmpv4Repr::DstUnreachable { .. } => Icmpv4Message::DstUnreachable,
            Icmpv4Repr::TimeExceeded { .. } => Icmpv4Message::TimeExceeded,
        }
    }

    fn body(&self) -> &'a [u8] {
        match *self {
            Icmpv4Repr::EchoRequest { data, .. } | Icmpv4Repr::EchoReply { data, .. } => data,
            Icmpv4Repr::DstUnreachable { quote, .. } | Icmpv4Repr::TimeExceeded { quote, .. } => {
                quote.as_bytes()
            }
        }
    }

    /// Return the message length in bytes (8 plus the data or quote).
    pub fn buffer_len(&self) -> usize {
        Icmpv4Header::SIZE + self.body().len()
    }

    /// Write the message, checksum included, into the first `buffer_len()` bytes of
    /// `packet` (bytes after them are not touched and not summed).
    ///
    /// # Panics
    /// If the buffer is shorter than `buffer_len()` (a caller bug, never input-dependent).
    pub fn emit<B: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Icmpv4Packet<B>,
        caps: &ChecksumCaps,
    ) {
        let len = self.buffer_len();
        let (code, rest) = match *self {
            Icmpv4Repr::EchoRequest { ident, seq_no, .. }
            | Icmpv4Repr::EchoReply { ident, seq_no, .. } => {
                (0, (u32::from(ident) << 16) | u32::from(seq_no))
            }
            Icmpv4Repr::DstUnreachable {
                code, next_hop_mtu, ..
            } => (code.to_raw(), u32::from(next_hop_mtu)),
            Icmpv4Repr::TimeExceeded { code, .. } => (code.to_raw(), 0),
        };
        packet.set_msg_type(self.msg_type());
        packet.set_code(code);
        packet.set_checksum(0);
        packet.set_rest_of_header(rest);
        let bytes = packet.as_bytes_mut();
        let got = bytes.len();
        let Some(msg) = bytes.get_mut(..len) else {
            too_short(len, got)
        };
        if let Some(body) = msg.get_mut(Icmpv4Header::SIZE..) {
            body.copy_from_slice(self.body());
        }
        if caps.icmpv4.tx() {
            let c = checksum::checksum(msg);
            packet.set_checksum(c);
        }
    }
}

#[cold]
#[track_caller]
fn too_short(needed: usize, got: usize) -> ! {
    panic!("emit into a {got}-byte buffer; the message needs {needed}")
}

/// tcpdump style: `ICMP echo request, id 1, seq 2, length 64`,
/// `ICMP 192.0.2.2 udp port 53 unreachable, length 36`,
/// `ICMP time exceeded in-transit, length 36`.
impl fmt::Display for Icmpv4Repr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ICMP ")?;
        match *self {
            Icmpv4Repr::EchoRequest { ident, seq_no, .. } => {
                write!(f, "echo request, id {ident}, seq {seq_no}")?
            }
            Icmpv4Repr::EchoReply { ident, seq_no, .. } => {
                write!(f, "echo reply, id {ident}, seq {seq_no}")?
            }
            Icmpv4Repr::DstUnreachable {
                code,
                next_hop_mtu,
                quote,
            } => unreachable_text(f, code, next_hop_mtu, &quote)?,
            Icmpv4Repr::TimeExceeded { code, .. } => match code {
                TimeExceeded::TtlExpired => f.write_str("time exceeded in-transit")?,
                TimeExceeded::FragExpired => f.write_str("ip reassembly time exceeded")?,
                c => write!(f, "time exceeded-#{}", c.to_raw())?,
            },
        }
        write!(f, ", length {}", self.buffer_len())
    }
}

/// tcpdump style, checksum not verified: as [`Icmpv4Repr`]'s `Display` when the message
/// parses, else `ICMP type-N, length L` (or `[|icmp]` if shorter than 8 bytes).
impl<B: AsRef<[u8]>> fmt::Display for Icmpv4Packet<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.check_len().is_err() {
            return f.write_str("[|icmp]");
        }
        match Icmpv4Repr::parse(self, &ChecksumCaps::ignored()) {
            Ok(repr) => write!(f, "{repr}"),
            Err(_) => write!(
                f,
                "ICMP type-{}, length {}",
                self.msg_type().to_raw(),
                self.as_bytes().len()
            ),
        }
    }
}

/// The wording of tcpdump's `print-icmp.c`.
fn unreachable_text(
    f: &mut fmt::Formatter<'_>,
    code: DstUnreachable,
    mtu: u16,
    quote: &Icmpv4Quote<'_>,
) -> fmt::Result {
    use DstUnreachable as D;
    let dst = quote.dst_addr();
    match code {
        D::NetUnreachable => write!(f, "net {dst} unreachable"),
        D::HostUnreachable => write!(f, "host {dst} unreachable"),
        D::ProtoUnreachable => {
            write!(
                f,
                "{dst} protocol {} unreachable",
                quote.protocol().to_raw()
            )
        }
        D::PortUnreachable => {
            let proto = match quote.protocol() {
                Protocol::Udp => "udp",
                Protocol::Tcp => "tcp",
                _ => "",
            };
            match (quote.dst_port(), proto.is_empty()) {
                (Some(port), false) => write!(f, "{dst} {proto} port {port} unreachable"),
                (Some(port), true) => write!(
                    f,
                    "{dst} protocol {} port {port} unreachable",
                    quote.protocol().to_raw()
                ),
                (None, _) => write!(f, "{dst} port unreachable"),
            }
        }
        D::FragRequired if mtu != 0 => {
            write!(f, "{dst} unreachable - need to frag (mtu {mtu})")
        }
        D::FragRequired => write!(f, "{dst} unreachable - need to frag"),
        D::SrcRouteFailed => write!(f, "{dst} unreachable - source route failed"),
        D::DstNetUnknown => write!(f, "net {dst} unreachable - unknown"),
        D::DstHostUnknown => write!(f, "host {dst} unreachable - unknown"),
        D::SrcHostIsolated => write!(f, "{dst} unreachable - source host isolated"),
        D::NetProhibited => write!(f, "net {dst} unreachable - admin prohibited"),
        D::HostProhibited => write!(f, "host {dst} unreachable - admin prohibited"),
        D::NetUnreachToS => write!(f, "net {dst} unreachable - tos prohibited"),
        D::HostUnreachToS => write!(f, "host {dst} unreachable - tos prohibited"),
        D::CommProhibited => write!(f, "host {dst} unreachable - admin prohibited filter"),
        D::HostPrecedenceViolation => {
            write!(f, "host {dst} unreachable - host precedence violation")
        }
        D::PrecedenceCutoff => write!(f, "host {dst} unreachable - precedence cutoff"),
        D::Unknown(c) => write!(f, "{dst} unreachable - #{c}"),
    }
}

/// How the echo responder answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EchoConfig {
    /// Our address: requests must be addressed to it, and replies come from it.
    pub addr: Ipv4Address,
    /// TTL of replies.
    pub ttl: u8,
    /// Checksums to compute on the reply.
    pub caps: ChecksumCaps,
}

/// Why the echo responder did not answer.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EchoError {
    /// The datagram did not parse (only from [`respond_to_echo`]).
    Parse(Error),
    /// Not an ICMP echo request.
    NotEchoRequest,
    /// Addressed to someone else, including broadcast and multicast (not answered, as Linux
    /// does by default, to avoid amplification).
    NotForUs,
    /// The source is not a unicast address (unspecified, broadcast or multicast).
    BadSource,
    /// The request is a fragment: reassemble it first.
    Fragment,
    /// The reply would exceed 65535 bytes (only possible for a hand-built request).
    TooLarge,
    /// The output buffer is too small.
    BufferTooSmall {
        /// Bytes the reply needs.
        needed: usize,
        /// Bytes the buffer has.
        got: usize,
    },
}

impl fmt::Display for EchoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            EchoError::Parse(e) => write!(f, "request does not parse: {e}"),
            EchoError::NotEchoRequest => f.write_str("not an ICMP echo request"),
            EchoError::NotForUs => f.write_str("not addressed to us"),
            EchoError::BadSource => f.write_str("source is a martian address"),
            EchoError::Fragment => f.write_str("request is a fragment"),
            EchoError::TooLarge => f.write_str("reply would exceed 65535 bytes"),
            EchoError::BufferTooSmall { needed, got } => {
                write!(f, "reply needs {needed} bytes, buffer has {got}")
            }
        }
    }
}

impl core::error::Error for EchoError {}

impl From<Error> for EchoError {
    fn from(e: Error) -> Self {
        EchoError::Parse(e)
    }
}

/// Build the echo reply to a parsed echo request in `out`, without allocating; return its
/// length (IPv4 header of 20 bytes, ICMP header, the request's data).
///
/// The reply goes from `config.addr` to the request's source with `config.ttl`, the request's
/// DSCP, ECN not-ECT, the given IP `ident`, DF clear and no options (request options such as
/// record route are not echoed).
///
/// # Errors
/// See [`EchoError`]; nothing is written to `out` on error.
pub fn echo_reply(
    config: &EchoConfig,
    ip: &Ipv4Repr<'_>,
    icmp: &Icmpv4Repr<'_>,
    ident: u16,
    out: &mut [u8],
) -> Result<usize, EchoError> {
    let Icmpv4Repr::EchoRequest {
        ident: echo_ident,
        seq_no,
        data,
    } = *icmp
    else {
        return Err(EchoError::NotEchoRequest);
    };
    if ip.protocol != Protocol::Icmp {
        return Err(EchoError::NotEchoRequest);
    }
    if ip.dst_addr != config.addr {
        return Err(EchoError::NotForUs);
    }
    // Martian sources (RFC 1812 5.3.7) get no answer: a reply to them would go to a group, to
    // ourselves, or nowhere. The subnet-directed broadcast of our own prefix is the stack's
    // to filter (it knows the prefix; this function sees only our address).
    let [a, ..] = ip.src_addr.octets();
    if !ip.src_addr.is_unicast()
        || ip.src_addr == config.addr
        || ip.src_addr.is_loopback()
        || a == 0
        || a >= 240
    {
        return Err(EchoError::BadSource);
    }
    if ip.is_fragment() {
        return Err(EchoError::Fragment);
    }
    let reply = Icmpv4Repr::EchoReply {
        ident: echo_ident,
        seq_no,
        data,
    };
    let mut ip_reply = Ipv4Repr::new(
        config.addr,
        ip.src_addr,
        Protocol::Icmp,
        reply.buffer_len(),
        config.ttl,
    );
    ip_reply.dscp = ip.dscp;
    ip_reply.ident = ident;
    let len = ip_reply.buffer_len();
    if len > MAX_DATAGRAM_LEN {
        return Err(EchoError::TooLarge);
    }
    let got = out.len();
    let Some(buf) = out.get_mut(..len) else {
        return Err(EchoError::BufferTooSmall { needed: len, got });
    };
    let (head, body) = buf.split_at_mut(Ipv4Header::SIZE);
    ip_reply.emit(&mut Ipv4Packet::new_unchecked(head), &config.caps);
    reply.emit(&mut Icmpv4Packet::new_unchecked(body), &config.caps);
    Ok(len)
}

/// Parse an IPv4 datagram and, if it is an echo request for us, build the reply in `out`:
/// [`Ipv4Repr::parse`], [`Icmpv4Repr::parse`] (with `caps`), then [`echo_reply`].
///
/// # Errors
/// [`EchoError::Parse`] if either layer does not parse, else as [`echo_reply`].
pub fn respond_to_echo(
    config: &EchoConfig,
    caps: &ChecksumCaps,
    datagram: &[u8],
    ident: u16,
    out: &mut [u8],
) -> Result<usize, EchoError> {
    let packet = Ipv4Packet::new_checked(datagram).map_err(Error::from)?;
    let ip = Ipv4Repr::parse(&packet, caps)?;
    if ip.protocol != Protocol::Icmp {
        return Err(EchoError::NotEchoRequest);
    }
    if ip.is_fragment() {
        return Err(EchoError::Fragment);
    }
    let icmp_packet = Icmpv4Packet::new_checked(packet.payload()).map_err(Error::from)?;
    let icmp = Icmpv4Repr::parse(&icmp_packet, caps)?;
    echo_reply(config, &ip, &icmp, ident, out)
}
