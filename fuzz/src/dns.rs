//! Fuzz bodies for unistack-dns.

use unistack_dns::{Message, MessageBuilder, Name, NameBuf, Section, TcpDecoder};

/// A DNS message: walk every question and record (bounded by the counts), print it, and
/// rebuild a message that passes `check()` record by record; the copy must say the same.
pub fn dns_message(data: &[u8]) {
    let Ok(msg) = Message::new(data) else {
        return;
    };
    let counts: usize = [Section::Answer, Section::Authority, Section::Additional]
        .iter()
        .map(|&s| usize::from(msg.count(s)))
        .sum();
    let q = msg.questions().take(70_000).count();
    assert!(q <= usize::from(msg.count(Section::Question)) + 1);
    let mut n = 0;
    for r in msg.records().take(200_000) {
        n += 1;
        if let Ok(r) = r {
            let name = r.name();
            assert!(name.wire_len() <= 255);
            let _ = r.rdata();
        }
    }
    assert!(n <= counts + 1, "{n} records for counts {counts}");
    let _ = (msg.edns(), msg.extended_rcode(), msg.to_string());
    if msg.check().is_err() {
        return;
    }
    let mut buf = vec![0u8; 65535];
    let Ok(mut b) = MessageBuilder::<64>::with_table(&mut buf) else {
        return;
    };
    for q in msg.questions().flatten() {
        if b.push_question(&q.name(), q.qtype(), q.qclass()).is_err() {
            return;
        }
    }
    for r in msg.records().flatten() {
        if r.edns().is_ok() {
            continue; // OPT is rebuilt by set_edns, not copied
        }
        if b.push_record(r.section(), &r).is_err() {
            return;
        }
    }
    let out = b.finish();
    let copy = Message::new(out).expect("built message has a header");
    assert!(copy.check().is_ok(), "a rebuilt message does not check");
    // Same owners, types and RDATA (compared decompressed, in presentation form, ignoring ASCII
    // case: compression may point a name at an earlier one spelt in another case).
    let text =
        |r: &unistack_dns::Record<'_>| r.rdata().map(|d| d.to_string().to_ascii_lowercase()).ok();
    for (a, b) in msg
        .records()
        .flatten()
        .filter(|r| r.edns().is_err())
        .zip(copy.records().flatten())
    {
        assert!(a.name().eq_ignore_ascii_case(&b.name()), "owner differs");
        assert_eq!(a.rtype(), b.rtype());
        assert_eq!(text(&a), text(&b), "RDATA differs after a copy");
    }
    // Questions are copied byte for byte.
    for (a, b) in msg.questions().flatten().zip(copy.questions().flatten()) {
        assert_eq!(
            a.name().to_string(),
            b.name().to_string(),
            "question case differs"
        );
    }
}

/// A name at every offset: bounded, consistent, and its presentation form reads back.
pub fn dns_name(data: &[u8]) {
    for off in 0..data.len().min(64) {
        let Ok((name, end)) = Name::parse(data, off) else {
            continue;
        };
        assert!(end <= data.len() && end > off);
        assert!(name.wire_len() <= 255);
        assert_eq!(name.labels().count(), name.label_count());
        let text = name.to_string();
        let back = NameBuf::from_dotted(&text).expect("our presentation form parses");
        assert!(back.as_name().eq_ignore_ascii_case(&name), "{text}");
    }
}

/// TCP framing: the input cut into chunks (sizes from the input itself) through a small
/// decoder; the messages that come out are exactly the frames a plain reading of the stream
/// finds, in order, minus those too large for the buffer (reported as errors).
pub fn dns_tcp(data: &[u8]) {
    // The reference: 2-byte length, then that many bytes. A frame that cannot fit the 600-byte
    // buffer (prefix included) is reported as soon as its prefix is seen, and skipped.
    const CAP: usize = 600;
    let mut fitting: Vec<&[u8]> = Vec::new();
    let mut oversized = 0;
    let mut r = data;
    while let Some((len, rest)) = r.split_first_chunk::<2>() {
        let len = usize::from(u16::from_be_bytes(*len));
        if len + 2 > CAP {
            oversized += 1;
        } else if let Some(frame) = rest.get(..len) {
            fitting.push(frame);
        } else {
            break;
        }
        r = rest.get(len..).unwrap_or_default();
    }
    let mut storage = [0u8; CAP];
    let mut dec = TcpDecoder::new(&mut storage);
    let mut got: Vec<Vec<u8>> = Vec::new();
    let mut errors = 0;
    let mut rest = data;
    while let Some(&first) = rest.first() {
        let step = usize::from(first % 64) + 1;
        let (chunk, tail) = rest.split_at(step.min(rest.len()));
        let mut left = chunk;
        while !left.is_empty() {
            let fed = dec.feed(left);
            left = left.get(fed..).unwrap_or_default();
            let mut drained = false;
            while let Some(m) = dec.next_message() {
                drained = true;
                match m {
                    Ok(m) => got.push(m.to_vec()),
                    Err(_) => errors += 1,
                }
            }
            assert!(
                fed > 0 || drained,
                "the decoder took nothing and gave nothing"
            );
        }
        rest = tail;
    }
    // Every frame came out once: as itself, or as an error when it was too large.
    assert_eq!(errors, oversized, "oversized frames reported wrongly");
    assert_eq!(got.len(), fitting.len(), "frames lost or duplicated");
    for (g, f) in got.iter().zip(&fitting) {
        assert_eq!(&g[..], *f, "a message differs from its frame");
    }
}
