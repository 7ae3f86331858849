//! Hostile peers: a back end that sends malformed responses to a blkfront, and a front end
//! that sends malformed requests to a blkback. Every violation is a typed error or an error
//! response — never a panic, a hang or an access outside the store.
//!
//! The same bodies back the fuzz targets `blk_front_responses` and `blk_back_requests`; the
//! proptests here feed them random bytes, and the committed fuzz corpora are replayed.

use proptest::prelude::*;
use unistack_blk::fuzzing::{self, HostileBack, HostileFront};
use unistack_blk::{BackConfig, Error, MemStorage, Op, Status};
use unistack_vchan::blkif::{
    BlkifOp, BlkifRequest, BlkifRequestDiscard, BlkifRequestIndirect, BlkifResponse, BlkifSegment,
    BlkifStatus, DISCARD_SECURE,
};
use unistack_vchan::{Corrupt, Mapping, Store};

// ---------------------------------------------------------------------------------------
// Hostile back end, blkfront under test.

fn rsp(id: u64, operation: BlkifOp, status: BlkifStatus) -> BlkifResponse {
    BlkifResponse {
        id,
        operation,
        status,
        ..Default::default()
    }
}

fn back(max_indirect: u32) -> HostileBack<4, 16> {
    HostileBack::new(256, max_indirect)
}

#[test]
fn unknown_id_is_rejected_and_sticky() {
    let mut h = back(0);
    let t = h.front.submit_read(0, 4096).unwrap();
    let req = h.pop().unwrap();
    assert_eq!(
        (req.operation, req.id, req.nr_segments),
        (BlkifOp::Read, t.id(), 1)
    );
    h.push(&rsp(req.id ^ 0x100, BlkifOp::Read, BlkifStatus::Okay));
    let e = Error::Corrupt(Corrupt::UnknownId(req.id ^ 0x100));
    assert_eq!(h.front.poll(), Err(e));
    // Sticky: even the right response is not trusted now, nor new requests.
    h.push(&rsp(req.id, BlkifOp::Read, BlkifStatus::Okay));
    assert_eq!(h.front.poll(), Err(e));
    assert_eq!(h.front.submit_read(0, 512).err(), Some(e));
    assert_eq!(h.front.final_check(), Err(e));
}

#[test]
fn repeated_and_stale_ids_are_rejected() {
    let mut h = back(0);
    let t1 = h.front.submit_write(0, &[1; 512]).unwrap();
    let r1 = h.pop().unwrap();
    h.push(&rsp(r1.id, BlkifOp::Write, BlkifStatus::Okay));
    let c = h.front.poll().unwrap().unwrap();
    assert_eq!((c.tag, c.op, c.status), (t1, Op::Write, Status::Okay));
    // The slot is reused with a new generation: the old id no longer matches.
    let t2 = h.front.submit_write(0, &[2; 512]).unwrap();
    assert_eq!(t2.slot(), t1.slot());
    assert_ne!(t2.id(), t1.id());
    let r2 = h.pop().unwrap();
    h.push(&rsp(r1.id, BlkifOp::Write, BlkifStatus::Okay)); // a replay of the first answer
    assert_eq!(
        h.front.poll(),
        Err(Error::Corrupt(Corrupt::UnknownId(r1.id)))
    );
    let _ = r2;

    // Repeated: the same id answered twice (in the slot of another request's answer, so
    // the ring's index check does not catch it first).
    let mut h = back(0);
    h.front.submit_flush().unwrap();
    h.front.submit_flush().unwrap();
    let r = h.pop().unwrap();
    assert_eq!((r.operation, r.nr_segments), (BlkifOp::FlushDiskcache, 0));
    h.push(&rsp(r.id, BlkifOp::FlushDiskcache, BlkifStatus::Okay));
    h.push(&rsp(r.id, BlkifOp::FlushDiskcache, BlkifStatus::Okay));
    assert_eq!(h.front.poll().unwrap().unwrap().op, Op::Flush);
    assert_eq!(
        h.front.poll(),
        Err(Error::Corrupt(Corrupt::UnknownId(r.id)))
    );
    // One more response than requests in flight: the ring's index check.
    let mut h = back(0);
    h.front.submit_flush().unwrap();
    let r = h.pop().unwrap();
    h.push(&rsp(r.id, BlkifOp::FlushDiskcache, BlkifStatus::Okay));
    h.push(&rsp(r.id, BlkifOp::FlushDiskcache, BlkifStatus::Okay));
    assert!(matches!(
        h.front.poll(),
        Err(Error::Corrupt(Corrupt::Index { .. }))
    ));
}

#[test]
fn wrong_operation_and_unknown_status_are_rejected() {
    let mut h = back(0);
    h.front.submit_read(0, 512).unwrap();
    let r = h.pop().unwrap();
    h.push(&rsp(r.id, BlkifOp::Write, BlkifStatus::Okay));
    assert_eq!(
        h.front.poll(),
        Err(Error::Corrupt(Corrupt::Field {
            field: "operation",
            value: 1
        }))
    );
    let mut h = back(0);
    h.front.submit_read(0, 512).unwrap();
    let r = h.pop().unwrap();
    h.push(&rsp(r.id, BlkifOp::Read, BlkifStatus::from_raw(7)));
    assert_eq!(
        h.front.poll(),
        Err(Error::Corrupt(Corrupt::Field {
            field: "status",
            value: 7
        }))
    );
}

#[test]
fn response_index_out_of_range_is_rejected() {
    let mut h = back(0);
    h.front.submit_read(0, 512).unwrap();
    // Claims 5 responses with one request in flight.
    h.rsp_prod = 5;
    h.ring
        .shm()
        .store_u32(8, 5, std::sync::atomic::Ordering::Release)
        .unwrap();
    assert!(matches!(
        h.front.poll(),
        Err(Error::Corrupt(Corrupt::Index { prod: 5, .. }))
    ));
    assert_eq!(h.front.in_flight(), 1);
}

#[test]
fn error_and_not_supported_answers_are_statuses_not_violations() {
    let mut h = back(64);
    let t = h.front.submit_read(0, 16 * 4096).unwrap();
    let r = h.pop().unwrap();
    assert_eq!(
        r.operation,
        BlkifOp::Indirect,
        "16 pages need an indirect request"
    );
    let ind = r.as_indirect();
    assert_eq!((ind.indirect_op, ind.nr_segments), (BlkifOp::Read, 16));
    // Linux's blkback echoes the inner operation; the indirect code is accepted too.
    h.push(&rsp(r.id, BlkifOp::Read, BlkifStatus::Error));
    let c = h.front.poll().unwrap().unwrap();
    assert_eq!((c.tag, c.status), (t, Status::Error));
    assert_eq!(c.status.result(), Err(Error::Io));
    assert!(h.front.read_data(t).is_err(), "a failed read has no data");
    assert_eq!(h.front.free_slots(), 4);
    h.front.submit_discard(0, 4096).unwrap();
    let r = h.pop().unwrap();
    let d = r.as_discard();
    assert_eq!((d.sector_number, d.nr_sectors, d.flag), (0, 8, 0));
    h.push(&rsp(r.id, BlkifOp::Discard, BlkifStatus::EOpNotSupp));
    let c = h.front.poll().unwrap().unwrap();
    assert_eq!(
        (c.op, c.status.result()),
        (Op::Discard, Err(Error::NotSupported))
    );
    assert_eq!(h.front.corrupt(), None);
}

#[test]
fn bad_store_values_fail_the_connect() {
    use unistack_blk::{DevicePaths, FrontConfig, FrontConnector, XVDA, create_device};
    use unistack_vchan::local::{Domain, Hypervisor};
    for (key, value) in [
        ("sector-size", "1000"),
        ("sector-size", "256"),
        ("sectors", "-1"),
        ("sectors", "18446744073709551615"),
        ("sectors", "12 "),
        ("feature-discard", "2"),
        ("state", "99"),
    ] {
        let hv = Hypervisor::new();
        let paths = DevicePaths::new(1, 0, XVDA);
        let back = hv.domain(0);
        create_device(&back, &paths).unwrap();
        let k = |leaf: &str| paths.back.join(leaf).unwrap();
        back.write(k("state").as_str(), "2").unwrap();
        let mut c = FrontConnector::<Domain, 2, 11>::new(
            hv.domain(1),
            paths.clone(),
            FrontConfig::default(),
        );
        assert!(matches!(c.poll(), Err(Error::WouldBlock)));
        back.write(k("sectors").as_str(), "64").unwrap();
        back.write(k("state").as_str(), "4").unwrap();
        back.write(k(key).as_str(), value).unwrap();
        assert_eq!(
            c.poll().err(),
            Some(Error::Corrupt(Corrupt::StoreValue)),
            "{key}={value}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_responses_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        fuzzing::front_responses(&data);
    }

    #[test]
    fn random_requests_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        fuzzing::back_requests(&data);
    }
}

// ---------------------------------------------------------------------------------------
// Hostile front end, blkback under test.

fn front(config: BackConfig) -> HostileFront {
    HostileFront::new(MemStorage::new(64 * 1024), config, 8)
}

fn rw(op: BlkifOp, id: u64, sector: u64, segs: &[BlkifSegment]) -> BlkifRequest {
    let mut r = BlkifRequest {
        operation: op,
        nr_segments: segs.len() as u8,
        id,
        sector_number: sector,
        ..Default::default()
    };
    for (i, s) in segs.iter().enumerate() {
        r.set_segment(i, s);
    }
    r
}

fn seg(gref: u32, first: u8, last: u8) -> BlkifSegment {
    BlkifSegment {
        gref,
        first_sect: first,
        last_sect: last,
        pad: [0; 2],
    }
}

/// Ask, and check the store did not change unless the answer is Okay.
fn ask(h: &mut HostileFront, req: &BlkifRequest) -> BlkifStatus {
    let before = h.back.storage().0.data.clone();
    let r = h.ask(req);
    assert_eq!(
        r.operation,
        if req.operation == BlkifOp::Indirect {
            req.as_indirect().indirect_op
        } else {
            req.operation
        }
    );
    if r.status != BlkifStatus::Okay {
        assert!(
            h.back.storage().0.data == before,
            "a refused request changed the store"
        );
    }
    r.status
}

#[test]
fn valid_requests_work_with_sector_offsets_in_pages() {
    let mut h = front(BackConfig::default());
    let (g0, g1) = (h.pages[0].0, h.pages[1].0);
    h.pages[0].1.shm().fill(0, 4096, 0xaa).unwrap();
    h.pages[1].1.shm().fill(0, 4096, 0xbb).unwrap();
    // Sectors 2..=3 of page 0, then 0..=7 of page 1: 10 sectors from sector 5.
    let st = ask(
        &mut h,
        &rw(BlkifOp::Write, 1, 5, &[seg(g0, 2, 3), seg(g1, 0, 7)]),
    );
    assert_eq!(st, BlkifStatus::Okay);
    let d = &h.back.storage().0.data;
    assert!(d[5 * 512..7 * 512].iter().all(|&b| b == 0xaa));
    assert!(d[7 * 512..15 * 512].iter().all(|&b| b == 0xbb));
    assert!(d[..5 * 512].iter().chain(&d[15 * 512..]).all(|&b| b == 0));
    // Read sector 6 into sector 7 of page 2.
    let g2 = h.pages[2].0;
    assert_eq!(
        ask(&mut h, &rw(BlkifOp::Read, 2, 6, &[seg(g2, 7, 7)])),
        BlkifStatus::Okay
    );
    let mut out = [0u8; 512];
    h.pages[2].1.shm().read(7 * 512, &mut out).unwrap();
    assert!(out.iter().all(|&b| b == 0xaa));
    assert_eq!(h.back.stats().errors, 0);
}

#[test]
fn malformed_requests_get_error_responses() {
    let mut h = front(BackConfig {
        max_indirect_segments: 32,
        ..BackConfig::default()
    });
    let g = h.pages[0].0;
    let sectors = 64 * 1024 / 512;
    let full = seg(g, 0, 7);
    let cases: Vec<(&str, BlkifRequest, BlkifStatus)> = vec![
        (
            "no segments",
            rw(BlkifOp::Write, 1, 0, &[]),
            BlkifStatus::Error,
        ),
        (
            "12 segments",
            {
                let mut r = rw(BlkifOp::Read, 2, 0, &[full; 11]);
                r.nr_segments = 12;
                r
            },
            BlkifStatus::Error,
        ),
        (
            "255 segments",
            {
                let mut r = rw(BlkifOp::Write, 3, 0, &[full]);
                r.nr_segments = 255;
                r
            },
            BlkifStatus::Error,
        ),
        (
            "first > last",
            rw(BlkifOp::Write, 4, 0, &[seg(g, 5, 4)]),
            BlkifStatus::Error,
        ),
        (
            "last past the page",
            rw(BlkifOp::Read, 5, 0, &[seg(g, 0, 8)]),
            BlkifStatus::Error,
        ),
        (
            "past the end",
            rw(BlkifOp::Write, 6, sectors - 7, &[full]),
            BlkifStatus::Error,
        ),
        (
            "at the end",
            rw(BlkifOp::Read, 7, sectors, &[seg(g, 0, 0)]),
            BlkifStatus::Error,
        ),
        (
            "overflow",
            rw(BlkifOp::Write, 8, u64::MAX - 3, &[full]),
            BlkifStatus::Error,
        ),
        (
            "grant 0",
            rw(BlkifOp::Write, 9, 0, &[seg(0, 0, 7)]),
            BlkifStatus::Error,
        ),
        (
            "not granted",
            rw(BlkifOp::Read, 10, 0, &[seg(g + 1000, 0, 7)]),
            BlkifStatus::Error,
        ),
        (
            "bad second grant",
            rw(BlkifOp::Write, 11, 0, &[full, seg(u32::MAX, 0, 7)]),
            BlkifStatus::Error,
        ),
        (
            "reserved op",
            rw(BlkifOp::Reserved1, 12, 0, &[full]),
            BlkifStatus::EOpNotSupp,
        ),
        (
            "unknown op",
            rw(BlkifOp::from_raw(200), 13, 0, &[full]),
            BlkifStatus::EOpNotSupp,
        ),
        (
            "flush with bad segments",
            { rw(BlkifOp::FlushDiskcache, 14, 0, &[seg(g, 3, 1)]) },
            BlkifStatus::Error,
        ),
        (
            "discard past the end",
            BlkifRequest::from_discard(&BlkifRequestDiscard {
                operation: BlkifOp::Discard,
                id: 15,
                sector_number: 8,
                nr_sectors: sectors,
                ..Default::default()
            }),
            BlkifStatus::Error,
        ),
        (
            "discard overflow",
            BlkifRequest::from_discard(&BlkifRequestDiscard {
                operation: BlkifOp::Discard,
                id: 16,
                sector_number: 1,
                nr_sectors: u64::MAX,
                ..Default::default()
            }),
            BlkifStatus::Error,
        ),
        (
            "secure discard",
            BlkifRequest::from_discard(&BlkifRequestDiscard {
                operation: BlkifOp::Discard,
                flag: DISCARD_SECURE,
                id: 17,
                sector_number: 0,
                nr_sectors: 8,
                ..Default::default()
            }),
            BlkifStatus::EOpNotSupp,
        ),
    ];
    for (what, req, want) in &cases {
        assert_eq!(ask(&mut h, req), *want, "{what}");
    }
    // The ring still works.
    h.pages[0].1.shm().fill(0, 4096, 7).unwrap();
    assert_eq!(
        ask(&mut h, &rw(BlkifOp::Write, 99, 0, &[full])),
        BlkifStatus::Okay
    );
    assert_eq!(h.back.storage().0.data[4095], 7);
}

fn indirect(id: u64, op: BlkifOp, n: u16, sector: u64, pages: &[u32]) -> BlkifRequest {
    let mut ind = BlkifRequestIndirect {
        operation: BlkifOp::Indirect,
        indirect_op: op,
        nr_segments: n,
        id,
        sector_number: sector,
        ..Default::default()
    };
    for (i, p) in pages.iter().enumerate() {
        ind.set_indirect_gref(i, *p);
    }
    BlkifRequest::from_indirect(&ind)
}

#[test]
fn malformed_indirect_requests_get_error_responses() {
    let mut h = front(BackConfig {
        max_indirect_segments: 16,
        ..BackConfig::default()
    });
    let ipage = h.pages[7].0;
    let data: Vec<u32> = h.pages[..6].iter().map(|p| p.0).collect();
    let write_segs = |h: &HostileFront, segs: &[BlkifSegment]| {
        for (i, s) in segs.iter().enumerate() {
            h.pages[7].1.shm().write(i * 8, &s.to_bytes()).unwrap();
        }
    };
    let good: Vec<_> = data.iter().map(|&g| seg(g, 0, 7)).collect();
    write_segs(&h, &good);
    for (i, p) in h.pages[..6].iter().enumerate() {
        p.1.shm().fill(0, 4096, i as u8 + 1).unwrap();
    }
    assert_eq!(
        ask(&mut h, &indirect(1, BlkifOp::Write, 6, 8, &[ipage])),
        BlkifStatus::Okay
    );
    assert_eq!(h.back.storage().0.data[8 * 512 + 5 * 4096], 6);
    let cases = [
        (
            "0 segments",
            indirect(2, BlkifOp::Write, 0, 0, &[ipage]),
            BlkifStatus::Error,
        ),
        (
            "more than offered",
            indirect(3, BlkifOp::Write, 17, 0, &[ipage]),
            BlkifStatus::Error,
        ),
        (
            "65535 segments",
            indirect(4, BlkifOp::Read, u16::MAX, 0, &[ipage; 8]),
            BlkifStatus::Error,
        ),
        (
            "flush inside",
            indirect(5, BlkifOp::FlushDiskcache, 1, 0, &[ipage]),
            BlkifStatus::Error,
        ),
        (
            "indirect inside",
            indirect(6, BlkifOp::Indirect, 1, 0, &[ipage]),
            BlkifStatus::Error,
        ),
        (
            "bad indirect grant",
            indirect(7, BlkifOp::Write, 2, 0, &[12345]),
            BlkifStatus::Error,
        ),
        (
            "no indirect grant",
            indirect(8, BlkifOp::Write, 2, 0, &[]),
            BlkifStatus::Error,
        ),
        (
            "past the end",
            indirect(9, BlkifOp::Read, 6, 128 - 40, &[ipage]),
            BlkifStatus::Error,
        ),
    ];
    for (what, req, want) in &cases {
        assert_eq!(ask(&mut h, req), *want, "{what}");
    }
    // Bad contents of the indirect page: each bad segment fails the whole request.
    for (what, bad) in [
        ("bad data grant", seg(999_999, 0, 7)),
        ("first > last", seg(data[0], 7, 0)),
        ("last past the page", seg(data[0], 0, 200)),
    ] {
        let mut segs = good.clone();
        segs[3] = bad;
        write_segs(&h, &segs);
        assert_eq!(
            ask(&mut h, &indirect(20, BlkifOp::Write, 6, 0, &[ipage])),
            BlkifStatus::Error,
            "{what}"
        );
    }
    // Not offered: EOPNOTSUPP.
    let mut h = front(BackConfig {
        max_indirect_segments: 0,
        barrier: false,
        flush: false,
        ..BackConfig::default()
    });
    let g = h.pages[0].0;
    assert_eq!(
        ask(&mut h, &indirect(1, BlkifOp::Read, 1, 0, &[g])),
        BlkifStatus::EOpNotSupp
    );
    assert_eq!(
        ask(&mut h, &rw(BlkifOp::WriteBarrier, 2, 0, &[seg(g, 0, 7)])),
        BlkifStatus::EOpNotSupp
    );
    assert_eq!(
        ask(&mut h, &rw(BlkifOp::FlushDiskcache, 3, 0, &[])),
        BlkifStatus::EOpNotSupp
    );
}

#[test]
fn read_only_and_misaligned_requests_are_refused() {
    let mut storage = MemStorage::new(64 * 1024);
    storage.read_only = true;
    let mut h = HostileFront::new(storage, BackConfig::default(), 2);
    let g = h.pages[0].0;
    assert_eq!(
        ask(&mut h, &rw(BlkifOp::Write, 1, 0, &[seg(g, 0, 7)])),
        BlkifStatus::Error
    );
    assert_eq!(
        ask(&mut h, &rw(BlkifOp::Read, 2, 0, &[seg(g, 0, 7)])),
        BlkifStatus::Okay
    );
    let d = BlkifRequest::from_discard(&BlkifRequestDiscard {
        operation: BlkifOp::Discard,
        id: 3,
        nr_sectors: 8,
        ..Default::default()
    });
    assert_eq!(ask(&mut h, &d), BlkifStatus::EOpNotSupp);
    assert_eq!(
        ask(&mut h, &rw(BlkifOp::FlushDiskcache, 4, 0, &[seg(g, 0, 7)])),
        BlkifStatus::Error
    );
    assert_eq!(
        ask(&mut h, &rw(BlkifOp::FlushDiskcache, 5, 0, &[])),
        BlkifStatus::Okay
    );

    let mut h = front(BackConfig {
        sector_size: 4096,
        ..BackConfig::default()
    });
    let g = h.pages[0].0;
    for (what, req) in [
        ("sector 1", rw(BlkifOp::Read, 1, 1, &[seg(g, 0, 7)])),
        ("half a page", rw(BlkifOp::Write, 2, 0, &[seg(g, 0, 3)])),
        ("offset in page", rw(BlkifOp::Write, 3, 0, &[seg(g, 4, 7)])),
    ] {
        assert_eq!(ask(&mut h, &req), BlkifStatus::Error, "{what}");
    }
    assert_eq!(
        ask(&mut h, &rw(BlkifOp::Write, 4, 8, &[seg(g, 0, 7)])),
        BlkifStatus::Okay
    );
}

#[test]
fn request_index_out_of_range_stops_the_back_end() {
    let mut h = front(BackConfig::default());
    h.ring
        .shm()
        .store_u32(0, 1000, std::sync::atomic::Ordering::Release)
        .unwrap();
    assert!(matches!(
        h.back.serve_once(),
        Err(Error::Corrupt(Corrupt::Index { prod: 1000, .. }))
    ));
}

#[test]
fn fuzz_corpora_replay() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for (name, body) in [
        ("blk_back_requests", fuzzing::back_requests as fn(&[u8])),
        ("blk_front_responses", fuzzing::front_responses),
    ] {
        let Ok(dir) = std::fs::read_dir(root.join(name)) else {
            println!("SKIPPED {name}: no corpus");
            continue;
        };
        let mut n = 0;
        for f in dir {
            body(&std::fs::read(f.unwrap().path()).unwrap());
            n += 1;
        }
        println!("{name}: replayed {n} inputs");
    }
}
