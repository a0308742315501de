#!/bin/sh
# tests/metrics/suite.sh — GET /metrics (issue 12) of a real `callroute
# serve`: sipp callers and gateways make a known number of calls of known
# outcomes on several routes and through gateways (answered, busy, no
# answer, cancelled, an action that fails, RTP from a pcap, a max_calls
# overflow, a registration), then each scrape is parsed by
# prometheus_client's parser (tests/metrics/check.py: it must parse, every
# family typed and documented, histograms consistent) and its numbers must
# be the calls made. Then a reload moves the revision, and a server with
# call records off still counts its calls.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
HERE=$ROOT/tests/metrics
SC=$ROOT/tests/sip/scenarios
SUITE=metrics
. "$ROOT/tests/sip/lib.sh"

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 11)
SIP=$1 UAC=$2 UAC2=$3 GW_ANS=$4 GW_BUSY=$5 GW_NOANS=$6 ADMIN=$7 CLOSED=$8 REG=$9
shift 9
SIP2=$1 ADMIN2=$2 RTP=$3
# callroute takes RTP..RTP+799 of the free range; each sipp's media port is
# above that (sipps at once cannot share sipp's default 6000): mport N.
mport() { echo $((RTP + 800 + 20 * $1)); }
PCAP=/usr/share/sip-tester/g711a.pcap

# ---- helpers (the shared ones are in tests/sip/lib.sh) ----

# serve NAME STORE ADMIN_PORT SIP_PORT: serves metrics.yaml with call records
# in STORE ("off": none); SERVE is its pid.
serve() {
    mkdir -p "$W/$1"
    sed -e "s|@RTP@|$RTP-$((RTP + 799))|; s|@STORE@|$2|; s|@DIR@|$W/$1|; s|@ADMIN@|$3|" \
        -e "s|@UAC@|$UAC|; s|@UAC2@|$UAC2|; s|@GW_ANS@|$GW_ANS|; s|@GW_BUSY@|$GW_BUSY|; s|@GW_NOANS@|$GW_NOANS|" \
        -e "s|@CLOSED@|$CLOSED|" "$HERE/metrics.yaml" >"$W/$1/metrics.yaml"
    "$CR" serve "$W/$1/metrics.yaml" --sip "udp:127.0.0.1:$4" >>"$W/$1.log" 2>&1 &
    SERVE=$!
    BG="$BG $SERVE"
    wait_for "$W/$1.log" 15 'listening for SIP'
}

# scrape NAME [METHOD]: GET /metrics of the server on port $PORT into
# $W/NAME.txt (headers in $W/NAME.txt.headers); CODE is the HTTP status.
PORT=$ADMIN
scrape() {
    CODE=$(/usr/bin/python3 "$ROOT/tests/admin/fetch.py" "${2:-GET}" "http://127.0.0.1:$PORT/metrics" \
        "$W/$1.txt" 2>>"$W/http.err")
}

# holds NAME EXPR: the scrape NAME parses and EXPR holds (tests/metrics/check.py).
holds() { /usr/bin/python3 "$HERE/check.py" "$W/$1.txt" "${2:-True}" >"$W/$1.check" 2>&1; }

# poll NAME EXPR [SECONDS]: scrapes until EXPR holds (calls end, records
# ship after the callers are gone).
poll() {
    n=$((${3:-15} * 10))
    while [ "$n" -gt 0 ]; do
        scrape "$1" && [ "$CODE" = 200 ] && holds "$1" "$2" && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}

# caller NAME SERVICE COUNT SCENARIO [sipp args...]: COUNT calls, one at a time
# (SCENARIO "-": sipp's own uac); in the foreground, its status.
caller() {
    name=$1 svc=$2 count=$3 scen=$4
    shift 4
    if [ "$scen" = "-" ]; then set -- -sn uac "$@"; else set -- -sf "$SC/$scen.xml" "$@"; fi
    timeout 60 sipp 127.0.0.1:"$SIP" "$@" -s "$svc" -m "$count" -l 1 -r 20 -i 127.0.0.1 -nostdin -timeout 50 \
        -cid_str "%u-$name@metrics" -trace_msg -message_file "$W/$name.msg" >"$W/$name.out" 2>&1
}

# gateway NAME PORT SCENARIO COUNT MEDIA_PORT: a sipp gateway in the
# background ("-": sipp's uas).
gateway() {
    mp=$5
    if [ "$3" = "-" ]; then set -- "$1" "$2" -sn uas "$4"; else set -- "$1" "$2" -sf "$SC/$3.xml" "$4"; fi
    name=$1 port=$2
    shift 2
    timeout 90 sipp -i 127.0.0.1 -p "$port" -mp "$mp" "$1" "$2" -m "$3" -nostdin -timeout 80 \
        -trace_msg -message_file "$W/$name.msg" >"$W/$name.out" 2>&1 &
    LAST=$!
    BG="$BG $LAST"
    PEERS="$PEERS $LAST"
    wait_port "$port"
}

sanitizer_clean() { ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$@"; }

# The RTP packets in the pcap the media caller plays.
pcap_packets() {
    /usr/bin/python3 - "$PCAP" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, n = 24, 0
while off + 16 <= len(d):
    off += 16 + struct.unpack("<IIII", d[off:off + 16])[2]
    n += 1
print(n)
PY
}

serve main "sqlite:$W/main/cdr.db" "$ADMIN" "$SIP" || {
    echo "FAIL metrics:setup"
    sed 's/^/    /' "$W/main.log"
    exit 1
}

# ---- cases ----

case_before_any_call() { # it parses; every route of the scenario is there at 0
    EVIDENCE="$W/fresh.txt $W/fresh.check $W/fresh.txt.headers"
    scrape fresh && expect "GET /metrics: $CODE" [ "$CODE" = 200 ] &&
        expect "not the text exposition format 0.0.4" grep -qi '^Content-Type: text/plain; version=0.0.4' \
            "$W/fresh.txt.headers" &&
        expect "does not parse, or a family is untyped, undocumented or inconsistent" holds fresh &&
        expect "routes not at 0, or calls already counted" holds fresh \
            "all(v('callroute_calls_total', route=r, disposition=d) == 0 for r in ('answered', 'busy', 'hold') for d in ('ANSWERED', 'NO ANSWER', 'BUSY', 'FAILED', 'CANCELLED')) and v('callroute_calls_active', route='answered') == 0 and v('callroute_dial_attempts_total', gateway='gw_busy', status='busy') == 0 and total('callroute_sip_requests_received_total') == 0 and v('callroute_scenario_revision') == 1 and v('callroute_build_info', version='$("$CR" --version | awk '{print $2}')') == 1" &&
        scrape head HEAD && expect "HEAD /metrics: $CODE" [ "$CODE" = 200 ] &&
        scrape post POST && expect "POST /metrics without a token: $CODE, not 403" [ "$CODE" = 403 ]
}

# The calls, in this order (at most two at once: max_calls is 2):
#   media     1  answered, plays the pcap's RTP for 7 s (in the background)
#   answered  3  dialled through gw_ans, answered
#   busy      2  through gw_busy: 486
#   no-answer 2  through gw_noans, which never answers (dial timeout 1 s)
#   ring      1  the caller cancels while it rings
#   failing   1  answered; its http action fails (nothing listens); hung up
#   odd       1  a route whose name needs escaping
#   hold      3  at once: two answered, the third refused (503 max_calls)
# and a phone registers as user 201.
INVITES=14
case_calls() {
    EVIDENCE="$W/main.log $W/gw_busy.out $W/gw_noans.out"
    gateway gw_ans "$GW_ANS" - 3 "$(mport 1)"
    gateway gw_busy "$GW_BUSY" uas-busy 2 "$(mport 2)"
    gateway gw_noans "$GW_NOANS" uas-noanswer 2 "$(mport 3)"
    timeout 60 sipp 127.0.0.1:"$SIP" -sf "$SC/uac-dtmf.xml" -key pcap "$PCAP" -s media -m 1 -i 127.0.0.1 \
        -p "$UAC2" -mp "$(mport 4)" -nostdin -timeout 50 -cid_str "%u-media@metrics" >"$W/media.out" 2>&1 &
    media=$!
    BG="$BG $media"
    caller ans ans 3 - -p "$UAC" -mp "$(mport 0)" -d 300 || { WHY="answered calls failed"; return 1; }
    caller busy busy 2 - -p "$UAC" -mp "$(mport 0)"
    caller noans noans 2 - -p "$UAC" -mp "$(mport 0)"
    caller cancel cancel 1 uac-cancel -p "$UAC" -mp "$(mport 0)" || { WHY="the cancelled call failed"; return 1; }
    caller fail fail 1 uac-wait-bye -p "$UAC" -mp "$(mport 0)" || { WHY="the failing route's call failed"; return 1; }
    caller odd odd 1 - -p "$UAC" -mp "$(mport 0)" -d 200 || { WHY="the odd route's call failed"; return 1; }
    reap "$media" || { WHY="the media call failed (sipp)"; return 1; }
    timeout 30 sipp 127.0.0.1:"$SIP" -sn uac -s hold -m 3 -l 3 -r 100 -d 1500 -i 127.0.0.1 -p "$UAC" \
        -mp "$(mport 0)" -nostdin -timeout 25 -cid_str "%u-hold@metrics" >"$W/hold.out" 2>&1
    sed "s/@FINAL@/200/" "$SC/register.xml" >"$W/register.xml"
    timeout 20 sipp 127.0.0.1:"$SIP" -sf "$W/register.xml" -m 1 -i 127.0.0.1 -p "$REG" -mp "$(mport 0)" -nostdin \
        -key user 201 -key contact_port 5999 -key expires 60 -au 201 -ap pw201-metrics >"$W/register.out" 2>&1 ||
        { WHY="the registration failed"; return 1; }
    expect "not 2 calls held and 1 refused" grep -qE "Successful call .*\| +2 *$" "$W/hold.out" || return 1
    # every call has ended once nothing is active and 13 are counted
    poll calls "total('callroute_calls_total') == 13 and total('callroute_calls_active') == 0" ||
        { WHY="not 13 ended calls, or some still active: $(cat "$W/calls.check")"; return 1; }
}

case_calls_by_route_and_disposition() {
    EVIDENCE="$W/calls.check"
    holds calls "$(cat <<'PY'
v('callroute_calls_total', route='answered', disposition='ANSWERED') == 3
and v('callroute_calls_total', route='busy', disposition='BUSY') == 2
and v('callroute_calls_total', route='no-answer', disposition='NO ANSWER') == 2
and v('callroute_calls_total', route='media', disposition='ANSWERED') == 1
and v('callroute_calls_total', route='ring', disposition='CANCELLED') == 1
and v('callroute_calls_total', route='failing', disposition='ANSWERED') == 1
and v('callroute_calls_total', route='odd "quoted" \\ café\nline', disposition='ANSWERED') == 1
and v('callroute_calls_total', route='hold', disposition='ANSWERED') == 2
and total('callroute_calls_total', disposition='ANSWERED') == 8
PY
)" || { WHY="calls by route and disposition: $(cat "$W/calls.check")"; return 1; }
    expect "setup time: not one observation per answered call" holds calls \
        "v('callroute_call_setup_seconds_count') == 8 and 0 <= v('callroute_call_setup_seconds_sum') < 8 * 5"
}

case_dial_outcomes_by_gateway() {
    EVIDENCE="$W/calls.check"
    expect "dial attempts by gateway are not 3 answered (gw_ans), 2 busy (gw_busy), 2 no_answer (gw_noans)" holds calls \
        "v('callroute_dial_attempts_total', gateway='gw_ans', status='answered') == 3 and v('callroute_dial_attempts_total', gateway='gw_busy', status='busy') == 2 and v('callroute_dial_attempts_total', gateway='gw_noans', status='no_answer') == 2 and total('callroute_dial_attempts_total') == 7"
}

case_sip_requests_and_responses() {
    EVIDENCE="$W/calls.check $W/calls.txt"
    expect "INVITEs received are not the $INVITES calls placed, or CANCEL/REGISTER/486 miscounted" holds calls \
        "v('callroute_sip_requests_received_total', method='INVITE') == $INVITES and v('callroute_sip_requests_received_total', method='CANCEL') == 1 and v('callroute_sip_requests_received_total', method='REGISTER') == 2 and v('callroute_sip_responses_received_total', code='486') == 2 and v('callroute_sip_requests_received_total', method='other') == 0"
}

case_refused_and_registered() {
    EVIDENCE="$W/calls.check $W/hold.out"
    expect "the max_calls overflow is not one admission rejection" holds calls \
        "series('callroute_calls_refused_total') == {frozenset({('reason', 'max_calls')}): 1}" &&
        expect "the registration is not one user with one contact" holds calls \
            "v('callroute_sip_registered_users') == 1 and v('callroute_sip_registered_contacts') == 1"
}

case_action_errors_and_services() {
    EVIDENCE="$W/calls.check $W/calls.txt"
    expect "action errors are not: http 1 error; dial 2 errors (busy) and 2 timeouts (no answer)" holds calls \
        "v('callroute_action_errors_total', app='http', status='error') == 1 and v('callroute_action_errors_total', app='dial', status='error') == 2 and v('callroute_action_errors_total', app='dial', status='timeout') == 2 and total('callroute_action_errors_total') == 5" &&
        expect "the failed HTTP request is not one http failure with its duration" holds calls \
            "v('callroute_service_failures_total', service='http') == 1 and v('callroute_service_request_seconds_count', service='http') == 1 and v('callroute_service_request_seconds_sum', service='http') < 3" &&
        expect "call records shipped to SQLite are not counted as sqlite requests" holds calls \
            "v('callroute_service_request_seconds_count', service='sqlite') >= 1 and v('callroute_service_failures_total', service='sqlite') == 0"
}

case_rtp() {
    EVIDENCE="$W/calls.check $W/media.out"
    n=$(pcap_packets)
    expect "RTP: not the $n packets of the pcap received, none lost, one stream's jitter" holds calls \
        "v('callroute_rtp_packets_received_total') == $n and v('callroute_rtp_packets_lost_total') == 0 and v('callroute_rtp_jitter_seconds_count') == 1 and v('callroute_rtp_jitter_seconds_sum') < 0.05 and v('callroute_rtp_sessions_open') == 0"
}

case_records_outbox_loop() {
    EVIDENCE="$W/rec.check $W/rec.txt"
    expect "the call record spool did not empty, or 13 records were not shipped" \
        poll rec "v('callroute_cdr_spool_depth') == 0 and v('callroute_cdr_shipped_total') == 13 and v('callroute_cdr_store_failures_total') == 0" &&
        expect "the outbox is not empty" holds rec \
            "all(v(m, queue=q) == 0 for m in ('callroute_outbox_depth', 'callroute_outbox_oldest_age_seconds') for q in ('mail', 'job'))" &&
        expect "no loop lag measured, or process start not in the last 10 minutes" holds rec \
            "v('callroute_loop_lag_seconds_count') >= 2 and 0 <= __import__('time').time() - v('process_start_time_seconds') < 600"
}

case_reload_revision() {
    EVIDENCE="$W/reload.check $W/main.log"
    kill -HUP "$SERVE"
    expect "the revision is not 2 after a reload" poll reload "v('callroute_scenario_revision') == 2" &&
        expect "a reload reset the counters" holds reload "total('callroute_calls_total') == 13"
}

case_records_off() { # calls are counted when call records are off
    EVIDENCE="$W/off.log $W/off.check $W/off.txt"
    main=$SERVE
    serve off off "$ADMIN2" "$SIP2" || { WHY="the second server did not start"; return 1; }
    off=$SERVE
    SERVE=$main
    PORT=$ADMIN2
    rc=0
    timeout 20 sipp 127.0.0.1:"$SIP2" -sn uac -s hold -m 1 -d 200 -i 127.0.0.1 -p "$UAC" -mp "$(mport 0)" -nostdin \
        -timeout 15 >"$W/offcall.out" 2>&1 || { WHY="the call failed"; rc=1; }
    [ $rc = 0 ] && expect "the call is not counted, or call record metrics shown with records off" poll off \
        "v('callroute_calls_total', route='hold', disposition='ANSWERED') == 1 and total('callroute_calls_total') == 1 and not has('callroute_cdr_spool_depth')" ||
        rc=1
    PORT=$ADMIN
    kill -TERM "$off"
    reap "$off" || { WHY="the second server did not exit 0"; rc=1; }
    return $rc
}

case_clean_exit() {
    EVIDENCE="$W/main.log"
    kill -TERM "$SERVE"
    reap "$SERVE" || { WHY="serve did not exit 0"; return 1; }
    expect "sanitizer report" sanitizer_clean "$W/main.log" "$W/off.log"
}

for c in ${METRICS_CASES:-before_any_call calls calls_by_route_and_disposition dial_outcomes_by_gateway \
    sip_requests_and_responses refused_and_registered action_errors_and_services rtp records_outbox_loop \
    reload_revision records_off clean_exit}; do
    run "$c"
done
[ "$FAILS" -eq 0 ]
