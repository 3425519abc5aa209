#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on 127.0.0.1 for the tests (installing Debian's package if
# needed) and prints the TEST_DATABASE_URL to use:   export TEST_DATABASE_URL=$(scripts/postgres.sh)
# Each test creates its own database on it. Stop it with: scripts/postgres.sh stop
set -euo pipefail
PORT="${PGPORT_TEST:-55432}"
DATA="${PGDATA_TEST:-/tmp/chatgate-test-pg}"

if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  echo "installing postgresql…" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 && apt-get clean
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }

if [ "${1:-}" = stop ]; then
  as_postgres "$BIN/pg_ctl -D $DATA stop -m fast" >&2 || true
  exit 0
fi
if ! as_postgres "$BIN/pg_ctl -D $DATA status" >/dev/null 2>&1; then
  rm -rf "$DATA" && mkdir -p "$DATA"
  [ "$(id -u)" = 0 ] && chown postgres "$DATA"
  as_postgres "$BIN/initdb -D $DATA -A trust -U postgres -E UTF8" >/dev/null
  as_postgres "$BIN/pg_ctl -D $DATA -l $DATA/server.log -w -o '-c listen_addresses=127.0.0.1 -p $PORT -c max_connections=400 -k /tmp' start" >/dev/null
fi
echo "postgres://postgres@127.0.0.1:$PORT/postgres"
