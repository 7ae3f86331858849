//! TCP throughput over a Linux TAP device, both ways, between Linux's own TCP and a user-space
//! stack: unistack with `IFF_VNET_HDR` offloads (TSO both ways; NewReno, NewReno with a sink
//! that reads in place, and BBR), unistack with offloads but its old software-checksum path,
//! unistack on a plain TAP (one system call per frame), smoltcp 0.14 on a plain TAP (its
//! `TunTapInterface`), and, as the
//! reference, Linux to Linux over a veth pair. Then the same with 1% random loss both ways
//! (nftables `numgen random` drop rules on the Linux side).
//!
//! Needs root, `ip` and `nft`: every contender lives in network namespaces the bench creates
//! (addresses from 192.0.2.0/24 and 198.51.100.0/24, no route out) and deletes. The user-space
//! stacks and the Linux peers are child processes (this binary, re-executed inside a namespace
//! with `ip netns exec`); the Linux peer times each transfer from its first byte to the
//! stream's end and checks the bytes. `cargo bench -p unistack-benches --bench tap` moves
//! `UNISTACK_TAP_MIB` (default 128) MiB per transfer, `UNISTACK_TAP_ROUNDS` (default 5)
//! rounds, contenders interleaved (`UNISTACK_TAP_ONLY=uo,ui,ub,uv,up,sm,veth` picks some;
//! `UNISTACK_TAP_LOSS_MIB=0` skips the lossy half); `cargo test --benches` runs one 2 MiB round (the smoke
//! run) and prints SKIPPED without root or the tools.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use unistack_stack::netns::Netns;

const ROLE: &str = "UNISTACK_TAP_BENCH_ROLE";
const MIB: usize = 1 << 20;
const BUF: usize = 1 << 20;
const SINK: u16 = 9000;
const SOURCE: u16 = 9001;
const STACK_IP: [u8; 4] = [192, 0, 2, 2];
const LINUX_IP: &str = "192.0.2.1";
const TAP: &str = "usbench0";
const NEW_RENO: unistack_tcp::Algorithm = unistack_tcp::Algorithm::NewReno;
const BBR: unistack_tcp::Algorithm = unistack_tcp::Algorithm::Bbr;

fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} not set"))
}

// ---------------------------------------------------------------- children

/// The services both user-space stacks run: 9000 reads a stream to its end (then closes),
/// 9001 sends `bytes` of the pattern (then closes). Linux's side checks and times.
/// The TAP device as the stack sees it. `vouch`: receive through `TapDevice::receive_info`,
/// so checksums Linux left partial are taken as verified, and leave TSO checksums to the
/// kernel (what the stack does); without it, receive through the trait's default, which
/// completes and verifies them in software, and sum every TSO segment before handing it
/// over (three passes per 64 KiB in all: the cost the contender beside it measures).
struct Tap {
    dev: unistack_stack::TapDevice,
    vouch: bool,
}

impl unistack_stack::Device for Tap {
    fn caps(&self) -> unistack_stack::DeviceCaps {
        self.dev.caps()
    }
    fn receive<R>(&mut self, now: Duration, f: impl FnOnce(&mut [u8]) -> R) -> Option<R> {
        self.dev.receive(now, f)
    }
    fn receive_info<R>(
        &mut self,
        now: Duration,
        f: impl FnOnce(&mut [u8], unistack_stack::RxInfo) -> R,
    ) -> Option<R> {
        if self.vouch {
            self.dev.receive_info(now, f)
        } else {
            self.dev
                .receive(now, |frame| f(frame, unistack_stack::RxInfo::default()))
        }
    }
    fn transmit<R>(
        &mut self,
        now: Duration,
        len: usize,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        self.dev.transmit(now, len, f)
    }
    fn transmit_tso<R>(
        &mut self,
        now: Duration,
        len: usize,
        tso: unistack_stack::Tso,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Option<R> {
        let vouch = self.vouch;
        self.dev.transmit_tso(now, len, tso, |frame| {
            let r = f(frame);
            if !vouch {
                // What the stack did before it left TSO checksums to the device: one pass
                // over the whole segment (the device then overwrites the field anyway).
                let tcp = frame.get(34..).unwrap_or_default();
                std::hint::black_box(unistack_ipv4::checksum::data(tcp));
            }
            r
        })
    }
}

/// `in_place`: the sink reads in place (`Interface::poll_with`), so what arrives in order is
/// never copied into its socket buffer.
fn unistack_child(
    offload: bool,
    vouch: bool,
    congestion: unistack_tcp::Algorithm,
    in_place: bool,
    bytes: usize,
) {
    // What the source sends, made before the clock matters (as Linux's peer does): the
    // sender then pays a copy per byte, not a multiply.
    let data: Vec<u8> = (0..bytes).map(pattern).collect();
    use unistack_ethif::MacAddress;
    use unistack_ipv4::{ChecksumCaps, Ipv4Address, Ipv4Cidr};
    use unistack_stack::{Interface, InterfaceConfig, TapDevice, TcpHandle};
    use unistack_tcp::{Config, RecvError, Socket};

    let dev = if offload {
        TapDevice::open_offload(TAP, 1500)
    } else {
        TapDevice::open(TAP, 1500)
    }
    .expect("open the TAP");
    let mut dev = Tap { dev, vouch };
    let cfg = Config {
        congestion,
        ..Config::default()
    };
    let sock = || Socket::new(vec![0u8; BUF], vec![0u8; BUF], cfg);
    let [a0, a1, a2, a3] = STACK_IP;
    let ip = Ipv4Address::new(a0, a1, a2, a3);
    let mut iface = Interface::new(
        InterfaceConfig {
            mac: MacAddress([2, 0, 0, 0, 0, 2]),
            addr: Ipv4Cidr::new(ip, 24).expect("cidr"),
            gateway: None,
            ttl: 64,
            icmp_error_rate: 100,
            secret: [7; 16],
        },
        ChecksumCaps::all(),
    );
    let sink = iface
        .tcp_listen(SINK, 8, vec![sock(), sock()], cfg)
        .expect("listen");
    let source = iface
        .tcp_listen(SOURCE, 8, vec![sock(), sock()], cfg)
        .expect("listen");
    println!("ready");
    let _ = std::io::stdout().flush();
    let start = Instant::now();
    let (mut sinks, mut sources): (Vec<TcpHandle>, Vec<(TcpHandle, usize)>) = (vec![], vec![]);
    while start.elapsed() < Duration::from_secs(1800) {
        let now = start.elapsed();
        let busy = if in_place {
            iface.poll_with(now, &mut dev, &mut |h, d| {
                if sinks.contains(&h) { d.len() } else { 0 }
            })
        } else {
            iface.poll(now, &mut dev)
        };
        while let Some(h) = iface.tcp_accept(sink) {
            sinks.push(h);
            iface.tcp_replenish(sink, sock());
        }
        while let Some(h) = iface.tcp_accept(source) {
            sources.push((h, 0));
            iface.tcp_replenish(source, sock());
        }
        sinks.retain(|&h| {
            let Some(s) = iface.tcp(h) else { return false };
            loop {
                match s.recv_with(|d| d.len()) {
                    Ok(0) => return true,
                    Ok(_) => {}
                    Err(RecvError::Finished) => {
                        s.close();
                        return false;
                    }
                    Err(_) => return false,
                }
            }
        });
        sources.retain_mut(|(h, sent)| {
            let Some(s) = iface.tcp(*h) else { return false };
            while *sent < bytes {
                let Ok(n) = s.send_with(|buf| {
                    let n = buf.len().min(bytes - *sent);
                    buf[..n].copy_from_slice(&data[*sent..*sent + n]);
                    n
                }) else {
                    return false;
                };
                if n == 0 {
                    break;
                }
                *sent += n;
            }
            if *sent == bytes && s.may_send() {
                s.close();
            }
            s.is_open()
        });
        if !busy {
            let wait = iface
                .poll_at()
                .map_or(Duration::from_millis(1), |t| t.saturating_sub(now));
            dev.dev.wait(wait.min(Duration::from_millis(1)));
        }
    }
}

fn smoltcp_child(bytes: usize) {
    let data: Vec<u8> = (0..bytes).map(pattern).collect();
    use smoltcp::iface::{Config, Interface, SocketSet};
    use smoltcp::phy::{Medium, TunTapInterface, wait as phy_wait};
    use smoltcp::socket::tcp;
    use smoltcp::time::Instant as SInstant;
    use smoltcp::wire::{EthernetAddress, IpAddress, IpCidr};
    use std::os::fd::AsRawFd;

    let mut dev = TunTapInterface::new(TAP, Medium::Ethernet).expect("open the TAP");
    let fd = dev.as_raw_fd();
    let cfg = Config::new(EthernetAddress([2, 0, 0, 0, 0, 2]).into());
    let mut iface = Interface::new(cfg, &mut dev, SInstant::now());
    iface.update_ip_addrs(|a| {
        let [a0, a1, a2, a3] = STACK_IP;
        a.push(IpCidr::new(IpAddress::v4(a0, a1, a2, a3), 24))
            .expect("address");
    });
    let new_sock = || {
        tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; BUF]),
            tcp::SocketBuffer::new(vec![0; BUF]),
        )
    };
    let mut sockets = SocketSet::new(vec![]);
    let sink = sockets.add(new_sock());
    let source = sockets.add(new_sock());
    println!("ready");
    let _ = std::io::stdout().flush();
    let start = Instant::now();
    let mut sent = 0usize;
    while start.elapsed() < Duration::from_secs(1800) {
        let now = SInstant::now();
        iface.poll(now, &mut dev, &mut sockets);
        {
            let s = sockets.get_mut::<tcp::Socket>(sink);
            if !s.is_open() {
                s.listen(SINK).expect("listen");
            }
            while s.can_recv() {
                if s.recv(|d| (d.len(), ())).is_err() {
                    break;
                }
            }
            if s.state() == tcp::State::CloseWait {
                s.close();
            }
        }
        {
            let s = sockets.get_mut::<tcp::Socket>(source);
            if !s.is_open() {
                s.listen(SOURCE).expect("listen");
                sent = 0;
            }
            while s.can_send() && sent < bytes {
                let n = s
                    .send(|buf| {
                        let n = buf.len().min(bytes - sent);
                        buf[..n].copy_from_slice(&data[sent..sent + n]);
                        (n, n)
                    })
                    .unwrap_or(0);
                if n == 0 {
                    break;
                }
                sent += n;
            }
            if sent == bytes && s.may_send() && s.send_queue() == 0 {
                s.close();
            }
            if matches!(s.state(), tcp::State::TimeWait) {
                s.abort();
            }
        }
        let delay = iface.poll_delay(SInstant::now(), &sockets);
        let delay = delay.map_or(smoltcp::time::Duration::from_millis(1), |d| {
            d.min(smoltcp::time::Duration::from_millis(1))
        });
        let _ = phy_wait(fd, Some(delay));
    }
}

/// Linux's own TCP on both ends (the veth reference): the same two services.
fn linux_server_child(bytes: usize) {
    let sink = TcpListener::bind(("0.0.0.0", SINK)).expect("bind");
    let source = TcpListener::bind(("0.0.0.0", SOURCE)).expect("bind");
    std::thread::spawn(move || {
        for s in sink.incoming().map_while(Result::ok) {
            let mut s = s;
            let mut buf = vec![0u8; 1 << 16];
            while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
        }
    });
    println!("ready");
    let _ = std::io::stdout().flush();
    let data: Vec<u8> = (0..bytes).map(pattern).collect();
    for s in source.incoming().map_while(Result::ok) {
        let mut s = s;
        let _ = s.write_all(&data);
    }
}

/// The Linux peer: send `bytes` to the sink, or read the source to its end; print the time
/// from the first byte to the end of the stream.
fn linux_peer_child(addr: &str, send: bool, bytes: usize) {
    let mut s = TcpStream::connect((addr, if send { SINK } else { SOURCE })).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(300))).ok();
    let t;
    let cpu0;
    if send {
        let data: Vec<u8> = (0..bytes).map(pattern).collect();
        cpu0 = cpu_ns(std::process::id());
        t = Instant::now();
        s.write_all(&data).expect("send");
        s.shutdown(Shutdown::Write).expect("shutdown");
        // The stack closes after reading everything: its FIN marks the end.
        let mut b = [0u8; 64];
        while matches!(s.read(&mut b), Ok(n) if n > 0) {}
    } else {
        // Compared against the pattern with memcmp, so checking costs far less than moving.
        let want: Vec<u8> = (0..bytes).map(pattern).collect();
        let mut buf = vec![0u8; 1 << 18];
        let mut n = s.read(&mut buf).expect("read");
        cpu0 = cpu_ns(std::process::id());
        t = Instant::now();
        let mut got = 0usize;
        while n > 0 {
            let end = (got + n).min(bytes);
            assert!(
                got + n <= bytes && buf[..n] == want[got..end],
                "bytes {got}..{} differ",
                got + n
            );
            got += n;
            n = s.read(&mut buf).expect("read");
        }
        assert_eq!(got, bytes, "stream length");
    }
    let elapsed = t.elapsed();
    let cpu = cpu0.and_then(|c0| cpu_ns(std::process::id())?.checked_sub(c0));
    println!("elapsed_ns {}", elapsed.as_nanos());
    // This process's own CPU time over the transfer (its system calls included): how busy
    // Linux's end was, to tell a peer-bound transfer from a stack-bound one.
    println!("peer_cpu_ns {}", cpu.unwrap_or(0));
}

// ---------------------------------------------------------------- the parent

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn skip_reason() -> Option<String> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("needs root (network namespaces, TAP devices)".into());
    }
    for tool in ["ip", "nft", "bash"] {
        if !have(tool) {
            return Some(format!("needs `{tool}`"));
        }
    }
    None
}

/// A bench namespace, `us-bench-{tag}-{pid}`.
fn netns(tag: &str) -> Netns {
    Netns::new(&format!("bench-{tag}")).expect("network namespace")
}

/// A child of this binary inside the namespace, in `role`.
fn spawn(ns: &Netns, role: &str, vars: &[(&str, String)]) -> Child {
    let mut c = ns.cmd(std::env::current_exe().expect("exe"));
    c.env(ROLE, role)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in vars {
        c.env(k, v);
    }
    c.spawn().expect("spawn")
}

/// Wait for a child's `ready` line.
fn ready(child: &mut Child) {
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    loop {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(l) if l == "ready" => return,
            Ok(_) => {}
            Err(_) => panic!("a bench child did not start"),
        }
    }
}

/// One contender: a namespace where Linux reaches the stack at `addr`, and the stack's child.
struct Setup {
    name: &'static str,
    ns: Vec<Netns>,
    peer_ns: usize,
    addr: String,
    child: Child,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tap_setup(name: &'static str, tag: &str, role: &str, bytes: usize) -> Setup {
    let ns = netns(tag);
    let mut child = spawn(&ns, role, &[("UNISTACK_TAP_BYTES", bytes.to_string())]);
    ready(&mut child);
    ns.addr_up(TAP, &format!("{LINUX_IP}/24"))
        .expect("TAP address");
    Setup {
        name,
        ns: vec![ns],
        peer_ns: 0,
        addr: "192.0.2.2".into(),
        child,
    }
}

fn veth_setup(bytes: usize) -> Setup {
    let (a, b) = (netns("va"), netns("vb"));
    a.veth("usbva", &b, "usbvb").expect("veth pair");
    a.addr_up("usbva", "198.51.100.1/24").expect("veth address");
    b.addr_up("usbvb", "198.51.100.2/24").expect("veth address");
    let mut child = spawn(
        &b,
        "linux-server",
        &[("UNISTACK_TAP_BYTES", bytes.to_string())],
    );
    ready(&mut child);
    Setup {
        name: "Linux ↔ Linux over veth",
        ns: vec![a, b],
        peer_ns: 0,
        addr: "198.51.100.2".into(),
        child,
    }
}

/// Time one transfer; `None` if it failed or took longer than `limit`.
/// Nanoseconds process `pid` has run on a CPU, all its threads (`/proc/PID/task/*/schedstat`).
fn cpu_ns(pid: u32) -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// One transfer's figures.
#[derive(Clone, Copy)]
struct Run {
    /// The transfer's time (Linux's side times it).
    time: Duration,
    /// CPU time the setup's long-lived child (the user-space stack, or for veth the Linux
    /// server process) spent meanwhile.
    cpu: u64,
    /// CPU time of the Linux peer process over the transfer (its system calls included).
    peer_cpu: u64,
}

fn transfer(s: &Setup, send: bool, bytes: usize, limit: Duration) -> Option<Run> {
    let before = cpu_ns(s.child.id());
    let mut c = spawn(
        &s.ns[s.peer_ns],
        "linux-peer",
        &[
            ("UNISTACK_TAP_ADDR", s.addr.clone()),
            ("UNISTACK_TAP_SEND", u8::from(send).to_string()),
            ("UNISTACK_TAP_BYTES", bytes.to_string()),
        ],
    );
    let out = c.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = BufReader::new(out).read_to_string(&mut s);
        let _ = tx.send(s);
    });
    let text = match rx.recv_timeout(limit) {
        Ok(t) => t,
        Err(_) => {
            let _ = c.kill();
            let _ = c.wait();
            return None;
        }
    };
    let ok = c.wait().is_ok_and(|st| st.success());
    let ns: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("elapsed_ns "))?
        .trim()
        .parse()
        .ok()?;
    let peer_cpu = text
        .lines()
        .find_map(|l| l.strip_prefix("peer_cpu_ns "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let cpu = cpu_ns(s.child.id())?.checked_sub(before?)?;
    ok.then(|| Run {
        time: Duration::from_nanos(ns),
        cpu,
        peer_cpu,
    })
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        f64::NAN
    } else {
        v[v.len() / 2]
    }
}

fn main() {
    if let Ok(role) = std::env::var(ROLE) {
        let bytes: usize = env("UNISTACK_TAP_BYTES").parse().expect("bytes");
        match role.as_str() {
            "unistack-offload" => unistack_child(true, true, NEW_RENO, false, bytes),
            "unistack-offload-inplace" => unistack_child(true, true, NEW_RENO, true, bytes),
            "unistack-offload-bbr" => unistack_child(true, true, BBR, false, bytes),
            "unistack-offload-verify" => unistack_child(true, false, NEW_RENO, false, bytes),
            "unistack-plain" => unistack_child(false, true, NEW_RENO, false, bytes),
            "smoltcp" => smoltcp_child(bytes),
            "linux-server" => linux_server_child(bytes),
            "linux-peer" => linux_peer_child(
                &env("UNISTACK_TAP_ADDR"),
                env("UNISTACK_TAP_SEND") == "1",
                bytes,
            ),
            other => panic!("unknown role {other}"),
        }
        return;
    }
    let smoke = !std::env::args().any(|a| a == "--bench");
    if let Some(why) = skip_reason() {
        println!("SKIPPED: {why}");
        return;
    }
    let var = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let (mib, rounds) = if smoke {
        (2, 1)
    } else {
        (var("UNISTACK_TAP_MIB", 128), var("UNISTACK_TAP_ROUNDS", 5))
    };
    let loss_mib = if smoke {
        1
    } else {
        var("UNISTACK_TAP_LOSS_MIB", 16)
    };
    let bytes = mib * MIB;
    let loss_bytes = loss_mib * MIB;
    // The source sends a fixed count per connection: the clean and lossy runs each get their
    // own setups.
    let limit = Duration::from_secs(if smoke { 60 } else { 300 });
    // `UNISTACK_TAP_ONLY=uo,uv` runs only those contenders (tags below); a loss size of 0
    // skips the lossy half.
    let only = std::env::var("UNISTACK_TAP_ONLY").ok();
    let wanted = |tag: &str| only.as_ref().is_none_or(|o| o.split(',').any(|t| t == tag));
    let mut report = Vec::new();
    for (title, size, loss) in [("clean", bytes, 0u32), ("1% loss both ways", loss_bytes, 1)] {
        if size == 0 {
            continue;
        }
        let contenders: [(&str, &'static str, &str); 6] = [
            (
                "uo",
                "unistack, TAP with offloads (TSO both ways)",
                "unistack-offload",
            ),
            (
                "ui",
                "unistack, offloads, sink reads in place",
                "unistack-offload-inplace",
            ),
            ("ub", "unistack, offloads, BBR", "unistack-offload-bbr"),
            (
                "uv",
                "unistack, offloads, checksums in software",
                "unistack-offload-verify",
            ),
            ("up", "unistack, plain TAP", "unistack-plain"),
            ("sm", "smoltcp 0.14, plain TAP", "smoltcp"),
        ];
        let mut setups: Vec<(&str, Setup)> = contenders
            .iter()
            .filter(|(tag, ..)| wanted(tag))
            .map(|&(tag, name, role)| (tag, tap_setup(name, tag, role, size)))
            .collect();
        if wanted("veth") {
            setups.push(("veth", veth_setup(size)));
        }
        if loss > 0 {
            for (_, s) in &setups {
                s.ns[s.peer_ns].tcp_loss(loss).expect("nftables loss");
            }
        }
        // results[setup][direction] = (Gbit/s, CPU seconds per GiB, the Linux peer's busy
        // fraction) per round
        let mut results = vec![[Vec::new(), Vec::new()]; setups.len()];
        for r in 0..rounds {
            for k in 0..setups.len() {
                let i = (k + r) % setups.len();
                for (d, send) in [(0, true), (1, false)] {
                    let g = transfer(&setups[i].1, send, size, limit);
                    if g.is_none() {
                        eprintln!("{}: a transfer failed or timed out", setups[i].1.name);
                    }
                    let g = g.unwrap_or(Run {
                        time: Duration::MAX,
                        cpu: 0,
                        peer_cpu: 0,
                    });
                    let secs = g.time.as_secs_f64();
                    let gbits = size as f64 * 8.0 / secs / 1e9;
                    let cpu_per_gib = g.cpu as f64 / 1e9 * (1u64 << 30) as f64 / size as f64;
                    results[i][d].push((gbits, cpu_per_gib, g.peer_cpu as f64 / 1e9 / secs));
                }
            }
        }
        println!(
            "\nTCP over TAP, {title}: {} MiB per transfer, {rounds} round(s), median Gbit/s \
             (and CPU seconds per GiB of the stack's process; for veth, of Linux's server;\n  \
             \"peer\": the share of one CPU that Linux's peer process used over the transfer)",
            size / MIB
        );
        println!(
            "  {:<46} {:>14} {:>8} {:>6} {:>14} {:>8} {:>6}",
            "contender", "Linux → stack", "CPU", "peer", "stack → Linux", "CPU", "peer"
        );
        let mut med = Vec::new();
        for ((tag, s), r) in setups.iter().zip(results.iter()) {
            let m = |d: usize, f: fn(&(f64, f64, f64)) -> f64| {
                median(&mut r[d].iter().map(f).collect::<Vec<_>>())
            };
            let (a, b) = (m(0, |x| x.0), m(1, |x| x.0));
            let (ca, cb) = (m(0, |x| x.1), m(1, |x| x.1));
            let (pa, pb) = (m(0, |x| x.2), m(1, |x| x.2));
            println!(
                "  {:<46} {a:>14.2} {ca:>8.3} {:>5.0}% {b:>14.2} {cb:>8.3} {:>5.0}%",
                s.name,
                pa * 100.0,
                pb * 100.0
            );
            med.push((*tag, a, b));
        }
        let find = |tag: &str| med.iter().find(|m| m.0 == tag);
        if let Some(us) = find("uo") {
            for (label, tag) in [("smoltcp", "sm"), ("Linux veth", "veth")] {
                if let Some(them) = find(tag) {
                    println!(
                        "  unistack (offloads) / {label:<24} {:>13.2}x {:>13.2}x",
                        us.1 / them.1,
                        us.2 / them.2
                    );
                }
            }
        }
        report.push((title, med));
    }
    println!("\nTargets: unistack >= 5x smoltcp and >= 50% of Linux veth-to-veth (clean).");
    if smoke {
        println!("(smoke run: 2 MiB, one round; the figures mean little)");
        for (title, med) in &report {
            for (tag, a, b) in med {
                assert!(
                    *a > 0.0 && *b > 0.0,
                    "{title}: contender {tag} failed a transfer"
                );
            }
        }
    }
}
