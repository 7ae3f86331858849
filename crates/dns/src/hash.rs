//! Hashing and comparing wire-form names as if lower-cased, eight bytes at a time: the
//! builder's compression table, the server's lookups and the zone checks use them.
// Without `alloc` only the builder's part is used.
#![cfg_attr(not(feature = "alloc"), allow(dead_code))]

/// ASCII lower-casing of eight bytes at once (SWAR): `A`..=`Z` gain 0x20, nothing else
/// changes. Length octets of wire names are at most 63, below `A`.
#[inline(always)]
pub(crate) fn lower_word(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Seven low bits of each byte: adding to them never carries into the next byte.
    let low7 = w & (0x7f * ONES);
    let at_least_a = low7 + (0x80 - u64::from(b'A')) * ONES;
    let above_z = low7 + (0x80 - u64::from(b'Z') - 1) * ONES;
    let upper = at_least_a & !above_z & !w & (0x80 * ONES);
    w | (upper >> 2)
}

#[inline(always)]
pub(crate) fn word(bytes: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    if let Some(src) = bytes.get(at..at + 8) {
        w.copy_from_slice(src);
    }
    u64::from_le_bytes(w)
}

/// Hashing of wire names as lower-cased: 16 bytes per folded multiply (the 128-bit
/// product's halves xored, as foldhash and wyhash do), the last 16 bytes read overlapping,
/// the length mixed in. `LOWER` lower-cases as it reads (for query names; the zones' keys
/// are stored lower-cased). Keys come from the zones (trusted); query names only look up, so
/// a fixed, fast hash is enough.
#[inline(always)]
fn hash_words<const LOWER: bool>(bytes: &[u8]) -> u64 {
    const K0: u64 = 0x243f_6a88_85a3_08d3;
    const K1: u64 = 0x1319_8a2e_0370_7344;
    const K2: u64 = 0xa409_3822_299f_31d0;
    #[inline(always)]
    fn fold(a: u64, b: u64) -> u64 {
        let p = u128::from(a) * u128::from(b);
        (p as u64) ^ ((p >> 64) as u64)
    }
    let w = |at: usize| {
        let v = word(bytes, at);
        if LOWER { lower_word(v) } else { v }
    };
    let len = bytes.len();
    let seed = K2 ^ len as u64;
    if len <= 16 {
        let (a, b) = if len >= 8 {
            (w(0), w(len - 8))
        } else if len >= 4 {
            let half = |at: usize| {
                let mut h = [0u8; 4];
                if let Some(src) = bytes.get(at..at + 4) {
                    h.copy_from_slice(src);
                }
                let v = u64::from(u32::from_le_bytes(h));
                if LOWER { lower_word(v) } else { v }
            };
            (half(0), half(len - 4))
        } else {
            // 1 to 3 bytes: first, middle and last.
            let at = |i: usize| {
                let b = bytes.get(i).copied().unwrap_or(0);
                u64::from(if LOWER { b.to_ascii_lowercase() } else { b })
            };
            (
                at(0) | at(len / 2) << 8 | at(len.saturating_sub(1)) << 16,
                0,
            )
        };
        return fold(a ^ K0, b ^ K1 ^ seed);
    }
    let mut h = seed;
    let mut at = 0;
    while at + 16 < len {
        h = fold(w(at) ^ K0, w(at + 8) ^ h);
        at += 16;
    }
    fold(w(len - 16) ^ K1, w(len - 8) ^ h)
}

/// The hash of a lower-cased wire name (or any bytes).
#[inline]
pub(crate) fn hash_name(bytes: &[u8]) -> u64 {
    hash_words::<false>(bytes)
}

/// The hash of a wire name as if lower-cased: `hash_name` of its lower-cased form.
#[inline]
pub(crate) fn hash_name_lower(bytes: &[u8]) -> u64 {
    hash_words::<true>(bytes)
}

/// Whether `name`, lower-cased, is `key` (already lower-case).
#[inline]
pub(crate) fn eq_lower(key: &[u8], name: &[u8]) -> bool {
    let n = key.len();
    if n != name.len() {
        return false;
    }
    if n < 8 {
        return key
            .iter()
            .zip(name)
            .all(|(k, c)| *k == c.to_ascii_lowercase());
    }
    let mut at = 0;
    while at + 8 < n {
        if word(key, at) != lower_word(word(name, at)) {
            return false;
        }
        at += 8;
    }
    word(key, n - 8) == lower_word(word(name, n - 8))
}

/// Whether two wire names are equal ignoring ASCII case (both may be mixed-case).
#[inline]
pub(crate) fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return a.eq_ignore_ascii_case(b);
    }
    let mut at = 0;
    while at + 8 < n {
        if lower_word(word(a, at)) != lower_word(word(b, at)) {
            return false;
        }
        at += 8;
    }
    lower_word(word(a, n - 8)) == lower_word(word(b, n - 8))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn lower_word_is_ascii_lowercase_bytewise() {
        // Every byte value in every position, with neighbours that could carry or borrow.
        for b in 0..=255u8 {
            for pos in 0..8 {
                for fill in [0u8, 0x40, 0x5a, 0x7f, 0x80, 0xc1, 0xff] {
                    let mut bytes = [fill; 8];
                    bytes[pos] = b;
                    let want = bytes.map(|c| c.to_ascii_lowercase());
                    assert_eq!(
                        lower_word(u64::from_le_bytes(bytes)).to_le_bytes(),
                        want,
                        "{bytes:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn lowering_hash_and_equality_agree_with_lowercasing_first() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for len in 1..=255usize {
            for _ in 0..20 {
                let name: Vec<u8> = (0..len)
                    .map(|_| {
                        let r = next();
                        // Mostly letters of both cases, some other bytes.
                        match r % 4 {
                            0 => b'A' + (r >> 8) as u8 % 26,
                            1 => b'a' + (r >> 8) as u8 % 26,
                            _ => (r >> 16) as u8,
                        }
                    })
                    .collect();
                let low = name.to_ascii_lowercase();
                assert_eq!(hash_name_lower(&name), hash_name(&low), "{len}");
                assert!(eq_lower(&low, &name));
                assert!(!eq_lower(&low, &name[..len - 1]));
                let mut other = low.clone();
                let i = (next() % len as u64) as usize;
                other[i] ^= 0x01;
                assert_eq!(eq_lower(&other, &name), other == low);
                let mut upper = name.to_ascii_uppercase();
                assert!(eq_ignore_case(&upper, &name));
                upper[i] ^= 0x01;
                assert_eq!(
                    eq_ignore_case(&upper, &name),
                    upper.eq_ignore_ascii_case(&name)
                );
            }
        }
    }
}
