#!/usr/bin/env bash
# Two instances on one PostgreSQL database against one (issue 16: "two instances together faster than
# one"). On a 2-core machine PostgreSQL is the limit of `sendmessage` (one instance at ~11,500/s leaves
# its own core 59 % idle while PostgreSQL's backends take the rest), so a second instance only takes
# CPU from the database. To measure what a second instance adds when chatgate is the limit — as on a
# machine where the database has cores of its own — each instance is held to QUOTA percent of a core
# by a cgroup (the v1 `cpu` controller's CFS quota, or cgroup v2's `cpu.max`; root needed), both
# pinned to core 0; wrk runs on core 1. The two groups are removed again at the end.
#
# Cases, ROUNDS times each, DURATION seconds, webchat `sendmessage` to 500 chats per instance:
#   one64 — one instance, 64 connections;
#   one32 — one instance, 32 connections (what each instance of `two` gets);
#   two   — two instances, 32 connections each (64 in all).
# Prints messages/s (stored messages counted in the database afterwards) and how many of the cgroup's
# periods throttled the first instance (all of them: the quota was the limit). PostgreSQL comes from
# scripts/postgres.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
QUOTA="${QUOTA:-15}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-8}"
if [ -w /sys/fs/cgroup/cpu/cgroup.procs ]; then # cgroup v1, its cpu controller mounted on its own
  CGROUPS=/sys/fs/cgroup/cpu
  hold() { echo 100000 >"$1/cpu.cfs_period_us" && echo $((QUOTA * 1000)) >"$1/cpu.cfs_quota_us"; }
elif grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null && [ -w /sys/fs/cgroup/cgroup.subtree_control ]; then
  CGROUPS=/sys/fs/cgroup # cgroup v2: the root hands its cpu controller down to the two groups
  echo +cpu >"$CGROUPS/cgroup.subtree_control"
  hold() { echo "$((QUOTA * 1000)) 100000" >"$1/cpu.max"; }
else
  echo "needs a writable cgroup cpu controller (v1 at /sys/fs/cgroup/cpu or v2 at /sys/fs/cgroup; root)" >&2
  exit 1
fi
command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
PG=$(scripts/postgres.sh | tail -1)
PG=${PG%/*}
cargo build --release --quiet --bin chatgate
BIN=$PWD/target/release/chatgate
WORK=$(mktemp -d)
cleanup() { # the instances, then their (now empty) groups, which a cgroup keeps until removed
  pkill -f "$BIN serve --demo" 2>/dev/null || true
  for g in chatgate-a chatgate-b; do
    for _ in $(seq 50); do [ -d "$CGROUPS/$g" ] || break; rmdir "$CGROUPS/$g" 2>/dev/null || sleep 0.1; done
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
for g in chatgate-a chatgate-b; do
  mkdir -p "$CGROUPS/$g"
  hold "$CGROUPS/$g"
done

start() { # port, cgroup: an instance on core 0, warmed (its login cached), then held to the quota
  (cd "$WORK" && CHATGATE_DATABASE_URL="$PG/$DB" CHATGATE_LISTEN="127.0.0.1:$1" CHATGATE_LOG=warn \
    CHATGATE_DB__MAX_CONNECTIONS=32 exec taskset -c 0 "$BIN" serve --demo >"$WORK/demo.$1.txt" 2>/dev/null) &
  echo $! >"$WORK/pid.$1"
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && break; sleep 0.1; done
  PW=$(awk '/password:/ {print $2}' "$WORK/demo.19400.txt")
  CH=$(awk '/channels:/ {print $3}' "$WORK/demo.19400.txt" | tr -d ,)
  curl -sf "http://127.0.0.1:$1/api/http/?class=chat&method=getchatchannels&user=demo&password=$PW" >/dev/null
  cat "$WORK/pid.$1" >"$CGROUPS/$2/cgroup.procs"
}
script() { # name: sends to 500 chats of its own
  cat >"$WORK/$1.lua" <<LUA
local n = 0
request = function()
  n = n + 1
  return wrk.format('GET', '/api/http/?class=chat&method=sendmessage&user=demo&password=$PW&platform=webchat&platformid=$CH&destination=$1_' .. (n % 500) .. '&message=m' .. n)
end
LUA
}
load() { # port, connections, script name -> requests/s
  taskset -c 1 wrk -t1 -c"$2" -d"${DURATION}s" -s "$WORK/$3.lua" "http://127.0.0.1:$1/" | awk '/Requests\/sec/ {print $2}'
}
throttled() { awk '/nr_throttled/ {print $2}' "$CGROUPS/chatgate-a/cpu.stat"; }

echo "two instances against one: $(date -u '+%Y-%m-%d %H:%M UTC'), each instance held to $QUOTA % of a core, $ROUNDS rounds x ${DURATION}s" >&2
for round in $(seq "$ROUNDS"); do
  for case in one64 one32 two; do
    DB="instances_$$_${round}_$case"
    psql -q "$PG/postgres" -c "CREATE DATABASE $DB" >/dev/null
    start 19400 chatgate-a
    script a
    script b
    before=$(throttled)
    case $case in
      one64) rate=$(load 19400 64 a) ;;
      one32) rate=$(load 19400 32 a) ;;
      two)
        start 19401 chatgate-b
        load 19400 32 a >"$WORK/a.rate" &
        loading=$!
        rate_b=$(load 19401 32 b)
        wait "$loading" # (not a bare wait: the instances are background jobs too)
        rate=$(python3 -c "print(round($(cat "$WORK/a.rate") + $rate_b, 2))")
        ;;
    esac
    periods=$(($(throttled) - before))
    stored=$(psql -qAt "$PG/$DB" -c "SELECT COUNT(*) FROM messages")
    printf 'round %s  %-6s %9s messages/s  stored %6s  throttled periods %s\n' "$round" "$case" "$rate" "$stored" "$periods"
    pkill -f "$BIN serve --demo" || true
    sleep 0.5
    psql -q "$PG/postgres" -c "DROP DATABASE $DB" >/dev/null
  done
done
