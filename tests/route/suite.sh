#!/bin/sh
# tests/route/suite.sh — `callroute route` on fixtures: the chosen route on
# the first line, then every route of the call's type with its verdict,
# checked line by line; exit statuses; --json; usage errors.
# Prints "PASS name" / "FAIL name" (with a diff) per case.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CALLROUTE=${CALLROUTE:-$ROOT/build/callroute}
F=$ROOT/tests/route/fixtures
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
RUN=
if [ ! -x "$CALLROUTE" ]; then
    echo "FAIL route:binary ($CALLROUTE is missing)"
    exit 1
fi

# case NAME EXPECTED_EXIT [ARGS...] ; expected stdout on stdin
case_() {
    name=$1 want_rc=$2
    shift 2
    cat >"$tmp/want"
    $RUN "$CALLROUTE" route "$@" >"$tmp/got" 2>"$tmp/err"
    rc=$?
    diff -u "$tmp/want" "$tmp/got" >"$tmp/diff"
    same=$?
    if [ "$rc" -eq "$want_rc" ] && [ "$same" -eq 0 ]; then
        echo "PASS route:$name"
    else
        echo "FAIL route:$name (exit $rc, want $want_rc)"
        sed 's/^/    /' "$tmp/diff" "$tmp/err"
        status=1
    fi
}

# stderr_has NAME TEXT: the previous case's stderr contains TEXT.
stderr_has() {
    if grep -qF -- "$2" "$tmp/err"; then
        echo "PASS route:$1"
    else
        echo "FAIL route:$1: stderr lacks: $2"
        sed 's/^/    /' "$tmp/err"
        status=1
    fi
}

case_ weekday-office 0 "$F/office.yaml" --from 79160000000 --to 74951234567 --source provider \
    --at 2026-11-27T10:00:00+03:00 <<'EOF'
office-hours
retired (priority 95): disabled
vip (priority 90): not matched: caller_number in ['79165551234', '79165550000'] (saw '79160000000')
office-hours (priority 50): chosen
moscow-any-time (priority 50): matched, but 'office-hours' wins (same priority, earlier in the file)
night (priority 40): not matched: schedule time 22:00-06:00 (saw fri 2026-11-27 10:00 Europe/Moscow)
backup-trunk (priority 30): not matched: none of: source equals 'backup' (saw 'provider'); sip.header.X-Trunk equals 'backup' (saw nothing: undefined)
EOF

# The same moment written in UTC; the schedule is in Moscow time.
case_ saturday-utc 0 "$F/office.yaml" --from 79160000000 --to 74951234567 --source provider \
    --at 2026-11-28T07:00:00Z <<'EOF'
moscow-any-time
retired (priority 95): disabled
vip (priority 90): not matched: caller_number in ['79165551234', '79165550000'] (saw '79160000000')
office-hours (priority 50): not matched: schedule days mon-fri (saw sat 2026-11-28 10:00 Europe/Moscow)
moscow-any-time (priority 50): chosen
night (priority 40): not matched: schedule time 22:00-06:00 (saw sat 2026-11-28 10:00 Europe/Moscow)
backup-trunk (priority 30): not matched: none of: source equals 'backup' (saw 'provider'); sip.header.X-Trunk equals 'backup' (saw nothing: undefined)
EOF

case_ vip-beats-all 0 "$F/office.yaml" --from 79165550000 --to 74951234567 --source provider \
    --at 2026-11-27T10:00:00+03:00 <<'EOF'
vip
retired (priority 95): disabled
vip (priority 90): chosen
office-hours (priority 50): matched, but 'vip' wins (higher priority)
moscow-any-time (priority 50): matched, but 'vip' wins (higher priority)
night (priority 40): not matched: schedule time 22:00-06:00 (saw fri 2026-11-27 10:00 Europe/Moscow)
backup-trunk (priority 30): not matched: none of: source equals 'backup' (saw 'provider'); sip.header.X-Trunk equals 'backup' (saw nothing: undefined)
EOF

case_ night-after-midnight 0 "$F/office.yaml" --from 79160000000 --to 78121234567 --source provider \
    --at 2026-11-28T01:30:00+03:00 <<'EOF'
night
retired (priority 95): disabled
vip (priority 90): not matched: caller_number in ['79165551234', '79165550000'] (saw '79160000000')
office-hours (priority 50): not matched: called_number pattern '_7495XXXXXXX' (saw '78121234567')
moscow-any-time (priority 50): not matched: called_number starts_with '7495' (saw '78121234567')
night (priority 40): chosen
backup-trunk (priority 30): not matched: none of: source equals 'backup' (saw 'provider'); sip.header.X-Trunk equals 'backup' (saw nothing: undefined)
EOF

case_ header-var-any 0 "$F/office.yaml" --from 1 --to 2 --source provider \
    --at 2026-11-28T12:00:00+03:00 --var sip.header.X-Trunk=backup <<'EOF'
backup-trunk
retired (priority 95): disabled
vip (priority 90): not matched: caller_number in ['79165551234', '79165550000'] (saw '1')
office-hours (priority 50): not matched: called_number pattern '_7495XXXXXXX' (saw '2')
moscow-any-time (priority 50): not matched: called_number starts_with '7495' (saw '2')
night (priority 40): not matched: schedule time 22:00-06:00 (saw sat 2026-11-28 12:00 Europe/Moscow)
backup-trunk (priority 30): chosen
EOF

case_ no-route 3 "$F/office.yaml" --from 1 --to 2 --source provider --at 2026-11-28T12:00:00+03:00 <<'EOF'
no route
retired (priority 95): disabled
vip (priority 90): not matched: caller_number in ['79165551234', '79165550000'] (saw '1')
office-hours (priority 50): not matched: called_number pattern '_7495XXXXXXX' (saw '2')
moscow-any-time (priority 50): not matched: called_number starts_with '7495' (saw '2')
night (priority 40): not matched: schedule time 22:00-06:00 (saw sat 2026-11-28 12:00 Europe/Moscow)
backup-trunk (priority 30): not matched: none of: source equals 'backup' (saw 'provider'); sip.header.X-Trunk equals 'backup' (saw nothing: undefined)
EOF

case_ from-user 0 "$F/office.yaml" --from 101 --to 102 --source user:101 --at 2026-11-28T12:00:00Z <<'EOF'
internal
internal (priority 50): chosen
EOF

case_ from-user-no-route 3 "$F/office.yaml" --from 101 --to 1000 --source user:101 --at 2026-11-28T12:00:00Z <<'EOF'
no route
internal (priority 50): not matched: called_number matches '^1\d\d$' (saw '1000')
EOF

case_ unknown-gateway-warns 3 "$F/office.yaml" --from 1 --to 2 --source provder --at 2026-11-28T12:00:00Z \
    --var sip.header.X-Trunk=none <<'EOF'
no route
retired (priority 95): disabled
vip (priority 90): not matched: caller_number in ['79165551234', '79165550000'] (saw '1')
office-hours (priority 50): not matched: called_number pattern '_7495XXXXXXX' (saw '2')
moscow-any-time (priority 50): not matched: called_number starts_with '7495' (saw '2')
night (priority 40): not matched: schedule time 22:00-06:00 (saw sat 2026-11-28 15:00 Europe/Moscow)
backup-trunk (priority 30): not matched: none of: source equals 'backup' (saw 'provder'); sip.header.X-Trunk equals 'backup' (saw 'none')
EOF
stderr_has unknown-gateway-warning "warning: no gateway 'provder'"

case_ json 0 "$F/office.yaml" --from 101 --to 102 --source user:101 --at 2026-11-28T12:00:00Z --json <<EOF
{"route":"internal","type":"from_user","routes":[{"name":"internal","priority":50,"enabled":true,"matched":true,"chosen":true,"reason":null,"file":"$F/office.yaml","line":41}]}
EOF

case_ json-no-route 3 "$F/office.yaml" --from 101 --to 9 --source user:101 --at 2026-11-28T12:00:00Z --json <<EOF
{"route":null,"type":"from_user","routes":[{"name":"internal","priority":50,"enabled":true,"matched":false,"chosen":false,"reason":"called_number matches '^1\\\\d\\\\d\$' (saw '9')","file":"$F/office.yaml","line":41}]}
EOF

# America/New_York: 09:00 local is 14:00 UTC in winter and 13:00 UTC in summer.
case_ dst-winter-0900 0 "$F/dst.yaml" --from 1 --to 2 --at 2026-03-06T14:00:00Z <<'EOF'
ny-office
ny-office (priority 60): chosen
ny-closed (priority 10): matched, but 'ny-office' wins (higher priority)
EOF
case_ dst-summer-0859 0 "$F/dst.yaml" --from 1 --to 2 --at 2026-03-09T12:59:00Z <<'EOF'
ny-closed
ny-office (priority 60): not matched: schedule time 09:00-17:00 (saw mon 2026-03-09 08:59 America/New_York)
ny-closed (priority 10): chosen
EOF
case_ dst-summer-0900 0 "$F/dst.yaml" --from 1 --to 2 --at 2026-03-09T09:00:00-04:00 <<'EOF'
ny-office
ny-office (priority 60): chosen
ny-closed (priority 10): matched, but 'ny-office' wins (higher priority)
EOF
case_ dst-autumn-1659 0 "$F/dst.yaml" --from 1 --to 2 --at 2026-11-02T21:59:00Z <<'EOF'
ny-office
ny-office (priority 60): chosen
ny-closed (priority 10): matched, but 'ny-office' wins (higher priority)
EOF
case_ dst-autumn-1700 0 "$F/dst.yaml" --from 1 --to 2 --at 2026-11-02T22:00:00Z <<'EOF'
ny-closed
ny-office (priority 60): not matched: schedule time 09:00-17:00 (saw mon 2026-11-02 17:00 America/New_York)
ny-closed (priority 10): chosen
EOF

# A dialled user's own route (to_user), with a call variable.
case_ to-user-dnd 0 "$F/dst.yaml" --type to_user --from 1 --to 101 --var dnd=on --at 2026-11-02T22:00:00Z <<'EOF'
dnd-101
dnd-101 (priority 50): chosen
EOF
case_ to-user-no-dnd 3 "$F/dst.yaml" --type to_user --from 1 --to 101 --at 2026-11-02T22:00:00Z <<'EOF'
no route
dnd-101 (priority 50): not matched: dnd equals 'on' (saw nothing: undefined)
EOF

# Local time when --at has no offset.
RUN="env TZ=Asia/Tokyo"
case_ at-local-time 0 "$F/dst.yaml" --from 1 --to 2 --at 2026-03-06T23:00:00 <<'EOF'
ny-office
ny-office (priority 60): chosen
ny-closed (priority 10): matched, but 'ny-office' wins (higher priority)
EOF
RUN=

# Invalid and unreadable files, usage errors.
case_ invalid-file 1 "$F/invalid.yaml" --from 1 --to 2 </dev/null
stderr_has invalid-file-diagnostic "invalid.yaml:5:35: error: unknown op 'startswith'; did you mean 'starts_with'? (at routes[0].conditions[0].op)"
case_ unreadable-file 2 "$F/does-not-exist.yaml" --from 1 --to 2 </dev/null
case_ missing-to 2 "$F/office.yaml" --from 1 </dev/null
stderr_has missing-to-message "--to is required"
case_ bad-at 2 "$F/office.yaml" --from 1 --to 2 --at 2026-13-01T00:00:00Z </dev/null
stderr_has bad-at-message "--at wants ISO 8601"
case_ bad-var 2 "$F/office.yaml" --from 1 --to 2 --var novalue </dev/null
case_ unknown-option 2 "$F/office.yaml" --from 1 --to 2 --frm 3 </dev/null
case_ bad-type 2 "$F/office.yaml" --from 1 --to 2 --type inbound </dev/null
case_ no-file 2 --from 1 --to 2 </dev/null
"$CALLROUTE" route --help >"$tmp/help" 2>&1
if [ $? -eq 0 ] && grep -q "usage: callroute route FILE" "$tmp/help"; then
    echo "PASS route:help"
else
    echo "FAIL route:help"
    status=1
fi
exit $status
