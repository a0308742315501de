#!/bin/sh
# The main job for now: check the demo scenario and simulate the seed call.
set -e
cd "$(dirname "$0")/.."
./build/callroute check examples/demo.yaml
./build/callroute simulate examples/demo.yaml --from 79165551234 --to 1000 --source provider \
    --party 101=answer@2,hold@5,hangup@30
