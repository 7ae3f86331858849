//! Derived cstruct views vs hand-written reads vs zerocopy's `network_endian` structs.
//!
//! `cargo bench -p unistack-benches --bench cstruct`
//!
//! Each contender checks lengths the same way (buffer holds the fixed headers, IHL and data
//! offset are sane, the IPv4 total length fits) and then reads every IPv4 and TCP header field,
//! folding them into a checksum that must match across contenders. Inputs: 1024 IPv4+TCP
//! headers with random field values, 0-40 bytes of TCP options and 0-1460 bytes of payload.

use std::hint::black_box;

use unistack_benches::{Group, Rng};
use unistack_cstruct::{CEnum, Cstruct};
use zerocopy::network_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Protocol {
    Icmp = 1,
    Tcp = 6,
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
    #[bits(3)]
    flags: u8,
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
    flags: u8,
    window: u16,
    checksum: u16,
    urgent: u16,
}

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct Ipv4Zc {
    version_ihl: u8,
    tos: u8,
    total_len: U16,
    ident: U16,
    flags_frag: U16,
    ttl: u8,
    protocol: u8,
    checksum: U16,
    src: [u8; 4],
    dst: [u8; 4],
}

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct TcpZc {
    src_port: U16,
    dst_port: U16,
    seq: U32,
    ack: U32,
    offset_reserved: u8,
    flags: u8,
    window: U16,
    checksum: U16,
    urgent: U16,
}

/// Fold field number `i` into the checksum. The multiplies are independent and the adds
/// reassociate, so the fold adds no long dependency chain that would hide the reads' cost.
#[inline(always)]
fn mix(acc: u64, i: u64, v: u64) -> u64 {
    acc.wrapping_add((v ^ (i << 56)).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Dispatch on the protocol number as a stack does (the derived contender matches the enum).
#[inline(always)]
fn proto_class(p: u8) -> u64 {
    match p {
        6 => 1,
        17 => 2,
        1 => 3,
        _ => 0,
    }
}

fn frames() -> Vec<Vec<u8>> {
    let mut rng = Rng::new(0x756e_6973_7461_636b);
    (0..1024)
        .map(|_| {
            let opts = (rng.below(11) * 4) as usize;
            let payload = rng.below(1461) as usize;
            let total = 20 + 20 + opts + payload;
            let mut f = vec![0u8; total];
            for b in f.iter_mut().take(40 + opts) {
                *b = rng.next_u64() as u8;
            }
            f[0] = 0x45;
            f[2..4].copy_from_slice(&(total as u16).to_be_bytes());
            f[9] = 6;
            f[32] = (((20 + opts) / 4) as u8) << 4 | (f[32] & 0x0f);
            f
        })
        .collect()
}

#[inline(never)]
fn hand_written(frames: &[Vec<u8>]) -> u64 {
    let mut acc = 0u64;
    for f in frames {
        let f = black_box(&f[..]);
        if f.len() < 20 {
            continue;
        }
        let hl = usize::from(f[0] & 0x0f) * 4;
        let tl = usize::from(u16::from_be_bytes([f[2], f[3]]));
        if hl < 20 || hl > f.len() || tl < hl || tl > f.len() {
            continue;
        }
        acc = mix(acc, 0, u64::from(f[0] >> 4));
        acc = mix(acc, 1, hl as u64 / 4);
        acc = mix(acc, 2, u64::from(f[1] >> 2));
        acc = mix(acc, 3, u64::from(f[1] & 3));
        acc = mix(acc, 4, tl as u64);
        acc = mix(acc, 5, u64::from(u16::from_be_bytes([f[4], f[5]])));
        let ff = u16::from_be_bytes([f[6], f[7]]);
        acc = mix(acc, 6, u64::from(ff >> 13));
        acc = mix(acc, 7, u64::from(ff & 0x1fff));
        acc = mix(acc, 8, u64::from(f[8]));
        acc = mix(acc, 9, proto_class(f[9]));
        acc = mix(acc, 10, u64::from(u16::from_be_bytes([f[10], f[11]])));
        acc = mix(
            acc,
            11,
            u64::from(u32::from_be_bytes([f[12], f[13], f[14], f[15]])),
        );
        acc = mix(
            acc,
            12,
            u64::from(u32::from_be_bytes([f[16], f[17], f[18], f[19]])),
        );
        let t = &f[hl..tl];
        if t.len() < 20 {
            continue;
        }
        let thl = usize::from(t[12] >> 4) * 4;
        if thl < 20 || thl > t.len() {
            continue;
        }
        acc = mix(acc, 13, u64::from(u16::from_be_bytes([t[0], t[1]])));
        acc = mix(acc, 14, u64::from(u16::from_be_bytes([t[2], t[3]])));
        acc = mix(
            acc,
            15,
            u64::from(u32::from_be_bytes([t[4], t[5], t[6], t[7]])),
        );
        acc = mix(
            acc,
            16,
            u64::from(u32::from_be_bytes([t[8], t[9], t[10], t[11]])),
        );
        acc = mix(acc, 17, thl as u64 / 4);
        acc = mix(acc, 18, u64::from(t[12] & 0x0f));
        acc = mix(acc, 19, u64::from(t[13]));
        acc = mix(acc, 20, u64::from(u16::from_be_bytes([t[14], t[15]])));
        acc = mix(acc, 21, u64::from(u16::from_be_bytes([t[16], t[17]])));
        acc = mix(acc, 22, u64::from(u16::from_be_bytes([t[18], t[19]])));
        acc = mix(acc, 23, (t.len() - thl) as u64);
    }
    acc
}

#[inline(never)]
fn derived(frames: &[Vec<u8>]) -> u64 {
    let mut acc = 0u64;
    for f in frames {
        let Ok(ip) = Ipv4Packet::new_checked(black_box(&f[..])) else {
            continue;
        };
        acc = mix(acc, 0, u64::from(ip.version()));
        acc = mix(acc, 1, u64::from(ip.ihl()));
        acc = mix(acc, 2, u64::from(ip.dscp()));
        acc = mix(acc, 3, u64::from(ip.ecn()));
        acc = mix(acc, 4, u64::from(ip.total_len()));
        acc = mix(acc, 5, u64::from(ip.ident()));
        acc = mix(acc, 6, u64::from(ip.flags()));
        acc = mix(acc, 7, u64::from(ip.frag_offset()));
        acc = mix(acc, 8, u64::from(ip.ttl()));
        acc = mix(
            acc,
            9,
            match ip.protocol() {
                Protocol::Tcp => 1,
                Protocol::Udp => 2,
                Protocol::Icmp => 3,
                Protocol::Unknown(_) => 0,
            },
        );
        acc = mix(acc, 10, u64::from(ip.checksum()));
        acc = mix(acc, 11, u64::from(u32::from_be_bytes(*ip.src())));
        acc = mix(acc, 12, u64::from(u32::from_be_bytes(*ip.dst())));
        let Ok(tcp) = TcpSegment::new_checked(ip.payload()) else {
            continue;
        };
        acc = mix(acc, 13, u64::from(tcp.src_port()));
        acc = mix(acc, 14, u64::from(tcp.dst_port()));
        acc = mix(acc, 15, u64::from(tcp.seq()));
        acc = mix(acc, 16, u64::from(tcp.ack()));
        acc = mix(acc, 17, u64::from(tcp.data_offset()));
        acc = mix(acc, 18, u64::from(tcp.reserved()));
        acc = mix(acc, 19, u64::from(tcp.flags()));
        acc = mix(acc, 20, u64::from(tcp.window()));
        acc = mix(acc, 21, u64::from(tcp.checksum()));
        acc = mix(acc, 22, u64::from(tcp.urgent()));
        acc = mix(acc, 23, tcp.payload().len() as u64);
    }
    acc
}

#[inline(never)]
fn zerocopy_structs(frames: &[Vec<u8>]) -> u64 {
    let mut acc = 0u64;
    for f in frames {
        let f = black_box(&f[..]);
        let Ok((ip, _)) = Ipv4Zc::ref_from_prefix(f) else {
            continue;
        };
        let hl = usize::from(ip.version_ihl & 0x0f) * 4;
        let tl = usize::from(ip.total_len.get());
        if hl < 20 || hl > f.len() || tl < hl || tl > f.len() {
            continue;
        }
        acc = mix(acc, 0, u64::from(ip.version_ihl >> 4));
        acc = mix(acc, 1, hl as u64 / 4);
        acc = mix(acc, 2, u64::from(ip.tos >> 2));
        acc = mix(acc, 3, u64::from(ip.tos & 3));
        acc = mix(acc, 4, tl as u64);
        acc = mix(acc, 5, u64::from(ip.ident.get()));
        let ff = ip.flags_frag.get();
        acc = mix(acc, 6, u64::from(ff >> 13));
        acc = mix(acc, 7, u64::from(ff & 0x1fff));
        acc = mix(acc, 8, u64::from(ip.ttl));
        acc = mix(acc, 9, proto_class(ip.protocol));
        acc = mix(acc, 10, u64::from(ip.checksum.get()));
        acc = mix(acc, 11, u64::from(u32::from_be_bytes(ip.src)));
        acc = mix(acc, 12, u64::from(u32::from_be_bytes(ip.dst)));
        let Some(t) = f.get(hl..tl) else { continue };
        let Ok((tcp, _)) = TcpZc::ref_from_prefix(t) else {
            continue;
        };
        let thl = usize::from(tcp.offset_reserved >> 4) * 4;
        if thl < 20 || thl > t.len() {
            continue;
        }
        acc = mix(acc, 13, u64::from(tcp.src_port.get()));
        acc = mix(acc, 14, u64::from(tcp.dst_port.get()));
        acc = mix(acc, 15, u64::from(tcp.seq.get()));
        acc = mix(acc, 16, u64::from(tcp.ack.get()));
        acc = mix(acc, 17, thl as u64 / 4);
        acc = mix(acc, 18, u64::from(tcp.offset_reserved & 0x0f));
        acc = mix(acc, 19, u64::from(tcp.flags));
        acc = mix(acc, 20, u64::from(tcp.window.get()));
        acc = mix(acc, 21, u64::from(tcp.checksum.get()));
        acc = mix(acc, 22, u64::from(tcp.urgent.get()));
        acc = mix(acc, 23, (t.len() - thl) as u64);
    }
    acc
}

/// Field values for the emit bench: what a stack writes in front of a payload.
struct Fields {
    len: u16,
    ident: u16,
    ttl: u8,
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
}

fn field_sets() -> Vec<Fields> {
    let mut rng = Rng::new(0x656d_6974);
    (0..1024)
        .map(|_| {
            let r = rng.next_u64();
            let q = rng.next_u64();
            Fields {
                len: 40 + (r % 1460) as u16,
                ident: (r >> 16) as u16,
                ttl: (r >> 32) as u8,
                src: (q as u32).to_be_bytes(),
                dst: ((q >> 32) as u32).to_be_bytes(),
                sport: (r >> 40) as u16,
                dport: 80,
                seq: q as u32 ^ 0x5555_5555,
                ack: (q >> 32) as u32,
                flags: 0x18,
                window: (r >> 48) as u16,
            }
        })
        .collect()
}

/// Sum the written headers so the stores cannot be optimised away.
#[inline(always)]
fn digest(b: &[u8; 40]) -> u64 {
    b.chunks_exact(8).fold(0u64, |a, c| {
        a.wrapping_add(u64::from_le_bytes(c.try_into().unwrap_or_default()))
    })
}

#[inline(never)]
fn emit_hand_written(sets: &[Fields], out: &mut [u8; 40]) -> u64 {
    let mut acc = 0u64;
    for v in sets {
        let b = black_box(&mut *out);
        b[0] = 0x45;
        b[1] = 0;
        b[2..4].copy_from_slice(&v.len.to_be_bytes());
        b[4..6].copy_from_slice(&v.ident.to_be_bytes());
        b[6..8].copy_from_slice(&0x4000u16.to_be_bytes());
        b[8] = v.ttl;
        b[9] = 6;
        b[10..12].copy_from_slice(&[0, 0]);
        b[12..16].copy_from_slice(&v.src);
        b[16..20].copy_from_slice(&v.dst);
        b[20..22].copy_from_slice(&v.sport.to_be_bytes());
        b[22..24].copy_from_slice(&v.dport.to_be_bytes());
        b[24..28].copy_from_slice(&v.seq.to_be_bytes());
        b[28..32].copy_from_slice(&v.ack.to_be_bytes());
        b[32] = 5 << 4;
        b[33] = v.flags;
        b[34..36].copy_from_slice(&v.window.to_be_bytes());
        b[36..40].copy_from_slice(&[0, 0, 0, 0]);
        acc = acc.wrapping_add(digest(b));
    }
    acc
}

#[inline(never)]
fn emit_derived(sets: &[Fields], out: &mut [u8; 40]) -> u64 {
    let mut acc = 0u64;
    for v in sets {
        let b = black_box(&mut *out);
        let mut ip = Ipv4Packet::new_unchecked(&mut b[..20]);
        ip.set_version(4);
        ip.set_ihl(5);
        ip.set_dscp(0);
        ip.set_ecn(0);
        ip.set_total_len(v.len);
        ip.set_ident(v.ident);
        ip.set_flags(0b010);
        ip.set_frag_offset(0);
        ip.set_ttl(v.ttl);
        ip.set_protocol(Protocol::Tcp);
        ip.set_checksum(0);
        ip.set_src(&v.src);
        ip.set_dst(&v.dst);
        let mut tcp = TcpSegment::new_unchecked(&mut b[20..]);
        tcp.set_src_port(v.sport);
        tcp.set_dst_port(v.dport);
        tcp.set_seq(v.seq);
        tcp.set_ack(v.ack);
        tcp.set_data_offset(5);
        tcp.set_reserved(0);
        tcp.set_flags(v.flags);
        tcp.set_window(v.window);
        tcp.set_checksum(0);
        tcp.set_urgent(0);
        acc = acc.wrapping_add(digest(b));
    }
    acc
}

#[inline(never)]
fn emit_zerocopy(sets: &[Fields], out: &mut [u8; 40]) -> u64 {
    let mut acc = 0u64;
    for v in sets {
        let b = black_box(&mut *out);
        let (head, tail) = b.split_at_mut(20);
        if let Ok(ip) = Ipv4Zc::mut_from_bytes(head) {
            ip.version_ihl = 0x45;
            ip.tos = 0;
            ip.total_len = U16::new(v.len);
            ip.ident = U16::new(v.ident);
            ip.flags_frag = U16::new(0x4000);
            ip.ttl = v.ttl;
            ip.protocol = 6;
            ip.checksum = U16::new(0);
            ip.src = v.src;
            ip.dst = v.dst;
        }
        if let Ok(tcp) = TcpZc::mut_from_bytes(tail) {
            tcp.src_port = U16::new(v.sport);
            tcp.dst_port = U16::new(v.dport);
            tcp.seq = U32::new(v.seq);
            tcp.ack = U32::new(v.ack);
            tcp.offset_reserved = 5 << 4;
            tcp.flags = v.flags;
            tcp.window = U16::new(v.window);
            tcp.checksum = U16::new(0);
            tcp.urgent = U16::new(0);
        }
        acc = acc.wrapping_add(digest(b));
    }
    acc
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run a short smoke.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let frames = frames();
    let mut g = Group::new(
        "IPv4+TCP header: check lengths, read every field",
        frames.len(),
    );
    if smoke {
        g.budget(3, std::time::Duration::from_millis(1));
    }
    g.add("hand-written from_be_bytes", || hand_written(&frames));
    g.add("unistack-cstruct derived views", || derived(&frames));
    g.add("zerocopy network_endian structs", || {
        zerocopy_structs(&frames)
    });
    let read = g.run();

    let sets = field_sets();
    let (mut b1, mut b2, mut b3) = ([0u8; 40], [0u8; 40], [0u8; 40]);
    let mut e = Group::new("IPv4+TCP header: write every field in place", sets.len());
    if smoke {
        e.budget(3, std::time::Duration::from_millis(1));
    }
    e.add("hand-written to_be_bytes", || {
        emit_hand_written(&sets, &mut b1)
    });
    e.add("unistack-cstruct derived setters", || {
        emit_derived(&sets, &mut b2)
    });
    e.add("zerocopy network_endian structs", || {
        emit_zerocopy(&sets, &mut b3)
    });
    let write = e.run();
    if smoke {
        println!(
            "\n  smoke run (unoptimised, tiny budget): contenders agree; figures mean nothing"
        );
        return;
    }
    println!(
        "\n  target: derived views within 1.1x of hand-written; measured read {:.3}x, write {:.3}x \
         (zerocopy {:.3}x, {:.3}x)",
        read[1].ratio, write[1].ratio, read[2].ratio, write[2].ratio
    );
}
