//! blkfront: the sans-IO request/completion core of a block front end.
//!
//! [`FrontConnector`] runs the front end's half of the xenbus handshake one non-blocking
//! [`poll`](FrontConnector::poll) at a time and yields a connected [`Blkfront`]. A
//! [`Blkfront`] never blocks: `submit_*` (or [`Blkfront::write`] and its guard) put a request
//! on the ring and return a [`Tag`]; [`Blkfront::poll`] takes one response off the ring,
//! checks it against the requests outstanding and returns a [`Completion`]; a completed read's
//! data is copied out through [`Blkfront::read_data`]. Waiting is the caller's business:
//! [`Blkfront::final_check`] then [`Blkfront::wait_event`], or the blocking
//! [`Disk`](crate::Disk).
//!
//! # Pages
//! At connect the front end shares, per request slot, one page per segment it will ever use
//! (11, or up to `SEGS` with indirect segments) plus one indirect page, each page its own
//! grant, and reuses them for every request (`feature-persistent`): the back end maps each
//! grant once. Request `k`'s bytes live at offset 0 of its slot's pages in order, so segment
//! `j` covers bytes `4096 j ..`, `first_sect` is always 0 and only the last segment may end
//! early.

use core::time::Duration;

use unistack_vchan::blkif::{
    Blkif, BlkifOp, BlkifRequest, BlkifRequestDiscard, BlkifRequestIndirect, BlkifSegment,
    BlkifStatus, MAX_SEGMENTS, SEGMENTS_PER_INDIRECT_PAGE,
};
use unistack_vchan::ring::FrontRing;
use unistack_vchan::shm::PAGE_SIZE;
use unistack_vchan::{Backend, Corrupt, EventChannel, GrantRef, Grants, Mapping};

use crate::error::Error;
use crate::xenbus::{
    DevicePaths, PROTOCOL, VDISK_READONLY, XenbusState, read_bool, read_num, read_state, write_num,
    write_state,
};

/// Bytes in a wire sector: `sector_number`, `first_sect`/`last_sect`, `nr_sectors` and the
/// `sectors` key count 512-byte units whatever the logical sector size (as Linux does).
pub const WIRE_SECTOR: u64 = 512;
/// Wire sectors in a page.
const SECTORS_PER_PAGE: u64 = PAGE_SIZE as u64 / WIRE_SECTOR;

/// What the back end offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Features {
    /// `feature-flush-cache`.
    pub flush: bool,
    /// `feature-barrier`.
    pub barrier: bool,
    /// `feature-discard`.
    pub discard: bool,
    /// `feature-persistent`.
    pub persistent: bool,
    /// `feature-max-indirect-segments` (0: no indirect requests).
    pub max_indirect_segments: u32,
    /// `discard-granularity` in bytes (the sector size if absent).
    pub discard_granularity: u32,
}

/// The device as the back end described it, and what this front end negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskInfo {
    /// Capacity in 512-byte wire sectors (`sectors`).
    pub sectors: u64,
    /// Logical sector size in bytes (`sector-size`).
    pub sector_size: u32,
    /// `info` has `VDISK_READONLY`, or `mode` is `r`.
    pub read_only: bool,
    /// The offered features.
    pub features: Features,
    /// Segments (pages) one request carries here: 11, or more with indirect segments.
    pub segments_per_request: usize,
}

impl DiskInfo {
    /// Capacity in bytes.
    pub fn capacity(&self) -> u64 {
        self.sectors.saturating_mul(WIRE_SECTOR)
    }

    /// The largest read or write one request carries, in bytes.
    pub fn max_request_bytes(&self) -> usize {
        self.segments_per_request * PAGE_SIZE
    }
}

/// Front-end choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrontConfig {
    /// Use indirect segments when the back end offers them (default `true`).
    pub indirect: bool,
}

impl Default for FrontConfig {
    fn default() -> Self {
        FrontConfig { indirect: true }
    }
}

/// What a request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `BLKIF_OP_READ` (or indirect).
    Read,
    /// `BLKIF_OP_WRITE` (or indirect).
    Write,
    /// `BLKIF_OP_WRITE_BARRIER`.
    Barrier,
    /// `BLKIF_OP_FLUSH_DISKCACHE`.
    Flush,
    /// `BLKIF_OP_DISCARD`.
    Discard,
}

/// How the back end answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `BLKIF_RSP_OKAY`.
    Okay,
    /// `BLKIF_RSP_ERROR`.
    Error,
    /// `BLKIF_RSP_EOPNOTSUPP`.
    NotSupported,
}

impl Status {
    /// `Ok` for [`Status::Okay`], else [`Error::Io`] or [`Error::NotSupported`].
    ///
    /// # Errors
    /// As above.
    pub fn result(self) -> Result<(), Error> {
        match self {
            Status::Okay => Ok(()),
            Status::Error => Err(Error::Io),
            Status::NotSupported => Err(Error::NotSupported),
        }
    }
}

/// Names a submitted request until its completion is consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag {
    slot: u8,
    id: u64,
}

impl Tag {
    /// The request id on the wire.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The request slot (`0..SLOTS`): at most one outstanding request per slot.
    pub fn slot(&self) -> usize {
        self.slot.into()
    }
}

/// A finished request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Completion {
    /// The request.
    pub tag: Tag,
    /// What it was.
    pub op: Op,
    /// The answer. A successful read keeps its slot until [`Blkfront::read_data`]'s guard is
    /// dropped or [`Blkfront::release`] is called; every other completion frees it at once.
    pub status: Status,
    /// Bytes the request covered (0 for a flush).
    pub len: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    Free,
    /// Reserved by a [`WriteRequest`] guard that has not submitted.
    Filling,
    InFlight {
        id: u64,
        op: Op,
        wire: BlkifOp,
        len: usize,
    },
    /// A successful read whose data waits to be copied out.
    Done {
        id: u64,
        len: usize,
    },
}

struct Slot<B: Grants, const SEGS: usize> {
    pages: [Option<B::Shared>; SEGS],
    grefs: [GrantRef; SEGS],
    indirect: Option<B::Shared>,
    indirect_gref: GrantRef,
    state: SlotState,
    generation: u32,
}

impl<B: Grants, const SEGS: usize> Slot<B, SEGS> {
    fn empty() -> Self {
        Slot {
            pages: core::array::from_fn(|_| None),
            grefs: [0; SEGS],
            indirect: None,
            indirect_gref: 0,
            state: SlotState::Free,
            generation: 0,
        }
    }

    /// Copy `src` into the slot's pages at byte `offset` of the request.
    fn write_at(&self, offset: usize, src: &[u8]) -> Result<(), Error> {
        let mut done = 0;
        while done < src.len() {
            let at = offset + done;
            let (page, off) = (at / PAGE_SIZE, at % PAGE_SIZE);
            let n = (PAGE_SIZE - off).min(src.len() - done);
            let shm = self
                .pages
                .get(page)
                .and_then(Option::as_ref)
                .ok_or(Error::InvalidArgument)?;
            shm.shm().write(off, &src[done..done + n])?;
            done += n;
        }
        Ok(())
    }

    fn fill(&self, offset: usize, len: usize, byte: u8) -> Result<(), Error> {
        let mut done = 0;
        while done < len {
            let at = offset + done;
            let (page, off) = (at / PAGE_SIZE, at % PAGE_SIZE);
            let n = (PAGE_SIZE - off).min(len - done);
            let shm = self
                .pages
                .get(page)
                .and_then(Option::as_ref)
                .ok_or(Error::InvalidArgument)?;
            shm.shm().fill(off, n, byte)?;
            done += n;
        }
        Ok(())
    }

    fn read_at(&self, offset: usize, dst: &mut [u8]) -> Result<(), Error> {
        let mut done = 0;
        while done < dst.len() {
            let at = offset + done;
            let (page, off) = (at / PAGE_SIZE, at % PAGE_SIZE);
            let n = (PAGE_SIZE - off).min(dst.len() - done);
            let shm = self
                .pages
                .get(page)
                .and_then(Option::as_ref)
                .ok_or(Error::InvalidArgument)?;
            shm.shm().read(off, &mut dst[done..done + n])?;
            done += n;
        }
        Ok(())
    }
}

/// A connected block front end: `SLOTS` requests in flight at most (≤ 32, one ring page),
/// each of up to `SEGS` pages (≤ 512; more than 11 only with indirect segments).
///
/// Dropping it writes state `Closed` and ends every grant.
pub struct Blkfront<B: Backend, const SLOTS: usize = 32, const SEGS: usize = 32> {
    // Field order is drop order: data pages, then the ring, then the event channel.
    slots: [Slot<B, SEGS>; SLOTS],
    ring: FrontRing<Blkif, B::Shared>,
    event: B::Channel,
    backend: B,
    paths: DevicePaths,
    info: DiskInfo,
    corrupt: Option<Corrupt>,
    in_flight: usize,
    notifications: u64,
}

impl<B: Backend, const SLOTS: usize, const SEGS: usize> core::fmt::Debug
    for Blkfront<B, SLOTS, SEGS>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Blkfront")
            .field("paths", &self.paths)
            .field("info", &self.info)
            .field("in_flight", &self.in_flight)
            .field("corrupt", &self.corrupt)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting for the back end to reach InitWait.
    WaitBack,
    /// Transport published; waiting for the back end to connect.
    WaitConnected,
    Done,
}

/// The front end's half of the handshake, one non-blocking step per [`poll`](Self::poll).
pub struct FrontConnector<B: Backend, const SLOTS: usize = 32, const SEGS: usize = 32> {
    backend: Option<B>,
    paths: DevicePaths,
    config: FrontConfig,
    stage: Stage,
    features: Features,
    pending: Option<Pending<B, SLOTS, SEGS>>,
}

/// What the connector built between Initialised and Connected: the slots, the ring, the event
/// channel and the segments per request.
type Pending<B, const SLOTS: usize, const SEGS: usize> = (
    [Slot<B, SEGS>; SLOTS],
    FrontRing<Blkif, <B as Grants>::Shared>,
    <B as unistack_vchan::Events>::Channel,
    usize,
);

impl<B: Backend, const SLOTS: usize, const SEGS: usize> core::fmt::Debug
    for FrontConnector<B, SLOTS, SEGS>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FrontConnector")
            .field("paths", &self.paths)
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

impl<B: Backend, const SLOTS: usize, const SEGS: usize> FrontConnector<B, SLOTS, SEGS> {
    /// Start connecting to the device at `paths` (its nodes made by
    /// [`create_device`](crate::create_device) or a real toolstack).
    pub fn new(backend: B, paths: DevicePaths, config: FrontConfig) -> Self {
        const {
            assert!(SLOTS >= 1 && SLOTS <= 32, "1..=32 slots (one ring page)");
            assert!(
                SEGS >= 1 && SEGS <= SEGMENTS_PER_INDIRECT_PAGE,
                "1..=512 segments"
            );
        }
        FrontConnector {
            backend: Some(backend),
            paths,
            config,
            stage: Stage::WaitBack,
            features: Features::default(),
            pending: None,
        }
    }

    /// One step: `Ok(Some(front))` once connected, `Err(Error::WouldBlock)` while the back end
    /// has not reached the next state (poll again later).
    ///
    /// # Errors
    /// [`Error::WouldBlock`] as above; [`Error::Closed`] if the back end is closing or its node
    /// is gone after it appeared; [`Corrupt::StoreValue`] for a malformed key; backend errors.
    /// After any error but `WouldBlock` the connector is finished.
    pub fn poll(&mut self) -> Result<Blkfront<B, SLOTS, SEGS>, Error> {
        let back = self.paths.back.clone();
        let state = match &self.backend {
            Some(b) => read_state(b, &back)?,
            None => return Err(Error::Closed),
        };
        if state.is_some_and(XenbusState::is_closing) {
            self.stage = Stage::Done;
            return Err(Error::Closed);
        }
        match self.stage {
            Stage::Done => Err(Error::Closed),
            Stage::WaitBack => {
                if state.is_none_or(|s| s < XenbusState::InitWait) {
                    return Err(Error::WouldBlock);
                }
                let r = self.publish();
                if r.is_err() {
                    self.stage = Stage::Done;
                    self.pending = None;
                }
                r?;
                self.stage = Stage::WaitConnected;
                Err(Error::WouldBlock)
            }
            Stage::WaitConnected => {
                if state != Some(XenbusState::Connected) {
                    return Err(Error::WouldBlock);
                }
                self.stage = Stage::Done;
                self.finish()
            }
        }
    }

    /// InitWait seen: read the features, share the ring, event channel and data pages,
    /// publish the transport and go to Initialised.
    fn publish(&mut self) -> Result<(), Error> {
        let b = self.backend.as_ref().ok_or(Error::Closed)?;
        let back = &self.paths.back;
        let max_indirect = read_num(b, back, "feature-max-indirect-segments")?.unwrap_or(0);
        self.features = Features {
            flush: false,
            barrier: false,
            discard: false,
            persistent: read_bool(b, back, "feature-persistent")?,
            max_indirect_segments: u32::try_from(max_indirect).unwrap_or(u32::MAX),
            discard_granularity: 0,
        };
        let segs = if self.config.indirect && max_indirect > MAX_SEGMENTS as u64 {
            SEGS.min(usize::try_from(max_indirect).unwrap_or(usize::MAX))
        } else {
            SEGS.min(MAX_SEGMENTS)
        };
        let peer = self.paths.back_dom;
        let mut ring_ref = [0];
        let ring_mem = b.share(peer, &mut ring_ref)?;
        let ring = FrontRing::<Blkif, _>::init(ring_mem)?;
        if (ring.size() as usize) < SLOTS {
            return Err(Error::InvalidArgument);
        }
        let event = b.alloc_unbound(peer)?;
        let mut slots: [Slot<B, SEGS>; SLOTS] = core::array::from_fn(|_| Slot::empty());
        for slot in &mut slots {
            for j in 0..segs {
                let mut r = [0];
                slot.pages[j] = Some(b.share(peer, &mut r)?);
                slot.grefs[j] = r[0];
            }
            if segs > MAX_SEGMENTS {
                let mut r = [0];
                slot.indirect = Some(b.share(peer, &mut r)?);
                slot.indirect_gref = r[0];
            }
        }
        let front = &self.paths.front;
        write_num(b, front, "ring-ref", ring_ref[0].into())?;
        write_num(b, front, "event-channel", event.port().into())?;
        b.write(front.join("protocol")?.as_str(), PROTOCOL)?;
        write_num(b, front, "feature-persistent", 1)?;
        write_state(b, front, XenbusState::Initialised)?;
        self.pending = Some((slots, ring, event, segs));
        Ok(())
    }

    /// Connected seen: read the device properties and go to Connected.
    fn finish(&mut self) -> Result<Blkfront<B, SLOTS, SEGS>, Error> {
        let (slots, ring, event, segs) = self.pending.take().ok_or(Error::Closed)?;
        let backend = self.backend.take().ok_or(Error::Closed)?;
        let (b, back) = (&backend, &self.paths.back);
        let sectors = read_num(b, back, "sectors")?.ok_or(Corrupt::StoreValue)?;
        let sector_size = read_num(b, back, "sector-size")?.unwrap_or(WIRE_SECTOR);
        if !(512..=4096).contains(&sector_size) || !sector_size.is_power_of_two() {
            return Err(Corrupt::StoreValue.into());
        }
        let sector_size = sector_size as u32;
        if sectors.checked_mul(WIRE_SECTOR).is_none()
            || !sectors.is_multiple_of(u64::from(sector_size) / WIRE_SECTOR)
        {
            return Err(Corrupt::StoreValue.into());
        }
        let info_bits = read_num(b, back, "info")?.unwrap_or(0);
        let mut mode = [0u8; 4];
        let ro_mode = matches!(
            b.read(back.join("mode")?.as_str(), &mut mode),
            Ok(Some("r"))
        );
        let mut features = self.features;
        features.flush = read_bool(b, back, "feature-flush-cache")?;
        features.barrier = read_bool(b, back, "feature-barrier")?;
        features.discard = read_bool(b, back, "feature-discard")?;
        let gran = read_num(b, back, "discard-granularity")?.unwrap_or(sector_size.into());
        features.discard_granularity = u32::try_from(gran)
            .ok()
            .filter(|g| *g >= sector_size && g.is_power_of_two())
            .unwrap_or(sector_size);
        let info = DiskInfo {
            sectors,
            sector_size,
            read_only: info_bits & u64::from(VDISK_READONLY) != 0 || ro_mode,
            features,
            segments_per_request: segs,
        };
        write_state(b, &self.paths.front, XenbusState::Connected)?;
        Ok(Blkfront {
            slots,
            ring,
            event,
            backend,
            paths: self.paths.clone(),
            info,
            corrupt: None,
            in_flight: 0,
            notifications: 0,
        })
    }
}

impl<B: Backend, const SLOTS: usize, const SEGS: usize> Blkfront<B, SLOTS, SEGS> {
    /// The device and what was negotiated.
    pub fn info(&self) -> &DiskInfo {
        &self.info
    }

    /// The store paths.
    pub fn paths(&self) -> &DevicePaths {
        &self.paths
    }

    /// The event channel (with the Linux backend, `AsFd` for `poll`).
    pub fn event(&self) -> &B::Channel {
        &self.event
    }

    /// The backend handle.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Requests submitted whose responses have not arrived.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Slots free for a new request.
    pub fn free_slots(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.state == SlotState::Free)
            .count()
    }

    /// The protocol violation that stopped this front end, if any.
    pub fn corrupt(&self) -> Option<Corrupt> {
        self.corrupt
    }

    fn check(&self) -> Result<(), Error> {
        match self.corrupt {
            Some(c) => Err(Error::Corrupt(c)),
            None => Ok(()),
        }
    }

    fn poison<T>(&mut self, r: Result<T, Error>) -> Result<T, Error> {
        if let Err(Error::Corrupt(c)) = r {
            self.corrupt.get_or_insert(c);
        }
        r
    }

    fn alloc_slot(&mut self) -> Result<usize, Error> {
        let i = self
            .slots
            .iter()
            .position(|s| s.state == SlotState::Free)
            .ok_or(Error::WouldBlock)?;
        Ok(i)
    }

    /// Check a read/write/discard range: inside the disk, aligned to the sector size.
    fn check_range(&self, offset: u64, len: u64) -> Result<(), Error> {
        if len == 0 {
            return Err(Error::InvalidArgument);
        }
        crate::device::check_range(
            offset,
            len,
            self.info.capacity(),
            self.info.sector_size,
            true,
        )
        .map(drop)
        .ok_or(Error::InvalidArgument)
    }

    fn check_rw(&self, offset: u64, len: usize) -> Result<(), Error> {
        if len > self.info.max_request_bytes() {
            return Err(Error::InvalidArgument);
        }
        self.check_range(offset, len as u64)
    }

    fn next_id(&mut self, slot: usize) -> u64 {
        let s = &mut self.slots[slot];
        s.generation = s.generation.wrapping_add(1);
        (u64::from(s.generation) << 8) | slot as u64
    }

    fn handle(&self) -> u16 {
        self.paths.devid as u16
    }

    /// Put `req` on the ring for `slot` and tell the back end if it asked.
    fn push(&mut self, slot: usize, req: &BlkifRequest, op: Op, len: usize) -> Result<Tag, Error> {
        self.ring.push_request(req)?;
        self.slots[slot].state = SlotState::InFlight {
            id: req.id,
            op,
            wire: req.operation,
            len,
        };
        self.in_flight += 1;
        if self.ring.push_requests_and_check_notify()? {
            self.event.notify()?;
            self.notifications += 1;
        }
        Ok(Tag {
            slot: slot as u8,
            id: req.id,
        })
    }

    /// A read or write of `len` bytes at `offset`, its data already in `slot`'s pages.
    fn push_rw(&mut self, slot: usize, op: Op, offset: u64, len: usize) -> Result<Tag, Error> {
        let nsect = len as u64 / WIRE_SECTOR;
        let segs = nsect.div_ceil(SECTORS_PER_PAGE) as usize;
        let seg = |j: usize, gref: GrantRef| BlkifSegment {
            gref,
            first_sect: 0,
            last_sect: ((nsect - j as u64 * SECTORS_PER_PAGE).min(SECTORS_PER_PAGE) - 1) as u8,
            pad: [0; 2],
        };
        let wire = match op {
            Op::Read => BlkifOp::Read,
            Op::Write => BlkifOp::Write,
            Op::Barrier => BlkifOp::WriteBarrier,
            Op::Flush | Op::Discard => return Err(Error::InvalidArgument),
        };
        let id = self.next_id(slot);
        let sector_number = offset / WIRE_SECTOR;
        let req = if segs <= MAX_SEGMENTS {
            let mut req = BlkifRequest {
                operation: wire,
                nr_segments: segs as u8,
                handle: self.handle(),
                id,
                sector_number,
                ..Default::default()
            };
            for j in 0..segs {
                req.set_segment(j, &seg(j, self.slots[slot].grefs[j]));
            }
            req
        } else {
            let s = &self.slots[slot];
            let page = s.indirect.as_ref().ok_or(Error::InvalidArgument)?;
            for j in 0..segs {
                let bytes = seg(j, s.grefs[j]).to_bytes();
                page.shm().write(j * BlkifSegment::SIZE, &bytes)?;
            }
            let mut ind = BlkifRequestIndirect {
                operation: BlkifOp::Indirect,
                indirect_op: wire,
                nr_segments: segs as u16,
                id,
                sector_number,
                handle: self.handle(),
                ..Default::default()
            };
            ind.set_indirect_gref(0, s.indirect_gref);
            BlkifRequest::from_indirect(&ind)
        };
        self.push(slot, &req, op, len)
    }

    /// Reserve a slot for a write of `len` bytes at `offset` and fill its granted pages in
    /// place through the guard, then [`submit`](WriteRequest::submit) it: the data is
    /// copied once, from wherever the caller has it straight into the page the back end reads.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty, unaligned, out-of-range or too large write
    /// ([`DiskInfo::max_request_bytes`]); [`Error::ReadOnly`]; [`Error::WouldBlock`] if every
    /// slot is busy; the sticky [`Error::Corrupt`].
    pub fn write(
        &mut self,
        offset: u64,
        len: usize,
    ) -> Result<WriteRequest<'_, B, SLOTS, SEGS>, Error> {
        self.check()?;
        if self.info.read_only {
            return Err(Error::ReadOnly);
        }
        self.check_rw(offset, len)?;
        let slot = self.alloc_slot()?;
        self.slots[slot].state = SlotState::Filling;
        Ok(WriteRequest {
            front: self,
            slot,
            offset,
            len,
            submitted: false,
        })
    }

    /// Write `data` at `offset` (copied into a granted page, then submitted).
    ///
    /// # Errors
    /// As [`write`](Self::write).
    pub fn submit_write(&mut self, offset: u64, data: &[u8]) -> Result<Tag, Error> {
        let w = self.write(offset, data.len())?;
        w.write_at(0, data)?;
        w.submit()
    }

    /// Read `len` bytes at `offset`; when it completes, copy the data out with
    /// [`read_data`](Self::read_data).
    ///
    /// # Errors
    /// As [`write`](Self::write), except [`Error::ReadOnly`].
    pub fn submit_read(&mut self, offset: u64, len: usize) -> Result<Tag, Error> {
        self.check()?;
        self.check_rw(offset, len)?;
        let slot = self.alloc_slot()?;
        let r = self.push_rw(slot, Op::Read, offset, len);
        self.poison(r)
    }

    /// Ask the back end to make every write it acknowledged durable
    /// (`BLKIF_OP_FLUSH_DISKCACHE`). Writes acknowledged before this completes are covered.
    ///
    /// # Errors
    /// [`Error::NotSupported`] without `feature-flush-cache`; [`Error::WouldBlock`]; the
    /// sticky [`Error::Corrupt`].
    pub fn submit_flush(&mut self) -> Result<Tag, Error> {
        self.check()?;
        if !self.info.features.flush {
            return Err(Error::NotSupported);
        }
        let slot = self.alloc_slot()?;
        let req = BlkifRequest {
            operation: BlkifOp::FlushDiskcache,
            nr_segments: 0,
            handle: self.handle(),
            id: self.next_id(slot),
            ..Default::default()
        };
        let r = self.push(slot, &req, Op::Flush, 0);
        self.poison(r)
    }

    /// Discard `len` bytes at `offset` (`BLKIF_OP_DISCARD`, never secure).
    ///
    /// # Errors
    /// [`Error::NotSupported`] without `feature-discard`; [`Error::ReadOnly`];
    /// [`Error::InvalidArgument`] for an empty, unaligned or out-of-range range;
    /// [`Error::WouldBlock`]; the sticky [`Error::Corrupt`].
    pub fn submit_discard(&mut self, offset: u64, len: u64) -> Result<Tag, Error> {
        self.check()?;
        if !self.info.features.discard {
            return Err(Error::NotSupported);
        }
        if self.info.read_only {
            return Err(Error::ReadOnly);
        }
        self.check_range(offset, len)?;
        let slot = self.alloc_slot()?;
        let d = BlkifRequestDiscard {
            operation: BlkifOp::Discard,
            flag: 0,
            handle: self.handle(),
            pad: [0; 4],
            id: self.next_id(slot),
            sector_number: offset / WIRE_SECTOR,
            nr_sectors: len / WIRE_SECTOR,
        };
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let r = self.push(slot, &BlkifRequest::from_discard(&d), Op::Discard, len);
        self.poison(r)
    }

    /// Take one response off the ring, if there is one, and check it: a known status, the id
    /// of a request in flight (ids carry the slot and a per-slot generation, so a repeated or
    /// stale id does not match), the operation that request had.
    ///
    /// # Errors
    /// [`Error::Corrupt`] (sticky) for a violation: [`Corrupt::UnknownId`] for an unknown,
    /// repeated or stale id, [`Corrupt::Field`] for a bad status or operation,
    /// [`Corrupt::Index`] for a response producer index out of range.
    pub fn poll(&mut self) -> Result<Option<Completion>, Error> {
        self.check()?;
        let r = self.poll_inner();
        self.poison(r)
    }

    fn poll_inner(&mut self) -> Result<Option<Completion>, Error> {
        let Some(rsp) = self.ring.poll_response()? else {
            return Ok(None);
        };
        rsp.check()?;
        let unknown = Corrupt::UnknownId(rsp.id);
        let slot = usize::try_from(rsp.id & 0xff).map_err(|_| unknown)?;
        let s = self.slots.get_mut(slot).ok_or(unknown)?;
        let SlotState::InFlight { id, op, wire, len } = s.state else {
            return Err(unknown.into());
        };
        if id != rsp.id {
            return Err(unknown.into());
        }
        let inner = match op {
            Op::Read => BlkifOp::Read,
            Op::Write => BlkifOp::Write,
            _ => wire,
        };
        if rsp.operation != wire && rsp.operation != inner {
            return Err(Corrupt::Field {
                field: "operation",
                value: rsp.operation.to_raw().into(),
            }
            .into());
        }
        let status = match rsp.status {
            BlkifStatus::Okay => Status::Okay,
            BlkifStatus::EOpNotSupp => Status::NotSupported,
            _ => Status::Error,
        };
        s.state = if op == Op::Read && status == Status::Okay {
            SlotState::Done { id, len }
        } else {
            SlotState::Free
        };
        self.in_flight -= 1;
        Ok(Some(Completion {
            tag: Tag {
                slot: slot as u8,
                id,
            },
            op,
            status,
            len,
        }))
    }

    /// The data of a successful read, to copy out; the slot is freed when the guard drops.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `tag` is not a completed, successful, unreleased read.
    pub fn read_data(&mut self, tag: Tag) -> Result<ReadData<'_, B, SLOTS, SEGS>, Error> {
        let slot = tag.slot();
        match self.slots.get(slot).map(|s| s.state) {
            Some(SlotState::Done { id, len }) if id == tag.id => Ok(ReadData {
                front: self,
                slot,
                len,
            }),
            _ => Err(Error::InvalidArgument),
        }
    }

    /// Free a completed read's slot without copying its data.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] as for [`read_data`](Self::read_data).
    pub fn release(&mut self, tag: Tag) -> Result<(), Error> {
        drop(self.read_data(tag)?);
        Ok(())
    }

    /// Whether responses are waiting; if none, ask the back end for an event on the next one
    /// and look again (`RING_FINAL_CHECK_FOR_RESPONSES`). Call it right before
    /// [`wait_event`](Self::wait_event), so no response is missed.
    ///
    /// # Errors
    /// The sticky [`Error::Corrupt`]; a response index out of range.
    pub fn final_check(&mut self) -> Result<bool, Error> {
        self.check()?;
        let r = self.ring.final_check_for_responses().map_err(Error::from);
        self.poison(r)
    }

    /// Wait for an event from the back end, at most `timeout`; returns whether one came.
    ///
    /// # Errors
    /// Backend errors.
    pub fn wait_event(&self, timeout: Option<Duration>) -> Result<bool, Error> {
        Ok(self.event.wait(timeout)?)
    }

    /// Whether the back end's process still exists, when the platform can tell
    /// ([`unistack_vchan::EventChannel::peer_alive`]: `Some(false)` once it died without
    /// closing).
    pub fn peer_alive(&self) -> Option<bool> {
        self.event.peer_alive()
    }

    /// The back end's xenbus state now (`None` if its node is gone).
    ///
    /// # Errors
    /// A malformed value; store errors.
    pub fn peer_state(&self) -> Result<Option<XenbusState>, Error> {
        read_state(&self.backend, &self.paths.back)
    }

    /// Events sent to the back end for new requests: one per request when the back end
    /// sleeps between them, none while it polls the ring ([`BackConfig::spin`]).
    ///
    /// [`BackConfig::spin`]: crate::BackConfig::spin
    pub fn notifications(&self) -> u64 {
        self.notifications
    }
}

impl<B: Backend, const SLOTS: usize, const SEGS: usize> Drop for Blkfront<B, SLOTS, SEGS> {
    fn drop(&mut self) {
        let _ = write_state(&self.backend, &self.paths.front, XenbusState::Closing);
        let _ = write_state(&self.backend, &self.paths.front, XenbusState::Closed);
        let _ = self.event.notify();
    }
}

/// A reserved write: fill the granted pages in place, then submit. Dropped unsubmitted, it
/// frees its slot.
pub struct WriteRequest<'a, B: Backend, const SLOTS: usize, const SEGS: usize> {
    front: &'a mut Blkfront<B, SLOTS, SEGS>,
    slot: usize,
    offset: u64,
    len: usize,
    submitted: bool,
}

impl<B: Backend, const SLOTS: usize, const SEGS: usize> core::fmt::Debug
    for WriteRequest<'_, B, SLOTS, SEGS>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WriteRequest")
            .field("slot", &self.slot)
            .field("offset", &self.offset)
            .field("len", &self.len)
            .finish()
    }
}

impl<B: Backend, const SLOTS: usize, const SEGS: usize> WriteRequest<'_, B, SLOTS, SEGS> {
    /// Bytes this write covers.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it covers nothing (never: empty writes are refused).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn range(&self, offset: usize, n: usize) -> Result<(), Error> {
        match offset.checked_add(n) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(Error::InvalidArgument),
        }
    }

    /// Copy `src` into the pages at byte `offset` of this write.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the range is not inside the write.
    pub fn write_at(&self, offset: usize, src: &[u8]) -> Result<(), Error> {
        self.range(offset, src.len())?;
        self.front.slots[self.slot].write_at(offset, src)
    }

    /// Set `len` bytes at `offset` to `byte`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the range is not inside the write.
    pub fn fill(&self, offset: usize, len: usize, byte: u8) -> Result<(), Error> {
        self.range(offset, len)?;
        self.front.slots[self.slot].fill(offset, len, byte)
    }

    /// Put the write on the ring (`BLKIF_OP_WRITE`, indirect if it needs more than 11 pages).
    ///
    /// # Errors
    /// The sticky [`Error::Corrupt`]; backend errors.
    pub fn submit(mut self) -> Result<Tag, Error> {
        self.submit_as(Op::Write)
    }

    /// Put the write on the ring as a barrier (`BLKIF_OP_WRITE_BARRIER`): every earlier
    /// write is done before it, every later one after.
    ///
    /// # Errors
    /// [`Error::NotSupported`] without `feature-barrier`; [`Error::InvalidArgument`] if it
    /// needs more than 11 pages (barriers cannot be indirect); as [`submit`](Self::submit).
    pub fn submit_barrier(mut self) -> Result<Tag, Error> {
        if !self.front.info.features.barrier {
            return Err(Error::NotSupported);
        }
        if self.len > MAX_SEGMENTS * PAGE_SIZE {
            return Err(Error::InvalidArgument);
        }
        self.submit_as(Op::Barrier)
    }

    fn submit_as(&mut self, op: Op) -> Result<Tag, Error> {
        let front = &mut *self.front;
        let r = front.push_rw(self.slot, op, self.offset, self.len);
        let r = front.poison(r);
        self.submitted = r.is_ok();
        r
    }
}

impl<B: Backend, const SLOTS: usize, const SEGS: usize> Drop for WriteRequest<'_, B, SLOTS, SEGS> {
    fn drop(&mut self) {
        if !self.submitted {
            self.front.slots[self.slot].state = SlotState::Free;
        }
    }
}

/// A completed read's data in the granted pages. Each byte is copied once, straight into the
/// caller's buffer; the slot is freed on drop.
pub struct ReadData<'a, B: Backend, const SLOTS: usize, const SEGS: usize> {
    front: &'a mut Blkfront<B, SLOTS, SEGS>,
    slot: usize,
    len: usize,
}

impl<B: Backend, const SLOTS: usize, const SEGS: usize> core::fmt::Debug
    for ReadData<'_, B, SLOTS, SEGS>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReadData")
            .field("slot", &self.slot)
            .field("len", &self.len)
            .finish()
    }
}

impl<B: Backend, const SLOTS: usize, const SEGS: usize> ReadData<'_, B, SLOTS, SEGS> {
    /// Bytes read.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was read (never).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copy `dst.len()` bytes starting `offset` bytes into the read.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the range is not inside the read.
    pub fn read_at(&self, offset: usize, dst: &mut [u8]) -> Result<(), Error> {
        match offset.checked_add(dst.len()) {
            Some(end) if end <= self.len => self.front.slots[self.slot].read_at(offset, dst),
            _ => Err(Error::InvalidArgument),
        }
    }
}

impl<B: Backend, const SLOTS: usize, const SEGS: usize> Drop for ReadData<'_, B, SLOTS, SEGS> {
    fn drop(&mut self) {
        self.front.slots[self.slot].state = SlotState::Free;
    }
}
