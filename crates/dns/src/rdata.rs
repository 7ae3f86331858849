//! Typed RDATA: one view per supported type, borrowed from the message, and RFC 3597 opaque
//! bytes for every other type.
//!
//! The types are generic over the name type `N`: parsing gives `N = Name<'a>` (labels read in
//! place), building takes any [`ToName`](crate::ToName) (`&str`, [`NameBuf`](crate::NameBuf),
//! a parsed `Name`), so a parsed record can be pushed into a builder as is.

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};

use unistack_cstruct::{Endian, Field};

use crate::dnssec::{Dnskey, Ds, Nsec, Nsec3, Rrsig};
use crate::edns::EdnsOptions;
use crate::name::Name;
use crate::present::{Hex, write_char_string};
use crate::wire::{CaaFixed, Class, MxFixed, RecordType, SoaFixed, SrvFixed};
use crate::{BuildError, Error};

/// A cursor over one RDATA: the message up to the RDATA's end, so that names may point back
/// into the message but nothing can be read past the RDATA.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `msg[start..start + len]`.
    #[inline]
    pub(crate) fn new(msg: &'a [u8], start: usize, len: usize) -> Result<Self, Error> {
        let end = start.checked_add(len).ok_or(Error::BadRdLength)?;
        let msg = msg.get(..end).ok_or(Error::BadRdLength)?;
        Ok(Reader { msg, pos: start })
    }

    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.msg.len().saturating_sub(self.pos)
    }

    #[inline]
    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.pos.checked_add(n).ok_or(Error::BadRdata)?;
        let b = self.msg.get(self.pos..end).ok_or(Error::BadRdata)?;
        self.pos = end;
        Ok(b)
    }

    #[inline]
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let b = self.msg.get(self.pos..).unwrap_or_default();
        self.pos = self.msg.len();
        b
    }

    #[inline]
    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        let b = *self.msg.get(self.pos).ok_or(Error::BadRdata)?;
        self.pos += 1;
        Ok(b)
    }

    /// Read a fixed layout (a `Cstruct` or a `CEnum`).
    #[inline]
    pub(crate) fn fixed<L: Field>(&mut self) -> Result<L, Error> {
        let b = self.bytes(L::SIZE)?;
        Ok(L::read(b, Endian::Big))
    }

    #[inline]
    pub(crate) fn name(&mut self, compression: bool) -> Result<Name<'a>, Error> {
        let (name, end) = Name::parse_with(self.msg, self.pos, compression).map_err(|e| {
            if e == Error::Truncated {
                Error::BadRdata
            } else {
                e
            }
        })?;
        self.pos = end;
        Ok(name)
    }

    #[inline]
    pub(crate) fn char_string(&mut self) -> Result<&'a [u8], Error> {
        let len = self.u8()?;
        self.bytes(usize::from(len))
    }

    #[inline]
    pub(crate) fn finish(&self) -> Result<(), Error> {
        if self.remaining() != 0 {
            return Err(Error::BadRdata);
        }
        Ok(())
    }
}

/// SOA RDATA (RFC 1035 3.3.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Soa<N> {
    /// The primary name server.
    pub mname: N,
    /// The responsible mailbox, as a name (`hostmaster.example.com.`).
    pub rname: N,
    /// Zone serial number.
    pub serial: u32,
    /// Secondary refresh interval in seconds.
    pub refresh: u32,
    /// Retry interval in seconds.
    pub retry: u32,
    /// Expiry in seconds.
    pub expire: u32,
    /// Negative caching TTL in seconds (RFC 2308).
    pub minimum: u32,
}

/// MX RDATA (RFC 1035 3.3.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mx<N> {
    /// Lower is preferred.
    pub preference: u16,
    /// The mail exchanger.
    pub exchange: N,
}

/// SRV RDATA (RFC 2782). The target is never compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Srv<N> {
    /// Lower is tried first.
    pub priority: u16,
    /// Relative weight among equal priorities.
    pub weight: u16,
    /// The port.
    pub port: u16,
    /// The host (`.` means "not available").
    pub target: N,
}

/// TXT RDATA (RFC 1035 3.3.14): one or more character-strings, kept in wire form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Txt<'a> {
    wire: &'a [u8],
}

impl<'a> Txt<'a> {
    /// View wire-form RDATA (length-prefixed strings back to back).
    ///
    /// An empty RDATA is accepted (zero strings) although RFC 1035 asks for at least one.
    ///
    /// # Errors
    /// [`Error::BadRdata`] if a string runs past the end.
    #[inline]
    pub fn from_wire(wire: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(wire, 0, wire.len())?;
        while r.remaining() > 0 {
            r.char_string()?;
        }
        Ok(Txt { wire })
    }

    /// Encode `strings` into `out` and view the result.
    ///
    /// # Errors
    /// [`BuildError::Invalid`] with [`Error::StringTooLong`] for a string over 255 octets,
    /// [`BuildError::NoSpace`] if `out` is too small.
    pub fn encode<S: AsRef<[u8]>>(strings: &[S], out: &'a mut [u8]) -> Result<Self, BuildError> {
        let mut pos = 0usize;
        for s in strings {
            let s = s.as_ref();
            let len = u8::try_from(s.len()).map_err(|_| Error::StringTooLong)?;
            let dst = out
                .get_mut(pos..pos + 1 + s.len())
                .ok_or(BuildError::NoSpace)?;
            if let Some((l, rest)) = dst.split_first_mut() {
                *l = len;
                rest.copy_from_slice(s);
            }
            pos += 1 + s.len();
        }
        let wire: &'a [u8] = out;
        Ok(Txt {
            wire: wire.get(..pos).unwrap_or_default(),
        })
    }

    /// The strings, in order.
    #[inline]
    pub fn strings(&self) -> CharStrings<'a> {
        CharStrings { rest: self.wire }
    }

    /// The RDATA in wire form.
    pub fn as_wire(&self) -> &'a [u8] {
        self.wire
    }
}

/// The character-strings of a [`Txt`].
#[derive(Debug, Clone)]
pub struct CharStrings<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for CharStrings<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, tail) = self.rest.split_first()?;
        let (s, rest) = tail.split_at_checked(usize::from(len))?;
        self.rest = rest;
        Some(s)
    }
}

/// HINFO RDATA (RFC 1035 3.3.2; RFC 8482 answers ANY with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hinfo<'a> {
    /// The CPU type (at most 255 octets).
    pub cpu: &'a [u8],
    /// The operating system (at most 255 octets).
    pub os: &'a [u8],
}

/// CAA RDATA (RFC 8659 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Caa<'a> {
    /// Flags; 128 is "issuer critical".
    pub flags: u8,
    /// The property tag (`issue`, `issuewild`, `iodef` ...), 1 to 255 octets.
    pub tag: &'a [u8],
    /// The property value, the rest of the RDATA.
    pub value: &'a [u8],
}

impl Caa<'_> {
    /// Whether the issuer-critical flag is set.
    pub fn critical(&self) -> bool {
        self.flags & 0x80 != 0
    }
}

/// The RDATA of one record, typed for the types this crate knows, opaque otherwise.
///
/// `N` is the name type: [`Name`] when parsed, any [`ToName`](crate::ToName) when built.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RData<'a, N = Name<'a>> {
    /// An IPv4 address (class IN only; in other classes A is opaque).
    A(Ipv4Addr),
    /// An IPv6 address (class IN only).
    Aaaa(Ipv6Addr),
    /// A name server.
    Ns(N),
    /// The canonical name of an alias.
    Cname(N),
    /// A pointer (reverse mapping).
    Ptr(N),
    /// One of the obsolete RFC 1035 single-name types MD, MF, MB, MG or MR. Their names may be
    /// compressed, so they are read (and copied) as names, never as opaque bytes.
    Mailbox {
        /// Which of the five types.
        rtype: RecordType,
        /// The name.
        name: N,
    },
    /// Mailbox information (RFC 1035 MINFO, obsolete): both names may be compressed.
    Minfo {
        /// The mailbox responsible for the list.
        rmailbx: N,
        /// The mailbox for errors.
        emailbx: N,
    },
    /// Start of authority.
    Soa(Soa<N>),
    /// Mail exchange.
    Mx(Mx<N>),
    /// Text strings.
    Txt(Txt<'a>),
    /// Service location.
    Srv(Srv<N>),
    /// Certification authority authorization.
    Caa(Caa<'a>),
    /// Host information.
    Hinfo(Hinfo<'a>),
    /// The options of an OPT pseudo-record (its other fields are in the record's class and
    /// TTL: see [`Record::edns`](crate::Record::edns)).
    Opt(EdnsOptions<'a>),
    /// Delegation signer.
    Ds(Ds<'a>),
    /// DNSSEC public key.
    Dnskey(Dnskey<'a>),
    /// DNSSEC signature.
    Rrsig(Rrsig<'a, N>),
    /// Next secure record.
    Nsec(Nsec<'a, N>),
    /// Hashed next secure record.
    Nsec3(Nsec3<'a>),
    /// Any other type (or A/AAAA outside class IN), as opaque bytes (RFC 3597).
    Unknown {
        /// The record type.
        rtype: RecordType,
        /// The RDATA.
        data: &'a [u8],
    },
}

impl<'a> RData<'a, Name<'a>> {
    /// Parse the `len` bytes of RDATA at `start` in `msg` as type `rtype` in `class`.
    ///
    /// Names are read in place; compression pointers are followed only for the types that
    /// allow it ([`RecordType::rdata_compressible`]).
    ///
    /// # Errors
    /// [`Error::BadRdLength`] if the RDATA is not inside `msg`; [`Error::BadRdata`] if it does
    /// not match the type's format (too short, bytes left over, bad field);
    /// [`Error::CompressedName`] for a pointer where compression is forbidden; a name's own
    /// errors ([`Error::BadPointer`] ...).
    #[inline(never)]
    pub fn parse(
        msg: &'a [u8],
        rtype: RecordType,
        class: Class,
        start: usize,
        len: usize,
    ) -> Result<Self, Error> {
        let mut r = Reader::new(msg, start, len)?;
        let compress = rtype.rdata_compressible();
        let rdata = match rtype {
            // Read as one integer: built byte by byte, the address is reassembled through
            // the stack (a store-forwarding stall on every A record).
            RecordType::A if class == Class::In => {
                let b: [u8; 4] = r.bytes(4)?.try_into().map_err(|_| Error::BadRdata)?;
                RData::A(Ipv4Addr::from_bits(u32::from_be_bytes(b)))
            }
            RecordType::Aaaa if class == Class::In => {
                let b: [u8; 16] = r.bytes(16)?.try_into().map_err(|_| Error::BadRdata)?;
                RData::Aaaa(Ipv6Addr::from_bits(u128::from_be_bytes(b)))
            }
            RecordType::Ns => RData::Ns(r.name(compress)?),
            RecordType::Cname => RData::Cname(r.name(compress)?),
            RecordType::Ptr => RData::Ptr(r.name(compress)?),
            RecordType::Md | RecordType::Mf | RecordType::Mb | RecordType::Mg | RecordType::Mr => {
                RData::Mailbox {
                    rtype,
                    name: r.name(compress)?,
                }
            }
            RecordType::Minfo => RData::Minfo {
                rmailbx: r.name(compress)?,
                emailbx: r.name(compress)?,
            },
            RecordType::Soa => {
                let mname = r.name(compress)?;
                let rname = r.name(compress)?;
                let f: SoaFixed = r.fixed()?;
                RData::Soa(Soa {
                    mname,
                    rname,
                    serial: f.serial,
                    refresh: f.refresh,
                    retry: f.retry,
                    expire: f.expire,
                    minimum: f.minimum,
                })
            }
            RecordType::Mx => {
                let f: MxFixed = r.fixed()?;
                RData::Mx(Mx {
                    preference: f.preference,
                    exchange: r.name(compress)?,
                })
            }
            RecordType::Txt => RData::Txt(Txt::from_wire(r.rest())?),
            RecordType::Srv => {
                let f: SrvFixed = r.fixed()?;
                RData::Srv(Srv {
                    priority: f.priority,
                    weight: f.weight,
                    port: f.port,
                    target: r.name(compress)?,
                })
            }
            RecordType::Caa => {
                let f: CaaFixed = r.fixed()?;
                if f.tag_len == 0 {
                    return Err(Error::BadRdata);
                }
                let tag = r.bytes(usize::from(f.tag_len))?;
                RData::Caa(Caa {
                    flags: f.flags,
                    tag,
                    value: r.rest(),
                })
            }
            RecordType::Hinfo => RData::Hinfo(Hinfo {
                cpu: r.char_string()?,
                os: r.char_string()?,
            }),
            RecordType::Opt => RData::Opt(EdnsOptions::from_wire(r.rest())?),
            RecordType::Ds => RData::Ds(Ds::read(&mut r)?),
            RecordType::Dnskey => RData::Dnskey(Dnskey::read(&mut r)?),
            RecordType::Rrsig => RData::Rrsig(Rrsig::read(&mut r)?),
            RecordType::Nsec => RData::Nsec(Nsec::read(&mut r)?),
            RecordType::Nsec3 => RData::Nsec3(Nsec3::read(&mut r)?),
            other => RData::Unknown {
                rtype: other,
                data: r.rest(),
            },
        };
        r.finish()?;
        Ok(rdata)
    }
}

impl<'a, N> RData<'a, N> {
    /// The record type this RDATA belongs to.
    pub fn rtype(&self) -> RecordType {
        match self {
            RData::A(_) => RecordType::A,
            RData::Aaaa(_) => RecordType::Aaaa,
            RData::Ns(_) => RecordType::Ns,
            RData::Cname(_) => RecordType::Cname,
            RData::Ptr(_) => RecordType::Ptr,
            RData::Mailbox { rtype, .. } => *rtype,
            RData::Minfo { .. } => RecordType::Minfo,
            RData::Soa(_) => RecordType::Soa,
            RData::Mx(_) => RecordType::Mx,
            RData::Txt(_) => RecordType::Txt,
            RData::Srv(_) => RecordType::Srv,
            RData::Caa(_) => RecordType::Caa,
            RData::Hinfo(_) => RecordType::Hinfo,
            RData::Opt(_) => RecordType::Opt,
            RData::Ds(_) => RecordType::Ds,
            RData::Dnskey(_) => RecordType::Dnskey,
            RData::Rrsig(_) => RecordType::Rrsig,
            RData::Nsec(_) => RecordType::Nsec,
            RData::Nsec3(_) => RecordType::Nsec3,
            RData::Unknown { rtype, .. } => *rtype,
        }
    }

    /// Convert every name with `f` (for example `|n| n.to_name_buf()` to keep the RDATA
    /// beyond the message's lifetime, or to compare with built input).
    pub fn map_names<M>(self, mut f: impl FnMut(N) -> M) -> RData<'a, M> {
        match self {
            RData::A(a) => RData::A(a),
            RData::Aaaa(a) => RData::Aaaa(a),
            RData::Ns(n) => RData::Ns(f(n)),
            RData::Cname(n) => RData::Cname(f(n)),
            RData::Ptr(n) => RData::Ptr(f(n)),
            RData::Mailbox { rtype, name } => RData::Mailbox {
                rtype,
                name: f(name),
            },
            RData::Minfo { rmailbx, emailbx } => RData::Minfo {
                rmailbx: f(rmailbx),
                emailbx: f(emailbx),
            },
            RData::Soa(s) => RData::Soa(Soa {
                mname: f(s.mname),
                rname: f(s.rname),
                serial: s.serial,
                refresh: s.refresh,
                retry: s.retry,
                expire: s.expire,
                minimum: s.minimum,
            }),
            RData::Mx(m) => RData::Mx(Mx {
                preference: m.preference,
                exchange: f(m.exchange),
            }),
            RData::Txt(t) => RData::Txt(t),
            RData::Srv(s) => RData::Srv(Srv {
                priority: s.priority,
                weight: s.weight,
                port: s.port,
                target: f(s.target),
            }),
            RData::Caa(c) => RData::Caa(c),
            RData::Hinfo(h) => RData::Hinfo(h),
            RData::Opt(o) => RData::Opt(o),
            RData::Ds(d) => RData::Ds(d),
            RData::Dnskey(d) => RData::Dnskey(d),
            RData::Rrsig(s) => RData::Rrsig(s.map_name(f)),
            RData::Nsec(n) => RData::Nsec(Nsec {
                next_domain: f(n.next_domain),
                types: n.types,
            }),
            RData::Nsec3(n) => RData::Nsec3(n),
            RData::Unknown { rtype, data } => RData::Unknown { rtype, data },
        }
    }
}

/// Presentation format of the RDATA alone, as dig prints it after the type.
impl<N: fmt::Display> fmt::Display for RData<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RData::A(a) => write!(f, "{a}"),
            RData::Aaaa(a) => write!(f, "{a}"),
            RData::Ns(n) | RData::Cname(n) | RData::Ptr(n) => write!(f, "{n}"),
            RData::Mailbox { name, .. } => write!(f, "{name}"),
            RData::Minfo { rmailbx, emailbx } => write!(f, "{rmailbx} {emailbx}"),
            RData::Soa(s) => write!(
                f,
                "{} {} {} {} {} {} {}",
                s.mname, s.rname, s.serial, s.refresh, s.retry, s.expire, s.minimum
            ),
            RData::Mx(m) => write!(f, "{} {}", m.preference, m.exchange),
            RData::Txt(t) => {
                for (i, s) in t.strings().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write_char_string(f, s)?;
                }
                Ok(())
            }
            RData::Srv(s) => write!(f, "{} {} {} {}", s.priority, s.weight, s.port, s.target),
            RData::Caa(c) => {
                write!(f, "{} ", c.flags)?;
                for &b in c.tag {
                    // Tags are alphanumeric (RFC 8659); anything else is escaped.
                    if b.is_ascii_alphanumeric() {
                        write!(f, "{}", char::from(b))?;
                    } else {
                        write!(f, "\\{b:03}")?;
                    }
                }
                f.write_str(" ")?;
                write_char_string(f, c.value)
            }
            RData::Hinfo(h) => {
                write_char_string(f, h.cpu)?;
                f.write_str(" ")?;
                write_char_string(f, h.os)
            }
            RData::Opt(o) => write!(f, "{o}"),
            RData::Ds(d) => write!(f, "{d}"),
            RData::Dnskey(d) => write!(f, "{d}"),
            RData::Rrsig(s) => write!(f, "{s}"),
            RData::Nsec(n) => write!(f, "{n}"),
            RData::Nsec3(n) => write!(f, "{n}"),
            RData::Unknown { data, .. } => {
                write!(f, "\\# {}", data.len())?;
                if !data.is_empty() {
                    write!(f, " {}", Hex(data))?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[inline]
    fn parse(msg: &[u8], t: RecordType) -> Result<RData<'_>, Error> {
        RData::parse(msg, t, Class::In, 0, msg.len())
    }

    #[test]
    fn addresses() {
        assert_eq!(
            parse(&[192, 0, 2, 1], RecordType::A).unwrap().to_string(),
            "192.0.2.1"
        );
        assert_eq!(parse(&[192, 0, 2], RecordType::A), Err(Error::BadRdata));
        assert_eq!(
            parse(&[192, 0, 2, 1, 0], RecordType::A),
            Err(Error::BadRdata)
        );
        let v6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        assert_eq!(
            parse(&v6, RecordType::Aaaa).unwrap().to_string(),
            "2001:db8::1"
        );
        // A in class CH is not an IPv4 address: opaque.
        let ch = RData::parse(&[1, 2, 3, 4], RecordType::A, Class::Ch, 0, 4).unwrap();
        assert_eq!(ch.to_string(), "\\# 4 01020304");
    }

    #[test]
    fn rdlength_outside_the_message() {
        assert_eq!(
            RData::parse(&[1, 2, 3], RecordType::A, Class::In, 0, 4),
            Err(Error::BadRdLength)
        );
        assert_eq!(
            RData::parse(&[1, 2, 3], RecordType::A, Class::In, 5, 0),
            Err(Error::BadRdLength)
        );
    }

    #[test]
    fn names_in_rdata() {
        // "example.com." at 0; MX RDATA at 13: preference 10, "mail" + pointer to 0.
        let msg = b"\x07example\x03com\x00\x00\x0a\x04mail\xc0\x00";
        let mx = RData::parse(msg, RecordType::Mx, Class::In, 13, 9).unwrap();
        assert_eq!(mx.to_string(), "10 mail.example.com.");
        // The same bytes as SRV-like (uncompressible) RDATA: the pointer is rejected.
        let msg = b"\x07example\x03com\x00\x00\x01\x00\x02\x00\x03\x04mail\xc0\x00";
        assert_eq!(
            RData::parse(msg, RecordType::Srv, Class::In, 13, 13),
            Err(Error::CompressedName)
        );
        // A name running past the RDATA is malformed RDATA, even if the message goes on.
        let msg = b"\x03ns1\x00";
        assert_eq!(
            RData::parse(msg, RecordType::Ns, Class::In, 0, 3),
            Err(Error::BadRdata)
        );
        // Trailing bytes after the name.
        let msg = b"\x03ns1\x00\x00";
        assert_eq!(
            RData::parse(msg, RecordType::Ns, Class::In, 0, 6),
            Err(Error::BadRdata)
        );
    }

    #[test]
    fn txt_caa_hinfo_unknown() {
        let t = parse(b"\x05hello\x00\x03a\"b", RecordType::Txt).unwrap();
        assert_eq!(t.to_string(), "\"hello\" \"\" \"a\\\"b\"");
        assert_eq!(parse(b"\x05hell", RecordType::Txt), Err(Error::BadRdata));
        let c = parse(b"\x80\x05issueletsencrypt.org", RecordType::Caa).unwrap();
        assert_eq!(c.to_string(), "128 issue \"letsencrypt.org\"");
        let RData::Caa(caa) = c else { panic!() };
        assert!(caa.critical());
        assert_eq!(parse(b"\x00\x00", RecordType::Caa), Err(Error::BadRdata));
        assert_eq!(
            parse(b"\x00\x09issue", RecordType::Caa),
            Err(Error::BadRdata)
        );
        let h = parse(b"\x07RFC8482\x00", RecordType::Hinfo).unwrap();
        assert_eq!(h.to_string(), "\"RFC8482\" \"\"");
        assert_eq!(
            parse(b"\x07RFC8482", RecordType::Hinfo),
            Err(Error::BadRdata)
        );
        let u = parse(b"\xde\xad", RecordType::Unknown(65280)).unwrap();
        assert_eq!(u.to_string(), "\\# 2 DEAD");
        assert_eq!(
            parse(b"", RecordType::Unknown(65280)).unwrap().to_string(),
            "\\# 0"
        );
    }

    #[test]
    fn txt_encode() {
        let mut buf = [0u8; 16];
        let t = Txt::encode(&[&b"ab"[..], b""], &mut buf).unwrap();
        assert_eq!(t.as_wire(), b"\x02ab\x00");
        let strings: std::vec::Vec<&[u8]> = t.strings().collect();
        assert_eq!(strings, [&b"ab"[..], b""]);
        let mut small = [0u8; 2];
        assert_eq!(
            Txt::encode(&[b"ab"], &mut small).unwrap_err(),
            BuildError::NoSpace
        );
        let long = [0u8; 256];
        let mut big = [0u8; 300];
        assert_eq!(
            Txt::encode(&[&long[..]], &mut big).unwrap_err(),
            BuildError::Invalid(Error::StringTooLong)
        );
    }
}
