//! IPv4 addresses and CIDR prefixes.

use core::fmt;
use core::str::FromStr;

/// An IPv4 address: four bytes in network order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ipv4Address(pub [u8; 4]);

impl Ipv4Address {
    /// `0.0.0.0`.
    pub const UNSPECIFIED: Ipv4Address = Ipv4Address([0; 4]);
    /// `255.255.255.255`, the limited broadcast address.
    pub const BROADCAST: Ipv4Address = Ipv4Address([255; 4]);
    /// `127.0.0.1`.
    pub const LOOPBACK: Ipv4Address = Ipv4Address([127, 0, 0, 1]);

    /// Build an address from its four octets.
    pub const fn new(a: u8, b: u8, c: u8, d: u8) -> Self {
        Ipv4Address([a, b, c, d])
    }

    /// Build an address from a network-order `u32` (`0xc0000201` is `192.0.2.1`).
    pub const fn from_bits(bits: u32) -> Self {
        Ipv4Address(bits.to_be_bytes())
    }

    /// Return the address as a network-order `u32`.
    pub const fn to_bits(self) -> u32 {
        u32::from_be_bytes(self.0)
    }

    /// Return the four octets.
    pub const fn octets(self) -> [u8; 4] {
        self.0
    }

    /// Whether this is `0.0.0.0`.
    pub const fn is_unspecified(self) -> bool {
        self.to_bits() == 0
    }

    /// Whether this is the limited broadcast address `255.255.255.255`.
    pub const fn is_broadcast(self) -> bool {
        self.to_bits() == u32::MAX
    }

    /// Whether this is a multicast address (`224.0.0.0/4`).
    pub const fn is_multicast(self) -> bool {
        self.0[0] & 0xf0 == 224
    }

    /// Whether this is a loopback address (`127.0.0.0/8`).
    pub const fn is_loopback(self) -> bool {
        self.0[0] == 127
    }

    /// Whether this is a link-local address (`169.254.0.0/16`).
    pub const fn is_link_local(self) -> bool {
        self.0[0] == 169 && self.0[1] == 254
    }

    /// Whether this is a private address (RFC 1918: `10/8`, `172.16/12`, `192.168/16`).
    pub const fn is_private(self) -> bool {
        matches!(self.0, [10, ..] | [172, 16..=31, ..] | [192, 168, ..])
    }

    /// Whether this can be a unicast source or destination: not unspecified, broadcast or
    /// multicast (a subnet's directed broadcast address is not known here).
    pub const fn is_unicast(self) -> bool {
        !(self.is_unspecified() || self.is_broadcast() || self.is_multicast())
    }
}

impl From<[u8; 4]> for Ipv4Address {
    fn from(octets: [u8; 4]) -> Self {
        Ipv4Address(octets)
    }
}

impl From<Ipv4Address> for [u8; 4] {
    fn from(a: Ipv4Address) -> Self {
        a.0
    }
}

impl From<core::net::Ipv4Addr> for Ipv4Address {
    fn from(a: core::net::Ipv4Addr) -> Self {
        Ipv4Address(a.octets())
    }
}

impl From<Ipv4Address> for core::net::Ipv4Addr {
    fn from(a: Ipv4Address) -> Self {
        core::net::Ipv4Addr::from(a.0)
    }
}

impl fmt::Display for Ipv4Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

impl fmt::Debug for Ipv4Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why text is not an address or a CIDR prefix.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddrParseError {
    /// Not four dot-separated decimal octets (each 0 to 255, no sign, no leading zero).
    BadAddress,
    /// The prefix length is missing, not decimal, or above 32.
    BadPrefixLen,
}

impl fmt::Display for AddrParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddrParseError::BadAddress => "invalid IPv4 address",
            AddrParseError::BadPrefixLen => "invalid IPv4 prefix length",
        })
    }
}

impl core::error::Error for AddrParseError {}

/// Parse a decimal number of at most three digits without a leading zero (as `std` does for
/// addresses: `010` is ambiguous between octal and decimal, so it is refused).
fn decimal(s: &str, max: u32) -> Option<u32> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 3 || (b.len() > 1 && b.first() == Some(&b'0')) {
        return None;
    }
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    (v <= max).then_some(v)
}

impl FromStr for Ipv4Address {
    type Err = AddrParseError;

    /// Parse dotted-quad notation, `192.0.2.1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 4];
        let mut parts = s.split('.');
        for o in &mut out {
            let part = parts.next().ok_or(AddrParseError::BadAddress)?;
            *o = decimal(part, 255).ok_or(AddrParseError::BadAddress)? as u8;
        }
        if parts.next().is_some() {
            return Err(AddrParseError::BadAddress);
        }
        Ok(Ipv4Address(out))
    }
}

/// An IPv4 address with a prefix length, `192.0.2.1/24`: an interface address and its subnet.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ipv4Cidr {
    address: Ipv4Address,
    prefix_len: u8,
}

impl Ipv4Cidr {
    /// Build a prefix, or `None` if `prefix_len` is above 32.
    pub const fn new(address: Ipv4Address, prefix_len: u8) -> Option<Self> {
        if prefix_len > 32 {
            return None;
        }
        Some(Ipv4Cidr {
            address,
            prefix_len,
        })
    }

    /// Build a prefix from an address and a netmask, or `None` if the mask's ones are not
    /// contiguous from the top (`255.255.0.255`).
    pub const fn from_netmask(address: Ipv4Address, netmask: Ipv4Address) -> Option<Self> {
        let m = netmask.to_bits();
        let len = m.leading_ones();
        if len < 32 && m << len != 0 {
            return None;
        }
        Some(Ipv4Cidr {
            address,
            prefix_len: len as u8,
        })
    }

    /// Return the address.
    pub const fn address(&self) -> Ipv4Address {
        self.address
    }

    /// Return the prefix length (0 to 32).
    pub const fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    const fn mask_bits(&self) -> u32 {
        // A shift by 32 (prefix 0) yields an empty mask.
        match u32::MAX.checked_shl(32 - self.prefix_len as u32) {
            Some(m) => m,
            None => 0,
        }
    }

    /// Return the netmask (`255.255.255.0` for a /24).
    pub const fn netmask(&self) -> Ipv4Address {
        Ipv4Address::from_bits(self.mask_bits())
    }

    /// Return the network: the address with its host bits cleared, same prefix length.
    pub const fn network(&self) -> Ipv4Cidr {
        Ipv4Cidr {
            address: Ipv4Address::from_bits(self.address.to_bits() & self.mask_bits()),
            prefix_len: self.prefix_len,
        }
    }

    /// Return the subnet's directed broadcast address, or `None` for /31 and /32, which have
    /// none (RFC 3021).
    pub const fn broadcast(&self) -> Option<Ipv4Address> {
        if self.prefix_len >= 31 {
            return None;
        }
        Some(Ipv4Address::from_bits(
            self.address.to_bits() | !self.mask_bits(),
        ))
    }

    /// Whether `addr` is inside this prefix.
    pub const fn contains_addr(&self, addr: Ipv4Address) -> bool {
        let m = self.mask_bits();
        addr.to_bits() & m == self.address.to_bits() & m
    }

    /// Whether the whole of `other` is inside this prefix.
    pub const fn contains_subnet(&self, other: &Ipv4Cidr) -> bool {
        self.prefix_len <= other.prefix_len && self.contains_addr(other.address)
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

impl fmt::Debug for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = AddrParseError;

    /// Parse `a.b.c.d/n`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, len) = s.split_once('/').ok_or(AddrParseError::BadPrefixLen)?;
        let address = addr.parse()?;
        let prefix_len = decimal(len, 32).ok_or(AddrParseError::BadPrefixLen)? as u8;
        Ok(Ipv4Cidr {
            address,
            prefix_len,
        })
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn display_and_parse_round_trip() {
        let a = Ipv4Address::new(192, 0, 2, 1);
        assert_eq!(a.to_string(), "192.0.2.1");
        assert_eq!("192.0.2.1".parse(), Ok(a));
        assert_eq!("0.0.0.0".parse(), Ok(Ipv4Address::UNSPECIFIED));
        assert_eq!("255.255.255.255".parse(), Ok(Ipv4Address::BROADCAST));
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1.2.3.04",
            "+1.2.3.4",
            "1..2.3",
            "1.2.3.4 ",
            "a.b.c.d",
            "1.2.3.-4",
            "1000.1.1.1",
        ] {
            assert_eq!(
                bad.parse::<Ipv4Address>(),
                Err(AddrParseError::BadAddress),
                "{bad}"
            );
        }
        // Agrees with core's parser on what it accepts.
        for s in [
            "10.0.0.1",
            "1.2.3.4",
            "127.0.0.1",
            "00.1.2.3",
            "1.2.3.4.",
            "01.2.3.4",
        ] {
            let ours = s.parse::<Ipv4Address>().ok().map(core::net::Ipv4Addr::from);
            assert_eq!(ours, s.parse::<core::net::Ipv4Addr>().ok(), "{s}");
        }
    }

    #[test]
    fn classification() {
        let p = |s: &str| s.parse::<Ipv4Address>().unwrap();
        assert!(p("0.0.0.0").is_unspecified());
        assert!(p("255.255.255.255").is_broadcast());
        assert!(p("224.0.0.1").is_multicast() && p("239.255.255.255").is_multicast());
        assert!(!p("240.0.0.1").is_multicast());
        assert!(p("127.1.2.3").is_loopback());
        assert!(p("169.254.0.9").is_link_local() && !p("169.255.0.9").is_link_local());
        for s in ["10.1.1.1", "172.16.0.1", "172.31.255.255", "192.168.3.4"] {
            assert!(p(s).is_private(), "{s}");
        }
        for s in ["172.15.0.1", "172.32.0.1", "192.169.0.1", "11.0.0.1"] {
            assert!(!p(s).is_private(), "{s}");
        }
        assert!(p("192.0.2.1").is_unicast() && !p("224.0.0.1").is_unicast());
        // The classification agrees with core::net for every first/second octet.
        for a in 0..=255u8 {
            for b in [0u8, 15, 16, 31, 32, 168, 254, 255] {
                let ours = Ipv4Address::new(a, b, 1, 2);
                let core = core::net::Ipv4Addr::new(a, b, 1, 2);
                assert_eq!(ours.is_private(), core.is_private());
                assert_eq!(ours.is_loopback(), core.is_loopback());
                assert_eq!(ours.is_link_local(), core.is_link_local());
                assert_eq!(ours.is_multicast(), core.is_multicast());
            }
        }
        assert_eq!(Ipv4Address::from_bits(0xc000_0201), p("192.0.2.1"));
        assert_eq!(p("192.0.2.1").to_bits(), 0xc000_0201);
    }

    #[test]
    fn cidr() {
        let c: Ipv4Cidr = "192.0.2.77/24".parse().unwrap();
        assert_eq!(c.to_string(), "192.0.2.77/24");
        assert_eq!(c.netmask(), Ipv4Address::new(255, 255, 255, 0));
        assert_eq!(c.network().to_string(), "192.0.2.0/24");
        assert_eq!(c.broadcast(), Some(Ipv4Address::new(192, 0, 2, 255)));
        assert!(c.contains_addr(Ipv4Address::new(192, 0, 2, 1)));
        assert!(!c.contains_addr(Ipv4Address::new(192, 0, 3, 1)));
        assert!(c.contains_subnet(&"192.0.2.128/25".parse().unwrap()));
        assert!(!c.contains_subnet(&"192.0.0.0/16".parse().unwrap()));
        let all: Ipv4Cidr = "0.0.0.0/0".parse().unwrap();
        assert_eq!(all.netmask(), Ipv4Address::UNSPECIFIED);
        assert!(all.contains_addr(Ipv4Address::BROADCAST));
        let host: Ipv4Cidr = "10.0.0.1/32".parse().unwrap();
        assert_eq!(host.broadcast(), None);
        assert!(host.contains_addr(Ipv4Address::new(10, 0, 0, 1)));
        assert!(!host.contains_addr(Ipv4Address::new(10, 0, 0, 2)));
        assert_eq!(Ipv4Cidr::new(Ipv4Address::UNSPECIFIED, 33), None);
        for bad in [
            "1.2.3.4",
            "1.2.3.4/33",
            "1.2.3.4/",
            "1.2.3.4/024",
            "1.2.3/8",
            "1.2.3.4/x",
        ] {
            assert!(bad.parse::<Ipv4Cidr>().is_err(), "{bad}");
        }
        let m = Ipv4Cidr::from_netmask(
            Ipv4Address::new(10, 1, 2, 3),
            Ipv4Address::new(255, 255, 240, 0),
        );
        assert_eq!(m.map(|c| c.prefix_len()), Some(20));
        assert_eq!(
            Ipv4Cidr::from_netmask(Ipv4Address::UNSPECIFIED, Ipv4Address::new(255, 0, 255, 0)),
            None
        );
        for len in 0..=32 {
            let c = Ipv4Cidr::new(Ipv4Address::new(10, 20, 30, 40), len).unwrap();
            assert_eq!(Ipv4Cidr::from_netmask(c.address(), c.netmask()), Some(c));
        }
    }
}
