//! Ethernet II frames with up to two 802.1Q/802.1ad VLAN tags.

use core::fmt;

use heapless::Vec;

use crate::wire::{EtherType, EthernetFrame, EthernetHeader, VlanHeader, VlanTagView};
use crate::{Error, MacAddress};

/// The most VLAN tags a frame may carry (an 802.1ad S-tag and an 802.1Q C-tag).
pub const MAX_VLAN_TAGS: usize = 2;

/// The smallest Ethernet frame on the wire without its FCS. Receivers here accept shorter
/// frames (a TAP device delivers them); padding on transmit is the device's business.
pub const MIN_FRAME_LEN: usize = 60;

/// One VLAN tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VlanTag {
    /// The tag protocol identifier: [`EtherType::Vlan`] (0x8100), [`EtherType::QinQ`]
    /// (0x88a8) or [`EtherType::QinQLegacy`] (0x9100).
    pub tpid: EtherType,
    /// Priority code point, 0..=7.
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN identifier, 0..=4095 (0: priority tag only; 4095 is reserved but accepted).
    pub vid: u16,
}

/// A parsed Ethernet II header: addresses, VLAN tags outermost first, and the EtherType of
/// the payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EthernetRepr {
    /// Destination address.
    pub dst: MacAddress,
    /// Source address.
    pub src: MacAddress,
    /// VLAN tags, outermost first.
    pub vlans: Vec<VlanTag, MAX_VLAN_TAGS>,
    /// EtherType of the payload.
    pub ethertype: EtherType,
}

impl EthernetRepr {
    /// An untagged header.
    pub fn new(src: MacAddress, dst: MacAddress, ethertype: EtherType) -> Self {
        EthernetRepr {
            dst,
            src,
            vlans: Vec::new(),
            ethertype,
        }
    }

    /// Parse a checked frame view: walk the VLAN tags and validate the EtherType.
    ///
    /// Every 16-bit tag control field is valid; either TPID may stand in either position
    /// (some networks use 0x8100 for both tags).
    ///
    /// # Errors
    /// [`Error::Truncated`] if a tag runs past the buffer, [`Error::TooManyVlanTags`] for a
    /// third tag, [`Error::Unsupported`] for an 802.3 length instead of an EtherType (LLC
    /// frames).
    #[inline]
    pub fn parse<T: AsRef<[u8]>>(frame: &EthernetFrame<T>) -> Result<Self, Error> {
        let mut repr = EthernetRepr {
            dst: MacAddress(*frame.dst()),
            src: MacAddress(*frame.src()),
            vlans: Vec::new(),
            ethertype: frame.ethertype(),
        };
        let mut rest = frame.payload();
        while repr.ethertype.is_vlan() {
            let tag = VlanTagView::new_checked(rest)?;
            let vlan = VlanTag {
                tpid: repr.ethertype,
                pcp: tag.pcp(),
                dei: tag.dei(),
                vid: tag.vid(),
            };
            repr.vlans.push(vlan).map_err(|_| Error::TooManyVlanTags)?;
            repr.ethertype = tag.ethertype();
            rest = tag.into_payload();
        }
        if repr.ethertype.is_length() {
            return Err(Error::Unsupported);
        }
        Ok(repr)
    }

    /// The header length in bytes: 14 plus 4 per VLAN tag.
    #[inline]
    pub fn header_len(&self) -> usize {
        EthernetHeader::SIZE + self.vlans.len() * VlanHeader::SIZE
    }

    /// The frame length for a payload of `payload_len` bytes.
    #[inline]
    pub fn buffer_len(&self, payload_len: usize) -> usize {
        self.header_len() + payload_len
    }

    /// Write the header at the start of `buf` and return the rest of `buf`, where the payload
    /// goes (built in place: nothing is copied).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `buf` is shorter than [`header_len`](Self::header_len).
    #[inline(always)]
    pub fn emit<'a>(&self, buf: &'a mut [u8]) -> Result<&'a mut [u8], Error> {
        if buf.len() < self.header_len() {
            return Err(Error::BufferTooSmall);
        }
        // Each type field names what follows it: the first tag's TPID, ..., the payload type.
        let type_after = |i: usize| self.vlans.get(i).map_or(self.ethertype, |t| t.tpid);
        let mut frame = EthernetFrame::new_checked(buf).map_err(|_| Error::BufferTooSmall)?;
        frame.set_dst(&self.dst.0);
        frame.set_src(&self.src.0);
        frame.set_ethertype(type_after(0));
        let mut rest = frame.into_payload();
        for (i, tag) in self.vlans.iter().enumerate() {
            let mut v = VlanTagView::new_checked(rest).map_err(|_| Error::BufferTooSmall)?;
            v.set_pcp(tag.pcp);
            v.set_dei(tag.dei);
            v.set_vid(tag.vid);
            v.set_ethertype(type_after(i + 1));
            rest = v.into_payload();
        }
        Ok(rest)
    }
}

/// Parse an Ethernet II frame: the header (with its VLAN tags) and the payload, borrowed.
///
/// # Errors
/// As [`EthernetRepr::parse`], and [`Error::Truncated`] below 14 bytes.
#[inline]
pub fn parse_frame(buf: &[u8]) -> Result<(EthernetRepr, &[u8]), Error> {
    let frame = EthernetFrame::new_checked(buf)?;
    let repr = EthernetRepr::parse(&frame)?;
    let payload = buf.get(repr.header_len()..).ok_or(Error::Truncated)?;
    Ok((repr, payload))
}

impl fmt::Display for VlanTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} vlan {}, p {}", self.tpid, self.vid, self.pcp)?;
        if self.dei {
            f.write_str(", DEI")?;
        }
        Ok(())
    }
}

/// Like `tcpdump -e`: `src > dst, [802.1Q vlan 10, p 0, ]ethertype IPv4 (0x0800)`.
impl fmt::Display for EthernetRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} > {}, ", self.src, self.dst)?;
        for tag in &self.vlans {
            write!(f, "{tag}, ")?;
        }
        write!(
            f,
            "ethertype {} ({:#06x})",
            self.ethertype,
            self.ethertype.to_raw()
        )
    }
}

impl<T: AsRef<[u8]>> fmt::Display for EthernetFrame<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match EthernetRepr::parse(self) {
            Ok(repr) => write!(f, "{repr}, length {}", self.as_bytes().len()),
            Err(e) => write!(f, "[ethernet: {e}]"),
        }
    }
}
