//! UDP sockets over packet rings in caller-provided storage.
//!
//! A socket holds two [`PacketRing`]s, one each way. A ring keeps every datagram's bytes
//! contiguous in one byte buffer (a datagram that does not fit before the buffer's end
//! starts again at its beginning, and the bytes skipped are accounted to it) and its peer in
//! a slot of a metadata buffer. Nothing is allocated per datagram: the application reads a
//! datagram where it lies ([`UdpSocket::recv_with`]) and writes one where it will lie
//! ([`UdpSocket::send_with`]); the interface copies a received payload in once and a sent one
//! out once, straight into the device's transmit buffer (when the next hop's address is known
//! and the datagram fits the MTU; otherwise it is built as an IP datagram first, to wait for
//! the address or to leave in fragments).
//!
//! A ring of `k` slots holds `k` payloads of up to `m` bytes each for sure in `(k + 1) × m`
//! bytes: the bytes skipped at the end before a payload are always fewer than `m`.

use alloc::vec;
use alloc::vec::Vec;

use managed::ManagedSlice;
use unistack_ipv4::Ipv4Address;

/// Why a UDP send was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UdpError {
    /// No room in the transmit ring now (it drains as the interface sends).
    QueueFull,
    /// Larger than IPv4 allows (65507 bytes of payload) or than the transmit ring could
    /// ever hold.
    TooLarge,
}

impl core::fmt::Display for UdpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            UdpError::QueueFull => "transmit queue full",
            UdpError::TooLarge => "datagram larger than IPv4 or the socket's buffer allows",
        })
    }
}

impl core::error::Error for UdpError {}

/// The most payload one IPv4 UDP datagram carries.
pub const MAX_PAYLOAD: usize = 65_507;

/// A datagram with its peer, copied out of a socket ([`UdpSocket::recv`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// The peer's address.
    pub addr: Ipv4Address,
    /// The peer's port.
    pub port: u16,
    /// The payload.
    pub data: Vec<u8>,
}

/// One datagram's slot in a [`PacketRing`]: its peer, its length, and the bytes skipped at
/// the end of the byte buffer before it. Callers provide storage for these
/// ([`PacketMeta::EMPTY`]) and never look inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PacketMeta {
    addr: Ipv4Address,
    port: u16,
    len: usize,
    pad: usize,
}

impl PacketMeta {
    /// An unused slot.
    pub const EMPTY: PacketMeta = PacketMeta {
        addr: Ipv4Address::UNSPECIFIED,
        port: 0,
        len: 0,
        pad: 0,
    };
}

/// A FIFO of datagrams in two caller-provided buffers: slots for their peers and lengths, and
/// bytes for their payloads, each payload contiguous.
#[derive(Debug)]
pub struct PacketRing<'a> {
    meta: ManagedSlice<'a, PacketMeta>,
    data: ManagedSlice<'a, u8>,
    /// First used slot, and how many are used.
    meta_head: usize,
    meta_len: usize,
    /// First used byte (the front datagram's padding, then its payload), and how many bytes
    /// are used, padding included.
    data_head: usize,
    data_len: usize,
}

impl<'a> PacketRing<'a> {
    /// A ring of `meta.len()` datagrams in `data.len()` bytes.
    pub fn new(
        meta: impl Into<ManagedSlice<'a, PacketMeta>>,
        data: impl Into<ManagedSlice<'a, u8>>,
    ) -> Self {
        PacketRing {
            meta: meta.into(),
            data: data.into(),
            meta_head: 0,
            meta_len: 0,
            data_head: 0,
            data_len: 0,
        }
    }

    /// A ring of `slots` datagrams in `bytes` bytes, allocated.
    pub fn with_capacity(slots: usize, bytes: usize) -> PacketRing<'static> {
        PacketRing::new(vec![PacketMeta::EMPTY; slots], vec![0u8; bytes])
    }

    /// Datagrams held.
    pub fn len(&self) -> usize {
        self.meta_len
    }

    /// Whether no datagram is held.
    pub fn is_empty(&self) -> bool {
        self.meta_len == 0
    }

    /// Whether every slot is taken.
    pub fn is_full(&self) -> bool {
        self.meta_len == self.meta.len()
    }

    /// The largest payload the ring could hold when empty.
    pub fn capacity(&self) -> usize {
        self.data.len()
    }

    /// Where a payload of `n` bytes would go: `(padding, start)`, or `None` without room.
    fn place(&self, n: usize) -> Option<(usize, usize)> {
        let cap = self.data.len();
        if self.is_full() || n > cap - self.data_len {
            return None;
        }
        if self.data_len == 0 {
            // Empty: start from the beginning (the head moves there in `push`).
            return Some((0, 0));
        }
        let end = (self.data_head + self.data_len) % cap;
        if end > self.data_head {
            // Used bytes in one run: room after them, else from the beginning.
            if n <= cap - end {
                Some((0, end))
            } else if n <= self.data_head {
                Some((cap - end, 0))
            } else {
                None
            }
        } else {
            // Wrapped (or full): the free bytes lie between the end and the head.
            (n <= self.data_head - end).then_some((0, end))
        }
    }

    /// Append a datagram of `n` bytes for (`addr`, `port`) and lend its payload to `f`, which
    /// writes it and returns how many bytes it kept (at most `n`). `None` without room.
    pub fn push_with<R>(
        &mut self,
        n: usize,
        addr: Ipv4Address,
        port: u16,
        f: impl FnOnce(&mut [u8]) -> (usize, R),
    ) -> Option<R> {
        self.try_push_with(n, addr, port, |b| {
            let (kept, r) = f(b);
            (Some(kept), r)
        })
    }

    /// As [`push_with`](Self::push_with), but `f` may decline (`None` for the length): then
    /// nothing is queued and the bytes it wrote are forgotten.
    pub fn try_push_with<R>(
        &mut self,
        n: usize,
        addr: Ipv4Address,
        port: u16,
        f: impl FnOnce(&mut [u8]) -> (Option<usize>, R),
    ) -> Option<R> {
        let (pad, start) = self.place(n)?;
        if self.data_len == 0 {
            self.data_head = 0;
        }
        let payload = self.data.get_mut(start..start + n)?;
        let (kept, r) = f(payload);
        let Some(kept) = kept else {
            return Some(r);
        };
        let kept = kept.min(n);
        let slots = self.meta.len();
        let slot = self
            .meta
            .get_mut((self.meta_head + self.meta_len) % slots)?;
        *slot = PacketMeta {
            addr,
            port,
            len: kept,
            pad,
        };
        self.meta_len += 1;
        self.data_len += pad + kept;
        Some(r)
    }

    /// Append a copy of `payload`; false without room.
    pub fn push(&mut self, payload: &[u8], addr: Ipv4Address, port: u16) -> bool {
        self.push_with(payload.len(), addr, port, |b| {
            b.copy_from_slice(payload);
            (payload.len(), ())
        })
        .is_some()
    }

    /// The front datagram: its payload, peer address and port.
    pub fn peek(&self) -> Option<(&[u8], Ipv4Address, u16)> {
        if self.meta_len == 0 {
            return None;
        }
        let m = self.meta.get(self.meta_head)?;
        let start = self.front_start(m);
        Some((self.data.get(start..start + m.len)?, m.addr, m.port))
    }

    fn front_start(&self, m: &PacketMeta) -> usize {
        let cap = self.data.len();
        if cap == 0 {
            0
        } else {
            (self.data_head + m.pad) % cap
        }
    }

    /// Drop the front datagram; false when there is none.
    pub fn pop(&mut self) -> bool {
        if self.meta_len == 0 {
            return false;
        }
        let Some(&m) = self.meta.get(self.meta_head) else {
            return false;
        };
        let cap = self.data.len();
        self.data_head = if cap == 0 {
            0
        } else {
            (self.front_start(&m) + m.len) % cap
        };
        self.data_len -= m.pad + m.len;
        self.meta_head = (self.meta_head + 1) % self.meta.len();
        self.meta_len -= 1;
        true
    }
}

/// A UDP socket: a bound port and a ring of datagrams each way (datagrams beyond the
/// receive ring are dropped and counted).
#[derive(Debug)]
pub struct UdpSocket<'a> {
    port: u16,
    rx: PacketRing<'a>,
    tx: PacketRing<'a>,
    rx_dropped: u64,
}

impl<'a> UdpSocket<'a> {
    /// A socket over caller-provided rings.
    pub fn with_rings(rx: PacketRing<'a>, tx: PacketRing<'a>) -> Self {
        UdpSocket {
            port: 0,
            rx,
            tx,
            rx_dropped: 0,
        }
    }

    /// A socket queueing at most `limit` datagrams each way in `limit` × 2 KiB of payload
    /// storage per direction, allocated now (a datagram larger than that is refused with
    /// [`UdpError::TooLarge`], or dropped on receipt; size the rings with
    /// [`with_rings`](Self::with_rings) for larger ones).
    pub fn new(limit: usize) -> UdpSocket<'static> {
        let bytes = limit.saturating_mul(2048);
        UdpSocket::with_rings(
            PacketRing::with_capacity(limit, bytes),
            PacketRing::with_capacity(limit, bytes),
        )
    }

    pub(crate) fn bound(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Datagrams dropped on receipt: every slot taken, or no contiguous room for the payload
    /// in the receive ring (including a payload larger than the ring).
    pub fn rx_dropped(&self) -> u64 {
        self.rx_dropped
    }

    /// Datagrams waiting to be read.
    pub fn recv_queue(&self) -> usize {
        self.rx.len()
    }

    /// Datagrams waiting to be sent.
    pub fn send_queue(&self) -> usize {
        self.tx.len()
    }

    /// Queue a copy of `data` for (`addr`, `port`).
    ///
    /// # Errors
    /// [`UdpError::QueueFull`]; [`UdpError::TooLarge`] (see [`new`](Self::new)). A datagram
    /// larger than the interface's MTU leaves as IPv4 fragments (the peer reassembles it).
    pub fn send_to(&mut self, data: &[u8], addr: Ipv4Address, port: u16) -> Result<(), UdpError> {
        self.send_with(data.len(), addr, port, |b| {
            b.copy_from_slice(data);
            data.len()
        })
        .map(|_| ())
    }

    /// Queue a datagram for (`addr`, `port`) written in place: `f` gets `max` bytes of the
    /// transmit ring and returns how many it wrote (the payload's length, at most `max`).
    /// Returns that length.
    ///
    /// # Errors
    /// As [`send_to`](Self::send_to), for `max` bytes.
    pub fn send_with(
        &mut self,
        max: usize,
        addr: Ipv4Address,
        port: u16,
        f: impl FnOnce(&mut [u8]) -> usize,
    ) -> Result<usize, UdpError> {
        if max > MAX_PAYLOAD || max > self.tx.capacity() {
            return Err(UdpError::TooLarge);
        }
        self.tx
            .push_with(max, addr, port, |b| {
                let n = f(b).min(max);
                (n, n)
            })
            .ok_or(UdpError::QueueFull)
    }

    /// Read the next datagram where it lies: `f` gets its payload, the peer's address and
    /// port. The datagram is gone afterwards.
    pub fn recv_with<R>(&mut self, f: impl FnOnce(&[u8], Ipv4Address, u16) -> R) -> Option<R> {
        let r = {
            let (data, addr, port) = self.rx.peek()?;
            f(data, addr, port)
        };
        self.rx.pop();
        Some(r)
    }

    /// Answer the next datagram in place, for request/response servers: `f` gets its
    /// payload, the peer's address and port, and `max` bytes of the transmit ring, and
    /// returns the answer's length (`None`: no answer) and a value for the caller. The
    /// answer goes to the same address and port without a copy through a buffer of the
    /// caller's, and the datagram is gone afterwards. `Ok(None)` when nothing is waiting.
    ///
    /// # Errors
    /// [`UdpError::QueueFull`] when the transmit ring has no room for `max` bytes (the
    /// datagram stays for a later call, after the interface has sent some);
    /// [`UdpError::TooLarge`] as for [`send_with`](Self::send_with).
    pub fn reply_with<R>(
        &mut self,
        max: usize,
        f: impl FnOnce(&[u8], Ipv4Address, u16, &mut [u8]) -> (Option<usize>, R),
    ) -> Result<Option<R>, UdpError> {
        if max > MAX_PAYLOAD || max > self.tx.capacity() {
            return Err(UdpError::TooLarge);
        }
        let Some((query, addr, port)) = self.rx.peek() else {
            return Ok(None);
        };
        let r = self
            .tx
            .try_push_with(max, addr, port, |out| {
                let (n, r) = f(query, addr, port, out);
                (n.map(|n| n.min(max)), r)
            })
            .ok_or(UdpError::QueueFull)?;
        self.rx.pop();
        Ok(Some(r))
    }

    /// The next received datagram, copied out (see [`recv_with`](Self::recv_with) for no
    /// copy).
    pub fn recv(&mut self) -> Option<Datagram> {
        self.recv_with(|data, addr, port| Datagram {
            addr,
            port,
            data: data.to_vec(),
        })
    }

    pub(crate) fn deliver(&mut self, addr: Ipv4Address, port: u16, data: &[u8]) {
        if !self.rx.push(data, addr, port) {
            self.rx_dropped += 1;
        }
    }

    /// The next datagram to send, in place.
    pub(crate) fn peek_tx(&self) -> Option<(&[u8], Ipv4Address, u16)> {
        self.tx.peek()
    }

    pub(crate) fn pop_tx(&mut self) {
        self.tx.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::VecDeque;
    use proptest::prelude::*;

    const PEER: Ipv4Address = Ipv4Address::new(192, 0, 2, 9);

    fn fill(n: usize, tag: u8) -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(31) ^ tag).collect()
    }

    /// A datagram that does not fit before the buffer's end starts at its beginning, and the
    /// bytes skipped there come back when it leaves.
    #[test]
    fn wraps_with_padding_and_frees_it() {
        let mut r = PacketRing::with_capacity(4, 10);
        assert!(r.push(&fill(4, 1), PEER, 1)); // bytes 0..4
        assert!(r.push(&fill(4, 2), PEER, 2)); // bytes 4..8
        assert!(r.pop()); // 0..4 free
        // 3 bytes do not fit in 8..10: they go to 0..3, skipping 2.
        assert!(r.push(&fill(3, 3), PEER, 3));
        // 2 bytes left (3..4 and nothing else contiguous): 2 do not fit.
        assert!(!r.push(&fill(2, 4), PEER, 4));
        assert!(r.push(&fill(1, 5), PEER, 5));
        assert_eq!(r.peek(), Some((&fill(4, 2)[..], PEER, 2)));
        assert!(r.pop());
        assert_eq!(r.peek(), Some((&fill(3, 3)[..], PEER, 3)));
        assert!(r.pop());
        assert_eq!(r.peek(), Some((&fill(1, 5)[..], PEER, 5)));
        assert!(r.pop());
        assert!(r.is_empty() && !r.pop() && r.peek().is_none());
        // Empty again: the whole buffer is one run.
        assert!(r.push(&fill(10, 6), PEER, 6));
        assert!(!r.push(b"x", PEER, 7));
        assert!(r.push(b"", PEER, 8) && r.len() == 2);
    }

    #[test]
    fn slots_bound_the_ring_and_empty_storage_refuses_all_but_empty_datagrams() {
        let mut r = PacketRing::with_capacity(2, 100);
        assert!(r.push(b"a", PEER, 1) && r.push(b"b", PEER, 2));
        assert!(r.is_full() && !r.push(b"c", PEER, 3));
        let mut none = PacketRing::with_capacity(0, 100);
        assert!(!none.push(b"", PEER, 1) && !none.pop());
        let mut bytes = PacketRing::with_capacity(2, 0);
        assert!(!bytes.push(b"x", PEER, 1));
        assert!(bytes.push(b"", PEER, 1));
        assert_eq!(bytes.peek(), Some((&b""[..], PEER, 1)));
        assert!(bytes.pop() && bytes.is_empty());
    }

    #[test]
    fn send_with_keeps_what_the_writer_wrote_and_refuses_what_cannot_fit() {
        let mut s = UdpSocket::new(2); // 4 KiB each way
        assert_eq!(s.send_with(4097, PEER, 53, |_| 0), Err(UdpError::TooLarge));
        assert_eq!(
            s.send_with(1000, PEER, 53, |b| {
                b[..3].copy_from_slice(b"abc");
                3
            }),
            Ok(3)
        );
        // A writer claiming more than it was lent keeps only what it was lent.
        assert_eq!(s.send_with(2, PEER, 54, |_| 99), Ok(2));
        assert_eq!(s.send_with(1, PEER, 55, |_| 1), Err(UdpError::QueueFull));
        assert_eq!(s.peek_tx(), Some((&b"abc"[..], PEER, 53)));
        s.pop_tx();
        assert_eq!(s.peek_tx().map(|(d, _, p)| (d.len(), p)), Some((2, 54)));
        s.deliver(PEER, 7, b"query");
        let got = s.recv_with(|d, a, p| (d.to_vec(), a, p));
        assert_eq!(got, Some((b"query".to_vec(), PEER, 7)));
        assert!(s.recv().is_none());
    }

    /// `reply_with` answers each query in place to its sender, consumes a query it declines
    /// to answer without queueing anything, and leaves the query in place when the transmit
    /// ring is full.
    #[test]
    fn reply_with_answers_in_place_and_keeps_the_query_when_full() {
        let mut s = UdpSocket::new(2); // two datagrams each way, 4 KiB of payload
        assert_eq!(s.reply_with(100, |_, _, _, _| (Some(0), ())), Ok(None));
        assert_eq!(
            s.reply_with(4097, |_, _, _, _| (Some(0), ())),
            Err(UdpError::TooLarge)
        );
        s.deliver(PEER, 7, b"ping");
        s.deliver(PEER, 8, b"skip");
        let r = s.reply_with(100, |q, a, p, out| {
            assert_eq!((q, a, p), (&b"ping"[..], PEER, 7));
            out[..4].copy_from_slice(b"pong");
            (Some(4), q.len())
        });
        assert_eq!(r, Ok(Some(4)));
        assert_eq!(s.reply_with(100, |_, _, _, _| (None, 'n')), Ok(Some('n')));
        assert_eq!(s.recv_queue(), 0);
        assert_eq!(s.send_queue(), 1, "a declined query queues nothing");
        assert_eq!(s.peek_tx(), Some((&b"pong"[..], PEER, 7)));
        // Fill the transmit ring's second slot, then a query must wait.
        s.send_to(b"other", PEER, 9).unwrap();
        s.deliver(PEER, 10, b"wait");
        assert_eq!(
            s.reply_with(100, |_, _, _, _| (Some(1), ())),
            Err(UdpError::QueueFull)
        );
        assert_eq!(s.recv_queue(), 1, "the query stays");
        s.pop_tx();
        assert_eq!(
            s.reply_with(100, |q, _, p, out| {
                out[..q.len()].copy_from_slice(q);
                (Some(q.len()), p)
            }),
            Ok(Some(10))
        );
        s.pop_tx();
        assert_eq!(s.peek_tx(), Some((&b"wait"[..], PEER, 10)));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(usize),
        Pop,
    }

    proptest! {
        /// Against a plain queue: the same datagrams come out in the same order, a refusal
        /// happens only when the slots are taken or the free bytes (padding counted) are too
        /// few, and an empty ring takes any datagram up to its capacity.
        #[test]
        fn behaves_like_a_queue(
            slots in 0usize..6,
            cap in 0usize..64,
            ops in proptest::collection::vec(
                prop_oneof![(0usize..70).prop_map(Op::Push), Just(Op::Pop)],
                0..200,
            ),
        ) {
            let mut r = PacketRing::with_capacity(slots, cap);
            let mut model: VecDeque<(Vec<u8>, u16)> = VecDeque::new();
            for (k, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Push(n) => {
                        let data = fill(n, k as u8);
                        let free = cap - r.data_len;
                        let was_empty = r.is_empty();
                        if r.push(&data, PEER, k as u16) {
                            prop_assert!(n <= free && model.len() < slots);
                            model.push_back((data, k as u16));
                        } else {
                            prop_assert!(
                                model.len() == slots || n > free || !was_empty,
                                "an empty ring refused {} of {} bytes", n, cap
                            );
                        }
                    }
                    Op::Pop => {
                        let want = model.pop_front();
                        let got = r.peek().map(|(d, a, p)| {
                            assert_eq!(a, PEER);
                            (d.to_vec(), p)
                        });
                        prop_assert_eq!(&got, &want);
                        prop_assert_eq!(r.pop(), want.is_some());
                    }
                }
                prop_assert_eq!(r.len(), model.len());
                prop_assert!(r.data_len <= cap);
                let payload: usize = model.iter().map(|(d, _)| d.len()).sum();
                prop_assert!(r.data_len >= payload);
                if model.is_empty() {
                    prop_assert_eq!(r.data_len, 0);
                }
            }
        }
    }
}
