#!/bin/sh
# tests/records/suite.sh — call detail records and Search in history (issue
# 12), with real peers: sipp callers and gateways into `callroute serve`,
# the records in SQLite and in PostgreSQL (tests/services/pg.sh), read back
# with `callroute cdr`. Calls of each disposition give the right records;
# PostgreSQL stopped during 100 calls loses none and duplicates none; kill -9
# during a run loses no ended call's record; `history` sends a returning
# caller to the agent who answered them last.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
HERE=$ROOT/tests/records
SC=$ROOT/tests/sip/scenarios
S=$ROOT/tests/services
SUITE=records
. "$ROOT/tests/sip/lib.sh"
chmod 755 "$W"   # PostgreSQL runs as postgres in $W/pg
PG_UP=

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 8)
SIP=$1 UAC=$2 GW_ANS=$3 GW_BUSY=$4 GW_NOANS=$5 AGENT_A=$6 AGENT_B=$7 UAC2=$8 RTP=$9

pg_stop() { sh "$S/pg.sh" stop "$W/pg" fast; PG_UP=; }
pg_start() { sh "$S/pg.sh" start "$W/pg" "${PG_PORT:-}" >"$W/pg.port" 2>>"$W/pg.err" && PG_UP=1; }
cleanup_pg() { [ -n "$PG_UP" ] && sh "$S/pg.sh" stop "$W/pg" immediate; }
trap 'cleanup_pg; cleanup' EXIT
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

# serve NAME STORE: serve $HERE/records.yaml with its records in STORE (a
# database URL) and its files in $W/NAME; SERVE is its pid.
serve() {
    mkdir -p "$W/$1"
    sed -e "s|@RTP@|$RTP-$((RTP + 999))|; s|@STORE@|$2|; s|@DIR@|$W/$1|" \
        -e "s|@UAC@|$UAC|; s|@UAC2@|$UAC2|; s|@GW_ANS@|$GW_ANS|; s|@GW_BUSY@|$GW_BUSY|; s|@GW_NOANS@|$GW_NOANS|" \
        -e "s|@AGENT_A@|$AGENT_A|; s|@AGENT_B@|$AGENT_B|" "$HERE/records.yaml" >"$W/$1/records.yaml"
    "$CR" serve "$W/$1/records.yaml" --sip "udp:127.0.0.1:$SIP" --admin off >>"$W/$1.log" 2>&1 &
    SERVE=$!
    BG="$BG $SERVE"
    PEERS="$PEERS $SERVE"   # a case that fails half-way does not leave it on the port
    wait_for "$W/$1.log" 15 'listening for SIP'
}
serve_stop() { kill -TERM "$SERVE"; reap "$SERVE"; }
spool_left() { # spool_left NAME: records still in NAME's spool
    /usr/bin/python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from spool").fetchone()[0])' \
        "$W/$1/cdr-spool.db" 2>/dev/null
}
spool_empty() { [ "$(spool_left "$1")" = 0 ]; }
# records NAME: every record of NAME's store as JSON lines in $W/NAME.cdr
records() { "$CR" cdr "$W/$1/records.yaml" --since 1h --limit 100000 --json >"$W/$1.cdr" 2>>"$W/$1.cdr.err"; }
# calls NAME TO COUNT RATE HOLD_MS [PORT]: sipp calls in the background; LAST is its pid.
calls() {
    timeout 90 sipp 127.0.0.1:"$SIP" -sn uac -s "$2" -m "$3" -r "$4" -d "$5" -i 127.0.0.1 -p "${6:-$UAC}" \
        -nostdin -timeout 80 -cid_str "%u-$1@records" -trace_msg -message_file "$W/$1.msg" \
        >"$W/$1.out" 2>&1 &
    LAST=$!
    BG="$BG $LAST"
}
gateway() { # gateway NAME PORT SCENARIO COUNT: a sipp gateway in the background; LAST is its pid
    if [ "$3" = "-" ]; then set -- "$1" "$2" -sn uas "$4"; else set -- "$1" "$2" -sf "$SC/$3.xml" "$4"; fi
    name=$1 port=$2
    shift 2
    count=$3
    timeout 90 sipp -i 127.0.0.1 -p "$port" "$1" "$2" -m "$count" -nostdin -timeout 80 \
        -trace_msg -message_file "$W/$name.msg" >"$W/$name.out" 2>&1 &
    LAST=$!
    BG="$BG $LAST"
    PEERS="$PEERS $LAST"
    wait_port "$port"
}
check() { # check NAME PYTHON: PYTHON holds for the records (a list `r` of dicts)
    /usr/bin/python3 - "$W/$1.cdr" "$2" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ok = eval(sys.argv[2])
if not ok:
    for x in r[:20]:
        print({k: x[k] for k in ("call_id", "called_number", "disposition", "billsec", "hangup_by", "hangup_cause", "sip_code", "vars")})
sys.exit(0 if ok else 1)
PY
}

case_dispositions() { # 3 calls of each: answered, busy, no answer, cancelled, failed
    EVIDENCE="$W/disp.log $W/disp.check $W/disp.cdr.err"
    serve disp "sqlite:$W/disp/cdr.db" || { WHY="serve did not start"; return 1; }
    gateway gw_ans "$GW_ANS" - 3
    gateway gw_busy "$GW_BUSY" uas-busy 3
    gateway gw_noans "$GW_NOANS" uas-noanswer 3
    for kind in ans busy noans fail; do
        calls "d$kind" "$kind" 3 10 1000
        reap "$LAST"
    done
    timeout 60 sipp 127.0.0.1:"$SIP" -sf "$SC/uac-cancel.xml" -s cancel -m 3 -i 127.0.0.1 -p "$UAC" -nostdin \
        -timeout 50 -cid_str "%u-dcancel@records" >"$W/dcancel.out" 2>&1
    until_true 20 spool_empty disp
    records disp || { WHY="callroute cdr failed"; return 1; }
    check disp "len(r) == 15" >"$W/disp.check" || { WHY="not 15 records: $(wc -l <"$W/disp.cdr")"; return 1; }
    for pair in "ans:ANSWERED" "busy:BUSY" "noans:NO ANSWER" "cancel:CANCELLED" "fail:FAILED"; do
        n=${pair%%:*} d=${pair#*:}
        check disp "sorted(x['disposition'] for x in r if x['called_number'] == '$n') == ['$d'] * 3" \
            >"$W/disp.check" || { WHY="calls to $n are not 3 x $d"; return 1; }
    done
    expect "answered calls: billsec is not the 1 s the caller held, or legs/vars/agent are wrong" check disp \
        "all(0.8 < x['billsec'] < 3 and x['duration'] >= x['billsec'] and x['vars'] == {'account': 'acme-42'} and x['agent_number'] == '5551000' and x['legs'][-1]['dial_status'] == 'answered' and x['legs'][-1]['gateway'] == 'gw_ans' and x['answer'] for x in r if x['called_number'] == 'ans')" &&
        expect "unanswered calls: billsec, answer or their legs are wrong" check disp \
            "all(x['billsec'] == 0 and x['answer'] is None for x in r if x['called_number'] != 'ans') and all(x['legs'][-1]['dial_status'] == {'busy': 'busy', 'noans': 'no_answer'}[x['called_number']] and x['legs'][-1]['sip_code'] == {'busy': 486, 'noans': 408}[x['called_number']] for x in r if x['called_number'] in ('busy', 'noans'))" &&
        expect "the CSV has no header or not 15 lines" sh -c "'$CR' cdr '$W/disp/records.yaml' --csv | awk 'NR == 1 && /^id,node,call_id/ {h = 1} END {exit !(h && NR == 16)}'" &&
        expect "--since in the future still lists records" sh -c "out=\$('$CR' cdr '$W/disp/records.yaml' --since 2099-01-01 --json) && [ -z \"\$out\" ]" &&
        serve_stop && expect "sanitizer report" sanitizer_clean "$W/disp.log"
}

case_pg_outage() { # PostgreSQL stopped during 100 calls: 100 records, none twice
    EVIDENCE="$W/pg.log $W/pg.check $W/pgcalls.out $W/pg.err"
    pg_start || { WHY="PostgreSQL did not start"; return 1; }
    PG_PORT=$(cat "$W/pg.port")
    url=$(sh "$S/pg.sh" url "$W/pg")
    serve pg "$url" || { WHY="serve did not start"; return 1; }
    calls pgcalls ivr 100 20 200
    sipp=$LAST
    sleep 1.5
    pg_stop
    sleep 2.5
    pg_start || { WHY="PostgreSQL did not start again"; return 1; }
    reap "$sipp" || { WHY="sipp: not every call succeeded"; return 1; }
    until_true 60 spool_empty pg || { WHY="$(spool_left pg) records still in the spool"; return 1; }
    rows=$(psql -qtAX "$url" -c "SELECT count(*), count(DISTINCT id), count(DISTINCT call_id) FROM cdr WHERE called_number = 'ivr'")
    failed=$(grep -c 'call records: the store .* refused\|could not create' "$W/pg.log")
    records pg
    WHY="rows, distinct ids, distinct calls: $rows (want 100|100|100); store failures logged: $failed"
    [ "$rows" = "100|100|100" ] && [ "$failed" -ge 1 ] &&
        expect "callroute cdr does not read them from PostgreSQL" check pg "len([x for x in r if x['called_number'] == 'ivr']) == 100" &&
        serve_stop && expect "sanitizer report" sanitizer_clean "$W/pg.log"
}

# The Call-IDs of the calls sipp finished (its BYE was answered 200).
ended_calls() {
    /usr/bin/python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
ended = set()
for block in re.split(r"\n-{5,}[^\n]*\n", text):
    m = re.search(r"^SIP/2.0 200 OK.*?^CSeq:\s*\d+\s+BYE", block, re.M | re.S)
    c = re.search(r"^Call-ID:\s*(\S+)", block, re.M | re.I)
    if m and c:
        ended.add(c.group(1))
print("\n".join(sorted(ended)))
PY
}

case_kill9() { # killed (-9) in the middle of calls: every call that ended has its record
    EVIDENCE="$W/k1.log $W/k2.log $W/kill.check"
    serve k1 "sqlite:$W/k1/cdr.db" || { WHY="serve did not start"; return 1; }
    calls kcalls ivr 80 20 1000
    sipp=$LAST
    wait_for "$W/k1.log" 20 '40-kcalls@records' || true
    kill -KILL "$SERVE"
    reap "$SERVE" 2>/dev/null
    reap "$sipp" 2>/dev/null
    ended_calls "$W/kcalls.msg" >"$W/kill.ended"
    n=$(wc -l <"$W/kill.ended")
    [ "$n" -ge 10 ] || { WHY="only $n calls ended before the kill"; return 1; }
    mv "$W/k1.log" "$W/k1.before.log"
    cp -a "$W/k1" "$W/k1.before"
    SERVE=""
    "$CR" serve "$W/k1/records.yaml" --sip "udp:127.0.0.1:$SIP" --admin off >"$W/k2.log" 2>&1 &
    SERVE=$!
    BG="$BG $SERVE"
    PEERS="$PEERS $SERVE"
    wait_for "$W/k2.log" 15 'listening for SIP' || { WHY="serve did not start again"; return 1; }
    until_true 20 spool_empty k1 || { WHY="$(spool_left k1) records still in the spool"; return 1; }
    records k1
    /usr/bin/python3 - "$W/k1.cdr" "$W/kill.ended" >"$W/kill.check" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ended = [l.strip() for l in open(sys.argv[2]) if l.strip()]
ids = {x["call_id"] for x in r}
missing = [c for c in ended if c not in ids]
dup = len(r) - len({x["id"] for x in r})
restarted = sum(1 for x in r if x["hangup_cause"] == "restart")
print(f"{len(ended)} ended, {len(r)} records, {len(missing)} missing, {dup} duplicated, {restarted} ended by the restart")
print("missing:", missing[:5])
sys.exit(0 if not missing and not dup and restarted >= 1 else 1)
PY
    rc=$?
    WHY=$(head -1 "$W/kill.check")
    [ $rc = 0 ] && expect "no restart line in the log" grep -q "were still up when callroute last stopped" "$W/k2.log" &&
        serve_stop && expect "sanitizer report" sanitizer_clean "$W/k2.log"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

case_idle() { # with the records shipped, an idle server does no work (no spool polling)
    EVIDENCE="$W/idle.log"
    serve idle "sqlite:$W/idle/cdr.db" || { WHY="serve did not start"; return 1; }
    calls icalls ivr 3 10 200
    reap "$LAST" || { WHY="the calls failed"; return 1; }
    until_true 20 spool_empty idle || { WHY="records still in the spool"; return 1; }
    t0=$(cpu_ticks "$SERVE")
    sleep 2   # idleness is the thing measured: nothing happens to wait for
    t1=$(cpu_ticks "$SERVE")
    # 2 s of wall time is 200 ticks; a loop polling the spool burnt ~170.
    expect "idle for 2 s, the server used $((t1 - t0)) ticks of CPU" [ $((t1 - t0)) -lt 40 ] &&
        serve_stop && expect "sanitizer report" sanitizer_clean "$W/idle.log"
}

case_history() { # a returning caller is put through to the agent who answered them last
    EVIDENCE="$W/hist.log $W/agent_a.out $W/agent_b.out $W/h1.out $W/h2.out"
    serve hist "sqlite:$W/hist/cdr.db" || { WHY="serve did not start"; return 1; }
    # First call: nobody has history, both agents ring, only B answers.
    gateway agent_a "$AGENT_A" uas-noanswer 1
    a=$LAST
    gateway agent_b "$AGENT_B" - 2
    b=$LAST
    calls h1 hist 1 1 500 "$UAC2"
    reap "$LAST" || { WHY="the first call failed"; return 1; }
    reap "$a"
    until_true 20 spool_empty hist
    # Second call from the same number: history says B; only B is dialled.
    calls h2 hist 1 1 500 "$UAC2"
    reap "$LAST" || { WHY="the second call failed"; return 1; }
    reap "$b" || { WHY="agent B did not get both calls"; return 1; }
    expect "the second call was not routed by history to agent B" \
        grep -qE "h2@records: .*history_last_agent.*sip:b@127.0.0.1:$AGENT_B|h2@records: .*returning caller, agent sip:b@127.0.0.1:$AGENT_B" "$W/hist.log" &&
        expect "agent A was rung again" sh -c "[ \$(grep -c '^INVITE' '$W/agent_a.msg') = 1 ]" &&
        serve_stop && expect "sanitizer report" sanitizer_clean "$W/hist.log"
}

for c in ${RECORDS_CASES:-dispositions pg_outage kill9 idle history}; do
    run "$c"
done
[ "$FAILS" -eq 0 ]
