#!/bin/sh
# The callroute B2BUA benchmark: sipp UAC -> callroute serve (dial the
# gateway, answer, bridge, media anchored) -> sipp UAS, measured by
# bench/sipp/sipstep.py exactly as Kamailio and Kamailio + rtpengine are
# (bench/sipp/plan.sh, bench/README.md): server on CPU 0, sipp on CPU 1,
# fixed-rate steps, CPU-us per call from /proc. Then the same without media
# (bench/sip/bypass.yaml, issue 17 goal 6) when callroute accepts that file.
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

PORT=${CR_PORT:-7070}
UAS_PORT=${UAS_PORT:-7080}
RUN=$(mktemp -d /tmp/bench-callroute.XXXXXX)
trap 'rm -rf "$RUN"' EXIT
# run.sh's time limit ends a run with TERM: clean up then too.
trap 'exit 143' TERM INT
for f in b2bua bypass; do
  sed -e "s/@UAS_PORT@/$UAS_PORT/" "$HERE/$f.yaml" > "$RUN/$f.yaml"
done
"$CR" check "$RUN/b2bua.yaml" >/dev/null

STEP=${SIPSTEP:-$ROOT/bench/sipp/sipstep.py}
. "$ROOT/bench/sipp/plan.sh"
set -- --name callroute --server "$CR serve $RUN/b2bua.yaml --sip udp:127.0.0.1:$PORT --log-level error" \
  --target "127.0.0.1:$PORT" --uas-port "$UAS_PORT"
[ -n "$OUT" ] && set -- "$@" --out "$OUT"

plan_ladder "$@"
plan_series "$@"
# Goal 4: 10,000 calls held with media anchored. sofia keeps a finished
# transaction 32 s.
plan_hold 10000 500 32 "$@"

# Goal 6: 100,000 calls held without media (QUICK: 20,000), once callroute
# accepts bench/sip/bypass.yaml; until then the report says why not.
if "$CR" check "$RUN/bypass.yaml" > "$RUN/bypass.check" 2>&1; then
  set -- --name callroute-bypass \
    --server "$CR serve $RUN/bypass.yaml --sip udp:127.0.0.1:$PORT --log-level error" \
    --target "127.0.0.1:$PORT" --uas-port "$UAS_PORT"
  [ -n "$OUT" ] && set -- "$@" --out "$OUT"
  plan_hold "$([ -n "$QUICK" ] && echo 20000 || echo 100000)" 1000 32 "$@"
else
  # One JSON line saying so; the check's first error line, as text.
  $PY - "$RUN/bypass.check" "$RUN/bypass.yaml" "$OUT" <<'PY'
import json, sys
path, yaml, out = sys.argv[1:]
lines = [l.strip() for l in open(path, errors="replace") if l.strip()]
why = (lines[0] if lines else "no output").replace(yaml, "bench/sip/bypass.yaml")[:240]
rec = json.dumps({"bench": "sip", "phase": "hold", "peer": "callroute-bypass",
                  "refused": "callroute check refused bench/sip/bypass.yaml", "check": why})
print(rec, flush=True)
if out:
    open(out, "a").write(rec + "\n")
PY
fi
