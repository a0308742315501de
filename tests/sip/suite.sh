#!/bin/sh
# tests/sip/suite.sh — real SIP calls through `callroute serve` ($CALLROUTE,
# the sanitizer build under tests/run.sh). Every peer is real and local: sipp
# (callers, gateways, the agent's phones, registrations), an SMTP server
# (python3-aiosmtpd); all on 127.0.0.1 with ports picked per run, every
# process started with a time limit and stopped here. One line per case:
# "PASS sip:NAME" or "FAIL sip:NAME" with the evidence indented below.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
HERE=$ROOT/tests/sip
SC=$HERE/scenarios
SUITE=sip
. "$HERE/lib.sh"

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$HERE/ports.py" 11)
SIP=$1 UAS=$2 UAC=$3 AGENT=$4 AGENT2=$5 REG=$6 GWREG=$7 SIP2=$8 UAS2=$9
shift 9
UAC2=$1 PH=$2 RTP=$3
RTP_RANGE="$RTP-$((RTP + 999))"

# ---- helpers ----

fill() { # fill TEMPLATE OUT: the run's ports and paths
    sed -e "s|@RTP@|$RTP_RANGE|g; s|@HERE@|$HERE|g; s|@SMTP@|$SMTP|g; s|@WORK@|$W|g" \
        -e "s|@UAS@|$UAS|g; s|@UAC@|$UAC|g; s|@GWREG@|$GWREG|g; s|@AGENT@|$AGENT|g; s|@AGENT2@|$AGENT2|g" "$1" >"$2"
}

# sipp with our defaults; NAME first (logs go to $W/NAME.*).
sipp_run() {
    name=$1
    shift
    timeout 25 sipp "$@" -i 127.0.0.1 -nostdin -cid_str "%u-%p-$name@%s" -timeout 20 -timeout_error -recv_timeout 8000 \
        -trace_msg -message_file "$W/$name.msg" -trace_err -error_file "$W/$name.err" \
        >"$W/$name.out" 2>&1
}

# A caller: uac NAME SERVICE SCENARIO [sipp args...] (SCENARIO "-" = built-in uac).
uac() {
    name=$1 svc=$2 scen=$3
    shift 3
    if [ "$scen" = "-" ]; then set -- -sn uac "$@"; else set -- -sf "$SC/$scen.xml" "$@"; fi
    sipp_run "$name" 127.0.0.1:"$SIP" -p "$UAC" -s "$svc" -m 1 "$@"
}

# A peer in the background on PORT: peer NAME PORT SCENARIO [sipp args...]; sets LAST.
peer() {
    name=$1 port=$2 scen=$3
    shift 3
    if [ "$scen" = "-" ]; then set -- -sn uas "$@"; else set -- -sf "$SC/$scen.xml" "$@"; fi
    sipp_run "$name" -p "$port" -m 1 "$@" &
    LAST=$!
    BG="$BG $LAST"
    PEERS="$PEERS $LAST"
    wait_port "$port"
}

# Registers a user: reg NAME USER PASSWORD CONTACT_PORT FINAL_CODE.
reg() {
    sed "s/@FINAL@/$5/" "$SC/register.xml" >"$W/register-$5.xml"
    sipp_run "$1" 127.0.0.1:"$SIP" -p "$REG" -m 1 -sf "$W/register-$5.xml" -key user "$2" \
        -key contact_port "$4" -key expires 60 -au "$2" -ap "$3"
}

# The Call-ID of sipp instance NAME's call (-cid_str puts NAME in it).
call_id() { grep -m1 -io "^Call-ID: *[^ ]*-$1@[^ ]*" "$W/$1.msg" | sed 's/^[^:]*: *//; s/\r$//'; }

# The server's log lines about one call (sipp instance NAME).
call_log() { grep -F -- "$(call_id "$1")" "$W/serve.log"; }

in_log() { call_log "$1" | grep -q -- "$2"; }

# ---- the servers ----

mkdir -p "$W/mail" "$W/rec"
/usr/bin/python3 "$ROOT/tests/services/smtp_server.py" "$W/mail" 0 >"$W/smtp.out" 2>&1 &
BG="$BG $!"
wait_for "$W/smtp.out" 10 '^PORT' || { echo "FAIL sip:setup"; echo "    no SMTP server"; exit 1; }
SMTP=$(sed -n 's/^PORT //p' "$W/smtp.out")

# The gateway callroute registers to must listen before callroute starts.
peer gwreg "$GWREG" uas-register
GWREG_PID=$LAST
PEERS=""   # reaped by its own case

fill "$HERE/suite.yaml" "$W/suite.yaml"
"$CR" serve "$W/suite.yaml" --sip "127.0.0.1:$SIP" --log-level debug >"$W/serve.log" 2>&1 &
SERVE=$!
BG="$BG $SERVE"
if ! wait_for "$W/serve.log" 15 'listening for SIP'; then
    bad setup "callroute serve did not start" "$W/serve.log"
    exit 1
fi

# ---- cases ----

case_basic() { # answer; the caller hangs up
    EVIDENCE="$W/basic.out $W/serve.log"
    uac basic basic - -d 200 &&
        expect "no route line" in_log basic "route *basic" &&
        expect "hangup by caller not traced" in_log basic "hangup *by caller"
}

case_tcp() { # the same over TCP
    EVIDENCE="$W/tcp.out $W/serve.log"
    uac tcp basic - -d 200 -t t1 && expect "hangup by caller not traced" in_log tcp "hangup *by caller"
}

case_gateway() { # B2BUA: 100 + 180 + 200 from the gateway (as trunks send), bridge, the caller hangs up
    EVIDENCE="$W/gw.out $W/gw_uas.out $W/serve.log"
    peer gw_uas "$UAS" uas-trying
    p=$LAST
    uac gw gw - -d 300 && reap $p &&
        expect "no answer/bridge in the trace" in_log gw "event *bridge" &&
        expect "no trying event on the leg" in_log gw "event *trying" &&
        expect "SIP 180 not relayed" grep -q "SIP/2.0 180" "$W/gw.msg"
}

case_early_media() { # 183 with SDP from the gateway reaches the caller with our SDP
    EVIDENCE="$W/early.out $W/early_uas.out $W/serve.log"
    peer early_uas "$UAS" uas-early
    p=$LAST
    uac early early - -d 300 && reap $p &&
        expect "caller got no 183" grep -q "SIP/2.0 183" "$W/early.msg" &&
        expect "early_media not traced" in_log early "early_media"
}

case_caller_id() { # P-Asserted-Identity, display name and headers in; caller_id out
    EVIDENCE="$W/callerid.out $W/callerid.err $W/callerid_uas.out $W/serve.log"
    peer callerid_uas "$UAS" -
    p=$LAST
    uac callerid callerid uac-pai && reap $p &&
        expect "caller number/name/header not seen" in_log callerid "caller +74951234567 name Carol Buyer account 42" &&
        expect "caller_id not in the gateway's From" grep -q '^From: "Carol Buyer" <sip:5551234@' "$W/callerid_uas.msg"
}

case_callee_bye() { # the gateway hangs up first: BYE to the caller, hangup_by agent
    EVIDENCE="$W/calleebye.out $W/calleebye_uas.out $W/serve.log"
    peer calleebye_uas "$UAS" uas-bye
    p=$LAST
    uac calleebye calleebye uac-wait-bye && reap $p &&
        expect "hangup_by agent not seen" in_log calleebye "dial ended: answered by agent"
}

case_agent_name() { # a gateway's 200 names who answered: agent_name; none: the dialled number
    EVIDENCE="$W/named.out $W/named_uas.out $W/unnamed.out $W/serve.log"
    peer named_uas "$UAS" uas-named
    p=$LAST
    uac named named - -d 300 && reap $p || { WHY="the named call failed"; return 1; }
    peer unnamed_uas "$UAS" -
    p=$LAST
    uac unnamed unnamed - -d 300 && reap $p || { WHY="the unnamed call failed"; return 1; }
    expect "agent_name is not the 200's To display name (unquoted, control character dropped)" \
        in_log named 'agent \[Sales "Desk" 7\] number named' &&
        expect "agent_name is not the dialled number when the 200 names nobody" \
            in_log unnamed 'agent \[unnamed\] number unnamed'
}

# A caller whose RTP is tests/sip/rtp_tone.py: media_caller NAME SERVICE HOLD_MS (LAST: sipp).
media_caller() {
    sed "s/@HOLD@/$3/" "$ROOT/tests/hostile/media-call.xml" >"$W/$1.xml"
    timeout 30 sipp 127.0.0.1:"$SIP" -sf "$W/$1.xml" -s "$2" -m 1 -i 127.0.0.1 -p "$UAC" -nostdin \
        -key rtpip 127.0.0.1 -key rtpport "$PH" -key portfile "$W/$1.port" -cid_str "%u-%p-$1@%s" \
        -timeout 25 -timeout_error -trace_msg -message_file "$W/$1.msg" >"$W/$1.out" 2>&1 &
    LAST=$!
    BG="$BG $LAST"
    PEERS="$PEERS $LAST"
}

case_say() { # say sends RTP as long as the speech (+-20%); the same text again comes from the cache
    EVIDENCE="$W/say.out $W/say.rtp $W/serve.log"
    media_caller say say 15000
    c=$LAST
    timeout 30 /usr/bin/python3 "$HERE/rtp_tone.py" "$W/say.port" "$PH" 0 9 >"$W/say.rtp" 2>&1 ||
        { WHY="the RTP peer failed"; return 1; }
    reap $c || { WHY="the call failed"; return 1; }
    secs=$(call_log say | sed -n 's/.*say "Thank you for calling. Please hold." (en-us, \([0-9.]*\) s, synthesized).*/\1/p' | head -1)
    [ -n "$secs" ] || { WHY="no 'synthesized' say in the trace"; return 1; }
    expect "the second identical text was not taken from the cache" \
        in_log say 'say "Thank you for calling. Please hold." (en-us, [0-9.]* s, cached)' &&
        expect "the server did not send two bursts of RTP as long as the speech ($secs s each): $(tr '\n' ' ' <"$W/say.rtp")" \
            /usr/bin/python3 -c "
import sys
secs = float(sys.argv[1])
b = [int(l.split()[1]) for l in open(sys.argv[2]) if l.startswith('burst')]
want = secs / 0.02
sys.exit(0 if len(b) == 2 and all(abs(x - want) <= 0.2 * want for x in b) else 1)" "$secs" "$W/say.rtp"
}

case_record_call() { # stereo WAV: the caller's 1000 Hz tone left, the agent's recording right
    EVIDENCE="$W/reccall.out $W/reccall_uas.out $W/reccall.rtp $W/serve.log"
    peer reccall_uas "$UAS" uas-pcap
    p=$LAST
    media_caller reccall recordcall 4000
    c=$LAST
    timeout 30 /usr/bin/python3 "$HERE/rtp_tone.py" "$W/reccall.port" "$PH" 1000 4 >"$W/reccall.rtp" 2>&1 ||
        { WHY="the RTP peer failed"; return 1; }
    reap $c || { WHY="the call failed"; return 1; }
    reap $p
    f=$(ls "$W"/rec/calls/*reccall*.wav 2>/dev/null | head -1)
    i=0
    while [ -z "$f" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); f=$(ls "$W"/rec/calls/*reccall*.wav 2>/dev/null | head -1); done
    [ -n "$f" ] || { WHY="no recording written"; return 1; }
    sleep 0.5   # the pool closes the file after the call
    /usr/bin/python3 - "$f" >"$W/reccall.wav.txt" 2>&1 <<'PY' || { WHY="channels: $(cat "$W/reccall.wav.txt")"; return 1; }
import struct, sys, wave
w = wave.open(sys.argv[1])
assert w.getnchannels() == 2 and w.getframerate() == 8000, (w.getnchannels(), w.getframerate())
n = w.getnframes()
d = struct.unpack("<%dh" % (2 * n), w.readframes(n))
left, right = d[0::2], d[1::2]
def zc_hz(x):
    x = [v for v in x if True]
    z = sum(1 for a, b in zip(x, x[1:]) if (a < 0) != (b < 0))
    return z / 2 / (len(x) / 8000)
def rms(x):
    return (sum(v * v for v in x) / max(1, len(x))) ** 0.5
print("frames", n, "left rms", rms(left), "hz", zc_hz(left), "right rms", rms(right), "hz", zc_hz(right))
assert n >= 8000 * 2, n
assert rms(left) > 1000 and 900 < zc_hz(left) < 1100, "left is not the caller's 1000 Hz tone"
assert rms(right) > 100 and not (900 < zc_hz(right) < 1100), "right is not the agent's audio"
PY
}

case_record_call_pause() { # DTMF 1 pauses record_call, 2 resumes it: both channels are
    # silent for the paused span, the caller's tone before and after it
    EVIDENCE="$W/recpause.out $W/recpause_uas.out $W/recpause.rtp $W/recpause.wav.txt $W/serve.log"
    peer recpause_uas "$UAS" uas-pcap
    p=$LAST
    media_caller recpause recordpause 6000
    c=$LAST
    timeout 30 /usr/bin/python3 "$HERE/rtp_peer.py" "$W/recpause.port" "$PH" 7 --tone 1000 --dtmf "1@2,2@4.5" \
        >"$W/recpause.rtp" 2>&1 || { WHY="the RTP peer failed"; return 1; }
    reap $c || { WHY="the call failed"; return 1; }
    reap $p
    expect "the pause (DTMF 1) was not traced" in_log recpause "start record_call .*cases.1" || return 1
    f=""
    i=0
    while [ $i -lt 100 ]; do
        f=$(ls "$W"/rec/calls/*recpause*.wav 2>/dev/null | head -1)
        [ -n "$f" ] && /usr/bin/python3 -c "import sys,wave; wave.open(sys.argv[1]).getnframes()" "$f" 2>/dev/null && break
        sleep 0.05
        i=$((i + 1))
    done
    [ -n "$f" ] || { WHY="no recording written"; return 1; }
    sleep 0.5   # the pool closes the file after the call
    /usr/bin/python3 - "$f" >"$W/recpause.wav.txt" 2>&1 <<'PY' || { WHY="channels: $(tail -2 "$W/recpause.wav.txt")"; return 1; }
import struct, sys, wave
w = wave.open(sys.argv[1])
n = w.getnframes()
d = struct.unpack("<%dh" % (2 * n), w.readframes(n))
left, right = d[0::2], d[1::2]
# the longest run of frames where both channels are exactly silent
best, start, run = (0, 0), 0, 0
for i in range(n):
    if left[i] == 0 and right[i] == 0:
        if run == 0:
            start = i
        run += 1
        if run > best[0]:
            best = (run, start)
    else:
        run = 0
length, at = best[0] / 8000, best[1] / 8000
def loud(x):
    return x and (sum(v * v for v in x) / len(x)) ** 0.5 > 1000
before = left[max(0, best[1] - 4000):best[1]]
after = left[best[1] + best[0]:best[1] + best[0] + 4000]
print("frames", n, "silent run", length, "s at", at, "s; tone before", loud(before), "after", loud(after))
assert 2.0 < length < 3.0, "the paused span (2.5 s) is not silent in both channels"
assert loud(before) and loud(after), "the caller's tone is not recorded around the pause"
PY
}

case_record_hangup_email() { # record ended by the caller's hangup: complete, and the email
    # after it arrives with the WAV attached, as long as record_duration says
    EVIDENCE="$W/recmail.out $W/recmail.rtp $W/recmail.eml.txt $W/serve.log"
    n=$(ls "$W"/mail/*.eml 2>/dev/null | wc -l)
    media_caller recmail recordmail 3500
    c=$LAST
    timeout 30 /usr/bin/python3 "$HERE/rtp_tone.py" "$W/recmail.port" "$PH" 1000 4 >"$W/recmail.rtp" 2>&1 ||
        { WHY="the RTP peer failed"; return 1; }
    reap $c || { WHY="the call failed"; return 1; }
    expect "the caller did not hang up first" grep -q caller "$W/recmail.port.bye" || return 1
    wait_for "$W/serve.log" 10 "recmail@.*app *end *email" || { WHY="the email after the record did not run"; return 1; }
    m="$W/mail/$((n + 1)).eml"
    wait_for "$m" 15 "Recording" || { WHY="no e-mail arrived"; return 1; }
    /usr/bin/python3 - "$m" >"$W/recmail.eml.txt" 2>&1 <<'PY' || { WHY="the mail: $(tail -2 "$W/recmail.eml.txt")"; return 1; }
import email, io, re, sys, wave
msg = email.message_from_binary_file(open(sys.argv[1], "rb"))
secs = float(re.search(r"Recording ([0-9.]+)", msg["Subject"]).group(1))
att = [p for p in msg.walk() if p.get_filename() and p.get_filename().endswith(".wav")]
assert len(att) == 1, "no WAV attached"
w = wave.open(io.BytesIO(att[0].get_payload(decode=True)))
got = w.getnframes() / w.getframerate()
print("attachment", got, "s; record_duration", secs)
assert 2.0 < secs < 4.0 and abs(got - secs) < 0.3, "the attached WAV is not the recording"
PY
}

case_busy() { # 486 from the gateway: busy, the caller gets 486
    EVIDENCE="$W/busy.out $W/busy_uas.out $W/serve.log"
    sed 's/@CODE@/486/' "$SC/uac-reject.xml" >"$W/uac-486.xml"
    peer busy_uas "$UAS" uas-busy
    p=$LAST
    sipp_run busy 127.0.0.1:"$SIP" -p "$UAC" -s busy -m 1 -sf "$W/uac-486.xml" && reap $p &&
        expect "dial busy 486 not traced" in_log busy "dial busy 486"
}

case_no_answer() { # the gateway rings; the dial times out: CANCEL to it, 480 to the caller
    EVIDENCE="$W/noanswer.out $W/noanswer_uas.out $W/serve.log"
    sed 's/@CODE@/480/' "$SC/uac-reject.xml" >"$W/uac-480.xml"
    peer noanswer_uas "$UAS" uas-noanswer
    p=$LAST
    sipp_run noanswer 127.0.0.1:"$SIP" -p "$UAC" -s noanswer -m 1 -sf "$W/uac-480.xml" && reap $p &&
        expect "no_answer not traced" in_log noanswer "dial no_answer 408"
}

case_gateway_auth() { # 401 from the gateway: digest credentials, then answered
    EVIDENCE="$W/auth.out $W/auth_uas.out $W/auth_uas.msg $W/serve.log"
    peer auth_uas "$UAS" uas-auth
    p=$LAST
    uac auth auth - -d 300 && reap $p && expect "no Authorization sent" grep -q "^Authorization: Digest" "$W/auth_uas.msg"
}

case_gateway_register() { # callroute registered itself to gw_reg at start (401, then 200)
    EVIDENCE="$W/gwreg.out $W/gwreg.msg $W/serve.log"
    reap "$GWREG_PID" && expect "registration not logged" grep -q "gateway gw_reg: registration 200" "$W/serve.log"
}

case_registrar() { # digest: no credentials 401, wrong password a fresh 401, right one 200
    EVIDENCE="$W/reg_bad.out $W/reg_ok.out $W/serve.log"
    reg reg_bad 101 wrong "$AGENT" 401 && reg reg_ok 101 s3cret "$AGENT" 200 &&
        expect "200 lists no contact with expires" grep -q "^Contact: <sip:101@127.0.0.1:$AGENT>;expires=" "$W/reg_ok.msg"
}

case_seed() { # caller -> dial 101 (registered sipp) -> agent holds -> e-mail to the supervisor
    EVIDENCE="$W/seed.out $W/seed_agent.out $W/seed_agent.err $W/serve.log"
    reg seed_reg 101 s3cret "$AGENT" 200 || { WHY="registration failed"; return 1; }
    peer seed_agent "$AGENT" agent-hold
    p=$LAST
    uac seed 1000 uac-seed && reap $p || { WHY="sipp failed"; return 1; }
    expect "hold by agent not traced" in_log seed "event *hold *by agent" || return 1
    wait_for "$W/mail/1.eml" 15 "put on hold" || { WHY="no e-mail arrived"; return 1; }
    expect "wrong e-mail body" grep -q "User Alice Smith put on hold 79165551234\." "$W/mail/1.eml" &&
        expect "wrong recipient" grep -q "X-Envelope-To: supervisor@example.com" "$W/mail/1.eml"
}

case_fork() { # user 102 with two contacts: both ring, the first answer wins, the other is cancelled
    EVIDENCE="$W/fork.out $W/fork_a.out $W/fork_b.out $W/serve.log"
    reg reg102a 102 pw102 "$AGENT" 200 && reg reg102b 102 pw102 "$AGENT2" 200 ||
        { WHY="registration failed"; return 1; }
    peer fork_a "$AGENT" uas-noanswer
    a=$LAST
    peer fork_b "$AGENT2" -
    b=$LAST
    uac fork fork - -d 300 && reap $b && reap $a &&
        expect "the CANCEL to the fork that lost has no Reason: SIP;cause=200 (a missed call on that phone)" \
            sh -c "sed -n '/^CANCEL /,/^\\s*\$/p' '$W/fork_a.msg' | grep -q '^Reason: SIP;cause=200;text=\"Call completed elsewhere\"'"
}

case_ring_all() { # two targets ring; the one that did not answer is cancelled as completed elsewhere
    EVIDENCE="$W/ringall.out $W/ringall_a.msg $W/ringall_b.out $W/serve.log"
    peer ringall_a "$AGENT" uas-noanswer
    a=$LAST
    peer ringall_b "$AGENT2" -
    b=$LAST
    uac ringall ringall - -d 300 && reap $b && reap $a &&
        expect "the CANCEL to the leg that lost has no Reason: SIP;cause=200" \
            sh -c "sed -n '/^CANCEL /,/^\\s*\$/p' '$W/ringall_a.msg' | grep -q '^Reason: SIP;cause=200;text=\"Call completed elsewhere\"'"
}

case_unregistered() { # dial a user with no contact: failed 480
    EVIDENCE="$W/unreg.out $W/serve.log"
    sed 's/@CODE@/480/' "$SC/uac-reject.xml" >"$W/uac-480.xml"
    sipp_run unreg2 127.0.0.1:"$SIP" -p "$UAC" -s unreg -m 1 -sf "$W/uac-480.xml" &&
        expect "dial failed 480 not traced" in_log unreg2 "dial failed 480"
}

case_from_user() { # a registered phone calls: source user:101, from_user route, PCMA kept
    EVIDENCE="$W/fromuser.out $W/fromuser.err $W/serve.log"
    reg fromuser_reg 101 s3cret "$REG" 200 || { WHY="registration failed"; return 1; }
    sipp_run fromuser 127.0.0.1:"$SIP" -p "$REG" -m 1 -s 555 -sf "$SC/uac-user.xml" -au 101 -ap s3cret \
        -auth_uri "555@127.0.0.1:$SIP" &&
        expect "from_user route not taken" in_log fromuser "call from user user:101 to 555"
}

case_ivr_rfc4733() { # RFC 4733 digit 1 from a pcap: the IVR takes branch one
    EVIDENCE="$W/ivr.out $W/ivr.err $W/serve.log"
    uac ivr ivr uac-dtmf -key pcap /usr/share/sip-tester/dtmf_2833_1.pcap &&
        expect "branch one not taken" in_log ivr "ivr branch one"
}

case_ivr_info() { # SIP INFO dtmf-relay digit 2: branch two
    EVIDENCE="$W/ivrinfo.out $W/serve.log"
    uac ivrinfo ivr uac-info && expect "branch two not taken" in_log ivrinfo "ivr branch two"
}

case_stream_hangup_handler() { # a stream runs beside the script; the hangup handler runs
    EVIDENCE="$W/stream.out $W/serve.log"
    uac stream stream - -d 600 &&
        expect "stream did not run" in_log stream "stream ran" &&
        expect "hangup handler did not run" in_log stream "hangup handler ran: by caller"
}

case_cancel() { # the caller gives up while it rings: 487, hangup event
    EVIDENCE="$W/cancel.out $W/serve.log"
    uac cancel cancel uac-cancel && expect "hangup by caller not traced" in_log cancel "hangup *by caller"
}

case_transfer() { # the scenario transfers the caller: REFER out, then the call ends
    EVIDENCE="$W/transfer.out $W/transfer.err $W/serve.log"
    uac transfer transfer uac-refer && expect "no transfer event" in_log transfer "transfer"
}

case_agent_transfer() { # the agent sends REFER: the transfer event, with its target
    EVIDENCE="$W/agentrefer.out $W/agentrefer_uas.out $W/serve.log"
    peer agentrefer_uas "$UAS" agent-refer
    p=$LAST
    uac agentrefer agentrefer uac-wait-bye && reap $p &&
        expect "transfer event not seen" in_log agentrefer "transfer to 200 by agent"
}

case_hold_by_caller() { # the caller holds and unholds; the agent's phone is told both
    EVIDENCE="$W/callerhold.out $W/callerhold.err $W/callerhold_uas.out $W/callerhold_uas.err $W/serve.log"
    peer callerhold_uas "$UAS" agent-held
    p=$LAST
    uac callerhold callerhold uac-hold && reap $p &&
        expect "hold by caller not traced" in_log callerhold "event *hold by caller" &&
        expect "unhold (UPDATE) by caller not traced" in_log callerhold "event *unhold by caller"
}

case_bypass() { # media: bypass: each side gets the other's SDP unchanged (hold re-INVITE too), no RTP port held
    EVIDENCE="$W/bypass.out $W/bypass.err $W/bypass_uas.out $W/bypass_uas.err $W/serve.log"
    peer bypass_uas "$UAS" agent-bypass
    p=$LAST
    uac bypass bypass uac-bypass && reap $p &&
        expect "no 'media bypassed' for the call" in_log bypass "media bypassed" &&
        expect "hold by caller not traced" in_log bypass "bypass event by caller"
}

case_bypass_early() { # media: bypass: the gateway's 183 and 200 reach the caller with the gateway's SDP
    EVIDENCE="$W/bypassearly.out $W/bypassearly.msg $W/bypassearly_uas.out $W/serve.log"
    peer bypassearly_uas "$UAS" uas-early
    p=$LAST
    uac bypassearly bypassearly - -d 300 && reap $p &&
        expect "caller got no 183" grep -q "SIP/2.0 183" "$W/bypassearly.msg" &&
        expect "early_media not traced" in_log bypassearly "early_media" &&
        expect "the caller's 183/200 do not carry the gateway's SDP (o=uas 53655765)" \
            test "$(grep -c '^o=uas 53655765' "$W/bypassearly.msg")" -ge 2
}

case_media() { # prompts, a refused stereo prompt, a tone and a recording on a real call
    EVIDENCE="$W/media.out $W/serve.log"
    uac media media uac-dtmf -key pcap /usr/share/sip-tester/g711a.pcap || return 1
    expect "stereo prompt not refused clearly" in_log media "play failed: prompt .*stereo44k.wav is not an 8 kHz mono WAV" &&
        expect "media script did not finish" in_log media "media done" || return 1
    f=$(ls "$W"/rec/*.wav 2>/dev/null | head -1)
    [ -n "$f" ] || { WHY="no recording written"; return 1; }
    /usr/bin/python3 - "$f" <<'EOF' || { WHY="recording is not 8 kHz mono with sound"; return 1; }
import sys, wave, struct
w = wave.open(sys.argv[1])
assert w.getframerate() == 8000 and w.getnchannels() == 1, (w.getframerate(), w.getnchannels())
n = w.getnframes()
data = struct.unpack("<%dh" % n, w.readframes(n))
assert n >= 4000 and max(abs(x) for x in data) > 500, (n, max(abs(x) for x in data) if data else 0)
EOF
}

case_load_100() { # 100 calls at once through the B2BUA
    EVIDENCE="$W/load.out $W/load_uas.out"
    peer load_uas "$UAS" - -m 100
    p=$LAST
    sipp_run load 127.0.0.1:"$SIP" -p "$UAC" -sn uac -s load -m 100 -r 200 -l 100 -d 1500 && reap $p &&
        expect "not all 100 calls succeeded" grep -q "Successful call .*| *100 *$" "$W/load.out"
}

case_overload() { # max_calls 3: a burst gets 503 + Retry-After; after a reload (SIGHUP) with
    # calls_per_second 2 instead, a burst gets 503 + Retry-After: 1
    EVIDENCE="$W/over.out $W/over2.out $W/serve2.log"
    limits() {
        cat >"$W/limits.yaml" <<EOF
version: 1
settings:
  limits: { $1 }
  media: { rtp_ports: "$RTP_RANGE" }
gateways:
  any: { uri: "sip:127.0.0.1:9", accept_any_source: true }
routes:
  - name: hold-line
    script:
      - app: answer
      - app: wait
        seconds: 10
EOF
    }
    limits "max_calls: 3"
    "$CR" serve "$W/limits.yaml" --sip "udp:127.0.0.1:$SIP2" >"$W/serve2.log" 2>&1 &
    s2=$!
    BG="$BG $s2"
    wait_for "$W/serve2.log" 15 'listening for SIP' || { WHY="second server did not start"; return 1; }
    sipp_run over 127.0.0.1:"$SIP2" -p "$UAC2" -sn uac -s x -m 8 -r 100 -l 8 -d 1000
    limits "calls_per_second: 2"
    kill -HUP $s2
    wait_for "$W/serve2.log" 10 'reloaded' || { WHY="no reload on SIGHUP"; return 1; }
    sipp_run over2 127.0.0.1:"$SIP2" -p "$UAC2" -sn uac -s x -m 6 -r 100 -l 6 -d 200
    kill -TERM $s2
    reap $s2 || { WHY="second server did not exit 0"; return 1; }
    expect "no 503 with Retry-After: 5 (max_calls)" grep -q "^Retry-After: 5" "$W/over.msg" &&
        expect "the admitted calls did not finish" grep -q "Successful call .*| *3 *$" "$W/over.out" &&
        expect "no 503 with Retry-After: 1 (calls_per_second)" grep -q "^Retry-After: 1" "$W/over2.msg" &&
        expect "not 2 calls admitted per second" grep -q "Successful call .*| *2 *$" "$W/over2.out"
}

case_shutdown() { # SIGTERM with a call up: the caller gets BYE, serve exits 0, no sanitizer report
    EVIDENCE="$W/shutdown.out $W/serve.log"
    uac shutdown basic uac-wait-bye &
    c=$!
    BG="$BG $c"
    wait_for "$W/serve.log" 10 "-shutdown@[^ ]*: .*event *answer" || { WHY="call not answered"; return 1; }
    kill -TERM "$SERVE"
    reap $c || { WHY="caller did not get a clean BYE"; return 1; }
    reap "$SERVE" || { WHY="serve did not exit 0"; return 1; }
    if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$W/serve.log"; then
        WHY="sanitizer report in the server log"
        return 1
    fi
}

# SIP_CASES="seed fork" runs only those (debugging; KEEP=1 keeps the logs).
for c in ${SIP_CASES:-basic tcp gateway early_media caller_id callee_bye agent_name say record_call record_call_pause \
    busy no_answer gateway_auth gateway_register \
    registrar seed record_hangup_email fork ring_all unregistered from_user ivr_rfc4733 ivr_info stream_hangup_handler cancel \
    transfer agent_transfer hold_by_caller bypass bypass_early media load_100 overload shutdown}; do
    run "$c"
done
[ "$FAILS" -eq 0 ]
