//! `unistack-dnsd`: the authoritative engine ([`unistack_dns::server`]) on kernel sockets.
//!
//! ```text
//! unistack-dnsd --zone [ORIGIN=]FILE [--zone ...] --listen ADDR[:PORT] [--listen ...]
//!               [--udp-payload N] [--tcp-idle SECS] [--max-tcp N]
//!               [--udp-sockets N] [--batch N] [--coalesce-us N]
//! ```
//!
//! Each `--listen` address is served over UDP and TCP on the same port (53 unless given;
//! port 0 picks a free port for both). Once every socket is bound the server prints
//! `listening on ADDR` for each to standard output, one line each, then `ready`. Zone files
//! take their origin from `ORIGIN=`, else from their `$ORIGIN` or first SOA record.
//!
//! One thread per UDP socket answers datagrams in batches: `recvmmsg` takes up to `--batch`
//! datagrams (64 by default; it waits for the first only), the engine answers each, and
//! `sendmmsg` sends the answers, one system call each way per batch instead of one per
//! datagram.
//!
//! Under load the thread lets batches gather. When a batch held more than one datagram but
//! did not fill `--batch`, it sleeps `--coalesce-us` microseconds (50 by default, 0 turns it
//! off; the kernel's timer slack adds up to 50 more) before it asks for the next: the
//! queries that arrive meanwhile queue in the socket without waking it, and their answers
//! leave in one `sendmmsg`, which wakes the client once instead of once per small batch.
//! Each wakeup crosses CPUs, and on a virtual machine that costs microseconds (an
//! inter-processor interrupt is a trap to the hypervisor). A lone query (a batch of one)
//! never waits, so an idle or lightly loaded server answers as soon as a query comes; a busy
//! one adds at most the pause to each answer's latency, in exchange for fewer wakeups on both
//! sides (see `benches/RESULTS.md`: +8-12% queries per CPU-second and more queries per
//! second under dnsperf).
//!
//! `--udp-sockets N` (1 by default) binds N UDP sockets to each address with
//! `SO_REUSEPORT`, each with its thread; the kernel spreads clients over them by address
//! and port. One thread per TCP listener accepts connections, each served by its own
//! thread: several queries per connection (pipelined queries are answered in order), closed
//! after `--tcp-idle` seconds without a query (10 by default), at most `--max-tcp`
//! connections at once (64; more are accepted and closed at once, counted as refused).
//!
//! SIGINT or SIGTERM stops it cleanly: the threads notice within 100 ms (sockets have read
//! timeouts, the listener polls), the counters are printed to standard output and it exits
//! with status 0. A second signal exits at once with status 1. Counters:
//!
//! ```text
//! queries: 12 (udp 10, tcp 2)
//! answers: NOERROR=9 NXDOMAIN=2 REFUSED=1
//! tcp connections: 2 (refused 0)
//! dropped: 0
//! udp batches: 7 (1.4 datagrams each), 1 pauses
//! ```
//!
//! The last line (only when UDP queries came) counts the `recvmmsg` calls that returned
//! datagrams, how much batching the load allowed, and the pauses taken to let a batch
//! gather.
//!
//! The answer counters read each response's header; its OPT record is read (for the extended
//! RCODE) only when the header could hide BADVERS (NOERROR, no answer and no authority
//! records), the only extended code the engine sends.
//!
//! Responses leave with the IPv4 Don't Fragment bit set and the path MTU ignored
//! (`IP_PMTUDISC_PROBE`; on IPv6 the same, so the host never fragments them), as RFC 9715
//! (IP fragmentation avoidance in DNS over UDP) asks of UDP responders: a response too large
//! for a path is lost and the client retries over TCP, instead of arriving in fragments that
//! an off-path attacker can spoof. Ignoring the path MTU also means a forged ICMP "fragmentation
//! needed" cannot shrink what the server may send to a client, and the kernel skips its IP ID
//! search for these datagrams. It needs every response to fit the outgoing interface (a larger
//! one fails with `EMSGSIZE` and counts as dropped), so it is done only while `--udp-payload`
//! is at most 1232 bytes, the default (DNS Flag Day 2020): with its headers that fits IPv6's
//! minimum MTU of 1280, and every IPv4 link of 1260 bytes or more. With a larger
//! `--udp-payload` the sockets keep the kernel's default, which fragments. An IPv6 socket
//! (dual-stack: `--listen [::]` also answers IPv4 clients) gets the IPv4 setting too, which
//! is what its IPv4 traffic follows.
//!
//! Exit status 2 for bad arguments, 1 when a zone does not load or a socket cannot be bound.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::io::{IoSlice, IoSliceMut};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{
    AddressFamily, ControlMessage, MsgFlags, MultiHeaders, SockFlag, SockType, SockaddrStorage,
    recvmmsg, sendmmsg, setsockopt, sockopt,
};
use unistack_dns::server::{Server, ServerConfig, Transport};
use unistack_dns::zone::ParseOptions;
use unistack_dns::{Message, NameBuf, Rcode, TcpDecoder, Zone};

/// How often blocked threads look at the stop flag.
const TICK: Duration = Duration::from_millis(100);

/// The largest `--batch` and `--udp-sockets`.
const MAX_BATCH: usize = 1024;
/// The largest `--coalesce-us`.
const MAX_COALESCE_US: u64 = 10_000;
const MAX_UDP_SOCKETS: usize = 256;

const USAGE: &str = "usage: unistack-dnsd --zone [ORIGIN=]FILE [--zone ...] --listen ADDR[:PORT] \
[--listen ...] [--udp-payload N] [--tcp-idle SECS] [--max-tcp N] [--udp-sockets N] [--batch N] \
[--coalesce-us N]";

struct Args {
    zones: Vec<(Option<String>, PathBuf)>,
    listen: Vec<SocketAddr>,
    udp_payload: u16,
    tcp_idle: Duration,
    max_tcp: usize,
    udp_sockets: usize,
    batch: usize,
    coalesce: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        zones: Vec::new(),
        listen: Vec::new(),
        udp_payload: ServerConfig::default().udp_payload_size,
        tcp_idle: Duration::from_secs(10),
        max_tcp: 64,
        udp_sockets: 1,
        batch: 64,
        coalesce: Duration::from_micros(50),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--zone" => args.zones.push(match value.split_once('=') {
                Some((origin, file)) => (Some(origin.to_owned()), file.into()),
                None => (None, value.into()),
            }),
            "--listen" => args.listen.push(parse_listen(&value)?),
            "--udp-payload" => {
                args.udp_payload = value
                    .parse()
                    .map_err(|_| format!("bad --udp-payload {value}"))?;
            }
            "--tcp-idle" => {
                let secs: f64 = value
                    .parse()
                    .map_err(|_| format!("bad --tcp-idle {value}"))?;
                args.tcp_idle = Duration::try_from_secs_f64(secs)
                    .map_err(|_| format!("bad --tcp-idle {value}"))?;
            }
            "--max-tcp" => {
                args.max_tcp = value
                    .parse()
                    .map_err(|_| format!("bad --max-tcp {value}"))?;
            }
            "--udp-sockets" => {
                args.udp_sockets = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_UDP_SOCKETS).contains(n))
                    .ok_or_else(|| format!("bad --udp-sockets {value} (1 to {MAX_UDP_SOCKETS})"))?;
            }
            "--batch" => {
                args.batch = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_BATCH).contains(n))
                    .ok_or_else(|| format!("bad --batch {value} (1 to {MAX_BATCH})"))?;
            }
            "--coalesce-us" => {
                args.coalesce = value
                    .parse()
                    .ok()
                    .filter(|n| *n <= MAX_COALESCE_US)
                    .map(Duration::from_micros)
                    .ok_or_else(|| format!("bad --coalesce-us {value} (0 to {MAX_COALESCE_US})"))?;
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if args.zones.is_empty() {
        return Err("at least one --zone is needed".into());
    }
    if args.listen.is_empty() {
        return Err("at least one --listen is needed".into());
    }
    Ok(args)
}

/// `ADDR`, `ADDR:PORT`, `[V6]:PORT` or a bare IPv6 address; port 53 when absent.
fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    let bare = s.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("bad --listen address {s}"))
}

fn load_zone(origin: Option<&str>, path: &PathBuf) -> Result<Zone, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let origin = origin
        .map(NameBuf::from_dotted)
        .transpose()
        .map_err(|e| format!("{}: bad origin: {e}", path.display()))?;
    let dir = path.parent().map(PathBuf::from).unwrap_or_default();
    let mut include = |file: &str| -> Result<String, String> {
        std::fs::read_to_string(dir.join(file)).map_err(|e| e.to_string())
    };
    Zone::parse_with(
        &text,
        ParseOptions {
            origin,
            include: Some(&mut include),
            ..ParseOptions::default()
        },
    )
    .map_err(|e| format!("{}: {e}", path.display()))
}

/// What one thread counted; merged into the totals when it ends.
#[derive(Default)]
struct Counters {
    udp_queries: u64,
    /// `recvmmsg` calls that returned datagrams.
    udp_batches: u64,
    /// Pauses before the next batch (`--coalesce-us`).
    udp_pauses: u64,
    tcp_queries: u64,
    rcodes: BTreeMap<u16, u64>,
    tcp_connections: u64,
    tcp_refused: u64,
    dropped: u64,
}

impl Counters {
    fn merge(&mut self, other: &Counters) {
        self.udp_queries += other.udp_queries;
        self.udp_batches += other.udp_batches;
        self.udp_pauses += other.udp_pauses;
        self.tcp_queries += other.tcp_queries;
        for (rc, n) in &other.rcodes {
            *self.rcodes.entry(*rc).or_default() += n;
        }
        self.tcp_connections += other.tcp_connections;
        self.tcp_refused += other.tcp_refused;
        self.dropped += other.dropped;
    }

    fn answered(&mut self, response: &[u8]) {
        let rcode = Message::new(response).ok().map(|m| {
            // The OPT record carries the high bits; the engine sends them only for BADVERS,
            // whose header says NOERROR with no answer and no authority records. Only then
            // is the message walked to find the OPT record.
            let h = m.header();
            if h.rcode() == Rcode::NoError
                && h.ancount() == 0
                && h.nscount() == 0
                && h.arcount() > 0
            {
                m.extended_rcode().unwrap_or(m.rcode())
            } else {
                m.rcode()
            }
        });
        if let Some(rc) = rcode {
            *self.rcodes.entry(rc.to_raw()).or_default() += 1;
        }
    }

    fn print(&self) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "queries: {} (udp {}, tcp {})",
            self.udp_queries + self.tcp_queries,
            self.udp_queries,
            self.tcp_queries
        );
        let _ = write!(out, "answers:");
        for (rc, n) in &self.rcodes {
            let _ = write!(out, " {}={n}", Rcode::from_raw(*rc));
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "tcp connections: {} (refused {})",
            self.tcp_connections, self.tcp_refused
        );
        let _ = writeln!(out, "dropped: {}", self.dropped);
        if self.udp_batches > 0 {
            let _ = writeln!(
                out,
                "udp batches: {} ({:.1} datagrams each), {} pauses",
                self.udp_batches,
                self.udp_queries as f64 / self.udp_batches as f64,
                self.udp_pauses
            );
        }
        let _ = out.flush();
    }
}

struct Shared {
    server: Server,
    stop: Arc<AtomicBool>,
    totals: Mutex<Counters>,
    tcp_active: AtomicUsize,
    tcp_idle: Duration,
    max_tcp: usize,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn add(&self, c: &Counters) {
        if let Ok(mut t) = self.totals.lock() {
            t.merge(c);
        }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
    )
}

/// Answer datagrams on `sock`, up to `batch` per system call each way.
fn serve_udp(shared: &Shared, sock: &UdpSocket, batch: usize, coalesce: Duration) {
    let fd = sock.as_raw_fd();
    let mut c = Counters::default();
    // One query and one response buffer per datagram of a batch: the largest UDP payload
    // fits, so nothing is ever cut.
    let mut queries: Vec<Vec<u8>> = (0..batch).map(|_| vec![0u8; 65535]).collect();
    let mut responses: Vec<Vec<u8>> = (0..batch).map(|_| vec![0u8; 65535]).collect();
    let mut lens = vec![0usize; batch];
    let mut peers: Vec<Option<SockaddrStorage>> = vec![None; batch];
    let mut recv_headers = MultiHeaders::<SockaddrStorage>::preallocate(batch, None);
    let mut send_headers = MultiHeaders::<SockaddrStorage>::preallocate(batch, None);
    // What to send: (datagram index, response length).
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(batch);
    while !shared.stopping() {
        // Block (up to the socket's read timeout) for the first datagram, then take what is
        // queued, up to the batch.
        let received = {
            let mut iovs: Vec<[IoSliceMut<'_>; 1]> =
                queries.iter_mut().map(|b| [IoSliceMut::new(b)]).collect();
            match recvmmsg(
                fd,
                &mut recv_headers,
                iovs.iter_mut(),
                MsgFlags::MSG_WAITFORONE,
                None,
            ) {
                Ok(msgs) => {
                    let mut n = 0;
                    for (m, (len, peer)) in msgs.zip(lens.iter_mut().zip(peers.iter_mut())) {
                        *len = m.bytes;
                        *peer = m.address;
                        n += 1;
                    }
                    n
                }
                // A timeout (the stop flag is due a look), a signal, or an ICMP error from
                // an earlier send: the socket is still good.
                Err(_) => continue,
            }
        };
        out.clear();
        c.udp_batches += 1;
        // Start the batch's memory misses together (large zones).
        if received > 1 {
            shared.server.warm(
                queries
                    .iter()
                    .zip(lens.iter())
                    .take(received)
                    .map(|(q, &len)| q.get(..len).unwrap_or_default()),
            );
        }
        for i in 0..received {
            c.udp_queries += 1;
            let (Some(q), Some(r)) = (queries.get(i), responses.get_mut(i)) else {
                continue;
            };
            let query = q
                .get(..lens.get(i).copied().unwrap_or(0))
                .unwrap_or_default();
            match shared.server.handle(query, Transport::Udp, r) {
                Ok(len) if peers.get(i).is_some_and(Option::is_some) => out.push((i, len)),
                _ => c.dropped += 1,
            }
        }
        send_batch(fd, &mut send_headers, &responses, &peers, &out, &mut c);
        // Under load (more than one datagram came, the batch was not full), let the next
        // batch gather before asking for it: see `--coalesce-us`.
        if received > 1 && received < batch && !coalesce.is_zero() {
            c.udp_pauses += 1;
            thread::sleep(coalesce);
        }
    }
    shared.add(&c);
}

/// Send `out` ((datagram, length) pairs of `responses`, to `peers`) with as few `sendmmsg`
/// calls as the kernel allows; a datagram it refuses is counted as dropped and skipped.
fn send_batch(
    fd: std::os::fd::RawFd,
    headers: &mut MultiHeaders<SockaddrStorage>,
    responses: &[Vec<u8>],
    peers: &[Option<SockaddrStorage>],
    out: &[(usize, usize)],
    c: &mut Counters,
) {
    let response = |&(i, len): &(usize, usize)| {
        responses
            .get(i)
            .and_then(|r| r.get(..len))
            .unwrap_or_default()
    };
    let mut start = 0;
    while let Some(rest) = out.get(start..).filter(|r| !r.is_empty()) {
        let iovs: Vec<[IoSlice<'_>; 1]> =
            rest.iter().map(|o| [IoSlice::new(response(o))]).collect();
        let addrs: Vec<Option<SockaddrStorage>> = rest
            .iter()
            .map(|&(i, _)| peers.get(i).copied().flatten())
            .collect();
        let no_cmsgs: [ControlMessage<'_>; 0] = [];
        match sendmmsg(fd, headers, &iovs, &addrs, no_cmsgs, MsgFlags::empty()) {
            Ok(sent) => {
                let n = sent.count();
                for o in rest.iter().take(n) {
                    c.answered(response(o));
                }
                // None sent without an error: give up on the rest rather than spin.
                if n == 0 {
                    c.dropped += rest.len() as u64;
                    return;
                }
                start += n;
            }
            Err(Errno::EINTR) => {}
            // The first datagram was refused: drop it and go on with the others.
            Err(_) => {
                c.dropped += 1;
                start += 1;
            }
        }
    }
}

fn serve_tcp(shared: Arc<Shared>, listener: TcpListener) {
    let mut c = Counters::default();
    let mut conns = Vec::new();
    while !shared.stopping() {
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                // Sleep until a connection is pending, or one tick for the stop flag: a new
                // connection is taken at once, and an idle listener wakes 10 times a second
                // (a fixed 10 ms sleep delayed each accept by up to 10 ms and woke 100 times).
                let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
                let _ = poll(
                    &mut fds,
                    PollTimeout::try_from(TICK).unwrap_or(PollTimeout::ZERO),
                );
                continue;
            }
            Err(_) => {
                // Out of descriptors, or a connection reset before accept: back off a little.
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        if shared.tcp_active.load(Ordering::Relaxed) >= shared.max_tcp {
            c.tcp_refused += 1;
            drop(stream);
            continue;
        }
        c.tcp_connections += 1;
        shared.tcp_active.fetch_add(1, Ordering::Relaxed);
        let sh = Arc::clone(&shared);
        conns.retain(|h: &thread::JoinHandle<()>| !h.is_finished());
        conns.push(thread::spawn(move || {
            let mut c = Counters::default();
            serve_connection(&sh, stream, &mut c);
            sh.add(&c);
            sh.tcp_active.fetch_sub(1, Ordering::Relaxed);
        }));
    }
    for h in conns {
        let _ = h.join();
    }
    shared.add(&c);
}

fn serve_connection(shared: &Shared, mut stream: TcpStream, c: &mut Counters) {
    if stream.set_nonblocking(false).is_err()
        || stream.set_read_timeout(Some(TICK)).is_err()
        // A client that does not read its answers is given up on after the idle time (at
        // least a second: a zero timeout is an error).
        || stream
            .set_write_timeout(Some(shared.tcp_idle.max(Duration::from_secs(1))))
            .is_err()
    {
        return;
    }
    let _ = stream.set_nodelay(true);
    let mut rbuf = vec![0u8; 65537];
    let mut dec = TcpDecoder::new(&mut rbuf);
    let mut out = vec![0u8; 65537];
    let mut last = Instant::now();
    while !shared.stopping() {
        match stream.read(dec.spare_mut()) {
            Ok(0) => return,
            Ok(n) => {
                dec.commit(n);
                last = Instant::now();
            }
            Err(e) if is_timeout(&e) => {
                if last.elapsed() >= shared.tcp_idle {
                    return;
                }
                continue;
            }
            Err(_) => return,
        }
        while let Some(m) = dec.next_message() {
            let Ok(query) = m else {
                c.dropped += 1;
                continue;
            };
            c.tcp_queries += 1;
            let Some(body) = out.get_mut(2..) else { return };
            match shared.server.handle(query, Transport::Tcp, body) {
                Ok(len) => {
                    let Ok(prefix) = unistack_dns::tcp::length_prefix(len) else {
                        c.dropped += 1;
                        continue;
                    };
                    if let Some(p) = out.get_mut(..2) {
                        p.copy_from_slice(&prefix);
                    }
                    let frame = out.get(..2 + len).unwrap_or_default();
                    if stream.write_all(frame).is_err() {
                        c.dropped += 1;
                        return;
                    }
                    c.answered(frame.get(2..).unwrap_or_default());
                }
                Err(_) => c.dropped += 1,
            }
        }
    }
}

/// Bind `udp` UDP sockets and a TCP listener on the same address; with port 0, on the same
/// free port. Several UDP sockets share the port through `SO_REUSEPORT`.
fn bind(
    addr: SocketAddr,
    udp: usize,
    udp_payload: u16,
) -> std::io::Result<(Vec<UdpSocket>, TcpListener)> {
    let mut last = None;
    for _ in 0..32 {
        let first = udp_socket(addr, udp > 1, udp_payload)?;
        let local = first.local_addr()?;
        match TcpListener::bind(local) {
            Ok(tcp) => {
                let mut sockets = vec![first];
                for _ in 1..udp {
                    sockets.push(udp_socket(local, true, udp_payload)?);
                }
                return Ok((sockets, tcp));
            }
            Err(e) if addr.port() == 0 && e.kind() == ErrorKind::AddrInUse => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| ErrorKind::AddrInUse.into()))
}

/// The largest `--udp-payload` for which responses leave unfragmented (see the crate docs).
const UNFRAGMENTED_PAYLOAD: u16 = 1232;

/// A UDP socket bound to `addr`, with `SO_REUSEPORT` set before binding if `reuse_port`, that
/// sends without fragmenting when responses are at most [`UNFRAGMENTED_PAYLOAD`] bytes.
fn udp_socket(addr: SocketAddr, reuse_port: bool, udp_payload: u16) -> std::io::Result<UdpSocket> {
    let socket = reuse_port_socket(addr, reuse_port)?;
    use rustix::net::sockopt;
    if udp_payload <= UNFRAGMENTED_PAYLOAD {
        // IPv4 traffic follows the IPv4 option, on an IPv6 socket too (v4-mapped peers).
        sockopt::set_ip_mtu_discover(&socket, sockopt::Ipv4PathMtuDiscovery::PROBE)?;
        if addr.is_ipv6() {
            sockopt::set_ipv6_mtu_discover(&socket, sockopt::Ipv6PathMtuDiscovery::PROBE)?;
        }
    }
    Ok(socket)
}

fn reuse_port_socket(addr: SocketAddr, reuse_port: bool) -> std::io::Result<UdpSocket> {
    if !reuse_port {
        return UdpSocket::bind(addr);
    }
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let fd = nix::sys::socket::socket(family, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)?;
    setsockopt(&fd, sockopt::ReusePort, &true)?;
    nix::sys::socket::bind(fd.as_raw_fd(), &SockaddrStorage::from(addr))?;
    Ok(UdpSocket::from(fd))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("unistack-dnsd: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut server = Server::new(ServerConfig {
        udp_payload_size: args.udp_payload,
    });
    for (origin, path) in &args.zones {
        let zone = match load_zone(origin.as_deref(), path) {
            Ok(z) => z,
            Err(e) => {
                eprintln!("unistack-dnsd: {e}");
                return ExitCode::from(1);
            }
        };
        let apex = zone.origin().to_string();
        if let Err(e) = server.add_zone(zone) {
            eprintln!("unistack-dnsd: {}: {apex}: {e}", path.display());
            return ExitCode::from(1);
        }
    }

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // The first signal asks for a clean stop; a second one (flag already set) exits.
        let registered = signal_hook::flag::register_conditional_shutdown(sig, 1, stop.clone())
            .and_then(|_| signal_hook::flag::register(sig, stop.clone()));
        if let Err(e) = registered {
            eprintln!("unistack-dnsd: cannot handle signal {sig}: {e}");
            return ExitCode::from(1);
        }
    }

    let mut sockets = Vec::new();
    for addr in &args.listen {
        match bind(*addr, args.udp_sockets, args.udp_payload) {
            Ok(pair) => sockets.push(pair),
            Err(e) => {
                eprintln!("unistack-dnsd: cannot listen on {addr}: {e}");
                return ExitCode::from(1);
            }
        }
    }
    let shared = Arc::new(Shared {
        server,
        stop,
        totals: Mutex::new(Counters::default()),
        tcp_active: AtomicUsize::new(0),
        tcp_idle: args.tcp_idle,
        max_tcp: args.max_tcp,
    });

    let mut threads = Vec::new();
    {
        let mut out = std::io::stdout().lock();
        for (udp, tcp) in sockets {
            let local = udp.first().and_then(|u| u.local_addr().ok());
            if tcp.set_nonblocking(true).is_err() {
                eprintln!("unistack-dnsd: cannot set up the sockets");
                return ExitCode::from(1);
            }
            for u in udp {
                if u.set_read_timeout(Some(TICK)).is_err() {
                    eprintln!("unistack-dnsd: cannot set up the sockets");
                    return ExitCode::from(1);
                }
                let sh = Arc::clone(&shared);
                let (batch, coalesce) = (args.batch, args.coalesce);
                threads.push(thread::spawn(move || serve_udp(&sh, &u, batch, coalesce)));
            }
            let sh = Arc::clone(&shared);
            threads.push(thread::spawn(move || serve_tcp(sh, tcp)));
            if let Some(local) = local {
                let _ = writeln!(out, "listening on {local}");
            }
        }
        let _ = writeln!(out, "ready");
        let _ = out.flush();
    }

    while !shared.stopping() {
        thread::sleep(TICK / 2);
    }
    for t in threads {
        let _ = t.join();
    }
    match shared.totals.lock() {
        Ok(t) => t.print(),
        Err(_) => return ExitCode::from(1),
    }
    ExitCode::SUCCESS
}
