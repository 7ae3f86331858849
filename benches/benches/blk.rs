//! Block I/O: blkfront → blkback → image file, against the same pattern done directly on the
//! file with pread/pwrite.
//!
//! `cargo bench -p unistack-benches --bench blk` (`cargo test --benches` runs a short smoke
//! on a small image that still checks every contender reads the same bytes).
//!
//! One image file in a temporary directory (`UNISTACK_BENCH_DIR`, default the system's),
//! 256 MiB, filled with a pattern of its offsets; writes rewrite the same pattern, so the
//! image never changes and every contender's reads see the same bytes (their checksums must
//! agree). Both sides open the image `O_DIRECT` where the filesystem allows it (printed), so
//! the page cache does not flatter either.
//!
//! Patterns: sequential and random (uniform over the image, aligned) reads and writes of
//! 4 KiB and 64 KiB, one request at a time (queue depth 1, the blocking `BlockDevice` API).
//! Contenders:
//! - direct: `pread`/`pwrite` on the image, from a page-aligned buffer (the baseline);
//! - blkfront → blkback, local backend: the front end's blocking `Disk` in this thread, the
//!   back end in another thread, pages shared in-process;
//! - blkfront → blkback, Linux backend: as the first, but grants are `/dev/shm` files mapped
//!   twice and events are Unix datagrams (what the cross-process setup pays);
//! - blkfront → blkback, Linux backend, polling: both ends poll the ring before they sleep
//!   (the back end up to 50 µs for the next request, the front end up to 300 µs for its
//!   completion), reading the indexes only, so that neither end sends the other an event
//!   while it polls: on a VM each wakeup of a halted vCPU costs tens of microseconds;
//! - blkfront → blkback, local, over a disk in memory (`MemStorage`): the transport's own
//!   cost per request, without the disk.
//!
//! The back end reads and writes the granted pages directly (`preadv`/`pwritev` on the
//! image, no copy through its buffer); the front end copies between them and the caller's
//! buffer (persistent grants).
//!
//! Placement: the polling contender's back end runs on the CPU that takes the disk's
//! interrupts (read from `/proc/interrupts`) and its front end on another, as on a Xen host
//! where the back end's domain handles the disk and the guest has its own vCPU; unplaced,
//! the scheduler can put the polling front end on the CPU where the disk's completion must
//! wake the back end. Direct I/O and the sleeping contenders run wherever the scheduler
//! puts them, as they always have (the sleeping ends pinned apart lose 20-30 points to
//! cross-CPU wakeups; unpinned, the scheduler often keeps them on one CPU).
//! `UNISTACK_BLK_BACK_CPU` and `UNISTACK_BLK_FRONT_CPU` override the polling contender's
//! placement (`none`: unpinned).
//!
//! Ratios are time per operation relative to direct; throughput and IOPS are printed too.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

use unistack_benches::{Group, Rng, selected};
use unistack_blk::unistack_vchan::Backend;
use unistack_blk::unistack_vchan::linux::{LinuxHost, scratch_root};
use unistack_blk::unistack_vchan::local::Hypervisor;
use unistack_blk::{
    BackConfig, Blkback, BlockDevice, DevicePaths, Disk, FrontConfig, Image, MemStorage, Storage,
    XVDA, create_device,
};

const T: Duration = Duration::from_secs(30);

/// Pin the calling thread to `cpu`, or let it run anywhere (`None`).
fn pin(cpu: Option<usize>) {
    let mut set = rustix::thread::CpuSet::new();
    match cpu {
        Some(cpu) => set.set(cpu),
        None => (0..64).for_each(|c| set.set(c)),
    }
    // A CPU outside this process's cpuset is refused: then it runs where it may.
    let _ = rustix::thread::sched_setaffinity(None, &set);
}

/// The CPU that takes most of the disk's interrupts (`virtioN-req.M` or `nvme` lines of
/// `/proc/interrupts`), if there is one and the machine has two CPUs or more.
fn disk_irq_cpu() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/interrupts").ok()?;
    let mut lines = text.lines();
    let cpus = lines.next()?.split_whitespace().count();
    if cpus < 2 {
        return None;
    }
    let mut counts = vec![0u64; cpus];
    for line in lines {
        let disk = line.contains("nvme")
            || line
                .split_whitespace()
                .any(|w| w.starts_with("virtio") && w.contains("-req"));
        if !disk {
            continue;
        }
        let fields = line.split_whitespace().skip(1).take(cpus);
        for (c, f) in counts.iter_mut().zip(fields) {
            *c += f.parse::<u64>().unwrap_or(0);
        }
    }
    let (cpu, &most) = counts.iter().enumerate().max_by_key(|&(_, n)| *n)?;
    (most > 0).then_some(cpu)
}

/// Where a polling contender's back end and front end run: `UNISTACK_BLK_BACK_CPU` and
/// `UNISTACK_BLK_FRONT_CPU` (`none`: unpinned), by default the disk's interrupt CPU for the
/// back end and another for the front end, as in a Xen host where the back end's domain
/// takes the disk's interrupts and the guest runs on its own vCPU.
fn placement() -> (Option<usize>, Option<usize>) {
    let var = |k: &str| std::env::var(k).ok();
    let parse = |v: String| v.parse::<usize>().ok();
    match (var("UNISTACK_BLK_BACK_CPU"), var("UNISTACK_BLK_FRONT_CPU")) {
        (None, None) => match disk_irq_cpu() {
            Some(b) => (Some(b), Some(usize::from(b == 0))),
            None => (None, None),
        },
        (b, f) => (b.and_then(parse), f.and_then(parse)),
    }
}

fn pattern(offset: u64) -> u8 {
    (offset.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 57) as u8 ^ (offset >> 12) as u8
}

/// A page-aligned buffer without `unsafe`: a larger `Vec` used from its first aligned byte.
struct Aligned {
    raw: Vec<u8>,
    start: usize,
    len: usize,
}

impl Aligned {
    fn new(len: usize) -> Self {
        let raw = vec![0u8; len + 4096];
        let start = raw.as_ptr().align_offset(4096);
        Aligned { raw, start, len }
    }
    fn buf(&mut self) -> &mut [u8] {
        &mut self.raw[self.start..self.start + self.len]
    }
}

fn fill_pattern(buf: &mut [u8], offset: u64) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = pattern(offset + i as u64);
    }
}

/// Fold a sample of the bytes (every 512th) into a checksum.
fn sample(h: u64, buf: &[u8]) -> u64 {
    buf.iter()
        .step_by(512)
        .fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
}

struct Pattern {
    offsets: Vec<u64>,
    kind: Kind,
    /// The pattern bytes of each write, prepared outside the timed loop.
    data: Vec<Vec<u8>>,
}

impl Pattern {
    fn new(image: u64, size: usize, random: bool, kind: Kind, ops: usize, seed: u64) -> Self {
        let blocks = image / size as u64;
        let mut rng = Rng::new(seed);
        let offsets: Vec<u64> = (0..ops as u64)
            .map(|i| {
                let b = if random {
                    rng.below(blocks)
                } else {
                    i % blocks
                };
                b * size as u64
            })
            .collect();
        let data = if kind == Kind::Write {
            offsets
                .iter()
                .map(|&o| {
                    let mut v = vec![0u8; size];
                    fill_pattern(&mut v, o);
                    v
                })
                .collect()
        } else {
            Vec::new()
        };
        Pattern {
            offsets,
            kind,
            data,
        }
    }
}

/// The baseline: pread/pwrite on the image (`Image` is exactly that: an `O_DIRECT` descriptor
/// for aligned requests, the buffered one otherwise).
struct Direct {
    image: Image,
    buf: Aligned,
}

impl Direct {
    fn open(path: &Path, size: usize) -> (Self, bool) {
        let image = Image::open(path, false).unwrap();
        let is_direct = image.is_direct();
        (
            Direct {
                image,
                buf: Aligned::new(size),
            },
            is_direct,
        )
    }

    fn run(&mut self, p: &Pattern) -> u64 {
        pin(None);
        let mut h = 0;
        for (i, &o) in p.offsets.iter().enumerate() {
            let buf = self.buf.buf();
            match p.kind {
                Kind::Read => {
                    self.image.read_at(o, buf).unwrap();
                    h = sample(h, buf);
                }
                Kind::Write => {
                    buf.copy_from_slice(&p.data[i]);
                    self.image.write_at(o, buf).unwrap();
                    h = sample(h, &p.data[i]);
                }
            }
        }
        assert_eq!(self.image.buffered_fallbacks(), 0);
        h
    }
}

/// blkfront in this thread, blkback in another.
struct Front<B: Backend> {
    disk: Option<Disk<B>>,
    /// Where the front end runs (`None`: anywhere).
    cpu: Option<usize>,
    buf: Vec<u8>,
    back: Option<JoinHandle<()>>,
    _root: Option<PathBuf>,
}

/// How long each end polls before it sleeps: the back end for the next request
/// (`BackConfig::spin`), the front end for its completion (`Disk::set_spin`).
/// Polling ends are also placed (see [`placement`]): two polling ends on one CPU would
/// take turns, and the scheduler may put them there.
#[derive(Clone, Copy)]
struct Poll {
    back: Duration,
    front: Duration,
}

impl Poll {
    fn placed(&self) -> bool {
        !self.back.is_zero() || !self.front.is_zero()
    }
}

/// Both ends sleep at once (the defaults), wherever the scheduler puts them.
const SLEEP: Poll = Poll {
    back: Duration::ZERO,
    front: Duration::ZERO,
};

/// The back end polls ~ one wakeup's cost (50 µs) for the next request; the front end
/// polls up to 300 µs for its completion (a 64 KiB read from the disk takes ~130 µs).
const POLL: Poll = Poll {
    back: Duration::from_micros(50),
    front: Duration::from_micros(300),
};

impl<B: Backend + Send + 'static> Front<B> {
    fn start(
        front: B,
        back: B,
        image: &Path,
        size: usize,
        root: Option<PathBuf>,
        poll: Poll,
    ) -> Self {
        let img = Image::open(image, false).unwrap();
        Self::start_with(front, back, img, size, root, poll)
    }

    fn start_with<S: Storage + Send + 'static>(
        front: B,
        back: B,
        img: S,
        size: usize,
        root: Option<PathBuf>,
        poll: Poll,
    ) -> Self {
        let paths = DevicePaths::new(1, 0, XVDA);
        create_device(&back, &paths).unwrap();
        let p = paths.clone();
        let config = BackConfig {
            spin: poll.back,
            ..BackConfig::default()
        };
        let (back_cpu, front_cpu) = if poll.placed() {
            placement()
        } else {
            (None, None)
        };
        let handle = std::thread::spawn(move || {
            pin(back_cpu);
            let mut b = Blkback::connect(back, p, img, config, T).unwrap();
            b.run().unwrap();
            // Every request the bench makes is 4 KiB-aligned: none may miss O_DIRECT.
            let img: &dyn std::any::Any = b.storage();
            if let Some(img) = img.downcast_ref::<Image>() {
                assert!(
                    !img.is_direct() || img.buffered_fallbacks() == 0,
                    "O_DIRECT fallbacks"
                );
            }
        });
        let mut disk = Disk::connect(front, paths, FrontConfig::default(), T).unwrap();
        disk.set_spin(poll.front);
        Front {
            disk: Some(disk),
            cpu: front_cpu,
            buf: vec![0u8; size],
            back: Some(handle),
            _root: root,
        }
    }

    fn run(&mut self, p: &Pattern) -> u64 {
        pin(self.cpu);
        let disk = self.disk.as_mut().unwrap();
        let mut h = 0;
        for (i, &o) in p.offsets.iter().enumerate() {
            match p.kind {
                Kind::Read => {
                    disk.read_at(o, &mut self.buf).unwrap();
                    h = sample(h, &self.buf);
                }
                Kind::Write => {
                    disk.write_at(o, &p.data[i]).unwrap();
                    h = sample(h, &p.data[i]);
                }
            }
        }
        h
    }
}

impl<B: Backend> Drop for Front<B> {
    fn drop(&mut self) {
        drop(self.disk.take());
        if let Some(h) = self.back.take() {
            let _ = h.join();
        }
        if let Some(r) = &self._root {
            let _ = std::fs::remove_dir_all(r);
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs a short smoke instead.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let base = std::env::var_os("UNISTACK_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("unistack-blk-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let image_len: u64 = if smoke { 4 << 20 } else { 256 << 20 };
    let image = dir.join("disk.img");
    {
        let f = File::create(&image).unwrap();
        let mut chunk = vec![0u8; 1 << 20];
        for at in (0..image_len).step_by(chunk.len()) {
            fill_pattern(&mut chunk, at);
            f.write_all_at(&chunk, at).unwrap();
        }
        f.sync_all().unwrap();
    }
    let mut summary: Vec<(String, f64)> = Vec::new();
    let mut direct_seen = None;
    for (size, random, kind) in [
        (64 << 10, false, Kind::Read),
        (64 << 10, false, Kind::Write),
        (64 << 10, true, Kind::Read),
        (64 << 10, true, Kind::Write),
        (4 << 10, false, Kind::Read),
        (4 << 10, false, Kind::Write),
        (4 << 10, true, Kind::Read),
        (4 << 10, true, Kind::Write),
    ] {
        let what = format!(
            "{} {} {} KiB",
            if random { "random" } else { "sequential" },
            if kind == Kind::Read { "read" } else { "write" },
            size >> 10
        );
        let title = format!("blk {what}, queue depth 1");
        if !selected(&title) {
            continue;
        }
        let ops = if smoke {
            8
        } else if size > 4096 {
            64
        } else {
            256
        };
        let p = Pattern::new(
            image_len,
            size,
            random,
            kind,
            ops,
            0x626c_6b00 + size as u64,
        );
        let (mut direct, is_direct) = Direct::open(&image, size);
        direct_seen.get_or_insert(is_direct);
        let hv = Hypervisor::new();
        let mut local = Front::start(hv.domain(1), hv.domain(0), &image, size, None, SLEEP);
        let root = scratch_root("blk-bench");
        let mut linux = Front::start(
            LinuxHost::new(&root, 1).unwrap(),
            LinuxHost::new(&root, 0).unwrap(),
            &image,
            size,
            Some(root),
            SLEEP,
        );
        let root = scratch_root("blk-bench-poll");
        let mut linux_poll = Front::start(
            LinuxHost::new(&root, 1).unwrap(),
            LinuxHost::new(&root, 0).unwrap(),
            &image,
            size,
            Some(root),
            POLL,
        );
        // The same transport over a disk in memory: what a request costs without the disk
        // (the share of the gap to direct I/O that is ours).
        let hv3 = Hypervisor::new();
        let mut mem = MemStorage::new(image_len as usize);
        {
            let mut chunk = vec![0u8; 1 << 20];
            for at in (0..image_len).step_by(chunk.len()) {
                fill_pattern(&mut chunk, at);
                mem.write_at(at, &chunk).unwrap();
            }
        }
        let mut in_memory = Front::start_with(hv3.domain(1), hv3.domain(0), mem, size, None, SLEEP);
        let out = {
            let mut g = Group::new(&title, ops);
            if smoke {
                g.budget(3, Duration::from_millis(1));
            } else {
                g.budget(15, Duration::from_millis(150));
            }
            g.add("direct pread/pwrite", || direct.run(&p));
            g.add("blkfront→blkback, local", || local.run(&p));
            g.add("blkfront→blkback, linux backend", || linux.run(&p));
            g.add("blkfront→blkback, linux backend, polling", || {
                linux_poll.run(&p)
            });
            g.add("blkfront→blkback, local, disk in memory", || {
                in_memory.run(&p)
            });
            g.run()
        };
        for o in &out {
            let mbs = size as f64 / o.median_ns * 1e3;
            let iops = 1e9 / o.median_ns;
            println!(
                "  {:<38} {:>9.1} MB/s {:>9.0} IOPS  {:>5.1}% of direct",
                o.name,
                mbs,
                iops,
                100.0 / o.ratio
            );
        }
        let names = ["local", "linux", "linux polling"];
        for (k, name) in names.iter().enumerate() {
            summary.push((format!("{what}: {name} / direct"), 1.0 / out[k + 1].ratio));
        }
        // Per request: direct I/O's time, and the transport's own (disk in memory).
        summary.push((
            format!("{what}: µs per request, direct"),
            out[0].median_ns / 1e3,
        ));
        summary.push((
            format!("{what}: µs per request, transport alone"),
            out[4].median_ns / 1e3,
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "\nSummary (throughput relative to direct file I/O; target >= 0.80 for 64 KiB sequential)"
    );
    println!(
        "  image: {} in {}, O_DIRECT: {}",
        if smoke { "4 MiB" } else { "256 MiB" },
        base.display(),
        direct_seen.map_or("?", |d| if d { "yes" } else { "no (buffered)" })
    );
    let cpu = |c: Option<usize>| c.map_or("unpinned".to_string(), |c| format!("CPU {c}"));
    let (back_cpu, front_cpu) = placement();
    println!(
        "  polling back end: {}, polling front end: {} (disk interrupts: {}); the rest unpinned",
        cpu(back_cpu),
        cpu(front_cpu),
        cpu(disk_irq_cpu())
    );
    for (k, v) in &summary {
        println!("  {k:<48} {v:>6.3}");
    }
    if smoke {
        println!("  (smoke run: unoptimised, tiny budget; the figures mean nothing)");
    }
}
