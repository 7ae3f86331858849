//! The socket buffers: a ring over caller-provided storage.
//!
//! The receive side writes out-of-order data straight into the free space past the
//! contiguous bytes (at the offset its sequence number gives), so every payload byte is copied
//! exactly once from the device buffer, and never again when the assembler closes a hole.

use managed::ManagedSlice;

/// A byte ring over caller storage (`&mut [u8]`, or a `Vec<u8>` with the `alloc` feature).
#[derive(Debug)]
pub struct RingBuffer<'a> {
    storage: ManagedSlice<'a, u8>,
    read_at: usize,
    len: usize,
}

impl<'a> RingBuffer<'a> {
    /// A ring over `storage`, empty.
    pub fn new(storage: impl Into<ManagedSlice<'a, u8>>) -> Self {
        RingBuffer {
            storage: storage.into(),
            read_at: 0,
            len: 0,
        }
    }

    /// The storage size.
    pub fn capacity(&self) -> usize {
        self.storage.len()
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no bytes are held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Free space.
    pub fn window(&self) -> usize {
        self.capacity() - self.len
    }

    /// Whether there is no free space.
    pub fn is_full(&self) -> bool {
        self.window() == 0
    }

    /// Forget every byte.
    pub fn clear(&mut self) {
        self.read_at = 0;
        self.len = 0;
    }

    fn wrap(&self, i: usize) -> usize {
        let cap = self.capacity();
        if cap == 0 { 0 } else { i % cap }
    }

    /// The contiguous run of free space starting `offset` bytes past the held bytes, at most
    /// `max` long.
    fn free_run_mut(&mut self, offset: usize, max: usize) -> &mut [u8] {
        if offset >= self.window() {
            return &mut [];
        }
        let start = self.wrap(self.read_at + self.len + offset);
        let room = self.window() - offset;
        let end = (start + room.min(max)).min(self.capacity());
        self.storage.get_mut(start..end).unwrap_or_default()
    }

    /// The contiguous run of held bytes starting `offset` bytes in, at most `max` long.
    pub fn peek(&self, offset: usize, max: usize) -> &[u8] {
        if offset >= self.len {
            return &[];
        }
        let start = self.wrap(self.read_at + offset);
        let end = (start + (self.len - offset).min(max)).min(self.capacity());
        self.storage.get(start..end).unwrap_or_default()
    }

    /// Copy up to `out.len()` held bytes starting `offset` bytes in (both sides of the wrap)
    /// and return how many were copied.
    pub fn read_at(&self, offset: usize, out: &mut [u8]) -> usize {
        let mut done = 0;
        while done < out.len() {
            let run = self.peek(offset + done, out.len() - done);
            if run.is_empty() {
                break;
            }
            if let Some(dst) = out.get_mut(done..done + run.len()) {
                dst.copy_from_slice(run);
            }
            done += run.len();
        }
        done
    }

    /// Write `data` into the free space `offset` bytes past the held bytes (both sides of the
    /// wrap), without making it held, and return how many bytes fitted.
    pub fn write_unallocated(&mut self, offset: usize, data: &[u8]) -> usize {
        let mut done = 0;
        while done < data.len() {
            let run = self.free_run_mut(offset + done, data.len() - done);
            let n = run.len();
            if n == 0 {
                break;
            }
            if let Some(src) = data.get(done..done + n) {
                run.copy_from_slice(src);
            }
            done += n;
        }
        done
    }

    /// Make `n` bytes of free space past the held bytes held (after
    /// [`write_unallocated`](Self::write_unallocated)); clamped to the free space.
    pub fn commit(&mut self, n: usize) -> usize {
        let n = n.min(self.window());
        self.len += n;
        n
    }

    /// Append as much of `data` as fits and return how many bytes were taken.
    pub fn enqueue_slice(&mut self, data: &[u8]) -> usize {
        let n = self.write_unallocated(0, data);
        self.commit(n)
    }

    /// Let `f` fill the contiguous free space at the end (it returns how many bytes it
    /// wrote, clamped to what it was given) and return that count.
    pub fn enqueue_with(&mut self, f: impl FnOnce(&mut [u8]) -> usize) -> usize {
        let run = self.free_run_mut(0, usize::MAX);
        let room = run.len();
        let n = f(run).min(room);
        self.commit(n)
    }

    /// Drop `n` bytes from the front (clamped to what is held) and return how many went.
    pub fn discard(&mut self, n: usize) -> usize {
        let n = n.min(self.len);
        self.read_at = self.wrap(self.read_at + n);
        self.len -= n;
        // Never rewind `read_at` when empty: bytes written past the end (out-of-order data)
        // are addressed relative to it.
        n
    }

    /// Move up to `out.len()` bytes from the front into `out` and return how many moved.
    pub fn dequeue_slice(&mut self, out: &mut [u8]) -> usize {
        let n = self.read_at(0, out);
        self.discard(n)
    }

    /// Let `f` read the contiguous held bytes at the front (it returns how many it consumed,
    /// clamped) and return that count.
    pub fn dequeue_with(&mut self, f: impl FnOnce(&[u8]) -> usize) -> usize {
        let run = self.peek(0, usize::MAX);
        let n = f(run).min(run.len());
        self.discard(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_both_ways() {
        let mut store = [0u8; 8];
        let mut r = RingBuffer::new(&mut store[..]);
        assert_eq!(r.enqueue_slice(b"abcdef"), 6);
        let mut out = [0u8; 4];
        assert_eq!(r.dequeue_slice(&mut out), 4);
        assert_eq!(&out, b"abcd");
        assert_eq!(r.enqueue_slice(b"ghijklmn"), 6);
        assert!(r.is_full());
        assert_eq!(r.peek(0, 99), b"efgh");
        let mut all = [0u8; 8];
        assert_eq!(r.read_at(0, &mut all), 8);
        assert_eq!(&all, b"efghijkl");
        assert_eq!(r.dequeue_with(|d| d.len()), 4);
        assert_eq!(r.peek(0, 99), b"ijkl");
    }

    #[test]
    fn out_of_order_writes_become_held_on_commit() {
        let mut store = [0u8; 8];
        let mut r = RingBuffer::new(&mut store[..]);
        r.enqueue_slice(b"xxxxxx");
        r.discard(6);
        // Empty, reading at 6: the writes below wrap.
        assert_eq!(r.write_unallocated(3, b"defgh"), 5);
        assert_eq!(r.write_unallocated(7, b"zz"), 1);
        assert_eq!(r.write_unallocated(0, b"abc"), 3);
        assert_eq!(r.commit(20), 8);
        let mut out = [0u8; 8];
        r.read_at(0, &mut out);
        assert_eq!(&out, b"abcdefgz");
        assert_eq!(r.write_unallocated(0, b"q"), 0);
    }

    #[test]
    fn closures_are_clamped_and_zero_capacity_is_harmless() {
        let mut store = [0u8; 4];
        let mut r = RingBuffer::new(&mut store[..]);
        assert_eq!(r.enqueue_with(|b| b.len() + 10), 4);
        assert_eq!(r.dequeue_with(|_| 100), 4);
        let mut empty: [u8; 0] = [];
        let mut z = RingBuffer::new(&mut empty[..]);
        assert_eq!(z.enqueue_slice(b"a"), 0);
        assert_eq!(z.peek(0, 1), b"");
        assert_eq!(z.discard(3), 0);
    }
}
