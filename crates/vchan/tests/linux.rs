//! The Linux backend: files, sockets and a store directory shared by two processes.
//!
//! `two_processes_move_data_with_hash` re-runs this test binary as the client (the ignored
//! `child_client` test, selected with `--exact --ignored` and told the root directory through
//! `UNISTACK_VCHAN_CHILD_ROOT`).

use std::io::Read as _;
use std::os::fd::AsFd;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use unistack_vchan::linux::{LinuxHost, scratch_root};
use unistack_vchan::{
    BackendError, EventChannel, Events, Grants, Mapping, ServerConfig, State, Store, Vchan,
};

const PATH: &str = "/local/domain/1/data/vchan/linux";
const TOTAL: u64 = 50 << 20;
const CHILD_ENV: &str = "UNISTACK_VCHAN_CHILD_ROOT";

fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8
}

fn fnv(h: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

struct Root(PathBuf);

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn grants_events_and_store_follow_the_documented_layout() {
    let root = Root(scratch_root("layout"));
    let a = LinuxHost::new(&root.0, 1).unwrap();
    let b = LinuxHost::new(&root.0, 2).unwrap();
    let mut refs = [0; 2];
    let shared = a.share(2, &mut refs).unwrap();
    assert_eq!(refs, [8, 9]);
    assert!(root.0.join("grants/1/2/8").is_file());
    assert_eq!(
        std::fs::metadata(root.0.join("grants/1/2/9"))
            .unwrap()
            .len(),
        4096
    );
    let mapped = b.map(1, &refs).unwrap();
    shared.shm().write(4095, b"xy").unwrap();
    let mut out = [0u8; 2];
    mapped.shm().read(4095, &mut out).unwrap();
    assert_eq!(&out, b"xy");
    assert_eq!(
        LinuxHost::new(&root.0, 3).unwrap().map(1, &refs).err(),
        Some(BackendError::NoSuchGrant(8))
    );
    assert_eq!(a.outstanding(), (2, 0));
    drop(shared);
    assert_eq!(a.outstanding(), (0, 0));
    assert!(b.map(1, &refs).is_err(), "ended");
    drop(mapped);

    let pa = a.alloc_unbound(2).unwrap();
    assert!(root.0.join(format!("events/1/2/{}", pa.port())).exists());
    assert!(
        LinuxHost::new(&root.0, 3)
            .unwrap()
            .bind(1, pa.port())
            .is_err()
    );
    let pb = b.bind(1, pa.port()).unwrap();
    assert!(b.bind(1, pa.port()).is_err(), "already bound");
    assert_eq!(
        pa.wait(Some(Duration::from_secs(5))),
        Ok(true),
        "bind sends an event"
    );
    assert_eq!(pa.wait(Some(Duration::ZERO)), Ok(false));
    pa.notify().unwrap();
    pa.notify().unwrap();
    assert_eq!(pb.wait(None), Ok(true));
    assert_eq!(
        pb.wait(Some(Duration::ZERO)),
        Ok(false),
        "two notifies, one event"
    );
    // The descriptor `AsFd` gives is the event queue: what poll(2) would watch.
    pa.notify().unwrap();
    let dup = UnixDatagram::from(pb.as_fd().try_clone_to_owned().unwrap());
    dup.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(
        dup.recv(&mut [0u8; 8]).unwrap(),
        4,
        "one event: the sender's port"
    );
    assert_eq!(
        pb.wait(Some(Duration::ZERO)),
        Ok(false),
        "consumed through the descriptor"
    );
    assert_eq!(pb.wait(Some(Duration::from_millis(5))), Ok(false));
    pb.notify().unwrap();
    assert_eq!(pa.wait(Some(Duration::from_secs(5))), Ok(true));
    drop(pa);
    pb.notify().unwrap(); // the peer is gone: a no-op
    drop(pb);
    assert_eq!((a.outstanding(), b.outstanding()), ((0, 0), (0, 0)));

    a.write("/local/domain/1/x/ring-ref", "17").unwrap();
    assert_eq!(
        std::fs::read_to_string(root.0.join("store/local/domain/1/x/ring-ref")).unwrap(),
        "17"
    );
    let mut buf = [0u8; 8];
    assert_eq!(
        b.read("local/domain/1/x/ring-ref", &mut buf),
        Ok(Some("17"))
    );
    assert_eq!(
        b.read("/local/domain/1/x", &mut buf),
        Ok(None),
        "a directory has no value"
    );
    for bad in ["", "/a/../b", "a//b", "a/b c", "a/./b"] {
        assert_eq!(a.write(bad, "1"), Err(BackendError::BadKey), "{bad:?}");
    }
    a.remove("/local/domain/1/x").unwrap();
    assert_eq!(b.read("local/domain/1/x/ring-ref", &mut buf), Ok(None));
}

#[test]
fn vchan_between_two_threads_over_files_and_sockets() {
    let root = Root(scratch_root("threads"));
    let server_host = LinuxHost::new(&root.0, 1).unwrap();
    let client_host = LinuxHost::new(&root.0, 2).unwrap();
    let mut server = Vchan::server(
        server_host.clone(),
        2,
        PATH,
        ServerConfig::new(1 << 14, 1024),
    )
    .unwrap();
    let t = std::thread::spawn(move || {
        let mut c = Vchan::client_timeout(client_host, 1, PATH, Duration::from_secs(5)).unwrap();
        c.write_all(&[5u8; 100_000]).unwrap();
        let mut b = [0u8; 3];
        c.recv(&mut b).unwrap();
        b
    });
    assert_eq!(server.wait_connected(), Ok(State::Connected));
    let mut got = 0;
    let mut buf = [0u8; 4096];
    while got < 100_000 {
        let n = server.read(&mut buf).unwrap();
        assert!(buf[..n].iter().all(|&b| b == 5));
        got += n;
    }
    server.send(b"bye").unwrap();
    assert_eq!(&t.join().unwrap(), b"bye");
    assert_eq!(server.read(&mut buf), Ok(0));
    assert!(server.as_fd().try_clone_to_owned().is_ok());
    drop(server);
    assert_eq!(server_host.outstanding(), (0, 0));
    let left: Vec<_> = walk(&root.0.join("store"));
    assert!(left.is_empty(), "store keys left: {left:?}");
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn two_processes_move_data_with_hash() {
    let root = Root(scratch_root("procs"));
    let host = LinuxHost::new(&root.0, 1).unwrap();
    let mut server =
        Vchan::server(host.clone(), 2, PATH, ServerConfig::new(1024, 1 << 16)).unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_client",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &root.0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    server.set_timeout(Some(Duration::from_secs(60)));
    assert_eq!(server.wait_connected(), Ok(State::Connected));
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut buf = vec![0u8; 50_000];
    let mut i = 0u64;
    while i < TOTAL {
        let n = buf.len().min((TOTAL - i) as usize);
        for (k, b) in buf[..n].iter_mut().enumerate() {
            *b = pattern(i + k as u64);
        }
        h = fnv(h, &buf[..n]);
        server.write_all(&buf[..n]).unwrap();
        i += n as u64;
    }
    let mut theirs = [0u8; 8];
    server.recv(&mut theirs).unwrap();
    assert_eq!(
        u64::from_le_bytes(theirs),
        h,
        "the child hashed what we sent"
    );
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "child failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(server.state(), Ok(State::Closed));
    drop(server);
    assert_eq!(host.outstanding(), (0, 0));
}

/// The client half of `two_processes_move_data_with_hash` (run by it, in a child process).
#[test]
#[ignore = "run by two_processes_move_data_with_hash in a child process"]
fn child_client() {
    let root = std::env::var_os(CHILD_ENV).expect("started by two_processes_move_data_with_hash");
    let host = LinuxHost::new(PathBuf::from(root), 2).unwrap();
    let mut c = Vchan::client_timeout(host.clone(), 1, PATH, Duration::from_secs(30)).unwrap();
    c.set_timeout(Some(Duration::from_secs(60)));
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut got = 0u64;
    let mut buf = vec![0u8; 30_011];
    while got < TOTAL {
        let n = c.read(&mut buf).unwrap();
        assert!(n > 0);
        h = fnv(h, &buf[..n]);
        got += n as u64;
    }
    c.send(&h.to_le_bytes()).unwrap();
    drop(c);
    assert_eq!(host.outstanding(), (0, 0));
}

/// A peer process killed without closing (no unmap notification exists on Linux): its
/// event socket is left with nobody bound to it, which the backend's probe notices, so
/// `state()` says the channel is closed and a blocking read with no timeout ends (with the
/// data the peer wrote before it died) instead of waiting forever.
#[test]
fn a_killed_peer_process_is_seen_as_gone() {
    let root = Root(scratch_root("killed"));
    let host = LinuxHost::new(&root.0, 1).unwrap();
    let mut server =
        Vchan::server(host.clone(), 2, PATH, ServerConfig::new(1 << 14, 1024)).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_writes_then_hangs",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &root.0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    server.set_timeout(Some(Duration::from_secs(60)));
    assert_eq!(server.wait_connected(), Ok(State::Connected));
    let mut hello = [0u8; 5];
    server.read_exact(&mut hello).unwrap();
    assert_eq!(&hello, b"hello");
    assert_eq!(server.state(), Ok(State::Connected), "alive and hanging");
    child.kill().unwrap();
    let _ = child.wait();
    // The child wrote 3 more bytes before hanging: they are still ours to read.
    let start = std::time::Instant::now();
    server.set_timeout(None);
    let mut rest = [0u8; 16];
    let n = server.read(&mut rest).unwrap();
    assert_eq!(&rest[..n], b"bye");
    assert_eq!(server.read(&mut rest), Ok(0), "end of stream, not a hang");
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(server.state(), Ok(State::Closed));
}

/// The peer of `a_killed_peer_process_is_seen_as_gone` (run by it, in a child process).
#[test]
#[ignore = "run by a_killed_peer_process_is_seen_as_gone in a child process"]
fn child_writes_then_hangs() {
    let root =
        std::env::var_os(CHILD_ENV).expect("started by a_killed_peer_process_is_seen_as_gone");
    let host = LinuxHost::new(PathBuf::from(root), 2).unwrap();
    let mut c = Vchan::client_timeout(host, 1, PATH, Duration::from_secs(30)).unwrap();
    // One write: once the server has read "hello", "bye" is in the ring too (two writes
    // raced the server's kill, which can come between them).
    c.write_all(b"hellobye").unwrap();
    std::thread::sleep(Duration::from_secs(120));
}
