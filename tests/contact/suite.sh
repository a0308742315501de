#!/bin/sh
# tests/contact/suite.sh — the contact-centre applications on real calls
# through `callroute serve` ($CALLROUTE, the sanitizer build under
# tests/run.sh): queues (longest-idle order, ring-timeout skip, paused
# agents, max_wait with position announcements, GET/POST /queues),
# voicemail (a message left by a caller who hangs up mid-message arrives by
# mail with its WAV; MWI NOTIFY to a phone that subscribed; voicemail_main
# deletes it after a PIN by RFC 4733 DTMF) and music on hold. Every peer is
# real and local: sipp for SIP, tests/sip/rtp_peer.py for a caller's
# RTP, an SMTP server (python3-aiosmtpd). The cases run in order on one
# server: the queues' figures and the mailbox carry from one to the next.
# One line per case: "PASS contact:NAME" or "FAIL contact:NAME".
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
HERE=$ROOT/tests/contact
SC=$HERE/scenarios
SIPSC=$ROOT/tests/sip/scenarios
SUITE=contact
. "$ROOT/tests/sip/lib.sh"

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 10)
SIP=$1 UAC=$2 AGENT=$3 AGENT2=$4 AGENT3=$5 REG=$6 SUBP=$7 ADMIN=$8 PH=$9
shift 9
PH2=$1 RTP=$2
RTP_RANGE="$RTP-$((RTP + 999))"
TOKEN=contact-token-0123456789
PY=/usr/bin/python3

# ---- helpers ----

sipp_run() { # sipp_run NAME ARGS...: logs in $W/NAME.*
    name=$1
    shift
    timeout 40 sipp "$@" -i 127.0.0.1 -nostdin -cid_str "%u-%p-$name@%s" -timeout 35 -timeout_error \
        -recv_timeout 20000 -trace_msg -message_file "$W/$name.msg" -trace_err -error_file "$W/$name.err" \
        >"$W/$name.out" 2>&1
}

uac() { # uac NAME SERVICE SCENARIO [sipp args...] ("-": built-in uac)
    name=$1 svc=$2 scen=$3
    shift 3
    if [ "$scen" = "-" ]; then set -- -sn uac "$@"; else set -- -sf "$scen" "$@"; fi
    sipp_run "$name" 127.0.0.1:"$SIP" -p "$UAC" -s "$svc" -m 1 "$@"
}

peer() { # peer NAME PORT SCENARIO [sipp args...]: in the background; LAST
    name=$1 port=$2 scen=$3
    shift 3
    if [ "$scen" = "-" ]; then set -- -sn uas "$@"; else set -- -sf "$scen" "$@"; fi
    sipp_run "$name" -p "$port" -m 1 "$@" &
    LAST=$!
    BG="$BG $LAST"
    PEERS="$PEERS $LAST"
    wait_port "$port"
}

reg() { # reg NAME USER PASSWORD CONTACT_PORT
    sed "s/@FINAL@/200/" "$SIPSC/register.xml" >"$W/register.xml"
    sipp_run "$1" 127.0.0.1:"$SIP" -p "$REG" -m 1 -sf "$W/register.xml" -key user "$2" \
        -key contact_port "$4" -key expires 600 -au "$2" -ap "$3"
}

# A caller whose RTP is rtp_peer.py: media NAME SERVICE HOLD_MS PEER_SECONDS [PEER ARGS...]
# (sipp in the background as LAST; the peer runs in the foreground). It hangs
# up after HOLD_MS unless the server does first (tests/hostile/media-call.xml);
# HOLD_MS "held": it takes re-INVITEs and waits for the server's BYE.
media() {
    name=$1 svc=$2 hold=$3 secs=$4
    shift 4
    if [ "$hold" = held ]; then
        cp "$SC/uac-held.xml" "$W/$name.xml"
    else
        sed "s/@HOLD@/$hold/" "$ROOT/tests/hostile/media-call.xml" >"$W/$name.xml"
    fi
    timeout 40 sipp 127.0.0.1:"$SIP" -sf "$W/$name.xml" -s "$svc" -m 1 -i 127.0.0.1 -p "$UAC" -nostdin \
        -key rtpip 127.0.0.1 -key rtpport "$PH" -key portfile "$W/$name.port" -cid_str "%u-%p-$name@%s" \
        -timeout 35 -timeout_error -trace_msg -message_file "$W/$name.msg" -trace_err -error_file "$W/$name.err" \
        >"$W/$name.out" 2>&1 &
    LAST=$!
    BG="$BG $LAST"
    PEERS="$PEERS $LAST"
    timeout 40 $PY "$ROOT/tests/sip/rtp_peer.py" "$W/$name.port" "$PH" "$secs" "$@" >"$W/$name.rtp" 2>&1
}

call_id() { grep -m1 -io "^Call-ID: *[^ ]*-$1@[^ ]*" "$W/$1.msg" | sed 's/^[^:]*: *//; s/\r$//'; }
call_log() { grep -F -- "$(call_id "$1")" "$W/serve.log"; }
in_log() { call_log "$1" | grep -q -- "$2"; }
count_log() { call_log "$1" | grep -c -- "$2"; }

# api METHOD PATH NAME [BODY]: the answer in $W/NAME.json, its status in CODE;
# with the token unless NOTOKEN=1.
api() {
    [ -n "${4:-}" ] && printf '%s' "$4" >"$W/$3.body"
    if [ -n "${NOTOKEN:-}" ]; then tok=""; else tok=$TOKEN; fi
    CODE=$(FETCH_TOKEN=$tok $PY "$ROOT/tests/admin/fetch.py" "$1" "http://127.0.0.1:$ADMIN$2" "$W/$3.json" \
        ${4:+"$W/$3.body"} 2>>"$W/http.err")
}

# json NAME EXPR: EXPR (Python; the parsed body is d) holds for $W/NAME.json.
json() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$W/$1.json" 2>>"$W/http.err"; }

# ---- the servers ----

mkdir -p "$W/mail" "$W/rec" "$W/sounds"
$PY - "$W" <<'PY'
import math, struct, sys, wave
# the hold and queue music: a 440 Hz tone, 1.5 s (it loops)
with wave.open(sys.argv[1] + "/sounds/music.wav", "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
    w.writeframes(b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(12000)))
PY
$PY "$HERE/make_pcap.py" "$W/agent1000.pcap" 1000 12
$PY "$ROOT/tests/services/smtp_server.py" "$W/mail" 0 >"$W/smtp.out" 2>&1 &
BG="$BG $!"
wait_for "$W/smtp.out" 10 '^PORT' || { echo "FAIL contact:setup"; echo "    no SMTP server"; exit 1; }
SMTP=$(sed -n 's/^PORT //p' "$W/smtp.out")

sed -e "s|@RTP@|$RTP_RANGE|g; s|@WORK@|$W|g; s|@SMTP@|$SMTP|g; s|@ADMIN@|$ADMIN|g; s|@UAC@|$UAC|g" "$HERE/suite.yaml" >"$W/suite.yaml"
CONTACT_TOKEN=$TOKEN "$CR" serve "$W/suite.yaml" --sip "udp:127.0.0.1:$SIP" --log-level debug >"$W/serve.log" 2>&1 &
SERVE=$!
BG="$BG $SERVE"
if ! wait_for "$W/serve.log" 15 'listening for SIP'; then
    bad setup "callroute serve did not start" "$W/serve.log"
    exit 1
fi

# ---- cases ----

case_queue_longest_idle() { # 101 just had a call, so 102 (never called) is offered first;
    # 102 does not answer within ring_timeout and is skipped; 101 answers
    EVIDENCE="$W/qcall.out $W/agent101.out $W/agent102.out $W/serve.log"
    reg reg101 101 a101 "$AGENT" && reg reg102 102 b102 "$AGENT2" || { WHY="registration failed"; return 1; }
    # 101 answers and hangs up after 400 ms, twice: the direct call, the queue call
    peer agent101 "$AGENT" "$SIPSC/uas-bye.xml" -m 2
    p101=$LAST
    uac direct d101 "$SIPSC/uac-wait-bye.xml" || { WHY="the direct call to 101 failed"; return 1; }
    peer agent102 "$AGENT2" "$SIPSC/uas-noanswer.xml"
    p102=$LAST
    uac qcall support "$SIPSC/uac-wait-bye.xml" || { WHY="the queue call failed"; return 1; }
    reap $p102 && reap $p101 || { WHY="an agent's sipp failed"; return 1; }
    expect "102 (idle longest) not offered first, in longest-idle order" \
        in_log qcall "queue support: offering 102 to the caller (longest-idle: 102, 101)" &&
        expect "102 not skipped after its ring_timeout" in_log qcall "queue support: 102 did not answer (no_answer): skipped" &&
        expect "101 not offered after the skip" in_log qcall "queue support: offering 101 to the caller (longest-idle: 101)" &&
        expect "101 did not answer the call" in_log qcall "queue support: 101 answered after" &&
        expect "on: answer did not run" in_log qcall "agent 101 answered" &&
        expect "queue_status/agent_number wrong" in_log qcall "queue done: answered after [0-9.]*s with 101"
}

case_queue_paused() { # 102 paused through the API (token), 101 with queue_agent (*45):
    # the caller is turned away (no_agents); 101 back (*46): only 101 is offered
    EVIDENCE="$W/pause102.json $W/feat45.out $W/qnone.out $W/qpaused.out $W/serve.log"
    NOTOKEN=1 api POST /queues/support/agents/102 pause0 '{"state":"paused","reason":"lunch"}'
    expect "POST without the token: $CODE, not 401" [ "$CODE" = 401 ] || return 1
    api POST /queues/support/agents/102 pause102 '{"state":"paused","reason":"lunch"}'
    expect "POST pause: $CODE $(cat "$W/pause102.json")" [ "$CODE" = 200 ] || return 1
    sipp_run feat45 127.0.0.1:"$SIP" -p "$REG" -m 1 -s "*45" -sf "$SC/uac-feature.xml" -key user 101 \
        -au 101 -ap a101 -auth_uri "*45@127.0.0.1:$SIP" || { WHY="the *45 call failed"; return 1; }
    expect "queue_agent did not pause 101" in_log feat45 "queue_agent: 101 pause in support: break" || return 1
    uac qnone support "$SIPSC/uac-wait-bye.xml" || { WHY="the caller turned away did not end well"; return 1; }
    expect "the caller was not turned away with no agents" in_log qnone "queue support: the caller is turned away (no_agents)" &&
        expect "on: no_agents did not run" in_log qnone "support: no agents" || return 1
    sipp_run feat46 127.0.0.1:"$SIP" -p "$REG" -m 1 -s "*46" -sf "$SC/uac-feature.xml" -key user 101 \
        -au 101 -ap a101 -auth_uri "*46@127.0.0.1:$SIP" || { WHY="the *46 call failed"; return 1; }
    peer agent101b "$AGENT" "$SIPSC/uas-bye.xml"
    p=$LAST
    uac qpaused support "$SIPSC/uac-wait-bye.xml" || { WHY="the queue call failed"; return 1; }
    reap $p
    expect "101 not offered" in_log qpaused "queue support: offering 101 to the caller (longest-idle: 101)" &&
        expect "the paused agent 102 was offered" sh -c "! grep -F -- '$(call_id qpaused)' '$W/serve.log' | grep -q 'offering 102'" &&
        expect "101 did not answer" in_log qpaused "queue done: answered"
}

case_queue_timeout() { # nobody can answer: music and a position announcement every 5 s
    # while the caller waits (RTP all along), then max_wait (12 s): on: timeout
    EVIDENCE="$W/qslow.out $W/qslow.rtp $W/serve.log"
    media qslow slow 25000 16
    reap $LAST || { WHY="the caller's sipp failed"; return 1; }
    n=$(count_log qslow "queue slow: announcing position 1")
    said=$(count_log qslow 'say "You are the next caller."')
    rx=$(sed -n 's/^received //p' "$W/qslow.rtp")
    expect "announcements: $n (said $said), not 2" [ "$n" -eq 2 ] && [ "$said" -eq 2 ] &&
        expect "the caller got $rx RTP packets while waiting 12 s, not ~600" [ "${rx:-0}" -ge 500 ] &&
        expect "max_wait did not end the wait at 12 s" in_log qslow "queue slow: the caller left (timeout) after 12" &&
        expect "on: timeout did not run" in_log qslow "slow: timed out" &&
        expect "queue_status not timeout" in_log qslow "queue done: timeout after 12"
}

case_queues_api() { # GET /queues: the figures of the calls above; bad writes refused
    EVIDENCE="$W/queues.json $W/http.err"
    api GET /queues queues
    expect "GET /queues: $CODE" [ "$CODE" = 200 ] || return 1
    expect "support's figures wrong: $(cat "$W/queues.json")" json queues \
        "[dict(answered=q['answered'], refused=q['refused'], abandoned=q['abandoned'], waiting=q['waiting'], service_level=q['service_level'], sla=q['sla']) for q in d['queues'] if q['name'] == 'support'] == [dict(answered=2, refused=1, abandoned=0, waiting=0, service_level=100, sla=20)]" &&
        expect "support's agents wrong" json queues \
            "[(a['number'], a['state'], a.get('reason'), a['calls']) for q in d['queues'] if q['name'] == 'support' for a in q['agents']] in ([('101', 'available', None, 2), ('102', 'paused', 'lunch', 0)], [('101', 'wrapup', None, 2), ('102', 'paused', 'lunch', 0)])" &&
        expect "101's last_call_end not a time" json queues \
            "[a['last_call_end'][-1] for q in d['queues'] if q['name'] == 'support' for a in q['agents'] if a['number'] == '101'] == ['Z']" &&
        expect "slow's figures wrong" json queues \
            "[(q['timeouts'], q['answered'], q['service_level'], q['agents'][0]['state']) for q in d['queues'] if q['name'] == 'slow'] == [(1, 0, 0, 'available')]" || return 1
    api POST /queues/support/agents/102 bad1 '{"state":"sleeping"}'
    c1=$CODE
    api POST /queues/nosuch/agents/102 bad2 '{"state":"paused"}'
    c2=$CODE
    api POST /queues/support/agents/999 bad3 '{"state":"paused"}'
    c3=$CODE
    api POST /queues/support/agents/102 bad4 '{"state":"available","reason":"x"}'
    c4=$CODE
    api POST /queues/support/agents/102 back '{"state":"available"}'
    expect "bad state $c1 (not 400), unknown queue $c2 / user $c3 (not 404), reason when available $c4 (not 400)" \
        [ "$c1 $c2 $c3 $c4" = "400 404 404 400" ] &&
        expect "102 not available again: $CODE" [ "$CODE" = 200 ]
}

case_music_on_hold() { # the agent holds: the caller hears the hold music (440 Hz) and
    # not the agent's 1000 Hz; after unhold the agent's audio again
    EVIDENCE="$W/moh.out $W/agent103.out $W/agent103.err $W/moh.rtp $W/moh.ana $W/serve.log"
    reg reg103 103 c103 "$AGENT3" || { WHY="registration failed"; return 1; }
    peer agent103 "$AGENT3" "$SC/agent-moh.xml" -key pcap "$W/agent1000.pcap"
    p=$LAST
    media moh moh held 11 --record "$W/moh.pcm"
    reap $LAST || { WHY="the caller's sipp failed"; return 1; }
    reap $p || { WHY="the agent's sipp failed"; return 1; }
    expect "music on hold not traced" in_log moh "music on hold to the caller: .*music.wav" &&
        expect "its end not traced" in_log moh "music on hold to the caller stopped" || return 1
    $PY - "$W/moh.pcm" >"$W/moh.ana" 2>&1 <<'PY' || { WHY="what the caller heard: $(tail -3 "$W/moh.ana")"; return 1; }
import sys
rows = [l.split() for l in open(sys.argv[1])]
# 0.5 s windows: the dominant tone by zero crossings, where there is sound
wins = {}
for r in rows:
    wins.setdefault(int(float(r[0]) / 0.5), []).extend(int(v) for v in r[1:])
seq = []
for k in sorted(wins):
    x = wins[k]
    rms = (sum(v * v for v in x) / len(x)) ** 0.5
    hz = sum(1 for a, b in zip(x, x[1:]) if (a < 0) != (b < 0)) / 2 / (len(x) / 8000)
    tone = "agent" if 900 < hz < 1100 and rms > 1000 else "music" if 400 < hz < 480 and rms > 1000 else "-"
    print(k * 0.5, int(rms), int(hz), tone)
    seq.append(tone)
s = "".join({"agent": "A", "music": "M", "-": "."}[t] for t in seq)
print(s)
# the agent, then only music while held (3 s: at least 4 windows), then the agent again
import re
assert re.search(r"A+\.?M{4,}\.?A+", s), s
PY
}

case_voicemail_mwi() { # a phone of 101 subscribes to message-summary; a caller leaves a
    # message and hangs up mid-message: saved, mailed with the WAV (the same
    # length), and the phone is told a message waits
    EVIDENCE="$W/mwi.out $W/mwi.err $W/vm.out $W/vm.rtp $W/vm.eml.txt $W/serve.log"
    sed "s/@WAIT@/30000/" "$SC/subscribe.xml" >"$W/subscribe.xml"
    sipp_run mwi 127.0.0.1:"$SIP" -p "$SUBP" -m 1 -sf "$W/subscribe.xml" -key user 101 -au 101 -ap a101 \
        -auth_uri "101@127.0.0.1:$SIP" &
    m=$!
    BG="$BG $m"
    PEERS="$PEERS $m"
    wait_for "$W/mwi.msg" 10 "Voice-Message: 0/0" || { WHY="no first NOTIFY (0/0) to the subscriber"; return 1; }
    media vm vm101 8000 10 --tone 1000
    reap $LAST || { WHY="the caller's sipp failed"; return 1; }
    wait_for "$W/serve.log" 10 "voicemail done: saved" || { WHY="no 'voicemail done: saved' in the trace"; return 1; }
    reap $m || { WHY="the subscriber got no NOTIFY with Voice-Message: 1/0"; return 1; }
    wait_for "$W/mail/1.eml" 15 "Voicemail" || { WHY="no e-mail arrived"; return 1; }
    secs=$(call_log vm | sed -n 's/.*voicemail done: saved \([0-9.]*\)s .*/\1/p' | head -1)
    f=$(ls "$W"/rec/voicemail/101/new/*.wav 2>/dev/null | head -1)
    [ -n "$f" ] && [ -f "${f%.wav}.json" ] || { WHY="no message (WAV + metadata) in the box"; return 1; }
    $PY - "$W/mail/1.eml" "$f" "$secs" >"$W/vm.eml.txt" 2>&1 <<'PY' || { WHY="the mail: $(tail -3 "$W/vm.eml.txt")"; return 1; }
import email, io, json, sys, wave
msg = email.message_from_binary_file(open(sys.argv[1], "rb"))
assert "alice@example.com" in msg["X-Envelope-To"], msg["X-Envelope-To"]
att = [p for p in msg.walk() if p.get_filename() and p.get_filename().endswith(".wav")]
assert len(att) == 1, [p.get_content_type() for p in msg.walk()]
w = wave.open(io.BytesIO(att[0].get_payload(decode=True)))
mailed = w.getnframes() / w.getframerate()
disk = wave.open(sys.argv[2])
ondisk = disk.getnframes() / disk.getframerate()
meta = json.load(open(sys.argv[2][:-4] + ".json"))
var = float(sys.argv[3])
print("mailed", mailed, "on disk", ondisk, "voicemail_duration", var, "metadata", meta)
assert abs(mailed - ondisk) < 0.01, "the attachment is not the saved file"
assert 2.5 < var < 6 and abs(ondisk - var) < 0.5, "the WAV's length is not voicemail_duration"
assert meta["caller"] == "79165550000" and abs(meta["duration"] - var) < 0.05, meta
PY
    expect "the subscriber's second NOTIFY was not 1/0" grep -q "Voice-Message: 1/0" "$W/mwi.msg"
}

case_voicemail_main() { # the owner logs in with the PIN by RFC 4733 DTMF, listens (1) and
    # deletes the message (7): it is gone from the box
    EVIDENCE="$W/vmm.out $W/vmm.rtp $W/serve.log"
    media vmm vmmain 16000 15 --dtmf "1234#@1.5,1@4.5,7@7.5"
    reap $LAST || { WHY="the caller's sipp failed"; return 1; }
    expect "not logged in with the PIN" in_log vmm "voicemail_main: box 101 logged in" &&
        expect "the message was not played" in_log vmm "voicemail_main: box 101: playing message\|voicemail_main: box 101: message .* deleted" &&
        expect "no message deleted" in_log vmm "voicemail_main: box 101: message .* deleted" || return 1
    i=0
    while ls "$W"/rec/voicemail/101/new/*.wav "$W"/rec/voicemail/101/old/*.wav >/dev/null 2>&1 && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    expect "the message is still in the box: $(ls -R "$W/rec/voicemail/101")" \
        sh -c "! ls '$W'/rec/voicemail/101/new/* '$W'/rec/voicemail/101/old/* >/dev/null 2>&1"
}

case_voicemail_silence() { # the caller talks for 6 s, then says nothing: 5 s of silence end
    # the message (kept), and callroute goes on and ends the call
    EVIDENCE="$W/vmsil.out $W/vmsil.rtp $W/serve.log"
    media vmsil vm101 25000 20 --tone 1000 --until 6
    reap $LAST || { WHY="the caller's sipp failed"; return 1; }
    secs=$(call_log vmsil | sed -n 's/.*voicemail done: saved \([0-9.]*\)s .*/\1/p' | head -1)
    expect "the server did not end the call (the silence did not end the message)" grep -q server "$W/vmsil.port.bye" &&
        expect "the message ($secs s) is not what was said (~2 s after the greeting) and 5 s of silence" \
            $PY -c "import sys; sys.exit(0 if 6 < float(sys.argv[1] or 0) < 8.5 else 1)" "$secs"
}

case_mwi_unsolicited() { # 102 wants message waiting without subscribing: its registered
    # phone is sent NOTIFY when a message is left for it
    EVIDENCE="$W/notify102.out $W/notify102.err $W/vm102.out $W/serve.log"
    reg reg102c 102 b102 "$AGENT2" || { WHY="registration failed"; return 1; }
    peer notify102 "$AGENT2" "$SC/notify-uas.xml"
    p=$LAST
    media vm102 vm102 7000 8 --tone 1000
    reap $LAST || { WHY="the caller's sipp failed"; return 1; }
    reap $p || { WHY="the phone got no NOTIFY saying a message waits"; return 1; }
    expect "the NOTIFY is not logged as unsolicited" grep -q "user 102: NOTIFY message-summary 1/0 (unsolicited)" "$W/serve.log"
}

case_metrics() { # the queue gauges in GET /metrics
    EVIDENCE="$W/metrics.json"
    api GET /metrics metrics
    expect "GET /metrics: $CODE" [ "$CODE" = 200 ] &&
        expect "not a valid exposition: $($PY "$ROOT/tests/metrics/check.py" "$W/metrics.json" 2>&1 | tail -1)" \
            $PY "$ROOT/tests/metrics/check.py" "$W/metrics.json" &&
        expect "no queue figures in /metrics" grep -q '^callroute_queue_waiting{queue="support"} 0$' "$W/metrics.json" &&
        expect "slow's timeout not counted" grep -q '^callroute_queue_calls_total{queue="slow",outcome="timeout"} 1$' "$W/metrics.json" &&
        expect "support's agents by state missing" grep -q '^callroute_queue_agents{queue="support",state="available"} ' "$W/metrics.json"
}

# CONTACT_CASES="queue_timeout" runs only those (KEEP=1 keeps the logs).
for c in ${CONTACT_CASES:-queue_longest_idle queue_paused queue_timeout queues_api music_on_hold voicemail_mwi \
    voicemail_main voicemail_silence mwi_unsolicited metrics}; do
    run "$c"
done
kill -TERM "$SERVE"
reap "$SERVE" || bad shutdown "serve did not exit 0" "$W/serve.log"
if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$W/serve.log"; then
    bad sanitizer "a sanitizer report in the server log" "$W/serve.log"
fi
[ "$FAILS" -eq 0 ]
