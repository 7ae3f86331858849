//! DNS over TCP framing (RFC 1035 4.2.2, RFC 7766 8): a two-byte length before each message.

use core::fmt;

use unistack_cstruct::{Endian, Field};

use crate::wire::TcpPrefix;

/// Why a frame could not be written or read.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameError {
    /// The output buffer is too small for the prefix and the message.
    BufferTooSmall,
    /// The message is longer than 65535 bytes.
    MessageTooLong,
    /// An incoming frame announces a message longer than the decoder's buffer; the decoder
    /// skips it and carries on with the next frame.
    FrameTooLarge {
        /// The announced length.
        len: u16,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::BufferTooSmall => f.write_str("output buffer too small"),
            FrameError::MessageTooLong => f.write_str("message longer than 65535 bytes"),
            FrameError::FrameTooLarge { len } => {
                write!(f, "frame of {len} bytes larger than the receive buffer")
            }
        }
    }
}

impl core::error::Error for FrameError {}

/// The two-byte prefix for a message of `len` bytes.
///
/// # Errors
/// [`FrameError::MessageTooLong`] above 65535.
pub fn length_prefix(len: usize) -> Result<[u8; 2], FrameError> {
    let length = u16::try_from(len).map_err(|_| FrameError::MessageTooLong)?;
    let mut out = [0u8; TcpPrefix::SIZE];
    TcpPrefix { length }.write(&mut out, Endian::Big);
    Ok(out)
}

/// Write the prefix and `message` into `out`; return the bytes used.
///
/// To avoid the copy, build the message at `out[2..]` and write only the prefix with
/// [`length_prefix`].
///
/// # Errors
/// [`FrameError::MessageTooLong`], [`FrameError::BufferTooSmall`].
pub fn encode_frame(message: &[u8], out: &mut [u8]) -> Result<usize, FrameError> {
    let prefix = length_prefix(message.len())?;
    let total = TcpPrefix::SIZE + message.len();
    let dst = out.get_mut(..total).ok_or(FrameError::BufferTooSmall)?;
    let (head, body) = dst.split_at_mut(TcpPrefix::SIZE);
    head.copy_from_slice(&prefix);
    body.copy_from_slice(message);
    Ok(total)
}

/// Reassembles length-prefixed messages from a TCP byte stream, in a caller's buffer.
///
/// Feed bytes as they arrive ([`feed`](Self::feed), or read straight into
/// [`spare_mut`](Self::spare_mut) and [`commit`](Self::commit)), then take whole messages
/// out with [`next_message`](Self::next_message) until it returns `None`. A message must fit
/// the buffer; a larger one is reported once as [`FrameError::FrameTooLarge`] and its bytes
/// are skipped as they arrive. A buffer of 65537 bytes takes any message.
#[derive(Debug)]
pub struct TcpDecoder<'b> {
    buf: &'b mut [u8],
    start: usize,
    end: usize,
    skip: usize,
}

impl<'b> TcpDecoder<'b> {
    /// A decoder buffering in `buf`, which should hold at least the largest message expected
    /// plus 2 (below 2 bytes not even a length prefix fits, and nothing ever comes out).
    pub fn new(buf: &'b mut [u8]) -> Self {
        TcpDecoder {
            buf,
            start: 0,
            end: 0,
            skip: 0,
        }
    }

    /// Bytes buffered and not yet returned as messages.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// Move buffered bytes to the front to make room at the back.
    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
    }

    /// Take bytes from the stream; return how many were taken (fewer than offered when the
    /// buffer is full: take messages out and feed the rest again).
    pub fn feed(&mut self, data: &[u8]) -> usize {
        let skipped = self.skip.min(data.len());
        self.skip -= skipped;
        let data = data.get(skipped..).unwrap_or_default();
        let spare = self.spare_mut();
        let n = spare.len().min(data.len());
        if let (Some(dst), Some(src)) = (spare.get_mut(..n), data.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.commit(n);
        skipped + n
    }

    /// The free space at the back of the buffer, to read into directly.
    pub fn spare_mut(&mut self) -> &mut [u8] {
        self.compact();
        self.buf.get_mut(self.end..).unwrap_or_default()
    }

    /// Count `n` bytes written into [`spare_mut`](Self::spare_mut) as received (bytes of a
    /// frame being skipped are dropped).
    pub fn commit(&mut self, n: usize) {
        let n = n.min(self.buf.len() - self.end);
        let skipped = self.skip.min(n);
        self.skip -= skipped;
        if skipped > 0 {
            // The skipped bytes are the first ones written: drop them.
            self.buf
                .copy_within(self.end + skipped..self.end + n, self.end);
        }
        self.end += n - skipped;
    }

    /// The next complete message, if one is buffered.
    ///
    /// # Errors
    /// [`FrameError::FrameTooLarge`] for a frame longer than the buffer (reported once; the
    /// decoder then skips its bytes).
    pub fn next_message(&mut self) -> Option<Result<&[u8], FrameError>> {
        let buffered = self.buf.get(self.start..self.end)?;
        let (prefix, rest) = buffered.split_first_chunk::<{ TcpPrefix::SIZE }>()?;
        let len = TcpPrefix::from_bytes(prefix).length;
        let n = usize::from(len);
        if TcpPrefix::SIZE + n > self.buf.len() {
            // Drop what is buffered of it and skip the rest as it arrives.
            let have = rest.len().min(n);
            self.skip = n - have;
            self.start += TcpPrefix::SIZE + have;
            return Some(Err(FrameError::FrameTooLarge { len }));
        }
        if rest.len() < n {
            return None;
        }
        let from = self.start + TcpPrefix::SIZE;
        self.start = from + n;
        self.buf.get(from..from + n).map(Ok)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn frames(messages: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in messages {
            out.extend_from_slice(&length_prefix(m.len()).unwrap());
            out.extend_from_slice(m);
        }
        out
    }

    #[test]
    fn encode() {
        let mut out = [0u8; 8];
        assert_eq!(encode_frame(b"abc", &mut out).unwrap(), 5);
        assert_eq!(&out[..5], b"\x00\x03abc");
        assert_eq!(
            encode_frame(&[0; 7], &mut out),
            Err(FrameError::BufferTooSmall)
        );
        assert_eq!(length_prefix(65536), Err(FrameError::MessageTooLong));
        assert_eq!(length_prefix(65535).unwrap(), [0xff, 0xff]);
    }

    #[test]
    fn every_split_of_the_stream() {
        let msgs: [&[u8]; 4] = [b"first message", b"", b"x", &[7u8; 30]];
        let stream = frames(&msgs);
        for chunk in 1..=stream.len() {
            let mut storage = [0u8; 40];
            let mut dec = TcpDecoder::new(&mut storage);
            let mut got: Vec<Vec<u8>> = Vec::new();
            for piece in stream.chunks(chunk) {
                let mut piece = piece;
                while !piece.is_empty() {
                    let n = dec.feed(piece);
                    piece = &piece[n..];
                    while let Some(m) = dec.next_message() {
                        got.push(m.unwrap().to_vec());
                    }
                }
            }
            assert_eq!(got, msgs.map(<[u8]>::to_vec), "chunk {chunk}");
            assert_eq!(dec.buffered(), 0);
        }
    }

    #[test]
    fn oversized_frames_are_skipped() {
        let big = [9u8; 100];
        let stream = frames(&[b"a", &big, b"bc"]);
        for chunk in 1..=stream.len() {
            let mut storage = [0u8; 16];
            let mut dec = TcpDecoder::new(&mut storage);
            let mut got = Vec::new();
            let mut errors = 0;
            for mut piece in stream.chunks(chunk) {
                while !piece.is_empty() {
                    let n = dec.feed(piece);
                    piece = &piece[n..];
                    while let Some(m) = dec.next_message() {
                        match m {
                            Ok(m) => got.push(m.to_vec()),
                            Err(e) => {
                                assert_eq!(e, FrameError::FrameTooLarge { len: 100 });
                                errors += 1;
                            }
                        }
                    }
                }
            }
            assert_eq!(errors, 1, "chunk {chunk}");
            assert_eq!(got, [b"a".to_vec(), b"bc".to_vec()], "chunk {chunk}");
        }
    }

    #[test]
    fn read_in_place() {
        let stream = frames(&[b"hello", b"world"]);
        let mut storage = [0u8; 64];
        let mut dec = TcpDecoder::new(&mut storage);
        let spare = dec.spare_mut();
        spare[..stream.len()].copy_from_slice(&stream);
        dec.commit(stream.len());
        assert_eq!(dec.next_message().unwrap().unwrap(), b"hello");
        assert_eq!(dec.next_message().unwrap().unwrap(), b"world");
        assert!(dec.next_message().is_none());
        // Committing more than the spare room is clamped.
        assert_eq!(dec.spare_mut().len(), 64);
        dec.commit(1000);
        assert_eq!(dec.buffered(), 64);
    }
}
