//! Xen vchan and Xen shared rings over grant pages and event channels — byte-compatible with
//! Xen, and runnable on Linux without a hypervisor.
//!
//! In a unikernel everything crosses a domain boundary through pages granted to a peer that
//! must not be trusted. This crate provides the two structures built on such pages:
//!
//! - [`ring`]: Xen's shared request/response rings (`io/ring.h`) with typed front and back
//!   ends, and the messages of the network ([`netif`]) and block ([`blkif`]) protocols;
//! - [`vchan`]: libxenvchan's byte channel (`io/libxenvchan.h`), stream and packet modes,
//!   blocking and not, with in-place read/write guards.
//!
//! Both run over the small traits of [`backend`] (grants, event channels, store). With `std`,
//! two backends come with the crate: [`local`] (domains inside one process, with a leak
//! check) and [`linux`] (processes on one Linux host: pages as files in `/dev/shm` mapped
//! `MAP_SHARED`, events as Unix datagram sockets, the store as a directory; its on-disk layout
//! is documented there so a C shim under libxenvchan can share it).
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use unistack_vchan::local::Hypervisor;
//! use unistack_vchan::{ServerConfig, State, Vchan};
//!
//! let hv = Hypervisor::new();
//! let path = "/local/domain/1/data/vchan/demo";
//! let mut server = Vchan::server(hv.domain(1), 2, path, ServerConfig::new(1024, 2048))?;
//! let mut client = Vchan::client(hv.domain(2), 1, path)?;
//! assert_eq!(server.state()?, State::Connected);
//! client.send(b"ping")?; // packet mode: all or nothing
//! let mut buf = [0u8; 4];
//! server.recv(&mut buf)?;
//! assert_eq!(&buf, b"ping");
//! drop(client);
//! assert_eq!(server.state()?, State::Closed);
//! drop(server);
//! assert_eq!(hv.outstanding(), Default::default()); // every grant, map, port and key released
//! # }
//! # Ok::<(), unistack_vchan::Error>(())
//! ```
//!
//! # Hostile peers
//! The peer may write any byte of the shared pages at any time. This crate never forms a
//! Rust reference to plain data in them: [`shm::Shm`] reads each index once into a local
//! with an atomic load, copies ring bytes out (or in) with relaxed atomic accesses, and the
//! caller validates the copy. A producer index more than the ring's free space ahead of our
//! consumer index, a bad ring order or grant list, a bad liveness byte or a message field out
//! of range is a typed [`Corrupt`] error, never a panic, a hang, or an access outside the
//! shared memory (property-tested and fuzzable through [`fuzzing`]).
//!
//! # Features
//! - `alloc`: [`shm::ShmBox`] (zeroed heap pages).
//! - `std` (default): `alloc`, the [`local`] and [`linux`] backends, `std::io::Read`/`Write`
//!   and `AsFd` (the event channel, for `poll`) on [`Vchan`], and a default clock for
//!   timeouts. Without it the crate is `#![no_std]` and needs no allocator: a unikernel
//!   implements [`backend`]'s traits.
//!
//! # Panics
//! Nothing reachable from the peer's bytes or from the store panics. [`shm::ShmBox::new`]
//! panics on a zero page count (a caller bug).
//!
//! # Unsafe
//! Confined to [`shm`] (the crate denies `unsafe_code` everywhere else; the workspace's
//! `forbid` is replaced by this crate's own lint table, since `forbid` cannot be lowered):
//! constructing a [`shm::Shm`] from a pointer, its atomic accesses through
//! `Atomic*::from_ptr`, allocating and freeing [`shm::ShmBox`] pages, and `mmap`/`munmap` for
//! [`shm::ShmMap`]. Each block carries a `// SAFETY:` argument. The unit tests (including
//! a two-thread vchan exchange and a two-thread ring with event-driven wakeups) run under
//! Miri: `MIRIFLAGS=-Zmiri-disable-weak-memory-emulation cargo +nightly miri test -p
//! unistack-vchan --lib`. The flag is needed because copies use 8-byte atomics for whole
//! words and 1-byte atomics at the edges, so the same bytes are sometimes accessed atomically
//! with different sizes (never racing: always ordered by the index handshake), which Miri's
//! weak-memory emulation does not support (it stops with an internal error); its data-race
//! detector still runs.
//!
//! # Decisions
//! - Atomics, not volatile: every access to shared bytes is an atomic of this process, so a
//!   concurrent peer write is defined behaviour in Rust's memory model (and Miri can check
//!   the in-process tests). Relaxed atomic loads and stores compile to plain moves.
//! - Our own ring indexes are private copies written to the page and never read back; the
//!   peer's are read once per decision and validated.
//! - "Zero copy" means no intermediate buffer: [`ReadGuard`] copies from the ring straight
//!   into the caller's destination, [`WriteGuard`] from the caller's source straight into the
//!   ring, at any offset, with the wrap handled; handing out `&[u8]` into the ring would let
//!   the peer change bytes under a Rust reference.
//! - A protocol violation poisons a vchan: later calls return the same [`Corrupt`] error.
//! - Timeouts: blocking calls use [`Vchan::set_timeout`] and a caller-supplied monotonic clock
//!   ([`Vchan::set_clock`]; `Instant` with `std`).
//!
//! # Interop with libxenvchan
//! `tests/libxenvchan.rs` runs Debian's unmodified `libxenvchan.so.4.17` without Xen, over
//! replacement `libxenstore.so.4`, `libxengnttab.so.1` and `libxenevtchn.so.1`
//! (`tests/xenshim/shim.c`: same sonames and symbol versions, 27 functions) that follow the
//! [`linux`] backend's on-disk layout, so a C program using libxenvchan and a Rust program
//! using this crate talk as two domains would: our client with its server and our server with
//! its client, ring orders 10 to 20, 50 MB each way at once with the bytes checked, and a
//! peer that writes and closes at once (drained after it has gone). The shims also implement
//! Xen's unmap notification for libxenvchan (the liveness byte cleared and an event sent when
//! a page is unmapped or unshared).
//!
//! # Not supported (yet)
//! - Talking to a real hypervisor: a unikernel backend (hypercalls) is not written.
//! - libxenvchan's `server_persist`. Xen's unmap notification (`*_notify` grant calls that
//!   clear the liveness byte when a process dies) has no file equivalent; instead the
//!   [`linux`] backend probes the peer's event socket ([`EventChannel::peer_alive`]), and a
//!   [`Vchan`] whose peer process is gone without closing reports itself closed (blocked
//!   calls check every 250 ms). Store permissions are not modelled.
//! - netif multi-queue and control rings, the x86_32 blkif ABI; request ids are checked for
//!   range and, with [`ring::IdTable`], for being outstanding, but tying a transmit packet's
//!   slots together is left to the driver (`unistack-stack`'s netfront does).
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod backend;
pub mod blkif;
mod error;
#[doc(hidden)]
#[cfg(feature = "std")]
pub mod fuzzing;
#[cfg(feature = "std")]
pub mod linux;
#[cfg(feature = "std")]
pub mod local;
pub mod netif;
pub mod ring;
pub mod shm;
pub mod vchan;

pub use backend::{Backend, DomId, EventChannel, Events, GrantRef, Grants, Mapping, Port, Store};
pub use error::{BackendError, Corrupt, Error};
pub use vchan::{ReadGuard, Role, ServerConfig, State, Vchan, WriteGuard};
