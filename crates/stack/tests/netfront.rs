//! Netfront and netback: two interfaces joined over Xen netif rings (in one process and across
//! two), hostile back ends and front ends, and resource leaks.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use unistack_ethif::MacAddress;
use unistack_ipv4::{ChecksumCaps, Ipv4Address, Ipv4Cidr};
use unistack_stack::{Device, Interface, InterfaceConfig, NetConfig, Netback, Netfront};
use unistack_tcp::{Config, Socket, State};
use unistack_vchan::linux::{LinuxHost, scratch_root};
use unistack_vchan::local::{Domain, Hypervisor, Outstanding};
use unistack_vchan::netif::{
    NETRXF_MORE_DATA, NETTXF_EXTRA_INFO, NETTXF_MORE_DATA, NetifRx, NetifRxRequest,
    NetifRxResponse, NetifStatus, NetifTx, NetifTxRequest, NetifTxResponse,
};
use unistack_vchan::ring::{BackRing, FrontRing};
use unistack_vchan::shm::PAGE_SIZE;
use unistack_vchan::{Error, EventChannel, Events, GrantRef, Grants, Mapping, Store};

const BACK_IP: Ipv4Address = Ipv4Address::new(192, 0, 2, 2);
const PATH: &str = "/local/domain/1/device/vif/0";

fn iface(last: u8) -> Interface<'static> {
    Interface::new(
        InterfaceConfig {
            mac: MacAddress([2, 0, 0, 0, 0, last]),
            addr: Ipv4Cidr::new(Ipv4Address::new(192, 0, 2, last), 24).unwrap(),
            gateway: None,
            ttl: 64,
            icmp_error_rate: 10,
            secret: [last; 16],
        },
        ChecksumCaps::all(),
    )
}

fn sock() -> Socket<'static> {
    Socket::new(
        vec![0u8; 256 << 10],
        vec![0u8; 256 << 10],
        Config::default(),
    )
}

fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

fn fnv(h: u64, data: &[u8]) -> u64 {
    data.iter()
        .fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

const FNV0: u64 = 0xcbf2_9ce4_8422_2325;

/// A front end (domain 1) and a back end (domain 0) on one in-process hypervisor.
fn pair(hv: &Hypervisor, config: NetConfig) -> (Netfront<Domain>, Netback<Domain>) {
    let front = Netfront::connect(hv.domain(1), 0, PATH, config).unwrap();
    let back = Netback::attach(hv.domain(0), 1, PATH, ChecksumCaps::all())
        .unwrap()
        .expect("the front end published its keys");
    (front, back)
}

/// Send `total` bytes from the front's stack to the back's, on a virtual clock; returns the
/// receiver's digest once everything arrived.
fn transfer<D1: Device, D2: Device>(
    a: &mut Interface<'static>,
    da: &mut D1,
    b: &mut Interface<'static>,
    db: &mut D2,
    total: usize,
) -> u64 {
    let mut now = Duration::ZERO;
    let l = b
        .tcp_listen(80, 4, vec![sock()], Config::default())
        .unwrap();
    let ha = a.tcp_connect(now, sock(), 40_000, (BACK_IP, 80)).unwrap();
    let mut hb = None;
    let (mut sent, mut got, mut digest) = (0usize, 0usize, FNV0);
    for _ in 0..2_000_000 {
        let act = a.poll(now, da) | b.poll(now, db);
        hb = hb.or_else(|| b.tcp_accept(l));
        let s = a.tcp(ha).unwrap();
        if s.state() == State::Established {
            while sent < total {
                let n = s
                    .send_with(|buf| {
                        let n = buf.len().min(total - sent);
                        for (i, x) in buf[..n].iter_mut().enumerate() {
                            *x = pattern(sent + i);
                        }
                        n
                    })
                    .unwrap();
                if n == 0 {
                    break;
                }
                sent += n;
            }
        }
        if let Some(hb) = hb {
            let r = b.tcp(hb).unwrap();
            while let Ok(n) = r.recv_with(|d| {
                digest = fnv(digest, d);
                d.len()
            }) {
                if n == 0 {
                    break;
                }
                got += n;
            }
        }
        if got == total {
            return digest;
        }
        if !act {
            let next = [a.poll_at(), b.poll_at()].into_iter().flatten().min();
            now = match next {
                Some(t) if t > now => t,
                _ => now + Duration::from_millis(1),
            };
        }
    }
    panic!("transfer stalled at {got}/{total} (sent {sent})");
}

fn expected_digest(total: usize) -> u64 {
    let bytes: Vec<u8> = (0..total).map(pattern).collect();
    fnv(FNV0, &bytes)
}

#[test]
fn two_stacks_over_netfront_and_netback_in_one_process() {
    let hv = Hypervisor::new();
    {
        let (mut front, mut back) = pair(&hv, NetConfig::default());
        let (mut a, mut b) = (iface(1), iface(2));
        let total = 8 << 20;
        let digest = transfer(&mut a, &mut front, &mut b, &mut back, total);
        assert_eq!(digest, expected_digest(total));
        let (fs, bs) = (front.stats(), back.stats());
        assert!(front.error().is_none() && back.error().is_none());
        // Every frame the front sent, the back received, and the reverse (a last frame or two
        // may still be in a ring when the receiver has everything).
        assert!(
            fs.tx_frames >= bs.rx_frames && fs.tx_frames - bs.rx_frames <= 2,
            "{fs:?} {bs:?}"
        );
        assert!(
            bs.tx_frames >= fs.rx_frames && bs.tx_frames - fs.rx_frames <= 2,
            "{fs:?} {bs:?}"
        );
        assert!(fs.tx_frames > (total / 1500) as u64, "{fs:?}");
        assert_eq!(fs.rx_dropped + bs.rx_dropped + fs.tx_rejected, 0);
        // A polling pair rarely needs events: the rings' event indexes suppress them.
        assert!(fs.notifies < fs.tx_frames, "{fs:?}");
    }
    assert_eq!(
        hv.outstanding(),
        Outstanding::default(),
        "every grant, mapping, port and key released"
    );
}

#[test]
fn small_rings_back_pressure_and_mtu_limits() {
    let hv = Hypervisor::new();
    let config = NetConfig {
        tx_slots: 2,
        rx_slots: 2,
        ..NetConfig::default()
    };
    let (mut front, mut back) = pair(&hv, config);
    let now = Duration::ZERO;
    // Two slots: the third transmit is refused until the back end answers.
    for i in 0..2u8 {
        assert!(front.transmit(now, 60, |f| f.fill(i)).is_some());
    }
    assert!(front.transmit(now, 60, |f| f.fill(9)).is_none());
    assert_eq!(front.stats().tx_full, 1);
    for i in 0..2u8 {
        assert_eq!(back.receive(now, |f| (f.len(), f[0])), Some((60, i)));
    }
    assert!(back.receive(now, |_| ()).is_none());
    assert!(front.transmit(now, 60, |f| f.fill(3)).is_some());
    // Larger than the MTU: refused, nothing sent.
    assert!(front.transmit(now, 1515, |_| ()).is_none());
    // Back to front: two posted pages, so two frames, then back pressure.
    for i in 0..2u8 {
        assert!(
            back.transmit(now, 100 + usize::from(i), |f| f.fill(i))
                .is_some()
        );
    }
    assert!(back.transmit(now, 100, |_| ()).is_none());
    for i in 0..2u8 {
        assert_eq!(
            front.receive(now, |f| (f.len(), f[0])),
            Some((100 + usize::from(i), i))
        );
    }
    // Pages re-posted: the back end can send again.
    assert!(back.transmit(now, 100, |f| f.fill(7)).is_some());
    assert_eq!(front.receive(now, |f| f[99]), Some(7));
    assert!(front.error().is_none() && back.error().is_none());
}

#[test]
fn netback_waits_for_the_front_end_and_the_event_channel_wakes_it() {
    let hv = Hypervisor::new();
    assert!(
        Netback::attach(hv.domain(0), 1, PATH, ChecksumCaps::all())
            .unwrap()
            .is_none(),
        "nothing published yet"
    );
    let (mut front, mut back) = pair(&hv, NetConfig::default());
    // Nothing waiting: a zero timeout returns no event (and re-arms the ring's event index).
    assert!(!back.wait(Some(Duration::ZERO)).unwrap());
    let t = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(20));
            assert!(front.transmit(Duration::ZERO, 60, |f| f.fill(1)).is_some());
        });
        assert!(back.wait(Some(Duration::from_secs(10))).unwrap());
    });
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(15) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    assert_eq!(back.receive(Duration::ZERO, |f| f[0]), Some(1));
    assert!(front.stats().notifies >= 1);
}

// ---- hostile back end: we play netback by hand against a real Netfront ----

struct RawBack {
    tx: BackRing<NetifTx, unistack_vchan::local::LocalMapped>,
    rx: BackRing<NetifRx, unistack_vchan::local::LocalMapped>,
    dom: Domain,
}

fn read_num(d: &Domain, key: &str) -> u32 {
    let mut buf = [0u8; 16];
    d.read(&format!("{PATH}/{key}"), &mut buf)
        .unwrap()
        .unwrap()
        .parse()
        .unwrap()
}

fn raw_back(hv: &Hypervisor) -> RawBack {
    let dom = hv.domain(0);
    let tx = dom.map(1, &[read_num(&dom, "tx-ring-ref")]).unwrap();
    let rx = dom.map(1, &[read_num(&dom, "rx-ring-ref")]).unwrap();
    RawBack {
        tx: BackRing::attach(tx, 0).unwrap(),
        rx: BackRing::attach(rx, 0).unwrap(),
        dom,
    }
}

fn hostile_rx_response(rsp: impl Fn(&NetifRxRequest) -> NetifRxResponse) -> Option<Error> {
    let hv = Hypervisor::new();
    let mut front = Netfront::connect(hv.domain(1), 0, PATH, NetConfig::default()).unwrap();
    let mut back = raw_back(&hv);
    let req = back.rx.poll_request().unwrap().unwrap();
    back.rx.push_response(&rsp(&req)).unwrap();
    back.rx.push_responses_and_check_notify().unwrap();
    let _ = back.dom.id();
    let got = front.receive(Duration::ZERO, |f| f.len());
    assert!(got.is_none(), "{got:?} {:?} {:?}", rsp(&req), front.stats());
    front.error().copied()
}

#[test]
fn hostile_back_end_responses_stop_the_front_end_or_are_dropped() {
    // A response for a page never posted (id 300 is out of range; id 5 posted, answered twice).
    assert!(
        hostile_rx_response(|_| NetifRxResponse {
            id: 300,
            offset: 0,
            flags: 0,
            status: 60
        })
        .is_some()
    );
    // Data running off the page.
    assert!(
        hostile_rx_response(|r| NetifRxResponse {
            id: r.id,
            offset: 4000,
            flags: 0,
            status: 200
        })
        .is_some()
    );
    // A multi-slot frame we never negotiated.
    assert!(
        hostile_rx_response(|r| NetifRxResponse {
            id: r.id,
            offset: 0,
            flags: NETRXF_MORE_DATA,
            status: 60
        })
        .is_some()
    );
    // An error status or a runt frame: dropped, the device keeps going.
    for status in [0xffff, 0, 5] {
        assert_eq!(
            hostile_rx_response(|r| NetifRxResponse {
                id: r.id,
                offset: 0,
                flags: 0,
                status
            }),
            None,
            "status {status}"
        );
    }

    // (The same receive id answered twice cannot be told from an answer to the page the
    // front end re-posted under that id: the data lands in our own page either way, and
    // the ring's indexes bound how many answers come.)

    // A transmit response for an id not in flight.
    let hv = Hypervisor::new();
    let mut front = Netfront::connect(hv.domain(1), 0, PATH, NetConfig::default()).unwrap();
    let mut back = raw_back(&hv);
    assert!(front.transmit(Duration::ZERO, 60, |_| ()).is_some());
    let req = back.tx.poll_request().unwrap().unwrap();
    back.tx
        .push_response(&NetifTxResponse {
            id: req.id ^ 1,
            status: NetifStatus::Okay,
        })
        .unwrap();
    back.tx.push_responses_and_check_notify().unwrap();
    assert!(front.transmit(Duration::ZERO, 60, |_| ()).is_none());
    assert!(front.error().is_some());
}

// ---- hostile front end: we play netfront by hand against a real Netback ----

struct RawFront {
    tx: FrontRing<NetifTx, unistack_vchan::local::LocalShared>,
    rx: FrontRing<NetifRx, unistack_vchan::local::LocalShared>,
    pages: Vec<unistack_vchan::local::LocalShared>,
    refs: Vec<GrantRef>,
    _event: unistack_vchan::local::LocalEvent,
}

fn raw_front(hv: &Hypervisor) -> RawFront {
    let d = hv.domain(1);
    let mut r = [0];
    let tx = d.share(0, &mut r).unwrap();
    d.write(&format!("{PATH}/tx-ring-ref"), &r[0].to_string())
        .unwrap();
    let rx = d.share(0, &mut r).unwrap();
    d.write(&format!("{PATH}/rx-ring-ref"), &r[0].to_string())
        .unwrap();
    let (mut pages, mut refs) = (vec![], vec![]);
    for _ in 0..4 {
        pages.push(d.share(0, &mut r).unwrap());
        refs.push(r[0]);
    }
    let event = d.alloc_unbound(0).unwrap();
    d.write(&format!("{PATH}/event-channel"), &event.port().to_string())
        .unwrap();
    d.write(&format!("{PATH}/mtu"), "1500").unwrap();
    d.write(&format!("{PATH}/state"), "4").unwrap();
    RawFront {
        tx: FrontRing::init(tx).unwrap(),
        rx: FrontRing::init(rx).unwrap(),
        pages,
        refs,
        _event: event,
    }
}

fn tx_req(f: &RawFront, id: u16, len: u16) -> NetifTxRequest {
    NetifTxRequest {
        gref: f.refs[usize::from(id) % 4],
        offset: 0,
        flags: 0,
        id,
        len,
    }
}

#[test]
fn hostile_front_end_requests_are_refused_one_by_one() {
    let hv = Hypervisor::new();
    let mut f = raw_front(&hv);
    let mut back = Netback::attach(hv.domain(0), 1, PATH, ChecksumCaps::all())
        .unwrap()
        .unwrap();
    for p in &f.pages {
        p.shm().fill(0, PAGE_SIZE, 0xab).unwrap();
    }
    let bad = [
        NetifTxRequest {
            gref: 999_999, // not granted
            ..tx_req(&f, 0, 60)
        },
        NetifTxRequest {
            offset: 4090, // off the page
            ..tx_req(&f, 1, 60)
        },
        tx_req(&f, 2, 10),   // a runt
        tx_req(&f, 3, 1600), // over the MTU
        NetifTxRequest {
            flags: NETTXF_MORE_DATA, // a multi-slot packet: this slot and the next refused
            ..tx_req(&f, 4, 60)
        },
        tx_req(&f, 5, 60),
        NetifTxRequest {
            flags: NETTXF_EXTRA_INFO, // an extra-info slot follows: answered NULL
            ..tx_req(&f, 6, 60)
        },
        NetifTxRequest::default(), // (the extra-info slot's bytes)
        tx_req(&f, 7, 60),         // finally a good frame
    ];
    for r in &bad {
        f.tx.push_request(r).unwrap();
    }
    f.tx.push_requests_and_check_notify().unwrap();
    assert_eq!(
        back.receive(Duration::ZERO, |fr| (fr.len(), fr[0])),
        Some((60, 0xab)),
        "{:?} {:?}",
        back.error(),
        back.stats()
    );
    assert!(back.receive(Duration::ZERO, |_| ()).is_none());
    assert!(back.error().is_none(), "{:?}", back.error());
    assert_eq!(back.stats().rx_dropped, 7);
    let mut statuses = vec![];
    while let Some(rsp) = f.tx.poll_response().unwrap() {
        statuses.push((rsp.id, rsp.status));
    }
    use NetifStatus::{Error as E, Null, Okay};
    assert_eq!(
        statuses,
        [
            (0, E),
            (1, E),
            (2, E),
            (3, E),
            (4, E),
            (5, E),
            (6, E),
            (0, Null),
            (7, Okay)
        ]
    );

    // Receive requests: an id out of the ring is a violation that stops the back end.
    f.rx.push_request(&NetifRxRequest {
        id: 999,
        pad: 0,
        gref: f.refs[0],
    })
    .unwrap();
    f.rx.push_requests_and_check_notify().unwrap();
    assert!(back.transmit(Duration::ZERO, 60, |_| ()).is_none());
    assert!(back.error().is_some());
}

#[test]
fn hostile_front_end_ring_index_stops_the_back_end() {
    let hv = Hypervisor::new();
    let f = raw_front(&hv);
    let mut back = Netback::attach(hv.domain(0), 1, PATH, ChecksumCaps::all())
        .unwrap()
        .unwrap();
    // req_prod far beyond what the ring can hold.
    let tx = f.tx.into_inner();
    tx.shm()
        .store_u32(0, 100_000, std::sync::atomic::Ordering::Release)
        .unwrap();
    assert!(back.receive(Duration::ZERO, |_| ()).is_none());
    assert!(back.error().is_some());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Arbitrary transmit requests from a front end: the back end answers every slot it
    /// consumed, delivers only in-bounds frames, and never panics.
    #[test]
    fn arbitrary_tx_requests(reqs in proptest::collection::vec(
        (any::<u32>(), 0u16..4200, any::<u16>(), 0u16..300, 0u16..5000), 1..60)) {
        let hv = Hypervisor::new();
        let mut f = raw_front(&hv);
        let mut back = Netback::attach(hv.domain(0), 1, PATH, ChecksumCaps::all())
            .unwrap()
            .unwrap();
        let n = reqs.len().min(256);
        for &(g, offset, flags, id, len) in &reqs[..n] {
            // Half the time a real grant.
            let gref = if g % 2 == 0 { f.refs[(g as usize / 2) % 4] } else { g };
            f.tx.push_request(&NetifTxRequest { gref, offset, flags: flags & 0xf, id, len }).unwrap();
        }
        f.tx.push_requests_and_check_notify().unwrap();
        let mut delivered = 0;
        for _ in 0..=n {
            match back.receive(Duration::ZERO, |fr| fr.len()) {
                Some(len) => {
                    prop_assert!((14..=1514).contains(&len));
                    delivered += 1;
                }
                None => break,
            }
        }
        if back.error().is_none() {
            let mut answered = 0;
            while f.tx.poll_response().unwrap().is_some() {
                answered += 1;
            }
            prop_assert_eq!(answered, n, "every slot answered");
            prop_assert!(delivered <= n);
        }
    }
}

// ---- across processes: the linux backend ----

const CHILD_ENV: &str = "UNISTACK_NETBACK_CHILD";
const TOTAL: usize = 4 << 20;

/// Poll an interface on the real clock, sleeping on the device's event channel when idle.
fn real_time_step(
    start: Instant,
    i: &mut Interface<'static>,
    wait: &mut dyn FnMut(Duration),
    act: bool,
) -> Duration {
    let now = start.elapsed();
    if !act {
        let until = i
            .poll_at()
            .map_or(Duration::from_millis(5), |t| t.saturating_sub(now));
        wait(until.min(Duration::from_millis(5)));
    }
    now
}

#[test]
#[ignore = "helper: the back-end process of the cross-process test"]
fn netback_child() {
    let Ok(root) = std::env::var(CHILD_ENV) else {
        return;
    };
    let host = LinuxHost::new(root, 0).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut back = loop {
        if let Some(b) = Netback::attach(host.clone(), 1, PATH, ChecksumCaps::all()).unwrap() {
            break b;
        }
        assert!(Instant::now() < deadline, "no front end");
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut b = iface(2);
    let l = b
        .tcp_listen(80, 1, vec![sock()], Config::default())
        .unwrap();
    let start = Instant::now();
    let mut now = Duration::ZERO;
    let mut h = None;
    let (mut got, mut digest, mut replied) = (0usize, FNV0, false);
    while Instant::now() < deadline {
        let act = b.poll(now, &mut back);
        h = h.or_else(|| b.tcp_accept(l));
        if let Some(h) = h {
            let s = b.tcp(h).unwrap();
            while let Ok(n) = s.recv_with(|d| {
                digest = fnv(digest, d);
                d.len()
            }) {
                if n == 0 {
                    break;
                }
                got += n;
            }
            if got == TOTAL && !replied {
                replied = s.send_slice(&digest.to_le_bytes()).unwrap() == 8;
            }
            if replied
                && matches!(
                    s.state(),
                    State::Closed | State::TimeWait | State::CloseWait
                )
            {
                s.close();
            }
            if replied
                && matches!(s.state(), State::Closed | State::TimeWait | State::LastAck)
                && !act
            {
                // Let the last segments go, then leave.
                for _ in 0..50 {
                    b.poll(start.elapsed(), &mut back);
                    std::thread::sleep(Duration::from_millis(2));
                }
                return;
            }
        }
        assert!(back.error().is_none(), "{:?}", back.error());
        now = real_time_step(
            start,
            &mut b,
            &mut |d| {
                let _ = back.wait(Some(d));
            },
            act,
        );
    }
    panic!("child timed out at {got}/{TOTAL}");
}

#[test]
fn two_stacks_over_netfront_and_netback_across_processes() {
    let root = scratch_root("netfront");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "netback_child", "--nocapture"])
        .env(CHILD_ENV, &root)
        .spawn()
        .unwrap();
    let host = LinuxHost::new(&root, 1).unwrap();
    let mut front = Netfront::connect(host, 0, PATH, NetConfig::default()).unwrap();
    let mut a = iface(1);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(60);
    let mut now = Duration::ZERO;
    let h = a.tcp_connect(now, sock(), 40_000, (BACK_IP, 80)).unwrap();
    let (mut sent, mut reply) = (0usize, Vec::new());
    while Instant::now() < deadline && reply.len() < 8 {
        let act = a.poll(now, &mut front);
        let s = a.tcp(h).unwrap();
        if s.state() == State::Established || s.state() == State::CloseWait {
            while sent < TOTAL {
                let n = s
                    .send_with(|buf| {
                        let n = buf.len().min(TOTAL - sent);
                        for (i, x) in buf[..n].iter_mut().enumerate() {
                            *x = pattern(sent + i);
                        }
                        n
                    })
                    .unwrap();
                if n == 0 {
                    break;
                }
                sent += n;
            }
            let mut buf = [0u8; 8];
            if let Ok(n) = s.recv_slice(&mut buf) {
                reply.extend_from_slice(&buf[..n]);
            }
        }
        assert!(front.error().is_none(), "{:?}", front.error());
        now = real_time_step(
            start,
            &mut a,
            &mut |d| {
                let _ = front.wait(Some(d));
            },
            act,
        );
    }
    assert_eq!(
        reply.len(),
        8,
        "no digest from the back-end process (sent {sent})"
    );
    assert_eq!(
        u64::from_le_bytes(reply[..8].try_into().unwrap()),
        expected_digest(TOTAL)
    );
    a.tcp(h).unwrap().close();
    for _ in 0..50 {
        a.poll(start.elapsed(), &mut front);
        std::thread::sleep(Duration::from_millis(2));
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "back-end process failed: {status}");
    drop(front);
    let _ = std::fs::remove_dir_all(&root);
}

const HANG_ENV: &str = "UNISTACK_NETBACK_HANG";

#[test]
#[ignore = "helper: a back end that attaches and hangs, for the killed-peer test"]
fn netback_hang_child() {
    let Ok(root) = std::env::var(HANG_ENV) else {
        return;
    };
    let host = LinuxHost::new(root, 0).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let _back = loop {
        if let Some(b) = Netback::attach(host.clone(), 1, PATH, ChecksumCaps::all()).unwrap() {
            break b;
        }
        assert!(Instant::now() < deadline, "no front end");
        std::thread::sleep(Duration::from_millis(5));
    };
    std::thread::sleep(Duration::from_secs(120));
}

/// A back-end process killed without closing stops the front end (`Error::Closed`) at its
/// next idle wait, instead of leaving it waiting for frames that will never come.
#[test]
fn a_killed_netback_process_stops_the_front_end() {
    let root = scratch_root("netfront-kill");
    let host = LinuxHost::new(&root, 1).unwrap();
    let mut front = Netfront::connect(host, 0, PATH, NetConfig::default()).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "netback_hang_child"])
        .env(HANG_ENV, &root)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the back end to attach (it writes backend-state).
    let key = root.join("store/local/domain/1/device/vif/0/backend-state");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !key.exists() {
        assert!(Instant::now() < deadline, "the back end did not attach");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The attach sent an event: take it, then the channel is idle.
    for _ in 0..10 {
        if !front.wait(Some(Duration::from_millis(20))).unwrap() {
            break;
        }
    }
    assert!(front.error().is_none(), "alive and idle");
    child.kill().unwrap();
    let _ = child.wait();
    assert!(!front.wait(Some(Duration::from_millis(20))).unwrap());
    assert_eq!(front.error(), Some(&Error::Closed));
    assert!(
        front.transmit(Duration::ZERO, 60, |_| ()).is_none(),
        "stopped"
    );
    drop(front);
    let _ = std::fs::remove_dir_all(&root);
}
