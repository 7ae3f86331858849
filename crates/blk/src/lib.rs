//! Xen block devices over shared rings: a front end (blkfront) a unikernel reads and writes
//! its disk through, and a back end (blkback) that serves a raw disk image file.
//!
//! Both speak Xen's blkif protocol (`xen/include/public/io/blkif.h`) byte for byte: the
//! requests and responses of [`unistack_vchan::blkif`] on a [`unistack_vchan::ring`] in one
//! granted page, data in granted pages, an event channel, and the xenbus handshake through
//! the store ([`xenbus`]). It is a crate of its own because it sits on vchan's rings and
//! backends, not on the network stack: a unikernel that only serves a disk, or only speaks
//! TCP, links only what it uses.
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use std::time::Duration;
//! use unistack_blk::{
//!     create_device, BackConfig, Blkback, BlockDevice, DevicePaths, Disk, FrontConfig,
//!     MemStorage,
//! };
//! use unistack_vchan::local::Hypervisor;
//!
//! let hv = Hypervisor::new();
//! let paths = DevicePaths::new(1, 0, unistack_blk::XVDA); // front domain 1, back domain 0
//! create_device(&hv.domain(0), &paths)?;                 // the toolstack's part
//! let (back_dom, back_paths) = (hv.domain(0), paths.clone());
//! let server = std::thread::spawn(move || {
//!     let storage = MemStorage::new(1 << 20);             // or Image::open("disk.img", false)
//!     let t = Duration::from_secs(10);
//!     let mut back = Blkback::connect(back_dom, back_paths, storage, BackConfig::default(), t)?;
//!     back.run()                                          // until the front end closes
//! });
//! let mut disk = Disk::connect(hv.domain(1), paths, FrontConfig::default(), Duration::from_secs(10))?;
//! disk.write_at(4096, &[7u8; 8192])?;
//! disk.flush()?;
//! let mut buf = [0u8; 100];
//! disk.read_at(4100, &mut buf)?;                          // any offset for reads
//! assert_eq!(buf, [7u8; 100]);
//! drop(disk);                                             // state Closed: the back end stops
//! server.join().unwrap()?;
//! # }
//! # Ok::<(), unistack_blk::Error>(())
//! ```
//!
//! # Layers
//! - [`BlockDevice`]: `read_at`/`write_at`/`flush`/`discard`, `sector_size`/`capacity`, in
//!   bytes: what users program against. [`Disk`] implements it over a front end (blocking,
//!   `std`); [`MemDisk`] in memory (`alloc`); a disk image read-only through the back end is
//!   `Image::open(path, true)` served to a `Disk` (reads at any offset, as a tar reader
//!   wants).
//! - [`Blkfront`]: the sans-IO core, `no_std` without allocation: `submit_*` → [`Tag`],
//!   [`Blkfront::poll`] → [`Completion`], never blocking. [`FrontConnector`] is the
//!   handshake as a state machine of non-blocking polls.
//! - [`Blkback`] (`std`): [`BackConnector`], then [`Blkback::serve_once`] (non-blocking) or
//!   [`Blkback::run`], over any [`Storage`]: [`Image`] (a file) or [`MemStorage`].
//! - The `unistack-blkback` binary serves an image over the Linux backend to another
//!   process.
//!
//! # Handshake
//! As blkif.h's state diagram: the toolstack creates both nodes in `Initialising`
//! ([`create_device`]); the back end publishes its features (`feature-flush-cache`,
//! `feature-barrier`, `feature-discard` with `discard-granularity`/`-alignment`,
//! `feature-persistent`, `feature-max-indirect-segments`) and goes to `InitWait`; the front
//! end reads them, grants the ring page and its data pages, allocates an event channel,
//! publishes `ring-ref`, `event-channel`, `protocol` and `feature-persistent`, and goes to
//! `Initialised`; the back end maps the ring, binds the channel, publishes `sectors`,
//! `sector-size`, `physical-sector-size`, `info` and `mode` and goes to `Connected`; the
//! front end reads those and goes to `Connected`. There are no store watches: each side
//! polls the other's `state`. Closing: the front end writes `Closing` then `Closed` when
//! dropped; [`Blkback::run`] sees it and returns. Sector quantities on the wire
//! (`sector_number`, `first_sect`/`last_sect`, `nr_sectors`, `sectors`) count 512-byte
//! units whatever `sector-size` says, as Linux's blkfront and blkback do; `sector-size` (512
//! or 4096) is the alignment every request must keep.
//!
//! # Data pages and copies
//! The front end grants a pool of pages once at connect — per request slot (32), one page
//! per segment (11, or up to 32 with indirect segments, so 128 KiB requests) plus one
//! indirect page — and reuses them for every request (`feature-persistent`); the back end
//! maps each grant the first time it sees it and keeps it (up to
//! [`BackConfig::max_persistent_grants`]). Nothing is granted, mapped or unmapped per
//! request. Copies per byte:
//!
//! | path | front end | back end | kernel |
//! |------|-----------|----------|--------|
//! | write | 1: caller's buffer → granted page ([`WriteRequest::write_at`] fills the page in place from wherever the data is; [`Disk::write_at`] copies from the slice) | 1: granted page → aligned private buffer | 0 with `O_DIRECT` (DMA from the buffer), else 1 into the page cache |
//! | read | 1: granted page → caller's buffer ([`ReadData::read_at`]) | 1: aligned private buffer → granted page | 0 with `O_DIRECT`, else 1 |
//!
//! Linux's blkfront with persistent grants copies the same once; Linux's blkback copies
//! nothing (it hands the granted page to the block layer). Ours copies once because
//! `pwrite` would need a `&[u8]` into memory the front end can change under it, which this
//! workspace forbids (all shared memory goes through [`unistack_vchan::shm::Shm`]'s atomic
//! copies). No `&[u8]` into a granted page is ever formed on either side.
//!
//! # Where the time goes
//! `benches/benches/blk.rs` compares queue-depth-1 I/O through both ends with `pread`/`pwrite`
//! on the same `O_DIRECT` image. The copies are cheap (a 64 KiB copy through `Shm` takes about
//! 3 µs on the development VM, about 23 GB/s). What costs is the hand-off between two
//! threads: a request wakes the back end, its completion wakes the front end, and on a VM
//! each cross-CPU wakeup of a sleeping thread costs about 15 µs (a local event-channel round
//! trip measured 32 µs). Direct I/O pays only the disk's interrupt. So the fixed overhead per
//! request is two wakeups plus two copies; at 4 KiB it is a small share of the disk's
//! latency, at 64 KiB more, because a 64 KiB transfer keeps both threads asleep longer.
//! [`BackConfig::spin`] (the back end polls the ring a little before it sleeps) removes the
//! first wakeup for a sequential caller; [`Disk::set_spin`] the second, at the price of a
//! busy core. Polling only reads the ring's indexes: the back end's `req_event` stays
//! behind while it polls, so the front end sends it no event for the requests it finds
//! that way (and the front end's `rsp_event` likewise). With both ends polling, the back
//! end on the CPU that takes the disk's interrupts and the front end on the other, 64 KiB
//! sequential I/O runs at 84-109% of direct I/O on the development VM (sleeping ends:
//! 52-99%, depending on where the scheduler puts them; `benches/RESULTS.md`). Both default
//! to off: polling spends a core, and two polling ends on one CPU take turns.
//!
//! # Validation policy
//! - The front end trusts nothing in a response: the status must be known, the id must be a
//!   request in flight (ids are slot + per-slot generation, so a repeated, stale or invented
//!   id does not match) and the operation must be the one sent; the ring's response index is
//!   range-checked. Any violation is [`Error::Corrupt`] and sticky: the front end refuses
//!   every later call (as Linux's blkfront marks the device broken). Store values the back
//!   end wrote are parsed strictly (decimal, range-checked; a bad `sector-size` or `sectors`
//!   fails the connect).
//! - The back end checks every request before touching a grant or the image; see
//!   [`back`]'s table. Violations are answered `BLKIF_RSP_ERROR` or `BLKIF_RSP_EOPNOTSUPP`;
//!   only a ring whose request index is out of range stops it ([`Error::Corrupt`]).
//!
//! # Features
//! - none: `#![no_std]`, no allocator: [`Blkfront`], [`FrontConnector`], [`BlockDevice`],
//!   [`xenbus`]; a unikernel implements vchan's backend traits.
//! - `alloc`: [`MemDisk`].
//! - `std` (default): [`Disk`], [`Blkback`], [`Image`], [`MemStorage`], the binary.
//!
//! # Panics
//! Nothing reachable from the peer's ring entries, pages or store values panics, on either
//! side (property-tested with hostile peers and fuzzed: `blk_back_requests`,
//! `blk_front_responses`).
//!
//! # Not supported
//! - Multi-page rings (`max-ring-page-order`), multi-queue, the x86_32 ABI, secure discard,
//!   `feature-large-sector-size` semantics (see the handshake note), reconfiguration and
//!   re-connection after the back end restarts (a front end whose back end died gets
//!   [`Error::TimedOut`] or [`Error::Closed`]; reconnecting is a new [`FrontConnector`]).
//! - Store watches: connection and shutdown are noticed by polling `state`.
//! - The back end serves requests one at a time, in ring order, in one thread (so barriers
//!   are trivially ordered); it does not merge adjacent requests or issue I/O in parallel.
//! - Requests always start at the beginning of a slot's first page (`first_sect` 0 on every
//!   segment but the last): the front end does not scatter into caller pages.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "std")]
pub mod back;
mod device;
#[cfg(feature = "std")]
mod disk;
mod error;
pub mod front;
#[doc(hidden)]
#[cfg(feature = "std")]
pub mod fuzzing;
pub mod xenbus;

#[cfg(feature = "std")]
pub use back::{BackConfig, BackConnector, BackStats, Blkback, Image, MemStorage, Storage};
#[cfg(feature = "alloc")]
pub use device::MemDisk;
pub use device::{BlockDevice, MemDiskError};
#[cfg(feature = "std")]
pub use disk::Disk;
pub use error::Error;
pub use front::{
    Blkfront, Completion, DiskInfo, Features, FrontConfig, FrontConnector, Op, ReadData, Status,
    Tag, WriteRequest,
};
/// The platform layer (grants, events, store; the local and Linux backends), re-exported.
pub use unistack_vchan;
pub use xenbus::{DevicePaths, XVDA, XenbusState, create_device, remove_device};
