//! Fuzz target bodies, for the workspace's fuzz crate (feature `fuzzing`). Each takes the
//! fuzzer's bytes and panics only when an invariant breaks.

use std::string::{String, ToString};
use std::sync::OnceLock;
use std::vec::Vec;

use crate::server::{Server, ServerConfig, Transport};
use crate::zone::{ParseOptions, Zone, parse_records};
use crate::{Class, Edns, Message, MessageBuilder, NameBuf, RecordType};

/// Zone text: parsing never panics; every record parsed displays as text that parses back
/// to the same record; a zone that passes the checks loads into a server, whose precompiled
/// answers equal its computed ones for every owner name.
pub fn zone_text(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let origin = NameBuf::from_dotted("example.").ok();
    let Ok(records) = parse_records(
        text,
        ParseOptions {
            origin,
            ..ParseOptions::default()
        },
    ) else {
        let _ = Zone::parse("example.", text);
        return;
    };
    let printed: String = records.iter().map(|r| r.to_string() + "\n").collect();
    let again = parse_records(&printed, ParseOptions::default())
        .unwrap_or_else(|e| panic!("printed zone does not parse: {e}\n{printed}"));
    assert_eq!(again, records, "round trip changed the records:\n{printed}");
    let Ok(zone) = Zone::parse("example.", text) else {
        return;
    };
    let owners: Vec<NameBuf> = zone
        .records()
        .iter()
        .map(|r| r.owner().to_name_buf())
        .collect();
    let types: Vec<RecordType> = zone.records().iter().map(|r| r.rtype()).collect();
    let mut server = Server::new(ServerConfig::default());
    if server.add_zone(zone).is_err() {
        return;
    }
    for (owner, t) in owners.iter().zip(types).take(64) {
        for qtype in [
            t,
            RecordType::A,
            RecordType::Any,
            RecordType::Unknown(65400),
        ] {
            for dnssec in [false, true] {
                let q = query(owner, qtype, Some(dnssec));
                check(&server, &q, Transport::Udp);
            }
        }
    }
}

/// One query (the fuzzer's bytes) to a server holding signed (NSEC, NSEC3) and unsigned
/// zones, over UDP and TCP: never a panic; any response is well-formed, echoes the ID,
/// respects the size limit, and equals the answer computed without templates.
pub fn engine_query(data: &[u8]) {
    let s = fuzz_server();
    check(s, data, Transport::Udp);
    check(s, data, Transport::Tcp);
}

fn fuzz_server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| {
        let mut s = Server::new(ServerConfig::default());
        for (origin, text) in [
            (
                "example.com",
                include_str!("../tests/data/example.com.signed"),
            ),
            (
                "example.net",
                include_str!("../tests/data/example.net.signed"),
            ),
        ] {
            if let Ok(z) = Zone::parse(origin, text) {
                let _ = s.add_zone(z);
            }
        }
        let plain =
            include_str!("../tests/data/example.com.zone").replace("example.com", "example.org");
        if let Ok(z) = Zone::parse("example.org", &plain) {
            let _ = s.add_zone(z);
        }
        s
    })
}

fn query(name: &NameBuf, qtype: RecordType, dnssec: Option<bool>) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let Ok(mut b) = MessageBuilder::new(&mut buf) else {
        return Vec::new();
    };
    let _ = b.push_question(name, qtype, Class::In);
    if let Some(d) = dnssec {
        let mut e = Edns::new(1232);
        e.dnssec_ok = d;
        let _ = b.set_edns(&e);
    }
    b.finish().to_vec()
}

fn check(s: &Server, q: &[u8], transport: Transport) {
    let mut a = std::vec![0u8; 65535];
    let mut b = std::vec![0u8; 65535];
    let ra = s.handle(q, transport, &mut a);
    let rb = s.handle_uncached(q, transport, &mut b);
    assert_eq!(ra, rb);
    let Ok(n) = ra else {
        return;
    };
    assert_eq!(
        a.get(..n),
        b.get(..n),
        "precompiled and computed answers differ"
    );
    let resp = a.get(..n).unwrap_or_default();
    let m = Message::new(resp).expect("a header");
    if let Err(e) = m.check() {
        panic!("malformed response: {e}: {}", m.to_string());
    }
    assert!(m.is_response());
    assert_eq!(resp.get(..2), q.get(..2));
    let limit = match (
        transport,
        Message::new(q).ok().and_then(|q| q.edns().ok().flatten()),
    ) {
        (Transport::Tcp, _) => 65535,
        (Transport::Udp, Some(e)) => usize::from(e.effective_udp_payload_size().min(1232)),
        (Transport::Udp, None) => 512,
    };
    assert!(
        n <= limit,
        "response of {n} bytes over the {limit}-byte limit"
    );
}
