#!/bin/sh
# tests/deb/suite.sh — the Debian package (issue 12): `make deb` builds it
# with debhelper, lintian finds no error, dpkg installs it on this machine,
# the installed binary checks the installed configuration, systemd accepts
# the unit, and the service runs as the callroute user the package made
# (its ReadWritePaths exist and are the user's). The package is purged at
# the end.
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
CR=${CALLROUTE:-$ROOT/build/callroute}
SUITE=deb
. "$ROOT/tests/sip/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "FAIL $SUITE:setup"
    echo "    installs a package: needs root"
    exit 1
fi

DEB=""
purge() { dpkg --purge callroute >/dev/null 2>&1 || true; }
trap 'purge; cleanup' EXIT

case_build() { # make deb (a clean copy of the tree, debhelper 13)
    EVIDENCE="$W/build.out"
    (cd "$ROOT" && sh scripts/build-deb.sh) >"$W/build.out" 2>&1 || { WHY="make deb failed"; return 1; }
    DEB=$ROOT/$(tail -1 "$W/build.out")
    expect "no .deb: $DEB" [ -f "$DEB" ] &&
        expect "the package lacks a file it must ship" sh -c "dpkg -c '$DEB' >'$W/contents' &&
            for f in ./usr/bin/callroute ./etc/callroute/callroute.yaml ./lib/systemd/system/callroute.service \
                ./usr/share/man/man1/callroute.1.gz ./usr/share/bash-completion/completions/callroute; do
                grep -q \" \$f\$\" '$W/contents' || { echo missing \$f; exit 1; }
            done"
}

case_lintian() { # no lintian error
    EVIDENCE="$W/lintian.out"
    [ -n "$DEB" ] || { WHY="no package built"; return 1; }
    expect "lintian reports errors" sh -c "lintian --fail-on error '$DEB' >'$W/lintian.out' 2>&1"
}

case_install() { # dpkg -i; the user, its directories and the conffile
    EVIDENCE="$W/install.out"
    [ -n "$DEB" ] || { WHY="no package built"; return 1; }
    purge
    dpkg -i "$DEB" >"$W/install.out" 2>&1 || { WHY="dpkg -i failed"; return 1; }
    expect "no callroute system user" sh -c "getent passwd callroute >/dev/null" &&
        expect "/var/lib/callroute is not the callroute user's" \
            [ "$(stat -c %U /var/lib/callroute/recordings)" = callroute ] &&
        expect "/etc/callroute/callroute.yaml is not a conffile" \
            sh -c "dpkg-query -W -f='\${Conffiles}' callroute | grep -q /etc/callroute/callroute.yaml"
}

case_installed_check() { # the installed binary accepts the installed configuration
    EVIDENCE="$W/check.out"
    expect "callroute check /etc/callroute/callroute.yaml failed" \
        sh -c "/usr/bin/callroute check /etc/callroute/callroute.yaml >'$W/check.out' 2>&1"
}

case_unit_verified() { # systemd-analyze verify accepts the installed unit
    EVIDENCE="$W/verify.out"
    expect "systemd-analyze verify failed" \
        sh -c "systemd-analyze verify --man=no /lib/systemd/system/callroute.service >'$W/verify.out' 2>&1" &&
        expect "the unit is not Type=notify with a watchdog, run as callroute" \
            sh -c "grep -q '^Type=notify' /lib/systemd/system/callroute.service &&
                   grep -q '^WatchdogSec=' /lib/systemd/system/callroute.service &&
                   grep -q '^User=callroute' /lib/systemd/system/callroute.service &&
                   grep -q '^ProtectSystem=strict' /lib/systemd/system/callroute.service"
}

case_runs_as_user() { # the installed service runs as callroute and answers on its admin API
    EVIDENCE="$W/run.log"
    # shellcheck disable=SC2046
    set -- $(/usr/bin/python3 "$ROOT/tests/sip/ports.py" 2)
    sip=$1 admin=$2
    (cd /var/lib/callroute && exec setpriv --reuid=callroute --regid=callroute --init-groups \
        /usr/bin/callroute serve /etc/callroute/callroute.yaml \
        --sip "udp:127.0.0.1:$sip" --admin "127.0.0.1:$admin") >"$W/run.log" 2>&1 &
    pid=$!
    BG="$BG $pid"
    wait_for "$W/run.log" 15 'listening for SIP' || { WHY="the installed service did not start"; return 1; }
    awk '/^Uid:/ {print $2}' "/proc/$pid/status" >"$W/uid"
    code=$(/usr/bin/python3 "$ROOT/tests/admin/fetch.py" GET "http://127.0.0.1:$admin/health" "$W/health.json")
    kill -TERM "$pid"
    reap "$pid" || { WHY="serve did not exit 0 on SIGTERM"; return 1; }
    expect "/health answered $code" [ "$code" = 200 ] &&
        expect "it did not run as the callroute user" grep -q "^$(id -u callroute)\$" "$W/uid"
}

for c in ${DEB_CASES:-build lintian install installed_check unit_verified runs_as_user}; do
    run "$c"
done
[ "$FAILS" -eq 0 ]
