//! A validated TCP segment: parse with checksum verification, emit in place.

use core::fmt;

use unistack_ipv4::checksum::{self, Checksum};
use unistack_ipv4::{Ipv4Address, Protocol};

use crate::options::{OptionsRepr, TcpOption, parse_options};
use crate::wire::{TcpHeader, TcpSegment};
use crate::{Error, SeqNumber};

/// The one control flag a segment may carry besides ACK and PSH.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Control {
    /// None of SYN, FIN, RST.
    #[default]
    None,
    /// Synchronize (occupies one sequence number).
    Syn,
    /// Finish (occupies one sequence number).
    Fin,
    /// Reset.
    Rst,
}

/// A parsed TCP segment. The payload borrows from the packet.
///
/// Options are kept as typed fields: unknown options are skipped on parse (and so not
/// re-emitted), and of repeated options the last one counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpRepr<'a> {
    /// Source port (never 0).
    pub src_port: u16,
    /// Destination port (never 0).
    pub dst_port: u16,
    /// SYN, FIN, RST or none.
    pub control: Control,
    /// Push.
    pub push: bool,
    /// ECN echo (RFC 3168).
    pub ece: bool,
    /// Congestion window reduced (RFC 3168).
    pub cwr: bool,
    /// Accurate ECN flag (RFC 9768), carried as is.
    pub ae: bool,
    /// Sequence number.
    pub seq_number: SeqNumber,
    /// Acknowledgment number, when ACK is set.
    pub ack_number: Option<SeqNumber>,
    /// Receive window as sent (unscaled).
    pub window_len: u16,
    /// Urgent pointer, when URG is set.
    pub urgent: Option<u16>,
    /// Options.
    pub options: OptionsRepr,
    /// Payload.
    pub payload: &'a [u8],
}

impl<'a> TcpRepr<'a> {
    /// Validate a checked segment view that holds the whole segment (the IPv4 payload) sent
    /// from `src` to `dst`.
    ///
    /// Under `cfg(fuzzing)` the checksum is not verified ([`Checksum::rx`]), so fuzzers reach
    /// the rest.
    ///
    /// # Errors
    /// [`Error::BadChecksum`]; [`Error::Malformed`] for port 0, more than one of SYN/FIN/RST,
    /// or a malformed option; [`Error::Truncated`] if the segment is longer than 65535 bytes.
    #[inline]
    pub fn parse(
        seg: &TcpSegment<&'a [u8]>,
        src: Ipv4Address,
        dst: Ipv4Address,
        verify: Checksum,
    ) -> Result<Self, Error> {
        let bytes = seg.as_bytes();
        let len = u16::try_from(bytes.len()).map_err(|_| Error::Truncated)?;
        if verify.rx() {
            let pseudo = checksum::pseudo_header(src, dst, Protocol::Tcp, len);
            if checksum::add(pseudo, checksum::data(bytes)) != 0xffff {
                return Err(Error::BadChecksum);
            }
        }
        if seg.src_port() == 0 || seg.dst_port() == 0 {
            return Err(Error::Malformed);
        }
        let control = match (seg.syn(), seg.fin(), seg.rst()) {
            (false, false, false) => Control::None,
            (true, false, false) => Control::Syn,
            (false, true, false) => Control::Fin,
            (false, false, true) => Control::Rst,
            _ => return Err(Error::Malformed),
        };
        let mut options = OptionsRepr::default();
        for option in parse_options(seg.options()) {
            match option? {
                TcpOption::MaxSegmentSize(m) => options.max_seg_size = Some(m),
                TcpOption::WindowScale(w) => options.window_scale = Some(w),
                TcpOption::SackPermitted => options.sack_permitted = true,
                TcpOption::Sack(b) => options.sack_blocks = b.to_blocks(),
                TcpOption::Timestamp { tsval, tsecr } => options.timestamp = Some((tsval, tsecr)),
                TcpOption::EndOfList | TcpOption::NoOperation | TcpOption::Unknown { .. } => {}
            }
        }
        Ok(TcpRepr {
            src_port: seg.src_port(),
            dst_port: seg.dst_port(),
            control,
            push: seg.psh(),
            ece: seg.ece(),
            cwr: seg.cwr(),
            ae: seg.ae(),
            seq_number: SeqNumber(seg.seq_number()),
            ack_number: seg.ack().then_some(SeqNumber(seg.ack_number())),
            window_len: seg.window(),
            urgent: seg.urg().then_some(seg.urgent()),
            options,
            payload: seg.into_payload(),
        })
    }

    /// Parse a whole segment from bytes (the IPv4 payload).
    ///
    /// # Errors
    /// [`Error::Truncated`] / [`Error::Malformed`] from the view, else as [`parse`](Self::parse).
    #[inline]
    pub fn parse_bytes(
        bytes: &'a [u8],
        src: Ipv4Address,
        dst: Ipv4Address,
        verify: Checksum,
    ) -> Result<Self, Error> {
        TcpRepr::parse(&TcpSegment::new_checked(bytes)?, src, dst, verify)
    }

    /// The header length with options.
    #[inline]
    pub fn header_len(&self) -> usize {
        TcpHeader::SIZE + self.options.len()
    }

    /// The segment length: header and payload.
    #[inline]
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// The sequence space the segment occupies: payload plus one for SYN or FIN.
    #[inline]
    pub fn segment_len(&self) -> usize {
        self.payload.len() + usize::from(matches!(self.control, Control::Syn | Control::Fin))
    }

    /// Write the segment, copying the payload, and return its length.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `buf` is shorter than [`buffer_len`](Self::buffer_len).
    #[inline]
    pub fn emit(
        &self,
        buf: &mut [u8],
        src: Ipv4Address,
        dst: Ipv4Address,
        fill: Checksum,
    ) -> Result<usize, Error> {
        let hl = self.header_len();
        let end = hl + self.payload.len();
        if end > usize::from(u16::MAX) {
            return Err(Error::BufferTooSmall);
        }
        buf.get_mut(hl..end)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(self.payload);
        self.emit_header(buf, self.payload.len(), src, dst, fill)
    }

    /// Write the header in front of `payload_len` bytes that are already in place at
    /// `buf[header_len()..]` (`self.payload` is ignored), checksum the whole segment, and
    /// return its length. This is the zero-copy transmit path.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `buf` is shorter than the header plus `payload_len`, or
    /// the segment would exceed 65535 bytes.
    #[inline(always)]
    pub fn emit_header(
        &self,
        buf: &mut [u8],
        payload_len: usize,
        src: Ipv4Address,
        dst: Ipv4Address,
        fill: Checksum,
    ) -> Result<usize, Error> {
        let hl = self.header_len();
        let total = hl + payload_len;
        let len = u16::try_from(total).map_err(|_| Error::BufferTooSmall)?;
        let seg_bytes = buf.get_mut(..total).ok_or(Error::BufferTooSmall)?;
        // A fixed-size view: every setter's bounds check folds away at compile time.
        let (fixed, options) = seg_bytes
            .split_first_chunk_mut::<{ TcpHeader::SIZE }>()
            .ok_or(Error::BufferTooSmall)?;
        let mut seg = TcpSegment::new_unchecked(fixed);
        seg.set_src_port(self.src_port);
        seg.set_dst_port(self.dst_port);
        seg.set_seq_number(self.seq_number.0);
        seg.set_ack_number(self.ack_number.map_or(0, |a| a.0));
        seg.set_data_offset((hl / 4) as u8);
        seg.set_reserved(0);
        seg.set_ae(self.ae);
        seg.set_cwr(self.cwr);
        seg.set_ece(self.ece);
        seg.set_urg(self.urgent.is_some());
        seg.set_ack(self.ack_number.is_some());
        seg.set_psh(self.push);
        seg.set_rst(self.control == Control::Rst);
        seg.set_syn(self.control == Control::Syn);
        seg.set_fin(self.control == Control::Fin);
        seg.set_window(self.window_len);
        seg.set_checksum(0);
        seg.set_urgent(self.urgent.unwrap_or(0));
        let opt_len = self.options.emit(options)?;
        if fill.tx() {
            // The header's share of the sum comes from the values, not from reading back the
            // bytes just written: a wide load over a dozen narrow stores still in the store
            // buffer cannot be forwarded from them and waits for all of them (measured: ~7 ns
            // per frame, a fifth of the whole emit). Only the payload is read from memory.
            let options_sum = match self.options.data_segment_word_sum() {
                Some(s) => s,
                None => u64::from(checksum::data(options.get(..opt_len).unwrap_or_default())),
            };
            let sum = checksum::fold_words(
                u64::from(checksum::pseudo_header(src, dst, Protocol::Tcp, len))
                    + self.fixed_header_word_sum(hl)
                    + options_sum
                    + u64::from(checksum::data(options.get(opt_len..).unwrap_or_default())),
            );
            seg.set_checksum(!sum);
        }
        Ok(total)
    }

    /// The 16-bit-word sum of the fixed 20-byte header `emit_header` writes (checksum field
    /// zero), computed from the values.
    #[inline(always)]
    fn fixed_header_word_sum(&self, hl: usize) -> u64 {
        let ack = self.ack_number.map_or(0, |a| a.0);
        let seq = self.seq_number.0;
        // Bytes 12-13: data offset (4 bits), reserved (3, zero), AE, then CWR ECE URG ACK PSH
        // RST SYN FIN (wire.rs declares the same order).
        let bit = |on: bool, at: u32| u64::from(on) << at;
        let flags = ((hl as u64 / 4) << 12)
            | bit(self.ae, 8)
            | bit(self.cwr, 7)
            | bit(self.ece, 6)
            | bit(self.urgent.is_some(), 5)
            | bit(self.ack_number.is_some(), 4)
            | bit(self.push, 3)
            | bit(self.control == Control::Rst, 2)
            | bit(self.control == Control::Syn, 1)
            | bit(self.control == Control::Fin, 0);
        u64::from(self.src_port)
            + u64::from(self.dst_port)
            + u64::from(seq >> 16)
            + u64::from(seq & 0xffff)
            + u64::from(ack >> 16)
            + u64::from(ack & 0xffff)
            + flags
            + u64::from(self.window_len)
            + u64::from(self.urgent.unwrap_or(0))
    }
}

/// tcpdump's flag letters: `S`, `F`, `P`, `R`, `U`, `E`, `W`, then `.` for ACK.
pub(crate) fn flags(r: &TcpRepr<'_>) -> heapless::String<9> {
    let mut s = heapless::String::new();
    for (on, c) in [
        (r.control == Control::Syn, 'S'),
        (r.control == Control::Fin, 'F'),
        (r.push, 'P'),
        (r.control == Control::Rst, 'R'),
        (r.urgent.is_some(), 'U'),
        (r.ece, 'E'),
        (r.cwr, 'W'),
        (r.ack_number.is_some(), '.'),
    ] {
        if on {
            let _ = s.push(c);
        }
    }
    s
}

/// Like tcpdump: `51000 > 80: Flags [S.], seq 1, ack 2, win 64240, options [mss 1460],
/// length 0`.
impl fmt::Display for TcpRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} > {}: Flags [{}], seq {}",
            self.src_port,
            self.dst_port,
            flags(self),
            self.seq_number
        )?;
        if let Some(a) = self.ack_number {
            write!(f, ", ack {a}")?;
        }
        write!(f, ", win {}", self.window_len)?;
        if let Some(u) = self.urgent {
            write!(f, ", urg {u}")?;
        }
        if !self.options.is_empty() {
            write!(f, ", options [{}]", self.options)?;
        }
        write!(f, ", length {}", self.payload.len())
    }
}
