#!/bin/sh
# tests/srtp/suite.sh — SRTP with SDES (issue 19, item 2) against a real
# SRTP phone: baresip (its srtp module, `mediaenc=srtp-mand`: RTP/SAVP with
# a=crypto) calls user 301 (srtp: required) through callroute to a plain
# trunk: sipp answers with an SDP naming tests/sip/rtp_peer.py's port,
# which plays RTP. baresip sends a 440 Hz tone (ausine) and dumps what it
# decodes (sndfile); the trunk's peer sends 1000 Hz and records what it
# receives. Cases:
#   phone_to_trunk  the SDP toward baresip has RTP/SAVP and a=crypto, the
#                   trunk's has RTP/AVP and none; the trunk receives 440 Hz
#                   (decrypted), baresip decodes 1000 Hz (encrypted for it:
#                   its srtp module authenticates every packet)
#   required_plain  a plain offer (sipp) to a gateway with srtp: required: 488
#   off_savp        baresip's RTP/SAVP offer from user 302 (srtp: off): 488
#   optional_to_srtp_callee  a plain caller (sipp + rtp_peer.py) dials, on
#                   srtp: optional, baresip answering with `mediaenc=srtp`:
#                   our offer has RTP/AVP + a=crypto + a=rtcp-mux, baresip
#                   answers with crypto, audio flows both ways (encrypted
#                   on baresip's leg, plain on the caller's), and baresip's
#                   SRTCP on the muxed port is not relayed to the caller
#   clean_exit      no sanitizer report (leak) when the server stops
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
HERE=$ROOT/tests/srtp
SUITE=srtp
PY=/usr/bin/python3
. "$ROOT/tests/sip/lib.sh"

if ! command -v baresip >/dev/null || [ ! -f /usr/lib/baresip/modules/srtp.so ]; then
    echo "FAIL $SUITE:setup"
    echo "    needs baresip-core (scripts/install-deps.sh)"
    exit 1
fi

# shellcheck disable=SC2046
set -- $($PY "$ROOT/tests/sip/ports.py" 9)
SIP=$1 PHONE=$2 TRUNK=$3 PEER=$4 PLAIN=$5 PHONE2=$6 CALLEE=$7 CALLER=$8 CALLERRTP=$9
shift 9
RTP=$1

cat >"$W/srtp.yaml" <<YAML
version: 1
settings:
  sip: { listen: ["udp:127.0.0.1:$SIP"] }
  media: { rtp_ports: "$RTP-$((RTP + 199))", srtp: optional }
users:
  "301": { password: pw301, srtp: required }
  "302": { password: pw302, srtp: off }
gateways:
  trunk: { uri: "sip:127.0.0.1:$TRUNK", srtp: off }
  plainin: { uri: "sip:127.0.0.1:$PLAIN", srtp: required }
  srtpcallee: { uri: "sip:127.0.0.1:$CALLEE" }   # srtp: settings' optional
  plaincaller: { uri: "sip:127.0.0.1:$CALLER", srtp: off }
routes:
  - name: tocallee
    conditions: [ { var: called_number, op: equals, value: "600" } ]
    script: [ { app: dial, gateway: srtpcallee, to: "600", timeout: 10 } ]
  - name: phones
    type: from_user
    script: [ { app: dial, gateway: trunk, to: "500", timeout: 10 } ]
  - name: trunkin
    script: [ { app: answer }, { app: hangup } ]
YAML

(cd "$W" && exec "$CR" serve srtp.yaml --admin off --log-level debug >"$W/serve.log" 2>&1) &
SERVE=$!
BG="$BG $SERVE"
if ! wait_for "$W/serve.log" 15 'listening for SIP' || ! wait_port "$SIP"; then
    bad setup "callroute serve did not start" "$W/serve.log"
    exit 1
fi

# phone_conf DIR PORT USER: a baresip config dir for USER on PORT. Audio
# devices: ausine (a 440 Hz source, 48 kHz stereo only: baresip resamples)
# and aubridge as a player that plays nowhere; sndfile dumps what is encoded
# and decoded to DIR/snd. net_interface: it announces 127.0.0.1.
phone_conf() {
    mkdir -p "$1/snd"
    cat >"$1/config" <<EOF
poll_method epoll
sip_listen 127.0.0.1:$2
net_interface 127.0.0.1
audio_player aubridge,nil
audio_source ausine,440
audio_alert aubridge,nil
ausrc_srate 48000
ausrc_channels 2
auplay_srate 48000
auplay_channels 1
rtp_ports $((RTP + 500))-$((RTP + 599))
module_path /usr/lib/baresip/modules
module stdio.so
module g711.so
module ausine.so
module aubridge.so
module sndfile.so
module srtp.so
module_app account.so
module_app menu.so
snd_path $1/snd
EOF
    echo "<sip:$3@127.0.0.1:$SIP;transport=udp>;auth_pass=pw$3;regint=0;mediaenc=srtp-mand;audio_codecs=PCMU" \
        >"$1/accounts"
}

# The SIP messages of baresip's trace (-s) sent by callroute to it, one per
# paragraph, CRs dropped.
from_server() {
    awk -v hdr="UDP 127.0.0.1:$SIP -> " '
        /^UDP / { keep = index($0, hdr) == 1; next }
        /^\033\[;m$|^\[;m$/ { if (keep) print ""; keep = 0; next }
        keep { sub(/\r$/, ""); print }' "$1"
}

case_phone_to_trunk() {
    EVIDENCE="$W/phone.out $W/trunk.out $W/peer.out $W/serve.log"
    phone_conf "$W/phone" "$PHONE" 301
    timeout 30 sipp -sf "$HERE/uas-peer.xml" -i 127.0.0.1 -p "$TRUNK" -m 1 -nostdin -key rtpport "$PEER" \
        -key portfile "$W/peer.port" -trace_msg -message_file "$W/trunk.msg" -timeout 25 -timeout_error \
        >"$W/trunk.out" 2>&1 &
    UAS=$!
    PEERS="$PEERS $UAS"
    wait_port "$TRUNK" || { WHY="the trunk (sipp) did not start"; return 1; }
    timeout 30 $PY "$ROOT/tests/sip/rtp_peer.py" "$W/peer.port" "$PEER" 5 --tone 1000 --record "$W/peer.rec" \
        >"$W/peer.out" 2>&1 &
    RTPP=$!
    PEERS="$PEERS $RTPP"
    # baresip dials at once and hangs up when it quits (-t 5)
    timeout 20 baresip -f "$W/phone" -s -e "/dial sip:500@127.0.0.1:$SIP" -t 5 >"$W/phone.out" 2>&1
    reap "$RTPP"
    reap "$UAS" || { WHY="the trunk's call did not end normally"; return 1; }
    from_server "$W/phone.out" >"$W/to-phone.sip"
    expect "callroute's 200 toward baresip has no RTP/SAVP m= line" \
        grep -Eq '^m=audio [0-9]+ RTP/SAVP ' "$W/to-phone.sip" || return 1
    expect "callroute's answer toward baresip has no a=crypto line" \
        grep -Eq '^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}$' "$W/to-phone.sip" || return 1
    expect "baresip did not turn SRTP on" grep -q 'SRTP is Enabled' "$W/phone.out" || return 1
    # the trunk's INVITE: plain RTP, no keys
    expect "the trunk's offer is not RTP/AVP" grep -Eq '^m=audio [0-9]+ RTP/AVP ' "$W/trunk.msg" || return 1
    expect "the trunk was sent keys or RTP/SAVP" sh -c "! grep -Eq 'a=crypto|RTP/SAVP' '$W/trunk.msg'" || return 1
    # audio both ways: decrypted toward the trunk, encrypted toward baresip
    expect "the trunk did not receive baresip's 440 Hz tone (decrypted)" \
        $PY "$HERE/tone.py" "$W/peer.rec" 440 >"$W/tone-trunk.out" 2>&1 || return 1
    dec=$(ls "$W"/phone/snd/*-dec.wav 2>/dev/null | head -1)
    expect "baresip did not decode the trunk's 1000 Hz tone" \
        $PY "$HERE/tone.py" "${dec:-missing.wav}" 1000 >"$W/tone-phone.out" 2>&1 || return 1
    expect "callroute dropped packets (strict source or SRTP authentication)" \
        sh -c "! grep -q 'packets dropped' '$W/serve.log'"
}

case_optional_to_srtp_callee() {
    EVIDENCE="$W/callee.out $W/caller.out $W/caller.rtp $W/serve.log"
    phone_conf "$W/callee" "$CALLEE" 600
    # it answers by itself, SRTP when offered (mediaenc=srtp: best effort)
    echo "<sip:600@127.0.0.1:$SIP;transport=udp>;regint=0;answermode=auto;mediaenc=srtp;audio_codecs=PCMU" \
        >"$W/callee/accounts"
    echo "rtcp_mux yes" >>"$W/callee/config"   # its SRTCP then comes to our RTP port
    timeout 25 baresip -f "$W/callee" -s -v -t 16 >"$W/callee.out" 2>&1 &   # -v: its RTCP said
    callee=$!
    PEERS="$PEERS $callee"
    wait_port "$CALLEE" || { WHY="baresip (the callee) did not start"; return 1; }
    # 7 s: past RTCP's first interval (RFC 3550: 2.5 s, randomised), so
    # baresip's SRTCP reaches callroute while the call is up
    sed "s/@HOLD@/7000/" "$ROOT/tests/hostile/media-call.xml" >"$W/caller.xml"
    timeout 30 sipp 127.0.0.1:"$SIP" -sf "$W/caller.xml" -s 600 -m 1 -i 127.0.0.1 -p "$CALLER" -nostdin \
        -key rtpip 127.0.0.1 -key rtpport "$CALLERRTP" -key portfile "$W/caller.port" \
        -timeout 25 -timeout_error >"$W/caller.out" 2>&1 &
    caller=$!
    PEERS="$PEERS $caller"
    timeout 30 $PY "$ROOT/tests/sip/rtp_peer.py" "$W/caller.port" "$CALLERRTP" 6 --tone 1000 \
        --record "$W/caller.rec" >"$W/caller.rtp" 2>&1
    reap "$caller" || { WHY="the caller's call did not end normally"; return 1; }
    kill "$callee" 2>/dev/null
    wait "$callee" 2>/dev/null
    from_server "$W/callee.out" >"$W/to-callee.sip"
    expect "our offer to the callee is not RTP/AVP" grep -Eq '^m=audio [0-9]+ RTP/AVP ' "$W/to-callee.sip" &&
        expect "our offer to the callee has no a=crypto (srtp: optional)" \
            grep -Eq '^a=crypto:[0-9]+ AES_CM_128_HMAC_SHA1_(80|32) inline:' "$W/to-callee.sip" &&
        expect "baresip did not turn SRTP on" grep -q 'SRTP is Enabled' "$W/callee.out" &&
        expect "RTCP is not multiplexed on baresip's leg" grep -q 'RTP/RTCP multiplexing enabled' "$W/callee.out" &&
        expect "baresip did not start RTCP" grep -q 'starting RTCP with remote' "$W/callee.out" &&
        expect "RTCP (SRTCP from the callee) was relayed to the plain caller" sh -c "! grep -q '^rtcp' '$W/caller.rtp'" &&
        expect "callroute dropped packets (SRTCP taken for SRTP that failed authentication?)" \
            sh -c "! grep -q 'packets dropped' '$W/serve.log'" &&
        expect "the caller did not receive the callee's 440 Hz tone (decrypted)" \
            $PY "$HERE/tone.py" "$W/caller.rec" 440 >"$W/tone-caller.out" 2>&1 || return 1
    dec=$(ls "$W"/callee/snd/*-dec.wav 2>/dev/null | head -1)
    expect "baresip did not decode the caller's 1000 Hz tone (encrypted for it)" \
        $PY "$HERE/tone.py" "${dec:-missing.wav}" 1000 >"$W/tone-callee.out" 2>&1
}

case_required_plain() {
    EVIDENCE="$W/plain.out $W/serve.log"
    sed "s/@CODE@/488/" "$ROOT/tests/sip/scenarios/uac-reject.xml" >"$W/uac-488.xml"
    expect "a plain offer to an srtp: required gateway was not refused with 488" \
        timeout 30 sipp 127.0.0.1:"$SIP" -sf "$W/uac-488.xml" -s 700 -i 127.0.0.1 -p "$PLAIN" -m 1 -nostdin \
        -timeout 20 -timeout_error >"$W/plain.out" 2>&1 || return 1
    expect "the refusal was not logged with its reason" \
        grep -q 'SDP refused by srtp required: RTP/AVP without usable crypto' "$W/serve.log"
}

case_off_savp() {
    EVIDENCE="$W/phone2.out $W/serve.log"
    phone_conf "$W/phone2" "$PHONE2" 302
    timeout 20 baresip -f "$W/phone2" -s -e "/dial sip:500@127.0.0.1:$SIP" -t 3 >"$W/phone2.out" 2>&1
    from_server "$W/phone2.out" >"$W/to-phone2.sip"
    expect "baresip's RTP/SAVP offer from an srtp: off user was not refused with 488" \
        grep -q '^SIP/2.0 488 ' "$W/to-phone2.sip" || return 1
    expect "the refusal was not logged with its reason" \
        grep -q 'SDP refused by srtp off: RTP/SAVP with crypto' "$W/serve.log"
}

# The server stops cleanly: under ASan (tests/run.sh), no leak of libsrtp2
# contexts or sanitizer report.
case_clean_exit() {
    EVIDENCE="$W/serve.log"
    kill "$SERVE" 2>/dev/null
    wait "$SERVE" 2>/dev/null
    BG=$(echo "$BG" | sed "s/\b$SERVE\b//")
    expect "sanitizer report in the server log" \
        sh -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$W/serve.log'"
}

run phone_to_trunk
run required_plain
run off_savp
run optional_to_srtp_callee
run clean_exit
[ "$FAILS" -eq 0 ]
