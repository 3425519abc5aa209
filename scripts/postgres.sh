#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on 127.0.0.1 for the tests (installing Debian's package if
# needed) and prints the TEST_DATABASE_URL to use:   export TEST_DATABASE_URL=$(scripts/postgres.sh)
# Each test creates its own database on it. Stop it with: scripts/postgres.sh stop
#
# The port is the first free one from PGPORT_TEST (55432): another server already listening there —
# another checkout's, or one left running by anything else — must not make the tests fail. The
# server's socket lives in its data directory, so no lock file is left in /tmp.
set -euo pipefail
PORT="${PGPORT_TEST:-55432}"
DATA="${PGDATA_TEST:-/tmp/chatgate-test-pg}"

if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  echo "installing postgresql…" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 && apt-get clean
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ "${1:-}" = stop ]; then
  as_postgres "$BIN/pg_ctl -D $DATA stop -m fast" >&2 || true
  exit 0
fi
if as_postgres "$BIN/pg_ctl -D $DATA status" >/dev/null 2>&1 && [ -f "$DATA/chatgate-port" ]; then
  echo "postgres://postgres@127.0.0.1:$(cat "$DATA/chatgate-port")/postgres"
  exit 0
fi
as_postgres "$BIN/pg_ctl -D $DATA stop -m immediate" >/dev/null 2>&1 || true
rm -rf "$DATA" && mkdir -p "$DATA"
[ "$(id -u)" = 0 ] && chown postgres "$DATA"
as_postgres "$BIN/initdb -D $DATA -A trust -U postgres -E UTF8" >/dev/null
for attempt in $(seq 0 49); do
  port=$((PORT + attempt))
  in_use "$port" && continue
  if as_postgres "$BIN/pg_ctl -D $DATA -l $DATA/server.log -w -o '-c listen_addresses=127.0.0.1 -p $port -c max_connections=400 -k $DATA' start" >/dev/null 2>&1; then
    echo "$port" > "$DATA/chatgate-port"
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    exit 0
  fi
  # Taken between the check and the start: try the next port.
done
echo "could not start PostgreSQL on any port from $PORT; its log:" >&2
tail -n 30 "$DATA/server.log" >&2 || true
exit 1
