//! proptest: random sequences of application calls, time steps, link faults and hostile
//! segments. Nothing panics, sequence invariants hold, no busy loop is possible, and what
//! each side reads is always a prefix of what the other side wrote.

use std::collections::VecDeque;
use std::time::Duration;

use proptest::prelude::*;
use unistack_ipv4::Ipv4Address;
use unistack_ipv4::checksum::Checksum;
use unistack_tcp::sim::pattern;
use unistack_tcp::{
    Config, Control, FourTuple, IsnKey, ListenOutcome, Listener, OptionsRepr, SackBlocks,
    SeqNumber, Socket, State, TcpRepr,
};

const A: Ipv4Address = Ipv4Address::new(192, 0, 2, 1);
const B: Ipv4Address = Ipv4Address::new(192, 0, 2, 2);

#[derive(Debug, Clone)]
struct Hostile {
    flags: u8,
    seq: u32,
    ack: u32,
    win: u16,
    len: usize,
    sack: Vec<(u32, u32)>,
    ts: Option<(u32, u32)>,
    mss: Option<u16>,
    wscale: Option<u8>,
    /// Numbers relative to the target's own (on-path-like), and no payload (so the prefix
    /// property stays a property of the real stream).
    near: bool,
}

#[derive(Debug, Clone)]
enum Action {
    Send(bool, usize),
    Recv(bool, usize),
    Advance(u64),
    Deliver(bool),
    Drop(bool),
    Duplicate(bool),
    Swap(bool),
    Hostile(bool, Hostile),
    Close(bool),
    Abort(bool),
}

fn hostile() -> impl Strategy<Value = Hostile> {
    (
        any::<u8>(),
        any::<u32>(),
        any::<u32>(),
        any::<u16>(),
        0usize..3000,
        prop::collection::vec((any::<u32>(), any::<u32>()), 0..4),
        prop::option::of((any::<u32>(), any::<u32>())),
        prop::option::of(any::<u16>()),
        prop::option::of(any::<u8>()),
        any::<bool>(),
    )
        .prop_map(
            |(flags, seq, ack, win, len, sack, ts, mss, wscale, near)| Hostile {
                flags,
                seq,
                ack,
                win,
                len,
                sack,
                ts,
                mss,
                wscale,
                near,
            },
        )
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (any::<bool>(), 1usize..20_000).prop_map(|(s, n)| Action::Send(s, n)),
        6 => (any::<bool>(), 1usize..20_000).prop_map(|(s, n)| Action::Recv(s, n)),
        4 => (0u64..3000).prop_map(Action::Advance),
        12 => any::<bool>().prop_map(Action::Deliver),
        2 => any::<bool>().prop_map(Action::Drop),
        1 => any::<bool>().prop_map(Action::Duplicate),
        1 => any::<bool>().prop_map(Action::Swap),
        3 => (any::<bool>(), hostile()).prop_map(|(s, h)| Action::Hostile(s, h)),
        1 => any::<bool>().prop_map(Action::Close),
        1 => Just(Action::Abort(false)),
    ]
}

struct Side {
    sock: Socket<'static>,
    written: usize,
    read: usize,
}

struct World {
    now: Duration,
    sides: [Side; 2],
    /// Segments in flight towards side 0 / side 1, as bytes.
    wires: [VecDeque<Vec<u8>>; 2],
    addrs: [Ipv4Address; 2],
}

impl World {
    fn new(cfg: Config) -> World {
        let key = IsnKey::new([1; 16]);
        let now = Duration::from_secs(10);
        let mut client = Socket::new(vec![0u8; 16384], vec![0u8; 16384], cfg);
        let mut server = Socket::new(vec![0u8; 16384], vec![0u8; 16384], cfg);
        let mut backlog = [None; 1];
        let mut l = Listener::new(B, 80, &mut backlog[..], 16384, cfg, key.clone());
        let tuple = FourTuple {
            local_addr: A,
            local_port: 1234,
            remote_addr: B,
            remote_port: 80,
        };
        client.connect(now, tuple, &key).unwrap();
        let syn = client.poll_transmit(now).unwrap().repr;
        let ListenOutcome::Reply(sa) = l.handle_segment(now, A, B, &syn) else {
            panic!()
        };
        client.handle_segment(now, B, A, &sa.repr);
        let ack = client.poll_transmit(now).unwrap().repr;
        let ListenOutcome::Accept(hs) = l.handle_segment(now, A, B, &ack) else {
            panic!()
        };
        server.accept(now, &hs).unwrap();
        server.handle_segment(now, A, B, &ack);
        World {
            now,
            sides: [
                Side {
                    sock: client,
                    written: 0,
                    read: 0,
                },
                Side {
                    sock: server,
                    written: 0,
                    read: 0,
                },
            ],
            wires: [VecDeque::new(), VecDeque::new()],
            addrs: [A, B],
        }
    }

    fn flush(&mut self) {
        let mut buf = vec![0u8; 70_000];
        for i in 0..2 {
            let mut n = 0;
            while let Some(t) = self.sides[i].sock.poll_transmit(self.now) {
                let len = t.repr.emit(&mut buf, t.src, t.dst, Checksum::Both).unwrap();
                self.wires[1 - i].push_back(buf[..len].to_vec());
                n += 1;
                assert!(n < 5_000, "unbounded transmit loop");
            }
            // No busy loop: after draining, every deadline is in the future.
            if let Some(t) = self.sides[i].sock.poll_timeout() {
                assert!(t > self.now, "deadline {t:?} not after now {:?}", self.now);
            }
        }
    }

    fn deliver(&mut self, to: usize) {
        if let Some(bytes) = self.wires[to].pop_front() {
            let (src, dst) = (self.addrs[1 - to], self.addrs[to]);
            let seg = TcpRepr::parse_bytes(&bytes, src, dst, Checksum::Both).unwrap();
            self.sides[to].sock.handle_segment(self.now, src, dst, &seg);
        }
    }

    fn hostile(&mut self, to: usize, h: &Hostile) {
        let (src, dst) = (self.addrs[1 - to], self.addrs[to]);
        let t = self.sides[to].sock.tuple();
        let control = match h.flags % 5 {
            0 => Control::Syn,
            1 => Control::Fin,
            2 => Control::Rst,
            _ => Control::None,
        };
        let s = &self.sides[to].sock;
        let (seq, ack, sack, len) = if h.near {
            let near = |base: SeqNumber, r: u32| {
                SeqNumber(base.0.wrapping_add(r % 80_000).wrapping_sub(20_000))
            };
            let sack: Vec<(u32, u32)> = h
                .sack
                .iter()
                .map(|&(a, b)| (near(s.snd_una(), a).0, near(s.snd_una(), b).0))
                .collect();
            (near(s.rcv_nxt(), h.seq), near(s.snd_una(), h.ack), sack, 0)
        } else {
            (SeqNumber(h.seq), SeqNumber(h.ack), h.sack.clone(), h.len)
        };
        let payload = vec![0xEE; len];
        let seg = TcpRepr {
            src_port: t.remote_port,
            dst_port: t.local_port,
            control,
            push: h.flags & 0x20 != 0,
            ece: false,
            cwr: false,
            ae: false,
            seq_number: seq,
            ack_number: (h.flags & 0x40 != 0).then_some(ack),
            window_len: h.win,
            urgent: None,
            options: OptionsRepr {
                max_seg_size: h.mss,
                window_scale: h.wscale,
                sack_permitted: h.flags & 0x80 != 0,
                sack_blocks: SackBlocks::from_slice(&sack).unwrap_or_default(),
                timestamp: h.ts,
            },
            payload: &payload,
        };
        self.sides[to].sock.handle_segment(self.now, src, dst, &seg);
    }

    fn check(&self) {
        for (i, side) in self.sides.iter().enumerate() {
            let s = &side.sock;
            assert!(
                s.snd_una() <= s.snd_nxt(),
                "side {i}: una {} > nxt {}",
                s.snd_una(),
                s.snd_nxt()
            );
            assert!(s.send_queue() <= 16384 && s.recv_queue() <= 16384);
            assert!(
                side.read <= self.sides[1 - i].written,
                "read more than was written"
            );
        }
    }
}

fn run(cfg: Config, actions: &[Action]) -> World {
    let mut w = World::new(cfg);
    for a in actions {
        match *a {
            Action::Send(s, n) => {
                let i = usize::from(s);
                let start = w.sides[i].written;
                let data: Vec<u8> = (0..n).map(|k| pattern(i as u8, start + k)).collect();
                if let Ok(q) = w.sides[i].sock.send_slice(&data) {
                    w.sides[i].written += q;
                }
            }
            Action::Recv(s, n) => {
                let i = usize::from(s);
                let mut buf = vec![0u8; n];
                if let Ok(got) = w.sides[i].sock.recv_slice(&mut buf) {
                    let from = 1 - i;
                    let start = w.sides[i].read;
                    for (k, &b) in buf[..got].iter().enumerate() {
                        assert_eq!(
                            b,
                            pattern(from as u8, start + k),
                            "byte {} differs",
                            start + k
                        );
                    }
                    w.sides[i].read += got;
                }
            }
            Action::Advance(ms) => w.now += Duration::from_millis(ms),
            Action::Deliver(s) => w.deliver(usize::from(s)),
            Action::Drop(s) => {
                w.wires[usize::from(s)].pop_front();
            }
            Action::Duplicate(s) => {
                if let Some(p) = w.wires[usize::from(s)].front().cloned() {
                    w.wires[usize::from(s)].push_back(p);
                }
            }
            Action::Swap(s) => {
                let q = &mut w.wires[usize::from(s)];
                if q.len() >= 2 {
                    q.swap(0, 1);
                }
            }
            Action::Hostile(s, ref h) => w.hostile(usize::from(s), h),
            Action::Close(s) => w.sides[usize::from(s)].sock.close(),
            Action::Abort(s) => w.sides[usize::from(s)].sock.abort(),
        }
        w.flush();
        w.check();
    }
    // Let the survivors finish: deliver everything for a while; still no panic, and the
    // prefix property holds to the end.
    for _ in 0..2000 {
        w.deliver(0);
        w.deliver(1);
        for i in 0..2 {
            let mut buf = vec![0u8; 65536];
            if let Ok(got) = w.sides[i].sock.recv_slice(&mut buf) {
                let start = w.sides[i].read;
                for (k, &b) in buf[..got].iter().enumerate() {
                    assert_eq!(b, pattern((1 - i) as u8, start + k));
                }
                w.sides[i].read += got;
            }
        }
        w.now += Duration::from_millis(50);
        w.flush();
        w.check();
        if w.wires.iter().all(VecDeque::is_empty)
            && w.sides.iter().all(|s| {
                matches!(
                    s.sock.state(),
                    State::Closed
                        | State::TimeWait
                        | State::Established
                        | State::CloseWait
                        | State::FinWait2
                )
            })
            && w.sides.iter().all(|s| s.sock.send_queue() == 0)
        {
            break;
        }
    }
    w
}

proptest! {
    // 256 cases by default; PROPTEST_CASES=N for a longer search.
    #[test]
    fn random_sessions_keep_invariants(actions in prop::collection::vec(action(), 1..120)) {
        run(Config::default(), &actions);
    }

    #[test]
    fn random_sessions_without_options(actions in prop::collection::vec(action(), 1..120)) {
        let cfg = Config { sack: false, timestamps: false, window_scaling: false, delayed_ack: None, ..Config::default() };
        run(cfg, &actions);
    }
}

#[test]
fn a_quiet_session_delivers_everything() {
    // Without faults, the same machinery must move all data: guards against the property
    // test passing because nothing ever gets delivered.
    let mut actions = Vec::new();
    for _ in 0..20 {
        actions.push(Action::Send(false, 5000));
        actions.push(Action::Send(true, 3000));
        for _ in 0..10 {
            actions.push(Action::Deliver(true));
            actions.push(Action::Deliver(false));
        }
        actions.push(Action::Recv(true, 20000));
        actions.push(Action::Recv(false, 20000));
    }
    let w = run(Config::default(), &actions);
    assert_eq!(w.sides[0].written, 100_000);
    assert_eq!(w.sides[1].written, 60_000);
    assert_eq!(w.sides[1].read, 100_000);
    assert_eq!(w.sides[0].read, 60_000);
}
