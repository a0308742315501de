#!/bin/sh
# make bench: builds callroute and every bench/*.c optimised, runs each
# benchmark several times beside its peers (Lua 5.4, linear route scan,
# Kamailio 5.6, Kamailio + rtpengine 10.5, rtpengine's relay, sipp to sipp,
# Kamailio terminating TLS),
# and writes BENCHMARKS.md. Method: bench/README.md.
#   sh bench/run.sh [--quick] [--only NAME,...]   QUICK: the short version, ~12 minutes
# A benchmark that is missing or does not build is reported "not yet
# measured"; it never stops the others. Benchmarks are not part of make test.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

QUICK=""; ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --only) ONLY=",$2,"; shift ;;
    *) echo "usage: $0 [--quick] [--only NAME,...]  (names: engine_bench route_bench mixer_bench" \
         "services_bench media_bench lua load sip-direct sip-kamailio sip-kamailio-rtpengine" \
         "sip-callroute cluster tls)" >&2; exit 2 ;;
  esac
  shift
done
# --only: run just these (while working on one benchmark); the report shows
# the rest as not measured.
want() { [ -z "$ONLY" ] || case "$ONLY" in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

B=${BENCH_BUILD:-build/bench}
OPT="-O2 -g -DNDEBUG"
RES="$B/results"
PY=/usr/bin/python3
# QUICK keeps every figure and drops repeats (two runs, three series steps):
# the SIP plan runs for both SIP cores.
if [ -n "$QUICK" ]; then RUNS=${BENCH_RUNS:-2}; LIMIT=90; SLOW=4; else RUNS=${BENCH_RUNS:-5}; LIMIT=1800; SLOW=0; fi
# A SIP server's whole plan (ladder, series, held calls): QUICK ~4 min, full ~15;
# callroute's (two cores, four holds of four settled batches) up to ~15 min QUICK.
if [ -n "$QUICK" ]; then SIP_LIMIT=1500; else SIP_LIMIT=3600; fi
rm -rf "$RES"
mkdir -p "$RES"
STATUS="$RES/status.tsv"
: > "$STATUS"
T0=$(date +%s)

log() { echo "bench [$(( $(date +%s) - T0 ))s]: $*" >&2; }
status() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$STATUS"; }

# Another helper's sipp or kamailio on our ports would skew every figure
# (SIP 7070-7072, UAS 7080, rtpengine's control 7090-7091; UACs from 7100;
# callroute's admin API TCP 7095).
for port in 7070 7071 7072 7080 7090 7091; do
  if grep -qi ":$(printf '%04X' $port) " /proc/net/udp 2>/dev/null; then
    echo "bench: UDP port $port is busy: stop what holds it first" >&2
    exit 1
  fi
done
if grep -qi ":$(printf '%04X' 7095) " /proc/net/tcp 2>/dev/null; then
  echo "bench: TCP port 7095 (callroute's admin API) is busy: stop what holds it first" >&2
  exit 1
fi

$PY bench/report.py machine > "$RES/machine.json"
[ -n "$QUICK" ] && echo '{"quick": true}' > "$RES/mode.json" || echo '{"quick": false}' > "$RES/mode.json"

# ---------------------------------------------------------------- build
log "building ($OPT) into $B"
MK="make -s -j$(nproc) B=$B"
LIB_OK=""; CALLROUTE_OK=""
if $MK OPT="$OPT" "$B/libcallroute.a" > "$RES/build.log" 2>&1; then
  LIB_OK=1
  if $MK OPT="$OPT" all >> "$RES/build.log" 2>&1; then
    CALLROUTE_OK=1
  else
    status callroute build-failed "the binary (see $RES/build.log): load and SIP skipped"
  fi
else
  log "libcallroute does not build (see $RES/build.log): callroute's benchmarks are skipped"
  status callroute build-failed "the library (see $RES/build.log)"
fi
$MK OPT="$OPT" "$B/bench/lua_peer" >> "$RES/build.log" 2>&1 || status lua build-failed "see $RES/build.log"
# Built so that they keep building; run by hand (bench/uring/*.c says how).
for name in uring_relay_bench uring_fixed_files; do
  $MK OPT="$OPT" "$B/bench/$name" >> "$RES/build.log" 2>&1 || status "$name" build-failed "see $RES/build.log"
done
PROGS=""
for src in bench/*.c; do
  [ -e "$src" ] || continue
  name=$(basename "$src" .c)
  if [ -n "$LIB_OK" ] && $MK OPT="$OPT" "$B/bench/$name" >> "$RES/build.log" 2>&1; then
    PROGS="$PROGS $name"
  else
    status "$name" build-failed "see $RES/build.log"
  fi
done

# Runs CMD RUNS times; run i's JSON lines go to $RES/NAME.runI.jsonl. In
# QUICK a benchmark whose first run took over SLOW seconds runs only once,
# so the whole stays under 2 minutes.
repeat() {
  name=$1; shift
  runs=$RUNS
  # media_bench runs four ladders (two relays, plain and SRTP; ~200 s a run): 3 runs.
  [ "$name" = media_bench ] && [ "$runs" -gt 3 ] && runs=3
  i=1
  while [ "$i" -le "$runs" ]; do
    rc=0
    t=$(date +%s)
    timeout "$LIMIT" "$@" > "$RES/$name.run$i.jsonl" 2>> "$RES/$name.err" || rc=$?
    if [ "$rc" -ne 0 ]; then
      status "$name" run-failed "run $i: exit $rc (see $RES/$name.err)"
      return 1
    fi
    if [ -n "$QUICK" ] && [ $(( $(date +%s) - t )) -gt "$SLOW" ]; then
      status "$name" ok "1 run (QUICK: over ${SLOW} s a run)"
      return 0
    fi
    i=$((i + 1))
  done
  status "$name" ok "$runs runs"
}

# ---------------------------------------------------------------- in-process benchmarks
# Each bench/NAME.c prints JSON lines; bench/NAME.sh, when present, is its
# runner (it gets the binary in $BENCH_BIN).
export CALLROUTE="$ROOT/$B/callroute" BENCH_QUICK="$QUICK" BENCH_RESULTS="$ROOT/$RES"
# A failing SIP step's logs (sipstep.py keeps them) stay with the results.
export SIPSTEP_TMP="$ROOT/$RES/sipstep"
for name in $PROGS; do
  want "$name" || continue
  log "$name x$RUNS"
  if [ -f "bench/$name.sh" ]; then
    BENCH_BIN="$ROOT/$B/bench/$name" repeat "$name" sh "bench/$name.sh" ${QUICK:+--quick} || true
  else
    repeat "$name" "$B/bench/$name" ${QUICK:+--quick} || true
  fi
done

# Lua peer of engine_bench: the same calls, rate and waiting-call count.
if want lua && [ -x "$B/bench/lua_peer" ]; then
  if [ -n "$QUICK" ]; then LUA_CALLS=${LUA_CALLS:-20000}; else LUA_CALLS=${LUA_CALLS:-100000}; fi
  log "lua peer x$RUNS"
  repeat lua-run "$B/bench/lua_peer" bench/lua/scenario.lua run "$LUA_CALLS" 1000 || true
  repeat lua-memory "$B/bench/lua_peer" bench/lua/scenario.lua memory 100000 || true
fi

# Load time of a large scenario file (bench/gen-scenario.py writes it).
if want load && [ -n "$CALLROUTE_OK" ] && [ -f bench/gen-scenario.py ]; then
  log "load time"
  if $PY bench/gen-scenario.py --routes 10000 --actions 100000 > "$RES/large.yaml" 2> "$RES/gen.log"; then
    repeat load $PY bench/report.py time-load "$B/callroute" "$RES/large.yaml" routes=10000 actions=100000 || true
  else
    status load run-failed "bench/gen-scenario.py failed (see $RES/gen.log)"
  fi
fi

# ---------------------------------------------------------------- SIP
# Each ladder repeats its reference step itself (30 s steps are costly).
if want sip-direct; then
  log "sipp -> sipp (generator ceiling)"
  timeout "$SIP_LIMIT" sh bench/sipp/run.sh ${QUICK:+--quick} > "$RES/sip-direct.jsonl" 2> "$RES/sip-direct.err" \
    && status sip-direct ok "" || status sip-direct run-failed "see $RES/sip-direct.err"
fi
if want sip-kamailio; then
  log "kamailio"
  timeout "$SIP_LIMIT" sh bench/kamailio/run.sh ${QUICK:+--quick} > "$RES/sip-kamailio.jsonl" 2> "$RES/sip-kamailio.err" \
    && status sip-kamailio ok "" || status sip-kamailio run-failed "see $RES/sip-kamailio.err"
fi
if want sip-kamailio-rtpengine; then
  log "kamailio + rtpengine"
  timeout "$SIP_LIMIT" sh bench/kamailio-rtpengine/run.sh ${QUICK:+--quick} > "$RES/sip-kamailio-rtpengine.jsonl" \
    2> "$RES/sip-kamailio-rtpengine.err" \
    && status sip-kamailio-rtpengine ok "" || status sip-kamailio-rtpengine run-failed "see $RES/sip-kamailio-rtpengine.err"
fi
if want sip-callroute && [ -n "$CALLROUTE_OK" ] && [ -f bench/sip/run.sh ]; then
  log "callroute B2BUA"
  SIPSTEP="$ROOT/bench/sipp/sipstep.py" SIP_PROFILE="$ROOT/$RES/perf-sip.data" \
    timeout "$SIP_LIMIT" sh bench/sip/run.sh ${QUICK:+--quick} > "$RES/sip-callroute.jsonl" 2> "$RES/sip-callroute.err" \
    && status sip-callroute ok "" || status sip-callroute run-failed "see $RES/sip-callroute.err"
fi

# The cluster's front end (issue 18): its own section of the report.
if want cluster && [ -n "$CALLROUTE_OK" ]; then
  log "cluster"
  SIPSTEP="$ROOT/bench/sipp/sipstep.py" timeout "$SIP_LIMIT" sh bench/cluster/run.sh ${QUICK:+--quick} \
    > "$RES/cluster.jsonl" 2> "$RES/cluster.err" \
    && status cluster ok "" || status cluster run-failed "see $RES/cluster.err"
fi

# Issue 19: TLS signalling beside the same path over UDP and beside Kamailio
# terminating TLS (sipp -> a Kamailio UDP->TLS converter -> the server),
# and a new connection's cost: its own section of the report.
if want tls && [ -n "$CALLROUTE_OK" ]; then
  log "TLS signalling"
  SIPSTEP="$ROOT/bench/sipp/sipstep.py" timeout "$SIP_LIMIT" sh bench/tls/run.sh ${QUICK:+--quick} \
    > "$RES/tls.jsonl" 2> "$RES/tls.err" \
    && status tls ok "" || status tls run-failed "see $RES/tls.err"
fi

# ---------------------------------------------------------------- causes
# Where a goal is missed, profile the program behind it (perf) so the report
# can name where the time goes: by library, then by symbol.
perf_summary() {  # DATA OUT
  {
    echo "by library:"
    perf report -i "$1" --no-children --stdio -g none --sort dso 2>/dev/null \
      | grep -E '^ +[0-9.]+%' | sed 's/[ -]*$//' | head -8
    echo "by symbol:"
    perf report -i "$1" --no-children --stdio -g none --sort dso,symbol 2>/dev/null \
      | grep -E '^ +[0-9.]+%' | sed 's/[ -]*$//' | head -15
  } > "$2" || true
}
for goal in $($PY bench/report.py missed "$RES"); do
  case "$goal" in
    interp-time) prog=engine_bench ;;
    route-*) prog=route_bench ;;
    *) continue ;;
  esac
  [ -x "$B/bench/$prog" ] || continue
  [ -f "$RES/perf-$prog.txt" ] && continue
  log "perf: $prog"
  if perf record -q -g -F 999 -o "$RES/perf-$prog.data" "$B/bench/$prog" --quick > /dev/null 2>> "$RES/perf.err"; then
    perf_summary "$RES/perf-$prog.data" "$RES/perf-$prog.txt"
  fi
done
[ -f "$RES/perf-sip.data" ] && perf_summary "$RES/perf-sip.data" "$RES/perf-sip.txt"

printf '{"quick": %s, "seconds": %d}\n' "$([ -n "$QUICK" ] && echo true || echo false)" \
  $(( $(date +%s) - T0 )) > "$RES/mode.json"
$PY bench/report.py write "$RES" BENCHMARKS.md
log "done: BENCHMARKS.md"
