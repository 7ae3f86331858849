//! `hexdump -C`-style rendering of a byte buffer.

use core::fmt;

/// Display wrapper that renders bytes in the style of `hexdump -C`: offset, 16 hex bytes, an
/// ASCII column (no `*` line squeezing and no closing offset line).
///
/// ```
/// let text = unistack_cstruct::Hexdump::new(b"unistack\x00\x01").to_string();
/// assert_eq!(
///     text,
///     "00000000  75 6e 69 73 74 61 63 6b  00 01                    |unistack..|\n"
/// );
/// ```
#[derive(Clone, Copy)]
pub struct Hexdump<'a> {
    bytes: &'a [u8],
}

impl<'a> Hexdump<'a> {
    /// Wrap `bytes` for display.
    pub const fn new(bytes: &'a [u8]) -> Self {
        Hexdump { bytes }
    }
}

impl fmt::Display for Hexdump<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (line, chunk) in self.bytes.chunks(16).enumerate() {
            write!(f, "{:08x} ", line * 16)?;
            for i in 0..16 {
                if i == 8 {
                    f.write_str(" ")?;
                }
                match chunk.get(i) {
                    Some(b) => write!(f, " {b:02x}")?,
                    None => f.write_str("   ")?,
                }
            }
            f.write_str("  |")?;
            for &b in chunk {
                let c = if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                };
                write!(f, "{c}")?;
            }
            f.write_str("|\n")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hexdump<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
