//! Block ring messages (`xen/include/public/io/blkif.h`), in the x86_64 ABI (natural
//! alignment: `id` at offset 8; the x86_32 ABI packs it at 4 and is not supported).
//!
//! `blkif_request` is 112 bytes: the 24-byte fixed part and 11 segments of 8 bytes, declared as
//! [`BlkifRequest::seg`] bytes and read through [`BlkifRequest::segment`] (the derive has no
//! arrays of layouts). [`BlkifRequest::parse`] validates what a front end sent; a back end uses
//! it before touching any grant.

use unistack_cstruct::{CEnum, Cstruct};

use crate::error::Corrupt;
use crate::ring::Protocol;

/// `BLKIF_MAX_SEGMENTS_PER_REQUEST`.
pub const MAX_SEGMENTS: usize = 11;
/// Sectors are 512 bytes; a 4096-byte page holds 8.
pub const SECTORS_PER_PAGE: u8 = 8;

/// `BLKIF_OP_*`.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum BlkifOp {
    /// `BLKIF_OP_READ`.
    #[default]
    Read = 0,
    /// `BLKIF_OP_WRITE`.
    Write = 1,
    /// `BLKIF_OP_WRITE_BARRIER`.
    WriteBarrier = 2,
    /// `BLKIF_OP_FLUSH_DISKCACHE`.
    FlushDiskcache = 3,
    /// `BLKIF_OP_RESERVED_1`.
    Reserved1 = 4,
    /// `BLKIF_OP_DISCARD` (a different request layout; not parsed here).
    Discard = 5,
    /// `BLKIF_OP_INDIRECT` (segments in granted pages; not parsed here).
    Indirect = 6,
    /// Anything else.
    Unknown(u8),
}

/// `struct blkif_request_segment` (8 bytes, padded).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cstruct(little, view = BlkifSegmentView)]
pub struct BlkifSegment {
    /// Grant of the I/O page.
    pub gref: u32,
    /// First sector in the page (inclusive).
    pub first_sect: u8,
    /// Last sector in the page (inclusive).
    pub last_sect: u8,
    /// Padding to the struct's 4-byte alignment.
    pub pad: [u8; 2],
}

/// `struct blkif_request` (112 bytes on x86_64).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(little, view = BlkifRequestView)]
pub struct BlkifRequest {
    /// `BLKIF_OP_*`.
    pub operation: BlkifOp,
    /// Segments in use.
    pub nr_segments: u8,
    /// The virtual device (`blkif_vdev_t`).
    pub handle: u16,
    /// Padding to `id`'s 8-byte alignment.
    pub pad: [u8; 4],
    /// The front end's id, echoed in the response.
    pub id: u64,
    /// First sector on the disk.
    pub sector_number: u64,
    /// `seg[11]`: see [`BlkifRequest::segment`].
    pub seg: [u8; 88],
}

impl Default for BlkifRequest {
    fn default() -> Self {
        BlkifRequest {
            operation: BlkifOp::Read,
            nr_segments: 0,
            handle: 0,
            pad: [0; 4],
            id: 0,
            sector_number: 0,
            seg: [0; 88],
        }
    }
}

/// `struct blkif_response` (16 bytes).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cstruct(little, view = BlkifResponseView)]
pub struct BlkifResponse {
    /// The request's id.
    pub id: u64,
    /// The request's operation.
    pub operation: BlkifOp,
    /// Padding.
    pub pad: u8,
    /// `BLKIF_RSP_*` (an `int16_t`).
    pub status: BlkifStatus,
    /// Padding to the struct's 8-byte alignment.
    pub pad2: [u8; 4],
}

/// `BLKIF_RSP_*`.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(u16)]
pub enum BlkifStatus {
    /// `BLKIF_RSP_OKAY` (0).
    #[default]
    Okay = 0,
    /// `BLKIF_RSP_ERROR` (-1).
    Error = 0xffff,
    /// `BLKIF_RSP_EOPNOTSUPP` (-2).
    EOpNotSupp = 0xfffe,
    /// Anything else.
    Unknown(u16) = 1,
}

/// The block ring: 112-byte entries, 32 of them in a page.
#[derive(Debug, Clone, Copy)]
pub struct Blkif;

impl Protocol for Blkif {
    type Req = BlkifRequest;
    type Rsp = BlkifResponse;
}

impl BlkifRequest {
    /// Segment `i` (0..11), decoded.
    pub fn segment(&self, i: usize) -> Option<BlkifSegment> {
        let at = i.checked_mul(BlkifSegment::SIZE)?;
        let bytes = self.seg.get(at..at + BlkifSegment::SIZE)?;
        Some(BlkifSegmentView::new_checked(bytes).ok()?.decode())
    }

    /// Set segment `i` (0..11); returns `false` (and changes nothing) if `i` is out of range.
    pub fn set_segment(&mut self, i: usize, seg: &BlkifSegment) -> bool {
        let Some(bytes) = i
            .checked_mul(BlkifSegment::SIZE)
            .and_then(|at| self.seg.get_mut(at..at + BlkifSegment::SIZE))
        else {
            return false;
        };
        bytes.copy_from_slice(&seg.to_bytes());
        true
    }

    /// Validate a request a front end sent: for reads and writes 1..=11 segments, each with
    /// `first_sect <= last_sect < 8`; flushes and barriers may carry segments under the same
    /// rules. Returns the number of segments to use.
    ///
    /// # Errors
    /// [`Corrupt::Field`] naming the field out of range (`operation` for discard, indirect and
    /// unknown operations, which this parser does not accept).
    pub fn parse(&self) -> Result<usize, Corrupt> {
        let n = usize::from(self.nr_segments);
        let bad = |field, value: u64| Corrupt::Field { field, value };
        match self.operation {
            BlkifOp::Read | BlkifOp::Write if n == 0 => Err(bad("nr_segments", 0))?,
            BlkifOp::Read | BlkifOp::Write | BlkifOp::FlushDiskcache | BlkifOp::WriteBarrier => {}
            op => Err(bad("operation", op.to_raw().into()))?,
        }
        if n > MAX_SEGMENTS {
            return Err(bad("nr_segments", n as u64));
        }
        for i in 0..n {
            let s = self.segment(i).ok_or(bad("nr_segments", n as u64))?;
            if s.last_sect >= SECTORS_PER_PAGE {
                return Err(bad("last_sect", s.last_sect.into()));
            }
            if s.first_sect > s.last_sect {
                return Err(bad("first_sect", s.first_sect.into()));
            }
        }
        Ok(n)
    }
}

impl BlkifResponse {
    /// Validate a response a back end sent: a known status.
    ///
    /// # Errors
    /// [`Corrupt::Field`] for an unknown status.
    pub fn check(&self) -> Result<(), Corrupt> {
        match self.status {
            BlkifStatus::Unknown(s) => Err(Corrupt::Field {
                field: "status",
                value: s.into(),
            }),
            _ => Ok(()),
        }
    }
}
