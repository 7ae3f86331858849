//! The errors of this crate: what a peer's message did wrong ([`Error`]), what a caller asked
//! the builder for that cannot be done ([`BuildError`]).

use core::fmt;

/// Why a message, name or RDATA was rejected (a misbehaving peer: answer FORMERR), or why a
/// presentation-format name given by a caller is invalid.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The data ends inside a header, name, question or record.
    Truncated,
    /// A section count promises more entries than the message holds: the data ends cleanly
    /// after the last complete entry.
    CountMismatch,
    /// A label length byte has the reserved type 0b01 (RFC 6891's extended labels) or 0b10;
    /// on the wire this is also how a label longer than 63 octets shows.
    BadLabelType,
    /// A compression pointer does not point strictly before the label sequence it occurs in
    /// (forward, to itself, or into a loop).
    BadPointer,
    /// A name follows more compression pointers than a valid name can need.
    TooManyPointers,
    /// A name is longer than 255 octets in wire form (counting what pointers bring in).
    NameTooLong,
    /// A label is longer than 63 octets (presentation format or builder input).
    LabelTooLong,
    /// An empty label inside a presentation-format name (`a..b`), or an empty string.
    EmptyLabel,
    /// A bad `\` escape in presentation format (`\DDD` above 255, or a dangling `\`).
    BadEscape,
    /// A compression pointer in the RDATA of a type whose names must not be compressed
    /// (RFC 3597 section 4; SRV, RRSIG, NSEC ...).
    CompressedName,
    /// An RDLENGTH runs past the end of the message.
    BadRdLength,
    /// RDATA that does not match its type's format: too short, bytes left over, or a field
    /// with a forbidden value (a bad type bitmap, a cookie of the wrong length ...).
    BadRdata,
    /// An OPT record outside the additional section.
    MisplacedOpt,
    /// More than one OPT record.
    DuplicateOpt,
    /// An OPT record whose owner is not the root, or whose options run past its RDATA.
    BadOpt,
    /// A character-string longer than 255 octets (builder input).
    StringTooLong,
    /// Bytes follow the last record the header counts ([`Message::check`](crate::Message::check)).
    TrailingData,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "truncated",
            Error::CountMismatch => "section count larger than the records present",
            Error::BadLabelType => "bad label type",
            Error::BadPointer => "compression pointer not strictly backwards",
            Error::TooManyPointers => "too many compression pointers",
            Error::NameTooLong => "name longer than 255 octets",
            Error::LabelTooLong => "label longer than 63 octets",
            Error::EmptyLabel => "empty label",
            Error::BadEscape => "bad escape",
            Error::CompressedName => "compressed name where compression is forbidden",
            Error::BadRdLength => "RDLENGTH past the end of the message",
            Error::BadRdata => "malformed RDATA",
            Error::MisplacedOpt => "OPT record outside the additional section",
            Error::DuplicateOpt => "more than one OPT record",
            Error::BadOpt => "malformed OPT record",
            Error::StringTooLong => "character-string longer than 255 octets",
            Error::TrailingData => "bytes after the last record",
        })
    }
}

impl core::error::Error for Error {}

impl From<unistack_cstruct::Error> for Error {
    fn from(_: unistack_cstruct::Error) -> Self {
        Error::Truncated
    }
}

/// Why the builder did not write something.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BuildError {
    /// It does not fit the buffer or the configured size limit. Nothing of it was written; the
    /// builder has stopped (see [`MessageBuilder`](crate::MessageBuilder) for when TC is set).
    NoSpace,
    /// A question or record was pushed after a record of a later section.
    SectionOrder,
    /// A section would hold more than 65535 entries.
    TooManyRecords,
    /// An extended RCODE (above 15) needs an OPT record: call `set_edns` first.
    NeedsEdns,
    /// The input is not valid (a bad name, a string over 255 octets, a bad type bitmap).
    Invalid(Error),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::NoSpace => f.write_str("no space left in the message"),
            BuildError::SectionOrder => f.write_str("section written out of order"),
            BuildError::TooManyRecords => f.write_str("more than 65535 entries in a section"),
            BuildError::NeedsEdns => f.write_str("extended RCODE without an OPT record"),
            BuildError::Invalid(e) => write!(f, "invalid input: {e}"),
        }
    }
}

impl core::error::Error for BuildError {}

impl From<Error> for BuildError {
    fn from(e: Error) -> Self {
        BuildError::Invalid(e)
    }
}
