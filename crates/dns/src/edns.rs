//! EDNS(0) (RFC 6891): the OPT pseudo-record's fields and options, and DNS cookies
//! (RFC 7873).

use core::fmt;

use unistack_cstruct::{Endian, Field};

use crate::wire::{OptionCode, OptionHeader, Rcode};
use crate::{BuildError, Error};

/// The options of an OPT record, validated (every option lies inside the RDATA), in wire form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EdnsOptions<'a> {
    wire: &'a [u8],
}

impl<'a> EdnsOptions<'a> {
    /// No options.
    pub const EMPTY: EdnsOptions<'static> = EdnsOptions { wire: &[] };

    /// View the RDATA of an OPT record.
    ///
    /// # Errors
    /// [`Error::BadOpt`] if an option header or its data runs past the end.
    #[inline]
    pub fn from_wire(wire: &'a [u8]) -> Result<Self, Error> {
        let mut it = EdnsOptionsIter { rest: wire };
        // Each turn consumes at least four bytes, so this ends.
        while !it.rest.is_empty() {
            it.next_checked()?;
        }
        Ok(EdnsOptions { wire })
    }

    /// Encode `options` into `out` and view the result.
    ///
    /// # Errors
    /// [`BuildError::NoSpace`] if `out` is too small; [`BuildError::Invalid`] with
    /// [`Error::BadOpt`] for option data over 65535 octets.
    pub fn encode(options: &[EdnsOption<'_>], out: &'a mut [u8]) -> Result<Self, BuildError> {
        let mut pos = 0usize;
        for o in options {
            let length = u16::try_from(o.data.len()).map_err(|_| Error::BadOpt)?;
            let end = pos + OptionHeader::SIZE + o.data.len();
            let dst = out.get_mut(pos..end).ok_or(BuildError::NoSpace)?;
            let (head, data) = dst
                .split_at_mut_checked(OptionHeader::SIZE)
                .ok_or(BuildError::NoSpace)?;
            OptionHeader {
                code: o.code,
                length,
            }
            .write(head, Endian::Big);
            data.copy_from_slice(o.data);
            pos = end;
        }
        let wire: &'a [u8] = out;
        Ok(EdnsOptions {
            wire: wire.get(..pos).unwrap_or_default(),
        })
    }

    /// The options in order.
    pub fn iter(&self) -> EdnsOptionsIter<'a> {
        EdnsOptionsIter { rest: self.wire }
    }

    /// The first option with `code`.
    pub fn get(&self, code: OptionCode) -> Option<EdnsOption<'a>> {
        self.iter().find(|o| o.code == code)
    }

    /// The first COOKIE option, parsed.
    ///
    /// # Errors
    /// [`Error::BadRdata`] for a cookie of the wrong length (RFC 7873 5.2.2: FORMERR).
    pub fn cookie(&self) -> Result<Option<Cookie<'a>>, Error> {
        self.get(OptionCode::Cookie)
            .map(|o| Cookie::parse(o.data))
            .transpose()
    }

    /// The options in wire form.
    pub fn as_wire(&self) -> &'a [u8] {
        self.wire
    }

    /// Whether there are no options.
    pub fn is_empty(&self) -> bool {
        self.wire.is_empty()
    }
}

impl<'a> IntoIterator for EdnsOptions<'a> {
    type Item = EdnsOption<'a>;
    type IntoIter = EdnsOptionsIter<'a>;
    fn into_iter(self) -> EdnsOptionsIter<'a> {
        self.iter()
    }
}

/// Options as dig prints them, space separated: `COOKIE:0123456789abcdef`.
impl fmt::Display for EdnsOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, o) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{o}")?;
        }
        Ok(())
    }
}

/// The options of an [`EdnsOptions`].
#[derive(Debug, Clone)]
pub struct EdnsOptionsIter<'a> {
    rest: &'a [u8],
}

impl<'a> EdnsOptionsIter<'a> {
    #[inline]
    fn next_checked(&mut self) -> Result<EdnsOption<'a>, Error> {
        let (head, rest) = self
            .rest
            .split_at_checked(OptionHeader::SIZE)
            .ok_or(Error::BadOpt)?;
        let h = OptionHeader::read(head, Endian::Big);
        let (data, rest) = rest
            .split_at_checked(usize::from(h.length))
            .ok_or(Error::BadOpt)?;
        self.rest = rest;
        Ok(EdnsOption { code: h.code, data })
    }
}

impl<'a> Iterator for EdnsOptionsIter<'a> {
    type Item = EdnsOption<'a>;
    #[inline]
    fn next(&mut self) -> Option<EdnsOption<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        // Validated when the `EdnsOptions` was built; stop rather than loop on the impossible.
        match self.next_checked() {
            Ok(o) => Some(o),
            Err(_) => {
                self.rest = &[];
                None
            }
        }
    }
}

/// One EDNS option: a code and its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EdnsOption<'a> {
    /// The option code.
    pub code: OptionCode,
    /// The option data.
    pub data: &'a [u8],
}

impl fmt::Display for EdnsOption<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            OptionCode::Unknown(c) => write!(f, "OPT{c}:")?,
            code => write!(f, "{code}:")?,
        }
        for b in self.data {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A DNS cookie option (RFC 7873 4): an 8-octet client cookie and an optional server cookie
/// of 8 to 32 octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cookie<'a> {
    /// The client cookie.
    pub client: [u8; 8],
    /// The server cookie: empty, or 8 to 32 octets.
    pub server: &'a [u8],
}

impl<'a> Cookie<'a> {
    /// The longest cookie option: 8 + 32 octets.
    pub const MAX_LEN: usize = 40;

    /// Parse a COOKIE option's data.
    ///
    /// # Errors
    /// [`Error::BadRdata`] unless the length is 8 or 16..=40 (RFC 7873 5.2.2).
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        let (client, server) = data.split_first_chunk::<8>().ok_or(Error::BadRdata)?;
        if !(server.is_empty() || (8..=32).contains(&server.len())) {
            return Err(Error::BadRdata);
        }
        Ok(Cookie {
            client: *client,
            server,
        })
    }

    /// Encode into `out` and return the option to hand to [`EdnsOptions::encode`].
    ///
    /// # Errors
    /// [`Error::BadRdata`] for a server cookie that is not empty or 8 to 32 octets.
    pub fn encode<'o>(&self, out: &'o mut [u8; 40]) -> Result<EdnsOption<'o>, Error> {
        if !(self.server.is_empty() || (8..=32).contains(&self.server.len())) {
            return Err(Error::BadRdata);
        }
        let (client, rest) = out.split_at_mut(8);
        client.copy_from_slice(&self.client);
        let server = rest.get_mut(..self.server.len()).ok_or(Error::BadRdata)?;
        server.copy_from_slice(self.server);
        let out: &'o [u8] = out;
        Ok(EdnsOption {
            code: OptionCode::Cookie,
            data: out.get(..8 + self.server.len()).unwrap_or_default(),
        })
    }
}

/// The EDNS(0) values of an OPT record (RFC 6891 6.1.3): what the CLASS and TTL fields hold,
/// and the options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Edns<'a> {
    /// The sender's UDP payload size (values below 512 are treated as 512).
    pub udp_payload_size: u16,
    /// The high eight bits of the 12-bit RCODE.
    pub ext_rcode: u8,
    /// The EDNS version (0).
    pub version: u8,
    /// DNSSEC OK (RFC 3225).
    pub dnssec_ok: bool,
    /// The other 15 flag bits (must be zero on send).
    pub z: u16,
    /// The options.
    pub options: EdnsOptions<'a>,
}

impl Edns<'static> {
    /// Version 0, no flags, no options, with this payload size.
    pub const fn new(udp_payload_size: u16) -> Self {
        Edns {
            udp_payload_size,
            ext_rcode: 0,
            version: 0,
            dnssec_ok: false,
            z: 0,
            options: EdnsOptions::EMPTY,
        }
    }
}

impl Edns<'_> {
    /// The length of the OPT record in wire form: root name, ten fixed bytes, options.
    pub fn wire_len(&self) -> usize {
        1 + crate::wire::OptFixed::SIZE + self.options.as_wire().len()
    }

    /// The full response code, given the header's four bits.
    pub fn rcode(&self, header: Rcode) -> Rcode {
        Rcode::from_parts(header, self.ext_rcode)
    }

    /// The payload size the sender can receive: at least 512 (RFC 6891 6.2.3).
    pub fn effective_udp_payload_size(&self) -> u16 {
        self.udp_payload_size.max(512)
    }
}

/// dig's OPT pseudo-section: `; EDNS: version: 0, flags: do; udp: 1232` and one line per
/// option.
impl fmt::Display for Edns<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "; EDNS: version: {}, flags:", self.version)?;
        if self.dnssec_ok {
            f.write_str(" do")?;
        }
        if self.z != 0 {
            write!(f, "; MBZ: {:#06x} ", self.z)?;
        }
        write!(f, "; udp: {}", self.udp_payload_size)?;
        for o in self.options.iter() {
            f.write_str("\n; ")?;
            match o.code {
                OptionCode::Unknown(c) => write!(f, "OPT={c}: ")?,
                code => write!(f, "{code}: ")?,
            }
            for b in o.data {
                write!(f, "{b:02x}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn options_roundtrip() {
        let mut cbuf = [0u8; Cookie::MAX_LEN];
        let cookie = Cookie {
            client: [1, 2, 3, 4, 5, 6, 7, 8],
            server: &[9; 16],
        }
        .encode(&mut cbuf)
        .unwrap();
        let nsid = EdnsOption {
            code: OptionCode::Nsid,
            data: b"",
        };
        let mut out = [0u8; 64];
        let opts = EdnsOptions::encode(&[nsid, cookie], &mut out).unwrap();
        assert_eq!(opts.as_wire().len(), 4 + 4 + 24);
        let again = EdnsOptions::from_wire(opts.as_wire()).unwrap();
        let v: std::vec::Vec<_> = again.iter().collect();
        assert_eq!(v, [nsid, cookie]);
        let c = again.cookie().unwrap().unwrap();
        assert_eq!(c.client, [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(c.server, &[9; 16]);
        assert_eq!(
            again.to_string(),
            "NSID: COOKIE:010203040506070809090909090909090909090909090909"
        );
    }

    #[test]
    fn bad_options() {
        assert_eq!(EdnsOptions::from_wire(&[0, 10, 0]), Err(Error::BadOpt));
        assert_eq!(
            EdnsOptions::from_wire(&[0, 10, 0, 8, 1]),
            Err(Error::BadOpt)
        );
        assert!(EdnsOptions::from_wire(&[0, 12, 0, 0]).is_ok());
    }

    #[test]
    fn cookie_lengths() {
        for len in 0..=50usize {
            let data = [0u8; 50];
            let ok = len == 8 || (16..=40).contains(&len);
            assert_eq!(Cookie::parse(&data[..len]).is_ok(), ok, "{len}");
        }
        let mut out = [0u8; 40];
        let bad = Cookie {
            client: [0; 8],
            server: &[0; 7],
        };
        assert_eq!(bad.encode(&mut out).unwrap_err(), Error::BadRdata);
    }

    #[test]
    fn display() {
        let mut e = Edns::new(1232);
        e.dnssec_ok = true;
        assert_eq!(e.to_string(), "; EDNS: version: 0, flags: do; udp: 1232");
        assert_eq!(e.wire_len(), 11);
        assert_eq!(Edns::new(100).effective_udp_payload_size(), 512);
    }
}
