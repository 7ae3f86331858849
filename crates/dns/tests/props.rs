//! Property tests: build → parse round-trips for every RDATA type, truncation keeps messages
//! valid, presentation format round-trips, and arbitrary bytes never panic.

mod common;

use common::strategies::{any_name, bytes, name, recs, same};
use proptest::prelude::*;
use unistack_dns::{
    BuildError, Class, Edns, EdnsOption, EdnsOptions, Error, Message, MessageBuilder, Name,
    NameBuf, OptionCode, RData, RecordType, Section, TcpDecoder, tcp,
};

/// Every name the question and record iterators give (they remember the last name written
/// without pointers and finish a pointer to it in one step) is the name a standalone parse at
/// the same offset gives, and an error met there is the standalone parse's error.
fn iterators_agree_with_standalone_names(data: &[u8]) -> Result<(), TestCaseError> {
    let Ok(m) = Message::new(data) else {
        return Ok(());
    };
    let same_name = |a: Name<'_>, b: Name<'_>| {
        a.wire_len() == b.wire_len()
            && a.label_count() == b.label_count()
            && a.labels().eq(b.labels())
    };
    let mut questions = m.questions();
    let mut pos = 12;
    for q in &mut questions {
        let standalone = Name::parse(data, pos);
        match q {
            Ok(q) => {
                prop_assert!(same_name(q.name(), standalone.unwrap().0));
                pos = q.range().end;
            }
            Err(e) if pos >= data.len() => prop_assert_eq!(e, Error::CountMismatch),
            Err(e) => {
                if let Err(s) = standalone {
                    prop_assert_eq!(e, s);
                }
                return Ok(());
            }
        }
    }
    for r in questions.records() {
        let standalone = Name::parse(data, pos);
        match r {
            Ok(r) => {
                prop_assert_eq!(r.range().start, pos);
                prop_assert!(same_name(r.name(), standalone.unwrap().0));
                pos = r.range().end;
            }
            Err(e) if pos >= data.len() => prop_assert_eq!(e, Error::CountMismatch),
            Err(e) => {
                if let Err(s) = standalone {
                    prop_assert_eq!(e, s);
                }
                break;
            }
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn build_then_parse_gives_back_every_record(qname in name(), records in recs()) {
        let mut buf = vec![0u8; 65535];
        let mut b = MessageBuilder::new(&mut buf).unwrap();
        b.push_question(&qname, RecordType::Any, Class::In).unwrap();
        for r in &records {
            b.push(r.section, &r.name, r.class, r.ttl, &r.data.rdata()).unwrap();
        }
        let out = b.finish();
        let m = Message::new(out).unwrap();
        prop_assert_eq!(m.check(), Ok(()));
        let q = m.questions().next().unwrap().unwrap();
        prop_assert_eq!(q.name(), qname.as_name());
        // The question is written first and never compressed: its case is exact.
        let exact = q.name().to_name_buf();
        prop_assert_eq!(exact.as_wire(), qname.as_wire());
        let parsed: Vec<_> = m.records().collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(parsed.len(), records.len());
        for (p, r) in parsed.iter().zip(&records) {
            same(p, r)?;
        }
        // Printing and re-pushing parsed records works too.
        let _ = m.to_string();
        let mut buf2 = vec![0u8; 65535];
        let mut b2 = MessageBuilder::new(&mut buf2).unwrap();
        for p in &parsed {
            b2.push_record(p.section(), p).unwrap();
        }
        let m2 = Message::new(b2.finish()).unwrap();
        prop_assert_eq!(m2.check(), Ok(()));
    }

    #[test]
    fn truncation_keeps_the_message_valid(
        records in recs(),
        limit in 12usize..600,
        edns in any::<bool>(),
    ) {
        let mut buf = vec![0u8; 4096];
        let mut b = MessageBuilder::new(&mut buf).unwrap();
        prop_assert_eq!(b.set_limit(limit), Ok(()));
        let with_edns = edns && b.set_edns(&Edns::new(1232)).is_ok();
        let mut pushed = 0;
        let mut tc_expected = false;
        for r in &records {
            match b.push(r.section, &r.name, r.class, r.ttl, &r.data.rdata()) {
                Ok(()) => pushed += 1,
                Err(BuildError::NoSpace) => {
                    tc_expected = r.section != Section::Additional;
                    break;
                }
                Err(e) => prop_assert!(false, "{e}"),
            }
        }
        let out = b.finish();
        prop_assert!(out.len() <= limit);
        let m = Message::new(out).unwrap();
        prop_assert_eq!(m.check(), Ok(()));
        prop_assert_eq!(m.header().tc(), tc_expected);
        prop_assert_eq!(m.edns().unwrap().is_some(), with_edns);
        let parsed: Vec<_> = m
            .records()
            .map(Result::unwrap)
            .filter(|r| r.rtype() != RecordType::Opt)
            .collect();
        prop_assert_eq!(parsed.len(), pushed);
        for (p, r) in parsed.iter().zip(&records) {
            same(p, r)?;
        }
    }

    #[test]
    fn presentation_format_round_trips(n in any_name()) {
        let text = n.to_string();
        let back = NameBuf::from_dotted(&text).unwrap();
        // Exact, case and escapes included.
        prop_assert_eq!(back.as_wire(), n.as_wire());
        prop_assert!(n.as_name().eq_str(&text));
    }

    #[test]
    fn edns_options_round_trip(
        size in any::<u16>(),
        version in any::<u8>(),
        dnssec_ok in any::<bool>(),
        options in prop::collection::vec((any::<u16>(), bytes(40)), 0..5),
    ) {
        let opts: Vec<EdnsOption<'_>> = options
            .iter()
            .map(|(c, d)| EdnsOption { code: OptionCode::from_raw(*c), data: d })
            .collect();
        let mut obuf = vec![0u8; 512];
        let options = EdnsOptions::encode(&opts, &mut obuf).unwrap();
        let edns = Edns { udp_payload_size: size, version, dnssec_ok, options, ..Edns::new(0) };
        let mut buf = vec![0u8; 1024];
        let mut b = MessageBuilder::new(&mut buf).unwrap();
        b.set_edns(&edns).unwrap();
        let m = Message::new(b.finish()).unwrap();
        prop_assert_eq!(m.check(), Ok(()));
        let got = m.edns().unwrap().unwrap();
        prop_assert_eq!(got, edns);
        let back: Vec<_> = got.options.iter().collect();
        prop_assert_eq!(back, opts);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..600)) {
        iterators_agree_with_standalone_names(&data)?;
        if let Ok(m) = Message::new(&data) {
            let _ = m.check();
            let _ = m.edns();
            let _ = m.to_string();
            let questions = m.questions().count();
            prop_assert!(questions <= usize::from(m.header().qdcount()));
            let total: usize = [Section::Answer, Section::Authority, Section::Additional]
                .iter()
                .map(|&s| usize::from(m.count(s)))
                .sum();
            let mut n = 0;
            for r in m.records() {
                n += 1;
                if let Ok(r) = r {
                    let _ = r.rdata().map(|d| d.to_string());
                    let _ = r.to_string();
                }
            }
            prop_assert!(n <= total + 1);
        }
        // Names at every offset, and RDATA of every known type over the bytes.
        for at in 0..data.len().min(64) {
            if let Ok((name, end)) = Name::parse(&data, at) {
                prop_assert!(end > at && end <= data.len());
                let len: usize = name.labels().map(|l| l.len() + 1).sum::<usize>() + 1;
                prop_assert_eq!(len, name.wire_len());
                prop_assert!(len <= 255);
                prop_assert_eq!(name.labels().count(), name.label_count());
            }
        }
        for t in RecordType::KNOWN {
            let _ = RData::parse(&data, *t, Class::In, 0, data.len()).map(|d| d.to_string());
        }
    }

    #[test]
    fn mutated_fixtures_never_panic_and_what_checks_rebuilds(
        which in 0usize..common::every().count(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut data = common::every().nth(which).unwrap().response();
        for (i, v) in &edits {
            let at = i.index(data.len());
            data[at] = *v;
        }
        iterators_agree_with_standalone_names(&data)?;
        let Ok(m) = Message::new(&data) else { return Ok(()) };
        let _ = m.to_string();
        if m.check().is_ok() {
            let mut buf = vec![0u8; 65535];
            let mut b = MessageBuilder::new(&mut buf).unwrap();
            b.header_mut().encode(&m.header().decode());
            for q in m.questions() {
                let q = q.unwrap();
                b.push_question(&q.name(), q.qtype(), q.qclass()).unwrap();
            }
            for r in m.records() {
                let r = r.unwrap();
                b.push_record(r.section(), &r).unwrap();
            }
            let again = Message::new(b.finish()).unwrap();
            prop_assert_eq!(again.check(), Ok(()));
            prop_assert_eq!(
                again.to_string().to_ascii_lowercase(),
                m.to_string().to_ascii_lowercase()
            );
        }
    }

    #[test]
    fn tcp_stream_reassembles(
        messages in prop::collection::vec(bytes(300), 0..6),
        chunk in 1usize..64,
    ) {
        let mut stream = Vec::new();
        for m in &messages {
            let mut frame = vec![0u8; m.len() + 2];
            let n = tcp::encode_frame(m, &mut frame).unwrap();
            stream.extend_from_slice(&frame[..n]);
        }
        let mut storage = vec![0u8; 302];
        let mut dec = TcpDecoder::new(&mut storage);
        let mut got = Vec::new();
        for mut piece in stream.chunks(chunk) {
            // Each turn takes bytes or a message out; bounded by the stream's length.
            for _ in 0..2 * stream.len() + 2 {
                if piece.is_empty() {
                    break;
                }
                let n = dec.feed(piece);
                piece = &piece[n..];
                while let Some(m) = dec.next_message() {
                    got.push(m.unwrap().to_vec());
                }
            }
        }
        prop_assert_eq!(got, messages);
    }
}
