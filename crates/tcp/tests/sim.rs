//! Two unistack endpoints over the simulated link: bulk transfers both ways with content
//! hashes checked, under loss from 0% to 20% plus duplication, reordering and corruption.

use std::time::Duration;

use unistack_tcp::sim::{LinkConfig, Transfer, run_transfer};
use unistack_tcp::{Algorithm, Config};

fn link(loss_ppm: u32) -> LinkConfig {
    LinkConfig {
        delay: Duration::from_millis(5),
        rate: Some(100_000_000),
        loss_ppm,
        queue_limit: 200,
        ..LinkConfig::default()
    }
}

fn transfer(up: usize, down: usize) -> Transfer {
    Transfer {
        up,
        down,
        buffer: 65_536,
        time_limit: Duration::from_secs(600),
        close: true,
    }
}

#[test]
fn clean_link_both_ways() {
    let r = run_transfer(
        Config::default(),
        transfer(1 << 20, 1 << 20),
        link(0),
        link(0),
        1,
    )
    .expect("transfer");
    assert_eq!(r.bytes, (1 << 20, 1 << 20));
    assert_eq!(r.client.retransmits + r.server.retransmits, 0, "{r:?}");
    eprintln!("clean: {:?}", r.elapsed);
}

#[test]
fn lossy_links_deliver_everything() {
    for (i, loss) in [1_000u32, 10_000, 50_000, 100_000, 200_000]
        .into_iter()
        .enumerate()
    {
        for algo in [Algorithm::NewReno, Algorithm::Cubic] {
            let cfg = Config {
                congestion: algo,
                ..Config::default()
            };
            let size = if loss >= 100_000 { 64 << 10 } else { 256 << 10 };
            let r = run_transfer(
                cfg,
                transfer(size, size / 2),
                link(loss),
                link(loss),
                10 + i as u64,
            )
            .unwrap_or_else(|e| panic!("loss {loss} ppm {algo:?}: {e:?}"));
            eprintln!(
                "loss {loss:>6} ppm {algo:?}: {:?}, rexmit {}+{}, rto {}+{}, lost {}+{}",
                r.elapsed,
                r.client.retransmits,
                r.server.retransmits,
                r.client.rto_fired,
                r.server.rto_fired,
                r.links.0.lost,
                r.links.1.lost
            );
        }
    }
}

#[test]
fn duplication_reordering_and_corruption() {
    let faulty = LinkConfig {
        duplicate_ppm: 20_000,
        reorder_ppm: 50_000,
        reorder_extra: Duration::from_millis(4),
        corrupt_ppm: 20_000,
        loss_ppm: 10_000,
        ..link(0)
    };
    let r = run_transfer(
        Config::default(),
        transfer(512 << 10, 128 << 10),
        faulty,
        faulty,
        77,
    )
    .expect("transfer");
    assert!(
        r.bad_checksums > 0,
        "corruption must have been caught: {r:?}"
    );
    assert!(r.links.0.duplicated > 0 && r.links.0.reordered > 0);
}

#[test]
fn no_sack_no_timestamps_still_recovers() {
    let cfg = Config {
        sack: false,
        timestamps: false,
        window_scaling: false,
        ..Config::default()
    };
    let r =
        run_transfer(cfg, transfer(256 << 10, 0), link(20_000), link(20_000), 5).expect("transfer");
    assert!(r.client.fast_recoveries > 0, "{r:?}");
}
