//! The Linux backend across processes: the `unistack-blkback` binary serves an image to a
//! blkfront in this test process, and is killed (SIGKILL) in the middle of a workload to
//! check that no write acknowledged before the last completed flush is lost.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use unistack_blk::{
    BlockDevice, DevicePaths, Disk, Error, FrontConfig, MemDisk, XVDA, create_device,
};
use unistack_vchan::linux::{LinuxHost, scratch_root};

mod common;
use common::{cmp, make_image, scratch};

struct Root(PathBuf);

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Start the back end in a child process; wait until it has published InitWait.
fn spawn_back(root: &Path, image: &Path, extra: &[&str]) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_unistack-blkback"))
        .arg("--root")
        .arg(root)
        .args(extra)
        .arg(image)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn unistack-blkback");
    // The child prints `connected ...` once the front end has connected; read it in a thread
    // so a broken child cannot hang the test.
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            println!("blkback: {line}");
        }
    });
    child
}

fn connect(root: &Path) -> Disk<LinuxHost> {
    let host = LinuxHost::new(root, 1).unwrap();
    let paths = DevicePaths::new(1, 0, XVDA);
    Disk::connect(host, paths, FrontConfig::default(), Duration::from_secs(30)).unwrap()
}

fn fill(rng: &mut Rng, len: usize) -> Vec<u8> {
    let s = rng.next();
    (0..len)
        .map(|i| (s.rotate_left(i as u32 % 64) as u8) ^ i as u8)
        .collect()
}

const DISK: u64 = 4 << 20;

#[test]
fn workload_across_processes_matches_the_model() {
    let root = Root(scratch_root("blk-procs"));
    let dir = scratch();
    let img = dir.path().join("disk.img");
    make_image(&img, DISK);
    let host = LinuxHost::new(&root.0, 0).unwrap();
    create_device(&host, &DevicePaths::new(1, 0, XVDA)).unwrap();
    let mut child = spawn_back(&root.0, &img, &[]);
    let mut disk = connect(&root.0);
    let mut model = MemDisk::new(DISK / 512, 512);
    let mut rng = Rng(42);
    for _ in 0..300 {
        match rng.below(10) {
            0..=3 => {
                let at = rng.below(DISK / 512 - 400) * 512;
                let n = (rng.below(400) as usize + 1) * 512;
                let data = fill(&mut rng, n);
                disk.write_at(at, &data).unwrap();
                model.write_at(at, &data).unwrap();
            }
            4..=7 => {
                let at = rng.below(DISK - 300_000);
                let len = rng.below(300_000) as usize + 1;
                let (mut a, mut b) = (vec![0; len], vec![0; len]);
                disk.read_at(at, &mut a).unwrap();
                model.read_at(at, &mut b).unwrap();
                assert!(a == b, "read {len} at {at}");
            }
            8 => disk.flush().unwrap(),
            _ => {
                let at = rng.below(DISK / 512 - 64) * 512;
                let n = (rng.below(64) + 1) * 512;
                disk.discard(at, n).unwrap();
                model.discard(at, n).unwrap();
            }
        }
    }
    disk.flush().unwrap();
    drop(disk);
    let status = child.wait().unwrap();
    assert!(status.success(), "blkback exited with {status}");
    let model_file = dir.path().join("model.img");
    std::fs::write(&model_file, model.as_bytes()).unwrap();
    cmp(&img, &model_file);
}

/// The back end is SIGKILLed mid-workload. Afterwards every 512-byte sector of the image
/// holds either what it held at the last completed flush, or the data of a write issued after
/// that flush (acknowledged or still in flight when the back end died): nothing acknowledged
/// before the flush is lost or torn back to older data.
#[test]
fn sigkill_loses_no_write_acknowledged_before_the_last_flush() {
    let root = Root(scratch_root("blk-crash"));
    let dir = scratch();
    let img = dir.path().join("disk.img");
    make_image(&img, DISK);
    let host = LinuxHost::new(&root.0, 0).unwrap();
    create_device(&host, &DevicePaths::new(1, 0, XVDA)).unwrap();
    let child = spawn_back(&root.0, &img, &[]);
    let pid = child.id();
    let mut disk = connect(&root.0);
    // Long enough that a timeout cannot pass for noticing the dead back end.
    disk.set_timeout(Duration::from_secs(30));
    let sectors = (DISK / 512) as usize;
    let mut model = MemDisk::new(DISK / 512, 512);
    let mut durable = model.clone();
    // Writes issued since the last completed flush: (offset, data).
    let mut since: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut rng = Rng(7);
    let killer = std::thread::spawn(move || {
        let mut child = child;
        std::thread::sleep(Duration::from_millis(300 + Rng(pid.into()).below(300)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap()
    });
    let start = Instant::now();
    let mut flushes = 0;
    let mut acked = 0;
    loop {
        let r = if rng.below(6) == 0 {
            let r = disk.flush();
            if r.is_ok() {
                flushes += 1;
                durable = model.clone();
                since.clear();
            }
            r
        } else {
            let at = rng.below(DISK / 512 - 300) * 512;
            let n = (rng.below(300) as usize + 1) * 512;
            let data = fill(&mut rng, n);
            since.push((at, data.clone()));
            let r = disk.write_at(at, &data);
            if r.is_ok() {
                acked += 1;
                model.write_at(at, &data).unwrap();
            }
            r
        };
        match r {
            Ok(()) => {}
            // The back end's process is gone: its event socket refuses, and the waiting
            // call says so at once instead of running into its 30 s timeout.
            Err(Error::Closed) => break,
            Err(e) => panic!("unexpected {e:?}"),
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the kill never came, or went unnoticed"
        );
    }
    let status = killer.join().unwrap();
    assert!(!status.success(), "killed: {status}");
    assert!(
        flushes > 0 && acked > 0,
        "{flushes} flushes, {acked} writes"
    );
    drop(disk);
    let image = std::fs::read(&img).unwrap();
    let want = durable.as_bytes();
    let mut from_later_writes = 0;
    for s in 0..sectors {
        let r = s * 512..(s + 1) * 512;
        if image[r.clone()] == want[r.clone()] {
            continue;
        }
        let sector_off = (s * 512) as u64;
        let ok = since.iter().any(|(at, data)| {
            sector_off >= *at
                && sector_off < at + data.len() as u64
                && data[(sector_off - at) as usize..][..512] == image[r.clone()]
        });
        assert!(
            ok,
            "sector {s} holds neither its flushed data nor a later write's"
        );
        from_later_writes += 1;
    }
    println!(
        "{flushes} flushes, {acked} acknowledged writes, {} writes after the last flush, \
         {from_later_writes} sectors from them",
        since.len()
    );
}
