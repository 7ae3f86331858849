//! The authoritative engine, scripted: each test asks a question of zones in
//! `tests/data/` and reads the answer like dig. Every response is also computed without the
//! precompiled templates and must be byte-identical.
#![cfg(feature = "zone")]

use unistack_dns::server::{Dropped, Server, ServerConfig, Transport};
use unistack_dns::{Class, Edns, Message, MessageBuilder, Opcode, RecordType, Section, Zone};

fn data(file: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn plain() -> Server {
    let mut s = Server::new(ServerConfig::default());
    s.add_zone(Zone::parse("example.com", &data("example.com.zone")).unwrap())
        .unwrap();
    s
}

fn signed() -> Server {
    let mut s = Server::new(ServerConfig::default());
    s.add_zone(Zone::parse("example.com", &data("example.com.signed")).unwrap())
        .unwrap();
    s.add_zone(Zone::parse("example.net", &data("example.net.signed")).unwrap())
        .unwrap();
    s
}

/// A query; `edns` is (UDP size, DO).
fn query(name: &str, qtype: RecordType, edns: Option<(u16, bool)>) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut q = MessageBuilder::new(&mut buf).unwrap();
    q.header_mut().set_id(0xbeef);
    q.header_mut().set_rd(true);
    q.push_question(name, qtype, Class::In).unwrap();
    if let Some((size, dnssec)) = edns {
        let mut e = Edns::new(size);
        e.dnssec_ok = dnssec;
        q.set_edns(&e).unwrap();
    }
    q.finish().to_vec()
}

/// Ask, checking the template path against the on-the-fly path.
fn ask_on(s: &Server, q: &[u8], transport: Transport) -> Result<Vec<u8>, Dropped> {
    let mut a = vec![0u8; 65535];
    let mut b = vec![0u8; 65535];
    let ra = s.handle(q, transport, &mut a);
    let rb = s.handle_uncached(q, transport, &mut b);
    assert_eq!(ra, rb);
    let n = ra?;
    assert_eq!(a[..n], b[..n], "template and on-the-fly answers differ");
    let m = Message::new(&a[..n]).unwrap();
    m.check().unwrap();
    Ok(a[..n].to_vec())
}

fn ask(s: &Server, q: &[u8]) -> Vec<u8> {
    ask_on(s, q, Transport::Udp).unwrap()
}

/// The response as a readable summary: `rcode flags` then one line per record, with the
/// section.
fn show(resp: &[u8]) -> Vec<String> {
    let m = Message::new(resp).unwrap();
    let h = m.header();
    let mut flags = String::new();
    for (set, f) in [
        (h.aa(), " aa"),
        (h.tc(), " tc"),
        (h.rd(), " rd"),
        (h.cd(), " cd"),
    ] {
        if set {
            flags.push_str(f);
        }
    }
    let mut out = vec![format!("{}{flags}", m.extended_rcode().unwrap())];
    for r in m.records() {
        let r = r.unwrap();
        if r.rtype() == RecordType::Opt {
            let e = r.edns().unwrap();
            out.push(format!("OPT {} do={}", e.udp_payload_size, e.dnssec_ok));
            continue;
        }
        let tag = match r.section() {
            Section::Answer => "AN",
            Section::Authority => "NS",
            _ => "AR",
        };
        out.push(format!("{tag} {r}"));
    }
    out
}

/// As [`show`], with each record cut to `SECTION owner TYPE` (for signed zones, whose
/// signatures change when they are re-signed). RRSIGs show the type covered.
fn brief(resp: &[u8]) -> Vec<String> {
    show(resp)
        .into_iter()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            match f.as_slice() {
                [sec, owner, _ttl, _class, "RRSIG", covered, ..] => {
                    format!("{sec} {owner} RRSIG {covered}")
                }
                [sec @ ("AN" | "NS" | "AR"), owner, _ttl, _class, t, ..] => {
                    format!("{sec} {owner} {t}")
                }
                _ => l,
            }
        })
        .collect()
}

fn udp(name: &str, t: RecordType) -> Vec<String> {
    show(&ask(&plain(), &query(name, t, None)))
}

fn dnssec(name: &str, t: RecordType) -> Vec<String> {
    brief(&ask(&signed(), &query(name, t, Some((4096, true)))))
}

#[test]
fn exact_answer() {
    assert_eq!(
        udp("example.com", RecordType::Mx),
        [
            "NOERROR aa rd",
            "AN example.com. 3600 IN MX 10 mail.example.com."
        ]
    );
    // TTL given with units, relative names, minimal response (no additional A for MX).
    assert_eq!(
        udp("sip.example.com", RecordType::A),
        ["NOERROR aa rd", "AN sip.example.com. 3600 IN A 192.0.2.60"]
    );
    assert_eq!(
        udp("_sip._udp.example.com", RecordType::Srv),
        [
            "NOERROR aa rd",
            "AN _sip._udp.example.com. 3600 IN SRV 10 60 5060 sip.example.com."
        ]
    );
}

#[test]
fn cname_chains() {
    assert_eq!(
        udp("www.example.com", RecordType::A),
        [
            "NOERROR aa rd",
            "AN www.example.com. 3600 IN CNAME web.example.com.",
            "AN web.example.com. 3600 IN CNAME host.a.b.example.com.",
            "AN host.a.b.example.com. 3600 IN A 192.0.2.80",
        ]
    );
    // The chain ends in NODATA: SOA in authority, TTL the SOA minimum (300 < 3600).
    assert_eq!(
        udp("www.example.com", RecordType::Mx),
        [
            "NOERROR aa rd",
            "AN www.example.com. 3600 IN CNAME web.example.com.",
            "AN web.example.com. 3600 IN CNAME host.a.b.example.com.",
            "NS example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300",
        ]
    );
    // Asking for the CNAME itself does not follow it.
    assert_eq!(
        udp("www.example.com", RecordType::Cname),
        [
            "NOERROR aa rd",
            "AN www.example.com. 3600 IN CNAME web.example.com."
        ]
    );
    // Into a wildcard, out of the zone, to a name that does not exist (RFC 6604: NXDOMAIN).
    assert_eq!(
        udp("alias.example.com", RecordType::Txt),
        [
            "NOERROR aa rd",
            "AN alias.example.com. 3600 IN CNAME x.wild.example.com.",
            "AN x.wild.example.com. 3600 IN TXT \"wildcard\" \"two strings\"",
        ]
    );
    assert_eq!(
        udp("out.example.com", RecordType::A),
        [
            "NOERROR aa rd",
            "AN out.example.com. 3600 IN CNAME www.example.org."
        ]
    );
    assert_eq!(
        udp("dangling.example.com", RecordType::A),
        [
            "NXDOMAIN aa rd",
            "AN dangling.example.com. 3600 IN CNAME nothere.example.com.",
            "NS example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300",
        ]
    );
    // A loop stops after MAX_CNAME_CHAIN links.
    let looped = udp("loop1.example.com", RecordType::A);
    assert_eq!(looped[0], "NOERROR aa rd");
    assert_eq!(looped.len(), 1 + unistack_dns::server::MAX_CNAME_CHAIN);
}

#[test]
fn wildcards_rfc4592() {
    assert_eq!(
        udp("x.wild.example.com", RecordType::A),
        [
            "NOERROR aa rd",
            "AN x.wild.example.com. 3600 IN A 192.0.2.99"
        ]
    );
    // Several labels below the closest encloser still match.
    assert_eq!(
        udp("a.b.c.wild.example.com", RecordType::A),
        [
            "NOERROR aa rd",
            "AN a.b.c.wild.example.com. 3600 IN A 192.0.2.99"
        ]
    );
    // Wildcard NODATA.
    assert_eq!(udp("x.wild.example.com", RecordType::Mx).len(), 2);
    // The closest encloser of x.a.b.example.com is a.b (an empty non-terminal), which has no
    // wildcard: NXDOMAIN, although *.wild exists elsewhere.
    assert_eq!(udp("x.a.b.example.com", RecordType::A)[0], "NXDOMAIN aa rd");
    // The empty non-terminal itself: NODATA, not NXDOMAIN.
    assert_eq!(udp("a.b.example.com", RecordType::A)[0], "NOERROR aa rd");
    assert_eq!(udp("wild.example.com", RecordType::A)[0], "NOERROR aa rd");
    // The wildcard's own name is an ordinary name.
    assert_eq!(
        udp("*.wild.example.com", RecordType::A),
        [
            "NOERROR aa rd",
            "AN *.wild.example.com. 3600 IN A 192.0.2.99"
        ]
    );
}

#[test]
fn delegation_and_glue() {
    let referral = [
        "NOERROR rd",
        "NS sub.example.com. 3600 IN NS ns.sub.example.com.",
        "NS sub.example.com. 3600 IN NS ns1.example.com.",
        "AR ns.sub.example.com. 3600 IN A 192.0.2.200",
        "AR ns1.example.com. 3600 IN A 192.0.2.53",
    ];
    assert_eq!(udp("sub.example.com", RecordType::A), referral);
    assert_eq!(udp("www.sub.example.com", RecordType::A), referral);
    // Glue is not authoritative data: a referral too.
    assert_eq!(udp("ns.sub.example.com", RecordType::A), referral);
    // DS is the parent's: answered with AA.
    assert_eq!(
        udp("sub.example.com", RecordType::Ds),
        [
            "NOERROR aa rd",
            "AN sub.example.com. 3600 IN DS 12345 13 2 5A2F0F8C66AE4D7D5F3B2B9F1A4C6E7D8B9C0D1E2F3A4B5C6D7E8F9A0B1C2D3E",
        ]
    );
}

#[test]
fn negative_answers() {
    let soa = "NS example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300";
    assert_eq!(
        udp("nope.example.com", RecordType::A),
        ["NXDOMAIN aa rd", soa]
    );
    assert_eq!(udp("example.com", RecordType::Ptr), ["NOERROR aa rd", soa]);
    // A private type nobody has (the shared fallback template).
    assert_eq!(
        udp("mail.example.com", RecordType::Unknown(65400)),
        ["NOERROR aa rd", soa]
    );
}

/// Names below `base`: 1 to `max_labels` labels of each width, in mixed case, as long as
/// they fit in 255 octets.
fn names_under(base: &str, max_labels: usize, widths: &[usize]) -> Vec<String> {
    let mut out = Vec::new();
    for labels in 1..=max_labels {
        for &width in widths {
            let mut name = String::new();
            for i in 0..labels {
                let c = (b'a' + ((i * 7 + width) % 26) as u8) as char;
                let label: String = std::iter::repeat_n(c, width).collect();
                name.push_str(&if i % 2 == 0 {
                    label.to_uppercase()
                } else {
                    label
                });
                name.push('.');
            }
            name.push_str(base);
            if name.len() + 2 <= 255 {
                out.push(name);
            }
        }
    }
    out
}

/// The NXDOMAIN template, made once for a name one label below the apex, moved to names of
/// every length and label count (its pointers shift with the question), in both a zone
/// where every miss is an NXDOMAIN and one with wildcards and delegations (where the
/// closest encloser decides), and with EDNS sizes that cut it (TC); next to the names where
/// it must not be used (under a name the SOA writes, under a cut, a wildcard's domain).
#[test]
fn nxdomain_template_moves_to_every_name_length() {
    let flat = {
        let mut s = Server::new(ServerConfig::default());
        let zone = "$TTL 60\n@ SOA ns1 hostmaster.mail 1 2 3 4 300\n NS ns1\nns1 A 192.0.2.1\n\
                    www A 192.0.2.2\n";
        s.add_zone(Zone::parse("example.org", zone).unwrap())
            .unwrap();
        s
    };
    let soa_flat =
        "NS example.org. 60 IN SOA ns1.example.org. hostmaster.mail.example.org. 1 2 3 4 300";
    let soa_plain = "NS example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300";
    let mut asked = 0;
    for (s, apex, soa) in [
        (&flat, "example.org", soa_flat),
        (&plain(), "example.com", soa_plain),
    ] {
        for name in names_under(&format!("nx.{apex}"), 120, &[1, 3, 9]) {
            for edns in [None, Some((512, false)), Some((1232, true))] {
                let r = show(&ask(s, &query(&name, RecordType::A, edns)));
                assert_eq!(r[0], "NXDOMAIN aa rd", "{name}");
                assert_eq!(r[1], soa, "{name}");
                asked += 1;
            }
        }
        // Names the template must leave to the on-the-fly path, answered the same.
        for name in [
            format!("x.ns1.{apex}"),
            format!("a.b.HOSTMASTER.mail.{apex}"),
            format!("x.mail.{apex}"),
            // The SOA's RNAME itself (found by the fuzzer): the question is the target.
            format!("HostMaster.mail.{apex}"),
            format!("hostmaster.{apex}"),
        ] {
            ask(s, &query(&name, RecordType::A, None));
            ask(s, &query(&name, RecordType::Mx, Some((1232, false))));
        }
    }
    // In example.com: below a delegation (a referral), in a wildcard's domain (an answer),
    // under an empty non-terminal without a wildcard (NXDOMAIN, found by the walk).
    let referral = udp("deep.down.sub.example.com", RecordType::A);
    assert_eq!(referral[0], "NOERROR rd");
    assert!(
        referral[1].starts_with("NS sub.example.com. "),
        "{referral:?}"
    );
    assert_eq!(udp("q.wild.example.com", RecordType::A)[0], "NOERROR aa rd");
    assert_eq!(udp("x.a.b.example.com", RecordType::A)[0], "NXDOMAIN aa rd");
    // A SOA too big to follow a long question in 512 octets: the authority goes and TC is
    // set, as on the fly; with EDNS it fits.
    let big = {
        let far = |c: &str| {
            format!(
                "{}example.net.",
                format!("{c}123456789012345678901234567890123456789.").repeat(4)
            )
        };
        let (m, r) = (far("m"), far("r"));
        let zone = format!("$TTL 60\n@ SOA {m} {r} 1 2 3 4 300\n NS ns\nns A 192.0.2.1\n");
        let mut s = Server::new(ServerConfig::default());
        s.add_zone(Zone::parse("tc.test", &zone).unwrap()).unwrap();
        s
    };
    let long = format!(
        "{}tc.test",
        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghi.".repeat(3)
    );
    for (name, edns, tc) in [
        ("x.tc.test", None, false),
        (long.as_str(), None, true),
        (long.as_str(), Some((1232, false)), false),
    ] {
        let r = ask(&big, &query(name, RecordType::A, edns));
        let m = Message::new(&r).unwrap();
        assert_eq!(m.header().tc(), tc, "{name}");
        assert_eq!(m.header().nscount(), u16::from(!tc), "{name}");
        assert_eq!(
            show(&r)[0],
            if tc {
                "NXDOMAIN aa tc rd"
            } else {
                "NXDOMAIN aa rd"
            }
        );
    }
    assert!(asked > 1000, "{asked}");
}

/// Wildcard answers come from the wildcard's templates moved to the name asked (its
/// synthesised owner points at the question; every other pointer shifts): answers, NODATA,
/// CNAMEs into the zone, MX, a CNAME to a name below the wildcard's domain (left to the
/// on-the-fly path for the names it ends), a CNAME to the wildcard itself, all byte for
/// byte as computed per query, for names of many lengths and label counts.
#[test]
fn wildcard_templates_move_to_every_name_they_match() {
    let zone = "$TTL 60\n@ SOA ns1 hm 1 2 3 4 300\n NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.2\n\
                *.w A 192.0.2.3\n*.w TXT \"wild\"\n*.c CNAME www\n*.m MX 10 mail.m\n\
                *.s CNAME x.s\n*.loop CNAME *.loop\n*.deep.er CNAME ns1\n";
    let mut s = Server::new(ServerConfig::default());
    s.add_zone(Zone::parse("example.org", zone).unwrap())
        .unwrap();
    let mut asked = 0;
    for (domain, t) in [
        ("w", RecordType::A),
        ("w", RecordType::Txt),
        ("w", RecordType::Aaaa),
        ("w", RecordType::Any),
        ("c", RecordType::A),
        ("c", RecordType::Cname),
        ("m", RecordType::Mx),
        ("s", RecordType::A),
        ("loop", RecordType::A),
        ("deep.er", RecordType::A),
    ] {
        for name in names_under(&format!("{domain}.example.org"), 60, &[1, 7]) {
            for edns in [None, Some((1232, false)), Some((1232, true))] {
                let r = show(&ask(&s, &query(&name, t, edns)));
                assert_eq!(r[0], "NOERROR aa rd", "{name} {t}");
                asked += 1;
            }
        }
    }
    // Under `x.s`, the CNAME target: the target points at the question's copy of it (and
    // so prints in the question's case).
    for name in [
        "x.s.example.org",
        "a.x.s.example.org",
        "b.a.X.S.example.org",
    ] {
        let r = show(&ask(&s, &query(name, RecordType::A, None)));
        assert_eq!(
            r[1].to_ascii_lowercase(),
            format!("an {name}. 60 in cname x.s.example.org.").to_ascii_lowercase()
        );
        assert!(
            r[1].ends_with(&format!("{}.", &name[name.len() - 15..])),
            "{r:?}"
        );
    }
    // The wildcard's synthesised owner is the name asked, as the client spelt it.
    assert_eq!(
        show(&ask(&s, &query("Q.w.example.ORG", RecordType::A, None))),
        ["NOERROR aa rd", "AN Q.w.example.ORG. 60 IN A 192.0.2.3"]
    );
    assert!(asked > 1000, "{asked}");
}

/// Referrals below a delegation point come from the point's own referral template moved to
/// the name asked: in-bailiwick and out-of-zone name servers, glue names asked themselves
/// and names under them (left to the on-the-fly path, whose pointers would aim at the
/// question), and a referral too big for 512 octets, cut in the additional section.
#[test]
fn referral_templates_move_to_every_name_below_a_cut() {
    let mut zone = String::from(
        "$TTL 60\n@ SOA ns1 hm 1 2 3 4 300\n NS ns1\nns1 A 192.0.2.1\n\
         sub NS ns.sub\nns.sub A 192.0.2.2\nout NS ns.example.net.\ndeep.er NS ns1\n",
    );
    for i in 0..20 {
        zone.push_str(&format!(
            "big NS ns{i}.big\nns{i}.big A 192.0.2.{}\n",
            100 + i
        ));
    }
    let mut s = Server::new(ServerConfig::default());
    s.add_zone(Zone::parse("example.org", &zone).unwrap())
        .unwrap();
    let mut asked = 0;
    for cut in ["sub", "out", "deep.er", "big"] {
        let base = format!("{cut}.example.org");
        for name in names_under(&base, 60, &[1, 5]) {
            for (t, edns) in [
                (RecordType::A, None),
                (RecordType::Mx, Some((1232, false))),
                (RecordType::Ds, Some((4096, true))),
                // Cut in the additional section, with our OPT record after the cut.
                (RecordType::A, Some((512, false))),
            ] {
                let r = show(&ask(&s, &query(&name, t, edns)));
                assert!(
                    r[0] == "NOERROR rd" || r[0] == "NOERROR tc rd",
                    "{name}: {r:?}"
                );
                // Cut whole (TC) when even the NS RRset does not fit after a long name.
                assert!(
                    r[0].contains(" tc ") || r[1].starts_with(&format!("NS {base}. 60 IN NS ")),
                    "{name}: {r:?}"
                );
                asked += 1;
            }
        }
    }
    // Glue names, and names under them.
    for name in [
        "ns.sub.example.org",
        "x.NS.sub.example.org",
        "ns7.big.example.org",
        "a.b.ns7.BIG.example.org",
    ] {
        for edns in [None, Some((1232, false))] {
            let r = show(&ask(&s, &query(name, RecordType::A, edns)));
            assert!(r[1].contains(" IN NS "), "{name}: {r:?}");
        }
    }
    // Without EDNS the big referral keeps the NS RRset and drops glue, with TC (RFC 9471).
    let r = ask(&s, &query("www.big.example.org", RecordType::A, None));
    let m = Message::new(&r).unwrap();
    assert!(
        m.header().tc() && m.header().nscount() == 20,
        "{}",
        show(&r).join("\n")
    );
    assert!(asked > 500, "{asked}");
}

#[test]
fn mixed_case_is_echoed_byte_for_byte() {
    let s = plain();
    for name in [
        "WwW.ExAmPlE.CoM",
        "X.WILD.example.COM",
        "NoPe.Example.Com",
        "a.SUB.example.com",
    ] {
        let q = query(name, RecordType::A, None);
        let r = ask(&s, &q);
        // Header flags aside, the question section is the query's bytes.
        let qend = 12 + name.len() + 2 + 4;
        assert_eq!(r[12..qend], q[12..qend], "{name}");
        assert_eq!(r[..2], q[..2]);
    }
    // Owner names point at the question: they print as the client spelt them.
    assert_eq!(
        udp("MAIL.example.COM", RecordType::A),
        ["NOERROR aa rd", "AN MAIL.example.COM. 3600 IN A 192.0.2.25"]
    );
}

#[test]
fn refused_notimp_formerr() {
    let s = plain();
    assert_eq!(
        show(&ask(&s, &query("example.org", RecordType::A, None))),
        ["REFUSED rd"]
    );
    assert_eq!(
        show(&ask(&s, &query("com", RecordType::A, None))),
        ["REFUSED rd"]
    );
    // Another class.
    let mut q = query("example.com", RecordType::A, None);
    let n = q.len();
    q[n - 1] = 3; // CH
    assert_eq!(show(&ask(&s, &q)), ["REFUSED rd"]);
    // NOTIFY: not implemented, question not echoed.
    let mut q = query("example.com", RecordType::Soa, None);
    q[2] = (q[2] & 0x87) | (4 << 3);
    let r = ask(&s, &q);
    let m = Message::new(&r).unwrap();
    assert_eq!(m.opcode(), Opcode::Notify);
    assert_eq!(show(&r), ["NOTIMP rd"]);
    assert_eq!(m.header().qdcount(), 0);
    // AXFR over this engine: NOTIMP with the question.
    let r = ask(&s, &query("example.com", RecordType::Axfr, None));
    assert_eq!(show(&r), ["NOTIMP rd"]);
    assert_eq!(Message::new(&r).unwrap().header().qdcount(), 1);
    // QDCOUNT 0 and 2.
    let mut q = query("example.com", RecordType::A, None);
    q[5] = 0;
    assert_eq!(show(&ask(&s, &q)), ["FORMERR rd"]);
    let mut q = query("example.com", RecordType::A, None);
    let question = q[12..].to_vec();
    q.extend_from_slice(&question);
    q[5] = 2;
    assert_eq!(show(&ask(&s, &q)), ["FORMERR rd"]);
    // A truncated question, an OPT in the answer section, two OPT records.
    let q = query("example.com", RecordType::A, None);
    assert_eq!(show(&ask(&s, &q[..q.len() - 1])), ["FORMERR rd"]);
    let q = query("example.com", RecordType::A, Some((1232, false)));
    let mut moved = q.clone();
    moved[7] = 1; // ANCOUNT 1
    moved[11] = 0; // ARCOUNT 0
    assert_eq!(show(&ask(&s, &moved)), ["FORMERR rd"]);
    let opt = q[q.len() - 11..].to_vec();
    let mut two = q.clone();
    two.extend_from_slice(&opt);
    two[11] = 2;
    assert_eq!(show(&ask(&s, &two)), ["FORMERR rd"]);
    // A question name compressed into the header: FORMERR with the question echoed.
    let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    q.extend_from_slice(&[0xc0, 0x05, 0, 1, 0, 1]);
    assert_eq!(show(&ask(&s, &q)), ["FORMERR rd"]);
    // OPT as a question type.
    assert_eq!(
        show(&ask(&s, &query("example.com", RecordType::Opt, None))),
        ["FORMERR rd"]
    );
}

#[test]
fn dropped() {
    let s = plain();
    let q = query("example.com", RecordType::A, None);
    assert_eq!(ask_on(&s, &q[..11], Transport::Udp), Err(Dropped::TooShort));
    let mut r = q.clone();
    r[2] |= 0x80;
    assert_eq!(ask_on(&s, &r, Transport::Udp), Err(Dropped::Response));
    let mut small = [0u8; 511];
    assert_eq!(
        s.handle(&q, Transport::Udp, &mut small),
        Err(Dropped::BufferTooSmall)
    );
    // A header alone (QDCOUNT 0) is answered: FORMERR.
    assert_eq!(
        show(&ask(
            &s,
            &q[..12].iter().copied().map(|_| 0).collect::<Vec<u8>>()
        )),
        ["FORMERR"]
    );
}

#[test]
fn edns_negotiation() {
    let s = plain();
    let r = ask(
        &s,
        &query("example.com", RecordType::A, Some((4096, false))),
    );
    assert_eq!(
        show(&r),
        [
            "NOERROR aa rd",
            "AN example.com. 3600 IN A 192.0.2.1",
            "OPT 1232 do=false"
        ]
    );
    // DO is echoed even for an unsigned zone (which has nothing to add).
    let r = ask(&s, &query("example.com", RecordType::A, Some((4096, true))));
    assert_eq!(show(&r).last().unwrap(), "OPT 1232 do=true");
    // Version 1: BADVERS (an extended RCODE: 16), question echoed, no answer.
    let mut q = query("example.com", RecordType::A, Some((1232, false)));
    let n = q.len();
    q[n - 5] = 1; // OPT version
    let r = ask(&s, &q);
    assert_eq!(show(&r), ["BADVERS rd", "OPT 1232 do=false"]);
    assert_eq!(Message::new(&r).unwrap().header().qdcount(), 1);
    // Error responses keep the OPT record.
    assert_eq!(
        show(&ask(
            &s,
            &query("example.org", RecordType::A, Some((1232, true)))
        )),
        ["REFUSED rd", "OPT 1232 do=true"]
    );
    // Our size is configurable.
    let mut small = Server::new(ServerConfig {
        udp_payload_size: 600,
    });
    small
        .add_zone(Zone::parse("example.com", &data("example.com.zone")).unwrap())
        .unwrap();
    let r = ask(
        &small,
        &query("example.com", RecordType::A, Some((4096, false))),
    );
    assert_eq!(show(&r).last().unwrap(), "OPT 600 do=false");
}

/// A zone with a large RRset and a referral with much glue, for truncation.
fn big() -> Server {
    let mut text = String::from("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n");
    for i in 0..60 {
        text.push_str(&format!("many A 10.0.0.{i}\n"));
    }
    for i in 0..20 {
        text.push_str(&format!(
            "deleg NS ns{i}.deleg\nns{i}.deleg A 10.1.0.{i}\nns{i}.deleg AAAA 2001:db8::{i}\n"
        ));
    }
    let mut s = Server::new(ServerConfig {
        udp_payload_size: 4096,
    });
    s.add_zone(Zone::parse("big.test", &text).unwrap()).unwrap();
    s
}

#[test]
fn truncation() {
    let s = big();
    // 60 A records: 12 + 21 + 60 * 16 = 993 bytes. Over 512 without EDNS: TC, no records.
    let r = ask(&s, &query("many.big.test", RecordType::A, None));
    assert_eq!(show(&r), ["NOERROR aa tc rd"]);
    assert!(r.len() <= 512);
    // With EDNS 1232 it fits.
    let r = ask(
        &s,
        &query("many.big.test", RecordType::A, Some((1232, false))),
    );
    assert_eq!(show(&r).len(), 1 + 60 + 1);
    assert!(r.len() <= 1232);
    // TCP: no limit but the buffer's.
    let r = ask_on(
        &s,
        &query("many.big.test", RecordType::A, None),
        Transport::Tcp,
    )
    .unwrap();
    assert_eq!(show(&r).len(), 1 + 60);
    // A referral whose in-domain glue does not all fit: TC, with whole RRsets only.
    for size in [512u16, 700, 1000, 1232, 2000, 4096] {
        let r = ask(
            &s,
            &query("x.deleg.big.test", RecordType::A, Some((size, false))),
        );
        let lines = show(&r);
        assert!(r.len() <= usize::from(size.max(512)), "{size}");
        let glue = lines.iter().filter(|l| l.starts_with("AR ")).count();
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("NS ")).count(),
            20,
            "{size}"
        );
        assert_eq!(lines[0].contains("tc"), glue < 40, "{size}: {lines:?}");
    }
    // Every size from 512 up: the template and the on-the-fly answer agree (ask checks).
    for size in (512u16..1400).step_by(7) {
        ask(
            &s,
            &query("many.big.test", RecordType::A, Some((size, false))),
        );
        ask(
            &s,
            &query("deleg.big.test", RecordType::Ns, Some((size, false))),
        );
    }
}

#[test]
fn dnssec_positive() {
    assert_eq!(
        dnssec("www.example.com", RecordType::A),
        [
            "NOERROR aa rd",
            "AN www.example.com. CNAME",
            "AN www.example.com. RRSIG CNAME",
            "AN web.example.com. CNAME",
            "AN web.example.com. RRSIG CNAME",
            "AN host.a.b.example.com. A",
            "AN host.a.b.example.com. RRSIG A",
            "OPT 1232 do=true",
        ]
    );
    // Without DO: no signatures, no OPT DO bit.
    let s = signed();
    assert_eq!(
        brief(&ask(&s, &query("www.example.com", RecordType::A, None))),
        [
            "NOERROR aa rd",
            "AN www.example.com. CNAME",
            "AN web.example.com. CNAME",
            "AN host.a.b.example.com. A"
        ]
    );
    assert_eq!(
        brief(&ask(
            &s,
            &query("example.net", RecordType::Mx, Some((1232, false)))
        )),
        ["NOERROR aa rd", "AN example.net. MX", "OPT 1232 do=false"]
    );
    // QTYPE RRSIG answers every signature at the name, DO or not.
    let r = brief(&ask(
        &s,
        &query("mail.example.com", RecordType::Rrsig, None),
    ));
    assert_eq!(
        r,
        [
            "NOERROR aa rd",
            "AN mail.example.com. RRSIG A",
            "AN mail.example.com. RRSIG NSEC"
        ]
    );
}

#[test]
fn dnssec_nsec_negative() {
    let soa = ["NS example.com. SOA", "NS example.com. RRSIG SOA"];
    // NXDOMAIN: the NSEC covering the name, the NSEC covering the wildcard.
    let mut want = vec!["NXDOMAIN aa rd"];
    want.extend(soa);
    want.extend([
        "NS mail.example.com. NSEC",
        "NS mail.example.com. RRSIG NSEC",
        "NS example.com. NSEC",
        "NS example.com. RRSIG NSEC",
        "OPT 1232 do=true",
    ]);
    assert_eq!(dnssec("nope.example.com", RecordType::A), want);
    // NODATA: the name's own NSEC.
    let mut want = vec!["NOERROR aa rd"];
    want.extend(soa);
    want.extend([
        "NS mail.example.com. NSEC",
        "NS mail.example.com. RRSIG NSEC",
        "OPT 1232 do=true",
    ]);
    assert_eq!(dnssec("mail.example.com", RecordType::Mx), want);
    // NODATA at an empty non-terminal: the NSEC that covers it.
    let mut want = vec!["NOERROR aa rd"];
    want.extend(soa);
    want.extend([
        "NS alias.example.com. NSEC",
        "NS alias.example.com. RRSIG NSEC",
        "OPT 1232 do=true",
    ]);
    assert_eq!(dnssec("a.b.example.com", RecordType::A), want);
    // Wildcard answer: the signature keeps the wildcard's label count; the NSEC proves no
    // closer match.
    assert_eq!(
        dnssec("x.wild.example.com", RecordType::A),
        [
            "NOERROR aa rd",
            "AN x.wild.example.com. A",
            "AN x.wild.example.com. RRSIG A",
            "NS *.wild.example.com. NSEC",
            "NS *.wild.example.com. RRSIG NSEC",
            "OPT 1232 do=true",
        ]
    );
    // Wildcard NODATA: no closer match, and the wildcard lacks the type (here one NSEC
    // does both).
    let mut want = vec!["NOERROR aa rd"];
    want.extend(soa);
    want.extend([
        "NS *.wild.example.com. NSEC",
        "NS *.wild.example.com. RRSIG NSEC",
        "OPT 1232 do=true",
    ]);
    assert_eq!(dnssec("x.wild.example.com", RecordType::Mx), want);
    // Referrals: a signed delegation carries its DS, an unsigned one the NSEC without DS.
    assert_eq!(
        dnssec("www.sub.example.com", RecordType::A),
        [
            "NOERROR rd",
            "NS sub.example.com. NS",
            "NS sub.example.com. NS",
            "NS sub.example.com. DS",
            "NS sub.example.com. RRSIG DS",
            "AR ns.sub.example.com. A",
            "AR ns1.example.com. A",
            "OPT 1232 do=true",
        ]
    );
    assert_eq!(
        dnssec("insecure.example.com", RecordType::A),
        [
            "NOERROR rd",
            "NS insecure.example.com. NS",
            "NS insecure.example.com. NSEC",
            "NS insecure.example.com. RRSIG NSEC",
            "AR ns.insecure.example.com. AAAA",
            "OPT 1232 do=true",
        ]
    );
    // DS NODATA at an unsigned delegation point, from the parent side.
    let mut want = vec!["NOERROR aa rd"];
    want.extend(soa);
    want.extend([
        "NS insecure.example.com. NSEC",
        "NS insecure.example.com. RRSIG NSEC",
        "OPT 1232 do=true",
    ]);
    assert_eq!(dnssec("insecure.example.com", RecordType::Ds), want);
}

/// The NSEC3 record names of a brief response's authority section, checked against the
/// hashes they must have.
fn nsec3_owners(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.starts_with("NS ") && l.ends_with(" NSEC3") && !l.contains("RRSIG"))
        .map(|l| l.split(' ').nth(1).unwrap().to_string())
        .collect()
}

fn hashed(name: &str) -> String {
    let n = unistack_dns::NameBuf::from_dotted(name).unwrap();
    let h = unistack_dns::nsec3_hash(&n.as_name(), &[0xaa, 0xbb, 0xcc, 0xdd], 1);
    format!("{}.example.net.", unistack_dns::Base32Hex(&h))
}

/// The NSEC3 owner whose hash is `name`'s, or the last before it (with the wrap).
fn covering(zone: &Zone, name: &str) -> String {
    let h = hashed(name);
    let mut owners: Vec<String> = zone
        .records()
        .iter()
        .filter(|r| r.rtype() == RecordType::Nsec3)
        .map(|r| r.owner().to_string())
        .collect();
    owners.sort();
    owners
        .iter()
        .rev()
        .find(|o| **o <= h)
        .unwrap_or(owners.last().unwrap())
        .clone()
}

#[test]
fn dnssec_nsec3_negative() {
    let zone = Zone::parse("example.net", &data("example.net.signed")).unwrap();
    // NXDOMAIN (RFC 5155 7.2.2): closest encloser (the apex) matched, next closer covered,
    // wildcard at the closest encloser covered.
    let r = dnssec("nope.example.net", RecordType::A);
    assert_eq!(r[0], "NXDOMAIN aa rd");
    let mut want = vec![hashed("example.net"), covering(&zone, "nope.example.net")];
    // The wildcard's cover may be an NSEC3 already there: each is sent once.
    let star = covering(&zone, "*.example.net");
    if !want.contains(&star) {
        want.push(star);
    }
    assert_eq!(nsec3_owners(&r), want);
    // NXDOMAIN deeper: x.y.host.a.b: the encloser is host.a.b.
    let r = dnssec("x.y.host.a.b.example.net", RecordType::A);
    assert_eq!(
        nsec3_owners(&r),
        [
            hashed("host.a.b.example.net"),
            covering(&zone, "y.host.a.b.example.net"),
            covering(&zone, "*.host.a.b.example.net")
        ]
    );
    // NODATA (7.2.3): the matching NSEC3; at an empty non-terminal too.
    assert_eq!(
        nsec3_owners(&dnssec("mail.example.net", RecordType::Mx)),
        [hashed("mail.example.net")]
    );
    assert_eq!(
        nsec3_owners(&dnssec("a.b.example.net", RecordType::A)),
        [hashed("a.b.example.net")]
    );
    // Wildcard answer (7.2.6): the next closer name covered.
    let r = dnssec("x.wild.example.net", RecordType::A);
    assert_eq!(
        r[1..3],
        ["AN x.wild.example.net. A", "AN x.wild.example.net. RRSIG A"]
    );
    assert_eq!(nsec3_owners(&r), [covering(&zone, "x.wild.example.net")]);
    // Wildcard NODATA (7.2.5): encloser matched, next closer covered, wildcard matched.
    let r = dnssec("x.wild.example.net", RecordType::Mx);
    let mut got = nsec3_owners(&r);
    got.sort();
    let mut want = vec![
        hashed("wild.example.net"),
        covering(&zone, "x.wild.example.net"),
        hashed("*.wild.example.net"),
    ];
    want.sort();
    assert_eq!(got, want);
    // Opt-out referral (7.2.7): no NSEC3 for the unsigned delegation; the apex matched and
    // the delegation covered by an opt-out NSEC3.
    let r = dnssec("insecure.example.net", RecordType::A);
    assert_eq!(r[0], "NOERROR rd");
    assert_eq!(
        nsec3_owners(&r),
        [
            hashed("example.net"),
            covering(&zone, "insecure.example.net")
        ]
    );
    let line = show(&ask(
        &signed(),
        &query("insecure.example.net", RecordType::A, Some((4096, true))),
    ))
    .into_iter()
    .find(|l| {
        l.starts_with(&format!("NS {} ", covering(&zone, "insecure.example.net")))
            && l.contains(" NSEC3 ")
    })
    .unwrap();
    assert!(
        line.contains(" NSEC3 1 1 1 AABBCCDD "),
        "opt-out flag: {line}"
    );
    // The signed delegation's DS, answered from the parent.
    assert_eq!(
        dnssec("sub.example.net", RecordType::Ds)[..3],
        [
            "NOERROR aa rd",
            "AN sub.example.net. DS",
            "AN sub.example.net. RRSIG DS"
        ]
    );
}

#[test]
fn ds_goes_to_the_parent_zone() {
    let mut s = Server::new(ServerConfig::default());
    s.add_zone(Zone::parse("example.com", &data("example.com.zone")).unwrap())
        .unwrap();
    let child = "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.7\nwww A 192.0.2.8\n";
    s.add_zone(Zone::parse("sub.example.com", child).unwrap())
        .unwrap();
    assert!(
        s.add_zone(Zone::parse("sub.example.com", child).unwrap())
            .is_err()
    );
    // Longest match: the child answers its names, authoritatively.
    assert_eq!(
        show(&ask(&s, &query("www.sub.example.com", RecordType::A, None)))[..2],
        ["NOERROR aa rd", "AN www.sub.example.com. 60 IN A 192.0.2.8"]
    );
    assert_eq!(
        show(&ask(&s, &query("sub.example.com", RecordType::Ns, None)))[1],
        "AN sub.example.com. 60 IN NS ns.sub.example.com."
    );
    // DS for the child's apex: the parent's.
    assert!(
        show(&ask(&s, &query("sub.example.com", RecordType::Ds, None)))[1]
            .contains("IN DS 12345 13 2")
    );
}

#[test]
fn any_returns_every_rrset() {
    let r = udp("example.com", RecordType::Any);
    assert_eq!(r.len(), 1 + 8);
    assert_eq!(
        udp("a.b.example.com", RecordType::Any),
        [
            "NOERROR aa rd",
            "NS example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300"
        ]
    );
}

/// Every name of every zone (and their ancestors, names below them, wildcard expansions and
/// names that do not exist), asked for a wide range of types, with and without EDNS and DO,
/// in mixed case: the precompiled path (one hash for zone and name, templates shared between
/// types and names) answers byte for byte as the computed one. Servers with nested zones are
/// built in both orders, so that a deeper zone added before or after its parent takes its
/// names from it.
#[test]
fn every_name_every_type_matches_the_computed_answer() {
    let child = "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.7\nwww A 192.0.2.8\n\
                 *.w TXT x\nalias CNAME www\n";
    let nested = |child_first: bool| {
        let mut s = Server::new(ServerConfig::default());
        let parent = Zone::parse("example.com", &data("example.com.zone")).unwrap();
        let child = Zone::parse("sub.example.com", child).unwrap();
        if child_first {
            s.add_zone(child).unwrap();
            s.add_zone(parent).unwrap();
        } else {
            s.add_zone(parent).unwrap();
            s.add_zone(child).unwrap();
        }
        s
    };
    let mut types: Vec<u16> = (0..=300).collect();
    types.extend([32768, 32769, 65280, 65281, 65534, 65535]);
    let mut asked = 0usize;
    for s in [plain(), signed(), nested(false), nested(true)] {
        let mut names: Vec<String> = Vec::new();
        for z in s.zones() {
            for r in z.records() {
                let mut n = Some(r.owner());
                while let Some(name) = n {
                    names.push(name.to_string());
                    if !name.is_root() {
                        names.push(format!("x.{name}"));
                    }
                    n = name.parent();
                }
            }
        }
        names.sort();
        names.dedup();
        for (k, name) in names.iter().enumerate() {
            // Mixed case, different for each name.
            let mixed: String = name
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if (i + k) % 3 == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect();
            for &t in &types {
                for edns in [None, Some((4096, true)), Some((512, false))] {
                    if edns == Some((512, false)) && t > 64 && t != 255 {
                        continue;
                    }
                    let q = query(&mixed, RecordType::from_raw(t), edns);
                    let _ = ask_on(&s, &q, Transport::Udp);
                    asked += 1;
                }
            }
            let q = query(&mixed, RecordType::Any, Some((1232, true)));
            let _ = ask_on(&s, &q, Transport::Tcp);
        }
    }
    assert!(asked > 50_000, "{asked}");
}

/// `warm` reads what answering a batch will read and changes nothing: the answers after it
/// are the same bytes, names in the zones are found (the value it returns sums bytes of
/// their entries, never zero for a hit), names outside find nothing, and any bytes are safe.
#[test]
fn warming_a_batch_finds_the_names_and_changes_no_answer() {
    let s = plain();
    let hits: Vec<Vec<u8>> = ["example.com", "WWW.example.com", "mail.example.com"]
        .iter()
        .flat_map(|n| {
            [RecordType::A, RecordType::Mx, RecordType::Txt]
                .map(|t| query(n, t, Some((1232, false))))
        })
        .collect();
    let before: Vec<_> = hits.iter().map(|q| ask(&s, q)).collect();
    assert_ne!(s.warm_always(hits.iter().map(|q| &q[..])), 0);
    let after: Vec<_> = hits.iter().map(|q| ask(&s, q)).collect();
    assert_eq!(before, after);
    // Forty queries: more than one internal step of sixteen.
    let many: Vec<&[u8]> = hits.iter().cycle().take(40).map(|q| &q[..]).collect();
    assert_ne!(s.warm_always(many), 0);
    let misses = [
        query("nothere.example.org", RecordType::A, None),
        query("example.net", RecordType::A, None),
    ];
    assert_eq!(s.warm_always(misses.iter().map(|q| &q[..])), 0);
    assert_eq!(s.warm_always([&[][..], &[0xff; 3][..], &hits[0][..5]]), 0);
    assert_eq!(s.warm_always(core::iter::empty()), 0);
    // A zone this small stays in the caches: `warm` leaves it alone.
    assert_eq!(s.warm(hits.iter().map(|q| &q[..])), 0);
}
