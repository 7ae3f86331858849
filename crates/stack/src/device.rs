//! The `Device` trait and the in-memory devices: loopback, a pipe joining two interfaces,
//! and a fault-injecting wrapper.

use alloc::collections::VecDeque;
use alloc::rc::Rc;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::time::Duration;

use unistack_ipv4::ChecksumCaps;

/// What a device can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceCaps {
    /// The largest IP packet (the Ethernet payload), e.g. 1500.
    pub mtu: usize,
    /// Which checksums software must compute and verify (the rest are offloaded).
    pub checksum: ChecksumCaps,
    /// Frames handled per direction per poll, at most.
    pub max_burst: usize,
    /// TCP segmentation offload: the largest IP packet [`Device::transmit_tso`] takes (its
    /// TCP payload is cut into MSS-sized segments by the device), or 0 without TSO. Frames the
    /// device *receives* may then also be this large (the kernel coalesces them).
    pub tso_max: usize,
}

/// What a device knows of a frame it lends, beyond its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RxInfo {
    /// The device vouches for the frame's TCP or UDP checksum, so the stack need not verify
    /// it: the device verified it, or the frame never crossed a wire (a TAP device's frame
    /// sent by the host's own stack with the checksum left partial, which Linux itself treats
    /// as verified: virtio's `NEEDS_CSUM` and `DATA_VALID`). The checksum field may then hold
    /// only the pseudo-header sum. It says nothing of the IPv4 header checksum (always
    /// verified, 20 bytes), of ICMP, or of a fragment (whose datagram's checksum covers
    /// other frames).
    pub l4_checksum_valid: bool,
}

/// How a device should cut an oversized TCP segment handed to [`Device::transmit_tso`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tso {
    /// Payload bytes per segment on the wire (the connection's MSS, options excluded).
    pub mss: u16,
    /// Bytes of Ethernet, IPv4 and TCP headers (with options) in front of the payload.
    pub header_len: u16,
}

impl Default for DeviceCaps {
    fn default() -> Self {
        DeviceCaps {
            mtu: 1500,
            checksum: ChecksumCaps::all(),
            max_burst: 64,
            tso_max: 0,
        }
    }
}

/// A network device carrying Ethernet frames. It *lends* buffers: a received frame is read
/// (and may be modified) in place, and a transmitted frame is written in place into the
/// device's own buffer, so nothing is copied between the device and the protocol layers.
pub trait Device {
    /// The device's capabilities.
    fn caps(&self) -> DeviceCaps;

    /// Lend the next received frame to `f`; `None` when nothing is waiting.
    fn receive<R>(&mut self, now: Duration, f: impl FnOnce(&mut [u8]) -> R) -> Option<R>;

    /// Like [`receive`](Self::receive), and say what the device knows of the frame
    /// ([`RxInfo`]). The [`Interface`](crate::Interface) receives through this. The default
    /// vouches for nothing, so a wrapper that does not override it (a recorder, a fault
    /// injector) hands on frames whose checksums the stack verifies as usual.
    fn receive_info<R>(
        &mut self,
        now: Duration,
        f: impl FnOnce(&mut [u8], RxInfo) -> R,
    ) -> Option<R> {
        self.receive(now, |frame| f(frame, RxInfo::default()))
    }

    /// Lend a transmit buffer of exactly `len` bytes to `f`, which fills it; the frame is sent
    /// when `f` returns. `None` when the device cannot take a frame now (nothing is sent).
    fn transmit<R>(
        &mut self,
        now: Duration,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R>;

    /// Like [`transmit`](Self::transmit), for an Ethernet/IPv4/TCP frame of up to
    /// [`DeviceCaps::tso_max`] bytes (plus the Ethernet header) that the device cuts into
    /// segments of `tso.mss` payload bytes, each with the same headers adjusted (TSO). The
    /// frame arrives with its IPv4 header checksum computed and its TCP checksum field zero:
    /// the segments' checksums are the device's to compute (a TAP puts the pseudo-header sum
    /// there and leaves the rest to the kernel, which is what `NEEDS_CSUM` asks), so the
    /// stack makes no pass over the 64 KiB. Called only when `caps().tso_max > 0`; the
    /// default sends nothing.
    fn transmit_tso<R>(
        &mut self,
        now: Duration,
        len: usize,
        tso: Tso,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        let _ = (now, len, tso, f);
        None
    }
}

/// Frames queued in memory, with buffers recycled (no allocation in steady state).
#[derive(Debug, Default)]
struct Queue {
    frames: VecDeque<Vec<u8>>,
    free: Vec<Vec<u8>>,
    limit: usize,
    dropped: u64,
}

impl Queue {
    fn with_limit(limit: usize) -> Self {
        Queue {
            limit,
            ..Queue::default()
        }
    }

    fn buffer(&mut self, len: usize) -> Vec<u8> {
        let mut b = self.free.pop().unwrap_or_default();
        b.clear();
        b.resize(len, 0);
        b
    }

    fn push(&mut self, frame: Vec<u8>) {
        if self.frames.len() >= self.limit {
            self.dropped += 1;
            self.free.push(frame);
        } else {
            self.frames.push_back(frame);
        }
    }

    fn recycle(&mut self, frame: Vec<u8>) {
        if self.free.len() < 64 {
            self.free.push(frame);
        }
    }

    /// Lend the oldest frame to `f`, then recycle its buffer.
    fn lend_rx<R>(&mut self, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        let mut frame = self.frames.pop_front()?;
        let r = f(&mut frame);
        self.recycle(frame);
        Some(r)
    }

    /// Lend a `len`-byte buffer to `f`, then queue it as a frame.
    fn lend_tx<R>(&mut self, len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
        let mut b = self.buffer(len);
        let r = f(&mut b);
        self.push(b);
        r
    }
}

/// A device whose transmitted frames come back as received frames.
#[derive(Debug)]
pub struct Loopback {
    queue: Queue,
    caps: DeviceCaps,
}

impl Loopback {
    /// A loopback device with `mtu`, holding at most `limit` frames.
    pub fn new(mtu: usize, limit: usize) -> Self {
        Loopback {
            queue: Queue::with_limit(limit),
            caps: DeviceCaps {
                mtu,
                ..DeviceCaps::default()
            },
        }
    }
}

impl Device for Loopback {
    fn caps(&self) -> DeviceCaps {
        self.caps
    }

    fn receive<R>(&mut self, _now: Duration, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        self.queue.lend_rx(f)
    }

    fn transmit<R>(
        &mut self,
        _now: Duration,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        Some(self.queue.lend_tx(len, f))
    }
}

/// One end of an in-memory Ethernet cable between two interfaces (single-threaded).
#[derive(Debug, Clone)]
pub struct PipeEnd {
    /// Queues indexed by receiver: `[to end 0, to end 1]`.
    queues: Rc<RefCell<[Queue; 2]>>,
    me: usize,
    caps: DeviceCaps,
}

impl PipeEnd {
    /// Two connected ends with `mtu`, each direction holding at most `limit` frames.
    pub fn pair(mtu: usize, limit: usize) -> (PipeEnd, PipeEnd) {
        let queues = Rc::new(RefCell::new([
            Queue::with_limit(limit),
            Queue::with_limit(limit),
        ]));
        let caps = DeviceCaps {
            mtu,
            ..DeviceCaps::default()
        };
        (
            PipeEnd {
                queues: queues.clone(),
                me: 0,
                caps,
            },
            PipeEnd {
                queues,
                me: 1,
                caps,
            },
        )
    }

    /// Frames waiting for this end.
    pub fn pending(&self) -> usize {
        self.queues.borrow()[self.me].frames.len()
    }

    /// Frames dropped because this end's queue was full.
    pub fn dropped(&self) -> u64 {
        self.queues.borrow()[self.me].dropped
    }

    /// Put a raw frame on the wire towards the other end (for tests).
    pub fn inject(&self, frame: &[u8]) {
        self.queues.borrow_mut()[1 - self.me].push(frame.to_vec());
    }

    /// Take the next frame waiting for this end without an interface (for tests).
    pub fn take(&self) -> Option<Vec<u8>> {
        self.queues.borrow_mut()[self.me].frames.pop_front()
    }
}

impl Device for PipeEnd {
    fn caps(&self) -> DeviceCaps {
        self.caps
    }

    fn receive<R>(&mut self, _now: Duration, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        self.queues.borrow_mut()[self.me].lend_rx(f)
    }

    fn transmit<R>(
        &mut self,
        _now: Duration,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        Some(self.queues.borrow_mut()[1 - self.me].lend_tx(len, f))
    }
}

/// Fault rates, in parts per million of frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Faults {
    /// Drop a frame.
    pub drop_ppm: u32,
    /// Send a frame twice.
    pub duplicate_ppm: u32,
    /// Hold a frame back and send it after the next one.
    pub reorder_ppm: u32,
    /// Flip one bit.
    pub corrupt_ppm: u32,
}

/// Counts of injected faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultStats {
    /// Frames dropped.
    pub dropped: u64,
    /// Frames duplicated.
    pub duplicated: u64,
    /// Frames reordered.
    pub reordered: u64,
    /// Frames corrupted.
    pub corrupted: u64,
}

/// A wrapper that injects seeded faults into a device's transmit and receive paths (drop,
/// duplicate, reorder, corrupt): the stack's answer to `tc netem` on kernels without it.
#[derive(Debug)]
pub struct FaultInjector<D> {
    inner: D,
    faults: Faults,
    rng: u64,
    held: Option<Vec<u8>>,
    stats: FaultStats,
}

impl<D: Device> FaultInjector<D> {
    /// Wrap `inner` with fault rates and a seed.
    pub fn new(inner: D, faults: Faults, seed: u64) -> Self {
        FaultInjector {
            inner,
            faults,
            rng: seed | 1,
            held: None,
            stats: FaultStats::default(),
        }
    }

    /// The wrapped device.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    /// The wrapped device, mutably.
    pub fn inner_mut(&mut self) -> &mut D {
        &mut self.inner
    }

    /// What was injected.
    pub fn stats(&self) -> FaultStats {
        self.stats
    }

    fn chance(&mut self, ppm: u32) -> bool {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        ppm > 0 && self.rng % 1_000_000 < u64::from(ppm)
    }

    /// Whether to corrupt the next received frame: the random bits that pick which bit.
    fn corruption(&mut self) -> Option<u64> {
        self.chance(self.faults.corrupt_ppm).then_some(self.rng)
    }

    fn count_corrupted<R>(&mut self, received: &Option<R>, bit: Option<u64>) {
        if received.is_some() && bit.is_some() {
            self.stats.corrupted += 1;
        }
    }

    fn send(&mut self, now: Duration, frame: &[u8]) {
        let _ = self
            .inner
            .transmit(now, frame.len(), |b| b.copy_from_slice(frame));
    }
}

/// Flip the bit of `frame` that `bit` picks, if any; whether one was flipped.
fn flip(frame: &mut [u8], bit: Option<u64>) -> bool {
    let Some(bit) = bit.filter(|_| !frame.is_empty()) else {
        return false;
    };
    let i = (bit / 8) as usize % frame.len();
    frame[i] ^= 1 << (bit % 8);
    true
}

/// Transmit faults apply frame by frame as on a wire, so with any of them set the wrapper
/// turns TSO off; with only receive corruption, TSO segments pass through untouched.
impl<D: Device> Device for FaultInjector<D> {
    fn caps(&self) -> DeviceCaps {
        let f = self.faults;
        let inner = self.inner.caps();
        DeviceCaps {
            tso_max: if f.drop_ppm | f.duplicate_ppm | f.reorder_ppm == 0 {
                inner.tso_max
            } else {
                0
            },
            ..inner
        }
    }

    fn transmit_tso<R>(
        &mut self,
        now: Duration,
        len: usize,
        tso: Tso,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        if self.caps().tso_max == 0 {
            return None;
        }
        self.inner.transmit_tso(now, len, tso, f)
    }

    fn receive<R>(&mut self, now: Duration, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        let bit = self.corruption();
        let r = self.inner.receive(now, |frame| {
            flip(frame, bit);
            f(frame)
        });
        self.count_corrupted(&r, bit);
        r
    }

    /// A corrupted frame loses the inner device's word for its checksum, so the stack
    /// verifies it (and, where the checksum was left partial, drops it).
    fn receive_info<R>(
        &mut self,
        now: Duration,
        f: impl FnOnce(&mut [u8], RxInfo) -> R,
    ) -> Option<R> {
        let bit = self.corruption();
        let r = self.inner.receive_info(now, |frame, mut info| {
            if flip(frame, bit) {
                info.l4_checksum_valid = false;
            }
            f(frame, info)
        });
        self.count_corrupted(&r, bit);
        r
    }

    fn transmit<R>(
        &mut self,
        now: Duration,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        // Faults need the frame as bytes: build it in a scratch buffer, then decide. (Only
        // this test wrapper copies; real devices lend their buffers.)
        let mut frame = vec![0u8; len];
        let r = f(&mut frame);
        if self.chance(self.faults.drop_ppm) {
            self.stats.dropped += 1;
            return Some(r);
        }
        if self.chance(self.faults.reorder_ppm) && self.held.is_none() {
            self.stats.reordered += 1;
            self.held = Some(frame);
            return Some(r);
        }
        self.send(now, &frame);
        if self.chance(self.faults.duplicate_ppm) {
            self.stats.duplicated += 1;
            self.send(now, &frame);
        }
        if let Some(h) = self.held.take() {
            self.send(now, &h);
        }
        Some(r)
    }
}
