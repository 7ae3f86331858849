//! Random read/write/flush/discard workloads from blkfront through blkback (a thread, the
//! local backend) to a raw image file, checked against an in-memory model of the disk after
//! every read and, at the end, with `cmp` against the model written to a file.
//!
//! `PROPTEST_CASES` raises the number of workloads per configuration (default 4).

use std::time::Duration;

use proptest::prelude::*;
use unistack_blk::{
    BackConfig, BlockDevice, Error, FrontConfig, Image, MemDisk, MemStorage, Status, remove_device,
};
use unistack_vchan::local::Outstanding;

mod common;
use common::*;

#[derive(Debug, Clone)]
enum Action {
    /// Blocks (of the sector size) `at..at + n` filled from `seed`.
    Write {
        at: u64,
        n: u64,
        seed: u8,
    },
    /// Bytes `at..at + len`, any alignment.
    Read {
        at: u64,
        len: usize,
    },
    Flush,
    Discard {
        at: u64,
        n: u64,
    },
}

/// 1 MiB disks: 2048 blocks of 512 or 256 of 4096.
const DISK: u64 = 1 << 20;

fn actions(blocks: u64, block: u64) -> impl Strategy<Value = Vec<Action>> {
    // Writes up to 160 KiB span two 128 KiB requests (or four 44 KiB ones).
    let max_n = (160 * 1024 / block).max(1);
    let action = prop_oneof![
        4 => (0..blocks, 1..=max_n, any::<u8>()).prop_map(move |(at, n, seed)| Action::Write {
            at: at.min(blocks - 1),
            n: n.min(blocks - at),
            seed
        }),
        4 => (0..DISK, 1..200_000usize).prop_map(|(at, len)| Action::Read {
            at,
            len: len.min((DISK - at) as usize).max(1)
        }),
        1 => Just(Action::Flush),
        1 => (0..blocks, 1..=max_n).prop_map(move |(at, n)| Action::Discard {
            at,
            n: n.min(blocks - at)
        }),
    ];
    proptest::collection::vec(action, 1..30)
}

fn fill(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_654_435_761)
                .rotate_left(u32::from(seed) % 32) as u8
                ^ seed
        })
        .collect()
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
}

/// Run `acts` on a fresh image through a fresh front and back end; check every read against
/// the model, then the image against the model with `cmp`.
fn run_workload(acts: &[Action], sector: u32, back: BackConfig, front: FrontConfig) {
    let dir = scratch();
    let img = image_in(dir.path(), "disk.img", DISK);
    let mut rig = local_back(
        open(&img),
        BackConfig {
            sector_size: sector,
            ..back
        },
        no_snapshot::<Image>,
    );
    let mut disk = connect(&rig, front);
    assert_eq!(disk.sector_size(), sector);
    assert_eq!(disk.capacity(), DISK);
    let mut model = MemDisk::new(DISK / u64::from(sector), sector);
    let block = u64::from(sector);
    for a in acts {
        match *a {
            Action::Write { at, n, seed } => {
                let data = fill(seed, (n * block) as usize);
                disk.write_at(at * block, &data).unwrap();
                model.write_at(at * block, &data).unwrap();
            }
            Action::Read { at, len } => {
                let mut got = vec![0u8; len];
                let mut want = vec![0u8; len];
                disk.read_at(at, &mut got).unwrap();
                model.read_at(at, &mut want).unwrap();
                assert!(
                    got == want,
                    "read {len} bytes at {at} differs from the model"
                );
            }
            Action::Flush => disk.flush().unwrap(),
            Action::Discard { at, n } => {
                let r = disk.discard(at * block, n * block);
                if back.discard {
                    r.unwrap();
                    model.discard(at * block, n * block).unwrap();
                } else {
                    assert_eq!(r, Err(Error::NotSupported));
                }
            }
        }
    }
    disk.flush().unwrap();
    drop(disk);
    let (stats, _) = rig.join();
    assert_eq!(stats.errors, 0);
    // An image store reads and writes the granted pages directly whenever they fit in the
    // persistent-grant cache (every request, with the default limit).
    if back.max_persistent_grants >= BackConfig::default().max_persistent_grants {
        let moved = stats.bytes_read + stats.bytes_written;
        assert!(moved == 0 || stats.zero_copy > 0, "{stats:?}");
    }
    let model_file = dir.path().join("model.img");
    std::fs::write(&model_file, model.as_bytes()).unwrap();
    cmp(&img, &model_file);
    remove_device(&rig.hv.domain(0), &rig.paths).unwrap();
    assert_eq!(rig.hv.outstanding(), Outstanding::default(), "leak");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// 512-byte sectors, indirect segments (128 KiB requests), O_DIRECT where possible.
    #[test]
    fn workload_512_indirect(acts in actions(DISK / 512, 512)) {
        run_workload(&acts, 512, BackConfig::default(), FrontConfig::default());
    }

    /// 4096-byte sectors, no indirect segments offered (44 KiB requests), no discard.
    #[test]
    fn workload_4096_direct_segments(acts in actions(DISK / 4096, 4096)) {
        let back = BackConfig { max_indirect_segments: 0, discard: false, ..BackConfig::default() };
        run_workload(&acts, 4096, back, FrontConfig::default());
    }

    /// Indirect offered but refused by the front end; a tiny persistent-grant cache, so most
    /// pages are mapped per request.
    #[test]
    fn workload_no_indirect_small_grant_cache(acts in actions(DISK / 512, 512)) {
        let back = BackConfig { max_persistent_grants: 5, ..BackConfig::default() };
        run_workload(&acts, 512, back, FrontConfig { indirect: false });
    }
}

#[test]
fn persistent_grants_are_mapped_once() {
    let mut rig = local_back(
        MemStorage::new(DISK as usize),
        BackConfig::default(),
        |s: &MemStorage| s.data.clone(),
    );
    let mut disk = connect(&rig, FrontConfig::default());
    let info = *disk.front().info();
    assert_eq!(info.segments_per_request, 32);
    assert_eq!(info.max_request_bytes(), 128 * 1024);
    assert!(info.features.flush && info.features.barrier && info.features.discard);
    assert!(info.features.persistent);
    assert_eq!(info.features.max_indirect_segments, 128);
    let data = fill(3, 512 * 1024);
    for _ in 0..5 {
        disk.write_at(0, &data).unwrap();
        let mut back = vec![0u8; data.len()];
        disk.read_at(0, &mut back).unwrap();
        assert!(back == data);
    }
    drop(disk);
    let (stats, bytes) = rig.join();
    assert_eq!(&bytes[..data.len()], &data[..]);
    // Four 128 KiB requests in flight at once use four slots: 4 × 32 data pages and 4
    // indirect pages, each mapped exactly once over ten passes.
    assert_eq!(stats.maps, 4 * 33, "{stats:?}");
    assert_eq!(stats.persistent, 4 * 33);
    assert_eq!(stats.bytes_written, 5 * data.len() as u64);
}

#[test]
fn sans_io_core_pipelines_and_completes_out_of_band() {
    let mut rig = local_back(
        MemStorage::new(DISK as usize),
        BackConfig::default(),
        |s: &MemStorage| s.data.clone(),
    );
    let disk = connect(&rig, FrontConfig::default());
    let mut front = disk.into_front();
    // Fill every slot without waiting: 32 writes of 4 KiB, the 32nd wants a 33rd slot.
    let mut tags = Vec::new();
    for i in 0..32u64 {
        let w = front.write(i * 4096, 4096).unwrap();
        w.fill(0, 4096, i as u8).unwrap();
        w.write_at(0, &i.to_le_bytes()).unwrap();
        tags.push(w.submit().unwrap());
    }
    assert_eq!(front.submit_read(0, 512), Err(Error::WouldBlock));
    assert_eq!(front.in_flight(), 32);
    // A reserved but abandoned write frees its slot.
    let mut done = 0;
    while done < 32 {
        match front.poll().unwrap() {
            Some(c) => {
                assert_eq!(c.status, Status::Okay);
                assert!(tags.contains(&c.tag));
                done += 1;
            }
            None => {
                if !front.final_check().unwrap() {
                    front.wait_event(Some(Duration::from_secs(5))).unwrap();
                }
            }
        }
    }
    drop(front.write(0, 512).unwrap());
    assert_eq!(front.free_slots(), 32);
    let t = front.submit_read(5 * 4096, 4096).unwrap();
    let c = loop {
        if let Some(c) = front.poll().unwrap() {
            break c;
        }
        if !front.final_check().unwrap() {
            front.wait_event(Some(Duration::from_secs(5))).unwrap();
        }
    };
    assert_eq!((c.tag, c.status, c.len), (t, Status::Okay, 4096));
    {
        let data = front.read_data(t).unwrap();
        let mut head = [0u8; 9];
        data.read_at(0, &mut head).unwrap();
        assert_eq!(head, [5, 0, 0, 0, 0, 0, 0, 0, 5]);
        assert_eq!(
            data.read_at(4090, &mut [0u8; 7]),
            Err(Error::InvalidArgument)
        );
    }
    assert_eq!(
        front.read_data(t).err(),
        Some(Error::InvalidArgument),
        "freed"
    );
    // Caller mistakes are typed errors.
    assert_eq!(front.submit_read(1, 512), Err(Error::InvalidArgument));
    assert_eq!(front.submit_read(DISK, 512), Err(Error::InvalidArgument));
    assert_eq!(front.submit_read(0, 0), Err(Error::InvalidArgument));
    assert_eq!(
        front.submit_read(0, 129 * 1024),
        Err(Error::InvalidArgument)
    );
    assert_eq!(
        front.submit_discard(DISK - 512, 1024),
        Err(Error::InvalidArgument)
    );
    drop(front);
    let (_, bytes) = rig.join();
    assert_eq!(bytes[31 * 4096], 31);
}

#[test]
fn read_only_image_serves_reads_and_refuses_writes() {
    // What the appliance does with a tar image: serve the file read-only, read at any offset.
    let dir = scratch();
    let img = dir.path().join("files.tar");
    let content = fill(9, 3 * 4096 + 1024);
    std::fs::write(&img, &content).unwrap();
    let ro = Image::open(&img, true).unwrap();
    let mut rig = local_back(ro, BackConfig::default(), no_snapshot::<Image>);
    let mut disk = connect(&rig, FrontConfig::default());
    assert!(disk.read_only());
    assert_eq!(disk.capacity(), content.len() as u64);
    let info = *disk.front().info();
    assert!(!info.features.discard && !info.features.barrier, "{info:?}");
    let mut buf = vec![0u8; 1000];
    disk.read_at(12_001, &mut buf).unwrap();
    assert_eq!(&buf[..], &content[12_001..13_001]);
    assert_eq!(disk.write_at(0, &[0; 512]), Err(Error::ReadOnly));
    assert_eq!(disk.discard(0, 512), Err(Error::ReadOnly));
    assert_eq!(
        disk.read_at(content.len() as u64 - 10, &mut buf),
        Err(Error::InvalidArgument)
    );
    disk.flush().unwrap();
    drop(disk);
    rig.join();
    assert_eq!(std::fs::read(&img).unwrap(), content);
}

#[test]
fn barrier_write_is_durable_and_in_order() {
    let mut rig = local_back(
        MemStorage::new(DISK as usize),
        BackConfig::default(),
        |s: &MemStorage| {
            let mut v = s.syncs.to_le_bytes().to_vec();
            v.extend_from_slice(&s.data[..8192]);
            v
        },
    );
    let disk = connect(&rig, FrontConfig::default());
    let mut front = disk.into_front();
    front.submit_write(0, &[1u8; 4096]).unwrap();
    let w = front.write(4096, 4096).unwrap();
    w.fill(0, 4096, 2).unwrap();
    w.submit_barrier().unwrap();
    let too_big = front.write(0, 12 * 4096).unwrap();
    assert_eq!(too_big.submit_barrier(), Err(Error::InvalidArgument));
    let mut seen = 0;
    while seen < 2 {
        match front.poll().unwrap() {
            Some(c) => {
                assert_eq!(c.status, Status::Okay);
                seen += 1;
            }
            None => {
                if !front.final_check().unwrap() {
                    front.wait_event(Some(Duration::from_secs(5))).unwrap();
                }
            }
        }
    }
    drop(front);
    let (stats, snap) = rig.join();
    assert_eq!(
        u64::from_le_bytes(snap[..8].try_into().unwrap()),
        2,
        "sync before and after"
    );
    assert_eq!(stats.syncs, 2);
    assert!(snap[8..8 + 4096].iter().all(|&b| b == 1));
    assert!(snap[8 + 4096..].iter().all(|&b| b == 2));
}

#[test]
fn back_end_gone_is_an_error_not_a_hang() {
    let mut rig = local_back(
        MemStorage::new(DISK as usize),
        BackConfig::default(),
        no_snapshot,
    );
    let mut disk = connect(&rig, FrontConfig::default());
    disk.set_timeout(Duration::from_millis(300));
    // Mark the back end closed behind the front end's back, as a dying toolstack would.
    let back_state = rig.paths.back.join("state").unwrap();
    let mut front = disk.into_front();
    drop(front.write(0, 512).unwrap());
    use unistack_vchan::Store;
    rig.hv.domain(0).write(back_state.as_str(), "6").unwrap();
    let mut disk = unistack_blk::Disk::new(front);
    disk.set_timeout(Duration::from_millis(300));
    let t0 = std::time::Instant::now();
    // The back end still serves this one (its thread has not looked at the state yet) or
    // the front end notices the Closed state: either way no hang.
    let r = disk.read_at(0, &mut [0u8; 512]);
    assert!(r.is_ok() || r == Err(Error::Closed), "{r:?}");
    assert!(t0.elapsed() < Duration::from_secs(5));
    drop(disk);
    rig.join();
}

/// Both ends polling (`BackConfig::spin`, `Disk::set_spin`) serve the same bytes, and a back
/// end that polls reads the ring without asking for events: the front end sends one for
/// the first request (the back end was asleep) and none for the requests the polling
/// finds. Sleeping ends, for contrast, cost one event per request.
#[test]
fn polling_ends_move_the_same_bytes_without_events() {
    const N: u64 = 64;
    for spin in [Duration::from_millis(500), Duration::ZERO] {
        let mut rig = local_back(
            MemStorage::new(DISK as usize),
            BackConfig {
                spin,
                ..BackConfig::default()
            },
            no_snapshot::<MemStorage>,
        );
        let mut disk = connect(&rig, FrontConfig::default());
        disk.set_spin(spin);
        let mut model = MemDisk::new(DISK / 512, 512);
        for i in 0..N {
            let at = (i * 7919 % (DISK / 4096)) * 4096;
            let data = fill(i as u8, 4096);
            disk.write_at(at, &data).unwrap();
            model.write_at(at, &data).unwrap();
            let mut got = vec![0u8; 4096];
            let mut want = vec![0u8; 4096];
            disk.read_at(at, &mut got).unwrap();
            model.read_at(at, &mut want).unwrap();
            assert!(got == want, "read {i} differs");
        }
        let sent = disk.front().notifications();
        drop(disk);
        let (stats, _) = rig.join();
        assert_eq!(stats.requests, 2 * N);
        if spin.is_zero() {
            assert!(
                sent >= N,
                "sleeping back end, {sent} events for {} requests",
                2 * N
            );
        } else {
            assert!(
                sent <= 2,
                "polling back end, {sent} events for {} requests",
                2 * N
            );
        }
    }
}
