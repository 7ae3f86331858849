//! A small side-by-side benchmark harness for unistack's benches.
//!
//! Criterion measures one function at a time; our question is always a ratio between
//! implementations measured in the same run on a noisy 2-core machine. So this harness runs the
//! contenders *interleaved*, round after round, over the same inputs, takes the median time per
//! item of each, and prints every contender's ratio to the baseline. Medians over interleaved
//! rounds keep the ratio stable even when the machine's speed drifts during the run.
//!
//! Environment: `UNISTACK_BENCH_ROUNDS` (default 41) and `UNISTACK_BENCH_MIN_MS` (minimum time
//! per contender per round, default 20) trade run time for stability; `UNISTACK_BENCH_ONLY`
//! runs only the groups whose title contains it.
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

/// One contender: a name and a routine that processes every item once and returns a checksum
/// (compared across contenders so a fast-but-wrong routine is caught).
pub struct Contender<'a> {
    name: &'a str,
    run: Box<dyn FnMut() -> u64 + 'a>,
}

/// The outcome for one contender.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Contender name.
    pub name: String,
    /// Median nanoseconds per item.
    pub median_ns: f64,
    /// Median divided by the baseline's median.
    pub ratio: f64,
    /// The checksum the routine returned.
    pub checksum: u64,
}

/// A group of contenders over the same `items` inputs; the first added is the baseline.
pub struct Group<'a> {
    title: String,
    items: usize,
    rounds: usize,
    min: Duration,
    contenders: Vec<Contender<'a>>,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

impl<'a> Group<'a> {
    /// A new group; `items` is how many items one call of a routine processes.
    pub fn new(title: &str, items: usize) -> Self {
        Group {
            title: title.to_string(),
            items,
            rounds: env_usize("UNISTACK_BENCH_ROUNDS", 41).max(3),
            min: Duration::from_millis(env_usize("UNISTACK_BENCH_MIN_MS", 20) as u64),
            contenders: Vec::new(),
        }
    }

    /// Override the number of rounds and the minimum time per contender per round.
    pub fn budget(&mut self, rounds: usize, min: Duration) -> &mut Self {
        self.rounds = rounds.max(3);
        self.min = min;
        self
    }

    /// Add a contender. The first one is the baseline the ratios refer to.
    pub fn add(&mut self, name: &'a str, run: impl FnMut() -> u64 + 'a) -> &mut Self {
        self.contenders.push(Contender {
            name,
            run: Box::new(run),
        });
        self
    }

    /// Run all contenders interleaved and print a table of medians and ratios.
    ///
    /// # Panics
    /// If contenders disagree on the checksum (one of them computes something else).
    pub fn run(&mut self) -> Vec<Outcome> {
        let rounds = self.rounds;
        let min = self.min;
        // Calibrate: how many calls make `min` for each contender, and record checksums.
        let mut reps = Vec::new();
        let mut sums = Vec::new();
        for c in &mut self.contenders {
            let mut n = 1usize;
            let sum = black_box((c.run)());
            loop {
                let t = Instant::now();
                for _ in 0..n {
                    black_box((c.run)());
                }
                if t.elapsed() >= min / 4 || n >= 1 << 30 {
                    break;
                }
                n *= 2;
            }
            reps.push(n * 4);
            sums.push(sum);
        }
        let base_sum = sums[0];
        for (c, s) in self.contenders.iter().zip(&sums) {
            assert_eq!(
                *s, base_sum,
                "{}: contender {} computes a different checksum than the baseline",
                self.title, c.name
            );
        }
        let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); self.contenders.len()];
        for round in 0..rounds {
            // Rotate the order each round so no contender always runs right after another.
            let k = self.contenders.len();
            for j in 0..k {
                let i = (j + round) % k;
                let c = &mut self.contenders[i];
                let t = Instant::now();
                for _ in 0..reps[i] {
                    black_box((c.run)());
                }
                let ns = t.elapsed().as_nanos() as f64 / (reps[i] * self.items) as f64;
                samples[i].push(ns);
            }
        }
        let medians: Vec<f64> = samples
            .iter_mut()
            .map(|s| {
                s.sort_by(f64::total_cmp);
                s[s.len() / 2]
            })
            .collect();
        let base = medians[0];
        println!(
            "\n{} ({} items per call, {rounds} interleaved rounds, median)",
            self.title, self.items
        );
        println!("  {:<34} {:>12} {:>10}", "contender", "ns/item", "ratio");
        let mut out = Vec::new();
        for (i, c) in self.contenders.iter().enumerate() {
            let ratio = medians[i] / base;
            println!("  {:<34} {:>12.2} {:>9.3}x", c.name, medians[i], ratio);
            out.push(Outcome {
                name: c.name.to_string(),
                median_ns: medians[i],
                ratio,
                checksum: sums[i],
            });
        }
        out
    }
}

/// Whether a group with this title runs (see `UNISTACK_BENCH_ONLY`).
pub fn selected(title: &str) -> bool {
    std::env::var("UNISTACK_BENCH_ONLY").map_or(true, |only| title.contains(&only))
}

/// SplitMix64, for reproducible bench inputs without a dependency.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_relative_to_the_first_contender() {
        let data: Vec<u64> = (0..1000).collect();
        let mut g = Group::new("sum", data.len());
        g.budget(3, Duration::from_millis(1));
        g.add("iter", || data.iter().copied().sum());
        g.add("loop", || {
            let mut s = 0;
            for x in &data {
                s += *x;
            }
            s
        });
        let out = g.run();
        assert_eq!(out.len(), 2);
        assert!((out[0].ratio - 1.0).abs() < 1e-12);
        assert_eq!(out[0].checksum, 499_500);
        assert!(out[1].median_ns > 0.0);
    }

    #[test]
    #[should_panic(expected = "computes a different checksum")]
    fn a_wrong_contender_is_caught() {
        let mut g = Group::new("wrong", 1);
        g.budget(3, Duration::from_millis(1));
        g.add("right", || 1);
        g.add("wrong", || 2);
        g.run();
    }
}
