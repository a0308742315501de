#!/bin/sh
# The callroute B2BUA benchmark: sipp UAC -> callroute serve (dial the
# gateway, answer, bridge, no media) -> sipp UAS, measured by
# bench/sipp/sipstep.py exactly as Kamailio is (bench/README.md): server on
# CPU 0, sipp on CPU 1, fixed-rate steps, CPU-us per call from /proc.
#   sh bench/sip/run.sh [--quick] [--out FILE]
# $CALLROUTE: the binary (default build/bench/callroute, `make bench` builds it).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
QUICK=""; OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --out) OUT="$2"; shift ;;
    *) echo "usage: $0 [--quick] [--out FILE]" >&2; exit 2 ;;
  esac
  shift
done
command -v sipp >/dev/null || { echo "sipp: not installed" >&2; exit 3; }
CR=${CALLROUTE:-$ROOT/build/bench/callroute}
[ -x "$CR" ] || { echo "$CR: not built (make bench)" >&2; exit 3; }

PORT=${CR_PORT:-25070}
UAS_PORT=${UAS_PORT:-25080}
RUN=$(mktemp -d /tmp/bench-callroute.XXXXXX)
trap 'rm -rf "$RUN"' EXIT
sed -e "s/@UAS_PORT@/$UAS_PORT/" "$HERE/b2bua.yaml" > "$RUN/b2bua.yaml"
"$CR" check "$RUN/b2bua.yaml" >/dev/null

SERVER="$CR serve $RUN/b2bua.yaml --sip udp:127.0.0.1:$PORT --log-level error"
set -- --name callroute --server "$SERVER" --target "127.0.0.1:$PORT" --uas-port "$UAS_PORT"
[ -n "$OUT" ] && set -- "$@" --out "$OUT"
STEP=${SIPSTEP:-$ROOT/bench/sipp/sipstep.py}

if [ -n "$QUICK" ]; then
  /usr/bin/python3 "$STEP" ladder "$@" --rates 1000 --duration 4 \
    --warmup 0.5 --drain 1.5 --repeat-rate 1000 --repeats 1
  /usr/bin/python3 "$STEP" hold "$@" --calls 1000 --rate 1000 --settle 10
else
  /usr/bin/python3 "$STEP" ladder "$@" ${SIP_RATES:+--rates "$SIP_RATES"} \
    --duration "${SIP_SECONDS:-30}" --warmup 5 --drain 5 --repeat-rate 1000 --repeats 2
  /usr/bin/python3 "$STEP" hold "$@" --calls 5000 --rate 500 --settle 12
fi
