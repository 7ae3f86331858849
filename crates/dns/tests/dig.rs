//! Interoperability: `unistack-dnsd` on 127.0.0.1 (an ephemeral port) serving the zones in
//! `tests/data/`, asked by BIND's `dig` and Knot's `kdig` (Debian packages `bind9-dnsutils`
//! — pulled in by `dnsutils` — and `knot-dnsutils`). Their output is parsed and the status,
//! flags and records checked; then the server is stopped with SIGTERM and its counters must
//! match the queries sent. Without the tools those tests print `SKIPPED: dig not installed`
//! (or kdig) and pass; the tests of the binary that need no tool always run.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use unistack_dns::{Class, Message, MessageBuilder, RecordType};

fn data(file: &str) -> String {
    format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// The server's exit counters.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counters {
    udp: u64,
    tcp: u64,
    answers: BTreeMap<String, u64>,
    connections: u64,
    refused: u64,
    dropped: u64,
    /// `recvmmsg` calls that returned datagrams (the line is there when UDP was used).
    batches: u64,
    /// Pauses to let a batch gather (`--coalesce-us`).
    pauses: u64,
}

/// A running `unistack-dnsd`, killed if the test fails before stopping it.
struct Dnsd {
    child: Child,
    stdout: BufReader<ChildStdout>,
    addr: SocketAddr,
}

impl Dnsd {
    fn start(extra: &[&str]) -> Dnsd {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_unistack-dnsd"));
        for z in ["example.com.zone", "example.net.signed", "example.org.zone"] {
            cmd.args(["--zone", &data(z)]);
        }
        let mut child = cmd
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run unistack-dnsd");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut addr = None;
        loop {
            let mut line = String::new();
            assert_ne!(stdout.read_line(&mut line).unwrap(), 0, "dnsd exited early");
            let line = line.trim_end();
            if let Some(a) = line.strip_prefix("listening on ") {
                addr = Some(a.parse().unwrap());
            } else if line == "ready" {
                break;
            }
        }
        Dnsd {
            child,
            stdout,
            addr: addr.expect("a listening line"),
        }
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    /// SIGTERM, wait (at most 5 s) for a clean exit, and read the counters.
    fn stop(mut self) -> Counters {
        let pid = self.child.id().to_string();
        let ok = Command::new("sh")
            .args(["-c", &format!("kill -TERM {pid}")])
            .status()
            .unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(5);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "dnsd did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "exit status {status}");
        let mut out = String::new();
        self.stdout.read_to_string(&mut out).unwrap();
        parse_counters(&out)
    }
}

impl Drop for Dnsd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse_counters(out: &str) -> Counters {
    let mut c = Counters::default();
    let num = |s: &str| {
        s.trim_matches(|ch: char| !ch.is_ascii_digit())
            .parse::<u64>()
    };
    let mut seen = 0;
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["queries:", total, "(udp", udp, "tcp", tcp] => {
                c.udp = num(udp).unwrap();
                c.tcp = num(tcp).unwrap();
                assert_eq!(num(total).unwrap(), c.udp + c.tcp);
                seen += 1;
            }
            ["answers:", rest @ ..] => {
                for kv in rest {
                    let (k, v) = kv.split_once('=').unwrap();
                    c.answers.insert(k.to_owned(), v.parse().unwrap());
                }
                seen += 1;
            }
            ["tcp", "connections:", n, "(refused", r] => {
                c.connections = num(n).unwrap();
                c.refused = num(r).unwrap();
                seen += 1;
            }
            ["dropped:", n] => {
                c.dropped = num(n).unwrap();
                seen += 1;
            }
            [
                "udp",
                "batches:",
                n,
                each,
                "datagrams",
                "each),",
                p,
                "pauses",
            ] => {
                c.batches = num(n).unwrap();
                c.pauses = num(p).unwrap();
                assert!(c.pauses <= c.batches, "{line}");
                let each: f64 = each.trim_start_matches('(').parse().unwrap();
                assert!(
                    (each - c.udp as f64 / c.batches as f64).abs() < 0.06,
                    "{line}"
                );
            }
            _ => {}
        }
    }
    assert_eq!(seen, 4, "counters missing in {out:?}");
    c
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Dig,
    Kdig,
}

impl Tool {
    fn program(self) -> &'static str {
        match self {
            Tool::Dig => "dig",
            Tool::Kdig => "kdig",
        }
    }

    fn installed(self) -> bool {
        Command::new(self.program())
            .arg("-v")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    }

    /// One try, two seconds, no recursion; the header, the OPT pseudo-section and the
    /// record sections.
    fn args(self, port: u16) -> Vec<String> {
        let common: &[&str] = match self {
            Tool::Dig => &[
                "+norec",
                "+tries=1",
                "+time=2",
                "+noall",
                "+comments",
                "+answer",
                "+authority",
                "+additional",
            ],
            Tool::Kdig => &[
                "+norec",
                "+retry=0",
                "+timeout=2",
                "+noall",
                "+header",
                "+comments",
                "+opt",
                "+answer",
                "+authority",
                "+additional",
            ],
        };
        let mut v: Vec<String> = common.iter().map(|s| s.to_string()).collect();
        v.extend(["-p".into(), port.to_string(), "@127.0.0.1".into()]);
        v
    }
}

/// What dig or kdig printed about one response.
#[derive(Debug, Default)]
struct Reply {
    status: String,
    flags: Vec<String>,
    answer: Vec<String>,
    authority: Vec<String>,
    additional: Vec<String>,
    raw: String,
}

impl Reply {
    fn has_flag(&self, f: &str) -> bool {
        self.flags.iter().any(|x| x == f)
    }

    fn types(section: &[String]) -> Vec<&str> {
        section
            .iter()
            .map(|r| r.split(' ').nth(3).unwrap_or(""))
            .collect()
    }
}

/// `owner TTL class type rdata` with single spaces, the owner lower-cased (kdig prints it
/// so), DS digests (which dig splits) joined.
fn normalize(line: &str) -> String {
    let owner = line
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let line = line.replacen(line.split_whitespace().next().unwrap_or(""), &owner, 1);
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.get(3) == Some(&"DS") && words.len() > 7 {
        let mut w: Vec<String> = words[..7].iter().map(|s| s.to_string()).collect();
        w.push(words[7..].concat());
        return w.join(" ");
    }
    words.join(" ")
}

/// Parse the output of either tool (the last response, when there are several).
fn parse_reply(out: &str) -> Reply {
    let mut r = Reply {
        raw: out.to_owned(),
        ..Reply::default()
    };
    let mut section: Option<usize> = None;
    for line in out.lines() {
        let t = line.trim();
        if let Some(i) = t.find("status: ") {
            let rest = &t[i + 8..];
            r.status = rest
                .split(|c: char| !c.is_ascii_alphanumeric())
                .next()
                .unwrap()
                .to_owned();
            r.answer.clear();
            r.authority.clear();
            r.additional.clear();
        }
        if t.to_ascii_lowercase().starts_with(";; flags:") {
            let f = &t[9..];
            let f = f.split(';').next().unwrap();
            r.flags = f.split_whitespace().map(str::to_owned).collect();
            continue;
        }
        if t.starts_with(";;") && t.ends_with("SECTION:") {
            section = match t {
                ";; ANSWER SECTION:" => Some(0),
                ";; AUTHORITY SECTION:" => Some(1),
                ";; ADDITIONAL SECTION:" => Some(2),
                _ => None,
            };
            continue;
        }
        if t.is_empty() || t.starts_with(';') {
            continue;
        }
        let rec = normalize(t);
        match section {
            Some(0) => r.answer.push(rec),
            Some(1) => r.authority.push(rec),
            Some(2) => r.additional.push(rec),
            _ => {}
        }
    }
    r
}

fn run(tool: Tool, port: u16, query: &[&str]) -> Reply {
    let out = Command::new(tool.program())
        .args(tool.args(port))
        .args(query)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{} {query:?}: {}\n{stdout}{}",
        tool.program(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let r = parse_reply(&stdout);
    assert!(!r.status.is_empty(), "no header in {stdout}");
    r
}

/// The queries the server should count.
#[derive(Default)]
struct Expect {
    udp: u64,
    tcp: u64,
    connections: u64,
    answers: BTreeMap<String, u64>,
}

impl Expect {
    fn answered(&mut self, status: &str, n: u64) {
        *self.answers.entry(status.to_owned()).or_default() += n;
    }
}

const SOA_COM: &str = "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300";
const SOA_COM_NEG: &str = "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300";

/// (query, status, aa, answer, authority, additional); `None` for a section not checked.
type Case = (
    &'static [&'static str],
    &'static str,
    bool,
    &'static [&'static str],
    Option<&'static [&'static str]>,
    Option<&'static [&'static str]>,
);

const CASES: &[Case] = &[
    (
        &["example.com", "SOA"],
        "NOERROR",
        true,
        &[SOA_COM],
        Some(&[]),
        None,
    ),
    (
        &["example.com", "NS"],
        "NOERROR",
        true,
        &[
            "example.com. 3600 IN NS ns1.example.com.",
            "example.com. 3600 IN NS ns2.example.net.",
        ],
        Some(&[]),
        None,
    ),
    (
        &["example.com", "MX"],
        "NOERROR",
        true,
        &["example.com. 3600 IN MX 10 mail.example.com."],
        Some(&[]),
        None,
    ),
    (
        &["example.com", "A"],
        "NOERROR",
        true,
        &["example.com. 3600 IN A 192.0.2.1"],
        Some(&[]),
        None,
    ),
    (
        &["example.com", "AAAA"],
        "NOERROR",
        true,
        &["example.com. 3600 IN AAAA 2001:db8::1"],
        Some(&[]),
        None,
    ),
    (
        &["example.com", "TXT"],
        "NOERROR",
        true,
        &["example.com. 3600 IN TXT \"v=spf1 -all\""],
        Some(&[]),
        None,
    ),
    (
        &["example.com", "CAA"],
        "NOERROR",
        true,
        &["example.com. 3600 IN CAA 0 issue \"letsencrypt.org\""],
        Some(&[]),
        None,
    ),
    (
        &["_sip._udp.example.com", "SRV"],
        "NOERROR",
        true,
        &["_sip._udp.example.com. 3600 IN SRV 10 60 5060 sip.example.com."],
        Some(&[]),
        None,
    ),
    (
        &["sip.example.com", "A"],
        "NOERROR",
        true,
        &["sip.example.com. 3600 IN A 192.0.2.60"],
        Some(&[]),
        None,
    ),
    (
        &["txt.example.com", "TXT"],
        "NOERROR",
        true,
        &[
            "txt.example.com. 3600 IN TXT \"a \\\"quoted\\\" string; not a comment\" \"AB\" \"multi\" \"line\"",
        ],
        Some(&[]),
        None,
    ),
    (
        &["sub.example.com", "DS"],
        "NOERROR",
        true,
        &[
            "sub.example.com. 3600 IN DS 12345 13 2 5A2F0F8C66AE4D7D5F3B2B9F1A4C6E7D8B9C0D1E2F3A4B5C6D7E8F9A0B1C2D3E",
        ],
        Some(&[]),
        None,
    ),
    (
        &["www.example.com", "A"],
        "NOERROR",
        true,
        &[
            "www.example.com. 3600 IN CNAME web.example.com.",
            "web.example.com. 3600 IN CNAME host.a.b.example.com.",
            "host.a.b.example.com. 3600 IN A 192.0.2.80",
        ],
        Some(&[]),
        None,
    ),
    // Wildcards: the owner is the name asked.
    (
        &["Foo.wild.example.com", "A"],
        "NOERROR",
        true,
        &["foo.wild.example.com. 3600 IN A 192.0.2.99"],
        Some(&[]),
        None,
    ),
    (
        &["bar.wild.example.com", "TXT"],
        "NOERROR",
        true,
        &["bar.wild.example.com. 3600 IN TXT \"wildcard\" \"two strings\""],
        Some(&[]),
        None,
    ),
    (
        &["alias.example.com", "A"],
        "NOERROR",
        true,
        &[
            "alias.example.com. 3600 IN CNAME x.wild.example.com.",
            "x.wild.example.com. 3600 IN A 192.0.2.99",
        ],
        Some(&[]),
        None,
    ),
    // Delegations: referrals, AA clear, glue.
    (
        &["a.sub.example.com", "A"],
        "NOERROR",
        false,
        &[],
        Some(&[
            "sub.example.com. 3600 IN NS ns.sub.example.com.",
            "sub.example.com. 3600 IN NS ns1.example.com.",
        ]),
        Some(&[
            "ns.sub.example.com. 3600 IN A 192.0.2.200",
            "ns1.example.com. 3600 IN A 192.0.2.53",
        ]),
    ),
    (
        &["insecure.example.com", "MX"],
        "NOERROR",
        false,
        &[],
        Some(&["insecure.example.com. 3600 IN NS ns.insecure.example.com."]),
        Some(&["ns.insecure.example.com. 3600 IN AAAA 2001:db8::53"]),
    ),
    // Negative answers.
    (
        &["nothere.example.com", "A"],
        "NXDOMAIN",
        true,
        &[],
        Some(&[SOA_COM_NEG]),
        None,
    ),
    (
        // An empty non-terminal exists: NODATA.
        &["a.b.example.com", "AAAA"],
        "NOERROR",
        true,
        &[],
        Some(&[SOA_COM_NEG]),
        None,
    ),
    (
        &["mail.example.com", "MX"],
        "NOERROR",
        true,
        &[],
        Some(&[SOA_COM_NEG]),
        None,
    ),
    (
        &["dangling.example.com", "A"],
        "NXDOMAIN",
        true,
        &["dangling.example.com. 3600 IN CNAME nothere.example.com."],
        Some(&[SOA_COM_NEG]),
        None,
    ),
    (
        &["www.example.invalid", "A"],
        "REFUSED",
        false,
        &[],
        Some(&[]),
        None,
    ),
    // A large RRset that fits 1232 bytes.
    (
        &["ns1.example.org", "A"],
        "NOERROR",
        true,
        &["ns1.example.org. 600 IN A 192.0.2.153"],
        Some(&[]),
        None,
    ),
];

fn interop(tool: Tool) {
    if !tool.installed() {
        println!("SKIPPED: {} not installed", tool.program());
        return;
    }
    let d = Dnsd::start(&[]);
    let port = d.port();
    let mut want = Expect::default();

    for (query, status, aa, answer, authority, additional) in CASES {
        let r = run(tool, port, query);
        let ctx = format!("{} {query:?}:\n{}", tool.program(), r.raw);
        assert_eq!(r.status, *status, "{ctx}");
        assert!(r.has_flag("qr"), "{ctx}");
        assert_eq!(r.has_flag("aa"), *aa, "{ctx}");
        assert!(
            !r.has_flag("tc") && !r.has_flag("rd") && !r.has_flag("ra"),
            "{ctx}"
        );
        assert_eq!(r.answer, *answer, "{ctx}");
        if let Some(auth) = authority {
            assert_eq!(r.authority, *auth, "{ctx}");
        }
        if let Some(add) = additional {
            assert_eq!(r.additional, *add, "{ctx}");
        }
        want.udp += 1;
        want.answered(status, 1);
    }

    // DNSSEC: DO on the NSEC3-signed zone brings the signatures and the proofs.
    let r = run(tool, port, &["+dnssec", "example.net", "A"]);
    assert_eq!(r.status, "NOERROR");
    assert!(r.raw.contains("flags: do"), "{}", r.raw);
    assert_eq!(Reply::types(&r.answer), ["A", "RRSIG"], "{}", r.raw);
    assert!(r.answer[1].contains(" RRSIG A 13 2 3600 "), "{}", r.raw);
    let r = run(tool, port, &["+dnssec", "nothere.example.net", "A"]);
    assert_eq!(r.status, "NXDOMAIN");
    assert!(r.has_flag("aa"));
    // The closest encloser (the apex) and the proofs that the next closer name and the
    // wildcard do not exist (here one NSEC3 record covers both).
    assert_eq!(
        Reply::types(&r.authority),
        ["SOA", "RRSIG", "NSEC3", "RRSIG", "NSEC3", "RRSIG"],
        "{}",
        r.raw
    );
    // Without DO, none of it.
    let r = run(tool, port, &["example.net", "A"]);
    assert_eq!(r.answer, ["example.net. 3600 IN A 192.0.2.1"]);
    assert!(!r.raw.contains("flags: do"));
    want.udp += 3;
    want.answered("NOERROR", 2);
    want.answered("NXDOMAIN", 1);

    // 40 A records: 680 bytes over UDP with EDNS, truncated at 512 without (kdig's default).
    let r = run(tool, port, &["+tcp", "many.example.org", "A"]);
    assert_eq!(r.answer.len(), 40);
    assert!(r.has_flag("aa") && !r.has_flag("tc"));
    assert_eq!(r.answer[0], "many.example.org. 600 IN A 198.51.100.1");
    want.tcp += 1;
    want.connections += 1;
    want.answered("NOERROR", 1);

    // Truncation: 16 TXT records of 104 bytes. `+ignore` shows the TC response itself.
    let r = run(
        tool,
        port,
        &["+bufsize=512", "+ignore", "big.example.org", "TXT"],
    );
    assert_eq!(r.status, "NOERROR");
    assert!(r.has_flag("tc") && r.has_flag("aa"), "{}", r.raw);
    assert!(r.answer.is_empty() && r.authority.is_empty(), "{}", r.raw);
    want.udp += 1;
    want.answered("NOERROR", 1);
    // Without it, the tool retries over TCP: the same at 512 and at the default size.
    for extra in [&["+bufsize=512"][..], &[]] {
        let mut q = extra.to_vec();
        q.extend(["big.example.org", "TXT"]);
        let r = run(tool, port, &q);
        assert_eq!(r.answer.len(), 16, "{}", r.raw);
        assert!(!r.has_flag("tc"));
        assert!(r.answer[15].ends_with("\"15 abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij\""));
        want.udp += 1;
        want.tcp += 1;
        want.connections += 1;
        want.answered("NOERROR", 2);
    }

    // Several queries on one TCP connection.
    let out = Command::new(tool.program())
        .args([
            "+norec",
            "+tcp",
            "+keepopen",
            "+short",
            "-p",
            &port.to_string(),
            "@127.0.0.1",
        ])
        .args([
            "example.com",
            "A",
            "sip.example.com",
            "A",
            "nothere.example.com",
            "A",
        ])
        .output()
        .unwrap();
    let short = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = short.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines, ["192.0.2.1", "192.0.2.60"], "{short}");
    want.tcp += 3;
    want.connections += 1;
    want.answered("NOERROR", 2);
    want.answered("NXDOMAIN", 1);

    let got = d.stop();
    assert_eq!(got.udp, want.udp, "{got:?}");
    assert_eq!(got.tcp, want.tcp, "{got:?}");
    assert_eq!(got.connections, want.connections, "{got:?}");
    assert_eq!(got.answers, want.answers, "{got:?}");
    assert_eq!((got.refused, got.dropped), (0, 0));
}

#[test]
fn dig_interop() {
    interop(Tool::Dig);
}

#[test]
fn kdig_interop() {
    interop(Tool::Kdig);
}

fn query(name: &str, id: u16) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut q = MessageBuilder::new(&mut buf).unwrap();
    q.header_mut().set_id(id);
    q.push_question(name, RecordType::A, Class::In).unwrap();
    q.finish().to_vec()
}

fn read_frame(s: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).unwrap();
    let mut m = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut m).unwrap();
    m
}

/// The binary without dig: pipelined TCP queries in one write, the idle timeout, the
/// connection limit, a dropped datagram, and the counters.
#[test]
fn dnsd_tcp_limits_and_counters() {
    let d = Dnsd::start(&["--tcp-idle", "0.5", "--max-tcp", "1"]);
    let mut s = TcpStream::connect(d.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut burst = Vec::new();
    for (i, name) in ["example.com", "nothere.example.com", "www.example.invalid"]
        .iter()
        .enumerate()
    {
        let q = query(name, i as u16 + 1);
        burst.extend_from_slice(&(q.len() as u16).to_be_bytes());
        burst.extend_from_slice(&q);
    }
    // Split inside the second frame's prefix.
    s.write_all(&burst[..40]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    s.write_all(&burst[40..]).unwrap();
    let rcodes: Vec<(u16, String)> = (0..3)
        .map(|_| {
            let m = read_frame(&mut s);
            let m = Message::new(&m).unwrap();
            (m.id(), m.rcode().to_string())
        })
        .collect();
    assert_eq!(
        rcodes,
        [
            (1, "NOERROR".to_owned()),
            (2, "NXDOMAIN".to_owned()),
            (3, "REFUSED".to_owned())
        ]
    );
    // A second connection while the first is open: accepted and closed at once.
    let mut second = TcpStream::connect(d.addr).unwrap();
    second
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut byte = [0u8; 1];
    assert!(matches!(second.read(&mut byte), Ok(0) | Err(_)));
    // The first is closed after half a second without a query.
    let started = Instant::now();
    assert_eq!(s.read(&mut byte).unwrap(), 0, "closed by the server");
    let idle = started.elapsed();
    assert!(idle < Duration::from_secs(3), "{idle:?}");
    // UDP: a response is never answered (dropped), a query is.
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    u.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut resp = query("example.com", 9);
    resp[2] |= 0x80;
    u.send_to(&resp, d.addr).unwrap();
    u.send_to(&query("example.com", 10), d.addr).unwrap();
    let mut buf = [0u8; 512];
    let (n, _) = u.recv_from(&mut buf).unwrap();
    assert_eq!(Message::new(&buf[..n]).unwrap().id(), 10);

    let got = d.stop();
    assert_eq!((got.udp, got.tcp), (2, 3));
    assert_eq!((got.connections, got.refused, got.dropped), (1, 1, 1));
    let want: BTreeMap<String, u64> = [("NOERROR", 2), ("NXDOMAIN", 1), ("REFUSED", 1)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(got.answers, want);
}

/// Batches and several sockets: bursts of queries (answers, NXDOMAIN, REFUSED, a BADVERS,
/// responses that must be dropped) from several client sockets, sent before any is read, so
/// that `recvmmsg` finds many waiting; every reply is the in-process engine's, byte for
/// byte, and the counters add up.
#[test]
fn dnsd_batches_and_reuseport() {
    use unistack_dns::server::{Server, ServerConfig, Transport};
    use unistack_dns::{Edns, Zone};
    let mut engine = Server::new(ServerConfig::default());
    for z in ["example.com.zone", "example.net.signed", "example.org.zone"] {
        let text = std::fs::read_to_string(data(z)).unwrap();
        let origin = if z.starts_with("example.com") {
            "example.com"
        } else if z.starts_with("example.net") {
            "example.net"
        } else {
            "example.org"
        };
        engine
            .add_zone(Zone::parse(origin, &text).unwrap())
            .unwrap();
    }
    let names = [
        "example.com",
        "www.example.com",
        "nothere.example.com",
        "example.net",
        "many.example.org",
        "www.example.invalid",
    ];
    for extra in [
        &["--udp-sockets", "3", "--batch", "8"][..],
        &["--batch", "1"],
        // Long pauses between batches: the answers are the same, only later.
        &["--batch", "16", "--coalesce-us", "5000"],
        &["--batch", "16", "--coalesce-us", "0"],
    ] {
        let d = Dnsd::start(extra);
        let clients: Vec<UdpSocket> = (0..4)
            .map(|_| {
                let u = UdpSocket::bind("127.0.0.1:0").unwrap();
                u.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                u
            })
            .collect();
        let mut want: BTreeMap<(usize, u16), Vec<u8>> = BTreeMap::new();
        let mut answers: BTreeMap<String, u64> = BTreeMap::new();
        let mut sent = 0u64;
        let mut dropped = 0u64;
        for (c, u) in clients.iter().enumerate() {
            for i in 0..60u16 {
                let id = i + 1;
                let mut q = query(names[usize::from(i) % names.len()], id);
                if i % 5 == 1 {
                    // EDNS, sometimes of a version we do not speak (BADVERS).
                    let mut buf = vec![0u8; 512];
                    let mut b = MessageBuilder::new(&mut buf).unwrap();
                    b.header_mut().set_id(id);
                    b.push_question(
                        names[usize::from(i) % names.len()],
                        RecordType::A,
                        Class::In,
                    )
                    .unwrap();
                    let mut e = Edns::new(1232);
                    e.version = u8::from(i % 10 == 1);
                    b.set_edns(&e).unwrap();
                    q = b.finish().to_vec();
                }
                if i % 13 == 7 {
                    q[2] |= 0x80; // a response: dropped
                }
                u.send_to(&q, d.addr).unwrap();
                sent += 1;
                let mut out = vec![0u8; 65535];
                match engine.handle(&q, Transport::Udp, &mut out) {
                    Ok(n) => {
                        let m = Message::new(&out[..n]).unwrap();
                        *answers
                            .entry(m.extended_rcode().unwrap().to_string())
                            .or_default() += 1;
                        want.insert((c, id), out[..n].to_vec());
                    }
                    Err(_) => dropped += 1,
                }
            }
        }
        for (c, u) in clients.iter().enumerate() {
            let expected = want.keys().filter(|(k, _)| *k == c).count();
            for _ in 0..expected {
                let mut buf = [0u8; 2048];
                let (n, from) = u.recv_from(&mut buf).unwrap();
                assert_eq!(from, d.addr);
                let id = Message::new(&buf[..n]).unwrap().id();
                let w = want.remove(&(c, id)).expect("one reply per query");
                assert_eq!(&buf[..n], &w[..], "client {c} id {id} ({extra:?})");
            }
        }
        assert!(want.is_empty());
        let got = d.stop();
        assert_eq!(
            (got.udp, got.tcp, got.dropped),
            (sent, 0, dropped),
            "{extra:?}"
        );
        // Every datagram came in some batch; a batch holds at most `--batch` of them (with
        // `--batch 1`, one each).
        let max: u64 = extra
            .iter()
            .position(|a| *a == "--batch")
            .and_then(|i| extra.get(i + 1))
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (1..=got.udp).contains(&got.batches) && got.udp <= got.batches * max,
            "{got:?}"
        );
        if max == 1 {
            assert_eq!(got.batches, got.udp);
        }
        // A pause follows only a batch of more than one datagram, and never with
        // `--coalesce-us 0`.
        if max == 1 || extra.ends_with(&["--coalesce-us", "0"]) {
            assert_eq!(got.pauses, 0, "{extra:?}");
        }
        assert_eq!(got.answers, answers, "{extra:?}");
        assert!(answers.contains_key("BADVERS") && answers.contains_key("REFUSED"));
    }
}

#[test]
fn dnsd_rejects_bad_arguments_and_zones() {
    let bin = env!("CARGO_BIN_EXE_unistack-dnsd");
    let out = Command::new(bin)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--zone"));
    let out = Command::new(bin)
        .args(["--zone", &data("example.com.zone"), "--listen", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    for (flag, value) in [
        ("--udp-sockets", "0"),
        ("--udp-sockets", "257"),
        ("--batch", "0"),
        ("--batch", "x"),
        ("--coalesce-us", "10001"),
        ("--coalesce-us", "-1"),
    ] {
        let out = Command::new(bin)
            .args([
                "--zone",
                &data("example.com.zone"),
                "--listen",
                "127.0.0.1:0",
            ])
            .args([flag, value])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(flag));
    }
    // zone.example.com uses relative names without $ORIGIN: it needs ORIGIN=.
    let out = Command::new(bin)
        .args([
            "--zone",
            &data("zone.example.com"),
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("zone.example.com"), "{err}");
    // The same zone twice.
    let out = Command::new(bin)
        .args(["--zone", &data("example.com.zone")])
        .args([
            "--zone",
            &format!("example.com={}", data("zone.example.com")),
        ])
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already served"));
}

#[test]
fn dnsd_origin_from_the_command_line() {
    let d = {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_unistack-dnsd"));
        cmd.args([
            "--zone",
            &format!("example.com={}", data("zone.example.com")),
        ]);
        cmd.args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let addr: SocketAddr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap()
            .parse()
            .unwrap();
        Dnsd {
            child,
            stdout,
            addr,
        }
    };
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    u.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    u.send_to(&query("ns2.example.com", 5), d.addr).unwrap();
    let mut buf = [0u8; 512];
    let (n, _) = u.recv_from(&mut buf).unwrap();
    let m = Message::new(&buf[..n]).unwrap();
    assert_eq!(
        m.answers().next().unwrap().unwrap().to_string(),
        "ns2.example.com. 3600 IN A 192.0.2.54"
    );
    let got = d.stop();
    assert_eq!(got.udp, 1);
}

/// The IPv4 headers of UDP datagrams from `server_port` to `client_port` seen on a raw socket
/// while `send` runs: (flags and fragment offset, identification) of each.
fn responses_seen(server_port: u16, client_port: u16, send: impl FnOnce()) -> Vec<(u16, u16)> {
    use nix::sys::socket::{AddressFamily, SockFlag, SockProtocol, SockType, recv, socket};
    use nix::sys::socket::{MsgFlags, setsockopt, sockopt};
    use nix::sys::time::TimeVal;
    use std::os::fd::AsRawFd;
    let raw = socket(
        AddressFamily::Inet,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::Udp,
    )
    .expect("a raw socket (needs root: CAP_NET_RAW)");
    setsockopt(&raw, sockopt::ReceiveTimeout, &TimeVal::new(0, 200_000)).unwrap();
    // It gets a copy of every UDP datagram on the host: room for other tests' traffic.
    let _ = setsockopt(&raw, sockopt::RcvBuf, &(4 << 20));
    send();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut buf = [0u8; 2048];
    while Instant::now() < deadline && seen.is_empty() {
        let Ok(n) = recv(raw.as_raw_fd(), &mut buf, MsgFlags::empty()) else {
            continue;
        };
        let p = &buf[..n];
        let ihl = usize::from(p[0] & 0x0f) * 4;
        if n < ihl + 8 {
            continue;
        }
        let sport = u16::from_be_bytes([p[ihl], p[ihl + 1]]);
        let dport = u16::from_be_bytes([p[ihl + 2], p[ihl + 3]]);
        if (sport, dport) == (server_port, client_port) {
            let frag = u16::from_be_bytes([p[6], p[7]]);
            let ident = u16::from_be_bytes([p[4], p[5]]);
            seen.push((frag, ident));
        }
    }
    seen
}

/// RFC 9715: responses leave with Don't Fragment set and no IP ID (the kernel's ID search is
/// skipped), as long as `--udp-payload` is at most 1232 (the default), on an IPv4 listener
/// and on a dual-stack `[::]` one answering an IPv4 client; with a larger payload the
/// socket keeps the kernel's default (the kernel may fragment, and numbers every datagram).
/// Needs root for the raw socket that watches the responses (CI runs as root).
#[test]
fn dnsd_responses_are_not_fragmented() {
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    });
    if !root {
        println!("SKIPPED: needs root for a raw socket");
        return;
    }
    let headers = |extra: &[&str]| {
        let d = Dnsd::start(extra);
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        let client_port = client.local_addr().unwrap().port();
        // To the last address listed, over IPv4 (a `[::]` listener answers it as v4-mapped).
        let to = SocketAddr::from(([127, 0, 0, 1], d.port()));
        let mut all = Vec::new();
        for id in 0..4u16 {
            all.extend(responses_seen(d.port(), client_port, || {
                client.send_to(&query("mail.example.com", id), to).unwrap();
            }));
        }
        d.stop();
        all
    };
    let probe = headers(&[]);
    assert_eq!(probe.len(), 4, "every response seen: {probe:?}");
    // DF alone does not tell the modes apart (the kernel's default sets it on datagrams that
    // fit too); the IP ID does: the default numbers datagrams it might still fragment.
    for (frag, ident) in &probe {
        assert_eq!(frag & 0x4000, 0x4000, "DF set: {probe:?}");
        assert_eq!(
            *ident, 0,
            "no IP ID for an unfragmentable datagram: {probe:?}"
        );
    }
    // A dual-stack `[::]` listener answers IPv4 clients the same way.
    if UdpSocket::bind("[::]:0").is_ok() {
        let dual = headers(&["--listen", "[::]:0"]);
        assert_eq!(dual.len(), 4, "every response seen: {dual:?}");
        assert!(dual.iter().all(|&(_, ident)| ident == 0), "{dual:?}");
    } else {
        println!("SKIPPED (dual-stack part only): IPv6 is disabled on this host");
    }
    let default = headers(&["--udp-payload", "4096"]);
    assert_eq!(default.len(), 4, "every response seen: {default:?}");
    assert!(
        default.iter().any(|&(_, ident)| ident != 0),
        "the kernel's default numbers datagrams it may fragment: {default:?}"
    );
}
