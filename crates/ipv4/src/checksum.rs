//! The Internet checksum (RFC 1071), its incremental update (RFC 1624) and the IPv4
//! pseudo-header sum for TCP and UDP (RFC 768, RFC 9293).
//!
//! Vocabulary, as in smoltcp: [`data`] returns the ones' complement *sum* of a byte string
//! (folded to 16 bits, not complemented); the checksum field holds its complement. A buffer
//! whose checksum field is correct sums to `0xffff` ([`verify`]).
//!
//! # How [`data`] is fast
//! The sum is byte-order independent (RFC 1071 §2(B)): it adds the buffer as little-endian
//! 64-bit words and swaps the two bytes of the folded result once at the end. A 64-bit
//! accumulator would lose carries, so the loop keeps two: `s`, the wrapping sum of the words,
//! and `h`, the sum of their high 32-bit halves. The sum of the low halves is then exactly
//! `s - (h << 32)` (mod 2⁶⁴, and it is below 2⁶⁴), and the sum of all 32-bit halves is that plus
//! `h`. The loop body is one add, one shift and one add per 8 bytes with no carry chain, which
//! LLVM vectorises (two 64-bit lanes with SSE2). The last 1 to 7 bytes are read as the final 8
//! bytes of the buffer shifted down, without a branch on the remainder's length. Folding 64
//! bits to 16 uses the rotate-and-add trick, which adds the end-around carry for free.
//!
//! Odd lengths are handled as RFC 1071 says: the last byte is the high byte of a final word
//! whose low byte is zero.

use crate::address::Ipv4Address;
use crate::wire::Protocol;

/// Buffers longer than this are summed in pieces so the accumulators cannot overflow (the
/// bound is 2³¹ words; this is far below it and a multiple of 8, so pieces keep their parity).
const PIECE: usize = 1 << 30;

/// Fold a 64-bit ones' complement accumulator to 16 bits (little-endian word order).
#[inline(always)]
const fn fold(x: u64) -> u16 {
    // x + rotr(x, 32): the high half is the end-around-carry sum of the two halves.
    let y = (x.wrapping_add(x.rotate_right(32)) >> 32) as u32;
    (y.wrapping_add(y.rotate_right(16)) >> 16) as u16
}

/// The sum of the two 32-bit halves of `x`, as a 64-bit value (never overflows).
#[inline(always)]
const fn halves(x: u64) -> u64 {
    (x & 0xffff_ffff) + (x >> 32)
}

/// Sum a buffer shorter than 8 bytes, as little-endian words.
#[inline(always)]
fn short(mut r: &[u8]) -> u64 {
    let mut acc = 0;
    if let Some((w, t)) = r.split_first_chunk::<4>() {
        acc += u64::from(u32::from_le_bytes(*w));
        r = t;
    }
    if let Some((w, t)) = r.split_first_chunk::<2>() {
        acc += u64::from(u16::from_le_bytes(*w));
        r = t;
    }
    if let Some(&b) = r.first() {
        acc += u64::from(b);
    }
    acc
}

/// Sum up to [`PIECE`] bytes into an unfolded little-endian accumulator.
#[inline(always)]
fn sum_le(data: &[u8]) -> u64 {
    let (words, rest) = data.as_chunks::<8>();
    let mut s: u64 = 0;
    let mut h: u64 = 0;
    for w in words {
        let x = u64::from_le_bytes(*w);
        s = s.wrapping_add(x);
        h = h.wrapping_add(x >> 32);
    }
    // Low halves: s - (h << 32); plus the high halves. Below 2^64 for fewer than 2^31 words.
    let mut acc = s.wrapping_sub(h << 32).wrapping_add(h);
    match data.last_chunk::<8>() {
        // The last `rest.len()` bytes are the top bytes of the last 8 (little-endian); they
        // start on an 8-byte boundary, so their parity is right. A shift of 64 yields 0.
        Some(last) => {
            let shift = 8 * (8 - rest.len() as u32);
            acc += halves(u64::from_le_bytes(*last).checked_shr(shift).unwrap_or(0));
        }
        None => acc += short(rest),
    }
    acc
}

/// Compute the ones' complement sum of `data` (RFC 1071), folded to 16 bits, not complemented.
///
/// Bytes are taken in network order: `[0x12, 0x34]` sums to `0x1234`, and a trailing odd byte
/// is the high byte of a word padded with zero. The result is `0` only for all-zero data.
#[inline]
pub fn data(data: &[u8]) -> u16 {
    #[cfg(all(feature = "std", target_arch = "x86_64", not(target_feature = "avx2")))]
    if data.len() >= avx2::MIN_LEN && avx2::available() {
        return avx2::data(data);
    }
    portable(data)
}

/// [`data`] in portable code: LLVM vectorises it for whatever the build targets (SSE2 on
/// plain x86-64, AVX2 under `-C target-cpu=x86-64-v3`).
#[inline(always)]
fn portable(data: &[u8]) -> u16 {
    if data.len() <= PIECE {
        return fold(sum_le(data)).swap_bytes();
    }
    let mut acc = 0u64;
    for piece in data.chunks(PIECE) {
        acc += u64::from(fold(sum_le(piece)));
    }
    fold(acc).swap_bytes()
}

/// Fold an accumulator of 16-bit words (`u16` values in network order, added as integers, as
/// many as fit in 64 bits) into a ones' complement sum of the kind [`data`] returns: what an
/// emitter uses to sum header fields it holds in registers instead of reading back the bytes
/// it just wrote.
#[inline]
pub const fn fold_words(acc: u64) -> u16 {
    fold(acc)
}

/// The same code as [`portable`], compiled a second time for AVX2 and chosen at run time
/// (`std` on x86-64 builds that do not already target AVX2): 32-byte vectors instead of
/// SSE2's 16 for buffers long enough to gain from them.
///
/// This module is the crate's only `unsafe`: calling a `#[target_feature]` function is
/// unsafe because running AVX2 instructions on a CPU without them is undefined; the one call
/// is guarded by `is_x86_feature_detected!`, which the standard library caches.
#[cfg(all(feature = "std", target_arch = "x86_64", not(target_feature = "avx2")))]
#[allow(unsafe_code)]
mod avx2 {
    /// Below this the SSE2 loop is as fast and the feature check is not worth its load.
    pub(super) const MIN_LEN: usize = 128;

    #[inline]
    pub(super) fn available() -> bool {
        std::is_x86_feature_detected!("avx2")
    }

    #[target_feature(enable = "avx2")]
    fn data_avx2(data: &[u8]) -> u16 {
        super::portable(data)
    }

    /// # Panics
    /// Never; but call it only when [`available`] is true (debug builds assert it).
    #[inline]
    pub(super) fn data(data: &[u8]) -> u16 {
        debug_assert!(available());
        // SAFETY: `data_avx2` only differs from safe code in using AVX2 instructions, and
        // every caller has checked `available()` (the CPU has AVX2) first.
        unsafe { data_avx2(data) }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn avx2_and_portable_agree_at_every_length_and_alignment() {
            if !super::available() {
                return; // nothing to compare on this CPU; the portable path is tested anyway
            }
            let bytes: std::vec::Vec<u8> = (0..5000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect();
            for start in 0..9 {
                for len in (0..3000).step_by(7).chain([4991 - start]) {
                    let d = &bytes[start..start + len];
                    assert_eq!(super::data(d), super::super::portable(d), "{start}+{len}");
                }
            }
            let ones = std::vec![0xffu8; 4096];
            assert_eq!(super::data(&ones), super::super::portable(&ones));
        }
    }
}

/// Combine ones' complement sums (of even-length pieces, or as returned by [`data`]).
#[inline]
pub fn combine(sums: &[u16]) -> u16 {
    let acc: u64 = sums.iter().map(|&s| u64::from(s)).sum();
    fold(acc)
}

/// Add two ones' complement sums.
#[inline]
pub const fn add(a: u16, b: u16) -> u16 {
    fold(a as u64 + b as u64)
}

/// Compute the value for a checksum field over `bytes` (whose checksum field is zero).
#[inline]
pub fn checksum(bytes: &[u8]) -> u16 {
    !data(bytes)
}

/// Check a buffer that includes its checksum field: its sum must be `0xffff`.
#[inline]
pub fn verify(bytes: &[u8]) -> bool {
    data(bytes) == 0xffff
}

/// The ones' complement sum of the IPv4 pseudo-header (RFC 768, RFC 9293 §3.1): source,
/// destination, zero, protocol, and the transport length (header plus data).
#[inline]
pub fn pseudo_header(src: Ipv4Address, dst: Ipv4Address, protocol: Protocol, length: u16) -> u16 {
    let [a, b, c, d] = src.octets();
    let [e, f, g, h] = dst.octets();
    let acc = u64::from(u16::from_be_bytes([a, b]))
        + u64::from(u16::from_be_bytes([c, d]))
        + u64::from(u16::from_be_bytes([e, f]))
        + u64::from(u16::from_be_bytes([g, h]))
        + u64::from(protocol.to_raw())
        + u64::from(length);
    fold(acc)
}

/// Update a checksum field after a 16-bit field changed from `old` to `new` (RFC 1624 eqn. 3:
/// `HC' = ~(~HC + ~m + m')`).
///
/// For UDP, where a zero field means "no checksum", write a result of `0x0000` as `0xffff`.
///
/// The result verifies exactly as a full recomputation would; like any ones' complement
/// arithmetic it may differ from a recomputation only by writing zero as `0xffff` or the
/// reverse (both verify). This equation never turns a valid field into `-0` the way the
/// older RFC 1141 form could.
#[inline]
pub const fn update(checksum: u16, old: u16, new: u16) -> u16 {
    !fold(!checksum as u64 + !old as u64 + new as u64)
}

/// Update a checksum field after a 32-bit field (such as an address) changed from `old` to
/// `new`: [`update`] applied to both halves at once.
#[inline]
pub const fn update_u32(checksum: u16, old: u32, new: u32) -> u16 {
    let acc = !checksum as u64
        + !(old >> 16) as u16 as u64
        + !(old as u16) as u64
        + (new >> 16) as u64
        + (new & 0xffff) as u64;
    !fold(acc)
}

/// An incremental ones' complement sum over pieces of any length, in order.
///
/// A piece of odd length shifts the byte positions of the pieces after it; the accumulator
/// tracks that parity, so `Sum::new().add_bytes(a).add_bytes(b).finish() == data(&[a, b].concat())`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sum {
    acc: u64,
    odd: bool,
}

impl Sum {
    /// An empty sum.
    pub const fn new() -> Self {
        Sum { acc: 0, odd: false }
    }

    /// Add the next piece of the byte string.
    #[inline]
    #[must_use]
    pub fn add_bytes(mut self, bytes: &[u8]) -> Self {
        let s = data(bytes);
        // A piece starting at an odd position contributes its bytes swapped.
        let s = if self.odd { s.swap_bytes() } else { s };
        self.acc += u64::from(s);
        self.odd ^= bytes.len() % 2 == 1;
        self
    }

    /// Add a 16-bit word in network order (at the current position).
    #[inline]
    #[must_use]
    pub fn add_u16(self, word: u16) -> Self {
        self.add_bytes(&word.to_be_bytes())
    }

    /// Add a sum returned by [`data`] or [`pseudo_header`] of an even-length piece.
    #[inline]
    #[must_use]
    pub fn add_sum(mut self, sum: u16) -> Self {
        let s = if self.odd { sum.swap_bytes() } else { sum };
        self.acc += u64::from(s);
        self
    }

    /// Return the folded ones' complement sum.
    #[inline]
    pub const fn finish(self) -> u16 {
        fold(self.acc)
    }
}

/// Whether a checksum is verified on receive and computed on transmit (a NIC may offload
/// either direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Checksum {
    /// Verify on receive and compute on transmit.
    #[default]
    Both,
    /// Verify on receive only (the device computes it on transmit).
    Rx,
    /// Compute on transmit only (the device verified it on receive).
    Tx,
    /// Neither.
    None,
}

impl Checksum {
    /// Whether to verify received checksums.
    ///
    /// Always `false` when built with `cfg(fuzzing)` (as `cargo fuzz` does), so fuzzers reach
    /// the code behind the checksum; production builds never set that cfg.
    #[inline]
    pub const fn rx(self) -> bool {
        !cfg!(fuzzing) && matches!(self, Checksum::Both | Checksum::Rx)
    }

    /// Whether to compute checksums on transmit.
    #[inline]
    pub const fn tx(self) -> bool {
        matches!(self, Checksum::Both | Checksum::Tx)
    }
}

/// Which checksums the software computes and verifies, per protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ChecksumCaps {
    /// The IPv4 header checksum.
    pub ipv4: Checksum,
    /// UDP.
    pub udp: Checksum,
    /// ICMPv4.
    pub icmpv4: Checksum,
    /// TCP (for the `tcp` crate, which shares this type).
    pub tcp: Checksum,
}

impl ChecksumCaps {
    /// Verify and compute everything (the default).
    pub const fn all() -> Self {
        ChecksumCaps {
            ipv4: Checksum::Both,
            udp: Checksum::Both,
            icmpv4: Checksum::Both,
            tcp: Checksum::Both,
        }
    }

    /// Verify and compute nothing (a device that offloads every checksum, or a test).
    pub const fn ignored() -> Self {
        ChecksumCaps {
            ipv4: Checksum::None,
            udp: Checksum::None,
            icmpv4: Checksum::None,
            tcp: Checksum::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1071 §3, as written: add 16-bit big-endian words into a 32-bit accumulator, fold.
    fn reference(bytes: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        let mut i = 0;
        while i + 1 < bytes.len() {
            sum += u32::from(u16::from_be_bytes([bytes[i], bytes[i + 1]]));
            i += 2;
        }
        if i < bytes.len() {
            sum += u32::from(bytes[i]) << 8;
        }
        while sum >> 16 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum as u16
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        assert_eq!(
            data(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0xddf2
        );
        assert_eq!(
            checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            !0xddf2
        );
    }

    #[test]
    fn every_short_length_matches_the_reference() {
        let bytes: [u8; 96] = core::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0xa5);
        for start in 0..8 {
            for end in start..bytes.len() {
                let b = &bytes[start..end];
                assert_eq!(data(b), reference(b), "{start}..{end}");
            }
        }
        assert_eq!(data(&[]), 0);
        assert_eq!(data(&[0xff; 64]), 0xffff);
        assert_eq!(data(&[0xab]), 0xab00);
    }

    #[test]
    fn the_accumulator_survives_all_ones() {
        // Every word 0xffff..: the worst case for carries.
        let b = [0xffu8; 4096 + 7];
        assert_eq!(data(&b), reference(&b));
    }

    #[test]
    fn pieces_of_any_parity_combine() {
        let bytes: [u8; 61] = core::array::from_fn(|i| (i as u8).wrapping_mul(91).wrapping_add(3));
        for cut1 in 0..bytes.len() {
            for cut2 in cut1..bytes.len() {
                let s = Sum::new()
                    .add_bytes(&bytes[..cut1])
                    .add_bytes(&bytes[cut1..cut2])
                    .add_bytes(&bytes[cut2..])
                    .finish();
                // Equal as ones' complement numbers (0 and 0xffff both mean zero).
                let r = reference(&bytes);
                assert!(s == r || (s == 0xffff && r == 0) || (s == 0 && r == 0xffff));
            }
        }
    }

    #[test]
    fn pseudo_header_matches_the_bytes() {
        let src = Ipv4Address::new(192, 0, 2, 1);
        let dst = Ipv4Address::new(198, 51, 100, 7);
        let bytes = [192, 0, 2, 1, 198, 51, 100, 7, 0, 17, 0x01, 0x23];
        assert_eq!(
            pseudo_header(src, dst, Protocol::Udp, 0x0123),
            reference(&bytes)
        );
    }

    #[test]
    fn incremental_update_matches_recomputation() {
        // A real header (RFC 1624 style): change the TTL/protocol word and an address.
        let mut h: [u8; 20] = [
            0x45, 0x00, 0x00, 0x54, 0xa6, 0xf2, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00, 192, 0, 2, 1,
            192, 0, 2, 2,
        ];
        let c = checksum(&h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        let old = u16::from_be_bytes([h[8], h[9]]);
        h[8] -= 1; // decrement TTL
        let new = u16::from_be_bytes([h[8], h[9]]);
        let inc = update(c, old, new);
        h[10..12].copy_from_slice(&[0, 0]);
        assert_eq!(inc, checksum(&h));
        h[10..12].copy_from_slice(&inc.to_be_bytes());
        assert!(verify(&h));

        let old = u32::from_be_bytes([h[12], h[13], h[14], h[15]]);
        let new = u32::from_be_bytes([10, 9, 8, 7]);
        let inc = update_u32(inc, old, new);
        h[12..16].copy_from_slice(&new.to_be_bytes());
        h[10..12].copy_from_slice(&[0, 0]);
        assert_eq!(inc, checksum(&h));
    }
}
