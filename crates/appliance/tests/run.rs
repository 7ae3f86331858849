//! The appliance's default run (smaller download), and the appliance on a TAP device answering
//! real `dig` and `curl` inside a network namespace the test creates (root; CI installs the
//! tools; prints `SKIPPED: ...` otherwise).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use unistack_stack::netns::Netns;

fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

#[test]
fn default_run_resolves_downloads_and_records() {
    let pcap = std::env::temp_dir().join(format!("unistack-appliance-{}.pcap", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_unistack-appliance"))
        .args(["--download", "4194304", "--lookups", "100", "--pcap"])
        .arg(&pcap)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("dns: 100 lookups, 100 answers, 0 failures"),
        "{text}"
    );
    assert!(
        text.contains("appliance: 100 DNS queries, 100 responses, 1 HTTP requests"),
        "{text}"
    );
    assert!(
        text.contains("http: HTTP/1.1 200 OK (192.0.2.2), 4194304 bytes"),
        "{text}"
    );
    assert!(text.contains("content verified"), "{text}");
    let frames: usize = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("pcap: ")
                .and_then(|r| r.split('(').nth(1))
                .and_then(|r| r.split(' ').next())
        })
        .and_then(|n| n.parse().ok())
        .expect("a pcap line");
    assert!(frames > 3000, "{text}");
    if Command::new("tshark").arg("--version").output().is_ok() {
        let t = Command::new("tshark")
            .args(["-n", "-r"])
            .arg(&pcap)
            .args(["-T", "fields", "-e", "frame.number"])
            .output()
            .unwrap();
        assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
        assert_eq!(String::from_utf8_lossy(&t.stdout).lines().count(), frames);
    }
    let _ = std::fs::remove_file(&pcap);
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The appliance on a TAP device inside a fresh network namespace, with Linux at 192.0.2.1;
/// `None` (after printing SKIPPED) without root, `/dev/net/tun` or a tool in `tools`.
struct TapAppliance {
    ns: Netns,
    child: Option<std::process::Child>,
}

impl TapAppliance {
    fn start(tag: &str, tools: &[&str], extra: &[&str]) -> Option<TapAppliance> {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let root = status
            .lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
        let missing: Vec<_> = ["ip", "bash"]
            .iter()
            .chain(tools)
            .filter(|t| !have(t))
            .collect();
        if !root || !missing.is_empty() || !std::path::Path::new("/dev/net/tun").exists() {
            println!("SKIPPED: needs root, /dev/net/tun and {missing:?}");
            return None;
        }
        let ns = Netns::new(&format!("app-{tag}")).unwrap();
        let mut app = TapAppliance { ns, child: None };
        let mut child = app
            .ns
            .cmd(env!("CARGO_BIN_EXE_unistack-appliance"))
            .args([
                "--tap",
                "ustap0",
                "--ip",
                "192.0.2.2/24",
                "--seconds",
                "120",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        app.child = Some(child);
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        assert!(first.starts_with("serving"), "{first}");
        app.ns.addr_up("ustap0", "192.0.2.1/24").unwrap();
        std::thread::sleep(Duration::from_millis(100));
        Some(app)
    }

    /// Run a bash script in the namespace; its stdout. Fails the test if the script fails.
    fn sh(&self, script: &str) -> String {
        self.ns.sh(script).unwrap()
    }
}

impl Drop for TapAppliance {
    /// The appliance goes first, then (with the field) its namespace.
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn sha256(p: &std::path::Path) -> String {
    let o = Command::new("sha256sum").arg(p).output().unwrap();
    String::from_utf8_lossy(&o.stdout)
        .split(' ')
        .next()
        .unwrap_or("")
        .to_string()
}

#[test]
fn dig_and_curl_reach_the_appliance_over_tap() {
    let Some(app) = TapAppliance::start("dig", &["dig", "curl", "sha256sum"], &[]) else {
        return;
    };
    let sh = |script: &str| app.sh(script);
    std::thread::sleep(Duration::from_millis(100));
    let a = sh("dig +short +tries=3 +time=2 @192.0.2.2 www.example.com A");
    assert_eq!(a.trim(), "192.0.2.2");
    let cname = sh("dig +short +tries=3 +time=2 @192.0.2.2 files.example.com A");
    assert_eq!(
        cname.lines().collect::<Vec<_>>(),
        ["www.example.com.", "192.0.2.2"]
    );
    let nx = sh("dig +tries=3 +time=2 @192.0.2.2 nothere.example.com A");
    assert!(
        nx.contains("status: NXDOMAIN") && nx.contains(" aa"),
        "{nx}"
    );
    let wild = sh("dig +short +tries=3 +time=2 @192.0.2.2 img.cdn.example.com A");
    assert_eq!(wild.trim(), "192.0.2.2");
    // DNS over TCP, two queries on one connection.
    let tcp = sh(
        "dig +tcp +keepopen +short +tries=2 +time=2 @192.0.2.2 www.example.com A mail.example.com A",
    );
    assert_eq!(tcp.lines().collect::<Vec<_>>(), ["192.0.2.2", "192.0.2.2"]);
    let txt = sh("dig +tcp +short +time=2 @192.0.2.2 example.com TXT");
    assert_eq!(txt.trim(), "\"unistack appliance\"");

    // 50 MiB over HTTP with curl; SHA-256 against the expected bytes.
    curl_generated_bytes(&app, 50 << 20, "plain");
}

/// `curl` downloads `size` generated bytes from the appliance inside `app`'s namespace; their
/// SHA-256 must be the expected bytes'.
fn curl_generated_bytes(app: &TapAppliance, size: usize, tag: &str) {
    let dir = std::env::temp_dir();
    let got = dir.join(format!("unistack-curl-{tag}-{}", std::process::id()));
    let want = dir.join(format!("unistack-want-{tag}-{}", std::process::id()));
    std::fs::write(&want, (0..size).map(pattern).collect::<Vec<u8>>()).unwrap();
    app.sh(&format!(
        "curl -sS --max-time 120 -o {} http://192.0.2.2/bytes/{size}",
        got.display()
    ));
    let (g, w) = (sha256(&got), sha256(&want));
    let _ = std::fs::remove_file(&got);
    let _ = std::fs::remove_file(&want);
    assert_eq!(g.len(), 64);
    assert_eq!(g, w, "SHA-256 of the download");
}

/// `--congestion bbr`: the appliance paces its HTTP body with BBR, over the in-process
/// netfront link and over a TAP to curl (through 1% loss both ways on Linux's side); every
/// byte arrives.
#[test]
fn a_bbr_appliance_serves_exact_bytes() {
    let out = Command::new(env!("CARGO_BIN_EXE_unistack-appliance"))
        .args([
            "--download",
            "4194304",
            "--lookups",
            "10",
            "--congestion",
            "bbr",
        ])
        .args(["--pcap", "/dev/null"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}");
    assert!(text.contains("content verified"), "{text}");

    let Some(app) = TapAppliance::start(
        "bbr",
        &["curl", "sha256sum", "nft"],
        &["--congestion", "bbr"],
    ) else {
        return;
    };
    app.ns.tcp_loss(1).unwrap();
    curl_generated_bytes(&app, 20 << 20, "bbr");
}

/// `--disk FILE.tar`: an archive made by GNU tar (its default format: long names as
/// `././@LongLink` entries) on a blkfront disk; curl downloads every file and each SHA-256
/// matches the original.
#[test]
fn files_from_a_gnu_tar_on_a_blkfront_disk() {
    if !have("tar") {
        println!("SKIPPED: needs GNU tar");
        return;
    }
    let root = std::env::temp_dir().join(format!("unistack-tar-{}", std::process::id()));
    let src = root.join("src");
    let long_dir = "a-directory-with-a-rather-long-name/".repeat(3);
    let files: Vec<(String, Vec<u8>)> = vec![
        ("index.html".into(), b"<h1>unistack</h1>\n".to_vec()),
        ("empty".into(), Vec::new()),
        (
            "docs/readme.txt".into(),
            b"served from a Xen block device\n".repeat(100),
        ),
        (
            format!("{long_dir}deep-file-{}.bin", "x".repeat(40)),
            (0..70_000).map(pattern).collect(),
        ),
        (
            "big.bin".into(),
            (0..3 << 20).map(|i| pattern(i * 7)).collect(),
        ),
        ("odd-size".into(), (0..513).map(pattern).collect()),
    ];
    for (name, data) in &files {
        let p = src.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
    }
    let archive = root.join("site.tar");
    let tar = Command::new("tar")
        .arg("-cf")
        .arg(&archive)
        .arg("-C")
        .arg(&src)
        .arg(".")
        .output()
        .unwrap();
    assert!(
        tar.status.success(),
        "{}",
        String::from_utf8_lossy(&tar.stderr)
    );
    let disk = archive.to_string_lossy().to_string();
    let Some(app) = TapAppliance::start("tar", &["curl", "sha256sum"], &["--disk", &disk]) else {
        let _ = std::fs::remove_dir_all(&root);
        return;
    };
    let got = root.join("got");
    for (name, _) in &files {
        let code = app.sh(&format!(
            "curl -sS --max-time 60 -o {} -w '%{{http_code}}' http://192.0.2.2/{name}",
            got.display()
        ));
        assert_eq!(code, "200", "{name}");
        assert_eq!(sha256(&got), sha256(&src.join(name)), "{name}");
    }
    let code =
        app.sh("curl -sS -o /dev/null -w '%{http_code}' http://192.0.2.2/not-in-the-archive");
    assert_eq!(code, "404");
    drop(app);
    let _ = std::fs::remove_dir_all(&root);
}

/// Bad arguments end the appliance with status 2 and a message naming the argument, before
/// it opens any device.
#[test]
fn bad_arguments_are_refused() {
    for args in [
        &["--coalesce-us", "10001"][..],
        &["--coalesce-us", "soon"],
        &["--seconds", "x"],
        &["--no-such-flag"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_unistack-appliance"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(args[0]), "{args:?}: {err}");
    }
}
