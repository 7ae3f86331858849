//! A DNS client socket: the dns crate's sans-IO stub resolver ([`Resolver`]) wired to an
//! [`Interface`]'s UDP and TCP sockets.
//!
//! [`DnsSocket::start`] a lookup, call [`DnsSocket::poll`] after each
//! [`Interface::poll`], and take results from [`DnsSocket::poll_event`]. Every transmission
//! leaves from its own UDP port (the resolver's random source port, RFC 5452), bound for
//! the transmission and unbound once its lookups are over or the retry schedule has run out;
//! a truncated response (TC) is asked again over TCP, one connection per query, as the
//! resolver says. Everything a response must match to be taken (server, port, ID, question)
//! is the resolver's check. IPv6 servers are skipped (the stack is IPv4-only): their
//! transmissions time out and the schedule moves on.

use alloc::vec;
use alloc::vec::Vec;
use core::net::{IpAddr, SocketAddr};
use core::time::Duration;

use unistack_dns::RecordType;
use unistack_dns::ToName;
use unistack_dns::resolver::{
    Event, QueryId, Random, Resolver, ResolverConfig, StartError, Transport,
};
use unistack_dns::tcp::TcpDecoder;
use unistack_ipv4::Ipv4Address;
use unistack_tcp::{Config, RecvError, Socket};

use crate::iface::{Interface, TcpHandle, UdpHandle};
use crate::udp::{PacketRing, UdpSocket};

/// Datagrams a transmission's UDP socket queues.
const UDP_QUEUE: usize = 4;
/// Send and receive buffer of a TCP query connection (a response is at most 64 KiB + 2).
const TCP_BUFFER: usize = 65_538;

/// One UDP port in use for transmissions.
#[derive(Debug)]
struct Port {
    port: u16,
    handle: UdpHandle,
    /// Unbind after this time (the longest the resolver may still take an answer on it).
    until: Duration,
}

/// One TCP connection carrying one query.
#[derive(Debug)]
struct TcpQuery {
    query: QueryId,
    server: SocketAddr,
    handle: TcpHandle,
    /// The framed query not yet written.
    out: Vec<u8>,
    /// The response bytes so far.
    input: Vec<u8>,
}

/// Counters of a [`DnsSocket`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DnsSocketStats {
    /// UDP datagrams sent.
    pub udp_sent: u64,
    /// UDP datagrams received on a transmission's port.
    pub udp_received: u64,
    /// Responses the resolver ignored (forged, late, malformed).
    pub ignored: u64,
    /// TCP connections opened (after a truncated answer).
    pub tcp_connections: u64,
    /// Transmissions not sent: an IPv6 server, no free port, or a full queue.
    pub not_sent: u64,
}

/// A stub resolver on an [`Interface`]. `R` is its random source (IDs, ports).
pub struct DnsSocket<R: Random> {
    resolver: Resolver<R>,
    ports: Vec<Port>,
    tcp: Vec<TcpQuery>,
    /// The longest a UDP transmission's answer is waited for.
    linger: Duration,
    next_tcp_port: u16,
    stats: DnsSocketStats,
}

impl<R: Random> core::fmt::Debug for DnsSocket<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DnsSocket")
            .field("ports", &self.ports)
            .field("tcp", &self.tcp)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<R: Random> DnsSocket<R> {
    /// A socket asking `config.servers`, with `rng` for query IDs and source ports.
    pub fn new(config: ResolverConfig, mut rng: R) -> Self {
        let linger =
            config.timeouts.iter().copied().max().unwrap_or_default() + Duration::from_secs(1);
        let next_tcp_port = 49_152 + (rng.next_u32() % 16_384) as u16;
        DnsSocket {
            resolver: Resolver::new(config, rng),
            ports: Vec::new(),
            tcp: Vec::new(),
            linger,
            next_tcp_port,
            stats: DnsSocketStats::default(),
        }
    }

    /// The resolver (its settings, counters and cache).
    pub fn resolver(&mut self) -> &mut Resolver<R> {
        &mut self.resolver
    }

    /// Counters.
    pub fn stats(&self) -> DnsSocketStats {
        self.stats
    }

    /// Look up `name`'s `qtype` records (class IN); the result comes from
    /// [`poll_event`](Self::poll_event) (at once for a cached answer).
    ///
    /// # Errors
    /// As [`Resolver::start`].
    pub fn start<N: ToName + ?Sized>(
        &mut self,
        now: Duration,
        name: &N,
        qtype: RecordType,
    ) -> Result<QueryId, StartError> {
        self.resolver.start(now, name, qtype)
    }

    /// Stop a lookup; no event will come for it.
    pub fn cancel(&mut self, query: QueryId) -> bool {
        self.resolver.cancel(query)
    }

    /// The next result.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.resolver.poll_event()
    }

    /// When to call [`poll`](Self::poll) again at the latest.
    pub fn poll_at(&self) -> Option<Duration> {
        let unbind = self.ports.iter().map(|p| p.until).min();
        [self.resolver.poll_timeout(), unbind]
            .into_iter()
            .flatten()
            .min()
    }

    /// UDP ports and TCP connections held for transmissions.
    pub fn sockets_in_use(&self) -> usize {
        self.ports.len() + self.tcp.len()
    }

    /// Lookups in progress.
    pub fn in_flight(&self) -> usize {
        self.resolver.in_flight()
    }

    /// Send what the resolver asks for, hand it what arrived, run its timers, and release
    /// ports and connections no longer needed. Returns whether anything happened.
    pub fn poll(&mut self, now: Duration, iface: &mut Interface<'_>) -> bool {
        let mut activity = false;
        // Responses first: they may end lookups before their retransmissions go out.
        for p in &self.ports {
            let (resolver, stats) = (&mut self.resolver, &mut self.stats);
            while iface
                .udp(p.handle)
                .and_then(|s| {
                    s.recv_with(|data, addr, port| {
                        let from = SocketAddr::from((addr.octets(), port));
                        stats.udp_received += 1;
                        if resolver.handle_response(now, from, p.port, data).is_err() {
                            stats.ignored += 1;
                        }
                    })
                })
                .is_some()
            {
                activity = true;
            }
        }
        activity |= self.poll_tcp(now, iface);
        self.resolver.handle_timeout(now);
        // The largest response a server may send over UDP: what our OPT record advertises,
        // else 512 bytes (RFC 1035 2.3.4).
        let response_max = self
            .resolver
            .config()
            .udp_payload_size
            .map_or(512, |n| usize::from(n).max(512));
        while let Some(t) = self.resolver.poll_transmit(now) {
            activity = true;
            let SocketAddr::V4(server) = t.server else {
                self.stats.not_sent += 1;
                continue;
            };
            let addr = Ipv4Address(server.ip().octets());
            match t.transport {
                Transport::Udp => {
                    let port = t.local_port;
                    let until = now + self.linger;
                    let handle = match self.ports.iter_mut().find(|p| p.port == port && port != 0) {
                        Some(p) => {
                            p.until = until;
                            Some(p.handle)
                        }
                        None => bind_port(iface, port, response_max).map(|(port, handle)| {
                            self.ports.push(Port {
                                port,
                                handle,
                                until,
                            });
                            handle
                        }),
                    };
                    let sent = handle
                        .and_then(|h| iface.udp(h))
                        .is_some_and(|s| s.send_to(t.bytes, addr, server.port()).is_ok());
                    if sent {
                        self.stats.udp_sent += 1;
                    } else {
                        self.stats.not_sent += 1;
                    }
                }
                Transport::Tcp => {
                    let mut opened = None;
                    for _ in 0..8 {
                        let local = self.next_tcp_port;
                        self.next_tcp_port = local.checked_add(1).unwrap_or(49_152);
                        let sock = Socket::new(
                            vec![0u8; TCP_BUFFER],
                            vec![0u8; t.bytes.len().max(512)],
                            Config::default(),
                        );
                        if let Ok(h) = iface.tcp_connect(now, sock, local, (addr, server.port())) {
                            opened = Some(h);
                            break;
                        }
                    }
                    match opened {
                        Some(handle) => {
                            self.stats.tcp_connections += 1;
                            self.tcp.push(TcpQuery {
                                query: t.query,
                                server: t.server,
                                handle,
                                out: t.bytes.to_vec(),
                                input: Vec::new(),
                            });
                        }
                        None => {
                            let q = t.query;
                            self.stats.not_sent += 1;
                            self.resolver.handle_tcp_error(q);
                        }
                    }
                }
            }
        }
        // Ports whose transmissions can no longer be answered, or all of them when idle.
        let idle = self.resolver.in_flight() == 0;
        self.ports.retain(|p| {
            let keep = !idle && p.until > now;
            if !keep {
                iface.udp_unbind(p.handle);
            }
            keep
        });
        activity
    }

    /// Write queries, read responses, and close connections that are done.
    fn poll_tcp(&mut self, now: Duration, iface: &mut Interface<'_>) -> bool {
        let mut activity = false;
        let mut i = 0;
        while i < self.tcp.len() {
            let c = &mut self.tcp[i];
            let done = match iface.tcp(c.handle) {
                None => true,
                // Refused, reset or closed before an answer.
                Some(s) if s.error().is_some() => true,
                Some(s) => {
                    if !c.out.is_empty() && s.may_send() {
                        let n = s.send_slice(&c.out).unwrap_or(0);
                        c.out.drain(..n);
                        activity |= n > 0;
                    }
                    let mut finished = false;
                    loop {
                        match s.recv_with(|d| {
                            let take = d.len().min(TCP_BUFFER.saturating_sub(c.input.len()));
                            c.input.extend_from_slice(&d[..take]);
                            take
                        }) {
                            Ok(0) => break,
                            Ok(_) => activity = true,
                            Err(RecvError::Finished) | Err(_) => {
                                finished = true;
                                break;
                            }
                        }
                    }
                    finished || !s.is_open() || whole_frame(&c.input)
                }
            };
            if !done {
                i += 1;
                continue;
            }
            let c = self.tcp.swap_remove(i);
            if whole_frame(&c.input) {
                let mut buf = vec![0u8; c.input.len()];
                let mut decoder = TcpDecoder::new(&mut buf);
                decoder.feed(&c.input);
                if self
                    .resolver
                    .handle_tcp(now, c.server, &mut decoder)
                    .is_err()
                {
                    self.stats.ignored += 1;
                }
            }
            // One query per connection. Without an accepted answer the lookup goes on with
            // its schedule (after an answer this changes nothing).
            self.resolver.handle_tcp_error(c.query);
            if let Some(s) = iface.tcp(c.handle) {
                s.close();
            }
            iface.tcp_remove(c.handle);
            activity = true;
        }
        activity
    }
}

/// Whether `input` holds a whole length-prefixed message.
fn whole_frame(input: &[u8]) -> bool {
    match input {
        [hi, lo, rest @ ..] => rest.len() >= usize::from(u16::from_be_bytes([*hi, *lo])),
        _ => false,
    }
}

/// Bind a UDP socket on `port`, or on a free port when `port` is 0 (or taken), with room
/// for [`UDP_QUEUE`] responses of up to `response_max` bytes and as many queries (a ring
/// holds `k` payloads of up to `m` bytes in `(k + 1) × m`: the bytes skipped at its end
/// before a payload that does not fit there are fewer than `m`).
fn bind_port(
    iface: &mut Interface<'_>,
    port: u16,
    response_max: usize,
) -> Option<(u16, UdpHandle)> {
    let socket = || {
        UdpSocket::with_rings(
            PacketRing::with_capacity(UDP_QUEUE, (UDP_QUEUE + 1) * response_max),
            // A query is at most a 255-byte name, its type and class, and an OPT record.
            PacketRing::with_capacity(UDP_QUEUE, (UDP_QUEUE + 1) * 512),
        )
    };
    if port != 0
        && let Ok(h) = iface.udp_bind(port, socket())
    {
        return Some((port, h));
    }
    (49_152..=65_535u16).find_map(|p| iface.udp_bind(p, socket()).ok().map(|h| (p, h)))
}

/// The first IPv4 address of an answer, for callers that want just one.
pub fn first_ipv4(event: &Event) -> Option<Ipv4Address> {
    match event {
        Event::Answer(a) => a.addresses().find_map(|ip| match ip {
            IpAddr::V4(v4) => Some(Ipv4Address(v4.octets())),
            IpAddr::V6(_) => None,
        }),
        Event::Failure(_) => None,
    }
}
