#!/bin/sh
# tests/hostile/torture.sh — the RFC 4475 torture messages (3.1.1 valid,
# 3.1.2 invalid, 3.2, 3.3 application layer, 3.4) sent one UDP datagram
# each to a live `callroute serve` (issue 11, Tests); run under ASan+UBSan
# by tests/run.sh. Each tests/hostile/torture/NAME.sip holds the message's
# bytes, taken from the RFC's bit-exact archive; NAME.expect beside it the
# answer a correct server gives (or silence), why, and what the serve log
# must show. tests/hostile/torture.py sends one and checks it: the answer,
# then an OPTIONS the server must still answer 200, and no other datagram.
# At the end the server must still run, stop cleanly on SIGTERM and leave
# no sanitizer report in its log.
#
# Adapted from the RFC text only where the test needs it: the top Via's
# sent-by is 127.0.0.1:@UAC@ over UDP (answers come back to the tester, no
# name is resolved, nothing leaves loopback); the other Vias, the
# Request-URIs and everything else are the RFC's. The tester's port is a
# gateway in torture.yaml, so an INVITE the stack lets through reaches a
# scenario. TORTURE_CASES="wsinv esc01" runs some messages only.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
HERE=$ROOT/tests/hostile
SUITE=hostile-torture
. "$ROOT/tests/sip/lib.sh"

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 2)
SIP=$1 UAC=$2 RTP=$3

sed -e "s|@RTP@|$RTP-$((RTP + 999))|; s|@UAC@|$UAC|" "$HERE/torture.yaml" >"$W/torture.yaml"
"$CR" serve "$W/torture.yaml" --sip "udp:127.0.0.1:$SIP" --admin off >"$W/serve.log" 2>&1 &
SERVE=$!
BG="$BG $SERVE"
if ! wait_for "$W/serve.log" 15 'listening for SIP'; then
    echo "FAIL $SUITE:setup"
    sed 's/^/    /' "$W/serve.log"
    exit 1
fi

for m in "$HERE"/torture/*.sip; do
    n=$(basename "$m" .sip)
    if [ -n "${TORTURE_CASES:-}" ]; then
        case " $TORTURE_CASES " in *" $n "*) ;; *) continue ;; esac
    fi
    /usr/bin/python3 "$HERE/torture.py" "$SIP" "$UAC" "$W/serve.log" "$m" >"$W/$n.out" 2>&1
    case $? in
    0) ok "$n" ;;
    2)
        echo "PASS $SUITE:$n (expected failure)"
        sed 's/^/    /' "$W/$n.out"
        ;;
    *) bad "$n" "$(tail -1 "$W/$n.out")" "$W/serve.log" ;;
    esac
done

case_alive_then_clean_exit() { # still serving after every message; SIGTERM: exit 0, no sanitizer report
    EVIDENCE="$W/serve.log"
    expect "the server died during the torture set" kill -0 "$SERVE" || return 1
    kill -TERM "$SERVE"
    reap "$SERVE" || { WHY="serve did not exit 0 after SIGTERM"; return 1; }
    expect "sanitizer report in the serve log" \
        sh -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$W/serve.log'"
}
run alive_then_clean_exit
[ "$FAILS" -eq 0 ]
