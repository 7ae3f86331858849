//! A zone arranged for lookup: one node per name (empty non-terminals included), RRsets
//! with their signatures, delegation points, and the NSEC and NSEC3 chains.
//!
//! Compact by construction: node names live lower-cased in one byte arena, RRsets in one
//! vector and their record lists in another, and the name → node map is a `HashTable` of
//! node numbers (4 bytes a slot) whose keys are read from the arena.

use alloc::vec::Vec;

use hashbrown::HashTable;

use crate::dnssec::nsec3_hash;
pub(crate) use crate::hash::{eq_lower, hash_name, hash_name_lower};
use crate::name::{MAX_NAME_LEN, Name};
use crate::rdata::RData;
use crate::wire::RecordType;
use crate::zone::{Zone, ZoneRecord};

/// A wire-form name lower-cased into a stack buffer (no heap, no 255-byte copies: only the
/// name's own bytes are written).
pub(crate) struct LowerName {
    bytes: [u8; MAX_NAME_LEN],
    len: usize,
}

impl LowerName {
    /// The root name.
    pub(crate) const fn new() -> Self {
        LowerName {
            bytes: [0; MAX_NAME_LEN],
            len: 1,
        }
    }

    /// `wire` lower-cased (a name of at most 255 octets; longer input is cut, which no
    /// caller passes).
    pub(crate) fn from_wire(wire: &[u8]) -> Self {
        let mut l = Self::new();
        l.set(wire);
        l
    }

    /// Replace with the lower-cased `wire`.
    pub(crate) fn set(&mut self, wire: &[u8]) {
        let n = wire.len().min(MAX_NAME_LEN);
        if let (Some(dst), Some(src)) = (self.bytes.get_mut(..n), wire.get(..n)) {
            dst.copy_from_slice(src);
            dst.make_ascii_lowercase();
        }
        self.len = n;
    }

    /// Fill from the labels of `name`, lower-cased.
    pub(crate) fn from_name(name: &Name<'_>) -> Self {
        let mut l = Self::new();
        let mut pos = 0usize;
        for label in name.labels() {
            // A parsed name is at most 255 octets, so this fits.
            if let Some((len, rest)) = l
                .bytes
                .get_mut(pos..pos + 1 + label.len())
                .and_then(<[u8]>::split_first_mut)
            {
                *len = label.len() as u8;
                rest.copy_from_slice(label);
                rest.make_ascii_lowercase();
            }
            pos += 1 + label.len();
        }
        if let Some(b) = l.bytes.get_mut(pos) {
            *b = 0;
        }
        l.len = pos + 1;
        l
    }

    /// The buffer to write a name into; [`set_len`](Self::set_len) says how much was.
    pub(crate) fn buf_mut(&mut self) -> &mut [u8; MAX_NAME_LEN] {
        &mut self.bytes
    }

    /// Set the length after writing through [`buf_mut`](Self::buf_mut).
    pub(crate) fn set_len(&mut self, len: usize) {
        self.len = len.min(MAX_NAME_LEN);
    }

    /// The name in wire form.
    pub(crate) fn as_wire(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[0])
    }
}

/// Where each label starts in a wire-form name, root included (the last item): at most 128
/// items, computed as the iteration goes.
pub(crate) fn label_starts(wire: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut next = Some(0usize);
    core::iter::from_fn(move || {
        let o = next?;
        let l = *wire.get(o)?;
        next = (l != 0).then(|| o + 1 + usize::from(l));
        Some(o)
    })
}

/// The records of one type at one name, and the RRSIGs covering them: ranges of
/// [`ZoneIndex::ids`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct RRset {
    pub rtype: RecordType,
    records: (u32, u32),
    sigs: (u32, u32),
}

const NO_NODE: u32 = u32::MAX;

/// One name of the zone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    /// The lower-cased name: offset in [`ZoneIndex::names`], length, label count.
    name: u32,
    name_len: u8,
    labels: u8,
    /// The node's RRsets: a range of [`ZoneIndex::rrsets`].
    rrsets: u32,
    n_rrsets: u32,
    /// Every RRSIG at the name (the answer to QTYPE=RRSIG): a range of [`ZoneIndex::ids`].
    sigs: u32,
    n_sigs: u32,
    /// The topmost delegation point at or above this name, if any (never the apex).
    delegated: u32,
}

impl Node {
    /// The topmost delegation point at or above this name, if any (never the apex).
    pub(crate) fn delegated(&self) -> Option<u32> {
        (self.delegated != NO_NODE).then_some(self.delegated)
    }

    /// The number of labels, root excluded.
    pub(crate) fn label_count(&self) -> usize {
        usize::from(self.labels)
    }
}

/// NSEC3 parameters and the hashed owners in order.
#[derive(Debug)]
pub(crate) struct Nsec3Chain {
    pub salt: Vec<u8>,
    pub iterations: u16,
    pub hashes: Vec<([u8; 20], u32)>,
}

#[derive(Debug)]
pub(crate) struct ZoneIndex {
    pub zone: Zone,
    nodes: Vec<Node>,
    /// Every node's lower-cased wire name, back to back.
    names: Vec<u8>,
    rrsets: Vec<RRset>,
    /// Record numbers (in [`Zone::records`]) of the RRsets and signature lists.
    ids: Vec<u32>,
    /// Node numbers keyed by their names in `names`.
    map: HashTable<u32>,
    pub apex: u32,
    /// Nodes holding an NSEC RRset, in canonical order.
    pub nsec: Vec<u32>,
    pub nsec3: Option<Nsec3Chain>,
    /// The TTL of negative answers (RFC 2308 3).
    pub negative_ttl: u32,
    /// Whether any record is DNSSEC material (RRSIG, NSEC, NSEC3, NSEC3PARAM, DS): when
    /// not, the DO bit changes no answer.
    pub signed: bool,
}

/// Append `list` to `ids`; returns its range.
fn push_list(ids: &mut Vec<u32>, list: impl Iterator<Item = u32>) -> (u32, u32) {
    let start = ids.len() as u32;
    ids.extend(list);
    (start, ids.len() as u32 - start)
}

impl ZoneIndex {
    pub(crate) fn new(zone: Zone) -> Self {
        let records = zone.records();
        let apex_low = LowerName::from_name(&zone.origin());
        let apex_len = apex_low.as_wire().len();
        let mut ix = ZoneIndex {
            nodes: Vec::new(),
            names: Vec::new(),
            rrsets: Vec::new(),
            ids: Vec::new(),
            map: HashTable::new(),
            apex: 0,
            nsec: Vec::new(),
            nsec3: None,
            negative_ttl: 0,
            signed: false,
            zone: Zone::empty(),
        };
        ix.apex = ix.node_of(apex_low.as_wire());
        // The node of each record's owner; every ancestor down to the apex gets a node too
        // (empty non-terminals). Ancestors of a node always have nodes, so the walk up stops
        // at the first name already known.
        let mut owner_node: Vec<u32> = Vec::with_capacity(records.len());
        let mut low = LowerName::new();
        for rec in records {
            low.set(rec.owner_wire());
            let wire = low.as_wire();
            let id = match ix.lookup(wire) {
                Some(id) => id,
                None => {
                    for start in label_starts(wire) {
                        let Some(suffix) = wire.get(start..) else {
                            break;
                        };
                        if suffix.len() < apex_len || ix.lookup(suffix).is_some() {
                            break;
                        }
                        ix.node_of(suffix);
                    }
                    ix.lookup(wire).unwrap_or(ix.apex)
                }
            };
            owner_node.push(id);
            if matches!(
                rec.rtype(),
                RecordType::Rrsig
                    | RecordType::Nsec
                    | RecordType::Nsec3
                    | RecordType::Nsec3param
                    | RecordType::Ds
            ) {
                ix.signed = true;
            }
        }
        // The records of each node, in zone order (a stable counting sort).
        let n = ix.nodes.len();
        let mut start = alloc::vec![0u32; n + 1];
        for &id in &owner_node {
            if let Some(c) = start.get_mut(id as usize + 1) {
                *c += 1;
            }
        }
        for i in 0..n {
            let prev = start.get(i).copied().unwrap_or(0);
            if let Some(c) = start.get_mut(i + 1) {
                *c += prev;
            }
        }
        let mut fill = start.clone();
        let mut order = alloc::vec![0u32; records.len()];
        for (i, &id) in owner_node.iter().enumerate() {
            if let Some(f) = fill.get_mut(id as usize) {
                if let Some(slot) = order.get_mut(*f as usize) {
                    *slot = i as u32;
                }
                *f += 1;
            }
        }
        drop(owner_node);
        drop(fill);
        // RRsets in order of first appearance (an RRSIG makes its covered type appear);
        // signatures over types absent at the name answer nothing but QTYPE=RRSIG.
        let covered = |i: u32| match records.get(i as usize).map(|r| r.rdata()) {
            Some(Ok(RData::Rrsig(s))) => Some(s.type_covered),
            _ => None,
        };
        let mut types: Vec<RecordType> = Vec::new();
        for id in 0..n {
            let (a, b) = (
                start.get(id).copied().unwrap_or(0) as usize,
                start.get(id + 1).copied().unwrap_or(0) as usize,
            );
            let group = order.get(a..b).unwrap_or_default();
            let rtype = |i: u32| records.get(i as usize).map(ZoneRecord::rtype);
            types.clear();
            for &i in group {
                let t = match rtype(i) {
                    Some(RecordType::Rrsig) => covered(i),
                    t => t,
                };
                if let Some(t) = t
                    && !types.contains(&t)
                {
                    types.push(t);
                }
            }
            let sigs = push_list(
                &mut ix.ids,
                group
                    .iter()
                    .copied()
                    .filter(|&i| rtype(i) == Some(RecordType::Rrsig)),
            );
            let first_rrset = ix.rrsets.len() as u32;
            for &t in &types {
                let is_record = |i: &u32| {
                    let r = rtype(*i);
                    r == Some(t) && r != Some(RecordType::Rrsig)
                };
                if !group.iter().any(is_record) {
                    continue;
                }
                let recs = push_list(&mut ix.ids, group.iter().copied().filter(is_record));
                let rsigs = push_list(
                    &mut ix.ids,
                    group
                        .iter()
                        .copied()
                        .filter(|&i| rtype(i) == Some(RecordType::Rrsig) && covered(i) == Some(t)),
                );
                ix.rrsets.push(RRset {
                    rtype: t,
                    records: recs,
                    sigs: rsigs,
                });
            }
            if let Some(node) = ix.nodes.get_mut(id) {
                node.sigs = sigs.0;
                node.n_sigs = sigs.1;
                node.rrsets = first_rrset;
                node.n_rrsets = ix.rrsets.len() as u32 - first_rrset;
            }
        }
        drop(order);
        drop(start);
        // Delegation points, parents before children.
        let mut by_depth: Vec<u32> = (0..n as u32).collect();
        by_depth.sort_by_key(|&id| ix.node(id).map_or(0, |n| n.labels));
        for id in by_depth {
            let Some(&node) = ix.node(id) else { continue };
            // Names are stored lower-cased: the parent's is the tail of the child's.
            let wire = ix.name_wire(&node);
            let parent = wire
                .first()
                .filter(|&&l| l != 0 && id != ix.apex)
                .and_then(|&l| wire.get(1 + usize::from(l)..))
                .and_then(|p| ix.lookup(p));
            let inherited = parent.and_then(|p| ix.node(p)).and_then(Node::delegated);
            let own = (id != ix.apex && ix.rrset(&node, RecordType::Ns).is_some()).then_some(id);
            if let Some(node) = ix.nodes.get_mut(id as usize) {
                node.delegated = inherited.or(own).unwrap_or(NO_NODE);
            }
        }
        let mut nsec: Vec<u32> = (0..n as u32)
            .filter(|&id| {
                ix.node(id)
                    .is_some_and(|n| ix.rrset(n, RecordType::Nsec).is_some())
            })
            .collect();
        nsec.sort_by(|&a, &b| ix.name_of(a).cmp_canonical(&ix.name_of(b)));
        ix.nsec = nsec;
        ix.nsec3 = ix.nsec3_chain(records, apex_len);
        let soa = ix
            .node(ix.apex)
            .and_then(|n| ix.rrset(n, RecordType::Soa))
            .and_then(|r| ix.records(&r).first().copied())
            .unwrap_or(0);
        ix.negative_ttl = records.get(soa as usize).map_or(0, |r| match r.rdata() {
            Ok(RData::Soa(s)) => r.ttl().min(s.minimum),
            _ => r.ttl(),
        });
        ix.nodes.shrink_to_fit();
        ix.names.shrink_to_fit();
        ix.rrsets.shrink_to_fit();
        ix.ids.shrink_to_fit();
        ix.zone = zone;
        ix
    }

    /// The node of a lower-cased name, made if new (without its ancestors).
    fn node_of(&mut self, low: &[u8]) -> u32 {
        if let Some(id) = self.lookup(low) {
            return id;
        }
        let id = self.nodes.len() as u32;
        let labels = label_starts(low).count().saturating_sub(1);
        self.nodes.push(Node {
            name: self.names.len() as u32,
            name_len: low.len() as u8,
            labels: labels as u8,
            rrsets: 0,
            n_rrsets: 0,
            sigs: 0,
            n_sigs: 0,
            delegated: NO_NODE,
        });
        self.names.extend_from_slice(low);
        let (nodes, names) = (&self.nodes, &self.names);
        self.map.insert_unique(hash_name(low), id, |&n| {
            hash_name(node_key(nodes, names, n))
        });
        id
    }

    pub(crate) fn node(&self, id: u32) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    /// The number of nodes.
    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub(crate) fn record(&self, id: u32) -> Option<&ZoneRecord> {
        self.zone.records().get(id as usize)
    }

    /// A node's lower-cased name in wire form.
    pub(crate) fn name_wire(&self, node: &Node) -> &[u8] {
        let start = node.name as usize;
        self.names
            .get(start..start + usize::from(node.name_len))
            .unwrap_or(&[0])
    }

    /// A node's name (lower-cased).
    pub(crate) fn name(&self, node: &Node) -> Name<'_> {
        Name::from_wire(self.name_wire(node)).unwrap_or(Name::ROOT)
    }

    fn name_of(&self, id: u32) -> Name<'_> {
        self.node(id).map_or(Name::ROOT, |n| self.name(n))
    }

    /// A node's RRsets.
    pub(crate) fn rrsets(&self, node: &Node) -> &[RRset] {
        let start = node.rrsets as usize;
        self.rrsets
            .get(start..start + node.n_rrsets as usize)
            .unwrap_or_default()
    }

    /// A node's RRset of `rtype`.
    pub(crate) fn rrset(&self, node: &Node, rtype: RecordType) -> Option<RRset> {
        self.rrsets(node).iter().find(|r| r.rtype == rtype).copied()
    }

    fn range(&self, (start, len): (u32, u32)) -> &[u32] {
        let start = start as usize;
        self.ids
            .get(start..start + len as usize)
            .unwrap_or_default()
    }

    /// Every RRSIG at a node.
    pub(crate) fn sigs(&self, node: &Node) -> &[u32] {
        self.range((node.sigs, node.n_sigs))
    }

    /// An RRset's records.
    pub(crate) fn records(&self, rrset: &RRset) -> &[u32] {
        self.range(rrset.records)
    }

    /// The RRSIGs covering an RRset.
    pub(crate) fn rrset_sigs(&self, rrset: &RRset) -> &[u32] {
        self.range(rrset.sigs)
    }

    /// The node of a lower-cased wire name.
    #[inline]
    pub(crate) fn lookup(&self, lower_wire: &[u8]) -> Option<u32> {
        self.map
            .find(hash_name(lower_wire), |&n| {
                node_key(&self.nodes, &self.names, n) == lower_wire
            })
            .copied()
    }

    /// The closest encloser of `lower_wire` (a name at or below the apex): the node and its
    /// label count.
    pub(crate) fn closest_encloser(&self, lower_wire: &[u8]) -> (u32, usize) {
        let total = label_starts(lower_wire).count().saturating_sub(1);
        for (i, s) in label_starts(lower_wire).enumerate() {
            if let Some(n) = self.lookup(lower_wire.get(s..).unwrap_or_default()) {
                return (n, total - i);
            }
        }
        let apex_labels = self.node(self.apex).map_or(0, Node::label_count);
        (self.apex, apex_labels)
    }

    /// The node answering for a lower-cased name: its own, or the wildcard that the closest
    /// encloser offers.
    pub(crate) fn answering_node(&self, lower_wire: &[u8]) -> Option<u32> {
        if let Some(n) = self.lookup(lower_wire) {
            return Some(n);
        }
        let (ce, _) = self.closest_encloser(lower_wire);
        self.wildcard_child(ce)
    }

    /// The `*` child of a node, if it exists.
    pub(crate) fn wildcard_child(&self, node: u32) -> Option<u32> {
        let name = self.name_wire(self.node(node)?);
        let mut w = LowerName::new();
        let buf = w.buf_mut();
        let dst = buf.get_mut(2..2 + name.len())?;
        dst.copy_from_slice(name);
        buf[0] = 1;
        buf[1] = b'*';
        w.set_len(2 + name.len());
        self.lookup(w.as_wire())
    }

    /// The NSEC node whose owner is `name` or the last before it in canonical order (with
    /// the chain's wrap): the NSEC that matches or covers `name`.
    pub(crate) fn nsec_for(&self, name: &Name<'_>) -> Option<u32> {
        let i = self
            .nsec
            .partition_point(|&n| self.name_of(n).cmp_canonical(name).is_le());
        let i = if i == 0 { self.nsec.len() } else { i };
        self.nsec.get(i.checked_sub(1)?).copied()
    }

    fn hash(&self, name: &Name<'_>) -> Option<[u8; 20]> {
        let c = self.nsec3.as_ref()?;
        Some(nsec3_hash(name, &c.salt, c.iterations))
    }

    /// The NSEC3 node whose hash is `name`'s.
    pub(crate) fn nsec3_matching(&self, name: &Name<'_>) -> Option<u32> {
        let h = self.hash(name)?;
        let c = self.nsec3.as_ref()?;
        let i = c.hashes.binary_search_by(|(k, _)| k.cmp(&h)).ok()?;
        c.hashes.get(i).map(|(_, n)| *n)
    }

    /// The NSEC3 node covering `name`'s hash (the last hash before it, with the wrap).
    pub(crate) fn nsec3_covering(&self, name: &Name<'_>) -> Option<u32> {
        let h = self.hash(name)?;
        let c = self.nsec3.as_ref()?;
        let i = c.hashes.partition_point(|(k, _)| *k < h);
        let i = if i == 0 { c.hashes.len() } else { i };
        c.hashes.get(i.checked_sub(1)?).map(|(_, n)| *n)
    }

    /// The NSEC3 chain: parameters from the apex's NSEC3PARAM (or the first NSEC3 record),
    /// and every NSEC3 node one label below the apex whose label decodes to a SHA-1 hash.
    fn nsec3_chain(&self, records: &[ZoneRecord], apex_len: usize) -> Option<Nsec3Chain> {
        let param = self
            .node(self.apex)
            .and_then(|n| self.rrset(n, RecordType::Nsec3param))
            .and_then(|r| {
                self.records(&r)
                    .iter()
                    .find_map(|&i| nsec3param(records.get(i as usize)?))
            });
        let mut hashes = Vec::new();
        let mut first_params = None;
        for (id, node) in self.nodes.iter().enumerate() {
            let Some(rs) = self.rrset(node, RecordType::Nsec3) else {
                continue;
            };
            let Some(rec) = self
                .records(&rs)
                .first()
                .and_then(|&i| records.get(i as usize))
            else {
                continue;
            };
            if let Ok(RData::Nsec3(n)) = rec.rdata() {
                if n.hash_algorithm.to_raw() != 1 {
                    continue;
                }
                first_params.get_or_insert_with(|| (n.salt.to_vec(), n.iterations));
            }
            let wire = self.name_wire(node);
            let Some((&len, rest)) = wire.split_first() else {
                continue;
            };
            if wire.len() != 1 + usize::from(len) + apex_len {
                continue;
            }
            let mut out = Vec::new();
            let label = rest.get(..usize::from(len)).unwrap_or_default();
            if crate::zone::decode_base32hex(label, &mut out).is_some()
                && let Ok(h) = <[u8; 20]>::try_from(out.as_slice())
            {
                hashes.push((h, id as u32));
            }
        }
        let (salt, iterations) = param.or(first_params)?;
        hashes.sort();
        Some(Nsec3Chain {
            salt,
            iterations,
            hashes,
        })
    }
}

/// The lower-cased name of node `n`.
#[inline]
fn node_key<'a>(nodes: &[Node], names: &'a [u8], n: u32) -> &'a [u8] {
    match nodes.get(n as usize) {
        Some(node) => {
            let start = node.name as usize;
            names
                .get(start..start + usize::from(node.name_len))
                .unwrap_or_default()
        }
        None => &[],
    }
}

/// NSEC3PARAM RDATA: algorithm 1 only.
fn nsec3param(rec: &ZoneRecord) -> Option<(Vec<u8>, u16)> {
    let w = rec.rdata_wire();
    let (&[alg, _flags, i0, i1, salt_len], rest) = w.split_first_chunk::<5>()?;
    if alg != 1 {
        return None;
    }
    let salt = rest.get(..usize::from(salt_len))?;
    Some((salt.to_vec(), u16::from_be_bytes([i0, i1])))
}
