//! A cross-process backend for one Linux host: each process acts as a domain, pages are
//! files mapped `MAP_SHARED`, events are Unix datagram sockets, the store is a directory.
//!
//! # On-disk layout
//! Everything lives under one root directory (default [`DEFAULT_ROOT`]; use a tmpfs such as
//! `/dev/shm` so pages never touch a disk). `<d>` and `<p>` are decimal domain ids, numbers
//! are decimal without leading zeros. A C shim (replacement `libxengnttab`/`libxenevtchn`/
//! `libxenstore` under libxenvchan) follows the same rules to interoperate.
//!
//! - `grants/<d>/<p>/<ref>`: a page domain `<d>` granted to domain `<p>` as grant reference
//!   `<ref>`: a regular file of exactly 4096 bytes, created (`O_EXCL`, mode 0600) by `<d>`,
//!   mapped `MAP_SHARED` read-write by both. Ending the grant unlinks it; existing mappings
//!   stay valid, as in Xen. References count from 8; a granter skips names that exist.
//! - `events/<d>/<p>/<port>`: a Unix datagram socket bound by domain `<d>` for its port
//!   `<port>`, which only domain `<p>` may bind to. A datagram of 4 bytes (the sender's port,
//!   little-endian) is one event; content is otherwise ignored, and several queued datagrams
//!   are one pending event. The socket is readable when an event is pending (`poll`).
//! - `events/<d>/<p>/<port>.peer`: written by `<p>` when it binds to `<d>`'s port: the decimal
//!   number of its own port, whose socket is `events/<p>/<d>/<that port>`. The binder then
//!   sends one event. Ports count from 1; an allocator skips names that exist.
//! - `store/<key>`: the value of store key `<key>` (leading `/` dropped; components of
//!   `[A-Za-z0-9_.:@-]`, not `.` or `..`), written to a temporary name and renamed into
//!   place. A key with children cannot also hold a value here (vchan never needs both).
//!   Removing a key removes its subtree.
//!
//! Each endpoint removes its files when dropped. A process that dies leaves them behind (there
//! is no unmap notification): delete the root between runs.
//!
//! # Isolation
//! This backend is for testing and interop on one host, not an isolation boundary: any process
//! that can open the root can read and write every page, and a peer that truncates a page file
//! makes our next access to it fault (`SIGBUS`), which no check in this crate can catch. (A
//! sealed `memfd` passed over a socket would close that hole at the cost of the simple
//! by-name layout a C shim can follow.) Everything else a peer can do through the pages is
//! handled as for a real hostile domain.

use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::string::ToString;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use std::vec::Vec;

use crate::backend::{DomId, EventChannel, Events, GrantRef, Grants, Mapping, Port, Store};
use crate::error::BackendError;
use crate::shm::{PAGE_SIZE, Shm, ShmMap};

/// The default root directory.
pub const DEFAULT_ROOT: &str = "/dev/shm/unistack-vchan";

/// One process's domain on the host: a [`crate::Backend`].
#[derive(Clone, Debug)]
pub struct LinuxHost {
    inner: Arc<Host>,
}

#[derive(Debug)]
struct Host {
    root: PathBuf,
    id: DomId,
    next_ref: AtomicU32,
    next_port: AtomicU32,
}

impl LinuxHost {
    /// Act as domain `id` under `root` (created if missing).
    ///
    /// # Errors
    /// If the directory cannot be created.
    pub fn new(root: impl Into<PathBuf>, id: DomId) -> io::Result<Self> {
        let root = root.into();
        for sub in ["grants", "events", "store"] {
            fs::create_dir_all(root.join(sub))?;
        }
        Ok(LinuxHost {
            inner: Arc::new(Host {
                root,
                id,
                next_ref: AtomicU32::new(8),
                next_port: AtomicU32::new(1),
            }),
        })
    }

    /// This domain's id.
    pub fn id(&self) -> DomId {
        self.inner.id
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// Files this domain still holds: (granted pages, event sockets), for leak checks.
    pub fn outstanding(&self) -> (usize, usize) {
        let count = |dir: PathBuf, skip_peer_files: bool| -> usize {
            let Ok(peers) = fs::read_dir(dir) else {
                return 0;
            };
            peers
                .flatten()
                .filter_map(|p| fs::read_dir(p.path()).ok())
                .flat_map(|d| d.flatten())
                .filter(|e| {
                    !(skip_peer_files && e.file_name().to_string_lossy().ends_with(".peer"))
                })
                .count()
        };
        let me = self.inner.id.to_string();
        (
            count(self.root().join("grants").join(&me), false),
            count(self.root().join("events").join(&me), true),
        )
    }

    fn grant_path(&self, owner: DomId, peer: DomId, r: GrantRef) -> PathBuf {
        self.root()
            .join("grants")
            .join(owner.to_string())
            .join(peer.to_string())
            .join(r.to_string())
    }

    fn port_path(&self, owner: DomId, peer: DomId, port: Port) -> PathBuf {
        self.root()
            .join("events")
            .join(owner.to_string())
            .join(peer.to_string())
            .join(port.to_string())
    }
}

/// Files removed when dropped.
#[derive(Debug, Default)]
struct Files(Vec<PathBuf>);

impl Drop for Files {
    fn drop(&mut self) {
        for f in &self.0 {
            let _ = fs::remove_file(f);
        }
    }
}

/// Pages a [`LinuxHost`] shared; dropping unlinks their files (ends the grants).
#[derive(Debug)]
pub struct LinuxShared {
    map: ShmMap,
    _files: Files,
}

impl Mapping for LinuxShared {
    fn shm(&self) -> &Shm {
        self.map.shm()
    }
}

/// A peer's pages a [`LinuxHost`] mapped; dropping unmaps.
#[derive(Debug)]
pub struct LinuxMapped {
    map: ShmMap,
}

impl Mapping for LinuxMapped {
    fn shm(&self) -> &Shm {
        self.map.shm()
    }
}

impl Grants for LinuxHost {
    type Shared = LinuxShared;
    type Mapped = LinuxMapped;

    fn share(&self, peer: DomId, refs: &mut [GrantRef]) -> Result<LinuxShared, BackendError> {
        if refs.is_empty() {
            return Err(BackendError::Exhausted);
        }
        if let Some(dir) = self.grant_path(self.id(), peer, 0).parent() {
            fs::create_dir_all(dir)?;
        }
        let mut created = Files::default();
        let mut files = Vec::with_capacity(refs.len());
        for r in refs.iter_mut() {
            loop {
                let n = self.inner.next_ref.fetch_add(1, Ordering::Relaxed);
                if n == u32::MAX {
                    return Err(BackendError::Exhausted);
                }
                let path = self.grant_path(self.id(), peer, n);
                match OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                {
                    Ok(f) => {
                        created.0.push(path);
                        f.set_len(PAGE_SIZE as u64)?;
                        files.push(f);
                        *r = n;
                        break;
                    }
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let files: Vec<&File> = files.iter().collect();
        Ok(LinuxShared {
            map: ShmMap::map_files(&files)?,
            _files: created,
        })
    }

    fn map(&self, peer: DomId, refs: &[GrantRef]) -> Result<LinuxMapped, BackendError> {
        let mut files = Vec::with_capacity(refs.len());
        for r in refs {
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .open(self.grant_path(peer, self.id(), *r))
                .map_err(|_| BackendError::NoSuchGrant(*r))?;
            if f.metadata()?.len() != PAGE_SIZE as u64 {
                return Err(BackendError::NoSuchGrant(*r));
            }
            files.push(f);
        }
        let files: Vec<&File> = files.iter().collect();
        Ok(LinuxMapped {
            map: ShmMap::map_files(&files)?,
        })
    }
}

/// An event-channel port of a [`LinuxHost`]: a bound datagram socket. Dropping closes it and
/// removes its files. `AsFd` gives the socket, readable while an event is pending.
#[derive(Debug)]
pub struct LinuxEvent {
    host: LinuxHost,
    peer: DomId,
    port: Port,
    sock: UnixDatagram,
    /// Connected to the peer's port at the first notification, so that each notification
    /// is one `send` without resolving the socket's path again.
    send: Mutex<Option<UnixDatagram>>,
    /// The receive timeout `sock` has now (`wait` sets it only when it changes).
    timeout: Mutex<Option<Duration>>,
    remote: Mutex<Option<Port>>,
    _files: Files,
}

impl LinuxHost {
    fn new_port(&self, peer: DomId) -> Result<(Port, UnixDatagram, Files), BackendError> {
        if let Some(dir) = self.port_path(self.id(), peer, 0).parent() {
            fs::create_dir_all(dir)?;
        }
        loop {
            let port = self.inner.next_port.fetch_add(1, Ordering::Relaxed);
            if port == u32::MAX {
                return Err(BackendError::Exhausted);
            }
            let path = self.port_path(self.id(), peer, port);
            match UnixDatagram::bind(&path) {
                Ok(sock) => {
                    let peer_file = path.with_extension("peer");
                    let _ = fs::remove_file(&peer_file);
                    return Ok((port, sock, Files(std::vec![path, peer_file])));
                }
                Err(e) if e.kind() == ErrorKind::AddrInUse => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn event(&self, peer: DomId, remote: Option<Port>) -> Result<LinuxEvent, BackendError> {
        let (port, sock, files) = self.new_port(peer)?;
        Ok(LinuxEvent {
            host: self.clone(),
            peer,
            port,
            sock,
            send: Mutex::new(None),
            timeout: Mutex::new(None),
            remote: Mutex::new(remote),
            _files: files,
        })
    }
}

impl Events for LinuxHost {
    type Channel = LinuxEvent;

    fn alloc_unbound(&self, peer: DomId) -> Result<LinuxEvent, BackendError> {
        self.event(peer, None)
    }

    fn bind(&self, peer: DomId, remote: Port) -> Result<LinuxEvent, BackendError> {
        let target = self.port_path(peer, self.id(), remote);
        let peer_file = target.with_extension("peer");
        if !target.exists() || peer_file.exists() {
            return Err(BackendError::NoSuchPort(remote));
        }
        let ev = self.event(peer, Some(remote))?;
        let tmp = target.with_extension(std::format!("peer.{}", std::process::id()));
        fs::write(&tmp, ev.port.to_string())?;
        fs::rename(&tmp, &peer_file)?;
        ev.notify()?;
        Ok(ev)
    }
}

impl LinuxEvent {
    /// The peer's port: known from `bind`, or read from the `.peer` file it wrote.
    fn remote(&self) -> Option<Port> {
        let mut remote = self.remote.lock().unwrap_or_else(PoisonError::into_inner);
        if remote.is_none() {
            let file = self
                .host
                .port_path(self.host.id(), self.peer, self.port)
                .with_extension("peer");
            *remote = fs::read_to_string(file)
                .ok()
                .and_then(|s| s.trim().parse().ok());
        }
        *remote
    }

    /// Consume every queued datagram without blocking (one `recv(MSG_DONTWAIT)` each, the
    /// socket itself stays blocking); returns whether there was one.
    fn drain(&self) -> io::Result<bool> {
        let mut buf = [0u8; 16];
        let mut any = false;
        loop {
            match rustix::net::recv(&self.sock, &mut buf, rustix::net::RecvFlags::DONTWAIT) {
                Ok(_) => any = true,
                Err(rustix::io::Errno::AGAIN) => break,
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(any)
    }

    /// Send one event datagram to the peer's port over a socket connected to it (connected
    /// once, again after the peer's socket went away and came back).
    fn send_event(&self, path: &Path) -> io::Result<()> {
        let mut send = self.send.lock().unwrap_or_else(PoisonError::into_inner);
        for attempt in 0..2 {
            if send.is_none() {
                let s = UnixDatagram::unbound()?;
                s.set_nonblocking(true)?;
                s.connect(path)?;
                *send = Some(s);
            }
            let Some(s) = send.as_ref() else {
                break;
            };
            match s.send(&self.port.to_le_bytes()) {
                Ok(_) => return Ok(()),
                // The peer's socket was replaced: connect to the new one, once.
                Err(e) if attempt == 0 && e.kind() == ErrorKind::ConnectionRefused => {
                    *send = None;
                }
                Err(e) => return Err(e),
            }
        }
        Err(ErrorKind::ConnectionRefused.into())
    }
}

impl EventChannel for LinuxEvent {
    fn port(&self) -> Port {
        self.port
    }

    fn notify(&self) -> Result<(), BackendError> {
        let Some(remote) = self.remote() else {
            return Ok(());
        };
        let path = self.host.port_path(self.peer, self.host.id(), remote);
        match self.send_event(&path) {
            Ok(_) => Ok(()),
            // Queue full: an event is pending already. Gone: nobody to tell.
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::NotFound | ErrorKind::ConnectionRefused
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    fn wait(&self, timeout: Option<Duration>) -> Result<bool, BackendError> {
        if self.drain()? {
            return Ok(true);
        }
        let timeout = match timeout {
            Some(t) if t.is_zero() => return Ok(false),
            t => t,
        };
        {
            let mut current = self.timeout.lock().unwrap_or_else(PoisonError::into_inner);
            if *current != timeout {
                self.sock.set_read_timeout(timeout)?;
                *current = timeout;
            }
        }
        let mut buf = [0u8; 16];
        // The event that wakes us is the one we take: events sent after it are new ones,
        // which the next wait's drain takes together (draining here too cost a system call
        // per wakeup, almost always answered "nothing").
        loop {
            match self.sock.recv(&mut buf) {
                Ok(_) => return Ok(true),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Ok(false);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn peer_alive(&self) -> Option<bool> {
        self.probe()
    }
}

impl LinuxEvent {
    /// Probe the peer's socket without sending: a socket file nobody is bound to any more
    /// (connection refused) or that is gone means the peer's process has exited — the
    /// stand-in for Xen's unmap notification, which no file can give.
    fn probe(&self) -> Option<bool> {
        let remote = self.remote()?;
        let path = self.host.port_path(self.peer, self.host.id(), remote);
        let s = UnixDatagram::unbound().ok()?;
        match s.connect(&path) {
            Ok(()) => Some(true),
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionRefused | ErrorKind::NotFound) => {
                Some(false)
            }
            Err(_) => None,
        }
    }
}

impl std::os::fd::AsFd for LinuxEvent {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

/// Check a store key and turn it into a relative path.
fn key_path(key: &str) -> Result<PathBuf, BackendError> {
    let key = key.strip_prefix('/').unwrap_or(key);
    let ok = |c: &str| {
        !c.is_empty()
            && c != "."
            && c != ".."
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.:@-".contains(&b))
    };
    if key.len() > 1024 || !key.split('/').all(ok) {
        return Err(BackendError::BadKey);
    }
    Ok(PathBuf::from(key))
}

impl Store for LinuxHost {
    fn write(&self, key: &str, value: &str) -> Result<(), BackendError> {
        let path = self.root().join("store").join(key_path(key)?);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut tmp = path.clone().into_os_string();
        tmp.push(std::format!(".tmp.{}", std::process::id()));
        fs::write(&tmp, value)?;
        fs::rename(&tmp, &path)?;
        Ok(())
    }

    fn read<'b>(&self, key: &str, buf: &'b mut [u8]) -> Result<Option<&'b str>, BackendError> {
        let path = self.root().join("store").join(key_path(key)?);
        let v = match fs::read(&path) {
            Ok(v) => v,
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::IsADirectory) => {
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        let dst = buf.get_mut(..v.len()).ok_or(BackendError::BadKey)?;
        dst.copy_from_slice(&v);
        core::str::from_utf8(dst)
            .map(Some)
            .map_err(|_| BackendError::BadKey)
    }

    fn remove(&self, key: &str) -> Result<(), BackendError> {
        let path = self.root().join("store").join(key_path(key)?);
        let r = if path.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        match r {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

/// A fresh, unique root directory for tests: under `/dev/shm` if it exists, else the system
/// temporary directory.
pub fn scratch_root(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    base.join(std::format!(
        "unistack-vchan-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}
