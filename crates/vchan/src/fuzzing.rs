//! Fuzz bodies for the fuzz crate (not a stable API). Each takes arbitrary bytes and panics
//! only if an invariant breaks.
//!
//! Wire them as the other targets are (`unistack_fuzz::TARGETS`):
//! `("vchan_hostile_page", unistack_vchan::fuzzing::hostile_page)` and
//! `("xen_ring_hostile", unistack_vchan::fuzzing::hostile_ring)`.

use core::sync::atomic::Ordering;

use crate::backend::{Grants, Mapping, Store};
use crate::error::Error;
use crate::local::Hypervisor;
use crate::netif::{NetifTx, NetifTxRequest, NetifTxResponse};
use crate::ring::{BackRing, FrontRing};
use crate::vchan::{ServerConfig, State, Vchan};

const PATH: &str = "/local/domain/1/data/vchan/fuzz";

/// A little cursor over the fuzz input.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes([self.u8()?, self.u8()?]))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes([
            self.u8()?,
            self.u8()?,
            self.u8()?,
            self.u8()?,
        ]))
    }
}

/// Offsets a hostile peer most wants to hit: the header fields, the first grants, ring bytes.
fn target(sel: u8) -> usize {
    match sel % 16 {
        0..=11 => usize::from(sel % 12) * 2, // every u16 of the 24-byte header
        12 => 24 + usize::from(sel / 16) * 4, // the grant list
        13 => 1024 + usize::from(sel),
        14 => 2048 + usize::from(sel),
        _ => usize::from(sel) * 16,
    }
}

/// Whether an error is one a hostile peer may legitimately cause.
fn acceptable(e: &Error) -> bool {
    !matches!(e, Error::InvalidArgument | Error::TooLarge { .. })
}

/// A vchan whose shared page a hostile peer scribbles on, before the client connects and
/// between operations of both ends. Invariants: no panic or hang; every error is a
/// peer-caused one; a [`Corrupt`](crate::Corrupt) error is sticky; a read never claims more
/// than asked; every grant, mapping, port and store key is released at the end.
pub fn hostile_page(data: &[u8]) {
    let mut input = Input(data);
    let hv = Hypervisor::new();
    let sizes = [1, 1024, 2048, 4096, 8192, 1 << 14];
    let left = sizes[usize::from(input.u8().unwrap_or(0)) % sizes.len()];
    let right = sizes[usize::from(input.u8().unwrap_or(1)) % sizes.len()];
    let config = ServerConfig {
        first_index: input.u32().unwrap_or(0),
        ..ServerConfig::new(left, right)
    };
    let Ok(mut server) = Vchan::server(hv.domain(1), 2, PATH, config) else {
        unreachable!("valid sizes");
    };
    let mut buf = [0u8; 16];
    let ring_ref = hv
        .domain(2)
        .read(&[PATH, "/ring-ref"].concat(), &mut buf)
        .ok()
        .flatten()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let Ok(spy) = hv.domain(2).map(1, &[ring_ref]) else {
        unreachable!("the page is granted to domain 2");
    };
    let page = spy.shm();
    let scribble = |input: &mut Input<'_>| -> Option<()> {
        let sel = input.u8()?;
        let off = target(sel);
        match input.u8()? % 3 {
            0 => page
                .store_u32(off & !3, input.u32()?, Ordering::SeqCst)
                .ok(),
            1 => page
                .store_u16(off & !1, input.u16()?, Ordering::SeqCst)
                .ok(),
            _ => page.store_u8(off, input.u8()?, Ordering::SeqCst).ok(),
        };
        Some(())
    };
    // Before the client connects: orders, grants and indexes it will read once.
    for _ in 0..input.u8().unwrap_or(0) % 4 {
        scribble(&mut input);
    }
    let mut client = Vchan::client(hv.domain(2), 1, PATH).ok();
    let mut data = [0u8; 3000];
    for (i, b) in data.iter_mut().enumerate() {
        *b = i as u8;
    }
    let mut server_corrupt = false;
    let mut client_corrupt = false;
    while let Some(op) = input.u8() {
        let len = usize::from(input.u16().unwrap_or(0)) % data.len();
        let on_client = op & 0x80 != 0;
        let (chan, corrupt) = match (on_client, client.as_mut()) {
            (true, Some(c)) => (c, &mut client_corrupt),
            _ => (&mut server, &mut server_corrupt),
        };
        let mut sink = [0u8; 3000];
        // Closing and waiting for an event do not consult the page.
        let reads_page = (op & 0x7f) < 115;
        let r: Result<usize, Error> = match op & 0x7f {
            0..=39 => {
                scribble(&mut input);
                continue;
            }
            40..=54 => chan.try_write(&data[..len]),
            55..=69 => chan
                .try_read(&mut sink[..len])
                .inspect(|&n| assert!(n <= len)),
            70..=74 => chan.try_send(&data[..len]).map(|()| len),
            75..=79 => chan.try_recv(&mut sink[..len]).map(|()| len),
            80..=84 => chan.state().map(|s| s as usize),
            85..=89 => chan.data_ready(),
            90..=94 => chan.buffer_space(),
            95..=104 => chan.read_guard().and_then(|g| {
                let n = len.min(g.len());
                assert!(g.read_at(g.len(), &mut [0]).is_err());
                g.read_at(0, &mut sink[..n])?;
                g.commit(n).map(|()| n)
            }),
            105..=114 => chan.write_guard().and_then(|g| {
                let n = len.min(g.len());
                assert!(g.write_at(g.len(), &[0]).is_err());
                g.write_at(0, &data[..n])?;
                g.commit(n).map(|()| n)
            }),
            115..=119 => {
                chan.close();
                Ok(0)
            }
            _ => chan
                .wait_event(Some(core::time::Duration::ZERO))
                .map(usize::from),
        };
        match r {
            Err(Error::TooLarge { len: l, max }) => assert!(l > max),
            Err(e) => {
                assert!(acceptable(&e), "{e:?}");
                if *corrupt {
                    assert!(matches!(e, Error::Corrupt(_) | Error::Closed), "{e:?}");
                }
                *corrupt |= matches!(e, Error::Corrupt(_));
            }
            Ok(_) => assert!(
                !*corrupt || !reads_page,
                "an operation succeeded after a Corrupt error"
            ),
        }
        if *corrupt {
            assert!(chan.state().is_err() || matches!(chan.state(), Ok(State::Closed)));
        }
    }
    drop(client);
    drop(server);
    drop(spy);
    let o = hv.outstanding();
    assert_eq!(
        (o.grants, o.mappings, o.ports, o.keys),
        (0, 0, 0, 0),
        "leak: {o:?}"
    );
}

/// A netif transmit ring whose indexes and entries a hostile peer scribbles on between
/// operations of the front and back ends. Invariants: no panic; responses never outnumber
/// requests in flight; every request and response the ends read passes or fails validation
/// without panicking.
pub fn hostile_ring(data: &[u8]) {
    let mut input = Input(data);
    let hv = Hypervisor::new();
    let mut refs = [0];
    let Ok(shared) = hv.domain(1).share(0, &mut refs) else {
        unreachable!()
    };
    let (Ok(mapped), Ok(spy)) = (hv.domain(0).map(1, &refs), hv.domain(0).map(1, &refs)) else {
        unreachable!()
    };
    let start = input.u32().unwrap_or(0);
    let (Ok(mut front), Ok(mut back)) = (
        FrontRing::<NetifTx, _>::init_at(shared, start),
        BackRing::<NetifTx, _>::attach(mapped, start),
    ) else {
        unreachable!()
    };
    let page = spy.shm();
    let mut raw = [0u8; 12];
    while let Some(op) = input.u8() {
        let r = match op % 8 {
            0 | 1 => {
                let off = usize::from(input.u8().unwrap_or(0)) * 4 % 512;
                let _ = page.store_u32(off, input.u32().unwrap_or(0), Ordering::SeqCst);
                Ok(())
            }
            2 => front
                .push_request(&NetifTxRequest {
                    id: input.u16().unwrap_or(0),
                    ..Default::default()
                })
                .and_then(|()| front.push_requests_and_check_notify().map(drop)),
            3 => front.poll_response().map(|r| {
                if let Some(r) = r {
                    let _ = r.check(front.size());
                }
            }),
            4 => back.poll_request().map(|r| {
                if let Some(r) = r {
                    let _ = r.check(back.size(), r.len);
                }
            }),
            5 => back.poll_request_raw(&mut raw).map(drop),
            6 => back
                .push_response(&NetifTxResponse::default())
                .and_then(|()| back.push_responses_and_check_notify().map(drop)),
            _ => front
                .final_check_for_responses()
                .and_then(|_| back.final_check_for_requests())
                .map(drop),
        };
        assert!(
            matches!(r, Ok(()) | Err(Error::Corrupt(_) | Error::WouldBlock)),
            "{r:?}"
        );
        assert!(front.in_flight() <= front.size());
        assert!(front.free_requests() <= front.size());
    }
}
