#!/bin/sh
# pg.sh — a throwaway PostgreSQL from Debian's packages, for the tests.
#
#   pg.sh start DIR [PORT]   initdb (first time) + start on 127.0.0.1; prints the port
#   pg.sh stop DIR [MODE]    pg_ctl stop (MODE: fast | immediate), waits
#   pg.sh url DIR            the connection URL
#
# The server refuses to run as root, so as root it runs as `postgres` in
# DIR, which it owns (DIR's parents must be searchable by postgres).
# Trust authentication, database "test". The first start builds a template
# cluster (initdb + createdb, ~2 s) in $TMPDIR; later ones copy it.
set -eu
cmd=$1
dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "pg.sh: PostgreSQL is not installed" >&2; exit 1; }

as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

opts() { # PORT SOCKETDIR
    echo "-p $1 -k $2 -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
}

# A cluster with the "test" database, made once and copied: initdb is the
# slow part. Built beside, then renamed into place, so parallel runs agree.
template() {
    tpl=${TMPDIR:-/tmp}/callroute-pg-template-$(basename "$(dirname "$bin")")-$(id -u)
    [ -f "$tpl/data/PG_VERSION" ] && { echo "$tpl"; return; }
    work=$(mktemp -d "${TMPDIR:-/tmp}/callroute-pg-build.XXXXXX")
    chmod 755 "$work"
    [ "$(id -u)" -eq 0 ] && chown postgres "$work"
    as_pg "$bin/initdb" -D "$work/data" -A trust -U postgres -N >"$work/initdb.log" 2>&1
    p=$(free_port)
    as_pg "$bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 20 -o "$(opts "$p" "$work")" start >/dev/null
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$p" -U postgres test
    as_pg "$bin/pg_ctl" -D "$work/data" -m fast -w -t 20 stop >/dev/null
    rm -f "$work/server.log" "$work/initdb.log"
    mv -T "$work" "$tpl" 2>/dev/null || rm -rf "$work"
    echo "$tpl"
}

case $cmd in
start)
    port=${3:-}
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        tpl=$(template)
        mkdir -p "$dir"
        [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
        cp -a "$tpl/data" "$dir/data"
    fi
    [ -n "$port" ] || port=$(cat "$dir/port" 2>/dev/null || free_port)
    echo "$port" >"$dir/port.tmp" && mv "$dir/port.tmp" "$dir/port"
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 20 -o "$(opts "$port" "$dir")" start >/dev/null
    echo "$port"
    ;;
stop)
    mode=${3:-fast}
    as_pg "$bin/pg_ctl" -D "$dir/data" -m "$mode" -w -t 20 stop >/dev/null 2>&1 || true
    ;;
url)
    echo "postgresql://postgres@127.0.0.1:$(cat "$dir/port")/test"
    ;;
*)
    echo "usage: pg.sh start|stop|url DIR" >&2
    exit 2
    ;;
esac
