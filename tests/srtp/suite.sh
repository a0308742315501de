#!/bin/sh
# tests/srtp/suite.sh — SRTP with SDES (issue 19, item 2) against a real
# SRTP phone: baresip (its srtp module, `mediaenc=srtp-mand`: RTP/SAVP with
# a=crypto), registered as user 301 (srtp: required) over TLS (issue 19,
# item 1: its account's `;transport=tls`, the test's CA made by openssl in
# `sip_cafile`), calls through callroute to a plain trunk: sipp answers with
# an SDP naming tests/sip/rtp_peer.py's port, which plays RTP. baresip
# sends a 440 Hz tone (ausine) and dumps what it decodes (sndfile); the
# trunk's peer sends 1000 Hz and records what it receives. What baresip
# sends to callroute's RTP ports is captured on loopback (capture.py, an
# AF_PACKET socket: as root, or with CAP_NET_RAW). Cases:
#   tls_phone_to_trunk  baresip's REGISTER and INVITE go over TLS (its SIP
#                   trace, the registered Contact), and our answer's Contact
#                   is sip:...;transport=tls (a sips: one baresip cannot
#                   send its ACK to); the SDP toward baresip has RTP/SAVP
#                   and a=crypto, the trunk's has RTP/AVP and none; what
#                   baresip sends to callroute is encrypted (170-byte
#                   payloads: PCMU + the 80-bit tag, no 440 Hz in them
#                   decoded as G.711) while the trunk receives 440 Hz
#                   (decrypted), and baresip decodes 1000 Hz (encrypted for
#                   it: its srtp module authenticates every packet)
#   srtp_play       a prompt (700 Hz) played to baresip: it decodes 700 Hz
#   srtp_record     `record` on baresip's leg: the recording has 440 Hz
#   srtp_dtmf       baresip sends a digit (its console's /sndcode) as
#                   RFC 4733 events inside SRTP (payload type 101 on the
#                   wire, 14-byte payloads: 4 + the tag, not the clear
#                   event; no INFO): read_digits gets it and a switch on it
#                   routes the call
#   srtp_conference baresip and a plain sipp caller (rtp_peer.py, 1000 Hz)
#                   in one room: each decodes the other's tone
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

if ! command -v baresip >/dev/null || [ ! -f /usr/lib/baresip/modules/srtp.so ] || ! command -v openssl >/dev/null; then
    echo "FAIL $SUITE:setup"
    echo "    needs baresip-core and openssl (scripts/install-deps.sh)"
    exit 1
fi

# shellcheck disable=SC2046
set -- $($PY "$ROOT/tests/sip/ports.py" 17)
SIP=$1 PHONE=$2 TRUNK=$3 PEER=$4 PLAIN=$5 PHONE2=$6 CALLEE=$7 CALLER=$8 CALLERRTP=$9
shift 9
TLS=$1 PPLAY=$2 PREC=$3 PDTMF=$4 PCONF=$5 CONS=$6 CONFCALLER=$7 CONFRTP=$8 RTP=$9

sh "$ROOT/tests/tls/certs.sh" "$W" || { bad setup "openssl could not make the certificates"; exit 1; }
mkdir -p "$W/sounds"
# the prompt of srtp_play: 700 Hz, 4 s, 8 kHz mono
$PY - "$W/sounds/tone700.wav" <<'PY'
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb")
w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 700 * i / 8000))) for i in range(32000)))
PY


cat >"$W/srtp.yaml" <<YAML
version: 1
settings:
  sip:
    listen: ["udp:127.0.0.1:$SIP", "tls:127.0.0.1:$TLS"]
    tls: { cert: server.pem, key: server.key, ca: ca.pem }
  media: { rtp_ports: "$RTP-$((RTP + 199))", srtp: optional }
users:
  "301": { password: pw301, srtp: required }
  "302": { password: pw302, srtp: off }
gateways:
  trunk: { uri: "sip:127.0.0.1:$TRUNK", srtp: off }
  plainin: { uri: "sip:127.0.0.1:$PLAIN", srtp: required }
  srtpcallee: { uri: "sip:127.0.0.1:$CALLEE" }   # srtp: settings' optional
  plaincaller: { uri: "sip:127.0.0.1:$CALLER", srtp: off }
  confcaller: { uri: "sip:127.0.0.1:$CONFCALLER", srtp: off }
conferences:
  encrypted: { max_members: 4 }
routes:
  # what an SRTP phone's calls do (user 301): 401 plays a prompt, 402
  # records, 403 reads a digit and routes on it, 404 joins a room
  - name: play
    type: from_user
    conditions: [ { var: called_number, op: equals, value: "401" } ]
    script: [ { app: answer }, { app: play, file: tone700.wav }, { app: hangup } ]
  - name: record
    type: from_user
    conditions: [ { var: called_number, op: equals, value: "402" } ]
    script:
      - { app: answer }
      - { app: record, file: "srtp-{call_id}.wav", beep: false, max_seconds: 3 }
      - { app: log, message: "recorded {record_file}" }
      - { app: hangup }
  - name: menu
    type: from_user
    conditions: [ { var: called_number, op: equals, value: "403" } ]
    script:
      - { app: answer }
      - { app: read_digits, max_digits: 1, timeout: 10, var: choice }
      - app: switch
        value: "{choice}"
        cases:
          "5": [ { app: log, message: "menu: sales (digit {choice})" } ]
        default: [ { app: log, message: "menu: no choice" } ]
      - { app: hangup }
  - name: room
    type: from_user
    conditions: [ { var: called_number, op: equals, value: "404" } ]
    script: [ { app: conference, room: encrypted } ]
  - name: room-plain
    conditions: [ { var: called_number, op: equals, value: "404" } ]
    script: [ { app: conference, room: encrypted } ]
  - name: tocallee
    conditions: [ { var: called_number, op: equals, value: "600" } ]
    script: [ { app: dial, gateway: srtpcallee, to: "600", timeout: 10 } ]
  - name: phones
    type: from_user
    script: [ { app: dial, gateway: trunk, to: "500", timeout: 10 } ]
  - name: trunkin
    script: [ { app: answer }, { app: hangup } ]
YAML

# Under LeakSanitizer (tests/run.sh), sofia's per-connection TLS leak is
# suppressed for this serve only (tests/tls/lsan.supp says why).
SERVE_LSAN=${LSAN_OPTIONS:-}
if [ -n "$SERVE_LSAN" ]; then
    cat "$ROOT/tests/lsan.supp" "$ROOT/tests/tls/lsan.supp" >"$W/lsan.supp"
    SERVE_LSAN="suppressions=$W/lsan.supp:print_suppressions=0"
fi
(cd "$W" && LSAN_OPTIONS=$SERVE_LSAN exec "$CR" serve srtp.yaml --admin off --log-level debug >"$W/serve.log" 2>&1) &
SERVE=$!
BG="$BG $SERVE"
if ! wait_for "$W/serve.log" 15 'listening for SIP' || ! wait_port "$SIP"; then
    bad setup "callroute serve did not start" "$W/serve.log"
    exit 1
fi

# phone_conf DIR PORT USER: a baresip config dir for USER on PORT (UDP; its
# TLS is on PORT + 1). Audio devices: ausine (a 440 Hz source, 48 kHz
# stereo only: baresip resamples) and aubridge as a player that plays
# nowhere; sndfile dumps what is encoded and decoded to DIR/snd.
# net_interface: it announces 127.0.0.1. Its console (cons) takes commands
# on UDP port CONS.
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
module cons.so
module_app account.so
module_app menu.so
snd_path $1/snd
sip_cafile $W/ca.pem
cons_listen 127.0.0.1:$CONS
EOF
    echo "<sip:$3@127.0.0.1:$SIP;transport=udp>;auth_pass=pw$3;regint=0;mediaenc=srtp-mand;audio_codecs=PCMU" \
        >"$1/accounts"
}

# tls_phone_conf DIR PORT USER: the same, registered over TLS (60 s).
tls_phone_conf() {
    phone_conf "$@"
    echo "<sip:$3@127.0.0.1:$TLS;transport=tls>;auth_pass=pw$3;regint=60;mediaenc=srtp-mand;audio_codecs=PCMU" \
        >"$1/accounts"
}

# The SIP messages of baresip's trace (-s) sent by callroute to it (over
# UDP, or over TLS with "TLS" as $2), one per paragraph, CRs dropped.
from_server() {
    case "${2:-UDP}" in TLS) hdr="TLS 127.0.0.1:$TLS -> " ;; *) hdr="UDP 127.0.0.1:$SIP -> " ;; esac
    awk -v hdr="$hdr" '
        /^(UDP|TLS) / { keep = index($0, hdr) == 1; next }
        /^\033\[;m$|^\[;m$/ { if (keep) print ""; keep = 0; next }
        keep { sub(/\r$/, ""); print }' "$1"
}

# capture_start NAME: what baresip sends from its RTP ports to callroute's
# goes to $W/NAME.cap (capture.py) until capture_stop.
capture_start() {
    $PY "$HERE/capture.py" "$W/$1.cap" "$RTP" "$((RTP + 199))" "$((RTP + 500))" "$((RTP + 599))" \
        >"$W/$1.capture" 2>&1 &
    CAP=$!
    PEERS="$PEERS $CAP"
    wait_for "$W/$1.capture" 10 '^ready' ||
        { WHY="capture.py did not start (an AF_PACKET socket needs root or CAP_NET_RAW)"; return 1; }
}
capture_stop() {
    kill -TERM "$CAP" 2>/dev/null
    wait "$CAP" 2>/dev/null
}

# phone_call DIR NUMBER SECONDS: baresip (DIR's config) dials NUMBER over
# TLS and hangs up when it quits after SECONDS (or when callroute does).
phone_call() {
    timeout $(($3 + 15)) baresip -f "$1" -s -e "/dial sip:$2@127.0.0.1:$TLS;transport=tls" -t "$3" \
        >"$1.out" 2>&1
}

# decoded DIR HZ: baresip (DIR) decoded a tone of HZ
decoded() {
    dec=$(ls "$1"/snd/*-dec.wav 2>/dev/null | head -1)
    $PY "$HERE/tone.py" "${dec:-missing.wav}" "$2" >"$1.tone" 2>&1
}

case_tls_phone_to_trunk() {
    EVIDENCE="$W/phone.out $W/trunk.out $W/peer.out $W/wire.capture $W/tone-wire.out $W/serve.log"
    tls_phone_conf "$W/phone" "$PHONE" 301
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
    capture_start wire || return 1
    # baresip registers and dials at once, and hangs up when it quits (-t 5)
    phone_call "$W/phone" 500 5
    capture_stop
    reap "$RTPP"
    reap "$UAS" || { WHY="the trunk's call did not end normally"; return 1; }
    # signalling over TLS: baresip's REGISTER and INVITE, our answers
    expect "baresip's REGISTER did not go over TLS to callroute's tls: port" \
        sh -c "grep -A1 '^TLS 127.0.0.1:[0-9]* -> 127.0.0.1:$TLS\$' '$W/phone.out' | grep -q '^REGISTER sip:'" ||
        return 1
    expect "baresip's INVITE did not go over TLS" \
        sh -c "grep -A1 '^TLS 127.0.0.1:[0-9]* -> 127.0.0.1:$TLS\$' '$W/phone.out' | grep -q '^INVITE sip:500@'" ||
        return 1
    expect "callroute did not register baresip's TLS Contact" \
        grep -q "user 301: registered sip:301-[^ ]*;transport=tls" "$W/serve.log" || return 1
    from_server "$W/phone.out" TLS >"$W/to-phone.sip"
    expect "our answer's Contact is not sip:...;transport=tls (baresip cannot route to sips:)" \
        grep -q "^Contact: <sip:127.0.0.1:$TLS;transport=tls>" "$W/to-phone.sip" || return 1
    expect "baresip did not establish the call (no ACK to our 200?)" \
        grep -q "Call established: sip:500@" "$W/phone.out" || return 1
    expect "callroute's 200 toward baresip has no RTP/SAVP m= line" \
        grep -Eq '^m=audio [0-9]+ RTP/SAVP ' "$W/to-phone.sip" || return 1
    expect "callroute's answer toward baresip has no a=crypto line" \
        grep -Eq '^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[A-Za-z0-9+/]{40}$' "$W/to-phone.sip" || return 1
    expect "baresip did not turn SRTP on" grep -q 'SRTP is Enabled' "$W/phone.out" || return 1
    # the trunk's INVITE: plain RTP, no keys
    expect "the trunk's offer is not RTP/AVP" grep -Eq '^m=audio [0-9]+ RTP/AVP ' "$W/trunk.msg" || return 1
    expect "the trunk was sent keys or RTP/SAVP" sh -c "! grep -Eq 'a=crypto|RTP/SAVP' '$W/trunk.msg'" || return 1
    # on the wire toward callroute: SRTP (PCMU + the 10-byte tag), no tone
    expect "capture.py saw no 170-byte PCMU payloads toward callroute (SRTP: 160 + the tag)" \
        grep -Eq '^pcmu [0-9]+ lengths \{170: ([5-9][0-9]|[1-9][0-9]{2,})\}$' "$W/wire.capture" || return 1
    expect "the RTP baresip sent to callroute carries the 440 Hz tone in the clear" \
        sh -c "! $PY '$HERE/tone.py' '$W/wire.cap' 440 >'$W/tone-wire.out' 2>&1" || return 1
    # audio both ways: decrypted toward the trunk, encrypted toward baresip
    expect "the trunk did not receive baresip's 440 Hz tone (decrypted)" \
        $PY "$HERE/tone.py" "$W/peer.rec" 440 >"$W/tone-trunk.out" 2>&1 || return 1
    expect "baresip did not decode the trunk's 1000 Hz tone" decoded "$W/phone" 1000 || return 1
    expect "callroute dropped packets (strict source or SRTP authentication)" \
        sh -c "! grep -q 'packets dropped' '$W/serve.log'"
}

# A prompt played to an SRTP leg is encrypted for it: baresip (which drops
# what fails authentication) decodes its 700 Hz.
case_srtp_play() {
    EVIDENCE="$W/pplay.out $W/pplay.tone $W/serve.log"
    tls_phone_conf "$W/pplay" "$PPLAY" 301
    phone_call "$W/pplay" 401 8
    expect "baresip did not turn SRTP on" grep -q 'SRTP is Enabled' "$W/pplay.out" || return 1
    expect "the scenario did not end the call after its prompt" grep -q 'route play .*hangup by scenario' "$W/serve.log" ||
        return 1
    expect "baresip did not decode the prompt's 700 Hz" decoded "$W/pplay" 700
}

# `record` on an SRTP leg records what it decrypted: baresip's 440 Hz.
case_srtp_record() {
    EVIDENCE="$W/prec.out $W/rec.tone $W/serve.log"
    tls_phone_conf "$W/prec" "$PREC" 301
    phone_call "$W/prec" 402 8
    expect "baresip did not turn SRTP on" grep -q 'SRTP is Enabled' "$W/prec.out" || return 1
    file=$(sed -n 's/.*log .*recorded \(recordings\/srtp-[^ ]*\.wav\).*/\1/p' "$W/serve.log" | head -1)
    expect "the scenario logged no recording" [ -n "$file" ] || return 1
    expect "the recording has not baresip's 440 Hz tone" \
        $PY "$HERE/tone.py" "$W/$file" 440 >"$W/rec.tone" 2>&1
}

# A digit baresip sends (RFC 4733 inside SRTP, after the call is up) is
# read by read_digits and routes the call.
case_srtp_dtmf() {
    EVIDENCE="$W/pdtmf.out $W/dtmf.capture $W/dtmf.cap.events $W/serve.log"
    tls_phone_conf "$W/pdtmf" "$PDTMF" 301
    capture_start dtmf || return 1
    phone_call "$W/pdtmf" 403 10 &
    phone=$!
    PEERS="$PEERS $phone"
    if wait_for "$W/pdtmf.out" 10 'Call established'; then
        $PY -c 'import socket, sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"/sndcode 5\n", ("127.0.0.1", int(sys.argv[1])))' "$CONS"
    fi
    wait "$phone"
    capture_stop
    expect "baresip did not turn SRTP on" grep -q 'SRTP is Enabled' "$W/pdtmf.out" || return 1
    expect "read_digits did not get baresip's 5" grep -q 'end   read_digits .* ok  choice="5"' "$W/serve.log" &&
        expect "the digit did not route the call (switch)" grep -q 'menu: sales (digit 5)' "$W/serve.log" || return 1
    expect "baresip sent the digit in a SIP INFO, not RFC 4733" sh -c "! grep -q '^INFO sip:' '$W/pdtmf.out'" ||
        return 1
    # on the wire: payload type 101 (its header is clear), the event not
    expect "capture.py saw no RFC 4733 packets (payload type 101) toward callroute" \
        grep -Eq '^events ([3-9]|[1-9][0-9]+)$' "$W/dtmf.capture" || return 1
    expect "an RFC 4733 payload is not 4 bytes + the 10-byte SRTP tag" \
        sh -c "! grep -qv '^14 ' '$W/dtmf.cap.events'" || return 1
    expect "the RFC 4733 events went in the clear (event 5 readable)" \
        sh -c "[ \$(grep -c '^14 05' '$W/dtmf.cap.events') -lt \$(grep -c . '$W/dtmf.cap.events') ]"
}

# baresip (SRTP) and a plain caller in one room: each hears the other.
case_srtp_conference() {
    EVIDENCE="$W/pconf.out $W/pconf.tone $W/confcaller.out $W/confcaller.rtp $W/tone-confcaller.out $W/serve.log"
    tls_phone_conf "$W/pconf" "$PCONF" 301
    sed "s/@HOLD@/8000/" "$ROOT/tests/hostile/media-call.xml" >"$W/confcaller.xml"
    timeout 30 sipp 127.0.0.1:"$SIP" -sf "$W/confcaller.xml" -s 404 -m 1 -i 127.0.0.1 -p "$CONFCALLER" -nostdin \
        -key rtpip 127.0.0.1 -key rtpport "$CONFRTP" -key portfile "$W/confcaller.port" \
        -timeout 25 -timeout_error >"$W/confcaller.out" 2>&1 &
    caller=$!
    PEERS="$PEERS $caller"
    timeout 30 $PY "$ROOT/tests/sip/rtp_peer.py" "$W/confcaller.port" "$CONFRTP" 8 --tone 1000 \
        --record "$W/confcaller.rec" >"$W/confcaller.rtp" 2>&1 &
    rtpp=$!
    PEERS="$PEERS $rtpp"
    # baresip joins once the caller is in the room
    wait_for "$W/confcaller.port" 10 . || { WHY="the plain caller was not answered"; return 1; }
    phone_call "$W/pconf" 404 7
    reap "$rtpp"
    reap "$caller" || { WHY="the plain caller's call did not end normally"; return 1; }
    expect "baresip did not turn SRTP on" grep -q 'SRTP is Enabled' "$W/pconf.out" || return 1
    expect "the plain caller did not hear baresip's 440 Hz (decrypted into the room)" \
        $PY "$HERE/tone.py" "$W/confcaller.rec" 440 >"$W/tone-confcaller.out" 2>&1 || return 1
    expect "baresip did not decode the plain caller's 1000 Hz (the room's audio encrypted for it)" \
        decoded "$W/pconf" 1000
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
    expect "baresip did not decode the caller's 1000 Hz tone (encrypted for it)" decoded "$W/callee" 1000
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

run tls_phone_to_trunk
run srtp_play
run srtp_record
run srtp_dtmf
run srtp_conference
run required_plain
run off_savp
run optional_to_srtp_callee
run clean_exit
[ "$FAILS" -eq 0 ]
