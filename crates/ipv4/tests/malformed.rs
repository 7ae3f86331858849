//! Malformed input: every truncation, bad lengths and versions, bad checksums (every single-bit
//! flip), options running past the header, bad fragment fields, and arbitrary bytes through
//! every parser and printer. Each is a typed error, never a panic.

mod common;

use common::*;
use proptest::prelude::*;
use unistack_ipv4::*;

fn caps() -> ChecksumCaps {
    ChecksumCaps::default()
}

/// Parse a datagram through every layer this crate knows; print it too.
fn full_parse(bytes: &[u8]) -> Result<(), Error> {
    let _ = Ipv4Packet::new_unchecked(bytes).to_string();
    let ip = Ipv4Packet::new_checked(bytes)?;
    let r = Ipv4Repr::parse(&ip, &caps())?;
    let _ = ip.to_string();
    let _ = r.to_string();
    match r.protocol {
        Protocol::Udp => {
            let udp = UdpPacket::new_checked(ip.payload())?;
            let u = UdpRepr::parse(&udp, r.src_addr, r.dst_addr, &caps())?;
            let _ = (u.to_string(), udp.to_string());
        }
        Protocol::Icmp => {
            let icmp = Icmpv4Packet::new_checked(ip.payload())?;
            let m = Icmpv4Repr::parse(&icmp, &caps())?;
            let _ = m.to_string();
        }
        _ => {}
    }
    Ok(())
}

const ALL: [&[u8]; 5] = [
    &PING_REQUEST,
    &PING_REPLY,
    &DNS_QUERY,
    &PORT_UNREACHABLE,
    &TIME_EXCEEDED,
];

#[test]
fn fixtures_parse_whole() {
    for f in ALL {
        full_parse(f).unwrap();
    }
}

#[test]
fn every_truncation_is_a_typed_error() {
    for f in ALL {
        for len in 0..f.len() {
            let e = full_parse(&f[..len]).unwrap_err();
            let needed = if len < 20 { 20 } else { f.len() };
            assert_eq!(e, Error::Truncated { needed, got: len }, "len {len}");
        }
    }
    // Truncated transport layers inside a consistent IP header.
    for len in 0..8 {
        let u = UdpPacket::new_checked(&DNS_QUERY[20..20 + len]);
        assert_eq!(
            u.map_err(Error::from).unwrap_err(),
            Error::Truncated {
                needed: 8,
                got: len
            }
        );
        let i = Icmpv4Packet::new_checked(&PING_REQUEST[20..20 + len]);
        assert_eq!(
            i.map_err(Error::from).unwrap_err(),
            Error::Truncated {
                needed: 8,
                got: len
            }
        );
    }
}

#[test]
fn trailing_link_padding_is_ignored() {
    for f in ALL {
        let mut padded = f.to_vec();
        padded.extend_from_slice(&[0u8; 18]);
        full_parse(&padded).unwrap();
        let ip = Ipv4Packet::new_checked(&padded[..]).unwrap();
        assert_eq!(ip.payload().len(), f.len() - 20);
    }
}

/// Recompute the IP header checksum after editing a header.
fn refill(b: &mut [u8]) {
    let mut p = Ipv4Packet::new_unchecked(&mut b[..]);
    p.fill_checksum();
}

#[test]
fn bad_version_ihl_and_lengths() {
    let mut b = DNS_QUERY;
    b[0] = 0x65;
    refill(&mut b);
    assert_eq!(full_parse(&b), Err(Error::BadVersion(6)));
    for ihl in 0..5u8 {
        b[0] = 0x40 | ihl;
        assert_eq!(
            full_parse(&b),
            Err(Error::BadHeaderLen {
                header_len: usize::from(ihl) * 4
            })
        );
    }
    // IHL 15: a 60-byte header in a 57-byte datagram.
    b[0] = 0x4f;
    assert_eq!(full_parse(&b), Err(Error::BadLength { len: 57, min: 60 }));
    // Total length below the header, above the buffer.
    let mut b = DNS_QUERY;
    b[3] = 19;
    assert_eq!(full_parse(&b), Err(Error::BadLength { len: 19, min: 20 }));
    b[3] = 58;
    assert_eq!(
        full_parse(&b),
        Err(Error::Truncated {
            needed: 58,
            got: 57
        })
    );
    // UDP length below 8, above the IP payload; a UDP length shorter than the IP payload
    // leaves the rest as trailing bytes.
    let mut b = DNS_QUERY;
    b[25] = 7;
    assert_eq!(full_parse(&b), Err(Error::BadLength { len: 7, min: 8 }));
    b[25] = 38;
    assert_eq!(
        full_parse(&b),
        Err(Error::Truncated {
            needed: 38,
            got: 37
        })
    );
    let udp = UdpPacket::new_checked(&DNS_QUERY[20..]).unwrap();
    let mut longer = DNS_QUERY.to_vec();
    longer.extend_from_slice(&[1, 2, 3]);
    longer[3] += 3;
    refill(&mut longer);
    let ip = Ipv4Packet::new_checked(&longer[..]).unwrap();
    let u2 = UdpPacket::new_checked(ip.payload()).unwrap();
    assert_eq!(u2.payload(), udp.payload());
    full_parse(&longer).unwrap();
}

#[test]
fn every_single_bit_flip_is_caught() {
    for f in ALL {
        for bit in 0..f.len() * 8 {
            let mut b = f.to_vec();
            b[bit / 8] ^= 1 << (bit % 8);
            assert!(full_parse(&b).is_err(), "bit {bit} of {:02x?}", &f[..4]);
        }
    }
}

#[test]
fn checksum_errors_are_typed_and_can_be_skipped() {
    let mut b = PING_REQUEST;
    b[11] ^= 0xff;
    assert_eq!(full_parse(&b), Err(Error::BadChecksum));
    let ip = Ipv4Packet::new_checked(&b[..]).unwrap();
    let rx_off = ChecksumCaps {
        ipv4: Checksum::Tx,
        ..Default::default()
    };
    assert!(Ipv4Repr::parse(&ip, &rx_off).is_ok());
    let mut b = PING_REQUEST;
    b[40] ^= 1;
    let icmp = Icmpv4Packet::new_checked(&b[20..]).unwrap();
    assert_eq!(Icmpv4Repr::parse(&icmp, &caps()), Err(Error::BadChecksum));
    assert!(Icmpv4Repr::parse(&icmp, &ChecksumCaps::ignored()).is_ok());
    let mut b = DNS_QUERY;
    b[40] ^= 1;
    let udp = UdpPacket::new_checked(&b[20..]).unwrap();
    let (s, d) = (
        Ipv4Address::new(192, 0, 2, 1),
        Ipv4Address::new(192, 0, 2, 2),
    );
    assert_eq!(UdpRepr::parse(&udp, s, d, &caps()), Err(Error::BadChecksum));
    // A zero UDP checksum means "not computed": accepted whatever the data.
    b[26] = 0;
    b[27] = 0;
    let udp = UdpPacket::new_checked(&b[20..]).unwrap();
    assert!(UdpRepr::parse(&udp, s, d, &caps()).is_ok());
}

/// DNS_QUERY with an options area of 4 or 8 bytes spliced in, lengths and checksum fixed.
fn with_options(opts: &[u8]) -> Vec<u8> {
    let mut v = DNS_QUERY[..20].to_vec();
    v.extend_from_slice(opts);
    v.extend_from_slice(&DNS_QUERY[20..]);
    v[0] = 0x40 | ((20 + opts.len()) / 4) as u8;
    v[3] += opts.len() as u8;
    refill(&mut v);
    v
}

#[test]
fn options_running_past_the_header_are_typed_errors() {
    assert!(full_parse(&with_options(&[1, 1, 1, 0])).is_ok());
    assert!(full_parse(&with_options(&[0x94, 4, 0, 0])).is_ok());
    assert_eq!(
        full_parse(&with_options(&[0x07, 0x09, 4, 0])),
        Err(Error::BadOption { offset: 0 })
    );
    assert_eq!(
        full_parse(&with_options(&[1, 0x44, 0x08, 5, 0, 0, 0, 0])),
        Err(Error::BadOption { offset: 1 })
    );
    assert_eq!(
        full_parse(&with_options(&[1, 1, 1, 0x83])),
        Err(Error::BadOption { offset: 3 })
    );
    assert_eq!(
        full_parse(&with_options(&[0x83, 0, 0, 0])),
        Err(Error::BadOption { offset: 0 })
    );
}

#[test]
fn bad_fragment_fields() {
    // More Fragments with 37 data bytes (not a multiple of 8).
    let mut b = DNS_QUERY;
    b[6] |= 0x20;
    refill(&mut b);
    assert_eq!(full_parse(&b), Err(Error::BadFragment));
    // The last fragment at offset 65512: 65512 + 57 > 65535 (ping of death).
    let mut b = DNS_QUERY;
    b[6] = 0x1f;
    b[7] = 0xfd;
    refill(&mut b);
    assert_eq!(full_parse(&b), Err(Error::BadFragment));
    // At offset 65472 it fits exactly in the limit... 65472 + 57 = 65529: accepted.
    b[7] = 0xf8;
    refill(&mut b);
    let ip = Ipv4Packet::new_checked(&b[..]).unwrap();
    assert_eq!(Ipv4Repr::parse(&ip, &caps()).unwrap().frag_offset, 65472);
}

#[test]
fn icmp_semantic_errors() {
    let icmp = |bytes: &mut [u8]| {
        let mut p = Icmpv4Packet::new_unchecked(&mut bytes[..]);
        p.fill_checksum();
        let p = Icmpv4Packet::new_checked(&bytes[..]).unwrap();
        Icmpv4Repr::parse(&p, &caps()).map(|_| ())
    };
    let mut echo = PING_REQUEST[20..].to_vec();
    echo[1] = 1; // echo with code 1
    assert_eq!(icmp(&mut echo), Err(Error::Malformed));
    let mut ts = PING_REQUEST[20..].to_vec();
    ts[0] = 13; // timestamp request
    assert_eq!(icmp(&mut ts), Err(Error::Unsupported));
    let mut unknown = PING_REQUEST[20..].to_vec();
    unknown[0] = 200;
    assert_eq!(icmp(&mut unknown), Err(Error::Unsupported));
    // A destination unreachable quoting 19 bytes, or quoting an IPv6 header.
    let mut short = PORT_UNREACHABLE[20..20 + 8 + 19].to_vec();
    assert_eq!(icmp(&mut short), Err(Error::Malformed));
    let mut v6 = PORT_UNREACHABLE[20..].to_vec();
    v6[8] = 0x60;
    assert_eq!(icmp(&mut v6), Err(Error::Malformed));
    // A quote holding only the header (no data bytes) is accepted: see the differential
    // tests for smoltcp, which requires 8.
    let mut header_only = PORT_UNREACHABLE[20..20 + 8 + 20].to_vec();
    assert_eq!(icmp(&mut header_only), Ok(()));
    assert_eq!(
        Icmpv4Quote::new(&[0x45; 10]),
        Err(Error::Truncated {
            needed: 20,
            got: 10
        })
    );
    let mut q = DNS_QUERY[..28].to_vec();
    q[0] = 0x47; // IHL 7: 28-byte header, fully quoted; no data left
    assert_eq!(Icmpv4Quote::new(&q).unwrap().transport(), &[] as &[u8]);
    q[0] = 0x48;
    assert_eq!(
        Icmpv4Quote::new(&q),
        Err(Error::Truncated {
            needed: 32,
            got: 28
        })
    );
    q[0] = 0x43;
    assert_eq!(
        Icmpv4Quote::new(&q),
        Err(Error::BadHeaderLen { header_len: 12 })
    );
}

#[test]
fn errors_print() {
    for e in [
        Error::Truncated { needed: 20, got: 3 },
        Error::BadVersion(6),
        Error::BadHeaderLen { header_len: 4 },
        Error::BadLength { len: 7, min: 8 },
        Error::BadChecksum,
        Error::BadOption { offset: 2 },
        Error::BadFragment,
        Error::Malformed,
        Error::Unsupported,
    ] {
        assert!(!e.to_string().is_empty());
        let _: &dyn std::error::Error = &e;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..120)) {
        let _ = full_parse(&bytes);
        let _ = Icmpv4Quote::new(&bytes).map(|q| (q.header().len(), q.transport().len(), q.dst_port()));
        let _ = Icmpv4Quote::from_datagram(&bytes[..]);
        let _ = Ipv4Options::new(&bytes).map(|o| o.iter().count());
        let config = EchoConfig { addr: Ipv4Address::new(192, 168, 1, 1), ttl: 64, caps: caps() };
        let mut out = [0u8; 256];
        let _ = respond_to_echo(&config, &ChecksumCaps::ignored(), &bytes, 0, &mut out);
        let icmp = Icmpv4Packet::new_unchecked(&bytes[..]);
        let _ = Icmpv4Repr::parse(&icmp, &ChecksumCaps::ignored()).map(|m| m.to_string());
        let udp = UdpPacket::new_unchecked(&bytes[..]);
        let _ = udp.to_string();
        let _ = UdpRepr::parse(&udp, Ipv4Address::UNSPECIFIED, Ipv4Address::UNSPECIFIED, &caps());
    }

    #[test]
    fn mutated_fixtures_never_panic(which in 0usize..5, edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
                                    cut in any::<prop::sample::Index>()) {
        let mut b = ALL[which].to_vec();
        for (i, v) in edits {
            let i = i.index(b.len());
            b[i] = v;
        }
        refill(&mut b);
        let end = cut.index(b.len() + 1);
        let _ = full_parse(&b[..end]);
        let _ = full_parse(&b);
        let config = EchoConfig { addr: Ipv4Address::new(192, 168, 1, 1), ttl: 64, caps: caps() };
        let mut out = [0u8; 128];
        let _ = respond_to_echo(&config, &ChecksumCaps::ignored(), &b, 0, &mut out);
    }
}
