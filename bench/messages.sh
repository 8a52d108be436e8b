#!/usr/bin/env bash
# Conversations benchmark (issues 13 and 14): conversation create and fetch, participant create, message
# create and the first page of messages beside a user update, a user list page and the nginx ceiling, in
# one run, with the busy conversation at 1,000 and at 1,000,000 messages.
#
#   bench/messages.sh            DURATION (seconds per operation, default 5), CONNS (default 32),
#                                THREADS (wrk -t, default 2), PARLEY_BIN (default build/parley)
#                                BASELINE_BIN: another build (say, of the commit an issue was filed at)
#                                whose user update and user list page are measured in the same run, on a
#                                second server with its own store and the same 1,000 users
#   bench/messages.sh --pg       the same on a throwaway PostgreSQL cluster (scripts/pg.sh; the server with
#                                --threads 4, its threads wait on the database), filled with psql
#
# All on 127.0.0.1: a fresh SQLite store (--sync full: every 2xx is fsynced); 1,000 users and 100
# conversations seeded through the API; the busy conversation's messages written straight into the store
# with the sqlite3 shell (999 of the first 1,000, then up to 1,000,000), so that seeding takes seconds;
# wrk on each operation (bench/lua/*.lua). Prints a Markdown table. Exit status 0 when every run had only
# 2xx answers.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
DURATION=${DURATION:-5}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
PARLEY_BIN=${PARLEY_BIN:-build/parley}
ACCOUNT=AC$(printf 'be0c%028d' 2)
TOKEN=0123456789abcdef0123456789abcdef
PG=0
[ "${1:-}" = --pg ] && PG=1
DB_TOOL=sqlite3
[ "$PG" = 1 ] && DB_TOOL=psql
. bench/lib.sh
need_tools bench/messages.sh wrk nginx curl "$DB_TOOL" node
[ -x "$PARLEY_BIN" ] || make -s

tmp=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "${PGDIR:-}" ] && bash scripts/pg.sh stop "$PGDIR" >/dev/null 2>&1
    rm -rf "$tmp" ${PGDIR:+"$PGDIR"}
}
trap cleanup EXIT

DATA=$tmp/parley.db
EXTRA=()
if [ "$PG" = 1 ]; then
    # a folder of its own: mktemp's is closed to the postgres user
    PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/parley-bench-pg.XXXXXX")
    rmdir "$PGDIR"
    DATA=$(bash scripts/pg.sh start "$PGDIR") || { echo "bench/messages.sh: scripts/pg.sh start failed" >&2; exit 1; }
    EXTRA=(--threads 4)
fi
# sql TEXT: one statement batch on the store, its rows printed bare
sql() {
    if [ "$PG" = 1 ]; then psql -X -q -A -t -v ON_ERROR_STOP=1 "$DATA" -c "$1"; else sqlite3 -cmd '.timeout 10000' "$DATA" "$1"; fi
}
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
"$PARLEY_BIN" --listen "127.0.0.1:$PORT" --data "$DATA" --public-url "$BASE" --account-sid "$ACCOUNT" \
    --auth-token "$TOKEN" --max-per-ip 0 "${EXTRA[@]}" </dev/null >"$tmp/parley.log" 2>&1 &
PIDS+=($!)
wait_http "$BASE/healthz" || { cat "$tmp/parley.log" >&2; exit 1; }
AUTH=(-u "$ACCOUNT:$TOKEN")

# users and conversations through the API
node - "$ROOT/bench/api.cjs" "$BASE" "$ACCOUNT" "$TOKEN" "$tmp" <<'EOF'
const [api, base, account, token, out] = process.argv.slice(2);
const fs = require('fs');
const post = require(api)(base, account, token);
(async () => {
  const users = [];
  for (let i = 0; i < 1000; i += 50) users.push(...(await Promise.all(Array.from({ length: 50 }, (_, k) => post('/v1/Users', { Identity: `bench-${i + k}` })))).map((u) => u.sid));
  const convs = [];
  for (let i = 0; i < 100; i++) convs.push((await post('/v1/Conversations', { FriendlyName: `bench ${i}` })).sid);
  const m = await post(`/v1/Conversations/${convs[0]}/Messages`, { Body: 'the first message' });
  fs.writeFileSync(`${out}/sids.txt`, users.join('\n') + '\n');
  fs.writeFileSync(`${out}/convs.txt`, convs.join('\n') + '\n');
  fs.writeFileSync(`${out}/message.json`, JSON.stringify(m));
})().catch((e) => { console.error(e); process.exit(1); });
EOF
BUSY=$(head -n 1 "$tmp/convs.txt")
IS=$(sql "SELECT service_sid FROM conversations WHERE sid = '$BUSY'")
BUSY_ID=$(sql "SELECT id FROM conversations WHERE sid = '$BUSY'")

# the busy conversation up to n messages (indexes 1..n-1 after the API's index 0)
fill_to() {
    local n=$1 hex="printf('%032x', i)" series
    series="WITH RECURSIVE s(i) AS (SELECT (SELECT max(idx) + 1 FROM messages WHERE conversation_id = $BUSY_ID)
                              UNION ALL SELECT i + 1 FROM s WHERE i < $((n - 1)))"
    if [ "$PG" = 1 ]; then
        hex="lpad(to_hex(i), 32, '0')"
        series="WITH s(i) AS (SELECT generate_series((SELECT max(idx) + 1 FROM messages WHERE conversation_id = $BUSY_ID), $((n - 1))))"
    fi
    sql "$series
      INSERT INTO messages(sid, account_sid, service_sid, conversation_sid, conversation_id, idx, author, body,
                           attributes, date_created, date_updated)
      SELECT 'IM' || $hex, '$ACCOUNT', '$IS', '$BUSY', $BUSY_ID, i, 'system', 'bulk message ' || i, '{}',
             1700000000000 + i, 1700000000000 + i FROM s;
      UPDATE conversations SET next_message_index = (SELECT max(idx) + 1 FROM messages WHERE conversation_id = $BUSY_ID)
      WHERE sid = '$BUSY';" >/dev/null
}

# the ceiling: nginx answering a body of a message's size
NPORT=$(free_port)
mkdir -p "$tmp/nginx/logs"
NBODY=$(sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g" -e 's/\$/S/g' "$tmp/message.json")
cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    default_type application/json;
    keepalive_requests 100000000;
    client_body_temp_path $tmp/nginx/client_body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server { listen 127.0.0.1:$NPORT; location / { return 200 '$NBODY'; } }
}
EOF
nginx -p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log" </dev/null >/dev/null 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$NPORT/" || { echo "nginx did not start" >&2; exit 1; }

AUTH_B64=$(printf '%s:%s' "$ACCOUNT" "$TOKEN" | base64 -w0)
BAD=0
echo "| operation | messages in the busy conversation | requests/s | p50 ms | p99 ms | non-2xx |"
echo "|---|---:|---:|---:|---:|---:|"
measure() { # LABEL SIZE URL SCRIPT [VAR=VALUE...]
    local label=$1 size=$2 url=$3 script=$4
    shift 4
    local log=$tmp/wrk.txt
    env BENCH_AUTH="$AUTH_B64" BENCH_THREADS="$THREADS" BENCH_LUA_DIR="$ROOT/bench/lua" BENCH_RUN="$(date +%s%N)" "$@" \
        timeout -k 5 $((DURATION + 60)) wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 5s --latency \
        -s "bench/lua/$script" "$url" >"$log" 2>&1 || { cat "$log" >&2; BAD=1; }
    local rps p50 p99 non2xx
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$log")
    p50=$(awk '$1 == "50%" { print $2 }' "$log")
    p99=$(awk '$1 == "99%" { print $2 }' "$log")
    non2xx=$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "$log")
    [ -n "${non2xx:-}" ] && BAD=1
    echo "| $label | $size | ${rps:-?} | ${p50:-?} | ${p99:-?} | ${non2xx:-0} |"
}
MSGS=/v1/Conversations/$BUSY/Messages
measure "ceiling: nginx return 200" - "http://127.0.0.1:$NPORT" get.lua BENCH_PATH=/
measure "user update, distinct users" - "$BASE" update.lua BENCH_SIDS="$tmp/sids.txt"
measure "user list, first page (50)" - "$BASE" get.lua BENCH_PATH="/v1/Users?PageSize=50"
if [ -n "${BASELINE_BIN:-}" ]; then
    BPORT=$(free_port)
    BBASE=http://127.0.0.1:$BPORT
    "$BASELINE_BIN" --listen "127.0.0.1:$BPORT" --data "$tmp/baseline.db" --public-url "$BBASE" \
        --account-sid "$ACCOUNT" --auth-token "$TOKEN" --max-per-ip 0 </dev/null >"$tmp/baseline.log" 2>&1 &
    PIDS+=($!)
    wait_http "$BBASE/healthz" || { cat "$tmp/baseline.log" >&2; exit 1; }
    node - "$ROOT/bench/api.cjs" "$BBASE" "$ACCOUNT" "$TOKEN" "$tmp/baseline-sids.txt" <<'EOF'
const [api, base, account, token, out] = process.argv.slice(2);
const post = require(api)(base, account, token);
(async () => {
  const users = [];
  for (let i = 0; i < 1000; i += 50) users.push(...(await Promise.all(Array.from({ length: 50 }, (_, k) => post('/v1/Users', { Identity: `bench-${i + k}` })))).map((u) => u.sid));
  require('fs').writeFileSync(out, users.join('\n') + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
EOF
    measure "baseline build: user update, distinct users" - "$BBASE" update.lua BENCH_SIDS="$tmp/baseline-sids.txt"
    measure "baseline build: user list, first page (50)" - "$BBASE" get.lua BENCH_PATH="/v1/Users?PageSize=50"
fi
measure "conversation create" - "$BASE" conversation_create.lua
measure "conversation fetch by SID" - "$BASE" fetch_each.lua BENCH_PREFIX=/v1/Conversations/ BENCH_SIDS="$tmp/convs.txt"
measure "participant create, across 100 conversations" - "$BASE" participant_create.lua \
    BENCH_CONVERSATIONS="$tmp/convs.txt"
for n in 1000 1000000; do
    fill_to "$n"
    size=$(sql "SELECT count(*) FROM messages WHERE conversation_id = $BUSY_ID")
    measure "message create, one busy conversation" "$size" "$BASE" message_create.lua BENCH_CONVERSATIONS="$BUSY"
    measure "message create, across 100 conversations" "$size" "$BASE" message_create.lua BENCH_CONVERSATIONS="$tmp/convs.txt"
    measure "message list, first page (50)" "$size" "$BASE" get.lua BENCH_PATH="$MSGS?PageSize=50"
    measure "message list, first page (50), Order=desc" "$size" "$BASE" get.lua BENCH_PATH="$MSGS?Order=desc&PageSize=50"
done
exit $BAD
