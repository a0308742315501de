#!/bin/sh
# make run: check the demo scenario, show the seed call on the simulator
# (milliseconds, virtual clock), then start the SIP service on it, with the
# editor at http://127.0.0.1:8080/editor/. The service runs a copy of the
# demo (examples/.run-demo.yaml, beside it so its paths hold) that adds an
# admin token (var/demo-admin.token, made once), so the editor can check
# and deploy; deploys change the copy, never examples/demo.yaml.
set -e
cd "$(dirname "$0")/.."
./build/callroute check examples/demo.yaml
echo
echo "== the seed call, simulated: Alice (101) answers at 2 s, holds at 5 s, hangs up at 30 s"
./build/callroute simulate examples/demo.yaml --from 79165551234 --to 1000 --source provider \
    --at 2026-11-26T10:00:00+03:00 --party 101=ringing@0,answer@2,hold@5,hangup@30
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
  sh tests/sip/demo-phones.sh        # Alice (101) registers, the trunk calls 1000,
                                     # Alice answers, holds, hangs up (sipp)
  sipp -sn uac -s 1000 -m 1 -p 5070 -i 127.0.0.1 127.0.0.1:5060   # one call from the trunk
A softphone can register as 101 / alice-secret at 127.0.0.1:5060.
When Alice does not answer, the caller hears examples/sounds/voicemail-greeting.wav
and the message is recorded to examples/recordings/voicemail/.
The hold e-mail goes to smtp://127.0.0.1:2525; until a server listens there it
waits in var/outbox and is sent when one does.

MSG
exec ./build/callroute serve examples/.run-demo.yaml --log-level info
