#!/bin/sh
# services_bench.sh — runner for bench/services_bench.c (bench/README.md):
# starts the 1-second HTTP service (services_bench_server.py, asyncio) and a
# PostgreSQL with a customers table, then runs the benchmark binary
# ($BENCH_BIN) against them: 10,000 calls at once on one loop, each waiting
# on HTTP, then each doing one PostgreSQL lookup. JSON lines on stdout.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BENCH_BIN:-$ROOT/build/bench/bench/services_bench}
CALLS=${SERVICES_BENCH_CALLS:-10000}
T=$(mktemp -d)
chmod 755 "$T"
SRV=
cleanup() {
    [ -n "$SRV" ] && kill "$SRV" 2>/dev/null
    [ -f "$T/pg/data/PG_VERSION" ] && sh "$ROOT/tests/services/pg.sh" stop "$T/pg" immediate
    wait 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
# One socket per waiting call, on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

/usr/bin/python3 "$ROOT/bench/services_bench_server.py" >"$T/port" &
SRV=$!
i=0
while ! grep -q '^PORT' "$T/port" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "services_bench: HTTP server did not start" >&2; exit 1; }
    sleep 0.05
done
HTTP="http://127.0.0.1:$(sed -n 's/^PORT //p' "$T/port")"

sh "$ROOT/tests/services/pg.sh" start "$T/pg" >/dev/null
PG=$(sh "$ROOT/tests/services/pg.sh" url "$T/pg")
psql -q "$PG" -c "CREATE TABLE customers(phone text primary key, agent text);
  INSERT INTO customers SELECT '7916' || lpad(g::text, 7, '0'), '101' FROM generate_series(0, $CALLS) g;" >&2

"$BIN" --http "$HTTP" --pg "$PG" --calls "$CALLS" "$@"
