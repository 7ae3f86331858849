//! The fixed wire layouts and code points of DNS, each declared once through the derives.
//!
//! Variable-length parts (names, character-strings, option lists, type bitmaps) are walked by
//! the modules that use them; every fixed-size part is a layout here, read and written through
//! its generated view or [`Field`](unistack_cstruct::Field) impl.

use unistack_cstruct::{CEnum, Cstruct};

/// A DNS opcode (RFC 1035 4.1.1, IANA "DNS OPCODEs"): 4 bits in the header.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Opcode {
    /// A standard query.
    #[cenum(display = "QUERY")]
    Query = 0,
    /// An inverse query (obsolete, RFC 3425).
    #[cenum(display = "IQUERY")]
    IQuery = 1,
    /// A server status request.
    #[cenum(display = "STATUS")]
    Status = 2,
    /// A zone change notification (RFC 1996).
    #[cenum(display = "NOTIFY")]
    Notify = 4,
    /// A dynamic update (RFC 2136).
    #[cenum(display = "UPDATE")]
    Update = 5,
    /// DNS stateful operations (RFC 8490).
    #[cenum(display = "DSO")]
    Dso = 6,
    /// Any other value.
    Unknown(u8),
}

/// A response code (RFC 1035 4.1.1, RFC 6891 6.1.3): 4 bits in the header, extended to 12 bits
/// by the OPT record.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum Rcode {
    /// No error.
    #[cenum(display = "NOERROR")]
    NoError = 0,
    /// The server could not interpret the query.
    #[cenum(display = "FORMERR")]
    FormErr = 1,
    /// The server failed to process the query.
    #[cenum(display = "SERVFAIL")]
    ServFail = 2,
    /// The name does not exist.
    #[cenum(display = "NXDOMAIN")]
    NxDomain = 3,
    /// The kind of query is not implemented.
    #[cenum(display = "NOTIMP")]
    NotImp = 4,
    /// The server refuses to answer.
    #[cenum(display = "REFUSED")]
    Refused = 5,
    /// A name exists that should not (RFC 2136).
    #[cenum(display = "YXDOMAIN")]
    YxDomain = 6,
    /// An RRset exists that should not (RFC 2136).
    #[cenum(display = "YXRRSET")]
    YxRrset = 7,
    /// An RRset that should exist does not (RFC 2136).
    #[cenum(display = "NXRRSET")]
    NxRrset = 8,
    /// The server is not authoritative for the zone (RFC 2136), or the request is not
    /// authorized (RFC 8945).
    #[cenum(display = "NOTAUTH")]
    NotAuth = 9,
    /// A name is not in the zone (RFC 2136).
    #[cenum(display = "NOTZONE")]
    NotZone = 10,
    /// The DSO-TYPE is not implemented (RFC 8490).
    #[cenum(display = "DSOTYPENI")]
    DsoTypeNi = 11,
    /// Bad OPT version (RFC 6891); also BADSIG in TSIG (RFC 8945).
    #[cenum(display = "BADVERS")]
    BadVers = 16,
    /// The key is not recognised (RFC 8945).
    #[cenum(display = "BADKEY")]
    BadKey = 17,
    /// The signature is out of its time window (RFC 8945).
    #[cenum(display = "BADTIME")]
    BadTime = 18,
    /// Bad TKEY mode (RFC 2930).
    #[cenum(display = "BADMODE")]
    BadMode = 19,
    /// Duplicate key name (RFC 2930).
    #[cenum(display = "BADNAME")]
    BadName = 20,
    /// Algorithm not supported (RFC 2930).
    #[cenum(display = "BADALG")]
    BadAlg = 21,
    /// Bad truncation (RFC 8945).
    #[cenum(display = "BADTRUNC")]
    BadTrunc = 22,
    /// Bad or missing server cookie (RFC 7873).
    #[cenum(display = "BADCOOKIE")]
    BadCookie = 23,
    /// Any other value.
    Unknown(u16),
}

impl Rcode {
    /// The low four bits, which go in the header.
    pub const fn low_bits(self) -> u8 {
        (self.to_raw() & 0x0f) as u8
    }

    /// The high eight bits of the 12-bit code, which go in the OPT record's TTL field.
    pub const fn ext_bits(self) -> u8 {
        ((self.to_raw() >> 4) & 0xff) as u8
    }

    /// Combine the header's four bits with the OPT record's eight.
    pub fn from_parts(header: Rcode, ext: u8) -> Rcode {
        Rcode::from_raw((u16::from(ext) << 4) | u16::from(header.low_bits()))
    }
}

/// A CLASS or QCLASS (RFC 1035 3.2.4, 3.2.5, RFC 2136).
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum Class {
    /// The Internet.
    #[cenum(display = "IN")]
    In = 1,
    /// Chaos.
    #[cenum(display = "CH")]
    Ch = 3,
    /// Hesiod.
    #[cenum(display = "HS")]
    Hs = 4,
    /// NONE (RFC 2136 updates).
    #[cenum(display = "NONE")]
    None = 254,
    /// ANY (QCLASS `*`).
    #[cenum(display = "ANY")]
    Any = 255,
    /// Any other value (and an OPT record's UDP payload size).
    Unknown(u16),
}

/// A TYPE or QTYPE (IANA "Resource Record (RR) TYPEs").
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum RecordType {
    /// An IPv4 host address (RFC 1035).
    #[cenum(display = "A")]
    A = 1,
    /// An authoritative name server (RFC 1035).
    #[cenum(display = "NS")]
    Ns = 2,
    /// A mail destination (obsolete).
    #[cenum(display = "MD")]
    Md = 3,
    /// A mail forwarder (obsolete).
    #[cenum(display = "MF")]
    Mf = 4,
    /// The canonical name for an alias (RFC 1035).
    #[cenum(display = "CNAME")]
    Cname = 5,
    /// The start of a zone of authority (RFC 1035).
    #[cenum(display = "SOA")]
    Soa = 6,
    /// A mailbox domain name (experimental).
    #[cenum(display = "MB")]
    Mb = 7,
    /// A mail group member (experimental).
    #[cenum(display = "MG")]
    Mg = 8,
    /// A mail rename domain name (experimental).
    #[cenum(display = "MR")]
    Mr = 9,
    /// A null RR (experimental).
    #[cenum(display = "NULL")]
    Null = 10,
    /// A well known service description (RFC 1035).
    #[cenum(display = "WKS")]
    Wks = 11,
    /// A domain name pointer (RFC 1035).
    #[cenum(display = "PTR")]
    Ptr = 12,
    /// Host information (RFC 1035, RFC 8482).
    #[cenum(display = "HINFO")]
    Hinfo = 13,
    /// Mailbox or mail list information (experimental).
    #[cenum(display = "MINFO")]
    Minfo = 14,
    /// Mail exchange (RFC 1035).
    #[cenum(display = "MX")]
    Mx = 15,
    /// Text strings (RFC 1035).
    #[cenum(display = "TXT")]
    Txt = 16,
    /// Responsible person (RFC 1183).
    #[cenum(display = "RP")]
    Rp = 17,
    /// AFS database location (RFC 1183).
    #[cenum(display = "AFSDB")]
    Afsdb = 18,
    /// Security signature (RFC 2535, SIG(0) in RFC 2931).
    #[cenum(display = "SIG")]
    Sig = 24,
    /// Security key (RFC 2535).
    #[cenum(display = "KEY")]
    Key = 25,
    /// An IPv6 host address (RFC 3596).
    #[cenum(display = "AAAA")]
    Aaaa = 28,
    /// Location information (RFC 1876).
    #[cenum(display = "LOC")]
    Loc = 29,
    /// Server selection (RFC 2782).
    #[cenum(display = "SRV")]
    Srv = 33,
    /// Naming authority pointer (RFC 3403).
    #[cenum(display = "NAPTR")]
    Naptr = 35,
    /// Key exchanger (RFC 2230).
    #[cenum(display = "KX")]
    Kx = 36,
    /// A certificate (RFC 4398).
    #[cenum(display = "CERT")]
    Cert = 37,
    /// Delegation name (RFC 6672).
    #[cenum(display = "DNAME")]
    Dname = 39,
    /// The EDNS(0) pseudo-record (RFC 6891).
    #[cenum(display = "OPT")]
    Opt = 41,
    /// Address prefix list (RFC 3123).
    #[cenum(display = "APL")]
    Apl = 42,
    /// Delegation signer (RFC 4034).
    #[cenum(display = "DS")]
    Ds = 43,
    /// SSH key fingerprint (RFC 4255).
    #[cenum(display = "SSHFP")]
    Sshfp = 44,
    /// IPsec keying material (RFC 4025).
    #[cenum(display = "IPSECKEY")]
    Ipseckey = 45,
    /// A DNSSEC signature (RFC 4034).
    #[cenum(display = "RRSIG")]
    Rrsig = 46,
    /// Next secure record (RFC 4034).
    #[cenum(display = "NSEC")]
    Nsec = 47,
    /// A DNSSEC public key (RFC 4034).
    #[cenum(display = "DNSKEY")]
    Dnskey = 48,
    /// DHCP identifier (RFC 4701).
    #[cenum(display = "DHCID")]
    Dhcid = 49,
    /// Hashed next secure record (RFC 5155).
    #[cenum(display = "NSEC3")]
    Nsec3 = 50,
    /// NSEC3 parameters (RFC 5155).
    #[cenum(display = "NSEC3PARAM")]
    Nsec3param = 51,
    /// TLS certificate association (RFC 6698).
    #[cenum(display = "TLSA")]
    Tlsa = 52,
    /// S/MIME certificate association (RFC 8162).
    #[cenum(display = "SMIMEA")]
    Smimea = 53,
    /// Host identity protocol (RFC 8005).
    #[cenum(display = "HIP")]
    Hip = 55,
    /// Child DS (RFC 7344).
    #[cenum(display = "CDS")]
    Cds = 59,
    /// Child DNSKEY (RFC 7344).
    #[cenum(display = "CDNSKEY")]
    Cdnskey = 60,
    /// OpenPGP key (RFC 7929).
    #[cenum(display = "OPENPGPKEY")]
    Openpgpkey = 61,
    /// Child-to-parent synchronization (RFC 7477).
    #[cenum(display = "CSYNC")]
    Csync = 62,
    /// Zone message digest (RFC 8976).
    #[cenum(display = "ZONEMD")]
    Zonemd = 63,
    /// Service binding (RFC 9460).
    #[cenum(display = "SVCB")]
    Svcb = 64,
    /// HTTPS service binding (RFC 9460).
    #[cenum(display = "HTTPS")]
    Https = 65,
    /// Sender policy framework (RFC 7208, obsolete as a type).
    #[cenum(display = "SPF")]
    Spf = 99,
    /// An EUI-48 address (RFC 7043).
    #[cenum(display = "EUI48")]
    Eui48 = 108,
    /// An EUI-64 address (RFC 7043).
    #[cenum(display = "EUI64")]
    Eui64 = 109,
    /// Transaction key (RFC 2930).
    #[cenum(display = "TKEY")]
    Tkey = 249,
    /// Transaction signature (RFC 8945).
    #[cenum(display = "TSIG")]
    Tsig = 250,
    /// Incremental zone transfer (RFC 1995).
    #[cenum(display = "IXFR")]
    Ixfr = 251,
    /// Zone transfer (RFC 1035).
    #[cenum(display = "AXFR")]
    Axfr = 252,
    /// Mailbox-related records (QTYPE, obsolete).
    #[cenum(display = "MAILB")]
    Mailb = 253,
    /// Mail agent records (QTYPE, obsolete).
    #[cenum(display = "MAILA")]
    Maila = 254,
    /// Every type (QTYPE `*`).
    #[cenum(display = "ANY")]
    Any = 255,
    /// A URI (RFC 7553).
    #[cenum(display = "URI")]
    Uri = 256,
    /// Certification authority authorization (RFC 8659).
    #[cenum(display = "CAA")]
    Caa = 257,
    /// Application visibility and control.
    #[cenum(display = "AVC")]
    Avc = 258,
    /// DNSSEC lookaside validation (obsolete, RFC 8749).
    #[cenum(display = "DLV")]
    Dlv = 32769,
    /// Any other value.
    Unknown(u16),
}

impl RecordType {
    /// Whether names in this type's RDATA may be compressed (RFC 3597 section 4: only the
    /// "well-known" types of RFC 1035 that this crate knows: NS, MD, MF, CNAME, SOA, MB, MG,
    /// MR, PTR, MINFO, MX).
    ///
    /// The builder compresses exactly these, and the parser follows compression pointers in
    /// exactly these; a pointer inside any other type's RDATA (SRV per RFC 2782, RRSIG's
    /// signer and NSEC's next name per RFC 4034) is [`Error::CompressedName`](crate::Error).
    pub const fn rdata_compressible(self) -> bool {
        matches!(
            self,
            RecordType::Ns
                | RecordType::Md
                | RecordType::Mf
                | RecordType::Cname
                | RecordType::Soa
                | RecordType::Mb
                | RecordType::Mg
                | RecordType::Mr
                | RecordType::Ptr
                | RecordType::Minfo
                | RecordType::Mx
        )
    }

    /// Whether this is a meta-type or QTYPE that never appears as data (OPT, TKEY, TSIG,
    /// IXFR, AXFR, MAILB, MAILA, ANY, and the range 128..=255 RFC 6895 reserves for them).
    pub const fn is_meta(self) -> bool {
        let raw = self.to_raw();
        raw == 41 || (raw >= 128 && raw <= 255)
    }
}

/// An EDNS(0) option code (IANA "DNS EDNS0 Option Codes").
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum OptionCode {
    /// Long-lived queries (RFC 8764).
    #[cenum(display = "LLQ")]
    Llq = 1,
    /// Update lease.
    #[cenum(display = "UL")]
    UpdateLease = 2,
    /// Name server identifier (RFC 5001).
    #[cenum(display = "NSID")]
    Nsid = 3,
    /// DNSSEC algorithm understood (RFC 6975).
    #[cenum(display = "DAU")]
    Dau = 5,
    /// DS hash understood (RFC 6975).
    #[cenum(display = "DHU")]
    Dhu = 6,
    /// NSEC3 hash understood (RFC 6975).
    #[cenum(display = "N3U")]
    N3u = 7,
    /// Client subnet (RFC 7871).
    #[cenum(display = "CLIENT-SUBNET")]
    ClientSubnet = 8,
    /// Zone expiry (RFC 7314).
    #[cenum(display = "EXPIRE")]
    Expire = 9,
    /// DNS cookie (RFC 7873).
    #[cenum(display = "COOKIE")]
    Cookie = 10,
    /// TCP keepalive (RFC 7828).
    #[cenum(display = "TCP-KEEPALIVE")]
    TcpKeepalive = 11,
    /// Padding (RFC 7830).
    #[cenum(display = "PADDING")]
    Padding = 12,
    /// CHAIN query (RFC 7901).
    #[cenum(display = "CHAIN")]
    Chain = 13,
    /// Key tag (RFC 8145).
    #[cenum(display = "KEY-TAG")]
    KeyTag = 14,
    /// Extended DNS error (RFC 8914).
    #[cenum(display = "EDE")]
    ExtendedError = 15,
    /// Report channel (RFC 9567).
    #[cenum(display = "REPORT-CHANNEL")]
    ReportChannel = 18,
    /// Zone version (RFC 9660).
    #[cenum(display = "ZONEVERSION")]
    ZoneVersion = 19,
    /// Any other value.
    Unknown(u16),
}

/// A DNSSEC algorithm number (IANA "DNS Security Algorithm Numbers").
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Algorithm {
    /// RSA/MD5 (deprecated).
    #[cenum(display = "RSAMD5")]
    RsaMd5 = 1,
    /// Diffie-Hellman.
    #[cenum(display = "DH")]
    Dh = 2,
    /// DSA/SHA-1.
    #[cenum(display = "DSA")]
    Dsa = 3,
    /// RSA/SHA-1.
    #[cenum(display = "RSASHA1")]
    RsaSha1 = 5,
    /// DSA/SHA-1 for NSEC3 zones.
    #[cenum(display = "DSA-NSEC3-SHA1")]
    DsaNsec3Sha1 = 6,
    /// RSA/SHA-1 for NSEC3 zones.
    #[cenum(display = "RSASHA1-NSEC3-SHA1")]
    RsaSha1Nsec3Sha1 = 7,
    /// RSA/SHA-256.
    #[cenum(display = "RSASHA256")]
    RsaSha256 = 8,
    /// RSA/SHA-512.
    #[cenum(display = "RSASHA512")]
    RsaSha512 = 10,
    /// GOST R 34.10-2001.
    #[cenum(display = "ECC-GOST")]
    EccGost = 12,
    /// ECDSA P-256 with SHA-256.
    #[cenum(display = "ECDSAP256SHA256")]
    EcdsaP256Sha256 = 13,
    /// ECDSA P-384 with SHA-384.
    #[cenum(display = "ECDSAP384SHA384")]
    EcdsaP384Sha384 = 14,
    /// Ed25519.
    #[cenum(display = "ED25519")]
    Ed25519 = 15,
    /// Ed448.
    #[cenum(display = "ED448")]
    Ed448 = 16,
    /// Reserved for indirect keys.
    #[cenum(display = "INDIRECT")]
    Indirect = 252,
    /// Private algorithm identified by a domain name.
    #[cenum(display = "PRIVATEDNS")]
    PrivateDns = 253,
    /// Private algorithm identified by an OID.
    #[cenum(display = "PRIVATEOID")]
    PrivateOid = 254,
    /// Any other value.
    Unknown(u8),
}

/// A DS digest type (IANA "Delegation Signer (DS) Resource Record (RR) Type Digest
/// Algorithms").
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum DigestType {
    /// SHA-1.
    #[cenum(display = "SHA-1")]
    Sha1 = 1,
    /// SHA-256.
    #[cenum(display = "SHA-256")]
    Sha256 = 2,
    /// GOST R 34.11-94.
    #[cenum(display = "GOST")]
    Gost = 3,
    /// SHA-384.
    #[cenum(display = "SHA-384")]
    Sha384 = 4,
    /// Any other value.
    Unknown(u8),
}

/// An NSEC3 hash algorithm (RFC 5155).
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Nsec3HashAlgorithm {
    /// SHA-1.
    #[cenum(display = "SHA-1")]
    Sha1 = 1,
    /// Any other value.
    Unknown(u8),
}

/// The 12-byte message header (RFC 1035 4.1.1, with RFC 2535/4035's AD and CD bits).
///
/// The view over a whole message is [`HeaderView`]; its `payload()` is the sections. The
/// server patches precompiled responses through its setters (`set_id`, `set_rd`, ...).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = HeaderView)]
pub struct Header {
    /// Identifier copied from the query into the response.
    pub id: u16,
    /// This message is a response.
    #[bits(1)]
    pub qr: bool,
    /// The kind of query.
    #[bits(4)]
    pub opcode: Opcode,
    /// Authoritative answer.
    #[bits(1)]
    pub aa: bool,
    /// Truncated.
    #[bits(1)]
    pub tc: bool,
    /// Recursion desired.
    #[bits(1)]
    pub rd: bool,
    /// Recursion available.
    #[bits(1)]
    pub ra: bool,
    /// Reserved, zero.
    #[bits(1)]
    pub z: bool,
    /// Authentic data (RFC 4035).
    #[bits(1)]
    pub ad: bool,
    /// Checking disabled (RFC 4035).
    #[bits(1)]
    pub cd: bool,
    /// The low four bits of the response code.
    #[bits(4)]
    pub rcode: Rcode,
    /// Number of questions.
    pub qdcount: u16,
    /// Number of answer records.
    pub ancount: u16,
    /// Number of authority records.
    pub nscount: u16,
    /// Number of additional records.
    pub arcount: u16,
}

/// What follows a question's name (RFC 1035 4.1.2).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = QuestionFixedView)]
pub struct QuestionFixed {
    /// The type asked for.
    pub qtype: RecordType,
    /// The class asked for.
    pub qclass: Class,
}

/// What follows a resource record's owner name (RFC 1035 4.1.3).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = RecordFixedView)]
pub struct RecordFixed {
    /// The record type.
    pub rtype: RecordType,
    /// The class.
    pub class: Class,
    /// Time to live in seconds.
    pub ttl: u32,
    /// Length of the RDATA in bytes.
    pub rdlength: u16,
}

/// The same ten bytes read as an OPT pseudo-record's (RFC 6891 6.1.2, 6.1.3).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = OptFixedView)]
pub struct OptFixed {
    /// Always [`RecordType::Opt`].
    pub rtype: RecordType,
    /// The requestor's UDP payload size (the CLASS field).
    pub udp_payload_size: u16,
    /// The high eight bits of the extended RCODE.
    pub ext_rcode: u8,
    /// The EDNS version.
    pub version: u8,
    /// DNSSEC OK (RFC 3225).
    #[bits(1)]
    pub dnssec_ok: bool,
    /// The other flag bits (zero).
    #[bits(15)]
    pub z: u16,
    /// Length of the options in bytes.
    pub rdlength: u16,
}

/// An EDNS option's code and length (RFC 6891 6.1.2).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = OptionHeaderView)]
pub struct OptionHeader {
    /// The option code.
    pub code: OptionCode,
    /// Length of the option data in bytes.
    pub length: u16,
}

/// The fixed tail of SOA RDATA, after the two names (RFC 1035 3.3.13).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = SoaFixedView)]
pub struct SoaFixed {
    /// Zone serial number.
    pub serial: u32,
    /// Secondary refresh interval.
    pub refresh: u32,
    /// Retry interval after a failed refresh.
    pub retry: u32,
    /// When a secondary stops answering without a refresh.
    pub expire: u32,
    /// Negative caching TTL (RFC 2308).
    pub minimum: u32,
}

/// The fixed head of MX RDATA (RFC 1035 3.3.9).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = MxFixedView)]
pub struct MxFixed {
    /// Lower is preferred.
    pub preference: u16,
}

/// The fixed head of SRV RDATA (RFC 2782).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = SrvFixedView)]
pub struct SrvFixed {
    /// Lower is tried first.
    pub priority: u16,
    /// Relative weight among equal priorities.
    pub weight: u16,
    /// The service's port.
    pub port: u16,
}

/// The fixed head of CAA RDATA (RFC 8659 4.1).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = CaaFixedView)]
pub struct CaaFixed {
    /// Flags; the top bit is "issuer critical".
    pub flags: u8,
    /// Length of the tag.
    pub tag_len: u8,
}

/// The fixed head of DS RDATA (RFC 4034 5.1).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = DsFixedView)]
pub struct DsFixed {
    /// Key tag of the referenced DNSKEY.
    pub key_tag: u16,
    /// Algorithm of the referenced DNSKEY.
    pub algorithm: Algorithm,
    /// The digest algorithm.
    pub digest_type: DigestType,
}

/// The fixed head of DNSKEY RDATA (RFC 4034 2.1).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = DnskeyFixedView)]
pub struct DnskeyFixed {
    /// Flags: zone key (256), secure entry point (1), revoked (128, RFC 5011).
    pub flags: u16,
    /// Always 3.
    pub protocol: u8,
    /// The key's algorithm.
    pub algorithm: Algorithm,
}

/// The fixed head of RRSIG RDATA, before the signer's name (RFC 4034 3.1).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = RrsigFixedView)]
pub struct RrsigFixed {
    /// The type of the RRset this signature covers.
    pub type_covered: RecordType,
    /// The signing algorithm.
    pub algorithm: Algorithm,
    /// Labels in the original owner name (without the root and a leading wildcard).
    pub labels: u8,
    /// The RRset's TTL as in the zone.
    pub original_ttl: u32,
    /// End of validity, seconds since 1970 modulo 2^32 (RFC 1982 arithmetic).
    pub expiration: u32,
    /// Start of validity, seconds since 1970 modulo 2^32.
    pub inception: u32,
    /// Key tag of the signing DNSKEY.
    pub key_tag: u16,
}

/// The fixed head of NSEC3 RDATA, before the salt (RFC 5155 3.2).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = Nsec3FixedView)]
pub struct Nsec3Fixed {
    /// The hash algorithm.
    pub hash_algorithm: Nsec3HashAlgorithm,
    /// Flags; bit 0 is opt-out.
    pub flags: u8,
    /// Additional hash iterations.
    pub iterations: u16,
    /// Length of the salt.
    pub salt_len: u8,
}

/// The two-byte length prefix of a message over TCP (RFC 1035 4.2.2, RFC 7766).
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = TcpFrameView)]
pub struct TcpPrefix {
    /// Length of the message that follows.
    pub length: u16,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_bits_follow_rfc_1035() {
        // id 0xabcd; QR, opcode UPDATE, AA, TC, RD, RA, Z=0, AD, CD, rcode NXDOMAIN.
        let bytes = [0xab, 0xcd, 0b1010_1111, 0b1011_0011, 0, 1, 0, 2, 0, 3, 0, 4];
        let h = HeaderView::new_checked(&bytes[..]).unwrap();
        assert_eq!(h.id(), 0xabcd);
        assert!(h.qr() && h.aa() && h.tc() && h.rd() && h.ra() && h.ad() && h.cd());
        assert!(!h.z());
        assert_eq!(h.opcode(), Opcode::Update);
        assert_eq!(h.rcode(), Rcode::NxDomain);
        assert_eq!(
            (h.qdcount(), h.ancount(), h.nscount(), h.arcount()),
            (1, 2, 3, 4)
        );
        let mut out = [0u8; 12];
        HeaderView::new_unchecked(&mut out[..]).encode(&h.decode());
        assert_eq!(out, bytes);
        assert_eq!(Header::SIZE, 12);
        assert_eq!(RecordFixed::SIZE, 10);
        assert_eq!(OptFixed::SIZE, 10);
        assert_eq!(RrsigFixed::SIZE, 18);
    }

    #[test]
    fn rcode_parts() {
        assert_eq!(Rcode::BadCookie.low_bits(), 7);
        assert_eq!(Rcode::BadCookie.ext_bits(), 1);
        assert_eq!(Rcode::from_parts(Rcode::YxRrset, 1), Rcode::BadCookie);
        assert_eq!(Rcode::from_parts(Rcode::NxDomain, 0), Rcode::NxDomain);
    }

    #[test]
    fn compressible_types_are_rfc_1035s() {
        assert!(RecordType::Mx.rdata_compressible());
        assert!(RecordType::Soa.rdata_compressible());
        assert!(!RecordType::Srv.rdata_compressible());
        assert!(!RecordType::Rrsig.rdata_compressible());
        assert!(!RecordType::Unknown(65280).rdata_compressible());
        assert!(RecordType::Opt.is_meta() && RecordType::Any.is_meta());
        assert!(!RecordType::Caa.is_meta());
    }
}
