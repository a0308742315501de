#!/bin/sh
# tests/hostile/media.sh — RTP as a hostile network and broken peers meet it
# (issue 11, items 10, 11, 12, 16), against `callroute serve` ($CALLROUTE)
# with real peers: sipp for SIP, tests/hostile/rtp_peer.py for the RTP of
# phones and of an attacker (127.0.0.3-5 are "other hosts" on loopback).
#   media_address   RTP binds settings.media.address and SDP announces it
#   strict_source   a DTMF from another source does not drive the IVR
#   nat_learning    symmetric_rtp: the source is learned early, not later
#   random_ports    calls do not get neighbouring ports
#   no_common_codec a gateway's 200 (or 183) with G.729 only: BYE (CANCEL),
#                   dial failed 488, the caller is not bridged
#   rtp_timeout     a silent call is hung up by system; a talking one is not
#   pool_closes     RTP sockets fall back after a burst of calls
#   rtcp_mux        a=rtcp-mux answered when offered, offered to an offerless caller
#   admission       a tiny port range: 503 naming it before a dial finds no port
#   open_files      the open-files limit bounds RTP sockets: 503 naming it, said at start
#   open_files_io_uring  past that limit with the sockets in io_uring's tables
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
HERE=$ROOT/tests/hostile
SUITE=hostile-media
. "$ROOT/tests/sip/lib.sh"

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 11)
SIP=$1 SIP2=$2 UAC=$3 UAC2=$4 UAC3=$5 UAC4=$6 UAS=$7 ADMIN=$8 ADMIN2=$9
shift 9
PH1=$1 PH2=$2 RTP=$3
MEDIA=127.0.0.2                      # the server's media address in media.yaml

get() { # get PORT PATH NAME: the body in $W/NAME.json, CODE set
    CODE=$(/usr/bin/python3 "$ROOT/tests/admin/fetch.py" GET "http://127.0.0.1:$1$2" "$W/$3.json" 2>>"$W/http.err")
}
json() { # json NAME EXPR: EXPR (Python, body is d) holds
    /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" \
        "$W/$1.json" 2>>"$W/http.err"
}
# A finished call's record from the admin API: finished CALL_ID NAME (in $W/NAME.json).
finished() {
    i=0
    while [ $i -lt 100 ]; do
        get "$ADMIN" /calls "$2" && json "$2" "any(c['call_id'] == '$1' for c in d['finished'])" && return 0
        i=$((i + 1))
        sleep 0.05
    done
    return 1
}
# media_call NAME SERVICE LOCAL_PORT PHONE_PORT HOLD_MS: a caller (sipp,
# in the background; LAST) whose SDP names 127.0.0.1:PHONE_PORT; the
# server's RTP address lands in $W/NAME.port, who hung up in $W/NAME.port.bye.
media_call() {
    sed "s/@HOLD@/$5/" "$HERE/media-call.xml" >"$W/$1.xml"
    timeout 30 sipp 127.0.0.1:"$SIP" -sf "$W/$1.xml" -s "$2" -m 1 -i 127.0.0.1 -p "$3" -nostdin \
        -key rtpip 127.0.0.1 -key rtpport "$4" -key portfile "$W/$1.port" -cid_str "$1@media" \
        -timeout 25 -timeout_error -trace_msg -message_file "$W/$1.msg" >"$W/$1.out" 2>&1 &
    LAST=$!
    BG="$BG $LAST"
    PEERS="$PEERS $LAST"
}
peer_rtp() { # peer_rtp NAME OP...: rtp_peer.py for call NAME (output in $W/NAME.rtp)
    name=$1
    shift
    timeout 30 /usr/bin/python3 "$HERE/rtp_peer.py" "$W/$name.port" "$@" >"$W/$name.rtp" 2>&1
}
log_has() { grep -q -- "$1" "$W/serve.log"; }
# The UDP sockets the process PID has open, as "IP:PORT" lines: its
# descriptors' and those held in its io_uring fixed-file tables
# (settings.media.rtp_io), which have no descriptor but are listed in the
# ring's fdinfo ("  N: socket:[INODE]" after "UserFiles:").
udp_socks() {
    /usr/bin/python3 - "$1" <<'PY'
import os, re, socket, struct, sys
pid = sys.argv[1]
inodes = set()
for fd in os.listdir(f"/proc/{pid}/fd"):
    try:
        t = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        continue
    if t.startswith("socket:["):
        inodes.add(t[8:-1])
    elif t == "anon_inode:[io_uring]":
        try:
            info = open(f"/proc/{pid}/fdinfo/{fd}").read()
        except OSError:
            continue
        inodes.update(re.findall(r"^\s*\d+: socket:\[(\d+)\]$", info, re.M))
for line in open("/proc/net/udp").read().splitlines()[1:]:
    f = line.split()
    if f[9] in inodes:
        ip, port = f[1].split(":")
        print("%s:%d" % (socket.inet_ntoa(struct.pack("<I", int(ip, 16))), int(port, 16)))
PY
}
in_range() { # in_range LO HI < "IP:PORT" lines: those with LO <= PORT <= HI
    awk -F: -v lo="$1" -v hi="$2" '$2 >= lo && $2 <= hi'
}

sed -e "s|@RTP@|$RTP-$((RTP + 989))|; s|@ADMIN@|$ADMIN|; s|@UAC@|$UAC|; s|@UAC2@|$UAC2|; s|@UAS@|$UAS|" \
    -e "s|@MEDIA@|$MEDIA|" "$HERE/media.yaml" >"$W/media.yaml"
"$CR" serve "$W/media.yaml" --sip "udp:127.0.0.1:$SIP" >"$W/serve.log" 2>&1 &
SERVE=$!
BG="$BG $SERVE"
if ! wait_for "$W/serve.log" 15 'listening for SIP'; then
    echo "FAIL $SUITE:setup"
    sed 's/^/    /' "$W/serve.log"
    exit 1
fi

case_media_address() { # SDP says settings.media.address, RTP is bound there and nowhere else
    EVIDENCE="$W/addr.out $W/addr.socks $W/serve.log"
    media_call addr hold "$UAC3" "$PH1" 1500
    c=$LAST
    i=0
    while [ ! -s "$W/addr.port" ] && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.05; done
    read -r ip port <"$W/addr.port" || { WHY="the call was not answered"; return 1; }
    udp_socks "$SERVE" | in_range "$RTP" "$((RTP + 989))" >"$W/addr.socks"
    reap $c || { WHY="the call failed"; return 1; }
    expect "the SDP announces $ip, not settings.media.address $MEDIA" [ "$ip" = "$MEDIA" ] &&
        expect "the call's RTP socket is not bound to $MEDIA:$port" grep -qx "$MEDIA:$port" "$W/addr.socks" &&
        expect "an RTP socket is bound to another address than $MEDIA" sh -c "! grep -qv '^$MEDIA:' '$W/addr.socks'"
}

case_strict_source() { # RTP from a source the SDP did not name is dropped: its DTMF does not count
    EVIDENCE="$W/strict.out $W/strict.rtp $W/serve.log"
    media_call strict digits "$UAC" "$PH1" 15000
    c=$LAST
    # an attacker on another host (and on the phone's host, another port)
    # sends '1' first; then the phone itself sends '2' and '#'
    peer_rtp strict sock:evil:127.0.0.3:0 sock:evilport:127.0.0.1:0 sock:phone:127.0.0.1:"$PH1" \
        dtmf:evil:1 dtmf:evilport:1 audio:evil:5 dtmf:phone:2 hear:phone dtmf:phone:'#' ||
        { WHY="the RTP peer failed"; return 1; }
    reap $c
    wait_for "$W/serve.log" 5 'strict@media.*digits \[' || true
    expect "the IVR did not get exactly the phone's digit (attacker's '1' taken?)" \
        grep -q "strict@media.*digits \[2\]" "$W/serve.log" &&
        expect "the dropped packets are not counted in the log" \
            grep -q "strict@media.*RTP packets dropped" "$W/serve.log"
}

case_nat_learning() { # symmetric_rtp: learned from the first packets, a later source is dropped
    EVIDENCE="$W/nat.out $W/nat.rtp $W/serve.log"
    # UAC2 is the `natted` gateway (symmetric_rtp: true): its SDP says
    # 127.0.0.1:PH2, its packets come from 127.0.0.4 (the NAT's address)
    media_call nat digits "$UAC2" "$PH2" 15000
    c=$LAST
    peer_rtp nat sock:nat:127.0.0.4:0 sock:late:127.0.0.5:0 \
        audio:nat:12 hear:nat dtmf:late:1 dtmf:nat:3 dtmf:nat:'#' ||
        { WHY="the server's RTP did not reach the learned address (see nat.rtp)"; return 1; }
    reap $c
    wait_for "$W/serve.log" 5 'nat@media.*digits \[' || true
    expect "not exactly the digit from the learned source (a source that came later taken?)" \
        grep -q "nat@media.*digits \[3\]" "$W/serve.log"
}

case_random_ports() { # ten calls: their RTP ports are not neighbours
    EVIDENCE="$W/rand.out $W/rand.ports"
    timeout 30 sipp 127.0.0.1:"$SIP" -sn uac -s hold -m 10 -r 20 -l 10 -d 300 -i 127.0.0.1 -p "$UAC3" -nostdin \
        -timeout 25 -timeout_error -trace_msg -message_file "$W/rand.msg" >"$W/rand.out" 2>&1 ||
        { WHY="calls failed"; return 1; }
    # the m= port of each 200 OK, in order; sequential allocation makes
    # 9 neighbour pairs, random ones (1 in 250 a pair) more than 2 about
    # once in 10^5 runs
    /usr/bin/python3 - "$W/rand.msg" >"$W/rand.ports" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
ports = []
for chunk in re.split(r"\n-{20,}[^\n]*\n", "\n" + text):
    if chunk.startswith("UDP message received") and "\nSIP/2.0 200 OK" in chunk and re.search(r"\nCSeq: *\d+ INVITE", chunk):
        m = re.search(r"\nm=audio (\d+)", chunk)
        if m:
            ports.append(int(m.group(1)))
print(" ".join(map(str, ports)))
pairs = sum(1 for a, b in zip(ports, ports[1:]) if abs(a - b) == 2)
print("neighbour pairs:", pairs)
sys.exit(0 if len(ports) == 10 and len(set(ports)) == 10 and pairs <= 2 else 1)
PY
    rc=$?
    expect "ports are sequential or repeated: $(head -1 "$W/rand.ports")" [ $rc = 0 ]
}

case_no_common_codec() { # G.729-only answers: BYE after the 200, CANCEL on the 183; failed 488
    EVIDENCE="$W/g729.out $W/g729_gw.out $W/g729e.out $W/g729e_gw.out $W/serve.log"
    sed 's/@CODE@/480/' "$ROOT/tests/sip/scenarios/uac-reject.xml" >"$W/uac-480.xml"
    for v in g729 g729e; do
        scen=$HERE/uas-g729.xml
        [ $v = g729e ] && scen=$HERE/uas-g729-early.xml
        timeout 30 sipp -sf "$scen" -m 1 -i 127.0.0.1 -p "$UAS" -nostdin -timeout 20 -timeout_error \
            -trace_msg -message_file "$W/${v}_gw.msg" >"$W/${v}_gw.out" 2>&1 &
        gw=$!
        BG="$BG $gw"
        PEERS="$PEERS $gw"
        wait_port "$UAS"
        timeout 30 sipp 127.0.0.1:"$SIP" -sf "$W/uac-480.xml" -s g729 -m 1 -i 127.0.0.1 -p "$UAC3" -nostdin \
            -cid_str "$v@media" -timeout 20 -timeout_error -trace_msg -message_file "$W/$v.msg" >"$W/$v.out" 2>&1 ||
            { WHY="$v: the caller did not get 480 (bridged to a call with no media?)"; return 1; }
        reap $gw || { WHY="$v: the gateway did not get its ACK+BYE / CANCEL"; return 1; }
        wait_for "$W/serve.log" 5 "$v@media.*dial failed" || true
        expect "$v: no 'dial failed 488' for the caller" grep -q "$v@media.*dial failed 488" "$W/serve.log" &&
            expect "$v: the caller was bridged" sh -c "! grep -q '$v@media.*event *bridge' '$W/serve.log'" || return 1
    done
    expect "the gateway's 200 was not ended with BYE" grep -q "^BYE " "$W/g729_gw.msg" &&
        expect "the gateway's 183 was not CANCELled" grep -q "^CANCEL " "$W/g729e_gw.msg"
}

case_rtp_timeout() { # silent for rtp_timeout (2s): hung up by system; RTP flowing: not
    EVIDENCE="$W/silent.out $W/silent.rtp $W/talk.out $W/talk.rtp $W/silent.json $W/serve.log"
    media_call silent hold "$UAC" "$PH1" 15000
    s=$LAST
    media_call talk hold "$UAC2" "$PH2" 4500
    t=$LAST
    peer_rtp silent sock:phone:127.0.0.1:"$PH1" audio:phone:10 &
    p1=$!
    # talk: symmetric_rtp is on for UAC2's gateway, but this phone sends
    # from where its SDP says; 5 s of packets, longer than the timeout
    peer_rtp talk sock:phone:127.0.0.1:"$PH2" audio:phone:250 || { WHY="talk: RTP peer failed"; return 1; }
    wait $p1
    reap $s || { WHY="silent: the call failed"; return 1; }
    reap $t || { WHY="talk: the call failed"; return 1; }
    expect "the silent call was not hung up by the server" grep -qx server "$W/silent.port.bye" &&
        expect "the call with RTP flowing was hung up by the server" grep -qx caller "$W/talk.port.bye" &&
        expect "no finished record for the silent call" finished silent@media silent &&
        expect "the silent call is not hangup_by system, cause rtp_timeout" json silent \
            "[c for c in d['finished'] if c['call_id'] == 'silent@media'][0]['hangup_by'] == 'system' and [c for c in d['finished'] if c['call_id'] == 'silent@media'][0]['hangup_cause'] == 'rtp_timeout'"
}

case_pool_closes() { # after a burst of calls the RTP sockets close again
    EVIDENCE="$W/burst.out $W/socks.txt"
    # no call is up: any RTP socket left is a pooled one
    before=$(udp_socks "$SERVE" | in_range "$RTP" "$((RTP + 989))" | wc -l)
    timeout 30 sipp 127.0.0.1:"$SIP" -sn uac -s hold -m 30 -r 100 -l 30 -d 800 -i 127.0.0.1 -p "$UAC4" -nostdin \
        -timeout 25 -timeout_error >"$W/burst.out" 2>&1 || { WHY="the burst failed"; return 1; }
    peak=$(udp_socks "$SERVE" | in_range "$RTP" "$((RTP + 989))" | wc -l)
    # pooled sockets unused for 5 s are closed: poll for 15 s
    i=0
    while :; do
        now=$(udp_socks "$SERVE" | in_range "$RTP" "$((RTP + 989))" | wc -l)
        [ "$now" -eq 0 ] && break
        i=$((i + 1))
        [ $i -lt 300 ] || break
        sleep 0.05
    done
    echo "before $before peak $peak after $now" >"$W/socks.txt"
    expect "the burst left no sockets to measure (before $before, peak $peak)" [ "$peak" -ge 20 ] &&
        expect "RTP sockets did not fall back after the burst: before $before, peak $peak, 15 s later $now" \
            [ "$now" -eq 0 ]
}

case_rtcp_mux() { # a=rtcp-mux answered when offered (an odd port), not unasked (an even one);
    # offered to an offerless caller (an even port: the ACK may not mux)
    EVIDENCE="$W/mux.out $W/plain.out $W/offerless.out $W/mux.port $W/plain.port $W/offerless.port"
    sed 's/@MUX@/a=rtcp-mux/' "$HERE/mux-call.xml" >"$W/mux.xml"
    sed '/@MUX@/d' "$HERE/mux-call.xml" >"$W/plain.xml"
    cp "$HERE/offerless-call.xml" "$W/offerless.xml"
    for k in mux plain offerless; do
        timeout 30 sipp 127.0.0.1:"$SIP" -sf "$W/$k.xml" -s line -m 1 -i 127.0.0.1 -p "$UAC" -nostdin \
            -key rtpport "$PH1" -key portfile "$W/$k.port" -cid_str "$k@media" -timeout 15 -timeout_error \
            >"$W/$k.out" 2>&1 || { WHY="the $k call failed"; return 1; }
    done
    read -r _ mport mmux <"$W/mux.port"   # "m=audio PORT [a=rtcp-mux]"
    read -r _ pport pmux <"$W/plain.port"
    read -r _ oport omux <"$W/offerless.port"
    expect "the muxing caller's answer has no a=rtcp-mux" [ "${mmux:-}" = a=rtcp-mux ] &&
        expect "the muxing caller got an even port ($mport) while odd ones are free" [ $((mport % 2)) = 1 ] &&
        expect "a caller that does not mux was answered a=rtcp-mux" [ -z "${pmux:-}" ] &&
        expect "a caller that does not mux got an odd port ($pport)" [ $((pport % 2)) = 0 ] &&
        expect "our offer to an offerless caller has no a=rtcp-mux" [ "${omux:-}" = a=rtcp-mux ] &&
        expect "our offer to an offerless caller is on an odd port ($oport)" [ $((oport % 2)) = 0 ] &&
        expect "a port outside the range" sh -c "for p in $mport $pport $oport; do [ \$p -ge $RTP ] && [ \$p -le $((RTP + 989)) ] || exit 1; done"
}

case_admission() { # 4 RTP ports, max_calls 10: two calls (each dials after 1 s) are admitted,
    # the third gets 503 at once naming the range (not a dial that later finds no
    # port); the two are bridged, their re-INVITE while the range is full is answered
    EVIDENCE="$W/adm.out $W/adm_gw.out $W/adm3.out $W/adm.json $W/refused.json $W/serve2.log"
    lo=$((RTP + 990))
    cat >"$W/adm.yaml" <<EOF
version: 1
settings:
  media: { rtp_ports: "$lo-$((lo + 3))" }
  admin: { listen: "127.0.0.1:$ADMIN2" }
  limits: { max_calls: 10 }
gateways:
  gw: { uri: "sip:127.0.0.1:$UAS" }
  any: { uri: "sip:127.0.0.1:9", accept_any_source: true }
routes:
  - name: out
    script:
      - app: answer
      - app: wait
        seconds: 1
      - app: dial
        to: "5550001"
        gateway: gw
EOF
    "$CR" serve "$W/adm.yaml" --sip "udp:127.0.0.1:$SIP2" >"$W/serve2.log" 2>&1 &
    s2=$!
    BG="$BG $s2"
    wait_for "$W/serve2.log" 15 'listening for SIP' || { WHY="second server did not start"; return 1; }
    # a gateway that takes the hold passed on (re-INVITEs) and our BYE
    timeout 30 sipp -sf "$ROOT/tests/sip/scenarios/agent-held.xml" -m 2 -i 127.0.0.1 -p "$UAS" -nostdin \
        -timeout 20 >"$W/adm_gw.out" 2>&1 &
    gw=$!
    BG="$BG $gw"
    PEERS="$PEERS $gw"
    wait_port "$UAS"
    # The callers hold (re-INVITE) 2.5 s after their ACK: both dials have
    # their ports by then and the range is full.
    sed '0,/<pause milliseconds="300"\/>/s//<pause milliseconds="2500"\/>/' \
        "$ROOT/tests/sip/scenarios/uac-hold.xml" >"$W/uac-hold-late.xml"
    timeout 30 sipp 127.0.0.1:"$SIP2" -sf "$W/uac-hold-late.xml" -s x -m 2 -l 2 -r 50 -i 127.0.0.1 -p "$UAC3" \
        -nostdin -timeout 25 -timeout_error -trace_msg -message_file "$W/adm.msg" >"$W/adm.out" 2>&1 &
    two=$!
    BG="$BG $two"
    PEERS="$PEERS $two"
    # Both admitted, neither has dialled (each waits 1 s): the third comes now.
    i=0
    while :; do
        get "$ADMIN2" /calls adm && json adm "len(d['calls']) == 2" && break
        i=$((i + 1))
        [ $i -lt 100 ] || { WHY="the first two calls were not admitted"; return 1; }
        sleep 0.01
    done
    sed 's/@CODE@/503/' "$ROOT/tests/sip/scenarios/uac-reject.xml" >"$W/uac-503.xml"
    timeout 30 sipp 127.0.0.1:"$SIP2" -sf "$W/uac-503.xml" -s x -m 1 -i 127.0.0.1 -p "$UAC4" -nostdin \
        -cid_str "third@media" -timeout 20 -timeout_error >"$W/adm3.out" 2>&1
    rc=$?
    i=0
    while :; do
        get "$ADMIN2" /calls adm && json adm "len([c for c in d['calls'] if c['bridged']]) == 2" && break
        i=$((i + 1))
        [ $i -lt 100 ] || { WHY="the two admitted calls were not both bridged (a dial found no port?)"; return 1; }
        sleep 0.05
    done
    get "$ADMIN2" /refused refused
    reap $two || { WHY="the two admitted calls did not complete (their re-INVITE with the range full?)"; return 1; }
    reap $gw
    kill -TERM "$s2"
    reap "$s2" || { WHY="second server did not exit 0"; return 1; }
    expect "the third call did not get 503 at once" [ $rc = 0 ] &&
        expect "no log line naming the port range for the third call" \
            grep -q "call third@media from 127.0.0.1:$UAC4 refused: 503 rtp_ports: .*4 ports of settings.media.rtp_ports $lo-$((lo + 3))" "$W/serve2.log" &&
        expect "GET /refused does not list it as rtp_ports" \
            json refused "any(r['call_id'] == 'third@media' and r['reason'] == 'rtp_ports' for r in d['refused'])" &&
        expect "a leg found no RTP session" sh -c "! grep -q 'no RTP session' '$W/serve2.log'" &&
        expect "the re-INVITEs (hold, unhold) were not answered 200" \
            [ "$(grep -c '^SIP/2.0 200' "$W/adm.msg")" -ge 8 ] &&
        expect "sanitizer report" sh -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$W/serve2.log'"
}

wait_bridged() { # wait_bridged NAME N TRIES: until the second server's /calls has N bridged calls (WHY set if not)
    i=0
    until get "$ADMIN2" /calls "$1" && json "$1" "len([c for c in d['calls'] if c['bridged']]) == $2"; do
        i=$((i + 1))
        [ $i -lt "$3" ] || { WHY="the $2 calls were not all bridged"; return 1; }
        sleep 0.05
    done
}

case_open_files() { # rtp_io: epoll, open files for 100 RTP sockets, a 1,000-port range: 50 calls
    # held, the 51st gets 503 naming the open-files limit (said at start too); the 50 complete
    EVIDENCE="$W/of.out $W/of51.out $W/of.json $W/serve3.log"
    # Where the hard limit can be raised (CAP_SYS_RESOURCE), the server
    # raises it toward the range and this limit does not bind.
    if /usr/bin/python3 -c 'import resource as r; s, h = r.getrlimit(r.RLIMIT_NOFILE); r.setrlimit(r.RLIMIT_NOFILE, (s, h + 1))' 2>/dev/null; then
        echo "    (skipped: this user may raise the hard open-files limit)"
        return 0
    fi
    lo=$((RTP - 1000))
    cat >"$W/of.yaml" <<EOF
version: 1
settings:
  media: { rtp_ports: "$lo-$((lo + 999))", rtp_io: epoll }
  admin: { listen: "127.0.0.1:$ADMIN2" }
  sip: { flood: { rate: 0 } }
gateways:
  gw: { uri: "sip:127.0.0.1:$UAS" }
  any: { uri: "sip:127.0.0.1:9", accept_any_source: true }
routes:
  - name: out
    script:
      - app: dial
        to: "5550001"
        gateway: gw
EOF
    (ulimit -n 200 && exec "$CR" serve "$W/of.yaml" --sip "udp:127.0.0.1:$SIP2") >"$W/serve3.log" 2>&1 &
    s3=$!
    BG="$BG $s3"
    wait_for "$W/serve3.log" 15 'listening for SIP' || { WHY="third server did not start"; return 1; }
    timeout 30 sipp -sn uas -i 127.0.0.1 -p "$UAS" -nostdin -timeout 25 >"$W/of_gw.out" 2>&1 &
    gw=$!
    BG="$BG $gw"
    PEERS="$PEERS $gw"
    wait_port "$UAS"
    timeout 30 sipp 127.0.0.1:"$SIP2" -sn uac -s x -m 50 -l 50 -r 100 -d 5000 -i 127.0.0.1 -p "$UAC3" -nostdin \
        -timeout 25 -timeout_error >"$W/of.out" 2>&1 &
    fifty=$!
    BG="$BG $fifty"
    PEERS="$PEERS $fifty"
    wait_bridged of 50 100 || return 1
    sed 's/@CODE@/503/' "$ROOT/tests/sip/scenarios/uac-reject.xml" >"$W/uac-503.xml"
    timeout 30 sipp 127.0.0.1:"$SIP2" -sf "$W/uac-503.xml" -s x -m 1 -i 127.0.0.1 -p "$UAC4" -nostdin \
        -cid_str "fiftyfirst@media" -timeout 20 -timeout_error >"$W/of51.out" 2>&1
    rc=$?
    reap $fifty || { WHY="the 50 held calls did not complete"; return 1; }
    kill $gw 2>/dev/null
    reap $gw
    kill -TERM "$s3"
    reap "$s3" || { WHY="third server did not exit 0"; return 1; }
    expect "no warning at start naming the open-files limit" \
        grep -q "open-files limit .* allows 100 RTP sockets of the 1000 ports of settings.media.rtp_ports: calls beyond 50 get 503" "$W/serve3.log" &&
        expect "the 51st call did not get 503 at once" [ $rc = 0 ] &&
        expect "no log line naming the open-files limit for the 51st call" \
            grep -q "call fiftyfirst@media from 127.0.0.1:$UAC4 refused: 503 max_calls: 50, the default: half the 100 RTP sessions the open-files limit" "$W/serve3.log" &&
        expect "a leg found no RTP session" sh -c "! grep -q 'no RTP session' '$W/serve3.log'" &&
        expect "sanitizer report" sh -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$W/serve3.log'"
}

case_open_files_io_uring() { # rtp_io: auto under open files for 200 descriptors, a 1,000-port range:
    # the sockets go to io_uring's fixed-file tables (said at start), 150 calls (300 RTP
    # sockets) are held with the process's descriptors under 200, and they complete
    EVIDENCE="$W/ou.out $W/ou.json $W/serve4.log $W/ou.fds"
    lo=$((RTP - 2000))
    cat >"$W/ou.yaml" <<EOF
version: 1
settings:
  media: { rtp_ports: "$lo-$((lo + 999))" }
  admin: { listen: "127.0.0.1:$ADMIN2" }
  sip: { flood: { rate: 0 } }
  limits: { max_calls: 0 }
gateways:
  gw: { uri: "sip:127.0.0.1:$UAS" }
  any: { uri: "sip:127.0.0.1:9", accept_any_source: true }
routes:
  - name: out
    script:
      - app: dial
        to: "5550001"
        gateway: gw
EOF
    (ulimit -n 200 && exec "$CR" serve "$W/ou.yaml" --sip "udp:127.0.0.1:$SIP2") >"$W/serve4.log" 2>&1 &
    s4=$!
    BG="$BG $s4"
    wait_for "$W/serve4.log" 15 'listening for SIP' || { WHY="fourth server did not start"; return 1; }
    timeout 40 sipp -sn uas -i 127.0.0.1 -p "$UAS" -nostdin -timeout 35 >"$W/ou_gw.out" 2>&1 &
    gw=$!
    BG="$BG $gw"
    PEERS="$PEERS $gw"
    wait_port "$UAS"
    timeout 40 sipp 127.0.0.1:"$SIP2" -sn uac -s x -m 150 -l 150 -r 200 -d 6000 -i 127.0.0.1 -p "$UAC3" -nostdin \
        -timeout 35 -timeout_error >"$W/ou.out" 2>&1 &
    calls=$!
    BG="$BG $calls"
    PEERS="$PEERS $calls"
    wait_bridged ou 150 200 || return 1
    ls "/proc/$s4/fd" | wc -l >"$W/ou.fds"
    reap $calls || { WHY="the 150 held calls did not complete"; return 1; }
    kill $gw 2>/dev/null
    reap $gw
    kill -TERM "$s4"
    reap "$s4" || { WHY="fourth server did not exit 0"; return 1; }
    expect "not said at start that the sockets are in io_uring's tables" \
        grep -q "RTP sockets: io_uring: 1000 RTP sockets in 5 fixed-file table(s)" "$W/serve4.log" &&
        expect "300 RTP sockets held with 200 descriptors or more" [ "$(cat "$W/ou.fds")" -lt 200 ] &&
        expect "a call was refused" sh -c "! grep -q 'refused: 503' '$W/serve4.log'" &&
        expect "a leg found no RTP session" sh -c "! grep -q 'no RTP session' '$W/serve4.log'" &&
        expect "sanitizer report" sh -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$W/serve4.log'"
}

for c in ${HOSTILE_MEDIA_CASES:-media_address strict_source nat_learning random_ports no_common_codec rtp_timeout \
    pool_closes rtcp_mux admission open_files open_files_io_uring}; do
    run "$c"
done
kill -TERM "$SERVE"
if ! reap "$SERVE"; then
    bad exit "serve did not exit 0 after SIGTERM" "$W/serve.log"
elif grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$W/serve.log"; then
    bad sanitizer "sanitizer report in the server log" "$W/serve.log"
fi
[ "$FAILS" -eq 0 ]
