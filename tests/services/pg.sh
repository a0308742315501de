#!/bin/sh
# pg.sh — a throwaway PostgreSQL from Debian's packages, for the tests.
#
#   pg.sh start DIR [PORT]   initdb (first time) + start on 127.0.0.1; prints the port
#   pg.sh stop DIR [MODE]    pg_ctl stop (MODE: fast | immediate), waits
#   pg.sh url DIR            the connection URL
#
# The server refuses to run as root, so as root it runs as `postgres` in
# DIR, which it owns. Trust authentication, database "test".
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

case $cmd in
start)
    port=${3:-}
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        mkdir -p "$dir"
        [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
        as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres -N >"$dir/initdb.log" 2>&1
    fi
    [ -n "$port" ] || port=$(cat "$dir/port" 2>/dev/null || free_port)
    echo "$port" >"$dir/port.tmp" && mv "$dir/port.tmp" "$dir/port"
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 20 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
    if ! as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atqc \
        "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1; then
        as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres test
    fi
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
