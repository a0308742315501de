#!/bin/sh
# tests/hostile/services.sh — mail under hostile values and faults (issue 11,
# items 9 and 17), against the real aiosmtpd server (tests/services/
# smtp_server.py): a caller number that smuggles a second recipient into a
# template, and a SIGTERM during a burst of mail to a slow server.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
SUITE=hostile-services
. "$ROOT/tests/sip/lib.sh"
SMTP_PY=$ROOT/tests/services/smtp_server.py

# smtp_start DIR [DELAY]: a capturing server into DIR; sets SMTP_PORT, SMTP_PID.
smtp_start() {
    mkdir -p "$1"
    /usr/bin/python3 "$SMTP_PY" "$1" 0 "${2:-0}" >"$1.port" 2>"$1.err" &
    SMTP_PID=$!
    BG="$BG $SMTP_PID"
    wait_for "$1.port" 10 '^PORT' || return 1
    SMTP_PORT=$(sed -n 's/^PORT //p' "$1.port")
}
smtp_stop() { kill "$SMTP_PID" 2>/dev/null; reap "$SMTP_PID" 2>/dev/null; }
outbox_rows() { # outbox_rows FILE: messages still waiting
    /usr/bin/python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from message").fetchone()[0])' "$1" 2>/dev/null
}
sanitizer_clean() { ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$@"; }

# Item 9: `to: "{caller_number}@example.com"` with the caller number
# "x;root" once became two recipients, x@... and root@example.com.
case_mail_value_adds_no_recipient() {
    smtp_start "$W/mail9" || { WHY="smtp server did not start"; return 1; }
    cat >"$W/m9.yaml" <<EOF
version: 1
settings:
  smtp: { url: "smtp://127.0.0.1:$SMTP_PORT", from: "pbx@example.com", outbox: "$W/outbox9" }
routes:
  - name: main
    script:
      - app: email
        to: "{caller_number}@example.com"
        cc: "\"Desk, Front\" <desk@example.com>; ops@example.com"
        subject: "call from {caller_number}"
        body: "b"
        on_error: [ { app: set, vars: { mailerr: "{error}" } } ]
      - app: hangup
EOF
    EVIDENCE="$W/sim9.out $W/sim9ok.out"
    "$CR" simulate "$W/m9.yaml" --from 'x;root' --to 1 --send-mail >"$W/sim9.out" 2>&1
    # The template's own separators still split: one good message.
    "$CR" simulate "$W/m9.yaml" --from 5551234 --to 1 --send-mail >"$W/sim9ok.out" 2>&1
    smtp_stop
    expect "the action did not fail clearly" grep -q 'mailerr="invalid recipient address' "$W/sim9.out" &&
        expect "root got mail" sh -c "! grep -qi 'root@' '$W'/mail9/*.eml" &&
        expect "not exactly one message arrived" test "$(ls "$W/mail9" | grep -c '\.eml$')" = 1 &&
        expect "the good message lost a recipient" \
            grep -q '^X-Envelope-To: 5551234@example.com, desk@example.com, ops@example.com' "$W"/mail9/1.eml &&
        expect "sanitizer report" sanitizer_clean "$W/sim9.out" "$W/sim9ok.out"
}

# Item 17: 100 messages wait in the outbox (queued while the server was
# down); serve delivers them to a server that answers DATA 0.3 s after it
# stored the message; SIGTERM mid-burst. Transfers in flight used to be
# aborted and sent again at the next start (duplicates at the server).
case_sigterm_mail_burst_exactly_once() {
    smtp_start "$W/mail17" 0.3 || { WHY="smtp server did not start"; return 1; }
    port=$SMTP_PORT
    smtp_stop   # down while the burst is queued
    cat >"$W/m17.yaml" <<EOF
version: 1
settings:
  smtp: { url: "smtp://127.0.0.1:$port", from: "pbx@example.com", outbox: "$W/outbox17" }
  media: { rtp_ports: "$RTP-$((RTP + 999))" }
routes:
  - name: main
    script:
      - app: loop
        times: 100
        do:
          - app: email
            to: "ops@example.com"
            subject: "burst {loop_index}"
            body: "message {loop_index}"
      - app: hangup
EOF
    EVIDENCE="$W/burst.out $W/serve17a.log $W/serve17b.log"
    "$CR" simulate "$W/m17.yaml" --from 1 --to 2 --send-mail >"$W/burst.out" 2>&1
    expect "the burst is not in the outbox" test "$(outbox_rows "$W/outbox17/outbox.sqlite")" = 100 || return 1
    /usr/bin/python3 "$SMTP_PY" "$W/mail17" "$port" 0.3 >"$W/mail17.port2" 2>>"$W/mail17.err" &
    SMTP_PID=$!
    BG="$BG $SMTP_PID"
    wait_for "$W/mail17.port2" 10 '^PORT' || { WHY="smtp server did not restart"; return 1; }

    "$CR" serve "$W/m17.yaml" --sip "udp:127.0.0.1:$SIP" --admin off >"$W/serve17a.log" 2>&1 &
    srv=$!
    BG="$BG $srv"
    wait_for "$W/serve17a.log" 15 'listening for SIP' || { WHY="serve did not start"; return 1; }
    i=0
    while [ "$(ls "$W/mail17" | grep -c '\.eml$')" -lt 10 ] && [ $i -lt 600 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    kill -TERM "$srv"
    reap "$srv"
    rc=$?
    expect "serve did not exit 0 on SIGTERM ($rc)" test "$rc" = 0 || return 1
    left=$(outbox_rows "$W/outbox17/outbox.sqlite")
    got=$(ls "$W/mail17" | grep -c '\.eml$')
    expect "stopped after the burst was over ($got delivered): no transfer was in flight" test "$got" -lt 100 ||
        return 1

    "$CR" serve "$W/m17.yaml" --sip "udp:127.0.0.1:$SIP" --admin off >"$W/serve17b.log" 2>&1 &
    srv=$!
    BG="$BG $srv"
    i=0
    while [ "$(outbox_rows "$W/outbox17/outbox.sqlite")" != 0 ] && [ $i -lt 1200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    kill -TERM "$srv"
    reap "$srv"
    smtp_stop
    ids=$(grep -hi '^Message-ID:' "$W"/mail17/*.eml | sort | uniq | wc -l)
    files=$(ls "$W/mail17" | grep -c '\.eml$')
    dups=$(grep -hi '^Message-ID:' "$W"/mail17/*.eml | sort | uniq -d | wc -l)
    WHY="after the first stop: $got delivered, $left left; at the end $files messages, $ids Message-IDs, $dups sent twice"
    test "$ids" = 100 && test "$files" = 100 && test "$dups" = 0 &&
        expect "sanitizer report at exit" sanitizer_clean "$W/serve17a.log" "$W/serve17b.log"
}

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 1)
SIP=$1 RTP=$2

run mail_value_adds_no_recipient
run sigterm_mail_burst_exactly_once
[ "$FAILS" = 0 ]
