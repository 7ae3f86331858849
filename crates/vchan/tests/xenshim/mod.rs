//! Building the libxenvchan interop pieces: the replacement libxenstore/libxengnttab/
//! libxenevtchn (`shim.c`) and the C peer (`peer.c`) linked against Debian's libxenvchan.
//! Shared by `tests/libxenvchan.rs` and the vchan bench (included by path).

use std::path::{Path, PathBuf};
use std::process::Command;

/// What [`build`] made.
pub struct Built {
    /// The directory holding the three replacement libraries.
    pub shims: PathBuf,
    /// The C peer.
    pub peer: PathBuf,
    /// The directory holding `libxenvchan.so.4.17`.
    pub lib: PathBuf,
}

impl Built {
    /// A command running the peer as domain `dom` over the store/grants/events in `root`.
    pub fn peer(&self, root: &Path, dom: u16) -> Command {
        let mut c = Command::new(&self.peer);
        c.env("UNISTACK_VCHAN_ROOT", root)
            .env("UNISTACK_VCHAN_DOMID", dom.to_string())
            .env(
                "LD_LIBRARY_PATH",
                format!("{}:{}", self.shims.display(), self.lib.display()),
            );
        c
    }
}

/// Build the shims and the peer from `src` into `out`; `Err` says what is missing (the Xen
/// headers in `$XEN_INCLUDE`, default `/tmp/xen-dev/usr/include`; libxenvchan in
/// `$XENVCHAN_LIB`, default `/tmp/xen-misc/usr/lib/x86_64-linux-gnu`; a C compiler).
pub fn build(src: &Path, out: &Path) -> Result<Built, String> {
    let inc = std::env::var_os("XEN_INCLUDE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/xen-dev/usr/include"));
    if !inc.join("libxenvchan.h").exists() {
        return Err(format!("no Xen headers in {}", inc.display()));
    }
    let lib = std::env::var_os("XENVCHAN_LIB")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/xen-misc/usr/lib/x86_64-linux-gnu"));
    if !lib.join("libxenvchan.so.4.17").exists() {
        return Err(format!("no libxenvchan.so.4.17 in {}", lib.display()));
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    if Command::new(&cc).arg("--version").output().is_err() {
        return Err(format!("no C compiler ({cc})"));
    }
    std::fs::create_dir_all(out).map_err(|e| e.to_string())?;
    let run = |c: &mut Command| -> Result<(), String> {
        let o = c.output().map_err(|e| e.to_string())?;
        if o.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&o.stderr).into_owned())
        }
    };
    for (map, def, soname) in [
        ("xenstore", "SHIM_XENSTORE", "libxenstore.so.4"),
        ("xengnttab", "SHIM_GNTTAB", "libxengnttab.so.1"),
        ("xenevtchn", "SHIM_EVTCHN", "libxenevtchn.so.1"),
    ] {
        run(Command::new(&cc)
            .args(["-O2", "-shared", "-fPIC", "-D", def])
            .arg(format!("-Wl,-soname,{soname}"))
            .arg(format!(
                "-Wl,--version-script={}",
                src.join(format!("{map}.map")).display()
            ))
            .arg("-o")
            .arg(out.join(soname))
            .arg(src.join("shim.c")))?;
    }
    let peer = out.join("peer");
    run(Command::new(&cc)
        .args(["-O2", "-I"])
        .arg(&inc)
        .arg("-o")
        .arg(&peer)
        .arg(src.join("peer.c"))
        .arg("-L")
        .arg(out)
        .arg("-L")
        .arg(&lib)
        .arg("-l:libxenvchan.so.4.17")
        .arg(format!("-Wl,-rpath-link,{}", out.display())))?;
    Ok(Built {
        shims: out.to_path_buf(),
        peer,
        lib,
    })
}
