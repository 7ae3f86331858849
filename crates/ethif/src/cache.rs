//! A sans-IO ARP cache with bounded storage and an anti-poisoning policy.

use core::time::Duration;

use heapless::Vec;

use crate::MacAddress;
use crate::arp::{ArpOp, ArpRepr, ProtocolAddress};

/// Timers and limits of an [`ArpCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// How long a learned binding is used before it is confirmed again (default 60 s).
    pub reachable_time: Duration,
    /// Least time between two requests for one address (default 1 s): the rate limit.
    pub retransmit: Duration,
    /// Requests sent for one address before it is declared unreachable (default 3).
    pub max_requests: u8,
    /// Packets kept per unresolved address; the oldest is dropped beyond it (default 3).
    pub max_queued_per_addr: usize,
    /// Learn a binding from a request addressed to us when we hold no entry for its sender
    /// (default `false`: only answers to our own requests create entries).
    pub learn_from_requests: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            reachable_time: Duration::from_secs(60),
            retransmit: Duration::from_secs(1),
            max_requests: 3,
            max_queued_per_addr: 3,
            learn_from_requests: false,
        }
    }
}

/// Counters of what the cache did and refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Requests handed out by `poll_transmit`.
    pub requests_sent: u64,
    /// Replies returned by `handle`.
    pub replies_sent: u64,
    /// Packets about addresses we hold no entry for, not learned from.
    pub ignored_unsolicited: u64,
    /// Packets claiming a different MAC for an address we hold and did not ask about.
    pub ignored_conflicting: u64,
    /// Packets from another host using our own address.
    pub address_conflicts: u64,
    /// Addresses given up on after `max_requests` unanswered requests.
    pub failed_resolutions: u64,
    /// Packets dropped: per-address queue overflow, no room, or unreachable.
    pub dropped_packets: u64,
}

/// The outcome of [`ArpCache::resolve`].
#[derive(Debug, PartialEq, Eq)]
pub enum Resolve<P> {
    /// The address is known: send the packet to this MAC now.
    Ready(MacAddress, P),
    /// The packet waits for resolution; `evicted` is an older packet for the same address
    /// that made room for it (drop it).
    Queued {
        /// A packet dropped to stay within the per-address limit.
        evicted: Option<P>,
    },
    /// No entry or queue slot could be had: drop the packet.
    NoRoom(P),
}

/// What [`ArpCache::poll_event`] reports.
#[derive(Debug, PartialEq, Eq)]
pub enum ArpEvent<P> {
    /// A queued packet's address resolved: send it to `mac`.
    Send {
        /// The destination MAC.
        mac: MacAddress,
        /// The packet that waited.
        packet: P,
    },
    /// A queued packet's address could not be resolved: drop it (and, for IPv4, the stack
    /// may report host unreachable).
    Unreachable {
        /// The address that did not answer.
        ip: ProtocolAddress,
        /// The packet that waited.
        packet: P,
    },
    /// Another host sent ARP using our own address.
    AddressConflict {
        /// The other host's MAC.
        mac: MacAddress,
    },
}

#[derive(Debug, Clone, Copy)]
struct Probe {
    sent: u8,
    next: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    ip: ProtocolAddress,
    /// `None` while unresolved.
    mac: Option<MacAddress>,
    /// When the binding needs confirming; `None` for static entries.
    expires: Option<Duration>,
    /// Requests in flight for this address (pending, or confirming a stale binding).
    probe: Option<Probe>,
    last_used: Duration,
}

/// A sans-IO ARP cache for one interface: at most `N` entries and `Q` waiting packets of
/// type `P` (the caller's choice: a buffer index, a handle, an owned packet).
///
/// # Call order
/// Feed every received ARP packet to [`handle`](Self::handle) (send the reply it returns);
/// ask [`resolve`](Self::resolve) for the MAC of each outgoing IPv4 next hop; after either,
/// drain [`poll_event`](Self::poll_event) and [`poll_transmit`](Self::poll_transmit) (send the
/// requests it returns to the broadcast MAC); sleep until [`poll_timeout`](Self::poll_timeout).
///
/// # Anti-poisoning policy
/// - An entry is created only when we ask (`resolve` of an unknown address), and becomes
///   resolved only from a packet whose sender is that address and whose *target is us* (a
///   reply to us, or the host's own request for us) while our request is outstanding.
///   Unsolicited replies and gratuitous ARP never create entries, so nobody can plant a binding
///   for an address we did not ask about. (`learn_from_requests` relaxes this for requests
///   addressed to us, RFC 826's merge rule, when there is no entry at all.)
/// - A resolved binding is never overwritten by an unsolicited packet with a different MAC;
///   such packets are counted and ignored. A binding changes only after it goes stale
///   (`reachable_time`), we ask again, and the address answers us. Packets repeating the same
///   binding (including gratuitous ARP) only refresh it.
/// - Packets from a multicast sender MAC are rejected by [`ArpRepr::parse`]; packets with
///   sender 0.0.0.0 (probes) or a multicast/broadcast sender address teach nothing; a packet
///   using our own address from another MAC is reported as [`ArpEvent::AddressConflict`] and
///   teaches nothing.
/// - Stale bindings keep being used while they are confirmed (as Linux does), so traffic does
///   not stall every `reachable_time`; if the address stops answering, the entry is removed.
///
/// Storage is fixed. A full cache evicts the least recently used stale binding, or for our
/// own lookups one idle for half the reachable time; bindings in use, unresolved entries,
/// entries being confirmed, entries with packets waiting and static entries are never evicted.
/// When nothing may go, `resolve` answers `NoRoom`: a flood of lookups for addresses that do
/// not answer degrades new lookups for a few seconds but never pushes out the gateway.
#[derive(Debug)]
pub struct ArpCache<P, const N: usize, const Q: usize> {
    mac: MacAddress,
    ip: ProtocolAddress,
    config: Config,
    entries: Vec<Entry, N>,
    queue: Vec<(ProtocolAddress, P), Q>,
    conflict: Option<MacAddress>,
    stats: CacheStats,
}

fn is_group(ip: ProtocolAddress) -> bool {
    ip == [255; 4] || ip[0] & 0xf0 == 0xe0
}

impl<P, const N: usize, const Q: usize> ArpCache<P, N, Q> {
    /// An empty cache for the interface with address `(mac, ip)`.
    pub fn new(mac: MacAddress, ip: ProtocolAddress, config: Config) -> Self {
        ArpCache {
            mac,
            ip,
            config,
            entries: Vec::new(),
            queue: Vec::new(),
            conflict: None,
            stats: CacheStats::default(),
        }
    }

    /// Change the interface's addresses (entries are kept).
    pub fn set_interface(&mut self, mac: MacAddress, ip: ProtocolAddress) {
        self.mac = mac;
        self.ip = ip;
    }

    /// The counters.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    /// How many entries are held (resolved, stale, static or unresolved).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many packets wait for resolution.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    fn find(&self, ip: ProtocolAddress) -> Option<usize> {
        self.entries.iter().position(|e| e.ip == ip)
    }

    /// Add a static binding that never expires and is never overwritten by the network.
    ///
    /// # Errors
    /// Gives the binding back if the cache is full of unresolved or static entries.
    pub fn insert_static(
        &mut self,
        ip: ProtocolAddress,
        mac: MacAddress,
    ) -> Result<(), (ProtocolAddress, MacAddress)> {
        let entry = Entry {
            ip,
            mac: Some(mac),
            expires: None,
            probe: None,
            last_used: Duration::ZERO,
        };
        match self.find(ip) {
            Some(i) => {
                if let Some(e) = self.entries.get_mut(i) {
                    *e = entry;
                }
                Ok(())
            }
            None => self
                .insert(Duration::ZERO, entry, false)
                .map_err(|_| (ip, mac)),
        }
    }

    /// The entry to evict for a new one, if any may go: never a static entry, an unresolved
    /// one, one being confirmed, or one with packets waiting on it. First the least recently
    /// used stale binding; for our own lookups (`idle_too`), then the least recently used
    /// binding idle for half the reachable time. A binding in use is never evicted, so a
    /// flood of lookups for addresses that do not answer cannot push out the gateway.
    fn victim(&self, now: Duration, idle_too: bool) -> Option<usize> {
        let idle = self.config.reachable_time / 2;
        let waiting = |ip: ProtocolAddress| self.queue.iter().any(|(a, _)| *a == ip);
        let candidates = || {
            self.entries.iter().enumerate().filter(|(_, e)| {
                e.mac.is_some() && e.expires.is_some() && e.probe.is_none() && !waiting(e.ip)
            })
        };
        let stale = candidates()
            .filter(|(_, e)| e.expires.is_some_and(|t| t <= now))
            .min_by_key(|(_, e)| e.last_used)
            .map(|(i, _)| i);
        stale.or_else(|| {
            idle_too
                .then(|| {
                    candidates()
                        .filter(|(_, e)| e.last_used.saturating_add(idle) <= now)
                        .min_by_key(|(_, e)| e.last_used)
                        .map(|(i, _)| i)
                })
                .flatten()
        })
    }

    /// Insert, evicting a [`victim`](Self::victim) if full.
    fn insert(&mut self, now: Duration, entry: Entry, idle_too: bool) -> Result<(), Entry> {
        if self.entries.is_full() {
            match self.victim(now, idle_too) {
                Some(i) => {
                    self.entries.swap_remove(i);
                }
                None => return Err(entry),
            }
        }
        self.entries.push(entry)
    }

    /// The MAC for `ip` if known (stale bindings included), without queueing anything.
    /// Broadcast and multicast addresses map without ARP.
    pub fn lookup(&mut self, now: Duration, ip: ProtocolAddress) -> Option<MacAddress> {
        if ip == [255; 4] {
            return Some(MacAddress::BROADCAST);
        }
        if let Some(m) = MacAddress::from_ipv4_multicast(ip) {
            return Some(m);
        }
        let i = self.find(ip)?;
        let e = self.entries.get_mut(i)?;
        let mac = e.mac?;
        e.last_used = now;
        // A stale binding is still used, and confirmed in the background.
        if e.expires.is_some_and(|t| t <= now) && e.probe.is_none() {
            e.probe = Some(Probe { sent: 0, next: now });
        }
        Some(mac)
    }

    /// Find the MAC for `ip`, or queue `packet` until it is known.
    pub fn resolve(&mut self, now: Duration, ip: ProtocolAddress, packet: P) -> Resolve<P> {
        if let Some(mac) = self.lookup(now, ip) {
            return Resolve::Ready(mac, packet);
        }
        if ip == [0; 4] || ip == self.ip {
            self.stats.dropped_packets += 1;
            return Resolve::NoRoom(packet);
        }
        if self.find(ip).is_none() {
            let entry = Entry {
                ip,
                mac: None,
                expires: None,
                probe: Some(Probe { sent: 0, next: now }),
                last_used: now,
            };
            if self.insert(now, entry, true).is_err() {
                self.stats.dropped_packets += 1;
                return Resolve::NoRoom(packet);
            }
        }
        // Per-address limit: drop this address's oldest waiting packet to make room.
        let mut evicted = None;
        let waiting = self.queue.iter().filter(|(a, _)| *a == ip).count();
        if waiting >= self.config.max_queued_per_addr.max(1)
            && let Some(i) = self.queue.iter().position(|(a, _)| *a == ip)
        {
            evicted = Some(self.queue.remove(i).1);
            self.stats.dropped_packets += 1;
        }
        match self.queue.push((ip, packet)) {
            Ok(()) => Resolve::Queued { evicted },
            Err((_, packet)) => {
                self.stats.dropped_packets += 1;
                Resolve::NoRoom(packet)
            }
        }
    }

    /// Process a received ARP packet; returns the reply to send, if any (to
    /// `reply.target_mac`).
    pub fn handle(&mut self, now: Duration, arp: &ArpRepr) -> Option<ArpRepr> {
        if arp.sender_ip == self.ip && arp.sender_ip != [0; 4] {
            if arp.sender_mac != self.mac {
                self.stats.address_conflicts += 1;
                self.conflict = Some(arp.sender_mac);
            }
            return None;
        }
        // An interface without an address answers nothing (and learns nothing addressed to it).
        let to_us = self.ip != [0; 4] && arp.target_ip == self.ip && !arp.is_gratuitous();
        self.learn(now, arp, to_us);
        if arp.op == ArpOp::Request && to_us {
            self.stats.replies_sent += 1;
            return Some(ArpRepr {
                op: ArpOp::Reply,
                sender_mac: self.mac,
                sender_ip: self.ip,
                target_mac: arp.sender_mac,
                target_ip: arp.sender_ip,
            });
        }
        None
    }

    fn learn(&mut self, now: Duration, arp: &ArpRepr, to_us: bool) {
        let s = arp.sender_ip;
        if s == [0; 4] || is_group(s) || arp.sender_mac.is_multicast() {
            return;
        }
        let reachable = now.saturating_add(self.config.reachable_time);
        match self.find(s) {
            Some(i) => {
                let Some(e) = self.entries.get_mut(i) else {
                    return;
                };
                if e.expires.is_none() && e.mac.is_some() {
                    // Static: the network cannot change it.
                    if e.mac != Some(arp.sender_mac) {
                        self.stats.ignored_conflicting += 1;
                    }
                } else if e.probe.is_some() && to_us {
                    // We asked, and the address answered us.
                    e.mac = Some(arp.sender_mac);
                    e.expires = Some(reachable);
                    e.probe = None;
                } else if e.mac == Some(arp.sender_mac) {
                    e.expires = Some(reachable);
                    e.probe = None;
                } else if e.mac.is_none() {
                    // We are asking, but this packet is not an answer to us.
                    self.stats.ignored_unsolicited += 1;
                } else {
                    self.stats.ignored_conflicting += 1;
                }
            }
            None => {
                if to_us && arp.op == ArpOp::Request && self.config.learn_from_requests {
                    // Learned bindings only take free or stale slots: an unasked-for packet
                    // never pushes out a binding in use.
                    let entry = Entry {
                        ip: s,
                        mac: Some(arp.sender_mac),
                        expires: Some(reachable),
                        probe: None,
                        last_used: now,
                    };
                    let _ = self.insert(now, entry, false);
                } else {
                    self.stats.ignored_unsolicited += 1;
                }
            }
        }
    }

    /// The next request to broadcast, if one is due (one per address per `retransmit`).
    /// Addresses that used up `max_requests` are removed here; their packets come out of
    /// [`poll_event`](Self::poll_event) as [`ArpEvent::Unreachable`].
    pub fn poll_transmit(&mut self, now: Duration) -> Option<ArpRepr> {
        let mut i = 0;
        while i < self.entries.len() {
            let Some(e) = self.entries.get_mut(i) else {
                break;
            };
            match e.probe {
                Some(p) if p.next <= now => {
                    if p.sent < self.config.max_requests {
                        e.probe = Some(Probe {
                            sent: p.sent.saturating_add(1),
                            next: now.saturating_add(self.config.retransmit),
                        });
                        self.stats.requests_sent += 1;
                        return Some(ArpRepr::request(self.mac, self.ip, e.ip));
                    }
                    self.entries.swap_remove(i);
                    self.stats.failed_resolutions += 1;
                    continue;
                }
                _ => i += 1,
            }
        }
        None
    }

    /// What to act on: waiting packets that can now be sent or must be dropped, and
    /// address conflicts.
    pub fn poll_event(&mut self) -> Option<ArpEvent<P>> {
        for i in 0..self.queue.len() {
            let Some(&(ip, _)) = self.queue.get(i) else {
                break;
            };
            let state = self
                .find(ip)
                .and_then(|j| self.entries.get(j))
                .map(|e| e.mac);
            match state {
                Some(Some(mac)) => {
                    let (_, packet) = self.queue.remove(i);
                    return Some(ArpEvent::Send { mac, packet });
                }
                Some(None) => {}
                None => {
                    let (ip, packet) = self.queue.remove(i);
                    self.stats.dropped_packets += 1;
                    return Some(ArpEvent::Unreachable { ip, packet });
                }
            }
        }
        self.conflict
            .take()
            .map(|mac| ArpEvent::AddressConflict { mac })
    }

    /// When `poll_transmit` next has something to do.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.entries
            .iter()
            .filter_map(|e| e.probe.map(|p| p.next))
            .min()
    }
}
