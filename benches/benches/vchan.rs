//! vchan between two processes (the `linux` backend: pages in `/dev/shm`, events on Unix
//! datagram sockets) against a Unix stream socket and `memcpy`, and against the real
//! libxenvchan (Debian's, over our replacement libraries, as in `crates/vchan/tests`).
//!
//! - Throughput: one process writes N bytes in writes of 64 B .. 64 KiB, the other reads
//!   them and answers one byte; timed from the first write to the answer. vchan with order-20
//!   rings (1 MiB) and order-11 rings (in the shared page), and an `AF_UNIX` stream socket
//!   (what a socketpair is). Beside: `memcpy` of the same bytes in one process, two ways: one
//!   write-sized buffer recopied (it never leaves the core's cache: the strict baseline), and
//!   the whole transfer copied once between two buffers of its size (the machine's memory
//!   copy bandwidth).
//! - Each vchan contender twice: sleeping on the event channel as soon as it would block
//!   (libxenvchan's way), and polling the shared page first ("poll": `Vchan::set_spin`,
//!   `UNISTACK_VCHAN_SPIN` turns, default 4,000, about 50 µs, what a wakeup costs on this VM).
//! - Ping-pong: 64-byte messages bounced back, round trips per second.
//! - libxenvchan: its server sending 64 KiB writes to our client, beside our server doing the
//!   same, and libxenvchan to libxenvchan (timed from start to exit of its client process).
//!
//! `cargo bench -p unistack-benches --bench vchan` (medians of `UNISTACK_VCHAN_ROUNDS`,
//! default 5, interleaved); `cargo test --benches` runs a small smoke.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use unistack_vchan::linux::{LinuxHost, scratch_root};
use unistack_vchan::{Error, ServerConfig, State, Vchan};

#[path = "../../crates/vchan/tests/xenshim/mod.rs"]
mod xenshim;

const ROLE: &str = "UNISTACK_VCHAN_BENCH_ROLE";
const PATH: &str = "/local/domain/1/data/vchan/bench";
const PING: usize = 64;

/// The polling contenders' budget (`Vchan::set_spin` turns before sleeping), from
/// `UNISTACK_VCHAN_SPIN`; the default, 4,000 turns, is about 50 µs here: what a wakeup costs.
fn poll_turns() -> u32 {
    std::env::var("UNISTACK_VCHAN_SPIN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000)
}

/// The child's polling budget, passed by [`spawn`].
const CHILD_SPIN: &str = "UNISTACK_VCHAN_CHILD_SPIN";

/// The ring order of the large-ring contender, from `UNISTACK_VCHAN_ORDER` (12 to 20).
fn big_order() -> u32 {
    std::env::var("UNISTACK_VCHAN_ORDER")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|o| (12..=20).contains(o))
        .unwrap_or(20)
}

fn env(k: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| panic!("{k} not set"))
}

fn num(k: &str) -> u64 {
    env(k).parse().expect(k)
}

// ------------------------------------------------------------------ children

/// Connect as domain 2 to domain 1's server at [`PATH`] (retrying until it is published).
fn connect(root: &str) -> Vchan<LinuxHost> {
    let host = LinuxHost::new(root, 2).expect("host");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match Vchan::client(host.clone(), 1, PATH) {
            Ok(mut v) => {
                v.set_timeout(Some(Duration::from_secs(120)));
                v.set_spin(std::env::var(CHILD_SPIN).map_or(0, |s| s.parse().expect(CHILD_SPIN)));
                return v;
            }
            Err(Error::NotFound) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1))
            }
            Err(e) => panic!("connect: {e:?}"),
        }
    }
}

/// Read `total` bytes, answer one byte.
fn sink(r: &mut impl FnMut(&mut [u8]) -> usize, w: &mut impl FnMut(&[u8]), total: u64) {
    let mut buf = vec![0u8; 1 << 16];
    let mut got = 0u64;
    while got < total {
        let n = r(&mut buf);
        assert!(n > 0, "stream ended at {got}");
        got += n as u64;
    }
    w(b"k");
}

fn pong(r: &mut impl FnMut(&mut [u8]) -> usize, w: &mut impl FnMut(&[u8]), count: u64) {
    let mut buf = [0u8; PING];
    for _ in 0..count {
        let mut have = 0;
        while have < PING {
            have += r(&mut buf[have..]);
        }
        w(&buf);
    }
}

fn child(role: &str) {
    let root = env("UNISTACK_VCHAN_ROOT");
    let count = num("UNISTACK_VCHAN_COUNT");
    if role.starts_with("vchan") {
        let v = std::cell::RefCell::new(connect(&root));
        let mut r = |b: &mut [u8]| v.borrow_mut().read(b).expect("read");
        let mut w = |b: &[u8]| v.borrow_mut().write_all(b).expect("write");
        if role == "vchan-sink" {
            sink(&mut r, &mut w, count);
        } else {
            pong(&mut r, &mut w, count);
        }
        // Stay until the server has read the answer and gone.
        let mut v = v.into_inner();
        while v.state().is_ok_and(|s| s != State::Closed) {
            let _ = v.wait_event(Some(Duration::from_millis(50)));
        }
    } else {
        let s = UnixStream::connect(Path::new(&root).join("sock")).expect("connect");
        let s = std::cell::RefCell::new(s);
        let mut r = |b: &mut [u8]| s.borrow_mut().read(b).expect("read");
        let mut w = |b: &[u8]| s.borrow_mut().write_all(b).expect("write");
        if role == "sock-sink" {
            sink(&mut r, &mut w, count);
        } else {
            pong(&mut r, &mut w, count);
        }
    }
}

// ------------------------------------------------------------------ the parent

fn spawn(root: &Path, role: &str, count: u64, spin: u32) -> Child {
    Command::new(std::env::current_exe().expect("exe"))
        .env(ROLE, role)
        .env(CHILD_SPIN, spin.to_string())
        .env("UNISTACK_VCHAN_ROOT", root)
        .env("UNISTACK_VCHAN_COUNT", count.to_string())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn")
}

struct Root(PathBuf);

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

enum Transport {
    /// Ring order, and both ends' polling budget (0: sleep at once, as libxenvchan).
    Vchan(u32, u32),
    Socket,
}

/// A connected pair: our end and the child.
fn pair(t: &Transport, role: &str, count: u64) -> (Root, Box<dyn End>, Child) {
    let root = Root(scratch_root("bench"));
    std::fs::create_dir_all(&root.0).expect("root");
    match t {
        Transport::Vchan(order, spin) => {
            let host = LinuxHost::new(&root.0, 1).expect("host");
            let size = 1usize << order;
            // Order 11 both ways does not fit the page; 11 and 10 do (libxenvchan's choice).
            let cfg = if *order == 11 {
                ServerConfig::new(1024, 2048)
            } else {
                ServerConfig::new(size, size)
            };
            let mut v = Vchan::server(host, 2, PATH, cfg).expect("server");
            v.set_timeout(Some(Duration::from_secs(120)));
            v.set_spin(*spin);
            let c = spawn(&root.0, &format!("vchan-{role}"), count, *spin);
            assert_eq!(v.wait_connected(), Ok(State::Connected));
            (root, Box::new(v), c)
        }
        Transport::Socket => {
            let l = UnixListener::bind(root.0.join("sock")).expect("bind");
            let c = spawn(&root.0, &format!("sock-{role}"), count, 0);
            let (s, _) = l.accept().expect("accept");
            (root, Box::new(s), c)
        }
    }
}

trait End {
    fn put(&mut self, b: &[u8]);
    fn get(&mut self, b: &mut [u8]) -> usize;
}

impl End for Vchan<LinuxHost> {
    fn put(&mut self, b: &[u8]) {
        self.write_all(b).expect("write");
    }
    fn get(&mut self, b: &mut [u8]) -> usize {
        self.read(b).expect("read")
    }
}

impl End for UnixStream {
    fn put(&mut self, b: &[u8]) {
        self.write_all(b).expect("write");
    }
    fn get(&mut self, b: &mut [u8]) -> usize {
        self.read(b).expect("read")
    }
}

/// Bytes per second moving `total` bytes in writes of `w`.
fn throughput(t: &Transport, w: usize, total: u64) -> f64 {
    let (_root, mut end, mut c) = pair(t, "sink", total);
    let buf = vec![0x5au8; w];
    let start = Instant::now();
    let mut sent = 0u64;
    while sent < total {
        let n = (total - sent).min(w as u64) as usize;
        end.put(&buf[..n]);
        sent += n as u64;
    }
    let mut k = [0u8; 1];
    while end.get(&mut k) == 0 {}
    let secs = start.elapsed().as_secs_f64();
    drop(end);
    let _ = c.wait();
    total as f64 / secs
}

/// Round trips per second for 64-byte messages.
fn ping_pong(t: &Transport, count: u64) -> f64 {
    let (_root, mut end, mut c) = pair(t, "pong", count);
    let mut buf = [0u8; PING];
    let start = Instant::now();
    for _ in 0..count {
        end.put(&buf);
        let mut have = 0;
        while have < PING {
            have += end.get(&mut buf[have..]);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    drop(end);
    let _ = c.wait();
    count as f64 / secs
}

fn memcpy_rate(w: usize, total: u64) -> f64 {
    let src = vec![0x5au8; w];
    let mut dst = vec![0u8; w];
    let start = Instant::now();
    let mut done = 0u64;
    while done < total {
        dst.copy_from_slice(std::hint::black_box(&src));
        std::hint::black_box(&mut dst);
        done += w as u64;
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// `memcpy` of `total` bytes from one buffer of that size into another, `w` bytes at a time:
/// the machine's copy bandwidth once `total` exceeds the caches (256 MiB here), where
/// [`memcpy_rate`] recopies one `w`-byte buffer that stays in the core's cache.
fn memcpy_stream_rate(w: usize, total: u64) -> f64 {
    let n = total as usize;
    let src = vec![0x5au8; n];
    let mut dst = vec![0u8; n];
    dst.fill(1); // fault the pages in before the clock starts
    let start = Instant::now();
    for (d, s) in dst.chunks_mut(w).zip(src.chunks(w)) {
        d.copy_from_slice(std::hint::black_box(s));
    }
    std::hint::black_box(&mut dst);
    total as f64 / start.elapsed().as_secs_f64()
}

/// libxenvchan's server writing `total` bytes (64 KiB writes) to our client: bytes/s.
fn from_libxenvchan(b: &xenshim::Built, total: u64, order: u32) -> Option<f64> {
    let root = Root(scratch_root("bench-xv"));
    let size = (1u64 << order).to_string();
    let mut peer = b
        .peer(&root.0, 1)
        .args(["server", "2", PATH, &size, &size, &total.to_string(), "0"])
        .stdout(Stdio::null())
        .spawn()
        .ok()?;
    let mut v = connect(root.0.to_str()?);
    let mut buf = vec![0u8; 1 << 16];
    let start = Instant::now();
    let mut got = 0u64;
    while got < total {
        got += v.read(&mut buf).ok()? as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    let _ = peer.wait();
    Some(total as f64 / secs)
}

/// Our server writing `total` bytes (64 KiB writes) to our client in another process.
fn ours(total: u64, order: u32, spin: u32) -> f64 {
    throughput(&Transport::Vchan(order, spin), 1 << 16, total)
}

/// libxenvchan to libxenvchan: from the client's start to its exit.
fn libxenvchan_pair(b: &xenshim::Built, total: u64, order: u32) -> Option<f64> {
    let root = Root(scratch_root("bench-xx"));
    let size = (1u64 << order).to_string();
    let mut server = b
        .peer(&root.0, 1)
        .args(["server", "2", PATH, &size, &size, &total.to_string(), "0"])
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    // Wait for "ready" (the keys are published).
    let mut out = server.stdout.take()?;
    let mut first = [0u8; 6];
    out.read_exact(&mut first).ok()?;
    let start = Instant::now();
    let st = b
        .peer(&root.0, 2)
        .args(["client", "1", PATH, "0", &total.to_string()])
        .stdout(Stdio::null())
        .status()
        .ok()?;
    let secs = start.elapsed().as_secs_f64();
    let _ = server.wait();
    st.success().then(|| total as f64 / secs)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if let Ok(role) = std::env::var(ROLE) {
        child(&role);
        return;
    }
    let smoke = !std::env::args().any(|a| a == "--bench");
    let rounds: usize = if smoke {
        1
    } else {
        std::env::var("UNISTACK_VCHAN_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5)
    };
    let mib = |n: u64| n << 20;
    let gbs = |x: f64| x / 1e9;
    let poll = poll_turns();
    println!(
        "vchan between two processes vs an AF_UNIX stream socket and memcpy (GB/s, medians of {rounds}); \
         \"poll\": both ends poll {poll} turns before sleeping"
    );
    println!(
        "  {:>7} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>11} {:>11} {:>11} {:>11} {:>8} {:>10}",
        "write",
        "o20",
        "o20 poll",
        "o11",
        "o11 poll",
        "socket",
        "memcpy",
        "o20/socket",
        "poll/socket",
        "o20/memcpy",
        "poll/memcpy",
        "RAM cp",
        "o20/RAM"
    );
    // `UNISTACK_VCHAN_WRITES=65536,1024` picks write sizes; `UNISTACK_VCHAN_ONLY=o20` runs only
    // the order-20 vchan throughput (for profiling); `UNISTACK_VCHAN_ORDER=18` sizes its rings.
    let writes: Vec<usize> = std::env::var("UNISTACK_VCHAN_WRITES")
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![64, 1024, 16 << 10, 64 << 10]);
    let only_o20 = std::env::var("UNISTACK_VCHAN_ONLY").is_ok_and(|v| v == "o20");
    for w in writes {
        let total = if smoke {
            mib(1)
        } else if w < 1024 {
            mib(16)
        } else {
            mib(256)
        };
        let mut runs: [Vec<f64>; 7] = Default::default();
        for _ in 0..rounds {
            runs[0].push(throughput(&Transport::Vchan(big_order(), 0), w, total));
            if only_o20 {
                for r in &mut runs[1..] {
                    r.push(f64::NAN);
                }
                continue;
            }
            runs[1].push(throughput(&Transport::Vchan(big_order(), poll), w, total));
            runs[2].push(throughput(&Transport::Vchan(11, 0), w, total));
            runs[3].push(throughput(&Transport::Vchan(11, poll), w, total));
            runs[4].push(throughput(&Transport::Socket, w, total));
            runs[5].push(memcpy_rate(w, total));
            runs[6].push(memcpy_stream_rate(w, total));
        }
        let [a, ap, b, bp, s, m, r] = runs.map(median);
        println!(
            "  {w:>7} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>8.2} {:>8.2} {:>10.2}x {:>10.2}x {:>10.2}x {:>10.2}x {:>8.2} {:>9.2}x",
            gbs(a),
            gbs(ap),
            gbs(b),
            gbs(bp),
            gbs(s),
            gbs(m),
            a / s,
            ap / s,
            a / m,
            ap / m,
            gbs(r),
            a / r
        );
    }
    if only_o20 {
        return;
    }
    let count = if smoke { 200 } else { 20_000 };
    let (mut v, mut vp, mut s) = (vec![], vec![], vec![]);
    for _ in 0..rounds {
        v.push(ping_pong(&Transport::Vchan(20, 0), count));
        vp.push(ping_pong(&Transport::Vchan(20, poll), count));
        s.push(ping_pong(&Transport::Socket, count));
    }
    let (v, vp, s) = (median(v), median(vp), median(s));
    println!(
        "ping-pong, {PING}-byte messages: vchan {:.1} µs ({:.2}x the socket's rate), polling {:.1} µs ({:.2}x), socket {:.1} µs per round trip",
        1e6 / v,
        v / s,
        1e6 / vp,
        vp / s,
        1e6 / s,
    );
    let built = xenshim::build(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/vchan/tests/xenshim"),
        &Path::new(env!("CARGO_TARGET_TMPDIR")).join("xenshim-bench"),
    );
    match built {
        Err(why) => println!("libxenvchan: SKIPPED ({why})"),
        Ok(b) => {
            let total = if smoke { mib(1) } else { mib(256) };
            for order in [20u32, 12] {
                let (mut c, mut r, mut rp, mut cc) = (vec![], vec![], vec![], vec![]);
                for _ in 0..rounds {
                    c.push(from_libxenvchan(&b, total, order).unwrap_or(0.0));
                    r.push(ours(total, order, 0));
                    rp.push(ours(total, order, poll));
                    cc.push(libxenvchan_pair(&b, total, order).unwrap_or(0.0));
                }
                let (c, r, rp, cc) = (median(c), median(r), median(rp), median(cc));
                println!(
                    "order {order}, 64 KiB writes: libxenvchan → us {:.2} GB/s, us → us {:.2} GB/s (polling {:.2}), libxenvchan → libxenvchan {:.2} GB/s (us / libxenvchan: {:.2}x, polling {:.2}x)",
                    gbs(c),
                    gbs(r),
                    gbs(rp),
                    gbs(cc),
                    r / cc,
                    rp / cc
                );
                if smoke {
                    assert!(c > 0.0 && cc > 0.0, "a libxenvchan transfer failed");
                }
            }
        }
    }
    println!(
        "Targets: >= 3x the socket at 64 KiB writes, >= 50% of memcpy (the strict column: a \
         buffer recopied in one core's cache; the RAM column copies the same bytes once). \
         libxenvchan never polls: compare it with our sleeping figures."
    );
    if smoke {
        println!("(smoke run: 1 MiB, one round; the figures mean nothing)");
    }
}
