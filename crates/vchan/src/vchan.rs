//! vchan: a bidirectional byte channel over granted pages, byte-compatible with Xen 4.17's
//! libxenvchan (`xen/include/public/io/libxenvchan.h`, `tools/libs/vchan/{init,io}.c`).
//!
//! # The shared page
//! [`VchanInterface`] is the first 24 bytes: the `left` ring's indexes (client writes, server
//! reads) `{cons, prod}` at 0 and 4, the `right` ring's (server writes, client reads) at 8 and
//! 12, `left_order`/`right_order` (`u16`) at 16/18, `cli_live`/`srv_live` at 20/21 (0 exited,
//! 1 connected, 2 not yet connected), `cli_notify`/`srv_notify` at 22/23, then the grant
//! references (`u32`) of the left ring's pages followed by the right ring's from offset 24.
//! A ring of order 10 lives in the page at 1024, of order 11 at 2048; orders 12 to 20 use
//! 2^(order − 12) separately granted pages. The server publishes the page's grant as
//! `<path>/ring-ref` and its event-channel port as `<path>/event-channel` in the store.
//!
//! A notify byte holds requests *to* its owner: the server sets bits in `cli_notify` to ask
//! the client for an event after it writes ([`NOTIFY_WRITE`]) or reads ([`NOTIFY_READ`]), and
//! the client clears them with an atomic fetch-and when it acts (`__sync_fetch_and_and`), so
//! one event is sent per request.
//!
//! # Barriers
//! As libxenvchan: the peer's producer (consumer) index is loaded once with acquire ordering
//! and followed by a full fence (`xen_mb` after `raw_get_*`); asking for a notification is an
//! atomic OR followed by a full fence, after which the index is read again (no lost wakeup: a
//! peer that moved the index before seeing our bit is seen by the second read, one that moved
//! it after sends an event, which stays pending until we wait); data is copied after an
//! acquire fence (`xen_rmb`) or a full fence (`xen_mb`, writer), the index is published by a
//! release store after a full (reader) or release (writer, `xen_wmb`) fence, and a full fence
//! precedes the fetch-and that decides whether to notify.
//!
//! # Hostile peer
//! Our own indexes (`rd_cons`, `wr_prod`) are private copies, written to the page and never
//! read back; the orders and grants are read once, by the client, at connect, and validated
//! (orders 10 to 20, not both in the same in-page slot, the grant list ending before any
//! in-page ring and inside the page); every load of the peer's index is checked
//! (`prod − cons <= size`, wrapping); the liveness byte must be 0, 1 or (client, seen by the
//! server) 2. A violation is [`Corrupt`], sticky for the channel.

use core::sync::atomic::{Ordering, fence};
use core::time::Duration;

use unistack_cstruct::Cstruct;

use crate::backend::{Backend, DomId, EventChannel, GrantRef, Grants, Mapping, read_store_number};
use crate::error::{Corrupt, Error};
use crate::shm::{PAGE_SIZE, Shm};

/// The fixed part of the shared page (`struct vchan_interface` without `grants[]`).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cstruct(little, view = VchanInterfaceView)]
pub struct VchanInterface {
    /// Left ring (client to server): bytes consumed by the server.
    pub left_cons: u32,
    /// Left ring: bytes produced by the client.
    pub left_prod: u32,
    /// Right ring (server to client): bytes consumed by the client.
    pub right_cons: u32,
    /// Right ring: bytes produced by the server.
    pub right_prod: u32,
    /// log2 of the left ring's size.
    pub left_order: u16,
    /// log2 of the right ring's size.
    pub right_order: u16,
    /// Client state: 0 exited, 1 connected, 2 not yet connected.
    pub cli_live: u8,
    /// Server state: 0 exited, 1 connected.
    pub srv_live: u8,
    /// Notifications the server asked the client for.
    pub cli_notify: u8,
    /// Notifications the client asked the server for.
    pub srv_notify: u8,
}

/// Offset of `grants[]` in the shared page.
pub const GRANTS_OFFSET: usize = VchanInterface::SIZE;
/// `VCHAN_NOTIFY_WRITE`: send an event when data is written.
pub const NOTIFY_WRITE: u8 = 1;
/// `VCHAN_NOTIFY_READ`: send an event when data is read (space is freed).
pub const NOTIFY_READ: u8 = 2;
/// Smallest ring order (1 KiB, in the shared page at 1024).
pub const MIN_ORDER: u16 = 10;
/// Largest ring order (1 MiB, 256 granted pages).
pub const MAX_ORDER: u16 = 20;
/// The largest ring, in bytes.
pub const MAX_RING_SIZE: usize = 1 << MAX_ORDER;
/// Longest store path: `<path>/event-channel` must fit libxenvchan's 64-byte buffer.
pub const MAX_PATH_LEN: usize = 64 - "/event-channel".len() - 1;

const PAGE_SHIFT: u16 = 12;
const LIVE_EXITED: u8 = 0;
const LIVE_CONNECTED: u8 = 1;
const LIVE_WAITING: u8 = 2;
const LEFT: usize = VchanInterface::LEFT_CONS.offset;
const RIGHT: usize = VchanInterface::RIGHT_CONS.offset;
const PROD: usize = VchanInterface::LEFT_PROD.offset - VchanInterface::LEFT_CONS.offset;
const CLI_LIVE: usize = VchanInterface::CLI_LIVE.offset;
const SRV_LIVE: usize = VchanInterface::SRV_LIVE.offset;
const CLI_NOTIFY: usize = VchanInterface::CLI_NOTIFY.offset;
const SRV_NOTIFY: usize = VchanInterface::SRV_NOTIFY.offset;

/// Which end of the channel this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Shares the pages and publishes them in the store; reads the left ring.
    Server,
    /// Maps the server's pages; reads the right ring.
    Client,
}

/// Where the connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Server only: no client has connected yet (writes are buffered, reads would block).
    Waiting,
    /// Both ends are up.
    Connected,
    /// The peer has gone, but data it wrote is still waiting to be read.
    PeerClosed,
    /// Closed: by us, or by the peer with nothing left to read.
    Closed,
}

/// How a server sizes its rings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerConfig {
    /// Minimum bytes of the left ring (client to server), at most [`MAX_RING_SIZE`].
    pub left_min: usize,
    /// Minimum bytes of the right ring (server to client), at most [`MAX_RING_SIZE`].
    pub right_min: usize,
    /// The first value of every ring index (libxenvchan: 0). Any value works with any
    /// client, since indexes are free-running; a value near `u32::MAX` exercises wrapping.
    pub first_index: u32,
}

impl ServerConfig {
    /// Rings of at least `left_min` and `right_min` bytes.
    pub const fn new(left_min: usize, right_min: usize) -> Self {
        ServerConfig {
            left_min,
            right_min,
            first_index: 0,
        }
    }

    /// The orders libxenvchan's `libxenvchan_server_init` picks (in-page rings when they fit).
    fn orders(&self) -> Result<(u16, u16), Error> {
        const SMALL: usize = 1 << MIN_ORDER;
        const LARGE: usize = 1 << (MIN_ORDER + 1);
        if self.left_min > MAX_RING_SIZE || self.right_min > MAX_RING_SIZE {
            return Err(Error::InvalidArgument);
        }
        let min_order = |size: usize| {
            let mut o = PAGE_SHIFT;
            while size > 1 << o {
                o += 1;
            }
            o
        };
        let (l, r) = (self.left_min, self.right_min);
        Ok(if l <= SMALL && r <= LARGE {
            (MIN_ORDER, MIN_ORDER + 1)
        } else if l <= LARGE && r <= SMALL {
            (MIN_ORDER + 1, MIN_ORDER)
        } else if l <= LARGE {
            (MIN_ORDER + 1, min_order(r))
        } else if r <= LARGE {
            (min_order(l), MIN_ORDER + 1)
        } else {
            (min_order(l), min_order(r))
        })
    }
}

/// Pages granted for this channel: shared by us (server) or mapped from the peer (client).
enum Region<B: Grants> {
    Shared(B::Shared),
    Mapped(B::Mapped),
}

impl<B: Grants> Region<B> {
    fn shm(&self) -> &Shm {
        match self {
            Region::Shared(s) => s.shm(),
            Region::Mapped(m) => m.shm(),
        }
    }
}

/// One direction's ring: where its indexes and bytes are.
#[derive(Debug, Clone, Copy)]
struct Ring {
    /// Offset of `{cons, prod}` in the shared page.
    idx: usize,
    /// log2 of the size.
    order: u16,
    /// Offset of the bytes in the shared page, or `None` for separate pages.
    in_page: Option<usize>,
}

impl Ring {
    fn new(idx: usize, order: u16) -> Self {
        let in_page = match order {
            10 => Some(1024),
            11 => Some(2048),
            _ => None,
        };
        Ring {
            idx,
            order,
            in_page,
        }
    }

    fn size(&self) -> u32 {
        1 << self.order
    }

    fn pages(&self) -> usize {
        if self.order >= PAGE_SHIFT {
            1 << (self.order - PAGE_SHIFT)
        } else {
            0
        }
    }
}

/// Validate orders a server wrote: both 10..=20, not the same in-page slot, grant list inside
/// the page and ending before any in-page ring.
fn check_orders(left: u16, right: u16) -> Result<(Ring, Ring), Corrupt> {
    let bad = Corrupt::Order { left, right };
    if !(MIN_ORDER..=MAX_ORDER).contains(&left) || !(MIN_ORDER..=MAX_ORDER).contains(&right) {
        return Err(bad);
    }
    if left == right && left < PAGE_SHIFT {
        return Err(bad);
    }
    let (l, r) = (Ring::new(LEFT, left), Ring::new(RIGHT, right));
    let end = GRANTS_OFFSET + 4 * (l.pages() + r.pages());
    let limit = [l.in_page, r.in_page]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(PAGE_SIZE);
    if end > limit {
        return Err(bad);
    }
    Ok((l, r))
}

/// A store key built in a fixed buffer: `<path>/<leaf>`.
struct Key {
    buf: [u8; 64],
    len: usize,
}

impl Key {
    fn new(path: &str, leaf: &str) -> Result<Self, Error> {
        if leaf.is_empty() {
            let mut buf = [0u8; 64];
            buf.get_mut(..path.len())
                .ok_or(Error::InvalidArgument)?
                .copy_from_slice(path.as_bytes());
            return Ok(Key {
                buf,
                len: path.len(),
            });
        }
        let mut buf = [0u8; 64];
        let len = path.len() + 1 + leaf.len();
        let dst = buf.get_mut(..len).ok_or(Error::InvalidArgument)?;
        let (p, rest) = dst.split_at_mut(path.len());
        p.copy_from_slice(path.as_bytes());
        let (slash, l) = rest.split_at_mut(1);
        slash.copy_from_slice(b"/");
        l.copy_from_slice(leaf.as_bytes());
        Ok(Key { buf, len })
    }

    fn as_str(&self) -> &str {
        self.buf
            .get(..self.len)
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

/// Format `v` in decimal into `buf`.
fn decimal(v: u32, buf: &mut [u8; 10]) -> &str {
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        if let Some(d) = buf.get_mut(i) {
            *d = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    buf.get(i..)
        .and_then(|b| core::str::from_utf8(b).ok())
        .unwrap_or("0")
}

/// Parse a non-zero decimal `u32` (libxenvchan's `atoi`, made strict): the rule the client
/// applies to `ring-ref` and `event-channel`.
#[cfg(test)]
fn parse_decimal(s: &str) -> Result<u32, Corrupt> {
    crate::backend::parse_store_number(s).and_then(nonzero_u32)
}

fn nonzero_u32(v: u64) -> Result<u32, Corrupt> {
    u32::try_from(v)
        .ok()
        .filter(|&v| v != 0)
        .ok_or(Corrupt::StoreValue)
}

/// One end of a vchan.
///
/// Dropping it closes the channel: our liveness byte goes to 0, the peer gets an event, the
/// server removes its store keys, and every grant is ended or unmapped.
pub struct Vchan<B: Backend> {
    // Field order is drop order: rings, then the shared page, then the event channel.
    rings: [Option<Region<B>>; 2],
    ctrl: Region<B>,
    event: B::Channel,
    backend: B,
    role: Role,
    path: Key,
    read: Ring,
    write: Ring,
    /// Private copy of our consumer index of the read ring.
    rd_cons: u32,
    /// Private copy of our producer index of the write ring.
    wr_prod: u32,
    closed: bool,
    /// The backend reported the peer gone without closing (a crashed process): its liveness
    /// byte is treated as "exited".
    peer_dead: bool,
    corrupt: Option<Corrupt>,
    timeout: Option<Duration>,
    clock: Option<fn() -> Duration>,
    /// Retries of a blocked operation before sleeping on the event channel.
    spin: u32,
    /// Set while a blocking call may still poll instead of sleeping: a blocked operation
    /// then does not ask the peer for an event (it would cost the peer a notification per
    /// wakeup that polling makes unnecessary); the last try before sleeping or timing out
    /// asks. Only `block` sets it, around the crate's own operations, which do not panic.
    quiet: bool,
}

impl<B: Backend> core::fmt::Debug for Vchan<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Vchan")
            .field("role", &self.role)
            .field("path", &self.path.as_str())
            .field("read_order", &self.read.order)
            .field("write_order", &self.write.order)
            .field("rd_cons", &self.rd_cons)
            .field("wr_prod", &self.wr_prod)
            .field("closed", &self.closed)
            .field("corrupt", &self.corrupt)
            .finish_non_exhaustive()
    }
}

/// How often a blocked call checks that the peer still exists.
const PEER_PROBE: Duration = Duration::from_millis(250);

impl<B: Backend> Vchan<B> {
    /// Create the server end for `peer` (`libxenvchan_server_init`): share the page and ring
    /// pages, allocate the event channel, and publish `<path>/ring-ref` and
    /// `<path>/event-channel`. Returns at once, in [`State::Waiting`].
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a ring larger than [`MAX_RING_SIZE`] or a path longer
    /// than [`MAX_PATH_LEN`]; backend errors.
    pub fn server(
        backend: B,
        peer: DomId,
        path: &str,
        config: ServerConfig,
    ) -> Result<Self, Error> {
        if path.len() > MAX_PATH_LEN {
            return Err(Error::InvalidArgument);
        }
        let (left_order, right_order) = config.orders()?;
        let (read, write) = (Ring::new(LEFT, left_order), Ring::new(RIGHT, right_order));
        let event = backend.alloc_unbound(peer)?;
        let mut ring_ref = [0 as GrantRef];
        let ctrl = Region::Shared(backend.share(peer, &mut ring_ref)?);
        let page = ctrl.shm();
        page.fill(0, PAGE_SIZE, 0)?;
        let first = config.first_index;
        for off in [LEFT, LEFT + PROD, RIGHT, RIGHT + PROD] {
            page.store_u32(off, first, Ordering::Relaxed)?;
        }
        page.store_u16(
            VchanInterface::LEFT_ORDER.offset,
            left_order,
            Ordering::Relaxed,
        )?;
        page.store_u16(
            VchanInterface::RIGHT_ORDER.offset,
            right_order,
            Ordering::Relaxed,
        )?;
        page.store_u8(CLI_LIVE, LIVE_WAITING, Ordering::Relaxed)?;
        page.store_u8(SRV_LIVE, LIVE_CONNECTED, Ordering::Relaxed)?;
        page.store_u8(CLI_NOTIFY, NOTIFY_WRITE, Ordering::Relaxed)?;
        let mut rings = [None, None];
        let mut grant_at = GRANTS_OFFSET;
        for (slot, ring) in rings.iter_mut().zip([read, write]) {
            if ring.in_page.is_some() {
                continue;
            }
            let mut refs = [0 as GrantRef; 256];
            let refs = refs.get_mut(..ring.pages()).ok_or(Error::InvalidArgument)?;
            let shared = backend.share(peer, refs)?;
            for r in refs.iter() {
                page.store_u32(grant_at, *r, Ordering::Relaxed)?;
                grant_at += 4;
            }
            *slot = Some(Region::Shared(shared));
        }
        fence(Ordering::Release);
        let chan = Vchan {
            rings,
            ctrl,
            event,
            backend,
            role: Role::Server,
            path: Key::new(path, "")?,
            read,
            write,
            rd_cons: first,
            wr_prod: first,
            closed: false,
            peer_dead: false,
            corrupt: None,
            timeout: None,
            clock: default_clock(),
            spin: 0,
            quiet: false,
        };
        let mut buf = [0u8; 10];
        chan.backend.write(
            Key::new(path, "ring-ref")?.as_str(),
            decimal(ring_ref[0], &mut buf),
        )?;
        chan.backend.write(
            Key::new(path, "event-channel")?.as_str(),
            decimal(chan.event.port(), &mut buf),
        )?;
        Ok(chan)
    }

    /// Connect to the server `peer` published at `path` (`libxenvchan_client_init`).
    ///
    /// # Errors
    /// [`Error::NotFound`] if the store keys are not there (yet); [`Corrupt`] for a malformed
    /// key or shared page; backend errors (an unknown grant or port).
    pub fn client(backend: B, peer: DomId, path: &str) -> Result<Self, Error> {
        if path.len() > MAX_PATH_LEN {
            return Err(Error::InvalidArgument);
        }
        let read_key = |leaf: &str| -> Result<u32, Error> {
            let v = read_store_number(&backend, Key::new(path, leaf)?.as_str())?;
            Ok(nonzero_u32(v.ok_or(Error::NotFound)?)?)
        };
        let ring_ref = read_key("ring-ref")?;
        let port = read_key("event-channel")?;
        let event = backend.bind(peer, port)?;
        let ctrl = Region::Mapped(backend.map(peer, &[ring_ref])?);
        let page = ctrl.shm();
        if page.len() < PAGE_SIZE {
            return Err(Corrupt::Access(crate::shm::AccessError {
                offset: 0,
                len: PAGE_SIZE,
                available: page.len(),
            })
            .into());
        }
        // Read once: the orders decide every offset from here on.
        let left_order = page.load_u16(VchanInterface::LEFT_ORDER.offset, Ordering::Acquire)?;
        let right_order = page.load_u16(VchanInterface::RIGHT_ORDER.offset, Ordering::Acquire)?;
        let (write, read) = check_orders(left_order, right_order)?;
        let mut rings = [None, None];
        let mut grant_at = GRANTS_OFFSET;
        // Grants are listed left (our write ring) first; `rings` is [read, write].
        for (slot, ring) in [(1, write), (0, read)] {
            if ring.in_page.is_some() {
                continue;
            }
            let mut refs = [0 as GrantRef; 256];
            let refs = refs.get_mut(..ring.pages()).ok_or(Error::InvalidArgument)?;
            for r in refs.iter_mut() {
                *r = page.load_u32(grant_at, Ordering::Relaxed)?;
                grant_at += 4;
            }
            let mapped = backend.map(peer, refs)?;
            if mapped.shm().len() < ring.size() as usize {
                return Err(Corrupt::Order {
                    left: left_order,
                    right: right_order,
                }
                .into());
            }
            if let Some(s) = rings.get_mut(slot) {
                *s = Some(Region::Mapped(mapped));
            }
        }
        let wr_prod = page.load_u32(write.idx + PROD, Ordering::Acquire)?;
        let rd_cons = page.load_u32(read.idx, Ordering::Acquire)?;
        page.store_u8(CLI_LIVE, LIVE_CONNECTED, Ordering::Release)?;
        page.store_u8(SRV_NOTIFY, NOTIFY_WRITE, Ordering::Release)?;
        fence(Ordering::SeqCst);
        event.notify()?;
        Ok(Vchan {
            rings,
            ctrl,
            event,
            backend,
            role: Role::Client,
            path: Key::new(path, "")?,
            read,
            write,
            rd_cons,
            wr_prod,
            closed: false,
            peer_dead: false,
            corrupt: None,
            timeout: None,
            clock: default_clock(),
            spin: 0,
            quiet: false,
        })
    }

    /// This end's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The read ring's size in bytes.
    pub fn read_ring_size(&self) -> usize {
        self.read.size() as usize
    }

    /// The write ring's size in bytes.
    pub fn write_ring_size(&self) -> usize {
        self.write.size() as usize
    }

    /// The event channel (`libxenvchan_fd_for_select`: with the Linux backend it is
    /// `AsFd`, readable when an event is pending; call [`wait_event`](Self::wait_event) to
    /// consume it, then retry the operation).
    pub fn event(&self) -> &B::Channel {
        &self.event
    }

    /// Bound every later blocking call to `timeout` (`None`: wait forever, the default).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// Let each blocking call poll the shared page up to `turns` times (each after a CPU
    /// spin-loop hint, about 12 ns here) before it sleeps on the event channel. A
    /// cross-process wakeup costs tens of microseconds on a virtual machine (an interrupt to
    /// a halted vCPU), so when the peer runs on another core and is about to make progress,
    /// polling for about as long as a wakeup costs is cheaper: 4,000 turns (~50 µs) take a
    /// 64-byte ping-pong from ~57 µs to ~1.3 µs and in-page rings from 0.04 to 2 GB/s (see
    /// `benches/RESULTS.md`). Polling reads the peer's indexes and liveness byte only, and a
    /// polling call asks the peer for no event, so a busy peer pays no notifications for
    /// it; when the turns run out the call asks for an event, looks again and sleeps. The
    /// budget is per call. With a clock ([`set_clock`](Self::set_clock); `std` has one) the
    /// timeout also bounds the polling; without one, polling runs its budget and the
    /// timeout bounds the sleep after it. A turn's cost depends on the CPU (the spin-loop
    /// hint is a `pause` on x86, whose length varies several-fold between generations), and
    /// a turn in which the peer moved costs a retry of the operation too. 0 (the default,
    /// as libxenvchan) sleeps at once and spends no CPU waiting.
    pub fn set_spin(&mut self, turns: u32) {
        self.spin = turns;
    }

    /// The monotonic clock blocking calls measure their timeout with (with `std`, one based on
    /// `Instant` is the default). Without a clock each wait for an event gets the whole
    /// timeout, and a wait that times out ends the call.
    pub fn set_clock(&mut self, clock: Option<fn() -> Duration>) {
        self.clock = clock;
    }

    fn check(&self) -> Result<(), Error> {
        if let Some(c) = self.corrupt {
            return Err(c.into());
        }
        if self.closed {
            return Err(Error::Closed);
        }
        Ok(())
    }

    /// Record a protocol violation (sticky).
    fn poison<T>(&mut self, r: Result<T, Error>) -> Result<T, Error> {
        if let Err(Error::Corrupt(c)) = r {
            self.corrupt.get_or_insert(c);
        }
        r
    }

    fn page(&self) -> &Shm {
        self.ctrl.shm()
    }

    /// The region and offset holding `ring`'s bytes.
    fn ring_mem(&self, ring: &Ring, slot: usize) -> Result<(&Shm, usize), Error> {
        match ring.in_page {
            Some(off) => Ok((self.page(), off)),
            None => match self.rings.get(slot).and_then(Option::as_ref) {
                Some(r) => Ok((r.shm(), 0)),
                None => Err(Error::InvalidArgument),
            },
        }
    }

    /// (our notify byte, the peer's notify byte, the peer's live byte)
    fn bytes(&self) -> (usize, usize, usize) {
        match self.role {
            Role::Server => (SRV_NOTIFY, CLI_NOTIFY, CLI_LIVE),
            Role::Client => (CLI_NOTIFY, SRV_NOTIFY, SRV_LIVE),
        }
    }

    /// The peer's liveness byte, validated.
    fn peer_live(&self) -> Result<u8, Error> {
        if self.peer_dead {
            return Ok(LIVE_EXITED);
        }
        let (.., live) = self.bytes();
        let v = self.page().load_u8(live, Ordering::Acquire)?;
        match (v, self.role) {
            (LIVE_EXITED | LIVE_CONNECTED, _) | (LIVE_WAITING, Role::Server) => Ok(v),
            _ => Err(Corrupt::Live(v).into()),
        }
    }

    /// What the peer writes on the shared page (its producer index on our read ring, its
    /// consumer index on our write ring, its liveness byte), loaded without validation, to
    /// notice that it moved; an unreadable page reads as a change so that the caller retries
    /// and reports the error.
    fn peer_words(&self) -> Option<(u32, u32, u8)> {
        let page = self.page();
        let (.., live) = self.bytes();
        Some((
            page.load_u32(self.read.idx + PROD, Ordering::Relaxed)
                .ok()?,
            page.load_u32(self.write.idx, Ordering::Relaxed).ok()?,
            page.load_u8(live, Ordering::Relaxed).ok()?,
        ))
    }

    /// `raw_get_data_ready`: bytes readable, validated.
    fn raw_data_ready(&self) -> Result<u32, Error> {
        let prod = self
            .page()
            .load_u32(self.read.idx + PROD, Ordering::Acquire)?;
        fence(Ordering::SeqCst);
        let ready = prod.wrapping_sub(self.rd_cons);
        if ready > self.read.size() {
            return Err(Corrupt::Index {
                prod,
                cons: self.rd_cons,
                limit: self.read.size(),
            }
            .into());
        }
        Ok(ready)
    }

    /// `raw_get_buffer_space`: bytes writable, validated.
    fn raw_buffer_space(&self) -> Result<u32, Error> {
        let cons = self.page().load_u32(self.write.idx, Ordering::Acquire)?;
        fence(Ordering::SeqCst);
        let used = self.wr_prod.wrapping_sub(cons);
        if used > self.write.size() {
            return Err(Corrupt::Index {
                prod: self.wr_prod,
                cons,
                limit: self.write.size(),
            }
            .into());
        }
        Ok(self.write.size() - used)
    }

    /// `request_notify`: ask the peer for an event on `bit`.
    fn request_notify(&self, bit: u8) -> Result<(), Error> {
        if self.quiet {
            return Ok(());
        }
        let (_, theirs, _) = self.bytes();
        self.page().fetch_or_u8(theirs, bit, Ordering::SeqCst)?;
        fence(Ordering::SeqCst);
        Ok(())
    }

    /// `send_notify`: send an event if the peer asked for one on `bit`.
    fn send_notify(&self, bit: u8) -> Result<(), Error> {
        fence(Ordering::SeqCst);
        let (ours, ..) = self.bytes();
        // A plain load first: after the fence, either we see the peer's request or the peer
        // (which sets it, fences, then looks at our index again) sees what we just did, so
        // a clear bit needs no locked write to the line that holds both sides' indexes.
        if self.page().load_u8(ours, Ordering::Relaxed)? & bit == 0 {
            return Ok(());
        }
        let prev = self.page().fetch_and_u8(ours, !bit, Ordering::SeqCst)?;
        if prev & bit != 0 {
            self.event.notify()?;
        }
        Ok(())
    }

    /// `fast_get_data_ready`: if fewer than `request` bytes are ready, ask for an event and
    /// look again.
    fn fast_data_ready(&self, request: u32) -> Result<u32, Error> {
        let ready = self.raw_data_ready()?;
        if ready >= request {
            return Ok(ready);
        }
        self.request_notify(NOTIFY_WRITE)?;
        self.raw_data_ready()
    }

    /// `fast_get_buffer_space`.
    fn fast_buffer_space(&self, request: u32) -> Result<u32, Error> {
        let space = self.raw_buffer_space()?;
        if space >= request {
            return Ok(space);
        }
        self.request_notify(NOTIFY_READ)?;
        self.raw_buffer_space()
    }

    /// Ask the backend whether a connected peer still exists (see
    /// [`EventChannel::peer_alive`]); one that is gone counts as exited from then on.
    fn check_peer_alive(&mut self) {
        if !self.peer_dead
            && self.peer_live().ok() == Some(LIVE_CONNECTED)
            && self.event.peer_alive() == Some(false)
        {
            self.peer_dead = true;
        }
    }

    /// The connection state. A peer whose process is known to be gone without closing
    /// (the [`linux`](crate::linux) backend probes its socket) counts as closed.
    ///
    /// # Errors
    /// [`Corrupt`] if the peer's liveness byte or index is invalid.
    pub fn state(&mut self) -> Result<State, Error> {
        if let Some(c) = self.corrupt {
            return Err(c.into());
        }
        if self.closed {
            return Ok(State::Closed);
        }
        self.check_peer_alive();
        let r = self.state_inner();
        self.poison(r)
    }

    fn state_inner(&self) -> Result<State, Error> {
        Ok(match self.peer_live()? {
            LIVE_WAITING => State::Waiting,
            LIVE_CONNECTED => State::Connected,
            _ if self.raw_data_ready()? > 0 => State::PeerClosed,
            _ => State::Closed,
        })
    }

    /// Bytes ready to read (`libxenvchan_data_ready`; asks for an event when more arrive).
    ///
    /// # Errors
    /// [`Corrupt`] for an invalid index.
    pub fn data_ready(&mut self) -> Result<usize, Error> {
        self.check()?;
        let r = self
            .request_notify(NOTIFY_WRITE)
            .and_then(|()| self.raw_data_ready());
        Ok(self.poison(r)? as usize)
    }

    /// Bytes that can be written without blocking (`libxenvchan_buffer_space`; asks for an
    /// event when more space frees up).
    ///
    /// # Errors
    /// [`Corrupt`] for an invalid index.
    pub fn buffer_space(&mut self) -> Result<usize, Error> {
        self.check()?;
        let r = self
            .request_notify(NOTIFY_READ)
            .and_then(|()| self.raw_buffer_space());
        Ok(self.poison(r)? as usize)
    }

    /// Wait for one event (`libxenvchan_wait`), at most `timeout`; returns whether one came.
    ///
    /// # Errors
    /// Backend errors.
    pub fn wait_event(&self, timeout: Option<Duration>) -> Result<bool, Error> {
        Ok(self.event.wait(timeout)?)
    }

    /// Whether the timeout has passed since `start` (known only with a clock).
    fn timed_out(&self, start: Option<Duration>) -> bool {
        match (self.timeout, start, self.clock) {
            (Some(t), Some(s), Some(c)) => c().saturating_sub(s) >= t,
            _ => false,
        }
    }

    /// Run `op` until it does not return [`Error::WouldBlock`], waiting for events between
    /// attempts, within the timeout.
    fn block<T>(&mut self, mut op: impl FnMut(&mut Self) -> Result<T, Error>) -> Result<T, Error> {
        let start = self.clock.map(|c| c());
        let mut spin_left = self.spin;
        loop {
            // While we may still poll, `op` asks for no event, and what the peer has written
            // is noted before `op` looks: a move after `op`'s own look then shows as a
            // difference below (`None`: the page could not be read; `op` reports it).
            let quiet = spin_left > 0;
            let before = quiet.then(|| self.peer_words());
            self.quiet = quiet;
            let r = op(self);
            self.quiet = false;
            match r {
                Err(Error::WouldBlock) => {}
                r => return r,
            }
            let remaining = match (self.timeout, start, self.clock) {
                (None, ..) => None,
                (Some(t), Some(s), Some(c)) => {
                    let elapsed = c().saturating_sub(s);
                    if elapsed >= t {
                        if quiet {
                            // Leave asking for an event, as a caller that then waits on
                            // the event channel itself needs.
                            spin_left = 0;
                            continue;
                        }
                        return Err(Error::TimedOut);
                    }
                    Some(t - elapsed)
                }
                (Some(t), ..) => Some(t),
            };
            // Poll with loads only until the peer moves something, within a budget of
            // `spin` turns per call; with a clock, the timeout is checked above each time
            // the peer moves and every 1,024 turns, so neither a large budget nor a peer that
            // keeps moving holds us past it. When the budget runs out, `op` runs once more
            // asking for an event (and looking again after asking, so no wakeup is lost)
            // before we sleep.
            if let Some(before) = before {
                while spin_left > 0 {
                    spin_left -= 1;
                    core::hint::spin_loop();
                    if before.is_none() || self.peer_words() != before {
                        break;
                    }
                    if spin_left.is_multiple_of(1024) && self.timed_out(start) {
                        spin_left = 0;
                    }
                }
                continue;
            }
            if self.timeout.is_some() && self.clock.is_none() {
                // No clock: one wait is the whole timeout.
                if !self.event.wait(remaining)? {
                    self.check_peer_alive();
                    if self.peer_dead {
                        continue; // `op` now sees the peer as gone
                    }
                    return Err(Error::TimedOut);
                }
                continue;
            }
            // Sleep in slices so a peer that died without closing is noticed (its events
            // will never come); the clock bounds the whole call.
            let slice = remaining.map_or(PEER_PROBE, |r| r.min(PEER_PROBE));
            if !self.event.wait(Some(slice))? {
                self.check_peer_alive();
            }
        }
    }

    /// Wait until the client has connected (server) or the state is not
    /// [`Waiting`](State::Waiting); returns the state then.
    ///
    /// # Errors
    /// [`Error::TimedOut`]; [`Corrupt`].
    pub fn wait_connected(&mut self) -> Result<State, Error> {
        self.block(|c| match c.state()? {
            State::Waiting => Err(Error::WouldBlock),
            s => Ok(s),
        })
    }

    /// Borrow the readable bytes without copying them anywhere yet.
    ///
    /// # Errors
    /// [`Error::WouldBlock`] if nothing is ready; [`Error::Closed`] at the end of the stream
    /// (the peer closed and everything was read); [`Corrupt`].
    pub fn read_guard(&mut self) -> Result<ReadGuard<'_, B>, Error> {
        self.read_guard_min(1)
    }

    fn read_guard_min(&mut self, min: u32) -> Result<ReadGuard<'_, B>, Error> {
        self.check()?;
        let r = self.ready_at_least(min);
        let len = self.poison(r)?;
        fence(Ordering::Acquire); // xen_rmb: data after the index
        Ok(ReadGuard { chan: self, len })
    }

    fn ready_at_least(&self, min: u32) -> Result<usize, Error> {
        let ready = self.fast_data_ready(min)?;
        if ready >= min {
            return Ok(ready as usize);
        }
        if self.peer_live()? == LIVE_EXITED {
            // The peer's last bytes happen-before its liveness store: look once more.
            let ready = self.raw_data_ready()?;
            if ready >= min {
                return Ok(ready as usize);
            }
            return Err(Error::Closed);
        }
        Err(Error::WouldBlock)
    }

    /// Borrow free space in the write ring to fill in place.
    ///
    /// # Errors
    /// [`Error::WouldBlock`] if the ring is full; [`Error::Closed`] if either end closed;
    /// [`Corrupt`].
    pub fn write_guard(&mut self) -> Result<WriteGuard<'_, B>, Error> {
        self.write_guard_min(1)
    }

    fn write_guard_min(&mut self, min: u32) -> Result<WriteGuard<'_, B>, Error> {
        self.check()?;
        let r = self.space_at_least(min);
        let len = self.poison(r)?;
        fence(Ordering::SeqCst); // xen_mb: read indexes, then write data
        Ok(WriteGuard { chan: self, len })
    }

    fn space_at_least(&self, min: u32) -> Result<usize, Error> {
        if self.peer_live()? == LIVE_EXITED {
            return Err(Error::Closed);
        }
        let space = self.fast_buffer_space(min)?;
        if space >= min {
            return Ok(space as usize);
        }
        Err(Error::WouldBlock)
    }

    /// Read what is ready, up to `buf.len()`, without blocking. `Ok(0)` means end of stream
    /// (or an empty `buf`).
    ///
    /// # Errors
    /// [`Error::WouldBlock`] if nothing is ready; [`Corrupt`].
    pub fn try_read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        self.check()?;
        if buf.is_empty() {
            return Ok(0);
        }
        match self.read_guard() {
            Ok(g) => {
                let n = g.len().min(buf.len());
                g.read_at(0, buf.get_mut(..n).unwrap_or_default())?;
                g.commit(n)?;
                Ok(n)
            }
            Err(Error::Closed) => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Read at least one byte (blocking), up to `buf.len()`. `Ok(0)` means end of stream.
    ///
    /// # Errors
    /// [`Error::TimedOut`]; [`Corrupt`].
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        self.block(|c| c.try_read(buf))
    }

    /// Read exactly `buf.len()` bytes or nothing, without blocking (packet mode,
    /// `libxenvchan_recv` non-blocking).
    ///
    /// # Errors
    /// [`Error::TooLarge`] if `buf` is longer than the ring; [`Error::WouldBlock`];
    /// [`Error::Closed`] if the peer closed with fewer bytes left; [`Corrupt`].
    pub fn try_recv(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        self.check()?;
        let min = self.packet_len(buf.len(), self.read_ring_size())?;
        if min == 0 {
            return Ok(());
        }
        let g = self.read_guard_min(min)?;
        g.read_at(0, buf)?;
        g.commit(buf.len())
    }

    /// Read exactly `buf.len()` bytes (blocking, packet mode).
    ///
    /// # Errors
    /// As [`try_recv`](Self::try_recv), and [`Error::TimedOut`].
    pub fn recv(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        self.block(|c| c.try_recv(buf))
    }

    fn packet_len(&self, len: usize, max: usize) -> Result<u32, Error> {
        if len > max {
            return Err(Error::TooLarge { len, max });
        }
        u32::try_from(len).map_err(|_| Error::TooLarge { len, max })
    }

    /// Write as much of `buf` as fits, without blocking.
    ///
    /// # Errors
    /// [`Error::WouldBlock`] if the ring is full; [`Error::Closed`]; [`Corrupt`].
    pub fn try_write(&mut self, buf: &[u8]) -> Result<usize, Error> {
        self.check()?;
        if buf.is_empty() {
            return Ok(0);
        }
        let g = self.write_guard()?;
        let n = g.len().min(buf.len());
        g.write_at(0, buf.get(..n).unwrap_or_default())?;
        g.commit(n)?;
        Ok(n)
    }

    /// Write all of `buf`, blocking as needed (stream mode, `libxenvchan_write` blocking).
    ///
    /// # Errors
    /// [`Error::Closed`] if either end closed first; [`Error::TimedOut`] (some bytes may have
    /// been written); [`Corrupt`].
    pub fn write_all(&mut self, buf: &[u8]) -> Result<(), Error> {
        let mut done = 0;
        while done < buf.len() {
            let rest = buf.get(done..).unwrap_or_default();
            done += self.block(|c| c.try_write(rest))?;
        }
        Ok(())
    }

    /// Write all of `buf` or nothing, without blocking (packet mode, `libxenvchan_send`).
    ///
    /// # Errors
    /// [`Error::TooLarge`] if `buf` is longer than the ring; [`Error::WouldBlock`];
    /// [`Error::Closed`]; [`Corrupt`].
    pub fn try_send(&mut self, buf: &[u8]) -> Result<(), Error> {
        self.check()?;
        let min = self.packet_len(buf.len(), self.write_ring_size())?;
        if min == 0 {
            return Ok(());
        }
        let g = self.write_guard_min(min)?;
        g.write_at(0, buf)?;
        g.commit(buf.len())
    }

    /// Write all of `buf` at once, blocking until there is room (packet mode).
    ///
    /// # Errors
    /// As [`try_send`](Self::try_send), and [`Error::TimedOut`].
    pub fn send(&mut self, buf: &[u8]) -> Result<(), Error> {
        self.block(|c| c.try_send(buf))
    }

    /// Close the channel (as dropping it does, but keeping the value): mark our end exited,
    /// notify the peer, and (server) remove the store keys. Later calls return
    /// [`Error::Closed`].
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        let live = match self.role {
            Role::Server => SRV_LIVE,
            Role::Client => CLI_LIVE,
        };
        // Errors here cannot be reported (drop) and change nothing for the peer.
        let _ = self.page().store_u8(live, LIVE_EXITED, Ordering::Release);
        fence(Ordering::SeqCst);
        let _ = self.event.notify();
        if self.role == Role::Server {
            let _ = self.backend.remove(self.path.as_str());
        }
    }
}

impl<B: Backend> Drop for Vchan<B> {
    fn drop(&mut self) {
        self.close();
    }
}

/// Readable bytes of a vchan, read in place: copy any range straight into its final
/// destination, then [`commit`](Self::commit) how many were consumed. Nothing is consumed
/// unless committed. No `&[u8]` into the ring is ever handed out (the peer may write it).
#[derive(Debug)]
pub struct ReadGuard<'a, B: Backend> {
    chan: &'a mut Vchan<B>,
    len: usize,
}

impl<B: Backend> ReadGuard<'_, B> {
    /// Bytes available.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no bytes are available (never, for a guard from `read_guard`).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The available bytes as at most two contiguous runs of the ring (the second after the
    /// wrap): their lengths.
    pub fn runs(&self) -> (usize, usize) {
        let pos = self.chan.rd_cons as usize & (self.chan.read_ring_size() - 1);
        let first = self.len.min(self.chan.read_ring_size() - pos);
        (first, self.len - first)
    }

    /// Copy `dst.len()` available bytes starting `offset` bytes in into `dst`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the range is not inside the available bytes.
    pub fn read_at(&self, offset: usize, dst: &mut [u8]) -> Result<(), Error> {
        let end = offset
            .checked_add(dst.len())
            .ok_or(Error::InvalidArgument)?;
        if end > self.len {
            return Err(Error::InvalidArgument);
        }
        let chan = &*self.chan;
        let size = chan.read_ring_size();
        let (mem, base) = chan.ring_mem(&chan.read, 0)?;
        let pos = (chan.rd_cons as usize).wrapping_add(offset) & (size - 1);
        let first = dst.len().min(size - pos);
        let (a, b) = dst.split_at_mut(first);
        mem.read(base + pos, a)?;
        mem.read(base, b)?;
        Ok(())
    }

    /// Consume the first `n` available bytes and tell the peer (if it asked).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `n` exceeds [`len`](Self::len); backend errors.
    pub fn commit(self, n: usize) -> Result<(), Error> {
        if n > self.len {
            return Err(Error::InvalidArgument);
        }
        let chan = self.chan;
        fence(Ordering::SeqCst); // xen_mb: consume, then notify
        chan.rd_cons = chan.rd_cons.wrapping_add(n as u32);
        chan.page()
            .store_u32(chan.read.idx, chan.rd_cons, Ordering::Release)?;
        chan.send_notify(NOTIFY_READ)
    }
}

/// Free space in a vchan's write ring, filled in place: copy from the caller's source straight
/// into the ring at any offset, then [`commit`](Self::commit) how many bytes to publish.
#[derive(Debug)]
pub struct WriteGuard<'a, B: Backend> {
    chan: &'a mut Vchan<B>,
    len: usize,
}

impl<B: Backend> WriteGuard<'_, B> {
    /// Bytes of free space.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no free space (never, for a guard from `write_guard`).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The free space as at most two contiguous runs of the ring: their lengths.
    pub fn runs(&self) -> (usize, usize) {
        let pos = self.chan.wr_prod as usize & (self.chan.write_ring_size() - 1);
        let first = self.len.min(self.chan.write_ring_size() - pos);
        (first, self.len - first)
    }

    /// Copy `src` into the free space starting `offset` bytes in.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the range is not inside the free space.
    pub fn write_at(&self, offset: usize, src: &[u8]) -> Result<(), Error> {
        let end = offset
            .checked_add(src.len())
            .ok_or(Error::InvalidArgument)?;
        if end > self.len {
            return Err(Error::InvalidArgument);
        }
        let chan = &*self.chan;
        let size = chan.write_ring_size();
        let (mem, base) = chan.ring_mem(&chan.write, 1)?;
        let pos = (chan.wr_prod as usize).wrapping_add(offset) & (size - 1);
        let first = src.len().min(size - pos);
        let (a, b) = src.split_at(first);
        mem.write(base + pos, a)?;
        mem.write(base, b)?;
        Ok(())
    }

    /// Publish the first `n` bytes of the space and tell the peer (if it asked).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `n` exceeds [`len`](Self::len); backend errors.
    pub fn commit(self, n: usize) -> Result<(), Error> {
        if n > self.len {
            return Err(Error::InvalidArgument);
        }
        let chan = self.chan;
        fence(Ordering::Release); // xen_wmb: data, then the index
        chan.wr_prod = chan.wr_prod.wrapping_add(n as u32);
        chan.page()
            .store_u32(chan.write.idx + PROD, chan.wr_prod, Ordering::Release)?;
        chan.send_notify(NOTIFY_WRITE)
    }
}

#[cfg(feature = "std")]
fn default_clock() -> Option<fn() -> Duration> {
    fn now() -> Duration {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        START.get_or_init(std::time::Instant::now).elapsed()
    }
    Some(now)
}

#[cfg(not(feature = "std"))]
fn default_clock() -> Option<fn() -> Duration> {
    None
}

#[cfg(feature = "std")]
impl<B: Backend> Vchan<B> {
    /// Connect as [`client`](Self::client) does, retrying while the server's keys are not
    /// in the store yet, for at most `timeout`.
    ///
    /// # Errors
    /// [`Error::TimedOut`]; otherwise as [`client`](Self::client).
    pub fn client_timeout(
        backend: B,
        peer: DomId,
        path: &str,
        timeout: Duration,
    ) -> Result<Self, Error>
    where
        B: Clone,
    {
        let start = std::time::Instant::now();
        loop {
            match Self::client(backend.clone(), peer, path) {
                Err(Error::NotFound) if start.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(Error::NotFound) => return Err(Error::TimedOut),
                r => return r,
            }
        }
    }
}

#[cfg(feature = "std")]
impl<B: Backend> std::io::Read for Vchan<B> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        Ok(Vchan::read(self, buf)?)
    }
}

#[cfg(feature = "std")]
impl<B: Backend> std::io::Write for Vchan<B> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(self.block(|c| c.try_write(buf))?)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(feature = "std")]
impl<B: Backend> std::os::fd::AsFd for Vchan<B>
where
    B::Channel: std::os::fd::AsFd,
{
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.event.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both directions at once from two threads, across ring wraps and index wraps, with
    /// blocking calls (so lost wakeups would hang: the timeout turns that into a failure).
    /// Small enough for Miri, which checks the shared-memory accesses for data races.
    #[cfg(feature = "std")]
    #[test]
    fn two_threads_both_directions() {
        use crate::local::{Hypervisor, Outstanding};
        use std::vec::Vec;
        let hv = Hypervisor::new();
        let path = "/local/domain/1/data/vchan/t";
        let config = ServerConfig {
            first_index: u32::MAX - 700,
            ..ServerConfig::new(1024, 2048)
        };
        let mut server = Vchan::server(hv.domain(1), 2, path, config).unwrap();
        let total = if cfg!(miri) { 5_000 } else { 200_000 };
        let byte = |i: usize| (i * 7 + i / 251) as u8;
        let hv2 = hv.clone();
        let client = std::thread::spawn(move || {
            let mut c = Vchan::client(hv2.domain(2), 1, path).unwrap();
            c.set_timeout(Some(Duration::from_secs(60)));
            let mut sent = 0;
            let mut got = Vec::new();
            let mut buf = [0u8; 300];
            while sent < total || got.len() < total {
                if sent < total {
                    let n = (sent % 97 + 1).min(total - sent);
                    let src: Vec<u8> = (sent..sent + n).map(byte).collect();
                    c.write_all(&src).unwrap();
                    sent += n;
                }
                if got.len() < total {
                    let n = c.read(&mut buf).unwrap();
                    got.extend_from_slice(&buf[..n]);
                }
            }
            got
        });
        server.set_timeout(Some(Duration::from_secs(60)));
        let mut got = Vec::new();
        let mut sent = 0;
        let mut buf = [0u8; 211];
        while sent < total || got.len() < total {
            if sent < total {
                let n = (sent % 89 + 1).min(total - sent);
                let src: Vec<u8> = (sent..sent + n).map(|i| !byte(i)).collect();
                server.send(&src).unwrap();
                sent += n;
            }
            if got.len() < total {
                let n = server.read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
            }
        }
        let theirs = client.join().unwrap();
        assert!(got.iter().enumerate().all(|(i, &b)| b == byte(i)));
        assert!(theirs.iter().enumerate().all(|(i, &b)| b == !byte(i)));
        assert_eq!(server.read(&mut buf), Ok(0));
        drop(server);
        assert_eq!(hv.outstanding(), Outstanding::default());
    }

    #[test]
    fn orders_match_libxenvchan() {
        let o = |l, r| ServerConfig::new(l, r).orders().unwrap();
        assert_eq!(o(1024, 2048), (10, 11));
        assert_eq!(o(2048, 1024), (11, 10));
        assert_eq!(o(100, 100), (10, 11));
        assert_eq!(o(2048, 2048), (11, 12));
        assert_eq!(o(5000, 100), (13, 11));
        assert_eq!(o(1 << 20, 1 << 20), (20, 20));
        assert!(ServerConfig::new((1 << 20) + 1, 0).orders().is_err());
        // Every order a server picks passes the client's check.
        for l in [0, 1024, 2048, 4096, 4097, 1 << 16, 1 << 20] {
            for r in [0, 1024, 2048, 4096, 4097, 1 << 16, 1 << 20] {
                let (a, b) = o(l, r);
                check_orders(a, b).unwrap();
                assert!(1usize << a >= l && 1usize << b >= r);
            }
        }
    }

    #[test]
    fn hostile_orders_are_refused() {
        assert!(check_orders(9, 11).is_err());
        assert!(check_orders(10, 21).is_err());
        assert!(check_orders(10, 10).is_err());
        assert!(check_orders(11, 11).is_err());
        assert!(check_orders(12, 12).is_ok());
        // 256 grants (1 KiB) run into a ring at 1024, not one at 2048.
        assert!(check_orders(10, 20).is_err());
        assert!(check_orders(20, 11).is_ok());
        assert!(check_orders(u16::MAX, 0).is_err());
    }

    #[test]
    fn store_values() {
        let mut b = [0u8; 10];
        assert_eq!(decimal(0, &mut b), "0");
        assert_eq!(decimal(u32::MAX, &mut b), "4294967295");
        assert_eq!(parse_decimal("42"), Ok(42));
        for bad in ["", "0", "-1", "+1", "4294967296", " 1", "1x", "99999999999"] {
            assert_eq!(parse_decimal(bad), Err(Corrupt::StoreValue), "{bad:?}");
        }
        assert_eq!(
            Key::new("a/b", "ring-ref").unwrap().as_str(),
            "a/b/ring-ref"
        );
        assert!(Key::new(&"x".repeat(MAX_PATH_LEN), "event-channel").is_ok());
        assert!(Key::new(&"x".repeat(MAX_PATH_LEN + 2), "event-channel").is_err());
    }
}
