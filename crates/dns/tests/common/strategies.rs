//! proptest strategies shared by the property and differential tests: names, and records
//! of every RDATA type with owned storage.

use proptest::prelude::*;
use unistack_dns::{
    Algorithm, Caa, Class, DigestType, Dnskey, Ds, Hinfo, Mx, NameBuf, Nsec, Nsec3,
    Nsec3HashAlgorithm, RData, RecordType, Rrsig, Section, Soa, Srv, Txt, TypeBitmaps,
};

/// Names over a tiny alphabet, so that suffixes repeat and compression kicks in; mixed case.
pub fn name() -> impl Strategy<Value = NameBuf> {
    prop::collection::vec(
        prop::collection::vec(prop::sample::select(b"abAB-".to_vec()), 1..4),
        0..5,
    )
    .prop_map(|labels| NameBuf::from_labels(labels).unwrap())
}

/// Labels of arbitrary octets, up to the 255-octet limit.
pub fn any_name() -> impl Strategy<Value = NameBuf> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 1..=63), 0..8).prop_map(|labels| {
        let mut out = NameBuf::root();
        for l in labels.iter().rev() {
            if out.prepend_label(l).is_err() {
                break;
            }
        }
        out
    })
}

pub fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

pub fn types() -> impl Strategy<Value = Vec<u16>> {
    prop::collection::vec(prop_oneof![0u16..64, 250u16..260, any::<u16>()], 0..8)
}

/// RDATA with owned storage; [`Owned::rdata`] borrows it.
// Test data: size does not matter, keeping names inline keeps `rdata()` simple.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Owned {
    A([u8; 4]),
    Aaaa([u8; 16]),
    Ns(NameBuf),
    Cname(NameBuf),
    Ptr(NameBuf),
    Soa(NameBuf, NameBuf, [u32; 5]),
    Mx(u16, NameBuf),
    Txt(Vec<u8>),
    Srv([u16; 3], NameBuf),
    Caa(u8, Vec<u8>, Vec<u8>),
    Hinfo(Vec<u8>, Vec<u8>),
    Ds(u16, u8, u8, Vec<u8>),
    Dnskey(u16, u8, u8, Vec<u8>),
    Rrsig(u16, u8, u8, [u32; 3], u16, NameBuf, Vec<u8>),
    Nsec(NameBuf, Vec<u8>),
    Nsec3(u8, u8, u16, Vec<u8>, Vec<u8>, Vec<u8>),
    Unknown(u16, Vec<u8>),
}

pub fn bitmaps(t: &[u16]) -> Vec<u8> {
    let types: Vec<RecordType> = t.iter().map(|&v| RecordType::from_raw(v)).collect();
    let mut out = vec![0u8; 8704];
    let len = TypeBitmaps::encode(&types, &mut out)
        .unwrap()
        .as_wire()
        .len();
    out.truncate(len);
    out
}

pub fn owned() -> impl Strategy<Value = Owned> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(Owned::A),
        any::<[u8; 16]>().prop_map(Owned::Aaaa),
        name().prop_map(Owned::Ns),
        name().prop_map(Owned::Cname),
        any_name().prop_map(Owned::Ptr),
        (name(), name(), any::<[u32; 5]>()).prop_map(|(m, r, f)| Owned::Soa(m, r, f)),
        (any::<u16>(), name()).prop_map(|(p, n)| Owned::Mx(p, n)),
        prop::collection::vec(bytes(40), 0..4).prop_map(|strings| {
            let mut out = vec![0u8; 200];
            let len = Txt::encode(&strings, &mut out).unwrap().as_wire().len();
            out.truncate(len);
            Owned::Txt(out)
        }),
        (any::<[u16; 3]>(), name()).prop_map(|(f, n)| Owned::Srv(f, n)),
        (
            any::<u8>(),
            prop::collection::vec(prop::sample::select(b"abcxyz019".to_vec()), 1..16),
            bytes(40)
        )
            .prop_map(|(f, t, v)| Owned::Caa(f, t, v)),
        (bytes(40), bytes(40)).prop_map(|(c, o)| Owned::Hinfo(c, o)),
        (any::<u16>(), any::<u8>(), any::<u8>(), bytes(48))
            .prop_map(|(k, a, d, g)| Owned::Ds(k, a, d, g)),
        (any::<u16>(), any::<u8>(), any::<u8>(), bytes(64))
            .prop_map(|(f, p, a, k)| Owned::Dnskey(f, p, a, k)),
        (
            any::<u16>(),
            any::<u8>(),
            any::<u8>(),
            any::<[u32; 3]>(),
            any::<u16>(),
            name(),
            bytes(64)
        )
            .prop_map(|(t, a, l, times, k, n, s)| Owned::Rrsig(t, a, l, times, k, n, s)),
        (name(), types()).prop_map(|(n, t)| Owned::Nsec(n, bitmaps(&t))),
        (
            any::<u8>(),
            any::<u8>(),
            any::<u16>(),
            bytes(20),
            prop::collection::vec(any::<u8>(), 1..32),
            types()
        )
            .prop_map(|(h, f, i, s, n, t)| Owned::Nsec3(h, f, i, s, n, bitmaps(&t))),
        // Private-use types (hickory claims 65305 for its ANAME draft: stay below).
        (65280u16..=65304, bytes(40)).prop_map(|(t, d)| Owned::Unknown(t, d)),
    ]
}

impl Owned {
    pub fn rdata(&self) -> RData<'_, NameBuf> {
        match self {
            Owned::A(a) => RData::A((*a).into()),
            Owned::Aaaa(a) => RData::Aaaa((*a).into()),
            Owned::Ns(n) => RData::Ns(*n),
            Owned::Cname(n) => RData::Cname(*n),
            Owned::Ptr(n) => RData::Ptr(*n),
            Owned::Soa(m, r, f) => RData::Soa(Soa {
                mname: *m,
                rname: *r,
                serial: f[0],
                refresh: f[1],
                retry: f[2],
                expire: f[3],
                minimum: f[4],
            }),
            Owned::Mx(p, n) => RData::Mx(Mx {
                preference: *p,
                exchange: *n,
            }),
            Owned::Txt(w) => RData::Txt(Txt::from_wire(w).unwrap()),
            Owned::Srv(f, n) => RData::Srv(Srv {
                priority: f[0],
                weight: f[1],
                port: f[2],
                target: *n,
            }),
            Owned::Caa(f, t, v) => RData::Caa(Caa {
                flags: *f,
                tag: t,
                value: v,
            }),
            Owned::Hinfo(c, o) => RData::Hinfo(Hinfo { cpu: c, os: o }),
            Owned::Ds(k, a, d, g) => RData::Ds(Ds {
                key_tag: *k,
                algorithm: Algorithm::from_raw(*a),
                digest_type: DigestType::from_raw(*d),
                digest: g,
            }),
            Owned::Dnskey(f, p, a, k) => RData::Dnskey(Dnskey {
                flags: *f,
                protocol: *p,
                algorithm: Algorithm::from_raw(*a),
                public_key: k,
            }),
            Owned::Rrsig(t, a, l, times, k, n, s) => RData::Rrsig(Rrsig {
                type_covered: RecordType::from_raw(*t),
                algorithm: Algorithm::from_raw(*a),
                labels: *l,
                original_ttl: times[0],
                expiration: times[1],
                inception: times[2],
                key_tag: *k,
                signer_name: *n,
                signature: s,
            }),
            Owned::Nsec(n, b) => RData::Nsec(Nsec {
                next_domain: *n,
                types: TypeBitmaps::from_wire(b).unwrap(),
            }),
            Owned::Nsec3(h, f, i, s, n, b) => RData::Nsec3(Nsec3 {
                hash_algorithm: Nsec3HashAlgorithm::from_raw(*h),
                flags: *f,
                iterations: *i,
                salt: s,
                next_hashed: n,
                types: TypeBitmaps::from_wire(b).unwrap(),
            }),
            Owned::Unknown(t, d) => RData::Unknown {
                rtype: RecordType::from_raw(*t),
                data: d,
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct Rec {
    pub section: Section,
    pub name: NameBuf,
    pub class: Class,
    pub ttl: u32,
    pub data: Owned,
}

pub fn rec() -> impl Strategy<Value = Rec> {
    (
        prop::sample::select(vec![
            Section::Answer,
            Section::Authority,
            Section::Additional,
        ]),
        name(),
        prop_oneof![Just(Class::In), Just(Class::Ch), Just(Class::Unknown(1232))],
        any::<u32>(),
        owned(),
    )
        .prop_map(|(section, name, class, ttl, data)| {
            // A and AAAA are typed in class IN only.
            let class = match data {
                Owned::A(_) | Owned::Aaaa(_) => Class::In,
                _ => class,
            };
            Rec {
                section,
                name,
                class,
                ttl,
                data,
            }
        })
}

pub fn recs() -> impl Strategy<Value = Vec<Rec>> {
    prop::collection::vec(rec(), 0..12).prop_map(|mut v| {
        v.sort_by_key(|r| r.section);
        v
    })
}

/// Check that a parsed record is the one pushed.
pub fn same(parsed: &unistack_dns::Record<'_>, want: &Rec) -> Result<(), TestCaseError> {
    prop_assert_eq!(parsed.section(), want.section);
    prop_assert_eq!(parsed.name(), want.name.as_name());
    prop_assert_eq!(parsed.class(), want.class);
    prop_assert_eq!(parsed.ttl(), want.ttl);
    let rdata = parsed
        .rdata()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(rdata.map_names(|n| n.to_name_buf()), want.data.rdata());
    Ok(())
}
