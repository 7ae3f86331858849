//! A hostile peer writing the shared page: targeted cases with the exact error, and proptest
//! runs of the fuzz bodies over arbitrary scribbles and operations.

use std::sync::atomic::Ordering;
use std::time::Duration;

use proptest::prelude::*;
use unistack_vchan::local::{Domain, Hypervisor, LocalMapped, Outstanding};
use unistack_vchan::vchan::VchanInterface;
use unistack_vchan::{
    BackendError, Corrupt, Error, Grants, Mapping, ServerConfig, State, Store, Vchan,
};

const PATH: &str = "/local/domain/1/data/vchan/hostile";

/// A server for domain 2 and a second mapping of its shared page to scribble through.
fn server(config: ServerConfig) -> (Hypervisor, Vchan<Domain>, LocalMapped) {
    let hv = Hypervisor::new();
    let server = Vchan::server(hv.domain(1), 2, PATH, config).unwrap();
    let mut buf = [0u8; 16];
    let r: u32 = hv
        .domain(2)
        .read(&format!("{PATH}/ring-ref"), &mut buf)
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    let spy = hv.domain(2).map(1, &[r]).unwrap();
    (hv, server, spy)
}

#[test]
fn client_refuses_bad_orders_and_grants() {
    for (left, right) in [
        (9, 11),
        (10, 10),
        (11, 11),
        (21, 12),
        (10, 20),
        (0, 0),
        (u16::MAX, 12),
    ] {
        let (hv, _server, spy) = server(ServerConfig::new(1024, 2048));
        spy.shm()
            .store_u16(VchanInterface::LEFT_ORDER.offset, left, Ordering::SeqCst)
            .unwrap();
        spy.shm()
            .store_u16(VchanInterface::RIGHT_ORDER.offset, right, Ordering::SeqCst)
            .unwrap();
        assert_eq!(
            Vchan::client(hv.domain(2), 1, PATH).err(),
            Some(Error::Corrupt(Corrupt::Order { left, right }))
        );
    }
    // Orders that need grants, with a grant list pointing nowhere.
    let (hv, _server, spy) = server(ServerConfig::new(1024, 2048));
    spy.shm()
        .store_u16(VchanInterface::RIGHT_ORDER.offset, 13, Ordering::SeqCst)
        .unwrap();
    spy.shm().store_u32(24, 0xdead, Ordering::SeqCst).unwrap();
    assert_eq!(
        Vchan::client(hv.domain(2), 1, PATH).err(),
        Some(Error::Backend(BackendError::NoSuchGrant(0xdead)))
    );
}

#[test]
fn bad_store_values_are_corrupt() {
    let hv = Hypervisor::new();
    let d = hv.domain(1);
    for v in ["0", "-1", "12abc", "", "99999999999"] {
        d.write(&format!("{PATH}/ring-ref"), v).unwrap();
        d.write(&format!("{PATH}/event-channel"), "1").unwrap();
        assert_eq!(
            Vchan::client(hv.domain(2), 1, PATH).err(),
            Some(Error::Corrupt(Corrupt::StoreValue)),
            "{v:?}"
        );
    }
}

#[test]
fn runaway_indexes_are_corrupt_and_sticky() {
    let (_hv, mut server, spy) = server(ServerConfig::new(1024, 2048));
    let _client = Vchan::client(_hv.domain(2), 1, PATH).unwrap();
    // The client "produces" 1025 bytes into a 1024-byte ring.
    spy.shm()
        .store_u32(VchanInterface::LEFT_PROD.offset, 1025, Ordering::SeqCst)
        .unwrap();
    let corrupt = Error::Corrupt(Corrupt::Index {
        prod: 1025,
        cons: 0,
        limit: 1024,
    });
    assert_eq!(server.try_read(&mut [0u8; 8]), Err(corrupt));
    // Putting it back does not heal the channel.
    spy.shm()
        .store_u32(VchanInterface::LEFT_PROD.offset, 0, Ordering::SeqCst)
        .unwrap();
    assert_eq!(server.try_read(&mut [0u8; 8]), Err(corrupt));
    assert_eq!(server.try_write(b"x"), Err(corrupt));
    assert_eq!(server.state(), Err(corrupt));
    // A blocking call returns the error rather than waiting.
    assert_eq!(server.read(&mut [0u8; 8]), Err(corrupt));
}

#[test]
fn consumer_index_beyond_producer_is_corrupt_for_the_writer() {
    let (hv, mut server, spy) = server(ServerConfig::new(1024, 2048));
    let _client = Vchan::client(hv.domain(2), 1, PATH).unwrap();
    server.try_write(b"abc").unwrap();
    // The client claims to have consumed 10 of the 3 bytes written.
    spy.shm()
        .store_u32(VchanInterface::RIGHT_CONS.offset, 10, Ordering::SeqCst)
        .unwrap();
    assert!(matches!(
        server.try_write(b"d"),
        Err(Error::Corrupt(Corrupt::Index { .. }))
    ));
}

#[test]
fn bad_live_bytes_are_corrupt() {
    let (hv, mut server, spy) = server(ServerConfig::new(1024, 2048));
    let mut client = Vchan::client(hv.domain(2), 1, PATH).unwrap();
    spy.shm()
        .store_u8(VchanInterface::CLI_LIVE.offset, 3, Ordering::SeqCst)
        .unwrap();
    assert_eq!(server.state(), Err(Error::Corrupt(Corrupt::Live(3))));
    // A server is never "not yet connected" once the client has seen it.
    spy.shm()
        .store_u8(VchanInterface::SRV_LIVE.offset, 2, Ordering::SeqCst)
        .unwrap();
    assert_eq!(
        client.try_write(b"x"),
        Err(Error::Corrupt(Corrupt::Live(2)))
    );
}

#[test]
fn scribbled_notify_bytes_and_ring_data_are_harmless() {
    let (hv, mut server, spy) = server(ServerConfig::new(1024, 2048));
    let mut client = Vchan::client(hv.domain(2), 1, PATH).unwrap();
    for off in [
        VchanInterface::CLI_NOTIFY.offset,
        VchanInterface::SRV_NOTIFY.offset,
    ] {
        spy.shm().store_u8(off, 0xff, Ordering::SeqCst).unwrap();
    }
    client.write_all(b"payload").unwrap();
    // The peer overwrites the bytes in flight: we read what is there, nothing worse.
    spy.shm().write(1024, b"PAY").unwrap();
    let mut buf = [0u8; 7];
    server.recv(&mut buf).unwrap();
    assert_eq!(&buf, b"PAYload");
    spy.shm()
        .store_u8(VchanInterface::CLI_NOTIFY.offset, 0, Ordering::SeqCst)
        .unwrap();
    spy.shm()
        .store_u8(VchanInterface::SRV_NOTIFY.offset, 0, Ordering::SeqCst)
        .unwrap();
    // With its notify requests erased the peer is not woken, so a timeout bounds the wait.
    client.set_timeout(Some(Duration::from_millis(10)));
    assert_eq!(client.read(&mut buf), Err(Error::TimedOut));
    assert_eq!(server.state(), Ok(State::Connected));
    drop((server, client, spy));
    assert_eq!(hv.outstanding(), Outstanding::default());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn hostile_page_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        unistack_vchan::fuzzing::hostile_page(&data);
    }

    #[test]
    fn hostile_ring_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        unistack_vchan::fuzzing::hostile_ring(&data);
    }

    /// Writes aimed at the header only (indexes, orders, live and notify bytes) between
    /// reads and writes: denser coverage of the validated fields than raw bytes give.
    #[test]
    fn header_scribbles(
        writes in proptest::collection::vec((0usize..6, any::<u32>(), any::<bool>()), 1..8),
    ) {
        let (hv, mut server, spy) = server(ServerConfig::new(1024, 4096));
        let client = Vchan::client(hv.domain(2), 1, PATH);
        let mut client = client.unwrap();
        for (field, value, on_client) in writes {
            let s = spy.shm();
            match field {
                0..=3 => s.store_u32(field * 4, value, Ordering::SeqCst).unwrap(),
                4 => s.store_u16(16 + (value as usize & 1) * 2, value as u16, Ordering::SeqCst).unwrap(),
                _ => s.store_u8(20 + (value as usize & 3), (value >> 8) as u8, Ordering::SeqCst).unwrap(),
            }
            let chan = if on_client { &mut client } else { &mut server };
            let mut buf = [0u8; 600];
            for r in [chan.try_write(&[7u8; 600]), chan.try_read(&mut buf)] {
                match r {
                    Ok(n) => prop_assert!(n <= 600),
                    Err(e) => prop_assert!(matches!(
                        e,
                        Error::Corrupt(_) | Error::WouldBlock | Error::Closed
                    ), "{:?}", e),
                }
            }
        }
    }
}

/// A polling blocking call (`set_spin`) retries whenever the peer's words move; neither a
/// peer that does nothing nor one that keeps moving them without ever making the call's
/// progress possible holds it past its timeout, however large the polling budget.
#[test]
fn polling_calls_keep_their_timeout() {
    let (hv, mut server, spy) = server(ServerConfig::new(1024, 2048));
    let _client = Vchan::client(hv.domain(2), 1, PATH).unwrap();
    server.set_spin(u32::MAX); // ~50 s of polling if nothing else stopped it
    server.set_timeout(Some(Duration::from_millis(200)));
    // A peer that does nothing: the budget alone would poll for ~50 s.
    let start = std::time::Instant::now();
    assert_eq!(server.read(&mut [0u8; 8]), Err(Error::TimedOut));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    // A peer that keeps moving.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let toggler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            // The consumer index of the server's write ring: a word the server polls that
            // never makes a read possible.
            let mut v = 0u32;
            let start = std::time::Instant::now();
            while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(20) {
                v ^= 1;
                spy.shm()
                    .store_u32(VchanInterface::RIGHT_CONS.offset, v, Ordering::SeqCst)
                    .unwrap();
            }
        })
    };
    let start = std::time::Instant::now();
    let r = server.read(&mut [0u8; 8]);
    let took = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    toggler.join().unwrap();
    assert_eq!(r, Err(Error::TimedOut));
    assert!(took < Duration::from_secs(5), "held for {took:?}");
}
