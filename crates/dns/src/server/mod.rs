//! A sans-IO authoritative server engine: query bytes in, response bytes out into the
//! caller's buffer.
//!
//! ```
//! use unistack_dns::server::{Server, ServerConfig, Transport};
//! use unistack_dns::{Class, Message, MessageBuilder, RecordType, Zone};
//!
//! let zone = Zone::parse("example.com", "
//! $TTL 3600
//! @    SOA ns1 hostmaster 1 7200 3600 1209600 300
//!      NS  ns1
//! ns1  A   192.0.2.53
//! www  A   192.0.2.80
//! ")?;
//! let mut server = Server::new(ServerConfig::default());
//! server.add_zone(zone)?;
//!
//! let mut qbuf = [0u8; 512];
//! let mut q = MessageBuilder::new(&mut qbuf)?;
//! q.header_mut().set_id(7);
//! q.push_question("WwW.Example.COM", RecordType::A, Class::In)?;
//! let query = q.finish();
//!
//! let mut out = [0u8; 512];
//! let len = server.handle(query, Transport::Udp, &mut out).expect("answered");
//! let response = Message::new(&out[..len])?;
//! assert!(response.header().aa());
//! assert_eq!(response.answers().next().unwrap()?.to_string(), "WwW.Example.COM. 3600 IN A 192.0.2.80");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Answers
//! Zones are matched by the longest suffix of the question name (a DS question for a zone's
//! apex goes to the parent zone when it is served too, RFC 4035 3.1.4.1). Inside a zone:
//! exact matches; wildcards (RFC 4592: only from the closest encloser, empty non-terminals
//! block them); CNAME chains inside the zone, at most [`MAX_CNAME_CHAIN`] links (a chain
//! leaving the zone or entering a delegation stops there); referrals below delegation points
//! (NS in authority, glue in additional, AA clear; DS or its absence proved with DO);
//! NXDOMAIN and NODATA with the SOA in authority, its TTL the lesser of the SOA's TTL and
//! minimum (RFC 2308 3). ANY returns every RRset at the name; RRSIG returns every signature.
//! Responses are minimal: no additional data besides referral glue, no NS in authority of
//! authoritative answers.
//!
//! # DNSSEC (pre-signed zones)
//! With DO set, RRsets carry their RRSIGs and negative answers their proofs (RFC 4035
//! 3.1.3, RFC 5155 7.2): NSEC or NSEC3 (closest encloser proofs, opt-out, wildcard answers
//! and wildcard NODATA); without DO none of that. Signatures are served as loaded, never
//! made or checked.
//!
//! # Protocol
//! - Dropped (no response, [`Dropped`]): shorter than a header, QR set (a response),
//!   an output buffer under 512 bytes.
//! - FORMERR: QDCOUNT other than 1, a malformed question or record anywhere, a misplaced
//!   or repeated OPT record, a compressed question name, a meta QTYPE that cannot be asked
//!   (OPT, TSIG, TKEY ...). The question is echoed when it parsed.
//! - NOTIMP: opcodes other than QUERY; AXFR, IXFR, MAILA, MAILB (no transfers).
//! - REFUSED: names outside every zone, or another class.
//! - BADVERS: EDNS version above 0.
//! - EDNS(0): an OPT record with our payload size and the client's DO bit answers every
//!   query that had one; the response is limited to the client's size (at least 512, at
//!   most ours), to 512 without EDNS, to 65535 over TCP, and to the output buffer.
//! - Truncation: if the answer and authority sections do not fit, they are dropped and TC
//!   set (never a partial RRset); additional RRsets that do not fit are dropped, setting TC
//!   only for glue below the delegation point (RFC 9471).
//! - The question is echoed byte for byte (case included), so resolvers that randomise case
//!   accept the answer; owner names point at it.
//!
//! # Precompiled responses
//! At load time every (name, type, DO) of each zone that has an exact answer is answered
//! once into a template: the bytes after the question, the section counts, the flags and
//! the points where the additional section may be cut. A query for such a name is then a
//! hash lookup, a header write, a copy of the query's header and question and a copy of the
//! template, the compression pointers staying valid because the question name has the same
//! length. Types whose answer is that of an absent type share one fallback (a NODATA, or the
//! end of a CNAME chain).
//!
//! Templates made for one name also serve names of other lengths, *moved*: each zone's
//! NXDOMAIN (the SOA in authority), made for a name one label below the apex; each
//! wildcard's templates, made for `*.<closest encloser>`; and each delegation point's
//! referral, made for the point's own name. In all three, every compression pointer of the
//! body aims at the shared base (the apex, the closest encloser, the cut) in the question
//! or later, so each moves by the difference of the name lengths, and a wildcard's
//! synthesised owners point at the whole question and stay. A name missing from the table
//! (or below a cut, whose names have no templates of their own) takes them without DO or
//! in a zone without DNSSEC material (proofs are per name); in a zone without wildcards or
//! delegations and with every name in the table, with no lookup at all, else after a walk
//! to the closest encloser. They are not used where the on-the-fly builder would compress
//! differently: a question that ends in (or is) a name the body writes below the base (its
//! copy in the question would be the target), a pointer that would aim at the made-up first
//! label or at the question from a record that is not the wildcard's own, or a question with
//! so many labels that the builder's 64-entry compression table would fill. NXDOMAIN then
//! costs 1.5-1.8x a hit, and a wildcard answer or a referral 2-3x, instead of 7-9x.
//!
//! DNSSEC negative answers, wildcard expansions and referrals with DO, and whatever a
//! template cannot be moved to, are answered on the fly through the same code
//! ([`Server::handle_uncached`] does that for every query; tests compare both byte for
//! byte, for every name of the test zones, a name below each, and types 0 to 300, and for
//! NXDOMAIN, wildcard and referral names of every length and label count).

//! # Layout and the hot path
//! - One pass over the query: the header, the question name (literal names only; it is
//!   hashed and compared in place, lower-cased eight bytes at a time, never copied) and the
//!   records after it, where the usual OPT record is read directly. Anything unusual
//!   (another opcode, a compressed or malformed question, a meta type, an OPT record of
//!   another version or misplaced, ...) goes to the general path, which reads the query
//!   section by section and gives the same answer to what the fast path takes.
//! - One hash finds both the zone and the name: a table of every name of every zone, in the
//!   zone with the longest apex enclosing it (adding a deeper zone takes its names from the
//!   zones above). Its slots are 8 bytes, a hash tag and the offset of the name's *entry*
//!   (open addressing, linear probing, at most three quarters full), so a hit loads the slot
//!   and then the entry: the lower-cased name, the zone's number, a directory of templates
//!   by type, and usually the name's own templates right after it. A miss (NXDOMAIN,
//!   wildcards, names below a cut) walks the name's suffixes for the zone as before.
//! - Templates live in one byte arena for the server, each zone a region of it; identical
//!   templates of a zone are stored once (the NODATA of names of the same shape, an ANY equal
//!   to the only RRset, DO-on equal to DO-off), and zones without DNSSEC material (no RRSIG,
//!   NSEC, NSEC3, NSEC3PARAM or DS record) get no DO-on templates at all. The in-memory
//!   layouts are declared through the derive, as wire layouts are.
//! - The index used for answers computed per query keeps one lower-cased name per node in a
//!   byte arena, RRsets and record lists in flat vectors, and a hash table of node numbers.
//!
//! Limits: a zone's region is at most 4 GiB (template offsets are 32-bit) and the arena at
//! most 1 TiB (entry offsets are 40-bit); names past them are answered on the fly.

mod answer;
mod index;
mod store;
mod table;

use alloc::vec::Vec;
use core::fmt;

use hashbrown::HashTable;
use unistack_cstruct::{Cstruct, Endian, Field};

use self::answer::{Outcome, Writer};
use self::index::{LowerName, ZoneIndex, eq_lower, hash_name, hash_name_lower, label_starts};
use self::store::{CutRecView, NO_ENTRY, TemplateRef};
use self::table::NameTable;
use crate::edns::Edns;
use crate::message::{Message, find_opt, records_at, sole_additional_opt};
use crate::name::Memo;
use crate::name::{MAX_LABEL_LEN, MAX_NAME_LEN, Name};
use crate::wire::{Class, Header, HeaderView, Opcode, OptFixed, QuestionFixed, Rcode, RecordType};
use crate::zone::Zone;
use crate::{MAX_MESSAGE_LEN, MessageBuilder};
pub use answer::MAX_CNAME_CHAIN;

/// Server settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerConfig {
    /// The UDP payload size we advertise and the most we send over UDP (1232 by default,
    /// the DNS flag day 2020 value; at least 512 is used).
    pub udp_payload_size: u16,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            udp_payload_size: 1232,
        }
    }
}

/// How the query arrived, which bounds the response size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP: 512 bytes, or the client's EDNS size (capped by ours).
    Udp,
    /// TCP: up to 65535 bytes (the caller adds the length prefix).
    Tcp,
}

/// Why no response was produced.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// Shorter than a DNS header: nothing to answer to.
    TooShort,
    /// A response (QR set): never answered, so two servers cannot loop.
    Response,
    /// The output buffer is shorter than 512 bytes.
    BufferTooSmall,
}

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dropped::TooShort => "shorter than a header",
            Dropped::Response => "a response, not a query",
            Dropped::BufferTooSmall => "output buffer under 512 bytes",
        })
    }
}

impl core::error::Error for Dropped {}

/// Why a zone was not added.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddZoneError {
    /// A zone with this apex is already served.
    Duplicate,
}

impl fmt::Display for AddZoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a zone with this apex is already served")
    }
}

impl core::error::Error for AddZoneError {}

struct ServedZone {
    index: ZoneIndex,
    /// The zone's class, as an integer.
    class: u16,
    /// Where the zone's region of the arena starts (template offsets count from there).
    base: usize,
    /// The zone's NXDOMAIN, precompiled.
    negative: Option<store::Negative>,
    /// How the templates of its wildcards move to the names they match.
    wild: store::MovedList,
    /// How the referrals of its delegation points move to the names below them.
    cuts: store::MovedList,
}

impl ServedZone {
    /// The apex, lower-cased.
    fn apex_wire(&self) -> &[u8] {
        self.index
            .node(self.index.apex)
            .map_or(&[0], |n| self.index.name_wire(n))
    }
}

/// Up to this many zones, the zone of a name missing from the table is found by comparing
/// apexes rather than hashing suffixes.
const FEW_ZONES: usize = 8;

/// Below this much zone data (arena and name table), [`Server::warm`] does nothing.
pub const WARM_MIN_BYTES: usize = 16 << 20;

/// The authoritative server: zones and their precompiled responses. Immutable while
/// serving; [`handle`](Self::handle) takes `&self`.
pub struct Server {
    config: ServerConfig,
    zones: Vec<ServedZone>,
    /// Zone numbers, keyed by their apexes.
    apexes: HashTable<u32>,
    /// Entries and templates of every zone (see `store`).
    arena: Vec<u8>,
    /// Every name of every zone (its entry's offset), keyed by its lower-cased name, in the
    /// zone that answers for it (the one with the longest apex).
    names: NameTable,
    /// Our OPT record without and with DO (extended RCODE zero).
    opt: [[u8; OPT_LEN]; 2],
}

/// An OPT record without options: root owner and the fixed part.
const OPT_LEN: usize = 1 + OptFixed::SIZE;

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.config)
            .field("zones", &self.zones.len())
            .finish()
    }
}

/// What the header of a parsed query says we must echo.
#[derive(Clone, Copy)]
struct QueryHeader {
    id: u16,
    opcode: Opcode,
    rd: bool,
    cd: bool,
}

/// A question's type and class as integers: the wire's [`QuestionFixed`] read without
/// converting code points (the hot path compares numbers).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = QuestionRawView)]
struct QuestionRaw {
    qtype: u16,
    qclass: u16,
}

/// An OPT record after its root owner, its type an integer: the wire's [`OptFixed`] read
/// without converting code points.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = OptRawView)]
struct OptRaw {
    rtype: u16,
    udp_payload_size: u16,
    ext_rcode: u8,
    version: u8,
    #[bits(1)]
    dnssec_ok: bool,
    #[bits(15)]
    z: u16,
    rdlength: u16,
}

/// DS, as an integer.
const DS: u16 = RecordType::Ds.to_raw();

/// Whether a QTYPE cannot be asked through the fast path: a meta type other than ANY
/// ([`RecordType::is_meta`]: OPT, and 128 to 255).
const fn meta_not_any(qtype: u16) -> bool {
    qtype == RecordType::Opt.to_raw() || (qtype >= 128 && qtype < RecordType::Any.to_raw())
}

/// What the server uses of a query's OPT record.
#[derive(Clone, Copy)]
struct QueryEdns {
    udp_payload_size: u16,
    dnssec_ok: bool,
}

impl From<&Edns<'_>> for QueryEdns {
    fn from(e: &Edns<'_>) -> Self {
        QueryEdns {
            udp_payload_size: e.udp_payload_size,
            dnssec_ok: e.dnssec_ok,
        }
    }
}

/// A query that passed every check but the lookup: one literal question, and at most one
/// good OPT record of version 0.
struct Parsed<'q> {
    qh: QueryHeader,
    /// The whole query.
    query: &'q [u8],
    /// Where the question ends.
    qend: usize,
    qtype: u16,
    qclass: u16,
    edns: Option<QueryEdns>,
}

impl<'q> Parsed<'q> {
    /// The question's bytes, as the client sent them.
    fn question(&self) -> &'q [u8] {
        self.query.get(Header::SIZE..self.qend).unwrap_or_default()
    }

    /// The question's name, as the client sent it (literal).
    fn qname(&self) -> &'q [u8] {
        self.query
            .get(Header::SIZE..self.qend.saturating_sub(QuestionFixed::SIZE))
            .unwrap_or_default()
    }
}

/// The length of the question name at offset 12, if it is literal (no compression
/// pointer) and valid (labels of at most 63 octets, 255 in all, inside the query).
#[inline]
fn literal_qname(query: &[u8]) -> Option<usize> {
    let src = query.get(Header::SIZE..)?;
    let name = src.get(..src.len().min(MAX_NAME_LEN))?;
    let mut pos = 0usize;
    // Each turn takes a label: at most 128 turns fit in 255 octets.
    for _ in 0..=MAX_NAME_LEN / 2 {
        let l = usize::from(*name.get(pos)?);
        if l > MAX_LABEL_LEN {
            return None;
        }
        pos += 1 + l;
        if l == 0 {
            return Some(pos);
        }
    }
    None
}

impl Server {
    /// A server with no zones.
    pub fn new(config: ServerConfig) -> Self {
        let opt = [false, true].map(|dnssec_ok| {
            let mut o = [0u8; OPT_LEN];
            if let Some(fixed) = o.get_mut(1..) {
                OptFixed {
                    rtype: RecordType::Opt,
                    udp_payload_size: config.udp_payload_size.max(512),
                    ext_rcode: 0,
                    version: 0,
                    dnssec_ok,
                    z: 0,
                    rdlength: 0,
                }
                .write(fixed, Endian::Big);
            }
            o
        });
        Server {
            config,
            zones: Vec::new(),
            apexes: HashTable::new(),
            arena: Vec::new(),
            names: NameTable::default(),
            opt,
        }
    }

    /// The settings.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Serve `zone`, precompiling its responses.
    ///
    /// # Errors
    /// [`AddZoneError::Duplicate`] if a zone with the same apex is served.
    pub fn add_zone(&mut self, zone: Zone) -> Result<(), AddZoneError> {
        let apex = LowerName::from_name(&zone.origin());
        let apex = apex.as_wire();
        if self.zone_by_apex(apex).is_some() {
            return Err(AddZoneError::Duplicate);
        }
        let index = ZoneIndex::new(zone);
        let zi = self.zones.len() as u32;
        let base = self.arena.len();
        let store::Compiled {
            entries,
            negative,
            wild,
            cuts,
        } = store::compile(&index, zi, &mut self.arena);
        self.arena.shrink_to_fit();
        self.zones.push(ServedZone {
            class: index.zone.class().to_raw(),
            index,
            base,
            negative,
            wild,
            cuts,
        });
        let zones = &self.zones;
        self.apexes.insert_unique(hash_name(apex), zi, |&i| {
            hash_name(zones.get(i as usize).map_or(&[0], ServedZone::apex_wire))
        });
        self.link(zi, &entries);
        Ok(())
    }

    /// Put the names of zone `zi` (just added; `entries` are its nodes' entries) into
    /// `names`: those it answers for, which are not at or below the apex of a deeper zone;
    /// and take out the names of shallower zones at or below its apex, which it answers for
    /// now.
    fn link(&mut self, zi: u32, entries: &[u64]) {
        let Some(zone) = self.zones.get(zi as usize) else {
            return;
        };
        let apex = zone.apex_wire();
        let arena = &self.arena;
        let rehash = |off: u64| hash_name(store::entry_key(arena, off as usize));
        let nested = self.zones.len() > 1;
        if nested
            && self
                .zones
                .iter()
                .any(|y| is_below(apex, y.apex_wire()) && apex != y.apex_wire())
        {
            let zones = &self.zones;
            // Names of zones above this one, at or below its apex, are this zone's now.
            self.names.retain(
                |off| {
                    let key = store::entry_key(arena, off as usize);
                    let owner = store::entry_head(arena, off as usize)
                        .and_then(|h| zones.get(h.zone() as usize));
                    !is_below(key, apex) || owner.is_some_and(|z| is_below(z.apex_wire(), apex))
                },
                rehash,
            );
        }
        self.names.reserve(entries.len(), rehash);
        for (id, &entry) in entries.iter().enumerate() {
            if entry == NO_ENTRY {
                continue;
            }
            let Some(node) = zone.index.node(id as u32) else {
                continue;
            };
            let key = zone.index.name_wire(node);
            // A deeper zone answers for names at or below its apex.
            if nested
                && label_starts(key)
                    .take_while(|&s| key.len() - s > apex.len())
                    .any(|s| {
                        self.zone_by_apex(key.get(s..).unwrap_or_default())
                            .is_some()
                    })
            {
                continue;
            }
            self.names.insert(
                hash_name(key),
                entry,
                |off| store::entry_key(arena, off as usize) == key,
                rehash,
            );
        }
    }

    /// The zone whose apex is the lower-cased `apex`.
    fn zone_by_apex(&self, apex: &[u8]) -> Option<u32> {
        self.apexes
            .find(hash_name(apex), |&i| {
                self.zones
                    .get(i as usize)
                    .is_some_and(|z| z.apex_wire() == apex)
            })
            .copied()
    }

    /// The zones served.
    pub fn zones(&self) -> impl Iterator<Item = &Zone> {
        self.zones.iter().map(|z| &z.index.zone)
    }

    /// Answer `query`, writing the response into `out`; returns its length.
    ///
    /// # Errors
    /// [`Dropped`] when no response must be sent (see the module docs).
    pub fn handle(
        &self,
        query: &[u8],
        transport: Transport,
        out: &mut [u8],
    ) -> Result<usize, Dropped> {
        match parse_fast(query) {
            Some(p) if out.len() >= 512 => Ok(self.answer_fast(&p, transport, out)),
            _ => self.handle_with(query, transport, out, true),
        }
    }

    /// Bring into the cache what answering `queries` will read, before answering them with
    /// [`handle`](Self::handle): a server that receives a batch (`recvmmsg`) calls this on
    /// the batch first. Answering one query from a zone far larger than the cache waits for
    /// two or three dependent memory misses (table slot, entry, template); here each step is
    /// taken for up to 16 queries at once, so their misses overlap instead of queueing. Only
    /// reads; the answers do not change. Returns a value of no meaning (it keeps the reads
    /// from being optimised away).
    ///
    /// It does nothing while the server's data is under [`WARM_MIN_BYTES`]: that much stays
    /// in the caches, and reading each query twice would only cost time.
    pub fn warm<'q>(&self, queries: impl IntoIterator<Item = &'q [u8]>) -> u64 {
        if self.arena.len() + self.names.bytes() < WARM_MIN_BYTES {
            return 0;
        }
        self.warm_always(queries)
    }

    /// [`warm`](Self::warm) whatever the size (for tests).
    #[doc(hidden)]
    pub fn warm_always<'q>(&self, queries: impl IntoIterator<Item = &'q [u8]>) -> u64 {
        const BATCH: usize = 16;
        let arena = &self.arena;
        let mut queries = queries.into_iter();
        let mut acc = 0u64;
        loop {
            // Step 1: hash each name and read its table slot (independent loads).
            let mut found = [(0u64, 0u16, false); BATCH];
            let mut n = 0;
            let mut seen = 0;
            for q in queries.by_ref().take(BATCH) {
                seen += 1;
                let Some(p) = parse_fast(q) else { continue };
                if let (Some(entry), Some(slot)) = (
                    self.names.home(hash_name_lower(p.qname())),
                    found.get_mut(n),
                ) {
                    let dnssec = p.edns.is_some_and(|e| e.dnssec_ok);
                    *slot = (entry, p.qtype, dnssec);
                    n += 1;
                }
            }
            if seen == 0 {
                break;
            }
            let found = found.get(..n).unwrap_or_default();
            // Step 2: each entry's head (independent of each other).
            for &(entry, ..) in found {
                acc = acc.wrapping_add(u64::from(arena.get(entry as usize).copied().unwrap_or(0)));
            }
            // Step 3: each template.
            for &(entry, qtype, dnssec) in found {
                let entry = entry as usize;
                let Some(zone) =
                    store::entry_head(arena, entry).and_then(|h| self.zones.get(h.zone() as usize))
                else {
                    continue;
                };
                let t = store::find_template(arena, entry, qtype, dnssec);
                if t != store::NONE {
                    let at = zone.base + t as usize;
                    acc = acc.wrapping_add(u64::from(arena.get(at).copied().unwrap_or(0)));
                }
            }
        }
        core::hint::black_box(acc)
    }

    /// As [`handle`](Self::handle), computing every answer instead of copying precompiled
    /// ones, and reading the query the long way (section by section): the same bytes, more
    /// slowly (for tests and benchmarks).
    ///
    /// # Errors
    /// As [`handle`](Self::handle).
    pub fn handle_uncached(
        &self,
        query: &[u8],
        transport: Transport,
        out: &mut [u8],
    ) -> Result<usize, Dropped> {
        self.handle_with(query, transport, out, false)
    }

    /// The common case, in one hash: the name's entry, the zone with it.
    #[inline]
    fn answer_fast(&self, p: &Parsed<'_>, transport: Transport, out: &mut [u8]) -> usize {
        let arena = &self.arena;
        let qname = p.qname();
        let hit = self
            .names
            .find(hash_name_lower(qname), |off| {
                eq_lower(store::entry_key(arena, off as usize), qname)
            })
            .and_then(|off| {
                let head = store::entry_head(arena, off as usize)?;
                Some((self.zones.get(head.zone() as usize)?, head, off as usize))
            });
        if let Some((zone, head, entry)) = hit
            && zone.class == p.qclass
            // A DS question at an apex may be the parent zone's.
            && !(p.qtype == DS && head.apex())
        {
            let dnssec = p.edns.is_some_and(|e| e.dnssec_ok);
            let t = store::find_template(arena, entry, p.qtype, dnssec);
            if let Some(t) = store::template_at(arena, zone.base, t) {
                let opt = p.edns.map(|e| &self.opt[usize::from(e.dnssec_ok)]);
                let limit = self.limit(transport, p.edns, out.len());
                let head = p.query.get(..p.qend).unwrap_or_default();
                return apply(&t, p.qh, head, opt, limit, out);
            }
        }
        let low = LowerName::from_wire(qname);
        if let Some(n) = self.miss(p, low.as_wire(), transport, out) {
            return n;
        }
        self.respond(p, low.as_wire(), transport, out, true)
    }

    /// A name missing from the table or without a template, without DO or in a zone without
    /// DNSSEC material: below a delegation point its referral, else the template of the
    /// wildcard its closest encloser offers, or the zone's NXDOMAIN when it offers none, moved
    /// to the question (see [`store::Moves`]); `None` to answer on the fly (a name that
    /// exists, a template that does not move to this name, ...).
    fn miss(
        &self,
        p: &Parsed<'_>,
        low: &[u8],
        transport: Transport,
        out: &mut [u8],
    ) -> Option<usize> {
        let (zi, zone) = self.zone_of_miss(low, p.qtype, p.qclass)?;
        let neg = zone.negative.as_ref();
        if p.edns.is_some_and(|e| e.dnssec_ok) && zone.index.signed {
            return None;
        }
        if !neg.is_some_and(|n| n.every_miss) {
            let labels = label_starts(low).count().saturating_sub(1);
            let (ce, ce_labels) = zone.index.closest_encloser(low);
            let ce_node = zone.index.node(ce)?;
            let exact = ce_labels >= labels;
            if let Some(cut) = ce_node.delegated() {
                // Below a delegation point: its referral (the point itself has its own).
                if exact && ce == cut {
                    return None;
                }
                let entry = self.entry_in(zi, zone.index.name_wire(zone.index.node(cut)?))?;
                let t = store::fallback_template(&self.arena, entry);
                let i = zone.cuts.binary_search_by_key(&t, |(o, _)| *o).ok()?;
                let (_, moves) = zone.cuts.get(i)?;
                let t = store::template_at(&self.arena, zone.base, t)?;
                return self.apply_moved(&t, moves, p, low, transport, out);
            }
            if exact {
                return None;
            }
            // The wildcard `*.<closest encloser>`, if any, answers.
            if let Some(w) = zone.index.wildcard_child(ce) {
                let entry = self.entry_in(zi, zone.index.name_wire(zone.index.node(w)?))?;
                let t = store::find_template(&self.arena, entry, p.qtype, false);
                let i = zone.wild.binary_search_by_key(&t, |(o, _)| *o).ok()?;
                let (_, moves) = zone.wild.get(i)?;
                let t = store::template_at(&self.arena, zone.base, t)?;
                return self.apply_moved(&t, moves, p, low, transport, out);
            }
        }
        let neg = neg?;
        let t = store::template_at(&self.arena, zone.base, neg.template)?;
        self.apply_moved(&t, &neg.moves, p, low, transport, out)
    }

    /// [`apply`] a template made for another name, moved to the question's.
    fn apply_moved(
        &self,
        t: &TemplateRef<'_>,
        moves: &store::Moves,
        p: &Parsed<'_>,
        low: &[u8],
        transport: Transport,
        out: &mut [u8],
    ) -> Option<usize> {
        let qname = p.qname();
        if !moves.fit(qname, low) {
            return None;
        }
        let opt = p.edns.map(|e| &self.opt[usize::from(e.dnssec_ok)]);
        let limit = self.limit(transport, p.edns, out.len());
        let head = p.query.get(..p.qend)?;
        let n = apply(t, p.qh, head, opt, limit, out);
        // The body copied: all of it, the part before a cut of the additional section, or
        // none (TC).
        let copied = n
            .saturating_sub(opt.map_or(0, |o| o.len()))
            .saturating_sub(head.len());
        if n > 0 {
            let body = out.get_mut(head.len()..head.len() + copied)?;
            moves.apply(body, qname.len());
        }
        Some(n)
    }

    fn handle_with(
        &self,
        query: &[u8],
        transport: Transport,
        out: &mut [u8],
        templates: bool,
    ) -> Result<usize, Dropped> {
        let msg = Message::new(query).map_err(|_| Dropped::TooShort)?;
        if msg.is_response() {
            return Err(Dropped::Response);
        }
        if out.len() < 512 {
            return Err(Dropped::BufferTooSmall);
        }
        let h = msg.header();
        let qh = QueryHeader {
            id: h.id(),
            opcode: h.opcode(),
            rd: h.rd(),
            cd: h.cd(),
        };
        let edns = msg.edns();
        let good_edns = edns
            .as_ref()
            .ok()
            .and_then(|e| e.as_ref())
            .map(QueryEdns::from);
        if qh.opcode != Opcode::Query {
            return Ok(error_response(
                qh,
                Rcode::NotImp,
                None,
                good_edns,
                &self.config,
                out,
            ));
        }
        if h.qdcount() != 1 {
            return Ok(error_response(
                qh,
                Rcode::FormErr,
                None,
                good_edns,
                &self.config,
                out,
            ));
        }
        let question = match msg.questions().next() {
            Some(Ok(q)) => q,
            _ => {
                return Ok(error_response(
                    qh,
                    Rcode::FormErr,
                    None,
                    None,
                    &self.config,
                    out,
                ));
            }
        };
        let qbytes = query.get(question.range()).unwrap_or_default();
        // Only a literal (uncompressed) question is echoed in errors: a compression pointer
        // would point into our response instead of the query.
        let echo = (qbytes.len() == question.name().wire_len() + 4).then_some(qbytes);
        let edns = match edns {
            Ok(e) => e,
            Err(_) => {
                return Ok(error_response(
                    qh,
                    Rcode::FormErr,
                    echo,
                    None,
                    &self.config,
                    out,
                ));
            }
        };
        let version = edns.as_ref().map_or(0, |e| e.version);
        let edns = edns.as_ref().map(QueryEdns::from);
        if version > 0 {
            return Ok(error_response(
                qh,
                Rcode::BadVers,
                echo,
                edns,
                &self.config,
                out,
            ));
        }
        let qname = question.name();
        // A literal name: the template's pointers assume it is as long as the zone's. A
        // compressed question is not echoed: its pointer would point into our response.
        if qbytes.len() != qname.wire_len() + 4 {
            return Ok(error_response(
                qh,
                Rcode::FormErr,
                None,
                edns,
                &self.config,
                out,
            ));
        }
        let qtype = question.qtype();
        match qtype {
            RecordType::Axfr | RecordType::Ixfr | RecordType::Maila | RecordType::Mailb => {
                return Ok(error_response(
                    qh,
                    Rcode::NotImp,
                    echo,
                    edns,
                    &self.config,
                    out,
                ));
            }
            RecordType::Any => {}
            t if t.is_meta() => {
                return Ok(error_response(
                    qh,
                    Rcode::FormErr,
                    echo,
                    edns,
                    &self.config,
                    out,
                ));
            }
            _ => {}
        }
        let low = LowerName::from_name(&qname);
        let p = Parsed {
            qh,
            query,
            qend: question.range().end,
            qtype: qtype.to_raw(),
            qclass: question.qclass().to_raw(),
            edns,
        };
        Ok(self.respond(&p, low.as_wire(), transport, out, templates))
    }

    /// Answer a checked query: REFUSED outside our zones, else a template or an answer
    /// computed now.
    fn respond(
        &self,
        p: &Parsed<'_>,
        low: &[u8],
        transport: Transport,
        out: &mut [u8],
        templates: bool,
    ) -> usize {
        let (qtype, qclass) = (RecordType::from_raw(p.qtype), Class::from_raw(p.qclass));
        let found = self.find_zone(low, qtype, qclass);
        let Some(zone) = found.and_then(|i| self.zones.get(i as usize)) else {
            return error_response(
                p.qh,
                Rcode::Refused,
                Some(p.question()),
                p.edns,
                &self.config,
                out,
            );
        };
        let limit = self.limit(transport, p.edns, out.len());
        let dnssec = p.edns.is_some_and(|e| e.dnssec_ok);
        let opt = p.edns.map(|e| self.response_edns(e));
        if templates && let Some(t) = found.and_then(|zi| self.template(zi, low, p.qtype, dnssec)) {
            let head = p.query.get(..p.qend).unwrap_or_default();
            let opt = p.edns.map(|e| &self.opt[usize::from(e.dnssec_ok)]);
            return apply(&t, p.qh, head, opt, limit, out);
        }
        let name = match Name::parse(p.query, Header::SIZE) {
            Ok((n, _)) => n.to_name_buf(),
            Err(_) => return 0,
        };
        answer_into(
            &zone.index,
            p.qh,
            &name,
            qtype,
            qclass,
            dnssec,
            opt.as_ref(),
            limit,
            out,
        )
    }

    /// The most a response may hold.
    fn limit(&self, transport: Transport, edns: Option<QueryEdns>, out_len: usize) -> usize {
        match transport {
            Transport::Tcp => MAX_MESSAGE_LEN,
            Transport::Udp => match edns {
                // At least 512 (RFC 6891 6.2.3), at most ours.
                Some(e) => usize::from(
                    e.udp_payload_size
                        .max(512)
                        .min(self.config.udp_payload_size.max(512)),
                ),
                None => 512,
            },
        }
        .min(out_len)
    }

    fn response_edns(&self, query: QueryEdns) -> Edns<'static> {
        let mut e = Edns::new(self.config.udp_payload_size.max(512));
        e.dnssec_ok = query.dnssec_ok;
        e
    }

    /// The template of zone `zi` for a lower-cased name.
    fn template(&self, zi: u32, low: &[u8], qtype: u16, dnssec: bool) -> Option<TemplateRef<'_>> {
        let arena = &self.arena;
        let entry = self.names.find(hash_name(low), |off| {
            store::entry_key(arena, off as usize) == low
        })? as usize;
        // The name's entry may be another zone's (a DS question at a child's apex goes to
        // the parent): answered on the fly then.
        if store::entry_head(arena, entry)?.zone() != zi {
            return None;
        }
        let zone = self.zones.get(zi as usize)?;
        let t = store::find_template(arena, entry, qtype, dnssec);
        store::template_at(arena, zone.base, t)
    }

    /// The zone of a name missing from the table, as [`find_zone`](Self::find_zone) finds
    /// it (`None` where that takes a turn: a DS question at an apex, another class): with a
    /// few zones, by comparing their apexes with the end of the name instead of hashing each
    /// of its suffixes.
    #[inline]
    fn zone_of_miss(&self, low: &[u8], qtype: u16, qclass: u16) -> Option<(u32, &ServedZone)> {
        if self.zones.len() > FEW_ZONES {
            let qtype = RecordType::from_raw(qtype);
            let zi = self.find_zone(low, qtype, Class::from_raw(qclass))?;
            return Some((zi, self.zones.get(zi as usize)?));
        }
        let mut best: Option<(u32, &ServedZone)> = None;
        for (i, z) in self.zones.iter().enumerate() {
            let apex = z.apex_wire();
            // A zone's apex missing from the table (its entry could not be made): its zone
            // is not one whose apex is shorter, so leave it to `find_zone`.
            if low == apex {
                return None;
            }
            if low.len() > apex.len()
                && low.ends_with(apex)
                && best.is_none_or(|(_, b)| b.apex_wire().len() < apex.len())
                && label_starts(low).any(|s| s + apex.len() == low.len())
            {
                best = Some((i as u32, z));
            }
        }
        best.filter(|(_, z)| z.class == qclass)
    }

    /// The entry of the lower-cased `name` in the table, if zone `zi` answers for it.
    fn entry_in(&self, zi: u32, name: &[u8]) -> Option<usize> {
        let arena = &self.arena;
        let entry = self.names.find(hash_name(name), |off| {
            store::entry_key(arena, off as usize) == name
        })? as usize;
        (store::entry_head(arena, entry)?.zone() == zi).then_some(entry)
    }

    /// The zone for a lower-cased name: the longest apex suffix, of the right class.
    fn find_zone(&self, low: &[u8], qtype: RecordType, qclass: Class) -> Option<u32> {
        let mut apex_match = None;
        for start in label_starts(low) {
            let Some(i) = self.zone_by_apex(low.get(start..).unwrap_or_default()) else {
                continue;
            };
            let z = self.zones.get(i as usize)?;
            if z.index.zone.class() != qclass {
                return None;
            }
            // DS lives on the parent side of a cut: prefer a parent zone we also serve.
            if start == 0 && qtype == RecordType::Ds && low.len() > 1 {
                apex_match = Some(i);
                continue;
            }
            return Some(i);
        }
        apex_match
    }
}

/// Whether the lower-cased wire name `name` is `apex` or below it.
fn is_below(name: &[u8], apex: &[u8]) -> bool {
    label_starts(name).any(|s| name.get(s..) == Some(apex))
}

/// Read a query in one pass, when it is the common kind: a query (QR clear, opcode QUERY),
/// one question with a literal name, a type that may be asked, and records that parse with
/// at most one OPT record, of version 0, in the additional section. Anything else is left
/// to the long path, which gives the same answer to these.
#[inline]
fn parse_fast(query: &[u8]) -> Option<Parsed<'_>> {
    let h = HeaderView::new_checked(query).ok()?;
    if h.qr() || h.opcode() != Opcode::Query || h.qdcount() != 1 {
        return None;
    }
    let after = Header::SIZE + literal_qname(query)?;
    let qend = after + QuestionRaw::SIZE;
    let fixed = QuestionRawView::new_checked(query.get(after..qend)?).ok()?;
    let (qtype, qclass) = (fixed.qtype(), fixed.qclass());
    if meta_not_any(qtype) {
        return None;
    }
    let edns = match (h.ancount(), h.nscount(), h.arcount()) {
        (0, 0, 0) => None,
        (0, 0, 1) => match plain_opt(query, qend) {
            Some(e) => return Some(parsed(&h, query, qend, qtype, qclass, Some(e))),
            None => sole_additional_opt(query, qend).ok()?,
        },
        _ => find_opt(records_at(query, qend, None, Memo::empty())).ok()?,
    };
    if edns.as_ref().is_some_and(|e| e.version > 0) {
        return None;
    }
    let edns = edns.as_ref().map(QueryEdns::from);
    Some(parsed(&h, query, qend, qtype, qclass, edns))
}

#[inline(always)]
fn parsed<'q>(
    h: &HeaderView<&[u8]>,
    query: &'q [u8],
    qend: usize,
    qtype: u16,
    qclass: u16,
    edns: Option<QueryEdns>,
) -> Parsed<'q> {
    Parsed {
        qh: QueryHeader {
            id: h.id(),
            opcode: Opcode::Query,
            rd: h.rd(),
            cd: h.cd(),
        },
        query,
        qend,
        qtype,
        qclass,
        edns,
    }
}

/// The usual OPT record, read directly: root owner, type OPT, version 0, its options (if
/// any) well-formed and ending where its RDATA does. `None` for anything else, which
/// [`sole_additional_opt`] then reads.
#[inline]
fn plain_opt(query: &[u8], at: usize) -> Option<QueryEdns> {
    if *query.get(at)? != 0 {
        return None;
    }
    let fixed_end = at + 1 + OptRaw::SIZE;
    let o = OptRawView::new_checked(query.get(at + 1..fixed_end)?).ok()?;
    if o.rtype() != RecordType::Opt.to_raw() || o.version() != 0 {
        return None;
    }
    let rdata = query.get(fixed_end..fixed_end + usize::from(o.rdlength()))?;
    if !rdata.is_empty() {
        crate::edns::EdnsOptions::from_wire(rdata).ok()?;
    }
    Some(QueryEdns {
        udp_payload_size: o.udp_payload_size(),
        dnssec_ok: o.dnssec_ok(),
    })
}

/// A response with no answer: the header, maybe the question, maybe an OPT record.
fn error_response(
    qh: QueryHeader,
    rcode: Rcode,
    question: Option<&[u8]>,
    edns: Option<QueryEdns>,
    config: &ServerConfig,
    out: &mut [u8],
) -> usize {
    let qlen = question.map_or(0, <[u8]>::len);
    let opt = edns.map(|e| {
        let mut o = Edns::new(config.udp_payload_size.max(512));
        o.dnssec_ok = e.dnssec_ok;
        o
    });
    let opt_len = opt.as_ref().map_or(0, Edns::wire_len);
    let Some(dst) = out.get_mut(Header::SIZE..Header::SIZE + qlen) else {
        return 0;
    };
    dst.copy_from_slice(question.unwrap_or_default());
    let mut h = HeaderView::new_unchecked(&mut *out);
    write_header(
        &mut h,
        qh,
        Outcome { rcode, aa: false },
        false,
        [u16::from(question.is_some()), 0, 0, 0],
    );
    let mut len = Header::SIZE + qlen;
    if let Some(o) = &opt
        && len + opt_len <= out.len()
    {
        len = write_opt(out, len, o, rcode);
    }
    len
}

fn write_header(
    h: &mut HeaderView<&mut [u8]>,
    qh: QueryHeader,
    o: Outcome,
    tc: bool,
    counts: [u16; 4],
) {
    h.set_id(qh.id);
    h.set_qr(true);
    h.set_opcode(qh.opcode);
    h.set_aa(o.aa);
    h.set_tc(tc);
    h.set_rd(qh.rd);
    h.set_ra(false);
    h.set_z(false);
    h.set_ad(false);
    h.set_cd(qh.cd);
    h.set_rcode(Rcode::from_raw(u16::from(o.rcode.low_bits())));
    h.set_qdcount(counts[0]);
    h.set_ancount(counts[1]);
    h.set_nscount(counts[2]);
    h.set_arcount(counts[3]);
}

/// Append the OPT record at `at` (room for it is always there: callers reserve it) and
/// count it; returns the new length.
fn write_opt(out: &mut [u8], at: usize, opt: &Edns<'_>, rcode: Rcode) -> usize {
    let mut o = *opt;
    o.ext_rcode = rcode.ext_bits();
    let len = o.wire_len();
    let Some(dst) = out.get_mut(at..at + len) else {
        return at;
    };
    let (root, fixed) = dst.split_at_mut(1);
    root.fill(0);
    crate::wire::OptFixed {
        rtype: RecordType::Opt,
        udp_payload_size: o.udp_payload_size,
        ext_rcode: o.ext_rcode,
        version: 0,
        dnssec_ok: o.dnssec_ok,
        z: 0,
        rdlength: 0,
    }
    .write(fixed, unistack_cstruct::Endian::Big);
    let mut h = HeaderView::new_unchecked(&mut *out);
    let ar = h.arcount();
    h.set_arcount(ar.saturating_add(1));
    at + len
}

/// Copy a template after the client's header and question (`head`, which the template's
/// compression pointers point into: the name is as long as the zone's), write the header,
/// add our OPT record (`opt`, when the query had one). The additional section is cut to fit
/// `limit`; if the answer and authority sections do not fit, nothing follows the question
/// and TC is set.
#[inline]
fn apply(
    t: &TemplateRef<'_>,
    qh: QueryHeader,
    head: &[u8],
    opt: Option<&[u8; OPT_LEN]>,
    limit: usize,
    out: &mut [u8],
) -> usize {
    let opt_len = opt.map_or(0, |o| o.len());
    let base = head.len();
    let room = limit.saturating_sub(base + opt_len);
    let th = &t.head;
    let (body_len, counts, tc) = if t.body.len() <= room {
        (
            t.body.len(),
            [1, th.answers(), th.authorities(), th.arcount()],
            false,
        )
    } else if usize::from(th.essential()) > room {
        (0, [1, 0, 0, 0], true)
    } else {
        // The longest cut that fits; dropping required glue sets TC.
        let (len, arcount, tc) = t
            .cuts
            .chunks_exact(store::CutRec::SIZE)
            .rev()
            .filter_map(|c| CutRecView::new_checked(c).ok())
            .find(|c| usize::from(c.len()) <= room)
            .map_or((usize::from(th.essential()), 0, false), |c| {
                (usize::from(c.len()), c.arcount(), c.required())
            });
        (len, [1, th.answers(), th.authorities(), arcount], tc)
    };
    let rcode = th.rcode();
    let end = base + body_len;
    let (Some(dst), Some(src)) = (out.get_mut(..end), t.body.get(..body_len)) else {
        return 0;
    };
    let (dst_head, dst_body) = dst.split_at_mut(base);
    dst_head.copy_from_slice(head);
    dst_body.copy_from_slice(src);
    let arcount = counts[3].saturating_add(u16::from(opt.is_some()));
    let header = Header {
        id: qh.id,
        qr: true,
        opcode: qh.opcode,
        aa: th.aa(),
        tc,
        rd: qh.rd,
        ra: false,
        z: false,
        ad: false,
        cd: qh.cd,
        rcode: Rcode::from_raw(u16::from(rcode.low_bits())),
        qdcount: counts[0],
        ancount: counts[1],
        nscount: counts[2],
        arcount,
    };
    if let Some(h) = out.get_mut(..Header::SIZE) {
        header.write(h, Endian::Big);
    }
    let Some(o) = opt else {
        return end;
    };
    let Some(dst) = out.get_mut(end..end + OPT_LEN) else {
        return 0;
    };
    dst.copy_from_slice(o);
    // Templates hold NOERROR or NXDOMAIN, whose extended bits are zero; patched all the same.
    if rcode.ext_bits() != 0
        && let Some(Ok(mut v)) = dst.get_mut(1..).map(OptRawView::new_checked)
    {
        v.set_ext_rcode(rcode.ext_bits());
    }
    end + OPT_LEN
}

/// Answer on the fly into `out`.
#[allow(clippy::too_many_arguments)]
fn answer_into(
    z: &ZoneIndex,
    qh: QueryHeader,
    name: &crate::name::NameBuf,
    qtype: RecordType,
    qclass: Class,
    dnssec: bool,
    opt: Option<&Edns<'_>>,
    limit: usize,
    out: &mut [u8],
) -> usize {
    let Ok(mut b) = MessageBuilder::new(out) else {
        return 0;
    };
    if b.set_limit(limit).is_err() || b.push_question(name, qtype, qclass).is_err() {
        return 0;
    }
    if let Some(o) = opt {
        let _ = b.set_edns(o);
    }
    let outcome = {
        let mut w = Writer::new(&mut b, false);
        let o = z.answer(name, qtype, dnssec, &mut w);
        w.finish();
        o
    };
    let tc = b.header().tc();
    let counts = {
        let h = b.header();
        [h.qdcount(), h.ancount(), h.nscount(), h.arcount()]
    };
    write_header(&mut b.header_mut(), qh, outcome, tc, counts);
    b.finish().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_not_any_is_is_meta_but_any() {
        for raw in 0..=u16::MAX {
            let t = RecordType::from_raw(raw);
            assert_eq!(
                meta_not_any(raw),
                t.is_meta() && t != RecordType::Any,
                "{raw}"
            );
        }
    }

    /// With nested zones added in any order, every name of every zone is in `names` under
    /// the zone that answers for it (the longest apex), or absent when that zone does not
    /// have it: the fast path never answers from the wrong zone, and never misses a name
    /// it could answer.
    #[cfg(feature = "zone")]
    #[test]
    fn names_belong_to_the_deepest_zone() {
        let zones = [
            (
                "example.com",
                "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\n\
                 b NS ns.b\nns.b A 192.0.2.3\nx.a.b A 192.0.2.9\n",
            ),
            (
                "b.example.com",
                "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.4\nx.a A 192.0.2.5\n\
                 c.a NS ns\n",
            ),
            (
                "a.b.example.com",
                "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.6\nx A 192.0.2.7\n",
            ),
        ];
        for order in [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ] {
            let mut s = Server::new(ServerConfig::default());
            for i in order {
                let (origin, text) = zones[i];
                s.add_zone(Zone::parse(origin, text).unwrap()).unwrap();
            }
            for z in &s.zones {
                for id in 0..z.index.node_count() as u32 {
                    let key = z.index.name_wire(z.index.node(id).unwrap());
                    let want = s.find_zone(key, RecordType::A, Class::In).unwrap();
                    let got = s
                        .names
                        .find(hash_name(key), |off| {
                            store::entry_key(&s.arena, off as usize) == key
                        })
                        .map(|off| store::entry_head(&s.arena, off as usize).unwrap().zone());
                    let deepest = &s.zones[want as usize];
                    match got {
                        Some(zi) => assert_eq!(
                            zi,
                            want,
                            "{order:?} {:?}",
                            z.index.name(z.index.node(id).unwrap())
                        ),
                        None => assert!(
                            deepest.index.lookup(key).is_none(),
                            "{order:?}: {} missing",
                            z.index.name(z.index.node(id).unwrap())
                        ),
                    }
                }
            }
        }
    }

    #[test]
    fn raw_layouts_match_the_wire_ones() {
        assert_eq!(QuestionRaw::SIZE, QuestionFixed::SIZE);
        assert_eq!(OptRaw::SIZE, OptFixed::SIZE);
        let opt = OptFixed {
            rtype: RecordType::Opt,
            udp_payload_size: 1232,
            ext_rcode: 1,
            version: 2,
            dnssec_ok: true,
            z: 0x1234,
            rdlength: 7,
        };
        let raw = OptRaw::from_bytes(&opt.to_bytes());
        assert_eq!(
            (raw.rtype, raw.udp_payload_size, raw.ext_rcode, raw.version),
            (41, 1232, 1, 2)
        );
        assert_eq!((raw.dnssec_ok, raw.z, raw.rdlength), (true, 0x1234, 7));
    }
}
