# bench/lib.sh — what every bench/*/run.sh starts with, sourced after
# HERE and ROOT are set: its options, the tools it needs, the callroute it
# runs and its run directory (removed at exit, and when run.sh's time limit
# ends it with TERM).

# bench_args "$@": --quick sets QUICK=1, --out FILE sets OUT.
bench_args() {
  QUICK=""; OUT=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --quick) QUICK=1 ;;
      --out) OUT="$2"; shift ;;
      *) echo "usage: $0 [--quick] [--out FILE]" >&2; exit 2 ;;
    esac
    shift
  done
}

# bench_need TOOL...: exit 3 (the bench is skipped) when one is missing.
bench_need() {
  for tool; do
    command -v "$tool" >/dev/null || { echo "$tool: not installed" >&2; exit 3; }
  done
}

# bench_callroute: CR, the binary `make bench` builds (or $CALLROUTE).
bench_callroute() {
  CR=${CALLROUTE:-$ROOT/build/bench/callroute}
  [ -x "$CR" ] || { echo "$CR: not built (make bench)" >&2; exit 3; }
}

# bench_rundir NAME [CLEANUP]: RUN, a fresh directory; CLEANUP (shell
# text) runs before it is removed.
bench_rundir() {
  RUN=$(mktemp -d "/tmp/bench-$1.XXXXXX")
  # shellcheck disable=SC2064
  trap "${2:+$2; }"'[ -n "${KEEP_RUN:-}" ] || rm -rf "$RUN"' EXIT
  trap 'exit 143' TERM INT
}
