#!/bin/sh
# tests/control/suite.sh — the admin API's live control of `callroute serve`
# ($CALLROUTE, the sanitizer build under tests/run.sh): POST /calls places a
# call to a registered sipp phone and runs the named scenario once it
# answers (which dials a second sipp party and bridges); events, variables,
# hangup and transfer steer live calls; GET /events streams every call's
# records as Server-Sent Events, read with Python while sipp calls run, and
# cuts off a client that does not read. Writes carry the token
# (settings.admin.token_env). Everything on 127.0.0.1 with ports picked per
# run. One line per case: "PASS control:NAME" or "FAIL control:NAME".
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
HERE=$ROOT/tests/control
SC=$ROOT/tests/sip/scenarios
SUITE=control
. "$ROOT/tests/sip/lib.sh"
PY=/usr/bin/python3

# shellcheck disable=SC2046
set -- $($PY "$ROOT/tests/sip/ports.py" 7)
SIP=$1 UAC=$2 UAC2=$3 ADMIN=$4 AGENT=$5 UAS=$6 REG=$7 RTP=$8
TOKEN=control-token-0123456789
export CALLROUTE_ADMIN_TOKEN=$TOKEN

# ---- helpers (the shared ones are in tests/sip/lib.sh) ----

# api METHOD PATH NAME [BODY]: with the token; the answer in $W/NAME.json, CODE.
api() {
    b=""
    if [ $# -ge 4 ]; then printf '%s' "$4" >"$W/$3.body"; b="$W/$3.body"; fi
    # shellcheck disable=SC2086
    CODE=$(FETCH_TOKEN=${API_TOKEN-$TOKEN} $PY "$ROOT/tests/admin/fetch.py" "$1" "http://127.0.0.1:$ADMIN$2" \
        "$W/$3.json" $b 2>>"$W/http.err")
}

# json NAME EXPR: EXPR (Python; d is the parsed $W/NAME.json) holds.
json() {
    $PY -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$W/$1.json" 2>>"$W/http.err"
}

# field NAME EXPR: prints EXPR of $W/NAME.json.
field() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$W/$1.json" 2>>"$W/http.err"; }

# traced NAME ID EXPR: GET /calls/ID into NAME until EXPR holds for some
# trace record r (10 s).
traced() {
    i=0
    while [ $i -lt 200 ]; do
        api GET "/calls/$2" "$1"
        [ "$CODE" = 200 ] && json "$1" "any($3 for r in d['trace'])" && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# until_json NAME PATH EXPR: GET PATH into NAME until EXPR holds (10 s).
until_json() {
    i=0
    while [ $i -lt 200 ]; do
        api GET "$2" "$1"
        [ "$CODE" = 200 ] && json "$1" "$3" && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# sipp with our defaults; NAME first (logs go to $W/NAME.*).
sipp_run() {
    name=$1
    shift
    timeout 30 sipp "$@" -i 127.0.0.1 -nostdin -timeout 25 -timeout_error -recv_timeout 15000 \
        -trace_msg -message_file "$W/$name.msg" -trace_err -error_file "$W/$name.err" >"$W/$name.out" 2>&1
}

# A caller in the background: caller NAME PORT SERVICE SCENARIO [sipp args];
# its Call-ID is NAME-$$@control; sets LAST.
caller() {
    name=$1 port=$2 svc=$3 scen=$4
    shift 4
    if [ "$scen" = "-" ]; then set -- -sn uac "$@"; else set -- -sf "$SC/$scen.xml" "$@"; fi
    sipp_run "$name" 127.0.0.1:"$SIP" -p "$port" -s "$svc" -m 1 -cid_str "$name-$$@control" "$@" &
    LAST=$!
    BG="$BG $LAST"
    PEERS="$PEERS $LAST"
}

# A called party in the background on PORT: party NAME PORT SCENARIO; sets LAST.
party() {
    name=$1 port=$2 scen=$3
    shift 3
    if [ "$scen" = "-" ]; then set -- -sn uas "$@"; else set -- -sf "$SC/$scen.xml" "$@"; fi
    sipp_run "$name" -p "$port" -m 1 "$@" &
    LAST=$!
    BG="$BG $LAST"
    PEERS="$PEERS $LAST"
    wait_port "$port"
}

# The live call with id $1 is answered (GET /calls/ID), 10 s.
answered() { until_json "ans-$1" "/calls/$1" "d['live'] and d['answered']"; }

# ---- the server ----

sed -e "s|@RTP@|$RTP-$((RTP + 999))|; s|@ADMIN@|$ADMIN|; s|@UAS@|$UAS|" "$HERE/control.yaml" >"$W/control.yaml"
"$CR" serve "$W/control.yaml" --sip "udp:127.0.0.1:$SIP" >"$W/serve.log" 2>&1 &
SERVE=$!
BG="$BG $SERVE"
if ! wait_for "$W/serve.log" 15 'listening for SIP'; then
    echo "FAIL control:setup"
    sed 's/^/    /' "$W/serve.log"
    exit 1
fi

# ---- cases ----

case_originate() { # POST /calls to registered 101: the scenario runs on answer, dials a second party, bridges
    EVIDENCE="$W/orig.json $W/o1.json $W/party1.out $W/party2.out $W/serve.log $W/http.err"
    sed "s/@FINAL@/200/" "$SC/register.xml" >"$W/register.xml"
    sipp_run reg 127.0.0.1:"$SIP" -p "$REG" -m 1 -sf "$W/register.xml" -key user 101 -key contact_port "$AGENT" \
        -key expires 60 -au 101 -ap secret-101 || { WHY="101 did not register"; return 1; }
    party party1 "$AGENT" -
    p1=$LAST
    party party2 "$UAS" -
    p2=$LAST
    api POST /calls orig '{"to":"101","caller_id":"5550100","scenario":"callback","vars":{"customer":"acme"},"timeout":"20s"}'
    expect "POST /calls: $CODE, not 201" [ "$CODE" = 201 ] || return 1
    id=$(field orig "d['call_id']")
    ORIG_ID=$id
    expect "the second party was not bridged in the scenario ($id)" traced o1 "$id" \
        "r['kind'] == 'event' and r['event'] == 'bridge' and r.get('leg') == 'gw:trunk/+74952222222'" || return 1
    expect "no originate record (to 101, scenario callback, by admin, vars)" json o1 \
        "d['trace'][0] == dict(d['trace'][0], kind='originate', to='101', scenario='callback', by='admin', vars={'customer': 'acme'})" &&
        expect "the party's answer is not a leg event before the scenario" json o1 \
        "[r['kind'] + ':' + r.get('event', r.get('app', '')) for r in d['trace']].index('event:answer') < [r.get('path', '') for r in d['trace']].index('scenarios.callback.script[0]')" &&
        expect "the scenario did not run with the call's variables" json o1 \
        "any(r.get('message') == 'callback for acme to 101 from 5550100 (originate, admin)' for r in d['trace'])" &&
        expect "the summary is not that of an answered originated call" json o1 \
        "d['live'] and d['answered'] and d['bridged'] and d['source'] == 'originate' and d['from'] == '5550100' and d['to'] == '101' and d['scenario'] == 'callback'" &&
        expect "101's INVITE does not present the caller_id" grep -q "^From: *<sip:5550100@" "$W/party1.msg" || return 1

    # an app event runs its handler with its data
    api POST "/calls/$id/events" ev '{"name":"vip","data":{"tier":"gold"}}'
    expect "POST /calls/ID/events: $CODE, not 202" [ "$CODE" = 202 ] &&
        expect "the event's answer does not count one handler" json ev "d == {'call_id': '$id', 'event': 'vip', 'handlers': 1}" &&
        expect "the handler did not run (app_event_data.tier)" traced o2 "$id" "r.get('message') == 'vip tier gold (app)'" &&
        expect "no app event record with its data" json o2 \
        "any(r['kind'] == 'event' and r['event'] == 'app' and r['by'] == 'admin' and r['vars'] == {'app_event': 'vip', 'app_event_data.tier': 'gold'} for r in d['trace'])" || return 1
    # one no handler takes: 202, and the trace says so
    api POST "/calls/$id/events" ev2 '{"name":"nobody"}'
    expect "an unhandled event: $CODE, not 202 with 0 handlers" [ "$CODE" = 202 ] && json ev2 "d['handlers'] == 0" &&
        expect "no trace record that nothing handled it" traced o3 "$id" \
        "r['kind'] == 'log' and r['level'] == 'warning' and \"'nobody': no handler\" in r['message']" || return 1
    # variables from outside, shown in the trace
    api POST "/calls/$id/vars" vars '{"note":"from the test","n":3,"ok":true}'
    expect "POST /calls/ID/vars: $CODE, not 200" [ "$CODE" = 200 ] && json vars "d['set'] == ['note', 'n', 'ok']" &&
        expect "no vars record" traced o4 "$id" \
        "r['kind'] == 'vars' and r['by'] == 'admin' and r['vars'] == {'note': 'from the test', 'n': 3, 'ok': True}" || return 1
    # hangup: both parties get BYE
    api POST "/calls/$id/hangup" hup '{}'
    expect "POST /calls/ID/hangup: $CODE, not 202" [ "$CODE" = 202 ] || return 1
    reap $p1 || { WHY="101 (sipp) did not end well"; return 1; }
    reap $p2 || { WHY="the second party (sipp) did not end well"; return 1; }
    expect "the call did not end by admin" until_json o5 "/calls/$id" \
        "not d['live'] and d['hangup_by'] == 'admin' and any(r['kind'] == 'hangup' and r['by'] == 'admin' for r in d['trace'])" &&
        api POST "/calls/$id/hangup" hup2 '{}' &&
        expect "a hangup of the ended call: $CODE, not 409" [ "$CODE" = 409 ] &&
        api POST "/calls/$id/events" ev3 '{"name":"vip"}' &&
        expect "an event for the ended call: $CODE, not 409" [ "$CODE" = 409 ]
}

case_originate_record() { # the call record of the originated call: source originate, caller_number the caller_id
    EVIDENCE="$W/cdr.json"
    [ -n "${ORIG_ID:-}" ] || { WHY="no originated call (originate failed)"; return 1; }
    expect "no call record for $ORIG_ID" until_json cdr "/cdr?limit=50" \
        "[(x['source'], x['caller_number'], x['called_number'], x['disposition'], x['hangup_by']) for x in d['records'] if x['call_id'] == '$ORIG_ID'] == [('originate', '5550100', '101', 'ANSWERED', 'admin')]" &&
        expect "the legs are not the party (answered until the end) then the second party" json cdr \
        "[[(l['agent_number'], l['dial_status'], l['answer'] < l['end']) for l in x['legs']] for x in d['records'] if x['call_id'] == '$ORIG_ID'] == [[('101', 'answered', True), ('+74952222222', 'answered', True)]]"
}

case_originate_busy() { # a busy party through a gateway: the leg event, the "on" scenario, the call ends busy
    EVIDENCE="$W/ob.json $W/ob1.json $W/busy.out $W/serve.log"
    party busy "$UAS" uas-busy
    p=$LAST
    api POST /calls ob '{"to":"+74951234567","gateway":"trunk","scenario":"callback","on":{"busy":"note_busy"}}'
    expect "POST /calls: $CODE, not 201" [ "$CODE" = 201 ] || return 1
    id=$(field ob "d['call_id']")
    reap $p || { WHY="the busy gateway (sipp) did not end well"; return 1; }
    expect "the call did not end busy" until_json ob1 "/calls/$id" \
        "not d['live'] and not d['answered'] and d['hangup_by'] == 'system' and d['hangup_cause'] == 'busy'" &&
        expect "no busy leg event" json ob1 \
        "any(r['kind'] == 'event' and r['event'] == 'busy' and r.get('leg') == 'gw:trunk/+74951234567' and r['sip_code'] == 486 for r in d['trace'])" &&
        expect "the on: busy scenario did not run" json ob1 "any(r.get('message') == 'busy: busy 486 (busy)' for r in d['trace'])" &&
        expect "the named scenario ran though nobody answered" json ob1 \
        "not any(r.get('path', '').startswith('scenarios.callback') for r in d['trace'])"
}

case_originate_cancel() { # an originated call hung up while its party rings: CANCEL, originate_status cancelled
    EVIDENCE="$W/oc.json $W/oc1.json $W/ringing.out $W/serve.log"
    party ringing "$UAS" uas-noanswer
    p=$LAST
    api POST /calls oc '{"to":"+74953333333","gateway":"trunk","scenario":"callback","timeout":60}'
    expect "POST /calls: $CODE, not 201" [ "$CODE" = 201 ] || return 1
    id=$(field oc "d['call_id']")
    expect "the party does not ring" traced oc0 "$id" "r['kind'] == 'event' and r['event'] == 'ringing'" || return 1
    api POST "/calls/$id/transfer" oct '{"to":"200"}'
    expect "a transfer before the answer: $CODE, not 409" [ "$CODE" = 409 ] || return 1
    api POST "/calls/$id/hangup" och '{}'
    expect "POST /calls/ID/hangup: $CODE, not 202" [ "$CODE" = 202 ] || return 1
    reap $p || { WHY="the ringing party (sipp) got no CANCEL"; return 1; }
    expect "the call did not end by admin, unanswered" until_json oc1 "/calls/$id" \
        "not d['live'] and not d['answered'] and d['hangup_by'] == 'admin'" &&
        expect "the scenario ran though nobody answered" json oc1 \
        "not any(r.get('path', '').startswith('scenarios.callback') for r in d['trace'])"
}

case_transfer() { # a caller transferred by the admin API: REFER to it, the call ends by transfer
    EVIDENCE="$W/xfer.out $W/tr.json $W/t1.json $W/serve.log"
    caller xfer "$UAC" 555 uac-refer
    p=$LAST
    id="xfer-$$@control"
    answered "$id" || { WHY="the call was not answered"; return 1; }
    api POST "/calls/$id/transfer" tr '{"to":"200"}'
    expect "POST /calls/ID/transfer: $CODE, not 202" [ "$CODE" = 202 ] || return 1
    reap $p || { WHY="the caller (sipp) did not get REFER then BYE"; return 1; }
    expect "no transfer in the trace" until_json t1 "/calls/$id" \
        "not d['live'] and d['hangup_by'] == 'transfer' and any(r['kind'] == 'event' and r['event'] == 'transfer' and r['by'] == 'admin' for r in d['trace'])" &&
        expect "the transfer handler did not see transfer_by admin" json t1 \
        "any(r.get('message') == 'transfer: 200 by admin; transfer' for r in d['trace'])" &&
        api POST "/calls/$id/transfer" tr2 '{"to":"200"}' &&
        expect "a transfer of the ended call: $CODE, not 409" [ "$CODE" = 409 ]
}

case_hangup() { # a caller hung up by the admin API with a cause: BYE, hangup_by admin
    EVIDENCE="$W/hup.out $W/h1.json $W/serve.log"
    caller hup "$UAC" 555 uac-wait-bye
    p=$LAST
    id="hup-$$@control"
    answered "$id" || { WHY="the call was not answered"; return 1; }
    api POST "/calls/$id/vars" hv '{"call_id":"forged"}'
    expect "a reserved variable: $CODE, not 400" [ "$CODE" = 400 ] && json hv "d['name'] == 'call_id'" || return 1
    api POST "/calls/$id/hangup" h '{"cause":"busy"}'
    expect "POST /calls/ID/hangup: $CODE, not 202" [ "$CODE" = 202 ] || return 1
    reap $p || { WHY="the caller (sipp) did not get BYE"; return 1; }
    expect "the call did not end by admin, cause busy" until_json h1 "/calls/$id" \
        "not d['live'] and d['hangup_by'] == 'admin' and d['hangup_cause'] == 'busy' and d['call_id'] == '$id'" &&
        expect "the hangup handler did not run" json h1 "any(r.get('message') == 'hangup:  by ; admin' for r in d['trace'])"
}

case_bad_requests() { # 400 for bodies a path does not take, 422 for names that resolve to nothing, 404 unknown call
    EVIDENCE="$W/b1.json $W/b2.json $W/b3.json $W/b4.json $W/b5.json $W/b6.json $W/b7.json $W/b8.json $W/b9.json $W/b10.json $W/b11.json"
    api POST /calls b1 'not json'; c1=$CODE
    api POST /calls b2 '{"to":"101"}'; c2=$CODE
    api POST /calls b3 '{"to":"101","scenario":"callback","colour":"red"}'; c3=$CODE
    api POST /calls b4 '{"to":"101","scenario":"nope"}'; c4=$CODE
    api POST /calls b5 '{"to":"+74951","gateway":"nope","scenario":"callback"}'; c5=$CODE
    api POST /calls b6 '{"to":"101","scenario":"callback","vars":{"caller_number":"x"}}'; c6=$CODE
    api POST /calls b7 '{"to":"101","scenario":"callback","vars":{"x":{"y":1}}}'; c7=$CODE
    api POST /calls b8 '{"to":"101","scenario":"callback","timeout":"forever"}'; c8=$CODE
    api POST /calls b9 '{"to":"10\r\n1","scenario":"callback"}'; c9=$CODE
    api POST /calls/no-such-call/events b10 '{"name":"vip"}'; c10=$CODE
    api POST /calls/no-such-call/hangup b11; c11=$CODE
    expect "not JSON: $c1" [ "$c1" = 400 ] &&
        expect "no scenario: $c2" [ "$c2" = 400 ] && json b2 "d['field'] == 'scenario'" &&
        expect "an unknown field: $c3" [ "$c3" = 400 ] && json b3 "d['field'] == 'colour'" &&
        expect "an unknown scenario: $c4" [ "$c4" = 422 ] && json b4 "d['name'] == 'nope'" &&
        expect "an unknown gateway: $c5" [ "$c5" = 422 ] && json b5 "d['field'] == 'gateway'" &&
        expect "a reserved variable: $c6" [ "$c6" = 400 ] && json b6 "d['name'] == 'caller_number'" &&
        expect "an object as a value: $c7" [ "$c7" = 400 ] &&
        expect "a bad timeout: $c8" [ "$c8" = 400 ] && json b8 "d['field'] == 'timeout'" &&
        expect "a CR/LF in to: $c9" [ "$c9" = 400 ] &&
        expect "an event for an unknown call: $c10" [ "$c10" = 404 ] && json b10 "d['call_id'] == 'no-such-call'" &&
        expect "a hangup of an unknown call: $c11" [ "$c11" = 404 ]
}

case_token() { # every write needs the token; reads on loopback do not
    EVIDENCE="$W/k1.json $W/k2.json $W/k3.json"
    API_TOKEN="" api POST /calls k1 '{"to":"101","scenario":"callback"}'; c1=$CODE
    API_TOKEN=wrong-token-0123456789 api POST /calls k2 '{"to":"101","scenario":"callback"}'; c2=$CODE
    API_TOKEN="" api POST /calls/x/hangup k3; c3=$CODE
    API_TOKEN="" api GET /calls k4; c4=$CODE
    expect "POST /calls without the token: $c1, not 401" [ "$c1" = 401 ] &&
        expect "POST /calls with a wrong token: $c2, not 401" [ "$c2" = 401 ] &&
        expect "POST /calls/ID/hangup without the token: $c3, not 401" [ "$c3" = 401 ] &&
        expect "GET /calls without the token: $c4, not 200" [ "$c4" = 200 ] &&
        expect "the token is in the log" sh -c "! grep -q '$TOKEN' '$W/serve.log'"
}

case_events() { # GET /events: call_start, the records, call_end of sipp calls; ?call= keeps one
    EVIDENCE="$W/all.out $W/all.jsonl $W/one.out $W/one.jsonl $W/eva.out $W/evb.out"
    a="eva-$$@control" b="evb-$$@control"
    $PY "$HERE/sse.py" "http://127.0.0.1:$ADMIN/events" "$W/all.jsonl" 20 "$a,$b" >"$W/all.out" 2>&1 &
    s1=$!
    BG="$BG $s1"
    $PY "$HERE/sse.py" "http://127.0.0.1:$ADMIN/events?call=$a" "$W/one.jsonl" 20 "$a" >"$W/one.out" 2>&1 &
    s2=$!
    BG="$BG $s2"
    wait_for "$W/all.out" 10 OPEN && wait_for "$W/one.out" 10 OPEN || { WHY="a stream did not open"; return 1; }
    caller eva "$UAC" 555 - -d 500
    c1=$LAST
    caller evb "$UAC2" 556 - -d 500
    c2=$LAST
    reap $c1 && reap $c2 || { WHY="a sipp call failed"; return 1; }
    reap $s1 && reap $s2 || { WHY="a stream reader failed"; return 1; }
    grep -q DONE "$W/all.out" && grep -q DONE "$W/one.out" || { WHY="a reader did not finish"; return 1; }
    $PY - "$W/all.jsonl" "$W/one.jsonl" "$a" "$b" <<'PY' >"$W/events.why" 2>&1 || { WHY=$(cat "$W/events.why"); return 1; }
import json, sys
every = [json.loads(l) for l in open(sys.argv[1])]
one = [json.loads(l) for l in open(sys.argv[2])]
a, b = sys.argv[3], sys.argv[4]
for cid, to in ((a, "555"), (b, "556")):
    evs = [e for e in every if e.get("call") == cid]
    assert evs, f"nothing about {cid}"
    first, last = evs[0], evs[-1]
    assert first["kind"] == "call_start" and first["route"] == "steer" and first["revision"] == 1 \
        and first["to"] == to and first["source"] == "any", f"first of {cid}: {first}"
    assert last["kind"] == "call_end" and last["hangup_by"] == "caller" and last["answered"], f"last of {cid}: {last}"
    assert evs[1]["kind"] == "route" and evs[1]["route"] == "steer", f"no route record: {evs[1]}"
    apps = [(e["app"], e["phase"]) for e in evs if e["kind"] == "app"]
    assert ("answer", "start") in apps and ("wait", "end") in apps, f"no action records: {apps}"
    assert any(e["kind"] == "hangup" and e["by"] == "caller" for e in evs), "no hangup record"
assert one and all(e.get("call") == a for e in one), f"?call= let through: {[e.get('call') for e in one]}"
assert one[0]["kind"] == "call_start" and one[-1]["kind"] == "call_end", "?call= stream lacks start or end"
assert [e for e in every if e.get("call") == a] == one, "?call= stream differs from the full one"
PY
}

case_slow_client() { # a client that does not read is cut off; a reading one gets everything; the call goes on
    EVIDENCE="$W/slow.out $W/slow.state $W/fast.out $W/chatty.out $W/hs.json $W/serve.log"
    cid="chatty-$$@control"
    $PY "$HERE/slow.py" "$ADMIN" "$W/slow.state" 30 >"$W/slow.out" 2>&1 &
    s1=$!
    BG="$BG $s1"
    $PY "$HERE/sse.py" "http://127.0.0.1:$ADMIN/events" "$W/fast.jsonl" 25 "$cid" >"$W/fast.out" 2>&1 &
    s2=$!
    BG="$BG $s2"
    wait_for "$W/slow.out" 10 OPEN && wait_for "$W/fast.out" 10 OPEN || { WHY="a stream did not open"; return 1; }
    caller chatty "$UAC" chatty - -d 8000
    c=$LAST
    reap $c || { WHY="the chatty call failed"; return 1; }
    expect "the client that does not read was not cut off" until_json hs /health \
        "d['event_streams_cut'] >= 1" || return 1
    touch "$W/slow.state.go"
    reap $s1 && reap $s2 || { WHY="a stream client failed"; return 1; }
    expect "the slow client's stream is still open" grep -q "^closed " "$W/slow.state" &&
        expect "the reading client missed records" $PY -c "
import json, sys
evs = [json.loads(l) for l in open('$W/fast.jsonl')]
mine = [e for e in evs if e.get('call') == '$cid']
logs = [e for e in mine if e['kind'] == 'log' and e['message'].endswith('0123456789')]
sys.exit(0 if len(logs) == 1000 and mine[-1]['kind'] == 'call_end' else 1)" &&
        expect "the chatty call's loop was held up" $PY -c "
import json, sys
evs = [json.loads(l) for l in open('$W/fast.jsonl')]
done = [e for e in evs if e.get('call') == '$cid' and e.get('message') == 'chatty done']
sys.exit(0 if done and done[0]['t'] < 7.5 else 1)" &&
        expect "streams still open after both clients left" until_json hs2 /health "d['event_streams'] == 0"
}

case_shutdown() { # SIGTERM: no new calls placed (503), the live one steered to its end; exit 0, no sanitizer report
    EVIDENCE="$W/serve.log $W/d1.json $W/d2.json $W/last.out"
    caller last "$UAC" 555 - -d 2000
    p=$LAST
    id="last-$$@control"
    answered "$id" || { WHY="the last call was not answered"; return 1; }
    kill -TERM "$SERVE"
    wait_for "$W/serve.log" 5 'refusing new calls' || { WHY="no drain after SIGTERM"; return 1; }
    api POST /calls d1 '{"to":"101","scenario":"callback"}'
    expect "POST /calls while stopping: $CODE, not 503" [ "$CODE" = 503 ] || return 1
    api POST "/calls/$id/events" d2 '{"name":"last"}'
    expect "an event for the draining call: $CODE, not 202" [ "$CODE" = 202 ] || return 1
    reap $p || { WHY="the last call (sipp) failed"; return 1; }
    reap "$SERVE" || { WHY="serve did not exit 0"; return 1; }
    expect "sanitizer report in the server log" sh -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$W/serve.log'"
}

for c in ${CONTROL_CASES:-originate originate_record originate_busy originate_cancel transfer hangup bad_requests token events slow_client shutdown}; do
    run "$c"
done
[ "$FAILS" -eq 0 ]
