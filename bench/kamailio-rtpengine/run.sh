#!/bin/sh
# Kamailio 5.6 + rtpengine 10.5 peer (media anchored, as an operator pairs
# them): kamailio.cfg's proxy calls rtpengine over its NG protocol for the
# INVITE's offer and the 200's answer and deletes the session on BYE;
# rtpengine relays in userspace (--table=-1: no kernel module in a container,
# and the kernel path is not what callroute's relay is compared with).
# Measured by bench/sipp/sipstep.py exactly as callroute is
# (bench/sipp/plan.sh): both processes are one tree pinned to the server CPU
# (a shell starts rtpengine, waits for its control port, then becomes
# Kamailio), so CPU per call and Pss are summed over both.
#   sh bench/kamailio-rtpengine/run.sh [--quick] [--out FILE]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$ROOT/bench/lib.sh"
bench_args "$@"
bench_need kamailio
command -v rtpengine >/dev/null || { echo "rtpengine: not installed (scripts/install-deps.sh --bench)" >&2; exit 3; }
[ -f /usr/lib/x86_64-linux-gnu/kamailio/modules/rtpengine.so ] \
  || { echo "kamailio's rtpengine module: not installed" >&2; exit 3; }

PORT=${KAM_PORT:-7070}
UAS_PORT=${UAS_PORT:-7080}
NG_PORT=${NG_PORT:-7090}
# UDP workers: rtpengine_manage() waits for rtpengine's reply, but both
# share the one pinned core, so the wait costs no throughput: one worker was
# the cheapest here (~330 CPU-us per call at 1,000-2,000 calls/s, clean to
# 2,000; 8 workers: ~420 us, and several workers relay a 180 after its 200
# now and then, which sipp's uac fails). KAM_CHILDREN to try others.
CHILDREN=${KAM_CHILDREN:-1}
bench_rundir kamailio-rtpengine
sed -e "s/@PORT@/$PORT/" -e "s/@UAS_PORT@/$UAS_PORT/" -e "s/@NG_PORT@/$NG_PORT/" \
  -e "s/@CHILDREN@/$CHILDREN/" "$HERE/kamailio.cfg" > "$RUN/kamailio.cfg"
kamailio -c -f "$RUN/kamailio.cfg" >"$RUN/check.log" 2>&1 || { cat "$RUN/check.log" >&2; exit 1; }

# The RTP range is callroute's (bench/sip/b2bua.yaml: 10000-60000): 10,000
# held calls take 40,000 ports here (RTP and RTCP on each side). rtpengine
# binds its ports with SO_REUSEADDR, and so does Kamailio: a range that holds
# the SIP port takes it over (its INVITEs then go to rtpengine), so every
# bench SIP port is below 10000. On a machine shared with other Kamailios
# (tests/cluster picks ports in 20000-59999) give RTPE_PORTS=10000-19999.
# sipp's calls carry no RTP: rtpengine's no-media timeouts are off for the
# held calls (callroute's rtp_timeout is too). --delete-delay=0: by default
# an ended call keeps its four sockets 30 s, 120,000 descriptors at 1,000
# calls/s, which no process here may hold (RLIMIT_NOFILE) — the ladder then
# fails for rtpengine's descriptors, not its work. Errors only (-L 3).
RTPE_PORTS=${RTPE_PORTS:-10000-60000}
cat > "$RUN/server.sh" <<SH
#!/bin/sh
rtpengine --config-file=none --foreground --log-stderr -L ${RTPE_LOG_LEVEL:-3} --table=-1 --no-fallback \\
  --interface=127.0.0.1 --listen-ng=127.0.0.1:$NG_PORT --port-min=${RTPE_PORTS%-*} --port-max=${RTPE_PORTS#*-} \\
  --num-threads=1 --timeout=86400 --silent-timeout=86400 --delete-delay=0 >"$RUN/rtpengine.log" 2>&1 &
rtpe=\$!
# Kamailio's rtpengine module disables an engine that does not answer at
# start: wait (with a deadline) until rtpengine's control socket is bound.
hex=\$(printf '%04X' $NG_PORT)
n=0
until grep -q ":\$hex 00000000:0000 07" /proc/net/udp; do
  n=\$((n + 1))
  if [ \$n -gt 200 ] || ! kill -0 \$rtpe 2>/dev/null; then
    echo "rtpengine did not bind 127.0.0.1:$NG_PORT (see $RUN/rtpengine.log)" >&2
    kill \$rtpe 2>/dev/null
    exit 1
  fi
  sleep 0.05
done
exec kamailio -f "$RUN/kamailio.cfg" -DD -E -x tlsf -m 1024 -M 16 -P "$RUN/kamailio.pid" -Y "$RUN" "\$@"
SH

set -- --name kamailio-rtpengine --target "127.0.0.1:$PORT" \
  --uas-port "$UAS_PORT" --server-settle 2
[ -n "$OUT" ] && set -- "$@" --out "$OUT"
STEP=${SIPSTEP:-$HERE/../sipp/sipstep.py}
. "$HERE/../sipp/plan.sh"

# The ladder with Kamailio's shared memory written at start (kamailio.cfg's
# PREFAULT), as the other peers' ladders; the hold plan without.
plan_ladder "$@" --server "sh $RUN/server.sh -A PREFAULT"
set -- "$@" --server "sh $RUN/server.sh"
# Goal 4's peer: 10,000 calls held with media anchored. tm keeps a finished
# transaction 5 s.
plan_hold 10000 500 5 "$@"
