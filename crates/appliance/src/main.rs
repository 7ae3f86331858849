//! `unistack-appliance`: boot the appliance and a client stack joined in one process, resolve
//! names through the appliance, download from it over HTTP, print a summary and write a pcap.
//! With `--tap NAME --ip ADDR/PREFIX`, serve on a Linux TAP device instead.
//!
//! ```text
//! unistack-appliance [--download BYTES] [--lookups N] [--pcap PATH] [--zone FILE] [--dir DIR | --disk FILE.tar]
//! unistack-appliance --tap NAME --ip ADDR/PREFIX [--seconds N] [--coalesce-us N] [--zone FILE] [--dir DIR | --disk FILE.tar]
//! ```
//!
//! On a TAP the appliance sleeps in `poll` on the device when it has nothing to do. Under
//! load it lets frames gather instead: when more than one frame came since it last went
//! idle, it sleeps `--coalesce-us` microseconds (50 by default, 0 turns it off) and then
//! takes what queued, so a burst of queries costs one wakeup instead of one each, and its
//! answers reach the client together (one wakeup there too). A lone frame is answered at
//! once. The same policy as `unistack-dnsd`'s (see its docs and `benches/RESULTS.md`).
//!
//! The in-process link is Xen's: the appliance (domain 1, as a unikernel guest) drives a
//! `Netfront` and the client (domain 0, the driver domain) a `Netback`, over netif rings and
//! grant pages of an emulated hypervisor (`unistack_vchan::local`). The pcap records the
//! client's side.

use std::io::Write;
use std::time::{Duration, Instant};

use unistack_appliance::{
    APPLIANCE_IP, Appliance, CLIENT_IP, DnsClient, Files, HttpGet, percentile,
};
use unistack_blk::{
    BackConfig, Blkback, BlockDevice, DevicePaths, Disk, FrontConfig, Image, XVDA, create_device,
};
use unistack_ethif::MacAddress;
use unistack_ipv4::{ChecksumCaps, Ipv4Address, Ipv4Cidr};
use unistack_stack::{
    Interface, InterfaceConfig, NetConfig, Netback, Netfront, PcapWriter, Recorder,
};
use unistack_vchan::local::Hypervisor;

const NAMES: [&str; 5] = [
    "www.example.com",
    "files.example.com",
    "mail.example.com",
    "a.cdn.example.com",
    "ns.example.com",
];

fn iface(mac: [u8; 6], cidr: Ipv4Cidr, secret: [u8; 16]) -> Interface<'static> {
    Interface::new(
        InterfaceConfig {
            mac: MacAddress(mac),
            addr: cidr,
            gateway: None,
            ttl: 64,
            icmp_error_rate: 100,
            secret,
        },
        ChecksumCaps::all(),
    )
}

fn secret(tag: u8) -> [u8; 16] {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let mut s = [tag; 16];
    for (i, b) in (t ^ u128::from(std::process::id()) << 64)
        .to_le_bytes()
        .iter()
        .enumerate()
    {
        s[i] ^= b;
    }
    s
}

fn die(msg: &str) -> ! {
    eprintln!("unistack-appliance: {msg}");
    std::process::exit(2)
}

struct Args {
    download: usize,
    lookups: usize,
    pcap: String,
    zone: Option<String>,
    dir: Option<std::path::PathBuf>,
    disk: Option<String>,
    tap: Option<String>,
    ip: Option<String>,
    seconds: u64,
    coalesce: Duration,
    tcp: unistack_tcp::Config,
}

fn args() -> Args {
    let mut a = Args {
        download: 100 << 20,
        lookups: 200,
        pcap: "unistack-session.pcap".into(),
        zone: None,
        dir: None,
        disk: None,
        tap: None,
        ip: None,
        seconds: u64::MAX,
        coalesce: Duration::from_micros(50),
        tcp: unistack_tcp::Config::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || {
            it.next()
                .unwrap_or_else(|| die(&format!("{k} needs a value")))
        };
        match k.as_str() {
            "--download" => a.download = v().parse().unwrap_or_else(|_| die("bad --download")),
            "--lookups" => a.lookups = v().parse().unwrap_or_else(|_| die("bad --lookups")),
            "--pcap" => a.pcap = v(),
            "--zone" => {
                a.zone = Some(
                    std::fs::read_to_string(v()).unwrap_or_else(|e| die(&format!("--zone: {e}"))),
                )
            }
            "--dir" => a.dir = Some(v().into()),
            "--disk" => a.disk = Some(v()),
            "--tap" => a.tap = Some(v()),
            "--ip" => a.ip = Some(v()),
            "--seconds" => a.seconds = v().parse().unwrap_or_else(|_| die("bad --seconds")),
            "--coalesce-us" => {
                a.coalesce = v()
                    .parse()
                    .ok()
                    .filter(|us| *us <= 10_000)
                    .map(Duration::from_micros)
                    .unwrap_or_else(|| die("bad --coalesce-us (0 to 10000)"))
            }
            "--congestion" => {
                a.tcp.congestion = v()
                    .parse()
                    .unwrap_or_else(|e| die(&format!("--congestion: {e}")))
            }
            "-h" | "--help" => {
                println!(
                    "usage: unistack-appliance [--download BYTES] [--lookups N] [--pcap PATH] [--zone FILE] [--dir DIR | --disk FILE.tar]"
                );
                println!(
                    "       unistack-appliance --tap NAME --ip ADDR/PREFIX [--seconds N] [--coalesce-us N] [--zone FILE] [--dir DIR | --disk FILE.tar]"
                );
                println!(
                    "  --coalesce-us N: on a TAP, under load, let frames gather N µs before taking them (default 50; 0: never)"
                );
                println!(
                    "  --disk FILE.tar: serve the archive's files over HTTP from a Xen blkfront disk (blkback serves FILE read-only)"
                );
                println!(
                    "  --congestion newreno|cubic|bbr: the appliance's TCP congestion control (default newreno)"
                );
                std::process::exit(0)
            }
            _ => die(&format!("unknown argument {k} (try --help)")),
        }
    }
    a
}

/// What `GET /PATH` serves: `--dir`, or the tar archive of `--disk` on a blkfront disk (the
/// appliance is domain 1 of `hv`; blkback runs as domain 0 in a thread and serves the file
/// read-only).
fn files(a: &Args, hv: &Hypervisor) -> Files {
    if let Some(dir) = &a.dir {
        return Files::Dir(dir.clone());
    }
    let Some(path) = &a.disk else {
        return Files::None;
    };
    let paths = DevicePaths::new(1, 0, XVDA);
    create_device(&hv.domain(0), &paths).unwrap_or_else(|e| die(&format!("--disk: {e}")));
    let image = Image::open(path, true).unwrap_or_else(|e| die(&format!("--disk {path}: {e}")));
    let (back_dom, back_paths) = (hv.domain(0), paths.clone());
    std::thread::spawn(move || {
        let t = Duration::from_secs(10);
        match Blkback::connect(back_dom, back_paths, image, BackConfig::default(), t) {
            // Until the front end closes (when the appliance exits).
            Ok(mut back) => {
                let _ = back.run();
            }
            Err(e) => eprintln!("unistack-appliance: blkback: {e}"),
        }
    });
    let mut disk = Disk::connect(
        hv.domain(1),
        paths,
        FrontConfig::default(),
        Duration::from_secs(10),
    )
    .unwrap_or_else(|e| die(&format!("--disk: blkfront: {e}")));
    let len = disk.capacity();
    let files = Files::tar(
        len,
        Box::new(move |off, buf| disk.read_at(off, buf).map_err(|e| e.to_string())),
    )
    .unwrap_or_else(|e| die(&format!("--disk {path}: {e}")));
    if let Files::Tar { index, .. } = &files {
        eprintln!(
            "--disk {path}: {} files on a {len}-byte blkfront disk",
            index.len()
        );
    }
    files
}

fn main() {
    let a = args();
    let zone = Appliance::zone(a.zone.as_deref()).unwrap_or_else(|e| die(&e));
    let hv = Hypervisor::new();
    let files = files(&a, &hv);
    if let Some(tap) = &a.tap {
        serve_tap(
            tap,
            a.ip.as_deref()
                .unwrap_or_else(|| die("--tap needs --ip ADDR/PREFIX")),
            zone,
            files,
            a.seconds,
            a.coalesce,
            a.tcp,
        );
        return;
    }
    let net = Ipv4Cidr::new(APPLIANCE_IP, 24).unwrap_or_else(|| die("bad network"));
    let mut server = iface([2, 0, 0, 0, 0, 2], net, secret(2));
    let mut client = iface(
        [2, 0, 0, 0, 0, 1],
        Ipv4Cidr::new(CLIENT_IP, 24).unwrap_or(net),
        secret(1),
    );
    let mut app =
        Appliance::with_tcp(&mut server, vec![zone], files, a.tcp).unwrap_or_else(|e| die(&e));
    let vif = "/local/domain/1/device/vif/0";
    let mut server_end = Netfront::connect(hv.domain(1), 0, vif, NetConfig::default())
        .unwrap_or_else(|e| die(&format!("netfront: {e}")));
    let client_end = Netback::attach(hv.domain(0), 1, vif, ChecksumCaps::all())
        .unwrap_or_else(|e| die(&format!("netback: {e}")))
        .unwrap_or_else(|| die("netfront did not publish its rings"));
    let file = std::fs::File::create(&a.pcap).unwrap_or_else(|e| die(&format!("{}: {e}", a.pcap)));
    let pcap = PcapWriter::with_snaplen(std::io::BufWriter::new(file), 128)
        .unwrap_or_else(|e| die(&e.to_string()));
    let mut client_dev = Recorder::new(client_end, pcap);

    eprintln!(
        "appliance {APPLIANCE_IP} (DNS :53, HTTP :80) on netfront, client {CLIENT_IP} on netback, in-process"
    );
    let start = Instant::now();
    let now = || Duration::from_nanos(start.elapsed().as_nanos() as u64);
    let mut dns = DnsClient::new(APPLIANCE_IP, std::process::id());
    // Phase 1: lookups. The first goes alone: it resolves the appliance's MAC, which the
    // rest would otherwise wait for in ARP's small per-address queue (and be dropped from).
    let mut issued = 0;
    while (issued < a.lookups || dns.pending() > 0) && start.elapsed() < Duration::from_secs(60) {
        let window = if dns.answers.is_empty() { 1 } else { 32 };
        while issued < a.lookups && dns.pending() < window {
            if !dns.lookup(now(), NAMES[issued % NAMES.len()]) {
                break;
            }
            issued += 1;
        }
        let t = now();
        client.poll(t, &mut client_dev);
        server.poll(t, &mut server_end);
        app.serve(&mut server);
        dns.step(t, &mut client);
    }
    let www = dns
        .answers
        .iter()
        .find(|(n, _, _)| n.starts_with("www"))
        .and_then(|(_, a, _)| *a)
        .unwrap_or_else(|| die("www.example.com did not resolve"));
    let std::net::IpAddr::V4(www) = www else {
        die("www.example.com is not IPv4")
    };
    let www = Ipv4Address(www.octets());
    eprintln!(
        "resolved {} names ({} failures); www.example.com is {www}",
        dns.answers.len(),
        dns.failures
    );

    // Phase 2: the download.
    let dl_start = now();
    let mut get = HttpGet::start(
        dl_start,
        &mut client,
        www,
        &format!("/bytes/{}", a.download),
        true,
    )
    .unwrap_or_else(|e| die(&e));
    let mut next_report = 0.0f64;
    loop {
        let t = now();
        // The body is read in place, out of netback's receive pages.
        client.poll_with(t, &mut client_dev, &mut |h, d| get.read_in_place(h, d));
        server.poll(t, &mut server_end);
        app.serve(&mut server);
        if get.step(t, &mut client) {
            break;
        }
        let frac = get.received as f64 / a.download.max(1) as f64;
        if frac >= next_report {
            eprint!(
                "\rdownload {:5.1}%  {:>6} MiB",
                frac * 100.0,
                get.received >> 20
            );
            next_report += 0.05;
        }
        if start.elapsed() > Duration::from_secs(600) {
            die("download timed out");
        }
    }
    let elapsed = now().saturating_sub(dl_start);
    let copies = client
        .tcp(get.handle)
        .map(|s| (s.stats().rx_bytes_direct, s.stats().rx_bytes_copied));
    eprintln!("\rdownload 100.0%  {:>6} MiB", get.received >> 20);
    for _ in 0..200 {
        let t = now();
        client.poll(t, &mut client_dev);
        server.poll(t, &mut server_end);
        app.serve(&mut server);
    }
    let (back_dev, pcap) = client_dev.into_parts();
    let frames = pcap.frames;
    let _ = pcap.into_inner();

    let mut lat: Vec<Duration> = dns.answers.iter().map(|(_, _, l)| *l).collect();
    let gbit = get.received as f64 * 8.0 / elapsed.as_secs_f64().max(1e-9) / 1e9;
    let out = std::io::stdout();
    let mut o = out.lock();
    let _ = writeln!(
        o,
        "dns: {} lookups, {} answers, {} failures; latency p50 {:?} p90 {:?} p99 {:?} max {:?}",
        a.lookups,
        dns.answers.len(),
        dns.failures,
        percentile(&mut lat, 50),
        percentile(&mut lat, 90),
        percentile(&mut lat, 99),
        percentile(&mut lat, 100)
    );
    let _ = writeln!(
        o,
        "appliance: {} DNS queries, {} responses, {} HTTP requests",
        app.stats.dns_queries, app.stats.dns_responses, app.stats.http_requests
    );
    let _ = writeln!(
        o,
        "http: {} ({}), {} bytes in {:.3} s = {:.2} Gbit/s, first byte after {:?}, content {}",
        get.status,
        www,
        get.received,
        elapsed.as_secs_f64(),
        gbit,
        get.first_byte.unwrap_or_default(),
        if get.corrupt { "CORRUPT" } else { "verified" }
    );
    if let Some((direct, copied)) = copies {
        let _ = writeln!(
            o,
            "client tcp: {direct} bytes read in place, {copied} copied into the socket buffer"
        );
    }
    let (fs, bs) = (server_end.stats(), back_dev.stats());
    let _ = writeln!(
        o,
        "netif: netfront sent {} and received {} frames ({} event notifications), netback sent {} and received {} ({} notifications){}",
        fs.tx_frames,
        fs.rx_frames,
        fs.notifies,
        bs.tx_frames,
        bs.rx_frames,
        bs.notifies,
        match (server_end.error(), back_dev.error()) {
            (None, None) => String::new(),
            (f, b) => format!("; errors: front {f:?}, back {b:?}"),
        }
    );
    let _ = writeln!(o, "pcap: {} ({} frames, headers only)", a.pcap, frames);
    if get.corrupt
        || get.length != Some(a.download)
        || get.received != a.download
        || dns.answers.len() != a.lookups
    {
        std::process::exit(1);
    }
}

fn serve_tap(
    tap: &str,
    ip: &str,
    zone: unistack_dns::zone::Zone,
    files: Files,
    seconds: u64,
    coalesce: Duration,
    tcp: unistack_tcp::Config,
) {
    let (addr, prefix) = ip
        .split_once('/')
        .unwrap_or_else(|| die("--ip wants ADDR/PREFIX"));
    let addr: Ipv4Address = addr.parse().unwrap_or_else(|_| die("bad address"));
    let cidr = Ipv4Cidr::new(addr, prefix.parse().unwrap_or_else(|_| die("bad prefix")))
        .unwrap_or_else(|| die("bad prefix"));
    let mut dev =
        // Offloads (IFF_VNET_HDR, TSO) when the kernel grants them, a plain TAP otherwise.
        unistack_stack::TapDevice::open_offload(tap, 1500)
            .or_else(|_| unistack_stack::TapDevice::open(tap, 1500))
            .unwrap_or_else(|e| die(&format!("{tap}: {e}")));
    let o = addr.octets();
    let mut iface = iface([2, 0, 0, 0x5e, o[2], o[3]], cidr, secret(3));
    let mut app =
        Appliance::with_tcp(&mut iface, vec![zone], files, tcp).unwrap_or_else(|e| die(&e));
    println!("serving DNS :53 and HTTP :80 on {tap} as {cidr:?}");
    let _ = std::io::stdout().flush();
    let start = Instant::now();
    // Frames read when the appliance last went idle (see `--coalesce-us`).
    let mut idle_mark = 0u64;
    while start.elapsed().as_secs() < seconds {
        let t = Duration::from_nanos(start.elapsed().as_nanos() as u64);
        let busy = iface.poll(t, &mut dev);
        app.serve(&mut iface);
        if !busy {
            let read = dev.stats().rx_frames;
            let burst = read.saturating_sub(std::mem::replace(&mut idle_mark, read));
            if burst > 1 && !coalesce.is_zero() {
                // Under load: let the next frames queue in the TAP and take them together.
                std::thread::sleep(coalesce);
                continue;
            }
            // Sleep until a frame arrives or the stack's next deadline (`poll_at` is zero when
            // the application just gave a socket work), at most 100 ms: an idle appliance
            // wakes ten times a second, not a thousand.
            let wait = iface
                .poll_at()
                .map_or(Duration::from_millis(100), |at| at.saturating_sub(t));
            dev.wait(wait.min(Duration::from_millis(100)));
        }
    }
    println!("served {:?}", app.stats);
}
