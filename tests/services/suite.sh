#!/bin/sh
# tests/services/suite.sh — the http, db and email applications through
# `callroute simulate` against real servers on 127.0.0.1, started and
# stopped here: the Python HTTP service, PostgreSQL (pg.sh), SQLite files,
# the aiosmtpd SMTP server; and `callroute test` on the example tests.
# Prints "PASS services:NAME" / "FAIL services:NAME" (with details).
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CALLROUTE=${CALLROUTE:-$ROOT/build/callroute}
S=$ROOT/tests/services
T=$(mktemp -d)
chmod 755 "$T"
HTTP_PID= SMTP_PID=
status=0

cleanup() {
    [ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null
    [ -n "$SMTP_PID" ] && kill "$SMTP_PID" 2>/dev/null
    [ -f "$T/pg/data/PG_VERSION" ] && sh "$S/pg.sh" stop "$T/pg" immediate
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

if [ ! -x "$CALLROUTE" ]; then
    echo "FAIL services:binary ($CALLROUTE is missing)"
    exit 1
fi

pass() { echo "PASS services:$1"; }
fail() {
    echo "FAIL services:$1: $2"
    [ -f "$T/out" ] && sed 's/^/    /' "$T/out" | tail -40
    status=1
}
# has NAME TEXT...: every TEXT is in $T/out
has() {
    name=$1
    shift
    for want in "$@"; do
        if ! grep -qF -- "$want" "$T/out"; then
            fail "$name" "output lacks: $want"
            return
        fi
    done
    pass "$name"
}

# start_server VAR CMD...: runs CMD in the background, waits for "PORT n".
wait_port() { # FILE
    i=0
    while [ $i -lt 100 ]; do
        p=$(sed -n 's/^PORT \([0-9]*\)$/\1/p' "$1" 2>/dev/null)
        [ -n "$p" ] && { echo "$p"; return 0; }
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

/usr/bin/python3 "$S/http_server.py" >"$T/http.port" &
HTTP_PID=$!
HTTP_PORT=$(wait_port "$T/http.port") || { echo "FAIL services:http-server (did not start)"; exit 1; }
H="http://127.0.0.1:$HTTP_PORT"

sim() { # FILE ARGS... -> $T/out, returns the exit status
    "$CALLROUTE" simulate "$@" >"$T/out" 2>&1
}

# ---- http ---------------------------------------------------------------
cat >"$T/http.yaml" <<EOF
version: 1
routes:
  - name: main
    script:
      - app: set
        vars: { who: "Alice & Bob/+7 ?", evil: "x\r\nX-Injected: 1" }
      - app: http
        id: lookup
        url: "$H/json?caller={caller_number}&who={who}"
        headers: { X-Caller: "{caller_number}", X-Evil: "{evil}" }
        save: { agent: "\$.agent.extension", second: "\$.items[1].name", big: "\$.big", missing: "\$.nope" }
      - app: http
        method: POST
        url: "$H/echo"
        json: { caller: "{caller_number}", n: 5, tags: ["a", "{agent}"] }
      - app: http
        url: "$H/status/500"
        on_error: [ { app: set, vars: { e500: "{error}|{http_status}" } } ]
      - app: http
        url: "$H/invalid"
        save: { x: "\$.x" }
        on_error: [ { app: set, vars: { invalid: "{http_error}" } } ]
      - app: http
        url: "$H/drop"
        on_error: [ { app: set, vars: { dropped: "yes" } } ]
      - app: http
        url: "http://127.0.0.1:1/dead"
        on_error: [ { app: set, vars: { dead: "{http_status}" } } ]
      - app: http
        url: "$H/delay/3"
        timeout: 0.5
        on_error: [ { app: set, vars: { slow: "{error}/{http_error}" } } ]
      - app: http
        method: POST
        url: "$H/delay/3"
        json: { caller: "{caller_number}" }
        timeout: 0.5
        on_error: [ { app: set, vars: { postslow: "{error}/{http_error}" } } ]
      - app: http
        method: POST
        url: "http://127.0.0.1:1/dead"
        on_error: [ { app: set, vars: { postdead: "{http_error}" } } ]
      - app: hangup
EOF
sim "$T/http.yaml" --from 79165551234 --to 1000
has http:save-and-results 'agent="101"' 'second="second"' 'big="123456789012345678"' 'missing=' \
    'http.json.agent.name="Alice Smith"' 'http_status=200'
has http:status-500-on-error 'e500="HTTP 500|500"'
has http:invalid-json-with-save-fails 'invalid="the answer is not valid JSON'
has http:dropped-connection-on-error 'dropped="yes"'
has http:dead-service-on-error 'dead="0"'
has http:timeout-on-error 'slow="timeout/timeout"'
# A POST the server got but did not answer in time may have been acted on;
# one that never connected was not.
has http:post-timeout-is-unknown 'postslow="unknown/unknown"' 'may have been carried out'
if grep -q 'postdead="unknown"' "$T/out"; then fail http:refused-post-is-not-unknown "a refused POST said unknown"
else pass http:refused-post-is-not-unknown; fi
curl -s "$H/__log" >"$T/out"
has http:url-percent-encoded '"/json?caller=79165551234&who=Alice%20%26%20Bob%2F%2B7%20%3F"'
has http:header-sent '"X-Caller": "79165551234"'
has http:header-crlf-stripped '"X-Evil": "xX-Injected: 1"'
has http:json-body-sent '"body": "{\"caller\":\"79165551234\",\"n\":5,\"tags\":[\"a\",\"101\"]}"'
if grep -qF '"X-Injected"' "$T/out"; then fail http:no-header-injection "a header was injected"; else pass http:no-header-injection; fi

# A slow service delays only the call waiting for it: 5 other lookups done first.
cat >"$T/slow.yaml" <<EOF
version: 1
routes:
  - name: main
    script:
      - app: stream
        do:
          - app: http
            url: "$H/delay/1"
          - app: set
            vars: { slow_done: "yes" }
      - app: loop
        times: 5
        do:
          - app: http
            url: "$H/json?i={loop_index}"
      - app: set
        vars: { fast_done: "yes" }
      - app: wait
        seconds: 2
      - app: hangup
EOF
sim "$T/slow.yaml" --from 1 --to 2
fast=$(grep -n 'fast_done="yes"' "$T/out" | head -1 | cut -d: -f1)
slowline=$(grep -n 'routes\[0\].script\[0\].do\[0\]  ok' "$T/out" | head -1 | cut -d: -f1)
if [ -n "$fast" ] && [ -n "$slowline" ] && [ "$fast" -lt "$slowline" ]; then
    pass http:slow-service-delays-only-its-strand
else
    fail http:slow-service-delays-only-its-strand "fast lookups (line ${fast:-?}) did not finish before the slow one (line ${slowline:-?})"
fi

# ---- SQLite -------------------------------------------------------------
/usr/bin/python3 - "$T/crm.db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("CREATE TABLE customers(phone TEXT PRIMARY KEY, agent TEXT, tier TEXT)")
c.execute("INSERT INTO customers VALUES('79165551234', '101', 'gold')")
c.commit()
EOF
cat >"$T/db.yaml" <<'EOF'
version: 1
settings:
  databases:
    crm: "sqlite:crm.db"
routes:
  - name: main
    script:
      - app: db
        database: crm
        query: "SELECT agent, tier FROM customers WHERE phone = ?"
        params: ["{caller_number}"]
        save: { tier: tier, db_agent: agent }
      - app: db
        database: crm
        query: "INSERT INTO customers(phone, agent) VALUES(?, ?)"
        params: ["{caller_number}'); DROP TABLE customers; --", "999"]
      - app: db
        database: crm
        query: "SELECT count(*) AS n FROM customers"
        save: { n: n }
      - app: db
        database: crm
        query: "SELECT nope FROM customers"
        on_error: [ { app: set, vars: { dberr: "{db_error}" } } ]
      - app: db
        database: crm
        query: "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) SELECT count(*) AS c FROM n"
        timeout: 0.3
        on_error: [ { app: set, vars: { dbslow: "{error}/{db_error}" } } ]
      - app: hangup
EOF
sim "$T/db.yaml" --from 79165551234 --to 1000
has sqlite:save-first-row 'tier="gold"' 'db_agent="101"' 'db_rows=1'
has sqlite:params-bound-not-pasted 'n="2"'
has sqlite:error-on-error 'dberr="no such column: nope"'
has sqlite:timeout-on-error 'dbslow="timeout/timeout"'

# ---- PostgreSQL ---------------------------------------------------------
PG_PORT=$(sh "$S/pg.sh" start "$T/pg" 2>"$T/out")
if [ -z "$PG_PORT" ]; then
    fail pg:start "PostgreSQL did not start"
else
    PGURL=$(sh "$S/pg.sh" url "$T/pg")
    cat >"$T/pg.yaml" <<EOF
version: 1
settings:
  databases:
    billing: "$PGURL"
routes:
  - name: main
    script:
      - app: db
        database: billing
        query: "CREATE TABLE IF NOT EXISTS balance(phone text primary key, amount int)"
      - app: db
        database: billing
        query: "INSERT INTO balance VALUES(?, ?) ON CONFLICT (phone) DO UPDATE SET amount = excluded.amount"
        params: ["{caller_number}", "42"]
      - app: db
        database: billing
        query: "SELECT amount, '?' AS q FROM balance WHERE phone = ?"
        params: ["{caller_number}"]
        save: { amount: amount, q: q }
        on_error: [ { app: set, vars: { pgerr: "{db_error}" } } ]
      - app: hangup
EOF
    sim "$T/pg.yaml" --from 79165551234 --to 1000
    has pg:query-and-save 'amount="42"' 'q="?"'

    # The action's timeout cancels the query; the next one still works.
    cat >"$T/pgtimeout.yaml" <<EOF
version: 1
settings:
  databases:
    billing: "$PGURL"
routes:
  - name: main
    script:
      - app: db
        database: billing
        query: "SELECT pg_sleep(5)"
        timeout: 0.5
        on_error: [ { app: set, vars: { pgslow: "{error}/{db_error}" } } ]
      - app: db
        database: billing
        query: "SELECT 7 AS seven"
        save: { seven: seven }
      - app: hangup
EOF
    sim "$T/pgtimeout.yaml" --from 1 --to 2
    has pg:timeout-on-error-then-next-query 'pgslow="timeout/timeout"' 'seven="7"'

    # A write on the wire when the timeout came may have been done: unknown
    # (the read above stays timeout).
    cat >"$T/pgunknown.yaml" <<EOF
version: 1
settings:
  databases:
    billing: "$PGURL"
routes:
  - name: main
    script:
      - app: db
        database: billing
        query: "CREATE TABLE IF NOT EXISTS slowlog(k text)"
      - app: db
        database: billing
        query: "INSERT INTO slowlog SELECT ? FROM pg_sleep(3)"
        params: ["{caller_number}"]
        timeout: 0.5
        on_error: [ { app: set, vars: { pgunknown: "{error}/{db_error}" } } ]
      - app: hangup
EOF
    sim "$T/pgunknown.yaml" --from 1 --to 2
    has pg:write-timeout-is-unknown 'pgunknown="unknown/unknown"'

    # Killed mid-run: the waiting call gets db_error, not a hang.
    cat >"$T/pgslow.yaml" <<EOF
version: 1
settings:
  databases:
    billing: "$PGURL"
routes:
  - name: main
    script:
      - app: db
        database: billing
        query: "SELECT pg_sleep(10)"
        timeout: 20
        on_error: [ { app: set, vars: { pgerr: "{db_error}" } } ]
      - app: hangup
EOF
    start=$(date +%s)
    sim "$T/pgslow.yaml" --from 1 --to 2 &
    simpid=$!
    sleep 0.5
    sh "$S/pg.sh" stop "$T/pg" immediate   # like a crash: no goodbye to the clients
    wait $simpid
    took=$(( $(date +%s) - start ))
    if grep -q 'pgerr="[^"]' "$T/out" && [ "$took" -lt 8 ]; then pass pg:killed-mid-query-gives-db_error
    else fail pg:killed-mid-query-gives-db_error "no db_error within ${took}s"; fi
    sim "$T/pg.yaml" --from 79165551234 --to 1000
    has pg:down-gives-db_error 'pgerr="'
    sh "$S/pg.sh" start "$T/pg" >/dev/null 2>&1
    sim "$T/pg.yaml" --from 79165551234 --to 1000
    has pg:recovers-when-back 'amount="42"'
fi

# ---- e-mail -------------------------------------------------------------
mkdir -p "$T/mail"
/usr/bin/python3 "$S/smtp_server.py" "$T/mail" 0 >"$T/smtp.port" &
SMTP_PID=$!
SMTP_PORT=$(wait_port "$T/smtp.port") || { fail smtp:start "did not start"; SMTP_PORT=1; }
kill "$SMTP_PID"; wait "$SMTP_PID" 2>/dev/null; SMTP_PID=
cat >"$T/mail.yaml" <<EOF
version: 1
settings:
  smtp: { url: "smtp://127.0.0.1:$SMTP_PORT", from: "pbx@example.com", outbox: "var/outbox" }
users:
  "101": { name: "Alice Smith" }
routes:
  - name: main
    script:
      - app: answer
      - app: event
        on: hold
        do:
          - app: email
            to: "supervisor@example.com"
            subject: "Call on hold {caller_number}"
            body: "User {agent_name} put on hold {caller_number}."
      - app: dial
        to: "101"
EOF
sim "$T/mail.yaml" --from 79165551234 --to 1000 --party 101=answer@1,hold@3,hangup@10
has email:captured-in-simulate-trace 'User Alice Smith put on hold 79165551234.'
if [ -d "$T/var/outbox" ]; then fail email:capture-queues-nothing "an outbox was created"; else pass email:capture-queues-nothing; fi

# Server down: the calls finish at once, the mail waits in the outbox.
for i in 1 2; do
    sim "$T/mail.yaml" --from "7916555000$i" --to 1000 --party 101=answer@1,hold@3,hangup@10 --send-mail
done
rows=$(/usr/bin/python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from message").fetchone()[0])' "$T/var/outbox/outbox.sqlite" 2>/dev/null)
if [ "$rows" = 2 ]; then pass email:outbox-keeps-mail-while-server-down; else fail email:outbox-keeps-mail-while-server-down "outbox has ${rows:-no} messages"; fi
# "callroute restarts" with the server back: each message arrives once.
/usr/bin/python3 "$S/smtp_server.py" "$T/mail" "$SMTP_PORT" >"$T/smtp.port" &
SMTP_PID=$!
wait_port "$T/smtp.port" >/dev/null
sim "$T/mail.yaml" --from 79165550003 --to 1000 --party 101=answer@1,hangup@2 --send-mail
sim "$T/mail.yaml" --from 79165550004 --to 1000 --party 101=answer@1,hangup@2 --send-mail
n=$(ls "$T/mail" | grep -c '\.eml$')
n1=$(grep -l '79165550001' "$T/mail"/*.eml 2>/dev/null | wc -l)
n2=$(grep -l '79165550002' "$T/mail"/*.eml 2>/dev/null | wc -l)
if [ "$n" = 2 ] && [ "$n1" = 1 ] && [ "$n2" = 1 ]; then pass email:delivered-exactly-once-after-restart
else fail email:delivered-exactly-once-after-restart "$n messages ($n1 + $n2)"; fi

# A missing attachment fails the action (nothing queued): on_error runs.
cat >"$T/attach.yaml" <<EOF
version: 1
settings:
  smtp: { url: "smtp://127.0.0.1:$SMTP_PORT", from: "pbx@example.com", outbox: "var/outbox2" }
routes:
  - name: main
    script:
      - app: email
        to: "a@example.com"
        body: "see attachment"
        attach: "missing/{call_id}.wav"
        on_error: [ { app: set, vars: { mailerr: "{error}" } } ]
      - app: hangup
EOF
sim "$T/attach.yaml" --from 1 --to 2 --send-mail
has email:missing-attachment-on-error "mailerr=\"cannot read attachment $T/recordings/missing/sim-1.wav"

# ---- callroute test -----------------------------------------------------
E=$ROOT/tests/scenario-tests
"$CALLROUTE" test "$E/pbx.yaml" "$E/pbx.test.yaml" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && tail -1 "$T/out" | grep -qx '4 passed, 0 failed'; then pass test:examples-pass
else fail test:examples-pass "exit $rc"; fi
"$CALLROUTE" test "$E/contact.yaml" "$E/contact.test.yaml" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && tail -1 "$T/out" | grep -qx '2 passed, 0 failed'; then pass test:contact-pass
else fail test:contact-pass "exit $rc: $(tail -3 "$T/out" | tr '\n' ' ')"; fi
"$CALLROUTE" test "$E/pbx.yaml" "$E/failing.test.yaml" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 1 ]; then pass test:failing-exit-1; else fail test:failing-exit-1 "exit $rc"; fi
has test:failing-report 'FAIL  wrong tier expected' 'expected: gold' 'actual:   silver' \
    'expected: a mock for http GET http://crm.local/lookup?phone=79165551234' '0 passed, 2 failed'
printf 'cases:\n  - name: typo\n    call: { from: "1", to: "1000" }\n    expect: { rout: vip }\n' >"$T/typo.test.yaml"
"$CALLROUTE" test "$E/pbx.yaml" "$T/typo.test.yaml" >"$T/out" 2>&1
has test:unknown-key-suggests "typo.test.yaml:4:15: unknown key 'rout' in expect (did you mean 'route'?)"

exit $status
