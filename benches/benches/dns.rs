//! DNS: unistack-dns against domain 0.12, hickory-proto 0.26 and simple-dns 0.13.
//!
//! `cargo bench -p unistack-benches --bench dns` (`cargo test --benches` runs a short smoke that
//! still checks every contender computes the same thing, and that unistack allocates nothing).
//! `UNISTACK_BENCH_ONLY=codec` or `=engine` runs one part; `UNISTACK_DNS_NAMES=100,10000` sets
//! the engine's zone sizes (default 100, 10,000, 100,000 and 1,000,000 names; the smoke run
//! uses 100 and 500 names and 200 messages).
//!
//! # Workload
//! A zone `example.com.` of hosts `host-NNNNNN` (a 25-octet name), each with one RRset of 1 to
//! 10 records: A (35%), AAAA (30%), MX (15%, exchanges `mxN.example.com.`) or TXT (20%, one
//! 10..38-octet string), all generated from a seed. 1,000 messages pick hosts at random: the
//! query is 52 bytes (header, the question for the host's type, an EDNS OPT record with
//! 1232), the response ~184 bytes on average (AA, the question, the RRset with every owner a
//! pointer to the question, exchanges pointing into it, the OPT record).
//!
//! # Codec (every contender on the same 1,000 messages; domain is the baseline)
//! - parse query / walk response: read every question and record, every label of every name
//!   (owners, MX exchanges) and every RDATA field, and the EDNS payload size and version;
//!   each contender folds what it read into a digest that must match the others'. unistack:
//!   `Message` iterators and `Record::rdata`/`edns`; domain: `Message` with
//!   `AllRecordData<_, ParsedName<_>>` section by section; hickory: `Message::from_vec`;
//!   simple-dns: `Packet::parse`; floor: a hand-written walker (pointers, bounds, the four
//!   RDATA types only).
//! - build response: from the content in each library's own types, prepared beforehand
//!   (names, RDATA, header values), write the response with name compression into a reused
//!   buffer. unistack: `MessageBuilder`; domain: `MessageBuilder` over `StaticCompressor<Vec>`;
//!   hickory: `emit_message_parts` over prepared `Record`s (its server's path; a `Message` is
//!   never built); simple-dns: `Packet::write_compressed_to` of a prepared `Packet`. The
//!   outputs are checked byte for byte against each other before timing.
//! - query to reply: parse the query, start a reply echoing its question, add one A record
//!   owned by the question's name and an OPT record if the query had one, finish.
//!
//! Allocations per message are counted with a counting global allocator (`stats_alloc`, one
//! pass over the messages outside the timed rounds). Its two atomic adds per allocation and
//! per free also slow the allocating contenders (hickory, simple-dns) a little.
//!
//! # Engine (query bytes in, response bytes out; domain is the baseline)
//! For each zone size: the zone as master-file text, `Zone::parse` and `Server::add_zone`
//! timed, bytes per name from the counting allocator; then the 1,000 queries (hosts drawn
//! from the zone, the host's type), answered by
//! - domain: the fairest peer server path we could write: `Message::from_octets`, checks of
//!   the header (not a response, QUERY, one question, class IN), the name lower-cased into a
//!   stack buffer and looked up in a hash map (the same Fx hash unistack uses) of RRsets in
//!   domain's types, the reply built with `start_answer` on a `StaticCompressor<Vec>`, AA,
//!   the RRset, an OPT record when the query had one;
//! - unistack `Server::handle` (precompiled responses); `Server::warm` on each batch of 32
//!   queries and then `handle` on each (what unistack-dnsd does with a `recvmmsg` batch); and
//!   `handle_uncached` (the same answers computed per query);
//! - floor: a hand-written memo: header checks, the name lower-cased, one hash lookup of
//!   prepared response bytes, three copies and a header patch.
//!
//! Every response is compared byte for byte between the contenders before timing. Only hits
//! are measured (no NXDOMAIN, no referrals). From 100,000 names up, a second query set of
//! 100,000 queries spread over the whole zone shows the effect of the caches.

use std::alloc::System;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use unistack_benches::{Group, Rng, selected};
use unistack_dns::server::{Server, ServerConfig, Transport};
use unistack_dns::{
    Class, Edns, Message, MessageBuilder, Mx, NameBuf, RData, Rcode, RecordType, Section, Txt, Zone,
};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const ORIGIN: &str = "example.com.";
const TTL: u32 = 3600;
const EDNS_SIZE: u16 = 1232;
const MESSAGES: usize = 1000;
const REPLY_ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

// ---------------------------------------------------------------------------------------------
// The workload.

/// One record of a host's RRset.
#[derive(Clone, Debug)]
enum Ans {
    A([u8; 4]),
    Aaaa([u8; 16]),
    /// Preference and the exchange's first label (`mxN`, under the origin).
    Mx(u16, String),
    /// One character-string, in wire form (its length octet first).
    Txt(Vec<u8>),
}

impl Ans {
    fn rtype(&self) -> RecordType {
        match self {
            Ans::A(_) => RecordType::A,
            Ans::Aaaa(_) => RecordType::Aaaa,
            Ans::Mx(..) => RecordType::Mx,
            Ans::Txt(_) => RecordType::Txt,
        }
    }

    /// The master-file RDATA.
    fn zone_text(&self) -> String {
        match self {
            Ans::A(a) => format!("A {}", Ipv4Addr::from(*a)),
            Ans::Aaaa(a) => format!("AAAA {}", Ipv6Addr::from(*a)),
            Ans::Mx(p, x) => format!("MX {p} {x}"),
            Ans::Txt(t) => format!("TXT \"{}\"", String::from_utf8_lossy(&t[1..])),
        }
    }
}

fn host_name(i: u32) -> String {
    format!("host-{i:06}.{ORIGIN}")
}

/// The RRset of host `i`: a type and 1..=10 records, from a seed.
fn rrset(i: u32) -> Vec<Ans> {
    let mut rng = Rng::new(0x646e_735f_7272_7365 ^ u64::from(i).wrapping_mul(0x9e37_79b9));
    let kind = rng.below(100);
    let n = 1 + rng.below(10) as usize;
    (0..n)
        .map(|j| {
            let j8 = j as u8;
            if kind < 35 {
                Ans::A([10, (i >> 8) as u8, i as u8, j8])
            } else if kind < 65 {
                let mut a = [0u8; 16];
                a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
                a[8..12].copy_from_slice(&i.to_be_bytes());
                a[15] = j8;
                Ans::Aaaa(a)
            } else if kind < 80 {
                Ans::Mx(10 * (j as u16 + 1), format!("mx{j}"))
            } else {
                let len = 10 + rng.below(29) as usize;
                let mut t = format!("_txt{j}-").into_bytes();
                while t.len() < len + 1 {
                    t.push(b'a' + rng.below(26) as u8);
                }
                t[0] = len as u8;
                Ans::Txt(t)
            }
        })
        .collect()
}

/// One message of the codec workload.
struct Spec {
    id: u16,
    host: u32,
    qtype: RecordType,
    answers: Vec<Ans>,
}

fn query_bytes(id: u16, host: u32, qtype: RecordType) -> Vec<u8> {
    query_for(id, &host_name(host), qtype)
}

/// A query (RD, EDNS) for any name.
fn query_for(id: u16, name: &str, qtype: RecordType) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let mut b = MessageBuilder::new(&mut buf).expect("room");
    b.header_mut().set_id(id);
    b.header_mut().set_rd(true);
    b.push_question(name, qtype, Class::In).expect("question");
    b.set_edns(&Edns::new(EDNS_SIZE)).expect("opt");
    b.finish().to_vec()
}

struct Workload {
    specs: Vec<Spec>,
    queries: Vec<Vec<u8>>,
    responses: Vec<Vec<u8>>,
}

fn workload(n: usize) -> Workload {
    let mut rng = Rng::new(0x0063_6f64_6563);
    let specs: Vec<Spec> = (0..n)
        .map(|_| {
            let host = rng.below(1_000_000) as u32;
            let answers = rrset(host);
            Spec {
                id: rng.next_u64() as u16,
                host,
                qtype: answers[0].rtype(),
                answers,
            }
        })
        .collect();
    let queries = specs
        .iter()
        .map(|s| query_bytes(s.id, s.host, s.qtype))
        .collect();
    let uni = UniSpecs::new(&specs);
    let mut buf = vec![0u8; 4096];
    let responses = (0..specs.len())
        .map(|i| {
            let n = uni.build(i, &mut buf);
            buf[..n].to_vec()
        })
        .collect();
    Workload {
        specs,
        queries,
        responses,
    }
}

// ---------------------------------------------------------------------------------------------
// Digests: every contender folds what it read the same way.

/// Field tags.
const T_ID: u64 = 1;
const T_LABEL: u64 = 2;
const T_TYPE: u64 = 3;
const T_CLASS: u64 = 4;
const T_TTL: u64 = 5;
const T_A: u64 = 6;
const T_AAAA: u64 = 7;
const T_PREF: u64 = 8;
const T_TXT: u64 = 9;
const T_PAYLOAD: u64 = 10;
const T_VERSION: u64 = 11;
const T_OTHER: u64 = 12;

/// Fold field `tag` of item `item` into the digest (independent multiplies; adds reassociate).
#[inline(always)]
fn mix(acc: u64, tag: u64, item: u64, v: u64) -> u64 {
    acc.wrapping_add((v ^ (tag << 56) ^ (item << 40)).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// A label as its length, first and last octet (every label is located, not hashed byte by
/// byte, so the digest costs the same small amount for everyone).
#[inline(always)]
fn label_value(l: &[u8]) -> u64 {
    let first = l.first().copied().unwrap_or(0);
    let last = l.last().copied().unwrap_or(0);
    l.len() as u64 | u64::from(first) << 8 | u64::from(last) << 16
}

#[inline(always)]
fn fold_labels<'x>(mut acc: u64, item: u64, labels: impl Iterator<Item = &'x [u8]>) -> u64 {
    for (k, l) in labels.enumerate() {
        acc = mix(acc, T_LABEL, item << 8 | k as u64, label_value(l));
    }
    acc
}

#[inline(always)]
fn fold_aaaa(acc: u64, item: u64, a: u128) -> u64 {
    let acc = mix(acc, T_AAAA, item, (a >> 64) as u64);
    mix(acc, T_AAAA, item | 1 << 12, a as u64)
}

// ---------------------------------------------------------------------------------------------
// Walking messages.

#[inline(never)]
fn walk_unistack(bytes: &[u8]) -> Option<u64> {
    let m = Message::new(bytes).ok()?;
    let mut acc = mix(0, T_ID, 0, u64::from(m.id()));
    for (i, q) in m.questions().enumerate() {
        let q = q.ok()?;
        let i = i as u64;
        acc = fold_labels(acc, i, q.name().labels());
        acc = mix(acc, T_TYPE, i, u64::from(q.qtype().to_raw()));
        acc = mix(acc, T_CLASS, i, u64::from(q.qclass().to_raw()));
    }
    for (i, r) in m.records().enumerate() {
        let r = r.ok()?;
        let i = 100 + i as u64;
        if r.rtype() == RecordType::Opt {
            let e = r.edns().ok()?;
            acc = mix(acc, T_PAYLOAD, 0, u64::from(e.udp_payload_size));
            acc = mix(acc, T_VERSION, 0, u64::from(e.version));
            continue;
        }
        acc = fold_labels(acc, i, r.name().labels());
        acc = mix(acc, T_TYPE, i, u64::from(r.rtype().to_raw()));
        acc = mix(acc, T_CLASS, i, u64::from(r.class().to_raw()));
        acc = mix(acc, T_TTL, i, u64::from(r.ttl()));
        acc = match r.rdata().ok()? {
            RData::A(a) => mix(acc, T_A, i, u64::from(a.to_bits())),
            RData::Aaaa(a) => fold_aaaa(acc, i, a.to_bits()),
            RData::Mx(mx) => {
                let acc = mix(acc, T_PREF, i, u64::from(mx.preference));
                fold_labels(acc, i | 1 << 12, mx.exchange.labels())
            }
            RData::Txt(t) => fold_labels(mix(acc, T_TXT, i, 0), i | 2 << 12, t.strings()),
            _ => mix(acc, T_OTHER, i, r.rdata_bytes().len() as u64),
        };
    }
    Some(acc)
}

#[inline(never)]
fn walk_domain(bytes: &[u8]) -> Option<u64> {
    use domain::base::iana::Rtype;
    use domain::base::{Message as DMessage, ParsedName};
    use domain::rdata::AllRecordData;
    let m = DMessage::from_octets(bytes).ok()?;
    let mut acc = mix(0, T_ID, 0, u64::from(m.header().id()));
    let mut questions = m.question();
    for (i, q) in (&mut questions).enumerate() {
        let q = q.ok()?;
        let i = i as u64;
        acc = fold_labels(
            acc,
            i,
            q.qname()
                .iter()
                .filter(|l| !l.is_root())
                .map(|l| l.as_slice()),
        );
        acc = mix(acc, T_TYPE, i, u64::from(q.qtype().to_int()));
        acc = mix(acc, T_CLASS, i, u64::from(q.qclass().to_int()));
    }
    let mut section = questions.answer().ok()?;
    let mut i = 100u64;
    loop {
        for r in &mut section {
            let r = r.ok()?;
            if r.rtype() == Rtype::OPT {
                let rec = r
                    .to_any_record::<AllRecordData<&[u8], ParsedName<&[u8]>>>()
                    .ok()?;
                acc = mix(acc, T_PAYLOAD, 0, u64::from(rec.class().to_int()));
                acc = mix(
                    acc,
                    T_VERSION,
                    0,
                    u64::from((rec.ttl().as_secs() >> 16) as u8),
                );
                i += 1;
                continue;
            }
            let rec = r
                .to_any_record::<AllRecordData<&[u8], ParsedName<&[u8]>>>()
                .ok()?;
            acc = fold_labels(
                acc,
                i,
                rec.owner()
                    .iter()
                    .filter(|l| !l.is_root())
                    .map(|l| l.as_slice()),
            );
            acc = mix(acc, T_TYPE, i, u64::from(rec.rtype().to_int()));
            acc = mix(acc, T_CLASS, i, u64::from(rec.class().to_int()));
            acc = mix(acc, T_TTL, i, u64::from(rec.ttl().as_secs()));
            acc = match rec.data() {
                AllRecordData::A(a) => mix(acc, T_A, i, u64::from(a.addr().to_bits())),
                AllRecordData::Aaaa(a) => fold_aaaa(acc, i, a.addr().to_bits()),
                AllRecordData::Mx(mx) => {
                    let acc = mix(acc, T_PREF, i, u64::from(mx.preference()));
                    fold_labels(
                        acc,
                        i | 1 << 12,
                        mx.exchange()
                            .iter()
                            .filter(|l| !l.is_root())
                            .map(|l| l.as_slice()),
                    )
                }
                AllRecordData::Txt(t) => fold_labels(mix(acc, T_TXT, i, 0), i | 2 << 12, t.iter()),
                _ => mix(acc, T_OTHER, i, u64::from(r.rdlen())),
            };
            i += 1;
        }
        match section.next_section().ok()? {
            Some(s) => section = s,
            None => break,
        }
    }
    Some(acc)
}

#[inline(never)]
fn walk_hickory(bytes: &[u8]) -> Option<u64> {
    use hickory_proto::op::Message as HMessage;
    use hickory_proto::rr::RData as HRData;
    let m = HMessage::from_vec(bytes).ok()?;
    let mut acc = mix(0, T_ID, 0, u64::from(m.metadata.id));
    for (i, q) in m.queries.iter().enumerate() {
        let i = i as u64;
        acc = fold_labels(acc, i, q.name().iter());
        acc = mix(acc, T_TYPE, i, u64::from(u16::from(q.query_type())));
        acc = mix(acc, T_CLASS, i, u64::from(u16::from(q.query_class())));
    }
    let records = m.answers.iter().chain(&m.authorities).chain(&m.additionals);
    for (i, r) in records.enumerate() {
        let i = 100 + i as u64;
        acc = fold_labels(acc, i, r.name.iter());
        acc = mix(acc, T_TYPE, i, u64::from(u16::from(r.record_type())));
        acc = mix(acc, T_CLASS, i, u64::from(u16::from(r.dns_class)));
        acc = mix(acc, T_TTL, i, u64::from(r.ttl));
        acc = match &r.data {
            HRData::A(a) => mix(acc, T_A, i, u64::from(a.0.to_bits())),
            HRData::AAAA(a) => fold_aaaa(acc, i, a.0.to_bits()),
            HRData::MX(mx) => {
                let acc = mix(acc, T_PREF, i, u64::from(mx.preference));
                fold_labels(acc, i | 1 << 12, mx.exchange.iter())
            }
            HRData::TXT(t) => fold_labels(
                mix(acc, T_TXT, i, 0),
                i | 2 << 12,
                t.txt_data.iter().map(|s| &s[..]),
            ),
            _ => mix(acc, T_OTHER, i, 0),
        };
    }
    if let Some(e) = &m.edns {
        acc = mix(acc, T_PAYLOAD, 0, u64::from(e.max_payload()));
        acc = mix(acc, T_VERSION, 0, u64::from(e.version()));
    }
    Some(acc)
}

#[inline(never)]
fn walk_simple(bytes: &[u8]) -> Option<u64> {
    use simple_dns::Packet;
    use simple_dns::rdata::RData as SRData;
    let p = Packet::parse(bytes).ok()?;
    let mut acc = mix(0, T_ID, 0, u64::from(p.id()));
    for (i, q) in p.questions.iter().enumerate() {
        let i = i as u64;
        acc = fold_labels(acc, i, q.qname.get_labels().iter().map(|l| l.as_ref()));
        acc = mix(acc, T_TYPE, i, u64::from(u16::from(q.qtype)));
        acc = mix(acc, T_CLASS, i, u64::from(u16::from(q.qclass)));
    }
    let records = p
        .answers
        .iter()
        .chain(&p.name_servers)
        .chain(&p.additional_records);
    for (i, r) in records.enumerate() {
        let i = 100 + i as u64;
        acc = fold_labels(acc, i, r.name.get_labels().iter().map(|l| l.as_ref()));
        acc = mix(acc, T_TYPE, i, u64::from(u16::from(r.rdata.type_code())));
        acc = mix(acc, T_CLASS, i, u64::from(r.class as u16));
        acc = mix(acc, T_TTL, i, u64::from(r.ttl));
        acc = match &r.rdata {
            SRData::A(a) => mix(acc, T_A, i, u64::from(a.address)),
            SRData::AAAA(a) => fold_aaaa(acc, i, a.address),
            SRData::MX(mx) => {
                let acc = mix(acc, T_PREF, i, u64::from(mx.preference));
                fold_labels(
                    acc,
                    i | 1 << 12,
                    mx.exchange.get_labels().iter().map(|l| l.as_ref()),
                )
            }
            // The workload's strings hold no `=`, so each "key" is the whole string.
            SRData::TXT(t) => fold_labels(
                mix(acc, T_TXT, i, 0),
                i | 2 << 12,
                t.iter_raw().map(|(k, _)| k),
            ),
            _ => mix(acc, T_OTHER, i, 0),
        };
    }
    if let Some(e) = p.opt() {
        acc = mix(acc, T_PAYLOAD, 0, u64::from(e.udp_packet_size));
        acc = mix(acc, T_VERSION, 0, u64::from(e.version));
    }
    Some(acc)
}

// The hand-written floor: what a careful person writes with no library.

#[inline(always)]
fn be16(m: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*m.get(at)?, *m.get(at + 1)?]))
}

/// Walk the name at `pos` (pointers strictly backwards, at most 255 octets), folding its
/// labels; return the offset after it in place.
#[inline(always)]
fn hw_name(m: &[u8], mut pos: usize, acc: &mut u64, item: u64) -> Option<usize> {
    let (mut end, mut seq, mut total, mut k) = (0usize, pos, 0usize, 0u64);
    loop {
        let b = usize::from(*m.get(pos)?);
        match b & 0xc0 {
            0 if b == 0 => return Some(if end == 0 { pos + 1 } else { end }),
            0 => {
                total += b + 1;
                let l = m.get(pos + 1..pos + 1 + b).filter(|_| total < 255)?;
                *acc = mix(*acc, T_LABEL, item << 8 | k, label_value(l));
                k += 1;
                pos += 1 + b;
            }
            0xc0 => {
                let target = (b & 0x3f) << 8 | usize::from(*m.get(pos + 1)?);
                if target >= seq {
                    return None;
                }
                if end == 0 {
                    end = pos + 2;
                }
                (pos, seq) = (target, target);
            }
            _ => return None,
        }
    }
}

#[inline(never)]
fn walk_floor(m: &[u8]) -> Option<u64> {
    let mut acc = mix(0, T_ID, 0, u64::from(be16(m, 0)?));
    let qd = be16(m, 4)?;
    let rr = u64::from(be16(m, 6)?) + u64::from(be16(m, 8)?) + u64::from(be16(m, 10)?);
    let mut pos = 12;
    for i in 0..u64::from(qd) {
        pos = hw_name(m, pos, &mut acc, i)?;
        acc = mix(acc, T_TYPE, i, u64::from(be16(m, pos)?));
        acc = mix(acc, T_CLASS, i, u64::from(be16(m, pos + 2)?));
        pos += 4;
    }
    for i in 100..100 + rr {
        let mut owner = 0u64;
        let after = hw_name(m, pos, &mut owner, i)?;
        let (t, c) = (be16(m, after)?, be16(m, after + 2)?);
        let ttl = u32::from(be16(m, after + 4)?) << 16 | u32::from(be16(m, after + 6)?);
        let (start, end) = (after + 10, after + 10 + usize::from(be16(m, after + 8)?));
        let rd = m.get(start..end)?;
        pos = end;
        if t == 41 {
            acc = mix(acc, T_PAYLOAD, 0, u64::from(c));
            acc = mix(acc, T_VERSION, 0, u64::from((ttl >> 16) as u8));
            continue;
        }
        acc = acc.wrapping_add(owner);
        acc = mix(acc, T_TYPE, i, u64::from(t));
        acc = mix(acc, T_CLASS, i, u64::from(c));
        acc = mix(acc, T_TTL, i, u64::from(ttl));
        acc = match (t, rd.len()) {
            (1, 4) => mix(
                acc,
                T_A,
                i,
                u64::from(u32::from_be_bytes(rd.try_into().ok()?)),
            ),
            (28, 16) => fold_aaaa(acc, i, u128::from_be_bytes(rd.try_into().ok()?)),
            (15, 3..) => {
                let acc = mix(acc, T_PREF, i, u64::from(be16(rd, 0)?));
                let mut acc2 = acc;
                (hw_name(&m[..end], start + 2, &mut acc2, i | 1 << 12)? == end).then_some(acc2)?
            }
            (16, _) => {
                let (mut acc, mut s, mut k) = (mix(acc, T_TXT, i, 0), rd, 0u64);
                while let Some((&l, rest)) = s.split_first() {
                    let (string, rest) = rest.split_at_checked(usize::from(l))?;
                    acc = mix(acc, T_LABEL, (i | 2 << 12) << 8 | k, label_value(string));
                    (s, k) = (rest, k + 1);
                }
                acc
            }
            _ => mix(acc, T_OTHER, i, rd.len() as u64),
        };
    }
    Some(acc)
}

// ---------------------------------------------------------------------------------------------
// Building responses: each contender's content, prepared in its own types.

struct UniSpecs<'a> {
    items: Vec<(u16, NameBuf, RecordType, Vec<RData<'a, NameBuf>>)>,
}

fn uni_rdata(a: &Ans) -> RData<'_, NameBuf> {
    match a {
        Ans::A(x) => RData::A(Ipv4Addr::from(*x)),
        Ans::Aaaa(x) => RData::Aaaa(Ipv6Addr::from(*x)),
        Ans::Mx(p, x) => RData::Mx(Mx {
            preference: *p,
            exchange: NameBuf::from_dotted(&format!("{x}.{ORIGIN}")).expect("name"),
        }),
        Ans::Txt(t) => RData::Txt(Txt::from_wire(t).expect("txt")),
    }
}

impl<'a> UniSpecs<'a> {
    fn new(specs: &'a [Spec]) -> Self {
        UniSpecs {
            items: specs
                .iter()
                .map(|s| {
                    (
                        s.id,
                        NameBuf::from_dotted(&host_name(s.host)).expect("name"),
                        s.qtype,
                        s.answers.iter().map(uni_rdata).collect(),
                    )
                })
                .collect(),
        }
    }

    #[inline(never)]
    fn build(&self, i: usize, buf: &mut [u8]) -> usize {
        let (id, qname, qtype, answers) = &self.items[i];
        let mut b = MessageBuilder::new(buf).expect("room");
        let mut h = b.header_mut();
        h.set_id(*id);
        h.set_qr(true);
        h.set_aa(true);
        h.set_rd(true);
        b.push_question(qname, *qtype, Class::In).expect("question");
        b.set_edns(&Edns::new(EDNS_SIZE)).expect("opt");
        for rd in answers {
            b.push_answer(qname, Class::In, TTL, rd).expect("answer");
        }
        b.finish().len()
    }
}

type DName = domain::base::Name<Vec<u8>>;
type DData = domain::rdata::AllRecordData<Vec<u8>, DName>;

fn domain_name(s: &str) -> DName {
    let wire = NameBuf::from_dotted(s).expect("name");
    DName::from_octets(wire.as_wire().to_vec()).expect("name")
}

fn domain_rdata(a: &Ans) -> DData {
    use domain::rdata::{A, Aaaa, Mx as DMx, Txt as DTxt};
    match a {
        Ans::A(x) => DData::A(A::new(Ipv4Addr::from(*x))),
        Ans::Aaaa(x) => DData::Aaaa(Aaaa::new(Ipv6Addr::from(*x))),
        Ans::Mx(p, x) => DData::Mx(DMx::new(*p, domain_name(&format!("{x}.{ORIGIN}")))),
        Ans::Txt(t) => DData::Txt(DTxt::from_octets(t.clone()).expect("txt")),
    }
}

struct DomainSpecs {
    items: Vec<(u16, DName, domain::base::iana::Rtype, Vec<DData>)>,
    vec: Vec<u8>,
}

impl DomainSpecs {
    fn new(specs: &[Spec]) -> Self {
        DomainSpecs {
            items: specs
                .iter()
                .map(|s| {
                    (
                        s.id,
                        domain_name(&host_name(s.host)),
                        domain::base::iana::Rtype::from_int(s.qtype.to_raw()),
                        s.answers.iter().map(domain_rdata).collect(),
                    )
                })
                .collect(),
            vec: Vec::with_capacity(4096),
        }
    }

    #[inline(never)]
    fn build(&mut self, i: usize) -> &[u8] {
        use domain::base::{MessageBuilder as DBuilder, StaticCompressor};
        let (id, qname, qtype, answers) = &self.items[i];
        let target = StaticCompressor::new(std::mem::take(&mut self.vec));
        let mut b = DBuilder::from_target(target).expect("room");
        let h = b.header_mut();
        h.set_id(*id);
        h.set_qr(true);
        h.set_aa(true);
        h.set_rd(true);
        let mut q = b.question();
        q.push((qname, *qtype)).expect("question");
        let mut a = q.answer();
        for d in answers {
            a.push((qname, TTL, d)).expect("answer");
        }
        let mut add = a.additional();
        add.opt(|o| {
            o.set_udp_payload_size(EDNS_SIZE);
            Ok(())
        })
        .expect("opt");
        self.vec = add.finish().into_target();
        &self.vec
    }
}

fn hickory_name(s: &str) -> hickory_proto::rr::Name {
    hickory_proto::rr::Name::from_ascii(s).expect("name")
}

fn hickory_rdata(a: &Ans) -> hickory_proto::rr::RData {
    use hickory_proto::rr::RData as HRData;
    use hickory_proto::rr::rdata::{A, AAAA, MX, TXT};
    match a {
        Ans::A(x) => HRData::A(A(Ipv4Addr::from(*x))),
        Ans::Aaaa(x) => HRData::AAAA(AAAA(Ipv6Addr::from(*x))),
        Ans::Mx(p, x) => HRData::MX(MX::new(*p, hickory_name(&format!("{x}.{ORIGIN}")))),
        Ans::Txt(t) => HRData::TXT(TXT::new(vec![
            String::from_utf8(t[1..].to_vec()).expect("ascii"),
        ])),
    }
}

struct HickorySpecs {
    items: Vec<(
        hickory_proto::op::Metadata,
        hickory_proto::op::Query,
        Vec<hickory_proto::rr::Record>,
    )>,
    edns: hickory_proto::op::Edns,
    vec: Vec<u8>,
}

impl HickorySpecs {
    fn new(specs: &[Spec]) -> Self {
        use hickory_proto::op::{Edns as HEdns, Message as HMessage, OpCode, Query};
        use hickory_proto::rr::{Record, RecordType as HType};
        let mut edns = HEdns::new();
        edns.set_max_payload(EDNS_SIZE);
        HickorySpecs {
            items: specs
                .iter()
                .map(|s| {
                    let mut meta = HMessage::response(s.id, OpCode::Query).metadata;
                    meta.authoritative = true;
                    meta.recursion_desired = true;
                    let name = hickory_name(&host_name(s.host));
                    let q = Query::query(name.clone(), HType::from(s.qtype.to_raw()));
                    let answers = s
                        .answers
                        .iter()
                        .map(|a| Record::from_rdata(name.clone(), TTL, hickory_rdata(a)))
                        .collect();
                    (meta, q, answers)
                })
                .collect(),
            edns,
            vec: Vec::with_capacity(4096),
        }
    }

    #[inline(never)]
    fn build(&mut self, i: usize) -> &[u8] {
        use hickory_proto::op::emit_message_parts;
        use hickory_proto::rr::Record;
        use hickory_proto::serialize::binary::BinEncoder;
        let (meta, q, answers) = &self.items[i];
        self.vec.clear();
        let mut enc = BinEncoder::new(&mut self.vec);
        emit_message_parts(
            meta,
            &mut std::iter::once(q),
            &mut answers.iter(),
            &mut std::iter::empty::<&Record>(),
            &mut std::iter::empty::<&Record>(),
            Some(&self.edns),
            None,
            &mut enc,
        )
        .expect("emit");
        &self.vec
    }
}

struct SimpleSpecs<'a> {
    packets: Vec<simple_dns::Packet<'a>>,
    vec: Vec<u8>,
}

fn simple_name(s: &str) -> simple_dns::Name<'static> {
    simple_dns::Name::new_unchecked(s).into_owned()
}

fn simple_rdata(a: &Ans) -> simple_dns::rdata::RData<'static> {
    use simple_dns::rdata::{A, AAAA, MX, RData as SRData, TXT};
    match a {
        Ans::A(x) => SRData::A(A {
            address: u32::from_be_bytes(*x),
        }),
        Ans::Aaaa(x) => SRData::AAAA(AAAA {
            address: u128::from_be_bytes(*x),
        }),
        Ans::Mx(p, x) => SRData::MX(MX {
            preference: *p,
            exchange: simple_name(&format!("{x}.{ORIGIN}")),
        }),
        Ans::Txt(t) => {
            let s = simple_dns::CharacterString::new(&t[1..])
                .expect("string")
                .into_owned();
            SRData::TXT(TXT::new().with_char_string(s).into_owned())
        }
    }
}

impl SimpleSpecs<'static> {
    fn new(specs: &[Spec]) -> Self {
        use simple_dns::rdata::OPT;
        use simple_dns::{
            CLASS, Packet, PacketFlag, QCLASS, QTYPE, Question, ResourceRecord, TYPE,
        };
        SimpleSpecs {
            packets: specs
                .iter()
                .map(|s| {
                    let mut p = Packet::new_reply(s.id);
                    p.set_flags(PacketFlag::AUTHORITATIVE_ANSWER | PacketFlag::RECURSION_DESIRED);
                    let name = simple_name(&host_name(s.host));
                    p.questions.push(Question::new(
                        name.clone(),
                        QTYPE::TYPE(TYPE::from(s.qtype.to_raw())),
                        QCLASS::CLASS(CLASS::IN),
                        false,
                    ));
                    for a in &s.answers {
                        p.answers.push(ResourceRecord::new(
                            name.clone(),
                            CLASS::IN,
                            TTL,
                            simple_rdata(a),
                        ));
                    }
                    *p.opt_mut() = Some(OPT {
                        opt_codes: Vec::new(),
                        udp_packet_size: EDNS_SIZE,
                        version: 0,
                    });
                    p
                })
                .collect(),
            vec: Vec::with_capacity(4096),
        }
    }

    #[inline(never)]
    fn build(&mut self, i: usize) -> &[u8] {
        self.vec.clear();
        let mut cursor = std::io::Cursor::new(&mut self.vec);
        self.packets[i]
            .write_compressed_to(&mut cursor)
            .expect("write");
        &self.vec
    }
}

/// A cheap digest of a built message for the timed rounds (the full comparison is done once,
/// before): its length and header counts.
#[inline(always)]
fn built_digest(acc: u64, i: usize, m: &[u8]) -> u64 {
    let counts = m
        .get(4..12)
        .map_or(0, |c| u64::from_be_bytes(c.try_into().unwrap_or([0; 8])));
    mix(
        mix(acc, T_ID, i as u64, m.len() as u64),
        T_OTHER,
        i as u64,
        counts,
    )
}

// ---------------------------------------------------------------------------------------------
// Query to reply: parse the query, reply with its question, one A record and EDNS.

#[inline(never)]
fn reply_unistack(query: &[u8], out: &mut [u8]) -> Option<usize> {
    let q = Message::new(query).ok()?;
    let mut b = MessageBuilder::reply_to(&q, out).ok()?;
    b.header_mut().set_aa(true);
    if q.edns().ok()?.is_some() {
        b.set_edns(&Edns::new(EDNS_SIZE)).ok()?;
    }
    let question = q.questions().next()?.ok()?;
    let a: RData<'_, NameBuf> = RData::A(REPLY_ADDR);
    b.push_answer(&question.name(), Class::In, TTL, &a).ok()?;
    Some(b.finish().len())
}

#[inline(never)]
fn reply_domain(query: &[u8], vec: &mut Vec<u8>) -> Option<()> {
    use domain::base::iana::Rcode as DRcode;
    use domain::base::{Message as DMessage, MessageBuilder as DBuilder, StaticCompressor};
    use domain::rdata::A;
    let q = DMessage::from_octets(query).ok()?;
    let target = StaticCompressor::new(std::mem::take(vec));
    let mut b = DBuilder::from_target(target)
        .ok()?
        .start_answer(&q, DRcode::NOERROR)
        .ok()?;
    b.header_mut().set_aa(true);
    let question = q.first_question()?;
    b.push((question.qname(), TTL, A::new(REPLY_ADDR))).ok()?;
    let target = if q.opt().is_some() {
        let mut add = b.additional();
        add.opt(|o| {
            o.set_udp_payload_size(EDNS_SIZE);
            Ok(())
        })
        .ok()?;
        add.finish()
    } else {
        b.finish()
    };
    *vec = target.into_target();
    Some(())
}

#[inline(never)]
fn reply_hickory(query: &[u8], vec: &mut Vec<u8>) -> Option<()> {
    use hickory_proto::op::{Edns as HEdns, Message as HMessage};
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::{RData as HRData, Record};
    use hickory_proto::serialize::binary::{BinEncodable, BinEncoder};
    let q = HMessage::from_vec(query).ok()?;
    let mut r = HMessage::response(q.metadata.id, q.metadata.op_code);
    r.metadata.authoritative = true;
    r.metadata.recursion_desired = q.metadata.recursion_desired;
    let question = q.queries.into_iter().next()?;
    let owner = question.name().clone();
    r.add_query(question);
    r.add_answer(Record::from_rdata(owner, TTL, HRData::A(A(REPLY_ADDR))));
    if q.edns.is_some() {
        let mut e = HEdns::new();
        e.set_max_payload(EDNS_SIZE);
        r.set_edns(e);
    }
    vec.clear();
    r.emit(&mut BinEncoder::new(vec)).ok()?;
    Some(())
}

#[inline(never)]
fn reply_simple(query: &[u8], vec: &mut Vec<u8>) -> Option<()> {
    use simple_dns::rdata::{A, OPT, RData as SRData};
    use simple_dns::{CLASS, Packet, PacketFlag, ResourceRecord};
    let q = Packet::parse(query).ok()?;
    let mut r = Packet::new_reply(q.id());
    let mut flags = PacketFlag::AUTHORITATIVE_ANSWER;
    if q.has_flags(PacketFlag::RECURSION_DESIRED) {
        flags |= PacketFlag::RECURSION_DESIRED;
    }
    r.set_flags(flags);
    let edns = q.opt().is_some();
    r.questions = q.questions;
    let owner = r.questions.first()?.qname.clone();
    r.answers.push(ResourceRecord::new(
        owner,
        CLASS::IN,
        TTL,
        SRData::A(A {
            address: REPLY_ADDR.to_bits(),
        }),
    ));
    if edns {
        *r.opt_mut() = Some(OPT {
            opt_codes: Vec::new(),
            udp_packet_size: EDNS_SIZE,
            version: 0,
        });
    }
    vec.clear();
    r.write_compressed_to(&mut std::io::Cursor::new(vec)).ok()?;
    Some(())
}

// ---------------------------------------------------------------------------------------------
// Allocation counting.

/// Allocations (and reallocations) per item while `f` runs once over `items` items.
fn allocs_per_item(items: usize, f: impl FnOnce() -> u64) -> f64 {
    let region = Region::new(GLOBAL);
    black_box(f());
    let s = region.change();
    (s.allocations + s.reallocations) as f64 / items as f64
}

/// Live heap bytes now (allocated minus freed).
fn live_bytes() -> i64 {
    let s = GLOBAL.stats();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64 + s.bytes_reallocated as i64
}

fn print_allocs(rows: &[(&str, f64)]) {
    println!("  allocations per message (one pass, counting allocator):");
    for (name, a) in rows {
        println!("    {name:<32} {a:>8.2}");
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Codec.

/// Messages per codec group and queries per engine group (fewer in the unoptimised smoke run).
fn messages(smoke: bool) -> usize {
    if smoke { 200 } else { MESSAGES }
}

fn smoke_budget(g: &mut Group<'_>, smoke: bool) {
    if smoke {
        g.budget(3, Duration::from_millis(1));
    }
}

fn codec(smoke: bool, summary: &mut Vec<(String, f64, &'static str)>) {
    if !selected("codec") {
        return;
    }
    let n = messages(smoke);
    let w = workload(n);
    let qlen = w.queries.iter().map(Vec::len).sum::<usize>() as f64 / n as f64;
    let rlen = w.responses.iter().map(Vec::len).sum::<usize>() as f64 / n as f64;
    let answers = w.specs.iter().map(|s| s.answers.len()).sum::<usize>() as f64 / n as f64;
    println!(
        "\ncodec workload: {n} messages, queries {qlen:.1} bytes, responses {rlen:.1} \
         bytes with {answers:.2} answers on average (compressed, EDNS)"
    );

    // Parse queries and walk responses: everyone must read the same content.
    for (title, msgs) in [
        ("codec: parse query", &w.queries),
        ("codec: walk response", &w.responses),
    ] {
        for (i, m) in msgs.iter().enumerate() {
            let want = walk_unistack(m).expect("unistack parses");
            assert_eq!(walk_domain(m), Some(want), "domain differs on message {i}");
            assert_eq!(
                walk_hickory(m),
                Some(want),
                "hickory differs on message {i}"
            );
            assert_eq!(
                walk_simple(m),
                Some(want),
                "simple-dns differs on message {i}"
            );
            assert_eq!(walk_floor(m), Some(want), "floor differs on message {i}");
        }
        let run = |f: fn(&[u8]) -> Option<u64>| {
            move || {
                msgs.iter()
                    .fold(0u64, |acc, m| acc ^ f(black_box(m)).unwrap_or(1))
            }
        };
        let out = {
            let mut g = Group::new(title, msgs.len());
            smoke_budget(&mut g, smoke);
            g.add("domain 0.12", run(walk_domain));
            g.add("unistack", run(walk_unistack));
            g.add("hickory-proto 0.26", run(walk_hickory));
            g.add("simple-dns 0.13", run(walk_simple));
            g.add("floor: hand-written", run(walk_floor));
            g.run()
        };
        let rows = [
            ("domain 0.12", allocs_per_item(msgs.len(), run(walk_domain))),
            ("unistack", allocs_per_item(msgs.len(), run(walk_unistack))),
            (
                "hickory-proto 0.26",
                allocs_per_item(msgs.len(), run(walk_hickory)),
            ),
            (
                "simple-dns 0.13",
                allocs_per_item(msgs.len(), run(walk_simple)),
            ),
            (
                "floor: hand-written",
                allocs_per_item(msgs.len(), run(walk_floor)),
            ),
        ];
        print_allocs(&rows);
        assert_eq!(rows[1].1, 0.0, "{title}: unistack allocates");
        summary.push((
            format!("{title}: unistack / domain"),
            out[1].ratio,
            "<= 0.3x",
        ));
    }

    build(&w, smoke, summary);
    reply(&w, smoke, summary);
}

fn build(w: &Workload, smoke: bool, summary: &mut Vec<(String, f64, &'static str)>) {
    let title = "codec: build response";
    let n = w.specs.len();
    let uni = UniSpecs::new(&w.specs);
    let mut dom = DomainSpecs::new(&w.specs);
    let mut hick = HickorySpecs::new(&w.specs);
    let mut simple = SimpleSpecs::new(&w.specs);
    let mut buf = vec![0u8; 4096];
    let mut same = [0usize; 3];
    for i in 0..n {
        let len = uni.build(i, &mut buf);
        let want = &buf[..len];
        assert_eq!(want, &w.responses[i][..]);
        let digest = walk_unistack(want);
        for (k, got) in [dom.build(i), hick.build(i), simple.build(i)]
            .into_iter()
            .enumerate()
        {
            assert_eq!(
                walk_unistack(got),
                digest,
                "contender {k} built other content for {i}"
            );
            same[k] += usize::from(got == want);
        }
    }
    println!(
        "\n{title}: outputs byte-identical to unistack's: domain {}/{n}, hickory {}/{n}, \
         simple-dns {}/{n} (all read back to the same content)",
        same[0], same[1], same[2]
    );
    let out = {
        let mut g = Group::new(title, n);
        smoke_budget(&mut g, smoke);
        g.add("domain 0.12 (StaticCompressor)", || {
            (0..n).fold(0, |acc, i| built_digest(acc, i, dom.build(black_box(i))))
        });
        g.add("unistack", || {
            (0..n).fold(0, |acc, i| {
                let len = uni.build(black_box(i), &mut buf);
                built_digest(acc, i, &buf[..len])
            })
        });
        g.add("hickory-proto 0.26 (emit_message_parts)", || {
            (0..n).fold(0, |acc, i| built_digest(acc, i, hick.build(black_box(i))))
        });
        g.add("simple-dns 0.13 (write_compressed_to)", || {
            (0..n).fold(0, |acc, i| built_digest(acc, i, simple.build(black_box(i))))
        });
        g.run()
    };
    let rows = [
        (
            "domain 0.12",
            allocs_per_item(n, || (0..n).fold(0, |a, i| a + dom.build(i).len() as u64)),
        ),
        (
            "unistack",
            allocs_per_item(n, || {
                (0..n).fold(0, |a, i| a + uni.build(i, &mut buf) as u64)
            }),
        ),
        (
            "hickory-proto 0.26",
            allocs_per_item(n, || (0..n).fold(0, |a, i| a + hick.build(i).len() as u64)),
        ),
        (
            "simple-dns 0.13",
            allocs_per_item(n, || {
                (0..n).fold(0, |a, i| a + simple.build(i).len() as u64)
            }),
        ),
    ];
    print_allocs(&rows);
    assert_eq!(rows[1].1, 0.0, "{title}: unistack allocates");
    summary.push((
        format!("{title}: unistack / domain"),
        out[1].ratio,
        "<= 0.5x",
    ));
}

fn reply(w: &Workload, smoke: bool, summary: &mut Vec<(String, f64, &'static str)>) {
    let title = "codec: query to reply";
    let n = w.queries.len();
    let mut buf = vec![0u8; 4096];
    let (mut dv, mut hv, mut sv) = (Vec::new(), Vec::new(), Vec::new());
    let mut same = [0usize; 3];
    for q in &w.queries {
        let len = reply_unistack(q, &mut buf).expect("unistack replies");
        let want = &buf[..len];
        let digest = walk_unistack(want);
        reply_domain(q, &mut dv).expect("domain replies");
        reply_hickory(q, &mut hv).expect("hickory replies");
        reply_simple(q, &mut sv).expect("simple-dns replies");
        for (k, got) in [&dv, &hv, &sv].into_iter().enumerate() {
            assert_eq!(
                walk_unistack(got),
                digest,
                "contender {k} replied otherwise"
            );
            same[k] += usize::from(&got[..] == want);
        }
    }
    println!(
        "\n{title}: replies byte-identical to unistack's: domain {}/{n}, hickory {}/{n}, \
         simple-dns {}/{n} (all read back to the same content)",
        same[0], same[1], same[2]
    );
    let qs = &w.queries;
    let out = {
        let mut g = Group::new(title, n);
        smoke_budget(&mut g, smoke);
        g.add("domain 0.12", || {
            qs.iter().enumerate().fold(0, |acc, (i, q)| {
                let _ = reply_domain(black_box(q), &mut dv);
                built_digest(acc, i, &dv)
            })
        });
        g.add("unistack", || {
            qs.iter().enumerate().fold(0, |acc, (i, q)| {
                let len = reply_unistack(black_box(q), &mut buf).unwrap_or(0);
                built_digest(acc, i, &buf[..len])
            })
        });
        g.add("hickory-proto 0.26", || {
            qs.iter().enumerate().fold(0, |acc, (i, q)| {
                let _ = reply_hickory(black_box(q), &mut hv);
                built_digest(acc, i, &hv)
            })
        });
        g.add("simple-dns 0.13", || {
            qs.iter().enumerate().fold(0, |acc, (i, q)| {
                let _ = reply_simple(black_box(q), &mut sv);
                built_digest(acc, i, &sv)
            })
        });
        g.run()
    };
    let rows = [
        (
            "domain 0.12",
            allocs_per_item(n, || {
                qs.iter()
                    .fold(0, |a, q| a + u64::from(reply_domain(q, &mut dv).is_some()))
            }),
        ),
        (
            "unistack",
            allocs_per_item(n, || {
                qs.iter().fold(0, |a, q| {
                    a + reply_unistack(q, &mut buf).unwrap_or(0) as u64
                })
            }),
        ),
        (
            "hickory-proto 0.26",
            allocs_per_item(n, || {
                qs.iter()
                    .fold(0, |a, q| a + u64::from(reply_hickory(q, &mut hv).is_some()))
            }),
        ),
        (
            "simple-dns 0.13",
            allocs_per_item(n, || {
                qs.iter()
                    .fold(0, |a, q| a + u64::from(reply_simple(q, &mut sv).is_some()))
            }),
        ),
    ];
    print_allocs(&rows);
    assert_eq!(rows[1].1, 0.0, "{title}: unistack allocates");
    summary.push((format!("{title}: unistack / domain"), out[1].ratio, "-"));
}

// ---------------------------------------------------------------------------------------------
// 2. Engine.

/// FxHash-style hashing, as unistack's engine uses (so the peers' maps hash the same way).
#[derive(Clone, Copy, Default)]
struct FxBuild;

struct FxHasher(u64);

impl BuildHasher for FxBuild {
    type Hasher = FxHasher;
    fn build_hasher(&self) -> FxHasher {
        FxHasher(0)
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

fn zone_text(names: u32) -> String {
    let mut t = String::with_capacity(names as usize * 200);
    t.push_str(&format!(
        "$ORIGIN {ORIGIN}\n$TTL {TTL}\n@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n  NS ns1\n\
         ns1 A 192.0.2.53\n"
    ));
    for i in 0..names {
        let host = format!("host-{i:06}");
        for a in rrset(i) {
            t.push_str(&host);
            t.push(' ');
            t.push_str(&a.zone_text());
            t.push('\n');
        }
    }
    t
}

/// One RRset in domain's types.
type DRRset = (domain::base::iana::Rtype, Vec<DData>);

/// The domain "server": RRsets in domain's types under lower-cased wire names.
struct DomainServer {
    map: HashMap<Box<[u8]>, Vec<DRRset>, FxBuild>,
    vec: Vec<u8>,
}

impl DomainServer {
    fn new(names: u32) -> Self {
        let mut map = HashMap::with_capacity_and_hasher(names as usize, FxBuild);
        for i in 0..names {
            let set = rrset(i);
            let rtype = domain::base::iana::Rtype::from_int(set[0].rtype().to_raw());
            let name = NameBuf::from_dotted(&host_name(i)).expect("name");
            map.insert(
                Box::from(name.as_wire()),
                vec![(rtype, set.iter().map(domain_rdata).collect())],
            );
        }
        DomainServer {
            map,
            vec: Vec::with_capacity(4096),
        }
    }

    /// Answer `query` into `self.vec`; false when it is not answered here.
    #[inline(never)]
    fn answer(&mut self, query: &[u8]) -> bool {
        use domain::base::iana::{Class as DClass, Opcode as DOpcode, Rcode as DRcode};
        use domain::base::{Message as DMessage, MessageBuilder as DBuilder, StaticCompressor};
        let Ok(msg) = DMessage::from_octets(query) else {
            return false;
        };
        let h = msg.header();
        if h.qr() || h.opcode() != DOpcode::QUERY || msg.header_counts().qdcount() != 1 {
            return false;
        }
        let Some(q) = msg.first_question() else {
            return false;
        };
        if q.qclass() != DClass::IN {
            return false;
        }
        let mut key = [0u8; 255];
        let mut len = 0;
        for l in q.qname().iter().filter(|l| !l.is_root()) {
            let l = l.as_slice();
            key[len] = l.len() as u8;
            key[len + 1..len + 1 + l.len()].copy_from_slice(l);
            key[len + 1..len + 1 + l.len()].make_ascii_lowercase();
            len += 1 + l.len();
        }
        // The root label ends the key, as it ends the map's wire-form names.
        len += 1;
        let Some(sets) = self.map.get(&key[..len]) else {
            return false;
        };
        let Some((_, rrset)) = sets.iter().find(|(t, _)| *t == q.qtype()) else {
            return false;
        };
        let target = StaticCompressor::new(std::mem::take(&mut self.vec));
        let Ok(Ok(mut b)) =
            DBuilder::from_target(target).map(|b| b.start_answer(&msg, DRcode::NOERROR))
        else {
            return false;
        };
        b.header_mut().set_aa(true);
        let owner = q.qname();
        for d in rrset {
            if b.push((owner, TTL, d)).is_err() {
                return false;
            }
        }
        let target = if msg.opt().is_some() {
            let mut add = b.additional();
            if add
                .opt(|o| {
                    o.set_udp_payload_size(EDNS_SIZE);
                    Ok(())
                })
                .is_err()
            {
                return false;
            }
            add.finish()
        } else {
            b.finish()
        };
        self.vec = target.into_target();
        true
    }
}

/// QTYPE, the three section counts (OPT excluded) and the body after the question.
type MemoEntry = (u16, [u16; 3], Box<[u8]>);

/// The floor: prepared response bodies (everything after the question, OPT excluded) under
/// lower-cased wire names.
struct Memo {
    map: HashMap<Box<[u8]>, MemoEntry, FxBuild>,
}

/// The OPT record every EDNS answer ends with (payload 1232, no flags, no options).
const OPT_RR: [u8; 11] = [0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0];

impl Memo {
    /// From unistack's own answers to one query per name (lower-case questions).
    fn new(server: &Server, names: u32) -> Self {
        let mut map = HashMap::with_capacity_and_hasher(names as usize, FxBuild);
        let mut out = vec![0u8; 4096];
        for i in 0..names {
            let qtype = rrset(i)[0].rtype();
            let q = query_bytes(0, i, qtype);
            let len = server
                .handle(&q, Transport::Udp, &mut out)
                .expect("answered");
            let m = Message::new(&out[..len]).expect("response");
            let mut questions = m.questions();
            questions.next();
            let qend = questions.offset();
            let h = m.header();
            let body = &out[qend..len - OPT_RR.len()];
            let name = NameBuf::from_dotted(&host_name(i)).expect("name");
            map.insert(
                Box::from(name.as_wire()),
                (
                    qtype.to_raw(),
                    [h.ancount(), h.nscount(), h.arcount() - 1],
                    Box::from(body),
                ),
            );
        }
        Memo { map }
    }

    #[inline(never)]
    fn answer(&self, q: &[u8], out: &mut [u8]) -> Option<usize> {
        // Header: a query, opcode 0, one question, no answers, at most one additional.
        let flags = be16(q, 2)?;
        if flags & 0xf800 != 0 || be16(q, 4)? != 1 || be16(q, 6)? != 0 || be16(q, 8)? != 0 {
            return None;
        }
        let ar = be16(q, 10)?;
        let mut key = [0u8; 255];
        let mut pos = 12;
        loop {
            let l = usize::from(*q.get(pos)?);
            if l > 63 || pos - 12 + l + 1 > 255 {
                return None;
            }
            let label = q.get(pos..pos + 1 + l)?;
            key[pos - 12..pos - 12 + 1 + l].copy_from_slice(label);
            pos += 1 + l;
            if l == 0 {
                break;
            }
        }
        let key = &mut key[..pos - 12];
        key.make_ascii_lowercase();
        let (qtype, qclass) = (be16(q, pos)?, be16(q, pos + 2)?);
        let qend = pos + 4;
        let edns = match (ar, q.get(qend..)?) {
            (0, []) => false,
            (1, [0, 0, 41, ..]) if q.len() - qend >= 11 => true,
            _ => return None,
        };
        let (t, counts, body) = self.map.get(&*key)?;
        if *t != qtype || qclass != 1 {
            return None;
        }
        let end = qend + body.len();
        out.get_mut(..qend)?.copy_from_slice(&q[..qend]);
        out.get_mut(qend..end)?.copy_from_slice(body);
        let fl = 0x8400 | (flags & 0x0110);
        out[2..4].copy_from_slice(&fl.to_be_bytes());
        out[6..8].copy_from_slice(&counts[0].to_be_bytes());
        out[8..10].copy_from_slice(&counts[1].to_be_bytes());
        out[10..12].copy_from_slice(&(counts[2] + u16::from(edns)).to_be_bytes());
        if edns {
            out.get_mut(end..end + OPT_RR.len())?
                .copy_from_slice(&OPT_RR);
            return Some(end + OPT_RR.len());
        }
        Some(end)
    }
}

fn engine_queries(names: u32, n: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let host = rng.below(u64::from(names)) as u32;
            query_bytes(rng.next_u64() as u16, host, rrset(host)[0].rtype())
        })
        .collect()
}

fn engine_sizes(smoke: bool) -> Vec<u32> {
    if let Ok(v) = std::env::var("UNISTACK_DNS_NAMES") {
        return v.split(',').filter_map(|s| s.trim().parse().ok()).collect();
    }
    if smoke {
        vec![100, 500]
    } else {
        vec![100, 10_000, 100_000, 1_000_000]
    }
}

fn engine(smoke: bool, summary: &mut Vec<(String, f64, &'static str)>) {
    if !selected("engine") {
        return;
    }
    println!("\nengine: zone loading (master-file text -> Zone::parse -> Server::add_zone)");
    println!(
        "  {:>9} {:>9} {:>10} {:>10} {:>11} {:>12} {:>12} {:>12}",
        "names",
        "records",
        "text MB",
        "parse s",
        "add_zone s",
        "zone B/name",
        "server B/name",
        "domain B/name"
    );
    let mut loaded = Vec::new();
    for names in engine_sizes(smoke) {
        let text = zone_text(names);
        let records = text.lines().count() - 3;
        let before = live_bytes();
        let t = Instant::now();
        let zone = Zone::parse(ORIGIN, &text).expect("zone parses");
        let parse = t.elapsed();
        let zone_bytes = live_bytes() - before;
        let t = Instant::now();
        let mut server = Server::new(ServerConfig::default());
        server.add_zone(zone).expect("zone added");
        let add = t.elapsed();
        let server_bytes = live_bytes() - before;
        let text_mb = text.len() as f64 / 1e6;
        drop(text);
        let before = live_bytes();
        let dom = DomainServer::new(names);
        let dom_bytes = live_bytes() - before;
        let per = |b: i64| b as f64 / f64::from(names);
        println!(
            "  {names:>9} {records:>9} {text_mb:>10.1} {:>10.3} {:>11.3} {:>12.0} {:>12.0} {:>12.0}",
            parse.as_secs_f64(),
            add.as_secs_f64(),
            per(zone_bytes),
            per(server_bytes),
            per(dom_bytes),
        );
        loaded.push((names, server, dom));
    }
    for (names, server, mut dom) in loaded {
        let memo = Memo::new(&server, names);
        let n = messages(smoke);
        let mut sets = vec![(
            format!("engine: {names} names, {n} queries"),
            engine_queries(names, n, 0x0065_6e67),
        )];
        if names >= 100_000 && !smoke {
            sets.push((
                format!("engine: {names} names, 100000 queries spread over the zone"),
                engine_queries(names, 100_000, 0x7370_7264),
            ));
        }
        for (title, queries) in sets {
            if !selected(&title) {
                continue;
            }
            engine_run(&title, &server, &mut dom, &memo, &queries, smoke, summary);
        }
        misses(names, &server, smoke);
    }
}

/// Names the zone does not have (NXDOMAIN with the SOA), beside hits of the same zone: no
/// peer here (the domain path in this bench serves an RRset map and has no negative
/// answers), so only unistack's own figures, to show what a random-subdomain flood costs.
fn misses(names: u32, server: &Server, smoke: bool) {
    let title = format!("engine: {names} names, NXDOMAIN (unistack only)");
    if !selected(&title) {
        return;
    }
    let n = messages(smoke);
    let hits = engine_queries(names, n, 0x0065_6e67);
    let mut rng = Rng::new(0x6e78_646f);
    let nx: Vec<Vec<u8>> = (0..n)
        .map(|_| {
            let host = names + rng.below(1 << 20) as u32;
            query_bytes(rng.next_u64() as u16, host, RecordType::A)
        })
        .collect();
    let mut out = vec![0u8; 4096];
    for q in &nx {
        let len = server
            .handle(q, Transport::Udp, &mut out)
            .expect("answered");
        let m = Message::new(&out[..len]).expect("parses");
        assert_eq!(m.rcode(), Rcode::NxDomain, "{title}");
        assert_eq!(m.count(Section::Authority), 1, "{title}: the SOA");
    }
    let (mut o1, mut o2, mut o3) = (out.clone(), out.clone(), out);
    let (o1, o2, o3) = (&mut o1, &mut o2, &mut o3);
    let run =
        |queries: &[Vec<u8>], o: &mut Vec<u8>, cached: bool| answer_all(server, queries, o, cached);
    let mut g = Group::new(&title, n);
    smoke_budget(&mut g, smoke);
    g.add("unistack Server::handle, hits (reference)", || {
        run(&hits, o1, true)
    });
    g.add("unistack Server::handle, NXDOMAIN", || run(&nx, o2, true));
    g.add("unistack handle_uncached, NXDOMAIN", || run(&nx, o3, false));
    g.run();
    if names <= 100_000 {
        wildcard_misses(names, n, &hits, server, smoke);
    }
}

/// Answer every query (through the templates when `cached`), counting the answers: the
/// group compares contenders' results (the bytes were checked before), and the output is
/// kept alive.
fn answer_all(server: &Server, queries: &[Vec<u8>], out: &mut [u8], cached: bool) -> u64 {
    queries.iter().fold(0u64, |acc, q| {
        let r = if cached {
            server.handle(black_box(q), Transport::Udp, out)
        } else {
            server.handle_uncached(black_box(q), Transport::Udp, out)
        };
        black_box(&out);
        acc + u64::from(r.is_ok_and(|len| len > 0))
    })
}

/// The same zone with a wildcard (`*.wild`) and a delegation (`deleg`) added, queried for
/// names the wildcard synthesises, names below the cut (referrals) and names that do not
/// exist (which now need a closest-encloser walk), beside hits of the zone without them;
/// unistack only, as for NXDOMAIN.
fn wildcard_misses(names: u32, n: usize, hits: &[Vec<u8>], plain: &Server, smoke: bool) {
    let title = format!(
        "engine: {names} names, wildcard, referral and NXDOMAIN in a zone with a wildcard and a cut (unistack only)"
    );
    let mut text = zone_text(names);
    text.push_str(
        "*.wild A 192.0.2.99\n*.wild AAAA 2001:db8::99\ndeleg NS ns.deleg\nns.deleg A 192.0.2.98\n",
    );
    let mut server = Server::new(ServerConfig::default());
    server
        .add_zone(Zone::parse(ORIGIN, &text).expect("zone parses"))
        .expect("zone added");
    let mut rng = Rng::new(0x7769_6c64);
    let wild: Vec<Vec<u8>> = (0..n)
        .map(|_| {
            let host = rng.below(1 << 20);
            let qtype = if rng.below(2) == 0 {
                RecordType::A
            } else {
                RecordType::Aaaa
            };
            query_for(
                rng.next_u64() as u16,
                &format!("user-{host}.wild.{ORIGIN}"),
                qtype,
            )
        })
        .collect();
    let nx: Vec<Vec<u8>> = (0..n)
        .map(|_| {
            let host = names + rng.below(1 << 20) as u32;
            query_for(rng.next_u64() as u16, &host_name(host), RecordType::A)
        })
        .collect();
    let below_cut: Vec<Vec<u8>> = (0..n)
        .map(|_| {
            let host = rng.below(1 << 20);
            query_for(
                rng.next_u64() as u16,
                &format!("site-{host}.deleg.{ORIGIN}"),
                RecordType::A,
            )
        })
        .collect();
    let mut out = vec![0u8; 4096];
    for q in &below_cut {
        let len = server
            .handle(q, Transport::Udp, &mut out)
            .expect("answered");
        let m = Message::new(&out[..len]).expect("parses");
        assert!(
            !m.header().aa() && m.count(Section::Authority) == 1,
            "{title}: a referral"
        );
    }
    for (set, rcode, section) in [
        (&wild, Rcode::NoError, Section::Answer),
        (&nx, Rcode::NxDomain, Section::Authority),
    ] {
        for q in set.iter() {
            let len = server
                .handle(q, Transport::Udp, &mut out)
                .expect("answered");
            let m = Message::new(&out[..len]).expect("parses");
            assert_eq!((m.rcode(), m.count(section)), (rcode, 1), "{title}");
        }
    }
    let (mut o1, mut o2, mut o3, mut o4) = (out.clone(), out.clone(), out.clone(), out.clone());
    let (mut o5, mut o6) = (out.clone(), out);
    let run = answer_all;
    let mut g = Group::new(&title, n);
    smoke_budget(&mut g, smoke);
    g.add("unistack Server::handle, hits (reference)", || {
        run(plain, hits, &mut o1, true)
    });
    g.add("unistack Server::handle, wildcard", || {
        run(&server, &wild, &mut o2, true)
    });
    g.add("unistack handle_uncached, wildcard", || {
        run(&server, &wild, &mut o3, false)
    });
    g.add("unistack Server::handle, NXDOMAIN beside it", || {
        run(&server, &nx, &mut o4, true)
    });
    g.add("unistack Server::handle, referral below a cut", || {
        run(&server, &below_cut, &mut o5, true)
    });
    g.add("unistack handle_uncached, referral below a cut", || {
        run(&server, &below_cut, &mut o6, false)
    });
    g.run();
}

fn engine_run(
    title: &str,
    server: &Server,
    dom: &mut DomainServer,
    memo: &Memo,
    queries: &[Vec<u8>],
    smoke: bool,
    summary: &mut Vec<(String, f64, &'static str)>,
) {
    let n = queries.len();
    let mut out = vec![0u8; 4096];
    let mut out2 = vec![0u8; 4096];
    let mut bytes = 0usize;
    for q in queries {
        let len = server
            .handle(q, Transport::Udp, &mut out)
            .expect("answered");
        bytes += len;
        let want = &out[..len];
        assert!(dom.answer(q), "domain path answers");
        assert_eq!(&dom.vec[..], want, "domain path differs");
        let l2 = server
            .handle_uncached(q, Transport::Udp, &mut out2)
            .expect("answered");
        assert_eq!(&out2[..l2], want, "uncached differs");
        let l3 = memo.answer(q, &mut out2).expect("floor answers");
        assert_eq!(&out2[..l3], want, "floor differs");
    }
    println!(
        "\n{title}: responses {:.1} bytes on average, byte-identical across contenders",
        bytes as f64 / n as f64
    );
    let digest = |acc: u64, i: usize, m: &[u8]| built_digest(acc, i, m);
    let (mut b1, mut b2, mut b3, mut b4) = (out.clone(), out.clone(), out.clone(), out.clone());
    let res = {
        let (o1, o2, o3, o4) = (&mut b1, &mut b2, &mut b3, &mut b4);
        let mut g = Group::new(title, n);
        smoke_budget(&mut g, smoke);
        g.add("domain 0.12 (parse, map, build)", || {
            queries.iter().enumerate().fold(0, |acc, (i, q)| {
                dom.answer(black_box(q));
                digest(acc, i, &dom.vec)
            })
        });
        g.add("unistack Server::handle", move || {
            queries.iter().enumerate().fold(0, |acc, (i, q)| {
                let len = server.handle(black_box(q), Transport::Udp, o1).unwrap_or(0);
                digest(acc, i, &o1[..len])
            })
        });
        g.add("unistack warm + handle, batches of 32", move || {
            queries.chunks(32).enumerate().fold(0, |acc, (c, batch)| {
                server.warm(batch.iter().map(|q| black_box(&q[..])));
                batch.iter().enumerate().fold(acc, |acc, (j, q)| {
                    let len = server.handle(black_box(q), Transport::Udp, o4).unwrap_or(0);
                    digest(acc, c * 32 + j, &o4[..len])
                })
            })
        });
        g.add("unistack handle_uncached", move || {
            queries.iter().enumerate().fold(0, |acc, (i, q)| {
                let len = server
                    .handle_uncached(black_box(q), Transport::Udp, o2)
                    .unwrap_or(0);
                digest(acc, i, &o2[..len])
            })
        });
        g.add("floor: hand-written memo", move || {
            queries.iter().enumerate().fold(0, |acc, (i, q)| {
                let len = memo.answer(black_box(q), o3).unwrap_or(0);
                digest(acc, i, &o3[..len])
            })
        });
        g.run()
    };
    let allocs = allocs_per_item(n, || {
        queries.iter().fold(0, |a, q| {
            a + server.handle(q, Transport::Udp, &mut out).unwrap_or(0) as u64
        })
    });
    let dallocs = allocs_per_item(n, || {
        queries.iter().fold(0, |a, q| a + u64::from(dom.answer(q)))
    });
    println!("  allocations per query: unistack {allocs:.2}, domain path {dallocs:.2}");
    assert_eq!(allocs, 0.0, "{title}: unistack allocates");
    summary.push((
        format!("{title}: unistack ns/query"),
        res[1].median_ns,
        "<= 70",
    ));
    summary.push((
        format!("{title}: unistack / domain"),
        res[1].ratio,
        "<= 0.2x",
    ));
    summary.push((
        format!("{title}: unistack warm + handle (batches of 32) / domain"),
        res[2].ratio,
        "<= 0.2x",
    ));
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs a short smoke instead.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let wall = Instant::now();
    let mut summary = Vec::new();
    codec(smoke, &mut summary);
    engine(smoke, &mut summary);
    println!("\nSummary (lower is better)");
    for (k, v, target) in &summary {
        println!("  {k:<78} {v:>9.3}   target {target}");
    }
    println!("  ({:.1} s)", wall.elapsed().as_secs_f64());
    if smoke {
        println!("  (smoke run: unoptimised, tiny budget; the figures mean nothing)");
    }
}
