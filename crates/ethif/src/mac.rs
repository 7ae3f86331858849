//! Ethernet MAC addresses.

use core::fmt;
use core::str::FromStr;

/// A 48-bit Ethernet MAC address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MacAddress(pub [u8; 6]);

impl MacAddress {
    /// The broadcast address `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: MacAddress = MacAddress([0xff; 6]);
    /// The all-zero address (unknown target in ARP requests).
    pub const UNSPECIFIED: MacAddress = MacAddress([0; 6]);

    /// Build an address from six bytes.
    pub const fn new(b: [u8; 6]) -> Self {
        MacAddress(b)
    }

    /// Return the six bytes.
    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// Whether this is `ff:ff:ff:ff:ff:ff`.
    pub const fn is_broadcast(&self) -> bool {
        matches!(self.0, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    }

    /// Whether the group bit is set (multicast; broadcast included).
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// Whether this is an individual (unicast) address.
    pub const fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// Whether the locally-administered bit is set.
    pub const fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    /// Whether all bytes are zero.
    pub const fn is_unspecified(&self) -> bool {
        matches!(self.0, [0, 0, 0, 0, 0, 0])
    }

    /// The multicast MAC an IPv4 group address maps to (RFC 1112: `01:00:5e` and the low 23
    /// bits), or `None` if `ip` is not in 224.0.0.0/4.
    pub const fn from_ipv4_multicast(ip: [u8; 4]) -> Option<MacAddress> {
        if ip[0] & 0xf0 != 0xe0 {
            return None;
        }
        Some(MacAddress([0x01, 0x00, 0x5e, ip[1] & 0x7f, ip[2], ip[3]]))
    }
}

impl From<[u8; 6]> for MacAddress {
    fn from(b: [u8; 6]) -> Self {
        MacAddress(b)
    }
}

impl From<MacAddress> for [u8; 6] {
    fn from(m: MacAddress) -> Self {
        m.0
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a string is not a MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseMacError;

impl fmt::Display for ParseMacError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected six hex bytes separated by ':' or '-'")
    }
}

impl core::error::Error for ParseMacError {}

impl FromStr for MacAddress {
    type Err = ParseMacError;

    /// Parse `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff` (one or two hex digits per byte, one
    /// separator style throughout).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let sep = if s.contains('-') { '-' } else { ':' };
        let mut out = [0u8; 6];
        let mut parts = s.split(sep);
        for b in &mut out {
            let p = parts.next().ok_or(ParseMacError)?;
            if p.is_empty() || p.len() > 2 || !p.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(ParseMacError);
            }
            *b = u8::from_str_radix(p, 16).map_err(|_| ParseMacError)?;
        }
        if parts.next().is_some() {
            return Err(ParseMacError);
        }
        Ok(MacAddress(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;

    #[test]
    fn classifies_addresses() {
        assert!(MacAddress::BROADCAST.is_broadcast());
        assert!(MacAddress::BROADCAST.is_multicast());
        let m = MacAddress([0x01, 0x00, 0x5e, 0, 0, 1]);
        assert!(m.is_multicast() && !m.is_broadcast() && !m.is_unicast());
        let l = MacAddress([0x02, 0, 0, 0, 0, 1]);
        assert!(l.is_local() && l.is_unicast());
        assert!(MacAddress::UNSPECIFIED.is_unspecified());
        assert_eq!(
            MacAddress::from_ipv4_multicast([224, 129, 2, 3]),
            Some(MacAddress([0x01, 0x00, 0x5e, 0x01, 2, 3]))
        );
        assert_eq!(MacAddress::from_ipv4_multicast([192, 0, 2, 1]), None);
    }

    #[test]
    fn parses_and_prints() {
        let m: MacAddress = "4e:d6:5a:44:24:22".parse().unwrap();
        assert_eq!(m.0, [0x4e, 0xd6, 0x5a, 0x44, 0x24, 0x22]);
        assert_eq!(m.to_string(), "4e:d6:5a:44:24:22");
        assert_eq!(
            "2-0-0-0-0-A".parse::<MacAddress>().unwrap().0,
            [2, 0, 0, 0, 0, 10]
        );
        for bad in [
            "",
            "1:2:3:4:5",
            "1:2:3:4:5:6:7",
            "1:2:3:4:5:xyz",
            "1:2:3:4:5:",
            "1:2-3:4:5:6",
            "+1:2:3:4:5:6",
            "100:2:3:4:5:6",
        ] {
            assert_eq!(bad.parse::<MacAddress>(), Err(ParseMacError), "{bad}");
        }
    }
}
