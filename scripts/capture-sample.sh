#!/usr/bin/env bash
# Capture the sample frames in tests/data/sample.pcap from a real exchange between two network
# namespaces this script creates (192.0.2.0/24, no route out). Needs root, iproute2, ethtool,
# python3. Checksum offload is turned off so the captured checksums are real; MACs and client
# ports are fixed and IPv6 is off, so only sequence numbers and timestamps change between runs.
# Run again to refresh the sample; the examples and tests read the committed file.
set -euo pipefail
out=${1:-"$(dirname "$0")/../tests/data/sample.pcap"}
a=us-cap-a-$$
b=us-cap-b-$$
cleanup() { ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$a"
ip netns add "$b"
ip link add veth-a netns "$a" address 02:00:00:00:00:0a type veth \
  peer name veth-b netns "$b" address 02:00:00:00:00:0b
for ns in "$a" "$b"; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip netns exec "$a" ethtool -K veth-a tx off rx off >/dev/null
ip netns exec "$b" ethtool -K veth-b tx off rx off >/dev/null
ip -n "$a" addr add 192.0.2.1/24 dev veth-a
ip -n "$b" addr add 192.0.2.2/24 dev veth-b
ip -n "$a" link set veth-a up
ip -n "$b" link set veth-b up
ip -n "$a" link set lo up
ip -n "$b" link set lo up
# A TCP server and a UDP echo in b.
ip netns exec "$b" timeout 20 python3 - <<'PY' &
import socket, threading
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("192.0.2.2", 80)); t.listen(1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("192.0.2.2", 53))
def udp():
    d, peer = u.recvfrom(2048); u.sendto(d, peer)
threading.Thread(target=udp, daemon=True).start()
c, _ = t.accept(); c.recv(100); c.sendall(b"HTTP/1.0 200 OK\r\n\r\nunistack\n"); c.close()
PY
sleep 1
ip netns exec "$a" timeout 20 python3 - "$out" <<'PY'
import socket, struct, sys, threading, time
cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
cap.bind(("veth-a", 0)); cap.settimeout(0.5)
frames = []
def grab():
    end = time.time() + 4
    while time.time() < end and len(frames) < 40:
        try: frames.append((time.time(), cap.recv(65535)))
        except socket.timeout: pass
g = threading.Thread(target=grab); g.start(); time.sleep(0.2)
# A DNS-shaped query for example.com A over UDP, then an HTTP exchange over TCP.
q = bytes.fromhex("123401000001000000000000076578616d706c6503636f6d0000010001")
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(2)
u.bind(("192.0.2.1", 40001))
u.sendto(q, ("192.0.2.2", 53)); u.recvfrom(2048)
s = socket.create_connection(("192.0.2.2", 80), timeout=2, source_address=("192.0.2.1", 40000))
s.sendall(b"GET / HTTP/1.0\r\n\r\n"); s.recv(100); s.close()
g.join()
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for ts, fr in frames:
        f.write(struct.pack("<IIII", int(ts), int((ts % 1) * 1e6), len(fr), len(fr)))
        f.write(fr)
print(f"wrote {len(frames)} frames to {sys.argv[1]}")
PY
wait
