#!/usr/bin/env bash
# Builds Parley and runs it on its embedded SQLite store, installing any missing Debian package first.
# Arguments go to the server (see `build/parley --help`); by default it listens on 127.0.0.1:8080 and
# keeps its data in ./parley.db.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/deps.sh --no-npm
make -j2 build/parley >/dev/null
exec build/parley "$@"
