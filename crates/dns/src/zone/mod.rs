//! Zones: owned records in wire form ([`ZoneRecord`]), a checked set of them ([`Zone`]), and
//! (feature `zone`) the RFC 1035 master-file parser.
//!
//! A [`ZoneRecord`] keeps its owner and RDATA in uncompressed wire form, names spelt as in
//! the source, so the server engine copies them into responses as they are. [`Zone::new`]
//! checks what a server needs to rely on (see its docs); [`Zone::parse`] reads master-file
//! text and then runs the same checks, reporting the line of the offending record.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

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
    owner: Box<[u8]>,
    rtype: RecordType,
    class: Class,
    ttl: u32,
    rdata: Box<[u8]>,
}

impl ZoneRecord {
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
        Ok(ZoneRecord {
            owner: owner.as_wire().into(),
            rtype: rdata.rtype(),
            class,
            ttl,
            rdata: rec.rdata_bytes().into(),
        })
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
        let rec = ZoneRecord {
            owner: owner.into(),
            rtype,
            class,
            ttl,
            rdata: rdata.into(),
        };
        let parsed = rec.rdata()?;
        // Re-encode: a compression pointer that `RData::parse` followed inside the RDATA
        // shows as a difference.
        let again = ZoneRecord::new(&rec.owner(), class, ttl, &parsed).map_err(|e| match e {
            BuildError::Invalid(e) => e,
            _ => Error::BadRdata,
        })?;
        if again.rdata != rec.rdata {
            return Err(Error::CompressedName);
        }
        Ok(rec)
    }

    /// The owner name.
    pub fn owner(&self) -> Name<'_> {
        Name::from_wire(&self.owner).unwrap_or(Name::ROOT)
    }

    /// The owner in wire form.
    pub fn owner_wire(&self) -> &[u8] {
        &self.owner
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
        &self.rdata
    }

    /// The RDATA, typed.
    ///
    /// # Errors
    /// As [`RData::parse`] (never for records built by this module).
    pub fn rdata(&self) -> Result<RData<'_>, Error> {
        RData::parse(&self.rdata, self.rtype, self.class, 0, self.rdata.len())
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
                    data: &self.rdata,
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
        // Types per owner (lower-cased wire), and delegation points.
        let mut types: BTreeMap<Vec<u8>, BTreeSet<u16>> = BTreeMap::new();
        let mut cuts: BTreeSet<Vec<u8>> = BTreeSet::new();
        for (i, rec) in records.iter().enumerate() {
            if rec.class != class {
                return Err(err(ZoneErrorKind::ClassMismatch, i, rec));
            }
            let key = lower(&rec.owner);
            if rec.rtype == RecordType::Ns && rec.owner() != apex {
                cuts.insert(key.clone());
            }
            types.entry(key).or_default().insert(rec.rtype.to_raw());
        }
        if !types
            .get(&lower(origin.as_wire()))
            .is_some_and(|t| t.contains(&RecordType::Ns.to_raw()))
        {
            return Err(ZoneError::new(
                ZoneErrorKind::NoApexNs,
                Pos::default(),
                origin.to_string().as_bytes(),
            ));
        }
        let mut cnames: BTreeSet<Vec<u8>> = BTreeSet::new();
        for (i, rec) in records.iter().enumerate() {
            let key = lower(&rec.owner);
            if rec.rtype == RecordType::Cname {
                let others = types.get(&key).is_some_and(|t| {
                    t.iter().any(|&t| {
                        !matches!(
                            RecordType::from_raw(t),
                            RecordType::Cname | RecordType::Rrsig | RecordType::Nsec
                        )
                    })
                });
                if others || rec.owner() == apex || !cnames.insert(key.clone()) {
                    return Err(err(ZoneErrorKind::CnameAndOtherData, i, rec));
                }
            }
            // The nearest delegation point at or above the owner (the apex is not one).
            let owner = rec.owner();
            let mut at_cut = false;
            let mut below_cut = false;
            let mut n = Some(owner);
            while let Some(name) = n {
                if name.label_count() <= apex.label_count() {
                    break;
                }
                if cuts.contains(&lower(name.to_name_buf().as_wire())) {
                    if name.label_count() == owner.label_count() {
                        at_cut = true;
                    } else {
                        below_cut = true;
                    }
                }
                n = name.parent();
            }
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
        // Drop exact duplicates, keeping the first.
        let mut seen: BTreeSet<(Vec<u8>, u16, Box<[u8]>)> = BTreeSet::new();
        let records = records
            .into_iter()
            .filter(|r| seen.insert((lower(&r.owner), r.rtype.to_raw(), r.rdata.clone())))
            .collect();
        Ok(Zone {
            origin,
            class,
            records,
        })
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

/// Lower-case ASCII letters of a wire-form name (length octets are below `A`).
pub(crate) fn lower(wire: &[u8]) -> Vec<u8> {
    wire.to_ascii_lowercase()
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
