//! The derives from another crate: renamed dependency, no prelude, no_std-only features.

/// Everything here resolves without the prelude: the expansion must use absolute paths only.
#[no_implicit_prelude]
mod no_prelude {
    use ::wire::{CEnum, Cstruct};

    #[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq)]
    #[cenum(crate = ::wire)]
    #[repr(u16)]
    pub enum Op {
        Request = 1,
        Reply = 2,
        Other(u16),
    }

    #[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
    #[cstruct(crate = ::wire, view = Packet, header_len = hlen * 2, total_len = len)]
    pub struct Header {
        pub op: Op,
        #[bits(4)]
        pub hlen: u8,
        #[bits(4)]
        pub kind: u8,
        pub len: u8,
        #[cstruct(little)]
        pub id: u32,
        pub mac: [u8; 6],
    }
}

use no_prelude::{Header, Op, Packet};

#[test]
fn derive_expands_without_the_prelude_and_under_a_renamed_crate() {
    let bytes = [
        0, 2, 0x71, 16, 1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 0xaa, 0xbb, 0xcc,
    ];
    let p = Packet::new_checked(&bytes[..]).unwrap();
    assert_eq!(p.op(), Op::Reply);
    assert_eq!(p.hlen(), 7);
    assert_eq!(p.header_len(), 14);
    assert_eq!(p.packet_len(), 16);
    assert_eq!(p.id(), 1);
    assert_eq!(p.payload(), &[0xaa, 0xbb]);
    assert_eq!(Op::from_raw(9), Op::Other(9));
    assert_eq!(Header::SIZE, 14);
    let h = p.decode();
    assert_eq!(h.mac, [1, 2, 3, 4, 5, 6]);
    assert_eq!(&h.to_bytes()[..], &bytes[..14]);
    assert_eq!(
        Packet::new_checked(&bytes[..15]),
        Err(wire::Error::Truncated {
            needed: 16,
            got: 15
        })
    );
}

#[test]
fn no_std_probe_parses() {
    let mut b = [0u8; 20];
    b[0] = 0x4a; // hlen 4 (16 bytes: 13 fixed + 3 of options), flag 1, kind 2
    b[1..3].copy_from_slice(&18u16.to_be_bytes());
    b[16] = 0xab;
    b[17] = 0xcd;
    assert_eq!(unistack_tests::probe_payload(&b), Ok(&[0xab, 0xcd][..]));
    let v = unistack_tests::ProbeView::new_checked(&b[..]).unwrap();
    assert!(v.flag());
    assert_eq!(v.kind(), unistack_tests::ProbeKind::Other(2));
    assert!(unistack_tests::probe_payload(&b[..17]).is_err());
}
