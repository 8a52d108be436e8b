#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks, on loopback only.
#
#   scripts/pg.sh start DIR    initdb in DIR/data, start it on 127.0.0.1 with a free port and its unix
#                              socket in DIR, create the role `parley` (allowed to create databases) and
#                              print a connection URL for it on stdout (nothing else goes to stdout)
#   scripts/pg.sh stop DIR     stop that cluster and remove DIR
#
# Needs Debian's postgresql package (scripts/deps.sh --pg). PostgreSQL refuses to run as root: when run
# as root, the cluster belongs to the `postgres` OS user (runuser), and DIR is made theirs.
# The cluster is tuned for tests, not for keeping data: fsync stays on (the tests kill servers, not
# the machine), but nothing is archived and the log stays in DIR/log.
set -euo pipefail

usage() {
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
dir=$2

bindir=
for d in "$(pg_config --bindir 2>/dev/null || true)" /usr/lib/postgresql/*/bin; do
    if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
        bindir=$d
    fi
done
if [ -z "$bindir" ]; then
    echo "pg.sh: initdb not found (install PostgreSQL: scripts/deps.sh --pg)" >&2
    exit 1
fi

# as_owner CMD...: run as the cluster's owner (postgres when we are root).
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 20000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    echo "pg.sh: no free port found" >&2
    exit 1
}

case "$cmd" in
start)
    if [ -e "$dir/data/PG_VERSION" ]; then
        echo "pg.sh: $dir already holds a cluster" >&2
        exit 1
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir"
        # the owner must be able to reach DIR through every parent (mktemp -d gives 0700 to root)
        chmod 0755 "$dir"
        if ! runuser -u postgres -- test -w "$dir"; then
            echo "pg.sh: the postgres user cannot reach $dir (a parent folder is closed to it): choose another DIR" >&2
            exit 1
        fi
    fi
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    for attempt in 1 2 3; do
        port=$(free_port)
        opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir"
        opts="$opts -c max_connections=200 -c shared_buffers=128MB -c fsync=on -c synchronous_commit=on"
        opts="$opts -c logging_collector=off -c log_min_messages=warning"
        if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 -o "$opts" start >/dev/null 2>&1; then
            started=1
            break
        fi
        started=0
    done
    if [ "${started:-0}" != 1 ]; then
        echo "pg.sh: the cluster did not start; its log:" >&2
        tail -n 40 "$dir/log" >&2 || true
        exit 1
    fi
    echo "$port" >"$dir/port"
    psql_q() { as_owner "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres "$@"; }
    # pg_signal_backend: DROP DATABASE ... WITH (FORCE) may have to end an autovacuum worker
    psql_q -c "CREATE ROLE parley LOGIN CREATEDB PASSWORD 'parley'" -c "GRANT pg_signal_backend TO parley" >/dev/null
    psql_q -c "CREATE DATABASE parley OWNER parley" >/dev/null
    echo "postgres://parley:parley@127.0.0.1:$port/parley"
    ;;
stop)
    if [ -e "$dir/data/PG_VERSION" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    usage
    ;;
esac
