#!/usr/bin/env bash
# Seeds N users straight into a stopped Parley's SQLite data file, for scale measurements (a million users
# through the HTTP API takes minutes; this takes seconds). It writes rows shaped exactly as the API would,
# in the account's default service with its default user role; bench/run.sh's API seeding stays the
# reference for everything else.
#
#   bench/seed_sql.sh DATA_FILE ACCOUNT_SID N [PREFIX]     identities PREFIX-1 … PREFIX-N (default "scale")
set -euo pipefail
db=$1 account=$2 n=$3 prefix=${4:-scale}
case "$n" in *[!0-9]*) echo "seed_sql.sh: N must be a number" >&2; exit 2 ;; esac
case "$account" in AC[0-9a-f]*) ;; *) echo "seed_sql.sh: not an account SID: $account" >&2; exit 2 ;; esac
case "$prefix" in *[!A-Za-z0-9_-]*) echo "seed_sql.sh: PREFIX: letters, digits, - and _ only" >&2; exit 2 ;; esac
now=$(($(date +%s) * 1000))
sqlite3 "$db" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
BEGIN;
INSERT INTO users(sid, account_sid, service_sid, role_sid, identity, friendly_name, attributes, date_created, date_updated)
SELECT 'US' || lower(hex(randomblob(16))), a.sid, a.default_service_sid, c.chat_service_role_sid,
       '$prefix-' || s.value, NULL, '{}', $now, $now
FROM accounts a JOIN service_configs c ON c.service_sid = a.default_service_sid, generate_series(1, $n) s
WHERE a.sid = '$account';
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
