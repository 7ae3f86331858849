//! A simulated link and a two-endpoint driver on a virtual clock (feature `sim`): seeded
//! loss, duplication, reordering, corruption, delay and rate, so transfers under faults are
//! deterministic. Segments cross the link as bytes (emitted with checksums, parsed and
//! verified on arrival), so corruption is caught where a real stack would catch it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;
use std::vec::Vec;

use unistack_ipv4::Ipv4Address;
use unistack_ipv4::checksum::Checksum;

use crate::{FourTuple, IsnKey, ListenOutcome, Listener, Socket, TcpRepr};

/// A small deterministic PRNG (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded (0 is replaced by a fixed odd constant).
    pub fn new(seed: u64) -> Self {
        Rng(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// True with probability `ppm / 1_000_000`.
    pub fn chance(&mut self, ppm: u32) -> bool {
        ppm > 0 && (self.next_u64() % 1_000_000) < u64::from(ppm)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}

/// One direction of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    /// One-way propagation delay.
    pub delay: Duration,
    /// Bits per second (`None`: unlimited).
    pub rate: Option<u64>,
    /// Loss probability, parts per million.
    pub loss_ppm: u32,
    /// Duplication probability, parts per million.
    pub duplicate_ppm: u32,
    /// Probability that a packet is held back by up to `reorder_extra`, parts per million.
    pub reorder_ppm: u32,
    /// The extra delay for reordered packets.
    pub reorder_extra: Duration,
    /// Probability of one flipped bit, parts per million.
    pub corrupt_ppm: u32,
    /// Packets queued beyond this are dropped (a bottleneck buffer).
    pub queue_limit: usize,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            delay: Duration::from_millis(5),
            rate: None,
            loss_ppm: 0,
            duplicate_ppm: 0,
            reorder_ppm: 0,
            reorder_extra: Duration::from_millis(3),
            corrupt_ppm: 0,
            queue_limit: 10_000,
        }
    }
}

/// What a link did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Packets offered.
    pub sent: u64,
    /// Dropped at random.
    pub lost: u64,
    /// Dropped because the queue was full.
    pub overflowed: u64,
    /// Extra copies made.
    pub duplicated: u64,
    /// Held back.
    pub reordered: u64,
    /// Corrupted.
    pub corrupted: u64,
    /// The longest a packet waited in the queue for the link (bufferbloat).
    pub max_queue_delay: Duration,
}

/// A packet in flight.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    at: Duration,
    order: u64,
    src: Ipv4Address,
    dst: Ipv4Address,
    bytes: Vec<u8>,
}

/// One direction of a simulated link.
#[derive(Debug)]
pub struct Link {
    cfg: LinkConfig,
    rng: Rng,
    queue: BinaryHeap<Reverse<InFlight>>,
    busy_until: Duration,
    order: u64,
    stats: LinkStats,
}

impl Link {
    /// A link with its own seed.
    pub fn new(cfg: LinkConfig, seed: u64) -> Self {
        Link {
            cfg,
            rng: Rng::new(seed),
            queue: BinaryHeap::new(),
            busy_until: Duration::ZERO,
            order: 0,
            stats: LinkStats::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> &LinkStats {
        &self.stats
    }

    /// Offer a packet at `now`.
    pub fn send(&mut self, now: Duration, src: Ipv4Address, dst: Ipv4Address, bytes: &[u8]) {
        self.stats.sent += 1;
        if self.rng.chance(self.cfg.loss_ppm) {
            self.stats.lost += 1;
            return;
        }
        if self.queue.len() >= self.cfg.queue_limit {
            self.stats.overflowed += 1;
            return;
        }
        // Serialization at the link rate (IPv4 header included in the size).
        let start = now.max(self.busy_until);
        self.stats.max_queue_delay = self.stats.max_queue_delay.max(start - now);
        let tx_time = self.cfg.rate.map_or(Duration::ZERO, |bps| {
            Duration::from_nanos(
                ((bytes.len() as u64 + 20) * 8).saturating_mul(1_000_000_000) / bps.max(1),
            )
        });
        self.busy_until = start + tx_time;
        let mut at = self.busy_until + self.cfg.delay;
        if self.rng.chance(self.cfg.reorder_ppm) {
            self.stats.reordered += 1;
            at +=
                Duration::from_nanos(self.rng.below(self.cfg.reorder_extra.as_nanos() as u64 + 1));
        }
        let mut bytes = bytes.to_vec();
        if self.rng.chance(self.cfg.corrupt_ppm) && !bytes.is_empty() {
            self.stats.corrupted += 1;
            let bit = self.rng.below(bytes.len() as u64 * 8);
            if let Some(b) = bytes.get_mut((bit / 8) as usize) {
                *b ^= 1 << (bit % 8);
            }
        }
        if self.rng.chance(self.cfg.duplicate_ppm) {
            self.stats.duplicated += 1;
            self.push(at + Duration::from_micros(1), src, dst, bytes.clone());
        }
        self.push(at, src, dst, bytes);
    }

    fn push(&mut self, at: Duration, src: Ipv4Address, dst: Ipv4Address, bytes: Vec<u8>) {
        self.order += 1;
        self.queue.push(Reverse(InFlight {
            at,
            order: self.order,
            src,
            dst,
            bytes,
        }));
    }

    /// The next arrival time.
    pub fn next_arrival(&self) -> Option<Duration> {
        self.queue.peek().map(|Reverse(p)| p.at)
    }

    /// A packet that has arrived by `now`.
    pub fn recv(&mut self, now: Duration) -> Option<(Ipv4Address, Ipv4Address, Vec<u8>)> {
        if self.next_arrival()? > now {
            return None;
        }
        self.queue.pop().map(|Reverse(p)| (p.src, p.dst, p.bytes))
    }
}

/// Why a simulated transfer failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimError {
    /// No progress for longer than the RTO bounds allow.
    Stall {
        /// When it was noticed.
        at: Duration,
        /// How long nothing was acknowledged.
        idle: Duration,
        /// The sender's RTO then.
        rto: Duration,
    },
    /// The simulated time limit was reached.
    TimeLimit,
    /// The handshake did not complete.
    Handshake,
    /// A connection failed.
    Connection(crate::ConnectionError),
    /// The bytes delivered differ from those sent.
    Corrupted {
        /// `true` for client→server.
        up: bool,
        /// The stream offset of the first wrong byte.
        offset: usize,
    },
}

/// The result of a simulated transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferReport {
    /// Simulated time from the first SYN to the last byte read.
    pub elapsed: Duration,
    /// Bytes moved each way (client→server, server→client).
    pub bytes: (usize, usize),
    /// FNV-1a of the bytes received each way (equal to the sent ones by construction when
    /// this report exists).
    pub hashes: (u64, u64),
    /// Client and server socket stats.
    pub client: crate::Stats,
    /// Server socket stats.
    pub server: crate::Stats,
    /// Link stats (client→server, server→client).
    pub links: (LinkStats, LinkStats),
    /// Segments that failed their checksum on arrival.
    pub bad_checksums: u64,
    /// The longest time without forward progress.
    pub longest_stall: Duration,
}

/// FNV-1a, for content checks.
pub fn fnv1a(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The FNV-1a starting value.
pub const FNV_INIT: u64 = 0xcbf2_9ce4_8422_2325;

/// The deterministic payload byte at position `i` of a stream seeded with `seed`.
pub fn pattern(seed: u8, i: usize) -> u8 {
    (i as u64)
        .wrapping_mul(0x9e37_79b9)
        .wrapping_add(i as u64 >> 13)
        .wrapping_add(u64::from(seed)) as u8
}

/// A transfer to simulate.
#[derive(Debug, Clone, Copy)]
pub struct Transfer {
    /// Bytes from client to server.
    pub up: usize,
    /// Bytes from server to client.
    pub down: usize,
    /// Socket buffer sizes (each direction, each side).
    pub buffer: usize,
    /// Simulated-time limit.
    pub time_limit: Duration,
    /// Close both sides at the end and require both to reach CLOSED/TIME-WAIT.
    pub close: bool,
    /// The server reads the upload in place as segments arrive
    /// ([`Socket::handle_segment_with`]), taking at most this many bytes of each offer (the
    /// rest is buffered and read as usual); `None`: it reads only from its buffer.
    pub read_in_place: Option<usize>,
}

/// The receiving application: checks every byte against the pattern and hashes the stream.
struct Reader {
    seed: u8,
    got: usize,
    hash: u64,
    up: bool,
    bad: Option<SimError>,
}

impl Reader {
    fn new(seed: u8, up: bool) -> Self {
        Reader {
            seed,
            got: 0,
            hash: FNV_INIT,
            up,
            bad: None,
        }
    }

    fn read(&mut self, d: &[u8]) -> usize {
        self.hash = fnv1a(self.hash, d);
        if let Some(i) = d
            .iter()
            .enumerate()
            .position(|(i, &b)| b != pattern(self.seed, self.got + i))
            && self.bad.is_none()
        {
            self.bad = Some(SimError::Corrupted {
                up: self.up,
                offset: self.got + i,
            });
        }
        self.got += d.len();
        d.len()
    }
}

const CLIENT: Ipv4Address = Ipv4Address::new(192, 0, 2, 1);
const SERVER: Ipv4Address = Ipv4Address::new(192, 0, 2, 2);

/// Run `transfer` between two unistack endpoints over `up`/`down` links.
///
/// # Errors
/// [`SimError`] on a stall, the time limit, a failed connection or corrupted delivery.
pub fn run_transfer(
    cfg: crate::Config,
    transfer: Transfer,
    up: LinkConfig,
    down: LinkConfig,
    seed: u64,
) -> Result<TransferReport, SimError> {
    let key = IsnKey::new([0x5a; 16]);
    let mut links = (Link::new(up, seed), Link::new(down, seed ^ 0xdead_beef));
    let mut client = Socket::new(
        std::vec![0u8; transfer.buffer],
        std::vec![0u8; transfer.buffer],
        cfg,
    );
    let mut server = Socket::new(
        std::vec![0u8; transfer.buffer],
        std::vec![0u8; transfer.buffer],
        cfg,
    );
    let mut backlog = [None; 8];
    let mut listener = Listener::new(
        SERVER,
        80,
        &mut backlog[..],
        transfer.buffer,
        cfg,
        key.clone(),
    );
    let start = Duration::from_secs(1);
    let mut now = start;
    let tuple = FourTuple {
        local_addr: CLIENT,
        local_port: 40_000,
        remote_addr: SERVER,
        remote_port: 80,
    };
    client
        .connect(now, tuple, &key)
        .map_err(|_| SimError::Handshake)?;

    let mut buf = std::vec![0u8; 70_000];
    let mut bad_checksums = 0u64;
    let (mut sent_up, mut sent_down) = (0usize, 0usize);
    let (mut reader_up, mut reader_down) = (Reader::new(1, true), Reader::new(2, false));
    let mut seen = 0usize;
    let (mut exp_up, mut exp_down) = (FNV_INIT, FNV_INIT);
    let mut last_progress = now;
    let mut longest_stall = Duration::ZERO;
    let mut closed_sent = false;
    let mut accepted = false;
    let mut chunk = std::vec![0u8; 16_384];

    loop {
        // Applications: write what fits, read what is there.
        if client.may_send() && sent_up < transfer.up {
            let n = (transfer.up - sent_up).min(chunk.len());
            for (i, b) in chunk[..n].iter_mut().enumerate() {
                *b = pattern(1, sent_up + i);
            }
            let q = client.send_slice(&chunk[..n]).unwrap_or(0);
            exp_up = fnv1a(exp_up, &chunk[..q]);
            sent_up += q;
        }
        if server.may_send() && sent_down < transfer.down {
            let n = (transfer.down - sent_down).min(chunk.len());
            for (i, b) in chunk[..n].iter_mut().enumerate() {
                *b = pattern(2, sent_down + i);
            }
            let q = server.send_slice(&chunk[..n]).unwrap_or(0);
            exp_down = fnv1a(exp_down, &chunk[..q]);
            sent_down += q;
        }
        while let Ok(n) = server.recv_with(|d| reader_up.read(d))
            && n > 0
        {}
        while let Ok(n) = client.recv_with(|d| reader_down.read(d))
            && n > 0
        {}
        // Progress: bytes read here or in place since the last look.
        if reader_up.got + reader_down.got != seen {
            seen = reader_up.got + reader_down.got;
            last_progress = now;
        }
        if let Some(e) = reader_up.bad.take().or(reader_down.bad.take()) {
            return Err(e);
        }
        let (got_up, got_down) = (reader_up.got, reader_down.got);
        let (hash_up, hash_down) = (reader_up.hash, reader_down.hash);
        let done = got_up == transfer.up && got_down == transfer.down;
        if done && transfer.close && !closed_sent {
            client.close();
            server.close();
            closed_sent = true;
        }
        let finished = done
            && (!transfer.close
                || (matches!(
                    client.state(),
                    crate::State::Closed | crate::State::TimeWait
                ) && matches!(
                    server.state(),
                    crate::State::Closed | crate::State::TimeWait
                )));
        if finished {
            if hash_up != exp_up || hash_down != exp_down {
                return Err(SimError::Corrupted {
                    up: hash_up != exp_up,
                    offset: usize::MAX,
                });
            }
            return Ok(TransferReport {
                elapsed: now - start,
                bytes: (got_up, got_down),
                hashes: (hash_up, hash_down),
                client: *client.stats(),
                server: *server.stats(),
                links: (*links.0.stats(), *links.1.stats()),
                bad_checksums,
                longest_stall,
            });
        }
        for s in [&client, &server] {
            if let Some(e) = s.error() {
                return Err(SimError::Connection(e));
            }
        }
        // Transmit everything due.
        while let Some(t) = client.poll_transmit(now) {
            if let Ok(n) = t.repr.emit(&mut buf, t.src, t.dst, Checksum::Both) {
                links.0.send(now, t.src, t.dst, &buf[..n]);
            }
        }
        while let Some(t) = server.poll_transmit(now) {
            if let Ok(n) = t.repr.emit(&mut buf, t.src, t.dst, Checksum::Both) {
                links.1.send(now, t.src, t.dst, &buf[..n]);
            }
        }
        while let Some(t) = listener.poll_transmit(now) {
            if let Ok(n) = t.repr.emit(&mut buf, t.src, t.dst, Checksum::Both) {
                links.1.send(now, t.src, t.dst, &buf[..n]);
            }
        }
        // Deliver arrivals.
        let mut delivered = false;
        while let Some((src, dst, bytes)) = links.0.recv(now) {
            delivered = true;
            let Ok(seg) = TcpRepr::parse_bytes(&bytes, src, dst, Checksum::Both) else {
                bad_checksums += 1;
                continue;
            };
            if server.is_open() {
                let outcome = match transfer.read_in_place {
                    Some(max) => {
                        server.handle_segment_with(now, src, dst, &seg, false, &mut |d: &[u8]| {
                            reader_up.read(&d[..d.len().min(max)])
                        })
                    }
                    None => server.handle_segment(now, src, dst, &seg),
                };
                if outcome != crate::Outcome::NotMine {
                    continue;
                }
            }
            match listener.handle_segment(now, src, dst, &seg) {
                ListenOutcome::Reply(t) => {
                    if let Ok(n) = t.repr.emit(&mut buf, t.src, t.dst, Checksum::Both) {
                        links.1.send(now, t.src, t.dst, &buf[..n]);
                    }
                }
                ListenOutcome::Accept(hs) if !accepted => {
                    accepted = true;
                    let _ = server.accept(now, &hs);
                    server.handle_segment(now, src, dst, &seg);
                }
                _ => {}
            }
        }
        while let Some((src, dst, bytes)) = links.1.recv(now) {
            delivered = true;
            let Ok(seg) = TcpRepr::parse_bytes(&bytes, src, dst, Checksum::Both) else {
                bad_checksums += 1;
                continue;
            };
            client.handle_segment(now, src, dst, &seg);
        }
        if delivered {
            continue;
        }
        // Stall check: the longest silence the RTO machinery allows is two current RTOs
        // (one backoff step) plus the path's round trip and delayed-ACK time.
        let idle = now - last_progress;
        longest_stall = longest_stall.max(idle);
        let rto = client.rto().max(server.rto());
        let allowed = rto * 2 + (up.delay + down.delay) * 4 + Duration::from_millis(600);
        if idle > allowed && accepted {
            return Err(SimError::Stall { at: now, idle, rto });
        }
        // Advance the clock to the next event.
        let next = [
            client.poll_timeout(),
            server.poll_timeout(),
            listener.poll_timeout(),
            links.0.next_arrival(),
            links.1.next_arrival(),
        ]
        .into_iter()
        .flatten()
        .min();
        match next {
            Some(t) if t > now => now = t,
            Some(_) => now += Duration::from_micros(1),
            None => return Err(SimError::Handshake),
        }
        if now - start > transfer.time_limit {
            return Err(SimError::TimeLimit);
        }
    }
}
