#!/bin/sh
# tests/hostile/framing.sh — a request whose Content-Length promises more
# than the datagram carries is refused with 400 (sofia hands it on without
# its body: an INVITE became an offerless call that callroute answered),
# and the server takes the next well-formed call (issue 11, item 10).
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
SUITE=hostile-framing
. "$ROOT/tests/sip/lib.sh"

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 1)
SIP=$1 RTP=$2

cat >"$W/framing.yaml" <<EOF
version: 1
settings:
  media: { rtp_ports: "$RTP-$((RTP + 99))" }
gateways:
  any: { uri: "sip:127.0.0.1:9", accept_any_source: true }
routes:
  - name: answer
    script:
      - app: answer
      - app: hangup
EOF
"$CR" serve "$W/framing.yaml" --sip "udp:127.0.0.1:$SIP" --admin off >"$W/serve.log" 2>&1 &
SERVE=$!
BG="$BG $SERVE"
wait_for "$W/serve.log" 15 'listening for SIP' || { echo "FAIL $SUITE:setup"; sed 's/^/    /' "$W/serve.log"; exit 1; }

# send METHOD CONTENT_LENGTH BODY: the first final response's status line to $W/answer
send() {
    /usr/bin/python3 - "$SIP" "$@" >"$W/answer" 2>&1 <<'PY'
import random, socket, sys
port, method, cl, body = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4].replace("|", "\r\n")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
me = s.getsockname()[1]
cid = "framing-%x@x" % random.getrandbits(32)
m = (f"{method} sip:100@127.0.0.1:{port} SIP/2.0\r\n"
     f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK{random.getrandbits(40):x}\r\n"
     "Max-Forwards: 70\r\n"
     f"From: <sip:caller@127.0.0.1:{me}>;tag=1\r\nTo: <sip:100@127.0.0.1:{port}>\r\n"
     f"Call-ID: {cid}\r\nCSeq: 1 {method}\r\nContact: <sip:caller@127.0.0.1:{me}>\r\n"
     + ("Content-Type: application/sdp\r\n" if body else "")
     + f"Content-Length: {cl}\r\n\r\n{body}")
s.sendto(m.encode(), ("127.0.0.1", port))
s.settimeout(3)
while True:
    try:
        data, _ = s.recvfrom(65535)
    except socket.timeout:
        print("no final response")
        sys.exit(1)
    line = data.split(b"\r\n")[0].decode()
    if line.startswith("SIP/2.0 1"):
        continue
    print(line)
    if line.startswith("SIP/2.0 2") and method == "INVITE":   # end the call cleanly
        to = [l for l in data.split(b"\r\n") if l.lower().startswith(b"to:")][0].decode()
        s.sendto((f"ACK sip:100@127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bKack\r\n"
                  f"Max-Forwards: 70\r\nFrom: <sip:caller@127.0.0.1:{me}>;tag=1\r\n{to}\r\nCall-ID: {cid}\r\n"
                  "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n").encode(), ("127.0.0.1", port))
    break
PY
}

SDP="v=0|o=- 1 1 IN IP4 127.0.0.1|s=-|c=IN IP4 127.0.0.1|t=0 0|m=audio 40000 RTP/AVP 0|"

case_invite_no_body() { # Content-Length 200, nothing after the headers: 400, no call
    EVIDENCE="$W/answer $W/serve.log"
    send INVITE 200 "" && expect "answered: $(cat "$W/answer")" grep -q "^SIP/2.0 400" "$W/answer" &&
        expect "a call was started" sh -c "! grep -q 'route.*answer' '$W/serve.log'"
}

case_invite_short_body() { # half the SDP promised: 400
    EVIDENCE="$W/answer $W/serve.log"
    send INVITE 400 "$SDP" && expect "answered: $(cat "$W/answer")" grep -q "^SIP/2.0 400" "$W/answer"
}

case_register_short_body() { # a REGISTER that promises a body it lacks: 400
    EVIDENCE="$W/answer $W/serve.log"
    send REGISTER 50 "" && expect "answered: $(cat "$W/answer")" grep -q "^SIP/2.0 400" "$W/answer"
}

case_well_formed_after() { # the same INVITE with its true length is answered
    EVIDENCE="$W/answer $W/serve.log"
    len=$(printf '%s' "$SDP" | sed 's/|/\r\n/g' | wc -c)
    send INVITE "$len" "$SDP" && expect "answered: $(cat "$W/answer")" grep -q "^SIP/2.0 200" "$W/answer" &&
        expect "sanitizer report" sh -c "! grep -qE 'AddressSanitizer|runtime error:' '$W/serve.log'"
}

for c in ${HOSTILE_FRAMING_CASES:-invite_no_body invite_short_body register_short_body well_formed_after}; do
    run "$c"
done
[ "$FAILS" -eq 0 ]
