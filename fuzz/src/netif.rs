//! Netfront and netback against a peer that writes arbitrary bytes into the shared pages.

use std::time::Duration;

use unistack_ipv4::ChecksumCaps;
use unistack_stack::{Device, NetConfig, Netback, Netfront};
use unistack_vchan::local::{Domain, Hypervisor};
use unistack_vchan::shm::Shm;
use unistack_vchan::{EventChannel, Events, Grants, Mapping, Store};

const PATH: &str = "/local/domain/1/device/vif/0";

fn key(d: &Domain, k: &str) -> u32 {
    let mut buf = [0u8; 16];
    match d.read(&format!("{PATH}/{k}"), &mut buf) {
        Ok(Some(v)) => v.parse().unwrap_or(0),
        _ => 0,
    }
}

/// Apply the fuzz input's operations: `[op, offset hi, offset lo, len, bytes...]`, where op
/// picks a shared page to scribble on or a device call to make.
fn run(data: &[u8], pages: &[&Shm], dev: &mut impl Hostile) {
    let mut rest = data;
    let mut steps = 0;
    while let [op, hi, lo, len, tail @ ..] = rest {
        steps += 1;
        if steps > 256 {
            break;
        }
        let n = usize::from(*len).min(tail.len());
        let (bytes, next) = tail.split_at(n);
        rest = next;
        let off = usize::from(u16::from_be_bytes([*hi, *lo]));
        let was_stopped = dev.stopped();
        match op % 4 {
            0 | 1 => {
                if let Some(page) = pages.get(usize::from(*op / 4) % pages.len().max(1)) {
                    let off = off % page.len();
                    let n = bytes.len().min(page.len() - off);
                    let _ = page.write(off, &bytes[..n]);
                }
            }
            2 => {
                let len = off % 1600;
                let sent = dev.transmit(Duration::ZERO, len, |f| {
                    assert_eq!(f.len(), len);
                    f.fill(0x5a);
                });
                assert!(!(was_stopped && sent.is_some()), "a stopped device sent");
            }
            _ => {
                let caps = dev.caps();
                let got = dev.receive(Duration::ZERO, |f| f.len());
                if let Some(len) = got {
                    assert!(!was_stopped, "a stopped device received");
                    assert!((14..=caps.mtu + 14).contains(&len), "frame of {len} bytes");
                }
            }
        }
    }
}

/// A real [`Netfront`] against a hostile back end, or a real [`Netback`] against a hostile
/// front end (the first byte decides), with the peer scribbling on the rings and data pages.
pub fn netif_hostile(data: &[u8]) {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let hv = Hypervisor::new();
    let config = NetConfig {
        tx_slots: 4,
        rx_slots: 4,
        ..NetConfig::default()
    };
    if mode & 1 == 0 {
        let Ok(mut front) = Netfront::connect(hv.domain(1), 0, PATH, config) else {
            return;
        };
        let back = hv.domain(0);
        let (Ok(tx), Ok(rx)) = (
            back.map(1, &[key(&back, "tx-ring-ref")]),
            back.map(1, &[key(&back, "rx-ring-ref")]),
        ) else {
            return;
        };
        run(data, &[tx.shm(), rx.shm()], &mut front);
    } else {
        // The hostile front end: rings, four data pages and the keys, by hand.
        let d = hv.domain(1);
        let mut r = [0];
        let Ok(tx) = d.share(0, &mut r) else { return };
        let txr = r[0];
        let Ok(rx) = d.share(0, &mut r) else { return };
        let rxr = r[0];
        let mut data_pages = Vec::new();
        for _ in 0..4 {
            let Ok(p) = d.share(0, &mut r) else { return };
            data_pages.push(p);
        }
        let Ok(ev) = d.alloc_unbound(0) else { return };
        for (k, v) in [
            ("tx-ring-ref", txr),
            ("rx-ring-ref", rxr),
            ("event-channel", ev.port()),
            ("mtu", 1500),
            ("state", 4),
        ] {
            let _ = d.write(&format!("{PATH}/{k}"), &v.to_string());
        }
        let Ok(Some(mut back)) = Netback::attach(hv.domain(0), 1, PATH, ChecksumCaps::all()) else {
            return;
        };
        let mut pages: Vec<&Shm> = vec![tx.shm(), rx.shm()];
        pages.extend(data_pages.iter().map(|p| p.shm()));
        run(data, &pages, &mut back);
    }
}

/// A device under attack, which can say whether it stopped.
trait Hostile: Device {
    fn stopped(&self) -> bool;
}

impl Hostile for Netfront<Domain> {
    fn stopped(&self) -> bool {
        self.error().is_some()
    }
}

impl Hostile for Netback<Domain> {
    fn stopped(&self) -> bool {
        self.error().is_some()
    }
}
