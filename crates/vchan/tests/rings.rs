//! Xen shared rings over the in-process backend: sizes, round trips of every message layout,
//! the event-index notify rules, wrapping, and a hostile peer's indexes.

use proptest::prelude::*;
use std::sync::atomic::Ordering;

use unistack_vchan::blkif::{
    Blkif, BlkifOp, BlkifRequest, BlkifResponse, BlkifSegment, BlkifStatus, MAX_SEGMENTS,
};
use unistack_vchan::local::{Hypervisor, LocalMapped, LocalShared, Outstanding};
use unistack_vchan::netif::{
    NetifExtraGso, NetifExtraInfo, NetifRx, NetifRxRequest, NetifRxResponse, NetifStatus, NetifTx,
    NetifTxRequest, NetifTxResponse, RxResult,
};
use unistack_vchan::ring::{BackRing, FrontRing, IdTable, Protocol, SringHeader, ring_size};
use unistack_vchan::{Corrupt, Error, Grants, Mapping};

fn pages(n: usize) -> (Hypervisor, LocalShared, LocalMapped) {
    let hv = Hypervisor::new();
    let mut refs = vec![0; n];
    let shared = hv.domain(1).share(0, &mut refs).unwrap();
    let mapped = hv.domain(0).map(1, &refs).unwrap();
    (hv, shared, mapped)
}

#[test]
fn ring_sizes_match_ring_h() {
    assert_eq!(SringHeader::SIZE, 64);
    assert_eq!(<NetifTx as Protocol>::ENTRY_SIZE, 12);
    assert_eq!(<NetifRx as Protocol>::ENTRY_SIZE, 8);
    assert_eq!(<Blkif as Protocol>::ENTRY_SIZE, 112);
    // NET_TX_RING_SIZE, NET_RX_RING_SIZE, BLK_RING_SIZE for 4 KiB pages.
    assert_eq!(ring_size(4096, 12), 256);
    assert_eq!(ring_size(4096, 8), 256);
    assert_eq!(ring_size(4096, 112), 32);
    assert_eq!(
        ring_size(4 * 4096, 112),
        128,
        "multi-page ring (ring-page-order 2)"
    );
    assert_eq!(ring_size(63, 8), 0);
    assert_eq!(ring_size(64 + 7, 8), 0);
    assert_eq!(ring_size(64 + 24, 8), 2);
}

#[test]
fn netif_tx_round_trip_and_notify_rules() {
    let (hv, shared, mapped) = pages(1);
    let mut front = FrontRing::<NetifTx, _>::init(shared).unwrap();
    let mut back = BackRing::<NetifTx, _>::attach(mapped, 0).unwrap();
    assert_eq!(front.size(), 256);
    // Fresh ring: req_event is 1, so the first push notifies.
    let req = NetifTxRequest {
        gref: 77,
        offset: 100,
        flags: 0,
        id: 3,
        len: 1400,
    };
    front.push_request(&req).unwrap();
    assert_eq!(front.push_requests_and_check_notify(), Ok(true));
    // The back end has not re-armed: a second push does not notify.
    front
        .push_request(&NetifTxRequest { id: 4, ..req })
        .unwrap();
    assert_eq!(front.push_requests_and_check_notify(), Ok(false));
    assert_eq!(back.poll_request(), Ok(Some(req)));
    assert_eq!(back.poll_request().unwrap().unwrap().id, 4);
    assert_eq!(back.poll_request(), Ok(None));
    assert_eq!(back.final_check_for_requests(), Ok(false)); // re-arms req_event
    front
        .push_request(&NetifTxRequest { id: 5, ..req })
        .unwrap();
    assert_eq!(front.push_requests_and_check_notify(), Ok(true));
    assert_eq!(back.final_check_for_requests(), Ok(true));
    back.poll_request().unwrap().unwrap();
    for id in [3, 4, 5] {
        back.push_response(&NetifTxResponse {
            id,
            status: NetifStatus::Okay,
        })
        .unwrap();
    }
    assert_eq!(
        back.push_response(&NetifTxResponse::default()),
        Err(Error::WouldBlock),
        "no more responses than requests"
    );
    assert_eq!(back.push_responses_and_check_notify(), Ok(true));
    for id in [3, 4, 5] {
        let rsp = front.poll_response().unwrap().unwrap();
        assert_eq!(rsp.id, id);
        rsp.check(front.size()).unwrap();
    }
    assert_eq!(front.final_check_for_responses(), Ok(false));
    assert_eq!(front.free_requests(), 256);
    drop((front, back));
    assert_eq!(hv.outstanding(), Outstanding::default());
}

#[test]
fn full_ring_and_wrapping_indexes() {
    for start in [0, u32::MAX - 40, u32::MAX] {
        let (_hv, shared, mapped) = pages(1);
        let mut front = FrontRing::<Blkif, _>::init_at(shared, start).unwrap();
        let mut back = BackRing::<Blkif, _>::attach(mapped, start).unwrap();
        let mut next = 0u64;
        let mut expect = 0u64;
        for round in 0..20 {
            while front.free_requests() > 0 {
                let mut r = BlkifRequest {
                    operation: BlkifOp::Write,
                    nr_segments: 1,
                    id: next,
                    sector_number: next * 8,
                    ..Default::default()
                };
                r.set_segment(
                    0,
                    &BlkifSegment {
                        gref: 9,
                        first_sect: 0,
                        last_sect: 7,
                        pad: [0; 2],
                    },
                );
                front.push_request(&r).unwrap();
                next += 1;
            }
            assert_eq!(
                front.push_request(&BlkifRequest::default()),
                Err(Error::WouldBlock)
            );
            front.push_requests_and_check_notify().unwrap();
            // Consume a varying number so the positions drift across the wrap.
            for _ in 0..(round % 7 + 20).min(32) {
                let Some(r) = back.poll_request().unwrap() else {
                    break;
                };
                assert_eq!(r.parse(), Ok(1));
                back.push_response(&BlkifResponse {
                    id: r.id,
                    operation: r.operation,
                    status: BlkifStatus::Okay,
                    ..Default::default()
                })
                .unwrap();
            }
            back.push_responses_and_check_notify().unwrap();
            while let Some(rsp) = front.poll_response().unwrap() {
                assert_eq!(rsp.id, expect);
                rsp.check().unwrap();
                expect += 1;
            }
        }
        assert!(expect > 300);
    }
}

#[test]
fn hostile_producer_indexes_are_corrupt() {
    let hv = Hypervisor::new();
    let mut refs = [0];
    let shared = hv.domain(1).share(0, &mut refs).unwrap();
    let mapped = hv.domain(0).map(1, &refs).unwrap();
    // A second mapping of the same page, to play the hostile peer through.
    let spy = hv.domain(0).map(1, &refs).unwrap();
    let scribble = |off: usize, v: u32| spy.shm().store_u32(off, v, Ordering::SeqCst).unwrap();
    let mut front = FrontRing::<NetifRx, _>::init(shared).unwrap();
    let mut back = BackRing::<NetifRx, _>::attach(mapped, 0).unwrap();
    // The back end claims a response with no request in flight.
    scribble(SringHeader::RSP_PROD.offset, 1);
    assert!(matches!(
        front.poll_response(),
        Err(Error::Corrupt(Corrupt::Index { .. }))
    ));
    assert!(matches!(
        front.final_check_for_responses(),
        Err(Error::Corrupt(_))
    ));
    scribble(SringHeader::RSP_PROD.offset, 0);
    // The front end claims 257 requests on a 256-entry ring, then moves backwards.
    scribble(SringHeader::REQ_PROD.offset, 257);
    assert!(matches!(
        back.poll_request(),
        Err(Error::Corrupt(Corrupt::Index { .. }))
    ));
    scribble(SringHeader::REQ_PROD.offset, 256);
    for _ in 0..256 {
        assert!(back.poll_request().unwrap().is_some());
    }
    assert_eq!(back.poll_request(), Ok(None));
    scribble(SringHeader::REQ_PROD.offset, 10);
    assert!(matches!(
        back.poll_request(),
        Err(Error::Corrupt(Corrupt::Index { .. }))
    ));
    assert!(matches!(
        back.final_check_for_requests(),
        Err(Error::Corrupt(_))
    ));
    // 256 consumed, none answered: even a plausible-looking index is refused.
    scribble(SringHeader::REQ_PROD.offset, 257);
    assert!(matches!(
        back.poll_request(),
        Err(Error::Corrupt(Corrupt::Index { .. }))
    ));
    // A scribbled rsp_event only changes whether we notify, never what we read.
    scribble(SringHeader::RSP_EVENT.offset, 0xdead_beef);
    back.push_response(&NetifRxResponse::default()).unwrap();
    back.push_responses_and_check_notify().unwrap();
    drop((front, back, spy));
    assert_eq!(hv.outstanding(), Outstanding::default());
}

#[test]
fn id_table_catches_unknown_and_duplicate_ids() {
    let mut t = IdTable::<3>::default();
    assert_eq!(
        (t.alloc(), t.alloc(), t.alloc(), t.alloc()),
        (Some(0), Some(1), Some(2), None)
    );
    assert_eq!(t.release(1), Ok(()));
    assert_eq!(t.release(1), Err(Corrupt::UnknownId(1)));
    assert_eq!(t.release(3), Err(Corrupt::UnknownId(3)));
    assert_eq!(t.release(u64::MAX), Err(Corrupt::UnknownId(u64::MAX)));
    assert_eq!(t.outstanding(), 2);
    assert_eq!(t.alloc(), Some(1));
}

#[test]
fn message_validation() {
    let tx = NetifTxRequest {
        gref: 1,
        offset: 4000,
        flags: 0,
        id: 255,
        len: 96,
    };
    assert_eq!(tx.check(256, tx.len), Ok(()));
    assert_eq!(
        tx.check(256, 97),
        Err(Corrupt::Field {
            field: "offset",
            value: 4000
        })
    );
    assert!(NetifTxRequest { id: 256, ..tx }.check(256, 0).is_err());
    let rsp = |status: u16| NetifTxResponse {
        id: 0,
        status: NetifStatus::from_raw(status),
    };
    assert!(rsp(0xfffe).check(256).is_ok());
    assert!(rsp(0xfffd).check(256).is_err());
    let rx = NetifRxResponse {
        id: 2,
        offset: 96,
        flags: 0,
        status: 4000,
    };
    assert_eq!(
        rx.parse(256),
        Ok(RxResult::Data {
            offset: 96,
            len: 4000
        })
    );
    assert!(NetifRxResponse { status: 4001, ..rx }.parse(256).is_err());
    assert_eq!(
        NetifRxResponse {
            status: 0xffff,
            ..rx
        }
        .parse(256),
        Ok(RxResult::Error(-1))
    );
    assert_eq!(
        NetifRxResponse { status: 0, ..rx }.parse(256),
        Ok(RxResult::Empty)
    );
    assert!(NetifRxResponse { id: 256, ..rx }.parse(256).is_err());
    assert!(
        NetifRxRequest {
            id: 300,
            pad: 0,
            gref: 1
        }
        .check(256)
        .is_err()
    );

    let mut b = BlkifRequest {
        operation: BlkifOp::Read,
        nr_segments: 2,
        ..Default::default()
    };
    let seg = |first_sect, last_sect| BlkifSegment {
        gref: 5,
        first_sect,
        last_sect,
        pad: [0; 2],
    };
    b.set_segment(0, &seg(0, 7));
    b.set_segment(1, &seg(3, 3));
    assert_eq!(b.parse(), Ok(2));
    b.set_segment(1, &seg(4, 3));
    assert!(b.parse().is_err());
    b.set_segment(1, &seg(0, 8));
    assert!(b.parse().is_err());
    b.nr_segments = 12;
    assert!(b.parse().is_err());
    b.nr_segments = 0;
    assert!(b.parse().is_err(), "a read needs a segment");
    b.operation = BlkifOp::FlushDiskcache;
    assert_eq!(b.parse(), Ok(0));
    b.operation = BlkifOp::Indirect;
    assert!(b.parse().is_err());
    assert!(!b.set_segment(MAX_SEGMENTS, &seg(0, 0)));
    assert_eq!(b.segment(MAX_SEGMENTS), None);
    let r = BlkifResponse {
        status: BlkifStatus::from_raw(5),
        ..Default::default()
    };
    assert!(r.check().is_err());
}

proptest! {
    #[test]
    fn layouts_round_trip(
        a in any::<u32>(), b in any::<u16>(), c in any::<u16>(), d in any::<u16>(),
        e in any::<u16>(), x in any::<u64>(), y in any::<u64>(), seg in any::<[u8; 88]>(),
        op in any::<u8>(), n in any::<u8>(), six in any::<[u8; 6]>(),
    ) {
        let v = NetifTxRequest { gref: a, offset: b, flags: c, id: d, len: e };
        let bytes = v.to_bytes();
        prop_assert_eq!(&bytes[..4], &a.to_le_bytes());
        prop_assert_eq!(&bytes[10..12], &e.to_le_bytes());
        prop_assert_eq!(NetifTxRequest::from_bytes(&bytes), v);
        let v = NetifTxResponse { id: b, status: NetifStatus::from_raw(c) };
        prop_assert_eq!(NetifTxResponse::from_bytes(&v.to_bytes()), v);
        let v = NetifRxRequest { id: b, pad: c, gref: a };
        prop_assert_eq!(&v.to_bytes()[4..], &a.to_le_bytes());
        prop_assert_eq!(NetifRxRequest::from_bytes(&v.to_bytes()), v);
        let v = NetifRxResponse { id: b, offset: c, flags: d, status: e };
        prop_assert_eq!(NetifRxResponse::from_bytes(&v.to_bytes()), v);
        let v = NetifExtraInfo { r#type: op, flags: n, u: six };
        prop_assert_eq!(NetifExtraInfo::from_bytes(&v.to_bytes()), v);
        let g = NetifExtraGso { len: b, r#type: op, pad: n, features: c };
        prop_assert_eq!(NetifExtraGso::from_bytes(&g.to_bytes()), g);
        let v = BlkifRequest {
            operation: BlkifOp::from_raw(op), nr_segments: n, handle: b, pad: [0; 4],
            id: x, sector_number: y, seg,
        };
        let bytes = v.to_bytes();
        prop_assert_eq!(bytes.len(), 112);
        prop_assert_eq!(&bytes[8..16], &x.to_le_bytes());
        prop_assert_eq!(&bytes[16..24], &y.to_le_bytes());
        prop_assert_eq!(BlkifRequest::from_bytes(&bytes), v);
        for i in 0..MAX_SEGMENTS {
            let s = v.segment(i).unwrap();
            prop_assert_eq!(&s.to_bytes()[..], &seg[i * 8..i * 8 + 8]);
        }
        let v = BlkifResponse {
            id: x, operation: BlkifOp::from_raw(op), pad: n,
            status: BlkifStatus::from_raw(d), pad2: [0; 4],
        };
        prop_assert_eq!(&v.to_bytes()[10..12], &d.to_le_bytes());
        prop_assert_eq!(BlkifResponse::from_bytes(&v.to_bytes()), v);
    }
}
