#!/bin/sh
# tests/check/suite.sh — `callroute check` and `callroute schema`.
#
#   invalid/*.yaml  each starts with one or more lines
#                     # expect: [FILE:]LINE:COL: error: MESSAGE-SUBSTRING
#                   (FILE relative to invalid/, default the file itself);
#                   check must exit 1 and print each of them on stderr.
#   valid/*         must pass (exit 0, "FILE: ok (" on stdout); `# expect:`
#                   lines name the warnings it must print, and with none,
#                   stderr must stay empty.
#   examples/*.yaml must pass check and validate against the JSON Schema.
# Plus: the committed schema and the doc's generated tables are in step with
# the binary; --json, exit statuses, the error cap, the bench generator.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CALLROUTE=${CALLROUTE:-$ROOT/build/callroute}
PY=/usr/bin/python3
cd "$ROOT/tests/check" || exit 2
if [ ! -x "$CALLROUTE" ]; then echo "FAIL check:binary ($CALLROUTE is not built)"; exit 1; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1"; shift; for l in "$@"; do echo "    $l"; done; }
show() { sed 's/^/    /' "$1" | head -20; }

# expectations FILE: prints "FILE:LINE:COL: SEV: <TAB>MESSAGE" per `# expect:` line.
expectations() {
    dir=$(dirname "$1")
    sed -n 's/^# expect: //p' "$1" | while IFS= read -r e; do
        case "$e" in
            [0-9]*) loc="$1:${e%%: *}"; rest=${e#*: } ;;
            *) f=${e%%:*}; e=${e#*:}; loc="$dir/$f:${e%%: *}"; rest=${e#*: } ;;
        esac
        sev=${rest%%: *}
        msg=${rest#*: }
        printf '%s: %s: \t%s\n' "$loc" "$sev" "$msg"
    done
}

# has_diag STDERR "LOC: SEV: <TAB>MSG": a line starting with the location and severity that contains MSG.
has_diag() {
    prefix=$(printf '%s' "$2" | cut -f1)
    msg=$(printf '%s' "$2" | cut -f2-)
    grep -F -- "$prefix" "$1" | grep -qF -- "$msg"
}

for f in invalid/*.yaml; do
    name="check:$f"
    "$CALLROUTE" check "$f" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne 1 ]; then fail "$name" "exit $rc, expected 1"; show "$tmp/err"; continue; fi
    n=0
    missing=""
    expectations "$f" >"$tmp/exp"
    while IFS= read -r x; do
        n=$((n + 1))
        has_diag "$tmp/err" "$x" || missing="$missing|$x"
    done <"$tmp/exp"
    if [ "$n" -eq 0 ]; then fail "$name" "no '# expect:' line"; continue; fi
    if [ -n "$missing" ]; then
        fail "$name" "missing diagnostic(s): $(printf '%s' "$missing" | tr '|\t' '\n ')" "got:"
        show "$tmp/err"
        continue
    fi
    pass "$name"
done

for f in valid/*.yaml valid/*.json; do
    [ -f "$f" ] || continue
    name="check:$f"
    "$CALLROUTE" check "$f" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne 0 ] || ! grep -qF "$f: ok (" "$tmp/out"; then fail "$name" "exit $rc"; show "$tmp/err"; continue; fi
    expectations "$f" >"$tmp/exp"
    missing=""
    while IFS= read -r x; do
        has_diag "$tmp/err" "$x" || missing="$missing|$x"
    done <"$tmp/exp"
    if [ -n "$missing" ]; then fail "$name" "missing warning(s): $(printf '%s' "$missing" | tr '|\t' '\n ')"; show "$tmp/err"; continue; fi
    if [ ! -s "$tmp/exp" ] && [ -s "$tmp/err" ]; then fail "$name" "unexpected output on stderr:"; show "$tmp/err"; continue; fi
    pass "$name"
done

# Every example passes check and the schema.
"$CALLROUTE" schema >"$tmp/schema.json" 2>"$tmp/err" || { fail "schema:runs"; show "$tmp/err"; }
for f in "$ROOT"/examples/*.yaml; do
    rel=examples/$(basename "$f")
    if (cd "$ROOT" && "$CALLROUTE" check "$rel") >"$tmp/out" 2>"$tmp/err" && grep -q ': ok (' "$tmp/out" &&
        ! grep -q ': error: ' "$tmp/err"; then
        pass "example:$rel"
    else
        fail "example:$rel"; show "$tmp/err"
    fi
    if $PY schema_validate.py "$tmp/schema.json" "$f" >"$tmp/out" 2>&1; then
        pass "schema:$rel"
    else
        fail "schema:$rel"; show "$tmp/out"
    fi
done
# The valid corpus and the included route files fit the schema too.
if $PY schema_validate.py "$tmp/schema.json" valid/*.yaml valid/*.json "$ROOT"/examples/routes/*.yaml >"$tmp/out" 2>&1; then
    pass "schema:valid-corpus"
else
    fail "schema:valid-corpus"; show "$tmp/out"
fi

# The committed schema is the binary's output.
if cmp -s "$tmp/schema.json" "$ROOT/docs/callroute.schema.json"; then
    pass "schema:committed-in-step"
else
    fail "schema:committed-in-step" "docs/callroute.schema.json differs from \`callroute schema\`;" \
        "regenerate: build/callroute schema > docs/callroute.schema.json"
fi

# docs/scenario.md carries the generated parameter tables verbatim.
"$CALLROUTE" schema --markdown >"$tmp/tables.md"
if $PY sync_doc.py --check "$tmp/tables.md" "$ROOT/docs/scenario.md" >"$tmp/out" 2>&1; then
    pass "doc:tables-in-step"
else
    fail "doc:tables-in-step" "regenerate: build/callroute schema --markdown | tests/check/sync_doc.py --fix - docs/scenario.md"
    show "$tmp/out"
fi

# --json: one object per file with counts and positions.
"$CALLROUTE" check --json invalid/many-errors.yaml valid/unused-scenario.yaml >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 1 ] && [ ! -s "$tmp/err" ] && $PY - "$tmp/out" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 2, lines
bad, ok = (json.loads(l) for l in lines)
assert bad["errors"] == 4 and bad["warnings"] == 0, bad
d = bad["diagnostics"][1]
assert d["file"] == "invalid/many-errors.yaml" and d["line"] == 10 and d["column"] == 14, d
assert d["severity"] == "error" and "did you mean 'answer'" in d["message"], d
assert d["path"] == "routes[0].script[0].app", d
assert ok["errors"] == 0 and ok["warnings"] == 1 and ok["diagnostics"][0]["severity"] == "warning", ok
EOF
then pass "check:--json"; else fail "check:--json" "exit $rc"; show "$tmp/out"; show "$tmp/err"; fi

# Exit statuses: 0 valid, 1 invalid (and the valid one still summarised), 2 usage/unreadable.
"$CALLROUTE" check valid/durations.yaml invalid/bad-enum.yaml >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q '^valid/durations.yaml: ok (1 route, 8 applications, 0 scenarios)$' "$tmp/out" &&
    grep -q '^invalid/bad-enum.yaml:7:15: error: ' "$tmp/err"; then
    pass "check:mixed-files"
else
    fail "check:mixed-files" "exit $rc"; show "$tmp/out"; show "$tmp/err"
fi
"$CALLROUTE" check invalid/no-such-file.yaml >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q 'no-such-file.yaml' "$tmp/err"; then pass "check:unreadable-exit-2"; else fail "check:unreadable-exit-2" "exit $rc"; fi
"$CALLROUTE" check >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q 'usage' "$tmp/err"; then pass "check:no-file-exit-2"; else fail "check:no-file-exit-2" "exit $rc"; fi
"$CALLROUTE" check --jsn valid/durations.yaml >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 2 ]; then pass "check:bad-option-exit-2"; else fail "check:bad-option-exit-2" "exit $rc"; fi
"$CALLROUTE" check --help >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 0 ] && grep -q 'usage: callroute check' "$tmp/out" && grep -q -- '--json' "$tmp/out"; then
    pass "check:--help"
else
    fail "check:--help" "exit $rc"
fi

# Every error is reported, up to the cap of 50, then a note.
{
    echo "version: 1"
    echo "routes:"
    echo "  - name: many"
    echo "    script:"
    i=0
    while [ $i -lt 60 ]; do echo "      - app: paly$i"; i=$((i + 1)); done
} >"$tmp/many.yaml"
"$CALLROUTE" check "$tmp/many.yaml" >"$tmp/out" 2>"$tmp/err"
rc=$?
n=$(grep -c ': error: ' "$tmp/err")
if [ "$rc" -eq 1 ] && [ "$n" -eq 50 ] && grep -q 'too many errors' "$tmp/err"; then
    pass "check:error-cap"
else
    fail "check:error-cap" "exit $rc, $n errors"
fi

# Junk is an error, not a crash.
printf '\177ELF\001\002\000\000\377\376garbage' >"$tmp/junk.yaml"
"$CALLROUTE" check "$tmp/junk.yaml" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q ': error: ' "$tmp/err"; then pass "check:binary-junk"; else fail "check:binary-junk" "exit $rc"; show "$tmp/err"; fi

# The benchmark's generator makes files that pass.
# the prompts the generator names, so that check has nothing to warn about
mkdir -p "$tmp/sounds"
$PY -c "
import sys, wave
for n in sys.argv[1:]:
    w = wave.open(n, 'wb'); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000); w.writeframes(b'\\0\\0' * 80); w.close()
" "$tmp/sounds/short.wav" "$tmp/sounds/menu.wav"
if $PY "$ROOT/bench/gen-scenario.py" --routes 40 --actions 400 >"$tmp/gen.yaml" 2>"$tmp/err" &&
    "$CALLROUTE" check "$tmp/gen.yaml" >"$tmp/out" 2>>"$tmp/err" &&
    grep -q ': ok (40 routes, 400 applications' "$tmp/out" && [ ! -s "$tmp/err" ]; then
    pass "bench:gen-scenario"
else
    fail "bench:gen-scenario"; show "$tmp/out"; show "$tmp/err"
fi
# The TLS signalling bench (bench/tls, issue 19): its scripts parse, and the
# report turns recorded figures (tests/check/bench-results: a QUICK run's
# bench/tls lines and media_bench SRTP lines) into the "Encrypted calls"
# section — TLS beside the same path over UDP and beside Kamailio, a new
# connection's cost, the SRTP relay beside rtpengine — and a "reported" row
# in issue 19's goals. No servers are started: the bench itself is not a test.
BR="$ROOT/tests/check/bench-results"
if sh -n "$ROOT/bench/tls/run.sh" && sh -n "$ROOT/bench/run.sh" &&
    $PY "$ROOT/bench/sipp/sipstep.py" --help 2>&1 | grep -q 'handshakes' &&
    $PY "$ROOT/bench/report.py" write "$BR" "$tmp/bench.md" 2>"$tmp/err" &&
    grep -q '^## Encrypted calls (issue 19): TLS signalling and SRTP media' "$tmp/bench.md" &&
    grep -q '^| CPU per call with TLS signalling .* | 210 µs at 1,000/s; 188 µs at 2,000/s | 187 µs at 1,000/s.* | 1,000/s: 1.12× Kamailio-TLS, 1.03× its UDP;.* | reported | a new TLS connection costs callroute 933 µs (Kamailio 533 µs) |$' "$tmp/bench.md" &&
    grep -q '^| 1,000 | 210 µs | 203 µs | 1.03× | 187 µs | 127 µs | 1.47× | 1.12× |$' "$tmp/bench.md" &&
    grep -q '^| callroute | 300 | 933 | 362 | 24,399 B | pass |$' "$tmp/bench.md" &&
    grep -q 'callroute 1,143 µs (210 + 933, at 1,000 calls/s)' "$tmp/bench.md" &&
    grep -q '^| 500 | 19,900 ns | 9,246 ns | 2.15× | 3.94× | 1.24× |$' "$tmp/bench.md" &&
    [ ! -s "$tmp/err" ]; then
    pass "bench:report-tls"
else
    fail "bench:report-tls" "bench/report.py write $BR: no or wrong Encrypted calls section"
    show "$tmp/err"; grep -n -A12 'Encrypted calls' "$tmp/bench.md" 2>/dev/null | head -20
fi
# Issue 17's SIP rows (bench/sip/run.sh: one SIP core, peers "callroute"
# and "callroute-bypass"): recorded lines of one QUICK bench/sip/run.sh (its
# holds settled 10 s, so their Pss figures are high) in bench-results/
# sip-callroute.jsonl, each row callroute's own figure and verdict; the SIP
# table has one callroute row.
if [ -s "$tmp/bench.md" ] &&
    grep -q "^| 1\. CPU-µs per call at 1,000 calls/s ≤ 2× Kamailio's (signalling only) | 177 µs |" "$tmp/bench.md" &&
    grep -q "^| 1\. CPU-µs per call at 2,000 calls/s ≤ 0.5× Kamailio + rtpengine's (media anchored) | 150 µs |" "$tmp/bench.md" &&
    grep -q '^| 2\. Five 30 s steps .* | 157 → 187 µs, p99 0 → 0 ms | .* | 1.19× the first |' "$tmp/bench.md" &&
    grep -q '^| 2\. INVITE→200 p99 ≤ 10 ms at every passing rate | worst 8 ms (step2, 4,000 calls/s) | .* | \*\*met\*\* |' "$tmp/bench.md" &&
    grep -q '^| 3\. 0 failed calls .* | ≥ 4,000 calls/s | .* | \*\*met\*\* |' "$tmp/bench.md" &&
    grep -q '^| 4\. 10,000 held calls .* | 17,959 B (9,488/10,000 held, 512 failed) |' "$tmp/bench.md" &&
    grep -q '^| 6\. 100,000 held calls .* | 18,746 B (20,000/20,000 held) |' "$tmp/bench.md" &&
    grep -q '^| callroute (B2BUA, media anchored) | ≥ 4,000 calls/s | 177 µs | 150 µs | 8 ms | ' "$tmp/bench.md" &&
    grep -q '^| callroute (B2BUA, media bypassed) | 20,000 at 1,000/s | 20,000 | 0 | 18,746 B | ' "$tmp/bench.md" &&
    ! grep -q 'nta core\|nua core\|nua ' "$tmp/bench.md"; then
    pass "bench:report-sip-core"
else
    fail "bench:report-sip-core" "bench/report.py write $BR: issue 17's rows are not callroute's one core"
    grep -E '^\| [12346]\. |^\| callroute' "$tmp/bench.md" 2>/dev/null | head -20 | sed 's/^/    /'
fi

# Layering (scripts/check-layers.sh, docs/decisions/services-config.md):
# the tree passes, and a services/ file that includes scenario/ fails.
if err=$(sh "$ROOT/scripts/check-layers.sh" 2>&1); then
    mkdir -p "$tmp/layers/src" "$tmp/layers/scripts"
    cp -r "$ROOT/src/services" "$ROOT/src/config" "$tmp/layers/src/"
    cp "$ROOT/scripts/check-layers.sh" "$tmp/layers/scripts/"
    printf '#include "scenario/program.h"\n' >>"$tmp/layers/src/services/db.c"
    if ROOT="$tmp/layers" sh "$tmp/layers/scripts/check-layers.sh" 2>"$tmp/layers.err"; then
        fail "layers" "a services/ file including scenario/program.h passed"
    elif grep -q 'src/services/db.c includes "scenario/program.h"' "$tmp/layers.err"; then
        pass "layers"
    else
        fail "layers" "the failure does not name the include:"; show "$tmp/layers.err"
    fi
else
    fail "layers" "$err"
fi

# The same for telephony/ (docs/decisions/telephony-config.md): the SIP core
# reads config/telephony.h, and an include of scenario/ fails the build.
if err=$(sh "$ROOT/scripts/check-layers.sh" 2>&1); then
    mkdir -p "$tmp/tlayers/src" "$tmp/tlayers/scripts"
    cp -r "$ROOT/src/telephony" "$ROOT/src/config" "$tmp/tlayers/src/"
    cp "$ROOT/scripts/check-layers.sh" "$tmp/tlayers/scripts/"
    if ! ROOT="$tmp/tlayers" sh "$tmp/tlayers/scripts/check-layers.sh" 2>"$tmp/tlayers.err"; then
        fail "layers:telephony" "telephony/ alone does not pass:"; show "$tmp/tlayers.err"
    else
        printf '#include "scenario/program.h"\n' >>"$tmp/tlayers/src/telephony/sip/sip_gw.c"
        if ROOT="$tmp/tlayers" sh "$tmp/tlayers/scripts/check-layers.sh" 2>"$tmp/tlayers.err"; then
            fail "layers:telephony" "a telephony/ file including scenario/program.h passed"
        elif grep -q 'src/telephony/sip/sip_gw.c includes "scenario/program.h"' "$tmp/tlayers.err"; then
            pass "layers:telephony"
        else
            fail "layers:telephony" "the failure does not name the include:"; show "$tmp/tlayers.err"
        fi
    fi
else
    fail "layers:telephony" "$err"
fi
exit 0
