//! Presentation format (RFC 1035 section 5, RFC 3597, RFC 4034): escaping, encodings and
//! mnemonics, written straight into a formatter without allocating.

use core::fmt::{self, Write};

use crate::wire::{Class, RecordType};

/// Write one label, escaping as BIND does: `.`, `\`, `"`, `(`, `)`, `;`, `@` and `$` get a
/// backslash, anything outside `!`..`~` becomes `\DDD`.
pub(crate) fn write_label(f: &mut impl Write, label: &[u8]) -> fmt::Result {
    for &b in label {
        match b {
            b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                f.write_char('\\')?;
                f.write_char(char::from(b))?;
            }
            0x21..=0x7e => f.write_char(char::from(b))?,
            _ => write!(f, "\\{b:03}")?,
        }
    }
    Ok(())
}

/// Write a character-string in double quotes: `"` and `\` get a backslash, anything outside
/// space..`~` becomes `\DDD`.
pub(crate) fn write_char_string(f: &mut impl Write, s: &[u8]) -> fmt::Result {
    f.write_char('"')?;
    for &b in s {
        match b {
            b'"' | b'\\' => {
                f.write_char('\\')?;
                f.write_char(char::from(b))?;
            }
            0x20..=0x7e => f.write_char(char::from(b))?,
            _ => write!(f, "\\{b:03}")?,
        }
    }
    f.write_char('"')
}

/// Bytes in base64 with padding (RFC 4648 section 4), as DNSKEY and RRSIG present them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Base64<'a>(pub &'a [u8]);

impl fmt::Display for Base64<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let sym = |v: u32| char::from(ALPHABET.get((v & 63) as usize).copied().unwrap_or(b'='));
        for chunk in self.0.chunks(3) {
            let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
            let v = (b(0) << 16) | (b(1) << 8) | b(2);
            f.write_char(sym(v >> 18))?;
            f.write_char(sym(v >> 12))?;
            f.write_char(if chunk.len() > 1 { sym(v >> 6) } else { '=' })?;
            f.write_char(if chunk.len() > 2 { sym(v) } else { '=' })?;
        }
        Ok(())
    }
}

/// Bytes in base32 with the extended hex alphabet, upper case, no padding (RFC 4648 section
/// 7), as NSEC3 presents hashed owner names (and as BIND prints them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Base32Hex<'a>(pub &'a [u8]);

impl fmt::Display for Base32Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHIJKLMNOPQRSTUV";
        for chunk in self.0.chunks(5) {
            let mut v: u64 = 0;
            for i in 0..5 {
                v = (v << 8) | u64::from(chunk.get(i).copied().unwrap_or(0));
            }
            // 8 bits per byte, 5 bits per symbol: ceil(len * 8 / 5) symbols.
            let symbols = (chunk.len() * 8).div_ceil(5);
            for i in 0..symbols {
                let shift = 35 - 5 * i;
                let sym = ALPHABET.get(((v >> shift) & 31) as usize).copied();
                f.write_char(char::from(sym.unwrap_or(b'=')))?;
            }
        }
        Ok(())
    }
}

/// Bytes in upper-case hex, as DS digests and RFC 3597 generic RDATA present them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hex<'a>(pub &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

/// An RRSIG time as `YYYYMMDDHHmmSS` in UTC (RFC 4034 section 3.2), taking the 32-bit value
/// as seconds since 1970 (the serial-number wrap of RFC 1982 is not resolved here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub u32);

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0;
        let days = i64::from(secs / 86_400);
        let rem = secs % 86_400;
        // Howard Hinnant's civil_from_days, for days since 1970-01-01.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        write!(
            f,
            "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
            rem / 3600,
            rem / 60 % 60,
            rem % 60
        )
    }
}

/// A type or class as presentation format writes it: the mnemonic when known, otherwise
/// RFC 3597's `TYPE65280` / `CLASS32`. (The enums' own `Display` prints
/// `unknown (0xff00)` for unknown values, as every `CEnum` does.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mnemonic<T>(pub T);

impl fmt::Display for Mnemonic<RecordType> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            RecordType::Unknown(v) => write!(f, "TYPE{v}"),
            known => fmt::Display::fmt(&known, f),
        }
    }
}

impl fmt::Display for Mnemonic<Class> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Class::Unknown(v) => write!(f, "CLASS{v}"),
            known => fmt::Display::fmt(&known, f),
        }
    }
}

/// A `fmt::Write` that checks, without storing, whether what is written equals `target`
/// (ASCII case-insensitively).
struct EqWriter<'t> {
    target: &'t [u8],
    ok: bool,
}

impl Write for EqWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        match self.target.split_at_checked(s.len()) {
            Some((head, tail)) if head.eq_ignore_ascii_case(s.as_bytes()) => {
                self.target = tail;
                Ok(())
            }
            _ => {
                self.ok = false;
                Err(fmt::Error)
            }
        }
    }
}

fn displays_as<T: fmt::Display>(value: &T, text: &str) -> bool {
    let mut w = EqWriter {
        target: text.as_bytes(),
        ok: true,
    };
    write!(w, "{value}").is_ok() && w.ok && w.target.is_empty()
}

fn generic_number(text: &str, prefix: &str) -> Option<u16> {
    let (head, digits) = text.split_at_checked(prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) || digits.is_empty() || digits.len() > 5 {
        return None;
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl RecordType {
    /// Parse a type mnemonic (`AAAA`, case-insensitive) or RFC 3597's `TYPE65280`.
    pub fn from_mnemonic(text: &str) -> Option<RecordType> {
        if let Some(v) = generic_number(text, "TYPE") {
            return Some(RecordType::from_raw(v));
        }
        RecordType::KNOWN
            .iter()
            .copied()
            .find(|t| displays_as(t, text))
    }

    /// How presentation format writes this type ([`Mnemonic`]).
    pub const fn mnemonic(self) -> Mnemonic<RecordType> {
        Mnemonic(self)
    }
}

impl Class {
    /// Parse a class mnemonic (`IN`, case-insensitive) or RFC 3597's `CLASS32`.
    pub fn from_mnemonic(text: &str) -> Option<Class> {
        if let Some(v) = generic_number(text, "CLASS") {
            return Some(Class::from_raw(v));
        }
        Class::KNOWN.iter().copied().find(|c| displays_as(c, text))
    }

    /// How presentation format writes this class ([`Mnemonic`]).
    pub const fn mnemonic(self) -> Mnemonic<Class> {
        Mnemonic(self)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::{String, ToString};

    fn label(bytes: &[u8]) -> String {
        let mut s = String::new();
        write_label(&mut s, bytes).unwrap();
        s
    }

    #[test]
    fn labels_escape_like_bind() {
        assert_eq!(label(b"www"), "www");
        assert_eq!(label(b"a.b"), "a\\.b");
        assert_eq!(label(b"a b"), "a\\032b");
        assert_eq!(label(b"\\\"();@$"), "\\\\\\\"\\(\\)\\;\\@\\$");
        assert_eq!(label(&[0, 0xff, b'-']), "\\000\\255-");
    }

    #[test]
    fn char_strings_quote() {
        let mut s = String::new();
        write_char_string(&mut s, b"v=spf1 \"x\" \\ \x07").unwrap();
        assert_eq!(s, "\"v=spf1 \\\"x\\\" \\\\ \\007\"");
    }

    #[test]
    fn base64_rfc4648_vectors() {
        for (input, out) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(Base64(input).to_string(), out);
        }
    }

    #[test]
    fn base32hex_rfc4648_vectors_without_padding() {
        for (input, out) in [
            (&b""[..], ""),
            (b"f", "CO"),
            (b"fo", "CPNG"),
            (b"foo", "CPNMU"),
            (b"foob", "CPNMUOG"),
            (b"fooba", "CPNMUOJ1"),
            (b"foobar", "CPNMUOJ1E8"),
        ] {
            assert_eq!(Base32Hex(input).to_string(), out);
        }
    }

    #[test]
    fn timestamps() {
        assert_eq!(Timestamp(0).to_string(), "19700101000000");
        // 2000-03-01 00:00:00 UTC (after a leap day in a century year divisible by 400).
        assert_eq!(Timestamp(951_868_800).to_string(), "20000301000000");
        assert_eq!(Timestamp(u32::MAX).to_string(), "21060207062815");
        assert_eq!(Timestamp(1_709_251_199).to_string(), "20240229235959");
    }

    #[test]
    fn mnemonics() {
        assert_eq!(RecordType::Aaaa.mnemonic().to_string(), "AAAA");
        assert_eq!(
            RecordType::Unknown(65280).mnemonic().to_string(),
            "TYPE65280"
        );
        assert_eq!(Class::Unknown(32).mnemonic().to_string(), "CLASS32");
        assert_eq!(RecordType::from_mnemonic("aaaa"), Some(RecordType::Aaaa));
        assert_eq!(
            RecordType::from_mnemonic("NSEC3PARAM"),
            Some(RecordType::Nsec3param)
        );
        assert_eq!(RecordType::from_mnemonic("NSEC"), Some(RecordType::Nsec));
        assert_eq!(RecordType::from_mnemonic("TYPE1"), Some(RecordType::A));
        assert_eq!(
            RecordType::from_mnemonic("type65280"),
            Some(RecordType::Unknown(65280))
        );
        assert_eq!(RecordType::from_mnemonic("TYPE65536"), None);
        assert_eq!(RecordType::from_mnemonic("TYPE"), None);
        assert_eq!(RecordType::from_mnemonic("NOPE"), None);
        assert_eq!(Class::from_mnemonic("in"), Some(Class::In));
        assert_eq!(Class::from_mnemonic("CLASS3"), Some(Class::Ch));
    }
}
