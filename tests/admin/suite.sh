#!/bin/sh
# tests/admin/suite.sh — the admin API of `callroute serve` ($CALLROUTE, the
# sanitizer build under tests/run.sh): a real call placed with sipp is listed
# by GET /calls while it is up, and after it ends GET /calls/ID returns its
# trace. Everything on 127.0.0.1 with ports picked per run (tests/sip/ports.py).
# One line per case: "PASS admin:NAME" or "FAIL admin:NAME" with the evidence.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
HERE=$ROOT/tests/admin
SUITE=admin
. "$ROOT/tests/sip/lib.sh"

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 5)
SIP=$1 UAC=$2 ADMIN=$3 ADMIN2=$4 SIP2=$5 RTP=$6

# ---- helpers (the shared ones are in tests/sip/lib.sh) ----

# get PATH NAME [METHOD] [PORT]: the body goes to $W/NAME.json; CODE is set.
get() {
    CODE=$(/usr/bin/python3 "$HERE/fetch.py" "${3:-GET}" "http://127.0.0.1:${4:-$ADMIN}$1" "$W/$2.json" 2>>"$W/http.err")
}

# json NAME EXPR: EXPR (Python, the parsed body is d) holds for $W/NAME.json.
json() {
    /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" \
        "$W/$1.json" 2>>"$W/http.err"
}

# The addresses a TCP port listens on, one a line.
listening() { ss -Hltn "sport = :$1" | awk '{print $4}'; }

# ---- the server: admin.listen from the file ----

sed -e "s|@RTP@|$RTP-$((RTP + 999))|; s|@ADMIN@|$ADMIN|" "$HERE/admin.yaml" >"$W/admin.yaml"
"$CR" serve "$W/admin.yaml" --sip "udp:127.0.0.1:$SIP" >"$W/serve.log" 2>&1 &
SERVE=$!
BG="$BG $SERVE"
if ! wait_for "$W/serve.log" 15 'listening for SIP'; then
    echo "FAIL admin:setup"
    sed 's/^/    /' "$W/serve.log"
    exit 1
fi

# ---- cases ----

case_health() {
    EVIDENCE="$W/health.json $W/serve.log"
    v=$("$CR" --version | awk '{print $2}')
    get /health health &&
        expect "GET /health: $CODE" [ "$CODE" = 200 ] &&
        expect "not {status: ok, calls: 0, version: $v, refused: 0, flood_dropped: 0, ...}" \
            json health "{k: d[k] for k in ('status', 'calls', 'version', 'refused', 'refused_by_reason', 'flood_dropped')} == {'status': 'ok', 'calls': 0, 'version': '$v', 'refused': 0, 'refused_by_reason': {}, 'flood_dropped': 0}"
}

case_live_and_finished_call() { # a call up for 3 s: listed live, then its trace
    EVIDENCE="$W/call.out $W/calls.json $W/call.json $W/serve.log $W/http.err"
    timeout 25 sipp 127.0.0.1:"$SIP" -sn uac -s 555 -m 1 -d 3000 -i 127.0.0.1 -p "$UAC" -nostdin \
        -cid_str "%u-%p-admin@%s" -timeout 20 -timeout_error -trace_msg -message_file "$W/call.msg" \
        >"$W/call.out" 2>&1 &
    c=$!
    BG="$BG $c"
    # Poll until the call is listed as answered (the caller waits 3 s then).
    i=0
    while :; do
        get /calls calls && json calls "len(d['calls']) == 1 and d['calls'][0]['answered']" && break
        i=$((i + 1))
        [ $i -lt 100 ] || { WHY="no answered live call in GET /calls"; return 1; }
        sleep 0.05
    done
    id=$(grep -m1 -io "^Call-ID: *[^ ]*-admin@[^ ]*" "$W/call.msg" | sed 's/^[^:]*: *//; s/\r$//')
    expect "live call listed wrongly (call id '$id')" json calls \
        "c == dict(c, call_id='$id', live=True, to='555', route='hold-line', answered=True, bridged=False) and c['from'] == 'sipp' and 0 <= c['duration'] < 3 and c['start'].endswith('Z') for c in [d['calls'][0]]" || return 1
    get /health health
    expect "health does not count the live call" json health "d['calls'] == 1" || return 1
    get "/calls/$id" live
    expect "GET /calls/ID of the live call: $CODE" [ "$CODE" = 200 ] &&
        expect "live trace has no route record or already a call record" json live \
            "d['live'] and d['trace'][0]['kind'] == 'route' and all(r['kind'] != 'call' for r in d['trace'])" || return 1
    reap $c || { WHY="sipp call failed"; return 1; }
    get "/calls/$id" call
    expect "GET /calls/ID after the call: $CODE" [ "$CODE" = 200 ] &&
        expect "finished call summary wrong" json call \
            "d['call_id'] == '$id' and not d['live'] and d['route'] == 'hold-line' and d['hangup_by'] == 'caller' and d['duration'] >= 3 and not d['truncated'] and d['records'] == len(d['trace'])" &&
        expect "trace lacks the route record" json call \
            "{'kind': 'route', 'route': 'hold-line'}.items() <= d['trace'][0].items()" &&
        expect "trace lacks the hangup record (by caller)" json call \
            "any(r['kind'] == 'hangup' and r['by'] == 'caller' for r in d['trace'])" &&
        expect "trace lacks the log line" json call \
            "any(r['kind'] == 'log' and r['message'] == 'holding 555' for r in d['trace'])" &&
        expect "the call record is not last" json call \
            "d['trace'][-1]['kind'] == 'call' and d['trace'][-1]['by'] == 'caller'" || return 1
    get /calls calls
    expect "finished call still live, or not among the finished" json calls \
        "d['calls'] == [] and d['finished'][0]['call_id'] == '$id'"
}

case_truncated() { # past 2,000 records: truncated, but the hangup and call records are kept
    EVIDENCE="$W/chatty.out $W/chatty.json $W/serve.log"
    timeout 25 sipp 127.0.0.1:"$SIP" -sn uac -s chatty -m 1 -d 300 -i 127.0.0.1 -p "$UAC" -nostdin \
        -cid_str "%u-%p-chatty@%s" -timeout 20 -timeout_error -trace_msg -message_file "$W/chatty.msg" \
        >"$W/chatty.out" 2>&1 || { WHY="sipp call failed"; return 1; }
    id=$(grep -m1 -io "^Call-ID: *[^ ]*-chatty@[^ ]*" "$W/chatty.msg" | sed 's/^[^:]*: *//; s/\r$//')
    get "/calls/$id" chatty
    expect "GET /calls/ID: $CODE" [ "$CODE" = 200 ] &&
        expect "not truncated at 2,000 records (+ hangup and call)" json chatty \
            "d['truncated'] and d['records'] == len(d['trace']) == 2002 and d['route'] == 'chatty'" &&
        expect "hangup and call records not kept" json chatty \
            "[r['kind'] for r in d['trace'][-2:]] == ['hangup', 'call'] and d['trace'][-2]['by'] == 'caller'"
}

case_trace_is_the_streamed_records() { # GET /calls/ID's trace, byte for byte, is what /events streamed
    EVIDENCE="$W/events.txt $W/ev.json $W/ev.out $W/serve.log $W/http.err"
    curl -sN "http://127.0.0.1:$ADMIN/events" >"$W/events.txt" 2>>"$W/http.err" &
    ev=$!
    BG="$BG $ev"
    wait_for "$W/events.txt" 10 'callroute events' || { WHY="no /events stream"; return 1; }
    timeout 25 sipp 127.0.0.1:"$SIP" -sn uac -s 556 -m 1 -d 200 -i 127.0.0.1 -p "$UAC" -nostdin \
        -cid_str "%u-%p-events@%s" -timeout 20 -timeout_error -trace_msg -message_file "$W/ev.msg" \
        >"$W/ev.out" 2>&1 || { WHY="sipp call failed"; return 1; }
    id=$(grep -m1 -io "^Call-ID: *[^ ]*-events@[^ ]*" "$W/ev.msg" | sed 's/^[^:]*: *//; s/\r$//')
    wait_for "$W/events.txt" 10 '"kind":"call_end"' || { WHY="no call_end streamed"; return 1; }
    kill "$ev"
    get "/calls/$id" ev
    expect "GET /calls/ID: $CODE" [ "$CODE" = 200 ] &&
        expect "the trace is not the streamed records" \
            /usr/bin/python3 "$HERE/trace_matches_events.py" "$W/events.txt" "$W/ev.json" "$id"
}

case_not_found() {
    EVIDENCE="$W/nf.json $W/nf2.json"
    get /calls/no-such-call nf &&
        expect "unknown call: $CODE" [ "$CODE" = 404 ] &&
        expect "unknown call: no JSON error" json nf "d['error'] and d['call_id'] == 'no-such-call'" &&
        get /nothing nf2 &&
        expect "unknown path: $CODE" [ "$CODE" = 404 ] &&
        expect "unknown path: no JSON error" json nf2 "'error' in d"
}

case_changes_need_token() { # no token configured: a change is 403 and says how to set one
    EVIDENCE="$W/post.json $W/post.json.headers"
    get /health post POST &&
        expect "POST without a configured token: $CODE" [ "$CODE" = 403 ] &&
        expect "the 403 does not say how to configure a token" json post "'settings.admin.token_file' in d['error']" &&
        get /health del DELETE && expect "DELETE: $CODE" [ "$CODE" = 403 ]
}

case_token() { # with settings.admin.token_env: 401 without or with a wrong token; with it, 405/404/413
    EVIDENCE="$W/serve3.log $W/t1.json $W/t2.json $W/t3.json $W/t3.json.headers $W/t4.json $W/t5.json"
    sed -e "s|  admin: { listen: \"127.0.0.1:$ADMIN\" }|  admin: { listen: \"127.0.0.1:$ADMIN2\", token_env: CALLROUTE_ADMIN_TOKEN }|" \
        "$W/admin.yaml" >"$W/admin3.yaml"
    CALLROUTE_ADMIN_TOKEN=s3cret-token-0123456789 "$CR" serve "$W/admin3.yaml" --sip "udp:127.0.0.1:$SIP2" \
        >"$W/serve3.log" 2>&1 &
    s3=$!
    BG="$BG $s3"
    wait_for "$W/serve3.log" 15 'listening for SIP' || { WHY="the server with a token did not start"; return 1; }
    head -c 1100000 /dev/zero | tr '\0' x >"$W/big.body"
    get /health t1 POST "$ADMIN2"; c1=$CODE
    FETCH_TOKEN=wrong-token-0123456789 get /health t2 POST "$ADMIN2"; c2=$CODE
    FETCH_TOKEN=s3cret-token-0123456789 get /health t3 POST "$ADMIN2"; c3=$CODE
    FETCH_TOKEN=s3cret-token-0123456789 get /nothing t4 POST "$ADMIN2"; c4=$CODE
    c5=$(FETCH_TOKEN=s3cret-token-0123456789 /usr/bin/python3 "$HERE/fetch.py" POST \
        "http://127.0.0.1:$ADMIN2/health" "$W/t5.json" "$W/big.body" 2>>"$W/http.err")
    get /health t6 GET "$ADMIN2"; c6=$CODE
    kill -TERM $s3
    reap $s3 || { WHY="the server with a token did not exit 0"; return 1; }
    expect "no token: $c1, not 401" [ "$c1" = 401 ] &&
        expect "a wrong token: $c2, not 401" [ "$c2" = 401 ] &&
        expect "the right token on a GET-only path: $c3, not 405" [ "$c3" = 405 ] &&
        expect "405 without Allow: GET, HEAD" grep -qi "^Allow: GET, HEAD" "$W/t3.json.headers" &&
        expect "the right token on an unknown path: $c4, not 404" [ "$c4" = 404 ] &&
        expect "a 1.1 MB body: $c5, not 413" [ "$c5" = 413 ] &&
        expect "a GET on loopback without the token: $c6, not 200" [ "$c6" = 200 ] &&
        expect "the token is in the log" sh -c "! grep -q s3cret-token '$W/serve3.log'"
}

case_token_file_private() { # a token file others can read is refused at start
    EVIDENCE="$W/serve4.log"
    printf 'a-token-of-32-characters-012345\n' >"$W/token"
    chmod 644 "$W/token"
    sed -e "s|  admin: { listen: \"127.0.0.1:$ADMIN\" }|  admin: { listen: \"127.0.0.1:$ADMIN2\", token_file: \"$W/token\" }|" \
        "$W/admin.yaml" >"$W/admin4.yaml"
    "$CR" serve "$W/admin4.yaml" --sip "udp:127.0.0.1:$SIP2" >"$W/serve4.log" 2>&1
    rc=$?
    expect "serve started (exit $rc) with a token file others can read" [ "$rc" = 1 ] &&
        expect "no 'chmod 600' hint" grep -q "others may read it (chmod 600" "$W/serve4.log"
}

case_cdr() { # GET /cdr lists the finished call of live_and_finished_call from the records
    EVIDENCE="$W/cdr.json $W/serve.log"
    i=0
    while :; do
        get "/cdr?since=2000-01-01&limit=10" cdr
        [ "$CODE" = 200 ] && json cdr "d['count'] >= 1" && break
        i=$((i + 1))
        [ $i -lt 100 ] || { WHY="GET /cdr: $CODE, no record"; return 1; }
        sleep 0.05
    done
    expect "the record is not the call's" json cdr \
        "[(x['disposition'], x['billsec'] > 2) for x in d['records'] if x['called_number'] == '555'] == [('ANSWERED', True)]" &&
        get "/cdr?limit=0" bad && expect "limit=0: $CODE, not 400" [ "$CODE" = 400 ]
}

case_loopback_only() { # from the file (127.0.0.1:PORT) and from --admin PORT (no host)
    EVIDENCE="$W/serve2.log"
    expect "settings.admin.listen: not only 127.0.0.1:$ADMIN ($(listening "$ADMIN"))" \
        [ "$(listening "$ADMIN")" = "127.0.0.1:$ADMIN" ] || return 1
    "$CR" serve "$W/admin.yaml" --sip "udp:127.0.0.1:$SIP2" --admin "$ADMIN2" >"$W/serve2.log" 2>&1 &
    s2=$!
    BG="$BG $s2"
    wait_for "$W/serve2.log" 15 'listening for SIP' || { WHY="second server did not start"; return 1; }
    l=$(listening "$ADMIN2")
    get /health h2 GET "$ADMIN2"
    kill -TERM $s2
    reap $s2 || { WHY="second server did not exit 0"; return 1; }
    expect "--admin $ADMIN2 listens on '$l', not 127.0.0.1:$ADMIN2" [ "$l" = "127.0.0.1:$ADMIN2" ] &&
        expect "no /health on --admin $ADMIN2" [ "$CODE" = 200 ]
}

case_off_and_busy() { # --admin off: no HTTP; an explicit --admin in use: exit 1
    EVIDENCE="$W/serve3.log $W/serve4.log"
    "$CR" serve "$W/admin.yaml" --sip "udp:127.0.0.1:$SIP2" --admin off >"$W/serve3.log" 2>&1 &
    s3=$!
    BG="$BG $s3"
    wait_for "$W/serve3.log" 15 'listening for SIP' || { WHY="--admin off: did not start"; return 1; }
    kill -TERM $s3
    reap $s3 || { WHY="--admin off: did not exit 0"; return 1; }
    expect "--admin off still serves HTTP" sh -c "! grep -q 'admin API' '$W/serve3.log'" || return 1
    timeout 10 "$CR" serve "$W/admin.yaml" --sip "udp:127.0.0.1:$SIP2" --admin "127.0.0.1:$ADMIN" >"$W/serve4.log" 2>&1
    rc=$?
    expect "busy --admin port: exit $rc, not 1" [ $rc = 1 ] &&
        expect "busy --admin port: no message" grep -q "admin API on 127.0.0.1:$ADMIN: .*in use" "$W/serve4.log"
}

case_shutdown() { # SIGTERM: exit 0, no sanitizer report (leaks of the admin API)
    EVIDENCE="$W/serve.log"
    kill -TERM "$SERVE"
    reap "$SERVE" || { WHY="serve did not exit 0"; return 1; }
    expect "sanitizer report in the server log" sh -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$W/serve.log'"
}

for c in ${ADMIN_CASES:-health live_and_finished_call truncated trace_is_the_streamed_records not_found changes_need_token token token_file_private cdr loopback_only off_and_busy shutdown}; do
    run "$c"
done
[ "$FAILS" -eq 0 ]
