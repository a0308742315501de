#!/bin/sh
# media_bench's runner (bench/run.sh runs bench/NAME.sh when it exists):
# callroute's relay, then rtpengine's userspace relay on the same generator
# at the same packet rates (issue 17 goal 5). rtpengine runs pinned to CPU 0
# as callroute's relay does, one poller thread, errors only; its calls are
# set up and deleted by media_bench over the NG protocol. Each relay runs
# twice: plain RTP, then --srtp (issue 19 item 4: one leg SDES-SRTP, the
# other plain, the relay decrypting and encrypting; the generator does the
# SRTP side's crypto with libsrtp2).
#   BENCH_BIN=build/bench/bench/media_bench sh bench/media_bench.sh [--quick]
# RTPE_PORTS: rtpengine's port range (default 10000-60000). rtpengine binds
# with SO_REUSEADDR and takes over a Kamailio's port in its range: on a
# machine shared with other Kamailios give a range no one else uses.
set -eu
BIN=${BENCH_BIN:-build/bench/bench/media_bench}
QUICK=${1:-}
"$BIN" $QUICK
"$BIN" $QUICK --srtp

if ! command -v rtpengine >/dev/null; then
  echo "media_bench.sh: rtpengine not installed (scripts/install-deps.sh --bench): no peer" >&2
  exit 0
fi
NG_PORT=${MEDIA_NG_PORT:-7091}
RTPE_PORTS=${RTPE_PORTS:-10000-60000}
RUN=$(mktemp -d /tmp/bench-media.XXXXXX)
RTPE=""
trap '[ -z "$RTPE" ] || kill "$RTPE" 2>/dev/null; rm -rf "$RUN"' EXIT
# run.sh's time limit ends a run with TERM: clean up then too.
trap 'exit 143' TERM INT
hex=$(printf '%04X' "$NG_PORT")

# Starts rtpengine (its pid in $RTPE) and waits, with a deadline, until its
# NG port is bound.
# --delete-delay=0: a deleted call's sockets close at once, so each step
# starts with the descriptors and ports of the last one free.
start_rtpengine() {
  taskset -c 0 rtpengine --config-file=none --foreground --log-stderr -L 3 --table=-1 --no-fallback \
    --interface=127.0.0.1 --listen-ng="127.0.0.1:$NG_PORT" \
    --port-min="${RTPE_PORTS%-*}" --port-max="${RTPE_PORTS#*-}" --num-threads=1 \
    --timeout=86400 --silent-timeout=86400 --delete-delay=0 >"$RUN/rtpengine.log" 2>&1 &
  RTPE=$!
  n=0
  until grep -q ":$hex 00000000:0000 07" /proc/net/udp; do
    n=$((n + 1))
    if [ $n -gt 200 ] || ! kill -0 "$RTPE" 2>/dev/null; then
      echo "media_bench.sh: rtpengine did not bind 127.0.0.1:$NG_PORT:" >&2
      cat "$RUN/rtpengine.log" >&2
      exit 1
    fi
    sleep 0.05
  done
}

# Stops it and waits until its NG port is free again (deadline).
stop_rtpengine() {
  kill "$RTPE" 2>/dev/null || true
  wait "$RTPE" 2>/dev/null || true
  RTPE=""
  n=0
  while grep -q ":$hex 00000000:0000 07" /proc/net/udp; do
    n=$((n + 1))
    [ $n -gt 200 ] && { echo "media_bench.sh: rtpengine's NG port stays bound" >&2; exit 1; }
    sleep 0.05
  done
}

start_rtpengine
"$BIN" $QUICK --rtpengine "127.0.0.1:$NG_PORT" --relay-pid "$RTPE"
# A fresh rtpengine for the SRTP ladder: after the plain ladder's calls,
# rtpengine 10.5 answered every new RTP/SAVP offer with plain RTP/AVP (no
# a=crypto; reproducible here, with call-ids never reused). A fresh one
# answers with its key, as a deployment sees it.
stop_rtpengine
start_rtpengine
"$BIN" $QUICK --srtp --rtpengine "127.0.0.1:$NG_PORT" --relay-pid "$RTPE"
