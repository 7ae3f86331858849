//! UDP sockets: bounded queues of datagrams.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use unistack_ipv4::Ipv4Address;

/// Why a UDP send was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UdpError {
    /// The transmit queue is full.
    QueueFull,
    /// The datagram does not fit the MTU (fragmenting UDP is not supported yet).
    TooLarge,
}

impl core::fmt::Display for UdpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            UdpError::QueueFull => "transmit queue full",
            UdpError::TooLarge => "datagram larger than the MTU",
        })
    }
}

impl core::error::Error for UdpError {}

/// A datagram with its peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// The peer's address.
    pub addr: Ipv4Address,
    /// The peer's port.
    pub port: u16,
    /// The payload.
    pub data: Vec<u8>,
}

/// A UDP socket with bounded receive and transmit queues (datagrams beyond them are dropped
/// and counted).
#[derive(Debug, Default)]
pub struct UdpSocket {
    port: u16,
    rx: VecDeque<Datagram>,
    tx: VecDeque<Datagram>,
    limit: usize,
    rx_dropped: u64,
}

impl UdpSocket {
    /// A socket queueing at most `limit` datagrams each way.
    pub fn new(limit: usize) -> Self {
        UdpSocket {
            limit,
            ..UdpSocket::default()
        }
    }

    pub(crate) fn bound(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Datagrams dropped because the receive queue was full.
    pub fn rx_dropped(&self) -> u64 {
        self.rx_dropped
    }

    /// Queue `data` for `(addr, port)`.
    ///
    /// # Errors
    /// [`UdpError::QueueFull`]; [`UdpError::TooLarge`] above 65507 bytes. A datagram larger
    /// than the interface's MTU leaves as IPv4 fragments (the peer reassembles it).
    pub fn send_to(&mut self, data: &[u8], addr: Ipv4Address, port: u16) -> Result<(), UdpError> {
        if data.len() > 65_507 {
            return Err(UdpError::TooLarge);
        }
        if self.tx.len() >= self.limit {
            return Err(UdpError::QueueFull);
        }
        self.tx.push_back(Datagram {
            addr,
            port,
            data: data.to_vec(),
        });
        Ok(())
    }

    /// The next received datagram.
    pub fn recv(&mut self) -> Option<Datagram> {
        self.rx.pop_front()
    }

    pub(crate) fn deliver(&mut self, addr: Ipv4Address, port: u16, data: &[u8]) {
        if self.rx.len() >= self.limit {
            self.rx_dropped += 1;
            return;
        }
        self.rx.push_back(Datagram {
            addr,
            port,
            data: data.to_vec(),
        });
    }

    pub(crate) fn next_tx(&mut self) -> Option<Datagram> {
        self.tx.pop_front()
    }
}
