//! Real dig/BIND and dig/Knot exchanges (see `common/mod.rs` and `common/knot.rs`): parsed, printed exactly as dig prints them,
//! rebuilt, and truncated at every byte.

mod common;

use common::{ANY_TRUNCATED, CNAME, DNSKEY, NXDOMAIN_NSEC, NXDOMAIN_NSEC3, QUERY_A, SIGNED_MX};
use unistack_dns::{
    Algorithm, Class, Error, Message, MessageBuilder, Name, Opcode, OptionCode, RData, Rcode,
    RecordType, Section,
};

/// Lines of dig-style output, normalised: no blank lines, no dig-only remarks, no whitespace
/// (dig aligns with tabs and splits base64 with spaces; we use single spaces).
fn normalise(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with(";; WARNING"))
        .map(|l| {
            l.replace(" (good)", "")
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect()
        })
        .collect()
}

#[test]
fn every_response_prints_as_dig_prints_it() {
    for f in common::every() {
        let bytes = f.response();
        let msg = Message::new(&bytes).unwrap();
        msg.check().unwrap_or_else(|e| panic!("{}: {e}", f.name));
        let ours = msg.to_string();
        assert_eq!(normalise(&ours), normalise(f.dig), "{}:\n{ours}", f.name);
    }
}

#[test]
fn every_query_parses() {
    for f in common::every() {
        let bytes = f.query();
        let q = Message::new(&bytes).unwrap();
        q.check().unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert!(!q.is_response());
        assert_eq!(q.opcode(), Opcode::Query);
        let r = f.response();
        let r = Message::new(&r).unwrap();
        assert_eq!(q.id(), r.id());
        // The question name in the query equals the one in the response (another message).
        let qn = q.questions().next().unwrap().unwrap();
        let rn = r.questions().next().unwrap().unwrap();
        assert_eq!(qn.name(), rn.name());
        assert!(qn.name().eq_ignore_ascii_case(&rn.name()));
        assert_eq!(qn.qtype(), rn.qtype());
    }
}

#[test]
fn dig_query_with_cookie() {
    let bytes = QUERY_A.query();
    let q = Message::new(&bytes).unwrap();
    let h = q.header();
    assert!(h.rd() && h.ad() && !h.qr() && !h.cd());
    assert_eq!(
        (h.qdcount(), h.ancount(), h.nscount(), h.arcount()),
        (1, 0, 0, 1)
    );
    let question = q.questions().next().unwrap().unwrap();
    assert!(question.name().eq_str("example.com"));
    assert!(question.name().eq_labels([&b"EXAMPLE"[..], b"com"]));
    assert_eq!(question.qtype(), RecordType::A);
    assert_eq!(question.qclass(), Class::In);
    assert_eq!(question.range(), 12..29);
    let edns = q.edns().unwrap().unwrap();
    assert_eq!(edns.udp_payload_size, 1232);
    assert_eq!(
        (edns.version, edns.dnssec_ok, edns.ext_rcode),
        (0, false, 0)
    );
    let cookie = edns.options.cookie().unwrap().unwrap();
    assert!(cookie.server.is_empty());
    let opt = edns.options.iter().next().unwrap();
    assert_eq!(opt.code, OptionCode::Cookie);
    assert_eq!(opt.data.len(), 8);

    // The response echoes the client cookie and adds a 16-byte server cookie.
    let rbytes = QUERY_A.response();
    let r = Message::new(&rbytes).unwrap();
    let rc = r
        .edns()
        .unwrap()
        .unwrap()
        .options
        .cookie()
        .unwrap()
        .unwrap();
    assert_eq!(rc.client, cookie.client);
    assert_eq!(rc.server.len(), 16);
    assert!(r.header().aa());
    let answer = r.answers().next().unwrap().unwrap();
    // The owner name is a pointer to the question.
    assert_eq!(&rbytes[answer.range().start..][..2], &[0xc0, 12]);
    assert_eq!(answer.name().offset(), 29);
    assert_eq!(answer.rdata_range(), 41..45);
    assert_eq!(answer.ttl_offset(), 35);
    assert_eq!(answer.rdata().unwrap(), RData::A([192, 0, 2, 1].into()));
    assert_eq!(answer.to_string(), "example.com. 3600 IN A 192.0.2.1");
}

#[test]
fn compressed_response() {
    let bytes = CNAME.response();
    let m = Message::new(&bytes).unwrap();
    let recs: Vec<_> = m.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 2 + 2 + 3);
    let sections: Vec<Section> = recs.iter().map(|r| r.section()).collect();
    use Section::*;
    assert_eq!(
        sections,
        [
            Answer, Answer, Authority, Authority, Additional, Additional, Additional
        ]
    );
    let RData::Cname(target) = recs[0].rdata().unwrap() else {
        panic!()
    };
    assert_eq!(target.to_string(), "example.com.");
    // The CNAME target is a bare pointer into the question.
    assert_eq!(recs[0].rdata_bytes(), &[0xc0, 16]);
    assert_eq!(target, recs[1].name());
    assert!(recs[0].name().ends_with(&target));
    let RData::Ns(ns) = recs[2].rdata().unwrap() else {
        panic!()
    };
    assert!(ns.eq_str("ns2.example.com."));
    // The glue's owner points into the NS RDATA.
    assert!(recs[5].name().eq_ignore_ascii_case(&ns) || recs[4].name() == ns);
    assert_eq!(m.additionals().count(), 3);
    assert_eq!(m.authorities().count(), 2);
}

#[test]
fn signed_answer() {
    let bytes = SIGNED_MX.response();
    let m = Message::new(&bytes).unwrap();
    assert!(m.edns().unwrap().unwrap().dnssec_ok);
    let answers: Vec<_> = m.answers().map(Result::unwrap).collect();
    let RData::Mx(mx) = answers[0].rdata().unwrap() else {
        panic!()
    };
    assert_eq!(mx.preference, 10);
    assert!(mx.exchange.eq_str("mail.example.com."));
    let RData::Rrsig(sig) = answers[1].rdata().unwrap() else {
        panic!()
    };
    assert_eq!(sig.type_covered, RecordType::Mx);
    assert_eq!(sig.algorithm, Algorithm::EcdsaP256Sha256);
    assert_eq!(sig.labels, 2);
    assert_eq!(sig.original_ttl, 3600);
    assert_eq!(
        unistack_dns::Timestamp(sig.expiration).to_string(),
        "20340101000000"
    );
    assert_eq!(
        unistack_dns::Timestamp(sig.inception).to_string(),
        "20240101000000"
    );
    assert!(sig.signer_name.eq_str("example.com."));
    assert_eq!(sig.signature.len(), 64);
    // Signer names are never compressed: 13 octets in place.
    assert_eq!(answers[1].rdata_bytes().len(), 18 + 13 + 64);
}

#[test]
fn nxdomain_with_soa_and_nsec() {
    let bytes = NXDOMAIN_NSEC.response();
    let m = Message::new(&bytes).unwrap();
    assert_eq!(m.rcode(), Rcode::NxDomain);
    assert_eq!(m.extended_rcode().unwrap(), Rcode::NxDomain);
    assert_eq!(m.answers().count(), 0);
    let auth: Vec<_> = m.authorities().map(Result::unwrap).collect();
    let RData::Soa(soa) = auth[0].rdata().unwrap() else {
        panic!()
    };
    assert!(soa.mname.eq_str("ns1.example.com."));
    assert!(soa.rname.eq_str("hostmaster.example.com."));
    assert_eq!(
        (soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum),
        (2024010101, 7200, 3600, 1209600, 300)
    );
    let RData::Nsec(nsec) = auth[2].rdata().unwrap() else {
        panic!()
    };
    assert!(nsec.next_domain.eq_str("_sip._udp.example.com."));
    for t in [
        RecordType::A,
        RecordType::Soa,
        RecordType::Caa,
        RecordType::Dnskey,
    ] {
        assert!(nsec.types.contains(t));
    }
    assert!(!nsec.types.contains(RecordType::Cname));
    // The NXDOMAIN proof: the NSEC at mail.example.com. covers nope.example.com.
    let RData::Nsec(cover) = auth[4].rdata().unwrap() else {
        panic!()
    };
    let q = m.questions().next().unwrap().unwrap().name();
    use std::cmp::Ordering::*;
    assert_eq!(auth[4].name().cmp_canonical(&q), Less);
    assert_eq!(q.cmp_canonical(&cover.next_domain), Less);
}

#[test]
fn nxdomain_with_nsec3() {
    let bytes = NXDOMAIN_NSEC3.response();
    let m = Message::new(&bytes).unwrap();
    let nsec3: Vec<_> = m
        .authorities()
        .map(Result::unwrap)
        .filter(|r| r.rtype() == RecordType::Nsec3)
        .collect();
    assert_eq!(nsec3.len(), 3);
    for r in &nsec3 {
        let RData::Nsec3(n) = r.rdata().unwrap() else {
            panic!()
        };
        assert_eq!(n.iterations, 0);
        assert_eq!(n.salt, &[0xaa, 0xbb, 0xcc, 0xdd]);
        assert!(!n.opt_out());
        assert_eq!(n.next_hashed.len(), 20);
        // The owner's first label is the base32hex hash, 32 characters.
        assert_eq!(r.name().labels().next().unwrap().len(), 32);
    }
}

#[test]
fn dnskey_tags_match_the_signatures() {
    let bytes = DNSKEY.response();
    let m = Message::new(&bytes).unwrap();
    let mut key_tags = Vec::new();
    let mut sig_tags = Vec::new();
    for r in m.answers() {
        match r.unwrap().rdata().unwrap() {
            RData::Dnskey(k) => {
                assert!(k.is_zone_key());
                assert_eq!(k.protocol, 3);
                key_tags.push((k.key_tag(), k.is_sep()));
            }
            RData::Rrsig(s) => sig_tags.push(s.key_tag),
            other => panic!("{other:?}"),
        }
    }
    key_tags.sort();
    sig_tags.sort();
    // dig's output above: the KSK signs with 20101, the ZSK with 52678.
    assert_eq!(key_tags, [(20101, true), (52678, false)]);
    assert_eq!(sig_tags, [20101, 52678]);
}

#[test]
fn truncated_response_has_tc() {
    let bytes = ANY_TRUNCATED.response();
    let m = Message::new(&bytes).unwrap();
    assert!(m.header().tc());
    assert_eq!(m.records().count(), 1);
    assert_eq!(
        m.questions().next().unwrap().unwrap().qtype(),
        RecordType::Any
    );
}

#[test]
fn every_truncation_of_every_fixture_is_an_error() {
    for f in common::every() {
        for bytes in [f.query(), f.response()] {
            for len in 0..bytes.len() {
                let cut = &bytes[..len];
                let Ok(m) = Message::new(cut) else {
                    assert!(len < 12);
                    continue;
                };
                assert!(m.check().is_err(), "{} cut at {len}", f.name);
                // Walking and printing never panic and end.
                let n = m.records().count() + m.questions().count();
                assert!(n <= 4 * 65536);
                let _ = m.to_string();
                for r in m.records().flatten() {
                    let _ = r.rdata();
                    let _ = r.to_string();
                }
            }
        }
    }
}

#[test]
fn truncated_fixture_errors_are_typed() {
    let bytes = QUERY_A.response();
    // Cut inside the answer's RDATA: the RDLENGTH runs past the end.
    let m = Message::new(&bytes[..43]).unwrap();
    assert_eq!(m.answers().next().unwrap().unwrap_err(), Error::BadRdLength);
    // Cut right after the answer: the additional count promises a record that is not there.
    let m = Message::new(&bytes[..45]).unwrap();
    assert_eq!(
        m.additionals().next().unwrap().unwrap_err(),
        Error::CountMismatch
    );
    assert_eq!(m.check(), Err(Error::CountMismatch));
    // Cut inside the question's name.
    let m = Message::new(&bytes[..20]).unwrap();
    assert_eq!(m.questions().next().unwrap().unwrap_err(), Error::Truncated);
    assert_eq!(m.answers().next().unwrap().unwrap_err(), Error::Truncated);
    assert!(m.answers().nth(1).is_none());
}

#[test]
fn rebuilt_fixtures_parse_to_the_same_records() {
    for f in common::every() {
        let bytes = f.response();
        let m = Message::new(&bytes).unwrap();
        let mut buf = [0u8; 4096];
        let mut b = MessageBuilder::new(&mut buf).unwrap();
        let mut h = b.header_mut();
        h.encode(&m.header().decode());
        for q in m.questions() {
            let q = q.unwrap();
            b.push_question(&q.name(), q.qtype(), q.qclass()).unwrap();
        }
        for r in m.records() {
            let r = r.unwrap();
            b.push_record(r.section(), &r).unwrap();
        }
        let out = b.finish();
        let again = Message::new(out).unwrap();
        again.check().unwrap();
        assert_eq!(again.to_string(), m.to_string(), "{}", f.name);
        // Our compression is as good as BIND's and Knot's on these, except that both also
        // point into SRV targets (the glue's owner), which we never use as compression
        // targets (RFC 3597 section 4: a name inside the RDATA of a type that may not be
        // compressed is not a safe target).
        let slack = if matches!(f.name, "srv" | "knot_srv") {
            4
        } else {
            0
        };
        assert!(
            out.len() <= bytes.len() + slack,
            "{}: {} > {}",
            f.name,
            out.len(),
            bytes.len()
        );
    }
}

#[test]
fn names_from_different_messages_compare() {
    let a = SIGNED_MX.response();
    let b = NXDOMAIN_NSEC.response();
    let ma = Message::new(&a).unwrap();
    let mb = Message::new(&b).unwrap();
    let apex_a: Name<'_> = ma.answers().next().unwrap().unwrap().name();
    let apex_b: Name<'_> = mb.authorities().next().unwrap().unwrap().name();
    assert_eq!(apex_a, apex_b);
    assert_ne!(apex_a.offset(), usize::MAX);
    let nope = mb.questions().next().unwrap().unwrap().name();
    assert!(nope.ends_with(&apex_a));
    assert_eq!(nope.parent().unwrap(), apex_a);
}
