//! The RFC 1035 section 5 master-file format: a `nom` lexer for entries (comments,
//! parentheses, quoted strings, escapes), then directives and records.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use nom::branch::alt;
use nom::bytes::complete::{take_till, take_till1, take_while1};
use nom::character::complete::{char, satisfy};
use nom::combinator::recognize;
use nom::multi::{many0_count, many1_count};
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};

use super::text::{Fields, unescape};
use super::{Pos, Zone, ZoneError, ZoneErrorKind, ZoneRecord};
use crate::name::NameBuf;
use crate::rdata::RData;
use crate::wire::{Class, RecordType};

/// Supplies the text of files named by `$INCLUDE`.
///
/// Any `FnMut(&str) -> Result<String, String>` is one: it gets the file name as written
/// (escapes resolved) and returns the text or a reason for the error.
pub trait Include {
    /// The text of `file`, or why it cannot be had.
    ///
    /// # Errors
    /// A reason, reported as [`ZoneErrorKind::IncludeFailed`].
    fn load(&mut self, file: &str) -> Result<String, String>;
}

impl<F: FnMut(&str) -> Result<String, String>> Include for F {
    fn load(&mut self, file: &str) -> Result<String, String> {
        self(file)
    }
}

/// How to read master-file text.
#[derive(Default)]
pub struct ParseOptions<'l> {
    /// The initial origin (`$ORIGIN` changes it); without one, relative names before the
    /// first `$ORIGIN` are an error.
    pub origin: Option<NameBuf>,
    /// The class of records that give none before any record does (`IN` if `None`).
    pub class: Option<Class>,
    /// The TTL of records that give none before `$TTL` (RFC 2308) does.
    pub default_ttl: Option<u32>,
    /// Where `$INCLUDE` files come from; without a loader `$INCLUDE` is
    /// [`ZoneErrorKind::IncludeRefused`].
    pub include: Option<&'l mut dyn Include>,
}

/// How deep `$INCLUDE` may nest.
const MAX_INCLUDE_DEPTH: usize = 8;

/// Read the records of master-file `text`, without the zone checks of [`Zone::new`].
///
/// Supported: `$ORIGIN`, `$TTL` (with BIND's `1h30m` units, also in SOA timers),
/// `$INCLUDE` through [`ParseOptions::include`], `@`, relative names, omitted owner (the
/// previous one), class and TTL (`$TTL`, else the last explicit TTL, else the SOA's
/// minimum as BIND does), class and TTL in either order, parentheses across lines,
/// comments, quoted strings, `\X` and `\DDD` escapes, `TYPEnnn`/`CLASSnnn` and RFC 3597's
/// `\# length hex` for any type; typed presentation formats for A, AAAA, NS, CNAME, PTR,
/// MD, MF, MB, MG, MR, MINFO, SOA, MX, TXT, SPF, HINFO, SRV, CAA, DS, CDS, DNSKEY, CDNSKEY,
/// RRSIG, NSEC, NSEC3, NSEC3PARAM, DNAME, RP, AFSDB, KX, NAPTR, SSHFP, TLSA, SMIMEA, URI,
/// OPENPGPKEY, DHCID, ZONEMD, EUI48, EUI64. Other types must be written with `\#`.
///
/// # Errors
/// The first problem, with its line, column and text.
pub fn parse_records(text: &str, options: ParseOptions<'_>) -> Result<Vec<ZoneRecord>, ZoneError> {
    parse_with_positions(text, options).map(|(records, _)| records)
}

pub(crate) fn parse_with_positions(
    text: &str,
    options: ParseOptions<'_>,
) -> Result<(Vec<ZoneRecord>, Vec<Pos>), ZoneError> {
    let mut state = State {
        origin: options.origin,
        last_owner: None,
        default_ttl: options.default_ttl,
        last_ttl: None,
        soa_minimum: None,
        class: options.class.unwrap_or(Class::In),
        include: options.include,
        records: Vec::new(),
        positions: Vec::new(),
        last_type: TypeMemo::default(),
    };
    state.run(text.as_bytes(), 0)?;
    Ok((state.records, state.positions))
}

impl Zone {
    /// Parse master-file `text` for the zone at `origin` (the initial `$ORIGIN`) and check
    /// it as [`Zone::new`] does. `$INCLUDE` is refused; see [`Zone::parse_with`].
    ///
    /// # Errors
    /// The first syntax error or violated zone rule, with line and column.
    pub fn parse(origin: &str, text: &str) -> Result<Zone, ZoneError> {
        let origin = NameBuf::from_dotted(origin).map_err(|e| {
            ZoneError::new(ZoneErrorKind::BadName(e), Pos::default(), origin.as_bytes())
        })?;
        Self::parse_with(
            text,
            ParseOptions {
                origin: Some(origin),
                ..ParseOptions::default()
            },
        )
    }

    /// Parse with options (an `$INCLUDE` loader, a default TTL or class). The zone's apex is
    /// `options.origin`, or without one the owner of the first SOA record.
    ///
    /// # Errors
    /// As [`parse`](Self::parse).
    pub fn parse_with(text: &str, options: ParseOptions<'_>) -> Result<Zone, ZoneError> {
        let origin = options.origin;
        let (records, positions) = parse_with_positions(text, options)?;
        let origin = match origin {
            Some(o) => o,
            None => records
                .iter()
                .find(|r| r.rtype() == RecordType::Soa)
                .map(|r| r.owner().to_name_buf())
                .ok_or_else(|| ZoneError::new(ZoneErrorKind::NoSoa, Pos::default(), b""))?,
        };
        Zone::checked(origin, records, &positions)
    }
}

struct State<'l> {
    origin: Option<NameBuf>,
    last_owner: Option<NameBuf>,
    default_ttl: Option<u32>,
    last_ttl: Option<u32>,
    soa_minimum: Option<u32>,
    class: Class,
    include: Option<&'l mut dyn Include>,
    records: Vec<ZoneRecord>,
    positions: Vec<Pos>,
    /// The last type token read and its type: zone files repeat types, and looking a
    /// mnemonic up compares it with every known one.
    last_type: TypeMemo,
}

#[derive(Default)]
struct TypeMemo {
    raw: [u8; 16],
    len: usize,
    rtype: Option<RecordType>,
}

impl TypeMemo {
    fn get(&mut self, raw: &[u8]) -> Option<RecordType> {
        if self.rtype.is_some() && self.raw.get(..self.len) == Some(raw) {
            return self.rtype;
        }
        let rtype = core::str::from_utf8(raw)
            .ok()
            .and_then(RecordType::from_mnemonic)?;
        if let Some(dst) = self.raw.get_mut(..raw.len()) {
            dst.copy_from_slice(raw);
            self.len = raw.len();
            self.rtype = Some(rtype);
        }
        Some(rtype)
    }
}

impl State<'_> {
    fn run(&mut self, text: &[u8], depth: usize) -> Result<(), ZoneError> {
        let mut lexer = Lexer {
            src: text,
            pos: 0,
            line: 1,
            line_start: 0,
        };
        while let Some(entry) = lexer.entry()? {
            let first = entry.tokens.first();
            match first {
                Some(t) if !entry.blank_owner && !t.quoted && t.raw.first() == Some(&b'$') => {
                    self.directive(&entry.tokens, depth)?;
                }
                Some(_) => self.record(&entry)?,
                None => {}
            }
        }
        Ok(())
    }

    fn directive(&mut self, tokens: &[Token<'_>], depth: usize) -> Result<(), ZoneError> {
        let Some((d, args)) = tokens.split_first() else {
            return Ok(());
        };
        let bad = |t: &Token<'_>| ZoneError::new(ZoneErrorKind::BadDirective, t.pos, t.raw);
        if d.raw.eq_ignore_ascii_case(b"$ORIGIN") {
            let [arg] = args else { return Err(bad(d)) };
            self.origin = Some(name(arg, self.origin.as_ref())?);
        } else if d.raw.eq_ignore_ascii_case(b"$TTL") {
            let [arg] = args else { return Err(bad(d)) };
            self.default_ttl = Some(ttl(arg)?);
        } else if d.raw.eq_ignore_ascii_case(b"$INCLUDE") {
            let (file, origin) = match args {
                [file] => (file, None),
                [file, origin] => (file, Some(name(origin, self.origin.as_ref())?)),
                _ => return Err(bad(d)),
            };
            if depth >= MAX_INCLUDE_DEPTH {
                return Err(ZoneError::new(
                    ZoneErrorKind::IncludeTooDeep,
                    file.pos,
                    file.raw,
                ));
            }
            let Some(loader) = self.include.as_deref_mut() else {
                return Err(ZoneError::new(
                    ZoneErrorKind::IncludeRefused,
                    file.pos,
                    file.raw,
                ));
            };
            let path = String::from_utf8_lossy(
                &unescape(file.raw).map_err(|k| ZoneError::new(k, file.pos, file.raw))?,
            )
            .to_string();
            let text = loader.load(&path).map_err(|why| {
                ZoneError::new(ZoneErrorKind::IncludeFailed(why), file.pos, file.raw)
            })?;
            let saved = self.origin;
            if origin.is_some() {
                self.origin = origin;
            }
            let result = self.run(text.as_bytes(), depth + 1);
            self.origin = saved;
            result.map_err(|mut e| {
                if e.file.is_none() {
                    e.file = Some(path);
                }
                e
            })?;
        } else {
            return Err(ZoneError::new(
                ZoneErrorKind::UnknownDirective,
                d.pos,
                d.raw,
            ));
        }
        Ok(())
    }

    fn record(&mut self, entry: &Entry<'_>) -> Result<(), ZoneError> {
        let tokens = &entry.tokens;
        let first_pos = tokens.first().map(|t| t.pos).unwrap_or_default();
        let (owner, mut i) = if entry.blank_owner {
            let owner = self
                .last_owner
                .ok_or_else(|| ZoneError::new(ZoneErrorKind::NoOwner, entry.pos, b""))?;
            (owner, 0)
        } else {
            let t = tokens
                .first()
                .ok_or_else(|| ZoneError::new(ZoneErrorKind::NoOwner, first_pos, b""))?;
            (name(t, self.origin.as_ref())?, 1)
        };
        let mut ttl_given = None;
        let mut class_given = None;
        let missing = |t: Option<&Token<'_>>| {
            let (pos, raw) = t.map_or((first_pos, &b""[..]), |t| (t.pos, t.raw));
            ZoneError::new(ZoneErrorKind::MissingRdata, pos, raw)
        };
        for _ in 0..2 {
            let Some(t) = tokens.get(i) else {
                return Err(missing(tokens.last()));
            };
            if t.quoted {
                break;
            }
            if ttl_given.is_none() && t.raw.first().is_some_and(u8::is_ascii_digit) {
                ttl_given = Some(ttl(t)?);
                i += 1;
                continue;
            }
            if class_given.is_none()
                && let Some(c) = core::str::from_utf8(t.raw)
                    .ok()
                    .and_then(Class::from_mnemonic)
            {
                class_given = Some(c);
                i += 1;
                continue;
            }
            break;
        }
        let type_tok = tokens.get(i).ok_or_else(|| missing(tokens.last()))?;
        let rtype = Some(type_tok.raw)
            .filter(|_| !type_tok.quoted)
            .and_then(|raw| self.last_type.get(raw))
            .ok_or_else(|| {
                ZoneError::new(ZoneErrorKind::UnknownType, type_tok.pos, type_tok.raw)
            })?;
        if rtype.is_meta() {
            return Err(ZoneError::new(
                ZoneErrorKind::MetaType,
                type_tok.pos,
                type_tok.raw,
            ));
        }
        let class = class_given.unwrap_or(self.class);
        let rdata_tokens = tokens.get(i + 1..).unwrap_or_default();
        let mut fields = Fields::new(rdata_tokens, type_tok, self.origin.as_ref());
        let rdata = if fields.generic_marker() {
            fields.generic(rtype, class)?
        } else {
            fields.rdata(rtype, class)?
        };
        let ttl = match ttl_given {
            Some(t) => {
                self.last_ttl = Some(t);
                t
            }
            None => self
                .default_ttl
                .or(self.last_ttl)
                .or(self.soa_minimum)
                .or_else(|| {
                    (rtype == RecordType::Soa)
                        .then(|| soa_minimum(&rdata))
                        .flatten()
                })
                .ok_or_else(|| ZoneError::new(ZoneErrorKind::NoTtl, type_tok.pos, type_tok.raw))?,
        };
        if rtype == RecordType::Soa && self.soa_minimum.is_none() {
            self.soa_minimum = soa_minimum(&rdata);
        }
        self.last_owner = Some(owner);
        self.class = class;
        self.records.push(ZoneRecord::from_parts(
            owner.as_wire(),
            rtype,
            class,
            ttl,
            &rdata,
        ));
        self.positions.push(first_pos);
        Ok(())
    }
}

fn soa_minimum(rdata: &[u8]) -> Option<u32> {
    match RData::parse(rdata, RecordType::Soa, Class::In, 0, rdata.len()) {
        Ok(RData::Soa(s)) => Some(s.minimum),
        _ => None,
    }
}

/// A name token: `@`, relative (appended to `origin`) or absolute (ending in an unescaped
/// dot).
pub(super) fn name(t: &Token<'_>, origin: Option<&NameBuf>) -> Result<NameBuf, ZoneError> {
    let err = |k| ZoneError::new(k, t.pos, t.raw);
    if t.quoted {
        return Err(err(ZoneErrorKind::BadRdata("a name, not a quoted string")));
    }
    if t.raw == b"@" {
        return origin.copied().ok_or_else(|| err(ZoneErrorKind::NoOrigin));
    }
    let s = core::str::from_utf8(t.raw)
        .map_err(|_| err(ZoneErrorKind::BadName(crate::Error::BadEscape)))?;
    let parsed = NameBuf::from_dotted(s).map_err(|e| {
        err(match e {
            crate::Error::BadEscape => ZoneErrorKind::BadEscape,
            e => ZoneErrorKind::BadName(e),
        })
    })?;
    if ends_with_unescaped_dot(t.raw) {
        return Ok(parsed);
    }
    let origin = origin.ok_or_else(|| err(ZoneErrorKind::NoOrigin))?;
    NameBuf::from_labels(parsed.as_name().labels().chain(origin.as_name().labels()))
        .map_err(|e| err(ZoneErrorKind::BadName(e)))
}

fn ends_with_unescaped_dot(raw: &[u8]) -> bool {
    let mut i = 0;
    let mut last_dot = false;
    while let Some(&c) = raw.get(i) {
        if c == b'\\' {
            last_dot = false;
            let digits = raw.get(i + 1..).unwrap_or_default();
            i += if digits.first().is_some_and(u8::is_ascii_digit) {
                4
            } else {
                2
            };
        } else {
            last_dot = c == b'.';
            i += 1;
        }
    }
    last_dot
}

/// A TTL: decimal seconds, or BIND's units (`1w2d3h4m5s`, case-insensitive).
pub(super) fn ttl(t: &Token<'_>) -> Result<u32, ZoneError> {
    parse_ttl(t.raw).ok_or_else(|| ZoneError::new(ZoneErrorKind::BadTtl, t.pos, t.raw))
}

fn parse_ttl(raw: &[u8]) -> Option<u32> {
    if raw.is_empty() {
        return None;
    }
    if raw.iter().all(u8::is_ascii_digit) {
        return core::str::from_utf8(raw).ok()?.parse().ok();
    }
    let mut total: u64 = 0;
    let mut rest = raw;
    while !rest.is_empty() {
        let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        let (num, tail) = rest.split_at(digits);
        let (&unit, tail) = tail.split_first()?;
        if num.is_empty() || num.len() > 10 {
            return None;
        }
        let n: u64 = core::str::from_utf8(num).ok()?.parse().ok()?;
        let mul = match unit.to_ascii_lowercase() {
            b'w' => 604_800,
            b'd' => 86_400,
            b'h' => 3600,
            b'm' => 60,
            b's' => 1,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(mul)?)?;
        rest = tail;
    }
    u32::try_from(total).ok()
}

/// One token of an entry: its bytes as written (escapes not yet resolved; for a quoted
/// string, without the quotes) and where it starts.
#[derive(Debug, Clone, Copy)]
pub(super) struct Token<'a> {
    pub raw: &'a [u8],
    pub quoted: bool,
    pub pos: Pos,
}

/// One logical line: a directive or a record, parentheses joined.
struct Entry<'a> {
    blank_owner: bool,
    pos: Pos,
    tokens: Vec<Token<'a>>,
}

struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    line: u32,
    line_start: usize,
}

type Res<'a> = IResult<&'a [u8], &'a [u8]>;

fn blanks(i: &[u8]) -> Res<'_> {
    take_while1(|c| matches!(c, b' ' | b'\t' | b'\r'))(i)
}

fn comment(i: &[u8]) -> Res<'_> {
    preceded(char(';'), take_till(|c| c == b'\n')).parse(i)
}

/// `\` and any character but a newline.
fn escape(i: &[u8]) -> Res<'_> {
    recognize(preceded(char('\\'), satisfy(|c| c != '\n'))).parse(i)
}

/// An unquoted token: anything up to a blank, newline, `;`, `(`, `)` or `"`, with escapes.
fn word(i: &[u8]) -> Res<'_> {
    let plain = take_till1(|c| {
        matches!(
            c,
            b' ' | b'\t' | b'\r' | b'\n' | b';' | b'(' | b')' | b'"' | b'\\'
        )
    });
    recognize(many1_count(alt((escape, plain)))).parse(i)
}

/// A quoted string on one line, returning what is between the quotes.
fn quoted(i: &[u8]) -> Res<'_> {
    delimited(
        char('"'),
        recognize(many0_count(alt((
            escape,
            take_till1(|c| matches!(c, b'"' | b'\\' | b'\n')),
        )))),
        char('"'),
    )
    .parse(i)
}

impl<'a> Lexer<'a> {
    fn here(&self) -> Pos {
        Pos {
            line: self.line,
            column: (self.pos - self.line_start + 1)
                .try_into()
                .unwrap_or(u32::MAX),
        }
    }

    fn rest(&self) -> &'a [u8] {
        self.src.get(self.pos..).unwrap_or_default()
    }

    fn advance_to(&mut self, rest: &'a [u8]) {
        self.pos = self.src.len() - rest.len();
    }

    /// The next entry with at least one token, or `None` at the end.
    fn entry(&mut self) -> Result<Option<Entry<'a>>, ZoneError> {
        loop {
            let rest = self.rest();
            if rest.is_empty() {
                return Ok(None);
            }
            let blank_owner = matches!(rest.first(), Some(b' ' | b'\t'));
            let start = self.here();
            let mut tokens = Vec::new();
            let mut open: Option<Pos> = None;
            loop {
                let rest = self.rest();
                if let Ok((r, _)) = blanks(rest) {
                    self.advance_to(r);
                    continue;
                }
                if let Ok((r, _)) = comment(rest) {
                    self.advance_to(r);
                    continue;
                }
                let pos = self.here();
                match rest.first() {
                    None => {
                        if let Some(p) = open {
                            return Err(ZoneError::new(ZoneErrorKind::BadParentheses, p, b"("));
                        }
                        break;
                    }
                    Some(b'\n') => {
                        self.pos += 1;
                        self.line += 1;
                        self.line_start = self.pos;
                        if open.is_none() {
                            break;
                        }
                    }
                    Some(b'(') => {
                        if open.is_some() {
                            return Err(ZoneError::new(ZoneErrorKind::BadParentheses, pos, b"("));
                        }
                        open = Some(pos);
                        self.pos += 1;
                    }
                    Some(b')') => {
                        if open.take().is_none() {
                            return Err(ZoneError::new(ZoneErrorKind::BadParentheses, pos, b")"));
                        }
                        self.pos += 1;
                    }
                    Some(b'"') => match quoted(rest) {
                        Ok((r, raw)) => {
                            tokens.push(Token {
                                raw,
                                quoted: true,
                                pos,
                            });
                            self.advance_to(r);
                        }
                        Err(_) => {
                            let line_end =
                                rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
                            return Err(ZoneError::new(
                                ZoneErrorKind::UnterminatedString,
                                pos,
                                rest.get(..line_end).unwrap_or_default(),
                            ));
                        }
                    },
                    Some(_) => match word(rest) {
                        Ok((r, raw)) => {
                            tokens.push(Token {
                                raw,
                                quoted: false,
                                pos,
                            });
                            self.advance_to(r);
                        }
                        Err(_) => {
                            return Err(ZoneError::new(
                                ZoneErrorKind::BadEscape,
                                pos,
                                rest.get(..rest.len().min(8)).unwrap_or_default(),
                            ));
                        }
                    },
                }
            }
            if !tokens.is_empty() {
                return Ok(Some(Entry {
                    blank_owner,
                    pos: start,
                    tokens,
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl(b"3600"), Some(3600));
        assert_eq!(parse_ttl(b"1h30m"), Some(5400));
        assert_eq!(parse_ttl(b"1W1D1H1M1S"), Some(694_861));
        assert_eq!(parse_ttl(b"4294967295"), Some(u32::MAX));
        assert_eq!(parse_ttl(b"4294967296"), None);
        assert_eq!(parse_ttl(b"1h30"), None);
        assert_eq!(parse_ttl(b"h"), None);
        assert_eq!(parse_ttl(b"1x"), None);
        assert_eq!(parse_ttl(b""), None);
        assert_eq!(parse_ttl(b"7102w"), None);
    }

    #[test]
    fn unescaped_dots() {
        assert!(ends_with_unescaped_dot(b"a."));
        assert!(!ends_with_unescaped_dot(b"a\\."));
        assert!(ends_with_unescaped_dot(b"a\\\\."));
        assert!(!ends_with_unescaped_dot(b"a\\046"));
        assert!(ends_with_unescaped_dot(b"."));
        assert!(!ends_with_unescaped_dot(b"a"));
    }
}
