#!/bin/sh
# scripts/check-layers.sh — the layering rules of ../shared/DESIGN.md that a
# compiler does not see, checked on every build (make: `layers`).
#
# Each rule names files and the project headers they may include (quoted
# includes, by prefix); anything else quoted fails the build. System and
# library headers (<...>) are not checked.
#   services/          loop, util, its own headers and config/database.h:
#                      never the scenario language (docs/decisions/services-config.md)
#   telephony/         loop, util, media, its own headers and config/telephony.h:
#                      never the scenario language (docs/decisions/telephony-config.md)
#   config/database.h  nothing of the project (scenario/ and services/ both use it)
#   config/telephony.h nothing of the project (scenario/ and telephony/ both use it;
#                      docs/decisions/telephony-config.md)
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$ROOT" || exit 2
bad=0

# rule FILES... -- ALLOWED-PREFIX...
rule() {
    files=""
    while [ "$1" != "--" ]; do files="$files $1"; shift; done
    shift
    for f in $files; do
        [ -f "$f" ] || continue
        sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | while IFS= read -r inc; do
            ok=0
            for p in "$@"; do
                case "$inc" in "$p"*) ok=1 ;; esac
            done
            [ "$ok" -eq 1 ] || echo "$f includes \"$inc\""
        done
    done
}

out=$(
    rule src/services/*.c src/services/*.h -- services/ loop/ util/ config/database.h
    rule src/telephony/*.[ch] src/telephony/*/*.[ch] -- telephony/ loop/ util/ media/ config/telephony.h
    rule src/config/database.h --
    rule src/config/telephony.h --
)
if [ -n "$out" ]; then
    echo "$out" | sed 's/^/layers: /' >&2
    echo "layers: a layer includes a header it may not (scripts/check-layers.sh, ../shared/DESIGN.md)" >&2
    bad=1
fi
exit $bad
