//! A zero-copy view over a whole DNS message, with lazy iterators over its sections.

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};
use core::ops::Range;

use unistack_cstruct::{Endian, Field};

use crate::Error;
use crate::edns::{Edns, EdnsOptions};
use crate::name::{Memo, Name};
use crate::rdata::RData;
use crate::wire::{
    Class, Header, HeaderView, Opcode, OptFixedView, QuestionFixed, Rcode, RecordFixed, RecordType,
};

/// The four sections of a message, in wire order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    /// The question section.
    Question,
    /// The answer section.
    Answer,
    /// The authority section.
    Authority,
    /// The additional section.
    Additional,
}

impl Section {
    /// The next section in wire order.
    #[inline]
    pub const fn next(self) -> Option<Section> {
        match self {
            Section::Question => Some(Section::Answer),
            Section::Answer => Some(Section::Authority),
            Section::Authority => Some(Section::Additional),
            Section::Additional => None,
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Section::Question => "QUESTION",
            Section::Answer => "ANSWER",
            Section::Authority => "AUTHORITY",
            Section::Additional => "ADDITIONAL",
        })
    }
}

/// A DNS message borrowed from a buffer.
///
/// [`new`](Self::new) checks only that the 12-byte header is there; everything else is read
/// when asked for, and every malformation is a typed [`Error`] at that point. Use
/// [`check`](Self::check) to validate the whole message at once.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    bytes: &'a [u8],
}

impl<'a> Message<'a> {
    /// View `bytes` as a message.
    ///
    /// # Errors
    /// [`Error::Truncated`] below 12 bytes.
    #[inline]
    pub fn new(bytes: &'a [u8]) -> Result<Self, Error> {
        HeaderView::new_checked(bytes)?;
        Ok(Message { bytes })
    }

    /// The whole message.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The header view (every field of RFC 1035 4.1.1).
    #[inline]
    pub fn header(&self) -> HeaderView<&'a [u8]> {
        // `new` checked the length.
        HeaderView::new_unchecked(self.bytes)
    }

    /// The message ID.
    #[inline]
    pub fn id(&self) -> u16 {
        self.header().id()
    }

    /// Whether this is a response (QR).
    #[inline]
    pub fn is_response(&self) -> bool {
        self.header().qr()
    }

    /// The opcode.
    #[inline]
    pub fn opcode(&self) -> Opcode {
        self.header().opcode()
    }

    /// The header's four RCODE bits; see [`extended_rcode`](Self::extended_rcode) for the
    /// 12-bit code.
    #[inline]
    pub fn rcode(&self) -> Rcode {
        self.header().rcode()
    }

    /// The entry count the header gives for `section`.
    #[inline]
    pub fn count(&self, section: Section) -> u16 {
        let h = self.header();
        match section {
            Section::Question => h.qdcount(),
            Section::Answer => h.ancount(),
            Section::Authority => h.nscount(),
            Section::Additional => h.arcount(),
        }
    }

    /// The questions.
    #[inline]
    pub fn questions(&self) -> Questions<'a> {
        Questions {
            msg: self.bytes,
            pos: Header::SIZE,
            remaining: self.count(Section::Question),
            error: None,
            memo: Memo::empty(),
        }
    }

    /// The records of `section` (none for [`Section::Question`]: see
    /// [`questions`](Self::questions)). Earlier sections are skipped over first; an error
    /// there is the iterator's first item.
    #[inline]
    pub fn section(&self, section: Section) -> Records<'a> {
        match section {
            Section::Question => Records {
                msg: self.bytes,
                pos: self.bytes.len(),
                section,
                remaining: 0,
                last: section,
                pending: None,
                done: true,
                counts: [0; 3],
                memo: Memo::empty(),
            },
            s => self.records_from(s, s),
        }
    }

    /// The answer records.
    pub fn answers(&self) -> Records<'a> {
        self.section(Section::Answer)
    }

    /// The authority records.
    pub fn authorities(&self) -> Records<'a> {
        self.section(Section::Authority)
    }

    /// The additional records (the OPT record included).
    pub fn additionals(&self) -> Records<'a> {
        self.section(Section::Additional)
    }

    /// Every record of the answer, authority and additional sections, in order, each knowing
    /// its [`Section`]: one pass over the message.
    #[inline]
    pub fn records(&self) -> Records<'a> {
        self.questions().records()
    }

    fn records_from(&self, first: Section, last: Section) -> Records<'a> {
        let mut records = self.questions().records();
        records.last = last;
        // Skip the records of sections before `first`.
        while records.pending.is_none() && records.section < first {
            while records.remaining > 0 {
                match records.next() {
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        records.done = false;
                        records.pending = Some(e);
                        return records;
                    }
                    None => break,
                }
            }
            records.advance_section();
        }
        records
    }

    /// The EDNS values of the OPT record, if there is one.
    ///
    /// Walks every section, so that an OPT record anywhere but in the additional section is
    /// reported.
    ///
    /// # Errors
    /// Any error of the walk, [`Error::MisplacedOpt`], [`Error::DuplicateOpt`],
    /// [`Error::BadOpt`].
    #[inline]
    pub fn edns(&self) -> Result<Option<Edns<'a>>, Error> {
        let mut questions = self.questions();
        questions.try_for_each(|q| q.map(|_| ()))?;
        find_opt(questions.records())
    }

    /// The full 12-bit response code: the header's bits with the OPT record's, if any.
    ///
    /// # Errors
    /// As [`edns`](Self::edns).
    pub fn extended_rcode(&self) -> Result<Rcode, Error> {
        let header = self.rcode();
        Ok(self.edns()?.map_or(header, |e| e.rcode(header)))
    }

    /// Validate the whole message: every question and record, every RDATA of a known type
    /// against its format, the OPT record's place (additional section, at most one, root
    /// owner), counts matching the records present, and no bytes after the last record.
    ///
    /// # Errors
    /// The first problem found; [`Error::TrailingData`] for bytes after the last record.
    pub fn check(&self) -> Result<(), Error> {
        let mut questions = self.questions();
        questions.try_for_each(|q| q.map(|_| ()))?;
        let mut opt = false;
        let mut end = questions.pos;
        for r in questions.records() {
            let r = r?;
            r.rdata()?;
            if r.rtype() == RecordType::Opt {
                if r.section() != Section::Additional {
                    return Err(Error::MisplacedOpt);
                }
                if opt {
                    return Err(Error::DuplicateOpt);
                }
                r.edns()?;
                opt = true;
            }
            end = r.range().end;
        }
        if end != self.bytes.len() {
            return Err(Error::TrailingData);
        }
        Ok(())
    }
}

/// The answer, authority and additional records of `msg` (a message of at least a header),
/// starting at `pos`, just after the questions; `pending` is an error met before them, to be
/// the iterator's first item.
///
/// Built in one literal: the iterator is moved into loops, and a struct whose small fields
/// were written one by one and is then copied whole costs a store-forwarding stall.
#[inline]
pub(crate) fn records_at(
    msg: &[u8],
    pos: usize,
    pending: Option<Error>,
    memo: Memo,
) -> Records<'_> {
    let counts =
        HeaderView::new_checked(msg).map_or([0; 3], |h| [h.ancount(), h.nscount(), h.arcount()]);
    Records {
        msg,
        pos,
        section: Section::Answer,
        remaining: counts[0],
        last: Section::Additional,
        pending,
        done: false,
        counts,
        memo,
    }
}

/// What [`find_opt`] finds when the only record is the one additional record at `pos`
/// (ANCOUNT and NSCOUNT zero, ARCOUNT one), read directly.
#[cfg(feature = "alloc")]
pub(crate) fn sole_additional_opt(msg: &[u8], pos: usize) -> Result<Option<Edns<'_>>, Error> {
    let r = read_record(msg, pos, Section::Additional, &mut Memo::empty())?;
    if r.rtype() != RecordType::Opt {
        return Ok(None);
    }
    r.edns().map(Some)
}

/// The OPT record among `records` (the answer, authority and additional sections of one
/// message), checked: in the additional section, at most one, well-formed. Every record is
/// read, so that an error anywhere is reported.
pub(crate) fn find_opt<'a>(records: Records<'a>) -> Result<Option<Edns<'a>>, Error> {
    let mut found = None;
    for r in records {
        let r = r?;
        if r.rtype() == RecordType::Opt {
            if r.section() != Section::Additional {
                return Err(Error::MisplacedOpt);
            }
            if found.is_some() {
                return Err(Error::DuplicateOpt);
            }
            found = Some(r.edns()?);
        }
    }
    Ok(found)
}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("header", &self.header().decode())
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// Like dig: the header line, the flags and counts, the OPT pseudo-section, then each
/// section. A malformation is printed where it is found, and printing stops there.
impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = self.header();
        let edns = self.edns();
        let status = match &edns {
            Ok(Some(e)) => e.rcode(h.rcode()),
            _ => h.rcode(),
        };
        writeln!(
            f,
            ";; ->>HEADER<<- opcode: {}, status: {}, id: {}",
            h.opcode(),
            status,
            h.id()
        )?;
        f.write_str(";; flags:")?;
        for (set, name) in [
            (h.qr(), "qr"),
            (h.aa(), "aa"),
            (h.tc(), "tc"),
            (h.rd(), "rd"),
            (h.ra(), "ra"),
            (h.z(), "z"),
            (h.ad(), "ad"),
            (h.cd(), "cd"),
        ] {
            if set {
                write!(f, " {name}")?;
            }
        }
        writeln!(
            f,
            "; QUERY: {}, ANSWER: {}, AUTHORITY: {}, ADDITIONAL: {}",
            h.qdcount(),
            h.ancount(),
            h.nscount(),
            h.arcount()
        )?;
        match edns {
            Ok(Some(e)) => write!(f, "\n;; OPT PSEUDOSECTION:\n{e}\n")?,
            Ok(None) => {}
            Err(e) => writeln!(f, "\n;; malformed: {e}")?,
        }
        if h.qdcount() > 0 {
            f.write_str("\n;; QUESTION SECTION:\n")?;
        }
        for q in self.questions() {
            match q {
                Ok(q) => writeln!(f, ";{q}")?,
                Err(e) => return writeln!(f, ";; malformed: {e}"),
            }
        }
        let mut current = None;
        for r in self.records() {
            let r = match r {
                Ok(r) => r,
                Err(e) => return writeln!(f, ";; malformed: {e}"),
            };
            if r.rtype() == RecordType::Opt && r.section() == Section::Additional {
                continue;
            }
            if current != Some(r.section()) {
                current = Some(r.section());
                write!(f, "\n;; {} SECTION:\n", r.section())?;
            }
            writeln!(f, "{r}")?;
        }
        Ok(())
    }
}

/// The questions of a message.
///
/// Yields each question or the first error, then ends. It takes at most `QDCOUNT` turns.
#[derive(Debug, Clone)]
pub struct Questions<'a> {
    msg: &'a [u8],
    pos: usize,
    remaining: u16,
    /// The error that ended the iteration, if one did.
    error: Option<Error>,
    /// The last name read without pointers, for the pointers to it that follow.
    memo: Memo,
}

impl<'a> Questions<'a> {
    /// The offset just after the last question read.
    #[inline]
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// The records of the answer, authority and additional sections, continuing from here
    /// (as [`Message::records`], without walking the questions again): the questions not
    /// read yet are skipped first. An error in the questions, met now or earlier, is the
    /// iterator's first item.
    #[inline]
    pub fn records(mut self) -> Records<'a> {
        if self.error.is_none() && self.remaining > 0 {
            self.skip_rest();
        }
        records_at(self.msg, self.pos, self.error, self.memo)
    }

    /// Skip the questions not read yet, as `next` would, without decoding them.
    #[inline(never)]
    fn skip_rest(&mut self) {
        while self.error.is_none() && self.remaining > 0 {
            match skip_question(self.msg, self.pos, &mut self.memo) {
                Ok(end) => {
                    self.pos = end;
                    self.remaining -= 1;
                }
                Err(e) => self.error = Some(e),
            }
        }
    }
}

impl<'a> Iterator for Questions<'a> {
    type Item = Result<Question<'a>, Error>;

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.error.is_some() || self.remaining == 0 {
            return None;
        }
        let result = read_question(self.msg, self.pos, &mut self.memo);
        match result {
            Ok(q) => {
                self.pos = q.end;
                self.remaining -= 1;
            }
            Err(e) => self.error = Some(e),
        }
        Some(result)
    }
}

/// Where the question at `pos` ends, with [`read_question`]'s errors.
#[inline]
fn skip_question(msg: &[u8], pos: usize, memo: &mut Memo) -> Result<usize, Error> {
    if pos >= msg.len() {
        return Err(Error::CountMismatch);
    }
    let end = crate::name::walk_memo(msg, pos, true, memo)?.end + QuestionFixed::SIZE;
    if msg.len() < end {
        return Err(Error::Truncated);
    }
    Ok(end)
}

#[inline(always)]
fn read_question<'a>(msg: &'a [u8], pos: usize, memo: &mut Memo) -> Result<Question<'a>, Error> {
    if pos >= msg.len() {
        return Err(Error::CountMismatch);
    }
    let (name, after) = Name::parse_memo(msg, pos, true, memo)?;
    let end = after + QuestionFixed::SIZE;
    let fixed = msg.get(after..end).ok_or(Error::Truncated)?;
    let fixed = QuestionFixed::read(fixed, Endian::Big);
    Ok(Question {
        name,
        qtype: fixed.qtype,
        qclass: fixed.qclass,
        start: pos,
        end,
    })
}

/// One question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question<'a> {
    name: Name<'a>,
    qtype: RecordType,
    qclass: Class,
    start: usize,
    end: usize,
}

impl<'a> Question<'a> {
    /// The name asked about.
    #[inline]
    pub fn name(&self) -> Name<'a> {
        self.name
    }

    /// The type asked for.
    #[inline]
    pub fn qtype(&self) -> RecordType {
        self.qtype
    }

    /// The class asked for.
    #[inline]
    pub fn qclass(&self) -> Class {
        self.qclass
    }

    /// Where the question lies in the message (to copy it verbatim, case included).
    #[inline]
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// `example.com. IN A` (dig prefixes it with `;`).
impl fmt::Display for Question<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.name,
            self.qclass.mnemonic(),
            self.qtype.mnemonic()
        )
    }
}

/// Records of one or more sections.
///
/// Yields each record or the first error, then ends. It takes at most as many turns as the
/// header's counts, and each turn consumes at least 11 bytes or ends the iteration.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    msg: &'a [u8],
    pos: usize,
    section: Section,
    remaining: u16,
    last: Section,
    pending: Option<Error>,
    done: bool,
    counts: [u16; 3],
    /// The last name read without pointers, for the pointers to it that follow.
    memo: Memo,
}

impl Records<'_> {
    /// The offset just after the last record read.
    #[inline]
    pub fn offset(&self) -> usize {
        self.pos
    }

    #[inline]
    fn advance_section(&mut self) -> bool {
        let Some(next) = self.section.next() else {
            return false;
        };
        self.section = next;
        self.remaining = match next {
            Section::Authority => self.counts[1],
            Section::Additional => self.counts[2],
            _ => self.counts[0],
        };
        true
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, Error>;

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.pending.take() {
            self.done = true;
            return Some(Err(e));
        }
        if self.done {
            return None;
        }
        // At most three turns: one per section.
        while self.remaining == 0 {
            if self.section >= self.last || !self.advance_section() {
                self.done = true;
                return None;
            }
        }
        let result = read_record(self.msg, self.pos, self.section, &mut self.memo);
        match result {
            Ok(r) => {
                self.pos = r.range().end;
                self.remaining -= 1;
            }
            Err(_) => self.done = true,
        }
        Some(result)
    }
}

#[inline(always)]
fn read_record<'a>(
    msg: &'a [u8],
    pos: usize,
    section: Section,
    memo: &mut Memo,
) -> Result<Record<'a>, Error> {
    if pos >= msg.len() {
        return Err(Error::CountMismatch);
    }
    let (name, after) = Name::parse_memo(msg, pos, true, memo)?;
    let rdata_start = after + RecordFixed::SIZE;
    let fixed = msg.get(after..rdata_start).ok_or(Error::Truncated)?;
    let fixed = RecordFixed::read(fixed, Endian::Big);
    if msg.len() < rdata_start + usize::from(fixed.rdlength) {
        return Err(Error::BadRdLength);
    }
    Ok(Record {
        msg,
        name,
        fixed,
        section,
        start: pos,
        rdata_start,
    })
}

/// One resource record, borrowed from its message; the RDATA is decoded on request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    msg: &'a [u8],
    name: Name<'a>,
    fixed: RecordFixed,
    section: Section,
    start: usize,
    rdata_start: usize,
}

impl<'a> Record<'a> {
    /// The owner name.
    #[inline]
    pub fn name(&self) -> Name<'a> {
        self.name
    }

    /// The record type.
    #[inline]
    pub fn rtype(&self) -> RecordType {
        self.fixed.rtype
    }

    /// The class (an OPT record's UDP payload size shows as `Class::Unknown`).
    #[inline]
    pub fn class(&self) -> Class {
        self.fixed.class
    }

    /// The TTL in seconds (an OPT record's holds EDNS fields: see [`edns`](Self::edns)).
    #[inline]
    pub fn ttl(&self) -> u32 {
        self.fixed.ttl
    }

    /// The section the record was found in.
    #[inline]
    pub fn section(&self) -> Section {
        self.section
    }

    /// The RDATA as bytes (compression pointers inside are not resolved).
    #[inline]
    pub fn rdata_bytes(&self) -> &'a [u8] {
        self.msg.get(self.rdata_range()).unwrap_or_default()
    }

    /// The RDATA, typed.
    ///
    /// # Errors
    /// As [`RData::parse`].
    #[inline]
    pub fn rdata(&self) -> Result<RData<'a>, Error> {
        // Addresses, the most common RDATA, are read here; the rest in `RData::parse` (out
        // of line: inlined, its many variants are merged through the stack in pieces and the
        // address is read back across them, a store-forwarding stall on every record).
        let start = self.rdata_start;
        if self.class() == Class::In {
            match (
                self.rtype(),
                self.msg
                    .get(start..start + usize::from(self.fixed.rdlength)),
            ) {
                (RecordType::A, Some(&[a, b, c, d])) => {
                    return Ok(RData::A(Ipv4Addr::from_bits(u32::from_be_bytes([
                        a, b, c, d,
                    ]))));
                }
                (RecordType::Aaaa, Some(b)) => {
                    if let Ok(b) = <[u8; 16]>::try_from(b) {
                        return Ok(RData::Aaaa(Ipv6Addr::from_bits(u128::from_be_bytes(b))));
                    }
                }
                _ => {}
            }
        }
        RData::parse(
            self.msg,
            self.rtype(),
            self.class(),
            self.rdata_start,
            usize::from(self.fixed.rdlength),
        )
    }

    /// Read an OPT record's EDNS values.
    ///
    /// # Errors
    /// [`Error::BadOpt`] if this is not an OPT record, its owner is not the root, or an
    /// option runs past the RDATA.
    #[inline]
    pub fn edns(&self) -> Result<Edns<'a>, Error> {
        if self.rtype() != RecordType::Opt || !self.name.is_root() {
            return Err(Error::BadOpt);
        }
        let fixed = self
            .msg
            .get(self.rdata_start - RecordFixed::SIZE..self.rdata_start)
            .ok_or(Error::BadOpt)?;
        let fixed = OptFixedView::new_checked(fixed)?;
        Ok(Edns {
            udp_payload_size: fixed.udp_payload_size(),
            ext_rcode: fixed.ext_rcode(),
            version: fixed.version(),
            dnssec_ok: fixed.dnssec_ok(),
            z: fixed.z(),
            options: EdnsOptions::from_wire(self.rdata_bytes())?,
        })
    }

    /// Where the whole record lies in the message.
    #[inline]
    pub fn range(&self) -> Range<usize> {
        self.start..self.rdata_start + usize::from(self.fixed.rdlength)
    }

    /// Where the RDATA lies in the message.
    #[inline]
    pub fn rdata_range(&self) -> Range<usize> {
        self.rdata_start..self.rdata_start + usize::from(self.fixed.rdlength)
    }

    /// Where the four TTL bytes lie (to patch TTLs in place, as a cache does).
    #[inline]
    pub fn ttl_offset(&self) -> usize {
        self.rdata_start - 6
    }
}

/// dig style: `example.com. 3600 IN A 192.0.2.1`; an OPT record as dig's pseudo-section;
/// RDATA that does not parse as generic RFC 3597 data followed by the error as a comment.
impl fmt::Display for Record<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (RecordType::Opt, Ok(edns)) = (self.rtype(), self.edns()) {
            return write!(f, "{edns}");
        }
        write!(
            f,
            "{} {} {} {} ",
            self.name,
            self.ttl(),
            self.class().mnemonic(),
            self.rtype().mnemonic()
        )?;
        match self.rdata() {
            Ok(rdata) => write!(f, "{rdata}"),
            Err(e) => {
                let raw: RData<'_> = RData::Unknown {
                    rtype: self.rtype(),
                    data: self.rdata_bytes(),
                };
                write!(f, "{raw} ; {e}")
            }
        }
    }
}
