#!/usr/bin/env bash
# Parley benchmark (issue 6): throughput and latency of the User operations beside a ceiling.
#
#   bench/run.sh                 100,000 users, 10 s per operation, 32 connections
#   bench/run.sh --scaling       also fetch and update at 1,2,4,8,16,32,64,256 connections
#   bench/run.sh --tiny          200 users, 1 s per run, no scaling (CI runs this so it cannot rot)
#   bench/run.sh --pg            also the PostgreSQL store: fetch and update with one server, then two
#                                servers on one database (wrk on each, in parallel), beside SQLite
#   bench/run.sh --users N --duration S
#
# Environment: PARLEY_BIN (the binary to measure, e.g. an old build copied aside; default build/parley,
# built by make), USERS, DURATION (seconds per run), THREADS (wrk -t, default 2), CONNS (default 32),
# BENCH_OUT (default bench/out), SEED_TIMEOUT (default 1800 s), BENCH_SKIP_DEPS=1, BENCH_KEEP_TMP=1,
# PG_THREADS (--threads of the PostgreSQL servers, default 4: their threads wait on the database).
#
# What it does, all on 127.0.0.1 and each step bounded in time:
#   1. scripts/deps.sh --bench, then `make` (build/parley, the default -O2 build).
#   2. Starts build/parley on a fresh data file in a temp dir with a fixed account, waits for
#      GET /healthz (the time that takes is reported as start-up).
#   3. Seeds the users through the HTTP API with bench/seed.mjs (node, keep-alive, 32 in flight):
#      robust against schema changes, and it collects the SIDs the other runs need. It also walks
#      next_page_url half-way through the list to get a deep PageToken, and fetches one user, whose
#      JSON body the ceiling serves byte for byte (same size).
#   4. The ceiling: nginx (2 workers, access log off, keep-alive) answering that fixed body with
#      `return 200`, under the same wrk command and the same request headers.
#   5. wrk -t2 -c32 -dDURATION --latency on each operation (bench/lua/*.lua), recording requests/s,
#      p50/p99, non-2xx answers, socket errors, and Parley's VmHWM (peak RSS) after each run.
#   6. With --pg: a throwaway cluster (scripts/pg.sh) on loopback, Parley on it seeded the same way,
#      fetch by SID and update (distinct users) with one server, then with a second server on the same
#      database and two wrk runs in parallel (half the connections each, disjoint users); requests/s
#      add up, p50/p99 are the worse of the two.
#   7. Writes BENCH_OUT/results.md, results.csv and bench.png (gnuplot), and prints the table.
# Exit status: 0 when every run completed with only 2xx answers; non-zero otherwise.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

usage() { sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

TINY=0
SCALING=0
PG=0
while [ $# -gt 0 ]; do
    case "$1" in
    --tiny) TINY=1 ;;
    --scaling) SCALING=1 ;;
    --pg) PG=1 ;;
    --users) USERS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench/run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
if [ "$TINY" = 1 ]; then
    USERS=${USERS:-200}
    DURATION=${DURATION:-1}
    SCALING=0
fi
USERS=${USERS:-100000}
DURATION=${DURATION:-10}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
SEED_TIMEOUT=${SEED_TIMEOUT:-1800}
OUT=${BENCH_OUT:-bench/out}
ACCOUNT=AC$(printf 'be0c%028d' 1)
TOKEN=0123456789abcdef0123456789abcdef
PREFIX=bench-user-

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# ---- dependencies and build -------------------------------------------------------------------
if [ "${BENCH_SKIP_DEPS:-0}" != 1 ]; then
    bash scripts/deps.sh --bench || die "scripts/deps.sh --bench failed"
    if [ "$PG" = 1 ]; then bash scripts/deps.sh --pg || die "scripts/deps.sh --pg failed"; fi
fi
for tool in wrk nginx curl node make; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (scripts/deps.sh --bench)"
done
NGINX=$(command -v nginx)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/parley-bench.XXXXXX")
PARLEY_PID=
NGINX_PID=
CHILD=
PG_PIDS=()
PGDIR=
stop_pid() { # stop_pid PID: TERM, wait up to 5 s, then KILL
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$CHILD"
    stop_pid "$NGINX_PID"
    stop_pid "$PARLEY_PID"
    for pid in "${PG_PIDS[@]}"; do stop_pid "$pid"; done
    [ -z "$PGDIR" ] || bash scripts/pg.sh stop "$PGDIR" || true
    if [ "$rc" -ne 0 ] && [ -s "$tmp/parley.log" ]; then
        say "last lines of the Parley log:"
        tail -n 20 "$tmp/parley.log" >&2 || true
    fi
    if [ "${BENCH_KEEP_TMP:-0}" = 1 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Run a command in the background and wait for it, so a signal to this script is handled at once.
run_child() {
    "$@" &
    CHILD=$!
    local rc=0
    wait "$CHILD" || rc=$?
    CHILD=
    return "$rc"
}

PARLEY_BIN=${PARLEY_BIN:-}
if [ -z "$PARLEY_BIN" ]; then
    say "building (make)"
    make -j"$(nproc)" >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log" >&2; die "make failed"; }
    PARLEY_BIN=build/parley
fi
[ -x "$PARLEY_BIN" ] || die "no executable $PARLEY_BIN"

free_port() {
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# wait_http URL SECONDS: until URL answers 200
wait_http() {
    local end=$(($(now_ms) + $2 * 1000))
    while [ "$(now_ms)" -lt "$end" ]; do
        curl -fs -o /dev/null --max-time 1 "$1" && return 0
        sleep 0.01
    done
    return 1
}
alive() { kill -0 "$PARLEY_PID" 2>/dev/null; }
rss_mb() { # peak RSS (VmHWM) of Parley, in MB
    awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$PARLEY_PID/status" 2>/dev/null || echo "?"
}

# ---- Parley on a fresh store --------------------------------------------------------------------
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
# every load generator connects from loopback: no per-address limit
PARLEY_CMD=("$PARLEY_BIN" --listen "127.0.0.1:$PORT" --data "$tmp/parley.db" --public-url "$BASE"
            --account-sid "$ACCOUNT" --auth-token "$TOKEN" --max-per-ip 0)
say "starting Parley on $BASE (data $tmp/parley.db)"
t0=$(now_ms)
"${PARLEY_CMD[@]}" </dev/null >"$tmp/parley.log" 2>&1 &
PARLEY_PID=$!
wait_http "$BASE/healthz" 15 || die "Parley did not answer GET /healthz within 15 s"
STARTUP_MS=$(($(now_ms) - t0))
PARLEY_VERSION=$("$PARLEY_BIN" --version 2>/dev/null | head -n 1 || true)

say "seeding $USERS users through POST /v1/Users (node bench/seed.mjs)"
run_child timeout -k 5 "$SEED_TIMEOUT" node bench/seed.mjs --url "$BASE" --account "$ACCOUNT" \
    --token "$TOKEN" --users "$USERS" --prefix "$PREFIX" --out "$tmp" --concurrency "$CONNS" \
    --timeout "$SEED_TIMEOUT" </dev/null || die "seeding failed"
SEED_SECONDS=$(sed -nE 's/.*"seconds":([0-9.]+).*/\1/p' "$tmp/seed.json")
SEED_RATE=$(sed -nE 's/.*"per_second":([0-9]+).*/\1/p' "$tmp/seed.json")
DEEP_PATH=$(cat "$tmp/deep_path.txt")
HOT_SID=$(head -n 1 "$tmp/sids.txt")
FIRST_SID=$(sed -n 2p "$tmp/sids.txt")
say "seeded in ${SEED_SECONDS}s (${SEED_RATE}/s); deep page: ${DEEP_PATH:0:60}…"

# ---- the ceiling: nginx answering a body of the same size as a user -----------------------------
NPORT=$(free_port)
mkdir -p "$tmp/nginx/logs"
BODY=$(cat "$tmp/user.json")
BODY_BYTES=$(wc -c <"$tmp/user.json")
# nginx string: escape \ and ', and keep the length: no $ (variables) in a JSON body we made.
NBODY=$(printf '%s' "$BODY" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g" -e 's/\$/S/g')
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
    server {
        listen 127.0.0.1:$NPORT;
        location / { return 200 '$NBODY'; }
    }
}
EOF
NGINX_BASE=http://127.0.0.1:$NPORT
"$NGINX" -p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log" </dev/null \
    >"$tmp/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
wait_http "$NGINX_BASE/" 10 || { cat "$tmp/nginx/logs/error.log" >&2 || true; die "nginx did not start"; }
CEIL_BYTES=$(curl -fs "$NGINX_BASE/" | wc -c)

# ---- wrk runs -----------------------------------------------------------------------------------
AUTH_B64=$(printf '%s:%s' "$ACCOUNT" "$TOKEN" | base64 -w0)
RUN_ID=$(date +%s)$$
mkdir -p "$OUT"
CSV_ROWS=()
COMMANDS=()
BAD=()
CEILING_RPS=

to_ms() { # wrk time ("812.00us", "1.23ms", "2.01s", "1.50m") -> milliseconds
    awk -v t="$1" 'BEGIN {
        v = t + 0; u = t; sub(/^[0-9.]+/, "", u)
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
        printf "%.3f", v }'
}

# measure MODE OP LABEL URL CONNS SCRIPT [VAR=VALUE...]
measure() {
    local mode=$1 op=$2 label=$3 url=$4 conns=$5 script=$6
    shift 6
    local threads=$THREADS
    [ "$conns" -lt "$threads" ] && threads=$conns
    local log=$tmp/wrk-$mode-$op-$conns.txt
    local envs=(BENCH_AUTH="$AUTH_B64" BENCH_THREADS="$threads" BENCH_LUA_DIR="$ROOT/bench/lua" "$@")
    local cmd=(wrk -t"$threads" -c"$conns" -d"${DURATION}s" --timeout 5s --latency -s "bench/lua/$script" "$url")
    COMMANDS+=("$(printf '%q ' "$@")${cmd[*]}")
    if ! run_child env "${envs[@]}" timeout -k 5 $((DURATION + 60)) "${cmd[@]}" >"$log" 2>&1; then
        cat "$log" >&2
        BAD+=("$label: wrk failed")
    fi
    local rps p50 p99 non2xx sockerr reqs rss
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$log")
    p50=$(awk '$1 == "50%" { print $2 }' "$log")
    p99=$(awk '$1 == "99%" { print $2 }' "$log")
    non2xx=$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "$log")
    sockerr=$(sed -nE 's/.*Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+).*/\1 \2 \3 \4/p' "$log" |
        awk '{ print $1 + $2 + $3 + $4 }')
    reqs=$(awk '/requests in/ { print $1 }' "$log")
    [ -n "$rps" ] && [ -n "$p50" ] && [ -n "$p99" ] || { cat "$log" >&2; BAD+=("$label: no wrk result"); rps=0; p50=0; p99=0; }
    p50=$(to_ms "$p50")
    p99=$(to_ms "$p99")
    non2xx=${non2xx:-0}
    sockerr=${sockerr:-0}
    if [ "$url" = "$NGINX_BASE" ]; then
        rss=""
        [ "$op" = ceiling ] && CEILING_RPS=$rps
    else
        alive || die "Parley died during '$label'"
        rss=$(rss_mb)
        if [ "$non2xx" != 0 ]; then
            BAD+=("$label: $non2xx non-2xx answers of ${reqs:-?}")
            # show what the server said, once
            grep -m1 -E '^[[:space:]]*Non-2xx' "$log" >&2 || true
        fi
    fi
    local pct=""
    [ -n "$CEILING_RPS" ] && [ "$CEILING_RPS" != 0 ] && pct=$(awk -v a="$rps" -v b="$CEILING_RPS" 'BEGIN { printf "%.1f", 100 * a / b }')
    CSV_ROWS+=("$mode,$op,$conns,$rps,$p50,$p99,$pct,$non2xx,$sockerr,$rss")
    printf 'bench: %-34s %9s req/s  p50 %8s ms  p99 %8s ms  %6s%%  non-2xx %s\n' \
        "$label" "$rps" "$p50" "$p99" "${pct:--}" "$non2xx" >&2
}

# measure_pair MODE OP LABEL CONNS SCRIPT [VAR=VALUE...]: two wrk runs at once, one per server of PG_URLS,
# each with half the connections and its own slice of the users; one row with the sum of requests/s and
# the worse p50/p99 of the two.
measure_pair() {
    local mode=$1 op=$2 label=$3 conns=$4 script=$5
    shift 5
    local half=$((conns / 2)) threads=$(((THREADS + 1) / 2)) pids=() k logs=()
    [ "$half" -lt "$threads" ] && threads=$half
    for k in 0 1; do
        local log=$tmp/wrk-$mode-$op-$conns-$k.txt
        logs+=("$log")
        local envs=(BENCH_AUTH="$AUTH_B64" BENCH_THREADS="$threads" BENCH_LUA_DIR="$ROOT/bench/lua" BENCH_SLICES=2 BENCH_SLICE=$k "$@")
        local cmd=(wrk -t"$threads" -c"$half" -d"${DURATION}s" --timeout 5s --latency -s "bench/lua/$script" "${PG_URLS[$k]}")
        COMMANDS+=("$(printf '%q ' BENCH_SLICES=2 BENCH_SLICE=$k "$@")${cmd[*]} &")
        env "${envs[@]}" timeout -k 5 $((DURATION + 60)) "${cmd[@]}" >"$log" 2>&1 &
        pids+=($!)
    done
    for k in 0 1; do wait "${pids[$k]}" || { cat "${logs[$k]}" >&2; BAD+=("$label: wrk $k failed"); }; done
    local rps=0 p50=0 p99=0 non2xx=0 sockerr=0 r a b n e
    for k in 0 1; do
        r=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "${logs[$k]}")
        a=$(awk '$1 == "50%" { print $2 }' "${logs[$k]}")
        b=$(awk '$1 == "99%" { print $2 }' "${logs[$k]}")
        [ -n "$r" ] && [ -n "$a" ] && [ -n "$b" ] || { cat "${logs[$k]}" >&2; BAD+=("$label: no wrk result"); r=0; a=0; b=0; }
        n=$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "${logs[$k]}")
        e=$(sed -nE 's/.*Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+).*/\1 \2 \3 \4/p' "${logs[$k]}" |
            awk '{ print $1 + $2 + $3 + $4 }')
        rps=$((rps + r))
        p50=$(awk -v x="$p50" -v y="$(to_ms "$a")" 'BEGIN { printf "%.3f", (y > x ? y : x) }')
        p99=$(awk -v x="$p99" -v y="$(to_ms "$b")" 'BEGIN { printf "%.3f", (y > x ? y : x) }')
        non2xx=$((non2xx + ${n:-0}))
        sockerr=$((sockerr + ${e:-0}))
    done
    for pid in "${PG_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || die "a PostgreSQL-backed Parley died during '$label'"; done
    [ "$non2xx" = 0 ] || BAD+=("$label: $non2xx non-2xx answers")
    local pct=""
    [ -n "$CEILING_RPS" ] && [ "$CEILING_RPS" != 0 ] && pct=$(awk -v a="$rps" -v b="$CEILING_RPS" 'BEGIN { printf "%.1f", 100 * a / b }')
    CSV_ROWS+=("$mode,$op,$conns,$rps,$p50,$p99,$pct,$non2xx,$sockerr,")
    printf 'bench: %-34s %9s req/s  p50 %8s ms  p99 %8s ms  %6s%%  non-2xx %s\n' \
        "$label" "$rps" "$p50" "$p99" "${pct:--}" "$non2xx" >&2
}

label_of() {
    case "$1" in
    ceiling) echo "ceiling: nginx return 200" ;;
    ceiling_lua) echo "ceiling, per-request Lua paths" ;;
    fetch_sid) echo "fetch user by SID" ;;
    fetch_identity) echo "fetch user by identity" ;;
    list_first) echo "list, first page (50)" ;;
    list_deep) echo "list, deep page (PageToken)" ;;
    update_distinct) echo "update, distinct users" ;;
    update_hot) echo "update, one hot user" ;;
    update_webhook) echo "update, with a post-event webhook" ;;
    create) echo "create user" ;;
    *) echo "$1" ;;
    esac
}

say "measuring: $USERS users, wrk -t$THREADS -c$CONNS -d${DURATION}s, each operation in turn"
# The ceiling, with the request Parley's fetch-by-SID gets (same path length, same headers) built once;
# then the same ceiling with paths built per request in Lua, to show what the client itself costs.
measure main ceiling "$(label_of ceiling)" "$NGINX_BASE" "$CONNS" get.lua BENCH_PATH="/v1/Users/$FIRST_SID"
measure main ceiling_lua "$(label_of ceiling_lua)" "$NGINX_BASE" "$CONNS" fetch_sid.lua BENCH_SIDS="$tmp/sids.txt"
measure main fetch_sid "$(label_of fetch_sid)" "$BASE" "$CONNS" fetch_sid.lua BENCH_SIDS="$tmp/sids.txt"
measure main fetch_identity "$(label_of fetch_identity)" "$BASE" "$CONNS" fetch_identity.lua \
    BENCH_PREFIX="$PREFIX" BENCH_USERS="$USERS"
measure main list_first "$(label_of list_first)" "$BASE" "$CONNS" get.lua BENCH_PATH="/v1/Users?PageSize=50"
measure main list_deep "$(label_of list_deep)" "$BASE" "$CONNS" get.lua BENCH_PATH="$DEEP_PATH"
measure main update_distinct "$(label_of update_distinct)" "$BASE" "$CONNS" update.lua BENCH_SIDS="$tmp/sids.txt"
measure main update_hot "$(label_of update_hot)" "$BASE" "$CONNS" update.lua BENCH_HOT_SID="$HOT_SID"
# Issue 4: the same updates with X-Twilio-Webhook-Enabled and an onUserUpdated post-event target (nginx,
# answering 200): the delivery is asynchronous, so the update's own latency should barely move.
curl -fs -u "$ACCOUNT:$TOKEN" "$BASE/v1/Configuration/Webhooks" -d Filters=onUserUpdated \
    -d "PostWebhookUrl=$NGINX_BASE/hook" -d Method=POST >/dev/null || die "cannot configure the webhook target"
measure main update_webhook "$(label_of update_webhook)" "$BASE" "$CONNS" update.lua BENCH_SIDS="$tmp/sids.txt" \
    BENCH_WEBHOOK=1
curl -fs -u "$ACCOUNT:$TOKEN" "$BASE/v1/Configuration/Webhooks" -d PostWebhookUrl= -d Filters= >/dev/null || true
stop_pid "$NGINX_PID"
NGINX_PID=
measure main create "$(label_of create)" "$BASE" "$CONNS" create.lua BENCH_RUN="$RUN_ID"

if [ "$SCALING" = 1 ]; then
    say "scaling: fetch by SID and update (distinct) at 1..256 connections"
    for c in 1 2 4 8 16 32 64 256; do
        measure scaling fetch_sid "fetch by SID, $c conn" "$BASE" "$c" fetch_sid.lua BENCH_SIDS="$tmp/sids.txt"
        measure scaling update_distinct "update distinct, $c conn" "$BASE" "$c" update.lua BENCH_SIDS="$tmp/sids.txt"
    done
fi

PEAK_RSS=$(rss_mb)
# Clean shutdown: SIGTERM, and it should be gone within a few seconds.
kill -TERM "$PARLEY_PID" 2>/dev/null || true
SHUTDOWN="did not exit within 10 s of SIGTERM"
for _ in $(seq 100); do
    if ! kill -0 "$PARLEY_PID" 2>/dev/null; then
        rc=0
        wait "$PARLEY_PID" || rc=$?
        SHUTDOWN="exited with status $rc after SIGTERM"
        [ "$rc" = 0 ] || BAD+=("Parley $SHUTDOWN")
        PARLEY_PID=
        break
    fi
    sleep 0.1
done
[ -z "$PARLEY_PID" ] || BAD+=("Parley $SHUTDOWN")

# ---- PostgreSQL: one server, then two on one database -------------------------------------------
if [ "$PG" = 1 ]; then
    PG_THREADS=${PG_THREADS:-4}
    # the cluster's folder must be reachable by the postgres user: not inside our 0700 temp dir
    PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/parley-bench-pg.XXXXXX")
    rmdir "$PGDIR"
    say "starting a throwaway PostgreSQL cluster (scripts/pg.sh start)"
    PG_URL=$(bash scripts/pg.sh start "$PGDIR") || die "scripts/pg.sh start failed"
    PG_URLS=()
    for k in 0 1; do
        port=$(free_port)
        PG_URLS+=("http://127.0.0.1:$port")
        cmd=("$PARLEY_BIN" --listen "127.0.0.1:$port" --data "$PG_URL" --public-url "http://127.0.0.1:$port"
             --threads "$PG_THREADS" --account-sid "$ACCOUNT" --auth-token "$TOKEN" --max-per-ip 0)
        [ "$k" = 0 ] && PG_CMD=("${cmd[@]}")
        "${cmd[@]}" </dev/null >"$tmp/parley-pg-$k.log" 2>&1 &
        PG_PIDS+=($!)
        wait_http "http://127.0.0.1:$port/healthz" 30 || die "Parley on PostgreSQL did not answer GET /healthz (log: $tmp/parley-pg-$k.log)"
        if [ "$k" = 0 ]; then
            PARLEY_PID=${PG_PIDS[0]}   # alive/rss of measure() follow this server now
            say "seeding $USERS users through the PostgreSQL-backed server"
            mkdir -p "$tmp/pg"
            run_child timeout -k 5 "$SEED_TIMEOUT" node bench/seed.mjs --url "${PG_URLS[0]}" --account "$ACCOUNT" \
                --token "$TOKEN" --users "$USERS" --prefix "$PREFIX" --out "$tmp/pg" --concurrency "$CONNS" \
                --timeout "$SEED_TIMEOUT" </dev/null || die "seeding the PostgreSQL store failed"
            PG_SEED_RATE=$(sed -nE 's/.*"per_second":([0-9]+).*/\1/p' "$tmp/pg/seed.json")
            measure pg1 fetch_sid "PostgreSQL, 1 server: $(label_of fetch_sid)" "${PG_URLS[0]}" "$CONNS" fetch_sid.lua \
                BENCH_SIDS="$tmp/pg/sids.txt"
            measure pg1 update_distinct "PostgreSQL, 1 server: $(label_of update_distinct)" "${PG_URLS[0]}" "$CONNS" \
                update.lua BENCH_SIDS="$tmp/pg/sids.txt"
        fi
    done
    measure_pair pg2 fetch_sid "PostgreSQL, 2 servers: $(label_of fetch_sid)" "$CONNS" fetch_sid.lua BENCH_SIDS="$tmp/pg/sids.txt"
    measure_pair pg2 update_distinct "PostgreSQL, 2 servers: $(label_of update_distinct)" "$CONNS" update.lua \
        BENCH_SIDS="$tmp/pg/sids.txt"
    for k in 1 0; do
        kill -TERM "${PG_PIDS[$k]}" 2>/dev/null || true
        rc=0
        timeout 15 tail --pid="${PG_PIDS[$k]}" -f /dev/null || rc=1
        wait "${PG_PIDS[$k]}" 2>/dev/null || rc=$?
        [ "$rc" = 0 ] || BAD+=("Parley on PostgreSQL (server $k) did not exit cleanly on SIGTERM ($rc)")
    done
    PG_PIDS=()
    PARLEY_PID=
    bash scripts/pg.sh stop "$PGDIR" || true
    PGDIR=
fi

# ---- results ------------------------------------------------------------------------------------
CSV=$OUT/results.csv
{
    echo "mode,operation,connections,requests_per_s,p50_ms,p99_ms,pct_of_ceiling,non_2xx,socket_errors,parley_peak_rss_mb"
    printf '%s\n' "${CSV_ROWS[@]}"
} >"$CSV"

table() { # table MODE: markdown rows of that mode
    local row mode op conns rps p50 p99 pct non2xx sockerr rss
    for row in "${CSV_ROWS[@]}"; do
        IFS=, read -r mode op conns rps p50 p99 pct non2xx sockerr rss <<<"$row"
        [ "$mode" = "$1" ] || continue
        local name
        case "$mode" in
        main) name=$(label_of "$op") ;;
        pg1) name="PostgreSQL, 1 server: $(label_of "$op")" ;;
        pg2) name="PostgreSQL, 2 servers: $(label_of "$op")" ;;
        *) name="$(label_of "$op") @ $conns" ;;
        esac
        printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$conns" "$rps" "$p50" "$p99" \
            "${pct:+$pct %}" "${rss:--}" "$non2xx / $sockerr"
    done
}
HEAD='| operation | conns | requests/s | p50 ms | p99 ms | of ceiling | Parley peak RSS MB | non-2xx / socket errors |'
SEP='|---|---:|---:|---:|---:|---:|---:|---:|'

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)
fs=$(df -T "$tmp" 2>/dev/null | awk 'NR == 2 { print $2 }')
commit=$(git rev-parse --short HEAD 2>/dev/null || echo "none")
dirty=$(git status --porcelain 2>/dev/null | grep -q . && echo " (work tree has uncommitted changes)" || true)
MD=$OUT/results.md
{
    echo "# Parley benchmark results"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "- machine: $(uname -srm); ${cpu:-unknown CPU}; $(nproc) cores; ${mem:-? GiB} memory; store on ${fs:-?}"
    echo "- Parley: ${PARLEY_VERSION:-build/parley}, commit $commit$dirty, default build (\`make\`, -O2)"
    echo "- tools: $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), $("$NGINX" -v 2>&1 | sed 's/.*: //')"
    echo "- configuration: $USERS users; wrk -t$THREADS -c$CONNS -d${DURATION}s, keep-alive, loopback; wrk shares the $(nproc) cores with the server"
    echo "- start-up (process start to first 200 on /healthz, 10 ms polling): ${STARTUP_MS} ms"
    echo "- seeding: $USERS users through POST /v1/Users in ${SEED_SECONDS} s (${SEED_RATE} users/s, 32 in flight)"
    echo "- ceiling: nginx, 2 workers, access_log off, \`return 200\` with a $CEIL_BYTES-byte JSON body (a Parley user is $BODY_BYTES bytes)"
    echo "- Parley shutdown: $SHUTDOWN; peak RSS over the whole run: $PEAK_RSS MB"
    echo
    echo "$HEAD"
    echo "$SEP"
    table main
    if [ "$PG" = 1 ]; then
        echo
        echo "## PostgreSQL store, one and two servers"
        echo
        echo "The same build on a throwaway PostgreSQL $(psql --version 2>/dev/null | awk '{ print $3 }') cluster on this machine"
        echo "(scripts/pg.sh: TCP on 127.0.0.1, fsync on, synchronous_commit on), $USERS users seeded through the API"
        echo "(${PG_SEED_RATE:-?} users/s), Parley with --threads ${PG_THREADS}. \"2 servers\": a second Parley on the same database,"
        echo "wrk against each at once with half the connections and disjoint users; requests/s add up, p50/p99 are"
        echo "the worse of the two. Everything (wrk, PostgreSQL, one or two Parleys) shares the $(nproc) cores. SQLite rows"
        echo "for comparison: $(label_of fetch_sid) and $(label_of update_distinct) in the table above."
        echo
        echo "$HEAD"
        echo "$SEP"
        table pg1
        table pg2
    fi
    if [ "$SCALING" = 1 ]; then
        echo
        echo "## Scaling (connections)"
        echo
        echo "$HEAD"
        echo "$SEP"
        table scaling
    fi
    echo
    echo "\"of ceiling\" is requests/s divided by the nginx ceiling's (first row). The second row sends"
    echo "the per-request Lua paths of the fetch run to nginx: the gap to the first row is wrk's own cost."
    echo "Peak RSS is Parley's VmHWM after each run (it only grows)."
    if [ "${#BAD[@]}" -gt 0 ]; then
        echo
        echo "## Problems in this run"
        echo
        printf -- '- %s\n' "${BAD[@]}"
    fi
    echo
    echo "## Commands"
    echo
    echo '```'
    echo "${PARLEY_CMD[*]}"
    [ "$PG" = 1 ] && echo "${PG_CMD[*]/$PG_URL/postgres://…}   # and a second one on another port, same --data"
    echo "$NGINX -p $tmp/nginx/ -c $tmp/nginx/nginx.conf   # conf: see bench/run.sh"
    echo "node bench/seed.mjs --url $BASE --account $ACCOUNT --token $TOKEN --users $USERS --prefix $PREFIX --out $tmp --concurrency $CONNS"
    printf '%s\n' "${COMMANDS[@]}"
    echo '```'
    echo "(every wrk command also had BENCH_AUTH=<base64 of account:token>, BENCH_THREADS and BENCH_LUA_DIR set)"
} >"$MD"

# ---- chart --------------------------------------------------------------------------------------
CHART_OK=1
if command -v gnuplot >/dev/null 2>&1; then
    dat=$tmp/ops.dat
    : >"$dat"
    for row in "${CSV_ROWS[@]}"; do
        IFS=, read -r mode op conns rps _ <<<"$row"
        [ "$mode" = main ] || continue
        case "$op" in ceiling*) color=0x999999 ;; fetch*) color=0x3b75af ;; list*) color=0x519e3e ;; *) color=0xef8636 ;; esac
        printf '"%s" %s %d\n' "$(label_of "$op")" "$rps" "$color" >>"$dat"
    done
    sdat=$tmp/scaling.dat
    : >"$sdat"
    for op in fetch_sid update_distinct; do
        for row in "${CSV_ROWS[@]}"; do
            IFS=, read -r mode o conns rps _ <<<"$row"
            [ "$mode" = scaling ] && [ "$o" = "$op" ] && echo "$conns $rps" >>"$sdat"
        done
        printf '\n\n' >>"$sdat"
    done
    term="pngcairo size 1400,650 font ',10'"
    gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1 || term="png size 1400,650"
    {
        echo "set terminal $term"
        echo "set output '$OUT/bench.png'"
        echo "ceiling = ${CEILING_RPS:-0}"
        if [ "$SCALING" = 1 ]; then echo "set multiplot layout 1,2"; fi
        echo "set title 'Parley, $USERS users, wrk -c$CONNS -d${DURATION}s: requests/s beside the nginx ceiling' noenhanced"
        echo "set style fill solid 0.85 border -1"
        echo "set boxwidth 0.7"
        echo "set yrange [0:*]"
        echo "set grid ytics"
        echo "set ylabel 'requests/s'"
        echo "set xtics rotate by -30 noenhanced"
        echo "set key top right"
        echo "plot '$dat' using 0:2:3:xtic(1) with boxes lc rgb variable notitle, \\"
        echo "     '' using 0:2:(sprintf('%.0f', \$2)) with labels offset 0,0.7 notitle, \\"
        echo "     ceiling with lines dt 2 lc rgb 'black' title 'ceiling (nginx)'"
        if [ "$SCALING" = 1 ]; then
            echo "set title 'Scaling with connections' noenhanced"
            echo "set logscale x 2"
            echo "set xrange [0.8:320]"
            echo "set xtics (1,2,4,8,16,32,64,256) norotate"
            echo "set xlabel 'connections'"
            echo "set key top left"
            echo "plot '$sdat' index 0 using 1:2 with linespoints lw 2 title 'fetch by SID', \\"
            echo "     '' index 1 using 1:2 with linespoints lw 2 title 'update, distinct users', \\"
            echo "     ceiling with lines dt 2 lc rgb 'black' title 'ceiling (nginx, 32 conns)'"
            echo "unset multiplot"
        fi
    } >"$tmp/chart.gp"
    gnuplot "$tmp/chart.gp" >"$tmp/gnuplot.log" 2>&1 || { cat "$tmp/gnuplot.log" >&2; CHART_OK=0; }
else
    CHART_OK=0
fi

# ---- table --------------------------------------------------------------------------------------
echo
echo "Parley benchmark: $USERS users, wrk -t$THREADS -c$CONNS -d${DURATION}s; start-up ${STARTUP_MS} ms; seeding ${SEED_RATE} users/s"
fmt='%-32s %5s %9s %9s %9s %10s %11s %8s\n'
# shellcheck disable=SC2059
printf "$fmt" operation conns req/s "p50 ms" "p99 ms" "of ceiling" "peak RSS MB" non-2xx
for row in "${CSV_ROWS[@]}"; do
    IFS=, read -r mode op conns rps p50 p99 pct non2xx sockerr rss <<<"$row"
    # shellcheck disable=SC2059
    name=$(label_of "$op")
    case "$mode" in pg1) name="pg, 1 server: $name" ;; pg2) name="pg, 2 servers: $name" ;; esac
    printf "$fmt" "$name" "$conns" "$rps" "$p50" "$p99" "${pct:+$pct%}" "${rss:--}" "$non2xx"
done
echo
echo "written: $MD, $CSV$([ "$CHART_OK" = 1 ] && echo ", $OUT/bench.png")"

if [ "$CHART_OK" != 1 ]; then
    if [ "$TINY" = 1 ]; then say "no chart (gnuplot missing or failed); ignored in --tiny"; else BAD+=("chart: gnuplot failed or missing"); fi
fi
if [ "${#BAD[@]}" -gt 0 ]; then
    say "problems:"
    printf '  %s\n' "${BAD[@]}" >&2
    exit 3
fi
exit 0
