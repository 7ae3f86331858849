//! Precompiled responses, laid out for a hit in few dependent loads: one byte arena for the
//! server, each zone a contiguous region of it, holding for each name an *entry* (its
//! lower-cased name, its zone and a directory of templates by type) followed by the
//! templates first made for it; a template is the response after the question. Identical
//! templates of a zone are stored once (the NODATA of every name of the same shape, an ANY
//! equal to the only RRset, DO-on equal to DO-off), and zones without DNSSEC material get no
//! separate DO-on templates at all. Template offsets are 32-bit, from the start of the
//! zone's region.
//!
//! The layouts are in-memory only (little-endian), declared through the derive like every
//! wire layout of the crate.

use alloc::vec::Vec;

use hashbrown::HashTable;
use unistack_cstruct::Cstruct;

use super::answer::{self, Writer};
use super::index::{LowerName, ZoneIndex, hash_name};
use super::table::MAX_OFFSET;
use crate::builder::MessageBuilder;
use crate::name::{Name, NameBuf};
use crate::rdata::RData;
use crate::wire::{Rcode, RecordType};

/// No template (answer on the fly).
pub(crate) const NONE: u32 = u32::MAX;

/// No entry.
pub(crate) const NO_ENTRY: u64 = u64::MAX;

/// The head of a name's entry: then `key_len` bytes of lower-cased wire name, then
/// `types + 1` [`DirEntry`]s (the last one, whose type is unused, for every other type).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(little, view = EntryHeadView)]
pub(crate) struct EntryHead {
    /// Length of the name in wire form.
    pub key_len: u8,
    /// The name is its zone's apex (a DS question there may belong to a parent zone).
    #[bits(1)]
    pub apex: bool,
    /// Zero.
    #[bits(7)]
    pub reserved: u8,
    /// Number of types with their own templates.
    pub types: u16,
    /// The zone (its number in the server).
    pub zone: u32,
}

/// One type's templates: offsets in the zone's region without and with DO ([`NONE`]: answer
/// on the fly).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(little, view = DirEntryView)]
pub(crate) struct DirEntry {
    /// The type (raw).
    pub rtype: u16,
    /// Zero.
    pub reserved: u16,
    /// The template for queries without DO.
    pub plain: u32,
    /// The template for queries with DO.
    pub dnssec: u32,
}

/// The head of a template: then `cuts` [`CutRec`]s, then `body_len` bytes of body (the
/// response after the question, OPT record excluded).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(little, view = TemplateHeadView)]
pub(crate) struct TemplateHead {
    /// The response code.
    pub rcode: Rcode,
    /// Authoritative answer.
    #[bits(1)]
    pub aa: bool,
    /// Zero.
    #[bits(7)]
    pub reserved: u8,
    /// Zero.
    pub reserved2: u8,
    /// ANCOUNT.
    pub answers: u16,
    /// NSCOUNT.
    pub authorities: u16,
    /// ARCOUNT of the whole body.
    pub arcount: u16,
    /// Length of the answer and authority sections.
    pub essential: u16,
    /// Length of the body.
    pub body_len: u16,
    /// Number of places to cut the additional section, before the whole body.
    pub cuts: u16,
}

/// A place to cut the additional section: the body length and ARCOUNT before an additional
/// RRset, and whether dropping it needs TC.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(little, view = CutRecView)]
pub(crate) struct CutRec {
    /// Body length before the RRset.
    pub len: u16,
    /// ARCOUNT before the RRset.
    pub arcount: u16,
    /// Dropping the RRset needs TC (glue below the delegation point).
    #[bits(1)]
    pub required: bool,
    /// Zero.
    #[bits(7)]
    pub reserved: u8,
}

/// The lower-cased name of the entry at `entry`.
#[inline]
pub(crate) fn entry_key(arena: &[u8], entry: usize) -> &[u8] {
    let Some(&len) = arena.get(entry) else {
        return &[];
    };
    let start = entry + EntryHead::SIZE;
    arena
        .get(start..start + usize::from(len))
        .unwrap_or_default()
}

/// The head of the entry at `entry`.
#[inline]
pub(crate) fn entry_head(arena: &[u8], entry: usize) -> Option<EntryHeadView<&[u8]>> {
    EntryHeadView::new_checked(arena.get(entry..entry + EntryHead::SIZE)?).ok()
}

/// The template answering `qtype` (with DO or not) in the entry at `entry`: an offset in
/// the zone's region, or [`NONE`].
#[inline]
pub(crate) fn find_template(arena: &[u8], entry: usize, qtype: u16, dnssec: bool) -> u32 {
    let Some(Ok(head)) = arena
        .get(entry..entry + EntryHead::SIZE)
        .map(EntryHeadView::new_checked)
    else {
        return NONE;
    };
    let n = usize::from(head.types());
    let dir = entry + EntryHead::SIZE + usize::from(head.key_len());
    let Some(dir) = arena.get(dir..dir + (n + 1) * DirEntry::SIZE) else {
        return NONE;
    };
    let mut chosen = None;
    let mut fallback = None;
    for (i, c) in dir.chunks_exact(DirEntry::SIZE).enumerate() {
        let Ok(d) = DirEntryView::new_checked(c) else {
            return NONE;
        };
        if i == n {
            fallback = Some(d);
        } else if d.rtype() == qtype {
            chosen = Some(d);
            break;
        }
    }
    match chosen.or(fallback) {
        Some(d) if dnssec => d.dnssec(),
        Some(d) => d.plain(),
        None => NONE,
    }
}

/// The fallback template (for types without their own) of the entry at `entry`, without
/// DO: at a delegation point, the referral.
#[inline]
pub(crate) fn fallback_template(arena: &[u8], entry: usize) -> u32 {
    let Some(Ok(head)) = arena
        .get(entry..entry + EntryHead::SIZE)
        .map(EntryHeadView::new_checked)
    else {
        return NONE;
    };
    let at = entry
        + EntryHead::SIZE
        + usize::from(head.key_len())
        + usize::from(head.types()) * DirEntry::SIZE;
    arena
        .get(at..at + DirEntry::SIZE)
        .and_then(|d| DirEntryView::new_checked(d).ok())
        .map_or(NONE, |d| d.plain())
}

/// A template read back: what [`apply`](super::apply) needs.
pub(crate) struct TemplateRef<'a> {
    pub head: TemplateHeadView<&'a [u8]>,
    pub cuts: &'a [u8],
    pub body: &'a [u8],
}

/// The template at `off` in the zone region starting at `base`.
#[inline]
pub(crate) fn template_at(arena: &[u8], base: usize, off: u32) -> Option<TemplateRef<'_>> {
    if off == NONE {
        return None;
    }
    let off = base + off as usize;
    let head = TemplateHeadView::new_checked(arena.get(off..off + TemplateHead::SIZE)?).ok()?;
    let cuts_start = off + TemplateHead::SIZE;
    let body_start = cuts_start + usize::from(head.cuts()) * CutRec::SIZE;
    let cuts = arena.get(cuts_start..body_start)?;
    let body = arena.get(body_start..body_start + usize::from(head.body_len()))?;
    Some(TemplateRef { head, cuts, body })
}

/// Identical templates, stored once: (offset, length) in the zone's region (which starts at
/// `base`), hashed by content.
struct Interner {
    base: usize,
    table: HashTable<(u32, u32)>,
}

impl Interner {
    fn intern(&mut self, arena: &mut Vec<u8>, bytes: &[u8]) -> u32 {
        let h = hash_name(bytes);
        let base = self.base;
        if let Some(&(off, _)) = self
            .table
            .find(h, |&e| at(arena, base, e).is_some_and(|b| b == bytes))
        {
            return off;
        }
        let rel = arena.len() - base;
        if rel + bytes.len() >= NONE as usize {
            return NONE;
        }
        arena.extend_from_slice(bytes);
        let arena: &[u8] = arena;
        self.table
            .insert_unique(h, (rel as u32, bytes.len() as u32), |&e| {
                hash_name(at(arena, base, e).unwrap_or_default())
            });
        rel as u32
    }
}

/// The `(offset, length)` bytes of the zone region at `base`.
fn at(arena: &[u8], base: usize, (o, l): (u32, u32)) -> Option<&[u8]> {
    let start = base + o as usize;
    arena.get(start..start + l as usize)
}

/// A type present nowhere, asked to build the template shared by absent types.
fn probe_type(avoid: &[RecordType]) -> RecordType {
    (65280u16..=65534)
        .map(RecordType::from_raw)
        .find(|t| !avoid.contains(t))
        .unwrap_or(RecordType::Unknown(65534))
}

/// Precompile every exact answer of zone number `zone` into a new region at the end of
/// `arena`; returns where each node's entry is ([`NO_ENTRY`] if none: the region's 4 GiB are
/// full, or the server's 1 TiB).
///
/// Types answered differently from an absent type get their own templates: the types present
/// at the name or anywhere along its CNAME chain, ANY at a name with RRsets, RRSIG at a name
/// with signatures or a CNAME (a CNAME is not followed for RRSIG), and only DS at a
/// delegation point (every other type is the referral). Every other type shares the
/// fallback, answered for a type present nowhere. Names below a delegation point get an
/// entry without templates (their referrals are computed per query).
pub(crate) fn compile(z: &ZoneIndex, zone: u32, arena: &mut Vec<u8>) -> Compiled {
    let mut buf = alloc::vec![0u8; crate::MAX_MESSAGE_LEN];
    let base = arena.len();
    let mut entries = Vec::with_capacity(z.node_count());
    let mut interner = Interner {
        base,
        table: HashTable::new(),
    };
    let mut scratch: Vec<u8> = Vec::new();
    let mut present: Vec<RecordType> = Vec::new();
    let mut own: Vec<RecordType> = Vec::new();
    for id in 0..z.node_count() as u32 {
        let Some(node) = z.node(id) else {
            entries.push(NO_ENTRY);
            continue;
        };
        let key = z.name_wire(node);
        let cut_here = node.delegated() == Some(id);
        let below_cut = node.delegated().is_some() && !cut_here;
        present.clear();
        own.clear();
        if !below_cut {
            // The types whose answers differ: present here, or anywhere along a CNAME chain.
            let mut n = Some(node);
            let mut hops = 0;
            while let Some(cur) = n {
                for rs in z.rrsets(cur) {
                    if !present.contains(&rs.rtype) {
                        present.push(rs.rtype);
                    }
                }
                hops += 1;
                n = z
                    .rrset(cur, RecordType::Cname)
                    .filter(|_| hops <= answer::MAX_CNAME_CHAIN)
                    .and_then(|rs| z.records(&rs).first().copied())
                    .and_then(|i| z.record(i))
                    .and_then(|r| match r.rdata() {
                        Ok(RData::Cname(t)) => z.answering_node(LowerName::from_name(&t).as_wire()),
                        _ => None,
                    })
                    .and_then(|id| z.node(id));
            }
            if cut_here {
                own.push(RecordType::Ds);
            } else {
                own.extend_from_slice(&present);
                if !z.rrsets(node).is_empty() && !own.contains(&RecordType::Any) {
                    own.push(RecordType::Any);
                }
                let cname = z.rrset(node, RecordType::Cname).is_some();
                if (cname || !z.sigs(node).is_empty()) && !own.contains(&RecordType::Rrsig) {
                    own.push(RecordType::Rrsig);
                }
            }
        }
        let types = u16::try_from(own.len()).unwrap_or(u16::MAX);
        let dir_len = (usize::from(types) + 1) * DirEntry::SIZE;
        let entry = arena.len();
        if entry - base + EntryHead::SIZE + key.len() + dir_len >= NONE as usize
            || entry as u64 > MAX_OFFSET
        {
            entries.push(NO_ENTRY);
            continue;
        }
        entries.push(entry as u64);
        let head = EntryHead {
            key_len: key.len() as u8,
            apex: id == z.apex,
            reserved: 0,
            types,
            zone,
        };
        arena.extend_from_slice(&head.to_bytes());
        arena.extend_from_slice(key);
        let dir = arena.len();
        arena.resize(dir + dir_len, 0);
        if below_cut {
            let fallback = DirEntry {
                rtype: 0,
                reserved: 0,
                plain: NONE,
                dnssec: NONE,
            };
            if let Some(d) = arena.get_mut(dir..dir + DirEntry::SIZE) {
                d.copy_from_slice(&fallback.to_bytes());
            }
            continue;
        }
        let name = Name::from_wire(key)
            .map(|n| n.to_name_buf())
            .unwrap_or_default();
        let probe = probe_type(&present);
        let listed = own.iter().take(usize::from(types)).copied();
        for (i, rtype) in listed.chain(core::iter::once(probe)).enumerate() {
            let mut make = |dnssec: bool| {
                scratch.clear();
                if template(z, &name, rtype, dnssec, &mut buf, &mut scratch) {
                    interner.intern(arena, &scratch)
                } else {
                    NONE
                }
            };
            let plain = make(false);
            // Without DNSSEC material the DO bit changes nothing (see `ZoneIndex::signed`).
            let dnssec = if z.signed { make(true) } else { plain };
            let d = DirEntry {
                rtype: if i < usize::from(types) {
                    rtype.to_raw()
                } else {
                    0
                },
                reserved: 0,
                plain,
                dnssec,
            };
            let at = dir + i * DirEntry::SIZE;
            if let Some(dst) = arena.get_mut(at..at + DirEntry::SIZE) {
                dst.copy_from_slice(&d.to_bytes());
            }
        }
    }
    let negative = negative(z, &entries, arena, &mut interner, &mut buf, &mut scratch);
    let (wild, cuts) = moved(z, &entries, arena, base);
    Compiled {
        entries,
        negative,
        wild,
        cuts,
    }
}

/// What [`compile`] made of a zone.
pub(crate) struct Compiled {
    /// Where each node's entry is ([`NO_ENTRY`] if none).
    pub entries: Vec<u64>,
    /// The zone's NXDOMAIN, when it can be precompiled.
    pub negative: Option<Negative>,
    /// How each template of a wildcard moves to a name it matches; templates missing here
    /// are answered on the fly.
    pub wild: MovedList,
    /// How each delegation point's referral moves to a name below it, the same way.
    pub cuts: MovedList,
}

/// Templates and how each moves, by template offset (sorted).
pub(crate) type MovedList = Vec<(u32, Moves)>;

/// The builder's compression table: labels past it are not compression targets.
const COMPRESSION_TABLE: usize = 64;

/// Where the question name starts in a message.
const QNAME_AT: usize = crate::wire::Header::SIZE;

/// How a template made for one question name is moved to another that answers the same
/// way: the NXDOMAIN of a zone, made for a name one label below the apex and used for any
/// name that does not exist; a wildcard's answer, made for `*.<closest encloser>` and used
/// for the names it matches. In both, the two names share a *base* (the apex, or the
/// closest encloser) after a first label, and every compression pointer of the body aims at
/// the base in the question or later, so each moves by the difference of the name lengths;
/// a wildcard's synthesised owners point at the whole question and stay.
///
/// The on-the-fly answer would compress differently, and the template is not used, when
/// the question ends in a name written in the body that is below the base (a question under
/// `ns1.<apex>` when the SOA names `ns1.<apex>`: its copy in the question becomes the
/// target), or when the question has so many labels that the builder's compression table
/// would fill up.
#[derive(Debug)]
pub(crate) struct Moves {
    /// The length of the name the template was made for.
    pub made_for: u8,
    /// Where the body's compression pointers that move are (offsets in the body).
    pub pointers: Vec<u16>,
    /// The compressible names below the base written in the body, lower-cased, each after
    /// its length.
    pub sensitive: Vec<u8>,
    /// The most labels a question may have.
    pub max_labels: u8,
}

impl Moves {
    /// Whether the template moves to the question name `qname` (lower-cased `low`): not
    /// shorter than the name it was made for, labels within the compression table, and not
    /// ending in one of the body's names below the base.
    #[inline]
    pub(crate) fn fit(&self, qname: &[u8], low: &[u8]) -> bool {
        // Each label takes two octets at least: a bound on the question's labels.
        qname.len() >= usize::from(self.made_for)
            && qname.len().saturating_sub(1) / 2 <= usize::from(self.max_labels)
            && !self.sensitive_to(low)
    }

    /// Whether the lower-cased `name` ends in one of the body's names below the base.
    #[inline]
    fn sensitive_to(&self, name: &[u8]) -> bool {
        length_prefixed(&self.sensitive).any(|s| name.ends_with(s))
    }

    /// Move the pointers of a body copied (from its start) into `body`, for a question name
    /// of `qname_len` octets (checked by [`fit`](Self::fit)).
    #[inline]
    pub(crate) fn apply(&self, body: &mut [u8], qname_len: usize) {
        let delta = qname_len.saturating_sub(usize::from(self.made_for));
        for &at in &self.pointers {
            let at = usize::from(at);
            let Some(ptr) = body.get_mut(at..at + 2) else {
                continue;
            };
            let target = usize::from(u16::from_be_bytes([ptr[0], ptr[1]]) & 0x3fff) + delta;
            // Below 0x4000: checked when the moves were made (targets + 255).
            ptr.copy_from_slice(&(0xc000 | target as u16).to_be_bytes());
        }
    }
}

/// The entries of a list of byte strings each written after its length in one octet (as
/// [`Moves::sensitive`] is).
fn length_prefixed(mut list: &[u8]) -> impl Iterator<Item = &[u8]> {
    core::iter::from_fn(move || {
        let (&len, tail) = list.split_first()?;
        let (entry, rest) = tail.split_at_checked(usize::from(len))?;
        list = rest;
        Some(entry)
    })
}

/// A zone's NXDOMAIN (without DNSSEC proofs, so for queries without DO or zones without
/// DNSSEC material), precompiled once for a name one label below the apex.
#[derive(Debug)]
pub(crate) struct Negative {
    /// The template, an offset in the zone's region.
    pub template: u32,
    /// How it moves to a question.
    pub moves: Moves,
    /// Every name of the zone is in the server's table and there is no wildcard or
    /// delegation: a name missing from the table is an NXDOMAIN without looking further.
    pub every_miss: bool,
}

/// Precompile the zone's NXDOMAIN (see [`Negative`]); `None` when the apex has a wildcard
/// child, the answer is not a plain NXDOMAIN, it cannot be moved, or it does not fit.
fn negative(
    z: &ZoneIndex,
    entries: &[u64],
    arena: &mut Vec<u8>,
    interner: &mut Interner,
    buf: &mut [u8],
    scratch: &mut Vec<u8>,
) -> Option<Negative> {
    let apex = z.name_wire(z.node(z.apex)?);
    if z.wildcard_child(z.apex).is_some() {
        return None;
    }
    // A name one label below the apex that does not exist.
    let mut rep = LowerName::new();
    let found = (b'0'..=b'9').chain(b'a'..=b'z').any(|c| {
        let b = rep.buf_mut();
        let Some(dst) = b.get_mut(2..2 + apex.len()) else {
            return false;
        };
        dst.copy_from_slice(apex);
        b[0] = 1;
        b[1] = c;
        rep.set_len(2 + apex.len());
        z.lookup(rep.as_wire()).is_none()
    });
    if !found {
        return None;
    }
    let rep = rep.as_wire();
    let name = Name::from_wire(rep).ok()?.to_name_buf();
    scratch.clear();
    if !template(z, &name, RecordType::A, false, buf, scratch) {
        return None;
    }
    let head = TemplateHeadView::new_checked(scratch.get(..TemplateHead::SIZE)?).ok()?;
    if head.rcode() != Rcode::NxDomain || head.cuts() != 0 || head.answers() != 0 {
        return None;
    }
    let moves = moves(rep, apex, scratch, false)?;
    let template = interner.intern(arena, scratch);
    if template == NONE {
        return None;
    }
    let every_miss = !entries.contains(&NO_ENTRY)
        && (0..z.node_count() as u32).all(|id| {
            z.node(id)
                .is_some_and(|n| n.delegated().is_none() && !z.name_wire(n).starts_with(&[1, b'*']))
        });
    Some(Negative {
        template,
        moves,
        every_miss,
    })
}

/// The moves (see [`Moves`]), for queries without DO, of every template of the zone's
/// wildcards that are not at or below a cut (made for `*.<closest encloser>`, moved to the
/// names they match), and of the referral of each delegation point (made for the cut's own
/// name, moved to the names below it); each list sorted by template offset.
fn moved(z: &ZoneIndex, entries: &[u64], arena: &[u8], base: usize) -> (MovedList, MovedList) {
    let (mut wild, mut cuts) = (Vec::new(), Vec::new());
    for (id, &entry) in entries.iter().enumerate() {
        let Some(node) = z.node(id as u32) else {
            continue;
        };
        let wire = z.name_wire(node);
        let cut = node.delegated() == Some(id as u32);
        let star = wire.strip_prefix(&[1, b'*']);
        if entry == NO_ENTRY || !(cut || star.is_some() && node.delegated().is_none()) {
            continue;
        }
        let Some(Ok(head)) = arena
            .get(entry as usize..entry as usize + EntryHead::SIZE)
            .map(EntryHeadView::new_checked)
        else {
            continue;
        };
        let dir = entry as usize + EntryHead::SIZE + usize::from(head.key_len());
        let n = usize::from(head.types()) + 1;
        let Some(dir) = arena.get(dir..dir + n * DirEntry::SIZE) else {
            continue;
        };
        // A cut's referral is its fallback, the last entry (its own type is DS).
        let skip = if cut { n - 1 } else { 0 };
        for d in dir.chunks_exact(DirEntry::SIZE).skip(skip) {
            let Ok(d) = DirEntryView::new_checked(d) else {
                continue;
            };
            let off = d.plain();
            let Some(t) = template_at(arena, base, off) else {
                continue;
            };
            let start = base + off as usize;
            let end = start + TemplateHead::SIZE + t.cuts.len() + t.body.len();
            let Some(bytes) = arena.get(start..end) else {
                continue;
            };
            let (list, m) = match star {
                Some(ce) if !cut => (&mut wild, moves(wire, ce, bytes, true)),
                _ => (&mut cuts, moves(wire, wire, bytes, false)),
            };
            if let Some(m) = m {
                list.push((off, m));
            }
        }
    }
    for list in [&mut wild, &mut cuts] {
        list.sort_unstable_by_key(|(o, _)| *o);
        // A template shared by names of one shape moves the same for each.
        list.dedup_by_key(|(o, _)| *o);
    }
    (wild, cuts)
}

/// The moves of `template` (head, cuts and body, as stored), made for the lower-cased
/// question name `made_for`: `base`, or one label then `base`. With the extra label,
/// `synth`: owners pointing at the whole question are the question's own name (a
/// wildcard's synthesised owners), allowed in the answer's leading records; otherwise
/// nothing may point there. `None` when the body has a pointer into the first label, the
/// question's labels and the body's fill the compression table, or a pointer could leave the
/// 14-bit range.
fn moves(made_for: &[u8], base: &[u8], template: &[u8], synth: bool) -> Option<Moves> {
    let head = TemplateHeadView::new_checked(template.get(..TemplateHead::SIZE)?).ok()?;
    let body_at = TemplateHead::SIZE + usize::from(head.cuts()) * CutRec::SIZE;
    let body = template.get(body_at..body_at + usize::from(head.body_len()))?;
    // The message as built: a header, the question, the body.
    let qend = QNAME_AT + made_for.len() + crate::wire::QuestionFixed::SIZE;
    let mut msg = alloc::vec![0u8; qend];
    msg.get_mut(QNAME_AT..QNAME_AT + made_for.len())?
        .copy_from_slice(made_for);
    msg.extend_from_slice(body);
    let first_label = made_for.len().checked_sub(base.len())?;
    let mut walk = Walk {
        msg: &msg,
        qend,
        first_target: QNAME_AT + first_label,
        base,
        pointers: Vec::new(),
        sensitive: Vec::new(),
        literal_labels: 0,
        max_target: 0,
    };
    let records =
        usize::from(head.answers()) + usize::from(head.authorities()) + usize::from(head.arcount());
    let mut pos = qend;
    // Leading answer records may have the question as owner (synthesised).
    let mut synth_run = synth;
    for i in 0..records {
        // With no label before the base, the whole question is the base: it moves.
        let owner_whole = first_label > 0 && walk.owner_is_question(pos);
        if owner_whole {
            if !(synth_run && i < usize::from(head.answers())) {
                return None;
            }
            pos += 2;
        } else {
            synth_run = false;
            pos = walk.name(pos)?;
        }
        let fixed = msg.get(pos..pos + 10)?;
        let rtype = RecordType::from_raw(u16::from_be_bytes([fixed[0], fixed[1]]));
        let rdlen = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
        let start = pos + 10;
        let end = start + rdlen;
        // Names in RDATA are compressed (so may point) only for the RFC 1035 types.
        let names_at = match rtype {
            RecordType::Ns
            | RecordType::Md
            | RecordType::Mf
            | RecordType::Cname
            | RecordType::Mb
            | RecordType::Mg
            | RecordType::Mr
            | RecordType::Ptr => Some((start, 1)),
            RecordType::Soa | RecordType::Minfo => Some((start, 2)),
            RecordType::Mx => Some((start + 2, 1)),
            t if t.rdata_compressible() => return None,
            _ => None,
        };
        if let Some((mut at, n)) = names_at {
            for _ in 0..n {
                at = walk.name(at)?;
            }
            let fixed_tail = if rtype == RecordType::Soa { 20 } else { 0 };
            if at + fixed_tail != end {
                return None;
            }
        }
        pos = end;
    }
    if pos != msg.len() || walk.max_target + usize::from(u8::MAX) >= 0x4000 {
        return None;
    }
    // The question's labels and the body's literal ones all go into the compression table.
    let made_labels = super::index::label_starts(made_for)
        .count()
        .saturating_sub(1);
    let used = made_labels + walk.literal_labels;
    let max_labels = (COMPRESSION_TABLE.checked_sub(used)? + made_labels).min(127);
    Some(Moves {
        made_for: u8::try_from(made_for.len()).ok()?,
        pointers: walk.pointers,
        sensitive: walk.sensitive,
        max_labels: u8::try_from(max_labels).ok()?,
    })
}

/// Reading the names of a template's body.
struct Walk<'m> {
    msg: &'m [u8],
    qend: usize,
    first_target: usize,
    base: &'m [u8],
    pointers: Vec<u16>,
    sensitive: Vec<u8>,
    literal_labels: usize,
    max_target: usize,
}

impl Walk<'_> {
    /// Whether the name at `at` is a bare pointer to the question name.
    fn owner_is_question(&self, at: usize) -> bool {
        self.msg.get(at..at + 2) == Some(&(0xc000 | QNAME_AT as u16).to_be_bytes()[..])
    }

    /// Read the name at `at`: note its moving pointer and, if it is below the base, its
    /// suffixes below the base. Returns where it ends.
    fn name(&mut self, at: usize) -> Option<usize> {
        let (full, _) = Name::parse(self.msg, at).ok()?;
        let low = LowerName::from_name(&full);
        let low = low.as_wire();
        for s in super::index::label_starts(low) {
            let suffix = low.get(s..)?;
            if suffix.len() <= self.base.len() || !suffix.ends_with(self.base) {
                break;
            }
            if !self.has_sensitive(suffix) {
                self.sensitive.push(suffix.len() as u8);
                self.sensitive.extend_from_slice(suffix);
            }
        }
        let mut o = at;
        loop {
            let l = *self.msg.get(o)?;
            if l & 0xc0 == 0xc0 {
                let target = usize::from(u16::from_be_bytes([l, *self.msg.get(o + 1)?]) & 0x3fff);
                if target < self.first_target {
                    return None;
                }
                self.max_target = self.max_target.max(target);
                self.pointers.push(u16::try_from(o - self.qend).ok()?);
                return Some(o + 2);
            }
            if l == 0 {
                return Some(o + 1);
            }
            if l & 0xc0 != 0 {
                return None;
            }
            self.literal_labels += 1;
            o += 1 + usize::from(l);
        }
    }

    fn has_sensitive(&self, name: &[u8]) -> bool {
        length_prefixed(&self.sensitive).any(|s| s == name)
    }
}

/// Record the answer for a question of `name` into `out` (head, cuts, body); false when it
/// does not fit even 65535 bytes (left to the on-the-fly path).
fn template(
    z: &ZoneIndex,
    name: &NameBuf,
    qtype: RecordType,
    dnssec: bool,
    buf: &mut [u8],
    out: &mut Vec<u8>,
) -> bool {
    let Ok(mut b) = MessageBuilder::new(buf) else {
        return false;
    };
    if b.push_question(name, qtype, z.zone.class()).is_err() {
        return false;
    }
    let qend = b.message_len();
    let mut w = Writer::new(&mut b, true);
    let flags = z.answer(name, qtype, dnssec, &mut w);
    let w = w.finish();
    let (Some(essential), Some(cuts)) = (w.essential, w.cuts) else {
        return false;
    };
    let h = b.header();
    if h.tc() {
        return false;
    }
    let (answers, authorities) = (h.ancount(), h.nscount());
    let msg = b.finish();
    let Some(body) = msg.get(qend..) else {
        return false;
    };
    let rel = |len: usize| u16::try_from(len.saturating_sub(qend)).ok();
    let (Some(essential), Some(body_len)) = (rel(essential), u16::try_from(body.len()).ok()) else {
        return false;
    };
    // The last cut is the whole body: it is implied.
    let Some((whole, rest)) = cuts.split_last() else {
        return false;
    };
    let Ok(n_cuts) = u16::try_from(rest.len()) else {
        return false;
    };
    let head = TemplateHead {
        rcode: flags.rcode,
        aa: flags.aa,
        reserved: 0,
        reserved2: 0,
        answers,
        authorities,
        arcount: whole.arcount,
        essential,
        body_len,
        cuts: n_cuts,
    };
    out.extend_from_slice(&head.to_bytes());
    for c in rest {
        let Some(len) = rel(c.len) else {
            return false;
        };
        let rec = CutRec {
            len,
            arcount: c.arcount,
            required: c.required,
            reserved: 0,
        };
        out.extend_from_slice(&rec.to_bytes());
    }
    out.extend_from_slice(body);
    true
}
