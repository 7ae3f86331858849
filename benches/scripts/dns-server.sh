#!/usr/bin/env bash
# Authoritative DNS servers under dnsperf: unistack-dnsd against NSD and Knot on loopback, and
# the unistack appliance (its own stack) on a TAP device.
#
#   bash benches/scripts/dns-server.sh            # 100, 10,000 and 1,000,000 names
#   SIZES="100 10000" DURATION=5 bash benches/scripts/dns-server.sh
#
# Not run in CI (it installs packages and takes minutes). For each zone size it generates one
# zone file (example.com., hosts `host-NNNNNN` with an RRset of 1 to 10 A, AAAA, MX or TXT
# records, the same mix as `benches/benches/dns.rs`) and a query file (100,000 queries for
# random hosts and their type), then for each server in turn: start it on 127.0.0.1 (its own
# port), wait until it answers, run dnsperf against it for DURATION seconds, stop it. It prints
# queries per second and queries per server CPU-second, the CPU time being the utime+stime of
# the server's processes (the process and its children, all threads) from /proc/PID/stat read
# before and after the run.
#
# Fairness: each server gets one worker for UDP (unistack-dnsd: one thread per UDP socket; NSD:
# server-count 1; Knot: udp-workers 1), minimal responses, no logging of queries, no response
# rate limiting (Debian's NSD has it on by default). The server is pinned to CPU $SERVER_CPU
# and dnsperf to CPU $CLIENT_CPU (the machine has two), so the client does not steal the
# server's core. Every thread of the server is pinned again once it answers: Knot sets its
# own affinity (UDP worker N on CPU N), which put its one worker on dnsperf's CPU until
# 2026-11-27, sharing the client's caches and sparing it the cross-CPU wakeups and frees the
# others pay. Queries carry EDNS (dnsperf -e): 52 bytes.
#
# Reading the figures: one dnsperf thread on one core cannot saturate every server (a server
# below ~100% CPU is client-bound, and its queries/s says little); queries per CPU-second is
# the comparable figure. On loopback the sender's sendto also runs the receiver's UDP input
# path, so most of a server's CPU is the kernel's: profile with `perf record -g -p PID`.
# "load s" is the time until the first answer (zone loaded), "RSS MB" the resident memory of
# the server's processes then, "mean µs" dnsperf's average latency (with 800 queries in
# flight, mostly the queue in front of the server). Debian's NSD 4.6 is built with
# --disable-recvmmsg. unistack-dnsd runs with its defaults (`--batch 64 --coalesce-us 50`).
#
# The appliance (`unistack-appliance --tap`, server name `appliance`) answers from its own
# stack on a TAP device in a network namespace the script creates ($NETNS, Linux side
# 192.0.2.1/24, the appliance 192.0.2.2/24, no route out); dnsperf and the readiness probe
# run inside that namespace. Its figures sit beside unistack-dnsd's (the same engine on
# kernel sockets): the difference is the stack and the TAP. Needs root, like NSD and Knot.
#
# PERF=DIR records each server's run with `perf record -g` into DIR (compare the kernel paths
# with `perf report -i DIR/knot-100.data --no-children --sort sym`).
#
# Network: only 127.0.0.1, and 192.0.2.0/24 inside the namespace. Every wait is bounded; dnsperf stops after DURATION seconds.
set -euo pipefail

SIZES=${SIZES:-"100 10000 1000000"}
DURATION=${DURATION:-10}
CLIENTS=${CLIENTS:-4}
OUTSTANDING=${OUTSTANDING:-200}
# QPS=N: dnsperf sends at most N queries per second (-Q), so every server answers the same
# offered load and the CPU seconds compare the cost of the same work.
QPS=${QPS:-}
QUERIES=${QUERIES:-100000}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
SERVERS=${SERVERS:-"unistack appliance nsd knot"}
PORT_UNISTACK=${PORT_UNISTACK:-53531}
PORT_NSD=${PORT_NSD:-53532}
PORT_KNOT=${PORT_KNOT:-53533}
NETNS=${NETNS:-usdns$$}
TAP=usdns0
# How long a server may take to load a zone and answer (1,000,000 names take a while).
READY_TIMEOUT=${READY_TIMEOUT:-600}

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/dns-server-bench.XXXXXX)
CLK_TCK=$(getconf CLK_TCK)
SERVER_PID=""

cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    ip netns del "$NETNS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- tools ------------------------------------------------------------------------------------

need=()
command -v nsd >/dev/null || need+=(nsd)
command -v knotd >/dev/null || need+=(knot)
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v kdig >/dev/null || command -v dig >/dev/null || need+=(knot-dnsutils)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if command -v dig >/dev/null; then
    DIG=(dig +tries=1 +time=1)
else
    DIG=(kdig +retry=0 +timeout=1)
fi

echo "building unistack-dnsd and unistack-appliance (release)"
(cd "$ROOT" && cargo build --release -q -p unistack-dns --bin unistack-dnsd &&
    cargo build --release -q -p unistack-appliance)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# DNSD=PATH benches a saved unistack-dnsd binary instead (for before/after comparisons).
DNSD=${DNSD:-$TARGET_DIR/release/unistack-dnsd}
# APPLIANCE=PATH benches a saved appliance binary (before/after comparisons).
APPLIANCE=${APPLIANCE:-$TARGET_DIR/release/unistack-appliance}

# --- zone and queries -------------------------------------------------------------------------

# The RRset of host i: kind (A 35%, AAAA 30%, MX 15%, TXT 20%) and count (1..10) from a hash.
AWK_RRSET='
function mix(i) { return (i * 2654435761 + 12345) % 4294967296 }
function kind_of(x,    k) { k = x % 100; return k < 35 ? "A" : k < 65 ? "AAAA" : k < 80 ? "MX" : "TXT" }
'

gen_zone() { # names file
    awk -v n="$1" "$AWK_RRSET"'
    BEGIN {
        print "$ORIGIN example.com."
        print "$TTL 3600"
        print "@ SOA ns1 hostmaster 1 7200 3600 1209600 300"
        print "  NS ns1"
        print "ns1 A 192.0.2.53"
        letters = "abcdefghijklmnopqrstuvwxyz"
        for (i = 0; i < n; i++) {
            x = mix(i); t = kind_of(x); cnt = 1 + int(x / 100) % 10
            host = sprintf("host-%06d", i)
            for (j = 0; j < cnt; j++) {
                if (t == "A") printf "%s A 10.%d.%d.%d\n", host, int(i / 256) % 256, i % 256, j
                else if (t == "AAAA") printf "%s AAAA 2001:db8::%x:%x:%x\n", host, int(i / 65536), i % 65536, j
                else if (t == "MX") printf "%s MX %d mx%d\n", host, 10 * (j + 1), j
                else {
                    len = 10 + (int(x / 1000) + 7 * j) % 29
                    s = "txt" j "-"
                    for (c = 0; length(s) < len; c++) s = s substr(letters, (int(x / 7) + c * 11 + j) % 26 + 1, 1)
                    printf "%s TXT \"%s\"\n", host, s
                }
            }
        }
    }' >"$2"
}

gen_queries() { # names count file
    awk -v n="$1" -v q="$2" "$AWK_RRSET"'
    BEGIN {
        r = 7
        for (k = 0; k < q; k++) {
            r = (r * 69069 + 1) % 4294967296
            i = int(r / 256) % n
            printf "host-%06d.example.com %s\n", i, kind_of(mix(i))
        }
    }' >"$3"
}

calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }

# --- process accounting -----------------------------------------------------------------------

tree_pids() {
    local p=$1 c
    echo "$p"
    for c in $(pgrep -P "$p" 2>/dev/null || true); do tree_pids "$c"; done
}

# utime + stime (clock ticks) of a process and its descendants, all threads included.
cpu_ticks() {
    local total=0 p rest
    for p in $(tree_pids "$1"); do
        rest=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
        set -- $rest
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}

# Pin every thread of a process tree to $SERVER_CPU, and say which threads had moved: a
# server may set its own affinity (Knot pins UDP worker N to CPU N, whatever taskset said,
# which would put it on dnsperf's CPU).
pin_tree() { # pid name
    local p t moved=0
    for p in $(tree_pids "$1"); do
        for t in /proc/"$p"/task/*; do
            [ -r "$t/status" ] || continue
            if [ "$(awk '/^Cpus_allowed_list:/ { print $2 }' "$t/status")" != "$SERVER_CPU" ]; then
                moved=$((moved + 1))
                # A thread may end meanwhile; that is no reason to stop the run.
                taskset -p -c "$SERVER_CPU" "${t##*/}" >/dev/null 2>&1 || true
            fi
        done
    done
    if [ "$moved" -gt 0 ]; then
        echo "  ($2: $moved thread(s) had left CPU $SERVER_CPU; pinned back)" >&2
    fi
}

rss_kib() {
    local total=0 p v
    for p in $(tree_pids "$1"); do
        v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

# --- servers ----------------------------------------------------------------------------------

# Where a server listens, and how the client tools reach it: the appliance inside its
# namespace, the rest on loopback.
server_addr() { if [ "$1" = appliance ]; then echo 192.0.2.2; else echo 127.0.0.1; fi; }
client_cmd() { # server command...
    local server=$1
    shift
    if [ "$server" = appliance ]; then ip netns exec "$NETNS" "$@"; else "$@"; fi
}

start_server() { # name zonefile port
    local name=$1 zone=$2 port=$3 dir="$WORK/$1"
    mkdir -p "$dir"
    case $name in
    unistack)
        taskset -c "$SERVER_CPU" "$DNSD" --zone "example.com=$zone" --listen "127.0.0.1:$port" \
            >"$dir/out.log" 2>&1 &
        ;;
    nsd)
        cat >"$dir/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@$port
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$WORK"
    database: ""
    zonelistfile: "$dir/zone.list"
    xfrdfile: "$dir/xfrd.state"
    xfrdir: "$dir"
    pidfile: "$dir/nsd.pid"
    logfile: "$dir/nsd.log"
    verbosity: 0
    hide-version: yes
    minimal-responses: yes
    do-ip6: no
    tcp-count: 10
    # Debian builds NSD with response rate limiting, on by default (200 qps per name):
    # dnsperf from one address would be throttled.
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: example.com
    zonefile: "$zone"
EOF
        taskset -c "$SERVER_CPU" nsd -d -c "$dir/nsd.conf" >"$dir/out.log" 2>&1 &
        ;;
    appliance)
        ip netns del "$NETNS" 2>/dev/null || true
        ip netns add "$NETNS"
        ip -n "$NETNS" link set lo up
        ip -n "$NETNS" tuntap add dev "$TAP" mode tap
        ip -n "$NETNS" addr add 192.0.2.1/24 dev "$TAP"
        ip -n "$NETNS" link set "$TAP" up
        ip netns exec "$NETNS" taskset -c "$SERVER_CPU" "$APPLIANCE" --tap "$TAP" \
            --ip 192.0.2.2/24 --zone "$zone" >"$dir/out.log" 2>&1 &
        ;;
    knot)
        mkdir -p "$dir/db"
        cat >"$dir/knot.conf" <<EOF
server:
    rundir: "$dir"
    listen: 127.0.0.1@$port
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$dir/db"
log:
  - target: "$dir/knot.log"
    any: warning
template:
  - id: default
    storage: "$WORK"
    semantic-checks: off
    journal-content: none
    zonefile-sync: -1
    zonefile-load: whole
zone:
  - domain: example.com
    file: "$zone"
EOF
        taskset -c "$SERVER_CPU" knotd -c "$dir/knot.conf" >"$dir/out.log" 2>&1 &
        ;;
    esac
    SERVER_PID=$!
}

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        # Bounded: give it 30 s, then insist.
        for _ in $(seq 300); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
    ip netns del "$NETNS" 2>/dev/null || true
}

# Wait until the server answers host-000000 with data; print the seconds it took.
wait_ready() { # server port type
    local server=$1 start=$SECONDS i addr
    addr=$(server_addr "$server")
    shift
    for i in $(seq "$READY_TIMEOUT"); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "server exited" >&2
            return 1
        fi
        if client_cmd "$server" "${DIG[@]}" @"$addr" -p "$1" host-000000.example.com "$2" \
            +short 2>/dev/null |
            grep -q .; then
            echo $((SECONDS - start))
            return 0
        fi
        sleep 1
    done
    echo "server not ready after $READY_TIMEOUT s" >&2
    return 1
}

# --- run --------------------------------------------------------------------------------------

echo "work dir $WORK; dnsperf -l $DURATION -c $CLIENTS -q $OUTSTANDING ${QPS:+-Q $QPS }-e on CPU $CLIENT_CPU," \
    "servers on CPU $SERVER_CPU; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
nsd -v 2>&1 | head -1 || true
knotd --version || true
dnsperf -h 2>&1 | grep -i '^Version' || true

declare -A PER_CPU
for names in $SIZES; do
    zone="$WORK/example.com.$names.zone"
    queries="$WORK/queries.$names.txt"
    gen_zone "$names" "$zone"
    gen_queries "$names" "$QUERIES" "$queries"
    # The type of host-000000 (the readiness probe asks for it).
    probe_type=$(awk '$1 == "host-000000" { print $2; exit }' "$zone")
    printf '\n%s names: zone %s records, %s MB; %s queries\n' "$names" \
        "$(($(wc -l <"$zone") - 5))" "$(calc "$(stat -c %s "$zone") / 1000000")" "$QUERIES"
    printf '  %-10s %8s %9s %11s %9s %13s %8s %10s %8s\n' server "load s" "RSS MB" "queries/s" "CPU s" \
        "q/CPU-second" "lost" "resp bytes" "mean µs"
    for server in $SERVERS; do
        case $server in
        unistack) port=$PORT_UNISTACK ;;
        appliance) port=53 ;;
        nsd) port=$PORT_NSD ;;
        knot) port=$PORT_KNOT ;;
        *) echo "unknown server $server" >&2; exit 2 ;;
        esac
        start_server "$server" "$zone" "$port"
        if ! load=$(wait_ready "$server" "$port" "$probe_type"); then
            tail -5 "$WORK/$server/out.log" >&2 || true
            stop_server
            continue
        fi
        pin_tree "$SERVER_PID" "$server"
        rss=$(rss_kib "$SERVER_PID")
        before=$(cpu_ticks "$SERVER_PID")
        perf_pid=""
        if [ -n "${PERF:-}" ]; then
            # PERF=DIR: record the server's threads (kernel included) into DIR/SERVER-NAMES.data.
            mkdir -p "$PERF"
            perf record -q -g -F 2000 -o "$PERF/$server-$names.data" \
                -p "$(tree_pids "$SERVER_PID" | paste -sd, -)" -- sleep "$DURATION" 2>/dev/null &
            perf_pid=$!
        fi
        out=$(client_cmd "$server" taskset -c "$CLIENT_CPU" dnsperf -s "$(server_addr "$server")" \
            -p "$port" -d "$queries" -l "$DURATION" -c "$CLIENTS" -q "$OUTSTANDING" \
            ${QPS:+-Q "$QPS"} -e -t 2 2>&1)
        after=$(cpu_ticks "$SERVER_PID")
        [ -n "$perf_pid" ] && wait "$perf_pid" || true
        stop_server
        completed=$(echo "$out" | awk '/Queries completed:/ { print $3 }')
        lost=$(echo "$out" | awk '/Queries lost:/ { print $3 }')
        qps=$(echo "$out" | awk '/Queries per second:/ { print $4 }')
        resp=$(echo "$out" | sed -n 's/.*Average packet size:.*response \([0-9]*\).*/\1/p')
        # dnsperf's mean latency over the run, in microseconds.
        lat=$(echo "$out" | awk '/Average Latency \(s\):/ { printf "%.0f", $4 * 1000000 }')
        cpu=$(calc "($after - $before) / $CLK_TCK")
        per_cpu=$(calc "$completed / $cpu")
        PER_CPU[$server.$names]=$per_cpu
        printf '  %-10s %8s %9.1f %11.0f %9.2f %13.0f %8s %10s %8s\n' "$server" "$load" \
            "$(calc "$rss / 1024")" "$qps" "$cpu" "$per_cpu" "$lost" "$resp" "$lat"
        # unistack-dnsd's own count of datagrams per recvmmsg (and of its pauses to let a
        # batch gather), printed when it stops.
        sed -n 's/^udp batches: /             batches: /p' "$WORK/$server/out.log" 2>/dev/null || true
    done
    for pair in unistack/nsd unistack/knot appliance/unistack appliance/nsd appliance/knot; do
        ours=${pair%/*} peer=${pair#*/}
        if [ -n "${PER_CPU[$ours.$names]:-}" ] && [ -n "${PER_CPU[$peer.$names]:-}" ]; then
            printf '  %s / %s per CPU-second: %.2fx\n' "$ours" "$peer" \
                "$(calc "${PER_CPU[$ours.$names]} / ${PER_CPU[$peer.$names]}")"
        fi
    done
    rm -f "$zone" "$queries"
done
