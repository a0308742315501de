#!/bin/sh
# tests/revisions/suite.sh — scenario revisions through the admin API of a
# real `callroute serve` ($CALLROUTE, the sanitizer build under
# tests/run.sh): a call keeps the revision it started on while PUT
# /scenario installs another (its trace says so, and its dial goes to its
# own revision's gateway), GET /calls and GET /revisions tell which calls
# run which revision, an old revision goes when its last call ends;
# If-Match (428, 409), invalid texts (422 with the line; calls run on),
# validate changes nothing, restore, POST /reload and SIGHUP, the files in
# .callroute-revisions (the newest 20), a file edited by hand is not
# overwritten, writes need the token. Callers and gateways are sipp, the
# HTTP client Python (tests/admin/fetch.py); all on 127.0.0.1 with ports
# picked per run. One line per case: "PASS revisions:NAME" or "FAIL
# revisions:NAME" with the evidence.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
HERE=$ROOT/tests/revisions
SUITE=revisions
. "$ROOT/tests/sip/lib.sh"

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 6)
SIP=$1 UAC=$2 ADMIN=$3 OUT1=$4 OUT2=$5 UAC2=$6 RTP=$7
TOKEN=revisions-token-0123456789
FILE=$W/callroute.yaml
REVDIR=$W/.callroute-revisions

# ---- helpers ----

# text WORD OUT_PORT: a revision's text on stdout.
text() {
    sed -e "s|@RTP@|$RTP-$((RTP + 999))|; s|@ADMIN@|$ADMIN|; s|@WORD@|$1|g; s|@OUT@|$2|g" "$HERE/scenario.yaml"
}

# http METHOD PATH NAME [BODY_FILE] [IF_MATCH]: with the token (or $AUTH
# when it is set: "" for none); the answer
# in $W/NAME.json, its headers in $W/NAME.json.headers, the status in CODE.
http() {
    CODE=$(FETCH_TOKEN=${AUTH-$TOKEN} FETCH_HEADERS=${5:+If-Match: $5} \
        /usr/bin/python3 "$ROOT/tests/admin/fetch.py" "$1" "http://127.0.0.1:$ADMIN$2" "$W/$3.json" ${4:+"$4"} \
        2>>"$W/http.err")
}

# json NAME EXPR: EXPR (Python; the parsed answer is d) holds for $W/NAME.json.
json() {
    /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" \
        "$W/$1.json" 2>>"$W/http.err"
}

# The running revision (GET /scenario).
current() {
    http GET /scenario cur && /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['revision'])" "$W/cur.json"
}

# poll TRIES COMMAND...: COMMAND until it succeeds, every 50 ms.
poll() {
    n=$1
    shift
    while [ "$n" -gt 0 ]; do
        "$@" && return 0
        n=$((n - 1))
        sleep 0.05
    done
    return 1
}

# A caller in the background: caller NAME SERVICE LOCAL_PORT PAUSE_MS; sets LAST.
caller() {
    timeout 30 sipp 127.0.0.1:"$SIP" -sn uac -s "$2" -m 1 -d "$4" -i 127.0.0.1 -p "$3" -nostdin \
        -cid_str "%u-%p-$1@%s" -timeout 25 -timeout_error -trace_msg -message_file "$W/$1.msg" \
        >"$W/$1.out" 2>&1 &
    LAST=$!
    BG="$BG $LAST"
    PEERS="$PEERS $LAST"
}

# A gateway that answers one call: gateway NAME PORT; sets LAST.
gateway() {
    timeout 30 sipp -sn uas -m 1 -i 127.0.0.1 -p "$2" -nostdin -timeout 25 -timeout_error \
        -trace_msg -message_file "$W/$1.msg" >"$W/$1.out" 2>&1 &
    LAST=$!
    BG="$BG $LAST"
    PEERS="$PEERS $LAST"
    wait_port "$2"
}

# Caller NAME has sent its INVITE.
sent() { grep -qi "^Call-ID: .*-$1@" "$W/$1.msg" 2>/dev/null; }

# The Call-ID of caller NAME's call (-cid_str puts NAME in it).
call_id() { grep -m1 -io "^Call-ID: *[^ ]*-$1@[^ ]*" "$W/$1.msg" 2>/dev/null | sed 's/^[^:]*: *//; s/\r$//'; }

# live_on ID REV: call ID is listed live by GET /calls, on revision REV.
live_on() {
    http GET /calls calls &&
        json calls "any(c['call_id'] == '$1' and c['revision'] == $2 and c['live'] for c in d['calls'])"
}

# revision_is N: GET /scenario says revision N.
revision_is() { [ "$(current)" = "$1" ]; }

# freed N: GET /revisions lists revision N as no longer loaded, no call on it.
freed() {
    http GET /revisions revs2 &&
        json revs2 "[(r['loaded'], r['live_calls']) for r in d if r['revision'] == $1] == [(False, 0)]"
}

# The revision files of $FILE in the directory.
kept_files() { ls "$REVDIR" 2>/dev/null | grep -c -- '-r[0-9]*-[0-9a-f]\{12\}-callroute\.yaml$'; }

# ---- the server: revision 1 ("one", gateway out on OUT1) ----

text one "$OUT1" >"$FILE"
CALLROUTE_ADMIN_TOKEN=$TOKEN "$CR" serve "$FILE" --sip "udp:127.0.0.1:$SIP" >"$W/serve.log" 2>&1 &
SERVE=$!
BG="$BG $SERVE"
if ! wait_for "$W/serve.log" 15 'listening for SIP'; then
    echo "FAIL revisions:setup"
    sed 's/^/    /' "$W/serve.log"
    exit 1
fi

# ---- cases ----

case_scenario() { # GET /scenario: revision 1, its source, SHA-256 and ETag; kept on disk
    EVIDENCE="$W/s1.json $W/s1.json.headers $W/serve.log"
    sha=$(sha256sum "$FILE" | cut -d' ' -f1)
    http GET /scenario s1 &&
        expect "GET /scenario: $CODE" [ "$CODE" = 200 ] &&
        expect "not revision 1 of $FILE with its source and SHA-256" json s1 \
            "d['revision'] == 1 and d['sha256'] == '$sha' and d['path'] == '$FILE' and d['format'] == 'yaml' and d['source'] == open('$FILE').read() and d['loaded_at'].endswith('Z')" &&
        expect "no ETag \"1\"" grep -q '^ETag: "1"' "$W/s1.json.headers" &&
        expect "revision 1 not in $REVDIR" [ "$(kept_files)" = 1 ] &&
        expect "$REVDIR is not only its owner's" [ "$(stat -c %a "$REVDIR")" = 700 ] &&
        expect "a kept source others may read" [ "$(stat -c %a "$REVDIR"/*)" = 600 ] &&
        expect "the kept source differs from the file" cmp -s "$REVDIR"/* "$FILE"
}

case_pinned() { # a call on revision 1 ends on revision 1 after PUT; a new call runs 2
    EVIDENCE="$W/a.json $W/b.json $W/put.json $W/revs.json $W/revs2.json $W/serve.log $W/a.out $W/b.out"
    rev=$(current)
    caller a hold "$UAC" 5000
    a=$LAST
    poll 200 sent a || { WHY="caller a sent nothing"; return 1; }
    ida=$(call_id a)
    poll 200 live_on "$ida" "$rev" || { WHY="call a not live on revision $rev"; return 1; }
    http GET "/calls/$ida" a0
    expect "call a is already past its wait (the PUT would come too late)" json a0 \
        "not any(r.get('message', '').startswith('after the wait') for r in d['trace'])" || return 1
    text two "$OUT2" >"$W/two.yaml"
    http PUT /scenario put "$W/two.yaml" "\"$rev\""
    expect "PUT /scenario: $CODE" [ "$CODE" = 200 ] &&
        expect "PUT did not answer revision $((rev + 1))" json put "d['revision'] == $((rev + 1))" &&
        expect "PUT did not send ETag \"$((rev + 1))\"" grep -q "^ETag: \"$((rev + 1))\"" "$W/put.json.headers" &&
        expect "the file is not the PUT text" cmp -s "$W/two.yaml" "$FILE" || return 1
    caller b hold "$UAC2" 4000
    b=$LAST
    poll 200 sent b || { WHY="caller b sent nothing"; return 1; }
    idb=$(call_id b)
    poll 200 live_on "$idb" "$((rev + 1))" || { WHY="call b not live on revision $((rev + 1))"; return 1; }
    expect "GET /calls: call a no longer on revision $rev" live_on "$ida" "$rev" || return 1
    http GET /revisions revs
    expect "GET /revisions: not one live call on each, $((rev + 1)) current" json revs \
        "{r['revision']: (r['live_calls'], r['current'], r['loaded']) for r in d if r['revision'] >= $rev} == {$rev: (1, False, True), $((rev + 1)): (1, True, True)}" || return 1
    reap $a || { WHY="caller a failed"; return 1; }
    reap $b || { WHY="caller b failed"; return 1; }
    http GET "/calls/$ida" a
    http GET "/calls/$idb" b
    expect "call a's trace: not revision $rev's lines, before and after the PUT" json a \
        "d['revision'] == $rev and [r['message'] for r in d['trace'] if r['kind'] == 'log'] == ['start on one', 'after the wait on one']" &&
        expect "call b's trace: not revision $((rev + 1))'s lines" json b \
        "d['revision'] == $((rev + 1)) and [r['message'] for r in d['trace'] if r['kind'] == 'log'] == ['start on two', 'after the wait on two']" || return 1
    # revision 1's last call has ended: its program is freed
    poll 100 freed "$rev" || { WHY="revision $rev still loaded after its last call ended"; return 1; }
}

case_pinned_dial() { # a call's dial goes to its own revision's gateway, not the new one's
    EVIDENCE="$W/gw_old.out $W/gw_new.out $W/da.out $W/db.out $W/serve.log"
    rev=$(current)   # `out` is on OUT2 (case pinned's "two")
    gateway gw_old "$OUT2"
    g_old=$LAST
    gateway gw_new "$OUT1"
    g_new=$LAST
    caller da 7001 "$UAC" 500
    a=$LAST
    poll 200 sent da || { WHY="caller da sent nothing"; return 1; }
    ida=$(call_id da)
    poll 200 live_on "$ida" "$rev" || { WHY="call da not live on revision $rev"; return 1; }
    text three "$OUT1" >"$W/three.yaml"
    http PUT /scenario put3 "$W/three.yaml" "\"$rev\""
    expect "PUT /scenario: $CODE" [ "$CODE" = 200 ] || return 1
    caller db 7002 "$UAC2" 500
    b=$LAST
    reap $a || { WHY="caller da failed"; return 1; }
    reap $b || { WHY="caller db failed"; return 1; }
    reap $g_old || { WHY="the old revision's gateway (port $OUT2) got no call"; return 1; }
    reap $g_new || { WHY="the new revision's gateway (port $OUT1) got no call"; return 1; }
    # the caller the gateways saw is the number called (7001: da, 7002: db)
    expect "call da (7001) did not reach the old revision's gateway (port $OUT2)" \
        grep -q "^From:.*sip:7001@" "$W/gw_old.msg" &&
        expect "call db (7002) did not reach the new revision's gateway (port $OUT1)" \
        grep -q "^From:.*sip:7002@" "$W/gw_new.msg"
}

case_if_match() { # PUT: no If-Match 428, a stale one 409 with the current revision, junk 400
    EVIDENCE="$W/m1.json $W/m2.json $W/m3.json"
    rev=$(current)
    cp "$FILE" "$W/same.yaml"
    http PUT /scenario m1 "$W/same.yaml"
    c1=$CODE
    http PUT /scenario m2 "$W/same.yaml" "\"$((rev - 1))\""
    c2=$CODE
    http PUT /scenario m3 "$W/same.yaml" "$rev"
    c3=$CODE
    expect "no If-Match: $c1, not 428" [ "$c1" = 428 ] &&
        expect "428 without the current revision" json m1 "d['revision'] == $rev and 'If-Match' in d['error']" &&
        expect "stale If-Match: $c2, not 409" [ "$c2" = 409 ] &&
        expect "409 without the current revision" json m2 "d['revision'] == $rev and d['error']" &&
        expect "If-Match without quotes: $c3, not 400" [ "$c3" = 400 ] &&
        expect "a refused PUT changed the revision" [ "$(current)" = "$rev" ]
}

case_invalid() { # an invalid text: 422 with its line; nothing changes; calls run on
    EVIDENCE="$W/inv.json $W/inv.yaml $W/c.json $W/serve.log"
    rev=$(current)
    sha=$(sha256sum "$FILE" | cut -d' ' -f1)
    word=$(sed -n 's/.*"start on \(.*\)"/\1/p' "$FILE")
    sed 's/app: answer/app: answr/' "$FILE" >"$W/inv.yaml"
    line=$(grep -n 'app: answr' "$W/inv.yaml" | cut -d: -f1)
    http PUT /scenario inv "$W/inv.yaml" "\"$rev\""
    expect "invalid PUT: $CODE, not 422" [ "$CODE" = 422 ] &&
        expect "422 without the error at line $line" json inv \
            "not d['ok'] and d['revision'] == $rev and [(e['line'], e['col'], e['path']) for e in d['errors']] == [($line, 14, 'routes[0].script[0].app')] and 'answr' in d['errors'][0]['message']" &&
        expect "the file changed" [ "$(sha256sum "$FILE" | cut -d' ' -f1)" = "$sha" ] &&
        expect "the revision changed" [ "$(current)" = "$rev" ] || return 1
    caller c hold "$UAC" 300
    reap $LAST || { WHY="a call after the invalid PUT failed"; return 1; }
    http GET "/calls/$(call_id c)" c
    expect "the call did not run revision $rev ($word)" json c \
        "d['revision'] == $rev and [r['message'] for r in d['trace'] if r['kind'] == 'log'] == ['start on $word']"
}

case_validate() { # POST /scenario/validate: 200 with warnings, 422 with errors; nothing changes
    EVIDENCE="$W/v1.json $W/v2.json"
    rev=$(current)
    sha=$(sha256sum "$FILE" | cut -d' ' -f1)
    before=$(ls "$REVDIR")
    grep -v '^version:' "$FILE" >"$W/nover.yaml"   # valid, with a warning
    http POST /scenario/validate v1 "$W/nover.yaml"
    c1=$CODE
    printf 'version: 1\nroutes:\n  - name: x\n    script:\n      - app: play\n' >"$W/noprompt.yaml"
    http POST /scenario/validate v2 "$W/noprompt.yaml"
    c2=$CODE
    expect "a valid text: $c1, not 200" [ "$c1" = 200 ] &&
        expect "not ok with the version warning" json v1 \
            "d['ok'] and [w['path'] for w in d['warnings']] == ['version'] and d['warnings'][0]['line'] > 0" &&
        expect "an invalid text: $c2, not 422" [ "$c2" = 422 ] &&
        expect "422 without the error at line 5" json v2 \
            "not d['ok'] and d['errors'][0]['line'] == 5 and d['errors'][0]['path'].startswith('routes[0].script[0]') and d['errors'][0]['file'] == '$FILE'" &&
        expect "validate changed the revision" [ "$(current)" = "$rev" ] &&
        expect "validate changed the file" [ "$(sha256sum "$FILE" | cut -d' ' -f1)" = "$sha" ] &&
        expect "validate kept a revision" [ "$(ls "$REVDIR")" = "$before" ]
}

case_restore() { # POST /revisions/1/restore: revision 1's text is the new current one
    EVIDENCE="$W/r.json $W/r1.json $W/after.json"
    rev=$(current)
    http GET /revisions/1 r1
    expect "GET /revisions/1: $CODE" [ "$CODE" = 200 ] || return 1
    http POST /revisions/1/restore r
    expect "restore: $CODE" [ "$CODE" = 200 ] &&
        expect "restore did not answer revision $((rev + 1))" json r "d['revision'] == $((rev + 1)) and d['restored'] == 1" || return 1
    http GET /scenario after
    text one "$OUT1" >"$W/one.yaml"
    /usr/bin/python3 -c "import json; print(json.load(open('$W/r1.json'))['sha256'])" >"$W/r1.sha"
    expect "the current source is not revision 1's" json after \
        "d['revision'] == $((rev + 1)) and d['source'] == open('$W/one.yaml').read() and d['sha256'] == open('$W/r1.sha').read().strip()" &&
        expect "the file is not revision 1's text" cmp -s "$W/one.yaml" "$FILE" &&
        http POST /revisions/999/restore r999 && expect "an unknown revision: $CODE, not 404" [ "$CODE" = 404 ]
}

case_reload() { # POST /reload after editing the file; a broken file is 422 and changes nothing; SIGHUP alike
    EVIDENCE="$W/rl.json $W/rl2.json $W/after.json $W/serve.log"
    rev=$(current)
    text four "$OUT1" >"$FILE"
    http POST /reload rl
    expect "reload: $CODE" [ "$CODE" = 200 ] &&
        expect "reload did not answer revision $((rev + 1))" json rl "d['revision'] == $((rev + 1))" &&
        http GET /scenario after &&
        expect "GET /scenario is not the edited file" json after "'start on four' in d['source']" || return 1
    text four "$OUT1" | sed 's/app: log/app: lgo/' >"$FILE"
    line=$(grep -n 'app: lgo' "$FILE" | head -1 | cut -d: -f1)
    http POST /reload rl2
    expect "reload of a broken file: $CODE, not 422" [ "$CODE" = 422 ] &&
        expect "422 without the first error at line $line" json rl2 \
            "not d['ok'] and d['errors'][0]['line'] == $line and d['revision'] == $((rev + 1))" &&
        expect "a failed reload changed the revision" [ "$(current)" = "$((rev + 1))" ] || return 1
    text four "$OUT1" >"$FILE"
    kill -HUP "$SERVE"
    poll 100 revision_is $((rev + 2)) || { WHY="SIGHUP did not make revision $((rev + 2))"; return 1; }
    expect "no log line for the SIGHUP revision" grep -q "reloaded .*: revision $((rev + 2)) (SIGHUP" "$W/serve.log"
}

case_hand_edit() { # a file edited by hand since its load is not overwritten (409)
    EVIDENCE="$W/he.json"
    rev=$(current)
    echo "# edited by hand" >>"$FILE"
    cp "$FILE" "$W/edited.yaml"
    text five "$OUT1" >"$W/five.yaml"
    http PUT /scenario he "$W/five.yaml" "\"$rev\""
    expect "PUT over a file edited by hand: $CODE, not 409" [ "$CODE" = 409 ] &&
        expect "409 does not say the file changed on disk" json he "'changed on disk' in d['error'] and d['revision'] == $rev" &&
        expect "the hand edit was overwritten" cmp -s "$W/edited.yaml" "$FILE" &&
        http POST /reload hr && expect "reload of the hand edit: $CODE" [ "$CODE" = 200 ]
}

case_kept() { # after 25 more reloads: the newest 20 sources in the directory, listed by GET /revisions
    EVIDENCE="$W/many.json $W/serve.log"
    i=0
    while [ $i -lt 25 ]; do
        http POST /reload many
        [ "$CODE" = 200 ] || { WHY="reload $i: $CODE"; return 1; }
        i=$((i + 1))
    done
    rev=$(current)
    http GET /revisions many
    newest=$(ls "$REVDIR" | sort | tail -1)
    expect "$(kept_files) files in $REVDIR, not 20" [ "$(kept_files)" = 20 ] &&
        expect "the newest file is not revision $rev" sh -c "echo '$newest' | grep -q -- '-r$rev-'" &&
        expect "the newest file is not the current source" cmp -s "$REVDIR/$newest" "$FILE" &&
        expect "GET /revisions: not the newest 20, newest first, all kept" json many \
            "[r['revision'] for r in d] == list(range($rev, $rev - 20, -1)) and all(r['kept'] for r in d) and d[0]['current'] and not any(r['current'] for r in d[1:])"
}

case_token() { # every write needs the token; GET on loopback does not; the token is never logged
    EVIDENCE="$W/t1.json $W/t2.json $W/t3.json $W/t4.json $W/t5.json $W/serve.log"
    rev=$(current)
    cp "$FILE" "$W/same.yaml"
    AUTH=""   # none
    http PUT /scenario t1 "$W/same.yaml" "\"$rev\""
    c1=$CODE
    http POST /scenario/validate t2 "$W/same.yaml"
    c2=$CODE
    http POST /reload t3
    c3=$CODE
    http POST "/revisions/$rev/restore" t4
    c4=$CODE
    http GET /scenario t6
    c6=$CODE
    AUTH=wrong-token-0123456789
    http POST /reload t5
    c5=$CODE
    unset AUTH
    expect "PUT without the token: $c1" [ "$c1" = 401 ] &&
        expect "validate without the token: $c2" [ "$c2" = 401 ] &&
        expect "reload without the token: $c3" [ "$c3" = 401 ] &&
        expect "restore without the token: $c4" [ "$c4" = 401 ] &&
        expect "reload with a wrong token: $c5" [ "$c5" = 401 ] &&
        expect "GET /scenario on loopback without the token: $c6" [ "$c6" = 200 ] &&
        expect "a refused write changed the revision" [ "$(current)" = "$rev" ] &&
        expect "the token is in the log" sh -c "! grep -q '$TOKEN' '$W/serve.log'"
}

case_shutdown() { # SIGTERM: exit 0, no sanitizer report (leaks of revisions, programs)
    EVIDENCE="$W/serve.log"
    kill -TERM "$SERVE"
    reap "$SERVE" || { WHY="serve did not exit 0"; return 1; }
    expect "sanitizer report in the server log" sh -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$W/serve.log'"
}

for c in ${REVISIONS_CASES:-scenario pinned pinned_dial if_match invalid validate restore reload hand_edit kept token shutdown}; do
    run "$c"
done
[ "$FAILS" -eq 0 ]
