//! Differential test against NSD: the same zone served by NSD (a real authoritative server,
//! on 127.0.0.1) and by unistack's engine (`unistack_dns::server::Server`, in process), the
//! same queries to both, and the answers compared section by section: RCODE, the AA and TC
//! flags, and the answer, authority and additional sections as sets of records in
//! presentation form (names compared without case; compression and order do not matter).
//! One documented difference: outside referrals NSD adds the addresses of in-zone targets to
//! the additional section even with `minimal-responses: yes`; our additional data must be a
//! subset of NSD's there, and equal for referrals (glue).
//!
//! Queries: every owner name of the zone and names below and beside them, for A, AAAA, MX,
//! TXT, NS, SOA, CNAME, SRV, CAA and a type with no data, with and without EDNS, with the DO
//! bit, in mixed case — which covers exact answers, CNAME chains, wildcards (RFC 4592),
//! delegations with glue, NXDOMAIN and NODATA. NSD runs with `minimal-responses: yes` (as
//! our engine answers) and response rate limiting off.
//!
//! Needs `nsd` (apt package `nsd`; CI installs it); prints `SKIPPED: ...` without it.

use std::collections::BTreeSet;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use unistack_dns::server::{Server, ServerConfig, Transport};
use unistack_dns::{Message, Section, Zone};

const ZONE: &str = "\
$ORIGIN example.com.
$TTL 3600
@        SOA   ns1 hostmaster 2026112601 7200 3600 1209600 300
@        NS    ns1
@        NS    ns2
@        A     192.0.2.1
@        MX    10 mail
@        TXT   \"v=spf1 -all\"
ns1      A     192.0.2.53
ns2      A     192.0.2.54
ns2      AAAA  2001:db8::54
www      CNAME web
web      A     192.0.2.80
web      A     192.0.2.81
web      AAAA  2001:db8::80
mail     A     192.0.2.25
chain1   CNAME chain2
chain2   CNAME www
out      CNAME www.example.net.
*.wild   A     192.0.2.99
*.wild   TXT   \"wildcard\"
_sip._udp SRV  10 60 5060 web
@        CAA   0 issue \"letsencrypt.org\"
empty.nonterminal.web TXT \"deep\"
sub      NS    ns.sub
ns.sub   A     192.0.2.200
other    NS    ns.example.net.
";

const NAMES: &[&str] = &[
    "example.com",
    "ns1.example.com",
    "ns2.example.com",
    "www.example.com",
    "WwW.ExAmPlE.cOm",
    "web.example.com",
    "mail.example.com",
    "chain1.example.com",
    "out.example.com",
    "a.wild.example.com",
    "b.c.wild.example.com",
    "wild.example.com",
    "_sip._udp.example.com",
    "nonterminal.web.example.com",
    "empty.nonterminal.web.example.com",
    "sub.example.com",
    "host.sub.example.com",
    "ns.sub.example.com",
    "x.other.example.com",
    "nothere.example.com",
    "deep.nothere.example.com",
];

/// A, NS, CNAME, SOA, MX, TXT, AAAA, SRV, CAA, and HINFO (no data anywhere).
const TYPES: &[u16] = &[1, 2, 5, 6, 15, 16, 28, 33, 257, 13];

fn have_nsd() -> Option<PathBuf> {
    for p in ["/usr/sbin/nsd", "/usr/local/sbin/nsd"] {
        if Path::new(p).exists() {
            return Some(PathBuf::from(p));
        }
    }
    None
}

/// A query: id, the name, the type, optional EDNS (payload size, DO).
fn query(id: u16, name: &str, qtype: u16, edns: Option<(u16, bool)>) -> Vec<u8> {
    let mut q = Vec::new();
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0, 0]); // a query, no RD (an authoritative server)
    q.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, u8::from(edns.is_some())]);
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1]);
    if let Some((size, dnssec_ok)) = edns {
        q.push(0); // root
        q.extend_from_slice(&41u16.to_be_bytes());
        q.extend_from_slice(&size.to_be_bytes());
        q.extend_from_slice(&[0, 0, if dnssec_ok { 0x80 } else { 0 }, 0]);
        q.extend_from_slice(&[0, 0]);
    }
    q
}

/// What a response says, in a form two servers can agree on.
#[derive(Debug, PartialEq, Eq)]
struct Summary {
    rcode: String,
    aa: bool,
    tc: bool,
    sections: [BTreeSet<String>; 3],
}

fn summary(bytes: &[u8]) -> Summary {
    let m = Message::new(bytes).expect("a response that parses");
    let flags = u16::from_be_bytes([bytes[2], bytes[3]]);
    let mut sections: [BTreeSet<String>; 3] = Default::default();
    for (i, s) in [Section::Answer, Section::Authority, Section::Additional]
        .into_iter()
        .enumerate()
    {
        for r in m.section(s) {
            let r = r.expect("a record that parses");
            if r.rtype().to_raw() == 41 {
                continue; // OPT: compared through the flags and RCODE only
            }
            let rdata = r.rdata().map(|d| d.to_string()).unwrap_or_default();
            sections[i].insert(format!(
                "{} {} {} {}",
                r.name().to_string().to_ascii_lowercase(),
                r.ttl(),
                r.rtype(),
                rdata.to_ascii_lowercase()
            ));
        }
    }
    Summary {
        rcode: format!("{:?}", m.rcode()),
        aa: flags & 0x0400 != 0,
        tc: flags & 0x0200 != 0,
        sections,
    }
}

struct Nsd {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Drop for Nsd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_nsd(nsd: &Path, zone: &str, tag: &str) -> Nsd {
    let dir = std::env::temp_dir().join(format!("unistack-nsd-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("example.com.zone"), zone).unwrap();
    // A free port: bind, note it, release it (NSD binds it right after).
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = dir.display();
    let conf = format!(
        "server:\n  ip-address: 127.0.0.1@{port}\n  port: {port}\n  username: \"\"\n  chroot: \"\"\n  \
         zonesdir: \"{d}\"\n  pidfile: \"{d}/nsd.pid\"\n  database: \"\"\n  xfrdfile: \"{d}/xfrd.state\"\n  \
         zonelistfile: \"{d}/zone.list\"\n  logfile: \"{d}/nsd.log\"\n  verbosity: 1\n  \
         minimal-responses: yes\n  rrl-ratelimit: 0\n  server-count: 1\n  tcp-count: 10\n  \
         refuse-any: no\n\
         remote-control:\n  control-enable: no\n\
         zone:\n  name: example.com\n  zonefile: \"{d}/example.com.zone\"\n"
    );
    std::fs::write(dir.join("nsd.conf"), conf).unwrap();
    let child = Command::new(nsd)
        .args(["-d", "-c"])
        .arg(dir.join("nsd.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let nsd = Nsd { child, dir, port };
    // Wait until it answers.
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let q = query(1, "example.com", 6, None);
    let mut buf = [0u8; 512];
    loop {
        let _ = sock.send_to(&q, ("127.0.0.1", port));
        if sock.recv(&mut buf).is_ok() {
            return nsd;
        }
        assert!(
            Instant::now() < deadline,
            "NSD did not answer: {}",
            std::fs::read_to_string(nsd.dir.join("nsd.log")).unwrap_or_default()
        );
    }
}

/// Serve `zone` from NSD and from our engine, ask both every query, compare; the count.
fn compare(nsd_bin: &Path, zone: &str, tag: &str, types: &[u16]) -> usize {
    let nsd = start_nsd(nsd_bin, zone, tag);
    let mut ours = Server::new(ServerConfig::default());
    ours.add_zone(Zone::parse("example.com.", zone).unwrap())
        .unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut theirs = vec![0u8; 65535];
    let mut mine = vec![0u8; 65535];
    let mut compared = 0;
    let mut id = 100u16;
    let mut corpus = Vec::new();
    for name in NAMES {
        for &qtype in types {
            for edns in [None, Some((1232, false)), Some((4096, true))] {
                id = id.wrapping_add(1);
                let q = query(id, name, qtype, edns);
                sock.send_to(&q, ("127.0.0.1", nsd.port)).unwrap();
                let n = loop {
                    let n = sock.recv(&mut theirs).expect("NSD answered");
                    if theirs[..2] == id.to_be_bytes() {
                        break n;
                    }
                };
                let m = ours
                    .handle(&q, Transport::Udp, &mut mine)
                    .expect("we answered");
                for part in [&q[..], &theirs[..n]] {
                    corpus.extend_from_slice(&(part.len() as u16).to_be_bytes());
                    corpus.extend_from_slice(part);
                }
                let what = format!("{tag}: {name} type {qtype} edns {edns:?}");
                check_pair(&theirs[..n], &mine[..m], &what);
                compared += 1;
            }
        }
    }
    // `UNISTACK_NSD_CORPUS=1` refreshes the committed corpus (tests/data/nsd-*.bin).
    if std::env::var_os("UNISTACK_NSD_CORPUS").is_some() {
        std::fs::write(corpus_path(tag), &corpus).unwrap();
    }
    compared
}

fn corpus_path(tag: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("data/nsd-{tag}.bin"))
}

/// Compare NSD's response with ours (see the module docs for the additional section).
fn check_pair(nsd: &[u8], mine: &[u8], what: &str) {
    let (mut a, mut b) = (summary(nsd), summary(mine));
    // Additional data: both send glue with a referral; beyond that NSD adds the
    // addresses of in-zone name-server (and MX) targets even with
    // `minimal-responses: yes`, and we answer minimally — ours must be a subset.
    let referral = !a.aa && a.sections[0].is_empty();
    if !referral {
        assert!(
            b.sections[2].is_subset(&a.sections[2]),
            "{what}: additional data NSD does not send: {:?} vs {:?}",
            b.sections[2],
            a.sections[2]
        );
        a.sections[2].clear();
        b.sections[2].clear();
    }
    assert_eq!(b, a, "{what}: unistack (left) vs NSD (right)");
}

#[test]
fn unistack_answers_like_nsd() {
    let Some(nsd_bin) = have_nsd() else {
        println!("SKIPPED: needs nsd (apt package nsd)");
        return;
    };
    let n = compare(&nsd_bin, ZONE, "plain", TYPES);
    assert_eq!(n, NAMES.len() * TYPES.len() * 3);
    println!("{n} responses identical in RCODE, AA, TC and every section");
}

/// The same zone signed by `ldns-signzone` (ECDSA P-256 KSK and ZSK, NSEC; the output is
/// committed as `tests/data/example.com.zone.signed` so the test needs no ldns): with DO set
/// both servers must add the same RRSIGs and pick the same NSEC records for NXDOMAIN, NODATA
/// and wildcard proofs; without DO, none.
#[test]
fn unistack_answers_a_signed_zone_like_nsd() {
    let Some(nsd_bin) = have_nsd() else {
        println!("SKIPPED: needs nsd (apt package nsd)");
        return;
    };
    let zone = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/example.com.zone.signed"),
    )
    .unwrap();
    // Plus DS, RRSIG, NSEC and DNSKEY.
    let types: Vec<u16> = TYPES.iter().copied().chain([43, 46, 47, 48]).collect();
    let n = compare(&nsd_bin, &zone, "signed", &types);
    assert_eq!(n, NAMES.len() * types.len() * 3);
    println!("{n} signed-zone responses identical");
}

/// The committed corpus of NSD's responses (`tests/data/nsd-plain.bin`, `nsd-signed.bin`:
/// length-prefixed query/response pairs captured by the tests above) parses completely, and
/// our engine answers every query the same way, with no NSD needed.
#[test]
fn the_committed_nsd_corpus_parses_and_matches_our_answers() {
    let signed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/example.com.zone.signed"),
    )
    .unwrap();
    let mut total = 0;
    for (tag, zone) in [("plain", ZONE), ("signed", signed.as_str())] {
        let data = std::fs::read(corpus_path(tag)).unwrap();
        let mut ours = Server::new(ServerConfig::default());
        ours.add_zone(Zone::parse("example.com.", zone).unwrap())
            .unwrap();
        let mut mine = vec![0u8; 65535];
        let mut rest = &data[..];
        let mut take = || -> Option<Vec<u8>> {
            let (len, tail) = rest.split_first_chunk::<2>()?;
            let len = usize::from(u16::from_be_bytes(*len));
            let (part, tail) = tail.split_at_checked(len)?;
            rest = tail;
            Some(part.to_vec())
        };
        let mut n = 0;
        while let Some(q) = take() {
            let r = take().expect("a response after each query");
            let m = Message::new(&r).unwrap();
            m.check().unwrap();
            for rec in m.records() {
                let rec = rec.unwrap();
                let _ = rec.rdata().unwrap();
            }
            let len = ours.handle(&q, Transport::Udp, &mut mine).unwrap();
            check_pair(&r, &mine[..len], &format!("{tag} corpus entry {n}"));
            n += 1;
        }
        assert!(n > 200, "{tag}: only {n} entries");
        total += n;
    }
    println!("{total} NSD responses parsed and matched");
}
