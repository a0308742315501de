#!/bin/sh
# tests/fuzz/run.sh SECONDS — builds every tests/fuzz/fuzz_*.c as a libFuzzer
# target (clang, ASan+UBSan) against the library (all src/**/*.c except
# src/cli, compiled with clang into build/fuzz/) and runs each for SECONDS.
# Corpora live in build/fuzz/corpus/<target>/, seeded from examples/*.yaml
# and tests/fuzz/seeds/<target>/ if present; tests/fuzz/<target>.dict is
# used when it exists. Crashes are saved in build/fuzz/artifacts/<target>/.
# Exits non-zero when any target crashes, leaks, hangs or fails to build.
set -u
cd "$(dirname "$0")/../.."
SECONDS_EACH=${1:-30}
OUT=build/fuzz
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
# The library objects, instrumented for coverage. -Wno-error: clang may warn
# where gcc does not; fuzzing is about crashes, the normal build about warnings.
make -s B=$OUT CC=clang OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $SAN" \
    EXTRA_CFLAGS="-Wno-error" $OUT/libcallroute.a || { echo "fuzz: library build failed" >&2; exit 1; }

PKGS="yaml-0.1 jansson libpcre2-8 libcurl sqlite3 libpq sofia-sip-ua sndfile spandsp libsrtp2"
CFLAGS="-std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer -Isrc $(pkg-config --cflags $PKGS 2>/dev/null)"
LIBS="$(pkg-config --libs $PKGS 2>/dev/null) -lpthread -lm"

export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0"
rc=0
found=0
for src in tests/fuzz/fuzz_*.c; do
    [ -f "$src" ] || continue
    found=1
    name=$(basename "$src" .c)
    bin=$OUT/$name
    # shellcheck disable=SC2086
    if ! clang $CFLAGS -fsanitize=fuzzer $SAN -o "$bin" "$src" $OUT/libcallroute.a $LIBS; then
        echo "FAIL $name (build)"
        rc=1
        continue
    fi
    corpus=$OUT/corpus/$name
    art=$OUT/artifacts/$name
    mkdir -p "$corpus" "$art"
    for f in examples/*.yaml examples/*/*.yaml tests/fuzz/seeds/"$name"/*; do
        [ -f "$f" ] && cp -f "$f" "$corpus/" 2>/dev/null
    done
    dict=""
    [ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
    echo "fuzz: $name for ${SECONDS_EACH}s"
    # shellcheck disable=SC2086
    if "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$art/" $dict "$corpus" >"$OUT/$name.log" 2>&1; then
        echo "PASS $name ($(grep -c . "$OUT/$name.log") log lines, corpus $(ls "$corpus" | wc -l))"
    else
        echo "FAIL $name (see $OUT/$name.log; crash input in $art/)"
        grep -A30 -m1 -E '^==[0-9]+==ERROR|runtime error|^ALARM|deadly signal' "$OUT/$name.log" | head -40
        rc=1
    fi
done
[ "$found" -eq 1 ] || echo "fuzz: no tests/fuzz/fuzz_*.c targets" >&2
exit $rc
