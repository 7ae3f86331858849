//! Zones: owned records in wire form ([`ZoneRecord`]), a checked set of them ([`Zone`]), and
//! (feature `zone`) the RFC 1035 master-file parser.
//!
//! A [`ZoneRecord`] keeps its owner and RDATA in uncompressed wire form, names spelt as in
//! the source, so the server engine copies them into responses as they are. [`Zone::new`]
//! checks what a server needs to rely on (see its docs); [`Zone::parse`] reads master-file
//! text and then runs the same checks, reporting the line of the offending record.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use hashbrown::HashTable;

use crate::hash::{eq_ignore_case, hash_name, hash_name_lower};
use crate::message::Record;
use crate::name::{Name, NameBuf, ToName};
use crate::rdata::RData;
use crate::wire::{Class, RecordType};
use crate::{BuildError, Error, MessageBuilder, Section};

#[cfg(feature = "zone")]
mod parse;
#[cfg(feature = "zone")]
mod text;

#[cfg(feature = "zone")]
pub use parse::{Include, ParseOptions, parse_records};

/// One resource record, owned, in uncompressed wire form.
///
/// `Display` is the master-file line `owner TTL CLASS TYPE RDATA` (RFC 3597's `TYPEnnn` and
/// `\# len hex` for types without a typed presentation here), which [`parse_records`] reads
/// back to the same record.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ZoneRecord {
    /// The owner in wire form, then the RDATA: one allocation.
    data: Box<[u8]>,
    owner_len: u8,
    rtype: RecordType,
    class: Class,
    ttl: u32,
}

impl ZoneRecord {
    /// From an uncompressed owner (at most 255 octets, checked by callers) and RDATA.
    pub(crate) fn from_parts(
        owner: &[u8],
        rtype: RecordType,
        class: Class,
        ttl: u32,
        rdata: &[u8],
    ) -> Self {
        let mut data = Vec::with_capacity(owner.len() + rdata.len());
        data.extend_from_slice(owner);
        data.extend_from_slice(rdata);
        ZoneRecord {
            data: data.into_boxed_slice(),
            owner_len: owner.len() as u8,
            rtype,
            class,
            ttl,
        }
    }

    /// A record from typed RDATA (names are written uncompressed, spelt as given).
    ///
    /// # Errors
    /// [`BuildError::Invalid`] for a bad name or RDATA field; [`BuildError::NoSpace`] if the
    /// RDATA is longer than 65535 octets.
    pub fn new<N: ToName + ?Sized, M: ToName>(
        owner: &N,
        class: Class,
        ttl: u32,
        rdata: &RData<'_, M>,
    ) -> Result<Self, BuildError> {
        let owner = owner.to_name()?;
        // A builder without a compression table compresses nothing: the record comes out in
        // uncompressed wire form, written by the one tested encoder.
        let mut buf = alloc::vec![0u8; crate::MAX_MESSAGE_LEN];
        let mut b = MessageBuilder::<0>::with_table(&mut buf)?;
        b.push(Section::Answer, &owner, class, ttl, rdata)?;
        let msg = crate::Message::new(b.finish()).map_err(BuildError::Invalid)?;
        let rec = msg
            .answers()
            .next()
            .ok_or(BuildError::NoSpace)?
            .map_err(BuildError::Invalid)?;
        Ok(ZoneRecord::from_parts(
            owner.as_wire(),
            rdata.rtype(),
            class,
            ttl,
            rec.rdata_bytes(),
        ))
    }

    /// A copy of a record parsed from a message, its names decompressed.
    ///
    /// # Errors
    /// As [`new`](Self::new), and the record's RDATA parse errors.
    pub fn from_record(record: &Record<'_>) -> Result<Self, BuildError> {
        let rdata = record.rdata()?;
        Self::new(&record.name(), record.class(), record.ttl(), &rdata)
    }

    /// A record from wire-form parts: an uncompressed owner name and RDATA, which must be
    /// valid for the type and contain no compression pointers.
    ///
    /// # Errors
    /// The owner's [`Name::from_wire`] errors; [`Error::BadRdata`] (or the RDATA parser's
    /// error) for RDATA that is malformed or compressed; [`Error::BadRdLength`] above 65535.
    pub fn from_wire(
        owner: &[u8],
        rtype: RecordType,
        class: Class,
        ttl: u32,
        rdata: &[u8],
    ) -> Result<Self, Error> {
        Name::from_wire(owner)?;
        if rdata.len() > usize::from(u16::MAX) {
            return Err(Error::BadRdLength);
        }
        let rec = ZoneRecord::from_parts(owner, rtype, class, ttl, rdata);
        let parsed = rec.rdata()?;
        // Re-encode: a compression pointer that `RData::parse` followed inside the RDATA
        // shows as a difference.
        let again = ZoneRecord::new(&rec.owner(), class, ttl, &parsed).map_err(|e| match e {
            BuildError::Invalid(e) => e,
            _ => Error::BadRdata,
        })?;
        if again.rdata_wire() != rec.rdata_wire() {
            return Err(Error::CompressedName);
        }
        Ok(rec)
    }

    /// The owner name.
    pub fn owner(&self) -> Name<'_> {
        Name::from_wire(self.owner_wire()).unwrap_or(Name::ROOT)
    }

    /// The owner in wire form.
    pub fn owner_wire(&self) -> &[u8] {
        self.data
            .get(..usize::from(self.owner_len))
            .unwrap_or_default()
    }

    /// The type.
    pub fn rtype(&self) -> RecordType {
        self.rtype
    }

    /// The class.
    pub fn class(&self) -> Class {
        self.class
    }

    /// The TTL in seconds.
    pub fn ttl(&self) -> u32 {
        self.ttl
    }

    /// Set the TTL.
    pub fn set_ttl(&mut self, ttl: u32) {
        self.ttl = ttl;
    }

    /// The RDATA in uncompressed wire form.
    pub fn rdata_wire(&self) -> &[u8] {
        self.data
            .get(usize::from(self.owner_len)..)
            .unwrap_or_default()
    }

    /// The RDATA, typed.
    ///
    /// # Errors
    /// As [`RData::parse`] (never for records built by this module).
    pub fn rdata(&self) -> Result<RData<'_>, Error> {
        let rdata = self.rdata_wire();
        RData::parse(rdata, self.rtype, self.class, 0, rdata.len())
    }
}

impl fmt::Display for ZoneRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} ",
            self.owner(),
            self.ttl,
            self.class.mnemonic(),
            self.rtype.mnemonic()
        )?;
        match self.rdata() {
            Ok(rdata) if presentable(&rdata) => write!(f, "{rdata}"),
            _ => {
                let raw: RData<'_> = RData::Unknown {
                    rtype: self.rtype,
                    data: self.rdata_wire(),
                };
                write!(f, "{raw}")
            }
        }
    }
}

/// Whether the typed presentation of `rdata` reads back as the same RDATA; when not (data
/// RFC 1035 and 4034 do not allow but the wire layer carries), RFC 3597's generic form is
/// written instead.
fn presentable(rdata: &RData<'_>) -> bool {
    match rdata {
        RData::Unknown { .. } | RData::Opt(_) => false,
        RData::Txt(t) => !t.as_wire().is_empty(),
        RData::Caa(c) => !c.tag.is_empty() && c.tag.iter().all(u8::is_ascii_alphanumeric),
        RData::Ds(d) => !d.digest.is_empty(),
        RData::Dnskey(k) => !k.public_key.is_empty(),
        RData::Rrsig(s) => !s.signature.is_empty(),
        _ => true,
    }
}

impl fmt::Debug for ZoneRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ZoneRecord({self})")
    }
}

/// What is wrong with a zone or its text.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoneErrorKind {
    /// A quoted string runs to the end of its line or of the file.
    UnterminatedString,
    /// A `)` without `(`, a `(` inside parentheses, or a `(` never closed.
    BadParentheses,
    /// A `\` at the end of the input, or `\DDD` above 255.
    BadEscape,
    /// A `$` directive this parser does not know (`$GENERATE` is BIND's, not RFC 1035's).
    UnknownDirective,
    /// A directive with missing or extra arguments.
    BadDirective,
    /// `$INCLUDE` without a loader (`ParseOptions::include`).
    IncludeRefused,
    /// The loader could not provide the file; its reason.
    IncludeFailed(String),
    /// `$INCLUDE` nested more than 8 deep.
    IncludeTooDeep,
    /// A record with an omitted owner before any owner was given.
    NoOwner,
    /// A relative name (or `@`) with no origin known.
    NoOrigin,
    /// A record with no TTL and no `$TTL` or earlier TTL to inherit.
    NoTtl,
    /// A TTL that is not a number (with optional `w`/`d`/`h`/`m`/`s` units) up to 2^32-1.
    BadTtl,
    /// The type is neither a mnemonic nor `TYPEnnn`.
    UnknownType,
    /// A meta-type (OPT, TSIG, ANY ...) that cannot be zone data.
    MetaType,
    /// A name that is not valid.
    BadName(Error),
    /// An RDATA field that does not parse: what was expected.
    BadRdata(&'static str),
    /// The RDATA ends before its last field.
    MissingRdata,
    /// Fields follow the RDATA's last one.
    ExtraRdata,
    /// RDATA longer than 65535 octets, or a character-string longer than 255.
    TooLong,
    /// `\#` data whose length does not match, or which is invalid for a type known here.
    BadGeneric,
    /// This type has no presentation format here: write it as `\# length hex`.
    GenericOnly,
    /// A record whose owner is not at or below the zone's origin.
    OutOfZone,
    /// A record of another class than the zone's SOA.
    ClassMismatch,
    /// No SOA record at the apex.
    NoSoa,
    /// More than one SOA record.
    MultipleSoa,
    /// An SOA record below the apex.
    SoaNotAtApex,
    /// No NS record at the apex.
    NoApexNs,
    /// A CNAME beside other data (only RRSIG and NSEC may share its name, RFC 2181 10.1,
    /// RFC 4035 2.5), at the apex, or more than one CNAME at a name.
    CnameAndOtherData,
    /// Data at or below a delegation point that is not the delegation itself (NS, DS, RRSIG,
    /// NSEC) or glue (A, AAAA).
    NotGlue,
}

impl fmt::Display for ZoneErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZoneErrorKind::UnterminatedString => f.write_str("unterminated quoted string"),
            ZoneErrorKind::BadParentheses => f.write_str("unbalanced parentheses"),
            ZoneErrorKind::BadEscape => f.write_str("bad escape"),
            ZoneErrorKind::UnknownDirective => f.write_str("unknown directive"),
            ZoneErrorKind::BadDirective => f.write_str("bad directive arguments"),
            ZoneErrorKind::IncludeRefused => f.write_str("$INCLUDE refused: no loader given"),
            ZoneErrorKind::IncludeFailed(why) => write!(f, "$INCLUDE failed: {why}"),
            ZoneErrorKind::IncludeTooDeep => f.write_str("$INCLUDE nested too deep"),
            ZoneErrorKind::NoOwner => f.write_str("no owner name to inherit"),
            ZoneErrorKind::NoOrigin => f.write_str("relative name without an origin"),
            ZoneErrorKind::NoTtl => f.write_str("no TTL given and none to inherit"),
            ZoneErrorKind::BadTtl => f.write_str("bad TTL"),
            ZoneErrorKind::UnknownType => f.write_str("unknown type"),
            ZoneErrorKind::MetaType => f.write_str("meta-type cannot be zone data"),
            ZoneErrorKind::BadName(e) => write!(f, "bad name: {e}"),
            ZoneErrorKind::BadRdata(what) => write!(f, "bad RDATA: expected {what}"),
            ZoneErrorKind::MissingRdata => f.write_str("RDATA ends too early"),
            ZoneErrorKind::ExtraRdata => f.write_str("unexpected RDATA field"),
            ZoneErrorKind::TooLong => f.write_str("RDATA or string too long"),
            ZoneErrorKind::BadGeneric => f.write_str("bad \\# generic RDATA"),
            ZoneErrorKind::GenericOnly => {
                f.write_str("no presentation format for this type here: use \\# length hex")
            }
            ZoneErrorKind::OutOfZone => f.write_str("record outside the zone's origin"),
            ZoneErrorKind::ClassMismatch => f.write_str("class differs from the zone's"),
            ZoneErrorKind::NoSoa => f.write_str("no SOA record at the apex"),
            ZoneErrorKind::MultipleSoa => f.write_str("more than one SOA record"),
            ZoneErrorKind::SoaNotAtApex => f.write_str("SOA record below the apex"),
            ZoneErrorKind::NoApexNs => f.write_str("no NS record at the apex"),
            ZoneErrorKind::CnameAndOtherData => {
                f.write_str("CNAME beside other data, at the apex, or repeated")
            }
            ZoneErrorKind::NotGlue => f.write_str("non-glue data at or below a delegation point"),
        }
    }
}

/// An error in a zone, with where it is: line and column (1-based; 0 when the records did
/// not come from text), the offending text (at most 64 characters) and, inside an
/// `$INCLUDE`d file, that file's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneError {
    /// What is wrong.
    pub kind: ZoneErrorKind,
    /// The line, from 1 (0: not from text).
    pub line: u32,
    /// The column in bytes, from 1 (0: not from text).
    pub column: u32,
    /// The offending token, or the record's owner name for zone-level errors.
    pub text: String,
    /// The `$INCLUDE`d file the error is in, if not the main text.
    pub file: Option<String>,
}

impl ZoneError {
    pub(crate) fn new(kind: ZoneErrorKind, pos: Pos, text: &[u8]) -> Self {
        let mut t = String::new();
        for c in String::from_utf8_lossy(text).chars().take(64) {
            t.push(c);
        }
        ZoneError {
            kind,
            line: pos.line,
            column: pos.column,
            text: t,
            file: None,
        }
    }
}

impl fmt::Display for ZoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        if self.line > 0 {
            write!(f, "line {}, column {}: ", self.line, self.column)?;
        }
        write!(f, "{}", self.kind)?;
        if !self.text.is_empty() {
            write!(f, " at `{}`", self.text)?;
        }
        Ok(())
    }
}

impl core::error::Error for ZoneError {}

/// A place in zone text: line and column, from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Pos {
    pub line: u32,
    pub column: u32,
}

/// A checked zone: an origin and its records.
///
/// [`Zone::new`] guarantees:
/// - every record is at or below the origin, and of the SOA's class;
/// - exactly one SOA, at the apex, and at least one NS at the apex;
/// - a CNAME shares its name only with RRSIG and NSEC, is not at the apex, and is alone
///   in its RRset;
/// - at a delegation point (NS below the apex) only NS, DS, RRSIG, NSEC and glue (A, AAAA);
///   below one only glue (A, AAAA);
/// - no meta-types; no exact duplicates (they are dropped, as RFC 2181 5 asks).
///
/// It does not check DNSSEC signatures, nor that TTLs in an RRset agree (each record keeps
/// its own), nor DNAME (treated as opaque data: names below it are not occluded).
#[derive(Debug, Clone)]
pub struct Zone {
    origin: NameBuf,
    class: Class,
    records: Vec<ZoneRecord>,
}

impl Zone {
    /// Check `records` as a zone whose apex is `origin`.
    ///
    /// # Errors
    /// The first violated rule (see the type's docs); the error's `text` is the owner name.
    pub fn new<N: ToName + ?Sized>(
        origin: &N,
        records: Vec<ZoneRecord>,
    ) -> Result<Zone, ZoneError> {
        let origin = origin
            .to_name()
            .map_err(|e| ZoneError::new(ZoneErrorKind::BadName(e), Pos::default(), b""))?;
        Self::checked(origin, records, &[])
    }

    /// As [`new`](Self::new), with the text position of each record for errors.
    pub(crate) fn checked(
        origin: NameBuf,
        records: Vec<ZoneRecord>,
        positions: &[Pos],
    ) -> Result<Zone, ZoneError> {
        let err = |kind: ZoneErrorKind, i: usize, rec: &ZoneRecord| {
            let pos = positions.get(i).copied().unwrap_or_default();
            ZoneError::new(kind, pos, rec.owner().to_string().as_bytes())
        };
        let apex = origin.as_name();
        let mut soa: Option<(usize, Class)> = None;
        for (i, rec) in records.iter().enumerate() {
            if !rec.owner().ends_with(&apex) {
                return Err(err(ZoneErrorKind::OutOfZone, i, rec));
            }
            if rec.rtype.is_meta() {
                return Err(err(ZoneErrorKind::MetaType, i, rec));
            }
            if rec.rtype == RecordType::Soa {
                if rec.owner() != apex {
                    return Err(err(ZoneErrorKind::SoaNotAtApex, i, rec));
                }
                if soa.is_some() {
                    return Err(err(ZoneErrorKind::MultipleSoa, i, rec));
                }
                soa = Some((i, rec.class));
            }
        }
        let Some((_, class)) = soa else {
            return Err(ZoneError::new(
                ZoneErrorKind::NoSoa,
                Pos::default(),
                origin.to_string().as_bytes(),
            ));
        };
        // Owners, compared ignoring case: each record's group (the first record with its
        // owner names it), and per group what the rules below ask about.
        #[derive(Default, Clone, Copy)]
        struct Group {
            first: u32,
            /// An NS RRset here.
            ns: bool,
            /// A type other than CNAME, RRSIG and NSEC here.
            other: bool,
            /// A CNAME seen here already (in the last pass).
            cname: bool,
            /// At or below a delegation point: computed once, in the last pass.
            cut: Option<(bool, bool)>,
        }
        let owner_of = |g: &Group| {
            records
                .get(g.first as usize)
                .map_or(&[][..], ZoneRecord::owner_wire)
        };
        let mut groups: Vec<Group> = Vec::new();
        let mut by_owner: HashTable<u32> = HashTable::new();
        let find_group = |by_owner: &HashTable<u32>, groups: &[Group], wire: &[u8]| {
            by_owner
                .find(hash_name_lower(wire), |&g| {
                    groups
                        .get(g as usize)
                        .is_some_and(|g| eq_ignore_case(owner_of(g), wire))
                })
                .copied()
        };
        let mut group_of: Vec<u32> = Vec::with_capacity(records.len());
        for (i, rec) in records.iter().enumerate() {
            if rec.class != class {
                return Err(err(ZoneErrorKind::ClassMismatch, i, rec));
            }
            let g = match find_group(&by_owner, &groups, rec.owner_wire()) {
                Some(g) => g,
                None => {
                    let g = groups.len() as u32;
                    groups.push(Group {
                        first: i as u32,
                        ..Group::default()
                    });
                    let groups = &groups;
                    by_owner.insert_unique(hash_name_lower(rec.owner_wire()), g, |&g| {
                        hash_name_lower(groups.get(g as usize).map_or(&[][..], owner_of))
                    });
                    g
                }
            };
            group_of.push(g);
            if let Some(group) = groups.get_mut(g as usize) {
                group.ns |= rec.rtype == RecordType::Ns;
                group.other |= !matches!(
                    rec.rtype,
                    RecordType::Cname | RecordType::Rrsig | RecordType::Nsec
                );
            }
        }
        let apex_group = find_group(&by_owner, &groups, origin.as_wire());
        if !apex_group
            .and_then(|g| groups.get(g as usize))
            .is_some_and(|g| g.ns)
        {
            return Err(ZoneError::new(
                ZoneErrorKind::NoApexNs,
                Pos::default(),
                origin.to_string().as_bytes(),
            ));
        }
        // Delegation points: NS below the apex.
        let is_cut = |groups: &[Group], g: u32| {
            Some(g) != apex_group && groups.get(g as usize).is_some_and(|g| g.ns)
        };
        let apex_labels = apex.label_count();
        for (i, rec) in records.iter().enumerate() {
            let g = group_of.get(i).copied().unwrap_or(0);
            if rec.rtype == RecordType::Cname {
                let group = groups.get(g as usize).copied().unwrap_or_default();
                if group.other || Some(g) == apex_group || group.cname {
                    return Err(err(ZoneErrorKind::CnameAndOtherData, i, rec));
                }
                if let Some(group) = groups.get_mut(g as usize) {
                    group.cname = true;
                }
            }
            // The delegation points at or above the owner (the apex is not one), once per
            // owner.
            let cached = groups.get(g as usize).and_then(|g| g.cut);
            let (at_cut, below_cut) = match cached {
                Some(c) => c,
                None => {
                    let owner = rec.owner();
                    let wire: &[u8] = rec.owner_wire();
                    let mut at_cut = false;
                    let mut below_cut = false;
                    let mut offset = 0usize;
                    for (k, label) in owner.labels().enumerate() {
                        if owner.label_count() - k <= apex_labels {
                            break;
                        }
                        let suffix = wire.get(offset..).unwrap_or_default();
                        if find_group(&by_owner, &groups, suffix)
                            .is_some_and(|c| is_cut(&groups, c))
                        {
                            if k == 0 {
                                at_cut = true;
                            } else {
                                below_cut = true;
                            }
                        }
                        offset += 1 + label.len();
                    }
                    if let Some(group) = groups.get_mut(g as usize) {
                        group.cut = Some((at_cut, below_cut));
                    }
                    (at_cut, below_cut)
                }
            };
            let glue = matches!(rec.rtype, RecordType::A | RecordType::Aaaa);
            let ok = if below_cut {
                glue
            } else if at_cut {
                glue || matches!(
                    rec.rtype,
                    RecordType::Ns | RecordType::Ds | RecordType::Rrsig | RecordType::Nsec
                )
            } else {
                true
            };
            if !ok {
                return Err(err(ZoneErrorKind::NotGlue, i, rec));
            }
        }
        // Drop exact duplicates (owner ignoring case, type, RDATA), keeping the first.
        let mut seen: HashTable<u32> = HashTable::with_capacity(records.len());
        let key_hash = |g: u32, rec: &ZoneRecord| {
            hash_name(rec.rdata_wire())
                ^ (u64::from(g) << 16 | u64::from(rec.rtype.to_raw()))
                    .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        };
        let mut keep = alloc::vec![true; records.len()];
        for (i, rec) in records.iter().enumerate() {
            let g = group_of.get(i).copied().unwrap_or(0);
            let same = |&j: &u32| {
                group_of.get(j as usize) == Some(&g)
                    && records
                        .get(j as usize)
                        .is_some_and(|r| r.rtype == rec.rtype && r.rdata_wire() == rec.rdata_wire())
            };
            let h = key_hash(g, rec);
            if seen.find(h, same).is_some() {
                if let Some(k) = keep.get_mut(i) {
                    *k = false;
                }
            } else {
                seen.insert_unique(h, i as u32, |&j| {
                    records.get(j as usize).map_or(0, |r| {
                        key_hash(group_of.get(j as usize).copied().unwrap_or(0), r)
                    })
                });
            }
        }
        drop(seen);
        drop(by_owner);
        let mut keep = keep.into_iter();
        let mut records = records;
        records.retain(|_| keep.next().unwrap_or(true));
        records.shrink_to_fit();
        Ok(Zone {
            origin,
            class,
            records,
        })
    }

    /// A placeholder with no records (never served; the server's index takes a zone's
    /// place with it while it builds).
    pub(crate) fn empty() -> Zone {
        Zone {
            origin: NameBuf::root(),
            class: Class::In,
            records: Vec::new(),
        }
    }

    /// The apex.
    pub fn origin(&self) -> Name<'_> {
        self.origin.as_name()
    }

    /// The zone's class (its SOA's).
    pub fn class(&self) -> Class {
        self.class
    }

    /// The records, in the order given (duplicates dropped).
    pub fn records(&self) -> &[ZoneRecord] {
        &self.records
    }

    /// The SOA record.
    pub fn soa(&self) -> Option<&ZoneRecord> {
        self.records.iter().find(|r| r.rtype == RecordType::Soa)
    }

    /// Take the records.
    pub fn into_records(self) -> Vec<ZoneRecord> {
        self.records
    }
}

/// Base32 with the extended hex alphabet, case-insensitive, no padding (RFC 4648 7).
pub(crate) fn decode_base32hex(s: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &c in s {
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'v' => c - b'a' + 10,
            b'A'..=b'V' => c - b'A' + 10,
            _ => return None,
        };
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero padding, and fewer than a whole symbol's worth of data.
    (acc == 0 && bits < 5).then_some(())
}
