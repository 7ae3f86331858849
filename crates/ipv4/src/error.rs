//! Why bytes are not a valid packet.

use core::fmt;

/// Why bytes are not a valid IPv4 datagram, UDP datagram or ICMPv4 message.
///
/// These are what a misbehaving peer can cause; they are returned by views' `new_checked`
/// (converted from [`unistack_cstruct::Error`]) and by every `Repr::parse`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The buffer is shorter than the header, or than a length the header declares.
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        got: usize,
    },
    /// The IP version field is not 4.
    BadVersion(u8),
    /// The header length field declares less than the fixed header (IPv4 IHL below 5).
    BadHeaderLen {
        /// Declared header length in bytes.
        header_len: usize,
    },
    /// A length field declares less than the header (IPv4 total length below the header
    /// length, UDP length below 8).
    BadLength {
        /// Declared length in bytes.
        len: usize,
        /// The minimum it must have.
        min: usize,
    },
    /// A checksum does not verify.
    BadChecksum,
    /// An IPv4 option is malformed: its length byte is missing, below 2, or runs past the
    /// header. `offset` is the option's offset in the options area.
    BadOption {
        /// Offset of the option within the options.
        offset: usize,
    },
    /// The fragment fields are inconsistent: the fragment would end past 65535 bytes, or a
    /// fragment with More Fragments carries a length that is not a multiple of 8.
    BadFragment,
    /// The bytes are well-formed on the surface but violate the protocol (an ICMP error whose
    /// quoted datagram is not an IPv4 header, a nonzero echo code, …).
    Malformed,
    /// A valid message of a kind this crate does not represent (an ICMP type other than echo,
    /// destination unreachable and time exceeded).
    Unsupported,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Truncated { needed, got } => {
                write!(f, "truncated: need {needed} bytes, have {got}")
            }
            Error::BadVersion(v) => write!(f, "IP version {v}, not 4"),
            Error::BadHeaderLen { header_len } => {
                write!(f, "header length {header_len} is below the minimum")
            }
            Error::BadLength { len, min } => write!(f, "length {len} is below {min}"),
            Error::BadChecksum => f.write_str("bad checksum"),
            Error::BadOption { offset } => write!(f, "malformed IPv4 option at offset {offset}"),
            Error::BadFragment => f.write_str("inconsistent fragment fields"),
            Error::Malformed => f.write_str("malformed message"),
            Error::Unsupported => f.write_str("unsupported message type"),
        }
    }
}

impl core::error::Error for Error {}

impl From<unistack_cstruct::Error> for Error {
    fn from(e: unistack_cstruct::Error) -> Self {
        match e {
            unistack_cstruct::Error::Truncated { needed, got } => Error::Truncated { needed, got },
            unistack_cstruct::Error::BadHeaderLen { header_len, .. } => {
                Error::BadHeaderLen { header_len }
            }
            unistack_cstruct::Error::BadTotalLen {
                total_len,
                header_len,
            } => Error::BadLength {
                len: total_len,
                min: header_len,
            },
            unistack_cstruct::Error::OutOfRange { len, available, .. } => Error::Truncated {
                needed: len,
                got: available,
            },
            _ => Error::Malformed,
        }
    }
}
