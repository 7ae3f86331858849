//! Run a unistack interface on a Linux TAP device with a few test services, for interop
//! tests against the kernel's stack:
//!
//! ```text
//! unistack-tapd --tap NAME --ip ADDR/PREFIX [--seconds N] [--source-bytes N]
//!               [--send-to ADDR:PORT --bytes N]
//! ```
//! - ICMP echo is answered.
//! - TCP 9000 (sink): reads everything; when the peer closes prints
//!   `sink <bytes> <fnv1a-hex>`, then `ecn-sink <true|false>` (whether the connection
//!   negotiated ECN, which a peer asking for it gets), and closes.
//! - TCP 9001 (source): sends `--source-bytes` bytes of the pattern `(i * 2654435761 >> 13) as
//!   u8`, then closes.
//! - `--send-to`: connects out and sends `--bytes` bytes of the pattern, then closes and
//!   prints `sent <bytes>` and `ecn-sent <true|false>`; `--ecn` asks the peer for ECN.
//!
//! - `--faults drop=PPM,dup=PPM,reorder=PPM,corrupt=PPM`: wrap the device in a
//!   [`FaultInjector`].
//! - `--offload`: open the TAP with `IFF_VNET_HDR`, checksum offload and TSO (64 KiB TCP
//!   segments both ways; see `TapDevice::open_offload`).
//! - `--congestion newreno|cubic|bbr`: every connection's congestion control (default
//!   NewReno).
//! - `--read-in-place`: the sink reads what arrives in order straight from the device's
//!   receive buffer (`Interface::poll_with`) and prints `sink-copies <in place> <copied>`
//!   after its `sink` line.
//!
//! Prints `ready` when the device is open. Exits after `--seconds` (default 60), printing the
//! fault counts and the device's counters (`tap TapStats {..}`, also printed after each
//! `sink` and `sent` line and when a source connection ends).

use std::io::Write;
use std::time::{Duration, Instant};

use unistack_ethif::MacAddress;
use unistack_ipv4::{ChecksumCaps, Ipv4Address, Ipv4Cidr};
use unistack_stack::{FaultInjector, Faults, Interface, InterfaceConfig, TapDevice, TcpHandle};
use unistack_tcp::{Config, RecvError, Socket, State};

fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

fn fnv(h: u64, d: &[u8]) -> u64 {
    d.iter()
        .fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn sock(cfg: Config) -> Socket<'static> {
    Socket::new(vec![0u8; 1 << 20], vec![0u8; 1 << 20], cfg)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut tap, mut ip, mut seconds, mut source_bytes) = (None, None, 60u64, 0usize);
    let (mut send_to, mut bytes) = (None, 0usize);
    let mut faults = Faults::default();
    let mut offload = false;
    let mut in_place = false;
    let mut ecn = false;
    let mut cfg = Config::default();
    while let Some(a) = args.next() {
        let mut v = || {
            args.next()
                .unwrap_or_else(|| die(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--tap" => tap = Some(v()),
            "--ip" => ip = Some(v()),
            "--seconds" => seconds = v().parse().unwrap_or_else(|_| die("bad --seconds")),
            "--source-bytes" => {
                source_bytes = v().parse().unwrap_or_else(|_| die("bad --source-bytes"))
            }
            "--send-to" => send_to = Some(v()),
            "--bytes" => bytes = v().parse().unwrap_or_else(|_| die("bad --bytes")),
            "--offload" => offload = true,
            "--read-in-place" => in_place = true,
            "--ecn" => ecn = true,
            "--congestion" => {
                cfg.congestion = v()
                    .parse()
                    .unwrap_or_else(|e| die(&format!("--congestion: {e}")))
            }
            "--faults" => {
                for kv in v().split(',') {
                    let (k, n) = kv
                        .split_once('=')
                        .unwrap_or_else(|| die("--faults wants k=ppm"));
                    let n: u32 = n.parse().unwrap_or_else(|_| die("bad ppm"));
                    match k {
                        "drop" => faults.drop_ppm = n,
                        "dup" => faults.duplicate_ppm = n,
                        "reorder" => faults.reorder_ppm = n,
                        "corrupt" => faults.corrupt_ppm = n,
                        _ => die("fault kinds: drop, dup, reorder, corrupt"),
                    }
                }
            }
            _ => die(&format!("unknown argument {a}")),
        }
    }
    let tap = tap.unwrap_or_else(|| die("--tap NAME is required"));
    let ip = ip.unwrap_or_else(|| die("--ip ADDR/PREFIX is required"));
    let (addr, prefix) = ip
        .split_once('/')
        .unwrap_or_else(|| die("--ip wants ADDR/PREFIX"));
    let addr: Ipv4Address = addr.parse().unwrap_or_else(|_| die("bad address"));
    let prefix: u8 = prefix.parse().unwrap_or_else(|_| die("bad prefix"));
    let cidr = Ipv4Cidr::new(addr, prefix).unwrap_or_else(|| die("bad prefix"));

    let tapdev = if offload {
        TapDevice::open_offload(&tap, 1500)
    } else {
        TapDevice::open(&tap, 1500)
    }
    .unwrap_or_else(|e| die(&format!("open {tap}: {e}")));
    let mut dev = FaultInjector::new(tapdev, faults, u64::from(std::process::id()));
    let mut secret = [0u8; 16];
    let t = Instant::now().elapsed().as_nanos() ^ u128::from(std::process::id());
    secret.copy_from_slice(
        &(t.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)).to_le_bytes(),
    );
    let mut iface = Interface::new(
        InterfaceConfig {
            mac: MacAddress([0x02, 0, 0, 0x5e, addr.octets()[2], addr.octets()[3]]),
            addr: cidr,
            gateway: None,
            ttl: 64,
            icmp_error_rate: 100,
            secret,
        },
        ChecksumCaps::all(),
    );
    let sink = iface
        .tcp_listen(9000, 64, (0..4).map(|_| sock(cfg)).collect(), cfg)
        .unwrap();
    let source = iface
        .tcp_listen(9001, 64, (0..4).map(|_| sock(cfg)).collect(), cfg)
        .unwrap();
    println!("ready");
    let _ = std::io::stdout().flush();

    let start = Instant::now();
    let now = || Duration::from_nanos(start.elapsed().as_nanos() as u64);
    let mut sinks: Vec<(TcpHandle, usize, u64)> = Vec::new();
    let mut sources: Vec<(TcpHandle, usize)> = Vec::new();
    let mut client: Option<(TcpHandle, usize)> = send_to.as_ref().map(|s| {
        let (a, p) = s
            .split_once(':')
            .unwrap_or_else(|| die("--send-to wants ADDR:PORT"));
        let a: Ipv4Address = a.parse().unwrap_or_else(|_| die("bad --send-to address"));
        let p: u16 = p.parse().unwrap_or_else(|_| die("bad --send-to port"));
        let client = Socket::new(
            vec![0u8; 1 << 20],
            vec![0u8; 1 << 20],
            Config { ecn, ..cfg },
        );
        (
            iface
                .tcp_connect(now(), client, 45_000, (a, p))
                .unwrap_or_else(|e| die(&format!("{e}"))),
            0,
        )
    });
    let mut report = false;
    while start.elapsed() < Duration::from_secs(seconds) {
        if std::mem::take(&mut report) {
            println!("tap {:?}", dev.inner().stats());
            let _ = std::io::stdout().flush();
        }
        let t = now();
        let busy = if in_place {
            iface.poll_with(t, &mut dev, &mut |h, d| {
                let Some((_, n, hash)) = sinks.iter_mut().find(|s| s.0 == h) else {
                    return 0;
                };
                *hash = fnv(*hash, d);
                *n += d.len();
                d.len()
            })
        } else {
            iface.poll(t, &mut dev)
        };
        while let Some(h) = iface.tcp_accept(sink) {
            sinks.push((h, 0, 0xcbf2_9ce4_8422_2325));
            iface.tcp_replenish(sink, sock(cfg));
        }
        while let Some(h) = iface.tcp_accept(source) {
            sources.push((h, 0));
            iface.tcp_replenish(source, sock(cfg));
        }
        sinks.retain_mut(|(h, n, hash)| {
            let s = iface.tcp(*h).expect("handle");
            loop {
                match s.recv_with(|d| {
                    *hash = fnv(*hash, d);
                    d.len()
                }) {
                    Ok(0) => return true,
                    Ok(k) => *n += k,
                    Err(RecvError::Finished) => {
                        println!("sink {n} {hash:016x}");
                        let st = s.stats();
                        println!("sink-copies {} {}", st.rx_bytes_direct, st.rx_bytes_copied);
                        println!("ecn-sink {}", s.ecn());
                        let _ = std::io::stdout().flush();
                        report = true;
                        s.close();
                        return false;
                    }
                    Err(_) => return false,
                }
            }
        });
        let before = sources.len();
        sources.retain_mut(|(h, sent)| fill(&mut iface, *h, sent, source_bytes));
        report |= sources.len() < before;
        if let Some((h, sent)) = client.as_mut()
            && !fill(&mut iface, *h, sent, bytes)
        {
            let s = iface.tcp_ref(*h).expect("handle");
            if matches!(s.state(), State::TimeWait | State::Closed) {
                println!("sent {sent}");
                println!("ecn-sent {}", s.ecn());
                let _ = std::io::stdout().flush();
                client = None;
                report = true;
            }
        }
        if !busy {
            dev.inner_mut().wait(Duration::from_millis(1));
        }
    }
    println!("faults {:?}", dev.stats());
    println!("tap {:?}", dev.inner().stats());
}

/// Send the pattern up to `total`, then close; false once closed and everything is sent.
fn fill(iface: &mut Interface<'static>, h: TcpHandle, sent: &mut usize, total: usize) -> bool {
    let s = iface.tcp(h).expect("handle");
    if s.error().is_some() {
        eprintln!("connection failed: {:?}", s.error());
        return false;
    }
    while *sent < total {
        let Ok(n) = s.send_with(|buf| {
            let n = buf.len().min(total - *sent);
            for (i, b) in buf[..n].iter_mut().enumerate() {
                *b = pattern(*sent + i);
            }
            n
        }) else {
            break;
        };
        if n == 0 {
            break;
        }
        *sent += n;
    }
    if *sent == total && s.may_send() {
        s.close();
    }
    s.send_queue() > 0 || s.may_send()
}

fn die(msg: &str) -> ! {
    eprintln!("unistack-tapd: {msg}");
    std::process::exit(2)
}
