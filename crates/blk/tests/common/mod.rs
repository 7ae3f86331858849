//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::JoinHandle;
use std::time::Duration;

use unistack_blk::{
    BackConfig, BackStats, Blkback, DevicePaths, Disk, FrontConfig, Image, Storage, XVDA,
    create_device,
};
use unistack_vchan::local::{Domain, Hypervisor};

pub const T: Duration = Duration::from_secs(20);

/// A raw image of `len` bytes: `qemu-img create -f raw` when installed, else `set_len`
/// (what `truncate` does).
pub fn make_image(path: &Path, len: u64) -> &'static str {
    let ok = Command::new("qemu-img")
        .args(["create", "-q", "-f", "raw"])
        .arg(path)
        .arg(len.to_string())
        .status()
        .is_ok_and(|s| s.success());
    if ok && std::fs::metadata(path).is_ok_and(|m| m.len() == len) {
        return "qemu-img";
    }
    let f = std::fs::File::create(path).unwrap();
    f.set_len(len).unwrap();
    "set_len"
}

/// Compare two files with the real `cmp` (diffutils); falls back to comparing bytes only if
/// `cmp` is missing (and says so).
pub fn cmp(a: &Path, b: &Path) {
    match Command::new("cmp").arg(a).arg(b).output() {
        Ok(out) => assert!(
            out.status.success(),
            "cmp {} {}: {}{}",
            a.display(),
            b.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => {
            println!("SKIPPED cmp (not installed): comparing in-process");
            assert!(std::fs::read(a).unwrap() == std::fs::read(b).unwrap());
        }
    }
}

/// The back-end thread: its counters and a snapshot of its storage when it stopped.
pub type BackThread = JoinHandle<Result<(BackStats, Vec<u8>), unistack_blk::Error>>;

/// A device on a local hypervisor: the back end serving `storage` in a thread.
pub struct LocalRig<S: Storage + Send + 'static> {
    pub hv: Hypervisor,
    pub paths: DevicePaths,
    pub back: Option<BackThread>,
    _s: std::marker::PhantomData<S>,
}

impl<S: Storage + Send + 'static> LocalRig<S> {
    /// Wait for the back end to stop (after the front end closed): its counters and the
    /// snapshot taken of its storage.
    pub fn join(&mut self) -> (BackStats, Vec<u8>) {
        self.back.take().unwrap().join().unwrap().unwrap()
    }
}

/// Serve `storage` from a back-end thread; when it stops, `snapshot` sees the storage.
pub fn local_back<S: Storage + Send + 'static>(
    storage: S,
    config: BackConfig,
    snapshot: fn(&S) -> Vec<u8>,
) -> LocalRig<S> {
    let hv = Hypervisor::new();
    let paths = DevicePaths::new(1, 0, XVDA);
    create_device(&hv.domain(0), &paths).unwrap();
    let (dom, p) = (hv.domain(0), paths.clone());
    let back = std::thread::spawn(move || {
        let mut b = Blkback::connect(dom, p, storage, config, T)?;
        b.run()?;
        Ok((b.stats(), snapshot(b.storage())))
    });
    LocalRig {
        hv,
        paths,
        back: Some(back),
        _s: std::marker::PhantomData,
    }
}

pub fn no_snapshot<S>(_: &S) -> Vec<u8> {
    Vec::new()
}

pub fn connect(rig: &LocalRig<impl Storage + Send>, config: FrontConfig) -> Disk<Domain> {
    Disk::connect(rig.hv.domain(1), rig.paths.clone(), config, T).unwrap()
}

pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

pub fn image_in(dir: &Path, name: &str, len: u64) -> PathBuf {
    let p = dir.join(name);
    make_image(&p, len);
    p
}

pub fn open(p: &Path) -> Image {
    Image::open(p, false).unwrap()
}
