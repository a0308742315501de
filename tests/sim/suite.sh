#!/bin/sh
# tests/sim/suite.sh — scenario cases run through `callroute simulate`.
# Each case is a directory under cases/: scenario.yaml, `args` (the
# simulate arguments after FILE, shell words on one line) and `expect`
# (see match.py); instead of scenario.yaml, a `file` may name a scenario of
# the repository to run (the shipped demo). Cases run in a copy of their directory, where WAV
# prompts listed in an optional `wavs` file ("NAME SECONDS" lines) are
# generated first. One PASS/FAIL line per case.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CALLROUTE=${CALLROUTE:-$ROOT/build/callroute}
here=$ROOT/tests/sim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for dir in "$here"/cases/*/; do
    name=$(basename "$dir")
    [ -n "${SIM_CASE:-}" ] && [ "$name" != "$SIM_CASE" ] && continue
    work=$tmp/$name
    cp -r "$dir" "$work"
    if [ -f "$work/wavs" ]; then
        /usr/bin/python3 - "$work" <<'PY'
import os, sys, wave
work = sys.argv[1]
for line in open(os.path.join(work, "wavs")):
    parts = line.split()
    if len(parts) != 2:
        continue
    path = os.path.join(work, parts[0])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
        w.writeframes(b"\0\0" * int(8000 * float(parts[1])))
PY
    fi
    args=$(cat "$work/args")
    scen=scenario.yaml
    [ -f "$work/file" ] && scen="$ROOT/$(cat "$work/file")"
    (cd "$work" && eval "\"$CALLROUTE\" simulate \"$scen\" $args --json") >"$work/trace.jsonl" 2>"$work/stderr"
    code=$?
    (cd "$work" && eval "\"$CALLROUTE\" simulate \"$scen\" $args") >"$work/trace.txt" 2>>"$work/stderr"
    if /usr/bin/python3 "$here/match.py" "$work/expect" "$work/trace.jsonl" "$work/trace.txt" "$code" >"$work/why" 2>&1 \
        && ! grep -q -e 'ERROR: AddressSanitizer' -e 'ERROR: LeakSanitizer' -e 'runtime error:' "$work/stderr"; then
        echo "PASS sim:$name"
    else
        echo "FAIL sim:$name"
        cat "$work/why"
        sed 's/^/    stderr: /' "$work/stderr" | head -20
        sed 's/^/    trace: /' "$work/trace.txt" | head -60
        status=1
    fi
done
exit $status
