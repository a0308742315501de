#!/bin/sh
# tests/run.sh — runs every test and ends with "N passed, N failed".
#
# Unit tests (cmocka) run twice: the optimised build and the ASan+UBSan
# build (with leak detection). Then every suite script tests/*/suite.sh runs
# with CALLROUTE set to the sanitizer build; a suite prints one line per case,
# "PASS name" or "FAIL name" (with details on the following lines).
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export ROOT
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"

passed=0
failed=0
failures=""
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

record() { # record STATUS NAME
    if [ "$1" -eq 0 ]; then
        passed=$((passed + 1))
        echo "PASS $2"
    else
        failed=$((failed + 1))
        failures="$failures $2"
        echo "FAIL $2"
    fi
}

for flavour in build build/asan; do
    for t in "$flavour"/tests/test_*; do
        [ -x "$t" ] || continue
        name="unit:$(basename "$t")@$flavour"
        if "$t" >"$log/out" 2>&1; then record 0 "$name"; else record 1 "$name"; sed 's/^/    /' "$log/out" | tail -40; fi
    done
done

export CALLROUTE="$ROOT/build/asan/callroute"
[ -x "$CALLROUTE" ] || CALLROUTE="$ROOT/build/callroute"
for suite in tests/*/suite.sh; do
    [ -f "$suite" ] || continue
    sh "$suite" >"$log/suite" 2>&1
    rc=$?
    cat "$log/suite"
    p=$(grep -c '^PASS ' "$log/suite")
    f=$(grep -c '^FAIL ' "$log/suite")
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        failed=$((failed + 1))
        echo "FAIL $suite (exit $rc)"
    fi
done

[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
