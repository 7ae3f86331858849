//! Building messages in a caller's buffer: compression, section counts, truncation, EDNS.

use unistack_cstruct::{Endian, Field};

use crate::edns::Edns;
use crate::hash::eq_ignore_case;
use crate::message::{Message, Record, Section};
use crate::name::{MAX_NAME_LEN, Name, ToName};
use crate::rdata::RData;
use crate::wire::{
    CaaFixed, Class, Header, HeaderView, MxFixed, OptFixed, OptFixedView, QuestionFixed, Rcode,
    RecordFixed, RecordType, SoaFixed, SrvFixed,
};
use crate::{BuildError, Error};

/// The largest message (the TCP length prefix and the IP payload both stop there).
pub const MAX_MESSAGE_LEN: usize = 65535;

/// Compression pointers hold 14 bits: names at or beyond this offset cannot be targets.
const POINTER_RANGE: usize = 0x4000;

/// A compression target: where a name (or the rest of one, from a label on) was written,
/// its uncompressed length, and whether it was written whole in place (no pointer after
/// it), in which case comparing the bytes in place decides equality.
#[derive(Debug, Clone, Copy)]
struct Target {
    offset: u16,
    len: u8,
    literal: bool,
}

/// A place in a message being built, to come back to with
/// [`MessageBuilder::rollback`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    len: usize,
    counts: [u16; 4],
    names: usize,
    section: Section,
    epoch: u32,
}

/// Writes a message into a caller's buffer, without allocating.
///
/// Questions, then answer, authority and additional records, in that order (pushing into an
/// earlier section than the last one used is [`BuildError::SectionOrder`]). After every push
/// the bytes written so far form a valid message whose header counts match its content.
///
/// # Compression
/// Owner names, question names and the names inside NS, CNAME, SOA, PTR, MX (the RFC 1035
/// types, [`RecordType::rdata_compressible`]) are compressed against earlier names (RFC 1035
/// 4.1.4), case-insensitively, through a table of up to `TABLE` label offsets (no heap; names
/// past a full table are written and simply not remembered). Names in other RDATA (SRV, RRSIG,
/// NSEC ...) are written in full and are never compression targets. Each suffix is pointed
/// at the first earlier target of its length that is equal: a target written whole in place
/// is compared byte for byte (eight at a time, case folded), one that ends in a pointer is
/// read through it. Names given as a [`NameBuf`](crate::NameBuf) or a literal [`Name`] are written from
/// where they are ([`ToName::literal_wire`]), without a copy.
///
/// # Truncation
/// The message never exceeds the buffer, nor the limit given to
/// [`set_limit`](Self::set_limit) (a client's EDNS UDP payload size, or 512). When a question
/// or record does not fit, nothing of it is written, [`BuildError::NoSpace`] is returned, and
/// the builder stops: every later push fails the same way, until a
/// [`rollback`](Self::rollback). TC is set if the entry was for the question, answer or
/// authority section; not for the additional section, whose content is optional (RFC 2181
/// 9). A whole RRset can be dropped with [`mark`](Self::mark) and
/// [`rollback`](Self::rollback).
///
/// # EDNS
/// [`set_edns`](Self::set_edns) reserves room for the OPT record at once (it is stored at the
/// end of the buffer) and [`finish`](Self::finish) appends it as the last additional record,
/// so records never crowd it out.
#[derive(Debug)]
pub struct MessageBuilder<'b, const TABLE: usize = 64> {
    buf: &'b mut [u8],
    len: usize,
    limit: usize,
    opt_len: usize,
    section: Section,
    counts: [u16; 4],
    names: heapless::Vec<Target, TABLE>,
    stopped: bool,
    /// Rollbacks so far, and the lowest length any of them restored: a mark taken before the
    /// last rollback is still good only if it lies below every point rolled back to.
    epoch: u32,
    low_water: usize,
}

impl<'b> MessageBuilder<'b> {
    /// Start a message in `buf`: a zeroed header (ID 0, a query, no flags), limited to the
    /// buffer's length (at most 65535), with a 64-entry compression table.
    ///
    /// # Errors
    /// [`BuildError::NoSpace`] if `buf` is shorter than the 12-byte header.
    pub fn new(buf: &'b mut [u8]) -> Result<Self, BuildError> {
        Self::with_table(buf)
    }

    /// Start a response to `query`: same ID, opcode, RD and CD, QR set, and its questions
    /// copied (names exactly as the client spelt them).
    ///
    /// # Errors
    /// [`BuildError::NoSpace`] as for [`new`](Self::new) or if the questions do not fit;
    /// [`BuildError::Invalid`] if the query's questions are malformed.
    pub fn reply_to(query: &Message<'_>, buf: &'b mut [u8]) -> Result<Self, BuildError> {
        let mut b = Self::new(buf)?;
        let q = query.header();
        let mut h = b.header_mut();
        h.set_id(q.id());
        h.set_qr(true);
        h.set_opcode(q.opcode());
        h.set_rd(q.rd());
        h.set_cd(q.cd());
        for question in query.questions() {
            let question = question?;
            b.push_question(&question.name(), question.qtype(), question.qclass())?;
        }
        Ok(b)
    }
}

impl<'b, const TABLE: usize> MessageBuilder<'b, TABLE> {
    /// As [`new`](MessageBuilder::new), with a compression table of `TABLE` entries.
    ///
    /// # Errors
    /// [`BuildError::NoSpace`] if `buf` is shorter than the 12-byte header.
    pub fn with_table(buf: &'b mut [u8]) -> Result<Self, BuildError> {
        let header = buf.get_mut(..Header::SIZE).ok_or(BuildError::NoSpace)?;
        header.fill(0);
        let limit = buf.len().min(MAX_MESSAGE_LEN);
        Ok(MessageBuilder {
            buf,
            len: Header::SIZE,
            limit,
            opt_len: 0,
            section: Section::Question,
            counts: [0; 4],
            names: heapless::Vec::new(),
            stopped: false,
            epoch: 0,
            low_water: usize::MAX,
        })
    }

    /// The header, to read.
    pub fn header(&self) -> HeaderView<&[u8]> {
        // The buffer holds at least the header (checked in `with_table`).
        HeaderView::new_unchecked(&*self.buf)
    }

    /// The header, to set the ID and flags. The four counts are the builder's: it rewrites
    /// them after every push and in [`finish`](Self::finish).
    pub fn header_mut(&mut self) -> HeaderView<&mut [u8]> {
        HeaderView::new_unchecked(&mut *self.buf)
    }

    /// Limit the whole message (OPT record included) to `limit` bytes (clamped to the
    /// buffer and to 65535).
    ///
    /// # Errors
    /// [`BuildError::NoSpace`] if what is already written (and the reserved OPT record) is
    /// longer; the limit is unchanged then.
    pub fn set_limit(&mut self, limit: usize) -> Result<(), BuildError> {
        let limit = limit.min(self.buf.len()).min(MAX_MESSAGE_LEN);
        if self.len + self.opt_len > limit {
            return Err(BuildError::NoSpace);
        }
        self.limit = limit;
        Ok(())
    }

    /// The size limit of the whole message.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The length written so far (without the reserved OPT record).
    pub fn message_len(&self) -> usize {
        self.len
    }

    /// Bytes still free for questions and records.
    pub fn remaining(&self) -> usize {
        self.record_limit().saturating_sub(self.len)
    }

    /// Whether the builder stopped because something did not fit.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// The message written so far (without the reserved OPT record).
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    fn record_limit(&self) -> usize {
        self.limit.saturating_sub(self.opt_len)
    }

    /// Reserve and write the OPT record, appended by [`finish`](Self::finish). A second call
    /// replaces the first. The record carries `edns.ext_rcode`; [`set_rcode`](Self::set_rcode)
    /// called afterwards overwrites it.
    ///
    /// # Errors
    /// [`BuildError::NoSpace`] if it does not fit after what is already written (nothing
    /// changes then).
    pub fn set_edns(&mut self, edns: &Edns<'_>) -> Result<(), BuildError> {
        let need = edns.wire_len();
        if self.len + need > self.limit {
            return Err(BuildError::NoSpace);
        }
        let rdlength = u16::try_from(edns.options.as_wire().len()).map_err(|_| Error::BadOpt)?;
        let at = self.buf.len() - need;
        let stash = self.buf.get_mut(at..).ok_or(BuildError::NoSpace)?;
        let (root, rest) = stash.split_first_mut().ok_or(BuildError::NoSpace)?;
        *root = 0;
        let (fixed, options) = rest
            .split_at_mut_checked(OptFixed::SIZE)
            .ok_or(BuildError::NoSpace)?;
        OptFixed {
            rtype: RecordType::Opt,
            udp_payload_size: edns.udp_payload_size,
            ext_rcode: edns.ext_rcode,
            version: edns.version,
            dnssec_ok: edns.dnssec_ok,
            z: edns.z,
            rdlength,
        }
        .write(fixed, Endian::Big);
        options.copy_from_slice(edns.options.as_wire());
        self.opt_len = need;
        Ok(())
    }

    /// Set the response code: its low four bits in the header, its high eight in the OPT
    /// record.
    ///
    /// # Errors
    /// [`BuildError::NeedsEdns`] for a code above 15 without [`set_edns`](Self::set_edns).
    pub fn set_rcode(&mut self, rcode: Rcode) -> Result<(), BuildError> {
        if rcode.ext_bits() != 0 && self.opt_len == 0 {
            return Err(BuildError::NeedsEdns);
        }
        self.header_mut().set_rcode(rcode);
        if self.opt_len > 0 {
            let at = self.buf.len() - self.opt_len + 1;
            if let Some(fixed) = self.buf.get_mut(at..at + OptFixed::SIZE) {
                OptFixedView::new_unchecked(fixed).set_ext_rcode(rcode.ext_bits());
            }
        }
        Ok(())
    }

    /// Remember this point.
    pub fn mark(&self) -> Mark {
        Mark {
            len: self.len,
            counts: self.counts,
            names: self.names.len(),
            section: self.section,
            epoch: self.epoch,
        }
    }

    /// Forget everything pushed since `mark` (a partial RRset, say) and resume pushing: the
    /// builder no longer counts as stopped. TC stays as it is. A mark from later than the
    /// current point, or one taken after a point that a later rollback went back before (its
    /// bytes have been overwritten since), is ignored.
    pub fn rollback(&mut self, mark: Mark) {
        let stale = mark.epoch != self.epoch && mark.len > self.low_water;
        if stale || mark.len > self.len || mark.names > self.names.len() {
            return;
        }
        self.epoch = self.epoch.wrapping_add(1);
        self.low_water = self.low_water.min(mark.len);
        self.len = mark.len;
        self.counts = mark.counts;
        self.names.truncate(mark.names);
        self.section = mark.section;
        self.stopped = false;
        self.write_counts();
    }

    /// Append the question `name qtype qclass`.
    ///
    /// # Errors
    /// [`BuildError::NoSpace`] (TC set, builder stopped), [`BuildError::SectionOrder`],
    /// [`BuildError::TooManyRecords`], [`BuildError::Invalid`] for a bad name.
    pub fn push_question<N: ToName + ?Sized>(
        &mut self,
        name: &N,
        qtype: RecordType,
        qclass: Class,
    ) -> Result<(), BuildError> {
        self.begin(Section::Question)?;
        let copy;
        let wire = match name.literal_wire() {
            Some(w) => w,
            None => {
                copy = name.to_name()?;
                copy.as_wire()
            }
        };
        let mark = self.mark();
        let result = (|| {
            let mut pos = self.len;
            // Questions are written in full, never pointing at an earlier name (whose case
            // may differ): each is echoed exactly as the client spelt it. Later names may
            // still point at them.
            self.put_name_with(&mut pos, wire, false, true)?;
            self.put_fixed(&mut pos, &QuestionFixed { qtype, qclass })?;
            Ok(pos)
        })();
        self.commit(Section::Question, mark, result)
    }

    /// Append a record to `section`. The type is the RDATA's.
    ///
    /// # Errors
    /// [`BuildError::NoSpace`] (see the type's docs for TC), [`BuildError::SectionOrder`]
    /// (also for [`Section::Question`]), [`BuildError::TooManyRecords`],
    /// [`BuildError::Invalid`] for a bad name or RDATA field (a string over 255 octets, an
    /// empty CAA tag, an NSEC3 hash of 0 or over 255 octets).
    pub fn push<N: ToName + ?Sized, M: ToName>(
        &mut self,
        section: Section,
        name: &N,
        class: Class,
        ttl: u32,
        rdata: &RData<'_, M>,
    ) -> Result<(), BuildError> {
        if section == Section::Question {
            return Err(BuildError::SectionOrder);
        }
        self.begin(section)?;
        let copy;
        let owner = match name.literal_wire() {
            Some(w) => w,
            None => {
                copy = name.to_name()?;
                copy.as_wire()
            }
        };
        let mark = self.mark();
        let result = self.write_record(owner, class, ttl, rdata);
        self.commit(section, mark, result)
    }

    /// Append an answer record.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub fn push_answer<N: ToName + ?Sized, M: ToName>(
        &mut self,
        name: &N,
        class: Class,
        ttl: u32,
        rdata: &RData<'_, M>,
    ) -> Result<(), BuildError> {
        self.push(Section::Answer, name, class, ttl, rdata)
    }

    /// Append an authority record.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub fn push_authority<N: ToName + ?Sized, M: ToName>(
        &mut self,
        name: &N,
        class: Class,
        ttl: u32,
        rdata: &RData<'_, M>,
    ) -> Result<(), BuildError> {
        self.push(Section::Authority, name, class, ttl, rdata)
    }

    /// Append an additional record.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub fn push_additional<N: ToName + ?Sized, M: ToName>(
        &mut self,
        name: &N,
        class: Class,
        ttl: u32,
        rdata: &RData<'_, M>,
    ) -> Result<(), BuildError> {
        self.push(Section::Additional, name, class, ttl, rdata)
    }

    /// Append a record parsed from another message, re-encoding its names (and compressing
    /// them against this message).
    ///
    /// # Errors
    /// As [`push`](Self::push); [`BuildError::Invalid`] if its RDATA does not parse.
    pub fn push_record(&mut self, section: Section, record: &Record<'_>) -> Result<(), BuildError> {
        let rdata = record.rdata()?;
        self.push(
            section,
            &record.name(),
            record.class(),
            record.ttl(),
            &rdata,
        )
    }

    /// Complete the message: append the OPT record if one was set, write the counts, and
    /// return the message (mutable, so that a precompiled response can be patched).
    pub fn finish(self) -> &'b mut [u8] {
        let MessageBuilder {
            buf,
            mut len,
            opt_len,
            mut counts,
            ..
        } = self;
        if opt_len > 0 {
            let at = buf.len() - opt_len;
            buf.copy_within(at.., len);
            len += opt_len;
            counts[3] = counts[3].saturating_add(1);
        }
        let mut h = HeaderView::new_unchecked(&mut *buf);
        h.set_qdcount(counts[0]);
        h.set_ancount(counts[1]);
        h.set_nscount(counts[2]);
        h.set_arcount(counts[3]);
        let len = len.min(buf.len());
        let (message, _) = buf.split_at_mut(len);
        message
    }

    fn begin(&mut self, section: Section) -> Result<(), BuildError> {
        if self.stopped {
            return Err(BuildError::NoSpace);
        }
        if section < self.section {
            return Err(BuildError::SectionOrder);
        }
        if self.counts[section as usize] == u16::MAX {
            return Err(BuildError::TooManyRecords);
        }
        Ok(())
    }

    fn commit(
        &mut self,
        section: Section,
        mark: Mark,
        result: Result<usize, BuildError>,
    ) -> Result<(), BuildError> {
        match result {
            Ok(end) => {
                self.len = end;
                self.section = section;
                self.counts[section as usize] += 1;
                self.write_counts();
                Ok(())
            }
            Err(e) => {
                self.rollback(mark);
                if e == BuildError::NoSpace {
                    self.stopped = true;
                    if section != Section::Additional {
                        self.header_mut().set_tc(true);
                    }
                }
                Err(e)
            }
        }
    }

    fn write_counts(&mut self) {
        let counts = self.counts;
        let mut h = self.header_mut();
        h.set_qdcount(counts[0]);
        h.set_ancount(counts[1]);
        h.set_nscount(counts[2]);
        h.set_arcount(counts[3]);
    }

    /// The `n` bytes at `pos`, if they are inside the record area.
    fn space(&mut self, pos: usize, n: usize) -> Result<&mut [u8], BuildError> {
        let end = pos.checked_add(n).ok_or(BuildError::NoSpace)?;
        if end > self.record_limit() {
            return Err(BuildError::NoSpace);
        }
        self.buf.get_mut(pos..end).ok_or(BuildError::NoSpace)
    }

    fn put_bytes(&mut self, pos: &mut usize, bytes: &[u8]) -> Result<(), BuildError> {
        self.space(*pos, bytes.len())?.copy_from_slice(bytes);
        *pos += bytes.len();
        Ok(())
    }

    fn put_fixed<L: Field>(&mut self, pos: &mut usize, value: &L) -> Result<(), BuildError> {
        value.write(self.space(*pos, L::SIZE)?, Endian::Big);
        *pos += L::SIZE;
        Ok(())
    }

    fn put_char_string(&mut self, pos: &mut usize, s: &[u8]) -> Result<(), BuildError> {
        let len = u8::try_from(s.len()).map_err(|_| Error::StringTooLong)?;
        self.put_bytes(pos, &[len])?;
        self.put_bytes(pos, s)
    }

    /// Whether target `t` (in what is written so far, up to `upto`) equals `suffix`
    /// (uncompressed wire form), ignoring case: a target written in place is compared
    /// byte for byte; one that ends in a pointer is read through it.
    fn target_eq(&self, t: Target, upto: usize, suffix: &[u8]) -> bool {
        if usize::from(t.len) != suffix.len() {
            return false;
        }
        let written = self.buf.get(..upto).unwrap_or_default();
        let at = usize::from(t.offset);
        if t.literal {
            return written
                .get(at..at + suffix.len())
                .is_some_and(|w| eq_ignore_case(w, suffix));
        }
        let Ok(suffix) = Name::from_wire(suffix) else {
            return false;
        };
        Name::parse(written, at).is_ok_and(|(n, _)| n == suffix)
    }

    /// Write `name` (valid uncompressed wire form) at `pos`: pointing at the longest suffix
    /// already written when `compress`, and becoming a target for later names (each of its
    /// labels written in place) when `register`.
    fn put_name_with(
        &mut self,
        pos: &mut usize,
        wire: &[u8],
        compress: bool,
        register: bool,
    ) -> Result<(), BuildError> {
        if wire.len() > MAX_NAME_LEN {
            return Err(BuildError::Invalid(Error::NameTooLong));
        }
        // Where each label starts (at most 127 labels).
        let mut starts: heapless::Vec<u8, 128> = heapless::Vec::new();
        let mut o = 0usize;
        while let Some(&l) = wire.get(o) {
            if l == 0 || starts.push(o as u8).is_err() {
                break;
            }
            o += 1 + usize::from(l);
        }
        let mut pointer = None;
        if compress && !self.names.is_empty() {
            'suffixes: for &start in &starts {
                let start = usize::from(start);
                let Some(rest) = wire.get(start..) else {
                    break;
                };
                for &t in &self.names {
                    if self.target_eq(t, *pos, rest) {
                        pointer = Some((start, t.offset));
                        break 'suffixes;
                    }
                }
            }
        }
        let literal = pointer.map_or(wire.len(), |(start, _)| start);
        let at = *pos;
        self.put_bytes(pos, wire.get(..literal).unwrap_or_default())?;
        if let Some((_, target)) = pointer {
            self.put_bytes(pos, &(0xc000 | target).to_be_bytes())?;
        }
        if register {
            for &start in &starts {
                let start = usize::from(start);
                if start >= literal {
                    break;
                }
                let offset = at + start;
                if offset >= POINTER_RANGE {
                    break;
                }
                let t = Target {
                    offset: offset as u16,
                    len: (wire.len() - start) as u8,
                    literal: pointer.is_none(),
                };
                if self.names.push(t).is_err() {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Write `name`, compressed and a compression target when `compress`.
    fn put_name(&mut self, pos: &mut usize, wire: &[u8], compress: bool) -> Result<(), BuildError> {
        self.put_name_with(pos, wire, compress, compress)
    }

    fn put_rdata_name<M: ToName>(
        &mut self,
        pos: &mut usize,
        name: &M,
        compress: bool,
    ) -> Result<(), BuildError> {
        match name.literal_wire() {
            Some(w) => self.put_name(pos, w, compress),
            None => {
                let name = name.to_name()?;
                self.put_name(pos, name.as_wire(), compress)
            }
        }
    }

    fn write_record<M: ToName>(
        &mut self,
        owner: &[u8],
        class: Class,
        ttl: u32,
        rdata: &RData<'_, M>,
    ) -> Result<usize, BuildError> {
        let mut pos = self.len;
        self.put_name(&mut pos, owner, true)?;
        let fixed_at = pos;
        self.space(pos, RecordFixed::SIZE)?;
        pos += RecordFixed::SIZE;
        let rdata_start = pos;
        let rtype = rdata.rtype();
        let c = rtype.rdata_compressible();
        match rdata {
            RData::A(a) => self.put_bytes(&mut pos, &a.octets())?,
            RData::Aaaa(a) => self.put_bytes(&mut pos, &a.octets())?,
            RData::Ns(n) | RData::Cname(n) | RData::Ptr(n) => {
                self.put_rdata_name(&mut pos, n, c)?
            }
            RData::Mailbox { rtype, name } => {
                if !matches!(
                    rtype,
                    RecordType::Md
                        | RecordType::Mf
                        | RecordType::Mb
                        | RecordType::Mg
                        | RecordType::Mr
                ) {
                    return Err(BuildError::Invalid(Error::BadRdata));
                }
                self.put_rdata_name(&mut pos, name, c)?
            }
            RData::Minfo { rmailbx, emailbx } => {
                self.put_rdata_name(&mut pos, rmailbx, c)?;
                self.put_rdata_name(&mut pos, emailbx, c)?;
            }
            RData::Soa(s) => {
                self.put_rdata_name(&mut pos, &s.mname, c)?;
                self.put_rdata_name(&mut pos, &s.rname, c)?;
                let fixed = SoaFixed {
                    serial: s.serial,
                    refresh: s.refresh,
                    retry: s.retry,
                    expire: s.expire,
                    minimum: s.minimum,
                };
                self.put_fixed(&mut pos, &fixed)?;
            }
            RData::Mx(m) => {
                let fixed = MxFixed {
                    preference: m.preference,
                };
                self.put_fixed(&mut pos, &fixed)?;
                self.put_rdata_name(&mut pos, &m.exchange, c)?;
            }
            RData::Txt(t) => self.put_bytes(&mut pos, t.as_wire())?,
            RData::Srv(s) => {
                let fixed = SrvFixed {
                    priority: s.priority,
                    weight: s.weight,
                    port: s.port,
                };
                self.put_fixed(&mut pos, &fixed)?;
                self.put_rdata_name(&mut pos, &s.target, c)?;
            }
            RData::Caa(caa) => {
                let tag_len = u8::try_from(caa.tag.len()).map_err(|_| Error::StringTooLong)?;
                if tag_len == 0 {
                    return Err(BuildError::Invalid(Error::BadRdata));
                }
                let fixed = CaaFixed {
                    flags: caa.flags,
                    tag_len,
                };
                self.put_fixed(&mut pos, &fixed)?;
                self.put_bytes(&mut pos, caa.tag)?;
                self.put_bytes(&mut pos, caa.value)?;
            }
            RData::Hinfo(h) => {
                self.put_char_string(&mut pos, h.cpu)?;
                self.put_char_string(&mut pos, h.os)?;
            }
            RData::Opt(o) => self.put_bytes(&mut pos, o.as_wire())?,
            RData::Ds(d) => {
                self.put_fixed(&mut pos, &d.fixed())?;
                self.put_bytes(&mut pos, d.digest)?;
            }
            RData::Dnskey(k) => {
                self.put_fixed(&mut pos, &k.fixed())?;
                self.put_bytes(&mut pos, k.public_key)?;
            }
            RData::Rrsig(s) => {
                self.put_fixed(&mut pos, &s.fixed())?;
                self.put_rdata_name(&mut pos, &s.signer_name, c)?;
                self.put_bytes(&mut pos, s.signature)?;
            }
            RData::Nsec(n) => {
                self.put_rdata_name(&mut pos, &n.next_domain, c)?;
                self.put_bytes(&mut pos, n.types.as_wire())?;
            }
            RData::Nsec3(n) => {
                let hash_len = u8::try_from(n.next_hashed.len()).map_err(|_| Error::BadRdata)?;
                if hash_len == 0 {
                    return Err(BuildError::Invalid(Error::BadRdata));
                }
                self.put_fixed(&mut pos, &n.fixed()?)?;
                self.put_bytes(&mut pos, n.salt)?;
                self.put_bytes(&mut pos, &[hash_len])?;
                self.put_bytes(&mut pos, n.next_hashed)?;
                self.put_bytes(&mut pos, n.types.as_wire())?;
            }
            RData::Unknown { data, .. } => self.put_bytes(&mut pos, data)?,
        }
        let rdlength = u16::try_from(pos - rdata_start).map_err(|_| BuildError::NoSpace)?;
        let fixed = RecordFixed {
            rtype,
            class,
            ttl,
            rdlength,
        };
        let mut at = fixed_at;
        self.put_fixed(&mut at, &fixed)?;
        Ok(pos)
    }
}
