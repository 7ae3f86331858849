//! An in-process backend: several "domains" of one [`Hypervisor`] share pages, event channels
//! and a store inside one process (two threads, or one thread driving both ends).
//!
//! Grants are pages of one [`ShmBox`] per `share` call; `map` must name all the pages of one
//! `share` call, in order (which is how vchan and the rings use grants) and otherwise fails
//! with [`BackendError::NoSuchGrant`]. Grant references and ports count up from 8 and 1 across
//! the hypervisor (never 0, which libxenvchan treats as absent). A page whose grant was ended
//! stays alive while the peer still maps it, as in Xen. [`Hypervisor::outstanding`] counts
//! grants, mappings, ports and store keys still held: after every endpoint is dropped all four
//! are zero, which the tests check.

use std::collections::BTreeMap;
use std::string::{String, ToString};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use std::vec::Vec;

use crate::backend::{DomId, EventChannel, Events, GrantRef, Grants, Mapping, Port, Store};
use crate::error::BackendError;
use crate::shm::{Shm, ShmBox};

/// Longest store key or value accepted.
pub const MAX_STORE_LEN: usize = 4096;

/// A set of domains sharing one grant table, event-channel table and store.
#[derive(Clone, Default)]
pub struct Hypervisor {
    inner: Arc<Mutex<Tables>>,
}

impl core::fmt::Debug for Hypervisor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Hypervisor")
            .field("outstanding", &self.outstanding())
            .finish()
    }
}

#[derive(Default)]
struct Tables {
    next_ref: GrantRef,
    /// Keyed by (granting domain, reference).
    grants: BTreeMap<(DomId, GrantRef), Grant>,
    mappings: usize,
    next_port: Port,
    ports: BTreeMap<Port, PortEntry>,
    store: BTreeMap<String, String>,
}

struct Grant {
    peer: DomId,
    block: Arc<ShmBox>,
    page: usize,
}

struct PortEntry {
    owner: DomId,
    peer: DomId,
    remote: Option<Port>,
    signal: Arc<Signal>,
}

#[derive(Default)]
struct Signal {
    pending: Mutex<bool>,
    cv: Condvar,
}

/// Resources still held, for leak checks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outstanding {
    /// Grants not ended.
    pub grants: usize,
    /// Mappings not unmapped.
    pub mappings: usize,
    /// Event-channel ports not closed.
    pub ports: usize,
    /// Store keys.
    pub keys: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Hypervisor {
    /// An empty hypervisor.
    pub fn new() -> Self {
        Self::default()
    }

    /// A handle acting as domain `id`.
    pub fn domain(&self, id: DomId) -> Domain {
        Domain {
            hv: self.clone(),
            id,
        }
    }

    /// Grants, mappings, ports and store keys still held.
    pub fn outstanding(&self) -> Outstanding {
        let t = lock(&self.inner);
        Outstanding {
            grants: t.grants.len(),
            mappings: t.mappings,
            ports: t.ports.len(),
            keys: t.store.len(),
        }
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        lock(&self.inner)
    }
}

/// One domain's view of a [`Hypervisor`]: a [`crate::Backend`].
#[derive(Clone, Debug)]
pub struct Domain {
    hv: Hypervisor,
    id: DomId,
}

impl Domain {
    /// This domain's id.
    pub fn id(&self) -> DomId {
        self.id
    }
}

/// Pages a [`Domain`] shared; dropping ends the grants.
pub struct LocalShared {
    hv: Hypervisor,
    owner: DomId,
    refs: Vec<GrantRef>,
    block: Arc<ShmBox>,
}

impl Mapping for LocalShared {
    fn shm(&self) -> &Shm {
        self.block.shm()
    }
}

impl Drop for LocalShared {
    fn drop(&mut self) {
        let mut t = self.hv.tables();
        for r in &self.refs {
            t.grants.remove(&(self.owner, *r));
        }
    }
}

/// Pages a [`Domain`] mapped; dropping unmaps.
pub struct LocalMapped {
    hv: Hypervisor,
    block: Arc<ShmBox>,
}

impl Mapping for LocalMapped {
    fn shm(&self) -> &Shm {
        self.block.shm()
    }
}

impl Drop for LocalMapped {
    fn drop(&mut self) {
        self.hv.tables().mappings -= 1;
    }
}

impl Grants for Domain {
    type Shared = LocalShared;
    type Mapped = LocalMapped;

    fn share(&self, peer: DomId, refs: &mut [GrantRef]) -> Result<LocalShared, BackendError> {
        if refs.is_empty() {
            return Err(BackendError::Exhausted);
        }
        let block = Arc::new(ShmBox::new(refs.len()));
        let mut t = self.hv.tables();
        for (page, r) in refs.iter_mut().enumerate() {
            t.next_ref = t
                .next_ref
                .max(7)
                .checked_add(1)
                .ok_or(BackendError::Exhausted)?;
            *r = t.next_ref;
            let grant = Grant {
                peer,
                block: block.clone(),
                page,
            };
            t.grants.insert((self.id, *r), grant);
        }
        Ok(LocalShared {
            hv: self.hv.clone(),
            owner: self.id,
            refs: refs.to_vec(),
            block,
        })
    }

    fn map(&self, peer: DomId, refs: &[GrantRef]) -> Result<LocalMapped, BackendError> {
        let mut t = self.hv.tables();
        let mut block: Option<Arc<ShmBox>> = None;
        for (i, r) in refs.iter().enumerate() {
            let g = t
                .grants
                .get(&(peer, *r))
                .filter(|g| g.peer == self.id && g.page == i)
                .filter(|g| block.as_ref().is_none_or(|b| Arc::ptr_eq(b, &g.block)))
                .ok_or(BackendError::NoSuchGrant(*r))?;
            block = Some(g.block.clone());
        }
        let block = block.ok_or(BackendError::NoSuchGrant(0))?;
        if block.shm().len() != refs.len() * crate::shm::PAGE_SIZE {
            return Err(BackendError::NoSuchGrant(refs.last().copied().unwrap_or(0)));
        }
        t.mappings += 1;
        Ok(LocalMapped {
            hv: self.hv.clone(),
            block,
        })
    }
}

/// An event-channel port of a [`Domain`]; dropping closes it.
pub struct LocalEvent {
    hv: Hypervisor,
    port: Port,
    signal: Arc<Signal>,
}

impl core::fmt::Debug for LocalEvent {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LocalEvent")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl EventChannel for LocalEvent {
    fn port(&self) -> Port {
        self.port
    }

    fn notify(&self) -> Result<(), BackendError> {
        let signal = {
            let t = self.hv.tables();
            let remote = t.ports.get(&self.port).and_then(|p| p.remote);
            remote
                .and_then(|r| t.ports.get(&r))
                .map(|p| p.signal.clone())
        };
        if let Some(s) = signal {
            *lock(&s.pending) = true;
            s.cv.notify_all();
        }
        Ok(())
    }

    fn wait(&self, timeout: Option<Duration>) -> Result<bool, BackendError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut pending = lock(&self.signal.pending);
        loop {
            if *pending {
                *pending = false;
                return Ok(true);
            }
            pending = match deadline {
                None => self
                    .signal
                    .cv
                    .wait(pending)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Ok(false);
                    }
                    self.signal
                        .cv
                        .wait_timeout(pending, d - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }
}

impl Drop for LocalEvent {
    fn drop(&mut self) {
        let mut t = self.hv.tables();
        if let Some(remote) = t.ports.remove(&self.port).and_then(|p| p.remote)
            && let Some(r) = t.ports.get_mut(&remote)
        {
            r.remote = None;
        }
    }
}

impl Domain {
    fn new_port(&self, peer: DomId, remote: Option<Port>) -> Result<LocalEvent, BackendError> {
        let mut t = self.hv.tables();
        t.next_port = t.next_port.checked_add(1).ok_or(BackendError::Exhausted)?;
        let port = t.next_port;
        let signal = Arc::new(Signal::default());
        let entry = PortEntry {
            owner: self.id,
            peer,
            remote,
            signal: signal.clone(),
        };
        t.ports.insert(port, entry);
        if let Some(r) = remote.and_then(|r| t.ports.get_mut(&r)) {
            r.remote = Some(port);
        }
        Ok(LocalEvent {
            hv: self.hv.clone(),
            port,
            signal,
        })
    }
}

impl Events for Domain {
    type Channel = LocalEvent;

    fn alloc_unbound(&self, peer: DomId) -> Result<LocalEvent, BackendError> {
        self.new_port(peer, None)
    }

    fn bind(&self, peer: DomId, remote: Port) -> Result<LocalEvent, BackendError> {
        {
            let t = self.hv.tables();
            match t.ports.get(&remote) {
                Some(p) if p.owner == peer && p.peer == self.id && p.remote.is_none() => {}
                _ => return Err(BackendError::NoSuchPort(remote)),
            }
        }
        self.new_port(peer, Some(remote))
    }
}

fn check_key(key: &str) -> Result<(), BackendError> {
    if key.is_empty() || key.len() > MAX_STORE_LEN || key.contains('\0') {
        return Err(BackendError::BadKey);
    }
    Ok(())
}

impl Store for Domain {
    fn write(&self, key: &str, value: &str) -> Result<(), BackendError> {
        check_key(key)?;
        if value.len() > MAX_STORE_LEN {
            return Err(BackendError::BadKey);
        }
        self.hv
            .tables()
            .store
            .insert(key.to_string(), value.to_string());
        Ok(())
    }

    fn read<'b>(&self, key: &str, buf: &'b mut [u8]) -> Result<Option<&'b str>, BackendError> {
        check_key(key)?;
        let t = self.hv.tables();
        let Some(v) = t.store.get(key) else {
            return Ok(None);
        };
        let dst = buf.get_mut(..v.len()).ok_or(BackendError::BadKey)?;
        dst.copy_from_slice(v.as_bytes());
        core::str::from_utf8(dst)
            .map(Some)
            .map_err(|_| BackendError::BadKey)
    }

    fn remove(&self, key: &str) -> Result<(), BackendError> {
        check_key(key)?;
        let mut t = self.hv.tables();
        t.store
            .retain(|k, _| k != key && !(k.starts_with(key) && k[key.len()..].starts_with('/')));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::Ordering;

    #[test]
    fn grants_map_only_to_their_peer_and_are_counted() {
        let hv = Hypervisor::new();
        let (a, b, c) = (hv.domain(1), hv.domain(2), hv.domain(3));
        let mut refs = [0; 2];
        let shared = a.share(2, &mut refs).unwrap();
        assert!(refs.iter().all(|&r| r != 0) && refs[0] != refs[1]);
        assert_eq!(
            c.map(1, &refs).err(),
            Some(BackendError::NoSuchGrant(refs[0]))
        );
        assert!(b.map(1, &[refs[1], refs[0]]).is_err(), "out of order");
        assert!(b.map(1, &refs[..1]).is_err(), "part of a share");
        assert!(b.map(3, &refs).is_err(), "wrong granter");
        let mapped = b.map(1, &refs).unwrap();
        shared.shm().store_u32(4100, 7, Ordering::Relaxed).unwrap();
        assert_eq!(mapped.shm().load_u32(4100, Ordering::Relaxed), Ok(7));
        let o = hv.outstanding();
        assert_eq!((o.grants, o.mappings), (2, 1));
        drop(shared);
        // Ended, but still mapped: the page lives on for the mapper.
        assert_eq!(mapped.shm().load_u32(4100, Ordering::Relaxed), Ok(7));
        assert!(b.map(1, &refs).is_err());
        drop(mapped);
        assert_eq!(hv.outstanding(), Outstanding::default());
    }

    #[test]
    fn events_are_pending_until_waited_and_bind_is_checked() {
        let hv = Hypervisor::new();
        let (a, b) = (hv.domain(1), hv.domain(2));
        let pa = a.alloc_unbound(2).unwrap();
        assert!(hv.domain(3).bind(1, pa.port()).is_err());
        assert!(b.bind(1, pa.port() + 100).is_err());
        let pb = b.bind(1, pa.port()).unwrap();
        assert!(b.bind(1, pa.port()).is_err(), "already bound");
        assert_eq!(pb.wait(Some(Duration::ZERO)), Ok(false));
        pa.notify().unwrap();
        pa.notify().unwrap();
        assert_eq!(pb.wait(Some(Duration::ZERO)), Ok(true));
        assert_eq!(pb.wait(Some(Duration::from_millis(1))), Ok(false));
        pb.notify().unwrap();
        assert_eq!(pa.wait(None), Ok(true));
        drop(pa);
        pb.notify().unwrap();
        drop(pb);
        assert_eq!(hv.outstanding(), Outstanding::default());
    }

    #[test]
    fn store_reads_writes_and_removes_subtrees() {
        let hv = Hypervisor::new();
        let d = hv.domain(0);
        d.write("a/b", "1").unwrap();
        d.write("a/b/c", "2").unwrap();
        d.write("a/bc", "3").unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(d.read("a/b", &mut buf), Ok(Some("1")));
        assert_eq!(d.read("a/x", &mut buf), Ok(None));
        d.write("a/b", "12345").unwrap();
        assert_eq!(d.read("a/b", &mut buf), Err(BackendError::BadKey));
        d.remove("a/b").unwrap();
        assert_eq!(hv.outstanding().keys, 1);
        assert_eq!(d.read("a/bc", &mut buf), Ok(Some("3")));
        assert!(d.write("", "x").is_err());
    }
}
