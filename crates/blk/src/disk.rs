//! The blocking [`BlockDevice`] over a [`Blkfront`].

use std::time::{Duration, Instant};

use unistack_vchan::Backend;

use crate::device::{BlockDevice, check_range};
use crate::error::Error;
use crate::front::{Blkfront, Completion, FrontConfig, FrontConnector, Op, Status, Tag};
use crate::xenbus::DevicePaths;

/// A blkfront behind blocking calls: [`BlockDevice`] plus connect with a timeout.
///
/// Large reads and writes are split into requests of at most
/// [`max_request_bytes`](crate::DiskInfo::max_request_bytes) and kept in flight together
/// (up to `SLOTS`), completions copied out as they arrive, in any order.
pub struct Disk<B: Backend, const SLOTS: usize = 32, const SEGS: usize = 32> {
    front: Blkfront<B, SLOTS, SEGS>,
    timeout: Duration,
    spin: Duration,
}

impl<B: Backend, const SLOTS: usize, const SEGS: usize> core::fmt::Debug for Disk<B, SLOTS, SEGS> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Disk")
            .field("front", &self.front)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl<B: Backend, const SLOTS: usize, const SEGS: usize> FrontConnector<B, SLOTS, SEGS> {
    /// Poll to the end of the handshake, every millisecond, for at most `timeout`.
    ///
    /// # Errors
    /// [`Error::TimedOut`]; otherwise as [`poll`](Self::poll).
    pub fn connect(mut self, timeout: Duration) -> Result<Blkfront<B, SLOTS, SEGS>, Error> {
        let start = Instant::now();
        loop {
            match self.poll() {
                Err(Error::WouldBlock) if start.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(Error::WouldBlock) => return Err(Error::TimedOut),
                r => return r,
            }
        }
    }
}

impl<B: Backend> Disk<B> {
    /// Connect with 32 slots of up to 32 pages (128 KiB per request with indirect
    /// segments, 44 KiB without), waiting at most `timeout` for the back end.
    ///
    /// # Errors
    /// As [`FrontConnector::connect`].
    pub fn connect(
        backend: B,
        paths: DevicePaths,
        config: FrontConfig,
        timeout: Duration,
    ) -> Result<Self, Error> {
        Self::connect_sized(backend, paths, config, timeout)
    }
}

impl<B: Backend, const SLOTS: usize, const SEGS: usize> Disk<B, SLOTS, SEGS> {
    /// [`Disk::connect`] with chosen sizes.
    ///
    /// # Errors
    /// As [`FrontConnector::connect`].
    pub fn connect_sized(
        backend: B,
        paths: DevicePaths,
        config: FrontConfig,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let front = FrontConnector::new(backend, paths, config).connect(timeout)?;
        Ok(Self::new(front))
    }

    /// Wrap a connected front end. Blocking calls give up after 30 s without progress.
    pub fn new(front: Blkfront<B, SLOTS, SEGS>) -> Self {
        Disk {
            front,
            timeout: Duration::from_secs(30),
            spin: Duration::ZERO,
        }
    }

    /// Give up a blocking call after `timeout` without a completion ([`Error::TimedOut`]).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Poll the ring for up to `spin` before sleeping on the event channel (default 0).
    /// Spinning trades a core for lower completion latency; it reads the back end's index
    /// only (our `rsp_event` stays behind, so the back end sends no event for a completion
    /// found that way). Cover the device's latency (a 64 KiB read from a virtual disk: about
    /// 130 µs), and keep the two ends on different CPUs.
    pub fn set_spin(&mut self, spin: Duration) {
        self.spin = spin;
    }

    /// The sans-IO front end underneath.
    pub fn front(&mut self) -> &mut Blkfront<B, SLOTS, SEGS> {
        &mut self.front
    }

    /// Unwrap.
    pub fn into_front(self) -> Blkfront<B, SLOTS, SEGS> {
        self.front
    }

    /// Wait for the next completion.
    ///
    /// # Errors
    /// [`Error::TimedOut`] after the timeout without one; [`Error::Closed`] if the back end
    /// closed meanwhile or its process died (noticed within 100 ms); [`Error::Corrupt`].
    pub fn wait_completion(&mut self) -> Result<Completion, Error> {
        let start = Instant::now();
        loop {
            if let Some(c) = self.front.poll()? {
                return Ok(c);
            }
            if !self.spin.is_zero() {
                let s = Instant::now();
                while s.elapsed() < self.spin {
                    if let Some(c) = self.front.poll()? {
                        return Ok(c);
                    }
                    core::hint::spin_loop();
                }
            }
            if self.front.final_check()? {
                continue;
            }
            let left = self.timeout.saturating_sub(start.elapsed());
            let slice = left.min(Duration::from_millis(100));
            if !self.front.wait_event(Some(slice))? {
                // Closed through the store, or a back-end process that died without
                // closing (nothing will ever answer).
                if self.front.peer_state()?.is_none_or(|s| s.is_closing())
                    || self.front.peer_alive() == Some(false)
                {
                    return Err(Error::Closed);
                }
                if start.elapsed() >= self.timeout {
                    return Err(Error::TimedOut);
                }
            }
        }
    }

    /// Wait for the completion of `tag`, handling nothing else (there must be no other
    /// request in flight whose completion the caller wants).
    fn wait_only(&mut self, tag: Tag) -> Result<Completion, Error> {
        loop {
            let c = self.wait_completion()?;
            if c.tag == tag {
                return Ok(c);
            }
            let _ = self.front.release(c.tag);
        }
    }

    fn check(&self, offset: u64, len: u64, aligned: bool) -> Result<(), Error> {
        let info = self.front.info();
        check_range(offset, len, info.capacity(), info.sector_size, aligned)
            .map(drop)
            .ok_or(Error::InvalidArgument)
    }

    /// Run chunked requests over `[start, end)`: `submit` puts chunk (offset, len) on the
    /// ring, `done` handles a completion of chunk offset. All chunks are drained even after an
    /// error; the first error is returned.
    fn pipeline(
        &mut self,
        start: u64,
        end: u64,
        mut submit: impl FnMut(&mut Blkfront<B, SLOTS, SEGS>, u64, usize) -> Result<Tag, Error>,
        mut done: impl FnMut(&mut Blkfront<B, SLOTS, SEGS>, Completion, u64) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let max = self.front.info().max_request_bytes() as u64;
        let mut chunk_of = [0u64; SLOTS];
        let mut next = start;
        let mut first_err = None;
        loop {
            while next < end && first_err.is_none() && self.front.free_slots() > 0 {
                let n = (end - next).min(max) as usize;
                match submit(&mut self.front, next, n) {
                    Ok(tag) => {
                        if let Some(c) = chunk_of.get_mut(tag.slot()) {
                            *c = next;
                        }
                        next += n as u64;
                    }
                    Err(e) => first_err = Some(e),
                }
            }
            if self.front.in_flight() == 0 {
                break;
            }
            let c = match self.wait_completion() {
                Ok(c) => c,
                Err(e) => return Err(first_err.unwrap_or(e)),
            };
            let at = chunk_of.get(c.tag.slot()).copied().unwrap_or(0);
            let r = match c.status {
                Status::Okay => done(&mut self.front, c, at),
                s => {
                    let _ = self.front.release(c.tag);
                    s.result()
                }
            };
            if let Err(e) = r {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

impl<B: Backend, const SLOTS: usize, const SEGS: usize> BlockDevice for Disk<B, SLOTS, SEGS> {
    type Error = Error;

    fn sector_size(&self) -> u32 {
        self.front.info().sector_size
    }

    fn capacity(&self) -> u64 {
        self.front.info().capacity()
    }

    fn read_only(&self) -> bool {
        self.front.info().read_only
    }

    /// Reads the sectors covering the range and copies out the part asked for: any offset
    /// and length inside the capacity.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        let len = buf.len() as u64;
        self.check(offset, len, false)?;
        if len == 0 {
            return Ok(());
        }
        let ss = u64::from(self.sector_size());
        let start = offset / ss * ss;
        let end = (offset + len).div_ceil(ss) * ss;
        self.pipeline(
            start,
            end,
            |f, at, n| f.submit_read(at, n),
            |f, c, at| {
                let data = f.read_data(c.tag)?;
                // The overlap of this chunk [at, at + len) with [offset, offset + buf.len()).
                let lo = at.max(offset);
                let hi = (at + c.len as u64).min(offset + len);
                if lo < hi {
                    let dst = &mut buf[(lo - offset) as usize..(hi - offset) as usize];
                    data.read_at((lo - at) as usize, dst)?;
                }
                Ok(())
            },
        )
    }

    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), Error> {
        if self.read_only() {
            return Err(Error::ReadOnly);
        }
        let len = buf.len() as u64;
        self.check(offset, len, true)?;
        if len == 0 {
            return Ok(());
        }
        self.pipeline(
            offset,
            offset + len,
            |f, at, n| {
                let from = (at - offset) as usize;
                f.submit_write(at, &buf[from..from + n])
            },
            |_, _, _| Ok(()),
        )
    }

    /// `BLKIF_OP_FLUSH_DISKCACHE` when offered; without `feature-flush-cache` the back end
    /// has declared no volatile cache, and this returns at once. Waits for every request in
    /// flight first.
    fn flush(&mut self) -> Result<(), Error> {
        while self.front.in_flight() > 0 {
            let c = self.wait_completion()?;
            let _ = self.front.release(c.tag);
        }
        if !self.front.info().features.flush {
            return Ok(());
        }
        let tag = loop {
            match self.front.submit_flush() {
                Err(Error::WouldBlock) => {
                    let c = self.wait_completion()?;
                    let _ = self.front.release(c.tag);
                }
                r => break r?,
            }
        };
        let c = self.wait_only(tag)?;
        debug_assert_eq!(c.op, Op::Flush);
        c.status.result()
    }

    fn discard(&mut self, offset: u64, len: u64) -> Result<(), Error> {
        if self.read_only() {
            return Err(Error::ReadOnly);
        }
        self.check(offset, len, true)?;
        if len == 0 {
            return Ok(());
        }
        let tag = loop {
            match self.front.submit_discard(offset, len) {
                Err(Error::WouldBlock) => {
                    let c = self.wait_completion()?;
                    let _ = self.front.release(c.tag);
                }
                r => break r?,
            }
        };
        self.wait_only(tag)?.status.result()
    }
}
