#!/usr/bin/env bash
# Round trips of the writer on PostgreSQL per request (the deferred statements of store/pg.c).
#
#   bench/pg_round_trips.sh [PARLEY_BIN]     default build/parley; needs strace and psql
#
# A throwaway cluster (scripts/pg.sh), one server, a user, a chat-only conversation and one with an SMS
# participant (one delivery receipt per message). The writer thread is traced while 10 requests of each
# kind run one after the other: in pipeline mode libpq sends once per flush, and each flush waits for
# its answer, so the writer's sendto calls are its round trips (a periodic job of the writer, such as an
# outbox scan, may add a few). Prints one line per kind.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${1:-build/parley}
N=10
for tool in strace psql curl python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench/pg_round_trips.sh: $tool is not installed" >&2; exit 1; }
done
PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/parley-rt-pg.XXXXXX")
rmdir "$PGDIR"
tmp=$(mktemp -d)
SP=
cleanup() {
    [ -n "$SP" ] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null
    bash scripts/pg.sh stop "$PGDIR" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
URL=$(bash scripts/pg.sh start "$PGDIR")
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
AC=AC$(printf '%032d' 7)
TOK=0123456789abcdef0123456789abcdef
B=http://127.0.0.1:$PORT
"$BIN" --listen "127.0.0.1:$PORT" --data "$URL" --account-sid "$AC" --auth-token "$TOK" --threads 2 \
    >"$tmp/parley.log" 2>&1 &
SP=$!
for _ in $(seq 100); do curl -fs -o /dev/null "$B/healthz" && break; sleep 0.1; done
c() { curl -fs -u "$AC:$TOK" "$@"; }
sid() { python3 -c 'import sys, json; print(json.load(sys.stdin)["sid"])'; }
US=$(c "$B/v1/Users" -d Identity=alice | sid)
CH=$(c "$B/v1/Conversations" -d FriendlyName=chat | sid)
c "$B/v1/Conversations/$CH/Participants" -d Identity=alice >/dev/null
c "$B/v1/Conversations/$CH/Participants" -d Identity=bob >/dev/null
SMS=$(c "$B/v1/Conversations" -d FriendlyName=sms -d MessagingServiceSid=MG0123456789abcdef0123456789abcdef | sid)
c "$B/v1/Conversations/$SMS/Participants" -d Identity=alice >/dev/null
c "$B/v1/Conversations/$SMS/Participants" --data-urlencode MessagingBinding.Address=+15550001111 \
    --data-urlencode MessagingBinding.ProxyAddress=+15559990000 >/dev/null
# every statement prepared and warm before counting
c "$B/v1/Users/$US" -d FriendlyName=warm >/dev/null
c "$B/v1/Conversations/$CH/Messages" -d Body=warm -d Author=alice >/dev/null
c "$B/v1/Conversations/$SMS/Messages" -d Body=warm -d Author=alice >/dev/null
WT=
for t in /proc/"$SP"/task/*; do [ "$(cat "$t/comm")" = parley-writer ] && WT=$(basename "$t"); done
[ -n "$WT" ] || { echo "bench/pg_round_trips.sh: no writer thread" >&2; exit 1; }
count() { # LABEL CURL-ARGS...
    local label=$1 stp
    shift
    strace -q -p "$WT" -e trace=sendto -o "$tmp/strace.txt" &
    stp=$!
    sleep 0.5
    for _ in $(seq "$N"); do c "$@" >/dev/null; done
    sleep 0.3
    kill "$stp"
    wait "$stp" 2>/dev/null || true
    echo "$label: $(grep -c sendto "$tmp/strace.txt") round trips for $N requests"
}
count "user update" "$B/v1/Users/$US" -d FriendlyName=x
count "message create, chat-only conversation" "$B/v1/Conversations/$CH/Messages" -d Body=hi -d Author=alice
count "message create, one SMS recipient" "$B/v1/Conversations/$SMS/Messages" -d Body=hi -d Author=alice
