//! The block-device trait users program against, and an in-memory disk.

/// A disk addressed in bytes, with a logical sector size.
///
/// - `read_at` accepts any offset and length inside the capacity (a driver reads the covering
///   sectors and copies out the part asked for), so a tar or any byte-addressed image can be
///   read without the caller thinking in sectors;
/// - `write_at` and `discard` need offset and length aligned to [`sector_size`]
///   (a partial-sector write would be a read-modify-write that is not atomic);
/// - `flush` returns once every write acknowledged before it is on stable storage;
/// - after `discard` the range reads as unspecified data (this crate's back end and
///   [`MemDisk`] return zeros).
///
/// [`sector_size`]: BlockDevice::sector_size
pub trait BlockDevice {
    /// The error type.
    type Error;

    /// The logical sector size in bytes (a power of two, at least 512).
    fn sector_size(&self) -> u32;

    /// The capacity in bytes (a multiple of the sector size).
    fn capacity(&self) -> u64;

    /// Whether writes and discards are refused.
    fn read_only(&self) -> bool {
        false
    }

    /// Fill `buf` from the disk starting at byte `offset`.
    ///
    /// # Errors
    /// The range is not inside the capacity; I/O errors.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Self::Error>;

    /// Write `buf` to the disk at byte `offset` (both sector-aligned).
    ///
    /// # Errors
    /// Unaligned or out of range; read-only; I/O errors.
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), Self::Error>;

    /// Make every acknowledged write durable.
    ///
    /// # Errors
    /// I/O errors.
    fn flush(&mut self) -> Result<(), Self::Error>;

    /// Tell the disk that `len` bytes at `offset` (both sector-aligned) are no longer in use.
    ///
    /// # Errors
    /// Unaligned or out of range; not supported; read-only; I/O errors.
    fn discard(&mut self, offset: u64, len: u64) -> Result<(), Self::Error>;
}

/// Check that `[offset, offset + len)` lies inside `capacity`, and, if `aligned`, that both
/// are multiples of `sector`. Returns the end.
pub(crate) fn check_range(
    offset: u64,
    len: u64,
    capacity: u64,
    sector: u32,
    aligned: bool,
) -> Option<u64> {
    let end = offset.checked_add(len)?;
    if end > capacity {
        return None;
    }
    let s = u64::from(sector.max(1));
    if aligned && (!offset.is_multiple_of(s) || !len.is_multiple_of(s)) {
        return None;
    }
    Some(end)
}

/// A disk in memory: the model the tests check the real path against, and a stand-in for a
/// disk in examples. Discarded ranges read as zeros.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemDisk {
    data: alloc::vec::Vec<u8>,
    sector: u32,
    read_only: bool,
}

/// [`MemDisk`]'s error: the request was out of range, unaligned or a write to a read-only disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemDiskError;

#[cfg(feature = "alloc")]
impl MemDisk {
    /// A zeroed disk of `sectors` sectors of `sector_size` bytes.
    pub fn new(sectors: u64, sector_size: u32) -> Self {
        let len = usize::try_from(sectors * u64::from(sector_size)).unwrap_or(0);
        MemDisk {
            data: alloc::vec![0; len],
            sector: sector_size,
            read_only: false,
        }
    }

    /// A disk holding `data` (its length rounded down to whole sectors).
    pub fn from_bytes(mut data: alloc::vec::Vec<u8>, sector_size: u32) -> Self {
        let whole = data.len() / sector_size.max(1) as usize * sector_size as usize;
        data.truncate(whole);
        MemDisk {
            data,
            sector: sector_size,
            read_only: false,
        }
    }

    /// Refuse writes and discards from now on.
    pub fn set_read_only(&mut self, ro: bool) {
        self.read_only = ro;
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    fn range(&self, offset: u64, len: usize, aligned: bool) -> Option<core::ops::Range<usize>> {
        let end = check_range(offset, len as u64, self.capacity(), self.sector, aligned)?;
        Some(usize::try_from(offset).ok()?..usize::try_from(end).ok()?)
    }
}

#[cfg(feature = "alloc")]
impl BlockDevice for MemDisk {
    type Error = MemDiskError;

    fn sector_size(&self) -> u32 {
        self.sector
    }

    fn capacity(&self) -> u64 {
        self.data.len() as u64
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), MemDiskError> {
        let r = self.range(offset, buf.len(), false).ok_or(MemDiskError)?;
        buf.copy_from_slice(self.data.get(r).ok_or(MemDiskError)?);
        Ok(())
    }

    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), MemDiskError> {
        if self.read_only {
            return Err(MemDiskError);
        }
        let r = self.range(offset, buf.len(), true).ok_or(MemDiskError)?;
        self.data
            .get_mut(r)
            .ok_or(MemDiskError)?
            .copy_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), MemDiskError> {
        Ok(())
    }

    fn discard(&mut self, offset: u64, len: u64) -> Result<(), MemDiskError> {
        if self.read_only {
            return Err(MemDiskError);
        }
        let len = usize::try_from(len).map_err(|_| MemDiskError)?;
        let r = self.range(offset, len, true).ok_or(MemDiskError)?;
        self.data.get_mut(r).ok_or(MemDiskError)?.fill(0);
        Ok(())
    }
}
