//! Serve a raw disk image to a blkfront in another process over the Linux backend.
//!
//! ```text
//! unistack-blkback [options] IMAGE
//!   --root DIR          the Linux backend's root (default /dev/shm/unistack-vchan)
//!   --front-dom N       the front end's domain id (default 1)
//!   --back-dom N        our domain id (default 0)
//!   --devid N           the virtual device (default 51712, xvda)
//!   --create            create both xenbus nodes first (the toolstack's part)
//!   --read-only         serve the image read-only
//!   --buffered          no O_DIRECT
//!   --sector-size N     512 (default) or 4096
//!   --max-indirect N    feature-max-indirect-segments (default 128; 0: none)
//!   --no-flush | --no-barrier | --no-discard
//!   --timeout SECS      how long to wait for the front end to connect (default 30)
//! ```
//!
//! Prints `connected <sectors> <direct|buffered>` once the front end is connected, serves
//! until it closes, and exits 0.

use std::process::ExitCode;
use std::time::Duration;

use unistack_blk::{BackConfig, Blkback, DevicePaths, Image, XVDA, create_device};
use unistack_vchan::linux::{DEFAULT_ROOT, LinuxHost};

struct Args {
    root: String,
    front: u16,
    back: u16,
    devid: u32,
    create: bool,
    read_only: bool,
    buffered: bool,
    timeout: u64,
    config: BackConfig,
    image: String,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        root: DEFAULT_ROOT.into(),
        front: 1,
        back: 0,
        devid: XVDA,
        create: false,
        read_only: false,
        buffered: false,
        timeout: 30,
        config: BackConfig::default(),
        image: String::new(),
    };
    let mut it = std::env::args().skip(1);
    fn num<T: std::str::FromStr>(v: Option<String>, name: &str) -> Result<T, String> {
        v.and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{name} needs a number"))
    }
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--root" => a.root = it.next().ok_or("--root needs a directory")?,
            "--front-dom" => a.front = num(it.next(), "--front-dom")?,
            "--back-dom" => a.back = num(it.next(), "--back-dom")?,
            "--devid" => a.devid = num(it.next(), "--devid")?,
            "--create" => a.create = true,
            "--read-only" => a.read_only = true,
            "--buffered" => a.buffered = true,
            "--sector-size" => a.config.sector_size = num(it.next(), "--sector-size")?,
            "--max-indirect" => a.config.max_indirect_segments = num(it.next(), "--max-indirect")?,
            "--no-flush" => a.config.flush = false,
            "--no-barrier" => a.config.barrier = false,
            "--no-discard" => a.config.discard = false,
            "--timeout" => a.timeout = num(it.next(), "--timeout")?,
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s => a.image = s.into(),
        }
    }
    if a.image.is_empty() {
        return Err("no IMAGE given".into());
    }
    Ok(a)
}

fn run(a: Args) -> Result<(), String> {
    let host = LinuxHost::new(&a.root, a.back).map_err(|e| format!("{}: {e}", a.root))?;
    let paths = DevicePaths::new(a.front, a.back, a.devid);
    if a.create {
        create_device(&host, &paths).map_err(|e| format!("creating the device: {e}"))?;
    }
    let image = if a.buffered {
        Image::open_buffered(&a.image, a.read_only)
    } else {
        Image::open(&a.image, a.read_only)
    }
    .map_err(|e| format!("{}: {e}", a.image))?;
    let direct = image.is_direct();
    let timeout = Duration::from_secs(a.timeout);
    let mut back = Blkback::connect(host, paths, image, a.config, timeout)
        .map_err(|e| format!("connecting: {e}"))?;
    println!(
        "connected {} {}",
        unistack_blk::Storage::len(back.storage()) / 512,
        if direct { "direct" } else { "buffered" }
    );
    back.run().map_err(|e| format!("serving: {e}"))?;
    let s = back.stats();
    eprintln!(
        "served {} requests ({} errors, {} unsupported), {} B read, {} B written, {} grant maps",
        s.requests, s.errors, s.not_supported, s.bytes_read, s.bytes_written, s.maps
    );
    Ok(())
}

fn main() -> ExitCode {
    match parse().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("unistack-blkback: {e}");
            }
            eprintln!("usage: unistack-blkback [options] IMAGE (see the source's docs)");
            ExitCode::FAILURE
        }
    }
}
