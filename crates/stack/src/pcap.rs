//! Recording frames as a pcap capture (feature `std`): any device can be wrapped.

use std::io::{self, Write};

use core::time::Duration;

use crate::device::{Device, DeviceCaps, Tso};

/// Writes the classic pcap format (microsecond timestamps, Ethernet link type).
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    snaplen: usize,
    /// Frames recorded.
    pub frames: u64,
    /// The first write error, if any (recording stops, the device keeps working).
    pub error: Option<io::ErrorKind>,
}

impl<W: Write> PcapWriter<W> {
    /// Write the global header to `out`.
    ///
    /// # Errors
    /// The write failed.
    pub fn new(out: W) -> io::Result<Self> {
        Self::with_snaplen(out, 65535)
    }

    /// Like [`new`](Self::new), keeping at most `snaplen` bytes of each frame (headers
    /// only, for long sessions); the original length is still recorded.
    ///
    /// # Errors
    /// The write failed.
    pub fn with_snaplen(mut out: W, snaplen: u32) -> io::Result<Self> {
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes());
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        h[16..20].copy_from_slice(&snaplen.to_le_bytes());
        h[20..24].copy_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
        out.write_all(&h)?;
        Ok(PcapWriter {
            out,
            snaplen: snaplen as usize,
            frames: 0,
            error: None,
        })
    }

    /// Record one frame seen at `at` (time since the capture's epoch).
    pub fn record(&mut self, at: Duration, frame: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let kept = frame.get(..self.snaplen.min(frame.len())).unwrap_or(frame);
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&(at.as_secs() as u32).to_le_bytes());
        h[4..8].copy_from_slice(&at.subsec_micros().to_le_bytes());
        h[8..12].copy_from_slice(&(kept.len() as u32).to_le_bytes());
        h[12..16].copy_from_slice(&len.to_le_bytes());
        match self
            .out
            .write_all(&h)
            .and_then(|()| self.out.write_all(kept))
        {
            Ok(()) => self.frames += 1,
            Err(e) => self.error = Some(e.kind()),
        }
    }

    /// Flush and return the writer.
    ///
    /// # Errors
    /// The flush failed.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A device wrapper that records every frame received and sent.
#[derive(Debug)]
pub struct Recorder<D, W: Write> {
    inner: D,
    pcap: PcapWriter<W>,
}

impl<D: Device, W: Write> Recorder<D, W> {
    /// Record `inner`'s traffic into `pcap`.
    pub fn new(inner: D, pcap: PcapWriter<W>) -> Self {
        Recorder { inner, pcap }
    }

    /// The wrapped device.
    pub fn inner_mut(&mut self) -> &mut D {
        &mut self.inner
    }

    /// Stop recording: the device and the capture writer.
    pub fn into_parts(self) -> (D, PcapWriter<W>) {
        (self.inner, self.pcap)
    }
}

impl<D: Device, W: Write> Device for Recorder<D, W> {
    fn caps(&self) -> DeviceCaps {
        self.inner.caps()
    }

    fn receive<R>(&mut self, now: Duration, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        let pcap = &mut self.pcap;
        self.inner.receive(now, |frame| {
            pcap.record(now, frame);
            f(frame)
        })
    }

    fn transmit<R>(
        &mut self,
        now: Duration,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        let pcap = &mut self.pcap;
        self.inner.transmit(now, len, |buf| {
            let r = f(buf);
            pcap.record(now, buf);
            r
        })
    }

    /// Recorded as the one large frame the stack handed over, its TCP checksum left to the
    /// device (as `tcpdump` on a Linux interface with TSO shows it: "incorrect cksum").
    fn transmit_tso<R>(
        &mut self,
        now: Duration,
        len: usize,
        tso: Tso,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        let pcap = &mut self.pcap;
        self.inner.transmit_tso(now, len, tso, |buf| {
            let r = f(buf);
            pcap.record(now, buf);
            r
        })
    }
}
