//! DNS for unistack: zero-copy messages (parsing, names, typed RDATA, a non-allocating
//! builder with compression and truncation, TCP framing), zone files, a sans-IO
//! authoritative server engine, a sans-IO stub resolver, and `unistack-dnsd`, the engine on
//! kernel sockets.
//!
//! The wire layer never allocates and never panics on input. Zones, the server and the
//! resolver (feature `alloc`) own their data; the master-file parser (feature `zone`) is
//! built on `nom`.
//!
//! ```
//! use unistack_dns::{Class, Edns, Message, MessageBuilder, RData, RecordType};
//!
//! // A query, built in a stack buffer.
//! let mut qbuf = [0u8; 512];
//! let mut q = MessageBuilder::new(&mut qbuf)?;
//! q.header_mut().set_id(0x1234);
//! q.header_mut().set_rd(true);
//! q.push_question("example.com.", RecordType::A, Class::In)?;
//! q.set_edns(&Edns::new(1232))?;
//! let query = q.finish();
//!
//! // The server side: parse it (zero copy), answer it.
//! let query = Message::new(query)?;
//! let question = query.questions().next().unwrap()?;
//! assert!(question.name().eq_str("EXAMPLE.com"));
//! let mut rbuf = [0u8; 512];
//! let mut r = MessageBuilder::reply_to(&query, &mut rbuf)?;
//! let addr = RData::<&str>::A([192, 0, 2, 1].into());
//! r.push_answer(&question.name(), Class::In, 3600, &addr)?;
//! let response = Message::new(r.finish())?;
//! response.check()?;
//!
//! let answer = response.answers().next().unwrap()?;
//! assert_eq!(answer.to_string(), "example.com. 3600 IN A 192.0.2.1");
//! // The owner name is a compression pointer to the question's name.
//! assert_eq!(response.as_bytes().len(), 12 + 17 + 2 + 10 + 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is here
//! - [`Message`]: a view over `&[u8]` with the header ([`HeaderView`], every flag of RFC 1035
//!   and RFC 4035) and lazy iterators over the questions and each record section. Counts
//!   larger than the data end the iteration with [`Error::CountMismatch`]; iteration takes at
//!   most as many turns as the counts say. [`Message::check`] validates everything at once
//!   (OPT placement included); [`Message::edns`] finds the OPT record.
//! - [`Name`]: a name inside a message, walked once when built (RFC 1035 limits, compression
//!   pointers strictly backwards, at most [`MAX_POINTER_HOPS`] hops); labels, case-insensitive
//!   equality with names in other messages, dotted strings and label lists, suffix tests,
//!   DNSSEC canonical order, and presentation format with RFC 1035 escapes. [`NameBuf`] is an
//!   owned uncompressed name in a fixed 255-byte array.
//! - [`RData`]: A, AAAA, NS, CNAME, PTR, SOA, MX, TXT, SRV, CAA, HINFO, OPT ([`Edns`],
//!   [`EdnsOptions`], [`Cookie`] of RFC 7873), DS, DNSKEY (with its key tag), RRSIG, NSEC,
//!   NSEC3 ([`TypeBitmaps`]); every other type as opaque bytes (RFC 3597). Compression
//!   pointers inside RDATA are followed only for the RFC 1035 types
//!   ([`RecordType::rdata_compressible`]) and are [`Error::CompressedName`] elsewhere.
//! - [`MessageBuilder`]: writes into a caller's `&mut [u8]`: header, questions, records in
//!   section order, RFC 1035 name compression through a fixed-size table, counts always right,
//!   truncation that stops cleanly and sets TC, a size limit (the client's UDP payload size),
//!   an OPT record reserved up front, marks to drop a partial RRset.
//! - [`tcp`]: the two-byte length prefix, and [`TcpDecoder`], which reassembles messages from
//!   partial reads in a caller's buffer.
//! - `Display` everywhere, as dig prints: records as `example.com. 3600 IN A 192.0.2.1`,
//!   messages with dig's header, OPT pseudo-section and sections.
//!
//! - [`zone`] (feature `alloc`; the parser needs `zone`): [`ZoneRecord`] (owner and RDATA
//!   in uncompressed wire form, `Display` as a master-file line), [`Zone`] (a checked set:
//!   one SOA and NS at the apex, nothing outside the origin, CNAME alone, only glue below
//!   delegations), and RFC 1035 master files: `$ORIGIN`, `$TTL`, `$INCLUDE` through a
//!   caller's loader, `@`, relative names, inherited owner/class/TTL, parentheses, comments,
//!   quoted strings, escapes, `TYPEnnn`/`CLASSnnn`/`\#` (RFC 3597), and the presentation
//!   formats of every typed RDATA plus NSEC3PARAM, DNAME, NAPTR, SSHFP, TLSA and others
//!   ([`zone::parse_records`] lists them). Errors ([`ZoneError`]) carry line, column and the
//!   offending text.
//! - [`server`] (feature `alloc`): the authoritative engine. Query bytes in, response bytes
//!   out into the caller's buffer; several zones, wildcards, CNAME chains, referrals with
//!   glue, negative answers, EDNS(0), truncation, DNSSEC for pre-signed zones (RRSIGs, NSEC
//!   and NSEC3 proofs with DO), and responses for the zones' names precompiled at load time
//!   so that a hit is one pass over the query, one hash, a header write and two copies
//!   (see [`server`] for the layout).
//! - [`resolver`] (feature `alloc`): a sans-IO stub resolver. `start(now, name, type)`,
//!   then `poll_transmit` (UDP datagrams, or framed TCP messages after a truncated answer),
//!   `handle_response` / `handle_tcp` (through a [`TcpDecoder`]), `poll_timeout` /
//!   `handle_timeout`, and `poll_event` for an [`Answer`](resolver::Answer) or a
//!   [`Failure`](resolver::Failure). Random IDs and source ports from the caller's
//!   [`Random`](resolver::Random), responses checked against source, port, ID and question
//!   (byte for byte under 0x20 case randomisation), CNAME chains followed across responses
//!   (bounded), a retry schedule across servers, and a fixed-size cache that respects TTLs
//!   and caches NXDOMAIN and NODATA per RFC 2308.
//! - `unistack-dnsd` (feature `dnsd`, a binary): `--zone [ORIGIN=]FILE --listen
//!   ADDR[:PORT]`, UDP and TCP on kernel sockets: UDP in batches (`recvmmsg`/`sendmmsg`,
//!   `--batch`), optionally several UDP sockets per address with `SO_REUSEPORT`
//!   (`--udp-sockets`), a thread per socket and per TCP connection (several queries per
//!   connection, an idle timeout, a connection limit), a clean stop on SIGINT/SIGTERM that
//!   prints its counters. Its docs (`src/bin/`) say more; `tests/dig.rs` checks it against
//!   `dig` and `kdig`.
//!
//! Fixed layouts (header, question and record tails, the OPT record's fields, the fixed parts
//! of RDATA) are declared once in [`wire`] through `#[derive(Cstruct)]`; code points are
//! `CEnum`s that keep unknown values.
//!
//! # Decisions
//! - A compression pointer must point strictly before the start of the label sequence it is
//!   in (so each hop goes backwards and loops are impossible); any earlier offset is accepted,
//!   and at most [`MAX_POINTER_HOPS`] hops are followed.
//! - RDATA names are decompressed only for RFC 1035 types. A compressed SRV target is
//!   rejected as RFC 2782 says, although RFC 3597 section 4 suggests receivers still accept it
//!   (hickory-proto does; the difference is pinned in `tests/hickory.rs`).
//! - A and AAAA are typed in class IN only (they are class-specific); elsewhere they are
//!   opaque RFC 3597 data.
//! - The builder compresses against owner, question and RFC 1035 RDATA names only: names in
//!   other RDATA are never pointed into. It sets TC when a question, answer or authority
//!   record does not fit, not for the additional section (RFC 2181 section 9).
//! - [`Message::check`] rejects bytes after the last record; the iterators ignore them.
//! - Zone records keep the case of their names as written; lookups are case-insensitive.
//!   Exact duplicates are dropped when a [`Zone`] is built; TTLs within an RRset are not
//!   unified (each record keeps its own).
//! - The zone parser follows BIND where RFC 1035 is silent: `1h30m` TTL units (also in SOA
//!   timers), a record without TTL takes `$TTL`, else the last explicit TTL, else the SOA
//!   minimum; class and TTL in either order; `$INCLUDE` restores the origin afterwards and
//!   nests at most 8 deep; a newline inside a quoted string is an error. `ZoneRecord`'s
//!   `Display` falls back to `\#` for RDATA whose typed form would not read back (an
//!   empty TXT, an empty signature or key).
//! - The server's lookups hash lower-cased wire names with a fixed, fast hash (folded
//!   multiplies over eight-byte words, lower-casing as it reads; keys are the zones', queries
//!   only look up): one hash per query for a name the zones have, one per label of the
//!   question at most otherwise. See [`server`] for the protocol decisions (what is dropped,
//!   FORMERR, NOTIMP, REFUSED, truncation) and the layout.
//! - The resolver is a stub: it sends RD queries to recursive servers and trusts their
//!   answers (no DNSSEC validation, no iteration from the root); it walks only the answer
//!   section along the CNAME chain and takes the SOA of a negative answer. It asks again
//!   when a chain ends at a name the response does not answer (an authoritative server
//!   stops at its zone's edge), and fails with `Referral` when a server answers with one.
//! - `unistack-dnsd` stops on signals through `signal-hook` and batches datagrams and binds
//!   `SO_REUSEPORT` sockets through `nix`'s safe wrappers (the crate forbids `unsafe`, so it
//!   cannot call the system itself); a second signal exits at once.
//! - NSEC3 hashing uses a small in-crate SHA-1 (FIPS 180-4 vectors and RFC 5155's examples
//!   are tests); SHA-1 serves there as a name-hiding hash of public names only.
//!
//! # Features
//! - `std` (default): `alloc`, plus `unistack-cstruct`'s `std`.
//! - `zone` (default): the master-file parser (`nom`); implies `alloc`.
//! - `alloc`: [`zone`]'s owned types and checks, the [`server`] engine (`hashbrown`) and the
//!   [`resolver`].
//! - `dnsd` (default): the `unistack-dnsd` binary (needs `std` and `zone`; adds
//!   `signal-hook` and `nix`, which the library never uses).
//! - `fuzzing`: `unistack_dns::fuzzing::{zone_text, engine_query, resolver_responses}`,
//!   fuzz bodies for the fuzz crate (needs `std`).
//!
//! Without default features the crate is the wire layer alone and builds for
//! `x86_64-unknown-none`; with `zone` (or `alloc`) and no `std` it builds there too.
//!
//! # Panics
//! None on any input. Parsing is bounded: names are at most 255 octets and
//! [`MAX_POINTER_HOPS`] pointers, every loop over a message consumes bytes or a count. The
//! same holds for zone text (every loop consumes input; `$INCLUDE` depth is bounded) and for
//! queries to the server (CNAME chains are bounded; proptests feed random and mutated
//! queries, and the fuzz bodies check the same), and for responses to the resolver
//! (proptests and a fuzz body feed random and mutated responses, over UDP and TCP, at
//! random times, and check that every lookup still ends in exactly one event).
//!
//! # Not supported yet
//! - Resolver: DNSSEC validation (AD is reported, not checked; DO is never set), EDNS
//!   fallback (a FORMERR to an EDNS query is a failure, not a retry without OPT), DNS
//!   cookies, search lists and `ndots`, `/etc/resolv.conf` or `/etc/hosts`, sharing one
//!   query among identical lookups in flight, caching the intermediate names of a chain,
//!   IDNA. A TCP connection carries one query; a refused TCP connection is noticed only by
//!   its timeout.
//! - `unistack-dnsd`: zone reloading, access control, rate limiting, logging of queries;
//!   one thread per TCP connection.
//! - Server: zone transfers (AXFR/IXFR are NOTIMP), NOTIFY, UPDATE, DNS cookies (the option
//!   is ignored), NSID, DNAME synthesis (DNAME is served as plain data and does not occlude
//!   names below it), signing or re-signing (zones must come signed), several zones' CNAME
//!   chains (a chain stops where it leaves its zone), QCLASS ANY (REFUSED). Referrals below a
//!   delegation point, wildcard expansions and NXDOMAIN are computed per query, not
//!   precompiled.
//! - Zone files: `$GENERATE`, presentation formats of LOC, SVCB/HTTPS, APL, CERT, IPSECKEY,
//!   HIP, CSYNC, WKS and the rest (write them as `\# length hex`).
//! - Wire: no signature validation (NSEC/NSEC3 proofs are served, not checked), no TSIG or
//!   SIG(0), no typed views for other types (NAPTR, SVCB/HTTPS, TLSA, DNAME, NSEC3PARAM, LOC
//!   ... are opaque RFC 3597 data), no IDNA, and UPDATE messages' empty RDATA for known
//!   types (RFC 2136 class ANY/NONE) is [`Error::BadRdata`] on typed access.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(test, feature = "fuzzing"))]
extern crate std;

mod builder;
mod dnssec;
mod edns;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod hash;
mod message;
mod name;
mod present;
mod rdata;
#[cfg(feature = "alloc")]
pub mod resolver;
#[cfg(feature = "alloc")]
pub mod server;
mod sha1;
pub mod tcp;
pub mod wire;
#[cfg(feature = "alloc")]
pub mod zone;

pub use builder::{MAX_MESSAGE_LEN, Mark, MessageBuilder};
pub use dnssec::{Dnskey, Ds, Nsec, Nsec3, Rrsig, TypeBitmaps, TypeBitmapsIter, nsec3_hash};
pub use edns::{Cookie, Edns, EdnsOption, EdnsOptions, EdnsOptionsIter};
pub use error::{BuildError, Error};
pub use message::{Message, Question, Questions, Record, Records, Section};
pub use name::{Labels, MAX_LABEL_LEN, MAX_NAME_LEN, MAX_POINTER_HOPS, Name, NameBuf, ToName};
pub use present::{Base32Hex, Base64, Hex, Mnemonic, Timestamp};
pub use rdata::{Caa, CharStrings, Hinfo, Mx, RData, Soa, Srv, Txt};
pub use tcp::{FrameError, TcpDecoder};
pub use wire::{
    Algorithm, Class, DigestType, Header, HeaderView, Nsec3HashAlgorithm, Opcode, OptionCode,
    Rcode, RecordType,
};
#[cfg(feature = "alloc")]
pub use zone::{Zone, ZoneError, ZoneErrorKind, ZoneRecord};
