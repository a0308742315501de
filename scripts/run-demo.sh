#!/bin/sh
# make run: check the demo scenario, show two calls on the simulator
# (milliseconds, virtual clock), then start the SIP service on it, with a
# mail sink that prints what the demo e-mails and the editor at
# http://127.0.0.1:8080/editor/. The service runs a copy of the
# demo (examples/.run-demo.yaml, beside it so its paths hold) that adds an
# admin token (var/demo-admin.token, made once), so the editor can check
# and deploy; deploys change the copy, never examples/demo.yaml.
set -e
cd "$(dirname "$0")/.."
[ -f examples/sounds/hold-music.wav ] || /usr/bin/python3 scripts/make-demo-sounds.py examples/sounds
./build/callroute check examples/demo.yaml
echo
echo "== a call, simulated: it waits in the support queue; Alice (101) answers at 2 s,"
echo "   holds at 5 s (the caller hears the hold music, the supervisor gets mail), hangs up at 30 s"
./build/callroute simulate examples/demo.yaml --from 79165551234 --to 1000 --source provider \
    --at 2026-11-26T10:00:00+03:00 --party 101=ringing@0,answer@2,hold@5,hangup@30
echo
echo "== another: nobody answers; after max_wait the caller leaves Alice a voicemail and hangs up"
./build/callroute simulate examples/demo.yaml --from 79165551234 --to 1000 --source provider \
    --at 2026-11-26T10:00:00+03:00 --party 101=ringing@0 --party 102=busy@1 --caller hangup@50 |
    grep -E 'queue support: (offering|the caller left)|say "Alice|email|voicemail 101|hangup  by' || true

SINK=""
if /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null &&
    ! ss -Hltn 'sport = :2525' 2>/dev/null | grep -q .; then
    /usr/bin/python3 scripts/demo-mail-sink.py var/mail 2525 &
    SINK=$!
    trap 'kill $SINK 2>/dev/null' EXIT INT TERM
    MAIL="A mail sink listens on smtp://127.0.0.1:2525 (scripts/demo-mail-sink.py): each
message the demo sends is printed here and kept in var/mail/N.eml."
else
    MAIL="The demo mails smtp://127.0.0.1:2525; start a sink there to see the messages:
  /usr/bin/python3 scripts/demo-mail-sink.py var/mail 2525
(until one listens they wait in var/outbox and go out when it does)."
fi

mkdir -p var
if [ ! -s var/demo-admin.token ]; then
    (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >var/demo-admin.token)
fi
sed 's|^settings:$|settings:\n  admin: { token_file: "../var/demo-admin.token" }   # added by make run|' \
    examples/demo.yaml >examples/.run-demo.yaml
cat <<MSG

== callroute serve examples/demo.yaml — SIP on udp:127.0.0.1:5060 (Ctrl-C stops it)

The editor: http://127.0.0.1:8080/editor/ — its Token button takes
  $(cat var/demo-admin.token)
(var/demo-admin.token) to check, try and deploy changes.

Place a real call to it from another terminal:
  sh tests/sip/demo-phones.sh        # Alice (101) registers, the trunk calls 1000, the call
                                     # waits in the queue, Alice answers, holds, hangs up (sipp)
  sipp -sn uac -s 1000 -m 1 -p 5070 -i 127.0.0.1 127.0.0.1:5060 -d 60000
                                     # one call from the trunk: with no agent registered it
                                     # waits 30 s (music, announcements), then takes a voicemail
A softphone can register as 101 / alice-secret (or 102 / bob-secret) at 127.0.0.1:5060:
*45 pauses you in the queue, *46 brings you back, *97 is Alice's voicemail (PIN 1234).

Watch it (admin API on 127.0.0.1:8080):
  curl -sN 127.0.0.1:8080/events     # every call's trace as it happens
  curl -s 127.0.0.1:8080/queues      # callers waiting, agents' states, answered, service level
  curl -s 127.0.0.1:8080/calls       # live and recent calls; /calls/ID for one call's trace

$MAIL
Voicemail messages are kept in examples/recordings/voicemail/101/.

MSG
./build/callroute serve examples/.run-demo.yaml --log-level info
