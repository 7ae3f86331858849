//! The discard and indirect request layouts (added to `unistack_vchan::blkif` for this
//! crate) against the real Xen header, compiled by `cc`: offsets, sizes and constants.
//!
//! Headers from Debian's `libxen-dev` in `$XEN_INCLUDE` (default `/tmp/xen-dev/usr/include`;
//! see `crates/vchan/tests/c_layout.rs`). Without them or a C compiler: `SKIPPED`, passes.

use std::path::PathBuf;
use std::process::Command;

use unistack_cstruct::Span;
use unistack_vchan::blkif::{
    BlkifRequestDiscard, BlkifRequestIndirect, DISCARD_SECURE, MAX_INDIRECT_PAGES,
};

fn fields() -> Vec<(&'static str, &'static str, Span)> {
    type D = BlkifRequestDiscard;
    type I = BlkifRequestIndirect;
    vec![
        ("blkif_request_discard", "operation", D::OPERATION),
        ("blkif_request_discard", "flag", D::FLAG),
        ("blkif_request_discard", "handle", D::HANDLE),
        ("blkif_request_discard", "id", D::ID),
        ("blkif_request_discard", "sector_number", D::SECTOR_NUMBER),
        ("blkif_request_discard", "nr_sectors", D::NR_SECTORS),
        ("blkif_request_indirect", "operation", I::OPERATION),
        ("blkif_request_indirect", "indirect_op", I::INDIRECT_OP),
        ("blkif_request_indirect", "nr_segments", I::NR_SEGMENTS),
        ("blkif_request_indirect", "id", I::ID),
        ("blkif_request_indirect", "sector_number", I::SECTOR_NUMBER),
        ("blkif_request_indirect", "handle", I::HANDLE),
        (
            "blkif_request_indirect",
            "indirect_grefs",
            I::INDIRECT_GREFS,
        ),
    ]
}

fn values() -> Vec<(&'static str, u64)> {
    vec![
        (
            "sizeof(struct blkif_request_discard)",
            BlkifRequestDiscard::SIZE as u64,
        ),
        (
            "sizeof(struct blkif_request_indirect)",
            BlkifRequestIndirect::SIZE as u64,
        ),
        (
            "BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST",
            MAX_INDIRECT_PAGES as u64,
        ),
        ("BLKIF_DISCARD_SECURE", DISCARD_SECURE.into()),
        ("BLKIF_OP_DISCARD", 5),
        ("BLKIF_OP_INDIRECT", 6),
        (
            "VDISK_READONLY",
            unistack_blk::xenbus::VDISK_READONLY.into(),
        ),
        ("XenbusStateInitWait", 2),
        ("XenbusStateInitialised", 3),
        ("XenbusStateConnected", 4),
        ("XenbusStateClosed", 6),
    ]
}

#[test]
fn discard_and_indirect_layouts_match_the_xen_header() {
    let inc = std::env::var_os("XEN_INCLUDE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/xen-dev/usr/include"));
    if !inc.join("xen/io/blkif.h").is_file() {
        println!("SKIPPED: no Xen headers in {}", inc.display());
        return;
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    if Command::new(&cc).arg("--version").output().is_err() {
        println!("SKIPPED: no C compiler ({cc})");
        return;
    }
    let mut src = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <xen/xen.h>\n\
         #include <xen/io/ring.h>\n#include <xen/io/blkif.h>\n#include <xen/io/xenbus.h>\n\
         int main(void) {\n",
    );
    for (st, m, _) in fields() {
        src += &format!(
            "  printf(\"%zu %zu\\n\", offsetof(struct {st}, {m}), sizeof(((struct {st} *)0)->{m}));\n"
        );
    }
    for (e, _) in values() {
        src += &format!("  printf(\"%llu\\n\", (unsigned long long)({e}));\n");
    }
    src += "  return 0;\n}\n";
    let dir = tempfile::tempdir().unwrap();
    let (c, exe) = (dir.path().join("l.c"), dir.path().join("l"));
    std::fs::write(&c, src).unwrap();
    let out = Command::new(&cc)
        .args(["-std=gnu11", "-Wall", "-Werror", "-I"])
        .arg(&inc)
        .arg("-o")
        .arg(&exe)
        .arg(&c)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    let text = String::from_utf8(run.stdout).unwrap();
    let mut lines = text.lines();
    for (st, m, span) in fields() {
        let l = lines.next().unwrap();
        let v: Vec<usize> = l.split(' ').map(|x| x.parse().unwrap()).collect();
        assert_eq!((span.offset, span.len), (v[0], v[1]), "{st}.{m}");
    }
    for (e, ours) in values() {
        assert_eq!(lines.next().unwrap().parse::<u64>().unwrap(), ours, "{e}");
    }
}
