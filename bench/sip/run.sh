#!/bin/sh
# The callroute B2BUA benchmark: sipp UAC -> callroute serve (dial the
# gateway, answer, bridge, media anchored) -> sipp UAS, measured by
# bench/sipp/sipstep.py exactly as Kamailio and Kamailio + rtpengine are
# (bench/sipp/plan.sh, bench/README.md): server on CPU 0, sipp on CPU 1,
# fixed-rate steps, CPU-us per call from /proc. Then the same without media
# (bench/sip/bypass.yaml, issue 17 goal 6) when callroute accepts that file:
# peers "callroute" and "callroute-bypass" (one SIP core since stage 4 of
# docs/decisions/sip-core.md).
#   sh bench/sip/run.sh [--quick] [--out FILE]
# $CALLROUTE: the binary (default build/bench/callroute, `make bench` builds it).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/bench/lib.sh"
bench_args "$@"
bench_need sipp
bench_callroute

PORT=${CR_PORT:-7070}
UAS_PORT=${UAS_PORT:-7080}
# The admin API on, as a deployment runs it (its live-call trace is part of
# a call's cost), at a port of the bench's own: without --admin, serve tries
# 127.0.0.1:8080 and, when something else holds it, runs without the admin
# API and reads ~6% cheaper without saying so (docs/decisions/sip-core.md,
# "CPU per call, cut"). An explicit --admin that cannot listen fails.
ADMIN_PORT=${CR_ADMIN_PORT:-7095}
bench_rundir callroute
for f in b2bua bypass; do
  sed -e "s/@UAS_PORT@/$UAS_PORT/" "$HERE/$f.yaml" > "$RUN/$f.yaml"
done
"$CR" check "$RUN/b2bua.yaml" >/dev/null

STEP=${SIPSTEP:-$ROOT/bench/sipp/sipstep.py}
. "$ROOT/bench/sipp/plan.sh"

peer=callroute
# The ladder and the series measure CPU and set-up latency under load: the
# server's heap is prefaulted at start (serve --heap-prefault), as an
# operator sizing a server for its peak runs it, and as Kamailio's run has
# its shared memory written at start (shm_force_alloc). 3G holds what a
# full ladder's 4,000 calls/s step keeps for Timer D's 32 s (~2.5 GB);
# past it the heap grows as usual. Without it, every heap page's first
# touch is a page fault, 2-5 ms a 2 MiB page on this VM
# (docs/decisions/sip-core.md, "The heap prefaulted"). The hold plans
# measure memory growth, so they run without.
PREFAULT=${CR_HEAP_PREFAULT:-3G}
set -- --name "$peer" --target "127.0.0.1:$PORT" --uas-port "$UAS_PORT"
[ -n "$OUT" ] && set -- "$@" --out "$OUT"
plan_ladder "$@" --server "$CR serve $RUN/b2bua.yaml --sip udp:127.0.0.1:$PORT --admin 127.0.0.1:$ADMIN_PORT --log-level error --heap-prefault $PREFAULT"
# Goal 2 is judged on five 30 s steps, so a QUICK run takes them too.
SERIES_FULL=1 plan_series "$@" --server "$CR serve $RUN/b2bua.yaml --sip udp:127.0.0.1:$PORT --admin 127.0.0.1:$ADMIN_PORT --log-level error --heap-prefault $PREFAULT"
set -- "$@" --server "$CR serve $RUN/b2bua.yaml --sip udp:127.0.0.1:$PORT --admin 127.0.0.1:$ADMIN_PORT --log-level error"
# Goal 4: 10,000 calls held with media anchored. Settled as if a finished
# transaction lingered 32 s (sofia's Timer D floor, docs/decisions/sip-core.md):
# callroute sets T1x64 to 8 s, but a settle of 10 s instead of 26 read 18-31 KB per held call where
# 26 s read 6-16 KB (2026-12-05): a set-up leaves more
# behind, for longer, than its transactions.
plan_hold 10000 500 32 "$@"

# Goal 6: 100,000 calls held without media, once callroute accepts
# bench/sip/bypass.yaml (until then the report says why not) — a QUICK run
# too: at 1,000 calls/s the set-up and the four measured batches take ~3 min.
if "$CR" check "$RUN/bypass.yaml" > "$RUN/bypass.check" 2>&1; then
  set -- --name "$peer-bypass" \
    --server "$CR serve $RUN/bypass.yaml --sip udp:127.0.0.1:$PORT --admin 127.0.0.1:$ADMIN_PORT --log-level error" \
    --target "127.0.0.1:$PORT" --uas-port "$UAS_PORT"
  [ -n "$OUT" ] && set -- "$@" --out "$OUT"
  plan_hold 100000 1000 32 "$@"
else
  # One JSON line saying so; the check's first error line, as text.
  $PY - "$RUN/bypass.check" "$RUN/bypass.yaml" "$OUT" "$peer-bypass" <<'PY'
import json, sys
path, yaml, out, peer = sys.argv[1:]
lines = [l.strip() for l in open(path, errors="replace") if l.strip()]
why = (lines[0] if lines else "no output").replace(yaml, "bench/sip/bypass.yaml")[:240]
rec = json.dumps({"bench": "sip", "phase": "hold", "peer": peer,
                  "refused": "callroute check refused bench/sip/bypass.yaml", "check": why})
print(rec, flush=True)
if out:
    open(out, "a").write(rec + "\n")
PY
fi
