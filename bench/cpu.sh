#!/usr/bin/env bash
# CPU per request: what one page of 50 messages and one page of 50 users cost the Parley process (user and
# system time from /proc over a wrk run), beside the requests/s. Less noisy than requests/s alone on a
# machine whose cores wrk shares: the time is the process's own, whatever else runs.
#
#   bench/cpu.sh                 PARLEY_BIN (default build/parley), DURATION (default 4), PORT (18790)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PARLEY_BIN=${PARLEY_BIN:-build/parley}
DURATION=${DURATION:-4}
PORT=${PORT:-18790}
URL=http://127.0.0.1:$PORT
ACCOUNT=AC$(printf 'be0c%028d' 3)
TOKEN=0123456789abcdef0123456789abcdef
. bench/lib.sh
need_tools bench/cpu.sh wrk curl node
[ -x "$PARLEY_BIN" ] || make -s
one_server

"$PARLEY_BIN" --listen "127.0.0.1:$PORT" --data "$tmp/p.db" --public-url "$URL" --account-sid "$ACCOUNT" \
    --auth-token "$TOKEN" --max-per-ip 0 >"$tmp/log" 2>&1 &
PID=$!
wait_http "$URL/healthz" || { cat "$tmp/log" >&2; exit 1; }
sid() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).sid))'; }
post() { curl -fs -u "$ACCOUNT:$TOKEN" "$@"; }
CH=$(post -d FriendlyName=bench "$URL/v1/Conversations" | sid)
for i in $(seq 60); do post -o /dev/null -d "Body=hello $i" -d Author=bench "$URL/v1/Conversations/$CH/Messages"; done
for i in $(seq 60); do post -o /dev/null -d "Identity=user-$i" "$URL/v1/Users"; done
AUTH=$(printf '%s:%s' "$ACCOUNT" "$TOKEN" | base64 -w0)

ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; } # utime + stime, in clock ticks
hz=$(getconf CLK_TCK)
one() {
    local label=$1 path=$2
    local t0 t1 out
    t0=$(ticks)
    out=$(env BENCH_AUTH="$AUTH" BENCH_THREADS=2 BENCH_LUA_DIR=bench/lua BENCH_RUN="$(date +%s%N)" \
        BENCH_PATH="$path" wrk -t2 -c32 -d"${DURATION}s" -s bench/lua/get.lua "$URL")
    t1=$(ticks)
    local n rps
    n=$(echo "$out" | awk '/requests in/ {print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    awk -v l="$label" -v r="$rps" -v t=$((t1 - t0)) -v hz="$hz" -v n="$n" \
        'BEGIN { printf "| %s | %.0f | %.0f |\n", l, r, t / hz * 1e6 / n }'
}
echo "| operation | requests/s | Parley CPU µs per request |"
echo "|---|---:|---:|"
one "message list, first page (50)" "/v1/Conversations/$CH/Messages?PageSize=50"
one "user list, first page (50)" "/v1/Users?PageSize=50"
