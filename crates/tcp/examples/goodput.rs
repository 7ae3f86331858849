//! The unistack half of the bench's "goodput over sim::Link" table (benches/benches/tcp.rs),
//! runnable from this crate alone: `cargo run --release -p unistack-tcp --example goodput
//! [cubic|bbr]`. Same link (10 ms RTT, 100 Mbit/s, queue 1000), seeds (101, 202, 303), sizes and
//! 256 KiB buffers; deterministic.

use std::time::Duration;

use unistack_tcp::sim::{self, LinkConfig, Transfer};
use unistack_tcp::{Algorithm, Config};

fn main() {
    let arg = |name: &str| std::env::args().any(|a| a == name);
    let cfg = Config {
        congestion: if arg("cubic") {
            Algorithm::Cubic
        } else if arg("bbr") {
            Algorithm::Bbr
        } else {
            Algorithm::NewReno
        },
        ..Config::default()
    };
    println!("{:?}", cfg.congestion);
    println!(
        "  {:<6} {:>8} {:>16} {:>9} {:>7} {:>5} {:>5} {:>5} {:>6}",
        "loss", "Mbit/s", "seeds min..max", "virtual s", "rexmit", "RTOs", "fast", "undo", "dsacks"
    );
    for (loss, mib) in [(0u32, 16usize), (1_000, 16), (10_000, 16), (50_000, 4)] {
        let link = LinkConfig {
            delay: Duration::from_millis(5),
            rate: Some(100_000_000),
            loss_ppm: loss,
            queue_limit: 1000,
            ..LinkConfig::default()
        };
        let (mut got, mut elapsed, mut min, mut max) = (0usize, Duration::ZERO, f64::MAX, 0f64);
        let (mut rexmit, mut rto, mut fast, mut undo, mut dsacks) = (0, 0, 0, 0, 0);
        for seed in [101u64, 202, 303] {
            let transfer = Transfer {
                up: mib << 20,
                down: 0,
                buffer: 256 << 10,
                time_limit: Duration::from_secs(3600),
                close: false,
                read_in_place: None,
            };
            let r = sim::run_transfer(cfg, transfer, link, link, seed).expect("transfer");
            assert_eq!(r.bytes.0, mib << 20);
            let g = r.bytes.0 as f64 * 8.0 / r.elapsed.as_secs_f64() / 1e6;
            (min, max) = (min.min(g), max.max(g));
            got += r.bytes.0;
            elapsed += r.elapsed;
            rexmit += r.client.retransmits;
            rto += r.client.rto_fired;
            fast += r.client.fast_recoveries;
            undo += r.client.undos;
            dsacks += r.client.dsacks_received;
            if std::env::var_os("GOODPUT_STATS").is_some() {
                println!("    {loss} {seed}: {:?}", r.client);
            }
        }
        println!(
            "  {:<6} {:>8.3} {:>16} {:>9.2} {:>7} {:>5} {:>5} {:>5} {:>6}",
            format!("{:.1}%", f64::from(loss) / 1e4),
            got as f64 * 8.0 / elapsed.as_secs_f64() / 1e6,
            format!("{min:.3}..{max:.3}"),
            elapsed.as_secs_f64(),
            rexmit,
            rto,
            fast,
            undo,
            dsacks
        );
    }
}
