#!/bin/sh
# The cost of the cluster's front end: the B2BUA benchmark (bench/sip: sipp
# UAC -> callroute, which dials the sipp UAS gateway and bridges) run twice
# by bench/sipp/sipstep.py, as every SIP figure is (bench/README.md):
#   direct   sipp -> one node
#   cluster  sipp -> Kamailio (contrib/kamailio/kamailio.cfg, -x tlsf, one
#            UDP worker) -> two nodes (settings.cluster; PostgreSQL for
#            their revisions and heartbeat, outside what is measured)
# The "server" of each run is one process tree pinned to CPU 0 (for the
# cluster: a shell that starts Kamailio and both nodes), so CPU per call is
# everything that serves a call: callroute, and Kamailio where it is used.
#   sh bench/cluster/run.sh [--quick] [--out FILE]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/bench/lib.sh"
bench_args "$@"
bench_need sipp kamailio
bench_callroute

KAM=7070 N1=7071 N2=7072 UAS_PORT=7080
bench_rundir cluster 'sh "$ROOT/tests/services/pg.sh" stop "$PG_DIR" immediate'
chmod 755 "$RUN"
PG_DIR=$RUN/pg
PGPORT=$(sh "$ROOT/tests/services/pg.sh" start "$PG_DIR")
PG="postgresql://postgres@127.0.0.1:$PGPORT/test"
for f in standard usrloc; do
  psql -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres test -f "/usr/share/kamailio/postgres/$f-create.sql" >/dev/null
done

# The bench scenario, as a cluster node: no call records (the B2BUA figure
# has none either), the front end named.
mk() { # mk DIR [cluster]
  mkdir -p "$1"
  # sipp's uac calls "service": not a number a gateway's number_pattern
  # lets out, so the dial names one.
  sed -e "s/@UAS_PORT@/$UAS_PORT/" -e 's/to: "{called_number}"/to: "5551000"/' "$ROOT/bench/sip/b2bua.yaml" \
    >"$1/b2bua.yaml"
  # b2bua.yaml has the flood limit and call records off already.
  if [ "${2:-}" = cluster ]; then
    /usr/bin/python3 - "$1/b2bua.yaml" "$PG" "$KAM" <<'PY'
import sys
p, pg, kam = sys.argv[1:]
s = open(p).read().replace("settings:\n", "settings:\n"
    f"  cluster: {{ database: \"{pg}\", proxy: \"127.0.0.1:{kam}\" }}\n", 1)
open(p, "w").write(s)
PY
  fi
  "$CR" check "$1/b2bua.yaml" >/dev/null
}
mk "$RUN/direct"
mk "$RUN/n1" cluster
mk "$RUN/n2" cluster
printf '1 sip:127.0.0.1:%s 0 0\n1 sip:127.0.0.1:%s 0 0\n' "$N1" "$N2" >"$RUN/dispatcher.list"
mkdir -p "$RUN/kam"
cat >"$RUN/cluster.sh" <<SH
#!/bin/sh
# Kamailio and two nodes as one process tree (sipstep sums its CPU).
"$CR" serve "$RUN/n1/b2bua.yaml" --sip udp:127.0.0.1:$N1 --admin 127.0.0.1:0 --node cr1 --log-level error &
"$CR" serve "$RUN/n2/b2bua.yaml" --sip udp:127.0.0.1:$N2 --admin 127.0.0.1:0 --node cr2 --log-level error &
kamailio -f "$ROOT/contrib/kamailio/kamailio.cfg" -DD -E -x tlsf -m 1024 -M 16 -Y "$RUN/kam" -P "$RUN/kam/pid" \\
  -A "LISTEN=udp:127.0.0.1:$KAM" -A 'DBURL="postgres://postgres@127.0.0.1:$PGPORT/test"' \\
  -A 'DS_LIST="$RUN/dispatcher.list"' -A 'CTL_SOCK="unix:$RUN/kam/ctl"' -A CHILDREN=1 -A DS_PING=1 \\
  >"$RUN/kam.log" 2>&1 &
trap 'kill \$(jobs -p) 2>/dev/null; wait' TERM INT
wait
SH

STEP=${SIPSTEP:-$ROOT/bench/sipp/sipstep.py}
run() { # run NAME SERVER TARGET
  set -- --name "$1" --server "$2" --target "$3" --uas-port "$UAS_PORT" --server-settle 3
  [ -n "$OUT" ] && set -- "$@" --out "$OUT"
  if [ -n "$QUICK" ]; then
    /usr/bin/python3 "$STEP" ladder "$@" --rates 500 --duration 6 --warmup 1 --drain 6 --repeat-rate 500 --repeats 1
  else
    /usr/bin/python3 "$STEP" ladder "$@" --rates 500,1000 --duration 20 --warmup 3 --drain 6 --repeat-rate 1000 --repeats 2
  fi
}
run callroute-direct "$CR serve $RUN/direct/b2bua.yaml --sip udp:127.0.0.1:$N1 --admin off --log-level error" \
  "127.0.0.1:$N1"
run kamailio+2-nodes "sh $RUN/cluster.sh" "127.0.0.1:$KAM"
