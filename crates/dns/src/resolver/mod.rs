//! A sans-IO stub resolver: names in, queries out, responses in, answers out.
//!
//! The resolver owns no socket, clock or random source. The caller hands it the time (a
//! [`Duration`] since any fixed epoch, monotonic), a [`Random`] source, and every datagram
//! or TCP stream that arrives; it hands back the datagrams to send and the answers.
//!
//! ```
//! use core::time::Duration;
//! use unistack_dns::resolver::{Event, Resolver, ResolverConfig};
//! use unistack_dns::server::{Server, ServerConfig};
//! use unistack_dns::{RecordType, Zone};
//!
//! // An authoritative server stands in for the network.
//! let mut server = Server::new(ServerConfig::default());
//! server.add_zone(Zone::parse("example.com", "
//! @    3600 SOA ns1 hostmaster 1 7200 3600 1209600 300
//!      3600 NS  ns1
//! ns1  3600 A   192.0.2.53
//! www  3600 CNAME web
//! web  600  A   192.0.2.80
//! ")?)?;
//! let upstream = "192.0.2.53:53".parse()?;
//!
//! let mut seed = 0x2545_f491_u32;
//! let rng = move || { seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5; seed };
//! let mut resolver = Resolver::new(ResolverConfig::new([upstream]), rng);
//!
//! let now = Duration::ZERO;
//! let id = resolver.start(now, "www.example.com", RecordType::A)?;
//! // Send what the resolver asks for; here the "network" is the in-process server.
//! let mut out = [0u8; 512];
//! while let Some(t) = resolver.poll_transmit(now) {
//!     let (server_addr, local_port) = (t.server, t.local_port);
//!     let len = server.handle(t.bytes, t.transport, &mut out).expect("answered");
//!     resolver.handle_response(now, server_addr, local_port, &out[..len]).expect("accepted");
//! }
//! let Some(Event::Answer(answer)) = resolver.poll_event() else { panic!("no answer") };
//! assert_eq!(answer.query, id);
//! assert_eq!(answer.canonical.to_string(), "web.example.com.");
//! assert_eq!(answer.addresses().collect::<Vec<_>>(), ["192.0.2.80".parse::<core::net::IpAddr>()?]);
//! assert_eq!(answer.ttl, 600);
//!
//! // The second time comes from the cache, 100 seconds older.
//! resolver.start(Duration::from_secs(100), "WWW.example.com", RecordType::A)?;
//! let Some(Event::Answer(cached)) = resolver.poll_event() else { panic!("no answer") };
//! assert!(cached.from_cache);
//! assert_eq!(cached.ttl, 500);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Call order
//! 1. [`start`](Resolver::start) a lookup: it is answered from the cache at once (an
//!    [`Event`] is queued), or a query is queued for sending.
//! 2. Drain [`poll_transmit`](Resolver::poll_transmit): each [`Transmit`] is one datagram to
//!    send to `server` from UDP port `local_port` (0: any port), or, for
//!    [`Transport::Tcp`], the bytes (length prefix included) to write on a new TCP
//!    connection to `server`.
//! 3. Pass every datagram received to [`handle_response`](Resolver::handle_response) with
//!    the port it arrived on, and every TCP connection's bytes through a [`TcpDecoder`] to
//!    [`handle_tcp`](Resolver::handle_tcp). A TCP connection may be closed once its query's
//!    event came out, or when that query timed out; report one that fails before an answer
//!    with [`handle_tcp_error`](Resolver::handle_tcp_error).
//! 4. Drain [`poll_event`](Resolver::poll_event), then sleep until
//!    [`poll_timeout`](Resolver::poll_timeout) or the next packet, and call
//!    [`handle_timeout`](Resolver::handle_timeout) (which `poll_transmit` also does).
//!
//! Every started lookup ends in exactly one event, an [`Answer`] or a [`Failure`], unless
//! [`cancel`](Resolver::cancel)led.
//!
//! # Validation (RFC 5452)
//! A response is taken only if it comes from a server a query was sent to, over the same
//! transport, to the UDP port it was sent from, with the ID of that transmission (each
//! transmission has a fresh random ID and, by default, a random source port in 1024..=65535),
//! and its question is the one asked: same type and class, and the same name, compared
//! case-insensitively, or byte for byte when the case was randomised
//! ([`ResolverConfig::randomize_case`], "0x20"). A response that passes and is still
//! malformed ([`Message::check`]) is ignored too, so a forged packet can never end a lookup
//! early. [`handle_response`](Resolver::handle_response) tells why it ignored one
//! ([`Ignored`]).
//!
//! # Answers
//! The answer section is walked from the name asked along CNAME records (at most
//! [`ResolverConfig::max_cname`] in all) to the records of the type asked. When a chain
//! ends at a name the response says nothing about (an authoritative server stops at its
//! zone's edge), the resolver asks again for that name. NXDOMAIN and NODATA are answers
//! too, with the SOA record of the authority section. Records of other names, other
//! classes, and the authority and additional sections are otherwise ignored: a stub trusts
//! its recursive server.
//!
//! # Retries
//! Transmission `k` goes over UDP to `servers[k % servers.len()]` and waits
//! `timeouts[k]`; after the last one the lookup fails with [`FailureReason::Timeout`].
//! Answers to earlier transmissions are still taken. A response with TC set sends the query
//! again over TCP to the same server (waiting [`ResolverConfig::tcp_timeout`]; a timeout
//! or a failed connection there goes on with the schedule). SERVFAIL, REFUSED, NOTIMP, FORMERR and other error
//! codes move on to the next transmission at once while there are servers not yet asked,
//! and are the lookup's failure ([`FailureReason::Rcode`]) otherwise.
//!
//! # EDNS(0)
//! Queries carry an OPT record advertising [`ResolverConfig::udp_payload_size`]. A server
//! that answers one with FORMERR or NOTIMP and no OPT record of its own does not speak EDNS
//! (RFC 6891 section 7): the query goes to it again at once without OPT (the schedule does
//! not advance), and the resolver remembers the server, so that later queries to it carry
//! no OPT either ([`Resolver::speaks_edns`], [`ResolverStats::edns_fallbacks`]). Such a
//! FORMERR is taken without a question section, which RFC 1035 servers may leave out of a
//! FORMERR; its ID, source and port must still match. A FORMERR to a query without OPT, or
//! one that carries OPT, is an ordinary error code.
//!
//! # Cache
//! At most [`ResolverConfig::cache_size`] answers, keyed by name and type, each kept for its
//! TTL: the least TTL of the CNAME chain and the records, capped by
//! [`ResolverConfig::max_ttl`]. NXDOMAIN and NODATA are kept per RFC 2308: for the lesser
//! of the SOA record's TTL and its MINIMUM field, capped by
//! [`ResolverConfig::max_negative_ttl`]; a negative answer without an SOA is not kept.
//! NXDOMAIN (without CNAMEs) answers every type of the name. A hit has its TTLs lowered by
//! the time spent in the cache. When full, expired entries go first, then the one closest
//! to expiring.

mod cache;

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt;
use core::net::{IpAddr, SocketAddr};
use core::time::Duration;

use self::cache::Cache;
use crate::message::Message;
use crate::name::{MAX_NAME_LEN, NameBuf, ToName};
use crate::rdata::RData;
use crate::tcp::TcpDecoder;
use crate::wire::{Class, Opcode, Rcode, RecordType};
use crate::zone::ZoneRecord;
use crate::{Edns, Error, MessageBuilder, Section};

pub use crate::server::Transport;

/// A source of random numbers for message IDs, source ports and 0x20 case bits.
///
/// Use a cryptographically strong generator outside tests: the IDs and ports are what
/// keeps off-path attackers from forging answers (RFC 5452). Closures `FnMut() -> u32`
/// implement it.
pub trait Random {
    /// The next 32 random bits.
    fn next_u32(&mut self) -> u32;
}

impl<F: FnMut() -> u32> Random for F {
    fn next_u32(&mut self) -> u32 {
        self()
    }
}

/// Resolver settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverConfig {
    /// The recursive servers, tried in turn.
    pub servers: Vec<SocketAddr>,
    /// The retry schedule: how long to wait after each UDP transmission (its length is the
    /// number of transmissions). Default 1 s, 2 s, 4 s.
    pub timeouts: Vec<Duration>,
    /// How long to wait for an answer over TCP. Default 5 s.
    pub tcp_timeout: Duration,
    /// The EDNS(0) UDP payload size to advertise, or `None` to send no OPT record (responses
    /// are then at most 512 bytes over UDP). Default 1232.
    pub udp_payload_size: Option<u16>,
    /// Randomise the case of the query name's letters ("0x20", draft-vixie-dnsext-dns0x20)
    /// and require the response to echo it exactly. Off by default: some servers do not
    /// preserve case.
    pub randomize_case: bool,
    /// Send each UDP query from a random port in 1024..=65535 ([`Transmit::local_port`]);
    /// off, the port is 0 ("any") and not checked. Default on.
    pub random_source_port: bool,
    /// Set RD (recursion desired). Default on: a stub asks a recursive server.
    pub recursion_desired: bool,
    /// Lookups in progress plus events not yet polled: [`Resolver::start`] refuses more.
    /// Default 64.
    pub max_queries: usize,
    /// Cache entries (0 disables the cache). Default 256.
    pub cache_size: usize,
    /// The longest a positive answer is cached, in seconds. Default one day.
    pub max_ttl: u32,
    /// The longest a negative answer is cached, in seconds. Default three hours (RFC 2308).
    pub max_negative_ttl: u32,
    /// CNAME records followed per lookup, across responses. Default 8.
    pub max_cname: usize,
}

impl ResolverConfig {
    /// The defaults, asking `servers`.
    pub fn new(servers: impl IntoIterator<Item = SocketAddr>) -> Self {
        ResolverConfig {
            servers: servers.into_iter().collect(),
            timeouts: alloc::vec![
                Duration::from_secs(1),
                Duration::from_secs(2),
                Duration::from_secs(4)
            ],
            tcp_timeout: Duration::from_secs(5),
            udp_payload_size: Some(1232),
            randomize_case: false,
            random_source_port: true,
            recursion_desired: true,
            max_queries: 64,
            cache_size: 256,
            max_ttl: 86_400,
            max_negative_ttl: 10_800,
            max_cname: 8,
        }
    }
}

/// A lookup's handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueryId(u64);

impl fmt::Display for QueryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Why [`Resolver::start`] did not start a lookup.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartError {
    /// The name is not a valid domain name.
    BadName(Error),
    /// The type cannot be asked (OPT, AXFR, IXFR, TSIG ...; ANY can).
    BadType,
    /// [`ResolverConfig::servers`] is empty, or [`ResolverConfig::timeouts`] is.
    NoServers,
    /// [`ResolverConfig::max_queries`] lookups and unpolled events are pending.
    TooManyQueries,
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::BadName(e) => write!(f, "bad name: {e}"),
            StartError::BadType => f.write_str("this type cannot be asked"),
            StartError::NoServers => f.write_str("no servers or no retry schedule configured"),
            StartError::TooManyQueries => f.write_str("too many lookups in progress"),
        }
    }
}

impl core::error::Error for StartError {}

impl From<Error> for StartError {
    fn from(e: Error) -> Self {
        StartError::BadName(e)
    }
}

/// Why a response was not taken.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// Shorter than a header, or QR clear.
    NotAResponse,
    /// No transmission in flight matches its source address, port, transport and ID.
    Unmatched,
    /// The question is not the one asked (name, case under 0x20, type, class, count or
    /// opcode).
    WrongQuestion,
    /// It matched a query but is malformed (see [`Message::check`]).
    Malformed,
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ignored::NotAResponse => "not a response",
            Ignored::Unmatched => "no query matches its source, port and ID",
            Ignored::WrongQuestion => "not the question asked",
            Ignored::Malformed => "malformed",
        })
    }
}

impl core::error::Error for Ignored {}

/// One message to send.
#[derive(Debug, PartialEq, Eq)]
pub struct Transmit<'a> {
    /// The lookup it belongs to.
    pub query: QueryId,
    /// Where to send it.
    pub server: SocketAddr,
    /// UDP: one datagram. TCP: open a connection and write the bytes (the two-byte length
    /// prefix is included), then feed what comes back to [`Resolver::handle_tcp`].
    pub transport: Transport,
    /// The UDP source port to send from (0: any; always 0 for TCP).
    pub local_port: u16,
    /// The bytes.
    pub bytes: &'a [u8],
}

/// A lookup's result.
// Events are moved out once each; boxing the answer would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Records, or a negative answer.
    Answer(Answer),
    /// No answer could be had.
    Failure(Failure),
}

impl Event {
    /// The lookup it ends.
    pub fn query(&self) -> QueryId {
        match self {
            Event::Answer(a) => a.query,
            Event::Failure(f) => f.query,
        }
    }
}

/// An answer: records (NOERROR), no records of that type (NODATA: NOERROR and none), or no
/// such name (NXDOMAIN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The lookup.
    pub query: QueryId,
    /// The name asked, as the caller spelt it.
    pub name: NameBuf,
    /// The type asked.
    pub qtype: RecordType,
    /// NOERROR or NXDOMAIN.
    pub rcode: Rcode,
    /// Where the CNAME chain ended (the name asked when there was none).
    pub canonical: NameBuf,
    /// The CNAME records followed, in order.
    pub cnames: Vec<ZoneRecord>,
    /// The records of the type asked (every type for ANY) at the canonical name; empty for
    /// a negative answer.
    pub records: Vec<ZoneRecord>,
    /// The SOA record from a negative answer's authority section.
    pub soa: Option<ZoneRecord>,
    /// How long the answer may be kept, in seconds: the least TTL of the chain and the
    /// records (of the SOA for a negative answer, per RFC 2308), less the time spent in the
    /// cache.
    pub ttl: u32,
    /// The server set AD: it says it validated the data (trust it only over a secure path).
    pub authenticated: bool,
    /// Taken from the cache.
    pub from_cache: bool,
}

impl Answer {
    /// Whether the name does not exist.
    pub fn is_nxdomain(&self) -> bool {
        self.rcode == Rcode::NxDomain
    }

    /// Whether the name exists without records of this type.
    pub fn is_nodata(&self) -> bool {
        self.rcode == Rcode::NoError && self.records.is_empty()
    }

    /// The addresses among the records (A and AAAA).
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.records.iter().filter_map(|r| match r.rdata() {
            Ok(RData::A(a)) => Some(IpAddr::V4(a)),
            Ok(RData::Aaaa(a)) => Some(IpAddr::V6(a)),
            _ => None,
        })
    }

    fn age(&mut self, elapsed: u32) {
        for r in self
            .cnames
            .iter_mut()
            .chain(self.records.iter_mut())
            .chain(self.soa.iter_mut())
        {
            r.set_ttl(r.ttl().saturating_sub(elapsed));
        }
        self.ttl = self.ttl.saturating_sub(elapsed);
    }
}

/// A lookup that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// The lookup.
    pub query: QueryId,
    /// The name asked.
    pub name: NameBuf,
    /// The type asked.
    pub qtype: RecordType,
    /// Why.
    pub reason: FailureReason,
}

/// Why a lookup failed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// No acceptable response before the last timeout of the schedule.
    Timeout,
    /// Every server asked answered with this error code (SERVFAIL, REFUSED ...), or the last
    /// did and the others were silent.
    Rcode(Rcode),
    /// More than [`ResolverConfig::max_cname`] CNAME records (or a loop).
    CnameLimit,
    /// The server sent a referral instead of an answer: it does not recurse.
    Referral,
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureReason::Timeout => f.write_str("timed out"),
            FailureReason::Rcode(r) => write!(f, "server answered {r}"),
            FailureReason::CnameLimit => f.write_str("CNAME chain too long"),
            FailureReason::Referral => f.write_str("referral from a non-recursive server"),
        }
    }
}

/// Counters, for monitoring and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResolverStats {
    /// Lookups started.
    pub lookups: u64,
    /// Lookups answered from the cache (including a CNAME target found there).
    pub cache_hits: u64,
    /// Queries sent over UDP.
    pub udp_sent: u64,
    /// Queries sent over TCP.
    pub tcp_sent: u64,
    /// Responses taken (truncated ones included).
    pub accepted: u64,
    /// Truncated UDP responses (each sends the query again over TCP).
    pub truncated: u64,
    /// Transmissions that timed out.
    pub timeouts: u64,
    /// Responses ignored (see [`Ignored`]).
    pub ignored: u64,
    /// Queries sent again without OPT because a server did not speak EDNS.
    pub edns_fallbacks: u64,
}

/// One transmission of a query.
#[derive(Debug, Clone, Copy)]
struct Sent {
    server: SocketAddr,
    transport: Transport,
    msg_id: u16,
    port: u16,
    /// The question name as sent (its case randomised under 0x20).
    name: NameBuf,
    /// Whether the query carried an OPT record.
    edns: bool,
}

#[derive(Debug)]
struct Lookup {
    id: QueryId,
    name: NameBuf,
    qtype: RecordType,
    /// The name asked now (after following CNAMEs across responses).
    current: NameBuf,
    cnames: Vec<ZoneRecord>,
    /// Index of the current transmission in the schedule.
    attempt: usize,
    sent: Vec<Sent>,
    /// When the transmission in flight times out.
    deadline: Option<Duration>,
    /// A transmission waiting for `poll_transmit`.
    next: Option<(SocketAddr, Transport)>,
    /// Error responses so far, and the last code.
    errors: usize,
    last_error: Option<Rcode>,
}

/// The stub resolver. `R` supplies the random numbers.
pub struct Resolver<R> {
    config: ResolverConfig,
    rng: R,
    next_id: u64,
    lookups: Vec<Lookup>,
    events: VecDeque<Event>,
    cache: Cache,
    stats: ResolverStats,
    /// Servers that answered an OPT record with FORMERR or NOTIMP and no OPT: asked without
    /// one from then on. Only configured servers get here, so it is bounded by their number.
    no_edns: Vec<SocketAddr>,
    /// The message handed out by `poll_transmit`: prefix, header, the longest question and
    /// an OPT record fit.
    buf: [u8; TRANSMIT_LEN],
}

const TRANSMIT_LEN: usize = 2 + 12 + MAX_NAME_LEN + 4 + 11;

impl<R> fmt::Debug for Resolver<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("config", &self.config)
            .field("lookups", &self.lookups.len())
            .field("events", &self.events.len())
            .field("cache", &self.cache.len())
            .field("stats", &self.stats)
            .finish()
    }
}

/// What a response said, once checked.
enum Verdict {
    Answer {
        cnames: Vec<ZoneRecord>,
        canonical: NameBuf,
        records: Vec<ZoneRecord>,
        rcode: Rcode,
        soa: Option<ZoneRecord>,
        authenticated: bool,
    },
    /// The chain leads to a name this response does not answer: ask for it.
    Follow {
        cnames: Vec<ZoneRecord>,
        target: NameBuf,
    },
    Fail(FailureReason),
    Truncated,
    ServerError(Rcode),
    /// FORMERR or NOTIMP without OPT to a query with OPT: the server does not speak EDNS.
    NoEdns,
}

impl<R: Random> Resolver<R> {
    /// A resolver with an empty cache.
    pub fn new(config: ResolverConfig, rng: R) -> Self {
        let cache = Cache::new(config.cache_size);
        Resolver {
            config,
            rng,
            next_id: 0,
            lookups: Vec::new(),
            events: VecDeque::new(),
            cache,
            stats: ResolverStats::default(),
            no_edns: Vec::new(),
            buf: [0; TRANSMIT_LEN],
        }
    }

    /// The settings.
    pub fn config(&self) -> &ResolverConfig {
        &self.config
    }

    /// The counters.
    pub fn stats(&self) -> ResolverStats {
        self.stats
    }

    /// Lookups in progress (not counting unpolled events).
    pub fn in_flight(&self) -> usize {
        self.lookups.len()
    }

    /// Whether queries to `server` carry an OPT record: false once it answered one with
    /// FORMERR or NOTIMP and no OPT (see "EDNS(0)" above), or when EDNS is off.
    pub fn speaks_edns(&self, server: SocketAddr) -> bool {
        self.config.udp_payload_size.is_some() && !self.no_edns.contains(&server)
    }

    /// Answers in the cache, expired ones included until they are evicted.
    pub fn cache_len(&self) -> usize {
        self.cache.len()
    }

    /// Empty the cache.
    pub fn clear_cache(&mut self) {
        self.cache.clear();
    }

    /// Look up `name` (absolute; the final dot is optional) and `qtype`, class IN.
    ///
    /// A cached answer queues its [`Event`] at once; otherwise a query waits for
    /// [`poll_transmit`](Self::poll_transmit).
    ///
    /// # Errors
    /// [`StartError`]; nothing is started then.
    pub fn start<N: ToName + ?Sized>(
        &mut self,
        now: Duration,
        name: &N,
        qtype: RecordType,
    ) -> Result<QueryId, StartError> {
        let name = name.to_name()?;
        if qtype.is_meta() && qtype != RecordType::Any {
            return Err(StartError::BadType);
        }
        if self.config.servers.is_empty() || self.config.timeouts.is_empty() {
            return Err(StartError::NoServers);
        }
        if self.lookups.len() + self.events.len() >= self.config.max_queries {
            return Err(StartError::TooManyQueries);
        }
        let id = QueryId(self.next_id);
        self.next_id += 1;
        self.stats.lookups += 1;
        let mut lookup = Lookup {
            id,
            name,
            qtype,
            current: name,
            cnames: Vec::new(),
            attempt: 0,
            sent: Vec::new(),
            deadline: None,
            next: None,
            errors: 0,
            last_error: None,
        };
        if let Some(answer) = self.cache.get(now, &name, qtype) {
            self.stats.cache_hits += 1;
            self.events.push_back(Event::Answer(Answer {
                query: id,
                name,
                qtype,
                ..answer
            }));
            return Ok(id);
        }
        lookup.next = self.config.servers.first().map(|&s| (s, Transport::Udp));
        self.lookups.push(lookup);
        Ok(id)
    }

    /// Stop a lookup: no event will come for it. Returns whether it was in progress (its
    /// event may already be queued: that one is removed too).
    pub fn cancel(&mut self, query: QueryId) -> bool {
        let before = self.lookups.len() + self.events.len();
        self.lookups.retain(|l| l.id != query);
        self.events.retain(|e| e.query() != query);
        before != self.lookups.len() + self.events.len()
    }

    /// The next message to send, if any (expired timeouts are handled first).
    pub fn poll_transmit(&mut self, now: Duration) -> Option<Transmit<'_>> {
        self.handle_timeout(now);
        let i = self.lookups.iter().position(|l| l.next.is_some())?;
        let msg_id = self.rng.next_u32() as u16;
        let port_bits = self.rng.next_u32();
        let lookup = self.lookups.get_mut(i)?;
        let (server, transport) = lookup.next.take()?;
        let port = match transport {
            Transport::Udp if self.config.random_source_port => {
                // 1024..=65535, near enough uniformly.
                (1024 + ((u64::from(port_bits) * (65536 - 1024)) >> 32)) as u16
            }
            _ => 0,
        };
        let name = if self.config.randomize_case {
            randomize_case(&lookup.current, &mut self.rng)
        } else {
            lookup.current
        };
        let wait = match transport {
            Transport::Udp => {
                self.stats.udp_sent += 1;
                self.config
                    .timeouts
                    .get(lookup.attempt)
                    .copied()
                    .unwrap_or(Duration::ZERO)
            }
            Transport::Tcp => {
                self.stats.tcp_sent += 1;
                self.config.tcp_timeout
            }
        };
        lookup.deadline = Some(now.saturating_add(wait));
        let payload = self
            .config
            .udp_payload_size
            .filter(|_| !self.no_edns.contains(&server));
        lookup.sent.push(Sent {
            server,
            transport,
            msg_id,
            port,
            name,
            edns: payload.is_some(),
        });
        let (query, qtype) = (lookup.id, lookup.qtype);
        let start = match transport {
            Transport::Udp => 0,
            Transport::Tcp => 2,
        };
        let len = build_query(
            self.buf.get_mut(start..)?,
            msg_id,
            &name,
            qtype,
            self.config.recursion_desired,
            payload,
        )?;
        if transport == Transport::Tcp {
            let prefix = crate::tcp::length_prefix(len).ok()?;
            self.buf.get_mut(..2)?.copy_from_slice(&prefix);
        }
        Some(Transmit {
            query,
            server,
            transport,
            local_port: port,
            bytes: self.buf.get(..start + len)?,
        })
    }

    /// The next result, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next: the earliest
    /// deadline of a transmission in flight.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.lookups.iter().filter_map(|l| l.deadline).min()
    }

    /// Act on every deadline at or before `now`: send again (the next step of the schedule)
    /// or fail the lookup.
    pub fn handle_timeout(&mut self, now: Duration) {
        let mut i = 0;
        while let Some(l) = self.lookups.get_mut(i) {
            if l.deadline.is_some_and(|d| d <= now) {
                l.deadline = None;
                self.stats.timeouts += 1;
                if !self.next_attempt(i) {
                    continue;
                }
            }
            i += 1;
        }
    }

    /// Take a UDP datagram from `from` that arrived on local port `local_port`.
    ///
    /// # Errors
    /// [`Ignored`] when it is not an acceptable response to a query in flight (nothing
    /// changes then, apart from [`ResolverStats::ignored`]).
    pub fn handle_response(
        &mut self,
        now: Duration,
        from: SocketAddr,
        local_port: u16,
        bytes: &[u8],
    ) -> Result<(), Ignored> {
        self.handle(now, from, local_port, Transport::Udp, bytes)
    }

    /// Take every whole message buffered in `decoder`, which reassembles the stream of a
    /// TCP connection to `from`. Returns the results of those messages that were ignored
    /// (a frame too large for the decoder counts as [`Ignored::Malformed`]).
    pub fn handle_tcp(
        &mut self,
        now: Duration,
        from: SocketAddr,
        decoder: &mut TcpDecoder<'_>,
    ) -> Result<(), Ignored> {
        let mut result = Ok(());
        while let Some(m) = decoder.next_message() {
            let r = match m {
                Ok(bytes) => self.handle(now, from, 0, Transport::Tcp, bytes),
                Err(_) => {
                    self.stats.ignored += 1;
                    Err(Ignored::Malformed)
                }
            };
            if r.is_err() {
                result = r;
            }
        }
        result
    }

    /// Report that the TCP connection for `query` failed (refused, reset, or closed before
    /// an answer): the lookup goes on with its schedule at once instead of waiting for the
    /// TCP timeout. Returns whether the lookup was waiting on TCP (otherwise nothing
    /// changes).
    pub fn handle_tcp_error(&mut self, query: QueryId) -> bool {
        let Some(i) = self.lookups.iter().position(|l| l.id == query) else {
            return false;
        };
        let waiting = self.lookups.get(i).is_some_and(|l| {
            l.deadline.is_some() && l.sent.last().is_some_and(|s| s.transport == Transport::Tcp)
        });
        if waiting {
            if let Some(l) = self.lookups.get_mut(i) {
                l.deadline = None;
            }
            self.next_attempt(i);
        }
        waiting
    }

    /// Take one whole message received over TCP from `from` (without its length prefix).
    ///
    /// # Errors
    /// As [`handle_response`](Self::handle_response).
    pub fn handle_tcp_message(
        &mut self,
        now: Duration,
        from: SocketAddr,
        bytes: &[u8],
    ) -> Result<(), Ignored> {
        self.handle(now, from, 0, Transport::Tcp, bytes)
    }

    fn handle(
        &mut self,
        now: Duration,
        from: SocketAddr,
        local_port: u16,
        transport: Transport,
        bytes: &[u8],
    ) -> Result<(), Ignored> {
        let r = self.judge(from, local_port, transport, bytes);
        let (i, verdict) = match r {
            Ok(v) => v,
            Err(e) => {
                self.stats.ignored += 1;
                return Err(e);
            }
        };
        self.stats.accepted += 1;
        let Some(l) = self.lookups.get_mut(i) else {
            return Ok(());
        };
        match verdict {
            Verdict::Truncated => {
                self.stats.truncated += 1;
                // Once per server: a second truncated answer (a duplicate, or the answer to
                // a retransmission) does not open another connection.
                let on_tcp = l.next.is_some_and(|(_, t)| t == Transport::Tcp)
                    || l.sent
                        .iter()
                        .any(|s| s.transport == Transport::Tcp && s.server == from);
                if !on_tcp {
                    l.deadline = None;
                    l.next = Some((from, Transport::Tcp));
                }
            }
            Verdict::ServerError(rcode) => {
                l.errors += 1;
                l.last_error = Some(rcode);
                l.deadline = None;
                if l.errors < self.config.servers.len() {
                    self.next_attempt(i);
                } else {
                    self.finish(i, Err(FailureReason::Rcode(rcode)), now);
                }
            }
            Verdict::NoEdns => {
                self.stats.edns_fallbacks += 1;
                if !self.no_edns.contains(&from) {
                    self.no_edns.push(from);
                }
                l.deadline = None;
                l.next = Some((from, transport));
            }
            Verdict::Fail(reason) => self.finish(i, Err(reason), now),
            Verdict::Follow { cnames, target } => {
                l.cnames.extend(cnames);
                l.current = target;
                l.sent.clear();
                l.deadline = None;
                l.attempt = 0;
                l.errors = 0;
                l.last_error = None;
                // The rest of the chain may be cached.
                if let Some(rest) = self.cache.get(now, &target, l.qtype) {
                    self.stats.cache_hits += 1;
                    let mut cnames = core::mem::take(&mut l.cnames);
                    cnames.extend(rest.cnames);
                    let answer = Answer {
                        query: l.id,
                        name: l.name,
                        qtype: l.qtype,
                        cnames,
                        from_cache: false,
                        ..rest
                    };
                    self.finish(i, Ok(answer), now);
                } else {
                    l.next = self.config.servers.first().map(|&s| (s, Transport::Udp));
                }
            }
            Verdict::Answer {
                cnames,
                canonical,
                records,
                rcode,
                soa,
                authenticated,
            } => {
                let mut all = core::mem::take(&mut l.cnames);
                all.extend(cnames);
                let answer = Answer {
                    query: l.id,
                    name: l.name,
                    qtype: l.qtype,
                    rcode,
                    canonical,
                    cnames: all,
                    records,
                    soa,
                    ttl: 0,
                    authenticated,
                    from_cache: false,
                };
                self.finish(i, Ok(answer), now);
            }
        }
        Ok(())
    }

    /// Move lookup `i` to its next transmission, or fail it; returns whether it is still in
    /// progress.
    fn next_attempt(&mut self, i: usize) -> bool {
        let servers = &self.config.servers;
        let Some(l) = self.lookups.get_mut(i) else {
            return false;
        };
        l.attempt += 1;
        if l.attempt < self.config.timeouts.len() && !servers.is_empty() {
            let server = servers.get(l.attempt % servers.len()).copied();
            l.next = server.map(|s| (s, Transport::Udp));
            return true;
        }
        let reason = l
            .last_error
            .map_or(FailureReason::Timeout, FailureReason::Rcode);
        self.finish(i, Err(reason), Duration::ZERO);
        false
    }

    /// End lookup `i` with an answer (cached) or a failure.
    fn finish(&mut self, i: usize, result: Result<Answer, FailureReason>, now: Duration) {
        if i >= self.lookups.len() {
            return;
        }
        let l = self.lookups.swap_remove(i);
        let event = match result {
            Ok(mut answer) => {
                let negative = answer.records.is_empty();
                let soa_ttl = answer.soa.as_ref().map(|s| match s.rdata() {
                    Ok(RData::Soa(soa)) => s.ttl().min(soa.minimum),
                    _ => 0,
                });
                let records_ttl = if negative {
                    soa_ttl
                } else {
                    answer.records.iter().map(ZoneRecord::ttl).min()
                };
                let chain_ttl = answer.cnames.iter().map(ZoneRecord::ttl).min();
                let ttl = match (records_ttl, chain_ttl) {
                    (Some(a), Some(b)) => a.min(b),
                    (Some(a), None) => a,
                    // A negative answer without an SOA: not cacheable.
                    (None, _) => 0,
                };
                let cap = if negative {
                    self.config.max_negative_ttl
                } else {
                    self.config.max_ttl
                };
                answer.ttl = ttl.min(cap);
                if answer.ttl > 0 {
                    // NXDOMAIN for the name asked covers every type (RFC 2308 5).
                    let any_type = answer.is_nxdomain() && answer.cnames.is_empty();
                    self.cache.insert(now, &l.name, l.qtype, any_type, &answer);
                }
                Event::Answer(answer)
            }
            Err(reason) => Event::Failure(Failure {
                query: l.id,
                name: l.name,
                qtype: l.qtype,
                reason,
            }),
        };
        self.events.push_back(event);
    }

    /// Check a response against the transmissions in flight: which lookup, and what it says.
    fn judge(
        &self,
        from: SocketAddr,
        local_port: u16,
        transport: Transport,
        bytes: &[u8],
    ) -> Result<(usize, Verdict), Ignored> {
        let msg = Message::new(bytes).map_err(|_| Ignored::NotAResponse)?;
        if !msg.is_response() {
            return Err(Ignored::NotAResponse);
        }
        let id = msg.id();
        let (i, lookup, sent) = self
            .lookups
            .iter()
            .enumerate()
            .find_map(|(i, l)| {
                l.sent
                    .iter()
                    .find(|s| {
                        s.msg_id == id
                            && s.server == from
                            && s.transport == transport
                            && (transport == Transport::Tcp || s.port == 0 || s.port == local_port)
                    })
                    .map(|s| (i, l, s))
            })
            .ok_or(Ignored::Unmatched)?;
        if msg.opcode() != Opcode::Query {
            return Err(Ignored::WrongQuestion);
        }
        if sent.edns && matches!(msg.rcode(), Rcode::FormErr | Rcode::NotImp) {
            // No OPT in a well-formed response: the server does not speak EDNS. A FORMERR
            // may come without the question; one that has it must have ours.
            let no_opt = msg.check().is_ok() && matches!(msg.edns(), Ok(None));
            let question_ok = match msg.questions().next() {
                None => true,
                Some(Ok(q)) => {
                    msg.count(Section::Question) == 1
                        && q.name() == lookup.current.as_name()
                        && q.qtype() == lookup.qtype
                }
                Some(Err(_)) => false,
            };
            if no_opt && question_ok {
                return Ok((i, Verdict::NoEdns));
            }
        }
        if msg.count(Section::Question) != 1 {
            return Err(Ignored::WrongQuestion);
        }
        let question = match msg.questions().next() {
            Some(Ok(q)) => q,
            _ => return Err(Ignored::Malformed),
        };
        let name_ok = if self.config.randomize_case {
            question.name().to_name_buf().as_wire() == sent.name.as_wire()
        } else {
            question.name() == lookup.current.as_name()
        };
        if !name_ok || question.qtype() != lookup.qtype || question.qclass() != Class::In {
            return Err(Ignored::WrongQuestion);
        }
        // A truncated response need only be a response to this question: servers cut it
        // anywhere (some leave the counts of what did not fit).
        if msg.header().tc() && transport == Transport::Udp {
            return Ok((i, Verdict::Truncated));
        }
        msg.check().map_err(|_| Ignored::Malformed)?;
        let rcode = msg.extended_rcode().map_err(|_| Ignored::Malformed)?;
        if rcode != Rcode::NoError && rcode != Rcode::NxDomain {
            return Ok((i, Verdict::ServerError(rcode)));
        }
        let verdict = read_answer(&msg, lookup, rcode, self.config.max_cname)
            .map_err(|_| Ignored::Malformed)?;
        Ok((i, verdict))
    }
}

/// Walk the answer section from the lookup's current name.
fn read_answer(
    msg: &Message<'_>,
    lookup: &Lookup,
    rcode: Rcode,
    max_cname: usize,
) -> Result<Verdict, Error> {
    let mut target = lookup.current;
    let mut cnames = Vec::new();
    let mut records = Vec::new();
    let mut followed = lookup.cnames.len();
    // Each turn follows one CNAME or ends: at most `max_cname` + 1 turns.
    loop {
        let mut next = None;
        for r in msg.answers() {
            let r = r?;
            if r.class() != Class::In || r.name() != target.as_name() {
                continue;
            }
            if r.rtype() == lookup.qtype
                || (lookup.qtype == RecordType::Any && r.rtype() != RecordType::Opt)
            {
                records.push(ZoneRecord::from_record(&r).map_err(|_| Error::BadRdata)?);
            } else if r.rtype() == RecordType::Cname && next.is_none() {
                next = Some(r);
            }
        }
        if !records.is_empty() {
            break;
        }
        let Some(cname) = next else { break };
        followed += 1;
        if followed > max_cname {
            return Ok(Verdict::Fail(FailureReason::CnameLimit));
        }
        let RData::Cname(t) = cname.rdata()? else {
            return Err(Error::BadRdata);
        };
        cnames.push(ZoneRecord::from_record(&cname).map_err(|_| Error::BadRdata)?);
        target = t.to_name_buf();
    }
    if !records.is_empty() {
        return Ok(Verdict::Answer {
            cnames,
            canonical: target,
            records,
            rcode: Rcode::NoError,
            soa: None,
            authenticated: msg.header().ad(),
        });
    }
    // A negative answer: the SOA of a zone above the name, if the server sent one.
    let mut soa = None;
    let mut referral = false;
    for r in msg.authorities() {
        let r = r?;
        if r.class() != Class::In {
            continue;
        }
        match r.rtype() {
            RecordType::Soa if soa.is_none() && target.as_name().ends_with(&r.name()) => {
                soa = Some(ZoneRecord::from_record(&r).map_err(|_| Error::BadRdata)?);
            }
            RecordType::Ns => referral = true,
            _ => {}
        }
    }
    if rcode == Rcode::NoError && soa.is_none() {
        if !cnames.is_empty() {
            // The chain goes on beyond what this server answered: ask for the rest.
            return Ok(Verdict::Follow { cnames, target });
        }
        if referral && !msg.header().aa() {
            return Ok(Verdict::Fail(FailureReason::Referral));
        }
    }
    Ok(Verdict::Answer {
        cnames,
        canonical: target,
        records,
        rcode,
        soa,
        authenticated: msg.header().ad(),
    })
}

/// Write a query into `buf`; returns its length.
fn build_query(
    buf: &mut [u8],
    id: u16,
    name: &NameBuf,
    qtype: RecordType,
    recursion_desired: bool,
    udp_payload_size: Option<u16>,
) -> Option<usize> {
    let mut b = MessageBuilder::new(buf).ok()?;
    b.header_mut().set_id(id);
    b.header_mut().set_rd(recursion_desired);
    b.push_question(name, qtype, Class::In).ok()?;
    if let Some(size) = udp_payload_size {
        b.set_edns(&Edns::new(size)).ok()?;
    }
    Some(b.finish().len())
}

/// Flip the case of each letter of `name` at random (0x20).
fn randomize_case<R: Random>(name: &NameBuf, rng: &mut R) -> NameBuf {
    let mut wire = [0u8; MAX_NAME_LEN];
    let src = name.as_wire();
    let Some(dst) = wire.get_mut(..src.len()) else {
        return *name;
    };
    dst.copy_from_slice(src);
    let mut bits = 0u32;
    let mut left = 0u32;
    // Length octets are at most 63, below every letter, so only label bytes change.
    for b in dst.iter_mut().filter(|b| b.is_ascii_alphabetic()) {
        if left == 0 {
            bits = rng.next_u32();
            left = 32;
        }
        if bits & 1 == 1 {
            *b ^= 0x20;
        }
        bits >>= 1;
        left -= 1;
    }
    NameBuf::from_wire(dst).unwrap_or(*name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_randomisation_keeps_the_name() {
        let mut x = 0x1234_5678u32;
        let mut rng = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let name: NameBuf = "www.example-1.com".parse().unwrap();
        let mut differs = false;
        for _ in 0..8 {
            let r = randomize_case(&name, &mut rng);
            assert_eq!(r, name);
            assert_eq!(r.wire_len(), name.wire_len());
            differs |= r.as_wire() != name.as_wire();
        }
        assert!(differs);
    }

    #[test]
    fn source_ports_stay_in_range() {
        let mut n = 0u32;
        let rng = move || {
            n = n.wrapping_add(0x3fff_ffff);
            n
        };
        let server: SocketAddr = "192.0.2.1:53".parse().unwrap();
        let mut r = Resolver::new(ResolverConfig::new([server]), rng);
        for i in 0..40u32 {
            r.start(Duration::ZERO, "a.example", RecordType::A).unwrap();
            let t = r.poll_transmit(Duration::ZERO).unwrap();
            assert!(t.local_port >= 1024, "{i}: {}", t.local_port);
            let q = t.query;
            assert!(r.cancel(q));
        }
    }
}
