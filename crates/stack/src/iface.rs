//! The interface: addressing, ARP, reassembly, ICMP, and the sockets, driven by `poll`.

use alloc::boxed::Box;
use alloc::collections::{BinaryHeap, VecDeque};
use alloc::vec;
use alloc::vec::Vec;
use core::cmp::Reverse;
use core::hash::{BuildHasher, Hasher};
use core::time::Duration;

use hashbrown::HashMap;
use unistack_ethif::{ArpCache, ArpEvent, ArpRepr, EtherType, EthernetRepr, MacAddress, Resolve};
use unistack_ipv4::{
    Checksum, ChecksumCaps, EchoConfig, Ecn, Fragmenter, Icmpv4Packet, Icmpv4Quote, Icmpv4Repr,
    Ipv4Address, Ipv4Cidr, Ipv4Options, Ipv4Packet, Ipv4Repr, Protocol, Reassembler, UdpPacket,
    UdpRepr,
};
use unistack_tcp::{
    FourTuple, IsnKey, ListenOutcome, Listener, Outcome, Socket, TcpRepr, TcpSegment, reset_for,
};

use crate::device::{Device, RxInfo, Tso};
use crate::udp::UdpSocket;

/// An application's in-place TCP reader ([`Interface::poll_with`]).
type TcpReader<'a> = &'a mut dyn FnMut(TcpHandle, &[u8]) -> usize;

/// A shorter-lived reborrow of an optional reader (`as_deref_mut` would keep the trait
/// object's longer lifetime, which `&mut` cannot shorten inside an `Option`).
fn reborrow<'s>(read: &'s mut Option<TcpReader<'_>>) -> Option<TcpReader<'s>> {
    match read {
        Some(r) => Some(&mut **r),
        None => None,
    }
}

/// Static interface settings.
#[derive(Debug, Clone)]
pub struct InterfaceConfig {
    /// Our MAC address.
    pub mac: MacAddress,
    /// Our address and subnet.
    pub addr: Ipv4Cidr,
    /// The default gateway, for destinations outside the subnet.
    pub gateway: Option<Ipv4Address>,
    /// TTL of packets we originate.
    pub ttl: u8,
    /// ICMP errors (port unreachable) per second, at most.
    pub icmp_error_rate: u32,
    /// 16 secret random bytes: ISNs, SYN cookies and the demultiplexer's hash key.
    pub secret: [u8; 16],
}

/// What the interface did and dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InterfaceStats {
    /// Frames received.
    pub rx_frames: u64,
    /// Frames sent.
    pub tx_frames: u64,
    /// Frames dropped: not for us, or malformed at any layer.
    pub rx_dropped: u64,
    /// IP packets that failed a checksum.
    pub bad_checksums: u64,
    /// Echo requests answered.
    pub echo_replies: u64,
    /// ICMP errors sent.
    pub icmp_errors: u64,
    /// ICMP errors suppressed by the rate limit.
    pub icmp_rate_limited: u64,
    /// TCP resets sent for segments no socket owns.
    pub tcp_resets: u64,
    /// Handshakes a listener completed with no socket left in its pool.
    pub accept_pool_empty: u64,
    /// Packets dropped because the next hop did not resolve or no room was left.
    pub unresolved: u64,
    /// TCP sockets visited for transmission (only those with work: this grows with
    /// traffic, not with the number of open connections).
    pub tcp_sockets_visited: u64,
    /// IPv4 fragments sent (UDP datagrams larger than the MTU).
    pub tx_fragments: u64,
    /// Datagrams not sent: larger than IPv4 allows.
    pub tx_too_large: u64,
}

/// A TCP connection's handle: its slot and the slot's generation, so that a handle kept after
/// its connection was removed finds nothing, not the next connection put in the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TcpHandle(SlotRef);

/// A TCP listener's handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerHandle(usize);

/// A UDP socket's handle: its slot and the slot's generation, as [`TcpHandle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpHandle(SlotRef);

/// A slot of a socket table and the slot's generation: the inside of a handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct SlotRef {
    slot: usize,
    generation: u32,
}

/// Per slot of a socket table, how many sockets it has given back (0 for a slot never freed).
#[derive(Debug, Default)]
struct Generations(Vec<u32>);

impl Generations {
    /// The reference to what is in `slot` now.
    fn at(&self, slot: usize) -> SlotRef {
        SlotRef {
            slot,
            generation: self.0.get(slot).copied().unwrap_or(0),
        }
    }

    /// `r`'s slot, if `r` still names what is in it.
    fn slot(&self, r: SlotRef) -> Option<usize> {
        (self.at(r.slot) == r).then_some(r.slot)
    }

    /// `slot`'s socket was removed: every reference to it goes stale.
    fn freed(&mut self, slot: usize) {
        if self.0.len() <= slot {
            self.0.resize(slot + 1, 0);
        }
        self.0[slot] = self.0[slot].wrapping_add(1);
    }
}

/// Why a socket operation on the interface failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketError {
    /// The port (or 4-tuple) is already in use.
    AddrInUse,
    /// The TCP connect was refused by the socket (not closed, bad address).
    Connect(unistack_tcp::ConnectError),
    /// No such handle.
    BadHandle,
}

impl core::fmt::Display for SocketError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SocketError::AddrInUse => f.write_str("address in use"),
            SocketError::Connect(e) => core::fmt::Display::fmt(e, f),
            SocketError::BadHandle => f.write_str("no such socket"),
        }
    }
}

impl core::error::Error for SocketError {}

/// SipHash keyed by the interface secret: attackers choose 4-tuples, so the demultiplexer
/// must not use a predictable hash.
#[derive(Clone)]
struct Keyed([u8; 16]);

struct KeyedHasher {
    key: [u8; 16],
    words: [u64; 4],
    n: usize,
    tail: u64,
    tail_len: u32,
}

impl Hasher for KeyedHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.tail |= u64::from(b) << (8 * self.tail_len);
            self.tail_len += 1;
            if self.tail_len == 8 {
                if let Some(w) = self.words.get_mut(self.n % 4) {
                    *w ^= self.tail.rotate_left((self.n / 4) as u32);
                }
                self.n += 1;
                self.tail = 0;
                self.tail_len = 0;
            }
        }
    }

    fn finish(&self) -> u64 {
        let mut w = self.words;
        w[3] ^= self.tail ^ ((self.n as u64) << 56);
        unistack_tcp::siphash(&self.key, &w)
    }
}

impl BuildHasher for Keyed {
    type Hasher = KeyedHasher;
    fn build_hasher(&self) -> KeyedHasher {
        KeyedHasher {
            key: self.0,
            words: [0; 4],
            n: 0,
            tail: 0,
            tail_len: 0,
        }
    }
}

/// The hash of the port maps (listeners, UDP sockets). Their keys are ports this
/// interface bound, never chosen by a peer, so a peer cannot crowd a bucket: a lookup costs
/// one multiply instead of a SipHash per packet.
#[derive(Clone, Copy, Default)]
struct PortHash;

#[derive(Default)]
struct PortHasher(u64);

impl Hasher for PortHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u16(&mut self, port: u16) {
        self.0 = u64::from(port);
    }

    fn finish(&self) -> u64 {
        // Fibonacci hashing, folded so that both the low bits (the bucket) and the high
        // bits (hashbrown's tag) depend on every bit of the port.
        let h = self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^ (h >> 32)
    }
}

impl BuildHasher for PortHash {
    type Hasher = PortHasher;
    fn build_hasher(&self) -> PortHasher {
        PortHasher::default()
    }
}

struct ListenerEntry<'a> {
    listener: Listener<'a>,
    pool: Vec<Socket<'a>>,
    accepted: VecDeque<TcpHandle>,
}

/// ARP-pending packets: an owned IP datagram, or a marker that a socket waits for the
/// address (its segments stay in its buffers meanwhile).
type Pending = Option<Vec<u8>>;

const ARP_ENTRIES: usize = 64;
const ARP_QUEUE: usize = 32;
const ETH_HEADER: usize = 14;
const IP_HEADER: usize = 20;

/// Everything but the reassembler, so a reassembled datagram (borrowed from it) can be
/// delivered to the sockets.
struct Core<'a> {
    cfg: InterfaceConfig,
    caps: ChecksumCaps,
    key: IsnKey,
    arp: ArpCache<Pending, ARP_ENTRIES, ARP_QUEUE>,
    arp_out: VecDeque<ArpRepr>,
    ip_out: VecDeque<Vec<u8>>,
    ident: u16,
    tcp: Vec<Option<Socket<'a>>>,
    /// Per TCP slot, its generation (see [`TcpHandle`]).
    tcp_gen: Generations,
    tcp_map: HashMap<FourTuple, usize, Keyed>,
    /// Sockets with work now (touched by input or the app).
    dirty: Vec<usize>,
    is_dirty: Vec<bool>,
    /// Per socket, its [`Socket::app_state_key`] when egress last took its segments
    /// (`u64::MAX`, which no key equals, for a new one): a dirty socket whose key is unchanged
    /// was only looked at, and does not make [`Interface::poll_at`] say "now".
    polled: Vec<u64>,
    /// Sockets whose next hop is being resolved.
    waiting_arp: Vec<usize>,
    /// Deadlines, lazily deleted: (when, socket).
    timers: BinaryHeap<Reverse<(Duration, usize)>>,
    listeners: Vec<Option<ListenerEntry<'a>>>,
    listen_map: HashMap<u16, usize, PortHash>,
    udp: Vec<Option<UdpSocket<'a>>>,
    /// The UDP socket whose datagrams egress tries first.
    udp_turn: usize,
    /// Per UDP slot, its generation (see [`UdpHandle`]).
    udp_gen: Generations,
    udp_map: HashMap<u16, usize, PortHash>,
    icmp_window: (Duration, u32),
    stats: InterfaceStats,
}

/// A network interface with its sockets. Call [`poll`](Self::poll) whenever a frame may have
/// arrived, the application did something, or [`poll_at`](Self::poll_at) has passed.
pub struct Interface<'a> {
    core: Core<'a>,
    reasm: Box<Reassembler<4, 65535, 64>>,
}

impl<'a> Interface<'a> {
    /// An interface with `cfg`, for a device with checksum capabilities `caps`.
    pub fn new(cfg: InterfaceConfig, caps: ChecksumCaps) -> Self {
        let key = IsnKey::new(cfg.secret);
        let keyed = Keyed(cfg.secret);
        let arp = ArpCache::new(
            cfg.mac,
            cfg.addr.address().octets(),
            unistack_ethif::Config::default(),
        );
        Interface {
            core: Core {
                caps,
                key,
                arp,
                arp_out: VecDeque::new(),
                ip_out: VecDeque::new(),
                ident: 1,
                tcp: Vec::new(),
                tcp_gen: Generations::default(),
                tcp_map: HashMap::with_hasher(keyed),
                dirty: Vec::new(),
                is_dirty: Vec::new(),
                polled: Vec::new(),
                waiting_arp: Vec::new(),
                timers: BinaryHeap::new(),
                listeners: Vec::new(),
                listen_map: HashMap::with_hasher(PortHash),
                udp: Vec::new(),
                udp_turn: 0,
                udp_gen: Generations::default(),
                udp_map: HashMap::with_hasher(PortHash),
                icmp_window: (Duration::ZERO, 0),
                stats: InterfaceStats::default(),
                cfg,
            },
            reasm: Box::new(Reassembler::new(Duration::from_secs(30))),
        }
    }

    /// Counters.
    pub fn stats(&self) -> InterfaceStats {
        self.core.stats
    }

    /// Our address.
    pub fn addr(&self) -> Ipv4Address {
        self.core.cfg.addr.address()
    }

    /// Teach the ARP cache a static binding (e.g. for a point-to-point link).
    pub fn add_static_neighbor(&mut self, ip: Ipv4Address, mac: MacAddress) {
        let _ = self.core.arp.insert_static(ip.octets(), mac);
    }

    // ----- sockets -----

    /// Open a TCP connection from `local_port` to `remote` with `socket` (closed, with its
    /// buffers).
    ///
    /// # Errors
    /// [`SocketError::AddrInUse`] if the 4-tuple exists; [`SocketError::Connect`].
    pub fn tcp_connect(
        &mut self,
        now: Duration,
        mut socket: Socket<'a>,
        local_port: u16,
        remote: (Ipv4Address, u16),
    ) -> Result<TcpHandle, SocketError> {
        let c = &mut self.core;
        let tuple = FourTuple {
            local_addr: c.cfg.addr.address(),
            local_port,
            remote_addr: remote.0,
            remote_port: remote.1,
        };
        if c.tcp_map.contains_key(&tuple) {
            return Err(SocketError::AddrInUse);
        }
        socket
            .connect(now, tuple, &c.key)
            .map_err(SocketError::Connect)?;
        let i = c.insert_tcp(socket);
        Ok(TcpHandle(c.tcp_gen.at(i)))
    }

    /// Listen on `port` with half-open slots `backlog` and a pool of closed sockets that
    /// accepted connections will use (a connection completing with the pool empty is
    /// dropped, and the client retries).
    ///
    /// # Errors
    /// [`SocketError::AddrInUse`].
    pub fn tcp_listen(
        &mut self,
        port: u16,
        backlog: usize,
        pool: Vec<Socket<'a>>,
        cfg: unistack_tcp::Config,
    ) -> Result<ListenerHandle, SocketError> {
        let c = &mut self.core;
        if c.listen_map.contains_key(&port) {
            return Err(SocketError::AddrInUse);
        }
        let rx = pool.first().map_or(65535, Socket::recv_capacity);
        let listener = Listener::new(
            c.cfg.addr.address(),
            port,
            vec![None; backlog.max(1)],
            rx,
            cfg,
            c.key.clone(),
        );
        let i = c.listeners.len();
        c.listeners.push(Some(ListenerEntry {
            listener,
            pool,
            accepted: VecDeque::new(),
        }));
        c.listen_map.insert(port, i);
        Ok(ListenerHandle(i))
    }

    /// A connection the listener accepted, if any.
    pub fn tcp_accept(&mut self, l: ListenerHandle) -> Option<TcpHandle> {
        self.core
            .listeners
            .get_mut(l.0)?
            .as_mut()?
            .accepted
            .pop_front()
    }

    /// Give the listener more closed sockets for future connections.
    pub fn tcp_replenish(&mut self, l: ListenerHandle, socket: Socket<'a>) {
        if let Some(Some(e)) = self.core.listeners.get_mut(l.0) {
            e.pool.push(socket);
        }
    }

    /// The listener itself (stats, cookie mode).
    pub fn listener_mut(&mut self, l: ListenerHandle) -> Option<&mut Listener<'a>> {
        Some(&mut self.core.listeners.get_mut(l.0)?.as_mut()?.listener)
    }

    /// A TCP connection, for reads, writes and queries. Using it marks it for the next poll.
    pub fn tcp(&mut self, h: TcpHandle) -> Option<&mut Socket<'a>> {
        let i = self.core.tcp_gen.slot(h.0)?;
        self.core.mark(i);
        self.core.tcp.get_mut(i)?.as_mut()
    }

    /// A TCP connection, read-only (not marked for the next poll).
    pub fn tcp_ref(&self, h: TcpHandle) -> Option<&Socket<'a>> {
        self.core.tcp.get(self.core.tcp_gen.slot(h.0)?)?.as_ref()
    }

    /// Remove a TCP connection (closed or not: an open one is aborted first) and return its
    /// socket, to reuse the buffers. The handle (and every copy of it) then finds nothing.
    pub fn tcp_remove(&mut self, h: TcpHandle) -> Option<Socket<'a>> {
        let i = self.core.tcp_gen.slot(h.0)?;
        let mut s = self.core.tcp.get_mut(i)?.take()?;
        self.core.tcp_gen.freed(i);
        // The tuple may belong to a newer connection by now (this one closed and the peer
        // came back from the same port): unmap it only if it still points here.
        if self.core.tcp_map.get(&s.tuple()) == Some(&i) {
            self.core.tcp_map.remove(&s.tuple());
        }
        if s.is_open() {
            s.abort();
        }
        Some(s)
    }

    /// Open connections (for tests and the demultiplexer's scale check).
    pub fn tcp_count(&self) -> usize {
        self.core.tcp_map.len()
    }

    /// Bind a UDP socket to `port`.
    ///
    /// # Errors
    /// [`SocketError::AddrInUse`].
    pub fn udp_bind(&mut self, port: u16, socket: UdpSocket<'a>) -> Result<UdpHandle, SocketError> {
        let c = &mut self.core;
        if c.udp_map.contains_key(&port) {
            return Err(SocketError::AddrInUse);
        }
        let i = match c.udp.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                c.udp.push(None);
                c.udp.len() - 1
            }
        };
        if let Some(slot) = c.udp.get_mut(i) {
            *slot = Some(socket.bound(port));
        }
        c.udp_map.insert(port, i);
        Ok(UdpHandle(c.udp_gen.at(i)))
    }

    /// Close a UDP socket, freeing its port; queued datagrams go with it.
    pub fn udp_unbind(&mut self, h: UdpHandle) -> Option<UdpSocket<'a>> {
        let i = self.core.udp_gen.slot(h.0)?;
        let s = self.core.udp.get_mut(i)?.take()?;
        self.core.udp_gen.freed(i);
        self.core.udp_map.remove(&s.port());
        Some(s)
    }

    /// A UDP socket.
    pub fn udp(&mut self, h: UdpHandle) -> Option<&mut UdpSocket<'a>> {
        let i = self.core.udp_gen.slot(h.0)?;
        self.core.udp.get_mut(i)?.as_mut()
    }

    // ----- driving -----

    /// Move frames: receive up to a burst, run timers, transmit what is due. Returns whether
    /// anything happened.
    pub fn poll(&mut self, now: Duration, device: &mut impl Device) -> bool {
        self.poll_inner(now, device, None)
    }

    /// [`poll`](Self::poll) with an application that reads TCP data in place: data that
    /// arrives in order on a connection with nothing waiting in its receive buffer is offered
    /// to `read(handle, data)` straight out of the device's receive buffer, and `read`
    /// returns how many bytes it consumed (no copy at all for those; the rest is buffered
    /// as usual). See [`Socket::handle_segment_with`] for when data is not offered. It may be
    /// offered data of a connection not yet taken with [`tcp_accept`](Self::tcp_accept):
    /// return 0 for a handle it does not know, and the data waits in that socket's buffer.
    pub fn poll_with(
        &mut self,
        now: Duration,
        device: &mut impl Device,
        read: &mut dyn FnMut(TcpHandle, &[u8]) -> usize,
    ) -> bool {
        self.poll_inner(now, device, Some(read))
    }

    fn poll_inner(
        &mut self,
        now: Duration,
        device: &mut impl Device,
        mut read: Option<TcpReader<'_>>,
    ) -> bool {
        let caps = device.caps();
        let mut activity = false;
        for _ in 0..caps.max_burst {
            let core = &mut self.core;
            let reasm = &mut self.reasm;
            let read = reborrow(&mut read);
            if device
                .receive_info(now, |frame, info| {
                    core.ingress(now, reasm, frame, info, read)
                })
                .is_none()
            {
                break;
            }
            activity = true;
        }
        self.reasm.handle_timeout(now);
        activity |= self.core.egress(now, device, caps.mtu, caps.tso_max);
        activity
    }

    /// When to poll next at the latest (`None`: only when a frame arrives or the app acts).
    pub fn poll_at(&self) -> Option<Duration> {
        let c = &self.core;
        let mut t = [
            c.arp.poll_timeout(),
            self.reasm.poll_timeout(),
            c.timers.peek().map(|Reverse((t, _))| *t),
            c.listeners
                .iter()
                .flatten()
                .filter_map(|l| l.listener.poll_timeout())
                .min(),
        ]
        .into_iter()
        .flatten()
        .min();
        // A socket the application touched is due now if it acted on it (see `polled`),
        // else when its own timeout says.
        for &i in &c.dirty {
            let Some(Some(s)) = c.tcp.get(i) else {
                continue;
            };
            let due = if c.polled.get(i) == Some(&s.app_state_key()) {
                s.poll_timeout()
            } else {
                Some(Duration::ZERO)
            };
            t = match (t, due) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        // Owned datagrams to send, and datagrams an application queued on a UDP socket (or
        // that a full device left there).
        if !c.ip_out.is_empty()
            || !c.arp_out.is_empty()
            || c.udp.iter().flatten().any(|u| u.send_queue() > 0)
        {
            t = Some(Duration::ZERO);
        }
        t
    }
}

impl<'a> Core<'a> {
    fn insert_tcp(&mut self, socket: Socket<'a>) -> usize {
        let tuple = socket.tuple();
        let i = match self.tcp.iter().position(Option::is_none) {
            Some(i) if self.tcp.len() < 64 => i,
            _ => {
                self.tcp.push(None);
                self.is_dirty.push(false);
                self.tcp.len() - 1
            }
        };
        if let Some(slot) = self.tcp.get_mut(i) {
            *slot = Some(socket);
        }
        if self.is_dirty.len() < self.tcp.len() {
            self.is_dirty.resize(self.tcp.len(), false);
        }
        self.polled.resize(self.tcp.len(), u64::MAX);
        if let Some(p) = self.polled.get_mut(i) {
            *p = u64::MAX;
        }
        self.tcp_map.insert(tuple, i);
        self.mark(i);
        i
    }

    fn mark(&mut self, i: usize) {
        if let Some(d) = self.is_dirty.get_mut(i)
            && !*d
        {
            *d = true;
            self.dirty.push(i);
        }
    }

    fn next_ident(&mut self) -> u16 {
        self.ident = self.ident.wrapping_add(1);
        self.ident
    }

    fn next_hop(&self, dst: Ipv4Address) -> Option<Ipv4Address> {
        if self.cfg.addr.contains_addr(dst) || dst.is_broadcast() {
            Some(dst)
        } else {
            self.cfg.gateway
        }
    }

    // ----- ingress -----

    fn ingress(
        &mut self,
        now: Duration,
        reasm: &mut Reassembler<4, 65535, 64>,
        frame: &mut [u8],
        info: RxInfo,
        read: Option<TcpReader<'_>>,
    ) {
        self.stats.rx_frames += 1;
        let Ok((eth, payload)) = unistack_ethif::parse_frame(frame) else {
            self.stats.rx_dropped += 1;
            return;
        };
        if eth.dst != self.cfg.mac && !eth.dst.is_broadcast() {
            self.stats.rx_dropped += 1;
            return;
        }
        match eth.ethertype {
            EtherType::Arp => match ArpRepr::parse_bytes(payload) {
                Ok(arp) => {
                    if let Some(reply) = self.arp.handle(now, &arp) {
                        self.arp_out.push_back(reply);
                    }
                }
                Err(_) => self.stats.rx_dropped += 1,
            },
            EtherType::Ipv4 => {
                self.ingress_ip(now, reasm, payload, info.l4_checksum_valid, read);
            }
            _ => self.stats.rx_dropped += 1,
        }
    }

    /// `l4_valid`: the device vouched for the TCP or UDP checksum ([`RxInfo`]); not for a
    /// fragment, whose datagram's checksum spans other frames.
    fn ingress_ip(
        &mut self,
        now: Duration,
        reasm: &mut Reassembler<4, 65535, 64>,
        bytes: &[u8],
        l4_valid: bool,
        read: Option<TcpReader<'_>>,
    ) {
        let Ok(packet) = Ipv4Packet::new_checked(bytes) else {
            self.stats.rx_dropped += 1;
            return;
        };
        let repr = match Ipv4Repr::parse(&packet, &self.caps) {
            Ok(r) => r,
            Err(unistack_ipv4::Error::BadChecksum) => {
                self.stats.bad_checksums += 1;
                return;
            }
            Err(_) => {
                self.stats.rx_dropped += 1;
                return;
            }
        };
        let ours = repr.dst_addr == self.cfg.addr.address();
        let broadcast =
            repr.dst_addr.is_broadcast() || self.cfg.addr.broadcast() == Some(repr.dst_addr);
        if !ours && !broadcast {
            self.stats.rx_dropped += 1;
            return;
        }
        let payload = packet.payload();
        if repr.is_fragment() {
            match reasm.accept(now, &repr, payload) {
                Ok(Some(whole)) => {
                    let (r, p) = (whole.repr, whole.payload);
                    self.deliver(now, &r, p, bytes, broadcast, false, read);
                }
                Ok(None) => {}
                Err(_) => self.stats.rx_dropped += 1,
            }
            return;
        }
        self.deliver(now, &repr, payload, bytes, broadcast, l4_valid, read);
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one per-packet call; a struct of them would be built and taken apart per frame"
    )]
    fn deliver(
        &mut self,
        now: Duration,
        ip: &Ipv4Repr<'_>,
        payload: &[u8],
        datagram: &[u8],
        broadcast: bool,
        l4_valid: bool,
        read: Option<TcpReader<'_>>,
    ) {
        match ip.protocol {
            Protocol::Icmp => self.ingress_icmp(ip, payload, broadcast),
            Protocol::Udp => self.ingress_udp(now, ip, payload, datagram, broadcast, l4_valid),
            Protocol::Tcp if !broadcast => self.ingress_tcp(now, ip, payload, l4_valid, read),
            _ => {
                self.stats.rx_dropped += 1;
            }
        }
    }

    fn ingress_icmp(&mut self, ip: &Ipv4Repr<'_>, payload: &[u8], broadcast: bool) {
        let Ok(packet) = Icmpv4Packet::new_checked(payload) else {
            self.stats.rx_dropped += 1;
            return;
        };
        let Ok(icmp) = Icmpv4Repr::parse(&packet, &self.caps) else {
            self.stats.rx_dropped += 1;
            return;
        };
        if broadcast || !matches!(icmp, Icmpv4Repr::EchoRequest { .. }) {
            return;
        }
        let cfg = EchoConfig {
            addr: self.cfg.addr.address(),
            ttl: self.cfg.ttl,
            caps: self.caps,
        };
        let mut out = vec![0u8; IP_HEADER + payload.len()];
        let ident = self.next_ident();
        if let Ok(n) = unistack_ipv4::echo_reply(&cfg, ip, &icmp, ident, &mut out) {
            out.truncate(n);
            self.ip_out.push_back(out);
            self.stats.echo_replies += 1;
        }
    }

    fn ingress_udp(
        &mut self,
        now: Duration,
        ip: &Ipv4Repr<'_>,
        payload: &[u8],
        datagram: &[u8],
        broadcast: bool,
        l4_valid: bool,
    ) {
        let Ok(packet) = UdpPacket::new_checked(payload) else {
            self.stats.rx_dropped += 1;
            return;
        };
        let mut caps = self.caps;
        if l4_valid {
            caps.udp = Checksum::None;
        }
        let repr = match UdpRepr::parse(&packet, ip.src_addr, ip.dst_addr, &caps) {
            Ok(r) => r,
            Err(_) => {
                self.stats.bad_checksums += 1;
                return;
            }
        };
        let data = packet.payload();
        match self
            .udp_map
            .get(&repr.dst_port)
            .and_then(|&i| self.udp.get_mut(i))
            .and_then(Option::as_mut)
        {
            Some(sock) => sock.deliver(ip.src_addr, repr.src_port, data),
            None if !broadcast => self.icmp_error(now, ip, datagram),
            None => {}
        }
    }

    /// Port unreachable, rate-limited (RFC 1812 4.3.2.8), never for broadcasts.
    fn icmp_error(&mut self, now: Duration, ip: &Ipv4Repr<'_>, datagram: &[u8]) {
        let (start, count) = self.icmp_window;
        if now.saturating_sub(start) >= Duration::from_secs(1) {
            self.icmp_window = (now, 0);
        } else if count >= self.cfg.icmp_error_rate {
            self.stats.icmp_rate_limited += 1;
            return;
        }
        self.icmp_window.1 += 1;
        let Ok(quote) = Icmpv4Quote::from_datagram(datagram) else {
            return;
        };
        let icmp = Icmpv4Repr::DstUnreachable {
            code: unistack_ipv4::DstUnreachable::PortUnreachable,
            next_hop_mtu: 0,
            quote,
        };
        let mut reply = self.ip_repr(
            self.cfg.addr.address(),
            ip.src_addr,
            Protocol::Icmp,
            icmp.buffer_len(),
        );
        reply.dont_frag = false;
        let mut out = vec![0u8; reply.buffer_len()];
        let (head, body) = out.split_at_mut(IP_HEADER);
        reply.emit(&mut Ipv4Packet::new_unchecked(head), &self.caps);
        icmp.emit(&mut Icmpv4Packet::new_unchecked(body), &self.caps);
        self.ip_out.push_back(out);
        self.stats.icmp_errors += 1;
    }

    fn ingress_tcp(
        &mut self,
        now: Duration,
        ip: &Ipv4Repr<'_>,
        payload: &[u8],
        l4_valid: bool,
        mut read: Option<TcpReader<'_>>,
    ) {
        let Ok(seg) = TcpSegment::new_checked(payload) else {
            self.stats.rx_dropped += 1;
            return;
        };
        let check = if l4_valid {
            Checksum::None
        } else {
            self.caps.tcp
        };
        let Ok(repr) = TcpRepr::parse(&seg, ip.src_addr, ip.dst_addr, check) else {
            self.stats.bad_checksums += 1;
            return;
        };
        let tuple = FourTuple {
            local_addr: ip.dst_addr,
            local_port: repr.dst_port,
            remote_addr: ip.src_addr,
            remote_port: repr.src_port,
        };
        // A congestion mark on the IP header, for a connection that negotiated ECN.
        let ce = ip.ecn == Ecn::Ce;
        if let Some(&i) = self.tcp_map.get(&tuple)
            && self.tcp_segment(i, now, ip, &repr, ce, reborrow(&mut read)) != Outcome::NotMine
        {
            return;
        }
        if let Some(&li) = self.listen_map.get(&repr.dst_port) {
            let Some(Some(entry)) = self.listeners.get_mut(li) else {
                return;
            };
            match entry
                .listener
                .handle_segment(now, ip.src_addr, ip.dst_addr, &repr)
            {
                ListenOutcome::Reply(t) => self.queue_tcp(&t.repr, t.src, t.dst),
                ListenOutcome::Accept(hs) => {
                    let Some(mut sock) = entry.pool.pop() else {
                        self.stats.accept_pool_empty += 1;
                        return;
                    };
                    if sock.accept(now, &hs).is_err() {
                        return;
                    }
                    // Mapped before the completing segment is handled, so that data riding
                    // on it can be read in place like any later segment's.
                    let i = self.insert_tcp(sock);
                    self.tcp_segment(i, now, ip, &repr, ce, read);
                    let handle = TcpHandle(self.tcp_gen.at(i));
                    if let Some(Some(entry)) = self.listeners.get_mut(li) {
                        entry.accepted.push_back(handle);
                    }
                }
                ListenOutcome::NotMine | ListenOutcome::Dropped => {}
            }
            return;
        }
        if let Some(rst) = reset_for(&repr) {
            self.stats.tcp_resets += 1;
            self.queue_tcp(&rst, ip.dst_addr, ip.src_addr);
        }
    }

    /// Hand a segment to the connection in slot `i`, reading its data in place when the
    /// application polls with a reader.
    fn tcp_segment(
        &mut self,
        i: usize,
        now: Duration,
        ip: &Ipv4Repr<'_>,
        repr: &TcpRepr<'_>,
        ce: bool,
        read: Option<TcpReader<'_>>,
    ) -> Outcome {
        let handle = TcpHandle(self.tcp_gen.at(i));
        let Some(Some(s)) = self.tcp.get_mut(i) else {
            return Outcome::NotMine;
        };
        let outcome = match read {
            Some(read) => s.handle_segment_with(
                now,
                ip.src_addr,
                ip.dst_addr,
                repr,
                ce,
                &mut |d: &[u8]| read(handle, d),
            ),
            None => s.handle_segment_ecn(now, ip.src_addr, ip.dst_addr, repr, ce),
        };
        self.mark(i);
        outcome
    }

    /// Queue an owned segment (listener replies, resets) as an IP datagram.
    fn queue_tcp(&mut self, repr: &TcpRepr<'_>, src: Ipv4Address, dst: Ipv4Address) {
        let len = IP_HEADER + repr.buffer_len();
        let mut out = vec![0u8; len];
        let ip = self.ip_repr(src, dst, Protocol::Tcp, repr.buffer_len());
        let (head, body) = out.split_at_mut(IP_HEADER);
        ip.emit(&mut Ipv4Packet::new_unchecked(head), &self.caps);
        if repr.emit(body, src, dst, self.caps.tcp).is_ok() {
            self.ip_out.push_back(out);
        }
    }

    fn ip_repr(
        &mut self,
        src: Ipv4Address,
        dst: Ipv4Address,
        protocol: Protocol,
        len: usize,
    ) -> Ipv4Repr<'static> {
        let ident = self.next_ident();
        ip_header(src, dst, protocol, len, self.cfg.ttl, ident)
    }

    // ----- egress -----

    fn eth_repr(&self, dst: MacAddress, ethertype: EtherType) -> EthernetRepr {
        EthernetRepr::new(self.cfg.mac, dst, ethertype)
    }

    fn send_ip_owned(
        &mut self,
        now: Duration,
        device: &mut impl Device,
        mac: MacAddress,
        datagram: &[u8],
    ) -> bool {
        let eth = self.eth_repr(mac, EtherType::Ipv4);
        let sent = device
            .transmit(now, ETH_HEADER + datagram.len(), |buf| {
                if let Ok(rest) = eth.emit(buf) {
                    rest.copy_from_slice(datagram);
                }
            })
            .is_some();
        if sent {
            self.stats.tx_frames += 1;
        }
        sent
    }

    fn egress(
        &mut self,
        now: Duration,
        device: &mut impl Device,
        mtu: usize,
        tso_max: usize,
    ) -> bool {
        let mut activity = false;
        self.flush_arp(now, device, &mut activity);
        // Packets whose next hop just resolved, or did not.
        while let Some(ev) = self.arp.poll_event() {
            match ev {
                ArpEvent::Send {
                    mac,
                    packet: Some(p),
                } => {
                    activity |= self.send_ip_owned(now, device, mac, &p);
                }
                ArpEvent::Send { packet: None, .. }
                | ArpEvent::Unreachable { packet: None, .. } => {
                    // Sockets waiting for an address try again.
                    for i in core::mem::take(&mut self.waiting_arp) {
                        self.mark(i);
                    }
                }
                ArpEvent::Unreachable { .. } => self.stats.unresolved += 1,
                _ => {}
            }
        }
        self.flush_ip_out(now, device, &mut activity);
        // UDP: a datagram that fits the MTU and whose next hop is known goes from the
        // socket's ring straight into the device's transmit buffer; the rest (next hop not
        // yet resolved, larger than the MTU) is built as an IP datagram and queued.
        // Sockets take turns at the head of the line: when the device fills, the next poll
        // starts after the socket that last got through, so none is starved.
        let n = self.udp.len();
        for k in 0..n {
            let i = (self.udp_turn + k) % n;
            let Some(mut sock) = self.udp.get_mut(i).and_then(Option::take) else {
                continue;
            };
            let full = self.udp_egress(now, device, mtu, &mut sock, &mut activity);
            if let Some(slot) = self.udp.get_mut(i) {
                *slot = Some(sock);
            }
            if full {
                self.udp_turn = (i + 1) % n;
                break;
            }
        }
        self.flush_ip_out(now, device, &mut activity);
        // Listeners' SYN-ACK retransmissions.
        let mut owned = Vec::new();
        for e in self.listeners.iter_mut().flatten() {
            while let Some(t) = e.listener.poll_transmit(now) {
                owned.push(t);
            }
        }
        for t in owned {
            self.queue_tcp(&t.repr, t.src, t.dst);
        }
        self.flush_ip_out(now, device, &mut activity);
        // TCP sockets with work: the dirty ones and those whose deadline passed.
        while let Some(&Reverse((t, i))) = self.timers.peek() {
            if t > now {
                break;
            }
            self.timers.pop();
            self.mark(i);
        }
        let dirty = core::mem::take(&mut self.dirty);
        for &i in &dirty {
            if let Some(d) = self.is_dirty.get_mut(i) {
                *d = false;
            }
            activity |= self.egress_socket(now, device, mtu, tso_max, i);
        }
        // Keep the newly marked (e.g. by an ARP answer) and reuse the allocation.
        let mut dirty = dirty;
        dirty.clear();
        dirty.append(&mut self.dirty);
        self.dirty = dirty;
        self.flush_arp(now, device, &mut activity);
        activity
    }

    /// ARP replies, then requests and retries from the cache.
    fn flush_arp(&mut self, now: Duration, device: &mut impl Device, activity: &mut bool) {
        while let Some(arp) = self
            .arp_out
            .pop_front()
            .or_else(|| self.arp.poll_transmit(now))
        {
            let dst = if arp.target_mac.is_unspecified() {
                MacAddress::BROADCAST
            } else {
                arp.target_mac
            };
            let eth = self.eth_repr(dst, EtherType::Arp);
            // Padded to the 60-byte Ethernet minimum.
            let len = (ETH_HEADER + ArpRepr::LEN).max(60);
            let sent = device.transmit(now, len, |buf| {
                if let Ok(rest) = eth.emit(buf) {
                    let _ = arp.emit_bytes(rest);
                }
            });
            if sent.is_some() {
                self.stats.tx_frames += 1;
                *activity = true;
            }
        }
    }

    /// Send what a UDP socket queued; true when the device took no more frames (the rest
    /// waits in the socket's ring).
    fn udp_egress(
        &mut self,
        now: Duration,
        device: &mut impl Device,
        mtu: usize,
        sock: &mut UdpSocket<'a>,
        activity: &mut bool,
    ) -> bool {
        while let Some((data, dst, dst_port)) = sock.peek_tx() {
            let udp = UdpRepr {
                src_port: sock.port(),
                dst_port,
                payload_len: data.len(),
            };
            let len = IP_HEADER + udp.buffer_len();
            let src = self.cfg.addr.address();
            let mac = match self.next_hop(dst) {
                Some(hop) if len <= mtu => self.arp.lookup(now, hop.octets()),
                _ => None,
            };
            if let Some(mac) = mac {
                // Datagrams this pass queued before (fragments) leave first: a socket's
                // datagrams keep their order.
                if !self.ip_out.is_empty() {
                    self.flush_ip_out(now, device, activity);
                }
                let ip = self.ip_repr(src, dst, Protocol::Udp, udp.buffer_len());
                let eth = self.eth_repr(mac, EtherType::Ipv4);
                let caps = &self.caps;
                let sent = device.transmit(now, ETH_HEADER + len, |buf| {
                    let Ok(rest) = eth.emit(buf) else {
                        return;
                    };
                    let (head, body) = rest.split_at_mut(IP_HEADER.min(rest.len()));
                    udp.emit(&mut UdpPacket::new_unchecked(body), src, dst, caps, |p| {
                        p.copy_from_slice(data);
                    });
                    ip.emit(&mut Ipv4Packet::new_unchecked(head), caps);
                });
                if sent.is_none() {
                    return true;
                }
                self.stats.tx_frames += 1;
                *activity = true;
            } else {
                self.queue_udp(src, dst, &udp, data, mtu);
            }
            sock.pop_tx();
        }
        false
    }

    /// Build a UDP datagram as an owned IP datagram (fragments beyond the MTU) and queue it
    /// for the next hop's resolution.
    fn queue_udp(
        &mut self,
        src: Ipv4Address,
        dst: Ipv4Address,
        udp: &UdpRepr,
        data: &[u8],
        mtu: usize,
    ) {
        if IP_HEADER + udp.buffer_len() > usize::from(u16::MAX) {
            self.stats.tx_too_large += 1;
            return;
        }
        let mut ip = self.ip_repr(src, dst, Protocol::Udp, udp.buffer_len());
        let mut out = vec![0u8; IP_HEADER + udp.buffer_len()];
        let (_, body) = out.split_at_mut(IP_HEADER);
        udp.emit(
            &mut UdpPacket::new_unchecked(body),
            src,
            dst,
            &self.caps,
            |p| p.copy_from_slice(data),
        );
        if out.len() <= mtu {
            let (head, _) = out.split_at_mut(IP_HEADER);
            ip.emit(&mut Ipv4Packet::new_unchecked(head), &self.caps);
            self.ip_out.push_back(out);
            return;
        }
        // Larger than the MTU: fragments (RFC 791), each queued like a datagram.
        ip.dont_frag = false;
        let payload = out.get(IP_HEADER..).unwrap_or_default();
        let Ok(mut frag) = Fragmenter::new(&ip, payload, mtu) else {
            self.stats.tx_too_large += 1;
            return;
        };
        while let Some(len) = frag.next_len() {
            let mut piece = vec![0u8; len];
            if frag.emit_next(&mut piece, &self.caps).is_err() {
                break;
            }
            self.stats.tx_fragments += 1;
            self.ip_out.push_back(piece);
        }
    }

    /// Owned datagrams (echo replies, ICMP errors, listener replies, resets, UDP that could
    /// not go straight out): sent now or queued in the ARP cache until the next hop resolves.
    fn flush_ip_out(&mut self, now: Duration, device: &mut impl Device, activity: &mut bool) {
        while let Some(p) = self.ip_out.pop_front() {
            let dst = Ipv4Packet::new_checked(&p[..])
                .map(|v| v.dst_addr())
                .unwrap_or(Ipv4Address::UNSPECIFIED);
            let Some(hop) = self.next_hop(dst) else {
                self.stats.unresolved += 1;
                continue;
            };
            match self.arp.resolve(now, hop.octets(), Some(p)) {
                Resolve::Ready(mac, Some(p)) => {
                    *activity |= self.send_ip_owned(now, device, mac, &p)
                }
                Resolve::Ready(_, None) | Resolve::Queued { .. } => {}
                Resolve::NoRoom(_) => self.stats.unresolved += 1,
            }
        }
    }

    fn egress_socket(
        &mut self,
        now: Duration,
        device: &mut impl Device,
        mtu: usize,
        tso_max: usize,
        i: usize,
    ) -> bool {
        let Some(Some(sock)) = self.tcp.get(i) else {
            return false;
        };
        if let Some(p) = self.polled.get_mut(i) {
            *p = sock.app_state_key();
        }
        let remote = sock.tuple().remote_addr;
        self.stats.tcp_sockets_visited += 1;
        let Some(hop) = self.next_hop(remote) else {
            return false;
        };
        let Some(mac) = self.arp.lookup(now, hop.octets()) else {
            // Ask for the address; the segments wait in the socket's buffers.
            if !self.waiting_arp.contains(&i) {
                let _ = self.arp.resolve(now, hop.octets(), None);
                self.waiting_arp.push(i);
            }
            return false;
        };
        let mut activity = false;
        let eth = EthernetRepr::new(self.cfg.mac, mac, EtherType::Ipv4);
        let caps = self.caps;
        let ttl = self.cfg.ttl;
        let mut sent = 0u64;
        let mut ident = self.ident;
        let Some(Some(sock)) = self.tcp.get_mut(i) else {
            return false;
        };
        // With TSO, new data leaves in segments of up to the device's limit (headers: IPv4
        // 20 bytes, TCP at most 60), which the device cuts into MSS-sized ones.
        let mss = sock.send_mss();
        let tso = tso_max
            .min(usize::from(u16::MAX))
            .saturating_sub(IP_HEADER + 60);
        sock.set_segment_limit(u16::try_from(tso).unwrap_or(0));
        while let Some(t) = sock.poll_transmit(now) {
            let tcp_len = t.repr.buffer_len();
            let len = ETH_HEADER + IP_HEADER + tcp_len;
            let emit = |buf: &mut [u8], tcp_sum: Checksum| {
                let Ok(rest) = eth.emit(buf) else { return };
                let (head, body) = rest.split_at_mut(IP_HEADER);
                let mut ip = ip_header(
                    t.src,
                    t.dst,
                    Protocol::Tcp,
                    tcp_len,
                    ttl,
                    ident.wrapping_add(1),
                );
                if t.ect {
                    ip.ecn = Ecn::Ect0;
                }
                ip.emit(&mut Ipv4Packet::new_unchecked(head), &caps);
                // The one copy on the send path: send buffer → device buffer.
                let _ = t.repr.emit(body, t.src, t.dst, tcp_sum);
            };
            let ok = if IP_HEADER + tcp_len <= mtu {
                device.transmit(now, len, |buf| emit(buf, caps.tcp))
            } else if IP_HEADER + tcp_len <= tso_max {
                let tso = Tso {
                    mss: u16::try_from(mss).unwrap_or(u16::MAX),
                    header_len: (len - t.repr.payload.len()) as u16,
                };
                // The device checksums each segment it cuts: no pass over the whole here.
                device.transmit_tso(now, len, tso, |buf| emit(buf, Checksum::None))
            } else {
                // The socket's MSS is derived from the same MTU; never happens unless
                // misconfigured. Drop rather than fragment TCP.
                continue;
            };
            ident = ident.wrapping_add(1);
            if ok.is_none() {
                break;
            }
            sent += 1;
            activity = true;
        }
        self.ident = ident;
        self.stats.tx_frames += sent;
        if let Some(Some(sock)) = self.tcp.get(i) {
            // Sending may have moved the state (a FIN out): the key after this poll.
            if let Some(p) = self.polled.get_mut(i) {
                *p = sock.app_state_key();
            }
            if let Some(t) = sock.poll_timeout() {
                self.timers.push(Reverse((t, i)));
            }
            if !sock.is_open() {
                let tuple = sock.tuple();
                if self.tcp_map.get(&tuple) == Some(&i) {
                    self.tcp_map.remove(&tuple);
                }
            }
        }
        activity
    }
}

/// The header of a datagram we originate: no options, DF set, DSCP 0, not-ECT.
fn ip_header(
    src: Ipv4Address,
    dst: Ipv4Address,
    protocol: Protocol,
    payload_len: usize,
    ttl: u8,
    ident: u16,
) -> Ipv4Repr<'static> {
    Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        protocol,
        payload_len,
        ttl,
        dscp: 0,
        ecn: Default::default(),
        ident,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        options: Ipv4Options::EMPTY,
    }
}
