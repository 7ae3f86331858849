//! Fragmentation on emit and bounded reassembly: scripted cases for every policy decision,
//! and properties (fragment → shuffle/duplicate → reassemble is the identity; arbitrary
//! fragment streams never panic and never exceed the bounds).

mod common;

use std::time::Duration;

use common::*;
use proptest::prelude::*;
use unistack_ipv4::*;

type Small = Reassembler<4, 4096, 64>;

/// A reassembled datagram: its header bytes and its payload.
type Datagram = (Vec<u8>, Vec<u8>);

fn caps() -> ChecksumCaps {
    ChecksumCaps::default()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// Fragment `data` with `repr` over `mtu`; return each fragment's bytes.
fn fragment(repr: &Ipv4Repr<'_>, data: &[u8], mtu: usize) -> Vec<Vec<u8>> {
    let mut f = Fragmenter::new(repr, data, mtu).unwrap();
    let expected = f.remaining();
    let mut out = Vec::new();
    while let Some(len) = f.next_len() {
        let mut buf = vec![0u8; len];
        assert_eq!(f.emit_next(&mut buf, &caps()), Ok(Some(len)));
        out.push(buf);
    }
    assert!(f.is_done());
    assert_eq!(out.len(), expected);
    assert_eq!(f.emit_next(&mut [0u8; 2000], &caps()), Ok(None));
    out
}

/// Parse a fragment and feed it to the reassembler; return the datagram if completed.
fn feed<const S: usize, const L: usize, const F: usize>(
    r: &mut Reassembler<S, L, F>,
    now: Duration,
    bytes: &[u8],
) -> Result<Option<Datagram>, ReassemblyError> {
    let ip = Ipv4Packet::new_checked(bytes).unwrap();
    let repr = Ipv4Repr::parse(&ip, &caps()).unwrap();
    Ok(r.accept(now, &repr, ip.payload())?.map(|d| {
        let mut header = vec![0u8; d.repr.header_len()];
        d.repr
            .emit(&mut Ipv4Packet::new_unchecked(&mut header[..]), &caps());
        (header, d.payload.to_vec())
    }))
}

fn udp_repr(len: usize) -> Ipv4Repr<'static> {
    let mut r = Ipv4Repr::new(
        Ipv4Address::new(192, 0, 2, 1),
        Ipv4Address::new(192, 0, 2, 2),
        Protocol::Udp,
        len,
        64,
    );
    r.ident = 0x4242;
    r
}

#[test]
fn fits_means_one_unchanged_datagram() {
    let data = payload(1480);
    let repr = udp_repr(1480);
    let frags = fragment(&repr, &data, 1500);
    assert_eq!(frags.len(), 1);
    let ip = Ipv4Packet::new_checked(&frags[0][..]).unwrap();
    assert_eq!(Ipv4Repr::parse(&ip, &caps()).unwrap(), repr);
    assert_eq!(ip.payload(), &data[..]);
}

#[test]
fn fragments_respect_the_mtu_and_rfc791() {
    let data = payload(4000);
    let repr = udp_repr(4000);
    let frags = fragment(&repr, &data, 1500);
    assert_eq!(frags.len(), 3);
    let mut offset = 0;
    for (i, f) in frags.iter().enumerate() {
        assert!(f.len() <= 1500);
        let ip = Ipv4Packet::new_checked(&f[..]).unwrap();
        let r = Ipv4Repr::parse(&ip, &caps()).unwrap();
        assert_eq!(r.ident, 0x4242);
        assert_eq!(usize::from(r.frag_offset), offset);
        assert_eq!(r.more_frags, i < 2);
        if r.more_frags {
            assert_eq!(r.payload_len % 8, 0);
            assert_eq!(r.payload_len, 1480);
        }
        assert_eq!(ip.payload(), &data[offset..offset + r.payload_len]);
        offset += r.payload_len;
    }
    assert_eq!(offset, 4000);
    // An odd MTU: data per fragment rounds down to a multiple of 8.
    let frags = fragment(&repr, &data, 1003);
    let ip = Ipv4Packet::new_checked(&frags[0][..]).unwrap();
    assert_eq!(ip.payload().len(), 976);
}

#[test]
fn dont_fragment_and_tiny_mtus_are_typed_errors() {
    let data = payload(2000);
    let mut repr = udp_repr(2000);
    repr.dont_frag = true;
    assert_eq!(
        Fragmenter::new(&repr, &data, 1500).unwrap_err(),
        FragmentError::DontFragment {
            mtu: 1500,
            len: 2020
        }
    );
    // DF is fine when it fits.
    assert!(Fragmenter::new(&repr, &data, 2020).is_ok());
    repr.dont_frag = false;
    assert_eq!(
        Fragmenter::new(&repr, &data, 27).unwrap_err(),
        FragmentError::MtuTooSmall { mtu: 27 }
    );
    assert!(Fragmenter::new(&repr, &data, 28).is_ok());
    assert_eq!(
        Fragmenter::new(&repr, &data[..5], 1500).unwrap_err(),
        FragmentError::PayloadLenMismatch {
            repr: 2000,
            payload: 5
        }
    );
    let big = payload(65516);
    assert_eq!(
        Fragmenter::new(&udp_repr(65516), &big, 1500).unwrap_err(),
        FragmentError::TooLarge
    );
    let mut f = Fragmenter::new(&repr, &data, 1500).unwrap();
    assert_eq!(
        f.emit_next(&mut [0u8; 100], &caps()),
        Err(FragmentError::BufferTooSmall {
            needed: 1500,
            got: 100
        })
    );
    assert_eq!(f.remaining(), 2, "nothing consumed on error");
}

#[test]
fn only_copied_options_follow_into_later_fragments() {
    // Router Alert (copied), Record Route (not copied), padding.
    let opts = [0x94, 4, 0, 0, 0x07, 7, 4, 0, 0, 0, 0, 0];
    let data = payload(3000);
    let mut repr = udp_repr(3000);
    repr.options = Ipv4Options::new(&opts).unwrap();
    let frags = fragment(&repr, &data, 1000);
    let first = Ipv4Packet::new_checked(&frags[0][..]).unwrap();
    assert_eq!(first.options(), &opts);
    for f in &frags[1..] {
        let ip = Ipv4Packet::new_checked(&f[..]).unwrap();
        assert_eq!(ip.options(), &[0x94, 4, 0, 0]);
        assert!(f.len() <= 1000);
    }
    // Reassembly restores the first fragment's header, options included.
    let mut r = Small::new(secs(30));
    let mut done = None;
    for f in frags.iter().rev() {
        done = feed(&mut r, secs(0), f).unwrap();
    }
    let (header, got) = done.unwrap();
    assert_eq!(got, data);
    let ip = Ipv4Packet::new_unchecked(&header[..]);
    assert_eq!(ip.options(), &opts);
    assert_eq!(usize::from(ip.total_len()), 32 + 3000);
}

#[test]
fn refragmenting_a_fragment_keeps_its_offset_and_more_fragments() {
    let data = payload(1600);
    let mut repr = udp_repr(1600);
    repr.frag_offset = 2400;
    repr.more_frags = true;
    let frags = fragment(&repr, &data, 1000);
    let last = Ipv4Packet::new_checked(&frags[frags.len() - 1][..]).unwrap();
    let r = Ipv4Repr::parse(&last, &caps()).unwrap();
    assert!(r.more_frags);
    let first = Ipv4Packet::new_checked(&frags[0][..]).unwrap();
    assert_eq!(first.frag_offset_bytes(), 2400);
}

#[test]
fn in_order_out_of_order_and_duplicates_reassemble() {
    let data = payload(4000);
    let repr = udp_repr(4000);
    let frags = fragment(&repr, &data, 576);
    assert_eq!(frags.len(), 8);
    let orders: Vec<Vec<usize>> = vec![
        (0..frags.len()).collect(),
        (0..frags.len()).rev().collect(),
        vec![3, 0, 1, 1, 5, 2, 3, 6, 0, 4, 7],
    ];
    for order in orders {
        let mut r = Small::new(secs(30));
        let mut done = None;
        for &i in &order {
            if let Some(i) = frags.get(i) {
                assert!(done.is_none(), "completed early");
                done = feed(&mut r, secs(1), i).unwrap();
            }
        }
        let (header, got) = done.expect("complete");
        assert_eq!(got, data);
        let whole = [header, got].concat();
        let ip = Ipv4Packet::new_checked(&whole[..]).unwrap();
        let rr = Ipv4Repr::parse(&ip, &caps()).unwrap();
        assert_eq!(rr.payload_len, 4000);
        assert!(!rr.is_fragment());
        assert_eq!(rr.ident, 0x4242);
        assert_eq!(r.in_progress(), 0);
    }
}

/// A hand-made fragment of `udp_repr` with this offset, MF flag and data.
fn frag(offset: u16, more: bool, data: &[u8]) -> Vec<u8> {
    let mut repr = udp_repr(data.len());
    repr.frag_offset = offset;
    repr.more_frags = more;
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut b[..]), &caps());
    b[20..].copy_from_slice(data);
    b
}

#[test]
fn teardrop_overlaps_drop_the_datagram() {
    let mut r = Small::new(secs(30));
    assert_eq!(feed(&mut r, secs(0), &frag(0, true, &[1; 64])), Ok(None));
    // Teardrop: the second fragment starts inside the first.
    assert_eq!(
        feed(&mut r, secs(0), &frag(32, false, &[2; 40])),
        Err(ReassemblyError::Overlap)
    );
    assert_eq!(r.in_progress(), 0);
    // Same range, different bytes: also an overlap.
    assert_eq!(feed(&mut r, secs(0), &frag(0, true, &[1; 64])), Ok(None));
    assert_eq!(
        feed(&mut r, secs(0), &frag(0, true, &[9; 64])),
        Err(ReassemblyError::Overlap)
    );
    // A fragment containing another.
    assert_eq!(feed(&mut r, secs(0), &frag(64, true, &[1; 16])), Ok(None));
    assert_eq!(
        feed(&mut r, secs(0), &frag(56, true, &[1; 32])),
        Err(ReassemblyError::Overlap)
    );
}

#[test]
fn inconsistent_ends_drop_the_datagram() {
    let mut r = Small::new(secs(30));
    assert_eq!(feed(&mut r, secs(0), &frag(64, false, &[1; 10])), Ok(None));
    // A second last fragment with another end.
    assert_eq!(
        feed(&mut r, secs(0), &frag(64, false, &[1; 12])),
        Err(ReassemblyError::Inconsistent)
    );
    // Data past the declared end.
    assert_eq!(feed(&mut r, secs(0), &frag(64, false, &[1; 10])), Ok(None));
    assert_eq!(
        feed(&mut r, secs(0), &frag(80, true, &[1; 8])),
        Err(ReassemblyError::Inconsistent)
    );
    // A last fragment ending before data already held.
    assert_eq!(feed(&mut r, secs(0), &frag(80, true, &[1; 8])), Ok(None));
    assert_eq!(
        feed(&mut r, secs(0), &frag(40, false, &[1; 8])),
        Err(ReassemblyError::Inconsistent)
    );
    // An identical duplicate of the last fragment is fine.
    assert_eq!(feed(&mut r, secs(0), &frag(64, false, &[1; 10])), Ok(None));
    assert_eq!(feed(&mut r, secs(0), &frag(64, false, &[1; 10])), Ok(None));
    assert_eq!(
        feed(&mut r, secs(0), &frag(0, true, &[1; 64]))
            .unwrap()
            .unwrap()
            .1
            .len(),
        74
    );
}

#[test]
fn bounds_on_bytes_fragments_slots_and_time() {
    // Bytes: MAX_LEN 4096.
    let mut r = Small::new(secs(30));
    assert_eq!(
        feed(&mut r, secs(0), &frag(4096, false, &[1; 8])),
        Err(ReassemblyError::TooLarge)
    );
    // 65535 overall (ping of death), with a reassembler that would hold it.
    let mut big: Box<Reassembler<1, 70000, 16>> = Box::new(Reassembler::new(secs(30)));
    let mut repr = udp_repr(64);
    repr.frag_offset = 65472;
    assert_eq!(
        big.accept(secs(0), &repr, &[0; 64]).unwrap_err(),
        ReassemblyError::TooLarge
    );

    // Fragments: MAX_FRAGS 4.
    let mut r: Reassembler<2, 1024, 4> = Reassembler::new(secs(30));
    for i in 0..4u16 {
        assert_eq!(
            feed(&mut r, secs(0), &frag(i * 16, true, &[1; 8])),
            Ok(None)
        );
    }
    assert_eq!(
        feed(&mut r, secs(0), &frag(200, true, &[1; 8])),
        Err(ReassemblyError::TooManyFragments)
    );
    assert_eq!(r.in_progress(), 0);

    // Slots: 4 datagrams in progress; a fifth evicts the oldest (ident 0, deadline 30 s).
    let mut r = Small::new(secs(30));
    for ident in 0..5u16 {
        let mut repr = udp_repr(8);
        repr.ident = ident;
        repr.more_frags = true;
        assert_eq!(r.accept(secs(ident.into()), &repr, &[0; 8]), Ok(None));
    }
    assert_eq!(r.in_progress(), 4);
    // Time: deadlines run from each datagram's first fragment (ident 0's is gone).
    assert_eq!(r.poll_timeout(), Some(secs(31)));
    assert_eq!(r.handle_timeout(secs(32)), 2);
    assert_eq!(r.in_progress(), 2);
    assert_eq!(r.poll_timeout(), Some(secs(33)));
    // A late fragment of an expired datagram starts afresh and cannot complete with the old.
    let mut repr = udp_repr(8);
    repr.ident = 0;
    repr.frag_offset = 8;
    assert_eq!(r.accept(secs(40), &repr, &[0; 8]), Ok(None));
    assert_eq!(r.in_progress(), 1, "accept expired idents 3 and 4 too");
    assert_eq!(r.handle_timeout(secs(1000)), 1);
    assert_eq!(r.poll_timeout(), None);
}

#[test]
fn bad_fragments_and_non_fragments() {
    let mut r = Small::new(secs(30));
    let whole = udp_repr(8);
    assert_eq!(
        r.accept(secs(0), &whole, &[0; 8]),
        Err(ReassemblyError::NotAFragment)
    );
    let mut odd = udp_repr(7);
    odd.more_frags = true;
    assert_eq!(
        r.accept(secs(0), &odd, &[0; 7]),
        Err(ReassemblyError::BadFragment)
    );
    let mut mismatch = udp_repr(8);
    mismatch.more_frags = true;
    assert_eq!(
        r.accept(secs(0), &mismatch, &[0; 16]),
        Err(ReassemblyError::BadFragment)
    );
    let mut unaligned = udp_repr(8);
    unaligned.frag_offset = 4;
    assert_eq!(
        r.accept(secs(0), &unaligned, &[0; 8]),
        Err(ReassemblyError::BadFragment)
    );
    assert_eq!(r.in_progress(), 0);
}

#[test]
fn reassembled_ping_is_answered() {
    // A 3000-byte ping in fragments: reassemble, then echo.
    let data = payload(3000 - 8);
    let icmp = Icmpv4Repr::EchoRequest {
        ident: 9,
        seq_no: 3,
        data: &data,
    };
    let mut msg = vec![0u8; icmp.buffer_len()];
    icmp.emit(&mut Icmpv4Packet::new_unchecked(&mut msg[..]), &caps());
    let mut repr = Ipv4Repr::new(
        Ipv4Address::new(192, 168, 1, 10),
        Ipv4Address::new(192, 168, 1, 1),
        Protocol::Icmp,
        msg.len(),
        64,
    );
    repr.ident = 77;
    let frags = fragment(&repr, &msg, 1500);
    let mut r = Small::new(secs(30));
    let mut out = vec![0u8; 4000];
    let config = EchoConfig {
        addr: Ipv4Address::new(192, 168, 1, 1),
        ttl: 64,
        caps: caps(),
    };
    let mut answered = 0;
    for f in &frags {
        let ip = Ipv4Packet::new_checked(&f[..]).unwrap();
        let fr = Ipv4Repr::parse(&ip, &caps()).unwrap();
        if let Some(d) = r.accept(secs(0), &fr, ip.payload()).unwrap() {
            let p = Icmpv4Packet::new_checked(d.payload).unwrap();
            let m = Icmpv4Repr::parse(&p, &caps()).unwrap();
            answered = echo_reply(&config, &d.repr, &m, 1, &mut out).unwrap();
        }
    }
    assert_eq!(answered, 3020);
    let reply = Ipv4Packet::new_checked(&out[..answered]).unwrap();
    assert!(reference_ok(&out[..20]));
    assert!(reference_ok(reply.payload()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn fragment_shuffle_duplicate_reassemble(len in 0usize..6000, mtu in 68usize..1600,
                                             order in prop::collection::vec(any::<prop::sample::Index>(), 0..40),
                                             opts in prop::sample::select(vec![vec![], vec![0x94u8, 4, 0, 0], vec![1, 7, 3, 4]])) {
        let data = payload(len);
        let mut repr = udp_repr(len);
        repr.options = Ipv4Options::new(&opts).unwrap();
        let frags = fragment(&repr, &data, mtu);
        for f in &frags {
            prop_assert!(f.len() <= mtu.max(repr.buffer_len().min(mtu)));
        }
        if frags.len() == 1 {
            let ip = Ipv4Packet::new_checked(&frags[0][..]).unwrap();
            prop_assert_eq!(ip.payload(), &data[..]);
            return Ok(());
        }
        // Every fragment once in a random order, with random duplicates mixed in.
        let mut seq: Vec<usize> = (0..frags.len()).collect();
        for (k, i) in order.iter().enumerate() {
            let a = i.index(seq.len());
            let b = (a + k) % seq.len();
            seq.swap(a, b);
            if k % 3 == 0 {
                seq.push(i.index(frags.len()));
            }
        }
        let mut r: Box<Reassembler<2, 8192, 128>> = Box::new(Reassembler::new(secs(30)));
        let mut done = None;
        let mut seen = std::collections::HashSet::new();
        for &i in &seq {
            seen.insert(i);
            let out = feed(&mut r, secs(1), &frags[i]).unwrap();
            if seen.len() < frags.len() {
                prop_assert!(out.is_none());
            }
            if out.is_some() {
                // Complete exactly when the last missing fragment arrived. (Duplicates after
                // this would start a new datagram, as in Linux.)
                done = out;
                break;
            }
        }
        let (header, got) = done.unwrap();
        prop_assert_eq!(got, data);
        let ip = Ipv4Packet::new_unchecked(&header[..]);
        prop_assert_eq!(ip.options(), &opts[..]);
    }

    #[test]
    fn arbitrary_fragment_streams_stay_in_bounds(
        ops in prop::collection::vec((0u16..3, 0u16..64, any::<bool>(), 0usize..24, any::<u8>(), 0u64..5), 0..200)
    ) {
        let mut r: Reassembler<3, 256, 6> = Reassembler::new(secs(10));
        let mut now = Duration::ZERO;
        for (ident, units, more, len, fill, dt) in ops {
            now += secs(dt);
            let len = if more { len & !7 } else { len };
            let mut repr = udp_repr(len);
            repr.ident = ident;
            repr.frag_offset = units * 8;
            repr.more_frags = more;
            let data = vec![fill; len];
            if let Ok(Some(d)) = r.accept(now, &repr, &data) {
                prop_assert!(d.payload.len() <= 256);
                prop_assert_eq!(d.repr.payload_len, d.payload.len());
                prop_assert!(!d.repr.is_fragment());
            }
            prop_assert!(r.in_progress() <= 3);
            if let Some(t) = r.poll_timeout() {
                prop_assert!(t <= now + secs(10));
            }
        }
    }
}

/// Review finding: the reassembled header carries the first fragment's options, so the
/// 65535-byte limit must count them even when later fragments carry none (ping of death).
#[test]
fn first_fragment_options_count_toward_the_size_limit() {
    let opts = [1u8; 40]; // 40 bytes of NOP options
    let mut first = udp_repr(8);
    first.more_frags = true;
    first.options = Ipv4Options::new(&opts).unwrap();
    let mut middle = udp_repr(65504);
    middle.frag_offset = 8;
    middle.more_frags = true;
    let mut last = udp_repr(3);
    last.frag_offset = 65512;
    let big = vec![0u8; 65504];
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
        let mut r: Box<Reassembler<1, 65536, 8>> = Box::new(Reassembler::new(secs(30)));
        let parts: [(&Ipv4Repr<'_>, &[u8]); 3] =
            [(&first, &[0; 8]), (&middle, &big), (&last, &[0; 3])];
        let mut results = Vec::new();
        for i in order {
            let (repr, data) = parts[i];
            results.push(r.accept(secs(0), repr, data).map(|d| d.is_some()));
        }
        assert!(
            results.contains(&Err(ReassemblyError::TooLarge)),
            "order {order:?}: {results:?}"
        );
        assert!(!results.contains(&Ok(true)), "order {order:?} reassembled");
    }
}

/// Review finding: a handful of tiny fragments per timeout must not pin every slot; an empty
/// fragment is refused, and a new datagram evicts the oldest one in progress.
#[test]
fn slots_cannot_be_pinned() {
    let mut r = Small::new(secs(30));
    let mut empty = udp_repr(0);
    empty.more_frags = true;
    assert_eq!(
        r.accept(secs(0), &empty, &[]),
        Err(ReassemblyError::BadFragment)
    );
    // An attacker fills every slot with one 8-byte fragment each.
    for ident in 0..4u16 {
        let mut repr = udp_repr(8);
        repr.ident = 0x9000 + ident;
        repr.more_frags = true;
        assert_eq!(r.accept(secs(1), &repr, &[0; 8]), Ok(None));
    }
    // A legitimate two-fragment datagram still gets through.
    assert_eq!(feed(&mut r, secs(2), &frag(0, true, &[7; 16])), Ok(None));
    let done = feed(&mut r, secs(2), &frag(16, false, &[8; 4]))
        .unwrap()
        .unwrap();
    assert_eq!(done.1.len(), 20);
    assert_eq!(r.in_progress(), 3, "one attacker datagram was evicted");
}
