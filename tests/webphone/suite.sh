#!/bin/sh
# tests/webphone/suite.sh — a browser as a phone (issue 19, item 3), all
# real and on 127.0.0.1: PostgreSQL (tests/services/pg.sh: Kamailio's
# location table and the node's cluster database), rtpengine (userspace,
# --table=-1), Debian's Kamailio with the shipped config and -A WITH_WEBRTC
# -A WITH_WSS (contrib/kamailio/kamailio.cfg: WebSocket listeners, plain and
# over TLS with a certificate made here by openssl, media through
# rtpengine), one `callroute serve` node (webphone.yaml), and Debian's
# chromium, headless with a fake microphone, driven by playwright-core
# (phone.mjs) on the node's /phone/ page. Cases:
#   files      GET /phone/ and its files, no token, the page's CSP lets it
#              open a WebSocket elsewhere; only known names
#   browser    (phone.mjs) the page registers as user 101 through the
#              WebSocket (Kamailio saves the location, the node checks the
#              password); calls 700: audio arrives (inbound-rtp packets and
#              level during the prompt), DTMF keys reach the scenario's
#              read_digits, hang up; POST /calls to user 101 rings the page,
#              it answers and hears the greeting; the node's GET /calls and
#              Kamailio's location say the same; user 102 registers over
#              wss:// and calls 700 (audio heard)
#   cleanup    rtpengine's calls are deleted after the hang-ups; Kamailio
#              logged no warning or error; no sanitizer report in the
#              node's log
# With --screenshot FILE, phone.mjs also writes the page in a call there
# (docs/webphone.png).
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
HERE=$ROOT/tests/webphone
S=$ROOT/tests/services
SUITE=webphone
SHOT=""
[ "${1:-}" = "--screenshot" ] && SHOT=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
. "$ROOT/tests/sip/lib.sh"
chmod 755 "$W"   # PostgreSQL runs as postgres in $W/pg
PG_UP=
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
MODS=/usr/lib/x86_64-linux-gnu/kamailio/modules
if ! command -v kamailio >/dev/null || [ ! -f "$MODS/db_postgres.so" ] || [ ! -f "$MODS/websocket.so" ] ||
    [ ! -f "$MODS/tls.so" ] || ! command -v openssl >/dev/null ||
    ! command -v rtpengine >/dev/null || [ ! -x "$CHROMIUM" ] || ! command -v node >/dev/null ||
    [ ! -d "$ROOT/web/node_modules/playwright-core" ]; then
    echo "FAIL $SUITE:setup"
    echo "    needs kamailio, kamailio-postgres-modules, kamailio-websocket-modules, kamailio-tls-modules, openssl,"
    echo "    rtpengine-daemon, chromium, node and web/node_modules (scripts/install-deps.sh, then make)"
    exit 1
fi

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 6)
KAM=$1 WS=$2 WSS=$3 NODE=$4 ADMIN=$5 NG=$6 RTP=$7
TOKEN=webphone-test-token-0123456789
export CALLROUTE_ADMIN_TOKEN=$TOKEN

cleanup_pg() { [ -n "$PG_UP" ] && sh "$S/pg.sh" stop "$W/pg" immediate; }
trap 'cleanup_pg; cleanup' EXIT
until_true() { # until_true SECONDS COMMAND...: polls COMMAND every 0.1 s
    n=$(($1 * 10))
    shift
    while [ "$n" -gt 0 ]; do
        "$@" && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}
psql_q() { # psql_q SQL: one value
    psql -X -A -t -h 127.0.0.1 -p "$PGPORT" -U postgres test -c "$1" 2>>"$W/psql.err"
}
wait_tcp() { # wait_tcp PORT: a TCP socket listens on it
    until_true 10 sh -c "[ -n \"\$(ss -Hltn 'sport = :$1')\" ]"
}
sanitizer_clean() { ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$@"; }

# ---- the pieces ----

pg_setup() {
    sh "$S/pg.sh" start "$W/pg" >"$W/pg.port" 2>>"$W/pg.err" || return 1
    PG_UP=1
    PGPORT=$(cat "$W/pg.port")
    PG="postgresql://postgres@127.0.0.1:$PGPORT/test"
    for f in standard usrloc; do
        psql -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres test -f "/usr/share/kamailio/postgres/$f-create.sql" \
            >>"$W/psql.out" 2>>"$W/psql.err" || return 1
    done
}

# rtpengine as its operators run it in a container: userspace only (no
# kernel table), on loopback, its own half of the run's RTP range.
rtpengine_start() {
    rtpengine --foreground --log-stderr --table=-1 --no-fallback --interface=127.0.0.1 \
        --listen-ng="127.0.0.1:$NG" --port-min=$((RTP + 500)) --port-max=$((RTP + 999)) --num-threads=1 \
        --log-level=${RTPENGINE_LOG_LEVEL:-6} --delete-delay=0 >"$W/rtpengine.log" 2>&1 &
    RTPE=$!
    BG="$BG $RTPE"
    until_true 10 sh -c "[ -n \"\$(ss -Hlun 'sport = :$NG')\" ]"
}

# Kamailio's certificate for wss:// and its tls module's file.
tls_setup() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$W/kam/key.pem" -out "$W/kam/cert.pem" 2>>"$W/openssl.err" || return 1
    printf '[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\nprivate_key = %s\ncertificate = %s\n' \
        "$W/kam/key.pem" "$W/kam/cert.pem" >"$W/kam/tls.cfg"
    # the browser trusts this key, and no other (chromium's SPKI list)
    SPKI=$(openssl x509 -in "$W/kam/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
        openssl dgst -sha256 -binary | openssl enc -base64)
}

kam_start() {
    mkdir -p "$W/kam"
    tls_setup || return 1
    printf '1 sip:127.0.0.1:%s 0 0 duid=cr1\n' "$NODE" >"$W/dispatcher.list"
    kamailio -f "$ROOT/contrib/kamailio/kamailio.cfg" -DD -E -x tlsf -m 64 -M 8 -Y "$W/kam" -P "$W/kam/pid" \
        -A WITH_WEBRTC -A WITH_WSS -A "LISTEN=udp:127.0.0.1:$KAM" -A "WS_LISTEN=tcp:127.0.0.1:$WS" \
        -A "WSS_LISTEN=tls:127.0.0.1:$WSS" -A "TLS_CFG=\"$W/kam/tls.cfg\"" \
        -A "RTPENGINE=\"udp:127.0.0.1:$NG\"" -A "DBURL=\"postgres://postgres@127.0.0.1:$PGPORT/test\"" \
        -A "DS_LIST=\"$W/dispatcher.list\"" -A "CTL_SOCK=\"unix:$W/kam/ctl\"" -A "DS_PING=1" -A "CHILDREN=2" \
        >"$W/kam.log" 2>&1 &
    KAMPID=$!
    BG="$BG $KAMPID"
    wait_port "$KAM" && wait_tcp "$WS" && wait_tcp "$WSS"
}

node_start() {
    mkdir -p "$W/node/sounds"
    /usr/bin/python3 "$HERE/tone.py" "$W/node/sounds/tone.wav" 20
    sed -e "s|@RTP@|$RTP-$((RTP + 499))|; s|@PG@|$PG|g; s|@KAM@|$KAM|; s|@SOUNDS@|$W/node/sounds|" \
        "$HERE/webphone.yaml" >"$W/node/webphone.yaml"
    "$CR" serve "$W/node/webphone.yaml" --sip "udp:127.0.0.1:$NODE" --admin "127.0.0.1:$ADMIN" --node cr1 \
        >>"$W/node.log" 2>&1 &
    NODEPID=$!
    BG="$BG $NODEPID"
    wait_for "$W/node.log" 20 'listening for SIP'
}

# Kamailio has the node active (its OPTIONS probes answered)
node_active() {
    kamcmd -s "unix:$W/kam/ctl" dispatcher.list 2>/dev/null | grep -A3 "sip:127.0.0.1:$NODE" | grep -q 'FLAGS: A'
}

# hget PATH NAME [CURL ARGS]: status in CODE, headers in $W/NAME.h, body in $W/NAME.b
hget() {
    p=$1 n=$2
    shift 2
    CODE=$(curl -s --path-as-is -o "$W/$n.b" -D "$W/$n.h" -w '%{http_code}' "$@" "http://127.0.0.1:$ADMIN$p")
}
header() { grep -i "^$1:" "$W/$2.h" | head -1 | sed 's/^[^:]*: *//; s/\r$//'; }

# ---- cases ----

case_setup() {
    EVIDENCE="$W/kam.log $W/node.log $W/rtpengine.log $W/psql.err $W/pg.err"
    pg_setup || { WHY="PostgreSQL did not start"; return 1; }
    rtpengine_start || { WHY="rtpengine did not start"; return 1; }
    kam_start || { WHY="Kamailio did not start (UDP $KAM, WebSocket $WS, over TLS $WSS)"; return 1; }
    node_start || { WHY="the node did not start"; return 1; }
    until_true 5 node_active || { WHY="Kamailio does not see the node up (OPTIONS probes)"; return 1; }
}

case_files() {
    EVIDENCE="$W/index.h $W/index.b"
    hget /phone redirect
    expect "/phone: $CODE" [ "$CODE" = 308 ] &&
        expect "/phone: Location $(header Location redirect)" [ "$(header Location redirect)" = /phone/ ] || return 1
    hget /phone/ index
    expect "/phone/: $CODE" [ "$CODE" = 200 ] &&
        expect "index.html type $(header Content-Type index)" [ "$(header Content-Type index)" = "text/html; charset=utf-8" ] &&
        expect "the page's CSP does not let it open a WebSocket: $(header Content-Security-Policy index)" \
            sh -c "grep -i '^Content-Security-Policy:' '$W/index.h' | grep -q \"connect-src 'self' ws: wss:\"" || return 1
    js=$(grep -o 'phone-[A-Z0-9]*\.js' "$W/index.b")
    css=$(grep -o 'phone-[A-Z0-9]*\.css' "$W/index.b")
    hget "/phone/$js" js
    expect "$js: $CODE $(header Content-Type js)" [ "$CODE $(header Content-Type js)" = "200 text/javascript; charset=utf-8" ] &&
        expect "$js is not JsSIP's bundle" grep -q 'JsSIP' "$W/js.b" || return 1
    hget "/phone/$css" css
    expect "$css: $CODE" [ "$CODE" = 200 ] || return 1
    for p in "/phone/../health" "/phone/editor.js" "/phone/$(grep -o 'editor-[A-Z0-9]*\.js' "$W/index.b" || echo x)"; do
        hget "$p" bad
        expect "$p: $CODE" [ "$CODE" = 404 ] || return 1
    done
    hget /phone/ post -X POST -H "Authorization: Bearer $TOKEN"
    expect "POST /phone/: $CODE" [ "$CODE" = 405 ]
}

run setup
[ "$FAILS" -eq 0 ] || exit 1
run files

# ---- the page in the browser ----

ADMIN=$ADMIN TOKEN=$TOKEN WS=$WS WSS=$WSS SPKI=$SPKI WORK=$W SHOT=$SHOT CHROMIUM=$CHROMIUM KAMCTL="unix:$W/kam/ctl" \
    PGPORT=$PGPORT NGPORT=$NG timeout 240 node "$HERE/phone.mjs" >"$W/browser.out" 2>&1
rc=$?
cat "$W/browser.out"
if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$W/browser.out"; then
    bad browser "phone.mjs exited $rc" "$W/node.log" "$W/kam.log"
fi
if grep -q '^FAIL ' "$W/browser.out"; then
    FAILS=$((FAILS + 1))
    for f in node.log kam.log rtpengine.log; do
        echo "    --- $f (tail)"
        tail -25 "$W/$f" | sed 's/^/    /'
    done
fi

case_cleanup() {
    EVIDENCE="$W/rtpengine.log $W/kam.log $W/node.log $W/ng.json"
    # rtpengine's calls end with the SIP dialogs (BYE through Kamailio)
    expect "rtpengine still holds calls after the hang-ups (ng.json)" \
        until_true 10 sh -c "/usr/bin/python3 '$HERE/ng.py' $NG list >'$W/ng.json' && grep -q '\"calls\": \[\]' '$W/ng.json'" || return 1
    # (but the tls module's note at start that it works around an OpenSSL bug)
    expect "Kamailio logged warnings or errors" \
        sh -c "! grep -E ' (WARNING|ERROR|CRITICAL): ' '$W/kam.log' | grep -v 'openssl bug #1491'" || return 1
    kill -TERM "$NODEPID" 2>/dev/null && wait "$NODEPID" 2>/dev/null
    BG=$(echo "$BG" | sed "s/\b$NODEPID\b//")
    expect "sanitizer report in the node's log" sanitizer_clean "$W/node.log"
}
run cleanup

[ "$FAILS" -eq 0 ]
