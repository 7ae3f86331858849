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
    let same = msg
        .records()
        .flatten()
        .filter(|r| r.edns().is_err())
        .zip(copy.records().flatten())
        .all(|(a, b)| a.name().eq_ignore_ascii_case(&b.name()) && a.rtype() == b.rtype());
    assert!(same, "the rebuilt records differ");
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
/// decoder; every message out is exactly one framed in.
pub fn dns_tcp(data: &[u8]) {
    let mut storage = [0u8; 600];
    let mut dec = TcpDecoder::new(&mut storage);
    let mut rest = data;
    let mut guard = 0;
    while !rest.is_empty() && guard < 10_000 {
        guard += 1;
        let step = usize::from(rest[0] % 64) + 1;
        let (chunk, tail) = rest.split_at(step.min(rest.len()));
        let mut left = chunk;
        while !left.is_empty() {
            let fed = dec.feed(left);
            left = left.get(fed..).unwrap_or_default();
            let mut drained = false;
            while let Some(m) = dec.next_message() {
                drained = true;
                if let Ok(m) = m {
                    assert!(m.len() <= 600);
                }
            }
            if fed == 0 && !drained {
                break; // no progress: the decoder is stuck on an oversized frame it skips
            }
        }
        rest = tail;
    }
}
