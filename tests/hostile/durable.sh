#!/bin/sh
# tests/hostile/durable.sh — durable writes under faults (issue 11, item 18),
# with real peers: sipp callers into `callroute serve`, whose scenario does
# a `durable: true` INSERT into PostgreSQL (tests/services/pg.sh) or POST
# to the Python HTTP service (tests/services/http_server.py). PostgreSQL is
# stopped in the middle of a burst of calls and started again; callroute is
# killed with -9 while jobs wait; the HTTP service answers 503 before it
# accepts. Every write must arrive exactly once. (Before durable jobs, 201
# of 600 inserts during a PostgreSQL outage were lost.)
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
SUITE=hostile-durable
. "$ROOT/tests/sip/lib.sh"
chmod 755 "$W"   # PostgreSQL runs as postgres in $W/pg
S=$ROOT/tests/services
PG_UP=

pg_stop() { sh "$S/pg.sh" stop "$W/pg" fast; PG_UP=; }
pg_start() { sh "$S/pg.sh" start "$W/pg" "${PG_PORT:-}" >"$W/pg.port" 2>>"$W/pg.err" && PG_UP=1; }
psql_num() { psql -qtAX "$PGURL" -c "$1" 2>>"$W/pg.err"; }
outbox_jobs() { # outbox_jobs DIR: durable jobs still waiting
    /usr/bin/python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from job").fetchone()[0])' \
        "$1/outbox.sqlite" 2>/dev/null
}
sanitizer_clean() { ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$@"; }
# until_true SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds.
until_true() {
    n=$(($1 * 10))
    shift
    while [ "$n" -gt 0 ]; do
        "$@" && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}
rows_are() { [ "$(psql_num "SELECT count(*) FROM calls WHERE run = '$1'")" = "$2" ]; }
jobs_are() { [ "$(outbox_jobs "$1")" = "$2" ]; }

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 2)
SIP=$1 UAC=$2 RTP=$3

# ---- peers --------------------------------------------------------------
if ! pg_start; then
    echo "FAIL $SUITE:setup"
    echo "    PostgreSQL did not start"
    sed 's/^/    /' "$W/pg.err"
    exit 1
fi
PG_PORT=$(cat "$W/pg.port")
PGURL=$(sh "$S/pg.sh" url "$W/pg")
# No unique key: a write done twice would show as two rows.
psql_num "CREATE TABLE calls(key text, call_id text, run text)" >/dev/null
/usr/bin/python3 "$S/http_server.py" >"$W/http.port" 2>"$W/http.err" &
HTTP_PID=$!
BG="$BG $HTTP_PID"
wait_for "$W/http.port" 10 '^PORT' || { echo "FAIL $SUITE:setup"; echo "    http server did not start"; exit 1; }
H="http://127.0.0.1:$(sed -n 's/^PORT //p' "$W/http.port")"
cleanup_pg() { [ -n "$PG_UP" ] && sh "$S/pg.sh" stop "$W/pg" immediate; }
trap 'cleanup_pg; cleanup' EXIT

# serve_start NAME OUTBOX: serve on $SIP with its outbox in OUTBOX; SERVE is its pid.
serve_start() {
    sed -e "s|@RTP@|$RTP-$((RTP + 999))|; s|@OUTBOX@|$2|; s|@PGURL@|$PGURL|; s|@H@|$H|" \
        "$ROOT/tests/hostile/durable.yaml" >"$W/durable.yaml"
    "$CR" serve "$W/durable.yaml" --sip "udp:127.0.0.1:$SIP" --admin off >"$W/$1.log" 2>&1 &
    SERVE=$!
    BG="$BG $SERVE"
    wait_for "$W/$1.log" 15 'listening for SIP'
}
serve_stop() { # SIGTERM; true when it exits 0
    kill -TERM "$SERVE"
    reap "$SERVE"
}
# calls NAME TO COUNT RATE: COUNT sipp calls to TO, RATE per second, each
# up for 0.2 s; in the background, LAST is its pid.
calls() {
    timeout 60 sipp 127.0.0.1:"$SIP" -sn uac -s "$2" -m "$3" -r "$4" -d 200 -i 127.0.0.1 -p "$UAC" -nostdin \
        -timeout 50 -timeout_error -trace_err -error_file "$W/$1.err" >"$W/$1.out" 2>&1 &
    LAST=$!
    BG="$BG $LAST"
}

# (1) PostgreSQL stops for a few seconds in the middle of 120 calls, each
# queuing one durable insert, and comes back: all 120 rows, none twice.
case_pg_outage_loses_no_insert() {
    EVIDENCE="$W/outage.log $W/burst1.out $W/pg.err"
    serve_start outage "$W/outbox1" || { WHY="serve did not start"; return 1; }
    calls burst1 outage 120 20
    sipp=$LAST
    sleep 1.5
    pg_stop                               # mid-burst: inserts fail from here
    sleep 2.5
    pg_start || { WHY="PostgreSQL did not start again"; return 1; }
    reap "$sipp" || { WHY="sipp: not every call succeeded"; return 1; }
    until_true 60 rows_are outage 120
    rows=$(psql_num "SELECT count(*) FROM calls WHERE run = 'outage'")
    keys=$(psql_num "SELECT count(DISTINCT key) FROM calls WHERE run = 'outage'")
    ids=$(psql_num "SELECT count(DISTINCT call_id) FROM calls WHERE run = 'outage'")
    retried=$(grep -c 'durable job .* failed, will retry' "$W/outage.log")
    serve_stop
    rc=$?
    WHY="$rows rows, $keys keys, $ids calls; $retried jobs retried; $(outbox_jobs "$W/outbox1") left; serve exit $rc"
    test "$rows" = 120 && test "$keys" = 120 && test "$ids" = 120 && test "$retried" -gt 0 &&
        jobs_are "$W/outbox1" 0 && test "$rc" = 0 &&
        expect "sanitizer report" sanitizer_clean "$W/outage.log"
}

# (2) callroute is killed (-9) while 30 calls' inserts wait for a stopped
# PostgreSQL; started again with PostgreSQL up, it does each once.
case_kill9_with_queued_jobs() {
    EVIDENCE="$W/kill9a.log $W/kill9b.log $W/burst2.out"
    pg_stop
    serve_start kill9a "$W/outbox2" || { WHY="serve did not start"; return 1; }
    calls burst2 kill9 30 15
    reap "$LAST" || { WHY="sipp: not every call succeeded"; return 1; }
    expect "the 30 jobs are not all in the outbox ($(outbox_jobs "$W/outbox2"))" \
        until_true 10 jobs_are "$W/outbox2" 30 || return 1
    kill -KILL "$SERVE"
    reap "$SERVE" 2>/dev/null
    pg_start || { WHY="PostgreSQL did not start again"; return 1; }
    expect "rows before the restart" rows_are kill9 0 || return 1
    serve_start kill9b "$W/outbox2" || { WHY="serve did not start again"; return 1; }
    until_true 30 jobs_are "$W/outbox2" 0
    rows=$(psql_num "SELECT count(*) FROM calls WHERE run = 'kill9'")
    keys=$(psql_num "SELECT count(DISTINCT key) FROM calls WHERE run = 'kill9'")
    serve_stop
    rc=$?
    WHY="$rows rows, $keys keys; $(outbox_jobs "$W/outbox2") left; serve exit $rc"
    test "$rows" = 30 && test "$keys" = 30 && test "$rc" = 0 &&
        expect "sanitizer report" sanitizer_clean "$W/kill9b.log"
}

# (3) The HTTP service answers 503 three times to each job, then 201: each
# of 10 calls' POSTs is accepted exactly once, and every attempt carries
# the job's Idempotency-Key.
http_report() { # prints: requests keys accepted-keys max-accepts-per-key keyless
    /usr/bin/python3 - "$H" <<'EOF'
import json, sys, urllib.request
log = [r for r in json.load(urllib.request.urlopen(sys.argv[1] + "/__log")) if r["path"] == "/flaky/3"]
keys = {}
for r in log:
    keys.setdefault(r["headers"].get("Idempotency-Key"), []).append(r.get("status"))
ok = [k for k, s in keys.items() if 201 in s]
print(len(log), len(keys), len(ok), max([s.count(201) for s in keys.values()] or [0]), len(keys.get(None, [])))
EOF
}
accepted_are() { [ "$(http_report | cut -d' ' -f3)" = "$1" ]; }

case_http_503_then_accepted_once() {
    EVIDENCE="$W/http.log $W/burst3.out"
    serve_start http "$W/outbox3" || { WHY="serve did not start"; return 1; }
    calls burst3 report 10 10
    reap "$LAST" || { WHY="sipp: not every call succeeded"; return 1; }
    until_true 40 accepted_are 10
    until_true 10 jobs_are "$W/outbox3" 0
    serve_stop
    rc=$?
    set -- $(http_report)
    WHY="$1 requests, $2 keys, $3 accepted, at most $4 accepts for one key, $5 without a key; serve exit $rc"
    test "$1" = 40 && test "$2" = 10 && test "$3" = 10 && test "$4" = 1 && test "$5" = 0 && test "$rc" = 0 &&
        expect "sanitizer report" sanitizer_clean "$W/http.log"
}

run pg_outage_loses_no_insert
run kill9_with_queued_jobs
run http_503_then_accepted_once
[ "$FAILS" = 0 ]
