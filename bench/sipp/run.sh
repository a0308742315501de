#!/bin/sh
# The generator's own ceiling: sipp UAC -> sipp UAS directly, pinned to the
# core the benchmark gives sipp, from the servers' top steps and beyond. A server
# figure at or near this ceiling is "limited by the generator".
#   sh bench/sipp/run.sh [--quick] [--out FILE]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/bench/lib.sh"
bench_args "$@"
bench_need sipp
UAS_PORT=${UAS_PORT:-7080}
set -- --name sipp-direct --target "127.0.0.1:$UAS_PORT" --uas-port "$UAS_PORT"
[ -n "$OUT" ] && set -- "$@" --out "$OUT"
if [ -n "$QUICK" ]; then
  /usr/bin/python3 "$HERE/sipstep.py" ladder "$@" --rates 1000,4000 --duration 2 \
    --warmup 0.5 --drain 0.5
else
  /usr/bin/python3 "$HERE/sipstep.py" ladder "$@" \
    --rates "1000,2000,4000,6400" \
    --duration "${SIP_SECONDS:-30}" --warmup 5 --drain 1
fi
