#!/usr/bin/env bash
# Install whatever Parley needs that is missing, and nothing else.
#
#   scripts/deps.sh            build + test dependencies (Debian packages, then `npm ci`)
#   scripts/deps.sh --bench    also wrk, nginx-light, gnuplot-nox, curl (bench/run.sh)
#   scripts/deps.sh --pg       also postgresql, libpq-dev (the PostgreSQL store)
#   scripts/deps.sh --no-npm   only what building and running the server needs (no node, no npm ci)
#
# Idempotent and quiet: when everything is present it makes no network call and prints nothing.
# `apt-get update` runs at most once, and only when a package is missing. Works as root; otherwise
# uses sudo when it exists. Package installs never start services (policy-rc.d), so installing nginx
# or postgresql does not leave a daemon on port 80 or 5432.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

no_npm=0
want=(libmicrohttpd-dev libjansson-dev libsqlite3-dev sqlite3 libpq-dev libcurl4-openssl-dev libssl-dev
      libcmocka-dev pkg-config make gcc clang libclang-rt-14-dev clang-format)
for arg in "$@"; do
    case "$arg" in
    --bench) want+=(wrk nginx-light gnuplot-nox curl) ;;
    --pg) want+=(postgresql libpq-dev) ;;
    --no-npm) no_npm=1 ;;
    -h | --help)
        sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "deps.sh: unknown argument: $arg" >&2
        exit 2
        ;;
    esac
done
# the tests: twilio-python checks webhook signatures (RequestValidator) and sends booleans as its users do
# (tests/py); openssl makes TLS test certificates;
# prlimit (util-linux) fills the disk in the disk-full test
[ "$no_npm" = 1 ] || want+=(python3-twilio openssl util-linux)
# Node.js: any node on PATH will do (the machine image ships one that bundles npm); Debian's
# nodejs and npm only when there is none, so a newer node is never shadowed or conflicted.
[ "$no_npm" = 1 ] || command -v node >/dev/null 2>&1 || want+=(nodejs npm)

log=$(mktemp "${TMPDIR:-/tmp}/parley-deps.XXXXXX")
policy_created=0
cleanup() {
    rm -f "$log"
    if [ "$policy_created" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
}
SUDO=
trap cleanup EXIT

# Run a command quietly; on failure show what it printed and stop.
quiet() {
    if ! "$@" >"$log" 2>&1; then
        echo "deps.sh: failed: $*" >&2
        tail -n 60 "$log" >&2
        exit 1
    fi
}

missing=()
for p in "${want[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    case "$status" in ii*) ;; *) missing+=("$p") ;; esac
done

if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            SUDO=sudo
        else
            echo "deps.sh: missing Debian packages: ${missing[*]}; not root and no sudo: install them by hand" >&2
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        # Keep dpkg from starting nginx/postgresql as system services while installing.
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
        $SUDO chmod 755 /usr/sbin/policy-rc.d
        policy_created=1
    fi
    # One `apt-get update`, retried on a transient network error.
    ok=0
    for attempt in 1 2 3; do
        if $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1; then
            ok=1
            break
        fi
        sleep $((attempt * 5))
    done
    if [ "$ok" != 1 ]; then
        echo "deps.sh: apt-get update failed" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
    quiet $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
fi

# npm packages for the end-to-end tests: `npm ci` when node_modules is missing or older than the lock
# file. npm rewrites node_modules/.package-lock.json on every install, so that is the stamp compared.
if [ "$no_npm" = 0 ] && [ -f package.json ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "deps.sh: node is installed but npm is not; install npm for this node" >&2
        exit 1
    fi
    stamp=node_modules/.package-lock.json
    if [ -f package-lock.json ]; then
        if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
            quiet npm ci --no-audit --no-fund --loglevel=error
            mkdir -p node_modules && touch "$stamp"
        fi
    elif [ ! -d node_modules ]; then
        quiet npm install --no-audit --no-fund --loglevel=error
    fi
fi
