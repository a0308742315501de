#!/bin/sh
# tests/badinput/suite.sh — hostile and broken scenario files must give a
# clear error at file:line:col and exit 1 (2 for an unreadable file), never a
# crash or a hang. The files are generated here into a temp dir. Prints one
# "PASS name" / "FAIL name" line per case.
# Needs $CALLROUTE (tests/run.sh sets it to the sanitizer build).
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CALLROUTE=${CALLROUTE:-$ROOT/build/callroute}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# case NAME FILE EXPECTED_EXIT EXPECTED_TEXT_ON_STDERR
case_() {
    name=$1 file=$2 want_rc=$3 want=$4
    start=$(date +%s)
    timeout 20 "$CALLROUTE" check "$file" >"$dir/out" 2>"$dir/err"
    rc=$?
    took=$(( $(date +%s) - start ))
    if [ "$rc" -eq "$want_rc" ] && grep -qF -- "$want" "$dir/err" &&
        ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$dir/err" && [ "$took" -lt 10 ]; then
        echo "PASS badinput:$name"
    else
        echo "FAIL badinput:$name"
        echo "    expected exit $want_rc and on stderr: $want"
        echo "    got exit $rc after ${took}s; stderr:"
        head -c 2000 "$dir/err" | sed 's/^/    | /'
    fi
}

# Binary junk: the start of an ELF executable, and pseudo-random bytes.
head -c 4096 /bin/sh >"$dir/elf.yaml"
case_ binary-elf "$dir/elf.yaml" 1 "elf.yaml:1:1: error: binary data: control character U+007F"
LC_ALL=C awk 'BEGIN { srand(42); for (i = 0; i < 8192; i++) printf "%c", int(rand() * 256) }' \
    >"$dir/junk.yaml"
printf '\001\002\003garbage\377\376' >>"$dir/junk.yaml"
case_ binary-random "$dir/junk.yaml" 1 "junk.yaml:1:"

# 50 MB: refused from its size, before reading.
truncate -s 50M "$dir/big.yaml"
case_ too-large "$dir/big.yaml" 1 "big.yaml:1:1: error: file is too large (52428800 bytes"

# 10,000-deep nesting, flow and block.
awk 'BEGIN { for (i = 0; i < 10000; i++) printf "["; for (i = 0; i < 10000; i++) printf "]"; print "" }' \
    >"$dir/deep.yaml"
case_ deep-flow "$dir/deep.yaml" 1 "deep.yaml:1:65: error: nesting is deeper than 64 levels"
awk 'BEGIN { printf "routes:\n"; for (i = 0; i < 10000; i++) printf "- "; print "x" }' >"$dir/deepb.yaml"
case_ deep-block "$dir/deepb.yaml" 1 "deepb.yaml:2:127: error: nesting is deeper than 64 levels"

printf 'version: 1\nroutes:\n  - name: a\n    priority: 1\n    priority: 2\n    script: []\n' >"$dir/dup.yaml"
case_ duplicate-key "$dir/dup.yaml" 1 "dup.yaml:5:5: error: duplicate key 'priority' (first defined at line 4)"

printf 'version: 1\nroutes:\n\t- name: a\n' >"$dir/tab.yaml"
case_ tab-indent "$dir/tab.yaml" 1 "tab.yaml:3:1: error: tabs are not allowed for indentation in YAML; use spaces"

printf 'version: 1\nroutes:\n  - name: caf\351\n' >"$dir/latin1.yaml"
case_ non-utf8 "$dir/latin1.yaml" 1 "latin1.yaml:3:14: error: invalid UTF-8 byte 0xE9"

: >"$dir/empty.yaml"
case_ empty "$dir/empty.yaml" 1 "empty.yaml:1:1: error: empty scenario file"

printf 'version: 1\ninclude: b.yaml\nroutes: []\n' >"$dir/a.yaml"
printf 'include: [a.yaml]\nroutes: []\n' >"$dir/b.yaml"
case_ include-loop "$dir/a.yaml" 1 "b.yaml:1:11: error: include cycle: $dir/a.yaml -> $dir/b.yaml -> $dir/a.yaml"

printf 'a: &a [x, x, x, x, x, x, x, x, x, x]\n' >"$dir/bomb.yaml"
for l in b c d e f g h i j; do
    p=$(printf '%s' "$l" | tr 'b-j' 'a-i')
    printf '%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n' "$l" "$l" \
        "$p" "$p" "$p" "$p" "$p" "$p" "$p" "$p" "$p" "$p" >>"$dir/bomb.yaml"
done
case_ alias-bomb "$dir/bomb.yaml" 1 "error: aliases expand to more than"

case_ missing-file "$dir/nope.yaml" 2 "cannot read $dir/nope.yaml: No such file or directory"
exit 0
