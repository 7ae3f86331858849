//! Fuzz bodies for the fuzz crate and the hostile-peer tests (not a stable API). Each takes
//! arbitrary bytes and panics only if an invariant breaks.
//!
//! - [`back_requests`]: a hostile front end writes arbitrary ring entries, indirect pages
//!   and producer indexes; a [`Blkback`] over a checked in-memory store serves them.
//! - [`front_responses`]: a hostile back end writes arbitrary responses and producer
//!   indexes; a [`Blkfront`] submits requests and polls.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::string::ToString;
use std::sync::atomic::Ordering;
use std::vec::Vec;

use unistack_vchan::blkif::{
    BlkifOp, BlkifRequest, BlkifRequestDiscard, BlkifRequestIndirect, BlkifResponse, BlkifSegment,
    BlkifStatus,
};
use unistack_vchan::local::{Domain, Hypervisor, LocalShared};
use unistack_vchan::ring::SringHeader;
use unistack_vchan::shm::PAGE_SIZE;
use unistack_vchan::{Corrupt, EventChannel, Events, GrantRef, Grants, Mapping, Store};

use crate::back::{BackConfig, BackConnector, Blkback, MemStorage, Storage};
use crate::error::Error;
use crate::front::{Blkfront, FrontConfig, FrontConnector, Op, Status};
use crate::xenbus::{DevicePaths, XVDA, XenbusState, create_device, read_num};

/// A little cursor over the fuzz input.
pub struct Input<'a>(pub &'a [u8]);

impl Input<'_> {
    /// The next byte (0 when exhausted).
    pub fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    /// The next `u16`.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    /// The next `u32`.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    /// The next `u64`.
    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }
    /// Whether input is left.
    pub fn more(&self) -> bool {
        !self.0.is_empty()
    }
}

/// A store that asserts the back end keeps its promises: every access inside the store,
/// every write or discard on a writable one.
#[derive(Debug)]
pub struct CheckedStorage(pub MemStorage);

impl Storage for CheckedStorage {
    fn len(&self) -> u64 {
        self.0.len()
    }
    fn read_only(&self) -> bool {
        self.0.read_only
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        assert!(offset + buf.len() as u64 <= self.len(), "read past the end");
        self.0.read_at(offset, buf)
    }
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> io::Result<()> {
        assert!(!self.0.read_only, "write to a read-only store");
        assert!(
            offset + buf.len() as u64 <= self.len(),
            "write past the end"
        );
        self.0.write_at(offset, buf)
    }
    fn sync(&mut self) -> io::Result<()> {
        self.0.sync()
    }
    fn discard(&mut self, offset: u64, len: u64) -> io::Result<()> {
        assert!(!self.0.read_only, "discard on a read-only store");
        assert!(offset + len <= self.len(), "discard past the end");
        self.0.discard(offset, len)
    }
}

const FRONT: u16 = 1;
const BACK: u16 = 0;

/// A hand-driven front end: the ring page and data pages shared with the back end, and a
/// back end connected to them.
pub struct HostileFront {
    /// The hypervisor.
    pub hv: Hypervisor,
    /// The ring page (we write requests and indexes into it directly).
    pub ring: LocalShared,
    /// Data pages, one grant each.
    pub pages: Vec<(GrantRef, LocalShared)>,
    /// The back end under test.
    pub back: Blkback<Domain, CheckedStorage>,
    /// Our private request producer index.
    pub req_prod: u32,
    /// Responses consumed.
    pub rsp_cons: u32,
    _event: unistack_vchan::local::LocalEvent,
}

impl HostileFront {
    /// Connect a back end over `storage` with `config`, through the real handshake, with
    /// `pages` data pages granted.
    ///
    /// # Panics
    /// If the handshake fails (it cannot, with a fresh hypervisor).
    pub fn new(storage: MemStorage, config: BackConfig, pages: usize) -> Self {
        let hv = Hypervisor::new();
        let paths = DevicePaths::new(FRONT, BACK, XVDA);
        let front = hv.domain(FRONT);
        create_device(&front, &paths).expect("create");
        let mut c = BackConnector::new(
            hv.domain(BACK),
            paths.clone(),
            CheckedStorage(storage),
            config,
        );
        assert!(matches!(c.poll(), Err(Error::WouldBlock)));
        let mut r = [0];
        let ring = front.share(BACK, &mut r).expect("ring");
        let event = front.alloc_unbound(BACK).expect("port");
        let f = &paths.front;
        front
            .write(f.join("ring-ref").expect("key").as_str(), &r[0].to_string())
            .expect("store");
        front
            .write(
                f.join("event-channel").expect("key").as_str(),
                &event.port().to_string(),
            )
            .expect("store");
        front
            .write(f.join("state").expect("key").as_str(), "3")
            .expect("store");
        let back = c.poll().expect("connected");
        let pages = (0..pages)
            .map(|_| {
                let mut r = [0];
                let s = front.share(BACK, &mut r).expect("page");
                (r[0], s)
            })
            .collect();
        HostileFront {
            hv,
            ring,
            pages,
            back,
            req_prod: 0,
            rsp_cons: 0,
            _event: event,
        }
    }

    /// Write `req` into the next ring slot and publish it.
    pub fn push(&mut self, req: &BlkifRequest) {
        let slot = SringHeader::SIZE + (self.req_prod % 32) as usize * BlkifRequest::SIZE;
        let shm = self.ring.shm();
        shm.write(slot, &req.to_bytes()).expect("in the page");
        self.req_prod = self.req_prod.wrapping_add(1);
        shm.store_u32(0, self.req_prod, Ordering::Release)
            .expect("in the page");
    }

    /// Take the next response, if published.
    pub fn pop(&mut self) -> Option<BlkifResponse> {
        let shm = self.ring.shm();
        let prod = shm.load_u32(8, Ordering::Acquire).expect("in the page");
        if prod == self.rsp_cons {
            return None;
        }
        let slot = SringHeader::SIZE + (self.rsp_cons % 32) as usize * BlkifRequest::SIZE;
        let mut b = [0u8; BlkifResponse::SIZE];
        shm.read(slot, &mut b).expect("in the page");
        self.rsp_cons = self.rsp_cons.wrapping_add(1);
        Some(BlkifResponse::from_bytes(&b))
    }

    /// Push one request, serve, and return its response.
    ///
    /// # Panics
    /// If the back end does not answer exactly once.
    pub fn ask(&mut self, req: &BlkifRequest) -> BlkifResponse {
        self.push(req);
        assert_eq!(self.back.serve_once(), Ok(1));
        let rsp = self.pop().expect("a response");
        assert_eq!(rsp.id, req.id);
        rsp
    }
}

fn pick_gref(input: &mut Input<'_>, pages: &[(GrantRef, LocalShared)]) -> GrantRef {
    let b = input.u8();
    match b % 8 {
        0 => 0,
        1 => input.u32(),
        2 => pages.last().map_or(0, |p| p.0 + 1 + u32::from(b >> 3)),
        _ => pages
            .get(usize::from(b >> 3) % pages.len().max(1))
            .map_or(0, |p| p.0),
    }
}

fn pick_sector(input: &mut Input<'_>, sectors: u64) -> u64 {
    let b = input.u8();
    match b % 8 {
        0 => u64::MAX - u64::from(b >> 3),
        1 => sectors.wrapping_sub(u64::from(b >> 3)),
        2 => input.u64(),
        _ => u64::from(input.u16()) % (sectors + 8),
    }
}

fn pick_segment(input: &mut Input<'_>, pages: &[(GrantRef, LocalShared)]) -> BlkifSegment {
    let b = input.u8();
    let (first, last) = if b & 0x80 == 0 {
        (0, 7)
    } else {
        (input.u8() % 10, input.u8() % 10)
    };
    BlkifSegment {
        gref: pick_gref(input, pages),
        first_sect: first,
        last_sect: last,
        pad: [0; 2],
    }
}

/// Hostile front end, back end under test. Invariants: no panic; the store is only touched
/// inside its length and never written when read-only (asserted by [`CheckedStorage`]); each
/// request gets exactly one response with its id and a known status; a rejected write leaves
/// the store unchanged; `serve_once` fails only with [`Corrupt::Index`] after a hostile
/// producer index.
pub fn back_requests(data: &[u8]) {
    let mut input = Input(data);
    let flags = input.u8();
    let config = BackConfig {
        flush: flags & 1 != 0,
        barrier: flags & 2 != 0,
        discard: flags & 4 != 0,
        max_indirect_segments: [0, 16, 600, 4096][usize::from(flags >> 3) % 4],
        sector_size: if flags & 0x20 != 0 { 4096 } else { 512 },
        max_persistent_grants: if flags & 0x40 != 0 { 2 } else { 64 },
        ..BackConfig::default()
    };
    let mut storage = MemStorage::new(64 * 1024);
    storage.read_only = flags & 0x80 != 0;
    let mut h = HostileFront::new(storage, config, 6);
    let sectors = 64 * 1024 / 512;
    let mut outstanding: VecDeque<u64> = VecDeque::new();
    let mut next_id = 0u64;
    while input.more() {
        let op = input.u8();
        match op % 8 {
            0..=3 => {
                if outstanding.len() >= 32 {
                    continue;
                }
                let fresh = outstanding.is_empty();
                let before = if fresh {
                    h.back.storage().0.data.clone()
                } else {
                    Vec::new()
                };
                let kind = input.u8();
                let id = next_id;
                next_id += 1;
                let req = match kind % 8 {
                    0..=3 => {
                        let operation = BlkifOp::from_raw(match kind >> 3 {
                            0..=9 => (kind >> 3) & 3,
                            10..=11 => 3,
                            12 => 2,
                            _ => input.u8(),
                        });
                        let n = match input.u8() % 8 {
                            0 => input.u8(),
                            1 => 0,
                            2 => 12,
                            _ => input.u8() % 11 + 1,
                        };
                        let mut r = BlkifRequest {
                            operation,
                            nr_segments: n,
                            handle: input.u16(),
                            id,
                            sector_number: pick_sector(&mut input, sectors),
                            ..Default::default()
                        };
                        for i in 0..usize::from(n).min(11) {
                            r.set_segment(i, &pick_segment(&mut input, &h.pages));
                        }
                        r
                    }
                    4 | 5 => {
                        let d = BlkifRequestDiscard {
                            operation: BlkifOp::Discard,
                            flag: input.u8() % 3,
                            handle: 0,
                            pad: [0; 4],
                            id,
                            sector_number: pick_sector(&mut input, sectors),
                            nr_sectors: pick_sector(&mut input, sectors) % (sectors + 16),
                        };
                        BlkifRequest::from_discard(&d)
                    }
                    _ => {
                        let n = match input.u8() % 4 {
                            0 => input.u16(),
                            1 => 0,
                            _ => u16::from(input.u8() % 40) + 1,
                        };
                        let mut ind = BlkifRequestIndirect {
                            operation: BlkifOp::Indirect,
                            indirect_op: BlkifOp::from_raw(input.u8() % 5),
                            nr_segments: n,
                            id,
                            sector_number: pick_sector(&mut input, sectors),
                            ..Default::default()
                        };
                        for p in 0..2 {
                            ind.set_indirect_gref(p, pick_gref(&mut input, &h.pages));
                        }
                        BlkifRequest::from_indirect(&ind)
                    }
                };
                let write_like = matches!(
                    req.operation,
                    BlkifOp::Write
                        | BlkifOp::WriteBarrier
                        | BlkifOp::FlushDiskcache
                        | BlkifOp::Discard
                ) || (req.operation == BlkifOp::Indirect
                    && req.as_indirect().indirect_op == BlkifOp::Write);
                h.push(&req);
                outstanding.push_back(id);
                if input.u8() % 2 == 0 {
                    let r = h.back.serve_once();
                    check_serve(&r);
                    if r.is_err() {
                        return;
                    }
                    while let Some(rsp) = h.pop() {
                        check_response(&rsp, &mut outstanding);
                        if fresh && rsp.status != BlkifStatus::Okay && rsp.id == id && write_like {
                            assert_eq!(
                                h.back.storage().0.data,
                                before,
                                "a refused write changed the store"
                            );
                        }
                    }
                }
            }
            4 => {
                // Scribble segments into a data page (used as an indirect page).
                let p = usize::from(input.u8()) % h.pages.len();
                let at = usize::from(input.u16()) % (PAGE_SIZE / BlkifSegment::SIZE);
                let seg = pick_segment(&mut input, &h.pages);
                let _ = h.pages[p]
                    .1
                    .shm()
                    .write(at * BlkifSegment::SIZE, &seg.to_bytes());
            }
            5 => {
                // A hostile producer index.
                let v = h.req_prod.wrapping_add(u32::from(input.u16()));
                let _ = h.ring.shm().store_u32(0, v, Ordering::Release);
                let r = h.back.serve_once();
                check_serve(&r);
                if r.is_err() {
                    return;
                }
                // Entries were consumed that we never wrote: stop tracking ids.
                while h.pop().is_some() {}
                outstanding.clear();
                h.req_prod = v;
            }
            _ => {
                let r = h.back.serve_once();
                check_serve(&r);
                if r.is_err() {
                    return;
                }
                while let Some(rsp) = h.pop() {
                    check_response(&rsp, &mut outstanding);
                }
            }
        }
    }
    let s = h.back.stats();
    assert!(s.persistent <= 64);
    assert!(s.errors + s.not_supported <= s.requests);
}

fn check_serve(r: &Result<usize, Error>) {
    match r {
        Ok(n) => assert!(*n <= 32),
        Err(Error::Corrupt(Corrupt::Index { .. })) => {}
        Err(e) => panic!("serve_once failed with {e:?}"),
    }
}

fn check_response(rsp: &BlkifResponse, outstanding: &mut VecDeque<u64>) {
    assert!(
        matches!(
            rsp.status,
            BlkifStatus::Okay | BlkifStatus::Error | BlkifStatus::EOpNotSupp
        ),
        "{rsp:?}"
    );
    if let Some(want) = outstanding.pop_front() {
        assert_eq!(rsp.id, want, "responses come in request order, ids echoed");
    }
}

/// A front end connected to a hand-driven back end: the back end's ring mapping and the
/// store keys are ours to write.
pub struct HostileBack<const SLOTS: usize, const SEGS: usize> {
    /// The hypervisor.
    pub hv: Hypervisor,
    /// The front end under test.
    pub front: Blkfront<Domain, SLOTS, SEGS>,
    /// The ring page, mapped by the back-end domain.
    pub ring: unistack_vchan::local::LocalMapped,
    /// Our private response producer index.
    pub rsp_prod: u32,
    /// Requests consumed.
    pub req_cons: u32,
}

impl<const SLOTS: usize, const SEGS: usize> HostileBack<SLOTS, SEGS> {
    /// Connect a front end to a back end that offers flush, barrier, discard and
    /// `max_indirect` indirect segments over `sectors` 512-byte sectors.
    ///
    /// # Panics
    /// If the handshake fails.
    pub fn new(sectors: u64, max_indirect: u32) -> Self {
        let hv = Hypervisor::new();
        let paths = DevicePaths::new(FRONT, BACK, XVDA);
        let back = hv.domain(BACK);
        create_device(&back, &paths).expect("create");
        let b = &paths.back;
        let w = |k: &str, v: &str| {
            back.write(b.join(k).expect("key").as_str(), v)
                .expect("store")
        };
        w("feature-flush-cache", "1");
        w("feature-barrier", "1");
        w("feature-discard", "1");
        w("feature-max-indirect-segments", &max_indirect.to_string());
        w("state", "2");
        let mut c = FrontConnector::<Domain, SLOTS, SEGS>::new(
            hv.domain(FRONT),
            paths.clone(),
            FrontConfig::default(),
        );
        assert!(matches!(c.poll(), Err(Error::WouldBlock)));
        let ring_ref = read_num(&back, &paths.front, "ring-ref")
            .expect("store")
            .expect("ring-ref") as u32;
        let ring = back.map(FRONT, &[ring_ref]).expect("ring");
        w("sectors", &sectors.to_string());
        w("sector-size", "512");
        w("state", "4");
        let front = c.poll().expect("connected");
        assert_eq!(front.peer_state(), Ok(Some(XenbusState::Connected)));
        HostileBack {
            hv,
            front,
            ring,
            rsp_prod: 0,
            req_cons: 0,
        }
    }

    /// Take the next request the front end published.
    pub fn pop(&mut self) -> Option<BlkifRequest> {
        let shm = self.ring.shm();
        let prod = shm.load_u32(0, Ordering::Acquire).expect("in the page");
        if prod == self.req_cons {
            return None;
        }
        let slot = SringHeader::SIZE + (self.req_cons % 32) as usize * BlkifRequest::SIZE;
        let mut b = [0u8; BlkifRequest::SIZE];
        shm.read(slot, &mut b).expect("in the page");
        self.req_cons = self.req_cons.wrapping_add(1);
        Some(BlkifRequest::from_bytes(&b))
    }

    /// Write a response into the next slot and publish it.
    pub fn push(&mut self, rsp: &BlkifResponse) {
        let slot = SringHeader::SIZE + (self.rsp_prod % 32) as usize * BlkifRequest::SIZE;
        let shm = self.ring.shm();
        shm.write(slot, &rsp.to_bytes()).expect("in the page");
        self.rsp_prod = self.rsp_prod.wrapping_add(1);
        shm.store_u32(8, self.rsp_prod, Ordering::Release)
            .expect("in the page");
    }
}

/// Hostile back end, front end under test. Invariants: no panic; every error is one a peer
/// or the caller may cause; after a [`Error::Corrupt`] every call fails with it (sticky); a
/// completion names a request submitted and not yet completed, with the op it had; the
/// number in flight never exceeds the slots.
pub fn front_responses(data: &[u8]) {
    let mut input = Input(data);
    let max_ind = [0u32, 16, 64][usize::from(input.u8()) % 3];
    let sectors = 256;
    let mut h = HostileBack::<4, 16>::new(sectors, max_ind);
    // Submitted, not completed: id -> op.
    let mut live: BTreeMap<u64, Op> = BTreeMap::new();
    let mut seen: Vec<u64> = Vec::new();
    let mut corrupt: Option<Corrupt> = None;
    let buf = [0x5au8; 16 * 4096];
    while input.more() {
        let op = input.u8();
        let r: Result<(), Error> = match op % 8 {
            0 | 1 => {
                let offset = u64::from(input.u16() % 300) * 512;
                let len = usize::from(input.u8() % 40) * 512;
                let r = match input.u8() % 5 {
                    0 => h.front.submit_read(offset, len).map(|t| (t, Op::Read)),
                    1 => h
                        .front
                        .submit_write(offset, &buf[..len.min(buf.len())])
                        .map(|t| (t, Op::Write)),
                    2 => h.front.submit_flush().map(|t| (t, Op::Flush)),
                    3 => h
                        .front
                        .submit_discard(offset, len as u64)
                        .map(|t| (t, Op::Discard)),
                    _ => h
                        .front
                        .write(offset, len)
                        .and_then(|w| w.submit_barrier())
                        .map(|t| (t, Op::Barrier)),
                };
                r.map(|(t, o)| {
                    assert!(live.insert(t.id(), o).is_none(), "an id reused while live");
                })
            }
            2..=4 => {
                // A response: to a real request (consumed from the ring), or invented.
                let real = h.pop();
                let sel = input.u8();
                let id = match (sel % 4, real) {
                    (0 | 1, Some(r)) => r.id,
                    (2, _) if !seen.is_empty() => seen[usize::from(input.u8()) % seen.len()],
                    _ => input.u64(),
                };
                let operation = match (sel >> 2) % 4 {
                    0 => real.map_or(BlkifOp::Read, |r| r.operation),
                    1 => real.map_or(BlkifOp::Read, |r| {
                        if r.operation == BlkifOp::Indirect {
                            r.as_indirect().indirect_op
                        } else {
                            r.operation
                        }
                    }),
                    _ => BlkifOp::from_raw(input.u8() % 8),
                };
                let status = match (sel >> 4) % 4 {
                    0 | 1 => BlkifStatus::Okay,
                    2 => BlkifStatus::Error,
                    _ => BlkifStatus::from_raw(input.u16()),
                };
                h.push(&BlkifResponse {
                    id,
                    operation,
                    status,
                    ..Default::default()
                });
                Ok(())
            }
            5 => {
                let v = h.rsp_prod.wrapping_add(u32::from(input.u8()));
                let _ = h.ring.shm().store_u32(8, v, Ordering::Release);
                h.rsp_prod = v;
                Ok(())
            }
            _ => match h.front.poll() {
                Ok(Some(c)) => {
                    let want = live.remove(&c.tag.id());
                    assert_eq!(want, Some(c.op), "completion for a request not in flight");
                    seen.push(c.tag.id());
                    if c.op == Op::Read && c.status == Status::Okay {
                        let mut d = [0u8; 512];
                        let data = h.front.read_data(c.tag).expect("a completed read");
                        assert_eq!(data.len(), c.len);
                        if c.len >= 512 {
                            data.read_at(c.len - 512, &mut d).expect("inside");
                        }
                        assert!(data.read_at(c.len, &mut d).is_err());
                        drop(data);
                        assert!(h.front.release(c.tag).is_err(), "released twice");
                    } else {
                        assert!(h.front.read_data(c.tag).is_err());
                    }
                    Ok(())
                }
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            },
        };
        match r {
            Err(Error::Corrupt(c)) => {
                if let Some(first) = corrupt {
                    assert_eq!(c, first, "sticky");
                }
                corrupt = Some(c);
                assert_eq!(h.front.corrupt(), Some(c));
            }
            Err(e) => {
                assert!(corrupt.is_none(), "after Corrupt: {e:?}");
                assert!(
                    matches!(
                        e,
                        Error::WouldBlock
                            | Error::InvalidArgument
                            | Error::NotSupported
                            | Error::ReadOnly
                    ),
                    "{e:?}"
                );
            }
            Ok(()) => {
                if op % 8 >= 6 || op % 8 < 2 {
                    assert!(corrupt.is_none(), "a call succeeded after Corrupt");
                }
            }
        }
        assert!(h.front.in_flight() <= 4);
        assert_eq!(h.front.in_flight(), live.len());
    }
}
