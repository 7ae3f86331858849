//! Memory shared with a peer: the only module of this crate with `unsafe` code.
//!
//! A [`Shm`] is a raw region (pointer and length) that another thread, process or domain may
//! write at any time. It never hands out `&u8`, `&[u8]` or any reference to plain data inside
//! the region: every access is a bounds-checked atomic load, store or read-modify-write of a
//! `u8`/`u16`/`u32`, or a copy between the region and a private buffer done as relaxed atomic
//! loads/stores (8 bytes at a time where the range covers a whole aligned word, single bytes at
//! the edges, so a copy never touches a byte outside its range). The only references formed are
//! the transient `&AtomicUxx` that `Atomic*::from_ptr` returns for the duration of one
//! operation: atomics live in an `UnsafeCell`, so a concurrent foreign write to them is defined
//! behaviour, and their values are read once into locals by the callers.
//!
//! Multi-byte values are little-endian in the region (Xen's x86 ABI) whatever the host order.
//!
//! Owners: [`ShmBox`] (zeroed heap pages, `alloc`) and [`ShmMap`] (`MAP_SHARED` file mappings,
//! `std`, Linux) create regions and release them on drop; [`Shm::from_raw_parts`] is the
//! `unsafe` constructor for other owners (a grant mapping in a unikernel).
#![allow(unsafe_code)]

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU8, AtomicU16, AtomicU32, AtomicU64, Ordering};

/// The size of a grant page.
pub const PAGE_SIZE: usize = 4096;

/// An access outside a [`Shm`], or at an offset not aligned for its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccessError {
    /// Requested offset.
    pub offset: usize,
    /// Requested length in bytes.
    pub len: usize,
    /// The region's length.
    pub available: usize,
}

impl core::fmt::Display for AccessError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} bytes at offset {} are outside (or misaligned in) a {}-byte shared region",
            self.len, self.offset, self.available
        )
    }
}

impl core::error::Error for AccessError {}

/// A region of memory shared with a peer that may write it concurrently.
///
/// Every method checks its range (and alignment, for integers) and returns [`AccessError`]
/// instead of touching memory outside the region.
#[derive(Debug)]
pub struct Shm {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: a `Shm` is a pointer to memory that, by the contract of `from_raw_parts`, stays valid
// while the `Shm` exists and is only accessed atomically by this process. Atomic accesses may be
// made from any thread, so moving the handle to another thread or sharing it is sound.
unsafe impl Send for Shm {}
// SAFETY: as above: every method performs only atomic accesses, which may race.
unsafe impl Sync for Shm {}

impl Shm {
    /// Wrap `len` bytes at `ptr`.
    ///
    /// # Safety
    /// For as long as this `Shm` exists:
    /// - `ptr` must be valid for reads and writes of `len` bytes (a live allocation or mapping,
    ///   mapped readable and writable), `len <= isize::MAX`, and `ptr` aligned to 8;
    /// - every access to those bytes made by this process (other than through a `Shm`) must be
    ///   atomic; other processes or domains may access them in any way.
    pub unsafe fn from_raw_parts(ptr: NonNull<u8>, len: usize) -> Self {
        Shm { ptr, len }
    }

    /// The region's length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the region is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A pointer to `len` bytes at `offset`, checked to be inside the region and aligned to
    /// `align` (a power of two).
    fn at(&self, offset: usize, len: usize, align: usize) -> Result<*mut u8, AccessError> {
        let err = AccessError {
            offset,
            len,
            available: self.len,
        };
        let end = offset.checked_add(len).ok_or(err)?;
        // The base is 8-aligned (constructor contract), so `offset` alignment is enough.
        if end > self.len || !offset.is_multiple_of(align) {
            return Err(err);
        }
        // SAFETY: `offset + len <= self.len`, so the result stays inside (or one past the end
        // of) the region `ptr` is valid for, and `len <= isize::MAX` by the contract.
        Ok(unsafe { self.ptr.as_ptr().add(offset) })
    }

    /// Load the byte at `offset`.
    ///
    /// # Errors
    /// [`AccessError`] if `offset` is outside the region.
    pub fn load_u8(&self, offset: usize, order: Ordering) -> Result<u8, AccessError> {
        let p = self.at(offset, 1, 1)?;
        // SAFETY: `p` is inside the region (checked), valid for reads and writes while `self`
        // lives, and only accessed atomically (constructor contract); `AtomicU8` has alignment 1.
        Ok(unsafe { AtomicU8::from_ptr(p) }.load(order))
    }

    /// Store a byte at `offset`.
    ///
    /// # Errors
    /// [`AccessError`] if `offset` is outside the region.
    pub fn store_u8(&self, offset: usize, value: u8, order: Ordering) -> Result<(), AccessError> {
        let p = self.at(offset, 1, 1)?;
        // SAFETY: as in `load_u8`.
        unsafe { AtomicU8::from_ptr(p) }.store(value, order);
        Ok(())
    }

    /// Atomically OR `bits` into the byte at `offset`, returning the previous value.
    ///
    /// # Errors
    /// [`AccessError`] if `offset` is outside the region.
    pub fn fetch_or_u8(&self, offset: usize, bits: u8, order: Ordering) -> Result<u8, AccessError> {
        let p = self.at(offset, 1, 1)?;
        // SAFETY: as in `load_u8`.
        Ok(unsafe { AtomicU8::from_ptr(p) }.fetch_or(bits, order))
    }

    /// Atomically AND `bits` into the byte at `offset`, returning the previous value.
    ///
    /// # Errors
    /// [`AccessError`] if `offset` is outside the region.
    pub fn fetch_and_u8(
        &self,
        offset: usize,
        bits: u8,
        order: Ordering,
    ) -> Result<u8, AccessError> {
        let p = self.at(offset, 1, 1)?;
        // SAFETY: as in `load_u8`.
        Ok(unsafe { AtomicU8::from_ptr(p) }.fetch_and(bits, order))
    }

    /// Load the little-endian `u16` at `offset` (which must be even).
    ///
    /// # Errors
    /// [`AccessError`] if the range is outside the region or misaligned.
    pub fn load_u16(&self, offset: usize, order: Ordering) -> Result<u16, AccessError> {
        let p = self.at(offset, 2, 2)?;
        // SAFETY: `p` is inside the region and 2-aligned (checked); valid and only accessed
        // atomically by the constructor contract.
        Ok(u16::from_le(
            unsafe { AtomicU16::from_ptr(p.cast()) }.load(order),
        ))
    }

    /// Store a little-endian `u16` at `offset` (which must be even).
    ///
    /// # Errors
    /// [`AccessError`] if the range is outside the region or misaligned.
    pub fn store_u16(&self, offset: usize, value: u16, order: Ordering) -> Result<(), AccessError> {
        let p = self.at(offset, 2, 2)?;
        // SAFETY: as in `load_u16`.
        unsafe { AtomicU16::from_ptr(p.cast()) }.store(value.to_le(), order);
        Ok(())
    }

    /// Load the little-endian `u32` at `offset` (a multiple of 4).
    ///
    /// # Errors
    /// [`AccessError`] if the range is outside the region or misaligned.
    pub fn load_u32(&self, offset: usize, order: Ordering) -> Result<u32, AccessError> {
        let p = self.at(offset, 4, 4)?;
        // SAFETY: `p` is inside the region and 4-aligned (checked); valid and only accessed
        // atomically by the constructor contract.
        Ok(u32::from_le(
            unsafe { AtomicU32::from_ptr(p.cast()) }.load(order),
        ))
    }

    /// Store a little-endian `u32` at `offset` (a multiple of 4).
    ///
    /// # Errors
    /// [`AccessError`] if the range is outside the region or misaligned.
    pub fn store_u32(&self, offset: usize, value: u32, order: Ordering) -> Result<(), AccessError> {
        let p = self.at(offset, 4, 4)?;
        // SAFETY: as in `load_u32`.
        unsafe { AtomicU32::from_ptr(p.cast()) }.store(value.to_le(), order);
        Ok(())
    }

    /// Copy `dst.len()` bytes at `offset` into `dst`, each byte read once (relaxed).
    ///
    /// Order it against index loads with acquire loads or fences, as the protocol requires.
    ///
    /// # Errors
    /// [`AccessError`] if the range is outside the region (nothing is copied).
    pub fn read(&self, offset: usize, dst: &mut [u8]) -> Result<(), AccessError> {
        let base = self.at(offset, dst.len(), 1)?;
        if bulk_copy_applies(dst.len()) {
            // SAFETY: `base` is valid for `dst.len()` bytes (checked by `at`), `dst` is a
            // private exclusive buffer of that length, and the two cannot overlap (the
            // region's bytes are never handed out as references). See `bulk_copy`.
            unsafe { bulk_copy(dst.as_mut_ptr(), base, dst.len()) };
            return Ok(());
        }
        let (head, words, _) = split_words(offset, dst.len());
        let (dst_head, rest) = dst.split_at_mut(head);
        let (dst_words, dst_tail) = rest.split_at_mut(words * 8);
        for (i, d) in dst_head.iter_mut().enumerate() {
            // SAFETY: byte `i < head <= len` of the checked range; alignment 1.
            *d = unsafe { AtomicU8::from_ptr(base.add(i)) }.load(Ordering::Relaxed);
        }
        for (i, d) in dst_words.chunks_exact_mut(8).enumerate() {
            // SAFETY: bytes `head + 8i .. head + 8i + 8` are inside the checked range, and
            // `offset + head` is a multiple of 8 (`split_words`) on an 8-aligned base.
            let w = unsafe { AtomicU64::from_ptr(base.add(head + i * 8).cast()) }
                .load(Ordering::Relaxed);
            d.copy_from_slice(&w.to_ne_bytes());
        }
        for (i, d) in dst_tail.iter_mut().enumerate() {
            // SAFETY: byte `head + 8 * words + i` is inside the checked range; alignment 1.
            *d = unsafe { AtomicU8::from_ptr(base.add(head + words * 8 + i)) }
                .load(Ordering::Relaxed);
        }
        Ok(())
    }

    /// Copy `src` into the region at `offset`, each byte written once (relaxed).
    ///
    /// Publish it to the peer with a release store or fence, as the protocol requires.
    ///
    /// # Errors
    /// [`AccessError`] if the range is outside the region (nothing is copied).
    pub fn write(&self, offset: usize, src: &[u8]) -> Result<(), AccessError> {
        let base = self.at(offset, src.len(), 1)?;
        if bulk_copy_applies(src.len()) {
            // SAFETY: as in `read`, with the roles swapped: `base` is valid for `src.len()`
            // bytes and `src` is a private buffer that does not overlap the region.
            unsafe { bulk_copy(base, src.as_ptr(), src.len()) };
            return Ok(());
        }
        let (head, words, _) = split_words(offset, src.len());
        let (src_head, rest) = src.split_at(head);
        let (src_words, src_tail) = rest.split_at(words * 8);
        for (i, s) in src_head.iter().enumerate() {
            // SAFETY: as in `read`.
            unsafe { AtomicU8::from_ptr(base.add(i)) }.store(*s, Ordering::Relaxed);
        }
        for (i, s) in src_words.chunks_exact(8).enumerate() {
            let mut w = [0u8; 8];
            w.copy_from_slice(s);
            // SAFETY: as in `read`.
            unsafe { AtomicU64::from_ptr(base.add(head + i * 8).cast()) }
                .store(u64::from_ne_bytes(w), Ordering::Relaxed);
        }
        for (i, s) in src_tail.iter().enumerate() {
            // SAFETY: as in `read`.
            unsafe { AtomicU8::from_ptr(base.add(head + words * 8 + i)) }
                .store(*s, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Set `len` bytes at `offset` to `byte`.
    ///
    /// # Errors
    /// [`AccessError`] if the range is outside the region (nothing is written).
    pub fn fill(&self, offset: usize, len: usize, byte: u8) -> Result<(), AccessError> {
        self.at(offset, len, 1)?;
        let chunk = [byte; 64];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(chunk.len());
            self.write(offset + done, &chunk[..n])?;
            done += n;
        }
        Ok(())
    }
}

/// Copies at least this long go through [`bulk_copy`] where it exists; shorter ones (ring
/// indexes, small messages) keep the word loop, which has no start-up cost.
const BULK_COPY_MIN: usize = 256;

/// Whether a copy of `len` bytes uses [`bulk_copy`].
#[inline]
fn bulk_copy_applies(len: usize) -> bool {
    cfg!(all(target_arch = "x86_64", not(miri))) && len >= BULK_COPY_MIN
}

/// Copy `len` bytes from `src` to `dst` with one `rep movsb` (x86-64, outside Miri).
///
/// Why this is sound where a plain `ptr::copy_nonoverlapping` would not be: one side is shared
/// memory that a peer may write while we copy, and a Rust copy racing with a foreign write is
/// a data race (undefined behaviour: the compiler may assume the bytes do not change under it,
/// re-read them, or split the copy). An `asm!` block is opaque to the compiler: it must only
/// behave like *some* Rust code, and what it does here — every byte of `src` loaded once and
/// stored once to `dst`, by plain x86 moves, which the hardware makes single-copy atomic per
/// byte — is exactly what the portable path does with relaxed `AtomicU8`/`AtomicU64` accesses.
/// A racing peer can therefore only make us copy a mix of old and new bytes, as before; it
/// cannot make the compiler miscompile anything. With ERMS/FSRM (every current x86 core)
/// `rep movsb` runs at `memcpy` speed with vector-width stores, where the word loop moves 8
/// bytes per instruction.
///
/// # Safety
/// `src` must be valid for reads and `dst` for writes of `len` bytes, and the ranges must not
/// overlap. Any bytes of either range that are not shared memory must not be accessed by
/// anyone else during the call.
#[cfg(all(target_arch = "x86_64", not(miri)))]
#[inline]
unsafe fn bulk_copy(dst: *mut u8, src: *const u8, len: usize) {
    // SAFETY: the caller guarantees both ranges are valid and disjoint; `rep movsb` touches
    // exactly `len` bytes of each, ascending (the ABI guarantees the direction flag is clear
    // on entry to an `asm!` block), uses no stack and leaves the flags alone. It clobbers
    // rcx, rsi and rdi, declared as inout operands whose outputs are discarded.
    unsafe {
        core::arch::asm!(
            "rep movsb",
            inout("rcx") len => _,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags)
        );
    }
}

/// Never called: [`bulk_copy_applies`] is false on this target.
#[cfg(not(all(target_arch = "x86_64", not(miri))))]
#[inline]
unsafe fn bulk_copy(_dst: *mut u8, _src: *const u8, _len: usize) {
    unreachable!("bulk_copy_applies is false without x86-64 asm")
}

/// Split `len` bytes at `offset` into a head of single bytes up to the next multiple of 8,
/// whole 8-byte words, and a tail of single bytes.
fn split_words(offset: usize, len: usize) -> (usize, usize, usize) {
    let head = ((8 - offset % 8) % 8).min(len);
    let words = (len - head) / 8;
    (head, words, len - head - words * 8)
}

impl unistack_cstruct::ByteSource for Shm {
    fn byte_len(&self) -> usize {
        self.len
    }

    fn read_at(&self, offset: usize, dst: &mut [u8]) -> Result<(), unistack_cstruct::Error> {
        self.read(offset, dst)
            .map_err(|e| unistack_cstruct::Error::OutOfRange {
                offset: e.offset,
                len: e.len,
                available: e.available,
            })
    }
}

/// `len` bytes at `offset` of a [`Shm`], checked: the unit of vectored file I/O straight
/// into or out of shared pages ([`read_file_into`], [`write_file_from`]), as a real back end
/// has its disk DMA into the pages a front end granted instead of copying through a buffer.
#[derive(Debug, Clone, Copy)]
pub struct ShmRange<'a> {
    ptr: *mut u8,
    len: usize,
    _shm: core::marker::PhantomData<&'a Shm>,
}

impl Shm {
    /// The range `offset .. offset + len` of this region.
    ///
    /// # Errors
    /// [`AccessError`] if it is outside the region.
    pub fn range(&self, offset: usize, len: usize) -> Result<ShmRange<'_>, AccessError> {
        Ok(ShmRange {
            ptr: self.at(offset, len, 1)?,
            len,
            _shm: core::marker::PhantomData,
        })
    }
}

impl ShmRange<'_> {
    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether its address and length are multiples of `align` (what `O_DIRECT` asks of
    /// every buffer).
    pub fn is_aligned(&self, align: usize) -> bool {
        align != 0 && self.ptr.align_offset(align) == 0 && self.len.is_multiple_of(align)
    }
}

/// At most this many ranges per `preadv`/`pwritev` call (Linux's `IOV_MAX` is 1024).
#[cfg(feature = "std")]
const IOV_BATCH: usize = 64;

/// Fill `dst`, in order, from `file` at `offset` with `preadv` (the kernel writes the shared
/// pages directly; nothing is copied through a private buffer). Short reads are continued;
/// end of file before the ranges are full is `UnexpectedEof`.
///
/// The pages may be written by the peer meanwhile, as a device's DMA may race with the
/// guest: the kernel's copy is outside the Rust abstract machine (a system call, like the
/// `asm!` behind [`Shm::read`] and [`Shm::write`]), and this process holds no reference into
/// the region, so a race can only leave mixed bytes in the peer's own pages.
///
/// # Errors
/// The system call's error (`EINVAL` for an `O_DIRECT` descriptor and unaligned ranges).
#[cfg(feature = "std")]
pub fn read_file_into(
    file: &std::fs::File,
    offset: u64,
    dst: &[ShmRange<'_>],
) -> std::io::Result<()> {
    vectored(file, offset, dst, true)
}

/// Write `src`, in order, to `file` at `offset` with `pwritev` (the kernel reads the shared
/// pages directly). Short writes are continued. As [`read_file_into`] says, a peer writing
/// its pages meanwhile only changes what lands on the disk.
///
/// # Errors
/// The system call's error; `WriteZero` if the kernel accepts nothing.
#[cfg(feature = "std")]
pub fn write_file_from(
    file: &std::fs::File,
    offset: u64,
    src: &[ShmRange<'_>],
) -> std::io::Result<()> {
    vectored(file, offset, src, false)
}

#[cfg(feature = "std")]
fn vectored(
    file: &std::fs::File,
    mut offset: u64,
    ranges: &[ShmRange<'_>],
    read: bool,
) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    let empty = libc::iovec {
        iov_base: core::ptr::null_mut(),
        iov_len: 0,
    };
    // (index of the first range not yet done, bytes of it already done)
    let (mut i, mut done_in) = (0usize, 0usize);
    while i < ranges.len() {
        let mut iov = [empty; IOV_BATCH];
        let mut n = 0;
        let mut want = 0usize;
        for (k, r) in ranges.iter().enumerate().skip(i).take(IOV_BATCH) {
            let skip = if k == i { done_in } else { 0 };
            iov[n] = libc::iovec {
                // SAFETY: `skip <= r.len`, so the pointer stays inside (or one past) the
                // range that `Shm::range` checked.
                iov_base: unsafe { r.ptr.add(skip) }.cast(),
                iov_len: r.len - skip,
            };
            want += r.len - skip;
            n += 1;
        }
        if want == 0 {
            // Only empty ranges left.
            return Ok(());
        }
        let off = libc::off_t::try_from(offset).map_err(|_| std::io::ErrorKind::InvalidInput)?;
        // SAFETY: every iovec points into a live `Shm` (the `ShmRange` lifetime borrows it)
        // that is valid for reads and writes of the checked range (`Shm::from_raw_parts`
        // contract); `n <= IOV_BATCH` entries are initialised. The kernel touches only those
        // bytes, and no Rust reference into them exists.
        let got = unsafe {
            if read {
                libc::preadv(fd, iov.as_ptr(), n as libc::c_int, off)
            } else {
                libc::pwritev(fd, iov.as_ptr(), n as libc::c_int, off)
            }
        };
        let got = match usize::try_from(got) {
            Ok(0) if read => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(g) => g,
            Err(_) => {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
        };
        offset += got as u64;
        // Advance past what was transferred.
        let mut left = got;
        while left > 0 && i < ranges.len() {
            let rest = ranges[i].len - done_in;
            if left >= rest {
                left -= rest;
                i += 1;
                done_in = 0;
            } else {
                done_in += left;
                left = 0;
            }
        }
        // Skip empty ranges so the loop ends.
        while i < ranges.len() && ranges[i].len == done_in {
            i += 1;
            done_in = 0;
        }
    }
    Ok(())
}

/// Zeroed, page-aligned heap memory viewed as a [`Shm`]; freed on drop.
#[cfg(feature = "alloc")]
#[derive(Debug)]
pub struct ShmBox {
    shm: Shm,
    layout: core::alloc::Layout,
}

#[cfg(feature = "alloc")]
impl ShmBox {
    /// Allocate `pages` zeroed pages.
    ///
    /// # Panics
    /// If `pages` is 0 or the size overflows; aborts if the allocator fails (as `Box` does).
    pub fn new(pages: usize) -> Self {
        let len = pages.checked_mul(PAGE_SIZE).filter(|&l| l > 0);
        let layout = len
            .and_then(|l| core::alloc::Layout::from_size_align(l, PAGE_SIZE).ok())
            .expect("ShmBox: page count must be non-zero and the size must fit");
        // SAFETY: `layout` has a non-zero size (checked above).
        let raw = unsafe { alloc::alloc::alloc_zeroed(layout) };
        let Some(ptr) = NonNull::new(raw) else {
            alloc::alloc::handle_alloc_error(layout)
        };
        // SAFETY: `ptr` is a fresh allocation of `layout.size()` bytes, page-aligned, readable
        // and writable, owned by this `ShmBox` and freed only in `drop`, after which the `Shm`
        // is gone with it; nothing else in this process gets a pointer to it, so every access
        // goes through the `Shm` (atomic).
        let shm = unsafe { Shm::from_raw_parts(ptr, layout.size()) };
        ShmBox { shm, layout }
    }

    /// The region.
    pub fn shm(&self) -> &Shm {
        &self.shm
    }
}

#[cfg(feature = "alloc")]
impl Drop for ShmBox {
    fn drop(&mut self) {
        // SAFETY: `ptr` was allocated in `new` with exactly `self.layout` and is freed once,
        // here; the `Shm` field is never used again.
        unsafe { alloc::alloc::dealloc(self.shm.ptr.as_ptr(), self.layout) }
    }
}

/// Pages of files mapped `MAP_SHARED`, contiguously and in order, viewed as a [`Shm`];
/// unmapped on drop (Linux).
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct ShmMap {
    shm: Shm,
}

#[cfg(feature = "std")]
impl ShmMap {
    /// Map the first page of each file, read-write and shared, one after the other.
    ///
    /// # Errors
    /// The `mmap` error; `InvalidInput` for an empty list. Files shorter than a page are
    /// refused (`InvalidData`), since touching a mapped page past the end of a file raises
    /// `SIGBUS`; a file truncated after mapping is the one hazard left (see the crate docs).
    pub fn map_files(files: &[&std::fs::File]) -> std::io::Result<Self> {
        use std::os::fd::AsRawFd;
        if files.is_empty() {
            return Err(std::io::ErrorKind::InvalidInput.into());
        }
        for f in files {
            if f.metadata()?.len() < PAGE_SIZE as u64 {
                return Err(std::io::ErrorKind::InvalidData.into());
            }
        }
        let len = files
            .len()
            .checked_mul(PAGE_SIZE)
            .ok_or(std::io::ErrorKind::InvalidInput)?;
        // SAFETY: an anonymous private PROT_NONE reservation at an address of the kernel's
        // choosing: it cannot alias any existing Rust object.
        let base = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let unmap = |base: *mut libc::c_void| {
            // SAFETY: `base..base + len` is the reservation made above, which nothing else
            // refers to yet.
            unsafe { libc::munmap(base, len) };
        };
        for (i, f) in files.iter().enumerate() {
            // SAFETY: `i * PAGE_SIZE < len`, inside the reservation.
            let at = unsafe { base.cast::<u8>().add(i * PAGE_SIZE) };
            // SAFETY: MAP_FIXED replaces one page of our own reservation (no other mapping is
            // clobbered) with the file's first page; the file holds at least a page (checked).
            let p = unsafe {
                libc::mmap(
                    at.cast(),
                    PAGE_SIZE,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED | libc::MAP_FIXED,
                    f.as_raw_fd(),
                    0,
                )
            };
            if p == libc::MAP_FAILED {
                let e = std::io::Error::last_os_error();
                unmap(base);
                return Err(e);
            }
        }
        let ptr = NonNull::new(base.cast::<u8>()).ok_or(std::io::ErrorKind::Other)?;
        // SAFETY: `ptr..ptr + len` is mapped readable and writable (every page replaced above),
        // page-aligned, and stays mapped until `drop`, which is the last use of the `Shm`;
        // nothing else in this process gets a pointer to it (other processes may write it,
        // which the contract allows).
        let shm = unsafe { Shm::from_raw_parts(ptr, len) };
        Ok(ShmMap { shm })
    }

    /// The region.
    pub fn shm(&self) -> &Shm {
        &self.shm
    }
}

#[cfg(feature = "std")]
impl Drop for ShmMap {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map_files`, unmapped once; the `Shm` is not used again.
        unsafe { libc::munmap(self.shm.ptr.as_ptr().cast(), self.shm.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_little_endian_and_bounds_checked() {
        let b = ShmBox::new(1);
        let s = b.shm();
        s.store_u32(8, 0x0403_0201, Ordering::Relaxed).unwrap();
        let mut out = [0u8; 4];
        s.read(8, &mut out).unwrap();
        assert_eq!(out, [1, 2, 3, 4]);
        assert_eq!(s.load_u16(10, Ordering::Relaxed), Ok(0x0403));
        assert_eq!(s.fetch_or_u8(9, 0x10, Ordering::SeqCst), Ok(2));
        assert_eq!(s.fetch_and_u8(9, 0x10, Ordering::SeqCst), Ok(0x12));
        assert_eq!(s.load_u8(9, Ordering::Relaxed), Ok(0x10));
        assert!(s.load_u32(4094, Ordering::Relaxed).is_err());
        assert!(s.load_u32(4096, Ordering::Relaxed).is_err());
        assert!(s.load_u32(6, Ordering::Relaxed).is_err(), "misaligned");
        assert!(s.load_u16(usize::MAX, Ordering::Relaxed).is_err());
        assert!(s.store_u8(4096, 0, Ordering::Relaxed).is_err());
        assert!(s.read(4090, &mut [0u8; 7]).is_err());
        assert!(s.write(usize::MAX, &[0u8; 2]).is_err());
        assert!(s.fill(4000, 97, 1).is_err());
    }

    #[test]
    fn copies_round_trip_at_every_alignment() {
        let b = ShmBox::new(1);
        let s = b.shm();
        let src: [u8; 40] = core::array::from_fn(|i| i as u8 + 1);
        for off in 0..16 {
            for len in 0..=src.len() {
                s.fill(0, 64, 0xee).unwrap();
                s.write(off, &src[..len]).unwrap();
                let mut all = [0u8; 64];
                s.read(0, &mut all).unwrap();
                assert!(all[..off].iter().all(|&x| x == 0xee));
                assert_eq!(&all[off..off + len], &src[..len]);
                assert!(all[off + len..].iter().all(|&x| x == 0xee));
            }
        }
    }

    #[test]
    fn bulk_copies_round_trip_at_every_alignment_and_stay_in_range() {
        // Lengths around BULK_COPY_MIN take both paths; every offset mod 8, both directions.
        let b = ShmBox::new(2);
        let s = b.shm();
        let src: alloc::vec::Vec<u8> = (0..1500u32).map(|i| (i * 7 + 3) as u8).collect();
        for off in [0usize, 1, 3, 7, 8, 13, 4095, 4096 - 700] {
            for len in [
                BULK_COPY_MIN - 1,
                BULK_COPY_MIN,
                BULK_COPY_MIN + 5,
                700,
                1500,
            ] {
                if off + len + 16 > s.len() {
                    continue;
                }
                s.fill(0, s.len(), 0xee).unwrap();
                s.write(off + 8, &src[..len]).unwrap();
                let mut all = alloc::vec![0u8; s.len()];
                s.read(0, &mut all).unwrap();
                assert!(
                    all[..off + 8].iter().all(|&x| x == 0xee),
                    "before {off}/{len}"
                );
                assert_eq!(&all[off + 8..off + 8 + len], &src[..len]);
                assert!(
                    all[off + 8 + len..].iter().all(|&x| x == 0xee),
                    "after {off}/{len}"
                );
                let mut back = alloc::vec![0u8; len];
                s.read(off + 8, &mut back).unwrap();
                assert_eq!(back, &src[..len]);
            }
        }
        assert!(s.read(s.len() - 300, &mut [0u8; 301]).is_err());
        assert!(s.write(s.len() - 300, &[0u8; 301]).is_err());
    }

    #[cfg(feature = "std")]
    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot call preadv/pwritev")]
    fn vectored_file_io_lands_in_the_ranges_and_nowhere_else() {
        use std::io::{Seek, SeekFrom, Write};
        let dir = std::env::temp_dir().join(std::format!("shm-vec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        let content: alloc::vec::Vec<u8> = (0..40_000u32).map(|i| (i * 13 + 5) as u8).collect();
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        f.write_all(&content).unwrap();
        let b = ShmBox::new(4);
        let s = b.shm();
        s.fill(0, s.len(), 0xee).unwrap();
        // Three ranges of different lengths and alignments, plus an empty one.
        let spec = [
            (100usize, 3000usize),
            (4096, 4096),
            (9000, 0),
            (12_000, 777),
        ];
        let ranges: alloc::vec::Vec<_> =
            spec.iter().map(|&(o, l)| s.range(o, l).unwrap()).collect();
        read_file_into(&f, 1234, &ranges).unwrap();
        let mut all = alloc::vec![0u8; s.len()];
        s.read(0, &mut all).unwrap();
        let mut at = 1234;
        let mut expect = alloc::vec![0xeeu8; s.len()];
        for &(o, l) in &spec {
            expect[o..o + l].copy_from_slice(&content[at..at + l]);
            at += l;
        }
        assert_eq!(all, expect);
        // Back out to another place in the file.
        write_file_from(&f, 30_000, &ranges).unwrap();
        let mut back = alloc::vec![0u8; 3000 + 4096 + 777];
        f.seek(SeekFrom::Start(30_000)).unwrap();
        std::io::Read::read_exact(&mut f, &mut back).unwrap();
        assert_eq!(back, &content[1234..1234 + back.len()]);
        // Past the end of the file: an error, not a hang.
        let e = read_file_into(&f, 39_000, &ranges).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
        // More ranges than one system call takes.
        let many: alloc::vec::Vec<_> = (0..IOV_BATCH * 2 + 3)
            .map(|k| s.range(k * 16, 7).unwrap())
            .collect();
        read_file_into(&f, 0, &many).unwrap();
        for k in 0..many.len() {
            let mut got = [0u8; 7];
            s.read(k * 16, &mut got).unwrap();
            assert_eq!(&got[..], &content[k * 7..k * 7 + 7], "range {k}");
        }
        assert!(s.range(s.len() - 1, 2).is_err());
        assert!(s.range(4096, 4096).unwrap().is_aligned(4096));
        assert!(!s.range(4096, 512).unwrap().is_aligned(4096));
        assert!(!s.range(100, 4096).unwrap().is_aligned(4096));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn split_words_covers_the_range() {
        for off in 0..20 {
            for len in 0..40 {
                let (h, w, t) = split_words(off, len);
                assert_eq!(h + 8 * w + t, len);
                assert!(h < 8 && t < 8);
                if w > 0 {
                    assert_eq!((off + h) % 8, 0);
                }
            }
        }
    }
}
