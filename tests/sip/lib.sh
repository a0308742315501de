# tests/sip/lib.sh — shell helpers shared by the suites that run
# `callroute serve` against sipp (tests/sip, tests/admin). Source it after
# setting SUITE (the case prefix), ROOT and CR. It makes the work dir $W,
# stops every background pid in $BG at exit, and reports cases as
# "PASS SUITE:NAME" / "FAIL SUITE:NAME" with the evidence indented below.

W=$(mktemp -d "/tmp/callroute-$SUITE.XXXXXX")
BG=""            # background pids to stop at the end

cleanup() {
    for p in $BG; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    if [ -n "${KEEP:-}" ]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ ! -x "$CR" ] || ! command -v sipp >/dev/null; then
    echo "FAIL $SUITE:setup"
    echo "    needs $CR and sipp (scripts/install-deps.sh)"
    exit 1
fi

# Waits up to $2 seconds for file $1 to contain the regex $3.
wait_for() {
    i=0
    while [ $i -lt $(($2 * 20)) ]; do
        grep -q -- "$3" "$1" 2>/dev/null && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# Waits until a UDP socket is bound on 127.0.0.1:$1 (a peer is ready).
wait_port() {
    i=0
    while [ $i -lt 200 ]; do
        [ -n "$(ss -Hlun "sport = :$1")" ] && return 0
        sleep 0.02
        i=$((i + 1))
    done
    return 1
}

# Waits for background pid $1 (a sipp with its own time limit); its status.
reap() {
    wait "$1"
    s=$?
    BG=$(echo "$BG" | sed "s/\b$1\b//")
    return $s
}

FAILS=0
ok() { echo "PASS $SUITE:$1"; }
bad() { # bad NAME WHY [FILES...]: prints the evidence
    echo "FAIL $SUITE:$1"
    echo "    $2"
    shift 2
    for f in "$@"; do
        [ -f "$f" ] || continue
        echo "    --- $(basename "$f") (tail)"
        tail -15 "$f" | sed 's/^/    /'
    done
    FAILS=$((FAILS + 1))
}

# Runs case function case_$1 and reports it; a peer the case left running
# (it failed half-way, listed in $PEERS) is stopped so it cannot hold its
# port for the next case.
EVIDENCE=""
PEERS=""
run() {
    WHY=""
    : >"$W/.case-start"
    if "case_$1"; then ok "$1"; else
        bad "$1" "${WHY:-failed}" $EVIDENCE
        # A port of the run another process took after ports.py picked it
        # is not this case's fault: say so, so it is rerun, not chased.
        find "$W" -name '*.out' -newer "$W/.case-start" -exec grep -l "errno = 98" {} + 2>/dev/null |
            while read -r f; do
                echo "    NOTE: $(basename "$f"): a sipp port was taken by another process (Address already in use)"
            done
    fi
    EVIDENCE=""
    for p in $PEERS; do
        if kill -0 "$p" 2>/dev/null; then
            kill "$p" 2>/dev/null
            wait "$p" 2>/dev/null
        fi
    done
    PEERS=""
}

expect() { # expect WHY COMMAND...: false (with WHY) unless COMMAND succeeds
    why=$1
    shift
    if "$@"; then return 0; fi
    WHY=$why
    return 1
}
