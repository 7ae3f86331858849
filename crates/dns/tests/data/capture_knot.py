#!/usr/bin/env python3
"""How the Knot fixtures in ../common/knot.rs were captured (kept for regeneration; not run by
tests). Serve example.com.signed and example.net.signed from this directory with knotd
(listen: 127.0.0.1@5300, journal-content: none, zonefile-sync: -1), then run this from the
crate directory: it relays each dig query through 127.0.0.1:5301, records query, response and
dig's output, and writes tests/common/knot.rs."""
import os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capture import relay  # the same dig-through-a-relay capture as BIND's
out = {}
cases = {
 "knot_query_a": ["example.com", "A"],
 "knot_cname_chain": ["www.example.com", "A", "+norec"],
 "knot_signed_mx": ["example.com", "MX", "+dnssec", "+norec"],
 "knot_nxdomain_nsec": ["nope.example.com", "A", "+dnssec", "+norec"],
 "knot_nxdomain_nsec3": ["nope.example.net", "A", "+dnssec", "+norec"],
 "knot_nodata": ["mail.example.com", "AAAA", "+norec"],
 "knot_wildcard": ["Foo.Wild.example.com", "TXT", "+dnssec", "+norec"],
 "knot_referral": ["host.sub.example.com", "A", "+dnssec", "+norec"],
 "knot_dnskey": ["example.net", "DNSKEY", "+dnssec", "+norec"],
 "knot_any_truncated": ["example.com", "ANY", "+dnssec", "+norec", "+bufsize=512", "+notcp"],
 "knot_srv": ["_sip._udp.example.com", "SRV", "+norec"],
 "knot_txt_caa": ["txt.example.com", "TXT", "+norec"],
 "knot_noedns": ["example.com", "AAAA", "+norec", "+noedns"],
}
for k, v in cases.items():
    try: out[k] = relay(v + ["+nocmd"])
    except Exception as e: print("fail", k, e)
    time.sleep(0.1)
desc = {
 "knot_query_a": "`dig example.com A` (RD set, EDNS with a client cookie)",
 "knot_cname_chain": "`dig +norec www.example.com A`: a CNAME chain of two inside the zone",
 "knot_signed_mx": "`dig +dnssec +norec example.com MX`: a signed answer with signed glue in the additional section",
 "knot_nxdomain_nsec": "`dig +dnssec +norec nope.example.com A`: NXDOMAIN with the SOA and NSEC proofs",
 "knot_nxdomain_nsec3": "`dig +dnssec +norec nope.example.net A`: NXDOMAIN with NSEC3 proofs",
 "knot_nodata": "`dig +norec mail.example.com AAAA`: NODATA, the SOA in authority",
 "knot_wildcard": "`dig +dnssec +norec Foo.Wild.example.com TXT`: a wildcard answer in the query's case, its NSEC owner compressed into the mixed-case question",
 "knot_referral": "`dig +dnssec +norec host.sub.example.com A`: a referral with DS and glue",
 "knot_dnskey": "`dig +dnssec +norec example.net DNSKEY`",
 "knot_any_truncated": "`dig +dnssec +norec +bufsize=512 +notcp example.com ANY`: cut to fit 512 bytes (TC)",
 "knot_srv": "`dig +norec _sip._udp.example.com SRV`",
 "knot_txt_caa": "`dig +norec txt.example.com TXT`: quotes, escapes and several strings",
 "knot_noedns": "`dig +norec +noedns example.com AAAA`: no OPT record either way",
}
def hexwrap(h):
    return "\\\n".join(["         " + h[i:i + 88] for i in range(0, len(h), 88)]).lstrip()
HEAD = open("tests/common/knot.rs").read().split("use super::Fixture;")[0]
parts = [HEAD + "use super::Fixture;\n"]
names = []
for k, v in out.items():
    dig = v["dig"]
    text = dig[dig.index(";; ->>HEADER<<-"):dig.index(";; Query time")].rstrip()
    names.append(k.upper())
    parts.append(f'''/// {desc[k]}.
pub const {k.upper()}: Fixture = Fixture {{
    name: "{k}",
    query: "\\
         {hexwrap(v["q"])}",
    response: "\\
         {hexwrap(v["r"])}",
    dig: r#"{text}"#,
}};
''')
parts.append(f"/// Every Knot fixture.\npub const KNOT: [Fixture; {len(names)}] = [\n"
             + "".join(f"    {n},\n" for n in names) + "];\n")
open("tests/common/knot.rs", "w").write("\n".join(parts))
