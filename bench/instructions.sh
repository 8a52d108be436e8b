#!/usr/bin/env bash
# Instructions per request (callgrind): what one request of an operation costs the Parley process, all its
# threads together and its writer thread alone, beside the same figures of another build in the same run.
# Steadier than requests/s: the figures hardly move with whatever else the machine runs. What moves them
# is the writer's batch size (a commit's cost is shared by the jobs of its batch), a few percent from run
# to run. A run under callgrind is 20-50 times slower: these are costs, not speeds (bench/messages.sh and
# bench/run.sh measure those).
#
#   bench/instructions.sh        PARLEY_BIN (default build/parley); BASELINE_BIN: a second build measured the
#                                same way; OPS (default: every operation below); SECONDS_EACH (default 10)
#
# Operations: user-update (distinct users), message-create (across 20 conversations), participant-create
# (a new identity each, across 20 conversations), message-page (the first 50 of 60 messages), user-page
# (the first 50 users). A fresh SQLite store per operation and build, seeded through the API; wrk -t1 -c4
# on 127.0.0.1. Prints a Markdown table. Needs valgrind, wrk, curl and node.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
PARLEY_BIN=${PARLEY_BIN:-build/parley}
SECONDS_EACH=${SECONDS_EACH:-10}
OPS=${OPS:-user-update message-create participant-create message-page user-page}
ACCOUNT=AC$(printf 'be0c%028d' 4)
TOKEN=0123456789abcdef0123456789abcdef
. bench/lib.sh
need_tools bench/instructions.sh valgrind callgrind_control wrk curl node
[ -x "$PARLEY_BIN" ] || make -s
one_server
AUTH_B64=$(printf '%s:%s' "$ACCOUNT" "$TOKEN" | base64 -w0)

# seed BASE DIR: 50 users, 20 conversations and 60 messages in the first, their SIDs in DIR
seed() {
    node - "$ROOT/bench/api.cjs" "$1" "$ACCOUNT" "$TOKEN" "$2" <<'EOF'
const [api, base, account, token, out] = process.argv.slice(2);
const fs = require('fs');
const post = require(api)(base, account, token);
(async () => {
  const users = [];
  for (let i = 0; i < 50; i++) users.push((await post('/v1/Users', { Identity: `cost-${i}` })).sid);
  const convs = [];
  for (let i = 0; i < 20; i++) convs.push((await post('/v1/Conversations', { FriendlyName: `cost ${i}` })).sid);
  for (let i = 0; i < 60; i++) await post(`/v1/Conversations/${convs[0]}/Messages`, { Body: `hello ${i}`, Author: 'cost' });
  fs.writeFileSync(`${out}/sids.txt`, users.join('\n') + '\n');
  fs.writeFileSync(`${out}/convs.txt`, convs.join('\n') + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
EOF
}

# measure BIN OP: "requests all-threads writer" (instructions per request) into $tmp/result
measure() {
    local bin=$1 op=$2 dir=$tmp/$RANDOM port
    mkdir -p "$dir"
    port=$(free_port)
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$dir/cg.%p" "$bin" \
        --listen "127.0.0.1:$port" --data "$dir/p.db" --public-url "http://127.0.0.1:$port" \
        --account-sid "$ACCOUNT" --auth-token "$TOKEN" --max-per-ip 0 </dev/null >"$dir/log" 2>&1 &
    PID=$!
    wait_http "http://127.0.0.1:$port/healthz" 600 || { cat "$dir/log" >&2; exit 1; }
    seed "http://127.0.0.1:$port" "$dir" >/dev/null
    local script vars=()
    case $op in
    user-update) script=update.lua vars=(BENCH_SIDS="$dir/sids.txt") ;;
    message-create) script=message_create.lua vars=(BENCH_CONVERSATIONS="$dir/convs.txt") ;;
    participant-create) script=participant_create.lua vars=(BENCH_CONVERSATIONS="$dir/convs.txt") ;;
    message-page) script=get.lua vars=(BENCH_PATH="/v1/Conversations/$(head -n 1 "$dir/convs.txt")/Messages?PageSize=50") ;;
    user-page) script=get.lua vars=(BENCH_PATH="/v1/Users?PageSize=50") ;;
    *) echo "bench/instructions.sh: unknown operation $op" >&2; exit 2 ;;
    esac
    callgrind_control -z "$PID" >/dev/null 2>&1
    env BENCH_AUTH="$AUTH_B64" BENCH_THREADS=1 BENCH_LUA_DIR="$ROOT/bench/lua" BENCH_RUN="$(date +%s%N)" "${vars[@]}" \
        wrk -t1 -c4 -d"${SECONDS_EACH}s" --timeout 30s -s "bench/lua/$script" "http://127.0.0.1:$port" >"$dir/wrk.txt"
    callgrind_control -d "$PID" >/dev/null 2>&1
    kill "$PID"
    wait "$PID" 2>/dev/null || true
    PID=
    if grep -q 'Non-2xx' "$dir/wrk.txt"; then
        echo "bench/instructions.sh: $op answered non-2xx" >&2
        exit 1
    fi
    local n total=0 writer=0 t
    n=$(awk '/requests in/ { print $1 }' "$dir/wrk.txt")
    # the dump (one file per thread, named cg.PID.1-NN) holds what ran between the zeroing and the dump
    for f in "$dir"/cg.*.1-*; do
        t=$(awk '/^totals:/ { print $2 }' "$f")
        total=$((total + t))
        grep -q 'writer_main' "$f" && writer=$((writer + t))
    done
    echo "$n $((total / n)) $((writer / n))" >"$tmp/result"
}

echo "| operation | build | requests | instructions per request, all threads | of which the writer |"
echo "|---|---|---:|---:|---:|"
for op in $OPS; do
    for build in "$PARLEY_BIN" ${BASELINE_BIN:+"$BASELINE_BIN"}; do
        measure "$build" "$op"
        read -r n all writer <"$tmp/result"
        label=this
        [ "$build" = "${BASELINE_BIN:-}" ] && label=baseline
        echo "| $op | $label | $n | $all | $writer |"
    done
done
