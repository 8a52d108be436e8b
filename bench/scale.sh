#!/usr/bin/env bash
# Scale check (issue 6): fetch and update throughput, start-up time and peak RSS at 10,000 users and at
# 1,000,000 users, on the same data file, in one run. Users are seeded with bench/seed_sql.sh while the
# server is stopped; everything runs on 127.0.0.1 and each wrk run is bounded.
#
#   bench/scale.sh [SMALL [LARGE]]     default 10000 and 1000000; DURATION (s per run, default 10)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SMALL=${1:-10000} LARGE=${2:-1000000} DURATION=${DURATION:-10}
ACCOUNT=AC5ca1e000000000000000000000000001 TOKEN=scale-bench-token-0001
make -s build/parley
tmp=$(mktemp -d "${TMPDIR:-/tmp}/parley-scale.XXXXXX")
pid=
trap '[ -z "$pid" ] || kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
base=http://127.0.0.1:$port
auth=$(printf '%s:%s' "$ACCOUNT" "$TOKEN" | base64 -w0)

start() { # start: runs the server; STARTUP_MS = the ms until /healthz answers
    local t0 t1
    t0=$(date +%s%N)
    build/parley --listen "127.0.0.1:$port" --data "$tmp/p.db" --account-sid "$ACCOUNT" --auth-token "$TOKEN" \
        >>"$tmp/server.log" 2>&1 &
    pid=$!
    until curl -fs "$base/healthz" >/dev/null 2>&1; do sleep 0.005; done
    t1=$(date +%s%N)
    STARTUP_MS=$(((t1 - t0) / 1000000))
}
stop() { kill -TERM "$pid"; wait "$pid" || true; pid=; }
rss() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status"; }
run() { # run LUA: requests/s and p99 of one wrk run
    BENCH_AUTH=$auth BENCH_THREADS=2 BENCH_LUA_DIR=bench/lua BENCH_SIDS=$tmp/sids.txt \
        timeout $((DURATION + 30)) wrk -t2 -c32 -d"${DURATION}s" --latency -s "bench/lua/$1" "$base" >"$tmp/wrk.log"
    awk '/Requests\/sec/ {r=$2} /^ +99%/ {p=$2} END {printf "%s %s\n", r, p}' "$tmp/wrk.log"
}
measure() { # measure USERS
    start
    sqlite3 "$tmp/p.db" "SELECT sid FROM users ORDER BY random() LIMIT 20000" >"$tmp/sids.txt"
    read -r f_rps f_p99 < <(run fetch_sid.lua)
    read -r u_rps u_p99 < <(run update.lua)
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$f_rps" "$f_p99" "$u_rps" "$u_p99" "$STARTUP_MS" "$(rss)"
    stop
}

start   # creates the account and its default service
stop
echo "| users | fetch req/s | fetch p99 | update req/s | update p99 | start-up ms | peak RSS MB |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
bench/seed_sql.sh "$tmp/p.db" "$ACCOUNT" "$SMALL" small
measure "$SMALL"
bench/seed_sql.sh "$tmp/p.db" "$ACCOUNT" $((LARGE - SMALL)) large
measure "$LARGE"
