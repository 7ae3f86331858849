//! Checked byte access: the only code that touches buffer bytes for generated views.
//!
//! Every function here takes the whole buffer and an offset and checks the range itself, so
//! the derive never emits indexing. Views built with `new_checked` only call them with
//! ranges inside the buffer; the panic branch exists for `new_unchecked` misuse (and for an
//! `AsRef` implementation that returns a shorter slice on a later call) and is `#[cold]`.
//!
//! `N` is the width in bytes, 1 to 8 for the integer functions (checked at compile time).

use crate::{Endian, Error};

// Length checks used by generated `check_len`. They stay inline so that the optimizer carries
// `len >= size` into the accessors and drops their bounds checks (the bench shows it does).

/// `value * scale` as a byte count, saturating at `usize::MAX` instead of overflowing or
/// truncating (so an absurd length field fails the length check).
#[inline(always)]
pub fn scaled_len(value: u64, scale: usize) -> usize {
    usize::try_from(value)
        .unwrap_or(usize::MAX)
        .saturating_mul(scale)
}

/// Where a header of `header_len` bytes ends, or `usize::MAX` (every range starting or ending
/// there is empty) if it declares less than the `size`-byte fixed layout.
#[inline(always)]
pub fn header_end(size: usize, header_len: usize) -> usize {
    if header_len < size {
        usize::MAX
    } else {
        header_len
    }
}

/// Check that a `len`-byte buffer holds `needed` bytes.
///
/// # Errors
/// [`Error::Truncated`] if it does not.
#[inline(always)]
pub fn check_fits(len: usize, needed: usize) -> Result<(), Error> {
    if needed > len {
        return Err(Error::Truncated { needed, got: len });
    }
    Ok(())
}

/// Check that a declared header length covers the fixed layout.
///
/// # Errors
/// [`Error::BadHeaderLen`] if it is shorter than `min`.
#[inline(always)]
pub fn check_header_len(header_len: usize, min: usize) -> Result<(), Error> {
    if header_len < min {
        return Err(Error::BadHeaderLen { header_len, min });
    }
    Ok(())
}

/// Check that a declared packet length covers the header.
///
/// # Errors
/// [`Error::BadTotalLen`] if it is shorter than `header_len`.
#[inline(always)]
pub fn check_total_len(total_len: usize, header_len: usize) -> Result<(), Error> {
    if total_len < header_len {
        return Err(Error::BadTotalLen {
            total_len,
            header_len,
        });
    }
    Ok(())
}

#[cold]
#[inline(never)]
#[track_caller]
fn out_of_bounds(at: usize, len: usize, buffer: usize) -> ! {
    panic!(
        "unistack-cstruct: access to {len} byte(s) at offset {at} of a {buffer}-byte buffer \
         (the view was built with new_unchecked over a short buffer)"
    )
}

/// Borrow `N` bytes at `at` as an array.
///
/// # Panics
/// If `at + N` exceeds the buffer (see the module docs).
#[inline(always)]
#[track_caller]
pub fn array<const N: usize>(b: &[u8], at: usize) -> &[u8; N] {
    match b.get(at..).and_then(<[u8]>::first_chunk::<N>) {
        Some(a) => a,
        None => out_of_bounds(at, N, b.len()),
    }
}

/// Borrow `N` bytes at `at` as a mutable array.
///
/// # Panics
/// If `at + N` exceeds the buffer.
#[inline(always)]
#[track_caller]
pub fn array_mut<const N: usize>(b: &mut [u8], at: usize) -> &mut [u8; N] {
    let len = b.len();
    match b.get_mut(at..).and_then(<[u8]>::first_chunk_mut::<N>) {
        Some(a) => a,
        None => out_of_bounds(at, N, len),
    }
}

/// Borrow `len` bytes at `at`.
///
/// # Panics
/// If the range exceeds the buffer.
#[inline(always)]
#[track_caller]
pub fn slice(b: &[u8], at: usize, len: usize) -> &[u8] {
    match at.checked_add(len).and_then(|end| b.get(at..end)) {
        Some(s) => s,
        None => out_of_bounds(at, len, b.len()),
    }
}

/// Borrow `len` bytes at `at` mutably.
///
/// # Panics
/// If the range exceeds the buffer.
#[inline(always)]
#[track_caller]
pub fn slice_mut(b: &mut [u8], at: usize, len: usize) -> &mut [u8] {
    let blen = b.len();
    match at.checked_add(len).and_then(|end| b.get_mut(at..end)) {
        Some(s) => s,
        None => out_of_bounds(at, len, blen),
    }
}

/// Borrow `start..end`, or an empty slice if that is not a range inside the buffer.
///
/// Views use this for header, options and payload: after `check_len` the range is always
/// inside and the optimizer drops the test; a field changed since then yields an empty slice.
#[inline(always)]
pub fn range(b: &[u8], start: usize, end: usize) -> &[u8] {
    b.get(start..end).unwrap_or_default()
}

/// Borrow `start..`, or an empty slice if `start` is past the end.
#[inline(always)]
pub fn tail(b: &[u8], start: usize) -> &[u8] {
    b.get(start..).unwrap_or_default()
}

/// Borrow `start..end` mutably, or an empty slice if that is not a range inside the buffer.
#[inline(always)]
pub fn range_mut(b: &mut [u8], start: usize, end: usize) -> &mut [u8] {
    b.get_mut(start..end).unwrap_or_default()
}

/// Read an `N`-byte big-endian unsigned integer at `at`.
///
/// # Panics
/// If `at + N` exceeds the buffer.
#[inline(always)]
#[track_caller]
pub fn get_be<const N: usize>(b: &[u8], at: usize) -> u64 {
    const { assert!(N >= 1 && N <= 8, "integer width is 1 to 8 bytes") };
    let a = array::<N>(b, at);
    let mut x = [0u8; 8];
    if let Some(dst) = x.last_chunk_mut::<N>() {
        *dst = *a;
    }
    u64::from_be_bytes(x)
}

/// Read an `N`-byte little-endian unsigned integer at `at`.
///
/// # Panics
/// If `at + N` exceeds the buffer.
#[inline(always)]
#[track_caller]
pub fn get_le<const N: usize>(b: &[u8], at: usize) -> u64 {
    const { assert!(N >= 1 && N <= 8, "integer width is 1 to 8 bytes") };
    let a = array::<N>(b, at);
    let mut x = [0u8; 8];
    if let Some(dst) = x.first_chunk_mut::<N>() {
        *dst = *a;
    }
    u64::from_le_bytes(x)
}

/// Write the low `N` bytes of `v` big-endian at `at`.
///
/// # Panics
/// If `at + N` exceeds the buffer.
#[inline(always)]
#[track_caller]
pub fn set_be<const N: usize>(b: &mut [u8], at: usize, v: u64) {
    const { assert!(N >= 1 && N <= 8, "integer width is 1 to 8 bytes") };
    let x = v.to_be_bytes();
    if let Some(src) = x.last_chunk::<N>() {
        *array_mut::<N>(b, at) = *src;
    }
}

/// Write the low `N` bytes of `v` little-endian at `at`.
///
/// # Panics
/// If `at + N` exceeds the buffer.
#[inline(always)]
#[track_caller]
pub fn set_le<const N: usize>(b: &mut [u8], at: usize, v: u64) {
    const { assert!(N >= 1 && N <= 8, "integer width is 1 to 8 bytes") };
    let x = v.to_le_bytes();
    if let Some(src) = x.first_chunk::<N>() {
        *array_mut::<N>(b, at) = *src;
    }
}

/// Read an `N`-byte unsigned integer in the given byte order.
///
/// # Panics
/// If `at + N` exceeds the buffer.
#[inline(always)]
#[track_caller]
pub fn get<const N: usize>(b: &[u8], at: usize, endian: Endian) -> u64 {
    match endian {
        Endian::Big => get_be::<N>(b, at),
        Endian::Little => get_le::<N>(b, at),
    }
}

/// Write the low `N` bytes of `v` in the given byte order.
///
/// # Panics
/// If `at + N` exceeds the buffer.
#[inline(always)]
#[track_caller]
pub fn set<const N: usize>(b: &mut [u8], at: usize, endian: Endian, v: u64) {
    match endian {
        Endian::Big => set_be::<N>(b, at, v),
        Endian::Little => set_le::<N>(b, at, v),
    }
}

/// Replace the bits `mask << shift` of the `N`-byte big-endian group at `at` with `v & mask`.
///
/// # Panics
/// If `at + N` exceeds the buffer.
#[inline(always)]
#[track_caller]
pub fn set_bits_be<const N: usize>(b: &mut [u8], at: usize, shift: u32, mask: u64, v: u64) {
    let g = get_be::<N>(b, at);
    let g = (g & !(mask << shift)) | ((v & mask) << shift);
    set_be::<N>(b, at, g);
}

/// Replace the bits `mask << shift` of the `N`-byte little-endian group at `at` with `v & mask`.
///
/// # Panics
/// If `at + N` exceeds the buffer.
#[inline(always)]
#[track_caller]
pub fn set_bits_le<const N: usize>(b: &mut [u8], at: usize, shift: u32, mask: u64, v: u64) {
    let g = get_le::<N>(b, at);
    let g = (g & !(mask << shift)) | ((v & mask) << shift);
    set_le::<N>(b, at, g);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip_in_both_orders() {
        let mut b = [0u8; 10];
        set_be::<3>(&mut b, 1, 0x00ab_cdef);
        assert_eq!(&b[..5], &[0, 0xab, 0xcd, 0xef, 0]);
        assert_eq!(get_be::<3>(&b, 1), 0xab_cdef);
        set_le::<3>(&mut b, 1, 0x0012_3456);
        assert_eq!(&b[..5], &[0, 0x56, 0x34, 0x12, 0]);
        assert_eq!(get_le::<3>(&b, 1), 0x12_3456);
        set::<8>(&mut b, 2, Endian::Big, u64::MAX - 1);
        assert_eq!(get::<8>(&b, 2, Endian::Big), u64::MAX - 1);
        assert_eq!(b[9], 0xfe);
    }

    #[test]
    fn set_bits_leaves_other_bits() {
        let mut b = [0xffu8; 2];
        set_bits_be::<2>(&mut b, 0, 4, 0xff, 0);
        assert_eq!(b, [0xf0, 0x0f]);
        let mut b = [0x00u8; 2];
        set_bits_le::<2>(&mut b, 0, 4, 0xff, 0x1ff);
        assert_eq!(b, [0xf0, 0x0f]);
    }

    #[test]
    fn range_is_empty_unless_inside() {
        let b = [1u8, 2, 3];
        assert_eq!(range(&b, 1, 3), &[2, 3]);
        assert_eq!(range(&b, 1, 4), &[] as &[u8]);
        assert_eq!(range(&b, 2, 1), &[] as &[u8]);
        let mut m = [1u8, 2, 3];
        assert_eq!(range_mut(&mut m, 0, 3), &[1, 2, 3]);
        assert_eq!(range_mut(&mut m, 0, usize::MAX), &[] as &[u8]);
    }

    #[test]
    #[should_panic(expected = "access to 2 byte(s) at offset 2 of a 3-byte buffer")]
    fn short_unchecked_access_panics_with_a_message() {
        let b = [0u8; 3];
        let _ = get_be::<2>(&b, 2);
    }

    #[test]
    #[should_panic(expected = "offset 18446744073709551615")]
    fn slice_offset_overflow_is_caught() {
        let b = [0u8; 3];
        let _ = slice(&b, usize::MAX, 2);
    }
}
