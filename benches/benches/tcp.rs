//! TCP: unistack-tcp against smoltcp 0.14.
//!
//! `cargo bench -p unistack-benches --bench tcp` (`cargo test --benches` runs a short smoke that
//! still checks every contender delivers the same bytes).
//!
//! 1. Bulk throughput between two endpoints in one process, MTU 1500 and 65535 (MSS = MTU − 40),
//!    256 KiB socket buffers on both sides, software checksums both ways: every segment is
//!    emitted as an IPv4 datagram (header checksum and TCP checksum computed) into a frame
//!    buffer, then parsed with both checksums verified before the peer sees it. The sender keeps
//!    its send buffer full with `send_slice`; the receiver reads in place (`recv_with` /
//!    smoltcp's `recv`) and folds a sample of the bytes into a digest that must agree across
//!    contenders. Time is virtual (1 µs per loop turn; when nothing moves the clock jumps to the
//!    next timer, and those jumps are counted and printed).
//!    - smoltcp: two `Interface`s (`Medium::Ip`, default checksum capabilities: compute and
//!      verify everything) over a pair of in-memory queues whose frame buffers are recycled (no
//!      allocation per packet), no congestion control (its fastest setting in one process).
//!    - unistack, one frame buffer: `poll_transmit` → emit → parse → `handle_segment` frame by
//!      frame (the sans-IO path).
//!    - unistack, queued: every segment of a burst is emitted into its own buffer first, then
//!      all are delivered (the shape smoltcp's device queue imposes).
//!    - floor: the copies and checksums alone, no TCP (what any stack pays on this path).
//!    - Linux's own TCP over loopback, for reference: the sending application in this thread,
//!      the receiving one in another, the kernel between them on both cores (real time, not
//!      virtual; no checksums and 64 KiB segments on loopback whatever the row's MTU).
//! 2. Goodput over `unistack_tcp::sim::Link` (10 ms RTT, 100 Mbit/s, seeded random loss of 0,
//!    0.1%, 1% and 5% both ways, three seeds each) on the virtual clock: unistack through
//!    `sim::run_transfer` (NewReno, the default, and BBR), smoltcp (no congestion control, and Reno) through its interfaces
//!    with the same link model, seeds and buffer sizes. RTOs and fast recoveries are printed
//!    for unistack, retransmitted segments for both.
//! 3. Connection rate: handshake, a 100-byte request, a 100-byte response and an orderly close,
//!    over the same frame path as 1 (MTU 1500, 4 KiB buffers).
//! 4. Memory: the connection structures without their buffers.

use std::collections::VecDeque;
use std::time::Duration;

use smoltcp::iface::{
    Config as IfaceConfig, Interface, PollIngressSingleResult, PollResult, SocketHandle, SocketSet,
};
use smoltcp::phy::{Device, DeviceCapabilities, Medium, RxToken, TxToken};
use smoltcp::socket::tcp as stcp;
use smoltcp::time::Instant as SInstant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};
use unistack_benches::{Group, Rng, selected};
use unistack_ipv4::{Checksum, ChecksumCaps, Ipv4Address, Ipv4Packet, Ipv4Repr, Protocol};
use unistack_tcp::sim::{self, Link, LinkConfig, Transfer};
use unistack_tcp::{
    Algorithm, Config, FourTuple, HalfOpen, IsnKey, ListenOutcome, Listener, Outcome, Socket,
    State, TcpRepr, TcpSegment, Transmit,
};

const CLIENT: Ipv4Address = Ipv4Address::new(192, 0, 2, 1);
const SERVER: Ipv4Address = Ipv4Address::new(192, 0, 2, 2);
const CPORT: u16 = 40_000;
const SPORT: u16 = 80;
const CAPS: ChecksumCaps = ChecksumCaps::all();

fn smol_addr(a: Ipv4Address) -> IpAddress {
    IpAddress::v4(a.0[0], a.0[1], a.0[2], a.0[3])
}

fn sinstant(now: Duration) -> SInstant {
    SInstant::from_micros(now.as_micros() as i64)
}

fn from_sinstant(t: SInstant) -> Duration {
    Duration::from_micros(t.total_micros().max(0) as u64)
}

// ---------------------------------------------------------------------------------------------
// unistack: the frame path and two endpoints (plus a listener) wired back to back.

/// Emit `t` as an IPv4 datagram (both checksums computed) into `frame`; return its length.
#[inline]
fn uni_emit(t: &Transmit<'_>, frame: &mut [u8]) -> usize {
    let (head, l4) = frame.split_at_mut(20);
    let n = t
        .repr
        .emit(l4, t.src, t.dst, Checksum::Both)
        .expect("the segment fits the frame");
    Ipv4Repr::new(t.src, t.dst, Protocol::Tcp, n, 64)
        .emit(&mut Ipv4Packet::new_unchecked(head), &CAPS);
    20 + n
}

/// Parse an IPv4 datagram carrying TCP, verifying both checksums.
#[inline]
fn uni_parse(frame: &[u8]) -> (Ipv4Address, Ipv4Address, TcpRepr<'_>) {
    let ip = Ipv4Packet::new_checked(frame).expect("IPv4 header");
    let hdr = Ipv4Repr::parse(&ip, &CAPS).expect("valid IPv4 header");
    assert!(hdr.protocol == Protocol::Tcp && !hdr.is_fragment());
    let (src, dst) = (hdr.src_addr, hdr.dst_addr);
    let seg = TcpRepr::parse_bytes(ip.into_payload(), src, dst, Checksum::Both)
        .expect("valid TCP segment");
    (src, dst, seg)
}

/// Drain `from`'s transmissions through frames into `deliver`; return how many.
#[inline]
fn pump(
    now: Duration,
    from: &mut Socket<'_>,
    frames: &mut Vec<Vec<u8>>,
    lens: &mut Vec<usize>,
    batched: bool,
    mut deliver: impl FnMut(&[u8]),
) -> usize {
    if batched {
        lens.clear();
        let size = frames[0].len();
        while let Some(t) = from.poll_transmit(now) {
            let i = lens.len();
            if i == frames.len() {
                frames.push(vec![0; size]);
            }
            lens.push(uni_emit(&t, &mut frames[i]));
        }
        for (f, &n) in frames.iter().zip(lens.iter()) {
            deliver(&f[..n]);
        }
        lens.len()
    } else {
        let mut k = 0;
        while let Some(t) = from.poll_transmit(now) {
            let n = uni_emit(&t, &mut frames[0]);
            deliver(&frames[0][..n]);
            k += 1;
        }
        k
    }
}

/// The server application's in-place reader (`Socket::handle_segment_with`).
type InPlace<'a> = &'a mut dyn FnMut(&[u8]) -> usize;

struct UniNet {
    client: Socket<'static>,
    server: Socket<'static>,
    listener: Listener<'static>,
    key: IsnKey,
    batched: bool,
    frames: Vec<Vec<u8>>,
    lens: Vec<usize>,
    replies: Vec<Transmit<'static>>,
    now: Duration,
    frames_moved: u64,
    timer_jumps: u64,
    idle_turns: u32,
}

impl UniNet {
    fn new(cfg: Config, buffer: usize, mtu: usize, batched: bool) -> Self {
        let key = IsnKey::new([0x5a; 16]);
        UniNet {
            client: Socket::new(vec![0u8; buffer], vec![0u8; buffer], cfg),
            server: Socket::new(vec![0u8; buffer], vec![0u8; buffer], cfg),
            listener: Listener::new(
                SERVER,
                SPORT,
                vec![None::<HalfOpen>; 8],
                buffer,
                cfg,
                key.clone(),
            ),
            key,
            batched,
            frames: vec![vec![0u8; mtu]],
            lens: Vec::new(),
            replies: Vec::new(),
            now: Duration::from_secs(1),
            frames_moved: 0,
            timer_jumps: 0,
            idle_turns: 0,
        }
    }

    fn connect(&mut self) {
        let tuple = FourTuple {
            local_addr: CLIENT,
            local_port: CPORT,
            remote_addr: SERVER,
            remote_port: SPORT,
        };
        self.client
            .connect(self.now, tuple, &self.key)
            .expect("client socket is closed");
    }

    /// Client → server (or the listener), and the listener's answers → client. With `read`,
    /// the server's application reads in place (`handle_segment_with`).
    fn exchange_up(&mut self, mut read: Option<InPlace<'_>>) -> usize {
        let UniNet {
            client,
            server,
            listener,
            batched,
            frames,
            lens,
            replies,
            now,
            ..
        } = self;
        let now = *now;
        let mut n = pump(now, client, frames, lens, *batched, |f| {
            let (src, dst, seg) = uni_parse(f);
            if server.is_open() {
                let outcome = match read.as_mut() {
                    Some(r) => server.handle_segment_with(now, src, dst, &seg, false, &mut **r),
                    None => server.handle_segment(now, src, dst, &seg),
                };
                if outcome != Outcome::NotMine {
                    return;
                }
            }
            match listener.handle_segment(now, src, dst, &seg) {
                ListenOutcome::Reply(t) => replies.push(t),
                ListenOutcome::Accept(hs) => {
                    server.accept(now, &hs).expect("server socket is closed");
                    server.handle_segment(now, src, dst, &seg);
                }
                _ => {}
            }
        });
        while let Some(t) = listener.poll_transmit(now) {
            replies.push(t);
        }
        for t in replies.drain(..) {
            let len = uni_emit(&t, &mut frames[0]);
            let (src, dst, seg) = uni_parse(&frames[0][..len]);
            client.handle_segment(now, src, dst, &seg);
            n += 1;
        }
        self.frames_moved += n as u64;
        n
    }

    /// Server → client.
    fn exchange_down(&mut self) -> usize {
        let UniNet {
            client,
            server,
            batched,
            frames,
            lens,
            now,
            ..
        } = self;
        let now = *now;
        let n = pump(now, server, frames, lens, *batched, |f| {
            let (src, dst, seg) = uni_parse(f);
            client.handle_segment(now, src, dst, &seg);
        });
        self.frames_moved += n as u64;
        n
    }

    /// One loop turn passes 1 µs; a turn without progress jumps to the next timer.
    fn tick(&mut self, progressed: bool) {
        self.now += Duration::from_micros(1);
        if progressed {
            self.idle_turns = 0;
            return;
        }
        self.idle_turns += 1;
        assert!(self.idle_turns < 1000, "unistack stalled at {:?}", self.now);
        let next = [
            self.client.poll_timeout(),
            self.server.poll_timeout(),
            self.listener.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(t) = next
            && t > self.now
        {
            self.now = t;
            self.timer_jumps += 1;
        }
    }

    fn establish(&mut self) {
        self.connect();
        while !(self.client.is_established() && self.server.is_established()) {
            let n = self.exchange_up(None) + self.exchange_down();
            self.tick(n > 0);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// smoltcp: two interfaces over a pair of in-memory frame queues with recycled buffers.

/// A frame buffer and how much of it is the frame.
type Frame = (Vec<u8>, usize);

struct Wire {
    /// `q[i]`: frames waiting for side `i`.
    q: [VecDeque<Frame>; 2],
    /// Free frame buffers (each `mtu` long).
    pool: Vec<Vec<u8>>,
    /// Buffers given back by receive tokens, moved to `pool` at the next device call.
    spare: Vec<Vec<u8>>,
    mtu: usize,
    frames: u64,
}

impl Wire {
    fn new(mtu: usize) -> Self {
        Wire {
            q: [VecDeque::new(), VecDeque::new()],
            pool: Vec::new(),
            spare: Vec::new(),
            mtu,
            frames: 0,
        }
    }
}

/// One side's view of the wire, as a smoltcp device.
struct End<'w> {
    wire: &'w mut Wire,
    side: usize,
}

struct WireRx<'a> {
    buf: Vec<u8>,
    len: usize,
    spare: &'a mut Vec<Vec<u8>>,
}

struct WireTx<'a> {
    out: &'a mut VecDeque<Frame>,
    pool: &'a mut Vec<Vec<u8>>,
    mtu: usize,
    frames: &'a mut u64,
}

impl RxToken for WireRx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let r = f(&self.buf[..self.len]);
        self.spare.push(self.buf);
        r
    }
}

impl TxToken for WireTx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = self.pool.pop().unwrap_or_else(|| vec![0u8; self.mtu]);
        let r = f(&mut buf[..len]);
        self.out.push_back((buf, len));
        *self.frames += 1;
        r
    }
}

impl End<'_> {
    fn parts(&mut self) -> (Option<Frame>, WireTx<'_>, &mut Vec<Vec<u8>>) {
        let Wire {
            q,
            pool,
            spare,
            mtu,
            frames,
        } = &mut *self.wire;
        pool.append(spare);
        let [q0, q1] = q;
        let (inq, out) = if self.side == 0 { (q0, q1) } else { (q1, q0) };
        let frame = inq.pop_front();
        (
            frame,
            WireTx {
                out,
                pool,
                mtu: *mtu,
                frames,
            },
            spare,
        )
    }
}

impl Device for End<'_> {
    type RxToken<'a>
        = WireRx<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = WireTx<'a>
    where
        Self: 'a;

    fn receive(&mut self, _: SInstant) -> Option<(WireRx<'_>, WireTx<'_>)> {
        let (frame, tx, spare) = self.parts();
        let (buf, len) = frame?;
        Some((WireRx { buf, len, spare }, tx))
    }

    fn transmit(&mut self, _: SInstant) -> Option<WireTx<'_>> {
        Some(self.parts().1)
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = self.wire.mtu;
        caps
    }
}

fn smol_iface(addr: Ipv4Address, dev: &mut impl Device, seed: u64) -> Interface {
    let mut cfg = IfaceConfig::new(HardwareAddress::Ip);
    cfg.random_seed = seed;
    let mut iface = Interface::new(cfg, dev, SInstant::from_secs(1));
    iface.update_ip_addrs(|a| {
        a.push(IpCidr::new(smol_addr(addr), 24))
            .expect("one address");
    });
    iface
}

fn smol_socket(buffer: usize, cc: stcp::CongestionControl) -> stcp::Socket<'static> {
    let mut s = stcp::Socket::new(
        stcp::SocketBuffer::new(vec![0u8; buffer]),
        stcp::SocketBuffer::new(vec![0u8; buffer]),
    );
    s.set_congestion_control(cc);
    s
}

struct SmolNet {
    wire: Wire,
    ifaces: [Interface; 2],
    sets: [SocketSet<'static>; 2],
    client: SocketHandle,
    server: SocketHandle,
    now: Duration,
    timer_jumps: u64,
    idle_turns: u32,
}

impl SmolNet {
    fn new(buffer: usize, mtu: usize, cc: stcp::CongestionControl) -> Self {
        let mut wire = Wire::new(mtu);
        let ic = smol_iface(
            CLIENT,
            &mut End {
                wire: &mut wire,
                side: 0,
            },
            1,
        );
        let is = smol_iface(
            SERVER,
            &mut End {
                wire: &mut wire,
                side: 1,
            },
            2,
        );
        let mut sc = SocketSet::new(vec![]);
        let mut ss = SocketSet::new(vec![]);
        let client = sc.add(smol_socket(buffer, cc));
        let server = ss.add(smol_socket(buffer, cc));
        SmolNet {
            wire,
            ifaces: [ic, is],
            sets: [sc, ss],
            client,
            server,
            now: Duration::from_secs(1),
            timer_jumps: 0,
            idle_turns: 0,
        }
    }

    fn client(&mut self) -> &mut stcp::Socket<'static> {
        self.sets[0].get_mut::<stcp::Socket>(self.client)
    }

    fn server(&mut self) -> &mut stcp::Socket<'static> {
        self.sets[1].get_mut::<stcp::Socket>(self.server)
    }

    fn connect(&mut self) {
        if self.server().state() == stcp::State::Closed {
            self.server().listen(SPORT).expect("listen");
        }
        let SmolNet {
            ifaces,
            sets,
            client,
            ..
        } = self;
        sets[0]
            .get_mut::<stcp::Socket>(*client)
            .connect(ifaces[0].context(), (smol_addr(SERVER), SPORT), CPORT)
            .expect("connect");
    }

    /// A full poll (ingress, then egress) of side `i`.
    fn poll(&mut self, i: usize) {
        let t = sinstant(self.now);
        self.ifaces[i].poll(
            t,
            &mut End {
                wire: &mut self.wire,
                side: i,
            },
            &mut self.sets[i],
        );
    }

    /// Every frame waiting for side `i`, and nothing else.
    fn ingress(&mut self, i: usize) {
        let t = sinstant(self.now);
        let dev = &mut End {
            wire: &mut self.wire,
            side: i,
        };
        while self.ifaces[i].poll_ingress_single(t, dev, &mut self.sets[i])
            != PollIngressSingleResult::None
        {}
    }

    /// Everything side `i`'s sockets want to send.
    fn egress(&mut self, i: usize) {
        let t = sinstant(self.now);
        let dev = &mut End {
            wire: &mut self.wire,
            side: i,
        };
        while self.ifaces[i].poll_egress(t, dev, &mut self.sets[i]) != PollResult::None {}
    }

    fn tick(&mut self, progressed: bool) {
        self.now += Duration::from_micros(1);
        if progressed {
            self.idle_turns = 0;
            return;
        }
        self.idle_turns += 1;
        assert!(self.idle_turns < 1000, "smoltcp stalled at {:?}", self.now);
        let t = sinstant(self.now);
        let next = (0..2)
            .filter_map(|i| self.ifaces[i].poll_at(t, &self.sets[i]))
            .min()
            .map(from_sinstant);
        if let Some(t) = next
            && t > self.now
        {
            self.now = t;
            self.timer_jumps += 1;
        }
    }

    fn establish(&mut self) {
        self.connect();
        while !(self.client().state() == stcp::State::Established
            && self.server().state() == stcp::State::Established)
        {
            let before = self.wire.frames;
            self.poll(0);
            self.poll(1);
            self.tick(self.wire.frames != before);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Bulk throughput.

/// The sender's stream repeats with this period (≥ the receive buffer, so any chunk the
/// receiver sees is one slice of the doubled source).
const PERIOD: usize = 256 << 10;
/// Every `SAMPLE`-th byte of a call's stream goes into its digest.
const SAMPLE: usize = 64;
const BULK_BUFFER: usize = 256 << 10;

/// The receiving application's digest: the bytes at positions that are multiples of `SAMPLE`
/// (relative to the call's start), each weighted by its position, so it does not depend on how
/// the stream was chunked.
struct Reader<'s> {
    src: &'s [u8],
    /// Stream position of the next byte (since the connection opened).
    pos: usize,
    /// Position relative to the current call.
    rel: usize,
    digest: u64,
    verify: bool,
}

impl Reader<'_> {
    #[inline]
    fn take(&mut self, d: &[u8]) {
        if self.verify {
            let o = self.pos % PERIOD;
            assert!(
                d == &self.src[o..o + d.len()],
                "wrong bytes at stream offset {}",
                self.pos
            );
        }
        // Independent multiplies (no chain through the accumulator), so the application's
        // share of the time stays small and equal for every contender.
        let mut at = self.rel.next_multiple_of(SAMPLE) - self.rel;
        let mut acc = self.digest;
        while let Some(&b) = d.get(at) {
            acc = acc.wrapping_add((u64::from(b) + 1).wrapping_mul((self.rel + at) as u64 | 1));
            at += SAMPLE;
        }
        self.digest = acc;
        self.pos += d.len();
        self.rel += d.len();
    }
}

struct UniBulk<'s> {
    net: UniNet,
    /// The server's application reads segments in place as they arrive.
    in_place: bool,
    src: &'s [u8],
    sent: usize,
    reader: Reader<'s>,
    bytes: u64,
}

impl<'s> UniBulk<'s> {
    fn new(mtu: usize, batched: bool, in_place: bool, src: &'s [u8], verify: bool) -> Self {
        let cfg = Config {
            mss: (mtu - 40) as u16,
            ..Config::default()
        };
        let mut net = UniNet::new(cfg, BULK_BUFFER, mtu, batched);
        net.establish();
        UniBulk {
            net,
            in_place,
            src,
            sent: 0,
            reader: Reader {
                src,
                pos: 0,
                rel: 0,
                digest: 0,
                verify,
            },
            bytes: 0,
        }
    }

    /// Move `len` more bytes from the client's application to the server's.
    fn run(&mut self, len: usize) -> u64 {
        self.reader.rel = 0;
        self.reader.digest = 0;
        let mut left = len;
        while left > 0 {
            let o = self.sent % PERIOD;
            self.sent += self
                .net
                .client
                .send_slice(&self.src[o..o + PERIOD])
                .expect("open");
            let mut n = 0;
            if self.in_place {
                // What the last call left in the buffer first: bytes only go in place when
                // none are waiting ahead of them.
                n += self.drain(&mut left);
            }
            n += if self.in_place {
                let reader = &mut self.reader;
                let left = &mut left;
                self.net.exchange_up(Some(&mut |d: &[u8]| {
                    let d = &d[..d.len().min(*left)];
                    reader.take(d);
                    *left -= d.len();
                    d.len()
                }))
            } else {
                self.net.exchange_up(None)
            };
            n += self.drain(&mut left);
            n += self.net.exchange_down();
            self.net.tick(n > 0);
        }
        self.bytes += len as u64;
        self.reader.digest
    }

    /// Read up to `left` bytes from the server's buffer; return how many reads that took.
    fn drain(&mut self, left: &mut usize) -> usize {
        let reader = &mut self.reader;
        let mut n = 0;
        while *left > 0 {
            let got = self
                .net
                .server
                .recv_with(|d| {
                    let d = &d[..d.len().min(*left)];
                    reader.take(d);
                    d.len()
                })
                .expect("open");
            if got == 0 {
                break;
            }
            *left -= got;
            n += 1;
        }
        n
    }
}

struct SmolBulk<'s> {
    net: SmolNet,
    src: &'s [u8],
    sent: usize,
    reader: Reader<'s>,
    bytes: u64,
}

impl<'s> SmolBulk<'s> {
    fn new(mtu: usize, src: &'s [u8], verify: bool) -> Self {
        let mut net = SmolNet::new(BULK_BUFFER, mtu, stcp::CongestionControl::None);
        net.establish();
        SmolBulk {
            net,
            src,
            sent: 0,
            reader: Reader {
                src,
                pos: 0,
                rel: 0,
                digest: 0,
                verify,
            },
            bytes: 0,
        }
    }

    fn run(&mut self, len: usize) -> u64 {
        self.reader.rel = 0;
        self.reader.digest = 0;
        let mut left = len;
        while left > 0 {
            let before = self.net.wire.frames;
            let o = self.sent % PERIOD;
            let src = self.src;
            self.sent += self
                .net
                .client()
                .send_slice(&src[o..o + PERIOD])
                .expect("open");
            // The same order as unistack's loop: client in and out, server in, the
            // application reads, server out.
            self.net.poll(0);
            self.net.ingress(1);
            let mut reads = 0;
            let SmolNet { sets, server, .. } = &mut self.net;
            let s = sets[1].get_mut::<stcp::Socket>(*server);
            let reader = &mut self.reader;
            while left > 0 {
                let got = s
                    .recv(|d| {
                        let n = d.len().min(left);
                        reader.take(&d[..n]);
                        (n, n)
                    })
                    .expect("open");
                if got == 0 {
                    break;
                }
                left -= got;
                reads += 1;
            }
            self.net.egress(1);
            self.net.tick(reads > 0 || self.net.wire.frames != before);
        }
        self.bytes += len as u64;
        self.reader.digest
    }
}

/// The floor under any stack that handles data as the contenders do: per MSS-sized segment,
/// copy from the application into a 256 KiB send ring, copy into a frame while checksumming
/// the IPv4 header and the TCP segment, verify both checksums, copy into a 256 KiB receive
/// ring, and hand it to the same reader. No protocol at all.
struct Floor<'s> {
    src: &'s [u8],
    mss: usize,
    tx: Vec<u8>,
    rx: Vec<u8>,
    frame: Vec<u8>,
    reader: Reader<'s>,
    bytes: u64,
}

impl<'s> Floor<'s> {
    fn new(mtu: usize, src: &'s [u8], verify: bool) -> Self {
        Floor {
            src,
            // unistack's MSS: MTU − 40 − 12 bytes of timestamps.
            mss: mtu - 52,
            tx: vec![0u8; BULK_BUFFER],
            rx: vec![0u8; BULK_BUFFER],
            frame: vec![0u8; mtu],
            reader: Reader {
                src,
                pos: 0,
                rel: 0,
                digest: 0,
                verify,
            },
            bytes: 0,
        }
    }

    fn run(&mut self, len: usize) -> u64 {
        use unistack_ipv4::checksum;
        self.reader.rel = 0;
        self.reader.digest = 0;
        let slots = BULK_BUFFER / self.mss;
        let mut left = len;
        while left > 0 {
            let n = self.mss.min(left);
            let pos = self.reader.pos;
            let at = (pos / self.mss % slots) * self.mss;
            let o = pos % PERIOD;
            self.tx[at..at + n].copy_from_slice(&self.src[o..o + n]);
            let (head, l4) = self.frame.split_at_mut(20);
            let l4 = &mut l4[..32 + n];
            l4[32..].copy_from_slice(&self.tx[at..at + n]);
            let pseudo = checksum::pseudo_header(CLIENT, SERVER, Protocol::Tcp, l4.len() as u16);
            l4[16..18].copy_from_slice(&[0, 0]);
            let c = !checksum::add(pseudo, checksum::data(l4));
            l4[16..18].copy_from_slice(&c.to_be_bytes());
            Ipv4Repr::new(CLIENT, SERVER, Protocol::Tcp, l4.len(), 64)
                .emit(&mut Ipv4Packet::new_unchecked(head), &CAPS);
            let frame = std::hint::black_box(&self.frame[..52 + n]);
            assert!(checksum::data(&frame[..20]) == 0xffff);
            assert!(checksum::add(pseudo, checksum::data(&frame[20..])) == 0xffff);
            self.rx[at..at + n].copy_from_slice(&frame[52..]);
            self.reader.take(&self.rx[at..at + n]);
            left -= n;
        }
        self.bytes += len as u64;
        self.reader.digest
    }
}

/// Linux's own TCP over loopback, for reference: this thread is the sending application
/// (`write_all` from the same doubled source), a second thread the receiving one (`read` into a
/// 256 KiB buffer, the same digest). The kernel does the rest on both cores: no checksums
/// (loopback marks them unnecessary), 64 KiB segments whatever the row's MTU, buffers autotuned.
struct LinuxBulk<'s> {
    tx: std::net::TcpStream,
    src: &'s [u8],
    pos: usize,
    go: std::sync::mpsc::Sender<usize>,
    done: std::sync::mpsc::Receiver<u64>,
    bytes: u64,
}

impl<'s> LinuxBulk<'s> {
    fn new(src: &'s [u8], verify: bool) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let tx =
            std::net::TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (mut rx, _) = listener.accept().expect("accept");
        tx.set_nodelay(true).expect("nodelay");
        let (go, go_rx) = std::sync::mpsc::channel::<usize>();
        let (done_tx, done) = std::sync::mpsc::channel::<u64>();
        let owned = src.to_vec();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut reader = Reader {
                src: &owned,
                pos: 0,
                rel: 0,
                digest: 0,
                verify,
            };
            let mut buf = vec![0u8; BULK_BUFFER];
            for len in go_rx {
                reader.rel = 0;
                reader.digest = 0;
                let mut left = len;
                while left > 0 {
                    let want = left.min(buf.len());
                    let n = rx.read(&mut buf[..want]).expect("loopback read");
                    assert!(n > 0, "loopback stream ended");
                    reader.take(&buf[..n]);
                    left -= n;
                }
                if done_tx.send(reader.digest).is_err() {
                    return;
                }
            }
        });
        LinuxBulk {
            tx,
            src,
            pos: 0,
            go,
            done,
            bytes: 0,
        }
    }

    fn run(&mut self, len: usize) -> u64 {
        use std::io::Write;
        self.go.send(len).expect("receiver gone");
        let mut left = len;
        while left > 0 {
            let o = self.pos % PERIOD;
            let n = left.min(64 << 10);
            self.tx
                .write_all(&self.src[o..o + n])
                .expect("loopback write");
            self.pos += n;
            left -= n;
        }
        self.bytes += len as u64;
        self.done.recv().expect("receiver gone")
    }
}

fn bulk(smoke: bool, summary: &mut Vec<(String, f64)>) {
    let mut rng = Rng::new(0x0074_6370_6275_6c6b);
    let one: Vec<u8> = (0..PERIOD).map(|_| rng.next_u64() as u8).collect();
    let src: Vec<u8> = one.iter().chain(one.iter()).copied().collect();
    let call = if smoke { PERIOD } else { 16 * PERIOD };
    for mtu in [1500usize, 65535] {
        let title = format!(
            "bulk MTU {mtu}: {} KiB per call, 256 KiB buffers, IPv4+TCP checksums both ways",
            call >> 10
        );
        if !selected(&title) {
            continue;
        }
        let mut smol = SmolBulk::new(mtu, &src, smoke);
        let mut uni = UniBulk::new(mtu, false, false, &src, smoke);
        let mut uniq = UniBulk::new(mtu, true, false, &src, smoke);
        let mut unid = UniBulk::new(mtu, false, true, &src, smoke);
        let mut floor = Floor::new(mtu, &src, smoke);
        let mut linux = LinuxBulk::new(&src, smoke);
        let wall = std::time::Instant::now();
        let out = {
            let mut g = Group::new(&title, call);
            if smoke {
                g.budget(3, Duration::from_millis(1));
            } else {
                g.budget(31, Duration::from_millis(80));
            }
            g.add("smoltcp 0.14 (2 ifaces, queues)", || smol.run(call));
            g.add("unistack (one frame buffer)", || uni.run(call));
            g.add("unistack (frames queued)", || uniq.run(call));
            g.add("floor: copies + checksums, no TCP", || floor.run(call));
            g.add("Linux TCP, loopback, 2 threads", || linux.run(call));
            g.add("unistack (read in place)", || unid.run(call));
            g.run()
        };
        println!("  ({:.1} s)", wall.elapsed().as_secs_f64());
        let stats = [
            (smol.bytes, smol.net.wire.frames, smol.net.timer_jumps, None),
            (
                uni.bytes,
                uni.net.frames_moved,
                uni.net.timer_jumps,
                Some(uni.net.client.stats().retransmits),
            ),
            (
                uniq.bytes,
                uniq.net.frames_moved,
                uniq.net.timer_jumps,
                Some(uniq.net.client.stats().retransmits),
            ),
            (floor.bytes, 0, 0, None),
            (linux.bytes, 0, 0, None),
            (
                unid.bytes,
                unid.net.frames_moved,
                unid.net.timer_jumps,
                Some(unid.net.client.stats().retransmits),
            ),
        ];
        println!(
            "  {:<34} {:>8} {:>10} {:>9} {:>12} {:>7}",
            "", "Gbit/s", "GiB moved", "frames", "timer jumps", "rexmit"
        );
        for (o, (bytes, frames, jumps, rexmit)) in out.iter().zip(stats) {
            println!(
                "  {:<34} {:>8.2} {:>10.2} {:>9} {:>12} {:>7}",
                o.name,
                8.0 / o.median_ns,
                bytes as f64 / f64::from(1u32 << 30),
                frames,
                jumps,
                rexmit.map_or("-".into(), |r| r.to_string())
            );
        }
        summary.push((
            format!("bulk MTU {mtu}: unistack speed / smoltcp"),
            out[0].median_ns / out[1].median_ns,
        ));
        summary.push((
            format!("bulk MTU {mtu}: unistack queued speed / smoltcp"),
            out[0].median_ns / out[2].median_ns,
        ));
        summary.push((
            format!("bulk MTU {mtu}: floor speed / smoltcp"),
            out[0].median_ns / out[3].median_ns,
        ));
        summary.push((
            format!("bulk MTU {mtu}: unistack speed / Linux loopback"),
            out[4].median_ns / out[1].median_ns,
        ));
        summary.push((
            format!("bulk MTU {mtu}: unistack read in place speed / smoltcp"),
            out[0].median_ns / out[5].median_ns,
        ));
        let st = unid.net.server.stats();
        assert!(st.rx_bytes_direct > 0, "nothing was read in place: {st:?}");
        println!(
            "  read in place: {:.1}% of the stream (the rest was buffered behind the end of a call)",
            100.0 * st.rx_bytes_direct as f64 / (st.rx_bytes_direct + st.rx_bytes_copied) as f64
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Goodput over the simulated lossy link.

const SIM_BUFFER: usize = 256 << 10;

fn sim_link(loss_ppm: u32) -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(5),
        rate: Some(100_000_000),
        loss_ppm,
        queue_limit: 1000,
        ..LinkConfig::default()
    }
}

/// A smoltcp device whose frames go to and come from a `sim::Link`.
#[derive(Default)]
struct SimDev {
    inq: VecDeque<Vec<u8>>,
    out: Vec<Vec<u8>>,
}

struct SimRx(Vec<u8>);
struct SimTx<'a>(&'a mut Vec<Vec<u8>>);

impl RxToken for SimRx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl TxToken for SimTx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut b = vec![0u8; len];
        let r = f(&mut b);
        self.0.push(b);
        r
    }
}

impl Device for SimDev {
    type RxToken<'a> = SimRx;
    type TxToken<'a> = SimTx<'a>;

    fn receive(&mut self, _: SInstant) -> Option<(SimRx, SimTx<'_>)> {
        let p = self.inq.pop_front()?;
        Some((SimRx(p), SimTx(&mut self.out)))
    }

    fn transmit(&mut self, _: SInstant) -> Option<SimTx<'_>> {
        Some(SimTx(&mut self.out))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = 1500;
        caps
    }
}

/// Tracks the highest data sequence number sent, to count retransmitted segments.
#[derive(Default)]
struct RexmitCounter {
    high: Option<u32>,
    count: u64,
}

impl RexmitCounter {
    fn see(&mut self, seg: &[u8]) {
        let Ok(s) = TcpSegment::new_checked(seg) else {
            return;
        };
        let len = s.payload().len() as u32;
        if len == 0 {
            return;
        }
        let end = s.seq_number().wrapping_add(len);
        match self.high {
            Some(h) if (end.wrapping_sub(h) as i32) <= 0 => self.count += 1,
            _ => self.high = Some(end),
        }
    }
}

struct SimResult {
    /// Virtual time from the SYN to the last byte read.
    elapsed: Duration,
    /// Bytes the receiving application got.
    got: usize,
    hash: u64,
    rexmit: u64,
    rto: Option<u64>,
    fast_recoveries: Option<u64>,
    lost: u64,
}

impl SimResult {
    fn goodput_mbit(&self) -> f64 {
        self.got as f64 * 8.0 / self.elapsed.as_secs_f64() / 1e6
    }
}

fn uni_sim(loss_ppm: u32, size: usize, seed: u64, congestion: Algorithm) -> SimResult {
    let link = sim_link(loss_ppm);
    let transfer = Transfer {
        up: size,
        down: 0,
        buffer: SIM_BUFFER,
        time_limit: Duration::from_secs(3600),
        close: false,
        read_in_place: None,
    };
    let cfg = Config {
        congestion,
        ..Config::default()
    };
    let r = sim::run_transfer(cfg, transfer, link, link, seed)
        .unwrap_or_else(|e| panic!("unistack {congestion:?} at {loss_ppm} ppm: {e:?}"));
    SimResult {
        elapsed: r.elapsed,
        got: r.bytes.0,
        hash: r.hashes.0,
        rexmit: r.client.retransmits,
        rto: Some(r.client.rto_fired),
        fast_recoveries: Some(r.client.fast_recoveries),
        lost: r.links.0.lost + r.links.1.lost,
    }
}

/// The same transfer as `uni_sim`, by smoltcp: same links, seeds, buffers and stream.
fn smol_sim(
    loss_ppm: u32,
    size: usize,
    seed: u64,
    cc: stcp::CongestionControl,
    limit: Duration,
) -> SimResult {
    let link = sim_link(loss_ppm);
    let mut links = (Link::new(link, seed), Link::new(link, seed ^ 0xdead_beef));
    let mut devs = [SimDev::default(), SimDev::default()];
    let mut ifaces = [
        smol_iface(CLIENT, &mut devs[0], 1),
        smol_iface(SERVER, &mut devs[1], 2),
    ];
    let mut sets = [SocketSet::new(vec![]), SocketSet::new(vec![])];
    let hc = sets[0].add(smol_socket(SIM_BUFFER, cc));
    let hs = sets[1].add(smol_socket(SIM_BUFFER, cc));
    let start = Duration::from_secs(1);
    let mut now = start;
    sets[1]
        .get_mut::<stcp::Socket>(hs)
        .listen(SPORT)
        .expect("listen");
    sets[0]
        .get_mut::<stcp::Socket>(hc)
        .connect(ifaces[0].context(), (smol_addr(SERVER), SPORT), CPORT)
        .expect("connect");
    let mut chunk = vec![0u8; 16_384];
    let (mut sent, mut got) = (0usize, 0usize);
    let mut hash = sim::FNV_INIT;
    let mut rexmit = RexmitCounter::default();
    let mut bad = None;
    loop {
        let t = sinstant(now);
        for i in 0..2 {
            ifaces[i].poll(t, &mut devs[i], &mut sets[i]);
        }
        let mut progressed = false;
        let c = sets[0].get_mut::<stcp::Socket>(hc);
        if c.may_send() && sent < size {
            let n = (size - sent).min(chunk.len());
            for (i, b) in chunk[..n].iter_mut().enumerate() {
                *b = sim::pattern(1, sent + i);
            }
            let q = c.send_slice(&chunk[..n]).expect("open");
            sent += q;
            progressed |= q > 0;
        }
        let s = sets[1].get_mut::<stcp::Socket>(hs);
        while s.can_recv() {
            let n = s
                .recv(|d| {
                    if bad.is_none()
                        && let Some(i) = d
                            .iter()
                            .enumerate()
                            .position(|(i, &b)| b != sim::pattern(1, got + i))
                    {
                        bad = Some(got + i);
                    }
                    hash = sim::fnv1a(hash, d);
                    (d.len(), d.len())
                })
                .expect("open");
            got += n;
            progressed |= n > 0;
        }
        assert_eq!(bad, None, "smoltcp delivered a wrong byte");
        if got == size || now - start > limit {
            return SimResult {
                elapsed: now - start,
                got,
                hash,
                rexmit: rexmit.count,
                rto: None,
                fast_recoveries: None,
                lost: links.0.stats().lost + links.1.stats().lost,
            };
        }
        // Frames cross the link as TCP segments (the link adds the 20-byte IPv4 header to
        // its serialization time, as it does for unistack); the header is rebuilt, checksum
        // included, on arrival.
        for (i, link) in [&mut links.0, &mut links.1].into_iter().enumerate() {
            for p in devs[i].out.drain(..) {
                progressed = true;
                let ip = Ipv4Packet::new_checked(&p[..]).expect("smoltcp emitted IPv4");
                let seg = ip.into_payload();
                if i == 0 {
                    rexmit.see(seg);
                }
                link.send(now, ip.src_addr(), ip.dst_addr(), seg);
            }
        }
        for (i, link) in [&mut links.1, &mut links.0].into_iter().enumerate() {
            // links.1 (down) feeds the client (0), links.0 (up) the server (1).
            while let Some((src, dst, seg)) = link.recv(now) {
                progressed = true;
                let mut p = vec![0u8; 20 + seg.len()];
                Ipv4Repr::new(src, dst, Protocol::Tcp, seg.len(), 64)
                    .emit(&mut Ipv4Packet::new_unchecked(&mut p[..20]), &CAPS);
                p[20..].copy_from_slice(&seg);
                devs[i].inq.push_back(p);
            }
        }
        if progressed {
            continue;
        }
        let next = (0..2)
            .filter_map(|i| ifaces[i].poll_at(t, &sets[i]).map(from_sinstant))
            .chain(links.0.next_arrival())
            .chain(links.1.next_arrival())
            .min();
        now = match next {
            Some(n) if n > now => n,
            _ => now + Duration::from_micros(1),
        };
    }
}

/// Several seeds of one contender at one loss rate.
#[derive(Default)]
struct SimTotal {
    got: usize,
    elapsed: Duration,
    rexmit: u64,
    rto: Option<u64>,
    fast_recoveries: Option<u64>,
    lost: u64,
    min: f64,
    max: f64,
    unfinished: usize,
}

impl SimTotal {
    fn add(&mut self, r: &SimResult, size: usize) {
        let g = r.goodput_mbit();
        if self.elapsed.is_zero() {
            self.min = g;
            self.max = g;
        }
        self.min = self.min.min(g);
        self.max = self.max.max(g);
        self.got += r.got;
        self.elapsed += r.elapsed;
        self.rexmit += r.rexmit;
        self.rto = r.rto.map(|v| v + self.rto.unwrap_or(0));
        self.fast_recoveries = r
            .fast_recoveries
            .map(|v| v + self.fast_recoveries.unwrap_or(0));
        self.lost += r.lost;
        self.unfinished += usize::from(r.got < size);
    }

    /// All bytes over all virtual time.
    fn goodput_mbit(&self) -> f64 {
        self.got as f64 * 8.0 / self.elapsed.as_secs_f64() / 1e6
    }
}

fn goodput(smoke: bool, summary: &mut Vec<(String, f64)>) {
    let title = "goodput over sim::Link";
    if !selected(title) {
        return;
    }
    let wall = std::time::Instant::now();
    let seeds = [101u64, 202, 303];
    println!(
        "\n{title}: 10 ms RTT, 100 Mbit/s, seeded random loss both ways, 256 KiB buffers, \
         MSS 1460, virtual clock; {} seeds each, goodput = all bytes / all virtual time",
        seeds.len()
    );
    println!(
        "  {:<6} {:>5} {:<22} {:>8} {:>16} {:>9} {:>7} {:>5} {:>5} {:>5}",
        "loss",
        "MiB",
        "contender",
        "Mbit/s",
        "seeds min..max",
        "virtual s",
        "rexmit",
        "RTOs",
        "fast",
        "lost"
    );
    for (loss, mib) in [(0u32, 16usize), (1_000, 16), (10_000, 16), (50_000, 4)] {
        let size = if smoke { 256 << 10 } else { mib << 20 };
        let limit = Duration::from_secs(if smoke { 600 } else { 3600 });
        let want = (0..size).fold(sim::FNV_INIT, |h, i| sim::fnv1a(h, &[sim::pattern(1, i)]));
        let mut totals: [SimTotal; 4] = Default::default();
        for &seed in &seeds {
            let uni = uni_sim(loss, size, seed, Algorithm::NewReno);
            let bbr = uni_sim(loss, size, seed, Algorithm::Bbr);
            for r in [&uni, &bbr] {
                assert_eq!(r.got, size);
                assert_eq!(r.hash, want, "unistack delivered other bytes");
            }
            let none = smol_sim(loss, size, seed, stcp::CongestionControl::None, limit);
            let reno = smol_sim(loss, size, seed, stcp::CongestionControl::Reno, limit);
            for (name, r) in [("smoltcp (no CC)", &none), ("smoltcp (Reno)", &reno)] {
                if r.got == size {
                    assert_eq!(r.hash, want, "{name} delivered other bytes");
                }
            }
            for (t, r) in totals.iter_mut().zip([&uni, &bbr, &none, &reno]) {
                t.add(r, size);
            }
        }
        let pct = format!("{:.1}%", f64::from(loss) / 1e4);
        for (name, t) in [
            "unistack (NewReno)",
            "unistack (BBR)",
            "smoltcp 0.14 (no CC)",
            "smoltcp 0.14 (Reno)",
        ]
        .into_iter()
        .zip(&totals)
        {
            let unfinished = if t.unfinished > 0 {
                format!(
                    "  ({} runs hit the {} s limit)",
                    t.unfinished,
                    limit.as_secs()
                )
            } else {
                String::new()
            };
            println!(
                "  {pct:<6} {:>5.2} {name:<22} {:>8.3} {:>16} {:>9.2} {:>7} {:>5} {:>5} {:>5}{unfinished}",
                size as f64 / f64::from(1u32 << 20),
                t.goodput_mbit(),
                format!("{:.3}..{:.3}", t.min, t.max),
                t.elapsed.as_secs_f64(),
                t.rexmit,
                t.rto.map_or("-".into(), |v| v.to_string()),
                t.fast_recoveries.map_or("-".into(), |v| v.to_string()),
                t.lost,
            );
        }
        let [uni, bbr, none, reno] = &totals;
        for (who, t) in [("unistack NewReno", uni), ("unistack BBR", bbr)] {
            summary.push((
                format!("goodput {pct} loss: {who} / smoltcp Reno"),
                t.goodput_mbit() / reno.goodput_mbit(),
            ));
            summary.push((
                format!("goodput {pct} loss: {who} / smoltcp no CC"),
                t.goodput_mbit() / none.goodput_mbit(),
            ));
        }
    }
    println!("  ({:.1} s)", wall.elapsed().as_secs_f64());
}

// ---------------------------------------------------------------------------------------------
// 3. Connection rate.

const REQ: [u8; 100] = [b'q'; 100];
const RESP: [u8; 100] = [b'r'; 100];
const CONN_BUFFER: usize = 4096;
/// TIME-WAIT (unistack: 2 MSL = 60 s; smoltcp: 10 s) passes between connections.
const BETWEEN: Duration = Duration::from_secs(61);

#[derive(Default)]
struct Exchange {
    req_sent: bool,
    got_req: usize,
    resp_sent: bool,
    server_closed: bool,
    got_resp: usize,
    client_closed: bool,
    digest: u64,
}

impl Exchange {
    fn fold(&mut self, d: &[u8]) {
        self.digest = d.iter().fold(self.digest, |a, &b| {
            a.wrapping_mul(31).wrapping_add(u64::from(b))
        });
    }
}

struct UniConn {
    net: UniNet,
    conns: u64,
    frames_per_conn: u64,
}

impl UniConn {
    fn new() -> Self {
        UniConn {
            net: UniNet::new(Config::default(), CONN_BUFFER, 1500, false),
            conns: 0,
            frames_per_conn: 0,
        }
    }

    fn apps(&mut self, x: &mut Exchange) -> bool {
        let UniNet { client, server, .. } = &mut self.net;
        let mut moved = false;
        if client.is_established() && !x.req_sent {
            assert_eq!(client.send_slice(&REQ), Ok(REQ.len()));
            x.req_sent = true;
            moved = true;
        }
        if server.is_open() {
            while let Ok(n) = server.recv_with(|d| {
                x.fold(d);
                d.len()
            }) {
                if n == 0 {
                    break;
                }
                x.got_req += n;
                moved = true;
            }
            if x.got_req == REQ.len() && !x.resp_sent {
                assert_eq!(server.send_slice(&RESP), Ok(RESP.len()));
                x.resp_sent = true;
                moved = true;
            }
            if x.resp_sent
                && !x.server_closed
                && server.recv_with(|_| 0) == Err(unistack_tcp::RecvError::Finished)
            {
                server.close();
                x.server_closed = true;
                moved = true;
            }
        }
        while let Ok(n) = client.recv_with(|d| {
            x.fold(d);
            d.len()
        }) {
            if n == 0 {
                break;
            }
            x.got_resp += n;
            moved = true;
        }
        if x.got_resp == RESP.len() && !x.client_closed {
            client.close();
            x.client_closed = true;
            moved = true;
        }
        moved
    }

    fn run(&mut self, k: usize) -> u64 {
        let mut digest = 0u64;
        for _ in 0..k {
            let before = self.net.frames_moved;
            self.net.connect();
            let mut x = Exchange::default();
            loop {
                let mut n = usize::from(self.apps(&mut x));
                n += self.net.exchange_up(None);
                n += usize::from(self.apps(&mut x));
                n += self.net.exchange_down();
                if self.net.client.state() == State::TimeWait
                    && self.net.server.state() == State::Closed
                {
                    break;
                }
                self.net.tick(n > 0);
            }
            self.frames_per_conn = self.net.frames_moved - before;
            self.net.now += BETWEEN;
            assert!(self.net.client.poll_transmit(self.net.now).is_none());
            assert_eq!(self.net.client.state(), State::Closed);
            digest = digest.wrapping_add(x.digest) ^ (x.got_req + x.got_resp) as u64;
            self.conns += 1;
        }
        digest
    }
}

struct SmolConn {
    net: SmolNet,
    conns: u64,
    frames_per_conn: u64,
}

impl SmolConn {
    fn new() -> Self {
        SmolConn {
            net: SmolNet::new(CONN_BUFFER, 1500, stcp::CongestionControl::None),
            conns: 0,
            frames_per_conn: 0,
        }
    }

    fn apps(&mut self, x: &mut Exchange) -> bool {
        let mut moved = false;
        let c = self.net.client();
        if c.state() == stcp::State::Established && !x.req_sent {
            assert_eq!(c.send_slice(&REQ), Ok(REQ.len()));
            x.req_sent = true;
            moved = true;
        }
        let s = self.net.server();
        while s.can_recv() {
            let n = s
                .recv(|d| {
                    x.fold(d);
                    (d.len(), d.len())
                })
                .expect("open");
            x.got_req += n;
            moved = true;
        }
        if x.got_req == REQ.len() && !x.resp_sent {
            assert_eq!(s.send_slice(&RESP), Ok(RESP.len()));
            x.resp_sent = true;
            moved = true;
        }
        if x.resp_sent && !x.server_closed && s.recv(|_| (0, ())) == Err(stcp::RecvError::Finished)
        {
            s.close();
            x.server_closed = true;
            moved = true;
        }
        let c = self.net.client();
        while c.can_recv() {
            let n = c
                .recv(|d| {
                    x.fold(d);
                    (d.len(), d.len())
                })
                .expect("open");
            x.got_resp += n;
            moved = true;
        }
        if x.got_resp == RESP.len() && !x.client_closed {
            c.close();
            x.client_closed = true;
            moved = true;
        }
        moved
    }

    fn run(&mut self, k: usize) -> u64 {
        let mut digest = 0u64;
        for _ in 0..k {
            let before = self.net.wire.frames;
            self.net.connect();
            let mut x = Exchange::default();
            loop {
                let f = self.net.wire.frames;
                let mut moved = self.apps(&mut x);
                self.net.poll(0);
                self.net.poll(1);
                moved |= self.apps(&mut x);
                if self.net.client().state() == stcp::State::TimeWait
                    && self.net.server().state() == stcp::State::Closed
                {
                    break;
                }
                moved |= self.net.wire.frames != f;
                self.net.tick(moved);
            }
            // The final ACK is still queued for the server; deliver it.
            self.net.poll(1);
            self.frames_per_conn = self.net.wire.frames - before;
            self.net.now += BETWEEN;
            self.net.poll(0);
            assert_eq!(self.net.client().state(), stcp::State::Closed);
            digest = digest.wrapping_add(x.digest) ^ (x.got_req + x.got_resp) as u64;
            self.conns += 1;
        }
        digest
    }
}

fn connections(smoke: bool, summary: &mut Vec<(String, f64)>) {
    let title = "connection rate: handshake + 100-byte request + 100-byte response + close";
    if !selected(title) {
        return;
    }
    let k = if smoke { 10 } else { 100 };
    let mut smol = SmolConn::new();
    let mut uni = UniConn::new();
    let out = {
        let mut g = Group::new(title, k);
        if smoke {
            g.budget(3, Duration::from_millis(1));
        }
        g.add("smoltcp 0.14 (2 ifaces, queues)", || smol.run(k));
        g.add("unistack (Listener + Socket)", || uni.run(k));
        g.run()
    };
    for (o, (frames, jumps, conns)) in out.iter().zip([
        (smol.frames_per_conn, smol.net.timer_jumps, smol.conns),
        (uni.frames_per_conn, uni.net.timer_jumps, uni.conns),
    ]) {
        println!(
            "  {:<34} {:>9.0} conn/s, {frames} frames per connection, {:.2} timer waits per \
             connection",
            o.name,
            1e9 / o.median_ns,
            jumps as f64 / conns as f64,
        );
    }
    summary.push((
        "connections: unistack rate / smoltcp".into(),
        out[0].median_ns / out[1].median_ns,
    ));
}

// ---------------------------------------------------------------------------------------------
// 4. Memory.

fn memory() {
    let title = "memory";
    if !selected(title) {
        return;
    }
    println!("\n{title} (bytes, buffers excluded)");
    for (name, size) in [
        (
            "unistack_tcp::Socket",
            std::mem::size_of::<unistack_tcp::Socket<'static>>(),
        ),
        (
            "unistack_tcp::HalfOpen (listener backlog entry)",
            std::mem::size_of::<HalfOpen>(),
        ),
        (
            "Option<HalfOpen> (one backlog slot)",
            std::mem::size_of::<Option<HalfOpen>>(),
        ),
        (
            "unistack_tcp::Listener",
            std::mem::size_of::<Listener<'static>>(),
        ),
        (
            "smoltcp::socket::tcp::Socket",
            std::mem::size_of::<stcp::Socket<'static>>(),
        ),
        (
            "  of unistack's Socket: Config (a copy per socket)",
            std::mem::size_of::<Config>(),
        ),
        (
            "  of unistack's Socket: Assembler (8 ranges)",
            std::mem::size_of::<unistack_tcp::Assembler>(),
        ),
        (
            "  of unistack's Socket: Scoreboard (16 SACK ranges)",
            std::mem::size_of::<unistack_tcp::Scoreboard>(),
        ),
        (
            "  of unistack's Socket: Congestion",
            std::mem::size_of::<unistack_tcp::Congestion>(),
        ),
        (
            "  of unistack's Socket: RttEstimator",
            std::mem::size_of::<unistack_tcp::RttEstimator>(),
        ),
        (
            "  of unistack's Socket: Stats",
            std::mem::size_of::<unistack_tcp::Stats>(),
        ),
        (
            "  of unistack's Socket: RingBuffer (x2)",
            std::mem::size_of::<unistack_tcp::RingBuffer<'static>>(),
        ),
    ] {
        println!("  {name:<52} {size:>6}");
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs a short smoke instead.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let mut summary = Vec::new();
    memory();
    bulk(smoke, &mut summary);
    goodput(smoke, &mut summary);
    connections(smoke, &mut summary);
    println!(
        "\nSummary (unistack / smoltcp, higher is better; targets: bulk MTU 1500 >= 2x, \
         goodput at 1% loss >= 100x)"
    );
    for (k, v) in &summary {
        println!("  {k:<52} {v:>9.2}x");
    }
    if smoke {
        println!("  (smoke run: unoptimised, tiny budget; the figures mean nothing)");
    }
}
