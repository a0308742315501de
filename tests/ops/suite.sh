#!/bin/sh
# tests/ops/suite.sh — running callroute as a service (issue 12): the
# systemd notify protocol (READY, RELOADING, STOPPING, WATCHDOG) read from a
# real notify socket, SIGTERM draining live calls for drain_timeout, the log
# file reopened on SIGUSR1 (logrotate), the route explanation at debug level
# (built only when something shows it).
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
SC=$ROOT/tests/sip/scenarios
SUITE=ops
. "$ROOT/tests/sip/lib.sh"

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 4)
SIP=$1 UAC=$2 UAC2=$3 UAC3=$4 RTP=$5

# scenario NAME DRAIN: answer, wait 2 s (number 2) or 30 s, hang up
scenario() {
    cat >"$W/$1.yaml" <<EOF
version: 1
settings:
  media: { rtp_ports: "$RTP-$((RTP + 499))" }
  limits: { drain_timeout: $2 }
gateways:
  callers: { uri: "sip:127.0.0.1:$UAC", match: ip }
routes:
  - name: short
    conditions: [ { var: called_number, op: equals, value: "2" } ]
    script:
      - app: answer
      - app: wait
        seconds: 2
  - name: long
    script:
      - app: answer
      - app: wait
        seconds: 30
EOF
}
start() { # start NAME [serve args]: sets SERVE
    name=$1
    shift
    "$CR" serve "$W/$name.yaml" --sip "udp:127.0.0.1:$SIP" --admin off "$@" >>"$W/$name.log" 2>&1 &
    SERVE=$!
    BG="$BG $SERVE"
    wait_for "$W/$name.log" 15 'listening for SIP'
}
call() { # call NAME PORT SECONDS SCENARIO: a sipp caller in the background; sets LAST
    timeout 40 sipp 127.0.0.1:"$SIP" -sf "$SC/$4.xml" -s "$3" -i 127.0.0.1 -p "$2" -m 1 -nostdin \
        -cid_str "$1-%u@ops" -timeout 35 -trace_msg -message_file "$W/$1.msg" >"$W/$1.out" 2>&1 &
    LAST=$!
    BG="$BG $LAST"
}

case_notify() { # READY with a status, WATCHDOG pets, RELOADING/READY on SIGHUP, STOPPING on SIGTERM
    EVIDENCE="$W/notify.txt $W/notify.log"
    scenario notify 0
    /usr/bin/python3 - "$W/notify.sock" "$W/notify.txt" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "w", buffering=1) as out:
    while True:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            break
        out.write(msg.replace("\n", " ") + "\n")
        if "STOPPING=1" in msg:
            break
PY
    listener=$!
    BG="$BG $listener"
    i=0
    while [ ! -S "$W/notify.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    NOTIFY_SOCKET="$W/notify.sock" WATCHDOG_USEC=300000 start notify || { WHY="serve did not start"; return 1; }
    wait_for "$W/notify.txt" 10 '^READY=1' || { WHY="no READY=1"; return 1; }
    i=0
    while [ "$(grep -c '^WATCHDOG=1' "$W/notify.txt")" -lt 3 ]; do
        i=$((i + 1))
        [ $i -lt 100 ] || { WHY="fewer than 3 WATCHDOG=1 in 5 s (one every 150 ms expected)"; return 1; }
        sleep 0.05
    done
    kill -HUP "$SERVE"
    wait_for "$W/notify.txt" 5 '^RELOADING=1' || { WHY="no RELOADING=1 on SIGHUP"; return 1; }
    kill -TERM "$SERVE"
    reap "$SERVE" || { WHY="serve did not exit 0"; return 1; }
    reap "$listener"
    expect "READY=1 had no STATUS" grep -q '^READY=1 STATUS=listening for SIP on port' "$W/notify.txt" &&
        expect "no READY=1 after RELOADING=1" sh -c "sed -n '/^RELOADING=1/,\$p' '$W/notify.txt' | grep -q '^READY=1'" &&
        expect "no STOPPING=1 on SIGTERM" grep -q '^STOPPING=1' "$W/notify.txt"
}

case_drain_lets_calls_finish() { # SIGTERM: new calls 503, a live call ends on its own, exit 0
    EVIDENCE="$W/live.out $W/late.msg $W/drain.log"
    scenario drain 10s
    start drain || { WHY="serve did not start"; return 1; }
    call live "$UAC" 2 uac-wait-bye
    live=$LAST
    wait_for "$W/drain.log" 10 'live-.*route' || { WHY="the call did not start"; return 1; }
    kill -TERM "$SERVE"
    wait_for "$W/drain.log" 5 'may go on for 10s' || { WHY="no drain log line"; return 1; }
    timeout 20 sipp 127.0.0.1:"$SIP" -sn uac -s 1 -i 127.0.0.1 -p "$UAC2" -m 1 -nostdin -cid_str "late@ops" \
        -timeout 10 -trace_msg -message_file "$W/late.msg" >"$W/late.out" 2>&1
    reap "$live" || { WHY="the live call failed"; return 1; }
    reap "$SERVE" || { WHY="serve did not exit 0"; return 1; }
    expect "a new call during the drain was not refused 503" grep -q "SIP/2.0 503" "$W/late.msg" &&
        expect "the live call did not end on its own (by scenario)" \
            grep -qE "live-[^ ]*: .*call +end .*hangup by scenario" "$W/drain.log"
}

case_drain_timeout() { # a call longer than drain_timeout is ended by system when it is over
    EVIDENCE="$W/long.out $W/timeout.log"
    scenario timeout 1s
    start timeout || { WHY="serve did not start"; return 1; }
    call long "$UAC3" 30 uac-wait-bye
    long=$LAST
    wait_for "$W/timeout.log" 10 'long-.*route' || { WHY="the call did not start"; return 1; }
    kill -TERM "$SERVE"
    reap "$long" || { WHY="the caller got no BYE"; return 1; }
    reap "$SERVE" || { WHY="serve did not exit 0"; return 1; }
    expect "the call was not ended by system after the drain time" \
        grep -qE "long-[^ ]*: .*call +end .*hangup by system" "$W/timeout.log" &&
        expect "no 'drain time over' line" grep -q "drain time over: ending 1 running" "$W/timeout.log"
}

case_log_reopen() { # --log-file, moved away by logrotate, reopened on SIGUSR1
    EVIDENCE="$W/reopen.log $W/out.log $W/out.log.1"
    scenario reopen 0
    : >"$W/reopen.log"
    start reopen --log-file "$W/out.log" || true
    wait_for "$W/out.log" 15 'listening for SIP' || { WHY="nothing logged to --log-file"; return 1; }
    mv "$W/out.log" "$W/out.log.1"
    kill -USR1 "$SERVE"
    wait_for "$W/out.log" 5 'log reopened' || { WHY="no new log file after SIGUSR1"; return 1; }
    kill -TERM "$SERVE"
    reap "$SERVE" || { WHY="serve did not exit 0"; return 1; }
    expect "the old file got lines after the reopen" sh -c "! grep -q 'stopped' '$W/out.log.1'" &&
        expect "the new file did not get the stop line" grep -q 'stopped' "$W/out.log"
}

case_route_explained_at_debug() { # without the admin API, why a route won is still in the debug log
    EVIDENCE="$W/why.out $W/why.log"
    scenario why 0
    start why --log-level debug || { WHY="serve did not start"; return 1; }
    call why "$UAC" 2 uac-wait-bye
    reap "$LAST" || { WHY="the call failed"; return 1; }
    kill -TERM "$SERVE"
    reap "$SERVE" || { WHY="serve did not exit 0"; return 1; }
    expect "no explanation under the route line" grep -q "^ *short (priority [0-9]*): chosen" "$W/why.log" &&
        expect "the losing route not explained" grep -q "^ *long (priority [0-9]*): matched, but 'short' wins" "$W/why.log"
}

for c in ${OPS_CASES:-notify drain_lets_calls_finish drain_timeout log_reopen route_explained_at_debug}; do
    run "$c"
done
[ "$FAILS" -eq 0 ]
