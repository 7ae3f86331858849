//! Answering one question from one zone into a [`MessageBuilder`]: the only place that
//! decides what a response holds. Precompiled responses are this code's output, recorded
//! at load time.

use alloc::vec::Vec;

use super::index::{LowerName, Node, RRset, ZoneIndex};
use crate::BuildError;
use crate::builder::{Mark, MessageBuilder};
use crate::message::Section;
use crate::name::NameBuf;
use crate::rdata::RData;
use crate::wire::{Rcode, RecordType};

/// How many CNAMEs are followed inside a zone before the answer stops.
pub const MAX_CNAME_CHAIN: usize = 8;

/// What the answer decided for the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub rcode: Rcode,
    pub aa: bool,
}

/// A point where the additional section may be cut: the message length and ARCOUNT before
/// an additional RRset, and whether dropping that RRset needs TC (in-domain glue).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cut {
    pub len: usize,
    pub arcount: u16,
    pub required: bool,
}

/// Pushes records with the truncation policy: if anything of the answer or authority
/// sections does not fit, everything after the question is dropped and TC is set; an
/// additional RRset that does not fit is dropped with the ones after it, setting TC only for
/// required glue. Records cut points when asked (for templates).
pub(crate) struct Writer<'x, 'b> {
    b: &'x mut MessageBuilder<'b>,
    start: Mark,
    truncated: bool,
    additional_stopped: bool,
    /// Set to the cut points when recording a template.
    pub cuts: Option<Vec<Cut>>,
    /// Length after the authority section (when recording).
    pub essential: Option<usize>,
}

enum Owner<'n> {
    /// The record's own owner name.
    Stored,
    /// A synthesized owner (wildcard expansion).
    Synth(&'n NameBuf),
}

impl<'x, 'b> Writer<'x, 'b> {
    pub(crate) fn new(b: &'x mut MessageBuilder<'b>, record: bool) -> Self {
        let start = b.mark();
        Writer {
            b,
            start,
            truncated: false,
            additional_stopped: false,
            cuts: record.then(Vec::new),
            essential: None,
        }
    }

    fn push_rrset(
        &mut self,
        z: &ZoneIndex,
        section: Section,
        owner: &Owner<'_>,
        rrset: &RRset,
        sigs: bool,
        ttl: Option<u32>,
    ) {
        if self.truncated {
            return;
        }
        let sig_list: &[u32] = if sigs { z.rrset_sigs(rrset) } else { &[] };
        for &i in z.records(rrset).iter().chain(sig_list) {
            if self.push_one(z, section, owner, i, ttl).is_err() {
                self.truncated = true;
                return;
            }
        }
    }

    fn push_list(&mut self, z: &ZoneIndex, section: Section, owner: &Owner<'_>, list: &[u32]) {
        for &i in list {
            if self.truncated {
                return;
            }
            if self.push_one(z, section, owner, i, None).is_err() {
                self.truncated = true;
            }
        }
    }

    fn push_one(
        &mut self,
        z: &ZoneIndex,
        section: Section,
        owner: &Owner<'_>,
        i: u32,
        ttl: Option<u32>,
    ) -> Result<(), BuildError> {
        let Some(rec) = z.record(i) else {
            return Ok(());
        };
        let rdata = rec.rdata()?;
        let ttl = ttl.unwrap_or(rec.ttl());
        match owner {
            Owner::Stored => self.b.push(section, &rec.owner(), rec.class(), ttl, &rdata),
            Owner::Synth(n) => self.b.push(section, *n, rec.class(), ttl, &rdata),
        }
    }

    /// Push an additional RRset (glue), stopping at the first that does not fit.
    fn push_additional(&mut self, z: &ZoneIndex, rrset: &RRset, required: bool) {
        if self.truncated || self.additional_stopped {
            return;
        }
        let mark = self.b.mark();
        if let Some(cuts) = self.cuts.as_mut() {
            cuts.push(Cut {
                len: self.b.message_len(),
                arcount: self.b.header().arcount(),
                required,
            });
        }
        for &i in z.records(rrset) {
            if self
                .push_one(z, Section::Additional, &Owner::Stored, i, None)
                .is_err()
            {
                self.b.rollback(mark);
                self.additional_stopped = true;
                if required {
                    self.b.header_mut().set_tc(true);
                }
                return;
            }
        }
    }

    fn end_authority(&mut self) {
        if self.essential.is_none() && self.cuts.is_some() {
            self.essential = Some(self.b.message_len());
        }
    }

    /// Apply the policy: drop everything after the question if the essential sections did
    /// not fit (TC is already set by the builder).
    pub(crate) fn finish(mut self) -> Self {
        self.end_authority();
        if self.truncated {
            self.b.rollback(self.start);
            self.b.header_mut().set_tc(true);
        } else if let Some(cuts) = self.cuts.as_mut() {
            cuts.push(Cut {
                len: self.b.message_len(),
                arcount: self.b.header().arcount(),
                required: false,
            });
        }
        self
    }
}

/// Proof RRsets for the authority section (NSEC or NSEC3 nodes), without repeats.
#[derive(Default)]
struct Proofs {
    nodes: heapless::Vec<(u32, RecordType), 16>,
}

impl Proofs {
    fn add(&mut self, node: Option<u32>, rtype: RecordType) {
        if let Some(n) = node
            && !self.nodes.iter().any(|&(m, _)| m == n)
        {
            let _ = self.nodes.push((n, rtype));
        }
    }
}

/// The suffix of `name` with `labels` labels.
fn suffix(name: &NameBuf, labels: usize) -> NameBuf {
    let mut n = name.as_name();
    while n.label_count() > labels {
        match n.parent() {
            Some(p) => n = p,
            None => break,
        }
    }
    n.to_name_buf()
}

fn with_star(name: &NameBuf) -> NameBuf {
    let mut w = *name;
    // A closest encloser is at most 253 octets when something lies below it.
    let _ = w.prepend_label(b"*");
    w
}

impl ZoneIndex {
    /// NSEC3 closest provable encloser proof for `name` (RFC 5155 7.2.1): the NSEC3
    /// matching the nearest ancestor-or-self that has one and, if that is not `name`, the
    /// NSEC3 covering the next closer name. Returns the encloser.
    fn nsec3_encloser_proof(&self, name: &NameBuf, proofs: &mut Proofs) -> NameBuf {
        let mut next_closer: Option<NameBuf> = None;
        let mut cur = Some(name.as_name());
        while let Some(n) = cur {
            if let Some(m) = self.nsec3_matching(&n) {
                proofs.add(Some(m), RecordType::Nsec3);
                if let Some(nc) = next_closer {
                    proofs.add(self.nsec3_covering(&nc.as_name()), RecordType::Nsec3);
                }
                return n.to_name_buf();
            }
            next_closer = Some(n.to_name_buf());
            cur = n.parent();
        }
        *name
    }

    /// Proof that `name` has no RRset of the type asked for (it exists).
    fn nodata_proof(&self, name: &NameBuf, proofs: &mut Proofs) {
        if self.nsec3.is_some() {
            match self.nsec3_matching(&name.as_name()) {
                Some(m) => proofs.add(Some(m), RecordType::Nsec3),
                None => {
                    self.nsec3_encloser_proof(name, proofs);
                }
            }
        } else {
            proofs.add(self.nsec_for(&name.as_name()), RecordType::Nsec);
        }
    }

    /// Proof that `name` does not exist and no wildcard covers it (below `ce`).
    fn nxdomain_proof(&self, name: &NameBuf, ce: &NameBuf, proofs: &mut Proofs) {
        if self.nsec3.is_some() {
            let ce = self.nsec3_encloser_proof(name, proofs);
            proofs.add(
                self.nsec3_covering(&with_star(&ce).as_name()),
                RecordType::Nsec3,
            );
        } else {
            proofs.add(self.nsec_for(&name.as_name()), RecordType::Nsec);
            proofs.add(self.nsec_for(&with_star(ce).as_name()), RecordType::Nsec);
        }
    }

    /// Proof that no closer match than the wildcard exists (RFC 4035 3.1.3.3, RFC 5155
    /// 7.2.6).
    fn wildcard_proof(&self, name: &NameBuf, ce_labels: usize, proofs: &mut Proofs) {
        if self.nsec3.is_some() {
            let next_closer = suffix(name, ce_labels + 1);
            proofs.add(
                self.nsec3_covering(&next_closer.as_name()),
                RecordType::Nsec3,
            );
        } else {
            proofs.add(self.nsec_for(&name.as_name()), RecordType::Nsec);
        }
    }

    /// Proof for a wildcard NODATA (RFC 4035 3.1.3.4, RFC 5155 7.2.5).
    fn wildcard_nodata_proof(&self, name: &NameBuf, ce: &NameBuf, proofs: &mut Proofs) {
        let star = with_star(ce);
        if self.nsec3.is_some() {
            proofs.add(self.nsec3_matching(&ce.as_name()), RecordType::Nsec3);
            let next_closer = suffix(name, ce.label_count() + 1);
            proofs.add(
                self.nsec3_covering(&next_closer.as_name()),
                RecordType::Nsec3,
            );
            proofs.add(self.nsec3_matching(&star.as_name()), RecordType::Nsec3);
        } else {
            proofs.add(self.nsec_for(&name.as_name()), RecordType::Nsec);
            proofs.add(self.nsec_for(&star.as_name()), RecordType::Nsec);
        }
    }

    /// Answer `qname`/`qtype` (the qname inside this zone) into `w`.
    pub(crate) fn answer(
        &self,
        qname: &NameBuf,
        qtype: RecordType,
        dnssec: bool,
        w: &mut Writer<'_, '_>,
    ) -> Outcome {
        let mut outcome = Outcome {
            rcode: Rcode::NoError,
            aa: true,
        };
        let mut proofs = Proofs::default();
        let mut soa = false;
        let mut cur = *qname;
        let apex = self.apex_name();
        for step in 0..=MAX_CNAME_CHAIN {
            let first = step == 0;
            let low = LowerName::from_name(&cur.as_name());
            let (ce, ce_labels) = self.closest_encloser(low.as_wire());
            let Some(ce_node) = self.node(ce) else {
                break;
            };
            let exact = ce_labels == cur.label_count();
            if let Some(cut) = ce_node.delegated() {
                let parent_side_ds = exact && cut == ce && qtype == RecordType::Ds && first;
                if !parent_side_ds {
                    if first {
                        return self.referral(cut, dnssec, w);
                    }
                    break;
                }
            }
            if step == MAX_CNAME_CHAIN {
                break;
            }
            let (node, owner_synth) = if exact {
                (ce_node, false)
            } else if let Some(wild) = self.wildcard_child(ce).and_then(|n| self.node(n)) {
                if dnssec {
                    self.wildcard_proof(&cur, ce_labels, &mut proofs);
                }
                (wild, true)
            } else {
                outcome.rcode = Rcode::NxDomain;
                soa = true;
                if dnssec {
                    let ce_name = self.name(ce_node).to_name_buf();
                    self.nxdomain_proof(&cur, &ce_name, &mut proofs);
                }
                break;
            };
            let synth_name = cur;
            let owner = if owner_synth {
                Owner::Synth(&synth_name)
            } else {
                Owner::Stored
            };
            match self.answer_at(node, qtype, dnssec, &owner, w) {
                Found::Done => break,
                Found::Cname(target) => {
                    if !target.as_name().ends_with(&apex.as_name()) {
                        break;
                    }
                    cur = target;
                }
                Found::NoData => {
                    soa = true;
                    if dnssec {
                        if owner_synth {
                            let ce_name = self.name(ce_node).to_name_buf();
                            self.wildcard_nodata_proof(&cur, &ce_name, &mut proofs);
                        } else {
                            self.nodata_proof(&cur, &mut proofs);
                        }
                    }
                    break;
                }
            }
        }
        if soa
            && let Some(rs) = self
                .node(self.apex)
                .and_then(|n| self.rrset(n, RecordType::Soa))
        {
            w.push_rrset(
                self,
                Section::Authority,
                &Owner::Stored,
                &rs,
                dnssec,
                Some(self.negative_ttl),
            );
        }
        for &(n, rtype) in &proofs.nodes {
            if let Some(rs) = self.node(n).and_then(|n| self.rrset(n, rtype)) {
                w.push_rrset(self, Section::Authority, &Owner::Stored, &rs, true, None);
            }
        }
        outcome
    }

    /// The apex's name.
    fn apex_name(&self) -> NameBuf {
        self.node(self.apex)
            .map(|n| self.name(n).to_name_buf())
            .unwrap_or_default()
    }

    /// The RRsets at `node` for `qtype`.
    fn answer_at(
        &self,
        node: &Node,
        qtype: RecordType,
        dnssec: bool,
        owner: &Owner<'_>,
        w: &mut Writer<'_, '_>,
    ) -> Found {
        if qtype == RecordType::Any {
            let rrsets = self.rrsets(node);
            if rrsets.is_empty() {
                return Found::NoData;
            }
            for rs in rrsets {
                w.push_rrset(self, Section::Answer, owner, rs, dnssec, None);
            }
            return Found::Done;
        }
        if qtype == RecordType::Rrsig {
            let sigs = self.sigs(node);
            if sigs.is_empty() {
                return Found::NoData;
            }
            w.push_list(self, Section::Answer, owner, sigs);
            return Found::Done;
        }
        if let Some(rs) = self.rrset(node, qtype) {
            w.push_rrset(self, Section::Answer, owner, &rs, dnssec, None);
            return Found::Done;
        }
        if let Some(rs) = self.rrset(node, RecordType::Cname) {
            w.push_rrset(self, Section::Answer, owner, &rs, dnssec, None);
            let target = self
                .records(&rs)
                .first()
                .and_then(|&i| self.record(i))
                .and_then(|r| match r.rdata() {
                    Ok(RData::Cname(t)) => Some(t.to_name_buf()),
                    _ => None,
                });
            return match target {
                Some(t) => Found::Cname(t),
                None => Found::Done,
            };
        }
        Found::NoData
    }

    /// A referral to the delegation at `cut`: its NS RRset, the DS RRset or the proof that
    /// there is none (with DO), and glue.
    fn referral(&self, cut: u32, dnssec: bool, w: &mut Writer<'_, '_>) -> Outcome {
        let outcome = Outcome {
            rcode: Rcode::NoError,
            aa: false,
        };
        let Some(node) = self.node(cut) else {
            return outcome;
        };
        let Some(ns) = self.rrset(node, RecordType::Ns) else {
            return outcome;
        };
        w.push_rrset(self, Section::Authority, &Owner::Stored, &ns, false, None);
        let cut_name = self.name(node);
        if dnssec {
            if let Some(ds) = self.rrset(node, RecordType::Ds) {
                w.push_rrset(self, Section::Authority, &Owner::Stored, &ds, true, None);
            } else {
                let mut proofs = Proofs::default();
                self.nodata_proof(&cut_name.to_name_buf(), &mut proofs);
                for &(n, rtype) in &proofs.nodes {
                    if let Some(rs) = self.node(n).and_then(|n| self.rrset(n, rtype)) {
                        w.push_rrset(self, Section::Authority, &Owner::Stored, &rs, true, None);
                    }
                }
            }
        }
        w.end_authority();
        // Glue: addresses of in-zone name servers, those below the cut (needed) first.
        let apex = self.apex_name();
        let mut targets: Vec<(bool, u32)> = Vec::new();
        for &i in self.records(&ns) {
            let Some(Ok(RData::Ns(t))) = self.record(i).map(|r| r.rdata()) else {
                continue;
            };
            if !t.ends_with(&apex.as_name()) {
                continue;
            }
            let Some(id) = self.lookup(LowerName::from_name(&t).as_wire()) else {
                continue;
            };
            let required = t.ends_with(&cut_name);
            if !targets.contains(&(required, id)) {
                targets.push((required, id));
            }
        }
        targets.sort_by_key(|&(required, _)| !required);
        for (required, id) in targets {
            let Some(n) = self.node(id) else { continue };
            for t in [RecordType::A, RecordType::Aaaa] {
                if let Some(rs) = self.rrset(n, t) {
                    w.push_additional(self, &rs, required);
                }
            }
        }
        outcome
    }
}

// A short-lived return value: boxing the name would cost an allocation per link.
#[allow(clippy::large_enum_variant)]
enum Found {
    Done,
    Cname(NameBuf),
    NoData,
}
