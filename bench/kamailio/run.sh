#!/bin/sh
# Kamailio 5.6 peer: the stateful proxy of kamailio.cfg between a sipp UAC and
# a sipp UAS (no media), measured by bench/sipp/sipstep.py exactly as
# callroute is (bench/sipp/plan.sh). Its held calls are the peer of
# callroute's held calls without media (issue 17 goal 6).
#   sh bench/kamailio/run.sh [--quick] [--out FILE]
# Runs in the foreground with a private runtime dir, the TLSF allocator (what
# operators use; Debian's default `qm` has debug accounting and costs 2.5-4x
# more CPU per call) and 1 GB of shared memory (tm keeps ~15 KB per finished
# transaction for 5 s).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/bench/lib.sh"
bench_args "$@"
bench_need kamailio

PORT=${KAM_PORT:-7070}
UAS_PORT=${UAS_PORT:-7080}
bench_rundir kamailio
sed -e "s/@PORT@/$PORT/" -e "s/@UAS_PORT@/$UAS_PORT/" "$HERE/kamailio.cfg" > "$RUN/kamailio.cfg"
kamailio -c -f "$RUN/kamailio.cfg" >"$RUN/check.log" 2>&1 || { cat "$RUN/check.log" >&2; exit 1; }

SERVER="kamailio -f $RUN/kamailio.cfg -DD -E -x tlsf -m 1024 -M 16 -P $RUN/kamailio.pid -Y $RUN"
set -- --name kamailio --target "127.0.0.1:$PORT" --uas-port "$UAS_PORT"
[ -n "$OUT" ] && set -- "$@" --out "$OUT"
STEP=${SIPSTEP:-$HERE/../sipp/sipstep.py}
. "$HERE/../sipp/plan.sh"

# The ladder and the series with the shared memory written at start
# (kamailio.cfg's PREFAULT: shm_force_alloc), as callroute's run has its
# heap prefaulted; the hold plan measures memory growth, so without.
plan_ladder "$@" --server "$SERVER -A PREFAULT"
plan_series "$@" --server "$SERVER -A PREFAULT"
set -- "$@" --server "$SERVER"
# tm keeps a finished transaction 5 s. Goal 6's count (100,000) in a QUICK
# run too: holding them takes ~2 minutes.
plan_hold 100000 2000 5 "$@"
