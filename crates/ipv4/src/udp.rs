//! UDP (RFC 768) over IPv4.

use core::fmt;

use crate::address::Ipv4Address;
use crate::checksum::ChecksumCaps;
use crate::error::Error;
use crate::wire::{UdpHeader, UdpPacket};

/// A validated UDP header in typed form.
///
/// `parse` checks the length field (at least 8, at most the buffer; bytes past it are
/// ignored) and, when `caps.udp.rx()`, the checksum over the pseudo-header, header and data.
/// A zero checksum means "not computed" (RFC 768) and is accepted. `emit` sends a computed
/// checksum of zero as `0xffff`, and zero when `caps.udp.tx()` is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpRepr {
    /// Source port (0: none).
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Length of the data after the 8-byte header.
    pub payload_len: usize,
}

impl UdpRepr {
    /// Validate a datagram (the IPv4 payload) sent from `src` to `dst`; the data is
    /// `packet.payload()`.
    ///
    /// Port zero is accepted in both fields: the wire allows it, and whether anything
    /// listens there is the stack's business.
    ///
    /// # Errors
    /// [`Error::Truncated`] (buffer shorter than 8 bytes or than the length field),
    /// [`Error::BadLength`] (length field below 8), [`Error::BadChecksum`].
    #[inline]
    pub fn parse<B: AsRef<[u8]>>(
        packet: &UdpPacket<B>,
        src: Ipv4Address,
        dst: Ipv4Address,
        caps: &ChecksumCaps,
    ) -> Result<UdpRepr, Error> {
        packet.check_len()?;
        if caps.udp.rx() && !packet.verify_checksum(src, dst) {
            return Err(Error::BadChecksum);
        }
        Ok(UdpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            payload_len: packet.packet_len() - UdpHeader::SIZE,
        })
    }

    /// Return the header length, 8.
    pub const fn header_len(&self) -> usize {
        UdpHeader::SIZE
    }

    /// Return the datagram length (header plus data).
    pub const fn buffer_len(&self) -> usize {
        UdpHeader::SIZE + self.payload_len
    }

    /// Write the datagram into the first `buffer_len()` bytes of `packet`: the header, then
    /// `payload` is called with the `payload_len` data bytes to fill (or to leave as they are
    /// if the data is already in place), then the checksum.
    ///
    /// `buffer_len()` must not exceed 65535 (the length field is written as 65535 otherwise).
    ///
    /// # Panics
    /// If the buffer is shorter than `buffer_len()` (a caller bug, never input-dependent).
    #[inline]
    pub fn emit<B: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut UdpPacket<B>,
        src: Ipv4Address,
        dst: Ipv4Address,
        caps: &ChecksumCaps,
        payload: impl FnOnce(&mut [u8]),
    ) {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len(u16::try_from(self.buffer_len()).unwrap_or(u16::MAX));
        packet.set_checksum(0);
        let got = packet.as_bytes().len();
        if got < self.buffer_len() {
            too_short(self.buffer_len(), got);
        }
        payload(packet.payload_mut());
        if caps.udp.tx() {
            packet.fill_checksum(src, dst);
        }
    }
}

#[cold]
#[track_caller]
fn too_short(needed: usize, got: usize) -> ! {
    panic!("emit into a {got}-byte buffer; the datagram needs {needed}")
}

/// tcpdump style without addresses: `5353 > 53: UDP, length 29` (the data length).
impl fmt::Display for UdpRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} > {}: UDP, length {}",
            self.src_port, self.dst_port, self.payload_len
        )
    }
}

/// tcpdump style without addresses: `5353 > 53: UDP, length 29`; `[|udp]` if the buffer is
/// short or the length field inconsistent.
impl<B: AsRef<[u8]>> fmt::Display for UdpPacket<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.check_len().is_err() {
            return f.write_str("[|udp]");
        }
        write!(
            f,
            "{} > {}: UDP, length {}",
            self.src_port(),
            self.dst_port(),
            self.payload().len()
        )
    }
}
