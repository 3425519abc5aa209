#!/usr/bin/env bash
# The event-stream benchmark (SPEC §9, issue 11): chatgate (release, pinned to core 0, SQLite) with
# 1,000 webchat visitors' event streams open (the load driver, bench/delivery.rs `streams`, on core 1),
# then one message to each through the plain door: p50/p99 from the send request to the message's
# arrival in its stream (target p99 <= 200 ms), and the server's peak RSS (target <= 256 MiB).
# Writes bench/streams.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${BENCH_PORT:-19122}"
BASE="http://127.0.0.1:$PORT"
STREAMS="${STREAMS:-1000}"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true  # N streams need ~2N+100 descriptors

cargo build --release --quiet --bin chatgate --example delivery
BIN=target/release/chatgate
DRIVER=target/release/examples/delivery
WORK=$(mktemp -d)
. bench/lib.sh
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
export CHATGATE_DATABASE_URL="sqlite://$WORK/bench.db" CHATGATE_LOG=warn
export CHATGATE_WEBCHAT__SESSIONS_PER_ADDRESS_PER_MINUTE=1000000
# All visitors come from one loopback address: lift the per-address caps on connections (256) and
# streams (32), and allow every stream the run opens (the derived cap is half the connection cap).
export CHATGATE_CONNECTIONS__PER_ADDRESS=0 CHATGATE_STREAMS__PER_ADDRESS=0 CHATGATE_STREAMS__MAX="$STREAMS"

$BIN account create bench --password bench-pw 2>/dev/null
CHANNEL=$($BIN channel create bench --platform webchat --name site 2>/dev/null)

echo "stream benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $STREAMS open event streams" >&2
start_server
taskset -c 1 "$DRIVER" streams "$BASE" "$CHANNEL" "$STREAMS" bench bench-pw >"$WORK/streams.json"
PEAK=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
stop_server

python3 - "$WORK" "$PEAK" <<'PY'
import json, sys
work, peak_kib = sys.argv[1], int(sys.argv[2])
s = json.load(open(f"{work}/streams.json"))
peak = peak_kib / 1024
s["peak_rss_mib"] = round(peak, 1)
print(f"{s['streams']} streams      : {s['received']} messages arrived; p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms "
      f"(<= 200) {'ok' if s['received'] == s['streams'] and s['p99_ms'] <= 200 else 'MISSED'}; max {s['max_ms']:.1f} ms")
print(f"peak RSS          : {peak:.1f} MiB (<= 256) {'ok' if peak <= 256 else 'MISSED'}")
json.dump(s, open("bench/streams.json", "w"), indent=2)
PY
