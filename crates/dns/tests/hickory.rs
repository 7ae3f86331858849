//! Differential tests against hickory-proto 0.26 (built without its DNSSEC feature, so it
//! reads DNSSEC types as opaque bytes): messages built by hickory parse to the same content
//! with ours, ours parse with hickory, and the intentional differences are pinned down.

mod common;

use common::strategies::{name, recs};
use hickory_proto::op::{Edns as HEdns, Message as HMessage, OpCode, Query};
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption as HOption};
use hickory_proto::rr::rdata::{self as h, CAA, HINFO, MX, NULL, SOA, SRV, TXT};
use hickory_proto::rr::{DNSClass, Name as HName, RData as HRData, Record as HRecord};
use proptest::prelude::*;
use unistack_dns::{Class, Error, Message, MessageBuilder, OptionCode, RData, RecordType, Section};

/// Compare one of our records with hickory's reading of the same bytes.
fn compare(ours: &unistack_dns::Record<'_>, theirs: &HRecord) -> Result<(), String> {
    let fail = |what: &str| Err(format!("{what}: ours {ours}, hickory {theirs:?}"));
    if !ours.name().eq_labels(theirs.name.iter()) {
        return fail("name");
    }
    if ours.rtype().to_raw() != u16::from(theirs.record_type()) {
        return fail("type");
    }
    if ours.class().to_raw() != u16::from(theirs.dns_class) {
        return fail("class");
    }
    if ours.ttl() != theirs.ttl {
        return fail("ttl");
    }
    let rdata = ours.rdata().map_err(|e| format!("ours failed: {e}"))?;
    let same_name = |n: &unistack_dns::Name<'_>, h: &HName| n.eq_labels(h.iter());
    let ok = match (&rdata, &theirs.data) {
        // hickory reads every empty RDATA as an RFC 2136 placeholder.
        (_, HRData::Update0(_)) => ours.rdata_bytes().is_empty(),
        (RData::A(a), HRData::A(b)) => a == &b.0,
        (RData::Aaaa(a), HRData::AAAA(b)) => a == &b.0,
        (RData::Ns(a), HRData::NS(b)) => same_name(a, &b.0),
        (RData::Cname(a), HRData::CNAME(b)) => same_name(a, &b.0),
        (RData::Ptr(a), HRData::PTR(b)) => same_name(a, &b.0),
        (RData::Soa(a), HRData::SOA(b)) => {
            same_name(&a.mname, &b.mname)
                && same_name(&a.rname, &b.rname)
                && a.serial == b.serial
                && a.refresh == b.refresh as u32
                && a.retry == b.retry as u32
                && a.expire == b.expire as u32
                && a.minimum == b.minimum
        }
        (RData::Mx(a), HRData::MX(b)) => {
            a.preference == b.preference && same_name(&a.exchange, &b.exchange)
        }
        (RData::Srv(a), HRData::SRV(b)) => {
            a.priority == b.priority
                && a.weight == b.weight
                && a.port == b.port
                && same_name(&a.target, &b.target)
        }
        (RData::Txt(a), HRData::TXT(b)) => a.strings().eq(b.txt_data.iter().map(|s| &s[..])),
        (RData::Hinfo(a), HRData::HINFO(b)) => a.cpu == &b.cpu[..] && a.os == &b.os[..],
        (RData::Caa(a), HRData::CAA(b)) => {
            a.flags == (u8::from(b.issuer_critical) << 7 | b.reserved_flags)
                && a.tag == b.tag.as_bytes()
                && a.value == &b.value[..]
        }
        // Types hickory does not know here (DNSSEC without its feature, private types).
        (_, HRData::Unknown { code, rdata }) => {
            u16::from(*code) == ours.rtype().to_raw() && rdata.anything == ours.rdata_bytes()
        }
        _ => false,
    };
    if ok { Ok(()) } else { fail("rdata") }
}

fn compare_messages(ours: &Message<'_>, theirs: &HMessage) -> Result<(), String> {
    let h = ours.header();
    if h.id() != theirs.metadata.id || ours.opcode().to_raw() != u8::from(theirs.metadata.op_code) {
        return Err("header".into());
    }
    let qs: Vec<_> = ours
        .questions()
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    if qs.len() != theirs.queries.len() {
        return Err("question count".into());
    }
    for (q, t) in qs.iter().zip(&theirs.queries) {
        if !q.name().eq_labels(t.name().iter())
            || q.qtype().to_raw() != u16::from(t.query_type())
            || q.qclass().to_raw() != u16::from(t.query_class())
        {
            return Err(format!("question {q} vs {t:?}"));
        }
    }
    for (section, theirs) in [
        (Section::Answer, &theirs.answers),
        (Section::Authority, &theirs.authorities),
        (Section::Additional, &theirs.additionals),
    ] {
        // hickory takes the OPT record out of the additional section into `edns`.
        let mine: Vec<_> = ours
            .section(section)
            .map(Result::unwrap)
            .filter(|r| r.rtype() != RecordType::Opt)
            .collect();
        if mine.len() != theirs.len() {
            return Err(format!(
                "{section} count {} vs {}",
                mine.len(),
                theirs.len()
            ));
        }
        for (a, b) in mine.iter().zip(theirs) {
            compare(a, b)?;
        }
    }
    match (ours.edns().map_err(|e| e.to_string())?, &theirs.edns) {
        (None, None) => Ok(()),
        (Some(a), Some(b)) => {
            let same = a.udp_payload_size == b.max_payload()
                && a.version == b.version()
                && a.dnssec_ok == b.flags().dnssec_ok
                && a.ext_rcode == b.rcode_high()
                && a.options.iter().count() == b.options().options.len();
            if same {
                Ok(())
            } else {
                Err(format!("edns {a:?} vs {b:?}"))
            }
        }
        _ => Err("edns presence".into()),
    }
}

fn hname(s: &str) -> HName {
    HName::from_ascii(s).unwrap()
}

fn record(name: &str, ttl: u32, rdata: HRData) -> HRecord {
    HRecord::from_rdata(hname(name), ttl, rdata)
}

#[test]
fn hickory_built_messages_parse_the_same_with_ours() {
    let mut m = HMessage::response(0x4242, OpCode::Query);
    m.metadata.authoritative = true;
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(
        hname("www.example.com."),
        hickory_proto::rr::RecordType::ANY,
    ));
    let answers = [
        record(
            "www.example.com.",
            60,
            HRData::CNAME(h::CNAME(hname("example.com."))),
        ),
        record("example.com.", 60, HRData::A(h::A::new(192, 0, 2, 1))),
        record(
            "example.com.",
            60,
            HRData::AAAA(h::AAAA::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        ),
        record(
            "example.com.",
            60,
            HRData::MX(MX::new(10, hname("mail.example.com."))),
        ),
        record(
            "example.com.",
            60,
            HRData::TXT(TXT::new(vec![
                "v=spf1 -all".into(),
                "a \"quoted\" one".into(),
            ])),
        ),
        record(
            "_sip._udp.example.com.",
            60,
            HRData::SRV(SRV::new(1, 2, 5060, hname("sip.example.com."))),
        ),
        record(
            "example.com.",
            60,
            HRData::CAA(CAA::new_issue(
                true,
                Some(hname("letsencrypt.org.")),
                vec![],
            )),
        ),
        record(
            "example.com.",
            60,
            HRData::HINFO(HINFO::new("RFC8482".into(), "".into())),
        ),
        record(
            "1.2.0.192.in-addr.arpa.",
            60,
            HRData::PTR(h::PTR(hname("example.com."))),
        ),
        record(
            "example.com.",
            60,
            HRData::Unknown {
                code: hickory_proto::rr::RecordType::Unknown(65280),
                rdata: NULL::with(vec![1, 2, 3]),
            },
        ),
    ];
    m.add_answers(answers);
    m.add_authority(record(
        "example.com.",
        300,
        HRData::SOA(SOA::new(
            hname("ns1.example.com."),
            hname("hostmaster.example.com."),
            2024010101,
            7200,
            3600,
            1209600,
            300,
        )),
    ));
    m.add_authority(record(
        "example.com.",
        60,
        HRData::NS(h::NS(hname("ns1.example.com."))),
    ));
    let mut glue = record("ns1.example.com.", 60, HRData::A(h::A::new(192, 0, 2, 53)));
    glue.dns_class = DNSClass::IN;
    m.add_additional(glue);
    let mut edns = HEdns::new();
    edns.set_max_payload(1232);
    edns.set_dnssec_ok(true);
    edns.options_mut().insert(HOption::Unknown(
        u16::from(EdnsCode::Cookie),
        vec![1, 2, 3, 4, 5, 6, 7, 8],
    ));
    m.set_edns(edns);
    let bytes = m.to_vec().unwrap();

    let ours = Message::new(&bytes).unwrap();
    ours.check().unwrap();
    let theirs = HMessage::from_vec(&bytes).unwrap();
    compare_messages(&ours, &theirs).unwrap();
    let e = ours.edns().unwrap().unwrap();
    assert_eq!(
        e.options.cookie().unwrap().unwrap().client,
        [1, 2, 3, 4, 5, 6, 7, 8]
    );
    assert_eq!(e.options.iter().next().unwrap().code, OptionCode::Cookie);
    // hickory compresses too: the CNAME's owner is a pointer to the question.
    assert_eq!(&bytes[33..35], &[0xc0, 12]);
    let text = ours.to_string();
    for line in [
        "www.example.com. 60 IN CNAME example.com.",
        // hickory writes the issuer as a fully qualified name; we show the value as sent.
        "example.com. 60 IN CAA 128 issue \"letsencrypt.org.\"",
        "example.com. 60 IN TXT \"v=spf1 -all\" \"a \\\"quoted\\\" one\"",
        "_sip._udp.example.com. 60 IN SRV 1 2 5060 sip.example.com.",
        "example.com. 60 IN TYPE65280 \\# 3 010203",
    ] {
        assert!(text.contains(line), "{line} not in\n{text}");
    }
}

proptest! {
    #[test]
    fn ours_parse_with_hickory(qname in name(), records in recs(), id in any::<u16>()) {
        // hickory rejects empty RDATA outside UPDATE messages (see difference_empty_rdata).
        prop_assume!(records.iter().all(|r| !matches!(
            r.data.rdata(),
            RData::Txt(t) if t.as_wire().is_empty()
        ) && !matches!(r.data.rdata(), RData::Unknown { data: [], .. })));
        let mut buf = vec![0u8; 65535];
        let mut b = MessageBuilder::new(&mut buf).unwrap();
        b.header_mut().set_id(id);
        b.header_mut().set_qr(true);
        b.push_question(&qname, RecordType::A, Class::In).unwrap();
        for r in &records {
            b.push(r.section, &r.name, r.class, r.ttl, &r.data.rdata()).unwrap();
        }
        b.set_edns(&unistack_dns::Edns::new(1232)).unwrap();
        let out = b.finish();
        let ours = Message::new(out).unwrap();
        let theirs = HMessage::from_vec(out)
            .map_err(|e| TestCaseError::fail(format!("hickory rejected ours: {e}")))?;
        compare_messages(&ours, &theirs).map_err(TestCaseError::fail)?;
        // And hickory's re-encoding of it parses the same with ours.
        let again = theirs.to_vec().unwrap();
        let ours_again = Message::new(&again).unwrap();
        prop_assert_eq!(ours_again.check(), Ok(()));
        compare_messages(&ours_again, &theirs).map_err(TestCaseError::fail)?;
    }
}

/// The question `example.com. IN A` after a header with these counts.
fn with_question(counts: [u16; 4], rest: &[u8]) -> Vec<u8> {
    let mut m = vec![0, 1, 0x84, 0];
    for c in counts {
        m.extend_from_slice(&c.to_be_bytes());
    }
    m.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
    m.extend_from_slice(rest);
    m
}

/// Difference: a compressed SRV target. RFC 2782 forbids compression there and RFC 3597
/// section 4 lists SRV among the types whose names a receiver SHOULD still decompress
/// (because RFC 2052 allowed it); we follow RFC 2782 strictly and reject it, hickory
/// follows the pointer.
#[test]
fn difference_compressed_srv_target() {
    let m = with_question(
        [1, 1, 0, 0],
        &[
            0xc0, 12, 0, 33, 0, 1, 0, 0, 0, 60, 0, 8, 0, 1, 0, 2, 0, 53, 0xc0, 12,
        ],
    );
    let theirs = HMessage::from_vec(&m).unwrap();
    let HRData::SRV(srv) = &theirs.answers[0].data else {
        panic!()
    };
    assert_eq!(srv.target.to_ascii(), "example.com.");
    let ours = Message::new(&m).unwrap();
    assert_eq!(
        ours.answers().next().unwrap().unwrap().rdata(),
        Err(Error::CompressedName)
    );
    assert_eq!(ours.check(), Err(Error::CompressedName));
}

/// Difference: A records outside class IN. RFC 1035 defines A's format for IN only (RFC 3597
/// calls it class-specific); we keep other classes' A RDATA opaque, hickory reads an address.
#[test]
fn difference_a_outside_class_in() {
    let m = with_question(
        [1, 1, 0, 0],
        &[0xc0, 12, 0, 1, 0, 3, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1],
    );
    let theirs = HMessage::from_vec(&m).unwrap();
    assert!(matches!(&theirs.answers[0].data, HRData::A(_)));
    let ours = Message::new(&m).unwrap();
    let r = ours.answers().next().unwrap().unwrap();
    assert_eq!(
        r.rdata().unwrap(),
        RData::Unknown {
            rtype: RecordType::A,
            data: &[10, 0, 0, 1]
        }
    );
    assert_eq!(r.to_string(), "example.com. 60 CH A \\# 4 0A000001");
}

/// Difference: bytes after the last record. hickory ignores them; our iterators do too, but
/// `Message::check` reports them.
#[test]
fn difference_trailing_bytes() {
    let m = with_question([1, 0, 0, 0], &[0xde, 0xad]);
    assert!(HMessage::from_vec(&m).is_ok());
    let ours = Message::new(&m).unwrap();
    assert_eq!(ours.questions().count(), 1);
    assert_eq!(ours.check(), Err(Error::TrailingData));
}

/// Difference: empty RDATA. hickory rejects a non-UPDATE message that has any (it reads them
/// as RFC 2136 placeholders in UPDATE messages only); we type it: an empty TXT is zero
/// strings, an empty unknown type zero bytes (RFC 3597's `\# 0`), an empty A malformed.
#[test]
fn difference_empty_rdata() {
    let m = with_question([1, 1, 0, 0], &[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 0]);
    assert!(HMessage::from_vec(&m).is_err());
    let ours = Message::new(&m).unwrap();
    assert_eq!(
        ours.answers().next().unwrap().unwrap().rdata(),
        Err(Error::BadRdata)
    );
    let m = with_question([1, 1, 0, 0], &[0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 0]);
    let ours = Message::new(&m).unwrap();
    let RData::Txt(t) = ours.answers().next().unwrap().unwrap().rdata().unwrap() else {
        panic!()
    };
    assert_eq!(t.strings().count(), 0);
    assert!(HMessage::from_vec(&m).is_err());
    ours.check().unwrap();
}

/// Difference: an OPT record in the answer section. hickory reads it as a record of the
/// answer section; we read it too, but `check` and `edns` report it (RFC 6891 6.1.1).
#[test]
fn difference_misplaced_opt() {
    let m = with_question([1, 1, 0, 0], &[0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0]);
    let theirs = HMessage::from_vec(&m);
    let ours = Message::new(&m).unwrap();
    assert!(ours.answers().next().unwrap().is_ok());
    assert_eq!(ours.check(), Err(Error::MisplacedOpt));
    if let Ok(theirs) = theirs {
        assert_eq!(theirs.answers.len(), 1);
        assert!(theirs.edns.is_none());
    }
}
