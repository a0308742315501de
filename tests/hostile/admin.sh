#!/bin/sh
# tests/hostile/admin.sh — the admin API and the serve log under what a
# hostile or careless network does (issue 11, items 8, 14, 19, 20): two
# INVITEs sharing a Call-ID, HTTP clients that never finish a request,
# calls refused for a limit, `log` actions at their level.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
HERE=$ROOT/tests/hostile
SUITE=hostile-admin
. "$ROOT/tests/sip/lib.sh"

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 7)
SIP=$1 UAC=$2 UAC2=$3 ADMIN=$4 UAC3=$5 UAC4=$6 UAC5=$7 RTP=$8

get() { # get PATH NAME: the body in $W/NAME.json, CODE set
    CODE=$(/usr/bin/python3 "$ROOT/tests/admin/fetch.py" GET "http://127.0.0.1:$ADMIN$1" "$W/$2.json" 2>>"$W/http.err")
}
json() { # json NAME EXPR: EXPR (Python, body is d) holds
    /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" \
        "$W/$1.json" 2>>"$W/http.err"
}
call() { # call NAME PORT TO HOLD_MS [sipp args]: one sipp call in the background; sets LAST
    name=$1 port=$2 to=$3 hold=$4
    shift 4
    timeout 25 sipp 127.0.0.1:"$SIP" -sn uac -s "$to" -m 1 -d "$hold" -i 127.0.0.1 -p "$port" -nostdin \
        -timeout 20 -timeout_error -trace_msg -message_file "$W/$name.msg" "$@" >"$W/$name.out" 2>&1 &
    LAST=$!
    BG="$BG $LAST"
}
server_alive() { kill -0 "$SERVE" 2>/dev/null; }

sed -e "s|@RTP@|$RTP-$((RTP + 999))|; s|@ADMIN@|$ADMIN|" "$HERE/admin.yaml" >"$W/admin.yaml"
"$CR" serve "$W/admin.yaml" --sip "udp:127.0.0.1:$SIP" >"$W/serve.log" 2>&1 &
SERVE=$!
BG="$BG $SERVE"
if ! wait_for "$W/serve.log" 15 'listening for SIP'; then
    echo "FAIL $SUITE:setup"
    sed 's/^/    /' "$W/serve.log"
    exit 1
fi

case_same_call_id() { # two live calls, one Call-ID: both listed, both finish, no use after free
    EVIDENCE="$W/same1.out $W/same2.out $W/calls.json $W/serve.log"
    call same1 "$UAC" 100 1500 -cid_str "shared-call-id@attacker"
    a=$LAST
    call same2 "$UAC2" 100 3000 -cid_str "shared-call-id@attacker"
    b=$LAST
    reap $a || { WHY="first call failed"; return 1; }
    reap $b || { WHY="second call failed"; return 1; }
    wait_for "$W/serve.log" 5 'shared-call-id@attacker.*ended\|shared-call-id@attacker: call' || true
    get /calls calls
    expect "GET /calls after two calls sharing a Call-ID: $CODE (server alive: $(server_alive && echo yes || echo no))" \
        [ "$CODE" = 200 ] &&
        expect "the finished calls are not both listed, or one is still live" json calls \
            "d['calls'] == [] and [c['call_id'] for c in d['finished'][:2]] == ['shared-call-id@attacker'] * 2" &&
        expect "sanitizer report" sh -c "! grep -qE 'AddressSanitizer|runtime error:' '$W/serve.log'"
}

case_half_open_http() { # 80 clients send half a request and hold: /health answers again after the timeout
    EVIDENCE="$W/slow.out $W/serve.log $W/http.err"
    /usr/bin/python3 - "$ADMIN" >"$W/slow.out" 2>&1 <<'PY'
import socket, sys, time, urllib.request
port = int(sys.argv[1])
held = []
for _ in range(80):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")   # never the blank line
    held.append(s)
# While they are held, and after the server's connection timeout has
# passed, a well-behaved client must be answered.
deadline = time.time() + 20
ok = False
while time.time() < deadline:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            ok = r.status == 200
            break
    except Exception as e:
        print("not yet:", e)
print("answered while held:", ok)
for s in held:
    s.close()
sys.exit(0 if ok else 1)
PY
    rc=$?
    [ $rc = 0 ] || { WHY="/health never answered while 80 half-sent requests were held"; return 1; }
    # Once they are closed the server must free their sockets: no CLOSE-WAIT left.
    i=0
    while [ -n "$(ss -Htn state close-wait "sport = :$ADMIN")" ]; do
        i=$((i + 1))
        [ $i -lt 300 ] || { WHY="sockets left in CLOSE-WAIT: $(ss -Htn state close-wait "sport = :$ADMIN" | wc -l)"; return 1; }
        sleep 0.05
    done
    get /health h && expect "/health after the slow clients: $CODE" [ "$CODE" = 200 ]
}

case_refused_visible() { # over max_calls: 503, a log line with Call-ID, source and reason, counted
    EVIDENCE="$W/lim*.out $W/over.out $W/refused.json $W/serve.log"
    pids=""
    for p in "$UAC" "$UAC2" "$UAC3" "$UAC4"; do
        call "lim$p" "$p" 100 4000 -cid_str "limit-$p@x"
        pids="$pids $LAST"
    done
    i=0
    while :; do
        get /health h && json h "d['calls'] == 4" && break
        i=$((i + 1))
        [ $i -lt 200 ] || { WHY="the 4 calls are not up"; return 1; }
        sleep 0.05
    done
    timeout 25 sipp 127.0.0.1:"$SIP" -sn uac -s 100 -m 1 -i 127.0.0.1 -p "$UAC5" -nostdin -timeout 20 \
        -cid_str "one-too-many@x" -bind_local -trace_msg -message_file "$W/over.msg" >"$W/over.out" 2>&1 &
    over=$!
    BG="$BG $over"
    wait_for "$W/serve.log" 10 'one-too-many@x' || true
    for p in $pids; do reap "$p"; done
    reap $over
    expect "the 5th call was not answered 503" grep -q "SIP/2.0 503" "$W/over.msg" &&
        expect "no WARN log line with Call-ID, source and reason" \
            grep -q "WARN sip: call one-too-many@x from 127.0.0.1:[0-9]* refused: 503 max_calls" "$W/serve.log" &&
        get /refused refused &&
        expect "GET /refused does not list it" json refused \
            "d['refused'][0]['call_id'] == 'one-too-many@x' and d['refused'][0]['reason'] == 'max_calls' and d['refused'][0]['code'] == 503 and d['refused'][0]['source'].startswith('127.0.0.1:')" &&
        get /health h2 &&
        expect "/health does not count it" json h2 "d['refused'] >= 1 and d['refused_by_reason']['max_calls'] >= 1"
}

case_log_levels() { # a warning `log` action is in the serve log at info; debug is not
    EVIDENCE="$W/logs.out $W/serve.log"
    call logs "$UAC" logs 100 -cid_str "logs-call@x"
    reap $LAST || { WHY="call failed"; return 1; }
    wait_for "$W/serve.log" 5 "logs-call@x.*reached the log route" || true
    expect "the warning log line is missing (timestamp, WARN, call id, message)" \
        grep -qE "^[0-9-]+ [0-9:.]+ WARN trace logs-call@x: .*caller sipp reached the log route" "$W/serve.log" &&
        expect "a debug log line shows at info" sh -c "! grep -q 'a debug line' '$W/serve.log'"
}

case_shutdown_by_system() { # a call ended by SIGTERM: hangup_by system
    EVIDENCE="$W/sys.out $W/serve.log"
    call sys "$UAC" 100 15000 -cid_str "shutdown-call@x"
    c=$LAST
    i=0
    while :; do
        get /health h && json h "d['calls'] == 1" && break
        i=$((i + 1))
        [ $i -lt 200 ] || { WHY="the call is not up"; return 1; }
        sleep 0.05
    done
    kill -TERM "$SERVE"
    reap "$SERVE" || { WHY="serve did not exit 0 after SIGTERM"; return 1; }
    reap $c
    expect "the call ended by shutdown is not 'by system'" \
        grep -qE "shutdown-call@x: .*(by system|by=system|\"by\":\"system\")" "$W/serve.log" &&
        expect "sanitizer report at exit" sh -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$W/serve.log'"
}

for c in ${HOSTILE_ADMIN_CASES:-same_call_id half_open_http refused_visible log_levels shutdown_by_system}; do
    run "$c"
done
[ "$FAILS" -eq 0 ]
