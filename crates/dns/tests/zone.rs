//! Master files: real zones (one as BIND's examples are written, two signed by BIND's
//! dnssec-signzone), every syntax feature, errors with their positions, the zone checks,
//! and text -> records -> text -> records round trips.
#![cfg(feature = "zone")]

mod common;

use std::collections::HashMap;

use common::strategies::{any_name, owned};
use proptest::prelude::*;
use unistack_dns::zone::{ParseOptions, parse_records};
use unistack_dns::{Class, NameBuf, RData, RecordType, Zone, ZoneErrorKind, ZoneRecord};

fn data(file: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn lines(records: &[ZoneRecord]) -> Vec<String> {
    records.iter().map(ToString::to_string).collect()
}

/// Parse with an origin, no zone checks.
fn records(origin: &str, text: &str) -> Vec<ZoneRecord> {
    parse_records(
        text,
        ParseOptions {
            origin: Some(NameBuf::from_dotted(origin).unwrap()),
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Display every record, parse the text again: the same records.
fn round_trip(records: &[ZoneRecord]) {
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    let again =
        parse_records(&text, ParseOptions::default()).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(again, records);
}

#[test]
fn bind_style_zone() {
    let zone = Zone::parse("example.com", &data("example.com.zone")).unwrap();
    assert_eq!(zone.origin().to_string(), "example.com.");
    assert_eq!(zone.records().len(), 29);
    let l = lines(zone.records());
    for want in [
        // Parentheses and comments across lines.
        "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300",
        // Omitted owner: the previous one; relative names.
        "example.com. 3600 IN MX 10 mail.example.com.",
        "example.com. 3600 IN NS ns2.example.net.",
        "example.com. 3600 IN CAA 0 issue \"letsencrypt.org\"",
        "*.wild.example.com. 3600 IN TXT \"wildcard\" \"two strings\"",
        "sub.example.com. 3600 IN DS 12345 13 2 5A2F0F8C66AE4D7D5F3B2B9F1A4C6E7D8B9C0D1E2F3A4B5C6D7E8F9A0B1C2D3E",
        // `1h` as a TTL, then the default again.
        "sip.example.com. 3600 IN A 192.0.2.60",
        "loop1.example.com. 3600 IN CNAME loop2.example.com.",
        // A ';' inside quotes is text; \065 escapes; strings across a parenthesis.
        "txt.example.com. 3600 IN TXT \"a \\\"quoted\\\" string; not a comment\" \"AB\" \"multi\" \"line\"",
    ] {
        assert!(l.iter().any(|x| x == want), "missing {want}");
    }
    round_trip(zone.records());
}

#[test]
fn signed_zones_from_dnssec_signzone() {
    for (origin, file, nsec_type) in [
        ("example.com", "example.com.signed", RecordType::Nsec),
        ("example.net", "example.net.signed", RecordType::Nsec3),
    ] {
        let zone = Zone::parse(origin, &data(file)).unwrap();
        let count = |t: RecordType| zone.records().iter().filter(|r| r.rtype() == t).count();
        assert_eq!(count(RecordType::Dnskey), 2, "{file}");
        assert!(count(RecordType::Rrsig) > 40, "{file}");
        assert!(count(nsec_type) > 10, "{file}");
        // Every RDATA reads back typed (NSEC3PARAM is opaque to the wire layer).
        for r in zone.records() {
            let typed = !matches!(r.rdata().unwrap(), RData::Unknown { .. });
            assert_eq!(typed, r.rtype() != RecordType::Nsec3param, "{r}");
        }
        round_trip(zone.records());
        // What BIND wrote, as it wrote it (dnssec-signzone prints key tags in comments).
        let sig = zone
            .records()
            .iter()
            .find(|r| r.rtype() == RecordType::Rrsig)
            .unwrap();
        assert!(
            sig.to_string()
                .contains(" 13 2 3600 20340101000000 20240101000000 "),
            "{sig}"
        );
    }
    let net = Zone::parse("example.net", &data("example.net.signed")).unwrap();
    let param = net
        .records()
        .iter()
        .find(|r| r.rtype() == RecordType::Nsec3param)
        .unwrap();
    // TTL 0, as BIND signs it; `1 0 1 AABBCCDD` in wire form.
    assert_eq!(
        param.to_string(),
        "example.net. 0 IN NSEC3PARAM \\# 9 0100000104AABBCCDD"
    );
    let key = net
        .records()
        .iter()
        .find(|r| r.rtype() == RecordType::Dnskey)
        .unwrap();
    let RData::Dnskey(k) = key.rdata().unwrap() else {
        panic!()
    };
    assert_eq!(k.public_key.len(), 64);
}

#[test]
fn directives_and_inheritance() {
    let text = "\
$ORIGIN example.
$TTL 1h
@ IN SOA ns hm 1 2 3 4 5
a 300 A 192.0.2.1        ; explicit TTL
  AAAA ::1                 ; owner and TTL... the $TTL, not the last explicit (RFC 2308)
$ORIGIN sub.example.
b IN 7 TXT x              ; class before TTL
c CH 8 TXT \"y\"
@ A 192.0.2.2
d.example. A 192.0.2.3
e TYPE65280 \\# 2 ABCD
f CLASS1 TYPE1 \\# 4 C0000201
";
    let r = records("example", text);
    assert_eq!(
        lines(&r[1..]),
        [
            "a.example. 300 IN A 192.0.2.1",
            "a.example. 3600 IN AAAA ::1",
            "b.sub.example. 7 IN TXT \"x\"",
            "c.sub.example. 8 CH TXT \"y\"",
            "sub.example. 3600 CH A \\# 4 C0000202",
            "d.example. 3600 CH A \\# 4 C0000203",
            "e.sub.example. 3600 CH TYPE65280 \\# 2 ABCD",
            "f.sub.example. 3600 IN A 192.0.2.1",
        ]
    );
    // `\#` for a type known here must be valid for it.
    let e = parse_records(
        "g 60 MX \\# 0\n",
        ParseOptions {
            origin: Some("example".parse().unwrap()),
            ..Default::default()
        },
    );
    assert_eq!(e.unwrap_err().kind, ZoneErrorKind::BadGeneric);
    // Without $TTL: the last explicit TTL (RFC 1035), else the SOA minimum (as BIND).
    let r = records(
        "example",
        "@ SOA ns hm 1 2 3 4 5\na A 192.0.2.1\nb 77 A 192.0.2.2\nc A 192.0.2.3\n",
    );
    let ttls: Vec<u32> = r.iter().map(ZoneRecord::ttl).collect();
    assert_eq!(ttls, [5, 5, 77, 77]);
    // Escapes in names: a dot inside a label, a space, and `\DDD`.
    let r = records("example", "a\\.b\\032c\\065 60 A 192.0.2.1\n");
    assert_eq!(r[0].owner().labels().next().unwrap(), b"a.b cA");
    assert_eq!(r[0].to_string(), "a\\.b\\032cA.example. 60 IN A 192.0.2.1");
    // CRLF line ends and a comment-only line inside parentheses.
    let r = records(
        "example",
        "x 60 IN SOA ns hm (\r\n ; serial next\r\n 1 2 3 4 5 )\r\n",
    );
    assert_eq!(
        r[0].to_string(),
        "x.example. 60 IN SOA ns.example. hm.example. 1 2 3 4 5"
    );
}

#[test]
fn include_needs_a_loader() {
    let text = "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\n$INCLUDE hosts.inc\nlast A 192.0.2.9\n";
    let err = Zone::parse("example", text).unwrap_err();
    assert_eq!(err.kind, ZoneErrorKind::IncludeRefused);
    assert_eq!(
        (err.line, err.column, err.text.as_str()),
        (4, 10, "hosts.inc")
    );
    assert_eq!(
        err.to_string(),
        "line 4, column 10: $INCLUDE refused: no loader given at `hosts.inc`"
    );

    let files: HashMap<&str, &str> = [
        (
            "hosts.inc",
            "ns A 192.0.2.1\nwww A 192.0.2.2\n$INCLUDE deeper.inc sub\n",
        ),
        // Relative to the origin given on the $INCLUDE line.
        ("deeper.inc", "x A 192.0.2.3\n"),
        ("bad.inc", "ok A 192.0.2.4\nbroken A 999.1.1.1\n"),
        ("self.inc", "$INCLUDE self.inc\n"),
    ]
    .into_iter()
    .collect();
    let mut loader = |f: &str| {
        files
            .get(f)
            .map(|s| s.to_string())
            .ok_or_else(|| format!("no file {f}"))
    };
    let zone = Zone::parse_with(
        text,
        ParseOptions {
            origin: Some("example".parse().unwrap()),
            include: Some(&mut loader),
            ..Default::default()
        },
    )
    .unwrap();
    let names: Vec<String> = zone
        .records()
        .iter()
        .map(|r| r.owner().to_string())
        .collect();
    // The origin is restored after the include.
    assert_eq!(
        names,
        [
            "example.",
            "example.",
            "ns.example.",
            "www.example.",
            "x.sub.example.",
            "last.example."
        ]
    );

    let err_in = |inc: &str| {
        let text = format!("$TTL 60\n$INCLUDE {inc}\n");
        let mut loader = |f: &str| {
            files
                .get(f)
                .map(|s| s.to_string())
                .ok_or_else(|| format!("no file {f}"))
        };
        parse_records(
            &text,
            ParseOptions {
                origin: Some("example".parse().unwrap()),
                include: Some(&mut loader),
                ..Default::default()
            },
        )
        .unwrap_err()
    };
    let e = err_in("bad.inc");
    assert_eq!(
        (e.file.as_deref(), e.line, e.column),
        (Some("bad.inc"), 2, 10)
    );
    assert_eq!(e.kind, ZoneErrorKind::BadRdata("an IPv4 address"));
    assert_eq!(
        e.to_string(),
        "bad.inc: line 2, column 10: bad RDATA: expected an IPv4 address at `999.1.1.1`"
    );
    assert_eq!(
        err_in("missing.inc").kind,
        ZoneErrorKind::IncludeFailed("no file missing.inc".into())
    );
    assert_eq!(err_in("self.inc").kind, ZoneErrorKind::IncludeTooDeep);
}

#[test]
fn errors_carry_line_column_and_text() {
    let cases: &[(&str, ZoneErrorKind, u32, u32, &str)] = &[
        (
            "a 60 A 1.2.3.4\nb 60 AX 1.2.3.4\n",
            ZoneErrorKind::UnknownType,
            2,
            6,
            "AX",
        ),
        (
            "a 60 TXT \"open\n",
            ZoneErrorKind::UnterminatedString,
            1,
            10,
            "\"open",
        ),
        (
            "a 60 SOA ns hm ( 1 2 3 4 5\n",
            ZoneErrorKind::BadParentheses,
            1,
            16,
            "(",
        ),
        (
            "a 60 A 1.2.3.4 )\n",
            ZoneErrorKind::BadParentheses,
            1,
            16,
            ")",
        ),
        (
            "a 60 SOA ( ( 1 2 3 4 5 ) )\n",
            ZoneErrorKind::BadParentheses,
            1,
            12,
            "(",
        ),
        ("a 60 TXT x\\", ZoneErrorKind::BadEscape, 1, 11, "\\"),
        ("a 60 TXT \\256\n", ZoneErrorKind::BadEscape, 1, 10, "\\256"),
        ("  60 A 1.2.3.4\n", ZoneErrorKind::NoOwner, 1, 1, ""),
        ("a A 1.2.3.4\n", ZoneErrorKind::NoTtl, 1, 3, "A"),
        ("a 1x A 1.2.3.4\n", ZoneErrorKind::BadTtl, 1, 3, "1x"),
        (
            "$TTL 5000000000\n",
            ZoneErrorKind::BadTtl,
            1,
            6,
            "5000000000",
        ),
        ("$FOO bar\n", ZoneErrorKind::UnknownDirective, 1, 1, "$FOO"),
        (
            "$GENERATE 1-9 h$ A 1.2.3.$\n",
            ZoneErrorKind::UnknownDirective,
            1,
            1,
            "$GENERATE",
        ),
        ("$ORIGIN\n", ZoneErrorKind::BadDirective, 1, 1, "$ORIGIN"),
        ("a 60 OPT \\# 0\n", ZoneErrorKind::MetaType, 1, 6, "OPT"),
        ("a 60 A\n", ZoneErrorKind::MissingRdata, 1, 6, "A"),
        ("a 60 MX 10\n", ZoneErrorKind::MissingRdata, 1, 9, "10"),
        ("a 60 A 1.2.3.4 5\n", ZoneErrorKind::ExtraRdata, 1, 16, "5"),
        (
            "a 60 MX 70000 b\n",
            ZoneErrorKind::BadRdata("a preference"),
            1,
            9,
            "70000",
        ),
        (
            "a 60 AAAA 1.2.3.4\n",
            ZoneErrorKind::BadRdata("an IPv6 address"),
            1,
            11,
            "1.2.3.4",
        ),
        (
            "a 60 DS 1 2 3 ABC\n",
            ZoneErrorKind::BadRdata("a hex digest"),
            1,
            15,
            "ABC",
        ),
        (
            "a 60 DNSKEY 256 3 13 AB=C\n",
            ZoneErrorKind::BadRdata("a base64 key"),
            1,
            22,
            "AB=C",
        ),
        (
            "a 60 NSEC b. A BOGUS\n",
            ZoneErrorKind::BadRdata("a type mnemonic"),
            1,
            16,
            "BOGUS",
        ),
        (
            "a 60 NSEC3 1 0 0 - XYZ A\n",
            ZoneErrorKind::BadRdata("a base32hex hash"),
            1,
            20,
            "XYZ",
        ),
        (
            "a 60 RRSIG A 13 2 60 20241301000000 0 1 a. AA==\n",
            ZoneErrorKind::BadRdata("a YYYYMMDDHHmmSS time"),
            1,
            22,
            "20241301000000",
        ),
        (
            "a 60 CAA 0 is-sue x\n",
            ZoneErrorKind::BadRdata("an alphanumeric CAA tag"),
            1,
            12,
            "is-sue",
        ),
        (
            "a 60 A \\# 3 010203\n",
            ZoneErrorKind::BadGeneric,
            1,
            8,
            "\\#",
        ),
        (
            "a 60 A \\# 4 010203\n",
            ZoneErrorKind::BadGeneric,
            1,
            8,
            "\\#",
        ),
        ("a 60 LOC 1 2 3\n", ZoneErrorKind::GenericOnly, 1, 10, "1"),
        (
            "a..b 60 A 1.2.3.4\n",
            ZoneErrorKind::BadName(unistack_dns::Error::EmptyLabel),
            1,
            1,
            "a..b",
        ),
    ];
    for (text, kind, line, column, bad) in cases {
        let e = parse_records(
            text,
            ParseOptions {
                origin: Some("example".parse().unwrap()),
                ..Default::default()
            },
        )
        .expect_err(text);
        assert_eq!(
            (&e.kind, e.line, e.column, e.text.as_str()),
            (kind, *line, *column, *bad),
            "{text:?}"
        );
    }
    // A relative name with no origin at all.
    let e = parse_records("a 60 A 1.2.3.4\n", ParseOptions::default()).unwrap_err();
    assert_eq!(e.kind, ZoneErrorKind::NoOrigin);
    // A 300-byte TXT string.
    let long = format!("a 60 TXT {}\n", "x".repeat(300));
    let e = parse_records(
        &long,
        ParseOptions {
            origin: Some("example".parse().unwrap()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.kind, ZoneErrorKind::TooLong);
    assert_eq!(e.text.len(), 64, "offending text is cut");
}

#[test]
fn zone_checks() {
    let head = "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n NS ns\nns A 192.0.2.1\n";
    let check = |extra: &str| {
        Zone::parse("example", &format!("{head}{extra}"))
            .map(|_| ())
            .map_err(|e| (e.kind, e.line))
    };
    assert_eq!(check(""), Ok(()));
    assert_eq!(
        check("www.example.org. A 192.0.2.1\n"),
        Err((ZoneErrorKind::OutOfZone, 5))
    );
    assert_eq!(
        check("@ SOA ns hm 2 2 3 4 5\n"),
        Err((ZoneErrorKind::MultipleSoa, 5))
    );
    assert_eq!(
        check("x SOA ns hm 2 2 3 4 5\n"),
        Err((ZoneErrorKind::SoaNotAtApex, 5))
    );
    assert_eq!(
        check("x CH TXT a\n"),
        Err((ZoneErrorKind::ClassMismatch, 5))
    );
    assert_eq!(
        check("w CNAME ns\nw A 192.0.2.1\n"),
        Err((ZoneErrorKind::CnameAndOtherData, 5))
    );
    assert_eq!(
        check("w CNAME ns\nw CNAME ns2\n"),
        Err((ZoneErrorKind::CnameAndOtherData, 6))
    );
    assert_eq!(
        check("@ CNAME ns\n"),
        Err((ZoneErrorKind::CnameAndOtherData, 5))
    );
    // CNAME beside its signature and NSEC is fine.
    assert_eq!(check("w CNAME ns\nw NSEC ns A\n"), Ok(()));
    // Delegations: glue below, DS at the cut; nothing else.
    assert_eq!(
        check("d NS ns.d\nns.d A 192.0.2.9\nns.d AAAA ::1\nd DS 1 13 2 AA\n"),
        Ok(())
    );
    assert_eq!(
        check("d NS ns.d\nd MX 1 ns\n"),
        Err((ZoneErrorKind::NotGlue, 6))
    );
    assert_eq!(
        check("d NS ns.d\nx.y.d TXT hi\n"),
        Err((ZoneErrorKind::NotGlue, 6))
    );
    assert_eq!(
        check("d NS ns.d\nx.d NS ns.d\n"),
        Err((ZoneErrorKind::NotGlue, 6))
    );
    let e = Zone::parse("example", "$TTL 60\nns A 192.0.2.1\n").unwrap_err();
    assert_eq!(e.kind, ZoneErrorKind::NoSoa);
    let e = Zone::parse("example", "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n").unwrap_err();
    assert_eq!(e.kind, ZoneErrorKind::NoApexNs);
    // Exact duplicates are dropped (RFC 2181 5), case-insensitively on the owner.
    let z = Zone::parse(
        "example",
        &format!("{head}x A 192.0.2.1\nX A 192.0.2.1\nx A 192.0.2.2\n"),
    )
    .unwrap();
    assert_eq!(z.records().len(), 5);
    // The apex comes from the SOA when no origin is given.
    let z = Zone::parse_with(
        "example. 60 SOA ns.example. hm.example. 1 2 3 4 5\nexample. 60 NS ns.example.\n",
        ParseOptions::default(),
    )
    .unwrap();
    assert_eq!(z.origin().to_string(), "example.");
}

#[test]
fn records_from_parts() {
    let r = ZoneRecord::new(
        "www.example",
        Class::In,
        60,
        &RData::<&str>::Mx(unistack_dns::Mx {
            preference: 5,
            exchange: "mail.example",
        }),
    )
    .unwrap();
    assert_eq!(r.to_string(), "www.example. 60 IN MX 5 mail.example.");
    assert_eq!(r.rdata_wire(), b"\x00\x05\x04mail\x07example\x00");
    let again = ZoneRecord::from_wire(
        r.owner_wire(),
        RecordType::Mx,
        Class::In,
        60,
        r.rdata_wire(),
    )
    .unwrap();
    assert_eq!(again, r);
    // A compression pointer inside stored RDATA is refused (MINFO's second name pointing at
    // its first).
    let minfo = b"\x01a\x00\xc0\x00";
    assert_eq!(
        ZoneRecord::from_wire(b"\x00", RecordType::Minfo, Class::In, 60, minfo),
        Err(unistack_dns::Error::CompressedName)
    );
    assert!(ZoneRecord::from_wire(b"\x00", RecordType::A, Class::In, 60, &[1, 2, 3]).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Any record the wire layer can hold: record -> text -> record.
    #[test]
    fn record_text_round_trip(
        owner in any_name(),
        ttl in any::<u32>(),
        class in prop_oneof![Just(Class::In), Just(Class::Ch), Just(Class::Unknown(1232))],
        data in owned(),
    ) {
        let rdata = data.rdata();
        let class = if matches!(rdata, RData::A(_) | RData::Aaaa(_)) { Class::In } else { class };
        let rec = ZoneRecord::new(&owner, class, ttl, &rdata).unwrap();
        let text = format!("{rec}\n");
        let back = parse_records(&text, ParseOptions::default()).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back.len(), 1);
        prop_assert_eq!(&back[0], &rec, "{}", text);
        // The typed RDATA is what was put in.
        prop_assert_eq!(back[0].rdata().unwrap().map_names(|n| n.to_name_buf()), rdata);
    }

    /// Zone text with random formatting: blanks, comments, parentheses, omitted owners.
    #[test]
    fn formatting_does_not_matter(
        data in prop::collection::vec((owned(), any::<bool>(), any::<bool>(), any::<bool>()), 1..8),
    ) {
        let mut text = String::from("$ORIGIN example.\n");
        let mut want = Vec::new();
        for (i, (d, omit, parens, comment)) in data.iter().enumerate() {
            let rdata = d.rdata();
            let rec = ZoneRecord::new("same.example", Class::In, 60, &rdata).unwrap();
            let line = rec.to_string();
            let fields: Vec<&str> = line.splitn(5, ' ').collect();
            let owner = if *omit && i > 0 { " ".to_string() } else { "same".to_string() };
            let rd = fields[4];
            if *parens {
                text.push_str(&format!("{owner}\t60 {} ( {} \n ) ", fields[3], rd));
            } else {
                text.push_str(&format!("{owner} IN 60 {} {}", fields[3], rd));
            }
            if *comment {
                text.push_str(" ; a comment ( \" ;");
            }
            text.push('\n');
            want.push(rec);
        }
        let got = parse_records(&text, ParseOptions::default()).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(got, want, "{}", text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "(\\PC|[\\n\\t ();\"\\\\$@.])*") {
        let _ = parse_records(&text, ParseOptions { origin: Some("example".parse().unwrap()), ..Default::default() });
        let _ = Zone::parse("example", &text);
    }
}

/// The zone checks as first written (ordered maps of owned, lower-cased keys), kept as the
/// reference for the hash-based implementation: the kept records, or the first error's kind
/// and text.
fn reference_checks(
    origin: &NameBuf,
    records: &[ZoneRecord],
) -> Result<Vec<ZoneRecord>, (ZoneErrorKind, String)> {
    use std::collections::{BTreeMap, BTreeSet};
    let apex = origin.as_name();
    let lower = |w: &[u8]| w.to_ascii_lowercase();
    let err = |k: ZoneErrorKind, rec: &ZoneRecord| (k, rec.owner().to_string());
    let mut soa = None;
    for rec in records {
        if !rec.owner().ends_with(&apex) {
            return Err(err(ZoneErrorKind::OutOfZone, rec));
        }
        if rec.rtype().is_meta() {
            return Err(err(ZoneErrorKind::MetaType, rec));
        }
        if rec.rtype() == RecordType::Soa {
            if rec.owner() != apex {
                return Err(err(ZoneErrorKind::SoaNotAtApex, rec));
            }
            if soa.is_some() {
                return Err(err(ZoneErrorKind::MultipleSoa, rec));
            }
            soa = Some(rec.class());
        }
    }
    let class = soa.ok_or((ZoneErrorKind::NoSoa, origin.to_string()))?;
    let mut types: BTreeMap<Vec<u8>, BTreeSet<u16>> = BTreeMap::new();
    let mut cuts: BTreeSet<Vec<u8>> = BTreeSet::new();
    for rec in records {
        if rec.class() != class {
            return Err(err(ZoneErrorKind::ClassMismatch, rec));
        }
        let key = lower(rec.owner_wire());
        if rec.rtype() == RecordType::Ns && rec.owner() != apex {
            cuts.insert(key.clone());
        }
        types.entry(key).or_default().insert(rec.rtype().to_raw());
    }
    if !types
        .get(&lower(origin.as_wire()))
        .is_some_and(|t| t.contains(&RecordType::Ns.to_raw()))
    {
        return Err((ZoneErrorKind::NoApexNs, origin.to_string()));
    }
    let mut cnames: BTreeSet<Vec<u8>> = BTreeSet::new();
    for rec in records {
        let key = lower(rec.owner_wire());
        if rec.rtype() == RecordType::Cname {
            let others = types.get(&key).is_some_and(|t| {
                t.iter().any(|&t| {
                    !matches!(
                        RecordType::from_raw(t),
                        RecordType::Cname | RecordType::Rrsig | RecordType::Nsec
                    )
                })
            });
            if others || rec.owner() == apex || !cnames.insert(key.clone()) {
                return Err(err(ZoneErrorKind::CnameAndOtherData, rec));
            }
        }
        let owner = rec.owner();
        let (mut at_cut, mut below_cut) = (false, false);
        let mut n = Some(owner);
        while let Some(name) = n {
            if name.label_count() <= apex.label_count() {
                break;
            }
            if cuts.contains(&lower(name.to_name_buf().as_wire())) {
                if name.label_count() == owner.label_count() {
                    at_cut = true;
                } else {
                    below_cut = true;
                }
            }
            n = name.parent();
        }
        let glue = matches!(rec.rtype(), RecordType::A | RecordType::Aaaa);
        let ok = if below_cut {
            glue
        } else if at_cut {
            glue || matches!(
                rec.rtype(),
                RecordType::Ns | RecordType::Ds | RecordType::Rrsig | RecordType::Nsec
            )
        } else {
            true
        };
        if !ok {
            return Err(err(ZoneErrorKind::NotGlue, rec));
        }
    }
    let mut seen = BTreeSet::new();
    Ok(records
        .iter()
        .filter(|r| {
            seen.insert((
                lower(r.owner_wire()),
                r.rtype().to_raw(),
                r.rdata_wire().to_vec(),
            ))
        })
        .cloned()
        .collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Random small zones (owners in random case, delegations, glue, CNAMEs, duplicates,
    /// other classes, records out of the zone): `Zone::new` keeps the same records, or
    /// reports the same first error, as the reference.
    #[test]
    fn zone_checks_match_the_reference(
        upper in any::<u64>(),
        recs in prop::collection::vec((0usize..10, 0usize..10, 0u8..4, any::<bool>()), 1..14),
    ) {
        let owners = ["@", "a", "b", "x.a", "y.x.a", "z.b", "other.", "a.b", "ns.a", "*.b"];
        let case = |s: &str, k: usize| -> String {
            s.chars()
                .enumerate()
                .map(|(i, c)| if upper >> ((i + k) % 64) & 1 == 1 { c.to_ascii_uppercase() } else { c })
                .collect()
        };
        let origin: NameBuf = case("ex.ample", 0).parse().unwrap();
        let mut records = Vec::new();
        for (k, &(o, t, v, other_class)) in recs.iter().enumerate() {
            let owner = match owners[o] {
                "@" => origin,
                "other." => "other.".parse().unwrap(),
                rel => format!("{}.{}", case(rel, k), origin).parse().unwrap(),
            };
            let class = if other_class && k % 3 == 0 { Class::Ch } else { Class::In };
            let ns: NameBuf = format!("ns{v}.a.ex.ample").parse().unwrap();
            let rdata: RData<'_, NameBuf> = match t {
                0 => RData::Soa(unistack_dns::Soa {
                    mname: ns,
                    rname: ns,
                    serial: 1,
                    refresh: 2,
                    retry: 3,
                    expire: 4,
                    minimum: u32::from(v),
                }),
                1 | 2 => RData::Ns(ns),
                3 => RData::A([192, 0, 2, v].into()),
                4 => RData::Cname(ns),
                5 => RData::Unknown { rtype: RecordType::Ds, data: &[1, 2, 3] },
                6 => RData::Unknown { rtype: RecordType::Rrsig, data: &[4, 5] },
                7 => RData::Unknown { rtype: RecordType::Nsec, data: &[6] },
                8 => RData::Unknown { rtype: RecordType::Opt, data: &[] },
                _ => RData::Aaaa([0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(v)].into()),
            };
            let class = if matches!(rdata, RData::A(_) | RData::Aaaa(_)) { Class::In } else { class };
            if let Ok(r) = ZoneRecord::new(&owner, class, 60, &rdata) {
                records.push(r);
            }
        }
        // Usually a valid apex, so that the later rules are reached.
        if upper % 4 != 0 {
            let ns: NameBuf = "ns.ex.ample".parse().unwrap();
            let soa = RData::<NameBuf>::Soa(unistack_dns::Soa { mname: ns, rname: ns, serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 });
            records.insert(0, ZoneRecord::new(&origin, Class::In, 60, &soa).unwrap());
            records.insert(1, ZoneRecord::new(&origin, Class::In, 60, &RData::<NameBuf>::Ns(ns)).unwrap());
        }
        let want = reference_checks(&origin, &records);
        match Zone::new(&origin, records.clone()) {
            Ok(z) => prop_assert_eq!(Ok(z.records().to_vec()), want),
            Err(e) => prop_assert_eq!(Err((e.kind, e.text)), want.map(|_| ())),
        }
    }
}
