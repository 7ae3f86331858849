//! Passive open: a listening port with a bounded SYN backlog and SYN cookies (RFC 4987).
//!
//! The listener keeps a small record per half-open connection (no buffers) in caller
//! storage. When the backlog is full — or always, if configured — it answers SYNs with a
//! cookie instead and keeps nothing: the final ACK alone proves the handshake and carries the
//! state back. A completed handshake comes out as a [`Handshake`], which the caller turns into
//! a [`Socket`](crate::Socket) with buffers (`accept`) and then gives the same ACK to.

use core::time::Duration;

use managed::ManagedSlice;
use unistack_ipv4::Ipv4Address;

use crate::config::{Config, window_shift_for};
use crate::isn::{FourTuple, IsnKey};
use crate::options::OptionsRepr;
use crate::socket::{Handshake, Transmit, reset_for};
use crate::{Control, SeqNumber, TcpRepr};

/// When to answer SYNs with cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CookieMode {
    /// Never: a SYN that finds the backlog full is dropped.
    Never,
    /// When the backlog is full (the usual choice).
    #[default]
    WhenFull,
    /// Always: no state at all before the handshake completes.
    Always,
}

/// One half-open connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HalfOpen {
    tuple: FourTuple,
    iss: SeqNumber,
    irs: SeqNumber,
    peer_mss: u16,
    peer_shift: Option<u8>,
    sack: bool,
    ts_recent: Option<u32>,
    /// The SYN asked for ECN (ECE and CWR set, RFC 3168 6.1.1).
    ecn: bool,
    retries: u32,
    rto_at: Duration,
}

/// What the listener made of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenOutcome {
    /// Send this segment (a SYN-ACK or a RST).
    Reply(Transmit<'static>),
    /// The handshake completed: `accept` it into a socket, then give that socket the same
    /// segment.
    Accept(Handshake),
    /// Not for this listener (wrong port or address): someone else's, or answer with
    /// [`reset_for`].
    NotMine,
    /// Ignored (a stray RST, a SYN with the backlog full and cookies off, ...).
    Dropped,
}

/// Listener counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListenerStats {
    /// SYNs seen.
    pub syns: u64,
    /// SYN-ACKs sent with a cookie.
    pub cookies_sent: u64,
    /// Handshakes completed from a valid cookie.
    pub cookies_accepted: u64,
    /// ACKs whose cookie did not verify (answered with RST).
    pub cookies_rejected: u64,
    /// SYNs dropped with the backlog full and cookies off.
    pub backlog_overflows: u64,
    /// Half-open entries that ran out of SYN-ACK retries.
    pub expired: u64,
    /// Handshakes completed.
    pub accepted: u64,
}

/// Timestamp bits a cookie SYN-ACK hides in its TSval: 4 bits of window shift (15: none),
/// 1 bit of SACK.
const TS_COOKIE_MASK: u32 = 0x1f;

/// A listening port.
#[derive(Debug)]
pub struct Listener<'a> {
    addr: Ipv4Address,
    port: u16,
    cfg: Config,
    key: IsnKey,
    cookies: CookieMode,
    rcv_shift: u8,
    syn_window: u16,
    backlog: ManagedSlice<'a, Option<HalfOpen>>,
    stats: ListenerStats,
}

impl<'a> Listener<'a> {
    /// Listen on `port` at `addr` (unspecified: any local address), with half-open slots in
    /// `backlog`, for sockets that will get `rx_capacity`-byte receive buffers.
    pub fn new(
        addr: Ipv4Address,
        port: u16,
        backlog: impl Into<ManagedSlice<'a, Option<HalfOpen>>>,
        rx_capacity: usize,
        cfg: Config,
        key: IsnKey,
    ) -> Self {
        let mut backlog = backlog.into();
        for slot in backlog.iter_mut() {
            *slot = None;
        }
        Listener {
            addr,
            port,
            rcv_shift: if cfg.window_scaling {
                window_shift_for(rx_capacity)
            } else {
                0
            },
            syn_window: rx_capacity.min(usize::from(u16::MAX)) as u16,
            cfg,
            key,
            cookies: CookieMode::default(),
            backlog,
            stats: ListenerStats::default(),
        }
    }

    /// Choose when cookies are used.
    pub fn set_cookie_mode(&mut self, mode: CookieMode) {
        self.cookies = mode;
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Counters.
    pub fn stats(&self) -> &ListenerStats {
        &self.stats
    }

    /// Half-open connections held.
    pub fn half_open(&self) -> usize {
        self.backlog.iter().flatten().count()
    }

    fn find(&self, tuple: &FourTuple) -> Option<usize> {
        self.backlog
            .iter()
            .position(|s| s.is_some_and(|h| h.tuple == *tuple))
    }

    fn ts_val(&self, tuple: &FourTuple, now: Duration) -> u32 {
        (now.as_millis() as u32).wrapping_add(self.key.ts_offset(tuple))
    }

    /// Handle a segment from `src` to `dst` (checksum already verified).
    pub fn handle_segment(
        &mut self,
        now: Duration,
        src: Ipv4Address,
        dst: Ipv4Address,
        seg: &TcpRepr<'_>,
    ) -> ListenOutcome {
        if seg.dst_port != self.port || (!self.addr.is_unspecified() && dst != self.addr) {
            return ListenOutcome::NotMine;
        }
        let tuple = FourTuple {
            local_addr: dst,
            local_port: seg.dst_port,
            remote_addr: src,
            remote_port: seg.src_port,
        };
        match (seg.control, seg.ack_number) {
            (Control::Rst, _) => {
                if let Some(i) = self.find(&tuple) {
                    // RFC 5961: only an exact match tears down the half-open entry.
                    if self
                        .backlog
                        .get(i)
                        .copied()
                        .flatten()
                        .is_some_and(|h| seg.seq_number == h.irs + 1)
                        && let Some(slot) = self.backlog.get_mut(i)
                    {
                        *slot = None;
                    }
                }
                ListenOutcome::Dropped
            }
            (Control::Syn, None) => self.on_syn(now, tuple, seg),
            (_, Some(ack)) if seg.control != Control::Syn => self.on_ack(now, tuple, seg, ack),
            _ => match reset_for(seg) {
                Some(repr) => ListenOutcome::Reply(Transmit {
                    src: dst,
                    dst: src,
                    repr,
                    ect: false,
                }),
                None => ListenOutcome::Dropped,
            },
        }
    }

    fn on_syn(&mut self, now: Duration, tuple: FourTuple, seg: &TcpRepr<'_>) -> ListenOutcome {
        self.stats.syns += 1;
        if src_invalid(&tuple) {
            return ListenOutcome::Dropped;
        }
        let o = &seg.options;
        let half = HalfOpen {
            tuple,
            iss: SeqNumber(0),
            irs: seg.seq_number,
            peer_mss: o.max_seg_size.unwrap_or(536),
            peer_shift: if self.cfg.window_scaling {
                o.window_scale.map(|s| s.min(14))
            } else {
                None
            },
            sack: self.cfg.sack && o.sack_permitted,
            ecn: seg.ece && seg.cwr,
            ts_recent: if self.cfg.timestamps {
                o.timestamp.map(|(v, _)| v)
            } else {
                None
            },
            retries: 0,
            rto_at: now + self.cfg.rto_initial,
        };
        if let Some(i) = self.find(&tuple) {
            // A retransmitted SYN: answer again from the entry.
            if let Some(Some(h)) = self.backlog.get(i).copied()
                && h.irs == seg.seq_number
            {
                return ListenOutcome::Reply(self.syn_ack(&h, now, false));
            }
            if let Some(slot) = self.backlog.get_mut(i) {
                *slot = None;
            }
        }
        let free = self.backlog.iter().position(Option::is_none);
        let use_cookie = match self.cookies {
            CookieMode::Always => true,
            CookieMode::WhenFull => free.is_none(),
            CookieMode::Never => false,
        };
        if use_cookie {
            let mut h = half;
            h.iss = self.key.cookie(&tuple, seg.seq_number, h.peer_mss, now);
            // The cookie cannot remember ECN, so the SYN-ACK must not promise it.
            h.ecn = false;
            self.stats.cookies_sent += 1;
            return ListenOutcome::Reply(self.syn_ack(&h, now, true));
        }
        let Some(i) = free else {
            self.stats.backlog_overflows += 1;
            return ListenOutcome::Dropped;
        };
        let mut h = half;
        h.iss = self.key.isn(&tuple, now);
        if let Some(slot) = self.backlog.get_mut(i) {
            *slot = Some(h);
        }
        ListenOutcome::Reply(self.syn_ack(&h, now, false))
    }

    fn syn_ack(&self, h: &HalfOpen, now: Duration, cookie: bool) -> Transmit<'static> {
        let our_shift = h.peer_shift.map(|_| self.rcv_shift);
        let mut options = OptionsRepr {
            max_seg_size: Some(self.cfg.mss),
            window_scale: our_shift,
            sack_permitted: h.sack,
            ..OptionsRepr::default()
        };
        if let Some(recent) = h.ts_recent {
            let mut tsval = self.ts_val(&h.tuple, now);
            if cookie {
                let shift_bits = u32::from(h.peer_shift.unwrap_or(15));
                tsval = (tsval & !TS_COOKIE_MASK) | shift_bits | (u32::from(h.sack) << 4);
            }
            options.timestamp = Some((tsval, recent));
        }
        Transmit {
            src: h.tuple.local_addr,
            dst: h.tuple.remote_addr,
            repr: TcpRepr {
                src_port: h.tuple.local_port,
                dst_port: h.tuple.remote_port,
                control: Control::Syn,
                push: false,
                // An ECN-setup SYN-ACK (RFC 3168 6.1.1): ECE without CWR.
                ece: h.ecn,
                cwr: false,
                ae: false,
                seq_number: h.iss,
                ack_number: Some(h.irs + 1),
                window_len: self.syn_window,
                urgent: None,
                options,
                payload: &[],
            },
            ect: false,
        }
    }

    fn handshake(&self, h: &HalfOpen, ts_recent: Option<u32>) -> Handshake {
        Handshake {
            tuple: h.tuple,
            iss: h.iss,
            irs: h.irs,
            peer_mss: h.peer_mss,
            window_scale: h.peer_shift.map(|p| (p, self.rcv_shift)),
            sack: h.sack,
            ts_recent,
            ts_offset: self.key.ts_offset(&h.tuple),
            ecn: h.ecn,
        }
    }

    fn on_ack(
        &mut self,
        now: Duration,
        tuple: FourTuple,
        seg: &TcpRepr<'_>,
        ack: SeqNumber,
    ) -> ListenOutcome {
        let rst = || match reset_for(seg) {
            Some(repr) => ListenOutcome::Reply(Transmit {
                src: tuple.local_addr,
                dst: tuple.remote_addr,
                repr,
                ect: false,
            }),
            None => ListenOutcome::Dropped,
        };
        if let Some(i) = self.find(&tuple) {
            let Some(Some(h)) = self.backlog.get(i).copied() else {
                return ListenOutcome::Dropped;
            };
            if ack != h.iss + 1 || seg.seq_number != h.irs + 1 {
                return rst();
            }
            if let Some(slot) = self.backlog.get_mut(i) {
                *slot = None;
            }
            self.stats.accepted += 1;
            let ts = h.ts_recent.and(seg.options.timestamp.map(|(v, _)| v));
            return ListenOutcome::Accept(self.handshake(&h, ts));
        }
        if self.cookies == CookieMode::Never {
            return rst();
        }
        let irs = SeqNumber(seg.seq_number.0.wrapping_sub(1));
        let cookie = SeqNumber(ack.0.wrapping_sub(1));
        let Some(data) = self.key.check_cookie(&tuple, irs, cookie, now) else {
            self.stats.cookies_rejected += 1;
            return rst();
        };
        // Options come back in the timestamp echo, if the peer uses timestamps.
        let (peer_shift, sack, ts_recent) = match (self.cfg.timestamps, seg.options.timestamp) {
            (true, Some((tsval, tsecr))) => {
                let shift = (tsecr & 0xf) as u8;
                (
                    (shift != 15 && self.cfg.window_scaling).then_some(shift.min(14)),
                    self.cfg.sack && tsecr & 0x10 != 0,
                    Some(tsval),
                )
            }
            _ => (None, false, None),
        };
        let h = HalfOpen {
            tuple,
            iss: cookie,
            irs,
            peer_mss: data.mss,
            peer_shift,
            sack,
            ts_recent,
            ecn: false,
            retries: 0,
            rto_at: now,
        };
        self.stats.cookies_accepted += 1;
        self.stats.accepted += 1;
        ListenOutcome::Accept(self.handshake(&h, ts_recent))
    }

    /// SYN-ACK retransmissions due at `now` (one per call; call until `None`). Entries out of
    /// retries are dropped.
    pub fn poll_transmit(&mut self, now: Duration) -> Option<Transmit<'static>> {
        let retries = self.cfg.syn_retries;
        let base = self.cfg.rto_initial;
        let mut due = None;
        for slot in self.backlog.iter_mut() {
            let Some(h) = slot.as_mut() else { continue };
            if h.rto_at > now {
                continue;
            }
            if h.retries >= retries {
                *slot = None;
                self.stats.expired += 1;
                continue;
            }
            h.retries += 1;
            h.rto_at = now + base * (1u32 << h.retries.min(16));
            due = Some(*h);
            break;
        }
        due.map(|h| self.syn_ack(&h, now, false))
    }

    /// The next SYN-ACK retransmission deadline.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.backlog.iter().flatten().map(|h| h.rto_at).min()
    }
}

fn src_invalid(t: &FourTuple) -> bool {
    t.remote_port == 0
        || t.remote_addr.is_unspecified()
        || t.remote_addr.is_broadcast()
        || t.remote_addr.is_multicast()
}
