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
pub(crate) fn compile(z: &ZoneIndex, zone: u32, arena: &mut Vec<u8>) -> Vec<u64> {
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
    entries
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
