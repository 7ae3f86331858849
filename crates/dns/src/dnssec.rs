//! DNSSEC RDATA (RFC 4034, RFC 5155), parsed into fields; nothing here validates signatures.
//!
//! Names inside these types are never compressed (RFC 4034 3.1.7, 4.1.1): a compression
//! pointer in an RRSIG signer or an NSEC next name is [`Error::CompressedName`].

use core::fmt;

use unistack_cstruct::{Endian, Field};

use crate::present::{Base32Hex, Base64, Hex, Timestamp};
use crate::rdata::Reader;
use crate::wire::{
    Algorithm, DigestType, DnskeyFixed, DsFixed, Nsec3Fixed, Nsec3HashAlgorithm, RecordType,
    RrsigFixed,
};
use crate::{BuildError, Error, Name};

/// DS RDATA (RFC 4034 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ds<'a> {
    /// Key tag of the referenced DNSKEY.
    pub key_tag: u16,
    /// Its algorithm.
    pub algorithm: Algorithm,
    /// The digest algorithm.
    pub digest_type: DigestType,
    /// The digest.
    pub digest: &'a [u8],
}

impl<'a> Ds<'a> {
    pub(crate) fn read(r: &mut Reader<'a>) -> Result<Self, Error> {
        let f: DsFixed = r.fixed()?;
        Ok(Ds {
            key_tag: f.key_tag,
            algorithm: f.algorithm,
            digest_type: f.digest_type,
            digest: r.rest(),
        })
    }

    pub(crate) fn fixed(&self) -> DsFixed {
        DsFixed {
            key_tag: self.key_tag,
            algorithm: self.algorithm,
            digest_type: self.digest_type,
        }
    }
}

/// `60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118`.
impl fmt::Display for Ds<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.key_tag,
            self.algorithm.to_raw(),
            self.digest_type.to_raw(),
            Hex(self.digest)
        )
    }
}

/// DNSKEY RDATA (RFC 4034 2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dnskey<'a> {
    /// Flags (256: zone key, 1: secure entry point, 128: revoked).
    pub flags: u16,
    /// The protocol, always 3.
    pub protocol: u8,
    /// The key's algorithm.
    pub algorithm: Algorithm,
    /// The public key, in the algorithm's format.
    pub public_key: &'a [u8],
}

impl<'a> Dnskey<'a> {
    /// The zone key flag (RFC 4034 2.1.1).
    pub const ZONE: u16 = 0x0100;
    /// The revoke flag (RFC 5011).
    pub const REVOKE: u16 = 0x0080;
    /// The secure entry point flag (RFC 4034 2.1.1).
    pub const SEP: u16 = 0x0001;

    pub(crate) fn read(r: &mut Reader<'a>) -> Result<Self, Error> {
        let f: DnskeyFixed = r.fixed()?;
        Ok(Dnskey {
            flags: f.flags,
            protocol: f.protocol,
            algorithm: f.algorithm,
            public_key: r.rest(),
        })
    }

    pub(crate) fn fixed(&self) -> DnskeyFixed {
        DnskeyFixed {
            flags: self.flags,
            protocol: self.protocol,
            algorithm: self.algorithm,
        }
    }

    /// Whether the zone key flag is set.
    pub fn is_zone_key(&self) -> bool {
        self.flags & Self::ZONE != 0
    }

    /// Whether the secure entry point flag is set.
    pub fn is_sep(&self) -> bool {
        self.flags & Self::SEP != 0
    }

    /// Whether the revoke flag is set.
    pub fn is_revoked(&self) -> bool {
        self.flags & Self::REVOKE != 0
    }

    /// The key tag (RFC 4034 appendix B; B.1 for RSA/MD5).
    pub fn key_tag(&self) -> u16 {
        if self.algorithm == Algorithm::RsaMd5 {
            // The most significant 16 of the least significant 24 bits of the modulus.
            return match self.public_key {
                [.., a, b, _] => u16::from_be_bytes([*a, *b]),
                _ => 0,
            };
        }
        let mut head = [0u8; DnskeyFixed::SIZE];
        self.fixed().write(&mut head, Endian::Big);
        // RFC 4034 appendix B, in 64 bits so a key of any length cannot overflow the sum.
        let mut ac: u64 = 0;
        for (i, &b) in head.iter().chain(self.public_key).enumerate() {
            ac += if i & 1 == 0 {
                u64::from(b) << 8
            } else {
                u64::from(b)
            };
        }
        ac += (ac >> 16) & 0xffff;
        (ac & 0xffff) as u16
    }
}

/// `257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==`.
impl fmt::Display for Dnskey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.flags,
            self.protocol,
            self.algorithm.to_raw(),
            Base64(self.public_key)
        )
    }
}

/// RRSIG RDATA (RFC 4034 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rrsig<'a, N = Name<'a>> {
    /// The type of the RRset covered.
    pub type_covered: RecordType,
    /// The signing algorithm.
    pub algorithm: Algorithm,
    /// Labels in the original owner name (root and a leading `*` not counted).
    pub labels: u8,
    /// The TTL of the covered RRset as in the zone.
    pub original_ttl: u32,
    /// End of validity (seconds since 1970, modulo 2^32).
    pub expiration: u32,
    /// Start of validity.
    pub inception: u32,
    /// Key tag of the signing key.
    pub key_tag: u16,
    /// The zone that signed (never compressed).
    pub signer_name: N,
    /// The signature.
    pub signature: &'a [u8],
}

impl<'a> Rrsig<'a, Name<'a>> {
    pub(crate) fn read(r: &mut Reader<'a>) -> Result<Self, Error> {
        let f: RrsigFixed = r.fixed()?;
        Ok(Rrsig {
            type_covered: f.type_covered,
            algorithm: f.algorithm,
            labels: f.labels,
            original_ttl: f.original_ttl,
            expiration: f.expiration,
            inception: f.inception,
            key_tag: f.key_tag,
            signer_name: r.name(false)?,
            signature: r.rest(),
        })
    }
}

impl<'a, N> Rrsig<'a, N> {
    pub(crate) fn fixed(&self) -> RrsigFixed {
        RrsigFixed {
            type_covered: self.type_covered,
            algorithm: self.algorithm,
            labels: self.labels,
            original_ttl: self.original_ttl,
            expiration: self.expiration,
            inception: self.inception,
            key_tag: self.key_tag,
        }
    }

    /// Convert the signer's name with `f`.
    pub fn map_name<M>(self, f: impl FnOnce(N) -> M) -> Rrsig<'a, M> {
        Rrsig {
            type_covered: self.type_covered,
            algorithm: self.algorithm,
            labels: self.labels,
            original_ttl: self.original_ttl,
            expiration: self.expiration,
            inception: self.inception,
            key_tag: self.key_tag,
            signer_name: f(self.signer_name),
            signature: self.signature,
        }
    }
}

/// `A 13 2 3600 20240101000000 20231201000000 12345 example.com. <base64>`.
impl<N: fmt::Display> fmt::Display for Rrsig<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {} {} {} {}",
            self.type_covered.mnemonic(),
            self.algorithm.to_raw(),
            self.labels,
            self.original_ttl,
            Timestamp(self.expiration),
            Timestamp(self.inception),
            self.key_tag,
            self.signer_name,
            Base64(self.signature)
        )
    }
}

/// NSEC RDATA (RFC 4034 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nsec<'a, N = Name<'a>> {
    /// The next owner name in canonical order (never compressed).
    pub next_domain: N,
    /// The types present at the owner name.
    pub types: TypeBitmaps<'a>,
}

impl<'a> Nsec<'a, Name<'a>> {
    pub(crate) fn read(r: &mut Reader<'a>) -> Result<Self, Error> {
        Ok(Nsec {
            next_domain: r.name(false)?,
            types: TypeBitmaps::from_wire(r.rest())?,
        })
    }
}

/// `host.example.com. A MX RRSIG NSEC TYPE1234`.
impl<N: fmt::Display> fmt::Display for Nsec<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.next_domain)?;
        if !self.types.is_empty() {
            write!(f, " {}", self.types)?;
        }
        Ok(())
    }
}

/// NSEC3 RDATA (RFC 5155 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nsec3<'a> {
    /// The hash algorithm.
    pub hash_algorithm: Nsec3HashAlgorithm,
    /// Flags (1: opt-out).
    pub flags: u8,
    /// Additional hash iterations.
    pub iterations: u16,
    /// The salt (0 to 255 octets).
    pub salt: &'a [u8],
    /// The next hashed owner name, raw (1 to 255 octets).
    pub next_hashed: &'a [u8],
    /// The types present at the original owner name.
    pub types: TypeBitmaps<'a>,
}

impl<'a> Nsec3<'a> {
    /// The opt-out flag (RFC 5155 3.1.2.1).
    pub const OPT_OUT: u8 = 0x01;

    pub(crate) fn read(r: &mut Reader<'a>) -> Result<Self, Error> {
        let f: Nsec3Fixed = r.fixed()?;
        let salt = r.bytes(usize::from(f.salt_len))?;
        let hash_len = r.u8()?;
        if hash_len == 0 {
            return Err(Error::BadRdata);
        }
        let next_hashed = r.bytes(usize::from(hash_len))?;
        Ok(Nsec3 {
            hash_algorithm: f.hash_algorithm,
            flags: f.flags,
            iterations: f.iterations,
            salt,
            next_hashed,
            types: TypeBitmaps::from_wire(r.rest())?,
        })
    }

    /// Whether the opt-out flag is set.
    pub fn opt_out(&self) -> bool {
        self.flags & Self::OPT_OUT != 0
    }

    pub(crate) fn fixed(&self) -> Result<Nsec3Fixed, Error> {
        Ok(Nsec3Fixed {
            hash_algorithm: self.hash_algorithm,
            flags: self.flags,
            iterations: self.iterations,
            salt_len: u8::try_from(self.salt.len()).map_err(|_| Error::StringTooLong)?,
        })
    }
}

/// `1 1 0 AABBCCDD 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A RRSIG` (`-` for no salt).
impl fmt::Display for Nsec3<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} ",
            self.hash_algorithm.to_raw(),
            self.flags,
            self.iterations
        )?;
        if self.salt.is_empty() {
            f.write_str("-")?;
        } else {
            write!(f, "{}", Hex(self.salt))?;
        }
        write!(f, " {}", Base32Hex(self.next_hashed))?;
        if !self.types.is_empty() {
            write!(f, " {}", self.types)?;
        }
        Ok(())
    }
}

/// The NSEC3 hash of `name` (RFC 5155 section 5, hash algorithm 1, SHA-1): the digest of the
/// name's canonical wire form (lower case, uncompressed) and the salt, then `iterations` more
/// times of the previous digest and the salt. NSEC3 owner names are this digest in
/// [`Base32Hex`] under the zone apex.
pub fn nsec3_hash(name: &Name<'_>, salt: &[u8], iterations: u16) -> [u8; 20] {
    let mut canonical = name.to_name_buf();
    canonical.make_ascii_lowercase();
    let mut h = crate::sha1::Sha1::new();
    h.update(canonical.as_wire());
    h.update(salt);
    let mut digest = h.finish();
    for _ in 0..iterations {
        let mut h = crate::sha1::Sha1::new();
        h.update(&digest);
        h.update(salt);
        digest = h.finish();
    }
    digest
}

/// Type bitmaps (RFC 4034 4.1.2), validated, in wire form: window blocks in increasing
/// order, each 1 to 32 octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TypeBitmaps<'a> {
    wire: &'a [u8],
}

impl<'a> TypeBitmaps<'a> {
    /// No types.
    pub const EMPTY: TypeBitmaps<'static> = TypeBitmaps { wire: &[] };

    /// View wire-form bitmaps.
    ///
    /// Trailing zero octets in a window and empty windows (which RFC 4034 says must not be
    /// sent) are accepted.
    ///
    /// # Errors
    /// [`Error::BadRdata`] for windows out of order or repeated, a bitmap length of 0 or over
    /// 32, or a block running past the end.
    pub fn from_wire(wire: &'a [u8]) -> Result<Self, Error> {
        let mut rest = wire;
        let mut last: Option<u8> = None;
        while let [window, len, tail @ ..] = rest {
            if last.is_some_and(|l| l >= *window) {
                return Err(Error::BadRdata);
            }
            if *len == 0 || *len > 32 {
                return Err(Error::BadRdata);
            }
            rest = tail.get(usize::from(*len)..).ok_or(Error::BadRdata)?;
            last = Some(*window);
        }
        if !rest.is_empty() {
            return Err(Error::BadRdata);
        }
        Ok(TypeBitmaps { wire })
    }

    /// Encode a set of types (any order, duplicates allowed) into `out`, and view the result.
    /// At most 8704 octets are needed (256 full windows).
    ///
    /// # Errors
    /// [`BuildError::NoSpace`] if `out` is too small.
    pub fn encode(types: &[RecordType], out: &'a mut [u8]) -> Result<Self, BuildError> {
        // Per window: the highest bitmap octet used, plus one (0: window absent).
        let mut lens = [0u8; 256];
        for t in types {
            let [window, low] = t.to_raw().to_be_bytes();
            if let Some(l) = lens.get_mut(usize::from(window)) {
                *l = (*l).max(low / 8 + 1);
            }
        }
        let mut pos = 0usize;
        for (window, &len) in lens.iter().enumerate() {
            if len == 0 {
                continue;
            }
            let block = out
                .get_mut(pos..pos + 2 + usize::from(len))
                .ok_or(BuildError::NoSpace)?;
            block.fill(0);
            if let [w, l, bitmap @ ..] = block {
                *w = window as u8;
                *l = len;
                for t in types {
                    let [tw, low] = t.to_raw().to_be_bytes();
                    if usize::from(tw) != window {
                        continue;
                    }
                    if let Some(byte) = bitmap.get_mut(usize::from(low / 8)) {
                        *byte |= 0x80 >> (low % 8);
                    }
                }
            }
            pos += 2 + usize::from(len);
        }
        let wire: &'a [u8] = out;
        Ok(TypeBitmaps {
            wire: wire.get(..pos).unwrap_or_default(),
        })
    }

    /// The types, in increasing order.
    pub fn iter(&self) -> TypeBitmapsIter<'a> {
        TypeBitmapsIter {
            rest: self.wire,
            window: 0,
            bitmap: &[],
            bit: 0,
        }
    }

    /// Whether `rtype` is in the set.
    pub fn contains(&self, rtype: RecordType) -> bool {
        let [window, low] = rtype.to_raw().to_be_bytes();
        let mut rest = self.wire;
        while let [w, len, tail @ ..] = rest {
            let (bitmap, next) = tail.split_at_checked(usize::from(*len)).unwrap_or_default();
            if *w == window {
                return bitmap
                    .get(usize::from(low / 8))
                    .is_some_and(|b| b & (0x80 >> (low % 8)) != 0);
            }
            rest = next;
        }
        false
    }

    /// Whether no type is present.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The bitmaps in wire form.
    pub fn as_wire(&self) -> &'a [u8] {
        self.wire
    }
}

impl<'a> IntoIterator for TypeBitmaps<'a> {
    type Item = RecordType;
    type IntoIter = TypeBitmapsIter<'a>;
    fn into_iter(self) -> TypeBitmapsIter<'a> {
        self.iter()
    }
}

/// Mnemonics separated by spaces (`A MX RRSIG NSEC TYPE1234`).
impl fmt::Display for TypeBitmaps<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{}", t.mnemonic())?;
        }
        Ok(())
    }
}

/// The types of a [`TypeBitmaps`], in increasing order.
#[derive(Debug, Clone)]
pub struct TypeBitmapsIter<'a> {
    rest: &'a [u8],
    window: u8,
    bitmap: &'a [u8],
    bit: usize,
}

impl Iterator for TypeBitmapsIter<'_> {
    type Item = RecordType;
    fn next(&mut self) -> Option<RecordType> {
        // At most 256 windows of 256 bits: every turn consumes a bit or a window.
        loop {
            if let Some(&byte) = self.bitmap.get(self.bit / 8) {
                let bit = self.bit;
                self.bit += 1;
                if byte & (0x80 >> (bit % 8)) != 0 {
                    let raw = (u16::from(self.window) << 8) | bit as u16;
                    return Some(RecordType::from_raw(raw));
                }
                continue;
            }
            let [window, len, tail @ ..] = self.rest else {
                return None;
            };
            let (bitmap, rest) = tail.split_at_checked(usize::from(*len))?;
            self.window = *window;
            self.bitmap = bitmap;
            self.bit = 0;
            self.rest = rest;
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::rdata::RData;
    use crate::wire::Class;
    use std::string::ToString;
    use std::vec::Vec;

    #[test]
    fn rfc4034_nsec_example() {
        // RFC 4034 4.3: "alfa.example.com. 86400 IN NSEC host.example.com. (A MX RRSIG
        // NSEC TYPE1234)".
        let mut rdata = std::vec::Vec::from(&b"\x04host\x07example\x03com\x00"[..]);
        rdata.extend_from_slice(&[0x00, 0x06, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03, 0x04, 0x1b]);
        rdata.extend_from_slice(&[0; 26]);
        rdata.push(0x20);
        let rdata = &rdata[..];
        let parsed = RData::parse(rdata, RecordType::Nsec, Class::In, 0, rdata.len()).unwrap();
        assert_eq!(
            parsed.to_string(),
            "host.example.com. A MX RRSIG NSEC TYPE1234"
        );
        let RData::Nsec(nsec) = parsed else { panic!() };
        let types: Vec<RecordType> = nsec.types.iter().collect();
        assert_eq!(
            types,
            [
                RecordType::A,
                RecordType::Mx,
                RecordType::Rrsig,
                RecordType::Nsec,
                RecordType::Unknown(1234)
            ]
        );
        assert!(nsec.types.contains(RecordType::Mx));
        assert!(!nsec.types.contains(RecordType::Aaaa));
        assert!(!nsec.types.contains(RecordType::Caa));
        // Encoding the same set (shuffled, with a duplicate) gives the same bytes.
        let mut out = [0u8; 64];
        let enc = TypeBitmaps::encode(
            &[
                RecordType::Unknown(1234),
                RecordType::Nsec,
                RecordType::A,
                RecordType::Rrsig,
                RecordType::Mx,
                RecordType::A,
            ],
            &mut out,
        )
        .unwrap();
        assert_eq!(enc, nsec.types);
        let mut small = [0u8; 8];
        assert_eq!(
            TypeBitmaps::encode(&[RecordType::Unknown(1234)], &mut small).unwrap_err(),
            BuildError::NoSpace
        );
    }

    #[test]
    fn bad_bitmaps() {
        assert_eq!(TypeBitmaps::from_wire(&[0, 0]), Err(Error::BadRdata));
        assert_eq!(TypeBitmaps::from_wire(&[0, 33]), Err(Error::BadRdata));
        assert_eq!(TypeBitmaps::from_wire(&[0, 2, 0x40]), Err(Error::BadRdata));
        assert_eq!(TypeBitmaps::from_wire(&[0]), Err(Error::BadRdata));
        assert_eq!(
            TypeBitmaps::from_wire(&[1, 1, 0x40, 0, 1, 0x40]),
            Err(Error::BadRdata)
        );
        assert_eq!(
            TypeBitmaps::from_wire(&[1, 1, 0x40, 1, 1, 0x40]),
            Err(Error::BadRdata)
        );
        assert!(TypeBitmaps::from_wire(&[0, 1, 0x40, 1, 1, 0x80]).is_ok());
        assert!(TypeBitmaps::from_wire(&[]).unwrap().is_empty());
    }

    #[test]
    fn dnskey_key_tag_rfc4034_appendix() {
        // RFC 4034 5.4 DS example: the DNSKEY for dskey.example.com. with key tag 60485.
        let key_b64 = "AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==";
        let key = decode_b64(key_b64);
        let k = Dnskey {
            flags: 256,
            protocol: 3,
            algorithm: Algorithm::RsaSha1,
            public_key: &key,
        };
        assert_eq!(k.key_tag(), 60485);
        assert!(k.is_zone_key() && !k.is_sep() && !k.is_revoked());
        assert_eq!(k.to_string(), std::format!("256 3 5 {key_b64}"));
        let md5 = Dnskey {
            flags: 256,
            protocol: 3,
            algorithm: Algorithm::RsaMd5,
            public_key: &[1, 2, 3, 0xab, 0xcd, 4],
        };
        assert_eq!(md5.key_tag(), 0xabcd);
    }

    fn decode_b64(s: &str) -> Vec<u8> {
        let mut bits = 0u32;
        let mut n = 0;
        let mut out = Vec::new();
        for c in s.bytes() {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                _ => continue,
            };
            bits = (bits << 6) | u32::from(v);
            n += 6;
            if n >= 8 {
                n -= 8;
                out.push((bits >> n) as u8);
            }
        }
        out
    }

    #[test]
    fn nsec3_rfc5155_example() {
        // RFC 5155 appendix A: "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example. NSEC3 1 1 12
        // aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG".
        let mut rdata = std::vec![1u8, 1, 0, 12, 4, 0xaa, 0xbb, 0xcc, 0xdd, 20];
        let hash: [u8; 20] = [
            0x17, 0x4e, 0xb2, 0x40, 0x9f, 0xe2, 0x8b, 0xcb, 0x48, 0x87, 0xa1, 0x83, 0x6f, 0x95,
            0x7f, 0x0a, 0x84, 0x25, 0xe2, 0x7b,
        ];
        rdata.extend_from_slice(&hash);
        let mut out = [0u8; 16];
        let types = TypeBitmaps::encode(
            &[
                RecordType::Ns,
                RecordType::Soa,
                RecordType::Mx,
                RecordType::Rrsig,
                RecordType::Dnskey,
                RecordType::Nsec3param,
            ],
            &mut out,
        )
        .unwrap();
        rdata.extend_from_slice(types.as_wire());
        let parsed = RData::parse(&rdata, RecordType::Nsec3, Class::In, 0, rdata.len()).unwrap();
        assert_eq!(
            parsed.to_string(),
            "1 1 12 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR NS SOA MX RRSIG DNSKEY NSEC3PARAM"
        );
        let RData::Nsec3(n) = parsed else { panic!() };
        assert!(n.opt_out());
        // Zero-length hash, and a salt running past the end.
        let bad = [1u8, 0, 0, 0, 0, 0];
        assert_eq!(
            RData::parse(&bad, RecordType::Nsec3, Class::In, 0, bad.len()),
            Err(Error::BadRdata)
        );
        let bad = [1u8, 0, 0, 0, 9, 0];
        assert_eq!(
            RData::parse(&bad, RecordType::Nsec3, Class::In, 0, bad.len()),
            Err(Error::BadRdata)
        );
    }

    #[test]
    fn nsec3_hashes_rfc5155_appendix_a() {
        // RFC 5155 appendix A: salt aabbccdd, 12 iterations.
        let salt = [0xaa, 0xbb, 0xcc, 0xdd];
        for (name, hashed) in [
            ("example", "0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM"),
            ("a.example", "35MTHGPGCU1QG68FAB165KLNSNK3DPVL"),
            ("ai.example", "GJEQE526PLBF1G8MKLP59ENFD789NJGI"),
            ("ns1.example", "2T7B4G4VSA5SMI47K61MV5BV1A22BOJR"),
            ("*.w.example", "R53BQ7CC2UVMUBFU5OCMM6PERS9TK9EN"),
            ("x.w.example", "B4UM86EGHHDS6NEA196SMVMLO4ORS995"),
        ] {
            let n = crate::NameBuf::from_dotted(name).unwrap();
            let h = nsec3_hash(&n.as_name(), &salt, 12);
            assert_eq!(Base32Hex(&h).to_string(), hashed, "{name}");
        }
        // Case does not matter.
        let a = crate::NameBuf::from_dotted("A.EXAMPLE").unwrap();
        assert_eq!(
            Base32Hex(&nsec3_hash(&a.as_name(), &salt, 12)).to_string(),
            "35MTHGPGCU1QG68FAB165KLNSNK3DPVL"
        );
    }

    #[test]
    fn rrsig_signer_must_not_be_compressed() {
        // "example." at 0, then RRSIG RDATA at 9 whose signer is a pointer to 0.
        let mut msg = std::vec::Vec::from(&b"\x07example\x00"[..]);
        let start = msg.len();
        msg.extend_from_slice(&[
            0, 1, 13, 1, 0, 0, 14, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0x30, 0x39,
        ]);
        msg.extend_from_slice(&[0xc0, 0x00, 0xaa, 0xbb]);
        let len = msg.len() - start;
        assert_eq!(
            RData::parse(&msg, RecordType::Rrsig, Class::In, start, len),
            Err(Error::CompressedName)
        );
        // The same signer spelt out.
        let mut ok = std::vec::Vec::from(&msg[start..start + 18]);
        ok.extend_from_slice(b"\x07example\x00\xaa\xbb");
        let r = RData::parse(&ok, RecordType::Rrsig, Class::In, 0, ok.len()).unwrap();
        assert_eq!(
            r.to_string(),
            "A 13 1 3600 19700101000001 19700101000000 12345 example. qrs="
        );
    }
}
