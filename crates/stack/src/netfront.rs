//! Xen's paravirtual network device: [`Netfront`] (the guest's driver) and [`Netback`] (its
//! peer), both [`Device`]s, speaking the netif protocol (`xen/include/public/io/netif.h`) over
//! the shared rings and grant pages of `unistack-vchan`.
//!
//! Join two [`Interface`](crate::Interface)s with them — one on each end — in one process
//! (vchan's `local` backend) or across processes (its `linux` backend), exactly as a unikernel
//! and its driver domain are joined under Xen.
//!
//! # Protocol
//! The front end shares, with the back end's domain, a transmit ring page, a receive ring page
//! (each initialised as `SHARED_RING_INIT`), `tx_slots` transmit data pages and `rx_slots`
//! receive data pages, and allocates an unbound event channel. It then publishes, under its
//! store path, `tx-ring-ref`, `rx-ring-ref`, `event-channel`, `request-rx-copy` = 1 and
//! `feature-sg` = 0, and last `state` = 4 (`XenbusStateConnected`). The back end
//! ([`Netback::attach`]) reads those keys, maps the two rings, binds the event channel and
//! writes `backend-state` = 4.
//!
//! - Transmit (front → back): a frame goes into a free transmit page (one per request id, so
//!   an id is busy until its response returns) and a `netif_tx_request` names its grant, offset
//!   0, length and id. The back end answers each request with a `netif_tx_response`.
//! - Receive (back → front): the front end posts every receive page as a `netif_rx_request`
//!   (id = page index) and re-posts a page once it has consumed the frame in it; the back end
//!   writes a frame into the page of the next posted request and answers with a
//!   `netif_rx_response` (offset, length).
//! - Events follow the ring macros' rules (`RING_PUSH_*_AND_CHECK_NOTIFY`,
//!   `RING_FINAL_CHECK_*`), so an end that sleeps in [`Netfront::wait`] / [`Netback::wait`]
//!   is woken when there is work and a polling end pays for no system calls.
//! - One slot per frame: frames up to a page (MTU up to 4082); `feature-sg`, GSO and
//!   multi-queue are not negotiated.
//!
//! # Copies
//! [`Device`] lends `&mut [u8]`; a Rust reference into a page the peer may write at any time
//! would be undefined behaviour, and vchan never forms one. So each end keeps one private
//! frame buffer and copies between it and the granted page (with vchan's atomic copies): one
//! copy per frame per end, which is the copy Xen's netback does with grant-copy anyway. The
//! stack builds and parses frames in place in that buffer.
//!
//! # Hostile peers
//! Everything the peer writes is validated before use: ring indexes (by vchan), ids against
//! the ring and against what is outstanding (a response for a page not posted, or a transmit
//! id not in flight), offsets and lengths against the page, flags we did not negotiate, grant
//! references (a back end maps only what the front end granted it, and caches at most
//! [`MAX_MAPPINGS`] of them). A malformed request is answered with `NETIF_RSP_ERROR` and its
//! frame dropped; a protocol violation that leaves the rings unusable (a bad index, a response
//! for an id not outstanding) stops the device: [`Netfront::error`] / [`Netback::error`] says
//! why, and it sends and receives nothing more. Nothing panics.

use alloc::collections::BTreeMap;
use alloc::collections::btree_map::Entry;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write as _;
use core::time::Duration;

use unistack_ipv4::ChecksumCaps;
use unistack_vchan::backend::read_store_number;
use unistack_vchan::netif::{
    NETRXF_EXTRA_INFO, NETRXF_MORE_DATA, NETTXF_EXTRA_INFO, NETTXF_MORE_DATA, NetifRx,
    NetifRxRequest, NetifRxResponse, NetifStatus, NetifTx, NetifTxRequest, NetifTxResponse,
    RxResult,
};
use unistack_vchan::ring::{BackRing, FrontRing};
use unistack_vchan::shm::PAGE_SIZE;
use unistack_vchan::{
    Corrupt, DomId, Error, EventChannel, Events, GrantRef, Grants, Mapping, Store,
};

use crate::device::{Device, DeviceCaps};

/// The largest frame one slot carries.
pub const MAX_FRAME: usize = PAGE_SIZE;

/// The most data pages a back end keeps mapped (a front end naming more distinct grants than
/// this gets `NETIF_RSP_ERROR`).
pub const MAX_MAPPINGS: usize = 1024;

/// `XenbusStateConnected`.
const CONNECTED: &str = "4";
/// `XEN_NETIF_EXTRA_FLAG_MORE`: another extra-info slot follows.
const EXTRA_FLAG_MORE: u8 = 1;
/// Ethernet header length: shorter frames are refused.
const MIN_FRAME: usize = 14;

/// How a [`Netfront`] is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetConfig {
    /// Transmit pages, hence frames in flight to the back end (1..=256).
    pub tx_slots: u16,
    /// Receive pages posted to the back end (1..=256).
    pub rx_slots: u16,
    /// The MTU (IP packet size) both ends use: at most `PAGE_SIZE - 14`.
    pub mtu: usize,
    /// Which checksums software computes and verifies.
    pub checksum: ChecksumCaps,
    /// Frames per direction per poll, at most.
    pub max_burst: usize,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            tx_slots: 256,
            rx_slots: 256,
            mtu: 1500,
            checksum: ChecksumCaps::all(),
            max_burst: 64,
        }
    }
}

impl NetConfig {
    fn caps(&self) -> DeviceCaps {
        DeviceCaps {
            mtu: self.mtu,
            checksum: self.checksum,
            max_burst: self.max_burst,
            tso_max: 0,
        }
    }

    fn valid(&self) -> bool {
        (1..=256).contains(&self.tx_slots)
            && (1..=256).contains(&self.rx_slots)
            && self.mtu >= 68
            && self.mtu + MIN_FRAME <= MAX_FRAME
            && self.max_burst > 0
    }
}

/// Counters of a [`Netfront`] or [`Netback`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct NetStats {
    /// Frames sent.
    pub tx_frames: u64,
    /// Frames received.
    pub rx_frames: u64,
    /// Transmits refused because no slot (or no posted receive page) was free.
    pub tx_full: u64,
    /// Frames the peer rejected (front end: an error status in a transmit response).
    pub tx_rejected: u64,
    /// Malformed or unmappable frames from the peer, dropped (and answered with an error).
    pub rx_dropped: u64,
    /// Event-channel notifications sent.
    pub notifies: u64,
}

/// What both ends keep alike: the event channel, the frame buffer lent to the stack, the
/// counters, and the error that stopped the device.
struct End<C> {
    event: C,
    frame: Vec<u8>,
    stats: NetStats,
    error: Option<Error>,
}

impl<C: EventChannel> End<C> {
    fn new(event: C) -> Self {
        End {
            event,
            frame: vec![0; MAX_FRAME],
            stats: NetStats::default(),
            error: None,
        }
    }

    /// Send an event if the ring macros said the peer wants one.
    fn notify(&mut self, needed: bool) -> Result<(), Error> {
        if needed {
            self.stats.notifies += 1;
            self.event.notify()?;
        }
        Ok(())
    }

    /// Sleep on the event channel; a peer process found gone without closing (when the
    /// platform can tell) stops the device with [`Error::Closed`].
    fn wait(&mut self, timeout: Option<Duration>) -> Result<bool, Error> {
        let got = self.event.wait(timeout)?;
        if !got && self.error.is_none() && self.event.peer_alive() == Some(false) {
            self.error = Some(Error::Closed);
        }
        Ok(got)
    }

    /// Keep the error that stops the device.
    fn fail<T>(&mut self, r: Result<T, Error>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }
}

/// A number the other end published: absent is [`Error::InvalidArgument`], malformed (or
/// beyond `u32`) is [`Corrupt::StoreValue`].
fn num<S: Store>(store: &S, key: &str) -> Result<u32, Error> {
    let v = read_store_number(store, key)?.ok_or(Error::InvalidArgument)?;
    u32::try_from(v).map_err(|_| Error::Corrupt(Corrupt::StoreValue))
}

/// Share `n` pages with `peer`, one grant each.
#[allow(clippy::type_complexity)]
fn share_pages<B: Grants>(
    platform: &B,
    peer: DomId,
    n: u16,
) -> Result<(Vec<B::Shared>, Vec<GrantRef>), Error> {
    let mut pages = Vec::with_capacity(usize::from(n));
    let mut refs = Vec::with_capacity(usize::from(n));
    for _ in 0..n {
        let mut r = [0];
        pages.push(platform.share(peer, &mut r)?);
        refs.push(r[0]);
    }
    Ok((pages, refs))
}

/// The guest's network driver: a [`Device`] whose frames cross to a [`Netback`].
pub struct Netfront<B: Grants + Events + Store> {
    store: B,
    path: String,
    tx: FrontRing<NetifTx, B::Shared>,
    rx: FrontRing<NetifRx, B::Shared>,
    /// One page per transmit id, granted separately (as Xen's netfront does).
    tx_pages: Vec<B::Shared>,
    tx_refs: Vec<GrantRef>,
    /// Free transmit ids; `tx_busy[id]` while a request is in flight.
    tx_free: Vec<u16>,
    tx_busy: Vec<bool>,
    rx_pages: Vec<B::Shared>,
    rx_refs: Vec<GrantRef>,
    rx_posted: Vec<bool>,
    end: End<B::Channel>,
    config: NetConfig,
}

impl<B: Grants + Events + Store> core::fmt::Debug for Netfront<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Netfront")
            .field("path", &self.path)
            .field("config", &self.config)
            .field("stats", &self.end.stats)
            .field("error", &self.end.error)
            .finish_non_exhaustive()
    }
}

impl<B: Grants + Events + Store> Netfront<B> {
    /// Share the rings and data pages with domain `backend`, post every receive page, and
    /// publish the connection under store key `path` (e.g. `/local/domain/1/device/vif/0`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a config out of range; the platform's errors.
    pub fn connect(
        platform: B,
        backend: DomId,
        path: &str,
        config: NetConfig,
    ) -> Result<Self, Error> {
        if !config.valid() {
            return Err(Error::InvalidArgument);
        }
        let mut ring_ref = [0; 1];
        let tx_ring = platform.share(backend, &mut ring_ref)?;
        let tx_ring_ref = ring_ref[0];
        let rx_ring = platform.share(backend, &mut ring_ref)?;
        let rx_ring_ref = ring_ref[0];
        let (tx_pages, tx_refs) = share_pages(&platform, backend, config.tx_slots)?;
        let (rx_pages, rx_refs) = share_pages(&platform, backend, config.rx_slots)?;
        let event = platform.alloc_unbound(backend)?;
        let mut front = Netfront {
            path: String::from(path),
            tx: FrontRing::init(tx_ring)?,
            rx: FrontRing::init(rx_ring)?,
            tx_pages,
            tx_free: (0..config.tx_slots).rev().collect(),
            tx_busy: vec![false; usize::from(config.tx_slots)],
            tx_refs,
            rx_pages,
            rx_posted: vec![false; usize::from(config.rx_slots)],
            rx_refs,
            end: End::new(event),
            config,
            store: platform,
        };
        for id in 0..config.rx_slots {
            front.post_rx(id)?;
        }
        front.rx.push_requests_and_check_notify()?;
        let port = front.end.event.port();
        let keys = [
            ("tx-ring-ref", tx_ring_ref),
            ("rx-ring-ref", rx_ring_ref),
            ("event-channel", port),
            ("request-rx-copy", 1),
            ("feature-sg", 0),
            ("mtu", config.mtu as u32),
        ];
        for (key, value) in keys {
            front
                .store
                .write(&format!("{path}/{key}"), &format!("{value}"))?;
        }
        front.store.write(&format!("{path}/state"), CONNECTED)?;
        Ok(front)
    }

    /// Counters.
    pub fn stats(&self) -> NetStats {
        self.end.stats
    }

    /// Why the device stopped, if it did (a protocol violation by the back end).
    pub fn error(&self) -> Option<&Error> {
        self.end.error.as_ref()
    }

    /// The event channel (to poll its file descriptor with `std` backends).
    pub fn event_channel(&self) -> &B::Channel {
        &self.end.event
    }

    /// Sleep until the back end signals or `timeout` passes, unless responses are already
    /// waiting (then return at once). Returns whether there may be work. A back-end process
    /// found gone without closing stops the device ([`error`](Self::error) is
    /// [`Error::Closed`]).
    ///
    /// # Errors
    /// Ring and platform errors.
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<bool, Error> {
        if self.rx.final_check_for_responses()? || self.tx.final_check_for_responses()? {
            return Ok(true);
        }
        self.end.wait(timeout)
    }

    fn post_rx(&mut self, id: u16) -> Result<(), Error> {
        let i = usize::from(id);
        let gref = *self.rx_refs.get(i).ok_or(Error::InvalidArgument)?;
        self.rx.push_request(&NetifRxRequest { id, pad: 0, gref })?;
        if let Some(p) = self.rx_posted.get_mut(i) {
            *p = true;
        }
        Ok(())
    }

    /// Take transmit responses, freeing their ids.
    fn reclaim_tx(&mut self) -> Result<(), Error> {
        while let Some(rsp) = self.tx.poll_response()? {
            rsp.check(self.tx.size())?;
            if rsp.status == NetifStatus::Null {
                continue; // the answer to an extra-info slot; we send none, but harmless
            }
            let busy = self.tx_busy.get_mut(usize::from(rsp.id));
            match busy {
                Some(b) if *b => *b = false,
                _ => return Err(Corrupt::UnknownId(rsp.id.into()).into()),
            }
            self.tx_free.push(rsp.id);
            if rsp.status != NetifStatus::Okay {
                self.end.stats.tx_rejected += 1;
            }
        }
        Ok(())
    }

    /// The next received frame's length, copied into `self.end.frame`; `None` if nothing waits.
    fn next_rx(&mut self) -> Result<Option<usize>, Error> {
        loop {
            let Some(rsp) = self.rx.poll_response()? else {
                if self.rx.final_check_for_responses()? {
                    continue;
                }
                return Ok(None);
            };
            let result = rsp.parse(self.rx.size())?;
            let i = usize::from(rsp.id);
            match self.rx_posted.get_mut(i) {
                Some(p) if *p => *p = false,
                _ => return Err(Corrupt::UnknownId(rsp.id.into()).into()),
            }
            if rsp.flags & (NETRXF_MORE_DATA | NETRXF_EXTRA_INFO) != 0 {
                // Not negotiated: the slots after this one would be misread.
                return Err(Corrupt::Field {
                    field: "flags",
                    value: rsp.flags.into(),
                }
                .into());
            }
            let got = match result {
                RxResult::Data { offset, len }
                    if (MIN_FRAME..=self.config.mtu + MIN_FRAME).contains(&usize::from(len)) =>
                {
                    let len = usize::from(len);
                    let dst = self
                        .end
                        .frame
                        .get_mut(..len)
                        .ok_or(Error::InvalidArgument)?;
                    let page = self.rx_pages.get(i).ok_or(Error::InvalidArgument)?;
                    page.shm().read(usize::from(offset), dst)?;
                    Some(len)
                }
                _ => {
                    self.end.stats.rx_dropped += 1;
                    None
                }
            };
            self.post_rx(rsp.id)?;
            let needed = self.rx.push_requests_and_check_notify()?;
            self.end.notify(needed)?;
            if got.is_some() {
                return Ok(got);
            }
        }
    }

    fn send(&mut self, id: u16, len: usize) -> Result<(), Error> {
        let i = usize::from(id);
        let src = self.end.frame.get(..len).ok_or(Error::InvalidArgument)?;
        let page = self.tx_pages.get(i).ok_or(Error::InvalidArgument)?;
        page.shm().write(0, src)?;
        let gref = *self.tx_refs.get(i).ok_or(Error::InvalidArgument)?;
        self.tx.push_request(&NetifTxRequest {
            gref,
            offset: 0,
            flags: 0,
            id,
            len: len as u16,
        })?;
        let needed = self.tx.push_requests_and_check_notify()?;
        self.end.notify(needed)
    }
}

impl<B: Grants + Events + Store> Device for Netfront<B> {
    fn caps(&self) -> DeviceCaps {
        self.config.caps()
    }

    fn receive<R>(&mut self, _now: Duration, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        if self.end.error.is_some() {
            return None;
        }
        let r = self.next_rx();
        let len = self.end.fail(r)??;
        self.end.stats.rx_frames += 1;
        Some(f(&mut self.end.frame[..len]))
    }

    fn transmit<R>(
        &mut self,
        _now: Duration,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        if self.end.error.is_some() || len > self.config.mtu + MIN_FRAME {
            return None;
        }
        let r = self.reclaim_tx();
        self.end.fail(r)?;
        let Some(id) = self.tx_free.pop() else {
            self.end.stats.tx_full += 1;
            return None;
        };
        let out = f(&mut self.end.frame[..len]);
        if let Some(b) = self.tx_busy.get_mut(usize::from(id)) {
            *b = true;
        }
        let r = self.send(id, len);
        self.end.fail(r)?;
        self.end.stats.tx_frames += 1;
        Some(out)
    }
}

impl<B: Grants + Events + Store> Drop for Netfront<B> {
    fn drop(&mut self) {
        // The grants end when the pages drop; the keys go now.
        let _ = self.store.remove(&self.path);
    }
}

/// The driver domain's end of a [`Netfront`]: a [`Device`] for the stack on the other side.
pub struct Netback<B: Grants + Events + Store> {
    platform: B,
    front: DomId,
    path: String,
    tx: BackRing<NetifTx, B::Mapped>,
    rx: BackRing<NetifRx, B::Mapped>,
    maps: BTreeMap<GrantRef, B::Mapped>,
    end: End<B::Channel>,
    /// Extra-info slots still to skip, and whether the rest of a packet is being rejected.
    skip_extra: bool,
    skip_more: bool,
    /// The last transmit found no posted receive page: wake on the next one.
    rx_starved: bool,
    caps: DeviceCaps,
}

impl<B: Grants + Events + Store> core::fmt::Debug for Netback<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Netback")
            .field("front", &self.front)
            .field("path", &self.path)
            .field("caps", &self.caps)
            .field("stats", &self.end.stats)
            .field("error", &self.end.error)
            .finish_non_exhaustive()
    }
}

impl<B: Grants + Events + Store> Netback<B> {
    /// Attach to the [`Netfront`] of domain `front` published under `path`. `Ok(None)` if it
    /// has not published `state` = connected yet (try again later).
    ///
    /// # Errors
    /// [`Corrupt::StoreValue`] for a malformed key, [`Error::InvalidArgument`] for a missing
    /// one or an MTU out of range, and the platform's errors (a grant or port that is not
    /// the front end's).
    pub fn attach(
        platform: B,
        front: DomId,
        path: &str,
        checksum: ChecksumCaps,
    ) -> Result<Option<Self>, Error> {
        let mut buf = [0u8; 8];
        match platform.read(&format!("{path}/state"), &mut buf)? {
            Some(CONNECTED) => {}
            _ => return Ok(None),
        }
        let key = |k: &str| format!("{path}/{k}");
        let tx_ref = num(&platform, &key("tx-ring-ref"))?;
        let rx_ref = num(&platform, &key("rx-ring-ref"))?;
        let port = num(&platform, &key("event-channel"))?;
        let mtu = num(&platform, &key("mtu"))? as usize;
        if !(68..=MAX_FRAME - MIN_FRAME).contains(&mtu) {
            return Err(Error::InvalidArgument);
        }
        let tx = BackRing::attach(platform.map(front, &[tx_ref])?, 0)?;
        let rx = BackRing::attach(platform.map(front, &[rx_ref])?, 0)?;
        let event = platform.bind(front, port)?;
        platform.write(&key("backend-state"), CONNECTED)?;
        Ok(Some(Netback {
            front,
            path: String::from(path),
            tx,
            rx,
            maps: BTreeMap::new(),
            end: End::new(event),
            skip_extra: false,
            skip_more: false,
            rx_starved: false,
            caps: DeviceCaps {
                mtu,
                checksum,
                max_burst: 64,
                tso_max: 0,
            },
            platform,
        }))
    }

    /// Counters.
    pub fn stats(&self) -> NetStats {
        self.end.stats
    }

    /// Why the device stopped, if it did (a protocol violation by the front end).
    pub fn error(&self) -> Option<&Error> {
        self.end.error.as_ref()
    }

    /// The event channel (to poll its file descriptor with `std` backends).
    pub fn event_channel(&self) -> &B::Channel {
        &self.end.event
    }

    /// Sleep until the front end signals or `timeout` passes, unless frames are already
    /// waiting (or, after a transmit found no posted receive page, pages are). Returns
    /// whether there may be work. A front-end process found gone without closing stops the
    /// device ([`error`](Self::error) is [`Error::Closed`]).
    ///
    /// # Errors
    /// Ring and platform errors.
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<bool, Error> {
        if self.tx.final_check_for_requests()?
            || (self.rx_starved && self.rx.final_check_for_requests()?)
        {
            return Ok(true);
        }
        self.end.wait(timeout)
    }

    /// The mapped page behind `gref`, mapping it on first use.
    fn page<'m>(
        maps: &'m mut BTreeMap<GrantRef, B::Mapped>,
        platform: &B,
        front: DomId,
        gref: GrantRef,
    ) -> Result<&'m B::Mapped, Error> {
        // One search of the map per frame (the hot path looks up a page it mapped before).
        let mapped = maps.len();
        match maps.entry(gref) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(_) if mapped >= MAX_MAPPINGS => Err(Error::InvalidArgument),
            Entry::Vacant(v) => Ok(v.insert(platform.map(front, &[gref])?)),
        }
    }

    fn respond_tx(&mut self, id: u16, status: NetifStatus) -> Result<(), Error> {
        self.tx.push_response(&NetifTxResponse { id, status })?;
        let needed = self.tx.push_responses_and_check_notify()?;
        self.end.notify(needed)
    }

    /// Copy the frame of one transmit request into `self.end.frame`; its length if it is good.
    fn take_tx(&mut self, req: &NetifTxRequest) -> Result<Option<usize>, Error> {
        let len = usize::from(req.len);
        let ok = req.check(self.tx.size(), req.len).is_ok()
            && (MIN_FRAME..=self.caps.mtu + MIN_FRAME).contains(&len);
        if !ok {
            return Ok(None);
        }
        let offset = usize::from(req.offset);
        let Ok(page) = Self::page(&mut self.maps, &self.platform, self.front, req.gref) else {
            return Ok(None);
        };
        let r = page.shm().read(offset, &mut self.end.frame[..len]);
        Ok(r.is_ok().then_some(len))
    }

    /// The next good frame from the front end, in `self.end.frame`.
    fn next_tx(&mut self) -> Result<Option<usize>, Error> {
        loop {
            if self.skip_extra {
                // An extra-info slot: not a request; answer it with NETIF_RSP_NULL.
                let mut raw = [0u8; 12];
                if !self.tx.poll_request_raw(&mut raw)? {
                    return Ok(None);
                }
                self.skip_extra = raw[1] & EXTRA_FLAG_MORE != 0;
                self.respond_tx(0, NetifStatus::Null)?;
                continue;
            }
            let Some(req) = self.tx.poll_request()? else {
                if self.tx.final_check_for_requests()? {
                    continue;
                }
                return Ok(None);
            };
            self.skip_extra = req.flags & NETTXF_EXTRA_INFO != 0;
            let more = req.flags & NETTXF_MORE_DATA != 0;
            if self.skip_more || more || self.skip_extra {
                // Part of a multi-slot packet or one with extras (not negotiated): refuse
                // every slot of it.
                self.skip_more = more;
                self.end.stats.rx_dropped += 1;
                self.respond_tx(req.id, NetifStatus::Error)?;
                continue;
            }
            match self.take_tx(&req)? {
                Some(len) => {
                    self.respond_tx(req.id, NetifStatus::Okay)?;
                    return Ok(Some(len));
                }
                None => {
                    self.end.stats.rx_dropped += 1;
                    self.respond_tx(req.id, NetifStatus::Error)?;
                }
            }
        }
    }

    /// Put `self.end.frame[..len]` into the page of receive request `req` and answer it.
    fn deliver(&mut self, req: &NetifRxRequest, len: usize) -> Result<(), Error> {
        let status = match Self::page(&mut self.maps, &self.platform, self.front, req.gref) {
            Ok(page) => {
                let src = self.end.frame.get(..len).ok_or(Error::InvalidArgument)?;
                page.shm().write(0, src)?;
                len as u16
            }
            Err(_) => {
                self.end.stats.tx_rejected += 1;
                0xffff // NETIF_RSP_ERROR
            }
        };
        self.rx.push_response(&NetifRxResponse {
            id: req.id,
            offset: 0,
            flags: 0,
            status,
        })?;
        let needed = self.rx.push_responses_and_check_notify()?;
        self.end.notify(needed)
    }

    fn next_rx_request(&mut self) -> Result<Option<NetifRxRequest>, Error> {
        loop {
            let Some(req) = self.rx.poll_request()? else {
                if self.rx.final_check_for_requests()? {
                    continue;
                }
                return Ok(None);
            };
            // An id out of range could not be answered: a protocol violation.
            req.check(self.rx.size())?;
            return Ok(Some(req));
        }
    }
}

impl<B: Grants + Events + Store> Device for Netback<B> {
    fn caps(&self) -> DeviceCaps {
        self.caps
    }

    fn receive<R>(&mut self, _now: Duration, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        if self.end.error.is_some() {
            return None;
        }
        let r = self.next_tx();
        let len = self.end.fail(r)??;
        self.end.stats.rx_frames += 1;
        Some(f(&mut self.end.frame[..len]))
    }

    fn transmit<R>(
        &mut self,
        _now: Duration,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        if self.end.error.is_some() || len > self.caps.mtu + MIN_FRAME {
            return None;
        }
        let r = self.next_rx_request();
        let Some(req) = self.end.fail(r)? else {
            self.end.stats.tx_full += 1;
            self.rx_starved = true;
            return None;
        };
        self.rx_starved = false;
        let out = f(&mut self.end.frame[..len]);
        let r = self.deliver(&req, len);
        self.end.fail(r)?;
        self.end.stats.tx_frames += 1;
        Some(out)
    }
}

impl<B: Grants + Events + Store> Drop for Netback<B> {
    fn drop(&mut self) {
        let mut key = String::new();
        let _ = write!(key, "{}/backend-state", self.path);
        let _ = self.platform.remove(&key);
    }
}
