#!/bin/sh
# tests/hostile/dns.sh — requests whose Via names a host (a malformed one
# answered 400/505, or any request with maddr=NAME) must not make the server
# look the name up: sofia does it with a blocking getaddrinfo, and a burst
# of random names froze SIP, RTP and the admin API (issue 11, item 8).
#
# The test runs in a network and mount namespace of its own, whose
# resolv.conf points at a DNS server on its loopback that never answers and
# counts the queries it gets: the server must send none, and answer a
# well-formed request right after the burst.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
SUITE=hostile-dns

if [ -z "${CALLROUTE_IN_NS:-}" ]; then
    if ! unshare -n -m true 2>/dev/null; then
        echo "FAIL $SUITE:setup"
        echo "    needs unshare -n -m (run as root)"
        exit 1
    fi
    CALLROUTE_IN_NS=1 ROOT=$ROOT CALLROUTE=$CR exec unshare -n -m sh "$0" "$@"
fi

. "$ROOT/tests/sip/lib.sh"
ip link set lo up
echo "nameserver 127.0.0.1" >"$W/resolv.conf"
echo "options timeout:5 attempts:1" >>"$W/resolv.conf"
mount --bind "$W/resolv.conf" /etc/resolv.conf

# A DNS server that never answers; the number of queries is in $W/queries.
/usr/bin/python3 - "$W/queries" >"$W/dns.out" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
n = 0
open(sys.argv[1], "w").write("0\n")
print("ready", flush=True)
while True:
    data, addr = s.recvfrom(4096)
    n += 1
    open(sys.argv[1], "w").write(f"{n}\n")
PY
BG="$BG $!"
wait_for "$W/dns.out" 10 ready || { echo "FAIL $SUITE:setup"; echo "    no DNS server"; exit 1; }

# The burst is far over settings.sip.flood: the limit is off here, so every
# request reaches sofia (what this test is about).
cat >"$W/dns.yaml" <<EOF
version: 1
settings:
  sip: { flood: { rate: 0 } }
  media: { rtp_ports: "40000-40100" }
  smtp: { outbox: "$W/outbox" }
  cdr: { database: off }
  databases: { remote: "postgresql://cr@db.example.test/x" }
gateways:
  callers: { uri: "sip:127.0.0.1:5070" }
routes:
  - name: db
    conditions: [ { var: called_number, op: equals, value: db } ]
    script:
      - app: answer
      - app: db
        database: remote
        query: "SELECT 1"
        timeout: 10
        on_error:
          - app: log
            level: warning
            message: "db done: {db_error}"
      - app: wait
        seconds: 1
  - name: any
    script:
      - app: hangup
EOF
SIP=5060
"$CR" serve "$W/dns.yaml" --sip "udp:127.0.0.1:$SIP" --admin off >"$W/serve.log" 2>&1 &
SERVE=$!
BG="$BG $SERVE"
if ! wait_for "$W/serve.log" 15 'listening for SIP'; then
    echo "FAIL $SUITE:setup"
    sed 's/^/    /' "$W/serve.log"
    exit 1
fi

# burst KIND COUNT: sends COUNT requests of KIND with random Via names, then
# one OPTIONS; exit 0 when the OPTIONS is answered 200 within 3 s.
burst() {
    /usr/bin/python3 - "$SIP" "$1" "$2" >"$W/$1.out" 2>&1 <<'PY'
import random, socket, sys
port, kind, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
me = s.getsockname()[1]

def req(via, version="SIP/2.0", cseq="1 OPTIONS", cid=None):
    cid = cid or "%08x@dns" % random.getrandbits(32)
    return (f"OPTIONS sip:probe@127.0.0.1:{port} {version}\r\n"
            f"Via: {via};branch=z9hG4bK{random.getrandbits(40):x}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:probe@127.0.0.1:{me}>;tag={random.getrandbits(32):x}\r\n"
            f"To: <sip:probe@127.0.0.1:{port}>\r\n"
            f"Call-ID: {cid}\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n").encode()

for i in range(count):
    name = "r%d-%x.example.com" % (i, random.getrandbits(32))
    if kind == "version":      # answered 505 to the Via host
        m = req(f"SIP/7.0/UDP {name}", version="SIP/7.0")
    elif kind == "malformed":  # answered 400
        m = req(f"SIP/2.0/UDP {name}", cseq="x OPTIONS")
    else:                      # well-formed, but replies go to maddr
        m = req(f"SIP/2.0/UDP 127.0.0.1:{me};maddr={name}")
    s.sendto(m, ("127.0.0.1", port))

s.settimeout(3)
s.sendto(req(f"SIP/2.0/UDP 127.0.0.1:{me};rport", cid="final@dns"), ("127.0.0.1", port))
while True:
    try:
        data, _ = s.recvfrom(65535)
    except socket.timeout:
        print("no answer to the OPTIONS after the burst")
        sys.exit(1)
    if b"final@dns" in data:
        print(data.split(b"\r\n")[0].decode())
        sys.exit(0 if data.startswith(b"SIP/2.0 200") else 1)
PY
}

queries() { cat "$W/queries"; }

case_version() { # 505 to a Via with a host name and an unknown SIP version
    EVIDENCE="$W/version.out $W/serve.log"
    expect "the OPTIONS after the burst was not answered" burst version 50 &&
        expect "the server asked DNS $(queries) time(s)" [ "$(queries)" = 0 ]
}

case_malformed() { # 400 to a Via with a host name
    EVIDENCE="$W/malformed.out $W/serve.log"
    expect "the OPTIONS after the burst was not answered" burst malformed 50 &&
        expect "the server asked DNS $(queries) time(s)" [ "$(queries)" = 0 ]
}

case_maddr() { # a well-formed request whose Via sends replies to maddr=NAME
    EVIDENCE="$W/maddr.out $W/serve.log"
    expect "the OPTIONS after the burst was not answered" burst maddr 50 &&
        expect "the server asked DNS $(queries) time(s)" [ "$(queries)" = 0 ]
}

case_pg_host_name() { # a PostgreSQL host name is looked up off the loop: SIP is answered meanwhile
    EVIDENCE="$W/pgname.out $W/pgcall.out $W/serve.log"
    timeout 30 sipp 127.0.0.1:"$SIP" -sn uac -s db -d 9000 -i 127.0.0.1 -p 5070 -m 1 -nostdin -timeout 25 \
        >"$W/pgcall.out" 2>&1 &
    call=$!
    BG="$BG $call"
    wait_for "$W/serve.log" 10 'route *db' || { WHY="the call did not reach the db route"; return 1; }
    # The lookup of db.example.test now waits for a DNS server that never
    # answers (5 s). An OPTIONS sent meanwhile must be answered before the
    # query gives up: the loop is not the one waiting.
    /usr/bin/python3 - "$SIP" "$W/serve.log" >"$W/pgname.out" 2>&1 <<'PY'
import socket, sys
port, log = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
me = s.getsockname()[1]
s.sendto((f"OPTIONS sip:probe@127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bKpg1\r\n"
          f"Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1:{me}>;tag=1\r\nTo: <sip:probe@127.0.0.1:{port}>\r\n"
          "Call-ID: pgname@dns\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode(), ("127.0.0.1", port))
s.settimeout(15)
data, _ = s.recvfrom(65535)
done = "db done" in open(log).read()
print(data.split(b"\r\n")[0].decode(), "| the query had already given up:", done)
sys.exit(0 if data.startswith(b"SIP/2.0 200") and not done else 1)
PY
    rc=$?
    wait_for "$W/serve.log" 15 'db done' || true
    reap "$call"
    expect "the OPTIONS waited for the lookup ($(cat "$W/pgname.out"))" [ $rc = 0 ] &&
        expect "the query did not fail with the lookup's error" grep -q "db done: cannot resolve db.example.test" "$W/serve.log"
}

case_alive() { # no crash, no sanitizer report
    EVIDENCE="$W/serve.log"
    expect "the server died" kill -0 "$SERVE" &&
        expect "sanitizer report" sh -c "! grep -qE 'AddressSanitizer|runtime error:' '$W/serve.log'"
}

for c in ${HOSTILE_DNS_CASES:-version malformed maddr pg_host_name alive}; do
    run "$c"
done
[ "$FAILS" -eq 0 ]
