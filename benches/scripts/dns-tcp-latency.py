#!/usr/bin/env python3
"""Latency of one DNS query per new TCP connection (connect, query, answer, close), as a
resolver falling back to TCP sees it: `python3 benches/scripts/dns-tcp-latency.py PORT [N]`
against a server on 127.0.0.1:PORT serving example.com with host-1.example.com (e.g.
unistack-dnsd). Prints the median and 90th percentile of N (default 200) round trips."""
import socket
import struct
import sys
import time

port = int(sys.argv[1])
count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
# host-1.example.com A, RD, id 0x1234.
query = bytes.fromhex("12340100000100000000000006686f73742d31076578616d706c6503636f6d0000010001")
times = []
for _ in range(count):
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(struct.pack("!H", len(query)) + query)
        head = b""
        while len(head) < 2:
            part = s.recv(2 - len(head))
            if not part:
                sys.exit("connection closed before the length")
            head += part
        (n,) = struct.unpack("!H", head)
        body = b""
        while len(body) < n:
            part = s.recv(n - len(body))
            if not part:
                sys.exit("connection closed mid-answer")
            body += part
    times.append(time.perf_counter() - start)
times.sort()
print("p50 %.0f us, p90 %.0f us over %d connections"
      % (times[len(times) // 2] * 1e6, times[len(times) * 9 // 10] * 1e6, count))
