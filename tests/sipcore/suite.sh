#!/bin/sh
# tests/sipcore/suite.sh — the NTA SIP core (settings.sip.core: nta,
# src/telephony/sip/sip_nta.c) against real sipp peers: what RFC 3261 asks
# of a UA's transactions and dialogs, which the nua core got from NUA and
# the nta core does itself: a retransmitted INVITE is one call and our 200
# is retransmitted until the ACK; CANCEL before the 200 (487, and our
# CANCEL of the dialled leg) and crossing it (a late CANCEL changes
# nothing; a callee's 200 crossing our CANCEL is ACKed and ended with BYE);
# 481 for a request in no dialog of ours; re-INVITE hold both ways, glare
# (491) and a BYE while our re-INVITE is pending; hold by UPDATE with SDP
# both ways (RFC 3311); a 2xx to our re-INVITE that comes again after its
# transaction is gone is ACKed again (also 34 s on, past sofia's timer D,
# where its ACK aborted the process); DTMF by INFO and RFC 4733; a
# gateway's digest challenge; session timers (RFC 4028) both ways, and a
# gateway's 422 retried with its Min-SE; after our CANCEL, an INVITE
# without a final response is given up at 64*T1; REGISTER with RFC 5626
# outbound over TCP (Require: outbound, the CRLF keep-alive answered, the
# phone called over its flow; over UDP, at the address it registered
# from); a user's two contacts forked, the late 200
# of the one that lost ACKed and ended with BYE (and ACKed again when it
# comes again after its transaction), both cancelled when the
# caller gives up;
# a second INVITE with a live call's Call-ID refused 482 (the call
# still found by its BYE); a MESSAGE in a call 405 with Allow; a 200
# that makes no dialog fails the dial and the leg goes;
# a user's MESSAGE (407, digest) and one relayed to a gateway that answers
# 401 (the MESSAGE again with credentials, CSeq + 1); a message-summary
# subscription refreshed in its dialog and ended by its expiry (NOTIFY
# terminated;reason=timeout), one refreshed with a new Contact (NOTIFYs go
# there) and unsubscribed (NOTIFY terminated, no reason=timeout), and a
# user's ninth subscription refused 403;
# with media: bypass, an offer (re-INVITE or UPDATE) from either side
# relayed to the other leg and its answer, or its refusal, relayed back (a
# gateway's challenge to it answered with its credentials, or, with none,
# the offerer refused 403), and a re-INVITE without an offer relayed
# without one, the other side's offer back in our 2xx and the answer in
# the sender's ACK passed on in ours (glare 491; no answer in the ACK, or
# no ACK: the call ends), and our session refresh by re-INVITE (a
# phone without UPDATE) offering that phone the other's last SDP; an
# agent's REFER answered 202 with the NOTIFY that ends its subscription
# (RFC 3515).
# One line per case: "PASS sipcore:NAME" or "FAIL sipcore:NAME".
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
HERE=$ROOT/tests/sipcore
SC=$HERE/scenarios
SIPSC=$ROOT/tests/sip/scenarios
SUITE=sipcore
. "$ROOT/tests/sip/lib.sh"

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 8)
SIP=$1 UAS=$2 UAC=$3 PHONE=$4 UAS2=$5 SIPREG=$6 GWREG=$7 GWREG2=$8 RTP=$9   # PHONE: a user's phone (no gateway's port)
RTP_RANGE="$RTP-$((RTP + 999))"

sipp_run() { # sipp_run NAME ARGS...: logs in $W/NAME.*
    name=$1
    shift
    timeout 25 sipp "$@" -i 127.0.0.1 -nostdin -cid_str "%u-%p-$name@%s" -timeout 20 -timeout_error -recv_timeout "${RECV_TIMEOUT:-8000}" \
        -trace_msg -message_file "$W/$name.msg" -trace_err -error_file "$W/$name.err" \
        >"$W/$name.out" 2>&1
}

uac() { # uac NAME SERVICE SCENARIO [sipp args...]; SCENARIO from here, or sip/NAME; "-": sipp's uac
    name=$1 svc=$2 scen=$3
    shift 3
    if [ "$scen" = "-" ]; then set -- -sn uac "$@"; else
        f="$SC/$scen.xml"
        [ -f "$f" ] || f="$SIPSC/$scen.xml"
        set -- -sf "$f" "$@"
    fi
    sipp_run "$name" 127.0.0.1:"$SIP" -p "$UAC" -s "$svc" -m 1 "$@"
}

peer() { # peer NAME PORT SCENARIO [sipp args...]: in the background; sets LAST
    name=$1 port=$2 scen=$3
    shift 3
    if [ "$scen" = "-" ]; then set -- -sn uas "$@"; else
        f="$SC/$scen.xml"
        [ -f "$f" ] || f="$SIPSC/$scen.xml"
        set -- -sf "$f" "$@"
    fi
    sipp_run "$name" -p "$port" -m 1 "$@" &
    LAST=$!
    BG="$BG $LAST"
    PEERS="$PEERS $LAST"
    wait_port "$port"
}

call_id() { grep -m1 -io "^Call-ID: *[^ ]*-$1@[^ ]*" "$W/$1.msg" | sed 's/^[^:]*: *//; s/\r$//'; }
call_log() { grep -F -- "$(call_id "$1")" "$W/serve.log"; }
in_log() { call_log "$1" | grep -q -- "$2"; }
# How many messages sipp instance NAME received whose first line matches RE.
received() { grep -A1 -E "^-+ .*(received|UDP message received)" "$W/$1.msg" | grep -cE "$2"; }

sed -e "s|@RTP@|$RTP_RANGE|g; s|@UAS@|$UAS|g; s|@UAC@|$UAC|g" "$HERE/suite.yaml" >"$W/suite.yaml"
"$CR" serve "$W/suite.yaml" --sip "127.0.0.1:$SIP" --log-level debug >"$W/serve.log" 2>&1 &
SERVE=$!
BG="$BG $SERVE"
if ! wait_for "$W/serve.log" 15 'listening for SIP'; then
    bad setup "callroute serve did not start" "$W/serve.log"
    exit 1
fi

# ---- cases ----

case_retransmissions() { # INVITE sent twice (one transaction) before the answer: one call
    EVIDENCE="$W/retrans.out $W/retrans.msg $W/serve.log"
    uac retrans late uac-retrans || return 1
    n=$(call_log retrans | grep -c "call .* from .* to")
    expect "the retransmitted INVITE made $n calls, not 1" [ "$n" -eq 1 ] &&
        expect "hangup by caller not traced" in_log retrans "hangup *by caller"
}

case_200_until_ack() { # no ACK: our 200 again at T1, 2*T1...; 64*T1 later the call ends with BYE
    EVIDENCE="$W/noack.out $W/noack.msg $W/serve.log"
    uac noack basic uac-noack -nd   # fails by design: the 200s that come again are unexpected
    n=$(grep -c "^SIP/2.0 200" "$W/noack.msg")
    expect "our 200 came $n times in 2.5 s without an ACK, not 3 or more" [ "$n" -ge 3 ] &&
        expect "no BYE 64*T1 after the unacknowledged 200" \
            wait_for "$W/serve.log" 15 "call $(call_id noack): no ACK for our 200: BYE"
}

case_cancel() { # the caller gives up while we ring: 200 to the CANCEL, 487 to the INVITE
    EVIDENCE="$W/cancel.out $W/cancel.msg $W/serve.log"
    uac cancel ring uac-cancel && expect "hangup by caller (cancel) not traced" in_log cancel "hangup *by caller"
}

case_cancel_dialled() { # the caller gives up while the gateway rings: our CANCEL reaches it (487, ACK)
    EVIDENCE="$W/canceldial.out $W/canceldial_uas.out $W/canceldial_uas.msg $W/serve.log"
    peer canceldial_uas "$UAS" uas-noanswer
    p=$LAST
    uac canceldial gw uac-cancel && reap $p
}

case_cancel_after_200() { # the caller's CANCEL crosses our 200: the call stays up until its BYE
    EVIDENCE="$W/latecancel.out $W/latecancel.msg $W/serve.log"
    uac latecancel basic uac-cancel-late &&
        expect "the late CANCEL ended the call" sh -c "! grep -F -- '$(call_id latecancel)' '$W/serve.log' | grep -q 'cause cancel'" &&
        expect "hangup by caller not traced" in_log latecancel "hangup *by caller (normal)"
}

case_cancel_crosses_callee_200() { # our CANCEL crosses the callee's 200: we ACK it and send BYE
    EVIDENCE="$W/race.out $W/race_uas.out $W/race_uas.msg $W/serve.log"
    peer race_uas "$UAS" uas-cancel-race
    p=$LAST
    uac race gw uac-cancel && reap $p
}

case_481() { # BYE and INFO in a dialog we never had: 481 each
    EVIDENCE="$W/nodialog.out $W/nodialog.msg $W/serve.log"
    uac nodialog basic uac-481
}

case_bye_during_reinvite() { # the caller hangs up while our re-INVITE to it is pending: 200, 487 ACKed, the callee gets BYE
    EVIDENCE="$W/byereinv.out $W/byereinv.err $W/byereinv.msg $W/byereinv_uas.out $W/serve.log"
    peer byereinv_uas "$UAS" agent-hold-wait
    p=$LAST
    uac byereinv gw uac-bye-during-reinvite && reap $p &&
        expect "hangup by caller not traced" in_log byereinv "hangup *by caller"
}

case_hold_by_caller() { # re-INVITE hold and unhold from the caller: answered, passed on to the callee, traced
    EVIDENCE="$W/callerhold.out $W/callerhold.err $W/callerhold_uas.out $W/callerhold_uas.err $W/serve.log"
    peer callerhold_uas "$UAS" agent-held
    p=$LAST
    uac callerhold gw uac-hold-reinvite && reap $p &&
        expect "hold by caller not traced" in_log callerhold "event *hold by caller" &&
        expect "unhold by caller not traced" in_log callerhold "event *unhold by caller"
}

case_hold_by_callee() { # re-INVITE hold from the callee: answered, passed on to the caller (re-INVITE from us), traced
    EVIDENCE="$W/calleehold.out $W/calleehold.err $W/calleehold_uas.out $W/calleehold_uas.err $W/serve.log"
    peer calleehold_uas "$UAS" agent-hold
    p=$LAST
    uac calleehold gw uac-seed && reap $p &&
        expect "hold by callee not traced" in_log calleehold "event *hold by agent" &&
        expect "the caller got no re-INVITE from us" grep -q "^INVITE sip:79165551234@" "$W/calleehold.msg"
}

case_glare() { # the caller re-INVITEs while our re-INVITE to it is pending: 491, then ours completes
    EVIDENCE="$W/glare.out $W/glare.err $W/glare.msg $W/glare_uas.out $W/serve.log"
    peer glare_uas "$UAS" agent-hold
    p=$LAST
    uac glare gw uac-glare && reap $p
}

case_glare_retried() { # the caller answers our re-INVITE with 491: ours again 2.1-4 s later (its retry timer), answered; the caller hangs up
    EVIDENCE="$W/glareretry.out $W/glareretry.err $W/glareretry.msg $W/glareretry_uas.out $W/serve.log"
    peer glareretry_uas "$UAS" agent-hold-wait
    p=$LAST
    uac glareretry gw uac-glare-retry && reap $p &&
        expect "our re-INVITE not sent twice" [ "$(grep -c '^INVITE sip:79165551234@' "$W/glareretry.msg")" -eq 2 ]
}

case_reinvite_early() { # a re-INVITE before our final response: 500 with a Retry-After of 0-10 s (RFC 3261 14.2); the caller then cancels
    EVIDENCE="$W/reearly.out $W/reearly.err $W/reearly.msg $W/serve.log"
    uac reearly ring uac-reinvite-early
}

case_ivr_info() { # SIP INFO dtmf-relay digit 2 (tests/sip's caller): branch two
    EVIDENCE="$W/ivrinfo.out $W/serve.log"
    uac ivrinfo ivr uac-info && expect "branch two not taken" in_log ivrinfo "ivr branch two"
}

case_ivr_rfc4733() { # RFC 4733 digit 1 from a pcap (RTP, the same under either core): branch one
    EVIDENCE="$W/ivr.out $W/ivr.err $W/serve.log"
    uac ivr ivr uac-dtmf -key pcap /usr/share/sip-tester/dtmf_2833_1.pcap &&
        expect "branch one not taken" in_log ivr "ivr branch one"
}

case_gateway_auth() { # 401 from the gateway: the INVITE again with digest credentials (auc_*), answered
    EVIDENCE="$W/auth.out $W/auth_uas.out $W/auth_uas.msg $W/serve.log"
    peer auth_uas "$UAS" uas-auth
    p=$LAST
    uac auth auth - -d 300 && reap $p && expect "no Authorization sent" grep -q "^Authorization: Digest" "$W/auth_uas.msg"
}

case_message_from_user() { # a user's MESSAGE: 407, again with Proxy-Authorization, 200; the message route ran as user:304
    EVIDENCE="$W/msguser.out $W/msguser.err $W/msguser.msg $W/serve.log"
    sipp_run msguser 127.0.0.1:"$SIP" -p "$PHONE" -s note -m 1 -sf "$SC/uac-message-user.xml" -key user 304 \
        -au 304 -ap pw304 -auth_uri "note@127.0.0.1:$SIP" -key text "buy milk" || { WHY="sipp: no 407, or no 200 to the authenticated MESSAGE"; return 1; }
    expect "the message route did not run for user 304" \
        wait_for "$W/serve.log" 5 "note from 304 via user:304: buy milk"
}

case_message_gateway_auth() { # a MESSAGE sent through a gateway that answers 401: again with digest credentials, 200, reported
    EVIDENCE="$W/relay.out $W/relay_uas.out $W/relay_uas.msg $W/relay_uas.err $W/serve.log"
    peer relay_uas "$UAS" uas-message-auth -key expect "relayed: hello gw"
    p=$LAST
    uac relay relay uac-message -key text "hello gw" || { WHY="sipp: no 200 to the trunk's MESSAGE"; return 1; }
    reap $p || { WHY="the gateway got no MESSAGE with good credentials (CSeq 2) and the text"; return 1; }
    expect "the sms outcome (delivered 200) was not reported" wait_for "$W/serve.log" 5 "relay sms delivered 200"
}

case_mwi_refresh_expiry() { # message-summary: subscribed (digest), refreshed in its dialog, expired: NOTIFY terminated
    EVIDENCE="$W/mwiexp.out $W/mwiexp.err $W/mwiexp.msg $W/serve.log"
    sipp_run mwiexp 127.0.0.1:"$SIP" -p "$PHONE" -m 1 -sf "$SC/uac-subscribe-expiry.xml" -key user 304 -au 304 -ap pw304 \
        -auth_uri "304@127.0.0.1:$SIP" ||
        { WHY="sipp: the subscription, its refresh or its end (NOTIFY terminated;reason=timeout) went wrong"; return 1; }
    expect "the expiry was not logged" grep -q "user 304: message-summary subscription expired" "$W/serve.log"
}

case_mwi_refresh_contact() { # message-summary refreshed with a new Contact: NOTIFYs go there (RFC 6665 4.1.2.2); unsubscribed: "terminated" without reason=timeout
    EVIDENCE="$W/mwimove.out $W/mwimove.err $W/mwimove.msg $W/serve.log"
    sipp_run mwimove 127.0.0.1:"$SIP" -p "$PHONE" -m 1 -sf "$SC/uac-subscribe-move.xml" -key user 304 -au 304 -ap pw304 \
        -auth_uri "304@127.0.0.1:$SIP" ||
        { WHY="sipp: a NOTIFY not at the refreshed Contact, or the unsubscribe's NOTIFY not plain terminated"; return 1; }
    expect "the unsubscribe was not logged" grep -q "user 304: message-summary unsubscribed" "$W/serve.log"
}

case_mwi_cap() { # a user's ninth live message-summary subscription is refused 403 (MAX_SUBS_PER_USER 8), said in the log
    EVIDENCE="$W/mwicap8.out $W/mwicap8.err $W/mwicap9.out $W/mwicap9.err $W/mwicap9.msg $W/serve.log"
    for i in 1 2 3 4 5 6 7 8; do
        sipp_run "mwicap$i" 127.0.0.1:"$SIP" -p "$PHONE" -m 1 -sf "$SC/uac-subscribe-stay.xml" -key user 304 \
            -au 304 -ap pw304 -auth_uri "304@127.0.0.1:$SIP" || { WHY="subscription $i of 8 was not made"; return 1; }
    done
    sipp_run mwicap9 127.0.0.1:"$SIP" -p "$PHONE" -m 1 -sf "$SC/uac-subscribe-refused.xml" -key user 304 \
        -au 304 -ap pw304 -auth_uri "304@127.0.0.1:$SIP" || { WHY="sipp: the ninth subscription was not refused 403"; return 1; }
    expect "the refusal was not logged" grep -q "user 304: SUBSCRIBE refused 403: 8 message-summary" "$W/serve.log"
}

case_session_timer_silent() { # the caller asked for a 10 s session timer and never refreshes: BYE (Reason 408), by system
    EVIDENCE="$W/stsilent.out $W/stsilent.err $W/serve.log"
    uac stsilent basic uac-timer-silent || { WHY="sipp: no BYE with Reason 408 after the session expired"; return 1; }
    expect "the call did not end by system (session_timer)" \
        wait_for "$W/serve.log" 5 "-stsilent@[^ ]*: .*call *end .*hangup by system (session_timer)"
}

case_session_timer_refreshed() { # refresher=uas: we send the refresh (UPDATE, the caller allows it) and the call goes on
    EVIDENCE="$W/strefresh.out $W/strefresh.err $W/serve.log"
    uac strefresh basic uac-timer-refreshed || { WHY="sipp: no refresh from callroute, or the call was not kept"; return 1; }
    expect "the call did not end by the caller" \
        wait_for "$W/serve.log" 5 "-strefresh@[^ ]*: .*call *end .*hangup by caller"
}

case_hold_by_update() { # hold by re-INVITE, unhold by UPDATE with an SDP offer (RFC 3311): answered with SDP, passed on, traced
    EVIDENCE="$W/updhold.out $W/updhold.err $W/updhold.msg $W/updhold_uas.out $W/updhold_uas.err $W/serve.log"
    peer updhold_uas "$UAS" agent-held
    p=$LAST
    uac updhold gw uac-hold && reap $p &&
        expect "hold by caller not traced" in_log updhold "event *hold by caller" &&
        expect "unhold by caller (UPDATE) not traced" in_log updhold "event *unhold by caller"
}

case_hold_update_by_callee() { # the callee holds by UPDATE with an SDP offer: answered, passed on to the caller (re-INVITE from us), traced
    EVIDENCE="$W/updcallee.out $W/updcallee.err $W/updcallee.msg $W/updcallee_uas.out $W/updcallee_uas.err $W/serve.log"
    peer updcallee_uas "$UAS" agent-hold-update
    p=$LAST
    uac updcallee gw uac-seed && reap $p &&
        expect "hold by callee (UPDATE) not traced" in_log updcallee "event *hold by agent" &&
        expect "the caller got no re-INVITE from us" grep -q "^INVITE sip:79165551234@" "$W/updcallee.msg"
}

long_sipp() { # long_sipp NAME ARGS...: sipp for longer than peer's and uac's 20 s
    n=$1
    shift
    timeout 60 sipp "$@" -m 1 -i 127.0.0.1 -nostdin -timeout 50 -timeout_error -recv_timeout 45000 \
        -trace_msg -message_file "$W/$n.msg" -trace_err -error_file "$W/$n.err" >"$W/$n.out" 2>&1
}

case_reinvite_2xx_late() { # the callee's 200 to our re-INVITE again 34 s on, no transaction left: ACKed (sofia aborted on that ACK)
    EVIDENCE="$W/reackl.out $W/reackl.err $W/reackl_uas.out $W/reackl_uas.err $W/reackl_uas.msg $W/serve.log"
    long_sipp reackl_uas -sf "$SC/agent-held-reack-late.xml" -p "$UAS" -nr &
    p=$!
    BG="$BG $p"
    PEERS="$PEERS $p"
    wait_port "$UAS"
    long_sipp reackl 127.0.0.1:"$SIP" -sf "$SC/uac-hold-slower.xml" -s gw -p "$UAC" -cid_str "%u-%p-reackl@%s" &&
        { reap $p || { WHY="the gateway's 200 again 34 s on was not ACKed"; return 1; }; } &&
        expect "callroute aborted" kill -0 "$SERVE"
}

case_reinvite_2xx_again() { # the callee's 200 to our re-INVITE comes twice (the transaction gone at the first): both ACKed
    EVIDENCE="$W/reack.out $W/reack.err $W/reack_uas.out $W/reack_uas.err $W/reack_uas.msg $W/serve.log"
    peer reack_uas "$UAS" agent-held-reack -nr   # -nr: a second ACK like the first is ours, not a retransmission for sipp to answer
    p=$LAST
    uac reack gw uac-hold-slow && { reap $p || { WHY="the gateway's second 200 to our re-INVITE was not ACKed"; return 1; }; }
}

case_422_retried() { # the gateway's 422 (Min-SE 90) to our INVITE: the INVITE again with Session-Expires 90, answered
    EVIDENCE="$W/st422.out $W/st422_uas.out $W/st422_uas.err $W/st422_uas.msg $W/serve.log"
    peer st422_uas "$UAS" uas-422
    p=$LAST
    uac st422 gw - -d 300 && { reap $p || { WHY="no INVITE again with Session-Expires/Min-SE 90 after the 422"; return 1; }; }
}

registrar() { # registrar NAME PORT SCENARIO GRANT: a gateway's registrar (sipp) in the background, for longer than peer's 20 s; sets LAST
    timeout 70 sipp -sf "$SC/$3.xml" -p "$2" -m 1 -i 127.0.0.1 -nostdin -timeout 60 -timeout_error -recv_timeout 50000 \
        -key grant "$4" -key mark "$W/$1.quiet" -trace_msg -message_file "$W/$1.msg" -trace_err -error_file "$W/$1.err" \
        >"$W/$1.out" 2>&1 &
    LAST=$!
    BG="$BG $LAST"
    PEERS="$PEERS $LAST"
    wait_port "$2"
}

# A gateway registered to (register: true) by a server of its own: digest,
# a refresh, the unREGISTER at shutdown; register: true to two registrars: one grants 0 s, one 4294967297 s. Both
# were acted on as 1 s (a REGISTER every second); now held between 60 s
# and the 600 s asked, said once each. Each registrar asserts that no
# REGISTER comes for 5 s after its 200; the first also gets the refresh,
# with the digest, at about 30 s.
case_gateway_register_refresh() { # register: true: 401 then digest, a grant of 0 (or 2^32+1) held at 60 (600) s: no REGISTER for 5 s, the refresh at 30 s, unREGISTER at SIGTERM
    EVIDENCE="$W/gwreg.out $W/gwreg.err $W/gwreg.msg $W/gwhuge.out $W/gwhuge.err $W/gwhuge.msg $W/serve_reg.log"
    registrar gwreg "$GWREG" uas-register-refresh 0
    p=$LAST
    registrar gwhuge "$GWREG2" uas-register-huge 4294967297
    p2=$LAST
    sed -e "s|@RTP@|$RTP_RANGE|g; s|@GWREG@|$GWREG|g; s|@GWREG2@|$GWREG2|g" "$HERE/register.yaml" >"$W/register.yaml"
    "$CR" serve "$W/register.yaml" --sip "udp:127.0.0.1:$SIPREG" --admin off --log-level debug >"$W/serve_reg.log" 2>&1 &
    srv=$!
    BG="$BG $srv"
    expect "not registered to both" wait_for_count "$W/serve_reg.log" 10 "gateway gw_[a-z]*: registration 200" 2 &&
        expect "a REGISTER came within 5 s of the grant of 0" wait_for "$W/gwreg.quiet" 10 quiet &&
        expect "a REGISTER came within 5 s of the grant of 4294967297" wait_for "$W/gwhuge.quiet" 10 quiet &&
        expect "no refresh about 30 s after the grant of 0" \
            wait_for_count "$W/serve_reg.log" 40 "gateway gw_reg: registration 200" 2 &&
        expect "the grant of 0 was not said once, as 60 s" \
            [ "$(grep -c "gateway gw_reg: registrar granted 0 s: taken as 60 s" "$W/serve_reg.log")" -eq 1 ] &&
        expect "the huge grant was not said once, as 600 s" \
            [ "$(grep -c "gateway gw_huge: registrar granted 4294967295 s: taken as 600 s" "$W/serve_reg.log")" -eq 1 ] ||
        return 1
    kill -TERM "$srv"
    reap "$srv" || { WHY="serve did not exit 0"; return 1; }
    expect "the unREGISTER was not answered before exit" grep -q "gateway gw_reg: unregistered 200" "$W/serve_reg.log" &&
        expect "the other unREGISTER was not answered before exit" grep -q "gateway gw_huge: unregistered 200" "$W/serve_reg.log" &&
        expect "sanitizer report in the server log" sh -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$W/serve_reg.log'" &&
        reap $p && reap $p2 &&
        expect "the REGISTERs did not keep one Call-ID" \
            [ "$(grep -A12 '^REGISTER ' "$W/gwreg.msg" | grep -i '^Call-ID:' | sort -u | wc -l)" -eq 1 ]
}

wait_for_count() { # wait_for_count FILE SECONDS RE N: until RE is on N lines of FILE
    i=0
    while [ $i -lt $(($2 * 20)) ]; do
        n=$(grep -c -- "$3" "$1" 2>/dev/null)
        [ "${n:-0}" -ge "$4" ] && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

case_cancel_no_final() { # after our CANCEL the gateway never sends a final response: the INVITE is given up 64*T1 (8 s) later
    EVIDENCE="$W/nofinal.out $W/nofinal_uas.out $W/nofinal_uas.msg $W/serve.log"
    peer nofinal_uas "$UAS" uas-cancel-nofinal
    p=$LAST
    uac nofinal gw uac-cancel && reap $p || return 1

    expect "the INVITE was not given up 64*T1 after our CANCEL (NTA's timer C is 3 min)" \
        wait_for "$W/serve.log" 15 "leg $(call_id nofinal)>5550001: no final response 64\*T1 after our CANCEL: INVITE given up"
}

# RFC 5626 outbound on the registrar (sip_nta_reg.c): a phone over TCP asks
# for it (Supported: outbound, +sip.instance, reg-id): digest, then 200 with
# Require: outbound and its binding; the flow logged; its CRLF keep-alive
# gets its CRLF back (the transport's pong). Then it is called: its Contact
# (198.51.100.1, TEST-NET-2) reaches nobody, so the INVITE, the ACK and the
# BYE must come over its own connection (sip_nta_fork.c's hop).
case_register_outbound_tcp() {
    EVIDENCE="$W/ob.out $W/obcall.out $W/serve.log"
    /usr/bin/python3 "$ROOT/tests/tls/tls_phone.py" 127.0.0.1 "$SIP" - 301 pw301 --tcp --outbound --ping >"$W/ob.out" 2>&1 &
    ph=$!
    BG="$BG $ph"
    wait_for "$W/ob.out" 10 '^pong' || { WHY="the phone did not register over TCP, or its CRLF ping got no pong"; return 1; }
    expect "the 200 had no Require: outbound" grep -q '^require outbound' "$W/ob.out" &&
        expect "the flow not logged" grep -q "user 301: registered .* (outbound flow over tcp, instance urn:uuid:4a6b1c2d" \
            "$W/serve.log" || return 1
    uac obcall 301 - -d 300 || { WHY="the call to the phone over its flow failed"; return 1; }
    reap "$ph" || { WHY="the phone did not get the INVITE, ACK and BYE over its connection"; return 1; }
    expect "the phone saw no ACK" grep -q '^acked' "$W/ob.out"
}

# A user on two contacts (sip_nta_fork.c): both ring, the first answers;
# the other's 200 crosses our CANCEL (which says Reason: completed
# elsewhere): that dialog is ACKed and ended with BYE (uas-cancel-race).
# RFC 5626 outbound over UDP: a phone behind NAT (its Contact reaches
# nobody) is called at the address its REGISTER came from: the INVITE, the
# ACK and the BYE all go there (the fork's hop, the dialog's route).
case_outbound_udp() {
    EVIDENCE="$W/obu.out $W/obucall.out $W/serve.log"
    /usr/bin/python3 "$ROOT/tests/tls/tls_phone.py" 127.0.0.1 "$SIP" - 303 pw303 --udp --outbound >"$W/obu.out" 2>&1 &
    ph=$!
    BG="$BG $ph"
    wait_for "$W/obu.out" 10 '^registered' || { WHY="the UDP phone did not register"; return 1; }
    expect "the UDP phone was not told Require: outbound" grep -q '^require outbound' "$W/obu.out" || return 1
    uac obucall 303 - -d 300 || { WHY="the call to the UDP phone failed (sent to its Contact?)"; return 1; }
    reap "$ph" || { WHY="the UDP phone did not get the INVITE, ACK and BYE at its flow"; return 1; }
    expect "no INVITE reached the UDP phone" grep -q '^invite sip:303@198.51.100.1' "$W/obu.out"
}

reg302() { # user 302 registered at $UAS and $UAS2 (sipp, digest)
    sed "s/@FINAL@/200/" "$SIPSC/register.xml" >"$W/register-200.xml"
    for c in a:$UAS b:$UAS2; do
        sipp_run "reg302${c%%:*}" 127.0.0.1:"$SIP" -p "$UAC" -m 1 -sf "$W/register-200.xml" -key user 302 \
            -key contact_port "${c#*:}" -key expires 60 -au 302 -ap pw302 || return 1
    done
}

case_fork_late_2xx() {
    EVIDENCE="$W/late.out $W/late_a.out $W/late_b.out $W/late_b.msg $W/serve.log"
    reg302 || { WHY="registration failed"; return 1; }
    peer late_a "$UAS" -
    a=$LAST
    peer late_b "$UAS2" uas-cancel-race
    b=$LAST
    uac late 302 - -d 300 && reap $a || { WHY="the call to the first phone failed"; return 1; }
    reap $b || { WHY="the second phone's 200 was not ACKed and ended with BYE"; return 1; }
    expect "the CANCEL of the fork that lost has no Reason: SIP;cause=200" \
        sh -c "sed -n '/^CANCEL /,/^\\s*\$/p' '$W/late_b.msg' | grep -q '^Reason: SIP;cause=200;text=\"Call completed elsewhere\"'"
}

# The losing phone's 200 comes again after its transaction is gone (our
# ACK lost; 34 s later, past sofia's timer D): ACKed again (RFC 3261
# 13.2.2.4), no second BYE; the call to the first phone goes on meanwhile.
case_fork_2xx_again() {
    EVIDENCE="$W/again.out $W/again.err $W/again_a.out $W/again_b.out $W/again_b.msg $W/again_b.err $W/serve.log"
    reg302 || { WHY="registration failed"; return 1; }
    long_sipp again_a -sn uas -p "$UAS" &
    a=$!
    long_sipp again_b -sf "$SC/uas-fork-2xx-again.xml" -p "$UAS2" &
    b=$!
    BG="$BG $a $b"
    PEERS="$PEERS $a $b"
    wait_port "$UAS" && wait_port "$UAS2"
    long_sipp again 127.0.0.1:"$SIP" -sn uac -s 302 -p "$UAC" -d 38000 -cid_str "%u-%p-again@%s" &&
        reap $a || { WHY="the call to the first phone failed"; return 1; }
    reap $b || { WHY="the losing phone's 200 again was not ACKed (or was BYEd twice)"; return 1; }
}

# The same user's two contacts both ring and the caller gives up: each
# gets our CANCEL (200, 487 ACKed) and the dialled leg ends as cancelled
# once both have answered it (sip_nta_forks_cancel).
case_fork_cancelled() {
    EVIDENCE="$W/forkc.out $W/forkc_a.out $W/forkc_b.out $W/serve.log"
    reg302 || { WHY="registration failed"; return 1; }
    peer forkc_a "$UAS" uas-noanswer
    a=$LAST
    peer forkc_b "$UAS2" uas-noanswer
    b=$LAST
    uac forkc 302 uac-cancel || { WHY="the caller's CANCEL was not answered 200 and 487"; return 1; }
    reap $a && reap $b || { WHY="a ringing contact got no CANCEL"; return 1; }
    expect "the dialled leg did not end as cancelled" wait_for "$W/serve.log" 5 "leg $(call_id forkc)>302 ended by us: cancelled"
}

# The user's two contacts forked, one at a port where nothing listens
# (registered second: its INVITE goes out first): that INVITE draws an
# ICMP port unreachable, which on loopback arrives while the sender is
# still in sendmsg and leaves the error pending on our SIP socket; the live
# contact's INVITE, sent next in the same turn, meets it. sofia cleared it with getsockopt(SO_ERROR) before every
# send; we no longer make that call (sip_guard.c su_soerror), so the send
# that meets the error is made once more (su_vsend): without that the
# second INVITE is lost and the call fails.
case_fork_past_icmp() {
    EVIDENCE="$W/icmp.out $W/icmp.err $W/icmp_b.out $W/icmp.strace $W/serve.log"
    command -v strace >/dev/null || { WHY="strace is not installed (scripts/install-deps.sh)"; return 1; }
    sed "s/@FINAL@/200/" "$SIPSC/register.xml" >"$W/register-200.xml"
    for c in b:$UAS a:$UAS2; do
        sipp_run "regicmp${c%%:*}" 127.0.0.1:"$SIP" -p "$UAC" -m 1 -sf "$W/register-200.xml" -key user 302 \
            -key contact_port "${c#*:}" -key expires 60 -au 302 -ap pw302 || { WHY="registration failed"; return 1; }
    done
    peer icmp_b "$UAS" -
    b=$LAST
    # strace shows the send that met the pending error: without one the
    # case no longer tests what it is for
    strace -f -e trace=sendmsg -e signal=none -o "$W/icmp.strace" -p "$SERVE" 2>"$W/icmp.attach" &
    st=$!
    wait_for "$W/icmp.attach" 10 attached || { kill $st; WHY="strace did not attach"; return 1; }
    uac icmp 302 - -d 300 && reap $b || { kill $st; WHY="the call to the live contact failed (its INVITE lost to the other's ICMP error)"; return 1; }
    kill -INT $st
    wait $st
    expect "no send met an ICMP error left pending (the fork's order changed?)" grep -q "ECONNREFUSED" "$W/icmp.strace"
}

# The production build (mimalloc, not this suite's ASan one) asks for a
# heap in 2 MiB transparent huge pages where the host's THP is on and no
# hugetlb pages are reserved, and says what it got (src/util/heap.c heap_tune).
case_heap_pages() {
    EVIDENCE="$W/heap.log"
    bin=$ROOT/build/callroute
    ldd "$bin" | grep -q libmimalloc || { WHY="$bin is not linked with mimalloc (libmimalloc-dev)"; return 1; }
    want="2 MiB transparent huge pages"
    grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null &&
        want="4 KiB pages (transparent huge pages off)"
    [ "$(cat /proc/sys/vm/nr_hugepages)" = 0 ] || want="4 KiB pages (the host reserves hugetlb pages"
    printf 'version: 1\nroutes:\n  - name: r\n    script: [ { app: log, message: hi } ]\n' >"$W/heap.yaml"
    "$bin" serve "$W/heap.yaml" --sip "udp:127.0.0.1:$SIPREG" --admin off >"$W/heap.log" 2>&1 &
    srv=$!
    PEERS="$PEERS $srv"
    expect "the server did not say 'heap: mimalloc, $want'" wait_for "$W/heap.log" 10 "heap: mimalloc, $want"
}

# options_ping PORT NAME [runts]: an OPTIONS to 127.0.0.1:PORT from a
# fresh UDP socket (branch, tag and Call-ID from NAME); succeeds when it is
# answered 200 within 5 s, and prints the reply's first line. "runts"
# sends an empty datagram, one byte and 2,000 zero bytes before it.
options_ping() {
    /usr/bin/python3 - "$@" <<'PY'
import socket, sys
port, name = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(5)
me = s.getsockname()[1]
if sys.argv[3:] == ["runts"]:
    for junk in (b"", b"x", bytes(2000)):
        s.sendto(junk, ("127.0.0.1", port))
s.sendto((f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
          f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK-{name}-1\r\n"
          f"Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag={name}\r\nTo: <sip:callroute@127.0.0.1>\r\n"
          f"Call-ID: {name}-1@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode(), ("127.0.0.1", port))
reply = s.recv(65536).decode(errors="replace")
print(reply.splitlines()[0])
sys.exit(0 if reply.startswith("SIP/2.0 200") else 1)
PY
}

# serve --heap-prefault (src/util/heap.c): the production build writes
# the heap before the first call and says so; the memory is the server's
# from start (VmRSS), mimalloc allocates from it (the server's own probe,
# or the line would say it does not) and SIP is served. A size it cannot
# take is a usage error that says what it expects.
case_heap_prefault() {
    EVIDENCE="$W/prefault.log $W/prefault_bad.log $W/prefault_opt.out"
    bin=$ROOT/build/callroute
    ldd "$bin" | grep -q libmimalloc || { WHY="$bin is not linked with mimalloc (libmimalloc-dev)"; return 1; }
    printf 'version: 1\nroutes:\n  - name: r\n    script: [ { app: log, message: hi } ]\n' >"$W/heap.yaml"
    "$bin" serve "$W/heap.yaml" --heap-prefault lots >"$W/prefault_bad.log" 2>&1
    [ $? -eq 2 ] && grep -q "expected a size like 512M or 2G" "$W/prefault_bad.log" ||
        { WHY="--heap-prefault lots was not refused as a usage error"; return 1; }
    "$bin" serve "$W/heap.yaml" --sip "udp:127.0.0.1:$SIPREG" --admin off --heap-prefault 320M >"$W/prefault.log" 2>&1 &
    srv=$!
    PEERS="$PEERS $srv"
    expect "the server did not say '320 MiB prefaulted'" wait_for "$W/prefault.log" 20 "heap: mimalloc, .*; 320 MiB prefaulted in " || return 1
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$srv/status")
    [ "${rss:-0}" -ge $((320 * 1024)) ] || { WHY="VmRSS ${rss} KiB after prefaulting 320 MiB"; return 1; }
    options_ping "$SIPREG" prefault >"$W/prefault_opt.out" 2>&1 ||
        { WHY="the prefaulted server did not answer OPTIONS 200"; return 1; }
    kill "$srv"
}

# Datagrams that are no message, sent before a real one: an empty one
# (sofia read a byte to drop it), one byte, and 2,000 bytes of zeros; the
# OPTIONS after them is answered (the receive ahead of sofia's, sip_guard.c,
# consumes each and hands sofia the next).
case_runt_datagrams() {
    EVIDENCE="$W/runts.out $W/serve.log"
    options_ping "$SIP" runts runts >"$W/runts.out" 2>&1 ||
        { WHY="the OPTIONS after the runts was not answered 200"; return 1; }
}

# Per SIP message the server makes one recvmsg or sendmsg and no other
# system call of sofia's: no ioctl(FIONREAD) before a receive, no
# getsockopt(SO_ERROR) before a send (sip_guard.c), no poll after a
# step (sip_loop.c's one wait a wake-up), and at most ten waits a datagram
# (1.3 under load, ~2 at this case's 20 calls/s where timers wake it too;
# a loop that spins makes thousands). strace counts them over 20 calls.
case_syscalls_per_message() {
    EVIDENCE="$W/sysc.strace $W/sysc.attach $W/sysc.out $W/serve.log"
    command -v strace >/dev/null || { WHY="strace is not installed (scripts/install-deps.sh)"; return 1; }
    peer sysc_b "$UAS" - -m 20
    b=$LAST
    strace -f -c -e trace=ioctl,getsockopt,poll,recvmsg,sendmsg,epoll_wait -o "$W/sysc.strace" -p "$SERVE" 2>"$W/sysc.attach" &
    st=$!
    wait_for "$W/sysc.attach" 10 attached || { kill $st; WHY="strace did not attach"; return 1; }
    sipp_run sysc 127.0.0.1:"$SIP" -sn uac -s gw -p "$UAC" -m 20 -r 20 && reap $b || { kill $st; WHY="the 20 calls failed"; return 1; }
    kill -INT $st
    wait $st
    count() { awk -v s="$1" '$NF == s { print $4 }' "$W/sysc.strace"; }
    expect "sofia's ioctl(FIONREAD) per datagram is back" [ -z "$(count ioctl)" ] &&
        expect "sofia's getsockopt(SO_ERROR) per send is back" [ -z "$(count getsockopt)" ] &&
        expect "a poll per wake-up is back" [ -z "$(count poll)" ] &&
        expect "fewer than 120 datagrams received over 20 calls" [ "$(count recvmsg)" -ge 120 ] &&
        expect "more than ten epoll_wait a datagram received (the loop spins?)" \
            [ "$(count epoll_wait)" -le $(($(count recvmsg) * 10)) ]
}

case_bypass_update_by_callee() { # media: bypass: the callee's UPDATE offer (hold) goes to the caller as a re-INVITE, the caller's answer comes back in the 200
    EVIDENCE="$W/bypupd.out $W/bypupd.err $W/bypupd.msg $W/bypupd_uas.out $W/bypupd_uas.err $W/bypupd_uas.msg $W/serve.log"
    peer bypupd_uas "$UAS" agent-hold-update
    p=$LAST
    uac bypupd bypass uac-seed && reap $p || return 1
    # the callee's SDP unchanged in our re-INVITE (its o= version 2353687638),
    # the caller's answer unchanged in our 200 to the UPDATE (o=user1 ... 2353687638)
    expect "the caller's re-INVITE does not carry the callee's offer unchanged" \
        grep -q "^o=uas 53655765 2353687638 " "$W/bypupd.msg" &&
        expect "the 200 to the callee's UPDATE does not carry the caller's answer" \
            grep -q "^o=user1 53655765 2353687638 " "$W/bypupd_uas.msg" &&
        expect "hold by the callee not raised" in_log bypupd "bypass event by agent"
}

case_bypass_reinvite_refused() { # media: bypass: the caller refuses the callee's relayed offer (488): the callee gets 488, the call goes on
    EVIDENCE="$W/bypref.out $W/bypref.err $W/bypref.msg $W/bypref_uas.out $W/bypref_uas.err $W/bypref_uas.msg $W/serve.log"
    peer bypref_uas "$UAS" agent-hold-refused
    p=$LAST
    uac bypref bypass uac-refuse-reinvite && reap $p
}

case_bypass_reinvite_auth() { # media: bypass: the gateway challenges the caller's relayed hold (401): sent again with its credentials, answered, the call goes on
    EVIDENCE="$W/bypauth.out $W/bypauth.err $W/bypauth_uas.out $W/bypauth_uas.err $W/bypauth_uas.msg $W/serve.log"
    peer bypauth_uas "$UAS" uas-reinvite-auth
    p=$LAST
    uac bypauth bypassauth uac-hold-reinvite && reap $p
}

case_bypass_reinvite_challenged() { # media: bypass: a 401 to the relayed hold we have no credentials for: the caller gets 403 (not a 401 without its challenge), the call goes on to its BYE
    EVIDENCE="$W/byp401.out $W/byp401.err $W/byp401.msg $W/byp401_uas.out $W/byp401_uas.err $W/byp401_uas.msg $W/serve.log"
    peer byp401_uas "$UAS" uas-reinvite-401
    p=$LAST
    uac byp401 bypass uac-reinvite-403 && reap $p
}

case_refer_notify() { # the agent's REFER: 202, then one NOTIFY (Event refer;id=1, terminated, sipfrag 200), the transfer event with its target
    EVIDENCE="$W/refnot.out $W/refnot_uas.out $W/refnot_uas.err $W/refnot_uas.msg $W/serve.log"
    peer refnot_uas "$UAS" agent-refer-notify
    p=$LAST
    uac refnot agentrefer uac-wait-bye && reap $p &&
        expect "transfer event not seen" in_log refnot "transfer to 200 by agent"
}

case_bypass_timer_refreshed() { # media: bypass with a 10 s session timer the caller refreshes by re-INVITE: the relayed refresh counts, no BYE from us
    EVIDENCE="$W/byptimer.out $W/byptimer.err $W/byptimer.msg $W/byptimer_uas.out $W/byptimer_uas.err $W/serve.log"
    peer byptimer_uas "$UAS" agent-bypass
    p=$LAST
    uac byptimer bypass uac-timer-bypass && reap $p
}

case_bypass_refresh_callee() { # media: bypass, a 10 s session timer we refresh toward a callee without UPDATE: the refresh re-INVITE offers the caller's SDP (not ours), after the caller's relayed hold its new one
    EVIDENCE="$W/bypref1.out $W/bypref1.err $W/bypref1.msg $W/bypref1_uas.out $W/bypref1_uas.err $W/bypref1_uas.msg $W/serve.log"
    peer bypref1_uas "$UAS" agent-bypass-refreshed
    p=$LAST
    # The callee's scenario checks both refreshes' o=, c= and m= (the caller's).
    uac bypref1 bypass uac-bypass-hold-late && reap $p &&
        expect "the call did not end by the caller" in_log bypref1 "hangup *by caller"
}

case_bypass_refresh_caller() { # media: bypass, a 10 s session timer we refresh toward a caller without UPDATE: the refresh re-INVITE offers the callee's SDP (not ours), after the callee's relayed hold its new one
    EVIDENCE="$W/bypref2.out $W/bypref2.err $W/bypref2.msg $W/bypref2_uas.out $W/bypref2_uas.err $W/bypref2_uas.msg $W/serve.log"
    peer bypref2_uas "$UAS" agent-bypass-hold-late
    p=$LAST
    # The caller's scenario checks both refreshes' o=, c= and m= (the callee's).
    uac bypref2 bypass uac-bypass-refreshed && reap $p &&
        expect "the call did not end by the caller" in_log bypref2 "hangup *by caller"
}

case_bypass_offerless_by_caller() { # media: bypass: the caller's re-INVITE without an offer goes to the callee without one; the callee's offer reaches the caller's 200, the caller's answer the callee's ACK
    EVIDENCE="$W/bypol.out $W/bypol.err $W/bypol.msg $W/bypol_uas.out $W/bypol_uas.err $W/bypol_uas.msg $W/serve.log"
    peer bypol_uas "$UAS" agent-offerless
    p=$LAST
    # The scenarios check the bodies (o= versions 2353687777 and 2353687999).
    uac bypol bypass uac-offerless && reap $p &&
        expect "the callee's offer (sendonly) raised no hold" in_log bypol "bypass event by agent"
}

case_bypass_offerless_by_callee() { # media: bypass: the callee's re-INVITE without an offer goes to the caller without one; the caller's offer reaches the callee's 200, the callee's answer the caller's ACK
    EVIDENCE="$W/bypolc.out $W/bypolc.err $W/bypolc.msg $W/bypolc_uas.out $W/bypolc_uas.err $W/bypolc_uas.msg $W/serve.log"
    peer bypolc_uas "$UAS" agent-offerless-ask
    p=$LAST
    uac bypolc bypass uac-offerless-asked && reap $p &&
        expect "the caller's offer (sendonly) raised no hold" in_log bypolc "bypass event by caller"
}

case_bypass_offerless_glare() { # media: bypass: the callee's own re-INVITE while the caller's offerless one is relayed to it: 491; the relay then completes
    EVIDENCE="$W/bypolg.out $W/bypolg.err $W/bypolg.msg $W/bypolg_uas.out $W/bypolg_uas.err $W/bypolg_uas.msg $W/serve.log"
    peer bypolg_uas "$UAS" agent-offerless-glare
    p=$LAST
    uac bypolg bypass uac-offerless && reap $p
}

case_bypass_offerless_no_answer() { # media: bypass, hostile: the caller ACKs the callee's relayed offer without an answer: the callee is ACKed, both get BYE
    EVIDENCE="$W/bypolna.out $W/bypolna.err $W/bypolna.msg $W/bypolna_uas.out $W/bypolna_uas.err $W/bypolna_uas.msg $W/serve.log"
    peer bypolna_uas "$UAS" agent-offerless-bye
    p=$LAST
    uac bypolna bypass uac-offerless-noanswer && reap $p &&
        expect "the call did not end for the missing answer" in_log bypolna "an ACK without an answer for our offer"
}

case_bypass_offerless_garbage_answer() { # media: bypass, hostile: the caller's ACK carries a body that is no SDP: no answer, the callee's ACK has no body and both get BYE
    EVIDENCE="$W/bypolgb.out $W/bypolgb.err $W/bypolgb.msg $W/bypolgb_uas.out $W/bypolgb_uas.err $W/bypolgb_uas.msg $W/serve.log"
    peer bypolgb_uas "$UAS" agent-offerless-bye
    p=$LAST
    uac bypolgb bypass uac-offerless-garbage && reap $p &&
        expect "the call did not end for the unusable answer" in_log bypolgb "an ACK without an answer for our offer"
}

case_bypass_offerless_huge_offer() { # media: bypass, hostile: the callee answers the relayed offerless re-INVITE with an offer over 8 KB: not passed on; the callee's ACK has no body, then BYE (RFC 3261 13.2.2.4); the caller's re-INVITE gets 500, then BYE
    EVIDENCE="$W/bypolhg.out $W/bypolhg.err $W/bypolhg.msg $W/bypolhg_uas.out $W/bypolhg_uas.err $W/bypolhg_uas.msg $W/serve.log"
    peer bypolhg_uas "$UAS" agent-offerless-huge
    p=$LAST
    uac bypolhg bypass uac-offerless-huge && reap $p &&
        expect "the call did not end for the offer not passed on" in_log bypolhg "an offer we cannot pass on"
}

case_bypass_offerless_no_ack() { # media: bypass, hostile: the caller never ACKs the callee's relayed offer: 64*T1 on the callee is ACKed and both get BYE
    EVIDENCE="$W/bypolnk.out $W/bypolnk.err $W/bypolnk.msg $W/bypolnk_uas.out $W/bypolnk_uas.err $W/bypolnk_uas.msg $W/serve.log"
    peer bypolnk_uas "$UAS" agent-offerless-bye
    p=$LAST
    # Our BYE comes 64*T1 (8 s) after the 200 sipp never ACKs: sipp's own
    # 8 s wait for it would race it (it lost by 0.4 ms under ASan once)
    RECV_TIMEOUT=15000
    uac bypolnk bypass uac-offerless-noack
    rc=$?
    RECV_TIMEOUT=
    [ $rc -eq 0 ] && reap $p &&
        expect "the call did not end for the missing ACK" in_log bypolnk "no ACK for our offer"
}

case_bypass_offerless_peer_left() { # media: bypass: the callee hangs up while the caller's ACK (the answer to the callee's relayed offer) is awaited: the callee's 200 is ACKed (no body) after its BYE's 200, the caller gets BYE; nothing kept past the call
    EVIDENCE="$W/bypolpl.out $W/bypolpl.err $W/bypolpl.msg $W/bypolpl_uas.out $W/bypolpl_uas.err $W/bypolpl_uas.msg $W/serve.log"
    peer bypolpl_uas "$UAS" agent-offerless-leaves
    p=$LAST
    uac bypolpl bypass uac-offerless-peerleft && reap $p
}

case_bypass_offerless_refresh_waits() { # media: bypass: our session refresh toward the caller (re-INVITE, 5 s) does not cross the caller's own re-INVITE still relayed (RFC 3261 14.1): the callee offers 6 s on, the caller's next message is that 200
    EVIDENCE="$W/bypolrf.out $W/bypolrf.err $W/bypolrf.msg $W/bypolrf_uas.out $W/bypolrf_uas.err $W/bypolrf_uas.msg $W/serve.log"
    peer bypolrf_uas "$UAS" agent-offerless-slow
    p=$LAST
    uac bypolrf bypass uac-offerless-refreshed && reap $p
}

case_bypass_redial_refused() { # media: bypass: a dial after the caller's answered call ended (the callee's BYE) has no offer to pass on: failed 488, said in the log, no INVITE sent
    EVIDENCE="$W/bypredial.out $W/bypredial.err $W/bypredial.msg $W/bypredial_uas.out $W/bypredial_uas.err $W/serve.log"
    peer bypredial_uas "$UAS" uas-bye
    p=$LAST
    uac bypredial bypassredial uac-wait-bye && reap $p &&
        expect "the second dial was not refused for want of an offer" \
            in_log bypredial ">5550011: media: bypass: the caller's offer went with its answered call"
}

case_callid_reuse() { # the call's INVITE again by another path (same Call-ID and From tag, new branch): 482, and the call's BYE still finds it (200, not 481)
    EVIDENCE="$W/cidreuse.out $W/cidreuse.err $W/cidreuse.msg $W/serve.log"
    uac cidreuse basic uac-callid-reuse &&
        expect "hangup by caller not traced" in_log cidreuse "hangup *by caller"
}

case_message_in_call() { # a MESSAGE in a call's dialog: 405 with Allow (RFC 3261 21.4.6), the call goes on to its BYE
    EVIDENCE="$W/msgcall.out $W/msgcall.err $W/msgcall.msg $W/serve.log"
    uac msgcall basic uac-message-in-call
}

case_answer_no_dialog() { # the gateway's 200 makes no dialog (a tel: Contact): the dial fails 502 and the leg is done with, not kept until shutdown
    EVIDENCE="$W/nodlg.out $W/nodlg_uas.out $W/nodlg_uas.msg $W/serve_nodlg.log"
    # a serve of its own (on the registration case's port): its shutdown
    # says how many legs it still had
    sed -e "s|@RTP@|$((RTP + 500))-$((RTP + 999))|g; s|@UAS@|$UAS|g; s|@UAC@|$UAC|g" "$HERE/suite.yaml" >"$W/nodlg.yaml"
    "$CR" serve "$W/nodlg.yaml" --sip "udp:127.0.0.1:$SIPREG" --admin off --log-level debug >"$W/serve_nodlg.log" 2>&1 &
    srv=$!
    BG="$BG $srv"
    wait_for "$W/serve_nodlg.log" 15 'listening for SIP' || { WHY="the second serve did not start"; return 1; }
    peer nodlg_uas "$UAS" uas-200-tel-contact
    p=$LAST
    sipp_run nodlg 127.0.0.1:"$SIPREG" -p "$UAC" -s gw -m 1 -sn uac -d 500 -nd
    reap $p
    expect "the dial did not fail on the unusable 200" grep -q "dial_status=\"failed\"" "$W/serve_nodlg.log" || return 1
    kill -TERM "$srv"
    reap "$srv" || { WHY="serve did not exit 0 (the leg kept until shutdown, then dropped?)"; return 1; }
    expect "the failed leg was still there at shutdown" grep -q "shutting down: 0 legs to end" "$W/serve_nodlg.log" &&
        expect "sanitizer report in the server log" sh -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$W/serve_nodlg.log'"
}

case_refer_long() { # the agent's REFER to a 400-character URI with no user part: 400, no transfer, the call goes on to its BYE
    EVIDENCE="$W/reflong.out $W/reflong_uas.out $W/reflong_uas.err $W/reflong_uas.msg $W/serve.log"
    peer reflong_uas "$UAS" agent-refer-long
    p=$LAST
    uac reflong agentrefer uac-wait-bye && reap $p &&
        expect "a transfer event was raised" sh -c "! grep -F -- '$(call_id reflong)' '$W/serve.log' | grep -q 'transfer to'"
}

for c in ${SIP_CASES:-retransmissions callid_reuse message_in_call answer_no_dialog 200_until_ack cancel cancel_dialled cancel_after_200 cancel_crosses_callee_200 481 \
    bye_during_reinvite hold_by_caller hold_by_callee glare glare_retried reinvite_early ivr_info ivr_rfc4733 gateway_auth \
    session_timer_silent session_timer_refreshed hold_by_update hold_update_by_callee reinvite_2xx_again reinvite_2xx_late 422_retried \
    cancel_no_final register_outbound_tcp outbound_udp fork_late_2xx fork_2xx_again fork_cancelled fork_past_icmp syscalls_per_message runt_datagrams heap_pages heap_prefault message_from_user message_gateway_auth \
    mwi_refresh_expiry mwi_refresh_contact mwi_cap bypass_update_by_callee bypass_reinvite_refused bypass_reinvite_auth bypass_reinvite_challenged bypass_timer_refreshed \
    bypass_refresh_callee bypass_refresh_caller bypass_offerless_by_caller bypass_offerless_by_callee bypass_offerless_glare bypass_offerless_no_answer bypass_offerless_garbage_answer bypass_offerless_huge_offer bypass_offerless_no_ack bypass_offerless_peer_left bypass_offerless_refresh_waits bypass_redial_refused refer_notify refer_long}; do
    run "$c"
done

# Listed in SIP_CASES it runs in the loop above.
[ -n "${SIP_CASES:-}" ] || run gateway_register_refresh

# A reload (SIGHUP) to `core: nua`, the core removed in this version: the
# file fails its check (the error says to delete the line), the running
# revision is kept, and the server still takes calls.
case_reload_core() {
    EVIDENCE="$W/serve.log $W/afternua.out $W/afternua.msg"
    cp "$W/suite.yaml" "$W/suite.yaml.nta"
    sed -i 's/core: nta/core: nua/' "$W/suite.yaml"
    kill -HUP "$SERVE"
    expect "no check error for core: nua in the log" \
        wait_for "$W/serve.log" 10 "error: the nua core was removed in this version (nta is the only SIP core): delete this line" &&
        expect "the reload was not refused" wait_for "$W/serve.log" 10 "reload of .* (SIGHUP) failed: keeping revision" &&
        cp "$W/suite.yaml.nta" "$W/suite.yaml" &&
        expect "no call taken after the refused reload" uac afternua ring uac-cancel
}
run reload_core

# A clean exit: SIGTERM, exit 0, no sanitizer report.
kill -TERM "$SERVE"
if ! reap "$SERVE"; then
    bad shutdown "serve did not exit 0" "$W/serve.log"
elif grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$W/serve.log"; then
    bad shutdown "sanitizer report in the server log" "$W/serve.log"
else
    ok shutdown
fi
[ "$FAILS" -eq 0 ]
