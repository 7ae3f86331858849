//! blkback: serve a disk image (or any [`Storage`]) to a block front end over the ring.
//!
//! [`BackConnector`] runs the back end's half of the handshake; [`Blkback::serve_once`]
//! handles every request waiting on the ring without blocking; [`Blkback::run`] loops on it,
//! sleeping on the event channel, until the front end closes. Run it in a thread (the
//! [`local`](unistack_vchan::local) backend) or in another process (the
//! [`linux`](unistack_vchan::linux) backend and the `unistack-blkback` binary).
//!
//! # Validation
//! Every request is copied out of the ring once and checked before any grant is mapped or
//! any byte of the image is touched; a bad request gets a response, never a panic:
//!
//! | request | answer |
//! |---------|--------|
//! | unknown or reserved operation, barrier/discard/indirect/flush not offered, secure discard | `BLKIF_RSP_EOPNOTSUPP` |
//! | read/write with 0 or more than 11 segments; indirect with 0 or more than `feature-max-indirect-segments`, or an inner operation other than read/write | `BLKIF_RSP_ERROR` |
//! | a segment with `first_sect > last_sect` or `last_sect > 7`, or not aligned to the logical sector size | `BLKIF_RSP_ERROR` |
//! | a range past the capacity (or overflowing) | `BLKIF_RSP_ERROR` |
//! | a grant (data or indirect page) that cannot be mapped | `BLKIF_RSP_ERROR` |
//! | a write, barrier or discard on a read-only image | `BLKIF_RSP_ERROR` |
//! | an I/O error on the image | `BLKIF_RSP_ERROR` |
//!
//! A write is all or nothing as far as validation goes: every segment is checked and every
//! page mapped and copied before the image is written. A ring whose `req_prod` runs more
//! than the ring's size ahead of our consumer is a [`Corrupt`] error from `serve_once`: the
//! ring cannot be trusted any more and the back end stops.
//!
//! # Copies
//! The back end cannot hand a granted page to `pwrite`: that would need a `&[u8]` into memory
//! the front end may change at any time (and `unsafe`, which this crate forbids). So data is
//! copied once between the granted pages and a private, page-aligned buffer, and that buffer
//! goes to `pread`/`pwrite` on an `O_DIRECT` descriptor (no page-cache copy) where the
//! filesystem allows it, else the buffered one.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, Instant};
use std::vec::Vec;

use unistack_vchan::blkif::{
    Blkif, BlkifOp, BlkifRequest, BlkifRequestIndirect, BlkifResponse, BlkifSegment, BlkifStatus,
    DISCARD_SECURE, MAX_INDIRECT_PAGES, MAX_SEGMENTS, SEGMENTS_PER_INDIRECT_PAGE,
};
use unistack_vchan::ring::BackRing;
use unistack_vchan::shm::{PAGE_SIZE, Shm, ShmRange, read_file_into, write_file_from};
use unistack_vchan::{Backend, Corrupt, EventChannel, GrantRef, Grants, Mapping};

use crate::error::Error;
use crate::front::WIRE_SECTOR;
use crate::xenbus::{
    DevicePaths, PROTOCOL, VDISK_READONLY, XenbusState, read_num, read_state, write_num,
    write_state,
};

/// What a back end serves: a byte-addressed store with a fixed length.
///
/// Every call the back end makes is inside `0..len()` and, for writes and discards, on a
/// read-write store; implementations may rely on it (the fuzz target checks it).
pub trait Storage {
    /// Length in bytes.
    fn len(&self) -> u64;

    /// Whether the length is zero.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether writes are refused.
    fn read_only(&self) -> bool;

    /// Fill `buf` from `offset`.
    ///
    /// # Errors
    /// I/O errors.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()>;

    /// Write `buf` at `offset`.
    ///
    /// # Errors
    /// I/O errors.
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()>;

    /// Read at `offset` straight into the front end's granted pages, in order (zero-copy:
    /// the kernel fills the pages as a disk's DMA would). `Ok(false)` means this store cannot,
    /// and the back end reads into its buffer with [`read_at`](Self::read_at) and copies.
    ///
    /// # Errors
    /// I/O errors.
    fn read_into_shared(&mut self, offset: u64, dst: &[ShmRange<'_>]) -> io::Result<bool> {
        let _ = (offset, dst);
        Ok(false)
    }

    /// Write the front end's granted pages, in order, at `offset` (zero-copy); `Ok(false)`
    /// means this store cannot, as for [`read_into_shared`](Self::read_into_shared).
    ///
    /// # Errors
    /// I/O errors.
    fn write_from_shared(&mut self, offset: u64, src: &[ShmRange<'_>]) -> io::Result<bool> {
        let _ = (offset, src);
        Ok(false)
    }

    /// Make every completed write durable (`fdatasync`).
    ///
    /// # Errors
    /// I/O errors.
    fn sync(&mut self) -> io::Result<()>;

    /// Drop `len` bytes at `offset`; they read as zeros afterwards.
    ///
    /// # Errors
    /// I/O errors.
    fn discard(&mut self, offset: u64, len: u64) -> io::Result<()>;
}

/// The alignment `O_DIRECT` gets from us: buffers, offsets and lengths on 4096 bytes.
const DIRECT_ALIGN: usize = 4096;

/// A disk image file: `pread`/`pwrite` through an `O_DIRECT` descriptor when the request is
/// 4096-aligned and the filesystem accepts it, else through a buffered one; `fdatasync` for
/// flushes; `fallocate(PUNCH_HOLE)` for discards (zeros written where holes are refused).
#[derive(Debug)]
pub struct Image {
    file: File,
    direct: Option<File>,
    len: u64,
    read_only: bool,
    fallbacks: u64,
}

impl Image {
    /// Open `path` (read-only or read-write), trying `O_DIRECT` as well.
    ///
    /// # Errors
    /// If the file cannot be opened.
    pub fn open(path: impl AsRef<Path>, read_only: bool) -> io::Result<Self> {
        Self::open_with(path.as_ref(), read_only, true)
    }

    /// Open `path` without `O_DIRECT` (the page cache serves every request).
    ///
    /// # Errors
    /// If the file cannot be opened.
    pub fn open_buffered(path: impl AsRef<Path>, read_only: bool) -> io::Result<Self> {
        Self::open_with(path.as_ref(), read_only, false)
    }

    fn open_with(path: &Path, read_only: bool, direct: bool) -> io::Result<Self> {
        let mut o = OpenOptions::new();
        o.read(true).write(!read_only);
        let file = o.open(path)?;
        let len = file.metadata()?.len();
        let direct = if direct {
            o.custom_flags(libc::O_DIRECT).open(path).ok()
        } else {
            None
        };
        Ok(Image {
            file,
            direct,
            len,
            read_only,
            fallbacks: 0,
        })
    }

    /// Whether an `O_DIRECT` descriptor is open.
    pub fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// Requests that went to the buffered descriptor although `O_DIRECT` was open
    /// (unaligned, or refused by the filesystem).
    pub fn buffered_fallbacks(&self) -> u64 {
        self.fallbacks
    }

    /// Run `op` on the `O_DIRECT` descriptor when `offset` and the buffers
    /// (`buffers_aligned`) allow it, else — or if the filesystem refuses it (`EINVAL`) — on the
    /// buffered one; each fallback with `O_DIRECT` open is counted.
    fn io(
        &mut self,
        offset: u64,
        buffers_aligned: bool,
        mut op: impl FnMut(&File) -> io::Result<()>,
    ) -> io::Result<()> {
        let aligned = buffers_aligned && offset.is_multiple_of(DIRECT_ALIGN as u64);
        if let Some(d) = self.direct.as_ref() {
            if aligned {
                match op(d) {
                    Err(e) if is_einval(&e) => {}
                    r => return r,
                }
            }
            self.fallbacks += 1;
        }
        op(&self.file)
    }
}

/// Whether a private buffer suits `O_DIRECT`.
fn buffer_aligned(buf: &[u8]) -> bool {
    buf.len().is_multiple_of(DIRECT_ALIGN) && buf.as_ptr().align_offset(DIRECT_ALIGN) == 0
}

/// Whether shared ranges suit `O_DIRECT`.
fn ranges_aligned(ranges: &[ShmRange<'_>]) -> bool {
    ranges.iter().all(|r| r.is_aligned(DIRECT_ALIGN))
}

fn is_einval(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EINVAL)
}

impl Storage for Image {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let aligned = buffer_aligned(buf);
        self.io(offset, aligned, |f| f.read_exact_at(buf, offset))
    }

    fn write_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()> {
        self.io(offset, buffer_aligned(buf), |f| f.write_all_at(buf, offset))
    }

    fn read_into_shared(&mut self, offset: u64, dst: &[ShmRange<'_>]) -> io::Result<bool> {
        self.io(offset, ranges_aligned(dst), |f| {
            read_file_into(f, offset, dst)
        })
        .map(|()| true)
    }

    fn write_from_shared(&mut self, offset: u64, src: &[ShmRange<'_>]) -> io::Result<bool> {
        self.io(offset, ranges_aligned(src), |f| {
            write_file_from(f, offset, src)
        })
        .map(|()| true)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn discard(&mut self, offset: u64, len: u64) -> io::Result<()> {
        use rustix::fs::{FallocateFlags, fallocate};
        let flags = FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE;
        if fallocate(&self.file, flags, offset, len).is_ok() {
            return Ok(());
        }
        let zeros = [0u8; 64 * 1024];
        let mut done = 0u64;
        while done < len {
            let n = (len - done).min(zeros.len() as u64) as usize;
            self.file.write_all_at(&zeros[..n], offset + done)?;
            done += n as u64;
        }
        Ok(())
    }
}

/// A store in memory (tests, fuzzing).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemStorage {
    /// The bytes.
    pub data: Vec<u8>,
    /// Refuse writes.
    pub read_only: bool,
    /// `sync` calls so far.
    pub syncs: u64,
}

impl MemStorage {
    /// `len` zero bytes.
    pub fn new(len: usize) -> Self {
        MemStorage {
            data: std::vec![0; len],
            read_only: false,
            syncs: 0,
        }
    }

    fn range(&self, offset: u64, len: u64) -> io::Result<std::ops::Range<usize>> {
        let bad = || io::Error::from(io::ErrorKind::InvalidInput);
        let end = offset.checked_add(len).ok_or_else(bad)?;
        if end > self.data.len() as u64 {
            return Err(bad());
        }
        Ok(offset as usize..end as usize)
    }
}

impl Storage for MemStorage {
    fn len(&self) -> u64 {
        self.data.len() as u64
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let r = self.range(offset, buf.len() as u64)?;
        buf.copy_from_slice(&self.data[r]);
        Ok(())
    }

    fn write_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()> {
        if self.read_only {
            return Err(io::ErrorKind::PermissionDenied.into());
        }
        let r = self.range(offset, buf.len() as u64)?;
        self.data[r].copy_from_slice(buf);
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.syncs += 1;
        Ok(())
    }

    fn discard(&mut self, offset: u64, len: u64) -> io::Result<()> {
        if self.read_only {
            return Err(io::ErrorKind::PermissionDenied.into());
        }
        let r = self.range(offset, len)?;
        self.data[r].fill(0);
        Ok(())
    }
}

/// Back-end choices: what to offer, and limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackConfig {
    /// Offer `feature-flush-cache` (default `true`).
    pub flush: bool,
    /// Offer `feature-barrier` (default `true`).
    pub barrier: bool,
    /// Offer `feature-discard` (default `true`; never on a read-only store).
    pub discard: bool,
    /// `feature-max-indirect-segments`, 0 to offer no indirect requests (default 128, at most
    /// 4096 = 8 indirect pages).
    pub max_indirect_segments: u32,
    /// The logical sector size published as `sector-size`: 512 or 4096 (default 512).
    pub sector_size: u32,
    /// How many front-end grants stay mapped (default 4096); past it, pages are mapped for one
    /// request and unmapped after it.
    pub max_persistent_grants: usize,
    /// How long [`Blkback::run`] sleeps between looks at the front end's state when idle
    /// (default 50 ms).
    pub idle_check: Duration,
    /// How long [`Blkback::run`] polls the ring for the next request before sleeping on the
    /// event channel (default 0: sleep at once). Polling reads the front end's index only,
    /// so the front end sends no event for a request found that way; about one wakeup's
    /// cost (50 µs on a VM) covers a sequential caller's turnaround.
    pub spin: Duration,
}

impl Default for BackConfig {
    fn default() -> Self {
        BackConfig {
            flush: true,
            barrier: true,
            discard: true,
            max_indirect_segments: 128,
            sector_size: 512,
            max_persistent_grants: 4096,
            idle_check: Duration::from_millis(50),
            spin: Duration::ZERO,
        }
    }
}

/// Counters, for tests and benches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BackStats {
    /// Requests answered.
    pub requests: u64,
    /// Answered `BLKIF_RSP_ERROR`.
    pub errors: u64,
    /// Answered `BLKIF_RSP_EOPNOTSUPP`.
    pub not_supported: u64,
    /// Grant mappings made (persistent or not).
    pub maps: u64,
    /// Grants mapped now and kept.
    pub persistent: usize,
    /// Bytes read from the store.
    pub bytes_read: u64,
    /// Bytes written to the store.
    pub bytes_written: u64,
    /// `sync` calls.
    pub syncs: u64,
    /// Reads and writes done straight between the store and the granted pages (no copy
    /// through the back end's buffer).
    pub zero_copy: u64,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reject {
    /// `BLKIF_RSP_ERROR`.
    Error,
    /// `BLKIF_RSP_EOPNOTSUPP`.
    NotSupported,
}

/// Front-end grants mapped once and kept (`feature-persistent`), up to a limit.
struct GrantCache<B: Grants> {
    maps: HashMap<GrantRef, B::Mapped>,
    limit: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Start,
    WaitFront,
    Done,
}

/// The back end's half of the handshake, one non-blocking step per [`poll`](Self::poll).
pub struct BackConnector<B: Backend, S: Storage = Image> {
    backend: Option<B>,
    paths: DevicePaths,
    storage: Option<S>,
    config: BackConfig,
    stage: Stage,
}

impl<B: Backend, S: Storage> core::fmt::Debug for BackConnector<B, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BackConnector")
            .field("paths", &self.paths)
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

impl<B: Backend, S: Storage> BackConnector<B, S> {
    /// Start serving `storage` as the device at `paths`.
    pub fn new(backend: B, paths: DevicePaths, storage: S, config: BackConfig) -> Self {
        BackConnector {
            backend: Some(backend),
            paths,
            storage: Some(storage),
            config,
            stage: Stage::Start,
        }
    }

    fn sector_size(&self) -> u32 {
        if self.config.sector_size == 4096 {
            4096
        } else {
            512
        }
    }

    /// One step: `Ok(back)` once connected; [`Error::WouldBlock`] while the front end has not
    /// reached the next state.
    ///
    /// # Errors
    /// [`Error::WouldBlock`] as above; [`Error::Closed`] if the front end is closing;
    /// [`Corrupt::StoreValue`] for a malformed or missing transport key;
    /// [`Error::NotSupported`] for another `protocol`; [`Error::InvalidArgument`] for a store
    /// whose length is not a whole number of sectors; backend errors (an unmappable ring or
    /// unbindable port). After any error but `WouldBlock` the connector is finished.
    pub fn poll(&mut self) -> Result<Blkback<B, S>, Error> {
        let r = self.step();
        if !matches!(r, Err(Error::WouldBlock)) {
            self.stage = Stage::Done;
        }
        r
    }

    fn step(&mut self) -> Result<Blkback<B, S>, Error> {
        let ss = self.sector_size();
        let b = self.backend.as_ref().ok_or(Error::Closed)?;
        let storage = self.storage.as_ref().ok_or(Error::Closed)?;
        let back = &self.paths.back;
        match self.stage {
            Stage::Done => Err(Error::Closed),
            Stage::Start => {
                if !storage.len().is_multiple_of(u64::from(ss)) {
                    return Err(Error::InvalidArgument);
                }
                let ro = storage.read_only();
                let c = &self.config;
                write_num(b, back, "feature-flush-cache", c.flush.into())?;
                write_num(b, back, "feature-barrier", (c.barrier && !ro).into())?;
                let discard = c.discard && !ro;
                write_num(b, back, "feature-discard", discard.into())?;
                if discard {
                    write_num(b, back, "discard-granularity", ss.into())?;
                    write_num(b, back, "discard-alignment", 0)?;
                    write_num(b, back, "discard-secure", 0)?;
                }
                write_num(b, back, "feature-persistent", 1)?;
                let max_ind = c
                    .max_indirect_segments
                    .min((MAX_INDIRECT_PAGES * SEGMENTS_PER_INDIRECT_PAGE) as u32);
                if max_ind > 0 {
                    write_num(b, back, "feature-max-indirect-segments", max_ind.into())?;
                }
                write_state(b, back, XenbusState::InitWait)?;
                self.stage = Stage::WaitFront;
                Err(Error::WouldBlock)
            }
            Stage::WaitFront => {
                let front = &self.paths.front;
                let state = read_state(b, front)?;
                match state {
                    Some(s) if s.is_closing() => return Err(Error::Closed),
                    Some(XenbusState::Initialised | XenbusState::Connected) => {}
                    _ => return Err(Error::WouldBlock),
                }
                let ring_ref = read_num(b, front, "ring-ref")?
                    .and_then(|v| GrantRef::try_from(v).ok())
                    .ok_or(Corrupt::StoreValue)?;
                let port = read_num(b, front, "event-channel")?
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or(Corrupt::StoreValue)?;
                let mut proto = [0u8; 32];
                match b.read(front.join("protocol")?.as_str(), &mut proto) {
                    Ok(None) => {}
                    Ok(Some(p)) if p == PROTOCOL => {}
                    _ => return Err(Error::NotSupported),
                }
                let peer = self.paths.front_dom;
                let mapped = b.map(peer, &[ring_ref])?;
                let ring = BackRing::<Blkif, _>::attach(mapped, 0)?;
                let event = b.bind(peer, port)?;
                let len = storage.len();
                let ro = storage.read_only();
                write_num(b, back, "sectors", len / WIRE_SECTOR)?;
                write_num(b, back, "sector-size", ss.into())?;
                write_num(b, back, "physical-sector-size", ss.into())?;
                write_num(b, back, "info", if ro { VDISK_READONLY.into() } else { 0 })?;
                b.write(back.join("mode")?.as_str(), if ro { "r" } else { "w" })?;
                write_state(b, back, XenbusState::Connected)?;
                let backend = self.backend.take().ok_or(Error::Closed)?;
                let storage = self.storage.take().ok_or(Error::Closed)?;
                let max_ind = if self.config.max_indirect_segments > 0 {
                    (self.config.max_indirect_segments as usize)
                        .min(MAX_INDIRECT_PAGES * SEGMENTS_PER_INDIRECT_PAGE)
                } else {
                    0
                };
                let max_segs = max_ind.max(MAX_SEGMENTS);
                Ok(Blkback {
                    grants: GrantCache {
                        maps: HashMap::new(),
                        limit: self.config.max_persistent_grants,
                    },
                    ring,
                    event,
                    backend,
                    paths: self.paths.clone(),
                    sectors: len / WIRE_SECTOR,
                    sector_size: ss,
                    max_indirect: max_ind,
                    storage,
                    config: self.config,
                    buf: AlignedBuf::new(max_segs * PAGE_SIZE),
                    segs: Vec::with_capacity(max_segs),
                    stats: BackStats::default(),
                    closed: false,
                })
            }
        }
    }
}

/// A page-aligned private buffer (for `O_DIRECT`), without `unsafe`: a larger `Vec` used
/// from its first aligned byte.
struct AlignedBuf {
    raw: Vec<u8>,
    start: usize,
    cap: usize,
}

impl AlignedBuf {
    fn new(cap: usize) -> Self {
        let raw = std::vec![0u8; cap + DIRECT_ALIGN];
        let start = raw.as_ptr().align_offset(DIRECT_ALIGN).min(DIRECT_ALIGN);
        AlignedBuf { raw, start, cap }
    }

    fn get(&mut self, len: usize) -> Option<&mut [u8]> {
        if len > self.cap {
            return None;
        }
        self.raw.get_mut(self.start..self.start + len)
    }
}

/// A connected back end. Dropping it writes state `Closed` and unmaps every grant.
pub struct Blkback<B: Backend, S: Storage = Image> {
    // Field order is drop order: grant mappings, then the ring, then the event channel.
    grants: GrantCache<B>,
    ring: BackRing<Blkif, B::Mapped>,
    event: B::Channel,
    backend: B,
    paths: DevicePaths,
    sectors: u64,
    sector_size: u32,
    max_indirect: usize,
    storage: S,
    config: BackConfig,
    buf: AlignedBuf,
    segs: Vec<BlkifSegment>,
    stats: BackStats,
    closed: bool,
}

impl<B: Backend, S: Storage> core::fmt::Debug for Blkback<B, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Blkback")
            .field("paths", &self.paths)
            .field("sectors", &self.sectors)
            .field("sector_size", &self.sector_size)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Map `gref` (from the cache, or for this request only) and run `f` on its page.
/// Put `gref`'s page in the persistent-grant cache if it is not there and there is room;
/// returns whether it is there now.
fn cache_page<B: Backend>(
    backend: &B,
    cache: &mut GrantCache<B>,
    stats: &mut BackStats,
    peer: unistack_vchan::DomId,
    gref: GrantRef,
) -> Result<bool, Reject> {
    if cache.maps.contains_key(&gref) {
        return Ok(true);
    }
    if cache.maps.len() >= cache.limit {
        return Ok(false);
    }
    let m = backend.map(peer, &[gref]).map_err(|_| Reject::Error)?;
    stats.maps += 1;
    if m.shm().len() < PAGE_SIZE {
        return Err(Reject::Error);
    }
    cache.maps.insert(gref, m);
    stats.persistent = cache.maps.len();
    Ok(true)
}

fn with_page<B: Backend, R>(
    backend: &B,
    cache: &mut GrantCache<B>,
    stats: &mut BackStats,
    peer: unistack_vchan::DomId,
    gref: GrantRef,
    f: impl FnOnce(&Shm) -> R,
) -> Result<R, Reject> {
    if cache_page(backend, cache, stats, peer, gref)? {
        let m = cache.maps.get(&gref).ok_or(Reject::Error)?;
        return Ok(f(m.shm()));
    }
    // The cache is full: map for this request only.
    let m = backend.map(peer, &[gref]).map_err(|_| Reject::Error)?;
    stats.maps += 1;
    if m.shm().len() < PAGE_SIZE {
        return Err(Reject::Error);
    }
    Ok(f(m.shm()))
}

/// Where a segment's bytes lie in its page: (offset, length).
fn seg_bytes(s: &BlkifSegment) -> (usize, usize) {
    let start = usize::from(s.first_sect) * WIRE_SECTOR as usize;
    let n = (usize::from(s.last_sect - s.first_sect) + 1) * WIRE_SECTOR as usize;
    (start, n)
}

impl<B: Backend, S: Storage> Blkback<B, S> {
    /// Counters so far.
    pub fn stats(&self) -> BackStats {
        let mut s = self.stats;
        s.persistent = self.grants.maps.len();
        s
    }

    /// The store being served.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The store being served, mutably (tests).
    pub fn storage_mut(&mut self) -> &mut S {
        &mut self.storage
    }

    /// The store paths.
    pub fn paths(&self) -> &DevicePaths {
        &self.paths
    }

    /// The event channel (with the Linux backend, `AsFd` for `poll`).
    pub fn event(&self) -> &B::Channel {
        &self.event
    }

    /// Answer every request waiting on the ring (at most one ring's worth per call), publish
    /// the responses and notify the front end if it asked. Returns how many were answered.
    ///
    /// # Errors
    /// [`Error::Corrupt`] if the front end's `req_prod` is out of range (the ring is unusable;
    /// stop serving); backend errors.
    pub fn serve_once(&mut self) -> Result<usize, Error> {
        let mut n = 0;
        for _ in 0..self.ring.size() {
            let Some(req) = self.ring.poll_request()? else {
                break;
            };
            let rsp = self.handle(&req);
            self.ring.push_response(&rsp)?;
            n += 1;
            if self.ring.push_responses_and_check_notify()? {
                self.event.notify()?;
            }
        }
        Ok(n)
    }

    /// Serve until the front end closes (its state goes Closing or Closed, or its node goes
    /// away), then write state Closed and return.
    ///
    /// # Errors
    /// As [`serve_once`](Self::serve_once).
    pub fn run(&mut self) -> Result<(), Error> {
        let mut last_check = Instant::now();
        let mut woken = false;
        loop {
            let n = self.serve_once()?;
            // An event with no request behind it is how a closing front end says so; and a
            // busy ring still looks at the front end's state now and then.
            if (woken && n == 0) || last_check.elapsed() >= self.config.idle_check {
                last_check = Instant::now();
                if self.front_gone()? {
                    break;
                }
            }
            woken = false;
            if n > 0 {
                continue;
            }
            if !self.config.spin.is_zero() {
                let start = Instant::now();
                let mut got = false;
                // Loads only: our `req_event` stays behind, so the front end sends no event
                // for the requests this finds; it is set just before we sleep.
                while start.elapsed() < self.config.spin {
                    if self.ring.has_unconsumed_requests()? {
                        got = true;
                        break;
                    }
                    core::hint::spin_loop();
                }
                if got {
                    continue;
                }
            }
            if self.ring.final_check_for_requests()? {
                continue;
            }
            woken = self.event.wait(Some(self.config.idle_check))?;
            if !woken {
                last_check = Instant::now();
                if self.front_gone()? {
                    break;
                }
            }
        }
        self.close();
        Ok(())
    }

    fn front_gone(&self) -> Result<bool, Error> {
        Ok(match read_state(&self.backend, &self.paths.front) {
            Ok(None) => true,
            Ok(Some(s)) => s.is_closing(),
            Err(Error::Corrupt(_)) => true,
            Err(e) => return Err(e),
        })
    }

    /// Write state Closed (also done on drop).
    pub fn close(&mut self) {
        if !self.closed {
            self.closed = true;
            let _ = write_state(&self.backend, &self.paths.back, XenbusState::Closing);
            let _ = write_state(&self.backend, &self.paths.back, XenbusState::Closed);
        }
    }

    /// Validate and carry out one request; always produces a response.
    pub fn handle(&mut self, req: &BlkifRequest) -> BlkifResponse {
        let (op, result) = match req.operation {
            BlkifOp::Indirect => {
                let ind = req.as_indirect();
                (ind.indirect_op, self.indirect(&ind))
            }
            op => (op, self.direct(req)),
        };
        self.stats.requests += 1;
        let status = match result {
            Ok(()) => BlkifStatus::Okay,
            Err(Reject::Error) => {
                self.stats.errors += 1;
                BlkifStatus::Error
            }
            Err(Reject::NotSupported) => {
                self.stats.not_supported += 1;
                BlkifStatus::EOpNotSupp
            }
        };
        BlkifResponse {
            id: req.id,
            operation: op,
            status,
            ..Default::default()
        }
    }

    fn sync(&mut self) -> Result<(), Reject> {
        self.stats.syncs += 1;
        self.storage.sync().map_err(|_| Reject::Error)
    }

    fn direct(&mut self, req: &BlkifRequest) -> Result<(), Reject> {
        let ro = self.storage.read_only();
        let n = usize::from(req.nr_segments);
        match req.operation {
            BlkifOp::Read | BlkifOp::Write if n == 0 || n > MAX_SEGMENTS => Err(Reject::Error),
            BlkifOp::Read | BlkifOp::Write => {
                let write = req.operation == BlkifOp::Write;
                self.load_direct_segments(req, n)?;
                self.rw(write, req.sector_number)
            }
            BlkifOp::WriteBarrier => {
                if !self.config.barrier || ro {
                    return Err(Reject::NotSupported);
                }
                if n > MAX_SEGMENTS {
                    return Err(Reject::Error);
                }
                // Every earlier request is done (we serve in order); make it durable, write,
                // make the write durable.
                self.sync()?;
                if n > 0 {
                    self.load_direct_segments(req, n)?;
                    self.rw(true, req.sector_number)?;
                }
                self.sync()
            }
            BlkifOp::FlushDiskcache => {
                if !self.config.flush {
                    return Err(Reject::NotSupported);
                }
                if n > MAX_SEGMENTS {
                    return Err(Reject::Error);
                }
                if n > 0 {
                    if ro {
                        return Err(Reject::Error);
                    }
                    self.load_direct_segments(req, n)?;
                    self.rw(true, req.sector_number)?;
                }
                self.sync()
            }
            BlkifOp::Discard => {
                if !self.config.discard || ro {
                    return Err(Reject::NotSupported);
                }
                let d = req.as_discard();
                if d.flag & DISCARD_SECURE != 0 {
                    return Err(Reject::NotSupported);
                }
                let (offset, len) = self.check_sectors(d.sector_number, d.nr_sectors)?;
                if len == 0 {
                    return Ok(());
                }
                self.storage.discard(offset, len).map_err(|_| Reject::Error)
            }
            _ => Err(Reject::NotSupported),
        }
    }

    fn load_direct_segments(&mut self, req: &BlkifRequest, n: usize) -> Result<(), Reject> {
        self.segs.clear();
        for i in 0..n {
            self.segs.push(req.segment(i).ok_or(Reject::Error)?);
        }
        Ok(())
    }

    fn indirect(&mut self, ind: &BlkifRequestIndirect) -> Result<(), Reject> {
        if self.max_indirect == 0 {
            return Err(Reject::NotSupported);
        }
        let write = match ind.indirect_op {
            BlkifOp::Read => false,
            BlkifOp::Write => true,
            _ => return Err(Reject::Error),
        };
        let n = usize::from(ind.nr_segments);
        if n == 0 || n > self.max_indirect {
            return Err(Reject::Error);
        }
        self.segs.clear();
        let pages = BlkifRequestIndirect::pages_for(n);
        let peer = self.paths.front_dom;
        let mut raw = [0u8; PAGE_SIZE];
        for p in 0..pages {
            let gref = ind.indirect_gref(p).ok_or(Reject::Error)?;
            let in_page = (n - p * SEGMENTS_PER_INDIRECT_PAGE).min(SEGMENTS_PER_INDIRECT_PAGE);
            let bytes = raw
                .get_mut(..in_page * BlkifSegment::SIZE)
                .ok_or(Reject::Error)?;
            // One copy of the indirect page, then parse the copy.
            with_page(
                &self.backend,
                &mut self.grants,
                &mut self.stats,
                peer,
                gref,
                |shm| shm.read(0, bytes),
            )?
            .map_err(|_| Reject::Error)?;
            for chunk in bytes.chunks_exact(BlkifSegment::SIZE) {
                let mut s = [0u8; BlkifSegment::SIZE];
                s.copy_from_slice(chunk);
                self.segs.push(BlkifSegment::from_bytes(&s));
            }
        }
        if write && self.storage.read_only() {
            return Err(Reject::Error);
        }
        self.rw(write, ind.sector_number)
    }

    /// `sector_number` + `count` wire sectors inside the store, aligned to the logical sector
    /// size: the byte range.
    fn check_sectors(&self, sector: u64, count: u64) -> Result<(u64, u64), Reject> {
        let per = u64::from(self.sector_size) / WIRE_SECTOR;
        if !sector.is_multiple_of(per) || !count.is_multiple_of(per) {
            return Err(Reject::Error);
        }
        let end = sector.checked_add(count).ok_or(Reject::Error)?;
        if end > self.sectors {
            return Err(Reject::Error);
        }
        Ok((sector * WIRE_SECTOR, count * WIRE_SECTOR))
    }

    /// Read or write the segments in `self.segs`, which start at `sector`.
    fn rw(&mut self, write: bool, sector: u64) -> Result<(), Reject> {
        if write && self.storage.read_only() {
            return Err(Reject::Error);
        }
        let per = u64::from(self.sector_size) / WIRE_SECTOR;
        let mut total = 0u64;
        for s in &self.segs {
            if s.first_sect > s.last_sect || u64::from(s.last_sect) >= SECTORS_PER_PAGE {
                return Err(Reject::Error);
            }
            let nsec = u64::from(s.last_sect - s.first_sect) + 1;
            if !u64::from(s.first_sect).is_multiple_of(per) || !nsec.is_multiple_of(per) {
                return Err(Reject::Error);
            }
            total += nsec;
        }
        let (offset, len) = self.check_sectors(sector, total)?;
        let len = usize::try_from(len).map_err(|_| Reject::Error)?;
        let peer = self.paths.front_dom;
        let Blkback {
            backend,
            grants,
            stats,
            buf,
            segs,
            storage,
            ..
        } = self;
        // Zero-copy when every page is (or can be put) in the persistent-grant cache and
        // the store can do vectored I/O on shared pages; otherwise through `buf`.
        let mut cached = true;
        for s in segs.iter() {
            cached = cached && cache_page(backend, grants, stats, peer, s.gref)?;
        }
        if cached {
            let mut ranges = Vec::with_capacity(segs.len());
            for s in segs.iter() {
                let (start, n) = seg_bytes(s);
                let page = grants.maps.get(&s.gref).ok_or(Reject::Error)?;
                ranges.push(page.shm().range(start, n).map_err(|_| Reject::Error)?);
            }
            let done = if write {
                storage.write_from_shared(offset, &ranges)
            } else {
                storage.read_into_shared(offset, &ranges)
            }
            .map_err(|_| Reject::Error)?;
            if done {
                if write {
                    stats.bytes_written += len as u64;
                } else {
                    stats.bytes_read += len as u64;
                }
                stats.zero_copy += 1;
                return Ok(());
            }
        }
        let buf = buf.get(len).ok_or(Reject::Error)?;
        if write {
            let mut at = 0;
            for s in segs.iter() {
                let (start, n) = seg_bytes(s);
                let dst = buf.get_mut(at..at + n).ok_or(Reject::Error)?;
                with_page(backend, grants, stats, peer, s.gref, |shm| {
                    shm.read(start, dst)
                })?
                .map_err(|_| Reject::Error)?;
                at += n;
            }
            storage.write_at(offset, buf).map_err(|_| Reject::Error)?;
            stats.bytes_written += len as u64;
        } else {
            storage.read_at(offset, buf).map_err(|_| Reject::Error)?;
            stats.bytes_read += len as u64;
            let mut at = 0;
            for s in segs.iter() {
                let (start, n) = seg_bytes(s);
                let src = buf.get(at..at + n).ok_or(Reject::Error)?;
                with_page(backend, grants, stats, peer, s.gref, |shm| {
                    shm.write(start, src)
                })?
                .map_err(|_| Reject::Error)?;
                at += n;
            }
        }
        Ok(())
    }
}

impl<B: Backend, S: Storage> Drop for Blkback<B, S> {
    fn drop(&mut self) {
        self.close();
    }
}

/// Wire sectors in a page.
const SECTORS_PER_PAGE: u64 = PAGE_SIZE as u64 / WIRE_SECTOR;

impl<B: Backend, S: Storage> Blkback<B, S> {
    /// Run the handshake to the end, polling every millisecond, for at most `timeout`.
    ///
    /// # Errors
    /// [`Error::TimedOut`]; otherwise as [`BackConnector::poll`].
    pub fn connect(
        backend: B,
        paths: DevicePaths,
        storage: S,
        config: BackConfig,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let mut c = BackConnector::new(backend, paths, storage, config);
        let start = Instant::now();
        loop {
            match c.poll() {
                Err(Error::WouldBlock) if start.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(Error::WouldBlock) => return Err(Error::TimedOut),
                r => return r,
            }
        }
    }
}
