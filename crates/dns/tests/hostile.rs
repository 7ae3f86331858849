//! Hostile messages: each malformation is a typed error, never a panic or an endless loop.

use unistack_dns::{Error, Message, RecordType};

/// A header with these counts, followed by `body`.
fn msg(counts: [u16; 4], body: &[u8]) -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x81, 0x80];
    for c in counts {
        m.extend_from_slice(&c.to_be_bytes());
    }
    m.extend_from_slice(body);
    m
}

/// The question `example.com. IN A`, 17 bytes at offset 12.
const Q: &[u8] = b"\x07example\x03com\x00\x00\x01\x00\x01";

/// A record's fixed part: type, class IN, TTL 60, RDLENGTH.
fn fixed(rtype: u16, rdlength: u16) -> Vec<u8> {
    let mut v = rtype.to_be_bytes().to_vec();
    v.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
    v.extend_from_slice(&rdlength.to_be_bytes());
    v
}

fn first_answer_error(m: &[u8]) -> Error {
    let m = Message::new(m).unwrap();
    let e = m.answers().next().unwrap().unwrap_err();
    assert_eq!(m.check(), Err(e));
    e
}

#[test]
fn compression_loop() {
    // Answer owner at 29: pointer to 31, which points back to 29.
    let mut body = Q.to_vec();
    body.extend_from_slice(&[0xc0, 31, 0xc0, 29]);
    assert_eq!(
        first_answer_error(&msg([1, 1, 0, 0], &body)),
        Error::BadPointer
    );
    // A two-name loop through labels: "a" -> ptr 33, "b" at 33 -> ptr 29.
    let mut body = Q.to_vec();
    body.extend_from_slice(&[1, b'a', 0xc0, 33, 1, b'b', 0xc0, 29]);
    assert_eq!(
        first_answer_error(&msg([1, 1, 0, 0], &body)),
        Error::BadPointer
    );
}

#[test]
fn forward_pointer_and_pointer_to_itself() {
    let mut body = Q.to_vec();
    body.extend_from_slice(&[0xc0, 40]);
    body.extend_from_slice(&fixed(1, 4));
    body.extend_from_slice(&[0; 4]);
    assert_eq!(
        first_answer_error(&msg([1, 1, 0, 0], &body)),
        Error::BadPointer
    );
    let mut body = Q.to_vec();
    body.extend_from_slice(&[0xc0, 29]);
    assert_eq!(
        first_answer_error(&msg([1, 1, 0, 0], &body)),
        Error::BadPointer
    );
    // A question whose name points into itself.
    let m = msg([1, 0, 0, 0], &[0xc0, 12, 0, 1, 0, 1]);
    let m = Message::new(&m).unwrap();
    assert_eq!(m.questions().next().unwrap(), Err(Error::BadPointer));
}

#[test]
fn pointer_into_the_middle_of_a_label_is_bounded() {
    // Pointers strictly backwards may still land anywhere: into a label's bytes. Whatever
    // those bytes say is validated like any other name.
    let mut body = Q.to_vec();
    body.extend_from_slice(&[0xc0, 14]); // "xample..." read as labels: 'x' = 0x78 is a bad type
    body.extend_from_slice(&fixed(1, 4));
    body.extend_from_slice(&[0; 4]);
    assert_eq!(
        first_answer_error(&msg([1, 1, 0, 0], &body)),
        Error::BadLabelType
    );
}

#[test]
fn labels_over_63() {
    // 0x40 and 0x80 are the reserved label types: on the wire, a "64-octet label".
    for len in [0x40u8, 0x7f, 0x80, 0xbf] {
        let mut body = vec![len];
        body.extend_from_slice(&[b'a'; 64]);
        let m = msg([1, 0, 0, 0], &body);
        let m = Message::new(&m).unwrap();
        assert_eq!(m.questions().next().unwrap(), Err(Error::BadLabelType));
    }
}

#[test]
fn names_over_255() {
    // In place: five 63-octet labels.
    let mut long = Vec::new();
    for _ in 0..5 {
        long.push(63);
        long.extend_from_slice(&[b'a'; 63]);
    }
    long.push(0);
    let m = msg([1, 0, 0, 0], &long);
    assert_eq!(Message::new(&m).unwrap().check(), Err(Error::NameTooLong));
    // Through pointers: each answer owner adds 63 octets in front of the previous owner.
    // The question is example.com. (13); +63 x 3 = 202; the fourth would be 265.
    let mut body = Q.to_vec();
    let mut prev = 12u8;
    for _ in 0..4 {
        let here = 12 + body.len();
        body.push(63);
        body.extend_from_slice(&[b'b'; 63]);
        body.extend_from_slice(&[0xc0, prev]);
        body.extend_from_slice(&fixed(1, 4));
        body.extend_from_slice(&[192, 0, 2, 1]);
        // Records are 80 bytes: at 29, 109, 189, 269; every target fits one byte.
        prev = here as u8;
    }
    let m = msg([1, 4, 0, 0], &body);
    let m = Message::new(&m).unwrap();
    let results: Vec<_> = m.answers().collect();
    assert_eq!(results.len(), 4);
    assert!(results[..3].iter().all(Result::is_ok));
    assert_eq!(results[2].as_ref().unwrap().name().wire_len(), 13 + 3 * 64);
    assert_eq!(results[3].as_ref().unwrap_err(), &Error::NameTooLong);

    // A pointer to the question (a name the records iterator remembers) behind labels of
    // these lengths, in one A record.
    let behind = |lengths: [u8; 4]| {
        let mut body = Q.to_vec();
        for l in lengths {
            body.push(l);
            body.extend(core::iter::repeat_n(b'c', usize::from(l)));
        }
        body.extend_from_slice(&[0xc0, 12]);
        body.extend_from_slice(&fixed(1, 4));
        body.extend_from_slice(&[192, 0, 2, 1]);
        msg([1, 1, 0, 0], &body)
    };
    // 243 octets of labels + 13 = 256: too long, whether or not the remembered name is used.
    assert_eq!(
        first_answer_error(&behind([63, 63, 63, 50])),
        Error::NameTooLong
    );
    // One octet shorter fits exactly: 255.
    let m = behind([63, 63, 63, 49]);
    let m = Message::new(&m).unwrap();
    assert_eq!(m.check(), Ok(()));
    let owner = m.answers().next().unwrap().unwrap().name();
    assert_eq!((owner.wire_len(), owner.label_count()), (255, 6));
}

#[test]
fn counts_larger_than_the_message() {
    // 65535 of everything and nothing behind the question.
    let m = msg([1, 0xffff, 0xffff, 0xffff], Q);
    let m = Message::new(&m).unwrap();
    let mut it = m.records();
    assert_eq!(it.next().unwrap().unwrap_err(), Error::CountMismatch);
    assert!(it.next().is_none());
    assert_eq!(m.check(), Err(Error::CountMismatch));
    // 65535 questions, one present.
    let m = msg([0xffff, 0, 0, 0], Q);
    let m = Message::new(&m).unwrap();
    let results: Vec<_> = m.questions().collect();
    assert_eq!(results.len(), 2);
    assert_eq!(results[1], Err(Error::CountMismatch));
    assert_eq!(
        m.answers().next().unwrap().unwrap_err(),
        Error::CountMismatch
    );
}

#[test]
fn rdata_past_the_end_and_truncated_rdata() {
    // RDLENGTH 100 with 4 bytes present.
    let mut body = Q.to_vec();
    body.extend_from_slice(&[0xc0, 12]);
    body.extend_from_slice(&fixed(1, 100));
    body.extend_from_slice(&[192, 0, 2, 1]);
    assert_eq!(
        first_answer_error(&msg([1, 1, 0, 0], &body)),
        Error::BadRdLength
    );
    // An A record with 3 bytes of RDATA: the record iterates, its RDATA does not parse.
    let mut body = Q.to_vec();
    body.extend_from_slice(&[0xc0, 12]);
    body.extend_from_slice(&fixed(1, 3));
    body.extend_from_slice(&[192, 0, 2]);
    let m = msg([1, 1, 0, 0], &body);
    let m = Message::new(&m).unwrap();
    let r = m.answers().next().unwrap().unwrap();
    assert_eq!(r.rdata(), Err(Error::BadRdata));
    assert_eq!(m.check(), Err(Error::BadRdata));
    assert!(r.to_string().ends_with("\\# 3 C00002 ; malformed RDATA"));
    // SOA whose fixed part is cut short inside its RDLENGTH.
    let mut body = Q.to_vec();
    body.extend_from_slice(&[0xc0, 12]);
    body.extend_from_slice(&fixed(6, 8));
    body.extend_from_slice(&[0xc0, 12, 0xc0, 12, 0, 0, 0, 1]);
    assert_eq!(
        Message::new(&msg([1, 1, 0, 0], &body)).unwrap().check(),
        Err(Error::BadRdata)
    );
    // The fixed part of a record cut short.
    let mut body = Q.to_vec();
    body.extend_from_slice(&[0xc0, 12, 0, 1, 0]);
    assert_eq!(
        first_answer_error(&msg([1, 1, 0, 0], &body)),
        Error::Truncated
    );
}

#[test]
fn compressed_names_where_forbidden() {
    // SRV target as a pointer.
    let mut body = Q.to_vec();
    body.extend_from_slice(&[0xc0, 12]);
    body.extend_from_slice(&fixed(33, 8));
    body.extend_from_slice(&[0, 1, 0, 1, 0, 53, 0xc0, 12]);
    let m = msg([1, 1, 0, 0], &body);
    let m = Message::new(&m).unwrap();
    let r = m.answers().next().unwrap().unwrap();
    assert_eq!(r.rtype(), RecordType::Srv);
    assert_eq!(r.rdata(), Err(Error::CompressedName));
    // NSEC next name as a pointer.
    let mut body = Q.to_vec();
    body.extend_from_slice(&[0xc0, 12]);
    body.extend_from_slice(&fixed(47, 5));
    body.extend_from_slice(&[0xc0, 12, 0, 1, 0x40]);
    let m = msg([1, 1, 0, 0], &body);
    assert_eq!(
        Message::new(&m).unwrap().check(),
        Err(Error::CompressedName)
    );
}

/// An OPT record: root owner, type 41, payload size 1232, no options.
const OPT: &[u8] = &[0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0];

#[test]
fn opt_outside_the_additional_section() {
    let mut body = Q.to_vec();
    body.extend_from_slice(OPT);
    let m = msg([1, 1, 0, 0], &body);
    let m = Message::new(&m).unwrap();
    // Iteration itself is fine: the record is a record.
    assert!(m.answers().next().unwrap().is_ok());
    assert_eq!(m.check(), Err(Error::MisplacedOpt));
    assert_eq!(m.edns(), Err(Error::MisplacedOpt));
    let m2 = msg([1, 0, 1, 0], &body);
    assert_eq!(Message::new(&m2).unwrap().check(), Err(Error::MisplacedOpt));
}

#[test]
fn duplicate_and_malformed_opt() {
    let mut body = Q.to_vec();
    body.extend_from_slice(OPT);
    body.extend_from_slice(OPT);
    let m = msg([1, 0, 0, 2], &body);
    let m = Message::new(&m).unwrap();
    assert_eq!(m.check(), Err(Error::DuplicateOpt));
    assert_eq!(m.edns(), Err(Error::DuplicateOpt));
    // Non-root owner.
    let mut body = Q.to_vec();
    body.extend_from_slice(&[0xc0, 12]);
    body.extend_from_slice(&OPT[1..]);
    let m = msg([1, 0, 0, 1], &body);
    assert_eq!(Message::new(&m).unwrap().edns(), Err(Error::BadOpt));
    // An option running past the RDATA.
    let mut body = Q.to_vec();
    body.extend_from_slice(&[0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 6, 0, 10, 0, 8, 1, 2]);
    let m = msg([1, 0, 0, 1], &body);
    let m = Message::new(&m).unwrap();
    assert_eq!(m.edns(), Err(Error::BadOpt));
    assert_eq!(m.check(), Err(Error::BadOpt));
    // A cookie of a bad length parses as an option but not as a cookie.
    let mut body = Q.to_vec();
    body.extend_from_slice(&[0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 7, 0, 10, 0, 3, 1, 2, 3]);
    let m = msg([1, 0, 0, 1], &body);
    let m = Message::new(&m).unwrap();
    m.check().unwrap();
    assert_eq!(
        m.edns().unwrap().unwrap().options.cookie(),
        Err(Error::BadRdata)
    );
}

#[test]
fn trailing_bytes_and_short_headers() {
    let mut body = Q.to_vec();
    body.push(0);
    let m = msg([1, 0, 0, 0], &body);
    let m = Message::new(&m).unwrap();
    assert_eq!(m.questions().count(), 1);
    assert_eq!(m.check(), Err(Error::TrailingData));
    for len in 0..12 {
        assert_eq!(Message::new(&[0; 12][..len]), Err(Error::Truncated));
    }
    Message::new(&[0; 12]).unwrap().check().unwrap();
}

#[test]
fn pointer_chains_at_most_127_hops() {
    // A chain of pointer-to-pointer hops, each strictly backwards, ending in a root label at
    // offset 12 of the buffer.
    let mut m = msg([0, 0, 0, 0], &[0]);
    for _ in 0..130 {
        let prev = m.len() - if m.len() == 13 { 1 } else { 2 };
        m.extend_from_slice(&[0xc0 | (prev >> 8) as u8, prev as u8]);
    }
    // From the 127th pointer: 127 hops, fine. From the 128th: too many.
    let at = |i: usize| 13 + 2 * (i - 1);
    let (name, _) = unistack_dns::Name::parse(&m, at(127)).unwrap();
    assert!(name.is_root());
    assert_eq!(
        unistack_dns::Name::parse(&m, at(128)).unwrap_err(),
        Error::TooManyPointers
    );
}
