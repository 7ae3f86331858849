//! Every interleaving of a writer and a reader on one vchan, at the granularity of API calls,
//! checked for lost wakeups (our equivalent of a `loom` model check of the event protocol).
//!
//! Both ends run the loop a blocking caller runs, split into its separate calls so that any
//! call of one end can fall between any two calls of the other:
//! - writer: `try_write`; on a full ring `buffer_space` (which asks for an event when space
//!   frees up, then looks again); if still full, sleep;
//! - reader: `try_read`; on an empty ring `data_ready` (asks for an event on new data, then
//!   looks again); if still empty, sleep;
//! - a sleeping end wakes only by consuming a pending event (`wait_event` with a zero
//!   timeout), as the blocking calls do.
//!
//! A schedule is a sequence of which end moves next; a depth-first search replays each
//! prefix on a fresh channel and extends it with every end that can move. A state where
//! both ends sleep with no event pending for either, while data or space is waiting, is a
//! lost wakeup and fails the test; every complete schedule must deliver the exact bytes.
//! Waking an end that has no event is a no-op and is pruned (the same state). The search is
//! exhaustive for the bounded workload (the byte count and the chunk sizes below). A reader
//! broken on purpose (it drops an event between its check and its sleep) is caught.

use std::time::Duration;

use unistack_vchan::local::{Domain, Hypervisor};
use unistack_vchan::{Error, ServerConfig, Vchan};

const PATH: &str = "/local/domain/1/data/vchan/model";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// About to try the operation.
    Try,
    /// The operation would block: about to arm the event and look again.
    Arm,
    /// Armed and still blocked: sleeping until an event.
    Sleep,
    /// (The deliberately broken reader only.)
    Discard,
    Done,
}

struct World {
    _hv: Hypervisor,
    w: Vchan<Domain>,
    r: Vchan<Domain>,
    wp: Phase,
    rp: Phase,
    sent: usize,
    got: Vec<u8>,
}

struct Workload {
    total: usize,
    write_chunk: usize,
    read_chunk: usize,
    /// Ring sizes (left = client to server, right = server to client); the writer is the
    /// server, so its ring is the right one.
    left: usize,
    right: usize,
    /// Make the reader drop an event between its check and its sleep (to show the search
    /// finds a lost wakeup when there is one).
    broken_reader: bool,
}

fn byte(i: usize) -> u8 {
    (i * 7 + 3) as u8
}

impl World {
    fn new(wl: &Workload) -> World {
        let hv = Hypervisor::new();
        let w = Vchan::server(hv.domain(1), 2, PATH, ServerConfig::new(wl.left, wl.right)).unwrap();
        let r = Vchan::client(hv.domain(2), 1, PATH).unwrap();
        // The client's connect sends one event; start from quiet channels.
        let _ = w.wait_event(Some(Duration::ZERO));
        let _ = r.wait_event(Some(Duration::ZERO));
        World {
            _hv: hv,
            w,
            r,
            wp: Phase::Try,
            rp: Phase::Try,
            sent: 0,
            got: Vec::new(),
        }
    }

    /// Move end `who` (0 writer, 1 reader) one call; false if that was a no-op (a sleeping end
    /// with no event), which the search prunes.
    fn step(&mut self, who: u8, wl: &Workload) -> bool {
        if who == 0 {
            match self.wp {
                Phase::Try => {
                    let n = (wl.total - self.sent).min(wl.write_chunk);
                    let chunk: Vec<u8> = (self.sent..self.sent + n).map(byte).collect();
                    match self.w.try_write(&chunk) {
                        Ok(k) => {
                            self.sent += k;
                            if self.sent == wl.total {
                                self.wp = Phase::Done;
                            }
                        }
                        Err(Error::WouldBlock) => self.wp = Phase::Arm,
                        Err(e) => panic!("write: {e:?}"),
                    }
                }
                Phase::Arm => {
                    self.wp = if self.w.buffer_space().unwrap() > 0 {
                        Phase::Try
                    } else {
                        Phase::Sleep
                    };
                }
                Phase::Sleep => {
                    if !self.w.wait_event(Some(Duration::ZERO)).unwrap() {
                        return false;
                    }
                    self.wp = Phase::Try;
                }
                Phase::Done | Phase::Discard => return false,
            }
        } else {
            match self.rp {
                Phase::Try => {
                    let mut buf = vec![0u8; wl.read_chunk];
                    match self.r.try_read(&mut buf) {
                        Ok(0) | Err(Error::WouldBlock) => self.rp = Phase::Arm,
                        Ok(k) => {
                            self.got.extend_from_slice(&buf[..k]);
                            if self.got.len() == wl.total {
                                self.rp = Phase::Done;
                            }
                        }
                        Err(e) => panic!("read: {e:?}"),
                    }
                }
                Phase::Arm => {
                    self.rp = if self.r.data_ready().unwrap() > 0 {
                        Phase::Try
                    } else if wl.broken_reader {
                        Phase::Discard
                    } else {
                        Phase::Sleep
                    };
                }
                Phase::Discard => {
                    // The broken reader: it throws away a pending event after looking and
                    // before sleeping, the classic lost-wakeup mistake.
                    let _ = self.r.wait_event(Some(Duration::ZERO));
                    self.rp = Phase::Sleep;
                }
                Phase::Sleep => {
                    if !self.r.wait_event(Some(Duration::ZERO)).unwrap() {
                        return false;
                    }
                    self.rp = Phase::Try;
                }
                Phase::Done => return false,
            }
        }
        true
    }
}

/// Explore every schedule; returns (complete schedules, steps replayed).
fn explore(wl: &Workload) -> (u64, u64) {
    let mut complete = 0u64;
    let mut steps = 0u64;
    // Depth-first over schedule prefixes, replaying each from a fresh channel.
    let mut stack: Vec<Vec<u8>> = vec![Vec::new()];
    while let Some(prefix) = stack.pop() {
        let mut world = World::new(wl);
        let mut valid = true;
        for &who in &prefix {
            steps += 1;
            if !world.step(who, wl) {
                valid = false;
                break;
            }
        }
        if !valid {
            continue;
        }
        if world.wp == Phase::Done && world.rp == Phase::Done {
            let want: Vec<u8> = (0..wl.total).map(byte).collect();
            assert_eq!(world.got, want, "schedule {prefix:?} delivered other bytes");
            complete += 1;
            continue;
        }
        assert!(prefix.len() < 400, "a schedule ran away: {prefix:?}");
        // Both ends asleep: each must have an event pending (probe on a replayed copy,
        // since probing consumes the event).
        if matches!(world.wp, Phase::Sleep | Phase::Done)
            && matches!(world.rp, Phase::Sleep | Phase::Done)
        {
            let mut probe_w = World::new(wl);
            let mut probe_r = World::new(wl);
            for &who in &prefix {
                probe_w.step(who, wl);
                probe_r.step(who, wl);
            }
            let w_wakes = world.wp == Phase::Sleep && probe_w.step(0, wl);
            let r_wakes = world.rp == Phase::Sleep && probe_r.step(1, wl);
            assert!(
                w_wakes || r_wakes,
                "lost wakeup after {prefix:?}: writer {:?} (sent {}), reader {:?} (got {})",
                world.wp,
                world.sent,
                world.rp,
                world.got.len()
            );
        }
        for who in [1u8, 0] {
            let mut next = prefix.clone();
            next.push(who);
            stack.push(next);
        }
    }
    (complete, steps)
}

#[test]
fn no_lost_wakeups_on_in_page_rings() {
    // A 1024-byte ring for the writer: 2.5 rings of data, writes and reads that do not line
    // up with the ring, so both ends block and wrap.
    let wl = Workload {
        total: 2560,
        write_chunk: 900,
        read_chunk: 700,
        left: 2048,
        right: 1024,
        broken_reader: false,
    };
    let (complete, steps) = explore(&wl);
    println!("{complete} complete schedules, {steps} steps replayed");
    assert!(
        complete > 1000,
        "the search explored only {complete} schedules"
    );
}

#[test]
fn no_lost_wakeups_when_reads_are_tiny() {
    // The reader takes small bites: the writer blocks with a nearly full ring many times.
    let wl = Workload {
        total: 1400,
        write_chunk: 1024,
        read_chunk: 350,
        left: 2048,
        right: 1024,
        broken_reader: false,
    };
    let (complete, _) = explore(&wl);
    assert!(
        complete > 100,
        "the search explored only {complete} schedules"
    );
}

#[test]
fn the_search_finds_the_lost_wakeup_of_a_broken_reader() {
    let wl = Workload {
        total: 2560,
        write_chunk: 900,
        read_chunk: 700,
        left: 2048,
        right: 1024,
        broken_reader: true,
    };
    let found = std::panic::catch_unwind(|| explore(&wl));
    let msg = found
        .err()
        .and_then(|e| e.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(msg.contains("lost wakeup"), "not found: {msg:?}");
}
