//! Xen shared request/response rings (`xen/include/public/io/ring.h`), as netfront/netback and
//! blkfront/blkback use them.
//!
//! The shared ring is a 64-byte header ([`SringHeader`]: `req_prod` at 0, `req_event` at 4,
//! `rsp_prod` at 8, `rsp_event` at 12, then private and padding bytes) followed by a
//! power-of-two number of entries, each the size of the larger of the request and response
//! ([`Protocol::ENTRY_SIZE`]); [`ring_size`] is `__RING_SIZE`. The front end produces requests
//! and consumes responses ([`FrontRing`]); the back end the reverse ([`BackRing`]).
//!
//! Barriers are those of the C macros: a release fence before publishing a producer index
//! (`xen_wmb`), a full fence between publishing it and reading the peer's event index
//! (`xen_mb`), an acquire load of the peer's producer index before reading entries (`xen_rmb`),
//! and a full fence between writing our event index and re-checking (`RING_FINAL_CHECK_*`).
//!
//! Differences from the macros, all because the peer is hostile: each entry is copied once out
//! of the ring and decoded from the copy (`RING_COPY_*`); our own producer and consumer indexes
//! are private and only ever written to the page, never read back; a peer producer index more
//! than the free space ahead of our consumer index, or behind it, is [`Corrupt::Index`]
//! (`RING_REQUEST_PROD_OVERFLOW` / `RING_RESPONSE_PROD_OVERFLOW`, also covering an index moved
//! backwards); and a back end cannot push more responses than it consumed requests.

use core::marker::PhantomData;
use core::sync::atomic::{Ordering, fence};

use unistack_cstruct::{Cstruct, Endian, Field, Layout};

use crate::backend::Mapping;
use crate::error::{Corrupt, Error};

/// A ring index: free-running, compared with wrapping arithmetic.
pub type RingIdx = u32;

/// The shared ring header (`struct __name##_sring` up to `ring[]`).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(little, view = SringHeaderView)]
pub struct SringHeader {
    /// Requests produced by the front end.
    pub req_prod: u32,
    /// The back end wants an event when `req_prod` passes this.
    pub req_event: u32,
    /// Responses produced by the back end.
    pub rsp_prod: u32,
    /// The front end wants an event when `rsp_prod` passes this.
    pub rsp_event: u32,
    /// Protocol-private bytes (`pvt`: netif's `smartpoll_active`, …).
    pub pvt: [u8; 4],
    /// Padding to 64 bytes.
    pub pad: [u8; 44],
}

/// The largest entry a ring here may have (blkif's 112-byte request is the largest in use).
pub const MAX_ENTRY_SIZE: usize = 128;

/// A request/response protocol: what the entries of its ring are.
pub trait Protocol {
    /// A request (front to back).
    type Req: Layout;
    /// A response (back to front).
    type Rsp: Layout;
    /// The entry size: the larger of the two (the C union).
    const ENTRY_SIZE: usize = {
        let (a, b) = (<Self::Req as Field>::SIZE, <Self::Rsp as Field>::SIZE);
        let n = if a > b { a } else { b };
        assert!(
            n <= MAX_ENTRY_SIZE,
            "ring entries are at most MAX_ENTRY_SIZE bytes"
        );
        n
    };
}

/// `__RING_SIZE`: entries of `entry_size` bytes that fit in `bytes` after the header, rounded
/// down to a power of two (0 if none fit).
pub const fn ring_size(bytes: usize, entry_size: usize) -> u32 {
    if bytes < SringHeader::SIZE || entry_size == 0 {
        return 0;
    }
    let n = (bytes - SringHeader::SIZE) / entry_size;
    if n == 0 {
        return 0;
    }
    let p = 1usize << (usize::BITS - 1 - n.leading_zeros());
    if p > u32::MAX as usize {
        1 << 31
    } else {
        p as u32
    }
}

const REQ_PROD: usize = SringHeader::REQ_PROD.offset;
const REQ_EVENT: usize = SringHeader::REQ_EVENT.offset;
const RSP_PROD: usize = SringHeader::RSP_PROD.offset;
const RSP_EVENT: usize = SringHeader::RSP_EVENT.offset;

/// The shared parts both ends use.
struct Shared<M> {
    mem: M,
    entries: u32,
    entry_size: usize,
}

impl<M: Mapping> Shared<M> {
    fn new(mem: M, entry_size: usize) -> Result<Self, Error> {
        let entries = ring_size(mem.shm().len(), entry_size);
        if entries == 0 {
            return Err(Error::InvalidArgument);
        }
        Ok(Shared {
            mem,
            entries,
            entry_size,
        })
    }

    fn slot(&self, idx: RingIdx) -> usize {
        SringHeader::SIZE + (idx & (self.entries - 1)) as usize * self.entry_size
    }

    fn write_entry<T: Field>(&self, idx: RingIdx, value: &T) -> Result<(), Error> {
        let mut buf = [0u8; MAX_ENTRY_SIZE];
        let bytes = buf.get_mut(..T::SIZE).ok_or(Error::InvalidArgument)?;
        value.write(bytes, Endian::Little);
        self.mem.shm().write(self.slot(idx), bytes)?;
        Ok(())
    }

    fn read_entry<T: Field>(&self, idx: RingIdx) -> Result<T, Error> {
        let mut buf = [0u8; MAX_ENTRY_SIZE];
        let bytes = buf.get_mut(..T::SIZE).ok_or(Error::InvalidArgument)?;
        self.mem.shm().read(self.slot(idx), bytes)?;
        Ok(T::read(bytes, Endian::Little))
    }

    fn read_raw(&self, idx: RingIdx, dst: &mut [u8]) -> Result<(), Error> {
        let n = dst.len().min(self.entry_size);
        let dst = dst.get_mut(..n).ok_or(Error::InvalidArgument)?;
        self.mem.shm().read(self.slot(idx), dst)?;
        Ok(())
    }

    fn load(&self, off: usize, order: Ordering) -> Result<u32, Error> {
        Ok(self.mem.shm().load_u32(off, order)?)
    }

    fn store(&self, off: usize, v: u32, order: Ordering) -> Result<(), Error> {
        Ok(self.mem.shm().store_u32(off, v, order)?)
    }

    /// `RING_PUSH_*_AND_CHECK_NOTIFY` for the producer index at `prod_off`.
    fn push(&self, prod_off: usize, event_off: usize, old: u32, new: u32) -> Result<bool, Error> {
        fence(Ordering::Release); // xen_wmb: entries before the index
        self.store(prod_off, new, Ordering::Release)?;
        fence(Ordering::SeqCst); // xen_mb: index before reading the event index
        let event = self.load(event_off, Ordering::Relaxed)?;
        Ok(new.wrapping_sub(event) < new.wrapping_sub(old))
    }
}

/// The front end of a ring: produces requests, consumes responses.
pub struct FrontRing<P: Protocol, M: Mapping> {
    ring: Shared<M>,
    req_prod_pvt: RingIdx,
    req_pushed: RingIdx,
    rsp_cons: RingIdx,
    _p: PhantomData<P>,
}

impl<P: Protocol, M: Mapping> FrontRing<P, M> {
    /// Initialise the shared ring in `mem` (`SHARED_RING_INIT` + `FRONT_RING_INIT`): indexes
    /// 0, event indexes 1, header zeroed.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if not one entry fits in `mem`.
    pub fn init(mem: M) -> Result<Self, Error> {
        Self::init_at(mem, 0)
    }

    /// As [`init`](Self::init), with every index starting at `start` (to test wrapping).
    ///
    /// # Errors
    /// As [`init`](Self::init).
    pub fn init_at(mem: M, start: RingIdx) -> Result<Self, Error> {
        let ring = Shared::new(mem, P::ENTRY_SIZE)?;
        ring.mem.shm().fill(0, SringHeader::SIZE, 0)?;
        for off in [REQ_PROD, RSP_PROD] {
            ring.store(off, start, Ordering::Relaxed)?;
        }
        for off in [REQ_EVENT, RSP_EVENT] {
            ring.store(off, start.wrapping_add(1), Ordering::Relaxed)?;
        }
        fence(Ordering::Release);
        Ok(FrontRing {
            ring,
            req_prod_pvt: start,
            req_pushed: start,
            rsp_cons: start,
            _p: PhantomData,
        })
    }

    /// The number of entries.
    pub fn size(&self) -> u32 {
        self.ring.entries
    }

    /// Requests we may still produce (`RING_FREE_REQUESTS`).
    pub fn free_requests(&self) -> u32 {
        self.ring.entries - self.req_prod_pvt.wrapping_sub(self.rsp_cons)
    }

    /// Requests produced whose responses we have not consumed.
    pub fn in_flight(&self) -> u32 {
        self.req_prod_pvt.wrapping_sub(self.rsp_cons)
    }

    /// Write a request into the next free slot (not yet visible to the back end).
    ///
    /// # Errors
    /// [`Error::WouldBlock`] if the ring is full (`RING_FULL`).
    pub fn push_request(&mut self, req: &P::Req) -> Result<(), Error> {
        if self.free_requests() == 0 {
            return Err(Error::WouldBlock);
        }
        self.ring.write_entry(self.req_prod_pvt, req)?;
        self.req_prod_pvt = self.req_prod_pvt.wrapping_add(1);
        Ok(())
    }

    /// Publish the requests written so far; returns whether the back end asked for an event
    /// (`RING_PUSH_REQUESTS_AND_CHECK_NOTIFY`).
    ///
    /// # Errors
    /// Only [`Corrupt::Access`] for a mapping too short for the header (not after `init`).
    pub fn push_requests_and_check_notify(&mut self) -> Result<bool, Error> {
        let (old, new) = (self.req_pushed, self.req_prod_pvt);
        self.req_pushed = new;
        self.ring.push(REQ_PROD, REQ_EVENT, old, new)
    }

    /// The number of responses ready, validated.
    fn unconsumed(&self) -> Result<u32, Error> {
        // Acquire: the entries up to `prod` are visible once we see `prod` (xen_rmb).
        let prod = self.ring.load(RSP_PROD, Ordering::Acquire)?;
        let ready = prod.wrapping_sub(self.rsp_cons);
        let limit = self.in_flight();
        if ready > limit {
            return Err(Corrupt::Index {
                prod,
                cons: self.rsp_cons,
                limit,
            }
            .into());
        }
        Ok(ready)
    }

    /// Take the next response, if the back end produced one.
    ///
    /// # Errors
    /// [`Corrupt::Index`] if the back end's `rsp_prod` claims more responses than requests in
    /// flight.
    pub fn poll_response(&mut self) -> Result<Option<P::Rsp>, Error> {
        if self.unconsumed()? == 0 {
            return Ok(None);
        }
        let rsp = self.ring.read_entry(self.rsp_cons)?;
        self.rsp_cons = self.rsp_cons.wrapping_add(1);
        Ok(Some(rsp))
    }

    /// Whether responses are waiting; if none, ask for an event on the next one and check
    /// again (`RING_FINAL_CHECK_FOR_RESPONSES`). Call before sleeping on the event channel.
    ///
    /// # Errors
    /// As [`poll_response`](Self::poll_response).
    pub fn final_check_for_responses(&mut self) -> Result<bool, Error> {
        if self.unconsumed()? > 0 {
            return Ok(true);
        }
        self.ring
            .store(RSP_EVENT, self.rsp_cons.wrapping_add(1), Ordering::Relaxed)?;
        fence(Ordering::SeqCst);
        Ok(self.unconsumed()? > 0)
    }

    /// The shared memory.
    pub fn into_inner(self) -> M {
        self.ring.mem
    }
}

/// The back end of a ring: consumes requests, produces responses.
pub struct BackRing<P: Protocol, M: Mapping> {
    ring: Shared<M>,
    rsp_prod_pvt: RingIdx,
    rsp_pushed: RingIdx,
    req_cons: RingIdx,
    _p: PhantomData<P>,
}

impl<P: Protocol, M: Mapping> BackRing<P, M> {
    /// Attach to a ring the front end initialised (`BACK_RING_ATTACH`), starting at `start`
    /// (0 for a fresh ring: the front end's `init`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if not one entry fits in `mem`.
    pub fn attach(mem: M, start: RingIdx) -> Result<Self, Error> {
        Ok(BackRing {
            ring: Shared::new(mem, P::ENTRY_SIZE)?,
            rsp_prod_pvt: start,
            rsp_pushed: start,
            req_cons: start,
            _p: PhantomData,
        })
    }

    /// The number of entries.
    pub fn size(&self) -> u32 {
        self.ring.entries
    }

    /// The number of requests ready, validated: the front end can have produced at most as
    /// many as there were free slots (`RING_REQUEST_PROD_OVERFLOW`).
    fn unconsumed(&self) -> Result<u32, Error> {
        let prod = self.ring.load(REQ_PROD, Ordering::Acquire)?;
        let ready = prod.wrapping_sub(self.req_cons);
        let limit = self.ring.entries - self.req_cons.wrapping_sub(self.rsp_prod_pvt);
        if ready > limit {
            return Err(Corrupt::Index {
                prod,
                cons: self.req_cons,
                limit,
            }
            .into());
        }
        Ok(ready)
    }

    /// Take the next request, if the front end produced one.
    ///
    /// # Errors
    /// [`Corrupt::Index`] if `req_prod` is out of range.
    pub fn poll_request(&mut self) -> Result<Option<P::Req>, Error> {
        if self.unconsumed()? == 0 {
            return Ok(None);
        }
        let req = self.ring.read_entry(self.req_cons)?;
        self.req_cons = self.req_cons.wrapping_add(1);
        Ok(Some(req))
    }

    /// Copy the next request's raw entry into `dst` (up to the entry size) and consume it,
    /// for entries that are unions (netif's extra-info slots); returns whether there was one.
    ///
    /// # Errors
    /// As [`poll_request`](Self::poll_request).
    pub fn poll_request_raw(&mut self, dst: &mut [u8]) -> Result<bool, Error> {
        if self.unconsumed()? == 0 {
            return Ok(false);
        }
        self.ring.read_raw(self.req_cons, dst)?;
        self.req_cons = self.req_cons.wrapping_add(1);
        Ok(true)
    }

    /// Write a response into the next slot (not yet visible).
    ///
    /// # Errors
    /// [`Error::WouldBlock`] if every consumed request already has its response.
    pub fn push_response(&mut self, rsp: &P::Rsp) -> Result<(), Error> {
        if self.rsp_prod_pvt == self.req_cons {
            return Err(Error::WouldBlock);
        }
        self.ring.write_entry(self.rsp_prod_pvt, rsp)?;
        self.rsp_prod_pvt = self.rsp_prod_pvt.wrapping_add(1);
        Ok(())
    }

    /// Publish the responses written so far; returns whether the front end asked for an event
    /// (`RING_PUSH_RESPONSES_AND_CHECK_NOTIFY`).
    ///
    /// # Errors
    /// As [`FrontRing::push_requests_and_check_notify`].
    pub fn push_responses_and_check_notify(&mut self) -> Result<bool, Error> {
        let (old, new) = (self.rsp_pushed, self.rsp_prod_pvt);
        self.rsp_pushed = new;
        self.ring.push(RSP_PROD, RSP_EVENT, old, new)
    }

    /// Whether requests are waiting, without asking for an event
    /// (`RING_HAS_UNCONSUMED_REQUESTS`): a back end that polls uses this, so that its
    /// `req_event` stays behind and the front end sends no events while it polls (and the
    /// line holding the indexes is only read).
    ///
    /// # Errors
    /// As [`poll_request`](Self::poll_request).
    pub fn has_unconsumed_requests(&self) -> Result<bool, Error> {
        Ok(self.unconsumed()? > 0)
    }

    /// Whether requests are waiting; if none, ask for an event on the next one and check
    /// again (`RING_FINAL_CHECK_FOR_REQUESTS`).
    ///
    /// # Errors
    /// As [`poll_request`](Self::poll_request).
    pub fn final_check_for_requests(&mut self) -> Result<bool, Error> {
        if self.unconsumed()? > 0 {
            return Ok(true);
        }
        self.ring
            .store(REQ_EVENT, self.req_cons.wrapping_add(1), Ordering::Relaxed)?;
        fence(Ordering::SeqCst);
        Ok(self.unconsumed()? > 0)
    }

    /// The shared memory.
    pub fn into_inner(self) -> M {
        self.ring.mem
    }
}

/// Outstanding request ids `0..N` (at most 256): the front end allocates one per request and
/// releases it when the matching response arrives, so a duplicate or invented id is caught.
#[derive(Debug, Clone)]
pub struct IdTable<const N: usize> {
    used: [u64; 4],
}

impl<const N: usize> Default for IdTable<N> {
    fn default() -> Self {
        const { assert!(N <= 256, "IdTable holds at most 256 ids") };
        IdTable { used: [0; 4] }
    }
}

impl<const N: usize> IdTable<N> {
    fn bit(id: usize) -> Option<(usize, u64)> {
        (id < N).then(|| (id / 64, 1u64 << (id % 64)))
    }

    /// Take the lowest free id.
    pub fn alloc(&mut self) -> Option<u16> {
        let id = (0..N).find(|&i| Self::bit(i).is_some_and(|(w, b)| self.used[w] & b == 0))?;
        let (w, b) = Self::bit(id)?;
        self.used[w] |= b;
        u16::try_from(id).ok()
    }

    /// Release `id`, which a response names.
    ///
    /// # Errors
    /// [`Corrupt::UnknownId`] if `id` is not outstanding.
    pub fn release(&mut self, id: u64) -> Result<(), Corrupt> {
        let (w, b) = usize::try_from(id)
            .ok()
            .and_then(Self::bit)
            .ok_or(Corrupt::UnknownId(id))?;
        if self.used[w] & b == 0 {
            return Err(Corrupt::UnknownId(id));
        }
        self.used[w] &= !b;
        Ok(())
    }

    /// How many ids are outstanding.
    pub fn outstanding(&self) -> u32 {
        self.used.iter().map(|w| w.count_ones()).sum()
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::backend::{EventChannel, Events, Grants};
    use crate::local::{Hypervisor, Outstanding};
    use crate::netif::{NetifStatus, NetifTx, NetifTxRequest, NetifTxResponse};
    use core::time::Duration;

    /// Front and back end in two threads, sleeping on an event channel only after the
    /// final check, waking only when the push says so: a lost wakeup would hang, which the
    /// wait timeout turns into a failure. Small enough for Miri.
    #[test]
    fn two_threads_with_event_driven_wakeups() {
        let hv = Hypervisor::new();
        let (front_dom, back_dom) = (hv.domain(1), hv.domain(0));
        let mut refs = [0];
        let shared = front_dom.share(0, &mut refs).unwrap();
        let front_ev = front_dom.alloc_unbound(0).unwrap();
        let back_ev = back_dom.bind(1, front_ev.port()).unwrap();
        let mapped = back_dom.map(1, &refs).unwrap();
        let total: u16 = if cfg!(miri) { 300 } else { 20_000 };
        let timeout = Some(Duration::from_secs(30));
        let mut front = FrontRing::<NetifTx, _>::init_at(shared, u32::MAX - 100).unwrap();
        let back = std::thread::spawn(move || {
            let mut back = BackRing::<NetifTx, _>::attach(mapped, u32::MAX - 100).unwrap();
            let mut expect = 0u16;
            while expect < total {
                while let Some(req) = back.poll_request().unwrap() {
                    assert_eq!(req.id, expect);
                    expect = expect.wrapping_add(1);
                    back.push_response(&NetifTxResponse {
                        id: req.id,
                        status: NetifStatus::Okay,
                    })
                    .unwrap();
                }
                if back.push_responses_and_check_notify().unwrap() {
                    back_ev.notify().unwrap();
                }
                if expect < total && !back.final_check_for_requests().unwrap() {
                    assert!(
                        back_ev.wait(timeout).unwrap(),
                        "lost wakeup (back) expect={expect}"
                    );
                }
            }
        });
        let (mut sent, mut done) = (0u16, 0u16);
        while done < total {
            while sent < total && front.free_requests() > 0 {
                let req = NetifTxRequest {
                    id: sent,
                    ..Default::default()
                };
                front.push_request(&req).unwrap();
                sent += 1;
            }
            if front.push_requests_and_check_notify().unwrap() {
                front_ev.notify().unwrap();
            }
            while let Some(rsp) = front.poll_response().unwrap() {
                assert_eq!(rsp.id, done);
                done += 1;
            }
            // Sleep only when nothing else can be done: every request sent or the ring full.
            let stuck = sent == total || front.free_requests() == 0;
            if done < total && stuck && !front.final_check_for_responses().unwrap() {
                assert!(
                    front_ev.wait(timeout).unwrap(),
                    "lost wakeup (front) sent={sent} done={done} in_flight={} free={}",
                    front.in_flight(),
                    front.free_requests()
                );
            }
        }
        back.join().unwrap();
        drop((front, front_ev));
        assert_eq!(hv.outstanding(), Outstanding::default());
    }
}
