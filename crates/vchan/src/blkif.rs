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

/// `BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST`: indirect pages one [`BlkifRequestIndirect`] names.
pub const MAX_INDIRECT_PAGES: usize = 8;
/// Segments ([`BlkifSegment`], 8 bytes each) in one 4096-byte indirect page.
pub const SEGMENTS_PER_INDIRECT_PAGE: usize = 512;
/// `BLKIF_DISCARD_SECURE`: the [`BlkifRequestDiscard::flag`] bit asking for a secure discard.
pub const DISCARD_SECURE: u8 = 1;

/// `struct blkif_request_discard` (32 bytes on x86_64): the ring entry of a
/// [`BlkifOp::Discard`] request, in the same slot as a [`BlkifRequest`] (which is larger).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cstruct(little, view = BlkifRequestDiscardView)]
pub struct BlkifRequestDiscard {
    /// [`BlkifOp::Discard`].
    pub operation: BlkifOp,
    /// [`DISCARD_SECURE`] or zero.
    pub flag: u8,
    /// The virtual device.
    pub handle: u16,
    /// Padding to `id`'s 8-byte alignment.
    pub pad: [u8; 4],
    /// The front end's id, echoed in the response.
    pub id: u64,
    /// First sector to discard.
    pub sector_number: u64,
    /// Contiguous sectors to discard.
    pub nr_sectors: u64,
}

/// `struct blkif_request_indirect` (64 bytes on x86_64; the i386 padding is not modelled):
/// the ring entry of a [`BlkifOp::Indirect`] request, whose segments live in granted pages of
/// [`SEGMENTS_PER_INDIRECT_PAGE`] [`BlkifSegment`]s each.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cstruct(little, view = BlkifRequestIndirectView)]
pub struct BlkifRequestIndirect {
    /// [`BlkifOp::Indirect`].
    pub operation: BlkifOp,
    /// The real operation: [`BlkifOp::Read`] or [`BlkifOp::Write`].
    pub indirect_op: BlkifOp,
    /// Segments, in the indirect pages.
    pub nr_segments: u16,
    /// Padding to `id`'s 8-byte alignment.
    pub pad: [u8; 4],
    /// The front end's id, echoed in the response.
    pub id: u64,
    /// First sector on the disk.
    pub sector_number: u64,
    /// The virtual device.
    pub handle: u16,
    /// Padding to the grant references' 4-byte alignment.
    pub pad2: [u8; 2],
    /// `indirect_grefs[8]`: see [`BlkifRequestIndirect::indirect_gref`].
    pub indirect_grefs: [u8; 32],
    /// Padding to the struct's 8-byte alignment.
    pub pad3: [u8; 4],
}

impl BlkifRequestIndirect {
    /// Indirect page grant `i` (0..8).
    pub fn indirect_gref(&self, i: usize) -> Option<u32> {
        let at = i.checked_mul(4)?;
        let b = self.indirect_grefs.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Set indirect page grant `i` (0..8); returns `false` (and changes nothing) if `i` is out
    /// of range.
    pub fn set_indirect_gref(&mut self, i: usize, gref: u32) -> bool {
        let Some(b) = i
            .checked_mul(4)
            .and_then(|at| self.indirect_grefs.get_mut(at..at + 4))
        else {
            return false;
        };
        b.copy_from_slice(&gref.to_le_bytes());
        true
    }

    /// The number of indirect pages `nr_segments` segments occupy (rounded up).
    pub fn pages_for(nr_segments: usize) -> usize {
        nr_segments.div_ceil(SEGMENTS_PER_INDIRECT_PAGE)
    }
}

impl BlkifRequest {
    /// This ring entry read as a discard request (meaningful when `operation` is
    /// [`BlkifOp::Discard`]): the first [`BlkifRequestDiscard::SIZE`] bytes reinterpreted.
    pub fn as_discard(&self) -> BlkifRequestDiscard {
        let bytes = self.to_bytes();
        let mut d = [0u8; BlkifRequestDiscard::SIZE];
        d.copy_from_slice(&bytes[..BlkifRequestDiscard::SIZE]);
        BlkifRequestDiscard::from_bytes(&d)
    }

    /// This ring entry read as an indirect request (meaningful when `operation` is
    /// [`BlkifOp::Indirect`]).
    pub fn as_indirect(&self) -> BlkifRequestIndirect {
        let bytes = self.to_bytes();
        let mut d = [0u8; BlkifRequestIndirect::SIZE];
        d.copy_from_slice(&bytes[..BlkifRequestIndirect::SIZE]);
        BlkifRequestIndirect::from_bytes(&d)
    }

    /// A ring entry carrying `discard` (the rest of the slot zeroed).
    pub fn from_discard(discard: &BlkifRequestDiscard) -> Self {
        let mut bytes = [0u8; BlkifRequest::SIZE];
        bytes[..BlkifRequestDiscard::SIZE].copy_from_slice(&discard.to_bytes());
        BlkifRequest::from_bytes(&bytes)
    }

    /// A ring entry carrying `indirect` (the rest of the slot zeroed).
    pub fn from_indirect(indirect: &BlkifRequestIndirect) -> Self {
        let mut bytes = [0u8; BlkifRequest::SIZE];
        bytes[..BlkifRequestIndirect::SIZE].copy_from_slice(&indirect.to_bytes());
        BlkifRequest::from_bytes(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discard_and_indirect_layouts_match_blkif_h_on_x86_64() {
        // Offsets from `offsetof` on x86_64 (crates/blk/tests/c_layout.rs checks them against
        // the real header with a C compiler when one and the headers are present).
        assert_eq!(BlkifRequestDiscard::SIZE, 32);
        assert_eq!(BlkifRequestDiscard::FLAG.offset, 1);
        assert_eq!(BlkifRequestDiscard::ID.offset, 8);
        assert_eq!(BlkifRequestDiscard::SECTOR_NUMBER.offset, 16);
        assert_eq!(BlkifRequestDiscard::NR_SECTORS.offset, 24);
        assert_eq!(BlkifRequestIndirect::SIZE, 64);
        assert_eq!(BlkifRequestIndirect::INDIRECT_OP.offset, 1);
        assert_eq!(BlkifRequestIndirect::NR_SEGMENTS.offset, 2);
        assert_eq!(BlkifRequestIndirect::ID.offset, 8);
        assert_eq!(BlkifRequestIndirect::SECTOR_NUMBER.offset, 16);
        assert_eq!(BlkifRequestIndirect::HANDLE.offset, 24);
        assert_eq!(BlkifRequestIndirect::INDIRECT_GREFS.offset, 28);
        assert_eq!(SEGMENTS_PER_INDIRECT_PAGE * BlkifSegment::SIZE, 4096);
    }

    #[test]
    fn discard_and_indirect_round_trip_through_a_ring_entry() {
        let d = BlkifRequestDiscard {
            operation: BlkifOp::Discard,
            flag: DISCARD_SECURE,
            handle: 7,
            pad: [0; 4],
            id: 0x1122_3344_5566_7788,
            sector_number: 99,
            nr_sectors: 1 << 40,
        };
        let r = BlkifRequest::from_discard(&d);
        assert_eq!(r.operation, BlkifOp::Discard);
        assert_eq!(r.id, d.id);
        assert_eq!(r.as_discard(), d);
        let mut i = BlkifRequestIndirect {
            operation: BlkifOp::Indirect,
            indirect_op: BlkifOp::Write,
            nr_segments: 300,
            id: 5,
            sector_number: 1 << 33,
            handle: 3,
            ..Default::default()
        };
        for k in 0..MAX_INDIRECT_PAGES {
            assert!(i.set_indirect_gref(k, 1000 + k as u32));
        }
        assert!(!i.set_indirect_gref(MAX_INDIRECT_PAGES, 1));
        assert_eq!(i.indirect_gref(7), Some(1007));
        assert_eq!(i.indirect_gref(8), None);
        let r = BlkifRequest::from_indirect(&i);
        assert_eq!(
            (r.operation, r.id, r.sector_number),
            (BlkifOp::Indirect, 5, 1 << 33)
        );
        assert_eq!(r.as_indirect(), i);
        assert_eq!(BlkifRequestIndirect::pages_for(0), 0);
        assert_eq!(BlkifRequestIndirect::pages_for(512), 1);
        assert_eq!(BlkifRequestIndirect::pages_for(513), 2);
    }
}
