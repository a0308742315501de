#!/bin/sh
# tests/hostile/timers.sh — no call lives forever (issue 11, item 12): a
# caller that asked for a session timer and then vanishes is hung up when
# its refresh does not come (hangup_by system, cause session_timer); when
# callroute is the refresher, the refresh is sent and the call goes on;
# settings.limits.max_call_duration ends a call that is still up.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
SC=$ROOT/tests/sip/scenarios
SUITE=hostile-timers
. "$ROOT/tests/sip/lib.sh"

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 4)
SIP=$1 SIP2=$2 UAC=$3 UAC2=$4 RTP=$5

# serve NAME PORT SETTINGS: a server answering every call and waiting long
serve() {
    cat >"$W/$1.yaml" <<EOF
version: 1
settings:
  media: { rtp_ports: "$RTP-$((RTP + 499))" }
$3
gateways:
  callers: { uri: "sip:127.0.0.1:$UAC", match: ip }
routes:
  - name: long
    script:
      - app: answer
      - app: wait
        seconds: 600
EOF
    "$CR" serve "$W/$1.yaml" --sip "udp:127.0.0.1:$2" --admin off >"$W/$1.log" 2>&1 &
    BG="$BG $!"
    wait_for "$W/$1.log" 15 'listening for SIP' || { echo "FAIL $SUITE:setup"; sed 's/^/    /' "$W/$1.log"; exit 1; }
}

serve timers "$SIP" "  sip: { session_timer: { expires: 10, min_se: 10 } }"
serve maxdur "$SIP2" "  limits: { max_call_duration: 2s }
  sip: { session_timer: { expires: 0 } }"

caller() { # caller NAME SERVER_PORT LOCAL_PORT SCENARIO
    timeout 40 sipp 127.0.0.1:"$2" -sf "$SC/$4.xml" -s 100 -i 127.0.0.1 -p "$3" -m 1 -nostdin \
        -cid_str "$1-%u@timers" -timeout 35 -timeout_error -trace_msg -message_file "$W/$1.msg" \
        -trace_err -error_file "$W/$1.err" >"$W/$1.out" 2>&1
}

case_refresh_missing() { # refresher=uac never refreshes: BYE (Reason 408), hangup by system
    EVIDENCE="$W/silent.out $W/silent.err $W/timers.log"
    caller silent "$SIP" "$UAC" uac-timer-silent || { WHY="sipp: no BYE with Reason 408 after the session expired"; return 1; }
    wait_for "$W/timers.log" 5 'silent-.*call *end' || true
    expect "the call did not end by system (session_timer)" \
        grep -qE "silent-[^ ]*: .*call +end .*hangup by system \(session_timer\)" "$W/timers.log"
}

case_we_refresh() { # refresher=uas: callroute sends the refresh (UPDATE) and the call goes on
    EVIDENCE="$W/refreshed.out $W/refreshed.err $W/timers.log"
    caller refreshed "$SIP" "$UAC2" uac-timer-refreshed || { WHY="sipp: no refresh from callroute, or the call was not kept"; return 1; }
    wait_for "$W/timers.log" 5 'refreshed-.*call *end' || true
    expect "the call did not end by the caller" \
        grep -qE "refreshed-[^ ]*: .*call +end .*hangup by caller" "$W/timers.log"
}

case_max_call_duration() { # a call still up after max_call_duration gets BYE, by system (max_time)
    EVIDENCE="$W/long.out $W/long.err $W/maxdur.log"
    caller long "$SIP2" "$UAC" uac-wait-bye || { WHY="sipp: no BYE from callroute"; return 1; }
    wait_for "$W/maxdur.log" 5 'long-.*call *end' || true
    expect "the call did not end by system (max_time) after 2 s" \
        grep -qE "long-[^ ]*: .*call +end .*duration 2\.[0-9]+ s +hangup by system \(max_time\)" "$W/maxdur.log"
}

for c in ${HOSTILE_TIMERS_CASES:-refresh_missing we_refresh max_call_duration}; do
    run "$c"
done
expect "sanitizer report" sh -c "! grep -qE 'AddressSanitizer|runtime error:' '$W/timers.log' '$W/maxdur.log'" ||
    bad sanitizers "$WHY" "$W/timers.log" "$W/maxdur.log"
[ "$FAILS" -eq 0 ]
