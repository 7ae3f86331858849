//! The listener: bounded backlog, SYN-ACK retransmission, SYN cookies (RFC 4987).

mod common;

use std::time::Duration;

use common::*;
use unistack_ipv4::Ipv4Address;
use unistack_tcp::{
    Config, Control, CookieMode, ListenOutcome, Listener, OptionsRepr, Outcome, SeqNumber, Socket,
    State, TcpRepr,
};

fn bare(control: Control, seq: u32, ack: Option<SeqNumber>) -> TcpRepr<'static> {
    TcpRepr {
        src_port: RPORT,
        dst_port: LPORT,
        control,
        push: false,
        ece: false,
        cwr: false,
        ae: false,
        seq_number: SeqNumber(seq),
        ack_number: ack,
        window_len: 65535,
        urgent: None,
        options: OptionsRepr::default(),
        payload: &[],
    }
}

fn syn_from(port: u16, seq: u32) -> TcpRepr<'static> {
    let mut r = bare(Control::Syn, seq, None);
    r.src_port = port;
    r.options.max_seg_size = Some(1460);
    r
}

fn ack_for(synack: &TcpRepr<'_>, tsecr: Option<u32>) -> TcpRepr<'static> {
    let mut r = bare(
        Control::None,
        synack.ack_number.unwrap().0,
        Some(synack.seq_number + 1),
    );
    r.src_port = synack.dst_port;
    r.options.timestamp = tsecr.map(|e| (5000, e));
    r
}

fn listener(backlog: &mut [Option<unistack_tcp::HalfOpen>], cfg: Config) -> Listener<'_> {
    Listener::new(LOCAL, LPORT, backlog, 65536, cfg, key())
}

const T0: Duration = Duration::from_secs(500);

#[test]
fn backlog_is_bounded_and_overflow_is_dropped_without_cookies() {
    let mut slots = [None; 2];
    let mut l = listener(&mut slots, plain());
    l.set_cookie_mode(CookieMode::Never);
    for port in [1001, 1002] {
        assert!(matches!(
            l.handle_segment(T0, REMOTE, LOCAL, &syn_from(port, 7)),
            ListenOutcome::Reply(_)
        ));
    }
    assert_eq!(l.half_open(), 2);
    assert_eq!(
        l.handle_segment(T0, REMOTE, LOCAL, &syn_from(1003, 7)),
        ListenOutcome::Dropped
    );
    assert_eq!(l.stats().backlog_overflows, 1);
}

#[test]
fn full_backlog_answers_with_cookies_that_complete_the_handshake() {
    let mut slots = [None; 1];
    let mut l = listener(&mut slots, plain());
    l.handle_segment(T0, REMOTE, LOCAL, &syn_from(1001, 7));
    let ListenOutcome::Reply(sa) = l.handle_segment(T0, REMOTE, LOCAL, &syn_from(1002, 9)) else {
        panic!()
    };
    assert_eq!(l.half_open(), 1, "the cookie SYN-ACK kept no state");
    assert_eq!(l.stats().cookies_sent, 1);
    assert_eq!(sa.repr.control, Control::Syn);
    assert_eq!(sa.repr.ack_number, Some(SeqNumber(10)));
    let ack = ack_for(&sa.repr, None);
    let ListenOutcome::Accept(hs) =
        l.handle_segment(T0 + Duration::from_millis(3), REMOTE, LOCAL, &ack)
    else {
        panic!("cookie refused")
    };
    assert_eq!(hs.peer_mss, 1460);
    assert_eq!(
        hs.window_scale, None,
        "no timestamps: options cannot be carried"
    );
    assert!(!hs.sack);
    assert_eq!(l.stats().cookies_accepted, 1);
    // The accepted socket works.
    let mut sock = Socket::new(vec![0; 4096], vec![0; 4096], plain());
    sock.accept(T0, &hs).unwrap();
    assert_eq!(
        sock.handle_segment(T0, REMOTE, LOCAL, &ack),
        Outcome::Accepted
    );
    assert_eq!(sock.state(), State::Established);
}

#[test]
fn forged_cookies_get_a_reset() {
    let mut slots = [None; 1];
    let mut l = listener(&mut slots, plain());
    l.set_cookie_mode(CookieMode::Always);
    let ListenOutcome::Reply(sa) = l.handle_segment(T0, REMOTE, LOCAL, &syn_from(1002, 9)) else {
        panic!()
    };
    let mut ack = ack_for(&sa.repr, None);
    ack.ack_number = Some(sa.repr.seq_number + 2);
    let ListenOutcome::Reply(rst) = l.handle_segment(T0, REMOTE, LOCAL, &ack) else {
        panic!()
    };
    assert_eq!(rst.repr.control, Control::Rst);
    assert_eq!(
        rst.repr.seq_number,
        sa.repr.seq_number + 2,
        "RST <SEQ=SEG.ACK>"
    );
    assert_eq!(l.stats().cookies_rejected, 1);
    // Too late: cookies expire after two 64-second periods.
    let ack = ack_for(&sa.repr, None);
    assert!(matches!(
        l.handle_segment(T0 + Duration::from_secs(200), REMOTE, LOCAL, &ack),
        ListenOutcome::Reply(_)
    ));
    // From another address: the cookie is bound to the 4-tuple.
    let other = Ipv4Address::new(192, 0, 2, 99);
    assert!(matches!(
        l.handle_segment(T0, other, LOCAL, &ack),
        ListenOutcome::Reply(_)
    ));
    assert_eq!(l.stats().cookies_accepted, 0);
}

#[test]
fn cookies_carry_window_scale_and_sack_in_timestamps() {
    let cfg = Config::default();
    let mut slots = [None; 1];
    let mut l = listener(&mut slots, cfg);
    l.set_cookie_mode(CookieMode::Always);
    let mut syn = syn_from(1005, 77);
    syn.options.window_scale = Some(7);
    syn.options.sack_permitted = true;
    syn.options.timestamp = Some((4000, 0));
    let ListenOutcome::Reply(sa) = l.handle_segment(T0, REMOTE, LOCAL, &syn) else {
        panic!()
    };
    let o = sa.repr.options;
    assert_eq!(o.window_scale, Some(1));
    assert!(o.sack_permitted);
    let (tsval, tsecr) = o.timestamp.unwrap();
    assert_eq!(tsecr, 4000);
    let ack = ack_for(&sa.repr, Some(tsval));
    let ListenOutcome::Accept(hs) = l.handle_segment(T0, REMOTE, LOCAL, &ack) else {
        panic!()
    };
    assert_eq!(hs.window_scale, Some((7, 1)));
    assert!(hs.sack);
    assert_eq!(hs.ts_recent, Some(5000));
}

#[test]
fn syn_ack_is_retransmitted_then_the_entry_expires() {
    let cfg = Config {
        syn_retries: 2,
        ..plain()
    };
    let mut slots = [None; 1];
    let mut l = listener(&mut slots, cfg);
    let ListenOutcome::Reply(first) = l.handle_segment(T0, REMOTE, LOCAL, &syn_from(1001, 7))
    else {
        panic!()
    };
    assert_eq!(l.poll_timeout(), Some(T0 + Duration::from_secs(1)));
    assert!(l.poll_transmit(T0).is_none());
    let again = l.poll_transmit(T0 + Duration::from_secs(1)).unwrap();
    assert_eq!(again.repr.seq_number, first.repr.seq_number);
    assert_eq!(
        l.poll_timeout(),
        Some(T0 + Duration::from_secs(3)),
        "backed off to 2 s"
    );
    assert!(l.poll_transmit(T0 + Duration::from_secs(3)).is_some());
    assert_eq!(
        l.poll_timeout(),
        Some(T0 + Duration::from_secs(7)),
        "then 4 s"
    );
    assert!(l.poll_transmit(T0 + Duration::from_secs(20)).is_none());
    assert_eq!(l.half_open(), 0);
    assert_eq!(l.stats().expired, 1);
    // A retransmitted SYN while half-open is answered from the entry, not duplicated.
    let ListenOutcome::Reply(a) = l.handle_segment(T0, REMOTE, LOCAL, &syn_from(1001, 7)) else {
        panic!()
    };
    let ListenOutcome::Reply(b) = l.handle_segment(T0, REMOTE, LOCAL, &syn_from(1001, 7)) else {
        panic!()
    };
    assert_eq!(a.repr.seq_number, b.repr.seq_number);
    assert_eq!(l.half_open(), 1);
}

#[test]
fn only_an_exact_reset_clears_a_half_open_entry() {
    let mut slots = [None; 1];
    let mut l = listener(&mut slots, plain());
    l.handle_segment(T0, REMOTE, LOCAL, &syn_from(1001, 7));
    let mut rst = syn_from(1001, 100);
    rst.control = Control::Rst;
    rst.options = Default::default();
    l.handle_segment(T0, REMOTE, LOCAL, &rst);
    assert_eq!(l.half_open(), 1);
    rst.seq_number = SeqNumber(8);
    l.handle_segment(T0, REMOTE, LOCAL, &rst);
    assert_eq!(l.half_open(), 0);
}

#[test]
fn stray_segments_get_resets_and_other_ports_are_not_ours() {
    let mut slots = [None; 1];
    let mut l = listener(&mut slots, plain());
    let mut ack = syn_from(1001, 7);
    ack.control = Control::None;
    ack.ack_number = Some(SeqNumber(1234));
    l.set_cookie_mode(CookieMode::Never);
    let ListenOutcome::Reply(r) = l.handle_segment(T0, REMOTE, LOCAL, &ack) else {
        panic!()
    };
    assert_eq!(
        (r.repr.control, r.repr.seq_number),
        (Control::Rst, SeqNumber(1234))
    );
    let mut other = syn_from(1001, 7);
    other.dst_port = LPORT + 1;
    assert_eq!(
        l.handle_segment(T0, REMOTE, LOCAL, &other),
        ListenOutcome::NotMine
    );
}

#[test]
fn ecn_setup_syns_are_answered_from_the_backlog_but_not_with_a_cookie() {
    // RFC 3168 6.1.1: a SYN with ECE and CWR asks; the SYN-ACK answers with ECE alone.
    for cookies in [CookieMode::Never, CookieMode::Always] {
        let mut slots = [None; 2];
        let mut l = listener(&mut slots, plain());
        l.set_cookie_mode(cookies);
        let mut syn = syn_from(1010, 5);
        syn.ece = true;
        syn.cwr = true;
        let ListenOutcome::Reply(sa) = l.handle_segment(T0, REMOTE, LOCAL, &syn) else {
            panic!()
        };
        let with_backlog = cookies == CookieMode::Never;
        assert_eq!(sa.repr.ece, with_backlog, "{cookies:?}");
        assert!(!sa.repr.cwr && !sa.ect);
        let ListenOutcome::Accept(hs) =
            l.handle_segment(T0, REMOTE, LOCAL, &ack_for(&sa.repr, None))
        else {
            panic!()
        };
        assert_eq!(
            hs.ecn, with_backlog,
            "a cookie cannot remember ECN: {cookies:?}"
        );
    }
    // ECE alone (or CWR alone) is not a request.
    let mut slots = [None; 2];
    let mut l = listener(&mut slots, plain());
    let mut syn = syn_from(1011, 5);
    syn.ece = true;
    let ListenOutcome::Reply(sa) = l.handle_segment(T0, REMOTE, LOCAL, &syn) else {
        panic!()
    };
    assert!(!sa.repr.ece);
}
