# The SIP measurement plan every server goes through (bench/README.md),
# sourced by bench/sip/run.sh, bench/kamailio/run.sh and
# bench/kamailio-rtpengine/run.sh: the same steps, rates, durations and
# drains for each, so their figures compare. Each function takes the
# server's sipstep arguments (--name, --server, --target, ...) after its own.
#   $STEP: sipstep.py; $QUICK: non-empty for the short version.
#   SIP_RATES, SIP_SECONDS: override the ladder's rates and step length.
PY=/usr/bin/python3

# Goals 1 and 3 of issue 17: fixed-rate steps up to 4,000 calls/s (two sipp
# UACs above 2,000), stopping at the first failing step. Each goal rate is
# run twice in a row: the second step pays for the work the first left
# lingering (sofia keeps a finished transaction 32 s, Kamailio 5 s) at the
# same rate, as in steady operation, and gives the figure.
plan_ladder() {
  if [ -n "$QUICK" ]; then
    $PY "$STEP" ladder "$@" --rates "${SIP_RATES:-1000,2000,4000}" --duration 3 \
      --warmup 0.5 --drain 1.5
  else
    $PY "$STEP" ladder "$@" --rates "${SIP_RATES:-1000,1000,2000,2000,3000,4000}" \
      --duration "${SIP_SECONDS:-30}" --warmup 5 --drain 5
  fi
}

# Goal 2: five steps in a row at 1,000 calls/s on one server process
# (QUICK: three; its 3 s steps judge nothing, they show the trend — unless
# SERIES_FULL is set: then the five 30 s steps the goal is about, ~4
# minutes, which bench/sip/run.sh asks for callroute's anchored plan so a
# QUICK run still judges goal 2).
plan_series() {
  if [ -n "$QUICK" ] && [ -z "${SERIES_FULL:-}" ]; then
    $PY "$STEP" series "$@" --steps 3 --repeat-rate 1000 --duration 3 --warmup 0.5 --drain 1.5
  else
    $PY "$STEP" series "$@" --steps 5 --repeat-rate 1000 --duration "${SIP_SECONDS:-30}" \
      --warmup 5 --drain 5
  fi
}

# Goals 4 and 6: plan_hold HELD RATE LINGER [sipstep args]: HELD calls up at
# once, set up as four batches of HELD/4 at RATE calls/s; LINGER: how long the
# server keeps a finished transaction (seconds). Each batch settles so that
# one batch's start is more than LINGER before the next, then until the
# server's Pss stops moving; per held call is the median of the three later
# batches' growth (bench/README.md: two batches moved by +-2 KB a call).
plan_hold() {
  held=$1 rate=$2 linger=$3
  shift 3
  batch=$(((held + 3) / 4))
  settle=$($PY -c "import sys; h, r, l = map(float, sys.argv[1:]); print(max(4, round(l - h / r) + 4))" \
    "$batch" "$rate" "$linger")
  $PY "$STEP" hold "$@" --calls "$batch" --batches 4 --rate "$rate" --settle "$settle"
}
