#!/bin/sh
# tests/hostile/uris.sh — what callroute puts into the SIP requests it sends
# when the values come from the caller (issue 11, item 2): a dial target
# from a header ("1@evil.example", "1;transport=tcp") never reaches the
# gateway (the caller gets the failure, the log says invalid number); a
# caller ID from a header and a display name full of quotes reach the
# gateway as one well-formed From; a transfer target from a header stays
# one user in Refer-To. Real peers: sipp callers and a sipp gateway.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
HERE=$ROOT/tests/hostile
SUITE=hostile-uris
. "$ROOT/tests/sip/lib.sh"

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 3)
SIP=$1 UAS=$2 UAC=$3 RTP=$4

# sipp with our defaults; NAME first (its logs go to $W/NAME.*).
sipp_run() {
    name=$1
    shift
    timeout 25 sipp "$@" -i 127.0.0.1 -nostdin -cid_str "%u-%p-$name@%s" -timeout 20 -timeout_error \
        -recv_timeout 8000 -trace_msg -message_file "$W/$name.msg" -trace_err -error_file "$W/$name.err" \
        >"$W/$name.out" 2>&1
}
# A caller: caller NAME SERVICE SCENARIO [sipp args...]
caller() {
    name=$1 svc=$2 scen=$3
    shift 3
    sipp_run "$name" 127.0.0.1:"$SIP" -p "$UAC" -s "$svc" -m 1 -sf "$HERE/$scen.xml" "$@"
}
# The gateway: sipp's built-in UAS on $UAS in the background; sets LAST.
# LAST is timeout(1) itself (exec), so stopping it stops sipp too: a gateway
# that never gets its INVITE must not hold the port for the next case.
gateway() {
    (exec timeout 25 sipp -p "$UAS" -m 1 -sn uas -i 127.0.0.1 -nostdin -timeout 20 -timeout_error \
        -trace_msg -message_file "$W/$1.msg" -trace_err -error_file "$W/$1.err" >"$W/$1.out" 2>&1) &
    LAST=$!
    BG="$BG $LAST"
    PEERS="$PEERS $LAST"
    wait_port "$UAS"
}
call_id() { grep -m1 -io "^Call-ID: *[^ ]*-$1@[^ ]*" "$W/$1.msg" | sed 's/^[^:]*: *//; s/\r$//'; }
in_log() { grep -F -- "$(call_id "$1")" "$W/serve.log" | grep -q -- "$2"; }
no_invite() { ! grep -q "^INVITE " "$W/$1.msg" 2>/dev/null; }

sed -e "s|@RTP@|$RTP-$((RTP + 999))|; s|@UAS@|$UAS|; s|@UAC@|$UAC|" "$HERE/uris.yaml" >"$W/uris.yaml"
"$CR" serve "$W/uris.yaml" --sip "udp:127.0.0.1:$SIP" --admin off --log-level debug >"$W/serve.log" 2>&1 &
SERVE=$!
BG="$BG $SERVE"
if ! wait_for "$W/serve.log" 15 'listening for SIP'; then
    echo "FAIL $SUITE:setup"
    sed 's/^/    /' "$W/serve.log"
    exit 1
fi

refused() { # refused NAME TARGET: TARGET from X-Target is not dialled
    EVIDENCE="$W/$1.out $W/$1.err $W/${1}_gw.msg $W/serve.log"
    gateway "${1}_gw"
    caller "$1" target uris-refused -key target "$2" || { WHY="the caller did not get 480"; return 1; }
    expect "the gateway received an INVITE" no_invite "${1}_gw" &&
        expect "no 'invalid number' in the log" in_log "$1" "invalid number for gateway gw" &&
        expect "dial_status/dial_sip_code not failed 484" in_log "$1" "dial failed 484"
}
case_target_with_host() { refused at "1@evil.example"; }
case_target_with_params() { refused params "1;transport=tcp"; }

case_caller_id_and_display_name() { # X-Cid as caller ID, a hostile display name: one well-formed From
    EVIDENCE="$W/cid.out $W/cid.err $W/cid_gw.msg $W/serve.log"
    gateway cid_gw
    p=$LAST
    caller cid callerid uris-talk -key cid "666@evil.example;x=y" && reap $p ||
        { WHY="the call through the gateway failed"; return 1; }
    expect "the From the gateway got is not one quoted name and our user" /usr/bin/python3 - "$W/cid_gw.msg" <<'PY'
import re, sys, urllib.parse
text = open(sys.argv[1], encoding="latin-1").read()
invite = text[text.index("INVITE sip:"):]
head = invite.split("\r\n\r\n" if "\r\n\r\n" in invite else "\n\n")[0]
froms = [l.rstrip("\r") for l in head.splitlines() if l.lower().startswith(("from:", "f:"))]
assert len(froms) == 1, froms
m = re.fullmatch(r'From: "((?:[^"\\\r\n]|\\[\x00-\x09\x0b\x0c\x0e-\x7f])*)" '
                 r'<sip:([^@<>"?\s]+)@127\.0\.0\.1>;tag=[^;,\s]+', froms[0])
assert m, froms[0]
name = re.sub(r'\\(.)', r'\1', m.group(1))
assert name == 'Eve" <sip:666@evil.example>;x y, \\', name
# One user at our host, the caller ID whole ('@' escaped; sofia may print
# ';' and '=' as they are, legal in a user part).
assert urllib.parse.unquote(m.group(2)) == "666@evil.example;x=y", m.group(2)
PY
}

case_transfer_target() { # X-Target as the transfer target: one user at our address in Refer-To
    # (sofia prints ';' and '=' of a user part unescaped: legal there, the
    # user still ends at the one '@' before our host)
    EVIDENCE="$W/refer.out $W/refer.err $W/serve.log"
    caller refer transfer uris-refer -key target "200@evil.example;transport=tcp" ||
        { WHY="the transfer call failed"; return 1; }
    expect "Refer-To is not the escaped user at callroute" \
        grep -Eq "^Refer-To: *<sip:200%40evil\.example(%3B|;)transport(%3D|=)tcp@127\.0\.0\.1:$SIP>" "$W/refer.msg"
}

case_subscribe_in_call() { # a SUBSCRIBE inside an answered call's dialog gets its final
    # response (489) and the call goes on to the caller's BYE
    EVIDENCE="$W/sub.out $W/sub.err $W/sub.msg $W/serve.log"
    caller sub line subscribe-in-call || { WHY="no 489 to the in-dialog SUBSCRIBE, or the BYE failed"; return 1; }
}

run target_with_host
run target_with_params
run caller_id_and_display_name
run transfer_target
run subscribe_in_call
if grep -qE 'AddressSanitizer|runtime error:|LeakSanitizer' "$W/serve.log"; then
    bad sanitizer "a sanitizer report in the serve log" "$W/serve.log"
fi
[ "$FAILS" -eq 0 ]
