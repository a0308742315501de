#!/bin/sh
# tests/hostile/paths.sh — file paths built from what callers send (issue 11,
# item 1) against a real `callroute serve`: a Call-ID full of "../" reaches a
# `record` whose file is "voicemail/{call_id}.wav" and the recording stays
# below settings.media.recordings as one name ('/' and the leading '.' as
# '_'), nothing written anywhere else; a prompt that is a symlink out of
# settings.media.sounds fails the play with a clear error in the log, a
# Call-ID used as a prompt name stays below it; and the demo served as
# `make run` does (a relative scenario path) finds its music and keeps its
# voicemail below its recordings — each directory joined once, not again
# in the SIP driver.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
HERE=$ROOT/tests/hostile
SUITE=hostile-paths
. "$ROOT/tests/sip/lib.sh"

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 4)
SIP=$1 UAC=$2 SIP2=$3 GW=$4 RTP=$5

# call NAME PORT SERVER_PORT SERVICE CALL_ID HOLD_MS: one call by sipp's
# built-in UAC with that Call-ID, hung up after HOLD_MS.
call() {
    timeout 25 sipp 127.0.0.1:"$3" -sn uac -s "$4" -m 1 -d "$6" -i 127.0.0.1 -p "$2" -nostdin \
        -cid_str "$5" -timeout 20 -timeout_error -trace_msg -message_file "$W/$1.msg" >"$W/$1.out" 2>&1
}
log_has() { grep -qF -- "$1" "$W/serve.log"; }

# The work directory: sounds/hello.wav, secret.wav outside the sounds and a
# symlink sounds/escape.wav to it; recordings/ is made by the first recording.
mkdir -p "$W/sounds"
cp "$ROOT/tests/sip/prompts/hello.wav" "$W/sounds/hello.wav"
cp "$ROOT/tests/sip/prompts/hello.wav" "$W/secret.wav"
ln -s ../secret.wav "$W/sounds/escape.wav"
sed -e "s|@RTP@|$RTP-$((RTP + 499))|" "$HERE/paths.yaml" >"$W/paths.yaml"
"$CR" serve "$W/paths.yaml" --sip "udp:127.0.0.1:$SIP" --admin off >"$W/serve.log" 2>&1 &
SERVE=$!
BG="$BG $SERVE"
if ! wait_for "$W/serve.log" 15 'listening for SIP'; then
    echo "FAIL $SUITE:setup"
    sed 's/^/    /' "$W/serve.log"
    exit 1
fi

case_record_call_id() { # Call-ID "../../…/W/evil": the recording is W/recordings/voicemail/_._.._…_evil.wav
    EVIDENCE="$W/rec.out $W/serve.log"
    # Enough "../" to reach / from any base, then back down into W: without
    # the escape the recording would be W/evil.wav.
    cid="../../../../../../../../../../../../../..$W/evil"
    esc=$(printf '%s' "$cid" | sed 's|/|_|g; s|^\.|_|')
    touch "$W/start"
    call rec "$UAC" "$SIP" record "$cid" 2500 || { WHY="the call failed"; return 1; }
    wait_for "$W/serve.log" 5 "recorded to\|record failed" || true
    outside=$(find "$W" -newer "$W/start" -type f \
        ! -path "$W/recordings/*" ! -path "$W/var/*" ! -name serve.log ! -name 'rec.*' ! -name paths.yaml \
        2>/dev/null)   # var/: the call records (settings.cdr), written by name, not by the caller
    expect "files written outside the recordings directory: $outside" [ -z "$outside" ] &&
        expect "no recording $W/recordings/voicemail/$esc.wav (recordings: $(find "$W/recordings" -type f 2>/dev/null))" \
            [ -s "$W/recordings/voicemail/$esc.wav" ] &&
        expect "record_file is not the escaped path" log_has "recorded to $W/recordings/voicemail/$esc.wav" &&
        expect "more than one file in the recordings directory: $(find "$W/recordings" -type f)" \
            [ "$(find "$W/recordings" -type f | wc -l)" -eq 1 ]
}

case_prompt_outside() { # a symlink out of sounds fails the play, clearly; a Call-ID names a file below sounds
    EVIDENCE="$W/prompt.out $W/serve.log"
    call prompt "$UAC" "$SIP" prompt "../secret.wav" 3000 || { WHY="the call failed"; return 1; }
    wait_for "$W/serve.log" 5 "prompts done" || { WHY="the script did not finish"; return 1; }
    expect "the prompt inside sounds did not play" log_has "hello played" &&
        expect "the symlink out of sounds is not refused with a clear error" \
            log_has "symlink prompt: cannot play: prompt 'escape.wav' is outside settings.media.sounds ($W/sounds)" &&
        expect "the Call-ID prompt is not looked up below sounds as one name" \
            log_has "call-id prompt: cannot open prompt $W/sounds/_._secret.wav" &&
        expect "sanitizer report" sh -c "! grep -qE 'AddressSanitizer|runtime error:' '$W/serve.log'"
}

case_demo_prompt() { # examples/demo.yaml served from a relative path finds examples/sounds/hold-music.wav
    # and keeps the voicemail in examples/recordings/voicemail/
    EVIDENCE="$W/demo.out $W/demo.log"
    D=$W/demo
    mkdir -p "$D/examples"
    cp -r "$ROOT/examples/sounds" "$D/examples/"
    # The demo as shipped, on this run's ports (the trunk "provider" is our
    # caller) and a queue that gives up after 2 s instead of 30.
    sed -e "s|udp:127.0.0.1:5060|udp:127.0.0.1:$SIP2|; s|sip:127.0.0.1:5070|sip:127.0.0.1:$GW|" \
        -e "s|smtp://127.0.0.1:2525|smtp://127.0.0.1:9|; s|max_wait: 30s|max_wait: 2s|" \
        "$ROOT/examples/demo.yaml" >"$D/examples/demo.yaml"
    (cd "$D" && exec "$CR" serve examples/demo.yaml --admin off --log-level debug) >"$W/demo.log" 2>&1 &
    demo=$!
    BG="$BG $demo"
    wait_for "$W/demo.log" 15 'listening for SIP' || { WHY="the demo did not start"; return 1; }
    # No agent is registered: the caller waits (the queue's music), then
    # leaves a voicemail and hangs up while it is recorded.
    call demo "$GW" "$SIP2" 1000 "demo-prompt@x" 16000
    wait_for "$W/demo.log" 10 "demo-prompt@x.*voicemail 101: message saved" || true
    kill "$demo" 2>/dev/null
    reap "$demo"
    expect "a prompt of the demo was not found" sh -c "! grep -qE 'cannot open|music failed|music refused' '$W/demo.log'" &&
        expect "the queue did not time out into the voicemail" grep -q "demo-prompt@x.*queue support: the caller left (timeout)" "$W/demo.log" &&
        expect "the message is not in examples/recordings/voicemail/101/new: $(cd "$D" && find . -name '*.wav' ! -path './examples/sounds/*')" \
            sh -c "ls '$D'/examples/recordings/voicemail/101/new/*.wav >/dev/null 2>&1"
}

for c in ${HOSTILE_PATHS_CASES:-record_call_id prompt_outside demo_prompt}; do
    run "$c"
done
[ "$FAILS" -eq 0 ]
