//! Initial sequence numbers (RFC 6528) and SYN cookies, from a caller-supplied secret.
//!
//! `ISN = M + F(local, remote, key)`: `M` is a 4-microsecond clock and `F` SipHash-2-4 keyed
//! with the caller's 128-bit secret, so sequence numbers of different connections are
//! unrelated and an off-path attacker cannot predict them.

use core::time::Duration;

use unistack_ipv4::Ipv4Address;

use crate::SeqNumber;

/// A connection's address pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FourTuple {
    /// Our address.
    pub local_addr: Ipv4Address,
    /// Our port.
    pub local_port: u16,
    /// The peer's address.
    pub remote_addr: Ipv4Address,
    /// The peer's port.
    pub remote_port: u16,
}

impl FourTuple {
    fn words(&self) -> [u64; 2] {
        [
            (u64::from(self.local_addr.to_bits()) << 32) | u64::from(self.remote_addr.to_bits()),
            (u64::from(self.local_port) << 16) | u64::from(self.remote_port),
        ]
    }
}

/// SipHash-2-4 of `words` (each taken as 8 little-endian bytes) under `key`: the keyed hash
/// behind ISNs and cookies, public for other keyed tables (the stack's demultiplexer).
pub fn siphash(key: &[u8; 16], words: &[u64]) -> u64 {
    let mut k0b = [0u8; 8];
    let mut k1b = [0u8; 8];
    k0b.copy_from_slice(&key[..8]);
    k1b.copy_from_slice(&key[8..]);
    let (k0, k1) = (u64::from_le_bytes(k0b), u64::from_le_bytes(k1b));
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }
    for &m in words {
        v[3] ^= m;
        round(&mut v);
        round(&mut v);
        v[0] ^= m;
    }
    let b = ((words.len() as u64 * 8) & 0xff) << 56;
    v[3] ^= b;
    round(&mut v);
    round(&mut v);
    v[0] ^= b;
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// The secret behind initial sequence numbers, timestamp offsets and SYN cookies. Supply 16
/// random bytes at start-up; rotate by making a new one (cookies issued under the old key then
/// fail, which only costs those clients a retry).
#[derive(Clone)]
pub struct IsnKey([u8; 16]);

impl core::fmt::Debug for IsnKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("IsnKey(..)")
    }
}

/// The MSS values a cookie can carry (RFC 4987 3.6: a few common values, 2 bits).
pub const COOKIE_MSS: [u16; 4] = [536, 1300, 1440, 1460];

/// How long a cookie stays valid: two periods of 64 s.
const COOKIE_PERIOD_SECS: u64 = 64;

/// What a SYN cookie remembers about the SYN (all else comes from the final ACK).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieData {
    /// The MSS, rounded down to one of [`COOKIE_MSS`].
    pub mss: u16,
}

impl IsnKey {
    /// A key from 16 secret random bytes.
    pub const fn new(secret: [u8; 16]) -> Self {
        IsnKey(secret)
    }

    /// RFC 6528's ISN for `tuple` at time `now`.
    pub fn isn(&self, tuple: &FourTuple, now: Duration) -> SeqNumber {
        let m = (now.as_micros() / 4) as u32;
        let f = siphash(&self.0, &tuple.words()) as u32;
        SeqNumber(m.wrapping_add(f))
    }

    /// A per-connection offset for the timestamp clock (RFC 7323 5.4), so TSval does not
    /// reveal uptime or link connections.
    pub fn ts_offset(&self, tuple: &FourTuple) -> u32 {
        let [a, b] = tuple.words();
        siphash(&self.0, &[a, b, 0x7473]) as u32
    }

    fn cookie_hash(&self, tuple: &FourTuple, period: u64, irs: SeqNumber) -> u32 {
        let [a, b] = tuple.words();
        siphash(&self.0, &[a, b, period, u64::from(irs.0), 0x636f]) as u32
    }

    /// The SYN-ACK's sequence number when answering a SYN statelessly: 5 bits of time, 2 of
    /// MSS index, 25 of keyed hash over the 4-tuple, the time and the SYN's sequence number.
    pub fn cookie(&self, tuple: &FourTuple, irs: SeqNumber, mss: u16, now: Duration) -> SeqNumber {
        let period = now.as_secs() / COOKIE_PERIOD_SECS;
        let idx = COOKIE_MSS.iter().rposition(|&m| m <= mss).unwrap_or(0) as u32;
        let hash = self.cookie_hash(tuple, period, irs) & 0x01ff_ffff;
        SeqNumber((((period & 0x1f) as u32) << 27) | (idx << 25) | hash)
    }

    /// Check the cookie a final ACK returns (`ack - 1`) for a SYN with sequence number
    /// `irs = seq - 1`; issued in this period or the one before.
    pub fn check_cookie(
        &self,
        tuple: &FourTuple,
        irs: SeqNumber,
        cookie: SeqNumber,
        now: Duration,
    ) -> Option<CookieData> {
        let now_period = now.as_secs() / COOKIE_PERIOD_SECS;
        let tbits = u64::from(cookie.0 >> 27);
        let period = (0..2u64)
            .filter_map(|back| now_period.checked_sub(back))
            .find(|p| p & 0x1f == tbits)?;
        let idx = ((cookie.0 >> 25) & 3) as usize;
        let hash = self.cookie_hash(tuple, period, irs) & 0x01ff_ffff;
        (hash == cookie.0 & 0x01ff_ffff).then(|| CookieData {
            mss: COOKIE_MSS[idx],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tuple() -> FourTuple {
        FourTuple {
            local_addr: Ipv4Address::new(192, 0, 2, 1),
            local_port: 80,
            remote_addr: Ipv4Address::new(192, 0, 2, 2),
            remote_port: 40000,
        }
    }

    #[test]
    fn siphash_reference_vector() {
        // The SipHash paper's key 00..0f and the 8-byte message 00..07.
        let key: [u8; 16] = core::array::from_fn(|i| i as u8);
        let m = u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(siphash(&key, &[m]), 0x93f5_f579_9a93_2462);
    }

    #[test]
    fn isn_depends_on_tuple_and_clock() {
        let k = IsnKey::new([7; 16]);
        let t = tuple();
        let mut u = t;
        u.remote_port += 1;
        let now = Duration::from_secs(10);
        assert_ne!(k.isn(&t, now), k.isn(&u, now));
        assert_eq!(
            k.isn(&t, now + Duration::from_micros(40)) - k.isn(&t, now),
            10
        );
        assert_ne!(IsnKey::new([8; 16]).isn(&t, now), k.isn(&t, now));
    }

    #[test]
    fn cookies_round_trip_expire_and_bind_to_the_tuple() {
        let k = IsnKey::new([1; 16]);
        let t = tuple();
        let irs = SeqNumber(123_456);
        let now = Duration::from_secs(1000);
        let c = k.cookie(&t, irs, 1460, now);
        assert_eq!(
            k.check_cookie(&t, irs, c, now),
            Some(CookieData { mss: 1460 })
        );
        assert_eq!(
            k.check_cookie(&t, irs, c, now + Duration::from_secs(64))
                .map(|d| d.mss),
            Some(1460)
        );
        assert_eq!(
            k.check_cookie(&t, irs, c, now + Duration::from_secs(200)),
            None
        );
        assert_eq!(k.check_cookie(&t, irs + 1, c, now), None);
        let mut u = t;
        u.remote_addr = Ipv4Address::new(192, 0, 2, 3);
        assert_eq!(k.check_cookie(&u, irs, c, now), None);
        assert_eq!(k.check_cookie(&t, irs, c + 1, now), None);
        let small = k.cookie(&t, irs, 1000, now);
        assert_eq!(
            k.check_cookie(&t, irs, small, now).map(|d| d.mss),
            Some(536)
        );
    }
}
