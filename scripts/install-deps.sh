#!/bin/sh
# Installs the Debian 12 packages callroute needs to build and test.
# Idempotent and quick: it calls apt-get only when a package is missing.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-14-dev valgrind
libyaml-dev libjansson-dev libpcre2-dev libcurl4-openssl-dev libsqlite3-dev
libpq-dev libcmocka-dev libsofia-sip-ua-dev sofia-sip-doc libsndfile1-dev libspandsp-dev libmicrohttpd-dev libmimalloc-dev
libespeak-ng-dev espeak-ng-data libsamplerate0-dev libsrtp2-dev libnss3-dev liburing-dev baresip-core
libsystemd-dev libssl-dev
tzdata sip-tester socat strace postgresql python3-aiosmtpd python3-pytest
python3-jsonschema python3-yaml
debhelper help2man lintian python3-prometheus-client
chromium firefox-esr fonts-dejavu-core
kamailio kamailio-postgres-modules kamailio-websocket-modules kamailio-tls-modules rtpengine-daemon openssl"

if [ "${1:-}" = "--bench" ]; then
  # rtpengine-daemon: the media-anchoring peer (bench/kamailio-rtpengine,
  # media_bench); Kamailio's rtpengine and dialog modules are in kamailio.
  PKGS="$PKGS liblua5.4-dev lua5.4 hyperfine rtpengine-daemon"
fi

missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

# The editor (web/) is bundled with Node.js and npm; tests/editor drives it in
# chromium. A node and npm from elsewhere (not Debian's packages) do too.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing="$missing nodejs npm"
fi

[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# tests/cluster and tests/webphone run their own Kamailio and rtpengine on
# loopback ports; the packages' services (Kamailio's default config on port
# 5060, rtpengine's on its default ports) are not wanted on a build host.
for svc in kamailio rtpengine-daemon; do
  case " $missing " in
  *" $svc "*)
    if command -v systemctl >/dev/null && systemctl is-enabled "$svc" >/dev/null 2>&1; then
      $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
    ;;
  esac
done
