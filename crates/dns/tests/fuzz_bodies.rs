//! The fuzz bodies of `unistack_dns::fuzzing` on seeds and random input, so that they are
//! known to pass before a fuzzer runs them.
#![cfg(feature = "fuzzing")]

use proptest::prelude::*;
use unistack_dns::fuzzing::{engine_query, resolver_responses, zone_text};

#[test]
fn seeds() {
    for f in [
        "example.com.zone",
        "example.com.signed",
        "example.net.signed",
        "zone.example.com",
    ] {
        let text = std::fs::read(format!("{}/tests/data/{f}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        zone_text(&text);
    }
    // `dig www.example.com A` with EDNS and a cookie, as captured from dig.
    let q = b"\xb5\x74\x01\x20\x00\x01\x00\x00\x00\x00\x00\x01\x03www\x07example\x03com\x00\x00\x01\x00\x01\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x0c\x00\x0a\x00\x08\x60\x59\xc0\x7d\x9b\x12\x74\x75";
    engine_query(q);
    // Real answers for each transmission, then time running out.
    resolver_responses(&[0, 1, 0, 5, 0, 9, 0, 0, 255]);
    resolver_responses(&[1, 1, 0, 5, 0, 9, 0, 0, 255]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn random(data in prop::collection::vec(any::<u8>(), 0..300)) {
        engine_query(&data);
        zone_text(&data);
        resolver_responses(&data);
    }

    #[test]
    fn random_zone_lines(lines in prop::collection::vec("[a-c*@]{1,3} [0-9]{1,3} (A 192\\.0\\.2\\.[0-9]|TXT \"[a-z;]*\"|CNAME [a-c]|NS [a-c]|MX 1 [a-c]|SOA a b 1 2 3 4 5)", 0..12)) {
        let mut text = String::from("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n");
        for l in lines {
            text.push_str(&l);
            text.push('\n');
        }
        zone_text(text.as_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// Scripts made of real answers and mutated headers, to reach past the ID checks.
    #[test]
    fn resolver_scripts(steps in prop::collection::vec((0u8..32, any::<u8>(), prop::collection::vec(any::<u8>(), 0..40)), 0..12), case in any::<bool>()) {
        let mut data = vec![u8::from(case)];
        for (op, len, bytes) in steps {
            data.push(op);
            data.push(if op & 3 == 2 { bytes.len() as u8 } else { len });
            data.extend_from_slice(&bytes);
        }
        resolver_responses(&data);
    }
}
