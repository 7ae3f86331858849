#!/usr/bin/env python3
"""How the fixtures in ../common/mod.rs were captured (kept for regeneration; not run by tests).

Setup (Debian: apt-get install bind9 bind9-dnsutils bind9-utils), in a scratch directory D:
  cp zone.example.com D/example.com.zone; sed 's/example.com/example.net/g' ... > D/example.net.zone
  for each zone Z: dnssec-keygen -a ECDSAP256SHA256 -f KSK Z; dnssec-keygen -a ECDSAP256SHA256 Z;
                   cat K<Z>*.key >> D/<Z>.zone
  dnssec-signzone -o example.com -s 20240101000000 -e 20340101000000 example.com.zone        (NSEC)
  dnssec-signzone -3 aabbccdd -H 0 -o example.net -s 20240101000000 -e 20340101000000 example.net.zone
  named.conf: listen-on port 5300 { 127.0.0.1; }; recursion no; answer-cookie yes; both zones
  primary from the .signed files; then `named -c named.conf` and run this script, which relays
  each dig query through 127.0.0.1:5301 to named and records both messages and dig's output.
The resulting captures.json (query, response, dig output per case) was then written out as
the Rust constants of ../common/mod.rs. Keys are random: a new capture has other signatures
and cookies.
"""
import socket, subprocess, sys, threading, json
def relay(args):
    """Run dig with `args` against 127.0.0.1:5301, relaying its query to the server on 5300;
    return the query and response in hex and dig's output."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 5301)); s.settimeout(5)
    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); up.settimeout(5)
    res = {}
    def proxy():
        q, addr = s.recvfrom(65535)
        up.sendto(q, ("127.0.0.1", 5300))
        r, _ = up.recvfrom(65535)
        s.sendto(r, addr)
        res["q"], res["r"] = q.hex(), r.hex()
    t = threading.Thread(target=proxy); t.start()
    d = subprocess.run(["dig", "@127.0.0.1", "-p", "5301", "+tries=1", "+ignore"] + args, capture_output=True, text=True)
    t.join(); s.close(); up.close()
    res["dig"] = d.stdout
    return res
if __name__ == "__main__":
    out = {}
    cases = {
     "query_a": ["example.com", "A"],
     "cname": ["www.example.com", "A", "+norec"],
     "signed_mx": ["example.com", "MX", "+dnssec", "+norec"],
     "nxdomain_nsec": ["nope.example.com", "A", "+dnssec", "+norec"],
     "nxdomain_nsec3": ["nope.example.net", "A", "+dnssec", "+norec"],
     "dnskey": ["example.com", "DNSKEY", "+dnssec", "+norec"],
     "any_truncated": ["example.com", "ANY", "+dnssec", "+norec", "+bufsize=512", "+notcp"],
     "srv": ["_sip._udp.example.com", "SRV", "+norec"],
     "misc": ["example.com", "TXT", "+norec"],
     "caa": ["example.com", "CAA", "+norec"],
     "aaaa": ["example.com", "AAAA", "+norec", "+noedns"],
    }
    import time
    for k, v in cases.items():
        try: out[k] = relay(v)
        except Exception as e: print("fail", k, e)
        time.sleep(0.2)
    json.dump(out, open("captures.json", "w"), indent=1)
    for k, v in out.items(): print(k, len(v.get("q",""))//2, len(v.get("r",""))//2)
