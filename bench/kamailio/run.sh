#!/bin/sh
# Kamailio 5.6 peer: the stateful proxy of kamailio.cfg between a sipp UAC and
# a sipp UAS, measured by bench/sipp/sipstep.py exactly as callroute is.
#   sh bench/kamailio/run.sh [--quick] [--out FILE]
# Runs in the foreground with a private runtime dir, the TLSF allocator (what
# operators use; Debian's default `qm` has debug accounting and costs 2.5-4x
# more CPU per call) and 1 GB of shared memory (tm keeps ~15 KB per finished
# transaction for 5 s).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
QUICK=""; OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --out) OUT="$2"; shift ;;
    *) echo "usage: $0 [--quick] [--out FILE]" >&2; exit 2 ;;
  esac
  shift
done
command -v kamailio >/dev/null || { echo "kamailio: not installed" >&2; exit 3; }

PORT=${KAM_PORT:-25070}
UAS_PORT=${UAS_PORT:-25080}
RUN=$(mktemp -d /tmp/bench-kamailio.XXXXXX)
trap 'rm -rf "$RUN"' EXIT
sed -e "s/@PORT@/$PORT/" -e "s/@UAS_PORT@/$UAS_PORT/" "$HERE/kamailio.cfg" > "$RUN/kamailio.cfg"
kamailio -c -f "$RUN/kamailio.cfg" >"$RUN/check.log" 2>&1 || { cat "$RUN/check.log" >&2; exit 1; }

SERVER="kamailio -f $RUN/kamailio.cfg -DD -E -x tlsf -m 1024 -M 16 -P $RUN/kamailio.pid -Y $RUN"
set -- --name kamailio --server "$SERVER" --target "127.0.0.1:$PORT" --uas-port "$UAS_PORT"
[ -n "$OUT" ] && set -- "$@" --out "$OUT"

if [ -n "$QUICK" ]; then
  /usr/bin/python3 "$HERE/../sipp/sipstep.py" ladder "$@" --rates 1000 --duration 3 \
    --warmup 0.5 --drain 1.5 --repeat-rate 1000 --repeats 1
  /usr/bin/python3 "$HERE/../sipp/sipstep.py" hold "$@" --calls 1000 --rate 1000 --settle 4
else
  /usr/bin/python3 "$HERE/../sipp/sipstep.py" ladder "$@" ${SIP_RATES:+--rates "$SIP_RATES"} \
    --duration "${SIP_SECONDS:-30}" --warmup 5 --drain 5 --repeat-rate 1000 --repeats 2
  /usr/bin/python3 "$HERE/../sipp/sipstep.py" hold "$@" --calls 5000 --rate 500 --settle 8
fi
