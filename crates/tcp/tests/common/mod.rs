//! A packetdrill-like harness: one socket under test, a scripted remote peer, a virtual
//! clock. Sequence numbers in scripts are relative to each side's ISS, as tcpdump prints
//! them; segments go through the wire format both ways.
#![allow(dead_code)]

use std::time::Duration;

use unistack_ipv4::Ipv4Address;
use unistack_ipv4::checksum::Checksum;
use unistack_tcp::{
    Config, Control, FourTuple, Handshake, IsnKey, ListenOutcome, Listener, OptionsRepr, Outcome,
    SackBlocks, SeqNumber, Socket, TcpRepr,
};

pub const LOCAL: Ipv4Address = Ipv4Address::new(192, 0, 2, 1);
pub const REMOTE: Ipv4Address = Ipv4Address::new(192, 0, 2, 2);
pub const LPORT: u16 = 5000;
pub const RPORT: u16 = 6000;
/// The remote's ISS.
pub const PEER_ISS: u32 = 0x8000_0000;

pub fn key() -> IsnKey {
    IsnKey::new([9; 16])
}

pub fn tuple() -> FourTuple {
    FourTuple {
        local_addr: LOCAL,
        local_port: LPORT,
        remote_addr: REMOTE,
        remote_port: RPORT,
    }
}

/// A segment from the remote, built fluently: `seg("P.").seq(1).ack(1).data(b"hi")`.
#[derive(Clone, Debug)]
pub struct Seg {
    pub flags: &'static str,
    pub seq: u32,
    pub ack: u32,
    pub win: u16,
    pub options: OptionsRepr,
    pub payload: Vec<u8>,
    /// Absolute sequence numbers instead of relative.
    pub raw: bool,
    /// The urgent pointer (sets URG).
    pub urgent: Option<u16>,
    /// The IP header carried the congestion-experienced mark.
    pub ce: bool,
}

pub fn seg(flags: &'static str) -> Seg {
    Seg {
        flags,
        seq: 0,
        ack: 0,
        win: 65535,
        options: OptionsRepr::default(),
        payload: Vec::new(),
        raw: false,
        urgent: None,
        ce: false,
    }
}

impl Seg {
    pub fn seq(mut self, s: u32) -> Self {
        self.seq = s;
        self
    }
    pub fn ack(mut self, a: u32) -> Self {
        self.ack = a;
        self
    }
    pub fn win(mut self, w: u16) -> Self {
        self.win = w;
        self
    }
    pub fn data(mut self, d: &[u8]) -> Self {
        self.payload = d.to_vec();
        self
    }
    pub fn len(self, n: usize) -> Self {
        self.data(&vec![b'x'; n])
    }
    pub fn ce(mut self) -> Self {
        self.ce = true;
        self
    }
    pub fn urg(mut self, pointer: u16) -> Self {
        self.urgent = Some(pointer);
        self
    }
    pub fn mss(mut self, m: u16) -> Self {
        self.options.max_seg_size = Some(m);
        self
    }
    pub fn wscale(mut self, s: u8) -> Self {
        self.options.window_scale = Some(s);
        self
    }
    pub fn sack_ok(mut self) -> Self {
        self.options.sack_permitted = true;
        self
    }
    pub fn ts(mut self, val: u32, ecr: u32) -> Self {
        self.options.timestamp = Some((val, ecr));
        self
    }
    /// SACK blocks, relative to our ISS.
    pub fn sack(mut self, blocks: &[(u32, u32)]) -> Self {
        self.options.sack_blocks = SackBlocks::from_slice(blocks).unwrap();
        self
    }
}

/// What the socket sent, with relative numbers: `"S. seq 0 ack 1 len 0"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Out {
    pub flags: String,
    pub seq: u32,
    pub ack: Option<u32>,
    pub win: u16,
    pub len: usize,
    pub options: OptionsRepr,
    pub payload: Vec<u8>,
    pub urgent: Option<u16>,
    /// The IP header would be marked ECT(0).
    pub ect: bool,
}

impl Out {
    pub fn line(&self) -> String {
        let mut s = format!("{} seq {}", self.flags, self.seq);
        if let Some(a) = self.ack {
            s += &format!(" ack {a}");
        }
        s += &format!(" len {}", self.len);
        s
    }
}

pub fn flags_of(r: &TcpRepr<'_>) -> String {
    let mut f = String::new();
    match r.control {
        Control::Syn => f.push('S'),
        Control::Fin => f.push('F'),
        Control::Rst => f.push('R'),
        Control::None => {}
    }
    if r.push {
        f.push('P');
    }
    if r.urgent.is_some() {
        f.push('U');
    }
    if r.ece {
        f.push('E');
    }
    if r.cwr {
        f.push('W');
    }
    if r.ack_number.is_some() {
        f.push('.');
    }
    f
}

pub struct Script {
    pub sock: Socket<'static>,
    pub now: Duration,
    /// Our ISS (learned from the first SYN or the handshake).
    pub iss: u32,
    pub peer_iss: u32,
    /// Delivered bytes (read by the "app" on `read_all`).
    pub received: Vec<u8>,
}

impl Script {
    pub fn new(cfg: Config, rx: usize, tx: usize) -> Script {
        Script {
            sock: Socket::new(vec![0u8; rx], vec![0u8; tx], cfg),
            now: Duration::from_secs(100),
            iss: 0,
            peer_iss: PEER_ISS,
            received: Vec::new(),
        }
    }

    /// Actively open: returns the SYN.
    pub fn connect(cfg: Config) -> (Script, Out) {
        Script::connect_with(cfg, 65536, 65536)
    }

    /// Actively open with given buffer sizes: returns the SYN.
    pub fn connect_with(cfg: Config, rx: usize, tx: usize) -> (Script, Out) {
        let mut s = Script::new(cfg, rx, tx);
        s.sock.connect(s.now, tuple(), &key()).unwrap();
        let now = s.now;
        let t = s.sock.poll_transmit(now).expect("SYN");
        let iss = t.repr.seq_number.0;
        let mut out = Out {
            flags: flags_of(&t.repr),
            seq: 0,
            ack: None,
            win: t.repr.window_len,
            len: t.repr.payload.len(),
            options: t.repr.options,
            payload: Vec::new(),
            urgent: t.repr.urgent,
            ect: t.ect,
        };
        out.seq = t.repr.seq_number.0.wrapping_sub(iss);
        s.iss = iss;
        (s, out)
    }

    /// A connection established by the usual three-way handshake, actively opened, with
    /// the remote's options `syn_ack` (MSS 1460 if none given).
    pub fn established(cfg: Config, syn_ack: Seg) -> Script {
        Script::established_with(cfg, syn_ack, 65536, 65536)
    }

    /// As [`established`], with given buffer sizes.
    pub fn established_with(cfg: Config, syn_ack: Seg, rx: usize, tx: usize) -> Script {
        let (mut s, _syn) = Script::connect_with(cfg, rx, tx);
        let mut sa = syn_ack;
        if sa.options.max_seg_size.is_none() {
            sa.options.max_seg_size = Some(1460);
        }
        sa.flags = "S.";
        sa.seq = 0;
        sa.ack = 1;
        assert_eq!(s.inject(sa), Outcome::Accepted);
        s.expect(". seq 1 ack 1 len 0");
        s
    }

    /// A connection accepted from a listener (passive open), with its final ACK processed.
    pub fn accepted(cfg: Config, syn: Seg) -> Script {
        let mut s = Script::new(cfg, 65536, 65536);
        let mut backlog = [None; 2];
        let mut l = Listener::new(LOCAL, LPORT, &mut backlog[..], 65536, cfg, key());
        let mut syn = syn;
        // Keep an ECN-setup request (ECE and CWR) if the test gave one.
        syn.flags = if syn.flags.contains('E') { "SEW" } else { "S" };
        syn.seq = 0;
        let r = s.repr(&syn);
        let ListenOutcome::Reply(sa) = l.handle_segment(s.now, REMOTE, LOCAL, &r) else {
            panic!("no SYN-ACK")
        };
        s.iss = sa.repr.seq_number.0;
        let ack = seg(".").seq(1).ack(1).win(syn.win);
        let mut ack = ack;
        if let Some((v, _)) = syn.options.timestamp {
            ack.options.timestamp = Some((v + 1, sa.repr.options.timestamp.unwrap().0));
        }
        let r = s.repr(&ack);
        let ListenOutcome::Accept(hs) = l.handle_segment(s.now, REMOTE, LOCAL, &r) else {
            panic!("no accept")
        };
        s.accept(hs, &ack);
        s
    }

    pub fn accept(&mut self, hs: Handshake, ack: &Seg) {
        self.sock.accept(self.now, &hs).unwrap();
        assert_eq!(self.inject(ack.clone()), Outcome::Accepted);
    }

    pub fn repr<'a>(&self, s: &'a Seg) -> TcpRepr<'a> {
        let (seq, ack) = if s.raw {
            (s.seq, s.ack)
        } else {
            (
                self.peer_iss.wrapping_add(s.seq),
                self.iss.wrapping_add(s.ack),
            )
        };
        let control = if s.flags.contains('S') {
            Control::Syn
        } else if s.flags.contains('F') {
            Control::Fin
        } else if s.flags.contains('R') {
            Control::Rst
        } else {
            Control::None
        };
        let mut options = s.options;
        if !s.raw && !options.sack_blocks.is_empty() {
            let blocks: Vec<(u32, u32)> = options
                .sack_blocks
                .as_slice()
                .iter()
                .map(|&(a, b)| (self.iss.wrapping_add(a), self.iss.wrapping_add(b)))
                .collect();
            options.sack_blocks = SackBlocks::from_slice(&blocks).unwrap();
        }
        TcpRepr {
            src_port: RPORT,
            dst_port: LPORT,
            control,
            push: s.flags.contains('P'),
            ece: s.flags.contains('E'),
            cwr: s.flags.contains('W'),
            ae: false,
            seq_number: SeqNumber(seq),
            ack_number: s.flags.contains('.').then_some(SeqNumber(ack)),
            window_len: s.win,
            urgent: s.urgent,
            options,
            payload: &s.payload,
        }
    }

    /// Deliver a segment from the remote (through the wire format).
    pub fn inject(&mut self, s: Seg) -> Outcome {
        let r = self.repr(&s);
        let mut buf = vec![0u8; 70_000];
        let n = r.emit(&mut buf, REMOTE, LOCAL, Checksum::Both).unwrap();
        let parsed = TcpRepr::parse_bytes(&buf[..n], REMOTE, LOCAL, Checksum::Both).unwrap();
        self.sock
            .handle_segment_ecn(self.now, REMOTE, LOCAL, &parsed, s.ce)
    }

    /// Deliver a segment through [`Socket::handle_segment_with`]: the "app" reads up to
    /// `take` bytes of what it is offered in place (appending them to `received`). Returns
    /// the outcome and how many bytes were offered (`None` if `read` was not called).
    pub fn inject_direct(&mut self, s: Seg, take: usize) -> (Outcome, Option<usize>) {
        let r = self.repr(&s);
        let mut buf = vec![0u8; 70_000];
        let n = r.emit(&mut buf, REMOTE, LOCAL, Checksum::Both).unwrap();
        let parsed = TcpRepr::parse_bytes(&buf[..n], REMOTE, LOCAL, Checksum::Both).unwrap();
        let mut offered = None;
        let received = &mut self.received;
        let outcome = self.sock.handle_segment_with(
            self.now,
            REMOTE,
            LOCAL,
            &parsed,
            s.ce,
            &mut |data: &[u8]| {
                assert!(offered.is_none(), "offered twice");
                offered = Some(data.len());
                let k = take.min(data.len());
                received.extend_from_slice(&data[..k]);
                k
            },
        );
        (outcome, offered)
    }

    /// The next segment the socket sends now, checked through the wire format.
    pub fn out(&mut self) -> Option<Out> {
        let now = self.now;
        let iss = self.iss;
        let peer_iss = self.peer_iss;
        let t = self.sock.poll_transmit(now)?;
        assert_eq!((t.src, t.dst), (LOCAL, REMOTE));
        let ect = t.ect;
        let mut buf = vec![0u8; 70_000];
        let n = t.repr.emit(&mut buf, t.src, t.dst, Checksum::Both).unwrap();
        let r = TcpRepr::parse_bytes(&buf[..n], LOCAL, REMOTE, Checksum::Both).unwrap();
        Some(Out {
            flags: flags_of(&r),
            seq: r.seq_number.0.wrapping_sub(iss),
            ack: r.ack_number.map(|a| a.0.wrapping_sub(peer_iss)),
            win: r.window_len,
            len: r.payload.len(),
            options: r.options,
            payload: r.payload.to_vec(),
            urgent: r.urgent,
            ect,
        })
    }

    /// Expect exactly this next segment (`"P. seq 1 ack 1 len 100"`).
    #[track_caller]
    pub fn expect(&mut self, line: &str) -> Out {
        let o = self
            .out()
            .unwrap_or_else(|| panic!("expected `{line}`, nothing sent"));
        assert_eq!(o.line(), line);
        o
    }

    /// Expect nothing to be sent now.
    #[track_caller]
    pub fn expect_none(&mut self) {
        if let Some(o) = self.out() {
            panic!("expected silence, sent `{}`", o.line());
        }
    }

    /// Advance the clock.
    pub fn after(&mut self, ms: u64) -> &mut Self {
        self.now += Duration::from_millis(ms);
        self
    }

    /// Advance the clock to the socket's next deadline, returning how far that was.
    pub fn until_deadline(&mut self) -> Duration {
        let t = self.sock.poll_timeout().expect("a deadline");
        let d = t.saturating_sub(self.now);
        self.now = self.now.max(t);
        d
    }

    /// Read everything available.
    pub fn read_all(&mut self) -> usize {
        let mut buf = [0u8; 4096];
        let mut total = 0;
        while let Ok(n) = self.sock.recv_slice(&mut buf) {
            if n == 0 {
                break;
            }
            self.received.extend_from_slice(&buf[..n]);
            total += n;
        }
        total
    }

    /// Drain every segment due now.
    pub fn drain(&mut self) -> Vec<Out> {
        let mut v = Vec::new();
        while let Some(o) = self.out() {
            v.push(o);
            assert!(v.len() < 10_000);
        }
        v
    }
}

/// A config without timestamps or delayed ACKs, so scripts are exact.
pub fn plain() -> Config {
    Config {
        timestamps: false,
        delayed_ack: None,
        ..Config::default()
    }
}
