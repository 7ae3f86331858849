//! A zone arranged for lookup: one node per name (empty non-terminals included), RRsets
//! with their signatures, delegation points, and the NSEC and NSEC3 chains.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::hash::{BuildHasher, Hasher};

use hashbrown::HashMap;

use crate::dnssec::nsec3_hash;
use crate::name::{Name, NameBuf};
use crate::rdata::RData;
use crate::wire::RecordType;
use crate::zone::{Zone, ZoneRecord, lower};

/// FxHash-style hashing of lower-cased wire names. Keys come from the zone (trusted); query
/// names only look up, so a fixed, fast hash is enough.
#[derive(Clone, Copy, Default)]
pub(crate) struct FxBuild;

pub(crate) struct FxHasher(u64);

impl BuildHasher for FxBuild {
    type Hasher = FxHasher;
    fn build_hasher(&self) -> FxHasher {
        FxHasher(0)
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type Map<V> = HashMap<Box<[u8]>, V, FxBuild>;

/// The records of one type at one name, and the RRSIGs covering them.
#[derive(Debug)]
pub(crate) struct RRset {
    pub rtype: RecordType,
    pub records: Vec<u32>,
    pub sigs: Vec<u32>,
}

/// One name of the zone.
#[derive(Debug)]
pub(crate) struct Node {
    /// The name as spelt in the zone (an empty non-terminal takes its descendant's case).
    pub name: NameBuf,
    pub rrsets: Vec<RRset>,
    /// Every RRSIG at the name (the answer to QTYPE=RRSIG).
    pub sigs: Vec<u32>,
    /// The topmost delegation point at or above this name, if any (never the apex).
    pub delegated: Option<u32>,
}

impl Node {
    pub(crate) fn rrset(&self, rtype: RecordType) -> Option<&RRset> {
        self.rrsets.iter().find(|r| r.rtype == rtype)
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
    pub nodes: Vec<Node>,
    pub map: Map<u32>,
    pub apex: u32,
    /// Nodes holding an NSEC RRset, in canonical order.
    pub nsec: Vec<u32>,
    pub nsec3: Option<Nsec3Chain>,
    /// The TTL of negative answers (RFC 2308 3).
    pub negative_ttl: u32,
}

/// Where each label starts in a wire-form name, root included (the last entry).
pub(crate) fn label_starts(wire: &[u8]) -> heapless::Vec<usize, 128> {
    let mut out = heapless::Vec::new();
    let mut o = 0usize;
    while let Some(&l) = wire.get(o) {
        let _ = out.push(o);
        if l == 0 {
            break;
        }
        o += 1 + usize::from(l);
    }
    out
}

impl ZoneIndex {
    pub(crate) fn new(zone: Zone) -> Self {
        let mut nodes: Vec<Node> = Vec::new();
        let mut map: Map<u32> = HashMap::with_hasher(FxBuild);
        let apex_name = zone.origin().to_name_buf();
        let node_of = |name: &[u8], nodes: &mut Vec<Node>, map: &mut Map<u32>| -> u32 {
            let key = lower(name);
            if let Some(&n) = map.get(key.as_slice()) {
                return n;
            }
            let id = nodes.len() as u32;
            nodes.push(Node {
                name: NameBuf::from_wire(name).unwrap_or_default(),
                rrsets: Vec::new(),
                sigs: Vec::new(),
                delegated: None,
            });
            map.insert(key.into_boxed_slice(), id);
            id
        };
        let apex = node_of(apex_name.as_wire(), &mut nodes, &mut map);
        let apex_len = apex_name.wire_len();
        for (i, rec) in zone.records().iter().enumerate() {
            let wire = rec.owner_wire();
            // The owner and every ancestor down to the apex (empty non-terminals).
            for start in label_starts(wire) {
                if wire.len() - start < apex_len {
                    break;
                }
                node_of(wire.get(start..).unwrap_or_default(), &mut nodes, &mut map);
            }
            let id = map.get(lower(wire).as_slice()).copied().unwrap_or(apex);
            let Some(node) = nodes.get_mut(id as usize) else {
                continue;
            };
            let i = i as u32;
            if rec.rtype() == RecordType::Rrsig {
                node.sigs.push(i);
                let covered = match rec.rdata() {
                    Ok(RData::Rrsig(s)) => s.type_covered,
                    _ => continue,
                };
                match node.rrsets.iter_mut().find(|r| r.rtype == covered) {
                    Some(rs) => rs.sigs.push(i),
                    None => node.rrsets.push(RRset {
                        rtype: covered,
                        records: Vec::new(),
                        sigs: alloc::vec![i],
                    }),
                }
            } else {
                match node.rrsets.iter_mut().find(|r| r.rtype == rec.rtype()) {
                    Some(rs) => rs.records.push(i),
                    None => node.rrsets.push(RRset {
                        rtype: rec.rtype(),
                        records: alloc::vec![i],
                        sigs: Vec::new(),
                    }),
                }
            }
        }
        // Signatures over types absent at the name answer nothing but QTYPE=RRSIG.
        for n in &mut nodes {
            n.rrsets.retain(|r| !r.records.is_empty());
        }
        // Delegation points, parents before children.
        let mut order: Vec<u32> = (0..nodes.len() as u32).collect();
        order.sort_by_key(|&n| nodes.get(n as usize).map_or(0, |n| n.name.label_count()));
        for n in order {
            let Some(node) = nodes.get(n as usize) else {
                continue;
            };
            let parent = node
                .name
                .as_name()
                .parent()
                .filter(|_| n != apex)
                .and_then(|p| {
                    map.get(lower(p.to_name_buf().as_wire()).as_slice())
                        .copied()
                });
            let inherited = parent
                .and_then(|p| nodes.get(p as usize))
                .and_then(|p| p.delegated);
            let own = (n != apex && node.rrset(RecordType::Ns).is_some()).then_some(n);
            if let Some(node) = nodes.get_mut(n as usize) {
                node.delegated = inherited.or(own);
            }
        }
        let records = zone.records();
        let mut nsec: Vec<u32> = (0..nodes.len() as u32)
            .filter(|&n| {
                nodes
                    .get(n as usize)
                    .is_some_and(|n| n.rrset(RecordType::Nsec).is_some())
            })
            .collect();
        nsec.sort_by(|&a, &b| name_of(&nodes, a).cmp_canonical(&name_of(&nodes, b)));
        let nsec3 = nsec3_chain(&nodes, records, apex, apex_len);
        let soa = nodes
            .get(apex as usize)
            .and_then(|n| n.rrset(RecordType::Soa))
            .and_then(|r| r.records.first().copied())
            .unwrap_or(0);
        let negative_ttl = records.get(soa as usize).map_or(0, |r| match r.rdata() {
            Ok(RData::Soa(s)) => r.ttl().min(s.minimum),
            _ => r.ttl(),
        });
        ZoneIndex {
            zone,
            nodes,
            map,
            apex,
            nsec,
            nsec3,
            negative_ttl,
        }
    }

    pub(crate) fn node(&self, id: u32) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    pub(crate) fn record(&self, id: u32) -> Option<&ZoneRecord> {
        self.zone.records().get(id as usize)
    }

    /// The node of a lower-cased wire name.
    pub(crate) fn lookup(&self, lower_wire: &[u8]) -> Option<u32> {
        self.map.get(lower_wire).copied()
    }

    /// The closest encloser of `lower_wire` (a name at or below the apex): the node and its
    /// label count.
    pub(crate) fn closest_encloser(&self, lower_wire: &[u8]) -> (u32, usize) {
        let starts = label_starts(lower_wire);
        let total = starts.len().saturating_sub(1);
        for (i, &s) in starts.iter().enumerate() {
            if let Some(n) = self.lookup(lower_wire.get(s..).unwrap_or_default()) {
                return (n, total - i);
            }
        }
        let apex_labels = self.node(self.apex).map_or(0, |n| n.name.label_count());
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
        let mut w = self.node(node)?.name;
        w.prepend_label(b"*").ok()?;
        self.lookup(&lower(w.as_wire()))
    }

    /// The NSEC node whose owner is `name` or the last before it in canonical order (with
    /// the chain's wrap): the NSEC that matches or covers `name`.
    pub(crate) fn nsec_for(&self, name: &Name<'_>) -> Option<u32> {
        let i = self
            .nsec
            .partition_point(|&n| name_of(&self.nodes, n).cmp_canonical(name).is_le());
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
}

fn name_of(nodes: &[Node], n: u32) -> Name<'_> {
    nodes
        .get(n as usize)
        .map_or(Name::ROOT, |n| n.name.as_name())
}

/// The NSEC3 chain: parameters from the apex's NSEC3PARAM (or the first NSEC3 record), and
/// every NSEC3 node one label below the apex whose label decodes to a SHA-1 hash.
fn nsec3_chain(
    nodes: &[Node],
    records: &[ZoneRecord],
    apex: u32,
    apex_len: usize,
) -> Option<Nsec3Chain> {
    let param = nodes
        .get(apex as usize)?
        .rrset(RecordType::Nsec3param)
        .and_then(|r| {
            r.records
                .iter()
                .find_map(|&i| nsec3param(records.get(i as usize)?))
        });
    let mut hashes = Vec::new();
    let mut first_params = None;
    for (id, node) in nodes.iter().enumerate() {
        let Some(rs) = node.rrset(RecordType::Nsec3) else {
            continue;
        };
        let Some(rec) = rs.records.first().and_then(|&i| records.get(i as usize)) else {
            continue;
        };
        if let Ok(RData::Nsec3(n)) = rec.rdata() {
            if n.hash_algorithm.to_raw() != 1 {
                continue;
            }
            first_params.get_or_insert_with(|| (n.salt.to_vec(), n.iterations));
        }
        let wire = node.name.as_wire();
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
