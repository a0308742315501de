#!/bin/sh
# Instructions per call of the B2BUA benchmark's call (b2bua.yaml), counted
# by callgrind: robust to a shared machine with no hardware counters
# (docs/decisions/sip-core.md, "CPU per call, cut"). The server runs under
# valgrind; sipp places WARM calls at 50/s (valgrind translates the code),
# the counters are zeroed, CALLS calls at RATE (100/s: valgrind's reach),
# then a dump 2 s after the last: start-up and warm-up are not counted.
#   sh bench/sip/callgrind.sh BINARY OUTDIR [CALLS] [RATE]
# Ports: $CR_PORT (9270), $UAS_PORT (9280), $UAC_PORT (9300), the admin API
# on $ADMIN_PORT (9290) — on, as in `make bench`, and never the default
# 8080 another process may hold (then serve runs without it, and its trace
# work, ~28,000 instructions a call, is not counted).
# Prints instructions per call and sipp's counts; OUTDIR keeps cg.out.1
# for callgrind_annotate.
set -eu
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
OUT=$2
CALLS=${3:-2000}
RATE=${4:-100}
WARM=${WARM:-300}
PORT=${CR_PORT:-9270}
UAS=${UAS_PORT:-9280}
UAC=${UAC_PORT:-9300}
ADMIN=${ADMIN_PORT:-9290}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
cd "$OUT"
sed -e "s/@UAS_PORT@/$UAS/" "$HERE/b2bua.yaml" > b2bua.yaml
taskset -c 1 sipp -sn uas -i 127.0.0.1 -p "$UAS" -nostdin -trace_err > uas.log 2>&1 &
UP=$!
valgrind --tool=callgrind --callgrind-out-file="$PWD/cg.out" --dump-instr=no "$BIN" serve b2bua.yaml \
  --sip "udp:127.0.0.1:$PORT" --admin "127.0.0.1:$ADMIN" --log-level error > srv.log 2>&1 &
VP=$!
i=0
until ss -lun | grep -q ":$PORT "; do
  i=$((i + 1))
  [ "$i" -lt 240 ] || { echo "server did not bind $PORT (see $OUT/srv.log)" >&2; kill "$VP" "$UP"; exit 1; }
  sleep 0.5
done
uac() {
  taskset -c 1 sipp -sn uac "127.0.0.1:$PORT" -i 127.0.0.1 -p "$UAC" -r "$1" -rp 1000 -m "$2" -nostdin \
    -recv_timeout 10000 -timeout 600 -trace_stat -stf "stat$3.csv" -fd 1 > "uac$3.log" 2>&1 || true
}
uac 50 "$WARM" w
callgrind_control -z "$VP" > /dev/null 2>&1
uac "$RATE" "$CALLS" m
sleep 2
callgrind_control -d "$VP" > /dev/null 2>&1
kill "$VP"; wait "$VP" || true
kill "$UP"; wait "$UP" || true
TOT=$(callgrind_annotate cg.out.1 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
/usr/bin/python3 - statm.csv "$TOT" "$CALLS" <<'PY'
import csv, sys
st, tot, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = list(csv.reader(open(st), delimiter=";"))
d = dict(zip(rows[0], rows[-1]))
print(f"instructions_per_call {tot // calls} calls {d.get('SuccessfulCall(C)')} "
      f"failed {d.get('FailedCall(C)')} retransmissions {d.get('Retransmissions(C)')}")
PY
