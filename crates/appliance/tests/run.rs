//! The appliance's default run (smaller download), and the appliance on a TAP device answering
//! real `dig` and `curl` inside a network namespace the test creates (root; CI installs the
//! tools; prints `SKIPPED: ...` otherwise).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

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

#[test]
fn dig_and_curl_reach_the_appliance_over_tap() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    let missing: Vec<_> = ["ip", "dig", "curl", "sha256sum"]
        .into_iter()
        .filter(|t| !have(t))
        .collect();
    if !root || !missing.is_empty() || !std::path::Path::new("/dev/net/tun").exists() {
        println!("SKIPPED: needs root, /dev/net/tun and {missing:?}");
        return;
    }
    let ns = format!("us-app-{}", std::process::id());
    let sh = |script: &str| {
        let out = Command::new("ip")
            .args(["netns", "exec", &ns, "bash", "-c", script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`{script}`: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert!(
        Command::new("ip")
            .args(["netns", "add", &ns])
            .status()
            .unwrap()
            .success()
    );
    struct Cleanup(String, Option<std::process::Child>);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            if let Some(c) = self.1.as_mut() {
                let _ = c.kill();
                let _ = c.wait();
            }
            let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
        }
    }
    let mut guard = Cleanup(ns.clone(), None);
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns,
            env!("CARGO_BIN_EXE_unistack-appliance"),
        ])
        .args([
            "--tap",
            "ustap0",
            "--ip",
            "192.0.2.2/24",
            "--seconds",
            "120",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    guard.1 = Some(child);
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(first.starts_with("serving"), "{first}");
    sh("ip link set lo up && ip addr add 192.0.2.1/24 dev ustap0 && ip link set ustap0 up");
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
    let size = 50 << 20;
    let dir = std::env::temp_dir();
    let got = dir.join(format!("unistack-curl-{}", std::process::id()));
    let want = dir.join(format!("unistack-want-{}", std::process::id()));
    std::fs::write(&want, (0..size).map(pattern).collect::<Vec<u8>>()).unwrap();
    sh(&format!(
        "curl -sS --max-time 120 -o {} http://192.0.2.2/bytes/{size}",
        got.display()
    ));
    let sum = |p: &std::path::Path| {
        let o = Command::new("sha256sum").arg(p).output().unwrap();
        String::from_utf8_lossy(&o.stdout)
            .split(' ')
            .next()
            .unwrap_or("")
            .to_string()
    };
    let (g, w) = (sum(&got), sum(&want));
    let _ = std::fs::remove_file(&got);
    let _ = std::fs::remove_file(&want);
    assert_eq!(g.len(), 64);
    assert_eq!(g, w, "SHA-256 of the download");
}
