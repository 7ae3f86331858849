//! The TCP header layout (RFC 9293 section 3.1, with RFC 3168's CWR/ECE and RFC 9768's AE),
//! declared once.

use unistack_cstruct::Cstruct;

/// The fixed 20-byte TCP header; options follow up to `data_offset * 4` bytes.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = TcpSegment, header_len = data_offset * 4)]
pub struct TcpHeader {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq_number: u32,
    /// Acknowledgment number (meaningful with ACK).
    pub ack_number: u32,
    /// Header length in 32-bit words (5..=15).
    #[bits(4)]
    pub data_offset: u8,
    /// Reserved bits (must be zero on send, ignored on receive).
    #[bits(3)]
    pub reserved: u8,
    /// Accurate ECN (RFC 9768).
    #[bits(1)]
    pub ae: bool,
    /// Congestion window reduced (RFC 3168).
    #[bits(1)]
    pub cwr: bool,
    /// ECN echo (RFC 3168).
    #[bits(1)]
    pub ece: bool,
    /// Urgent pointer is significant.
    #[bits(1)]
    pub urg: bool,
    /// Acknowledgment number is significant.
    #[bits(1)]
    pub ack: bool,
    /// Push.
    #[bits(1)]
    pub psh: bool,
    /// Reset.
    #[bits(1)]
    pub rst: bool,
    /// Synchronize sequence numbers.
    #[bits(1)]
    pub syn: bool,
    /// No more data from the sender.
    #[bits(1)]
    pub fin: bool,
    /// Receive window (scaled after the handshake when window scaling is on).
    pub window: u16,
    /// Checksum over the pseudo-header, header and payload.
    pub checksum: u16,
    /// Urgent pointer (meaningful with URG).
    pub urgent: u16,
}
