#!/bin/sh
# make run: check the demo scenario, then simulate the seed call: a call
# from the trunk is put through to Alice (101), who answers at 2 s, puts the
# caller on hold at 5 s (the supervisor's e-mail appears in the trace) and
# hangs up at 30 s. All on the virtual clock: it takes milliseconds.
set -e
cd "$(dirname "$0")/.."
./build/callroute check examples/demo.yaml
echo
echo "== callroute simulate examples/demo.yaml --from 79165551234 --to 1000 --source provider \\"
echo "       --at 2026-11-26T10:00:00+03:00 --party 101=ringing@0,answer@2,hold@5,hangup@30"
./build/callroute simulate examples/demo.yaml --from 79165551234 --to 1000 --source provider \
    --at 2026-11-26T10:00:00+03:00 --party 101=ringing@0,answer@2,hold@5,hangup@30
