//! Interop with the real libxenvchan: Debian's unmodified `libxenvchan.so.4.17` (package
//! `libxenmisc4.17`, unpacked by `scripts/test` into `/tmp/xen-misc`; `$XENVCHAN_LIB` to
//! override) runs without Xen over replacement `libxenstore.so.4`, `libxengnttab.so.1` and
//! `libxenevtchn.so.1` (`tests/xenshim/shim.c`, same sonames and symbol versions) that use
//! the on-disk layout of our `linux` backend. A small C peer (`tests/xenshim/peer.c`) drives
//! libxenvchan; this test drives ours.
//!
//! - Our client ↔ libxenvchan server, and our server ↔ libxenvchan client, for ring orders
//!   10/11, 11/10, 12, 16 and 20, with `UNISTACK_XENVCHAN_MB` (default 50) MB each way at
//!   once; both ends check the bytes (FNV-1a over the pattern).
//! - A libxenvchan client that writes and closes at once: our server drains every byte after
//!   the peer has gone, then reports the channel closed.
//!
//! Needs a C compiler, the Xen headers (`$XEN_INCLUDE`, default `/tmp/xen-dev/usr/include`)
//! and the library; prints `SKIPPED: ...` without them (CI installs all three).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

mod xenshim;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use unistack_vchan::linux::{LinuxHost, scratch_root};
use unistack_vchan::{Error, ServerConfig, State, Vchan};

const PATH: &str = "/local/domain/0/data/vchan/interop";
/// Ring orders (left, right) for the server; libxenvchan picks the same from these sizes.
const ORDERS: [(u32, u32); 5] = [(10, 11), (11, 10), (12, 12), (16, 16), (20, 20)];

fn pattern(i: u64) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

fn fnv(h: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

const FNV0: u64 = 0xcbf2_9ce4_8422_2325;

fn expected(n: u64) -> u64 {
    let mut h = FNV0;
    let mut buf = vec![0u8; 1 << 16];
    let mut i = 0;
    while i < n {
        let k = (n - i).min(buf.len() as u64) as usize;
        for (j, b) in buf[..k].iter_mut().enumerate() {
            *b = pattern(i + j as u64);
        }
        h = fnv(h, &buf[..k]);
        i += k as u64;
    }
    h
}

fn total() -> u64 {
    std::env::var("UNISTACK_XENVCHAN_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50u64)
        << 20
}

fn built() -> &'static Result<xenshim::Built, String> {
    static BUILT: OnceLock<Result<xenshim::Built, String>> = OnceLock::new();
    BUILT.get_or_init(|| {
        xenshim::build(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/xenshim"),
            &Path::new(env!("CARGO_TARGET_TMPDIR")).join("xenshim"),
        )
    })
}

struct Root(PathBuf);

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The C peer as domain `dom`, printing lines we collect.
struct Peer {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Peer {
    fn spawn(root: &Path, dom: u16, args: &[String]) -> Peer {
        let Ok(b) = built() else {
            unreachable!("checked by the caller")
        };
        let mut child = b
            .peer(root, dom)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        Peer { child, lines }
    }

    fn expect(&self, prefix: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(120)) {
                Ok(l) if l.starts_with(prefix) => return l,
                Ok(_) => {}
                Err(_) => panic!("the libxenvchan peer did not print `{prefix}`"),
            }
        }
    }

    fn finish(mut self) {
        let st = self.child.wait().unwrap();
        assert!(st.success(), "libxenvchan peer failed: {st}");
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn skip() -> bool {
    match built() {
        Ok(_) => false,
        Err(why) => {
            println!("SKIPPED: {why}");
            true
        }
    }
}

/// Send `n` bytes of the pattern and read `n` at the same time; the hash of what came in.
fn exchange(v: &mut Vchan<LinuxHost>, n: u64) -> u64 {
    let (mut sent, mut got, mut hash) = (0u64, 0u64, FNV0);
    let mut out = vec![0u8; 1 << 16];
    let mut inbuf = vec![0u8; 1 << 16];
    let deadline = Instant::now() + Duration::from_secs(120);
    while sent < n || got < n {
        assert!(Instant::now() < deadline, "stalled: sent {sent}, got {got}");
        let mut progress = false;
        if sent < n {
            let k = (n - sent).min(out.len() as u64) as usize;
            for (j, b) in out[..k].iter_mut().enumerate() {
                *b = pattern(sent + j as u64);
            }
            match v.try_write(&out[..k]) {
                Ok(w) => {
                    sent += w as u64;
                    progress |= w > 0;
                }
                Err(Error::WouldBlock) => {}
                Err(e) => panic!("write: {e:?} after {sent}"),
            }
        }
        if got < n {
            match v.try_read(&mut inbuf) {
                Ok(r) => {
                    hash = fnv(hash, &inbuf[..r]);
                    got += r as u64;
                    progress |= r > 0;
                }
                Err(Error::WouldBlock) => {}
                Err(e) => panic!("read: {e:?} after {got}"),
            }
        }
        if !progress {
            // Ask for events both ways, then sleep until one (or a short timeout: the
            // request and the peer's progress may cross).
            let _ = v.data_ready();
            let _ = v.buffer_space();
            v.wait_event(Some(Duration::from_millis(20))).unwrap();
        }
    }
    hash
}

#[test]
fn our_client_with_a_libxenvchan_server() {
    if skip() {
        return;
    }
    let n = total();
    let want = expected(n);
    for (l, r) in ORDERS {
        let root = Root(scratch_root("xv-cli"));
        let peer = Peer::spawn(
            &root.0,
            0,
            &[
                "server".into(),
                "1".into(),
                PATH.into(),
                (1u64 << l).to_string(),
                (1u64 << r).to_string(),
                n.to_string(),
                n.to_string(),
            ],
        );
        peer.expect("ready");
        let host = LinuxHost::new(&root.0, 1).unwrap();
        let mut v = Vchan::client(host, 0, PATH).unwrap();
        // Our read ring is their write (right) ring.
        assert_eq!(v.read_ring_size(), 1 << r, "orders {l}/{r}");
        assert_eq!(v.write_ring_size(), 1 << l, "orders {l}/{r}");
        let got = exchange(&mut v, n);
        assert_eq!(got, want, "libxenvchan server → us, orders {l}/{r}");
        let line = peer.expect("recv");
        assert_eq!(
            line,
            format!("recv {n} {want:016x}"),
            "us → libxenvchan, orders {l}/{r}"
        );
        peer.finish();
        assert_eq!(v.state().unwrap(), State::Closed, "the server closed");
    }
}

#[test]
fn our_server_with_a_libxenvchan_client() {
    if skip() {
        return;
    }
    let n = total();
    let want = expected(n);
    for (l, r) in ORDERS {
        let root = Root(scratch_root("xv-srv"));
        let host = LinuxHost::new(&root.0, 0).unwrap();
        let mut v = Vchan::server(host, 1, PATH, ServerConfig::new(1 << l, 1 << r)).unwrap();
        let peer = Peer::spawn(
            &root.0,
            1,
            &[
                "client".into(),
                "0".into(),
                PATH.into(),
                n.to_string(),
                n.to_string(),
            ],
        );
        peer.expect("ready");
        assert_eq!(v.read_ring_size(), 1 << l);
        assert_eq!(v.write_ring_size(), 1 << r);
        let got = exchange(&mut v, n);
        assert_eq!(got, want, "libxenvchan client → us, orders {l}/{r}");
        let line = peer.expect("recv");
        assert_eq!(
            line,
            format!("recv {n} {want:016x}"),
            "us → libxenvchan, orders {l}/{r}"
        );
        peer.finish();
        assert_eq!(v.state().unwrap(), State::Closed, "the client closed");
    }
}

#[test]
fn a_libxenvchan_client_that_writes_and_closes_at_once_is_drained() {
    if skip() {
        return;
    }
    let root = Root(scratch_root("xv-close"));
    let host = LinuxHost::new(&root.0, 0).unwrap();
    // A ring big enough to hold everything the client writes before it closes.
    let n: u64 = 1 << 20;
    let mut v = Vchan::server(host, 1, PATH, ServerConfig::new(1 << 20, 1 << 12)).unwrap();
    let peer = Peer::spawn(
        &root.0,
        1,
        &[
            "client-close".into(),
            "0".into(),
            PATH.into(),
            n.to_string(),
        ],
    );
    peer.expect("closed");
    peer.finish();
    // The client is gone; every byte it wrote is still ours to read.
    assert_eq!(v.state().unwrap(), State::PeerClosed);
    let (mut got, mut hash) = (0u64, FNV0);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match v.try_read(&mut buf) {
            Ok(0) => break,
            Ok(k) => {
                hash = fnv(hash, &buf[..k]);
                got += k as u64;
            }
            Err(e) => panic!("{e:?} after {got}"),
        }
    }
    assert_eq!((got, hash), (n, expected(n)));
    assert_eq!(v.state().unwrap(), State::Closed);
    assert!(matches!(v.try_write(b"x"), Err(Error::Closed)));
}
