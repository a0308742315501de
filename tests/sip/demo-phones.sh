#!/bin/sh
# tests/sip/demo-phones.sh [SERVER] — the seed call against `make run`
# (callroute serve examples/demo.yaml, 127.0.0.1:5060 by default), with sipp:
#   1. Alice's phone registers as user 101 (digest) with contact 127.0.0.1:5071;
#   2. a call comes from the trunk "provider" (sipp on 127.0.0.1:5070) to 1000:
#      welcomed, it waits in the support queue, which offers it to Alice;
#   3. Alice answers, puts the caller on hold (the caller hears the hold
#      music; the supervisor's e-mail is queued: see the trace), then hangs
#      up; callroute ends the call.
set -eu
SERVER=${1:-127.0.0.1:5060}
SC=$(cd "$(dirname "$0")" && pwd)/scenarios
T=$(mktemp -d)
trap 'kill $PHONE 2>/dev/null; rm -rf "$T"' EXIT
sed 's/@FINAL@/200/' "$SC/register.xml" >"$T/register.xml"
echo "== Alice (101) registers"
timeout 20 sipp "$SERVER" -sf "$T/register.xml" -key user 101 -key contact_port 5071 -key expires 3600 \
    -au 101 -ap alice-secret -m 1 -p 5072 -i 127.0.0.1 -nostdin -timeout 15 -timeout_error >"$T/reg.out" 2>&1 &&
    echo "   registered" || { echo "   registration failed:"; tail -20 "$T/reg.out"; exit 1; }
timeout 60 sipp -sf "$SC/agent-hold.xml" -p 5071 -m 1 -i 127.0.0.1 -nostdin -timeout 50 >"$T/phone.out" 2>&1 &
PHONE=$!
sleep 0.3
echo "== the trunk calls 1000; the queue offers the call to Alice, who answers, holds, hangs up"
if timeout 60 sipp "$SERVER" -sf "$SC/uac-seed.xml" -s 1000 -m 1 -p 5070 -i 127.0.0.1 -nostdin \
    -timeout 50 -timeout_error >"$T/call.out" 2>&1 && wait $PHONE; then
    echo "   done: the call went through, was held and ended"
else
    echo "   the call did not go as expected:"
    tail -20 "$T/call.out"
    exit 1
fi
