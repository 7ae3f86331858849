//! Dissect a pcap capture with layouts declared once through `#[derive(Cstruct)]`.
//!
//! ```text
//! cargo run -p unistack-cstruct --example dissect -- tests/data/sample.pcap [-v]
//! ```
//!
//! Prints one tcpdump-style line per frame; `-v` adds every header's fields by name and a
//! hexdump. The pcap file header and record headers are little-endian layouts; Ethernet, ARP,
//! IPv4, TCP and UDP are network-order layouts with bitfields, enums and option tails. Bad or
//! truncated frames are reported with the typed error, never a panic.

use std::fmt::Write as _;
use std::process::ExitCode;

use unistack_cstruct::{CEnum, Cstruct, Error};

#[derive(Cstruct, Clone, Copy, Debug)]
#[cstruct(little)]
struct PcapFileHeader {
    magic: u32,
    version_major: u16,
    version_minor: u16,
    thiszone: u32,
    sigfigs: u32,
    snaplen: u32,
    linktype: u32,
}

#[derive(Cstruct, Clone, Copy, Debug)]
#[cstruct(little, view = PcapRecord)]
struct PcapRecordHeader {
    ts_sec: u32,
    ts_usec: u32,
    incl_len: u32,
    orig_len: u32,
}

#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
enum EtherType {
    #[cenum(display = "IPv4")]
    Ipv4 = 0x0800,
    #[cenum(display = "ARP")]
    Arp = 0x0806,
    #[cenum(display = "802.1Q")]
    Vlan = 0x8100,
    #[cenum(display = "IPv6")]
    Ipv6 = 0x86dd,
    Unknown(u16),
}

#[derive(Cstruct, Clone, Copy, Debug)]
#[cstruct(view = EthernetFrame)]
struct EthernetHeader {
    dst: [u8; 6],
    src: [u8; 6],
    ethertype: EtherType,
}

#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
enum ArpOp {
    #[cenum(display = "Request")]
    Request = 1,
    #[cenum(display = "Reply")]
    Reply = 2,
    Unknown(u16),
}

#[derive(Cstruct, Clone, Copy, Debug)]
#[cstruct(view = ArpPacket)]
struct ArpHeader {
    htype: u16,
    ptype: EtherType,
    hlen: u8,
    plen: u8,
    op: ArpOp,
    sha: [u8; 6],
    spa: [u8; 4],
    tha: [u8; 6],
    tpa: [u8; 4],
}

#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Protocol {
    #[cenum(display = "ICMP")]
    Icmp = 1,
    #[cenum(display = "TCP")]
    Tcp = 6,
    #[cenum(display = "UDP")]
    Udp = 17,
    Unknown(u8),
}

#[derive(Cstruct, Clone, Copy, Debug)]
#[cstruct(view = Ipv4Packet, header_len = ihl * 4, total_len = total_len)]
struct Ipv4Header {
    #[bits(4)]
    version: u8,
    #[bits(4)]
    ihl: u8,
    #[bits(6)]
    dscp: u8,
    #[bits(2)]
    ecn: u8,
    total_len: u16,
    ident: u16,
    #[bits(1)]
    reserved: bool,
    #[bits(1)]
    dont_frag: bool,
    #[bits(1)]
    more_frags: bool,
    #[bits(13)]
    frag_offset: u16,
    ttl: u8,
    protocol: Protocol,
    checksum: u16,
    src: [u8; 4],
    dst: [u8; 4],
}

#[derive(Cstruct, Clone, Copy, Debug)]
#[cstruct(view = TcpSegment, header_len = data_offset * 4)]
struct TcpHeader {
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    #[bits(4)]
    data_offset: u8,
    #[bits(4)]
    reserved: u8,
    #[bits(8)]
    flags: u8,
    window: u16,
    checksum: u16,
    urgent: u16,
}

#[derive(Cstruct, Clone, Copy, Debug)]
#[cstruct(view = UdpDatagram, total_len = length)]
struct UdpHeader {
    src_port: u16,
    dst_port: u16,
    length: u16,
    checksum: u16,
}

fn mac(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn ip(a: &[u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

fn tcp_flags(f: u8) -> String {
    // tcpdump's order: SYN, FIN, PSH, RST, URG, ECE, CWR, then ACK as '.'.
    let names = [
        (0x02, 'S'),
        (0x01, 'F'),
        (0x08, 'P'),
        (0x04, 'R'),
        (0x20, 'U'),
        (0x40, 'E'),
        (0x80, 'W'),
        (0x10, '.'),
    ];
    names
        .iter()
        .filter(|(bit, _)| f & bit != 0)
        .map(|(_, c)| *c)
        .collect()
}

/// Describe one frame in one line (`out`), and every header in `detail` when given.
pub fn dissect(
    frame: &[u8],
    mut detail: Option<&mut String>,
    out: &mut String,
) -> Result<(), Error> {
    let eth = EthernetFrame::new_checked(frame)?;
    if let Some(d) = detail.as_deref_mut() {
        let _ = writeln!(d, "  {eth:?}");
    }
    match eth.ethertype() {
        EtherType::Ipv4 => {
            let ip4 = Ipv4Packet::new_checked(eth.payload())?;
            if let Some(d) = detail.as_deref_mut() {
                let _ = writeln!(d, "  {ip4:?}");
            }
            let (src, dst) = (ip(ip4.src()), ip(ip4.dst()));
            match ip4.protocol() {
                Protocol::Tcp => {
                    let tcp = TcpSegment::new_checked(ip4.payload())?;
                    if let Some(d) = detail.as_deref_mut() {
                        let _ = writeln!(d, "  {tcp:?}");
                    }
                    let _ = write!(
                        out,
                        "IP {src}.{} > {dst}.{}: Flags [{}], seq {}, ack {}, win {}, options {} bytes, length {}",
                        tcp.src_port(),
                        tcp.dst_port(),
                        tcp_flags(tcp.flags()),
                        tcp.seq(),
                        tcp.ack(),
                        tcp.window(),
                        tcp.options().len(),
                        tcp.payload().len()
                    );
                }
                Protocol::Udp => {
                    let udp = UdpDatagram::new_checked(ip4.payload())?;
                    if let Some(d) = detail.as_deref_mut() {
                        let _ = writeln!(d, "  {udp:?}");
                    }
                    let _ = write!(
                        out,
                        "IP {src}.{} > {dst}.{}: UDP, length {}",
                        udp.src_port(),
                        udp.dst_port(),
                        udp.payload().len()
                    );
                }
                other => {
                    let _ = write!(
                        out,
                        "IP {src} > {dst}: {other}, length {}",
                        ip4.payload().len()
                    );
                }
            }
        }
        EtherType::Arp => {
            let arp = ArpPacket::new_checked(eth.payload())?;
            if let Some(d) = detail {
                let _ = writeln!(d, "  {arp:?}");
            }
            match arp.op() {
                ArpOp::Request => {
                    let _ = write!(
                        out,
                        "ARP, Request who-has {} tell {}",
                        ip(arp.tpa()),
                        ip(arp.spa())
                    );
                }
                ArpOp::Reply => {
                    let _ = write!(out, "ARP, Reply {} is-at {}", ip(arp.spa()), mac(arp.sha()));
                }
                other => {
                    let _ = write!(out, "ARP, {other}");
                }
            }
        }
        other => {
            let _ = write!(
                out,
                "{} > {}, ethertype {other}, length {}",
                mac(eth.src()),
                mac(eth.dst()),
                frame.len()
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut path = None;
    let mut verbose = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "-v" | "--verbose" => verbose = true,
            _ => path = Some(arg),
        }
    }
    let Some(path) = path else {
        eprintln!("usage: dissect FILE.pcap [-v]");
        return ExitCode::from(2);
    };
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("dissect: {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let header = match PcapFileHeaderView::new_checked(&data[..]) {
        Ok(h) if h.magic() == 0xa1b2_c3d4 && h.linktype() == 1 => h,
        Ok(h) => {
            eprintln!(
                "dissect: {path}: not a microsecond little-endian Ethernet pcap (magic {:#x}, linktype {})",
                h.magic(),
                h.linktype()
            );
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("dissect: {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "pcap v{}.{}, snaplen {}",
        header.version_major(),
        header.version_minor(),
        header.snaplen()
    );
    let mut rest = header.into_payload();
    let mut n = 0;
    while !rest.is_empty() {
        n += 1;
        let rec = match PcapRecord::new_checked(rest) {
            Ok(r) => r,
            Err(e) => {
                println!("{n:4} record header: {e}");
                break;
            }
        };
        let body_len = rec.incl_len() as usize;
        let body = rest.get(PcapRecordHeader::SIZE..).unwrap_or_default();
        let Some((frame, after)) = body.split_at_checked(body_len) else {
            println!("{n:4} truncated record: {} of {body_len} bytes", body.len());
            break;
        };
        let mut line = String::new();
        let mut detail = String::new();
        let ts = format!("{}.{:06}", rec.ts_sec(), rec.ts_usec());
        if let Err(e) = dissect(frame, verbose.then_some(&mut detail), &mut line) {
            let _ = write!(line, "[malformed: {e}]");
        }
        println!("{n:4} {ts} {line}");
        if verbose {
            print!("{detail}{}", unistack_cstruct::Hexdump::new(frame));
        }
        rest = after;
    }
    ExitCode::SUCCESS
}
