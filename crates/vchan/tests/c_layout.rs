//! Every offset and size of our layouts against the real Xen headers, compiled by `cc`.
//!
//! The headers come from Debian's `libxen-dev` (Xen 4.17):
//! ```text
//! cd /tmp && apt-get download libxen-dev && dpkg -x libxen-dev_*.deb xen-dev
//! ```
//! and are found in `$XEN_INCLUDE` (default `/tmp/xen-dev/usr/include`). Without a C compiler
//! or the headers the test prints `SKIPPED: ...` and passes.

use std::path::{Path, PathBuf};
use std::process::Command;

use unistack_cstruct::Span;
use unistack_vchan::blkif::{BlkifRequest, BlkifResponse, BlkifSegment};
use unistack_vchan::netif::{
    NetifExtraGso, NetifExtraInfo, NetifRxRequest, NetifRxResponse, NetifTxRequest, NetifTxResponse,
};
use unistack_vchan::ring::{SringHeader, ring_size};
use unistack_vchan::vchan::{GRANTS_OFFSET, NOTIFY_READ, NOTIFY_WRITE, VchanInterface};

/// (C struct, C member designator, our span, offset of our layout within the C struct).
fn fields() -> Vec<(&'static str, &'static str, Span, usize)> {
    let mut v = vec![
        ("netif_tx_request", "gref", NetifTxRequest::GREF, 0),
        ("netif_tx_request", "offset", NetifTxRequest::OFFSET, 0),
        ("netif_tx_request", "flags", NetifTxRequest::FLAGS, 0),
        ("netif_tx_request", "id", NetifTxRequest::ID, 0),
        ("netif_tx_request", "size", NetifTxRequest::LEN, 0),
        ("netif_tx_response", "id", NetifTxResponse::ID, 0),
        ("netif_tx_response", "status", NetifTxResponse::STATUS, 0),
        ("netif_rx_request", "id", NetifRxRequest::ID, 0),
        ("netif_rx_request", "pad", NetifRxRequest::PAD, 0),
        ("netif_rx_request", "gref", NetifRxRequest::GREF, 0),
        ("netif_rx_response", "id", NetifRxResponse::ID, 0),
        ("netif_rx_response", "offset", NetifRxResponse::OFFSET, 0),
        ("netif_rx_response", "flags", NetifRxResponse::FLAGS, 0),
        ("netif_rx_response", "status", NetifRxResponse::STATUS, 0),
        ("netif_extra_info", "type", NetifExtraInfo::TYPE, 0),
        ("netif_extra_info", "flags", NetifExtraInfo::FLAGS, 0),
        ("netif_extra_info", "u", NetifExtraInfo::U, 0),
        ("netif_extra_info", "u.gso.size", NetifExtraGso::LEN, 2),
        ("netif_extra_info", "u.gso.type", NetifExtraGso::TYPE, 2),
        ("netif_extra_info", "u.gso.pad", NetifExtraGso::PAD, 2),
        (
            "netif_extra_info",
            "u.gso.features",
            NetifExtraGso::FEATURES,
            2,
        ),
        ("blkif_request", "operation", BlkifRequest::OPERATION, 0),
        ("blkif_request", "nr_segments", BlkifRequest::NR_SEGMENTS, 0),
        ("blkif_request", "handle", BlkifRequest::HANDLE, 0),
        ("blkif_request", "id", BlkifRequest::ID, 0),
        (
            "blkif_request",
            "sector_number",
            BlkifRequest::SECTOR_NUMBER,
            0,
        ),
        ("blkif_request", "seg", BlkifRequest::SEG, 0),
        ("blkif_request_segment", "gref", BlkifSegment::GREF, 0),
        (
            "blkif_request_segment",
            "first_sect",
            BlkifSegment::FIRST_SECT,
            0,
        ),
        (
            "blkif_request_segment",
            "last_sect",
            BlkifSegment::LAST_SECT,
            0,
        ),
        ("blkif_response", "id", BlkifResponse::ID, 0),
        ("blkif_response", "operation", BlkifResponse::OPERATION, 0),
        ("blkif_response", "status", BlkifResponse::STATUS, 0),
        ("vchan_interface", "left.cons", VchanInterface::LEFT_CONS, 0),
        ("vchan_interface", "left.prod", VchanInterface::LEFT_PROD, 0),
        (
            "vchan_interface",
            "right.cons",
            VchanInterface::RIGHT_CONS,
            0,
        ),
        (
            "vchan_interface",
            "right.prod",
            VchanInterface::RIGHT_PROD,
            0,
        ),
        (
            "vchan_interface",
            "left_order",
            VchanInterface::LEFT_ORDER,
            0,
        ),
        (
            "vchan_interface",
            "right_order",
            VchanInterface::RIGHT_ORDER,
            0,
        ),
        ("vchan_interface", "cli_live", VchanInterface::CLI_LIVE, 0),
        ("vchan_interface", "srv_live", VchanInterface::SRV_LIVE, 0),
        (
            "vchan_interface",
            "cli_notify",
            VchanInterface::CLI_NOTIFY,
            0,
        ),
        (
            "vchan_interface",
            "srv_notify",
            VchanInterface::SRV_NOTIFY,
            0,
        ),
    ];
    for sring in ["netif_tx_sring", "netif_rx_sring", "blkif_sring"] {
        v.extend([
            (sring, "req_prod", SringHeader::REQ_PROD, 0),
            (sring, "req_event", SringHeader::REQ_EVENT, 0),
            (sring, "rsp_prod", SringHeader::RSP_PROD, 0),
            (sring, "rsp_event", SringHeader::RSP_EVENT, 0),
            (sring, "pvt", SringHeader::PVT, 0),
            (sring, "__pad", SringHeader::PAD, 0),
        ]);
    }
    v
}

/// (C expression, our value).
fn values() -> Vec<(&'static str, u64)> {
    vec![
        (
            "sizeof(struct netif_tx_request)",
            NetifTxRequest::SIZE as u64,
        ),
        (
            "sizeof(struct netif_tx_response)",
            NetifTxResponse::SIZE as u64,
        ),
        (
            "sizeof(struct netif_rx_request)",
            NetifRxRequest::SIZE as u64,
        ),
        (
            "sizeof(struct netif_rx_response)",
            NetifRxResponse::SIZE as u64,
        ),
        (
            "sizeof(struct netif_extra_info)",
            NetifExtraInfo::SIZE as u64,
        ),
        ("sizeof(struct blkif_request)", BlkifRequest::SIZE as u64),
        (
            "sizeof(struct blkif_request_segment)",
            BlkifSegment::SIZE as u64,
        ),
        ("sizeof(struct blkif_response)", BlkifResponse::SIZE as u64),
        ("sizeof(union netif_tx_sring_entry)", 12),
        ("sizeof(union blkif_sring_entry)", 112),
        (
            "offsetof(struct netif_tx_sring, ring)",
            SringHeader::SIZE as u64,
        ),
        (
            "offsetof(struct blkif_sring, ring)",
            SringHeader::SIZE as u64,
        ),
        (
            "offsetof(struct vchan_interface, grants)",
            GRANTS_OFFSET as u64,
        ),
        (
            "__CONST_RING_SIZE(netif_tx, 4096)",
            ring_size(4096, 12).into(),
        ),
        (
            "__CONST_RING_SIZE(netif_rx, 4096)",
            ring_size(4096, 8).into(),
        ),
        (
            "__CONST_RING_SIZE(blkif, 4096)",
            ring_size(4096, 112).into(),
        ),
        (
            "__CONST_RING_SIZE(blkif, 4096 * 8)",
            ring_size(4096 * 8, 112).into(),
        ),
        ("VCHAN_NOTIFY_WRITE", NOTIFY_WRITE.into()),
        ("VCHAN_NOTIFY_READ", NOTIFY_READ.into()),
        ("BLKIF_MAX_SEGMENTS_PER_REQUEST", 11),
        (
            "NETTXF_more_data",
            unistack_vchan::netif::NETTXF_MORE_DATA.into(),
        ),
        (
            "NETTXF_extra_info",
            unistack_vchan::netif::NETTXF_EXTRA_INFO.into(),
        ),
        (
            "NETRXF_more_data",
            unistack_vchan::netif::NETRXF_MORE_DATA.into(),
        ),
        ("(uint16_t)NETIF_RSP_DROPPED", 0xfffe),
        ("(uint16_t)BLKIF_RSP_EOPNOTSUPP", 0xfffe),
    ]
}

fn c_program() -> String {
    let mut s = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <xen/xen.h>\n\
         #include <xen/io/ring.h>\n#include <xen/io/netif.h>\n#include <xen/io/blkif.h>\n\
         #include <xen/io/libxenvchan.h>\nint main(void) {\n",
    );
    for (st, member, ..) in fields() {
        s += &format!(
            "  printf(\"%zu %zu\\n\", offsetof(struct {st}, {member}), \
             sizeof(((struct {st} *)0)->{member}));\n"
        );
    }
    for (expr, _) in values() {
        s += &format!("  printf(\"%llu\\n\", (unsigned long long)({expr}));\n");
    }
    s + "  return 0;\n}\n"
}

fn include_dir() -> PathBuf {
    std::env::var_os("XEN_INCLUDE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/xen-dev/usr/include"))
}

#[test]
fn layouts_match_the_xen_headers() {
    let inc = include_dir();
    if !inc.join("xen/io/libxenvchan.h").is_file() {
        println!(
            "SKIPPED: no Xen headers in {} (set XEN_INCLUDE; see this file's docs)",
            inc.display()
        );
        return;
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    if Command::new(&cc).arg("--version").output().is_err() {
        println!("SKIPPED: no C compiler ({cc})");
        return;
    }
    let dir = std::env::temp_dir().join(format!("unistack-vchan-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("layout.c");
    let exe = dir.join("layout");
    std::fs::write(&src, c_program()).unwrap();
    let out = Command::new(&cc)
        .args(["-std=gnu11", "-Wall", "-Werror", "-I"])
        .arg(&inc)
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(run.status.success());
    let text = String::from_utf8(run.stdout).unwrap();
    let mut lines = text.lines();
    let mut checked = 0;
    for (st, member, span, base) in fields() {
        let line = lines.next().expect("a line per field");
        let mut it = line.split(' ').map(|x| x.parse::<usize>().unwrap());
        let (off, size) = (it.next().unwrap(), it.next().unwrap());
        assert_eq!(
            (span.offset + base, span.len),
            (off, size),
            "{st}.{member}: ours (offset, size) vs C"
        );
        checked += 1;
    }
    for (expr, ours) in values() {
        let c: u64 = lines.next().expect("a line per value").parse().unwrap();
        assert_eq!(ours, c, "{expr}");
        checked += 1;
    }
    assert_eq!(lines.next(), None);
    assert_eq!(checked, fields().len() + values().len());
    assert!(Path::new(&inc).is_dir());
}
