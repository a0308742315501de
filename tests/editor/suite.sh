#!/bin/sh
# tests/editor/suite.sh — the visual editor (GET /editor/, web/) in a real
# browser: Debian's chromium, headless, driven by playwright-core
# (editor.mjs), then the same in Debian's firefox-esr (headless, over
# WebDriver BiDi: cases editor:firefox_NAME) against a real `callroute serve`
# ($CALLROUTE, the sanitizer build under tests/run.sh) of a demo-like
# scenario, with a sipp caller; and
# the editor's files over HTTP (only known names, caching, gzip,
# settings.admin.editor: false). All on 127.0.0.1 with ports picked per run.
# One line per case: "PASS editor:NAME" or "FAIL editor:NAME".
#
#   --screenshots DIR   also writes the screenshots docs/editor/ holds
#                       (make screenshots)
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
HERE=$ROOT/tests/editor
SUITE=editor
SHOTS=""
[ "${1:-}" = "--screenshots" ] && SHOTS=$(mkdir -p "$2" && cd "$2" && pwd)
. "$ROOT/tests/sip/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
FIREFOX=${FIREFOX:-/usr/bin/firefox-esr}
if [ ! -x "$CHROMIUM" ] || ! command -v node >/dev/null || [ ! -d "$ROOT/web/node_modules/playwright-core" ]; then
    echo "FAIL editor:setup"
    echo "    needs chromium, node and web/node_modules (scripts/install-deps.sh, then make)"
    exit 1
fi

# shellcheck disable=SC2046
set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 3)
SIP=$1 UAC=$2 ADMIN=$3 RTP=$4
TOKEN=editor-token-0123456789
FILE=$W/callroute.yaml
# start_serve: a fresh `callroute serve` of the test scenario (revision 1,
# no calls yet), in $SERVE
start_serve() {
    rm -rf "$W/.callroute-revisions"
    sed -e "s|@RTP@|$RTP-$((RTP + 999))|; s|@ADMIN@|$ADMIN|; s|@UAC@|$UAC|" "$HERE/scenario.yaml" >"$FILE"
    CALLROUTE_ADMIN_TOKEN=$TOKEN "$CR" serve "$FILE" --sip "udp:127.0.0.1:$SIP" >"$W/serve.log" 2>&1 &
    SERVE=$!
    BG="$BG $SERVE"
    if ! wait_for "$W/serve.log" 15 'listening for SIP'; then
        echo "FAIL editor:setup"
        sed 's/^/    /' "$W/serve.log"
        exit 1
    fi
}
start_serve

# ---- the files over HTTP ----

# hget PATH NAME [CURL ARGS]: status in CODE, headers in $W/NAME.h, body in $W/NAME.b
hget() {
    p=$1 n=$2
    shift 2
    CODE=$(curl -s --path-as-is -o "$W/$n.b" -D "$W/$n.h" -w '%{http_code}' "$@" "http://127.0.0.1:$ADMIN$p")
}
header() { grep -i "^$1:" "$W/$2.h" | head -1 | sed 's/^[^:]*: *//; s/\r$//'; }

case_files() {
    EVIDENCE="$W/index.h $W/index.b"
    hget /editor redirect
    expect "/editor: $CODE" [ "$CODE" = 308 ] &&
        expect "/editor: Location $(header Location redirect)" [ "$(header Location redirect)" = /editor/ ] || return 1
    hget /editor/ index
    expect "/editor/: $CODE" [ "$CODE" = 200 ] &&
        expect "index.html type $(header Content-Type index)" [ "$(header Content-Type index)" = "text/html; charset=utf-8" ] &&
        expect "index.html is cached for good" [ "$(header Cache-Control index)" = no-cache ] &&
        expect "no CSP on the page" grep -qi "^Content-Security-Policy: default-src 'self'" "$W/index.h" || return 1
    js=$(grep -o 'editor-[A-Z0-9]*\.js' "$W/index.b")
    css=$(grep -o 'editor-[A-Z0-9]*\.css' "$W/index.b")
    hget "/editor/$js" js
    expect "$js: $CODE" [ "$CODE" = 200 ] &&
        expect "$js type" [ "$(header Content-Type js)" = "text/javascript; charset=utf-8" ] &&
        expect "$js not immutable" [ "$(header Cache-Control js)" = "public, max-age=31536000, immutable" ] || return 1
    hget "/editor/$css" css
    expect "$css: $CODE $(header Content-Type css)" [ "$CODE $(header Content-Type css)" = "200 text/css; charset=utf-8" ] || return 1
    # revalidation: 304 with the same ETag
    etag=$(header ETag index)
    hget /editor/ again -H "If-None-Match: $etag"
    expect "If-None-Match $etag: $CODE" [ "$CODE" = 304 ] || return 1
    # gzip when asked for, the same bytes once unpacked
    hget "/editor/$js" gz -H 'Accept-Encoding: gzip, deflate'
    expect "gzip: $CODE $(header Content-Encoding gz)" [ "$(header Content-Encoding gz)" = gzip ] &&
        expect "gzip body differs" sh -c "gzip -dc '$W/gz.b' | cmp -s - '$W/js.b'" &&
        expect "no Vary" [ "$(header Vary gz)" = Accept-Encoding ] || return 1
    hget "/editor/$js" nogz -H 'Accept-Encoding: gzip;q=0, identity'
    expect "gzip;q=0 still compressed" [ -z "$(header Content-Encoding nogz)" ]
}

case_only_known_names() { # a name from the URL never reaches the file system
    for p in "/editor/../health" "/editor/..%2Fhealth" "/editor//etc/passwd" "/editor/../../etc/passwd" \
        "/editor/index.html/" "/editor/./index.html" "/editor/INDEX.HTML" "/editor/editor.js" "/editor/%2e%2e/health"; do
        hget "$p" bad
        if [ "$CODE" != 404 ] || grep -q 'root:' "$W/bad.b"; then
            WHY="$p: $CODE"
            return 1
        fi
    done
    hget /editor/index.html named
    expect "/editor/index.html: $CODE" [ "$CODE" = 200 ] || return 1
    hget /editor/ post -X POST -H "Authorization: Bearer $TOKEN"
    expect "POST /editor/: $CODE" [ "$CODE" = 405 ]
}

# sim NAME JSON_PY: POST /simulate with the body the Python expression
# JSON_PY builds (y: a scenario text); the answer in $W/NAME.json, CODE set.
sim() {
    /usr/bin/python3 -c "import json,sys; y=open(sys.argv[1]).read(); print(json.dumps($2))" "$HERE/sim.yaml" >"$W/$1.req"
    CODE=$(curl -s -o "$W/$1.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
        --data-binary "@$W/$1.req" "http://127.0.0.1:$ADMIN/simulate")
}
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$W/$1.json"; }

case_simulate_api() { # POST /simulate: the text given, mocks answer HTTP, bounds hold, nothing deployed
    EVIDENCE="$W/s1.json $W/s2.json $W/s3.json $W/s4.json"
    sim s1 "{'scenario': y, 'from': '100', 'to': 'crm', 'mocks': {'http': [{'url': 'http://crm.invalid/*', 'json': {'tier': 'gold'}}]}}"
    expect "crm call: $CODE" [ "$CODE" = 200 ] &&
        expect "the mock did not answer, or the route is not the text's" json s1 \
            "d['route'] == 'crm' and d['vars']['tier'] == 'gold' and d['hangup_by'] == 'scenario' and d['stopped'] is None and d['trace'][-1]['kind'] == 'call'" || return 1
    sim s2 "{'scenario': y, 'from': '100', 'to': 'crm'}"
    expect "no mock: the request went out ($CODE)" json s2 \
        "any(r.get('phase') == 'end' and r.get('app') == 'http' and 'no mock' in (r.get('error') or '') for r in d['trace'])" || return 1
    sim s3 "{'scenario': y, 'from': '100', 'to': 'spin'}"
    expect "runaway: $CODE" [ "$CODE" = 200 ] &&
        expect "a runaway loop was not stopped at 5,000 records" json s3 "d['stopped'] == 'max_records' and 5000 <= d['records'] <= 5010" || return 1
    sim s4 "{'scenario': 'version: 1\\nroutes:\\n  - name: x\\n    script:\\n      - app: email\\n        body: hi\\n', 'from': '1', 'to': '2'}"
    expect "invalid text: $CODE" [ "$CODE" = 422 ] &&
        expect "the error lacks its path" json s4 "d['errors'][0]['path'] == 'routes[0].script[0]' and 'needs' in d['errors'][0]['message']" || return 1
    sim s5 "{'from': '1'}"
    expect "no to: $CODE" [ "$CODE" = 400 ] || return 1
    CODE=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary '{"from":"1","to":"2"}' "http://127.0.0.1:$ADMIN/simulate")
    expect "without the token: $CODE" [ "$CODE" = 401 ] || return 1
    CODE=$(curl -s -o "$W/cur.json" -w '%{http_code}' "http://127.0.0.1:$ADMIN/scenario")
    expect "a simulation changed the revision" json cur "d['revision'] == 1"
}

run files
run only_known_names
run simulate_api

# ---- the editor in the browser ----

# browser NAME: editor.mjs in chromium or firefox (Debian's firefox-esr over
# WebDriver BiDi), against the serve now running
browser() {
    ADMIN=$ADMIN TOKEN=$TOKEN SIP=$SIP UAC=$UAC WORK=$W SHOTS=$SHOTS CHROMIUM=$CHROMIUM FIREFOX=$FIREFOX BROWSER=$1 HOME=${HOME:-/root} \
        timeout 240 node "$HERE/editor.mjs" >"$W/browser-$1.out" 2>&1
    rc=$?
    cat "$W/browser-$1.out"
    if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$W/browser-$1.out"; then
        bad "browser_$1" "editor.mjs exited $rc" "$W/serve.log"
    fi
    grep -q '^FAIL ' "$W/browser-$1.out" && FAILS=$((FAILS + 1)) && tail -30 "$W/serve.log" | sed 's/^/    serve: /'
}
browser chromium

# The same in Firefox, on a fresh serve (the run above deployed revisions)
if [ -x "$FIREFOX" ]; then
    kill -TERM "$SERVE"
    wait "$SERVE" 2>/dev/null
    start_serve
    browser firefox
else
    echo "FAIL editor:firefox"
    echo "    needs $FIREFOX (scripts/install-deps.sh installs firefox-esr)"
    FAILS=$((FAILS + 1))
fi

# ---- turned off ----

case_turned_off() { # settings.admin.editor: false, then a reload: 404
    EVIDENCE="$W/off.b $W/serve.log"
    sed -i "s|admin: {[ ]*listen|admin: { editor: false, listen|" "$FILE"
    CODE=$(curl -s -o "$W/reload.b" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$ADMIN/reload")
    expect "reload: $CODE $(cat "$W/reload.b")" [ "$CODE" = 200 ] || return 1
    hget /editor/ off
    expect "/editor/ with editor: false: $CODE" [ "$CODE" = 404 ] &&
        expect "no reason given" grep -q 'settings.admin.editor: false' "$W/off.b"
}
run turned_off

[ "$FAILS" -eq 0 ]
