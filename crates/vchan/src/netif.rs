//! Network ring messages (`xen/include/public/io/netif.h`), little-endian as on x86.
//!
//! The layouts are the C structs byte for byte (checked against the real header by
//! `tests/c_layout.rs`); `int16_t` fields are declared `u16` (the derive has no signed
//! integers) and [`NetifStatus`] reads them. The typed `parse` functions validate what a peer
//! sent before anything indexes by it: ids against the ring size, offset and length against
//! the page.

use unistack_cstruct::{CEnum, Cstruct};

use crate::error::Corrupt;
use crate::ring::Protocol;
use crate::shm::PAGE_SIZE;

/// `struct netif_tx_request`: one slot of a packet to transmit (12 bytes).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cstruct(little, view = NetifTxRequestView)]
pub struct NetifTxRequest {
    /// Grant of the page holding the data.
    pub gref: u32,
    /// Offset of the data in the page.
    pub offset: u16,
    /// `NETTXF_*`.
    pub flags: u16,
    /// Echoed in the response.
    pub id: u16,
    /// C `size`: bytes in this slot; in a packet's first slot, the whole packet's length.
    pub len: u16,
}

/// `struct netif_tx_response` (4 bytes).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cstruct(little, view = NetifTxResponseView)]
pub struct NetifTxResponse {
    /// The request's id.
    pub id: u16,
    /// `NETIF_RSP_*` (an `int16_t`).
    pub status: NetifStatus,
}

/// `struct netif_rx_request`: a page offered for receiving (8 bytes).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cstruct(little, view = NetifRxRequestView)]
pub struct NetifRxRequest {
    /// Echoed in the response.
    pub id: u16,
    /// Padding.
    pub pad: u16,
    /// Grant of the page to fill.
    pub gref: u32,
}

/// `struct netif_rx_response` (8 bytes).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cstruct(little, view = NetifRxResponseView)]
pub struct NetifRxResponse {
    /// The request's id.
    pub id: u16,
    /// Offset of the data in the page.
    pub offset: u16,
    /// `NETRXF_*`.
    pub flags: u16,
    /// Bytes received if positive, else a `NETIF_RSP_*` error (an `int16_t`).
    pub status: u16,
}

/// `struct netif_extra_info` (8 bytes): follows a slot flagged `extra_info`; `u` is a union.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cstruct(little, view = NetifExtraInfoView)]
pub struct NetifExtraInfo {
    /// `XEN_NETIF_EXTRA_TYPE_*`.
    pub r#type: u8,
    /// `XEN_NETIF_EXTRA_FLAG_*`.
    pub flags: u8,
    /// The union: [`NetifExtraGso`], a multicast MAC address, or hash information.
    pub u: [u8; 6],
}

/// The `gso` member of `netif_extra_info.u`.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cstruct(little, view = NetifExtraGsoView)]
pub struct NetifExtraGso {
    /// C `size`: maximum payload per segment.
    pub len: u16,
    /// `XEN_NETIF_GSO_TYPE_*`.
    pub r#type: u8,
    /// Padding.
    pub pad: u8,
    /// `XEN_NETIF_GSO_FEAT_*`.
    pub features: u16,
}

/// `NETIF_RSP_*`, the `int16_t` status of a transmit response.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(u16)]
pub enum NetifStatus {
    /// `NETIF_RSP_OKAY` (0).
    #[default]
    Okay = 0,
    /// `NETIF_RSP_NULL` (1): no response, the slot was auxiliary.
    Null = 1,
    /// `NETIF_RSP_ERROR` (-1).
    Error = 0xffff,
    /// `NETIF_RSP_DROPPED` (-2).
    Dropped = 0xfffe,
    /// Anything else.
    Unknown(u16) = 2,
}

/// `NETTXF_csum_blank`: checksum to be filled in.
pub const NETTXF_CSUM_BLANK: u16 = 1 << 0;
/// `NETTXF_data_validated`.
pub const NETTXF_DATA_VALIDATED: u16 = 1 << 1;
/// `NETTXF_more_data`: the packet continues in the next slot.
pub const NETTXF_MORE_DATA: u16 = 1 << 2;
/// `NETTXF_extra_info`: a `netif_extra_info` slot follows.
pub const NETTXF_EXTRA_INFO: u16 = 1 << 3;
/// `NETRXF_data_validated`.
pub const NETRXF_DATA_VALIDATED: u16 = 1 << 0;
/// `NETRXF_csum_blank`.
pub const NETRXF_CSUM_BLANK: u16 = 1 << 1;
/// `NETRXF_more_data`.
pub const NETRXF_MORE_DATA: u16 = 1 << 2;
/// `NETRXF_extra_info`.
pub const NETRXF_EXTRA_INFO: u16 = 1 << 3;
/// `NETRXF_gso_prefix` (deprecated).
pub const NETRXF_GSO_PREFIX: u16 = 1 << 4;

/// The transmit ring: 12-byte entries, 256 of them in a page.
#[derive(Debug, Clone, Copy)]
pub struct NetifTx;

impl Protocol for NetifTx {
    type Req = NetifTxRequest;
    type Rsp = NetifTxResponse;
}

/// The receive ring: 8-byte entries, 256 of them in a page.
#[derive(Debug, Clone, Copy)]
pub struct NetifRx;

impl Protocol for NetifRx {
    type Req = NetifRxRequest;
    type Rsp = NetifRxResponse;
}

fn check_id(id: u16, ring_size: u32) -> Result<(), Corrupt> {
    if u32::from(id) >= ring_size {
        return Err(Corrupt::Field {
            field: "id",
            value: id.into(),
        });
    }
    Ok(())
}

impl NetifTxRequest {
    /// Validate a slot a front end sent (as netback does): `id` below the ring size, and the
    /// slot's data inside its page. `slot_len` is the data in this slot: `size` for every slot
    /// but a multi-slot packet's first, whose `size` is the packet's and whose own part the
    /// caller computes by subtracting the following slots.
    ///
    /// # Errors
    /// [`Corrupt::Field`] naming the field out of range.
    pub fn check(&self, ring_size: u32, slot_len: u16) -> Result<(), Corrupt> {
        check_id(self.id, ring_size)?;
        if usize::from(self.offset) + usize::from(slot_len) > PAGE_SIZE {
            return Err(Corrupt::Field {
                field: "offset",
                value: self.offset.into(),
            });
        }
        Ok(())
    }
}

impl NetifTxResponse {
    /// Validate a response a back end sent: `id` below the ring size and a known status.
    ///
    /// # Errors
    /// [`Corrupt::Field`] naming the field out of range.
    pub fn check(&self, ring_size: u32) -> Result<(), Corrupt> {
        check_id(self.id, ring_size)?;
        if let NetifStatus::Unknown(s) = self.status {
            return Err(Corrupt::Field {
                field: "status",
                value: s.into(),
            });
        }
        Ok(())
    }
}

impl NetifRxRequest {
    /// Validate a request a front end sent: `id` below the ring size.
    ///
    /// # Errors
    /// [`Corrupt::Field`] for the id.
    pub fn check(&self, ring_size: u32) -> Result<(), Corrupt> {
        check_id(self.id, ring_size)
    }
}

/// What a receive response says, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxResult {
    /// `len` bytes at `offset` of the granted page.
    Data {
        /// Offset in the page.
        offset: u16,
        /// Length (1..=4096 - offset).
        len: u16,
    },
    /// An empty slot (status 0).
    Empty,
    /// An error status (`NETIF_RSP_ERROR`, `NETIF_RSP_DROPPED`, or another negative value).
    Error(i16),
}

impl NetifRxResponse {
    /// The status as the C `int16_t`.
    pub fn status_i16(&self) -> i16 {
        i16::from_le_bytes(self.status.to_le_bytes())
    }

    /// Validate a response a back end sent: `id` below the ring size, and the data inside the
    /// page.
    ///
    /// # Errors
    /// [`Corrupt::Field`] naming the field out of range.
    pub fn parse(&self, ring_size: u32) -> Result<RxResult, Corrupt> {
        check_id(self.id, ring_size)?;
        let status = self.status_i16();
        if status < 0 {
            return Ok(RxResult::Error(status));
        }
        if status == 0 {
            return Ok(RxResult::Empty);
        }
        let len = status.unsigned_abs();
        if usize::from(self.offset) + usize::from(len) > PAGE_SIZE {
            return Err(Corrupt::Field {
                field: "offset",
                value: self.offset.into(),
            });
        }
        Ok(RxResult::Data {
            offset: self.offset,
            len,
        })
    }
}
