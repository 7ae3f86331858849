//! Differential tests against etherparse 0.21 and smoltcp 0.14: on realistic packets (built by
//! our emitters and by etherparse's `PacketBuilder`, then mutated and truncated) and on random
//! bytes, the same accept/reject decision and the same field values.
//!
//! Every disagreement is a decision, documented here and pinned by its own test:
//!
//! | input | ours | etherparse | smoltcp | why |
//! |---|---|---|---|---|
//! | a fragment (MF or offset ≠ 0) | accept | accept | reject | smoltcp without `proto-ipv4-fragmentation` has no reassembly; we do |
//! | MF set with data not a multiple of 8, or offset + length > 65535 | reject (`BadFragment`) | accept | reject (fragment) | RFC 791 and the ping of death: such a fragment cannot be part of a valid datagram |
//! | malformed option framing | reject (`BadOption`) | accept | accept | both peers skip options unread; Linux answers a parameter problem and drops |
//! | UDP length field 0 | reject (`BadLength`) | accept (uses the slice length) | reject | 0 is an IPv6 jumbogram convention (RFC 2675); RFC 768 requires ≥ 8 over IPv4 |
//! | UDP destination port 0 | accept | accept | reject | valid on the wire; whether anything listens is the stack's business |
//! | ICMP error quoting fewer bytes than the quoted total length | accept | accept | reject | routers quote header + 8 bytes of long datagrams (RFC 792): smoltcp rejects those |
//! | ICMP error quoting the header with fewer than 8 data bytes | accept | accept | reject | the original may have been that short; consumers check `transport().len()` |
//! | ICMP error quoting a non-IPv4 header (version ≠ 4) | reject (`Malformed`) | accept (unparsed) | accept | an ICMPv4 error is about an IPv4 datagram |
//! | IP protocol 51 (AH) with a payload that is not an AH header | accept | reject | accept | we do not parse IPsec; the payload is opaque |
//! | ICMP types other than echo/unreachable/time exceeded | `Unsupported` | accept | reject | not represented by the repr (the view still reads them) |
//!
//! etherparse does not verify checksums while slicing; the tests verify them with
//! etherparse's own checksum functions so the decision compared includes them.

mod common;

use common::*;
use proptest::prelude::*;
use unistack_ipv4::*;

use smoltcp::wire as s;

/// What a parser saw, for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ip {
    src: [u8; 4],
    dst: [u8; 4],
    protocol: u8,
    ttl: u8,
    dscp: u8,
    ecn: u8,
    ident: u16,
    df: bool,
    mf: bool,
    offset: u16,
    payload: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Transport {
    /// Not parsed (not UDP or ICMP, or a non-first fragment).
    None,
    Udp {
        src: u16,
        dst: u16,
        payload: Vec<u8>,
    },
    Echo {
        request: bool,
        ident: u16,
        seq: u16,
        data: Vec<u8>,
    },
    /// Destination unreachable or time exceeded.
    IcmpError {
        unreachable: bool,
        code: u8,
        quoted_src: [u8; 4],
        quoted_dst: [u8; 4],
        quoted_data: Vec<u8>,
    },
}

type Outcome = Result<(Ip, Result<Transport, ()>), ()>;

/// A quoted datagram's source, destination and data.
type Quoted = ([u8; 4], [u8; 4], Vec<u8>);

// ---------------------------------------------------------------- ours

fn ours_full(bytes: &[u8]) -> Result<(Ip, Result<Transport, Error>), Error> {
    let caps = ChecksumCaps::default();
    let p = Ipv4Packet::new_checked(bytes)?;
    let r = Ipv4Repr::parse(&p, &caps)?;
    let ip = Ip {
        src: r.src_addr.0,
        dst: r.dst_addr.0,
        protocol: r.protocol.to_raw(),
        ttl: r.ttl,
        dscp: r.dscp,
        ecn: r.ecn.to_raw(),
        ident: r.ident,
        df: r.dont_frag,
        mf: r.more_frags,
        offset: r.frag_offset,
        payload: p.payload().to_vec(),
    };
    let t = (|| {
        if r.is_fragment() {
            return Ok(Transport::None);
        }
        match r.protocol {
            Protocol::Udp => {
                let u = UdpPacket::new_checked(p.payload())?;
                let ur = UdpRepr::parse(&u, r.src_addr, r.dst_addr, &caps)?;
                Ok(Transport::Udp {
                    src: ur.src_port,
                    dst: ur.dst_port,
                    payload: u.payload().to_vec(),
                })
            }
            Protocol::Icmp => {
                let i = Icmpv4Packet::new_checked(p.payload())?;
                Ok(match Icmpv4Repr::parse(&i, &caps)? {
                    Icmpv4Repr::EchoRequest {
                        ident,
                        seq_no,
                        data,
                        ..
                    } => Transport::Echo {
                        request: true,
                        ident,
                        seq: seq_no,
                        data: data.to_vec(),
                    },
                    Icmpv4Repr::EchoReply {
                        ident,
                        seq_no,
                        data,
                        ..
                    } => Transport::Echo {
                        request: false,
                        ident,
                        seq: seq_no,
                        data: data.to_vec(),
                    },
                    Icmpv4Repr::DstUnreachable { code, quote, .. } => Transport::IcmpError {
                        unreachable: true,
                        code: code.to_raw(),
                        quoted_src: quote.src_addr().0,
                        quoted_dst: quote.dst_addr().0,
                        quoted_data: quote.transport().to_vec(),
                    },
                    Icmpv4Repr::TimeExceeded { code, quote, .. } => Transport::IcmpError {
                        unreachable: false,
                        code: code.to_raw(),
                        quoted_src: quote.src_addr().0,
                        quoted_dst: quote.dst_addr().0,
                        quoted_data: quote.transport().to_vec(),
                    },
                    _ => Transport::None,
                })
            }
            _ => Ok(Transport::None),
        }
    })();
    Ok((ip, t))
}

// ---------------------------------------------------------------- smoltcp

fn smol(bytes: &[u8]) -> Outcome {
    let caps = smoltcp::phy::ChecksumCapabilities::default();
    let p = s::Ipv4Packet::new_checked(bytes).map_err(drop)?;
    let r = s::Ipv4Repr::parse(&p, &caps).map_err(drop)?;
    let ip = Ip {
        src: r.src_addr.octets(),
        dst: r.dst_addr.octets(),
        protocol: u8::from(r.next_header),
        ttl: r.hop_limit,
        dscp: p.dscp(),
        ecn: p.ecn(),
        ident: p.ident(),
        df: p.dont_frag(),
        mf: p.more_frags(),
        offset: p.frag_offset(),
        payload: p.payload().to_vec(),
    };
    let t = (|| match r.next_header {
        s::IpProtocol::Udp => {
            let u = s::UdpPacket::new_checked(p.payload()).map_err(drop)?;
            let ur = s::UdpRepr::parse(
                &u,
                &s::IpAddress::Ipv4(r.src_addr),
                &s::IpAddress::Ipv4(r.dst_addr),
                &caps,
            )
            .map_err(drop)?;
            Ok(Transport::Udp {
                src: ur.src_port,
                dst: ur.dst_port,
                payload: u.payload().to_vec(),
            })
        }
        s::IpProtocol::Icmp => {
            let i = s::Icmpv4Packet::new_checked(p.payload()).map_err(drop)?;
            Ok(match s::Icmpv4Repr::parse(&i, &caps).map_err(drop)? {
                s::Icmpv4Repr::EchoRequest {
                    ident,
                    seq_no,
                    data,
                } => Transport::Echo {
                    request: true,
                    ident,
                    seq: seq_no,
                    data: data.to_vec(),
                },
                s::Icmpv4Repr::EchoReply {
                    ident,
                    seq_no,
                    data,
                } => Transport::Echo {
                    request: false,
                    ident,
                    seq: seq_no,
                    data: data.to_vec(),
                },
                s::Icmpv4Repr::DstUnreachable {
                    reason,
                    header,
                    data,
                } => Transport::IcmpError {
                    unreachable: true,
                    code: u8::from(reason),
                    quoted_src: header.src_addr.octets(),
                    quoted_dst: header.dst_addr.octets(),
                    quoted_data: data.to_vec(),
                },
                s::Icmpv4Repr::TimeExceeded {
                    reason,
                    header,
                    data,
                } => Transport::IcmpError {
                    unreachable: false,
                    code: u8::from(reason),
                    quoted_src: header.src_addr.octets(),
                    quoted_dst: header.dst_addr.octets(),
                    quoted_data: data.to_vec(),
                },
                _ => Transport::None,
            })
        }
        _ => Ok(Transport::None),
    })();
    Ok((ip, t))
}

// ---------------------------------------------------------------- etherparse

fn ether(bytes: &[u8]) -> Outcome {
    use etherparse::{Icmpv4Slice, Icmpv4Type, Ipv4Slice, UdpSlice};
    let sl = Ipv4Slice::from_slice(bytes).map_err(drop)?;
    let h = sl.header();
    // etherparse does not verify checksums while slicing. Its typed `calc_header_checksum`
    // drops the reserved flag, so verify the raw header with the independent reference.
    if !reference_ok(h.slice()) {
        return Err(());
    }
    let payload = sl.payload().payload;
    let ip = Ip {
        src: h.source(),
        dst: h.destination(),
        protocol: h.protocol().0,
        ttl: h.ttl(),
        dscp: h.dcp().value(),
        ecn: h.ecn().value(),
        ident: h.identification(),
        df: h.dont_fragment(),
        mf: h.more_fragments(),
        offset: h.fragments_offset().value() * 8,
        payload: payload.to_vec(),
    };
    if h.is_fragmenting_payload() {
        return Ok((ip, Ok(Transport::None)));
    }
    let t = (|| match h.protocol().0 {
        17 => {
            let u = UdpSlice::from_slice(payload).map_err(drop)?;
            let uh = u.to_header();
            if uh.checksum != 0
                && uh
                    .calc_checksum_ipv4_raw(h.source(), h.destination(), u.payload())
                    .map_err(drop)?
                    != uh.checksum
            {
                return Err(());
            }
            Ok(Transport::Udp {
                src: uh.source_port,
                dst: uh.destination_port,
                payload: u.payload().to_vec(),
            })
        }
        1 => {
            let i = Icmpv4Slice::from_slice(payload).map_err(drop)?;
            // etherparse's typed checksum assumes zero "unused" bytes for some types; verify
            // the raw message with the independent reference instead.
            if !reference_ok(i.slice()) {
                return Err(());
            }
            let quoted = |raw: &[u8]| -> Result<Quoted, ()> {
                // etherparse leaves the quote unparsed; read it the way RFC 792 lays it out.
                let q = etherparse::Ipv4HeaderSlice::from_slice(raw).map_err(drop)?;
                Ok((q.source(), q.destination(), raw[q.slice().len()..].to_vec()))
            };
            Ok(match i.icmp_type() {
                Icmpv4Type::EchoRequest(e) => Transport::Echo {
                    request: true,
                    ident: e.id,
                    seq: e.seq,
                    data: i.payload().to_vec(),
                },
                Icmpv4Type::EchoReply(e) => Transport::Echo {
                    request: false,
                    ident: e.id,
                    seq: e.seq,
                    data: i.payload().to_vec(),
                },
                Icmpv4Type::DestinationUnreachable(_) | Icmpv4Type::TimeExceeded(_) => {
                    let (qs, qd, qdata) = quoted(i.payload())?;
                    Transport::IcmpError {
                        unreachable: i.type_u8() == 3,
                        code: i.code_u8(),
                        quoted_src: qs,
                        quoted_dst: qd,
                        quoted_data: qdata,
                    }
                }
                _ => Transport::None,
            })
        }
        _ => Ok(Transport::None),
    })();
    Ok((ip, t))
}

// ---------------------------------------------------------------- the comparison

/// Compare ours with both peers on one input, allowing only the documented disagreements.
fn compare(bytes: &[u8]) {
    let ours = ours_full(bytes);
    let sm = smol(bytes);
    let ep = ether(bytes);
    let fragment = bytes.len() >= 8 && (bytes[6] & 0x3f != 0 || bytes[7] != 0);
    let protocol = bytes.get(9).copied();
    match &ours {
        Ok((ip, t)) => {
            // IP layer: both peers agree, except smoltcp on fragments and etherparse on AH.
            if protocol != Some(51) {
                assert_eq!(
                    ep.as_ref().map(|x| &x.0),
                    Ok(ip),
                    "etherparse IP {bytes:02x?}"
                );
            }
            if fragment {
                assert!(sm.is_err(), "smoltcp accepted a fragment");
            } else {
                assert_eq!(sm.as_ref().map(|x| &x.0), Ok(ip), "smoltcp IP {bytes:02x?}");
            }
            compare_transport(bytes, ip, t, sm.ok().map(|x| x.1), ep.ok().map(|x| x.1));
        }
        Err(Error::BadOption { .. }) => {
            // Both peers skip option framing.
        }
        Err(Error::BadFragment) => {
            assert!(fragment);
            assert!(sm.is_err(), "smoltcp rejects every fragment");
        }
        Err(e) => {
            assert!(
                sm.is_err(),
                "smoltcp accepted what we reject ({e:?}): {bytes:02x?}"
            );
            assert!(
                ep.is_err(),
                "etherparse accepted what we reject ({e:?}): {bytes:02x?}"
            );
        }
    }
}

fn compare_transport(
    bytes: &[u8],
    ip: &Ip,
    ours: &Result<Transport, Error>,
    sm: Option<Result<Transport, ()>>,
    ep: Option<Result<Transport, ()>>,
) {
    let udp_len_zero = ip.protocol == 17 && ip.payload.len() >= 8 && ip.payload[4..6] == [0, 0];
    match ours {
        Ok(Transport::None) => {}
        Ok(t) => {
            // etherparse agrees on every transport we represent; it files ICMP errors with
            // codes it does not name (unreachable > 15, time exceeded > 1) as unknown types.
            if let Some(ep) = ep {
                let unnamed = matches!(t, Transport::IcmpError { unreachable, code, .. }
                    if (*unreachable && *code > 15) || (!*unreachable && *code > 1));
                if !(unnamed && ep == Ok(Transport::None)) {
                    assert_eq!(ep.as_ref(), Ok(t), "etherparse transport {bytes:02x?}");
                }
            }
            if let Some(sm) = sm {
                match t {
                    Transport::Udp { dst: 0, .. } => assert!(sm.is_err()),
                    Transport::IcmpError { quoted_data, .. }
                        if sm.is_err() && smoltcp_quote_rule(ip, quoted_data) => {}
                    _ => assert_eq!(sm.as_ref(), Ok(t), "smoltcp transport {bytes:02x?}"),
                }
            }
        }
        Err(Error::Unsupported) => {
            assert!(!matches!(sm, Some(Ok(ref t)) if *t != Transport::None));
        }
        Err(Error::Malformed) if ip.protocol == 1 => {
            // An ICMP error whose quote is not an IPv4 header (smoltcp and etherparse do not
            // check the quoted version), or an echo with a nonzero code (both peers agree).
        }
        Err(e) => {
            if let Some(sm) = sm {
                assert!(
                    sm.is_err(),
                    "smoltcp accepted transport we reject ({e:?}) {bytes:02x?}"
                );
            }
            if let Some(ep) = ep {
                let allowed = udp_len_zero && *e == Error::BadLength { len: 0, min: 8 };
                assert!(
                    ep.is_err() || allowed,
                    "etherparse accepted transport we reject ({e:?}) {bytes:02x?}"
                );
            }
        }
    }
}

/// Whether smoltcp's stricter quote rule (quoted total length ≤ quote, ≥ 8 data bytes)
/// explains its rejection.
fn smoltcp_quote_rule(ip: &Ip, quoted_data: &[u8]) -> bool {
    let quote = &ip.payload[8..];
    let total = usize::from(u16::from_be_bytes([quote[2], quote[3]]));
    quoted_data.len() < 8 || total > quote.len() || total < (usize::from(quote[0] & 15) * 4)
}

// ---------------------------------------------------------------- fixtures and decisions

#[test]
fn fixtures_agree() {
    for f in [
        &PING_REQUEST[..],
        &PING_REPLY[..],
        &DNS_QUERY[..],
        &PORT_UNREACHABLE[..],
        &TIME_EXCEEDED[..],
    ] {
        compare(f);
        let ours = ours_full(f).unwrap();
        assert_eq!(ether(f).unwrap().0, ours.0);
        for len in 0..f.len() {
            compare(&f[..len]);
        }
    }
    // smoltcp parses the echo and the DNS query exactly as we do.
    for f in [&PING_REQUEST[..], &PING_REPLY[..], &DNS_QUERY[..]] {
        let (ip, t) = ours_full(f).unwrap();
        assert_eq!(smol(f), Ok((ip, Ok(t.unwrap()))));
    }
}

fn fix(b: &mut [u8]) {
    let mut p = Ipv4Packet::new_unchecked(&mut b[..]);
    p.fill_checksum();
}

#[test]
fn decision_fragments_are_accepted() {
    let mut b = DNS_QUERY;
    b[7] = 8; // offset 64, last fragment
    fix(&mut b);
    assert!(ours_full(&b).is_ok());
    assert!(ether(&b).is_ok());
    assert!(smol(&b).is_err());
}

#[test]
fn decision_bad_fragment_fields_are_rejected() {
    let mut b = DNS_QUERY;
    b[6] |= 0x20; // MF with 37 data bytes
    fix(&mut b);
    assert_eq!(ours_full(&b).unwrap_err(), Error::BadFragment);
    assert!(ether(&b).is_ok());
    assert!(smol(&b).is_err());
}

#[test]
fn decision_malformed_options_are_rejected() {
    let mut v = DNS_QUERY[..20].to_vec();
    v.extend_from_slice(&[0x07, 0x09, 0x04, 0x00]); // record route claiming 9 bytes in 4
    v.extend_from_slice(&DNS_QUERY[20..]);
    v[0] = 0x46;
    v[3] += 4;
    fix(&mut v);
    assert_eq!(ours_full(&v).unwrap_err(), Error::BadOption { offset: 0 });
    assert!(ether(&v).is_ok());
    assert!(smol(&v).is_ok());
}

#[test]
fn decision_udp_length_zero_is_rejected() {
    let mut b = DNS_QUERY;
    b[24] = 0;
    b[25] = 0;
    b[26] = 0;
    b[27] = 0;
    let (_, t) = ours_full(&b).unwrap();
    assert_eq!(t, Err(Error::BadLength { len: 0, min: 8 }));
    assert!(matches!(ether(&b), Ok((_, Ok(Transport::Udp { .. })))));
    assert!(matches!(smol(&b), Ok((_, Err(())))));
}

#[test]
fn decision_udp_destination_port_zero_is_accepted() {
    let mut b = DNS_QUERY;
    b[22] = 0;
    b[23] = 0;
    b[26] = 0; // no checksum
    b[27] = 0;
    assert!(matches!(
        ours_full(&b),
        Ok((_, Ok(Transport::Udp { dst: 0, .. })))
    ));
    assert!(matches!(
        ether(&b),
        Ok((_, Ok(Transport::Udp { dst: 0, .. })))
    ));
    assert!(matches!(smol(&b), Ok((_, Err(())))));
}

#[test]
fn decision_short_quotes_are_accepted() {
    // PORT_UNREACHABLE quotes 28 bytes of a 57-byte datagram, as RFC 792 asks.
    let (_, t) = ours_full(&PORT_UNREACHABLE).unwrap();
    assert!(matches!(t, Ok(Transport::IcmpError { .. })));
    assert!(matches!(
        ether(&PORT_UNREACHABLE),
        Ok((_, Ok(Transport::IcmpError { .. })))
    ));
    assert!(matches!(smol(&PORT_UNREACHABLE), Ok((_, Err(())))));
    // Quoting the whole datagram (as Linux does for short ones): all three agree.
    let quote = Icmpv4Quote::new(&DNS_QUERY).unwrap();
    let m = Icmpv4Repr::DstUnreachable {
        code: DstUnreachable::PortUnreachable,
        next_hop_mtu: 0,
        quote,
    };
    let ip = Ipv4Repr::new(
        Ipv4Address::new(192, 0, 2, 2),
        Ipv4Address::new(192, 0, 2, 1),
        Protocol::Icmp,
        m.buffer_len(),
        64,
    );
    let mut b = vec![0u8; ip.buffer_len()];
    ip.emit(
        &mut Ipv4Packet::new_unchecked(&mut b[..]),
        &ChecksumCaps::default(),
    );
    m.emit(
        &mut Icmpv4Packet::new_unchecked(&mut b[20..]),
        &ChecksumCaps::default(),
    );
    let ours = ours_full(&b).unwrap();
    assert_eq!(smol(&b), Ok((ours.0.clone(), Ok(ours.1.clone().unwrap()))));
    assert_eq!(ether(&b), Ok((ours.0, Ok(ours.1.unwrap()))));
}

#[test]
fn decision_quoted_non_ipv4_is_rejected() {
    let mut b = PORT_UNREACHABLE;
    b[28] = 0x65; // the quoted header claims version 6
    let mut icmp = Icmpv4Packet::new_unchecked(&mut b[20..]);
    icmp.fill_checksum();
    let (_, t) = ours_full(&b).unwrap();
    assert_eq!(t, Err(Error::Malformed));
    // etherparse slices the message without looking into the quote.
    let icmp = etherparse::Icmpv4Slice::from_slice(&b[20..]).unwrap();
    assert!(matches!(
        icmp.icmp_type(),
        etherparse::Icmpv4Type::DestinationUnreachable(_)
    ));
    // smoltcp reads the quote with its IPv4 view, which does not check the version either
    // (it rejects this one only because the quote is shorter than its total length).
    let mut whole = DNS_QUERY;
    whole[0] = 0x65;
    assert!(s::Ipv4Packet::new_checked(&whole[..]).is_ok());
}

#[test]
fn decision_ah_payload_is_opaque() {
    let mut b = DNS_QUERY;
    b[9] = 51;
    fix(&mut b);
    assert!(ours_full(&b).is_ok());
    assert!(smol(&b).is_ok());
    assert!(
        ether(&b).is_err(),
        "etherparse parses the payload as an AH header"
    );
}

#[test]
fn decision_other_icmp_types_are_unsupported() {
    let mut b = PING_REQUEST;
    b[20] = 13; // timestamp
    let mut icmp = Icmpv4Packet::new_unchecked(&mut b[20..]);
    icmp.fill_checksum();
    assert_eq!(ours_full(&b).unwrap().1, Err(Error::Unsupported));
    assert!(matches!(smol(&b), Ok((_, Err(())))));
}

#[test]
fn cidr_agrees_with_smoltcp() {
    for (a, len) in [
        ([192u8, 0, 2, 77], 24u8),
        ([10, 1, 2, 3], 8),
        ([0, 0, 0, 0], 0),
        ([255, 255, 255, 255], 32),
        ([172, 16, 5, 4], 31),
        ([172, 16, 5, 4], 12),
    ] {
        let ours = Ipv4Cidr::new(Ipv4Address(a), len).unwrap();
        let theirs = s::Ipv4Cidr::new(s::Ipv4Address::from(a), len);
        assert_eq!(ours.netmask().0, theirs.netmask().octets());
        assert_eq!(
            ours.broadcast().map(|b| b.0),
            theirs.broadcast().map(|b| b.octets())
        );
        assert_eq!(
            ours.network().address().0,
            theirs.network().address().octets()
        );
        assert_eq!(ours.to_string(), theirs.to_string());
        for probe in [[192, 0, 2, 1], [10, 9, 9, 9], [172, 16, 5, 5], [8, 8, 8, 8]] {
            assert_eq!(
                ours.contains_addr(Ipv4Address(probe)),
                theirs.contains_addr(&s::Ipv4Address::from(probe))
            );
        }
    }
}

// ---------------------------------------------------------------- generated packets

#[derive(Debug, Clone)]
enum Body {
    Udp {
        sp: u16,
        dp: u16,
    },
    Echo {
        request: bool,
        ident: u16,
        seq: u16,
    },
    Error {
        unreachable: bool,
        code: u8,
        quote_extra: usize,
    },
    Other(u8),
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        (any::<u16>(), any::<u16>()).prop_map(|(sp, dp)| Body::Udp { sp, dp }),
        (any::<bool>(), any::<u16>(), any::<u16>()).prop_map(|(request, ident, seq)| Body::Echo {
            request,
            ident,
            seq
        }),
        (any::<bool>(), 0u8..20, 0usize..40).prop_map(|(unreachable, code, quote_extra)| {
            Body::Error {
                unreachable,
                code,
                quote_extra,
            }
        }),
        prop::sample::select(vec![6u8, 2, 47, 99, 132]).prop_map(Body::Other),
    ]
}

/// Build a valid datagram with our emitters (random header fields, some options, sometimes
/// a fragment), or with etherparse's builder.
fn build(
    src: [u8; 4],
    dst: [u8; 4],
    body: &Body,
    data: &[u8],
    with_options: bool,
    frag: u8,
    by_etherparse: bool,
) -> Vec<u8> {
    let caps = ChecksumCaps::default();
    if by_etherparse {
        let b = etherparse::PacketBuilder::ipv4(src, dst, 64);
        let mut out = Vec::new();
        match *body {
            Body::Udp { sp, dp } => b.udp(sp, dp).write(&mut out, data).unwrap(),
            Body::Echo {
                request: true,
                ident,
                seq,
            } => b
                .icmpv4_echo_request(ident, seq)
                .write(&mut out, data)
                .unwrap(),
            Body::Echo { ident, seq, .. } => b
                .icmpv4_echo_reply(ident, seq)
                .write(&mut out, data)
                .unwrap(),
            _ => {
                let b = etherparse::PacketBuilder::ipv4(src, dst, 64);
                b.udp(1, 2).write(&mut out, data).unwrap()
            }
        }
        return out;
    }
    let mut transport = Vec::new();
    let protocol = match *body {
        Body::Udp { sp, dp } => {
            let u = UdpRepr {
                src_port: sp,
                dst_port: dp,
                payload_len: data.len(),
            };
            transport.resize(u.buffer_len(), 0);
            u.emit(
                &mut UdpPacket::new_unchecked(&mut transport[..]),
                Ipv4Address(src),
                Ipv4Address(dst),
                &caps,
                |p| p.copy_from_slice(data),
            );
            Protocol::Udp
        }
        Body::Echo {
            request,
            ident,
            seq,
        } => {
            let m = if request {
                Icmpv4Repr::EchoRequest {
                    ident,
                    seq_no: seq,
                    data,
                }
            } else {
                Icmpv4Repr::EchoReply {
                    ident,
                    seq_no: seq,
                    data,
                }
            };
            transport.resize(m.buffer_len(), 0);
            m.emit(&mut Icmpv4Packet::new_unchecked(&mut transport[..]), &caps);
            Protocol::Icmp
        }
        Body::Error {
            unreachable,
            code,
            quote_extra,
        } => {
            // Quote a UDP datagram sent the other way: its header and some of its data.
            let inner = build(
                dst,
                src,
                &Body::Udp { sp: 53, dp: 5353 },
                data,
                false,
                0,
                false,
            );
            let n = (28 + quote_extra).min(inner.len());
            let quote = Icmpv4Quote::new(&inner[..n]).unwrap();
            let m = if unreachable {
                Icmpv4Repr::DstUnreachable {
                    code: DstUnreachable::from(code),
                    next_hop_mtu: if code == 4 { 1400 } else { 0 },
                    quote,
                }
            } else {
                Icmpv4Repr::TimeExceeded {
                    code: TimeExceeded::from(code % 3),
                    quote,
                }
            };
            transport.resize(m.buffer_len(), 0);
            m.emit(&mut Icmpv4Packet::new_unchecked(&mut transport[..]), &caps);
            Protocol::Icmp
        }
        Body::Other(p) => {
            transport.extend_from_slice(data);
            Protocol::from(p)
        }
    };
    let opts: &[u8] = if with_options {
        &[0x94, 4, 0, 0, 1, 1, 1, 0]
    } else {
        &[]
    };
    let mut ip = Ipv4Repr::new(
        Ipv4Address(src),
        Ipv4Address(dst),
        protocol,
        transport.len(),
        64,
    );
    ip.options = Ipv4Options::new(opts).unwrap();
    ip.ident = u16::from(frag) * 257;
    ip.dont_frag = frag.is_multiple_of(2);
    if frag % 5 == 1 {
        // A last fragment at some offset: the payload is opaque to every parser.
        ip.frag_offset = u16::from(frag) * 8;
    }
    let mut out = vec![0u8; ip.buffer_len()];
    ip.emit(&mut Ipv4Packet::new_unchecked(&mut out[..]), &caps);
    out[ip.header_len()..].copy_from_slice(&transport);
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    None,
    /// Overwrite bytes, then recompute the IP header checksum (or not).
    Bytes(Vec<(prop::sample::Index, u8)>, bool),
    Truncate(prop::sample::Index),
    /// Append link padding.
    Pad(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => Just(Mutation::None),
        4 => (prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4), any::<bool>())
            .prop_map(|(e, f)| Mutation::Bytes(e, f)),
        1 => any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        1 => (1usize..20).prop_map(Mutation::Pad),
    ]
}

fn apply(mut b: Vec<u8>, m: &Mutation) -> Vec<u8> {
    match m {
        Mutation::None => {}
        Mutation::Bytes(edits, refix) => {
            for (i, v) in edits {
                let i = i.index(b.len());
                b[i] = *v;
            }
            if *refix && b.len() >= 20 {
                let hl = usize::from(b[0] & 15) * 4;
                if hl >= 20 && hl <= b.len() {
                    b[10] = 0;
                    b[11] = 0;
                    let c = unistack_ipv4::checksum::checksum(&b[..hl]);
                    b[10..12].copy_from_slice(&c.to_be_bytes());
                }
            }
        }
        Mutation::Truncate(i) => {
            let n = i.index(b.len() + 1);
            b.truncate(n);
        }
        Mutation::Pad(n) => b.extend(std::iter::repeat_n(0, *n)),
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn realistic_packets_agree(src in any::<[u8; 4]>(), dst in any::<[u8; 4]>(), body in body(),
                               data in prop::collection::vec(any::<u8>(), 0..200),
                               with_options in any::<bool>(), frag in any::<u8>(),
                               by_etherparse in prop::bool::weighted(0.2),
                               m in mutation()) {
        let b = build(src, dst, &body, &data, with_options, frag, by_etherparse);
        if matches!(m, Mutation::None) {
            // Unmutated, every packet is accepted by us.
            prop_assert!(ours_full(&b).is_ok());
        }
        compare(&apply(b, &m));
    }

    #[test]
    fn random_bytes_agree(mut bytes in prop::collection::vec(any::<u8>(), 0..100), v4 in any::<bool>()) {
        if v4 && !bytes.is_empty() {
            bytes[0] = 0x45;
        }
        compare(&bytes);
    }
}
