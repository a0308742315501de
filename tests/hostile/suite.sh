#!/bin/sh
# tests/hostile/suite.sh — what a hostile network sends and what faults do
# (issue 11): each tests/hostile/TOPIC.sh is one topic (paths, URIs, auth,
# media, services, admin, ...) against a real `callroute serve` with real
# peers. Every topic runs even when an earlier one fails; the exit status is
# non-zero when any failed.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export ROOT
status=0
for t in "$ROOT"/tests/hostile/*.sh; do
    [ "$(basename "$t")" = suite.sh ] && continue
    sh "$t" || status=1
done
exit $status
