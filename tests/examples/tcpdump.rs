//! Read a pcap and print each frame as tcpdump does, through unistack's own protocol crates:
//! ethif (Ethernet, VLAN, ARP), ipv4 (IPv4, ICMPv4, UDP, with every checksum verified) and tcp
//! (segments with options, pseudo-header checksum verified).
//!
//! ```text
//! cargo run -p unistack-tests --example tcpdump -- tests/data/sample.pcap [-e]
//! ```
//!
//! `-e` prints the link-level header too. A frame that does not parse shows the typed error of
//! the layer that refused it, in brackets; nothing panics on a broken capture.

use std::fmt::Write as _;
use std::process::ExitCode;

use unistack_ethif::{ArpRepr, EtherType, parse_frame};
use unistack_ipv4::checksum::Checksum;
use unistack_ipv4::{
    ChecksumCaps, Icmpv4Packet, Icmpv4Repr, Ipv4Packet, Ipv4Repr, Protocol, UdpPacket, UdpRepr,
};
use unistack_tcp::TcpRepr;

const CAPS: ChecksumCaps = ChecksumCaps::all();

/// One frame in one line, like `tcpdump -n` (`-e` with `link`).
pub fn describe(frame: &[u8], link: bool) -> String {
    let mut out = String::new();
    let (eth, payload) = match parse_frame(frame) {
        Ok(x) => x,
        Err(e) => return format!("[ethernet: {e}]"),
    };
    if link {
        let _ = write!(out, "{eth}, length {}: ", frame.len());
    }
    match eth.ethertype {
        EtherType::Arp => match ArpRepr::parse_bytes(payload) {
            Ok(arp) => {
                let _ = write!(out, "{arp}, length {}", payload.len());
            }
            Err(e) => {
                let _ = write!(out, "ARP [{e}]");
            }
        },
        EtherType::Ipv4 => {
            let packet = match Ipv4Packet::new_checked(payload) {
                Ok(p) => p,
                Err(e) => return out + &format!("IP [{}]", unistack_ipv4::Error::from(e)),
            };
            let ip = match Ipv4Repr::parse(&packet, &CAPS) {
                Ok(ip) => ip,
                Err(e) => return out + &format!("IP [{e}]"),
            };
            let (src, dst, body) = (ip.src_addr, ip.dst_addr, packet.payload());
            let line = match ip.protocol {
                Protocol::Tcp if !ip.is_fragment() => {
                    match TcpRepr::parse_bytes(body, src, dst, Checksum::Both) {
                        Ok(t) => format!(
                            "IP {src}.{} > {dst}.{}: {}",
                            t.src_port,
                            t.dst_port,
                            t.to_string().split_once(": ").map_or("", |(_, rest)| rest)
                        ),
                        Err(e) => format!("IP {src} > {dst}: TCP [{e}]"),
                    }
                }
                Protocol::Udp if !ip.is_fragment() => match UdpPacket::new_checked(body)
                    .map_err(unistack_ipv4::Error::from)
                    .and_then(|p| UdpRepr::parse(&p, src, dst, &CAPS))
                {
                    Ok(u) => format!(
                        "IP {src}.{} > {dst}.{}: UDP, length {}",
                        u.src_port, u.dst_port, u.payload_len
                    ),
                    Err(e) => format!("IP {src} > {dst}: UDP [{e}]"),
                },
                Protocol::Icmp if !ip.is_fragment() => match Icmpv4Packet::new_checked(body)
                    .map_err(unistack_ipv4::Error::from)
                    .and_then(|p| Icmpv4Repr::parse(&p, &CAPS).map(|r| r.to_string()))
                {
                    Ok(s) => format!("IP {src} > {dst}: ICMP {s}, length {}", body.len()),
                    Err(e) => format!("IP {src} > {dst}: ICMP [{e}]"),
                },
                _ => packet.to_string(),
            };
            out.push_str(&line);
        }
        other => {
            let _ = write!(out, "ethertype {other}, length {}", frame.len());
        }
    }
    out
}

/// A captured frame: seconds, microseconds, bytes.
pub type Frame<'a> = (u32, u32, &'a [u8]);

/// Frames of a little-endian microsecond pcap with Ethernet link type, or why not.
pub fn frames(data: &[u8]) -> Result<Vec<Frame<'_>>, String> {
    let header = data.get(..24).ok_or("shorter than a pcap header")?;
    let word = |b: &[u8], at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    if word(header, 0) != 0xa1b2_c3d4 || word(header, 20) != 1 {
        return Err("not a little-endian microsecond Ethernet pcap".into());
    }
    let mut out = Vec::new();
    let mut rest = &data[24..];
    while !rest.is_empty() {
        let rec = rest.get(..16).ok_or("truncated record header")?;
        let len = word(rec, 8) as usize;
        let frame = rest.get(16..16 + len).ok_or("truncated frame")?;
        out.push((word(rec, 0), word(rec, 4), frame));
        rest = &rest[16 + len..];
    }
    Ok(out)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let link = args.iter().any(|a| a == "-e");
    let Some(path) = args.iter().find(|a| !a.starts_with('-')) else {
        eprintln!("usage: tcpdump FILE.pcap [-e]");
        return ExitCode::from(2);
    };
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("tcpdump: {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match frames(&data) {
        Ok(frames) => {
            for (sec, usec, frame) in frames {
                println!("{sec}.{usec:06} {}", describe(frame, link));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tcpdump: {path}: {e}");
            ExitCode::FAILURE
        }
    }
}
