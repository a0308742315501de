#!/bin/sh
# tests/tls/suite.sh — SIP over TLS (issue 19, item 1). Certificates are
# made here by openssl (certs.sh). Debian's sipp has no TLS, so sipp speaks
# TCP behind socat, which does the TLS (OpenSSL) on its behalf: a caller
# (sipp -> socat client -> callroute's tls: port), a TLS gateway (callroute
# -> socat server with the gateway's certificate -> sipp); the registered
# phone is tls_phone.py (a sipp client cannot take an INVITE after its
# REGISTER). Cases: TLS in / UDP out, UDP in / TLS out (certificate
# verified), an untrusted gateway and one whose certificate names another
# host refused at once, a phone registered over
# TLS called back over its connection (a transfer and a message-summary
# subscription over it: our Contact at the TLS listener), a plain-text client and garbage on
# the TLS port refused with the next call unharmed, TLS 1.1 refused and 1.2
# served, mutual TLS (verify_peer, with openssl s_client as the phone),
# RFC 5626 outbound (phones over TCP, TLS and UDP with Contacts nobody can
# reach: Require: outbound, CRLF pings answered, called over their flow),
# SIGHUP with a new certificate (served to new connections, a UDP call held
# across it unharmed), SIGHUP with a key that does not match (refused, the
# last good pair kept), min_version 1.3, SIGHUP with settings.sip.tls
# removed (said, the listener unchanged), check/serve naming a missing file.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
HERE=$ROOT/tests/tls
SUITE=tls
. "$ROOT/tests/sip/lib.sh"

for tool in socat openssl; do
    if ! command -v $tool >/dev/null; then
        echo "FAIL $SUITE:setup"
        echo "    needs $tool (scripts/install-deps.sh)"
        exit 1
    fi
done

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 12)
SIP=$1 TLS=$2 TERM_IN=$3 UAC=$4 UDPGW=$5 GWTLS=$6 GWTCP=$7 ROGUE=$8 CALLER=$9
shift 9
ROGUETCP=$1 SIP2=$2 TLS2=$3 RTP=$4

sh "$HERE/certs.sh" "$W" || { bad setup "openssl could not make the certificates"; exit 1; }
cp "$W/server.pem" "$W/live.pem"
cp "$W/server.key" "$W/live.key"


cat >"$W/tls.yaml" <<YAML
version: 1
settings:
  sip:
    listen: ["udp:127.0.0.1:$SIP", "tls:127.0.0.1:$TLS"]
    tls: { cert: live.pem, key: live.key, ca: ca.pem, min_version: "1.2" }
  media: { rtp_ports: "$RTP-$((RTP + 199))" }
users:
  "201": { name: "TLS Phone", password: "pw201", voicemail: { pin: "1234" } }
  "202": { name: "UDP Phone", password: "pw202" }
gateways:
  udpgw: { uri: "sip:127.0.0.1:$UDPGW" }
  tlsgw: { uri: "sips:127.0.0.1:$GWTLS" }
  roguegw: { uri: "sip:127.0.0.1:$ROGUE", transport: tls }
  callers: { uri: "sip:127.0.0.1:$CALLER", match: ip }
routes:
  - name: phone
    conditions: [ { var: called_number, op: equals, value: "201" } ]
    script: [ { app: dial, to: "201", timeout: 10 } ]
  - name: udpphone
    conditions: [ { var: called_number, op: equals, value: "202" } ]
    script: [ { app: dial, to: "202", timeout: 10 } ]
  - name: totls
    conditions: [ { var: called_number, op: equals, value: "2" } ]
    script: [ { app: dial, gateway: tlsgw, to: "2", timeout: 10 } ]
  - name: torogue
    conditions: [ { var: called_number, op: equals, value: "3" } ]
    script: [ { app: dial, gateway: roguegw, to: "3", timeout: 20 } ]
  - name: toudp
    script: [ { app: dial, gateway: udpgw, to: "1", timeout: 10 } ]
YAML

in_log() { grep -q -- "$1" "$W/serve.log"; }

wait_tcp() { # wait_tcp PORT: something listens on it
    i=0
    while [ $i -lt 200 ]; do
        [ -n "$(ss -Hltn "sport = :$1")" ] && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# The caller's TLS: sipp connects over TCP to socat, which opens a TLS
# connection to callroute per connection and checks its certificate.
socat -d -d TCP-LISTEN:"$TERM_IN",bind=127.0.0.1,reuseaddr,fork \
    OPENSSL:127.0.0.1:"$TLS",cafile="$W/ca.pem" >"$W/socat-in.log" 2>&1 &
BG="$BG $!"

# Under LeakSanitizer (tests/run.sh), sofia's per-connection TLS leak is
# suppressed for this serve only (tests/tls/lsan.supp says why).
SERVE_LSAN=${LSAN_OPTIONS:-}
if [ -n "$SERVE_LSAN" ]; then
    cat "$ROOT/tests/lsan.supp" "$HERE/lsan.supp" >"$W/lsan.supp"
    SERVE_LSAN="suppressions=$W/lsan.supp:print_suppressions=0"
fi
(cd "$W" && LSAN_OPTIONS=$SERVE_LSAN exec "$CR" serve tls.yaml --admin off --log-level debug >"$W/serve.log" 2>&1) &
SERVE=$!
BG="$BG $SERVE"
if ! wait_for "$W/serve.log" 15 'listening for SIP' || ! wait_tcp "$TLS" || ! wait_tcp "$TERM_IN"; then
    bad setup "callroute serve (or socat) did not start" "$W/serve.log" "$W/socat-in.log"
    exit 1
fi

# tls_call NAME NUMBER [sipp args]: a call over TLS (sipp behind socat)
tls_call() {
    name=$1 number=$2
    shift 2
    timeout 30 sipp 127.0.0.1:"$TERM_IN" -sf "$HERE/uac-tls.xml" -t t1 -i 127.0.0.1 -p "$UAC" -s "$number" \
        -m 1 -d 300 -nostdin -timeout 20 -timeout_error -cid_str "$name-%u@tls" "$@" \
        >"$W/$name.out" 2>&1
}

# udp_uas NAME: a UDP gateway answering one call; sets LAST
udp_uas() {
    sipp -sn uas -i 127.0.0.1 -p "$UDPGW" -m 1 -nostdin -timeout 25 -timeout_error >"$W/$1-uas.out" 2>&1 &
    LAST=$!
    PEERS="$PEERS $LAST"
    wait_port "$UDPGW"
}

case_tls_to_udp() { # a caller over TLS bridged to a UDP gateway
    EVIDENCE="$W/tls_to_udp.out $W/tls_to_udp-uas.out $W/serve.log"
    udp_uas tls_to_udp || { WHY="UDP gateway did not start"; return 1; }
    uas=$LAST
    expect "the TLS call failed" tls_call tls_to_udp 1 &&
        expect "the UDP gateway did not take the call" reap "$uas" &&
        expect "socat made no TLS connection to callroute" grep -q "SSL connection using" "$W/socat-in.log" &&
        expect "call not traced as hung up by the caller" in_log "tls_to_udp-1@tls.*hangup by caller"
}

case_udp_to_tls_gateway() { # a UDP caller bridged to a gateway over TLS; its certificate verifies
    EVIDENCE="$W/udp_to_tls.out $W/gw-uas.out $W/socat-gw.log $W/serve.log"
    socat -d -d OPENSSL-LISTEN:"$GWTLS",bind=127.0.0.1,reuseaddr,fork,cert="$W/gw.pem",key="$W/gw.key",verify=0 \
        TCP:127.0.0.1:"$GWTCP" >"$W/socat-gw.log" 2>&1 &
    PEERS="$PEERS $!"
    sipp -sf "$HERE/uas-tls.xml" -t t1 -key tls_port "$GWTLS" -i 127.0.0.1 -p "$GWTCP" -m 1 -nostdin \
        -timeout 25 -timeout_error >"$W/gw-uas.out" 2>&1 &
    uas=$!
    PEERS="$PEERS $uas"
    wait_tcp "$GWTLS" && wait_tcp "$GWTCP" || { WHY="TLS gateway did not start"; return 1; }
    timeout 30 sipp 127.0.0.1:"$SIP" -sn uac -i 127.0.0.1 -p "$CALLER" -s 2 -m 1 -d 300 -nostdin \
        -timeout 20 -timeout_error -cid_str "udp_to_tls-%u@tls" >"$W/udp_to_tls.out" 2>&1 &&
        expect "the TLS gateway did not take the call" reap "$uas" &&
        expect "socat saw no TLS handshake" grep -q "SSL connection using" "$W/socat-gw.log" &&
        expect "call not traced as hung up by the caller" in_log "udp_to_tls-1@tls.*hangup by caller"
}

case_untrusted_gateway() { # a gateway whose certificate is not from ca: the dial fails at once, said why
    EVIDENCE="$W/untrusted.out $W/socat-rogue.log $W/serve.log"
    socat OPENSSL-LISTEN:"$ROGUE",bind=127.0.0.1,reuseaddr,fork,cert="$W/rogue.pem",key="$W/rogue.key",verify=0 \
        TCP:127.0.0.1:"$ROGUETCP" >"$W/socat-rogue.log" 2>&1 &
    PEERS="$PEERS $!"
    wait_tcp "$ROGUE" || { WHY="rogue gateway did not start"; return 1; }
    started=$(date +%s)
    # the call must fail (sipp's default uac then exits non-zero), well
    # before the INVITE's own timeout (8 s) would have ended it
    if tls_call untrusted 3; then WHY="the call through an untrusted gateway succeeded"; return 1; fi
    took=$(($(date +%s) - started))
    expect "no warning naming the peer and the reason" \
        in_log "TLS: handshake with 127.0.0.1:$ROGUE failed: certificate not verified (unable to get local issuer" &&
        expect "the dial did not fail with 503" in_log "dial 3: TLS to 127.0.0.1:$ROGUE failed (see above): failed 503" &&
        expect "the failure took ${took}s (the transaction timeout, not the handshake)" [ "$took" -lt 6 ] &&
        expect "the caller was not told 480/503" grep -Eq "SIP/2.0 (480|503)|Unexpected" "$W/untrusted.out"
}

case_wrong_name_gateway() { # a gateway certificate from ca but for another name: refused too
    EVIDENCE="$W/wrong_name.out $W/serve.log"
    socat OPENSSL-LISTEN:"$ROGUE",bind=127.0.0.1,reuseaddr,fork,cert="$W/other.pem",key="$W/other.key",verify=0 \
        TCP:127.0.0.1:"$ROGUETCP" >"$W/socat-other.log" 2>&1 &
    PEERS="$PEERS $!"
    wait_tcp "$ROGUE" || { WHY="gateway did not start"; return 1; }
    if tls_call wrong_name 3; then WHY="the call through a gateway with another name's certificate succeeded"; return 1; fi
    expect "no warning that the certificate names another host" \
        in_log "TLS: handshake with 127.0.0.1:$ROGUE failed: certificate not verified (it does not name the host dialled)"
}

case_phone_over_tls() { # a phone registered over TLS, with a Contact nobody can reach, is called over its connection
    EVIDENCE="$W/phone.out $W/phone-caller.out $W/serve.log"
    /usr/bin/python3 "$HERE/tls_phone.py" 127.0.0.1 "$TLS" "$W/ca.pem" 201 pw201 >"$W/phone.out" 2>&1 &
    phone=$!
    PEERS="$PEERS $phone"
    wait_for "$W/phone.out" 10 '^registered' || { WHY="the phone did not register"; return 1; }
    timeout 30 sipp 127.0.0.1:"$SIP" -sn uac -i 127.0.0.1 -p "$CALLER" -s 201 -m 1 -d 300 -nostdin \
        -timeout 20 -timeout_error -cid_str "phone-%u@tls" >"$W/phone-caller.out" 2>&1 &&
        expect "the phone did not end the call cleanly (INVITE, ACK, BYE over its connection)" reap "$phone" &&
        expect "no INVITE reached the phone" grep -q '^invite sip:201@198.51.100.1' "$W/phone.out" &&
        expect "our INVITE's Contact is not a sip: URI over TLS at the TLS listener (a sip: phone cannot use sips:)" \
            grep -Eq "^contact <sip:[^@>]*@?127\.0\.0\.1:$TLS;transport=tls>" "$W/phone.out" &&
        expect "no BYE reached the phone" grep -q '^bye' "$W/phone.out"
}

# The phone transfers the call over its TLS connection: the 202 to its
# REFER and our NOTIFY carry our Contact at the TLS listener (a plain one
# would move the phone's next requests in this dialog off TLS).
case_phone_refer_over_tls() {
    EVIDENCE="$W/referph.out $W/referph-caller.out $W/serve.log"
    /usr/bin/python3 "$HERE/tls_phone.py" 127.0.0.1 "$TLS" "$W/ca.pem" 201 pw201 --refer >"$W/referph.out" 2>&1 &
    phone=$!
    PEERS="$PEERS $phone"
    wait_for "$W/referph.out" 10 '^registered' || { WHY="the phone did not register"; return 1; }
    timeout 30 sipp 127.0.0.1:"$SIP" -sn uac -i 127.0.0.1 -p "$CALLER" -s 201 -m 1 -d 1500 -nostdin \
        -timeout 20 -timeout_error -cid_str "referph-%u@tls" >"$W/referph-caller.out" 2>&1 &&
        expect "the phone did not end the call cleanly" reap "$phone" &&
        expect "the REFER was not answered 202" grep -q '^refer 202 ' "$W/referph.out" &&
        expect "the 202's Contact is not at the TLS listener" \
            grep -Eq "^refer 202 contact <sip:[^@>]*@?127\.0\.0\.1:$TLS;transport=tls>" "$W/referph.out" &&
        expect "our NOTIFY's Contact is not at the TLS listener" \
            grep -Eq "^notify-contact <sip:[^@>]*@?127\.0\.0\.1:$TLS;transport=tls>" "$W/referph.out"
}

# The phone subscribes to its message-summary over its TLS connection: our
# 200 and NOTIFY carry our Contact at the TLS listener (a plain one would
# send its refreshes, in this dialog, off TLS).
case_phone_mwi_over_tls() {
    EVIDENCE="$W/mwiph.out $W/serve.log"
    /usr/bin/python3 "$HERE/tls_phone.py" 127.0.0.1 "$TLS" "$W/ca.pem" 201 pw201 --subscribe >"$W/mwiph.out" 2>&1 &
    phone=$!
    PEERS="$PEERS $phone"
    expect "the phone did not get its NOTIFY" reap "$phone" &&
        expect "the SUBSCRIBE was not answered 200" grep -q '^subscribe 200 ' "$W/mwiph.out" &&
        expect "the 200's Contact is not at the TLS listener" \
            grep -Eq "^subscribe 200 contact <sip:[^@>]*@?127\.0\.0\.1:$TLS;transport=tls>" "$W/mwiph.out" &&
        expect "our NOTIFY's Contact is not at the TLS listener" \
            grep -Eq "^notify-contact <sip:[^@>]*@?127\.0\.0\.1:$TLS;transport=tls>" "$W/mwiph.out"
}

case_plaintext_refused() { # plain SIP and garbage on the TLS port: refused, said so, the next call works
    EVIDENCE="$W/plain.out $W/after_plain.out $W/after_plain-uas.out $W/serve.log"
    before=$(grep -c "TLS: connection from .* refused" "$W/serve.log")
    printf 'OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK1\r\nCall-ID: plain@tls\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n' |
        timeout 5 socat -t 3 - TCP:127.0.0.1:"$TLS" >"$W/plain.out" 2>&1
    head -c 4000 /dev/urandom | timeout 5 socat -t 3 - TCP:127.0.0.1:"$TLS" >/dev/null 2>&1
    # a client that opens a TLS record and stops: the next call is not held up
    printf '\026\003\001\002\000\001' | timeout 5 socat -t 2 - TCP:127.0.0.1:"$TLS" >/dev/null 2>&1 &
    i=0
    while [ "$(grep -c "TLS: connection from .* refused" "$W/serve.log")" -lt $((before + 2)) ] && [ $i -lt 100 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    expect "two refusals not logged" [ "$(grep -c "TLS: connection from .* refused" "$W/serve.log")" -ge $((before + 2)) ] &&
        expect "plain text was answered in plain text" [ ! -s "$W/plain.out" ] || return 1
    udp_uas after_plain || { WHY="UDP gateway did not start"; return 1; }
    uas=$LAST
    expect "the next TLS call failed" tls_call after_plain 1 &&
        expect "the gateway did not take the next call" reap "$uas" &&
        expect "serve died" kill -0 "$SERVE"
}

case_crlf_pong() { # RFC 5626 4.4.1: a CRLF keep-alive ("\r\n\r\n") on a TLS connection gets its CRLF back
    EVIDENCE="$W/pong.out $W/serve.log"
    /usr/bin/python3 - 127.0.0.1 "$TLS" "$W/ca.pem" >"$W/pong.out" 2>&1 <<'PY'
import socket, ssl, sys, time
host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
with socket.create_connection((host, port), timeout=5) as raw, ctx.wrap_socket(raw, server_hostname=host) as s:
    s.sendall(b"\r\n\r\n")
    got, deadline = b"", time.time() + 5
    while not got.startswith(b"\r\n") and time.time() < deadline:
        chunk = s.recv(16)
        if not chunk:
            break
        got += chunk
    print("pong" if got.startswith(b"\r\n") else "no pong: %r" % got)
PY
    expect "no CRLF came back for the keep-alive ping" grep -q '^pong$' "$W/pong.out"
}

case_outbound() { # RFC 5626: phones asking for outbound over TCP and TLS: Require: outbound, ping answered, called over their flow
    EVIDENCE="$W/ob.log $W/ob-tcp.out $W/ob-tls.out $W/ob-plain.out $W/ob-relayed.out $W/ob-call-301.out $W/ob-call-302.out"
    cat >"$W/ob.yaml" <<YAML
version: 1
settings:
  sip:
    listen: ["tcp:127.0.0.1:$SIP2", "tls:127.0.0.1:$TLS2"]
    tls: { cert: live.pem, key: live.key, ca: ca.pem }
  media: { rtp_ports: "$((RTP + 200))-$((RTP + 399))" }
users:
  "301": { name: "TCP Phone", password: "pw301" }
  "302": { name: "TLS Phone", password: "pw302" }
  "303": { name: "Plain TCP Phone", password: "pw303" }
gateways:
  callers: { uri: "sip:127.0.0.1:$CALLER", match: ip }
routes:
  - name: tcp
    conditions: [ { var: called_number, op: equals, value: "301" } ]
    script: [ { app: dial, to: "301", timeout: 10 } ]
  - name: tls
    conditions: [ { var: called_number, op: equals, value: "302" } ]
    script: [ { app: dial, to: "302", timeout: 10 } ]
YAML
    (cd "$W" && LSAN_OPTIONS=$SERVE_LSAN exec "$CR" serve ob.yaml --admin off --log-level debug >"$W/ob.log" 2>&1) &
    ob=$!
    PEERS="$PEERS $ob"
    wait_for "$W/ob.log" 15 'listening for SIP' && wait_tcp "$SIP2" && wait_tcp "$TLS2" ||
        { WHY="serve (udp+tcp and tls) did not start"; return 1; }
    # a phone that does not ask for outbound is not told it has it, nor is
    # one whose REGISTER a proxy relayed (two Vias: the flow is the proxy's)
    for who in plain relayed; do
        [ $who = relayed ] && set -- --outbound --relayed || set --
        /usr/bin/python3 "$HERE/tls_phone.py" 127.0.0.1 "$SIP2" - 303 pw303 --tcp "$@" >"$W/ob-$who.out" 2>&1 &
        p=$!
        PEERS="$PEERS $p"
        wait_for "$W/ob-$who.out" 10 '^registered' || { WHY="the $who TCP phone did not register"; return 1; }
        kill "$p" 2>/dev/null
    done
    for who in 301:tcp 302:tls; do
        user=${who%:*} t=${who#*:}
        port=$SIP2
        [ "$t" = tls ] && port=$TLS2
        [ "$t" = tcp ] && set -- --tcp || set --
        /usr/bin/python3 "$HERE/tls_phone.py" 127.0.0.1 "$port" "$W/ca.pem" "$user" "pw$user" --outbound --ping "$@" \
            >"$W/ob-$t.out" 2>&1 &
        phone=$!
        PEERS="$PEERS $phone"
        wait_for "$W/ob-$t.out" 10 '^pong' || { WHY="the $t phone did not register, or its ping got no pong"; return 1; }
        expect "the call to the $t phone failed (sent to its Contact?)" \
            timeout 30 sipp 127.0.0.1:"$SIP2" -sn uac -t t1 -i 127.0.0.1 -p "$CALLER" -s "$user" -m 1 -d 300 -nostdin \
            -timeout 20 -timeout_error -cid_str "ob-$t-%u@tls" >"$W/ob-call-$user.out" 2>&1 &&
            expect "the $t phone did not end the call cleanly (INVITE, ACK, BYE over its flow)" reap "$phone" &&
            expect "the $t phone was not told Require: outbound" grep -q '^require outbound' "$W/ob-$t.out" &&
            expect "no INVITE reached the $t phone" grep -q "^invite sip:$user@198.51.100.1" "$W/ob-$t.out" &&
            expect "the flow not logged" grep -q "user $user: registered .* (outbound flow over $t, instance urn:uuid:4a6b1c2d" "$W/ob.log" ||
            return 1
    done
    kill "$ob" 2>/dev/null
    wait "$ob" 2>/dev/null  # its sanitizers report at exit
    expect "a phone without Supported: outbound was told Require: outbound" sh -c "! grep -q '^require' '$W/ob-plain.out'" &&
        expect "a relayed REGISTER was told Require: outbound" sh -c "! grep -q '^require' '$W/ob-relayed.out'" &&
        expect "callroute reported sanitizer errors" sh -c "! grep -q 'Sanitizer\|runtime error' '$W/ob.log'"
}

case_outbound_udp() { # RFC 5626 over UDP: a phone behind NAT (Contact unreachable) is called at the address it registered from
    EVIDENCE="$W/obu.out $W/obu-caller.out $W/serve.log"
    /usr/bin/python3 "$HERE/tls_phone.py" 127.0.0.1 "$SIP" - 202 pw202 --udp --outbound >"$W/obu.out" 2>&1 &
    phone=$!
    PEERS="$PEERS $phone"
    wait_for "$W/obu.out" 10 '^registered' || { WHY="the UDP phone did not register"; return 1; }
    expect "the call to the UDP phone failed (sent to its Contact?)" \
        timeout 30 sipp 127.0.0.1:"$SIP" -sn uac -i 127.0.0.1 -p "$CALLER" -s 202 -m 1 -d 300 -nostdin \
        -timeout 20 -timeout_error -cid_str "obu-%u@tls" >"$W/obu-caller.out" 2>&1 &&
        expect "the UDP phone did not end the call cleanly (INVITE, ACK, BYE at its flow)" reap "$phone" &&
        expect "the UDP phone was not told Require: outbound" grep -q '^require outbound' "$W/obu.out" &&
        expect "no INVITE reached the UDP phone" grep -q '^invite sip:202@198.51.100.1' "$W/obu.out" &&
        expect "a STUN keep-alive (RFC 5626 4.4.2) on the SIP UDP port got no Binding success with our address" \
            stun_keepalive "$SIP"
}

# A phone's RFC 5626 keep-alive over UDP: a STUN Binding Request (RFC 5389)
# to the SIP port must come back as a success response for the same
# transaction naming the address it came from (XOR-MAPPED-ADDRESS, or
# MAPPED-ADDRESS as sofia-sip's RFC 3489-era code sends it: phones accept both).
stun_keepalive() {
    /usr/bin/python3 - "$1" <<'PY'
import os, socket, struct, sys
COOKIE = 0x2112A442
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(3)
tid = os.urandom(12)
s.sendto(struct.pack("!HHI", 0x0001, 0, COOKIE) + tid, ("127.0.0.1", int(sys.argv[1])))
data, _ = s.recvfrom(2048)
kind, length, cookie = struct.unpack("!HHI", data[:8])
assert kind == 0x0101 and cookie == COOKIE and data[8:20] == tid, data[:20].hex()
attrs, mapped = data[20:20 + length], None
while len(attrs) >= 4:
    t, n = struct.unpack("!HH", attrs[:4])
    v = attrs[4:4 + n]
    if t == 0x0020:   # XOR-MAPPED-ADDRESS
        port = struct.unpack("!H", v[2:4])[0] ^ (COOKIE >> 16)
        addr = socket.inet_ntoa(struct.pack("!I", struct.unpack("!I", v[4:8])[0] ^ COOKIE))
        mapped = (addr, port)
    elif t == 0x0001 and mapped is None:   # MAPPED-ADDRESS (RFC 3489 servers; sofia's)
        mapped = (socket.inet_ntoa(v[4:8]), struct.unpack("!H", v[2:4])[0])
    attrs = attrs[4 + (n + 3) // 4 * 4:]
assert mapped == s.getsockname(), (mapped, s.getsockname())
PY
}

served_subject() { # the subject of the certificate a new TLS connection to the listener gets
    timeout 10 openssl s_client -connect 127.0.0.1:"$TLS" -CAfile "$W/ca.pem" </dev/null 2>/dev/null |
        openssl x509 -noout -subject 2>&1
}

case_sighup_reload() { # SIGHUP with a new certificate: new connections get it; a UDP call held across it ends
    # cleanly; a phone registered over TLS before it keeps its connection and is called over it after
    EVIDENCE="$W/served.txt $W/held.out $W/held-uas.out $W/kept-phone.out $W/kept-caller.out $W/serve.log"
    served_subject >"$W/served-before.txt"
    expect "the listener did not start with server.pem ($(cat "$W/served-before.txt"))" \
        grep -q "CN *= *127.0.0.1" "$W/served-before.txt" || return 1
    /usr/bin/python3 "$HERE/tls_phone.py" 127.0.0.1 "$TLS" "$W/ca.pem" 201 pw201 >"$W/kept-phone.out" 2>&1 &
    phone=$!
    PEERS="$PEERS $phone"
    wait_for "$W/kept-phone.out" 10 '^registered' || { WHY="the TLS phone did not register"; return 1; }
    udp_uas held || { WHY="UDP gateway did not start"; return 1; }
    uas=$LAST
    # a UDP call that lasts across the reload: the caller hangs up 4 s
    # after the answer; a reload that dropped it would BYE it first
    timeout 30 sipp 127.0.0.1:"$SIP" -sn uac -i 127.0.0.1 -p "$CALLER" -s 1 -m 1 -d 4000 -nostdin \
        -timeout 20 -timeout_error -cid_str "held-%u@tls" >"$W/held.out" 2>&1 &
    uac=$!
    PEERS="$PEERS $uac"
    wait_for "$W/serve.log" 10 "held-1@tls.*answer" || { WHY="the held call was not answered"; return 1; }
    cp "$W/new.pem" "$W/live.pem"
    cp "$W/new.key" "$W/live.key"
    hup
    wait_for "$W/serve.log" 10 "settings.sip.tls: reloaded (certificate /CN=callroute reloaded)" ||
        { WHY="no line saying the new certificate was loaded"; return 1; }
    served_subject >"$W/served.txt"
    expect "a new connection got $(cat "$W/served.txt"), not the new certificate" \
        grep -q "CN *= *callroute reloaded" "$W/served.txt" &&
        expect "the UDP call held across the reload did not end cleanly" reap "$uac" &&
        expect "the gateway did not see the call end cleanly" reap "$uas" &&
        expect "the held call not traced as hung up by the caller" in_log "held-1@tls.*hangup by caller" || return 1
    # the phone's TLS connection, opened with the old certificate, still carries its calls
    timeout 30 sipp 127.0.0.1:"$SIP" -sn uac -i 127.0.0.1 -p "$CALLER" -s 201 -m 1 -d 300 -nostdin \
        -timeout 20 -timeout_error -cid_str "kept-%u@tls" >"$W/kept-caller.out" 2>&1 &&
        expect "the phone registered before the reload was not called over its connection after it" reap "$phone" &&
        expect "no INVITE reached the phone" grep -q '^invite sip:201@198.51.100.1' "$W/kept-phone.out"
}

case_sighup_bad_pair() { # SIGHUP with a key that is not the certificate's: said so, the last good one kept, calls go on
    EVIDENCE="$W/served-bad.txt $W/after_bad.out $W/after_bad-uas.out $W/serve.log"
    cp "$W/other.key" "$W/live.key"
    hup
    wait_for "$W/serve.log" 10 "settings.sip.tls: new files not loaded (key .*live.key: .*); the TLS listener keeps" ||
        { WHY="no line saying the mismatched key was refused"; return 1; }
    served_subject >"$W/served-bad.txt"
    expect "a new connection got $(cat "$W/served-bad.txt"), not the last good certificate" \
        grep -q "CN *= *callroute reloaded" "$W/served-bad.txt" || return 1
    udp_uas after_bad || { WHY="UDP gateway did not start"; return 1; }
    uas=$LAST
    expect "a TLS call after the bad reload failed" tls_call after_bad 1 &&
        expect "the gateway did not take the call" reap "$uas" &&
        expect "serve died" kill -0 "$SERVE"
}

hup() { # hup: SIGHUP to serve, back once it has reloaded the file
    reloads=$(grep -c "reloaded .*: revision" "$W/serve.log")
    kill -HUP "$SERVE"
    i=0
    while [ "$(grep -c "reloaded .*: revision" "$W/serve.log")" -le "$reloads" ] && [ $i -lt 200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
}

case_min_version_13() { # min_version "1.3" (on SIGHUP): TLS 1.2 refused, 1.3 served; back to "1.2"
    EVIDENCE="$W/v13-12.out $W/v13-13.out $W/serve.log"
    cp "$W/new.key" "$W/live.key"   # the pair is good again (sighup_bad_pair)
    sed -i 's/min_version: "1.2"/min_version: "1.3"/' "$W/tls.yaml"
    before=$(grep -c "TLS: connection from .* refused" "$W/serve.log")
    hup
    echo | timeout 10 openssl s_client -connect 127.0.0.1:"$TLS" -CAfile "$W/ca.pem" -tls1_2 >"$W/v13-12.out" 2>&1
    echo | timeout 10 openssl s_client -connect 127.0.0.1:"$TLS" -CAfile "$W/ca.pem" -tls1_3 >"$W/v13-13.out" 2>&1
    i=0
    while [ "$(grep -c "TLS: connection from .* refused" "$W/serve.log")" -le "$before" ] && [ $i -lt 100 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    refused=$(grep -c "TLS: connection from .* refused" "$W/serve.log")
    sed -i 's/min_version: "1.3"/min_version: "1.2"/' "$W/tls.yaml"
    hup
    expect "TLS 1.2 was served with min_version 1.3" grep -q "alert protocol version" "$W/v13-12.out" &&
        expect "the TLS 1.2 handshake was not refused in the log" [ "$refused" -gt "$before" ] &&
        expect "TLS 1.3 was not served" grep -q "^New, TLSv1.3" "$W/v13-13.out"
}

case_sighup_tls_removed() { # SIGHUP with settings.sip.tls gone: said once, the listener keeps its certificate
    EVIDENCE="$W/served-kept.txt $W/served-removed.txt $W/serve.log"
    served_subject >"$W/served-kept.txt"
    cp "$W/tls.yaml" "$W/tls-with.yaml"
    sed -i '/^    tls: {/d' "$W/tls.yaml"
    hup
    wait_for "$W/serve.log" 10 "settings.sip.tls: removed; the TLS listener keeps its certificate" ||
        { WHY="no line saying the TLS settings were removed"; cp "$W/tls-with.yaml" "$W/tls.yaml"; hup; return 1; }
    served_subject >"$W/served-removed.txt"
    cp "$W/tls-with.yaml" "$W/tls.yaml"
    hup
    expect "a new connection got $(cat "$W/served-removed.txt"), not the certificate it had" \
        grep -q "CN *=" "$W/served-removed.txt" &&
        expect "the certificate changed" cmp -s "$W/served-kept.txt" "$W/served-removed.txt" &&
        expect "the missing settings were taken for files that failed to load" \
            sh -c "! grep -q 'certificate (null)' '$W/serve.log'" &&
        expect "serve died" kill -0 "$SERVE"
}

case_missing_file() { # check and serve name a missing certificate file as FILE:LINE:COL
    EVIDENCE="$W/missing.check $W/missing.serve"
    sed -e 's/cert: live.pem/cert: nowhere.pem/' "$W/tls.yaml" >"$W/missing.yaml"
    line=$(grep -n 'nowhere.pem' "$W/missing.yaml" | cut -d: -f1)
    if "$CR" check "$W/missing.yaml" >"$W/missing.check" 2>&1; then WHY="check passed"; return 1; fi
    if timeout 10 "$CR" serve "$W/missing.yaml" --admin off --sip "tls:127.0.0.1:$ROGUETCP" >"$W/missing.serve" 2>&1; then
        WHY="serve started"
        return 1
    fi
    expect "check did not name the file and place" \
        grep -q "missing.yaml:$line:[0-9]*: error: settings.sip.tls.cert: cannot read .*nowhere.pem: No such file" "$W/missing.check" &&
        expect "serve did not name the file and place" \
            grep -q "missing.yaml:$line:[0-9]*: settings.sip.tls.cert: cannot read .*nowhere.pem" "$W/missing.serve"
}

case_min_version() { # min_version 1.2: a TLS 1.1 client is refused (said so), TLS 1.2 is served
    EVIDENCE="$W/tls11.out $W/tls12.out $W/serve.log"
    before=$(grep -c "TLS: connection from .* refused" "$W/serve.log")
    # the client is made willing to speak TLS 1.1 (its own default refuses it)
    echo | timeout 10 openssl s_client -connect 127.0.0.1:"$TLS" -CAfile "$W/ca.pem" -tls1_1 \
        -cipher 'DEFAULT@SECLEVEL=0' >"$W/tls11.out" 2>&1
    echo | timeout 10 openssl s_client -connect 127.0.0.1:"$TLS" -CAfile "$W/ca.pem" -tls1_2 >"$W/tls12.out" 2>&1
    i=0
    while [ "$(grep -c "TLS: connection from .* refused" "$W/serve.log")" -le "$before" ] && [ $i -lt 100 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    expect "the TLS 1.1 handshake was not refused in the log" \
        [ "$(grep -c "TLS: connection from .* refused" "$W/serve.log")" -gt "$before" ] &&
        expect "TLS 1.2 was not served" grep -q "Protocol *: TLSv1.2" "$W/tls12.out"
}

case_verify_peer() { # mutual TLS: a phone without a certificate, or with one not from ca, is refused
    EVIDENCE="$W/vp.log $W/vp-none.out $W/vp-rogue.out $W/vp-good.out"
    sed -e "s/ca: ca.pem, min_version/ca: ca.pem, verify_peer: true, min_version/" \
        -e "s/127.0.0.1:$SIP\"/127.0.0.1:$SIP2\"/" -e "s/127.0.0.1:$TLS\"/127.0.0.1:$TLS2\"/" \
        -e "s/rtp_ports: \"$RTP-/rtp_ports: \"$((RTP + 200))-/" -e "s/$((RTP + 199))\"/$((RTP + 399))\"/" \
        "$W/tls.yaml" >"$W/vp.yaml"
    (cd "$W" && LSAN_OPTIONS=$SERVE_LSAN exec "$CR" serve vp.yaml --admin off >"$W/vp.log" 2>&1) &
    vp=$!
    PEERS="$PEERS $vp"
    wait_for "$W/vp.log" 15 'listening for SIP' && wait_tcp "$TLS2" || { WHY="serve with verify_peer did not start"; return 1; }
    # a phone's TLS is a real TLS client here: openssl s_client, with and
    # without a certificate. The good one goes first: the server handles
    # them in turn, so had it been refused, that line would come before
    # the two refusals waited for below.
    for who in good none rogue; do
        case $who in
        good) set -- -cert "$W/gw.pem" -key "$W/gw.key" ;;
        none) set -- ;;
        rogue) set -- -cert "$W/rogue.pem" -key "$W/rogue.key" ;;
        esac
        printf 'OPTIONS sip:127.0.0.1 SIP/2.0\r\n\r\n' |
            timeout 10 openssl s_client -connect 127.0.0.1:"$TLS2" -CAfile "$W/ca.pem" "$@" >"$W/vp-$who.out" 2>&1
    done
    wait_for "$W/vp.log" 10 "refused: no client certificate" &&
        wait_for "$W/vp.log" 10 "refused: certificate not verified"
    kill "$vp" 2>/dev/null
    wait "$vp" 2>/dev/null
    expect "a phone without a certificate was not refused" \
        grep -q "TLS: connection from 127.0.0.1:[0-9]* refused: no client certificate (verify_peer)" "$W/vp.log" &&
        expect "a phone with a certificate not from ca was not refused" \
            grep -q "TLS: connection from 127.0.0.1:[0-9]* refused: certificate not verified (unable to get local issuer" "$W/vp.log" &&
        expect "the phone with a good certificate was refused too" \
            [ "$(grep -c "TLS: connection from .* refused" "$W/vp.log")" -eq 2 ] &&
        expect "callroute reported sanitizer errors" sh -c "! grep -q 'Sanitizer\|runtime error' '$W/vp.log'"
}

CASES=${TLS_CASES:-"tls_to_udp udp_to_tls_gateway untrusted_gateway wrong_name_gateway phone_over_tls phone_refer_over_tls phone_mwi_over_tls plaintext_refused min_version verify_peer crlf_pong outbound outbound_udp sighup_reload sighup_bad_pair min_version_13 sighup_tls_removed missing_file"}
for c in $CASES; do run "$c"; done

if ! kill -0 "$SERVE" 2>/dev/null; then
    bad alive "callroute serve died" "$W/serve.log"
fi
# serve's own exit: nothing reported by the sanitizers
kill "$SERVE" 2>/dev/null
wait "$SERVE" 2>/dev/null
BG=$(echo "$BG" | sed "s/\b$SERVE\b//")
if grep -q "Sanitizer\|runtime error" "$W/serve.log"; then
    bad sanitizers "callroute serve reported errors" "$W/serve.log"
fi
[ "$FAILS" -eq 0 ]
