#!/bin/sh
# tests/meet/suite.sh — calls that meet other calls, on real SIP calls
# through `callroute serve` ($CALLROUTE; the sanitizer build under
# tests/run.sh): a conference room, a supervisor's listen, barge and
# whisper, park and pickup, a park's timeout, sms to a registered phone, an
# incoming MESSAGE. Every peer is real and local: sipp does the SIP of each phone,
# tests/meet/rtp_peer.py its RTP — each phone sends a tone of its own
# frequency and keeps what it receives, and hears.py says which tones are
# in it (Goertzel), so "A hears B and C and not itself" is checked on the
# audio itself. The admin API (GET /conferences, mute, kick, GET /calls)
# is driven with urllib. All on 127.0.0.1, ports picked per run, every
# process started with a time limit and stopped here. One line per case:
# "PASS meet:NAME" or "FAIL meet:NAME" with the evidence.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
HERE=$ROOT/tests/meet
SC=$ROOT/tests/sip/scenarios
PY=/usr/bin/python3
SUITE=meet
. "$ROOT/tests/sip/lib.sh"

# shellcheck disable=SC2046
set -- $($PY "$ROOT/tests/sip/ports.py" 18)
SIP=$1 ADMIN=$2 AGENT=$3 PHONE=$4 REG=$5 C1=$6 C2=$7 C3=$8 C4=$9
shift 9
R1=$1 R2=$2 R3=$3 R4=$4 R5=$5 R6=$6 C5=$7 U1=$8 U2=$9 RTP=${10}
TOKEN=meet-token-0123456789
export CALLROUTE_ADMIN_TOKEN=$TOKEN
FREQS=200,300,650,900,1100,1300

# ---- helpers (the shared ones are in tests/sip/lib.sh) ----

# api METHOD PATH NAME [BODY]: with the token; the answer in $W/NAME.json, CODE.
api() {
    b=""
    if [ $# -ge 4 ]; then printf '%s' "$4" >"$W/$3.body"; b="$W/$3.body"; fi
    # shellcheck disable=SC2086
    CODE=$(FETCH_TOKEN=$TOKEN $PY "$ROOT/tests/admin/fetch.py" "$1" "http://127.0.0.1:$ADMIN$2" "$W/$3.json" $b \
        2>>"$W/http.err")
}

# json NAME EXPR: EXPR (Python; d is the parsed $W/NAME.json) holds.
json() {
    $PY -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$W/$1.json" 2>>"$W/http.err"
}

# sipp with our defaults; NAME first (logs go to $W/NAME.*).
sipp_run() {
    name=$1
    shift
    timeout 25 sipp "$@" -i 127.0.0.1 -nostdin -cid_str "%u-%p-$name@%s" -timeout 20 -timeout_error \
        -recv_timeout 8000 -trace_msg -message_file "$W/$name.msg" -trace_err -error_file "$W/$name.err" \
        >"$W/$name.out" 2>&1
}

# Registers a user: reg NAME USER PASSWORD CONTACT_PORT.
reg() {
    sed "s/@FINAL@/200/" "$SC/register.xml" >"$W/register.xml"
    sipp_run "$1" 127.0.0.1:"$SIP" -p "$REG" -m 1 -sf "$W/register.xml" -key user "$2" \
        -key contact_port "$4" -key expires 60 -au "$2" -ap "$3"
}

# rtp NAME PORT HZ SECS: NAME's RTP (after $W/NAME.port names the server) into $W/NAME.json.
rtp() {
    timeout 40 $PY "$HERE/rtp_peer.py" "$W/$1.port" "$2" "$3" "$4" "$W/$1.json" "$FREQS" >"$W/$1.rtp.out" 2>&1 &
    BG="$BG $!"
    PEERS="$PEERS $!"
}

# A phone from the trunk: caller NAME SERVICE SIP_PORT RTP_PORT HZ SECS HOLD_MS (sipp in LAST).
caller() {
    sed "s/@HOLD@/$7/" "$ROOT/tests/hostile/media-call.xml" >"$W/$1.xml"
    rm -f "$W/$1.port" "$W/$1.port.bye" "$W/$1.json"
    timeout 40 sipp 127.0.0.1:"$SIP" -sf "$W/$1.xml" -s "$2" -m 1 -i 127.0.0.1 -p "$3" -nostdin \
        -key rtpip 127.0.0.1 -key rtpport "$4" -key portfile "$W/$1.port" -cid_str "%u-%p-$1@%s" \
        -timeout 35 -timeout_error -trace_msg -message_file "$W/$1.msg" >"$W/$1.out" 2>&1 &
    LAST=$!
    BG="$BG $LAST"
    PEERS="$PEERS $LAST"
    rtp "$1" "$4" "$5" "$6"
}

# A user's phone (digest): ucaller NAME SERVICE USER PASSWORD SIP_PORT RTP_PORT HZ SECS HOLD_MS.
ucaller() {
    sed "s/@HOLD@/$9/" "$HERE/uac-media-auth.xml" >"$W/$1.xml"
    rm -f "$W/$1.port" "$W/$1.port.bye" "$W/$1.json"
    timeout 40 sipp 127.0.0.1:"$SIP" -sf "$W/$1.xml" -s "$2" -m 1 -i 127.0.0.1 -p "$5" -nostdin \
        -key user "$3" -au "$3" -ap "$4" -auth_uri "$2@127.0.0.1:$SIP" \
        -key rtpip 127.0.0.1 -key rtpport "$6" -key portfile "$W/$1.port" -cid_str "%u-%p-$1@%s" \
        -timeout 35 -timeout_error -trace_msg -message_file "$W/$1.msg" >"$W/$1.out" 2>&1 &
    LAST=$!
    BG="$BG $LAST"
    PEERS="$PEERS $LAST"
    rtp "$1" "$6" "$7" "$8"
}

# The agent's phone (user 101, registered on AGENT): agent NAME RTP_PORT HZ SECS
# (its sipp is AGENT_PID: a case waits for it to end, see agent_done).
agent() {
    reg "$1_reg" 101 pw-101 "$AGENT" || return 1
    rm -f "$W/$1.port" "$W/$1.json"
    timeout 40 sipp -sf "$HERE/uas-media.xml" -p "$AGENT" -m 1 -i 127.0.0.1 -nostdin \
        -key rtpip 127.0.0.1 -key rtpport "$2" -key portfile "$W/$1.port" \
        -timeout 35 -timeout_error -trace_msg -message_file "$W/$1.msg" >"$W/$1.out" 2>&1 &
    AGENT_PID=$!
    BG="$BG $!"
    PEERS="$PEERS $!"
    wait_port "$AGENT"
    rtp "$1" "$2" "$3" "$4"
}

# agent_done NAME: the agent's sipp got the server's BYE and answered it,
# so the next case's agent finds AGENT free and no BYE of this call comes
# after it (a BYE on a port nobody answers on is resent for 32 s).
agent_done() { reap "$AGENT_PID" || { WHY="the agent's phone did not end well ($W/$1.out)"; return 1; }; }

# hears NAME FROM TO HEARD NOT_HEARD: what NAME's phone received (hears.py).
hears() {
    wait_for "$W/$1.json" 20 '"received"' || { WHY="$1: no RTP report"; return 1; }
    $PY "$HERE/hears.py" "$W/$1.json" "$2" "$3" "$4" "$5" >"$W/$1.hears" 2>&1 ||
        { WHY="$1 (seconds $2-$3) should hear [$4] and not [$5]: $(tr '\n' ' ' <"$W/$1.hears")"; return 1; }
}

# The Call-ID of the phone NAME (-cid_str puts NAME in it).
call_id() { grep -m1 -io "^Call-ID: *[^ ]*-$1@[^ ]*" "$W/$1.msg" | sed 's/^[^:]*: *//; s/\r$//'; }

# The server's log lines about one call (phone NAME).
call_log() { grep -F -- "$(call_id "$1")" "$W/serve.log"; }
in_log() { call_log "$1" | grep -q -- "$2"; }

# ---- the server ----

mkdir -p "$W/sounds"
# the park's music: a 200 Hz tone, 1 s, played over and over
$PY - "$W/sounds/hold.wav" <<'PY'
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb")
w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * 200 * i / 8000))) for i in range(8000)))
PY
sed -e "s|@RTP@|$RTP-$((RTP + 999))|; s|@WORK@|$W|; s|@ADMIN@|$ADMIN|" \
    -e "s|@C1@|$C1|; s|@C2@|$C2|; s|@C3@|$C3|; s|@C4@|$C4|; s|@C5@|$C5|" "$HERE/meet.yaml" >"$W/meet.yaml"
"$CR" serve "$W/meet.yaml" --sip "udp:127.0.0.1:$SIP" --log-level debug >"$W/serve.log" 2>&1 &
SERVE=$!
BG="$BG $SERVE"
if ! wait_for "$W/serve.log" 15 'listening for SIP'; then
    bad setup "callroute serve did not start" "$W/serve.log"
    exit 1
fi

# ---- cases ----

# Four phones in room sales: A, B, C talk, D joins muted. Each of A, B, C
# hears the two others and not itself, nor D; D hears all three. Meanwhile
# GET /conferences and GET /calls show them; then the admin API mutes A and
# kicks D (whose call the server ends).
case_conference() {
    EVIDENCE="$W/ca.out $W/cd.out $W/ca.hears $W/cb.hears $W/cc.hears $W/cd.hears $W/confs.json $W/serve.log"
    caller ca 800 "$C1" "$R1" 300 6 12000
    pa=$LAST
    caller cb 800 "$C2" "$R2" 650 6 12000
    pb=$LAST
    caller cc 800 "$C3" "$R3" 1300 6 12000
    pc=$LAST
    caller cd 801 "$C4" "$R4" 900 6 12000
    i=0
    while :; do
        api GET /conferences confs && json confs "len(d['conferences']) == 1 and d['conferences'][0]['count'] == 4" && break
        i=$((i + 1))
        [ $i -lt 100 ] || { WHY="GET /conferences never listed 4 members in one room"; return 1; }
        sleep 0.05
    done
    api GET /calls calls
    expect "GET /calls does not show the room of each member" json calls \
        "sum(1 for c in d['calls'] if c.get('conference', {}).get('room') == 'sales') == 4" || return 1
    hears ca 3 4 650,1300 300,900 && hears cb 3 4 300,1300 650,900 && hears cc 3 4 300,650 1300,900 &&
        hears cd 3 4 300,650,1300 900 || return 1
    id_a=$(call_id ca) id_d=$(call_id cd)
    api GET /conferences confs
    expect "GET /conferences: room sales, max 10, D muted, the others not ($(cat "$W/confs.json"))" json confs \
        "[(r['room'], r['max_members']) for r in d['conferences']] == [('sales', 10)] and sorted((m['call_id'] == '$id_d', m['muted']) for m in d['conferences'][0]['members']) == [(False, False), (False, False), (False, False), (True, True)]" ||
        return 1
    ma=$($PY -c "import json,sys; print([m['id'] for m in json.load(open(sys.argv[1]))['conferences'][0]['members'] if m['call_id'] == '$id_a'][0])" "$W/confs.json")
    md=$($PY -c "import json,sys; print([m['id'] for m in json.load(open(sys.argv[1]))['conferences'][0]['members'] if m['call_id'] == '$id_d'][0])" "$W/confs.json")
    api POST "/conferences/sales/members/$ma" mute '{"muted":true}'
    expect "POST mute: $CODE $(cat "$W/mute.json")" [ "$CODE" = 200 ] &&
        api GET /conferences confs2 &&
        expect "A not muted after POST" json confs2 "[m['muted'] for m in d['conferences'][0]['members'] if m['id'] == $ma] == [True]" || return 1
    api POST "/conferences/sales/members/$ma" badmute '{"muted":"yes"}'
    expect "a bad body: $CODE, not 400" [ "$CODE" = 400 ] || return 1
    api POST "/conferences/nosuch/members/1" nosuch '{"muted":true}'
    expect "an unknown room: $CODE, not 404" [ "$CODE" = 404 ] || return 1
    api DELETE "/conferences/sales/members/$md" kick
    expect "DELETE (kick): $CODE $(cat "$W/kick.json")" [ "$CODE" = 200 ] || return 1
    wait_for "$W/cd.port.bye" 10 server || { WHY="the kicked member got no BYE from the server"; return 1; }
    expect "kicked not in the trace" in_log cd "conference over: kicked" &&
        api GET /conferences confs3 &&
        expect "3 members after the kick" json confs3 "d['conferences'][0]['count'] == 3" || return 1
    # the three hang up (12 s): their calls end here, not in the next case
    reap $pa && reap $pb && reap $pc || { WHY="a member's phone failed (ca.out, cb.out, cc.out)"; return 1; }
}

# A caller (300 Hz) talks to agent 101 (1100 Hz); supervisor 301 (900 Hz)
# dials *22101 and listens: it hears both; neither hears it. User 302 is
# not a supervisor: refused.
case_listen() {
    EVIDENCE="$W/lx.hears $W/la.hears $W/ls.hears $W/ls.out $W/serve.log"
    agent la "$R2" 1100 9
    caller lx 101 "$C1" "$R1" 300 9 11000
    wait_for "$W/la.port" 10 . || { WHY="the agent was not reached"; return 1; }
    ucaller ls '*22101' 301 pw-301 "$U1" "$R3" 900 5 7000
    hears ls 2 4 300,1100 900 && hears lx 3 4 1100 900 && hears la 3 4 300 900 || return 1
    expect "no join record" in_log ls "join start  mode listen" &&
        ucaller ln '*22101' 302 pw-302 "$U2" "$R4" 0 1 2000 &&
        wait_for "$W/serve.log" 10 "join over: denied listen" ||
        { WHY="user 302 (not a supervisor) was not refused"; return 1; }
    wait_for "$W/lx.port.bye" 15 . || { WHY="the call did not end"; return 1; }
    agent_done la
}

# The same with *24101: barge is heard by both.
case_barge() {
    EVIDENCE="$W/bx.hears $W/ba.hears $W/bs.hears $W/serve.log"
    agent ba "$R2" 1100 9
    caller bx 101 "$C1" "$R1" 300 9 11000
    wait_for "$W/ba.port" 10 . || { WHY="the agent was not reached"; return 1; }
    ucaller bs '*24101' 301 pw-301 "$U1" "$R3" 900 5 7000
    hears bs 2 4 300,1100 900 && hears bx 3 4 1100,900 300 && hears ba 3 4 300,900 1100 &&
        expect "no join record" in_log bs "join start  mode barge" &&
        wait_for "$W/bx.port.bye" 15 . || { WHY="${WHY:-the call did not end}"; return 1; }
    agent_done ba
}

# *23101: whisper is heard by the agent only, not by the caller.
case_whisper() {
    EVIDENCE="$W/wx.hears $W/wa.hears $W/ws.hears $W/serve.log"
    agent wa "$R2" 1100 9
    caller wx 101 "$C1" "$R1" 300 9 11000
    wait_for "$W/wa.port" 10 . || { WHY="the agent was not reached"; return 1; }
    ucaller ws '*23101' 301 pw-301 "$U1" "$R3" 900 5 7000
    hears ws 2 4 300,1100 900 && hears wx 3 4 1100 900,300 && hears wa 3 4 300,900 1100 &&
        expect "no join record" in_log ws "join start  mode whisper" &&
        wait_for "$W/wx.port.bye" 15 . || { WHY="${WHY:-the call did not end}"; return 1; }
    agent_done wa
}

# A caller (300 Hz) dials 700: parked in 701 with music (200 Hz); GET
# /calls shows the slot; another phone (650 Hz) dials 8701 and picks it up:
# each hears the other; the parked call's record ends "transfer pickup".
case_park_pickup() {
    EVIDENCE="$W/px.hears $W/pp.hears $W/pcalls.json $W/serve.log"
    caller px 700 "$C1" "$R1" 300 10 12000
    ppx=$LAST
    wait_for "$W/px.port" 10 . || { WHY="the park call was not answered"; return 1; }
    sleep 3   # the slot is announced, then the music plays
    api GET /calls pcalls
    expect "GET /calls does not show the parked slot" json pcalls \
        "any(c.get('parked', {}).get('slot') == '701' for c in d['calls'])" || return 1
    caller pp 8701 "$C2" "$R2" 650 5 7000
    ppp=$LAST
    hears px 2 2 200 650 && hears pp 2 4 300 650 && hears px 6 7 650 200 || return 1
    expect "the parked call did not end as picked up" in_log px "hangup *by transfer *cause pickup" &&
        expect "no pickup record" in_log pp "pickup start .*slot 701" || return 1
    # pp hangs up (7 s), which ends the bridged call: nothing left for the next case
    reap $ppp && reap $ppx || { WHY="a phone of the pickup failed (px.out, pp.out)"; return 1; }
}

# 709 parks for 2 s; nobody comes: the `on: timeout` actions run.
case_park_timeout() {
    EVIDENCE="$W/pto.out $W/serve.log"
    caller pto 709 "$C3" "$R5" 0 1 6000
    wait_for "$W/pto.port.bye" 10 server || { WHY="the call did not end after the park's handler"; return 1; }
    expect "the timeout handler did not run" in_log pto "park timeout ran for slot 705 (timeout)"
}

# sms to user 102: its registered phone gets a MESSAGE with the text.
case_sms() {
    EVIDENCE="$W/smsph.out $W/smsph.msg $W/sms.out $W/serve.log"
    reg sms_reg 102 pw-102 "$PHONE" || { WHY="registration failed"; return 1; }
    sipp_run smsph -sf "$HERE/uas-message.xml" -p "$PHONE" -m 1 -key expect "hello from 79165550000" &
    p=$!
    BG="$BG $p"
    PEERS="$PEERS $p"
    wait_port "$PHONE"
    caller sms 900 "$C4" "$R6" 0 1 5000
    wait_for "$W/sms.port.bye" 10 server || { WHY="the call did not end after the sms"; return 1; }
    reap $p || { WHY="the phone got no MESSAGE with the text"; return 1; }
    expect "the MESSAGE is not to user 102" grep -q "^MESSAGE sip:102@127.0.0.1:$PHONE" "$W/smsph.msg" &&
        expect "sms_status delivered 200 not traced" in_log sms "sms delivered 200"
}

# A trunk sends a MESSAGE: the `message` route runs (200 OK).
case_message_in() {
    EVIDENCE="$W/msgin.out $W/msgin.err $W/serve.log"
    sipp_run msgin 127.0.0.1:"$SIP" -p "$C5" -m 1 -sf "$HERE/uac-message.xml" -s 555 -key text "ping 42" ||
        { WHY="no 200 OK to the MESSAGE"; return 1; }
    expect "the message route did not run" in_log msgin "message from 79165551234 to 555: ping 42"
}

# settle NAME: the next case starts on a server without calls. The cases
# reuse the phones' ports (C1, R1, AGENT, ...); a call a case left up (it
# failed half-way and `run` stopped its phones) would last until the RTP
# timeout (60 s), and its BYE, its RTP and its place in a room or a slot
# would meet the next case's phones. Such calls are hung up through the
# admin API; a call that will not end is a failure of the case.
no_calls() { api GET /calls settle && json settle "d['calls'] == []"; }
settle() {
    i=0
    while ! no_calls; do
        i=$((i + 1))
        if [ $i -eq 10 ]; then   # the case's own hangups are through by now
            for id in $($PY -c "import json,sys; print(' '.join(c['call_id'] for c in json.load(open(sys.argv[1]))['calls']))" "$W/settle.json"); do
                echo "    (after $1: call $id left up, hung up)"
                api POST "/calls/$id/hangup" settle_hangup
            done
        fi
        [ $i -lt 100 ] || { bad "after_$1" "calls still up after the case: $(cat "$W/settle.json")" "$W/serve.log"; return 1; }
        sleep 0.05
    done
}

# MEET_CASES="conference listen" runs only those (KEEP=1 keeps the logs).
for c in ${MEET_CASES:-conference listen barge whisper park_pickup park_timeout sms message_in}; do
    run "$c"
    settle "$c"
done
kill -TERM "$SERVE"
reap "$SERVE" || bad shutdown "serve did not exit 0" "$W/serve.log"
if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$W/serve.log"; then
    bad sanitizer "sanitizer report in the server log" "$W/serve.log"
fi
[ "$FAILS" -eq 0 ]
