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
//! hash lookup, a header patch, a copy of the question and a copy of the template, the
//! compression pointers staying valid because the question name has the same length.
//! Types without their own template at a name share one fallback (a NODATA, or the end of
//! a CNAME chain). Referrals for names below a delegation point, wildcard expansions and
//! NXDOMAIN are answered on the fly through the same code ([`Server::handle_uncached`] does
//! that for every query; tests compare both byte for byte).

mod answer;
mod index;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use hashbrown::HashMap;
use unistack_cstruct::Field;

use self::answer::{Cut, Outcome, Writer};
use self::index::{FxBuild, Map, ZoneIndex, label_starts};
use crate::edns::Edns;
use crate::message::Message;
use crate::name::NameBuf;
use crate::wire::{Class, Header, HeaderView, Opcode, Rcode, RecordType};
use crate::zone::{Zone, lower};
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

/// One precompiled response: what follows the question.
#[derive(Debug)]
struct Template {
    flags: Outcome,
    answers: u16,
    authorities: u16,
    body: Box<[u8]>,
    /// Body length of the answer and authority sections.
    essential: usize,
    /// Places to cut the additional section, increasing; the last is the whole body.
    cuts: Box<[Cut]>,
}

/// Templates of one name: per type, with DO off and on, and one for every other type.
#[derive(Debug, Default)]
struct NodeTemplates {
    by_type: Vec<(RecordType, Option<[Template; 2]>)>,
    fallback: Option<[Template; 2]>,
}

struct ServedZone {
    index: ZoneIndex,
    templates: Vec<NodeTemplates>,
}

/// The authoritative server: zones and their precompiled responses. Immutable while
/// serving; [`handle`](Self::handle) takes `&self`.
pub struct Server {
    config: ServerConfig,
    zones: Vec<ServedZone>,
    apexes: Map<usize>,
}

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

/// A type present nowhere, asked to build the template shared by absent types.
fn probe_type(avoid: &[RecordType]) -> RecordType {
    (65280u16..=65534)
        .map(RecordType::from_raw)
        .find(|t| !avoid.contains(t))
        .unwrap_or(RecordType::Unknown(65534))
}

impl Server {
    /// A server with no zones.
    pub fn new(config: ServerConfig) -> Self {
        Server {
            config,
            zones: Vec::new(),
            apexes: HashMap::with_hasher(FxBuild),
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
        let key = lower(zone.origin().to_name_buf().as_wire()).into_boxed_slice();
        if self.apexes.contains_key(&key) {
            return Err(AddZoneError::Duplicate);
        }
        let index = ZoneIndex::new(zone);
        let templates = compile(&index);
        self.apexes.insert(key, self.zones.len());
        self.zones.push(ServedZone { index, templates });
        Ok(())
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
        self.handle_with(query, transport, out, true)
    }

    /// As [`handle`](Self::handle), computing every answer instead of copying precompiled
    /// ones: the same bytes, more slowly (for tests and benchmarks).
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
        let good_edns = edns.ok().flatten();
        if qh.opcode != Opcode::Query {
            return Ok(error_response(
                qh,
                Rcode::NotImp,
                None,
                good_edns.as_ref(),
                &self.config,
                out,
            ));
        }
        if h.qdcount() != 1 {
            return Ok(error_response(
                qh,
                Rcode::FormErr,
                None,
                good_edns.as_ref(),
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
        if let Some(e) = &edns
            && e.version > 0
        {
            return Ok(error_response(
                qh,
                Rcode::BadVers,
                echo,
                Some(e),
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
                edns.as_ref(),
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
                    edns.as_ref(),
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
                    edns.as_ref(),
                    &self.config,
                    out,
                ));
            }
            _ => {}
        }
        let name = qname.to_name_buf();
        let mut low = name;
        low.make_ascii_lowercase();
        let Some(zone) = self.find_zone(&low, qtype, question.qclass()) else {
            return Ok(error_response(
                qh,
                Rcode::Refused,
                Some(qbytes),
                edns.as_ref(),
                &self.config,
                out,
            ));
        };
        let limit = match transport {
            Transport::Tcp => MAX_MESSAGE_LEN,
            Transport::Udp => match &edns {
                Some(e) => usize::from(
                    e.effective_udp_payload_size()
                        .min(self.config.udp_payload_size.max(512)),
                ),
                None => 512,
            },
        }
        .min(out.len());
        let dnssec = edns.as_ref().is_some_and(|e| e.dnssec_ok);
        let opt = edns.as_ref().map(|e| self.response_edns(e));
        if templates && let Some(t) = zone.template(&low, qtype, dnssec) {
            return Ok(apply(t, qh, qbytes, opt.as_ref(), limit, out));
        }
        Ok(answer_into(
            &zone.index,
            qh,
            &name,
            qtype,
            question.qclass(),
            dnssec,
            opt.as_ref(),
            limit,
            out,
        ))
    }

    fn response_edns(&self, query: &Edns<'_>) -> Edns<'static> {
        let mut e = Edns::new(self.config.udp_payload_size.max(512));
        e.dnssec_ok = query.dnssec_ok;
        e
    }

    /// The zone for a lower-cased name: the longest apex suffix, of the right class.
    fn find_zone(&self, low: &NameBuf, qtype: RecordType, qclass: Class) -> Option<&ServedZone> {
        let wire = low.as_wire();
        let mut apex_match = None;
        for start in label_starts(wire) {
            let Some(&i) = self.apexes.get(wire.get(start..).unwrap_or_default()) else {
                continue;
            };
            let z = self.zones.get(i)?;
            if z.index.zone.class() != qclass {
                return None;
            }
            // DS lives on the parent side of a cut: prefer a parent zone we also serve.
            if start == 0 && qtype == RecordType::Ds && wire.len() > 1 {
                apex_match = Some(z);
                continue;
            }
            return Some(z);
        }
        apex_match
    }
}

impl ServedZone {
    fn template(&self, low: &NameBuf, qtype: RecordType, dnssec: bool) -> Option<&Template> {
        let node = self.index.lookup(low.as_wire())?;
        let t = self.templates.get(node as usize)?;
        // A type with an entry but no template (over 65535 bytes) is answered on the fly.
        let pair = match t.by_type.iter().find(|(rt, _)| *rt == qtype) {
            Some((_, p)) => p.as_ref()?,
            None => t.fallback.as_ref()?,
        };
        pair.get(usize::from(dnssec))
    }
}

/// A response with no answer: the header, maybe the question, maybe an OPT record.
fn error_response(
    qh: QueryHeader,
    rcode: Rcode,
    question: Option<&[u8]>,
    edns: Option<&Edns<'_>>,
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

/// Copy a template after the client's question.
fn apply(
    t: &Template,
    qh: QueryHeader,
    question: &[u8],
    opt: Option<&Edns<'_>>,
    limit: usize,
    out: &mut [u8],
) -> usize {
    let opt_len = opt.map_or(0, Edns::wire_len);
    let base = Header::SIZE + question.len();
    let room = limit.saturating_sub(base + opt_len);
    let (body_len, counts, tc) = if t.essential > room {
        (0, [1, 0, 0, 0], true)
    } else {
        let last = t.cuts.len().saturating_sub(1);
        let (i, cut) = t
            .cuts
            .iter()
            .enumerate()
            .rev()
            .find(|(_, c)| c.len <= room)
            .map_or(
                (
                    0,
                    Cut {
                        len: t.essential,
                        arcount: 0,
                        required: false,
                    },
                ),
                |(i, c)| (i, *c),
            );
        let tc = i != last && cut.required;
        (cut.len, [1, t.answers, t.authorities, cut.arcount], tc)
    };
    let Some(q) = out.get_mut(Header::SIZE..base) else {
        return 0;
    };
    q.copy_from_slice(question);
    let Some((dst, src)) = out
        .get_mut(base..base + body_len)
        .zip(t.body.get(..body_len))
    else {
        return 0;
    };
    dst.copy_from_slice(src);
    let mut h = HeaderView::new_unchecked(&mut *out);
    write_header(&mut h, qh, t.flags, tc, counts);
    let len = base + body_len;
    match opt {
        Some(o) => write_opt(out, len, o, t.flags.rcode),
        None => len,
    }
}

/// Answer on the fly into `out`.
#[allow(clippy::too_many_arguments)]
fn answer_into(
    z: &ZoneIndex,
    qh: QueryHeader,
    name: &NameBuf,
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

/// Precompile every exact answer of a zone.
fn compile(z: &ZoneIndex) -> Vec<NodeTemplates> {
    let mut buf = alloc::vec![0u8; MAX_MESSAGE_LEN];
    let mut all = Vec::with_capacity(z.nodes.len());
    for node in &z.nodes {
        // Names at or below a delegation point are referrals (except DS at the point
        // itself): only the point's own name has a fixed question.
        let cut_here = node
            .delegated
            .is_some_and(|c| z.node(c).is_some_and(|c| c.name == node.name));
        if node.delegated.is_some() && !cut_here {
            all.push(NodeTemplates::default());
            continue;
        }
        // The types whose answers differ: present here, or anywhere along a CNAME chain.
        let mut types: Vec<RecordType> = alloc::vec![
            RecordType::Any,
            RecordType::Rrsig,
            RecordType::Cname,
            RecordType::Ds
        ];
        let mut n = Some(node);
        let mut hops = 0;
        while let Some(cur) = n {
            for rs in &cur.rrsets {
                if !types.contains(&rs.rtype) {
                    types.push(rs.rtype);
                }
            }
            hops += 1;
            n = cur
                .rrset(RecordType::Cname)
                .filter(|_| hops <= answer::MAX_CNAME_CHAIN)
                .and_then(|rs| rs.records.first())
                .and_then(|&i| z.record(i))
                .and_then(|r| match r.rdata() {
                    Ok(crate::RData::Cname(t)) => {
                        z.answering_node(&lower(t.to_name_buf().as_wire()))
                    }
                    _ => None,
                })
                .and_then(|id| z.node(id));
        }
        let build = |qtype: RecordType, buf: &mut [u8]| -> Option<[Template; 2]> {
            Some([
                template(z, &node.name, qtype, false, buf)?,
                template(z, &node.name, qtype, true, buf)?,
            ])
        };
        let mut t = NodeTemplates::default();
        if cut_here {
            // DS is answered from this zone; every other type is the referral.
            t.by_type
                .push((RecordType::Ds, build(RecordType::Ds, &mut buf)));
            t.fallback = build(probe_type(&types), &mut buf);
        } else {
            for &rt in &types {
                t.by_type.push((rt, build(rt, &mut buf)));
            }
            t.fallback = build(probe_type(&types), &mut buf);
        }
        all.push(t);
    }
    all
}

/// Record the answer for a question of `name`.
fn template(
    z: &ZoneIndex,
    name: &NameBuf,
    qtype: RecordType,
    dnssec: bool,
    buf: &mut [u8],
) -> Option<Template> {
    let mut b = MessageBuilder::new(buf).ok()?;
    b.push_question(name, qtype, z.zone.class()).ok()?;
    let qend = b.message_len();
    let mut w = Writer::new(&mut b, true);
    let flags = z.answer(name, qtype, dnssec, &mut w);
    let w = w.finish();
    let essential = w.essential?.checked_sub(qend)?;
    let cuts: Box<[Cut]> = w
        .cuts?
        .into_iter()
        .map(|c| Cut {
            len: c.len - qend,
            ..c
        })
        .collect();
    let (answers, authorities) = (b.header().ancount(), b.header().nscount());
    if b.header().tc() {
        // Does not fit even 65535 bytes: leave it to the on-the-fly path.
        return None;
    }
    let msg = b.finish();
    Some(Template {
        flags,
        answers,
        authorities,
        body: msg.get(qend..)?.into(),
        essential,
        cuts,
    })
}
