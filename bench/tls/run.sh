#!/bin/sh
# TLS signalling benchmark (issue 19 item 4): the CPU a call costs the server
# when its SIP comes over TLS, beside the same path over UDP, for callroute
# and for Kamailio terminating TLS in its place. Debian 12's sipp has no TLS,
# so the path is made of real parts:
#
#   sipp uac --UDP--> Kamailio converter (bench/tls/converter.cfg, on sipp's CPU)
#            --TLS--> server under test (CPU 0) --UDP--> sipp uas
#
# and the plain baseline is the same path with the converter relaying over
# UDP, so TLS is the only difference. Servers: callroute serve with the
# bench/sip B2BUA scenario and a tls: listener; Kamailio with
# bench/kamailio/kamailio.cfg (proxy + dialog) and a tls listen socket.
# Measured by bench/sipp/sipstep.py like every SIP figure (bench/README.md),
# at the plain SIP ladder's rates (bench/sipp/plan.sh). The converter keeps
# one TLS connection to the server for the whole ladder (as an SBC or a
# phone does): the ladder shows the cost of TLS records, not handshakes.
# A connection's set-up is measured apart (sipstep.py handshakes: new
# connections one after the other, each a handshake and one OPTIONS).
# Certificates are made here with openssl, into the run's temp dir.
#   sh bench/tls/run.sh [--quick] [--out FILE]
# $CALLROUTE: the binary (default build/bench/callroute).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/bench/lib.sh"
bench_args "$@"
bench_need sipp kamailio openssl
[ -f /usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so ] ||
  { echo "kamailio's tls module: not installed (kamailio-tls-modules)" >&2; exit 3; }
bench_callroute

FRONT_PORT=${TLS_FRONT_PORT:-7070}     # the converter, UDP (sipp calls it)
FRONT_TLS=${TLS_FRONT_TLS:-7073}       # the converter's own TLS socket (TCP)
SRV_PORT=${TLS_SRV_PORT:-7071}         # the server's UDP (toward the UAS; the plain path)
SRV_TLS=${TLS_SRV_TLS:-7072}           # the server's TLS (TCP)
UAS_PORT=${UAS_PORT:-7080}
bench_rundir tls

# Certificates: a CA and a server certificate for 127.0.0.1 (RSA 2048, what
# most deployments present), made for this run only.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$RUN/ca.key" -out "$RUN/ca.pem" -days 2 \
  -subj "/CN=callroute bench CA" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout "$RUN/server.key" -out "$RUN/server.csr" \
  -subj "/CN=127.0.0.1" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' > "$RUN/server.ext"
openssl x509 -req -in "$RUN/server.csr" -CA "$RUN/ca.pem" -CAkey "$RUN/ca.key" -CAcreateserial \
  -out "$RUN/server.pem" -days 2 -extfile "$RUN/server.ext" >/dev/null 2>&1
chmod 600 "$RUN"/*.key

# callroute: the B2BUA scenario, listening on UDP and TLS (the same file for
# both paths: only the converter's side changes).
sed -e "s/@UAS_PORT@/$UAS_PORT/" \
  -e "s|^  sip: { flood: { rate: 0 } }|  sip:\n    flood: { rate: 0 }\n    listen: [\"udp:127.0.0.1:$SRV_PORT\", \"tls:127.0.0.1:$SRV_TLS\"]\n    tls: { cert: $RUN/server.pem, key: $RUN/server.key, ca: $RUN/ca.pem, min_version: \"1.2\" }|" \
  "$ROOT/bench/sip/b2bua.yaml" > "$RUN/b2bua.yaml"
grep -q "tls:127.0.0.1:$SRV_TLS" "$RUN/b2bua.yaml" || { echo "bench/sip/b2bua.yaml: no sip settings line to extend" >&2; exit 1; }
"$CR" check "$RUN/b2bua.yaml" >/dev/null

# Kamailio: bench/kamailio/kamailio.cfg unchanged in its routing, with TLS
# enabled (one TCP worker, beside its one UDP worker) and a tls socket.
sed -e "s/@PORT@/$SRV_PORT/" -e "s/@UAS_PORT@/$UAS_PORT/" \
  -e "s/^disable_tcp=yes.*/enable_tls=yes\ntcp_children=1\ntcp_connection_lifetime=3600/" \
  -e "s/^listen=udp:.*/&\nlisten=tls:127.0.0.1:$SRV_TLS/" \
  -e "s|^mpath=.*|&\nloadmodule \"tls.so\"\nmodparam(\"tls\", \"tls_method\", \"TLSv1.2+\")\nmodparam(\"tls\", \"certificate\", \"$RUN/server.pem\")\nmodparam(\"tls\", \"private_key\", \"$RUN/server.key\")\nmodparam(\"tls\", \"verify_certificate\", 0)\nmodparam(\"tls\", \"require_certificate\", 0)\nmodparam(\"tls\", \"connection_timeout\", 3600)|" \
  "$ROOT/bench/kamailio/kamailio.cfg" > "$RUN/kamailio.cfg"
kamailio -c -f "$RUN/kamailio.cfg" > "$RUN/check.log" 2>&1 || { cat "$RUN/check.log" >&2; exit 1; }

converter() { # converter NAME DEST: writes $RUN/NAME.cfg
  sed -e "s/@PORT@/$FRONT_PORT/" -e "s/@TLS_PORT@/$FRONT_TLS/" -e "s|@DEST@|$2|" \
    -e "s/@LIFETIME@/3600/g" -e "s|@CERT@|$RUN/server.pem|" -e "s|@KEY@|$RUN/server.key|" \
    "$HERE/converter.cfg" > "$RUN/$1.cfg"
  kamailio -c -f "$RUN/$1.cfg" > "$RUN/check.log" 2>&1 || { cat "$RUN/check.log" >&2; exit 1; }
  mkdir -p "$RUN/$1.run"
  echo "kamailio -f $RUN/$1.cfg -DD -E -x tlsf -m 512 -M 16 -P $RUN/$1.run/pid -Y $RUN/$1.run"
}
TLS_FRONT=$(converter conv-tls "sip:127.0.0.1:$SRV_TLS;transport=tls")
UDP_FRONT=$(converter conv-udp "sip:127.0.0.1:$SRV_PORT")
mkdir -p "$RUN/kam.run"
KAM="kamailio -f $RUN/kamailio.cfg -DD -E -x tlsf -m 1024 -M 16 -P $RUN/kam.run/pid -Y $RUN/kam.run"
CRS="$CR serve $RUN/b2bua.yaml --log-level error"

# Instructions per call where the machine has the counter (a VM often has
# none): robust to the other programs sharing the cores.
PERF=""
if command -v perf >/dev/null && perf stat -x, -e instructions true 2>&1 | grep -q '^[0-9]'; then
  PERF=--perf-stat
fi
note() {
  rec=$1
  echo "$rec"
  [ -z "$OUT" ] || echo "$rec" >> "$OUT"
}
note "{\"bench\": \"tls\", \"phase\": \"setup\", \"instructions_counter\": $([ -n "$PERF" ] && echo true || echo false), \"connections_reused\": true}"

STEP=${SIPSTEP:-$ROOT/bench/sipp/sipstep.py}
. "$ROOT/bench/sipp/plan.sh"
# The ladder of bench/sipp/plan.sh, through the converter. A failing path
# does not stop the others: its JSON says why.
ladder() { # ladder NAME SERVER FRONT
  set -- --name "$1" --server "$2" --front "$3" --target "127.0.0.1:$FRONT_PORT" \
    --server-port "$SRV_PORT" --uas-port "$UAS_PORT" $PERF
  [ -n "$OUT" ] && set -- "$@" --out "$OUT"
  plan_ladder "$@" || echo "bench/tls: $2: ladder failed" >&2
}
ladder callroute-tls "$CRS" "$TLS_FRONT"
ladder callroute-udp "$CRS" "$UDP_FRONT"
ladder kamailio-tls "$KAM" "$TLS_FRONT"
ladder kamailio-udp "$KAM" "$UDP_FRONT"

# A new connection's cost: handshakes one after the other.
N=$([ -n "$QUICK" ] && echo 300 || echo 2000)
for peer in callroute kamailio; do
  srv=$CRS; [ $peer = kamailio ] && srv=$KAM
  set -- --name "$peer-tls" --server "$srv" --target "127.0.0.1:$SRV_PORT" \
    --tls "127.0.0.1:$SRV_TLS" --ca "$RUN/ca.pem" --connections "$N" --drain 2
  [ -n "$OUT" ] && set -- "$@" --out "$OUT"
  $PY "$STEP" handshakes "$@" || echo "bench/tls: $peer: handshakes failed" >&2
done
