#!/usr/bin/env bash
# The delivery benchmark (SPEC §9): chatgate (release, pinned to core 0, SQLite) delivering to a fast fake
# Telegram (bench/delivery.rs, pinned to core 1, with the load driver):
#   1. 20,000 messages queued over 100 bots, no platform limit (chatgate's own pacing off): messages/s
#      from the first to the last the fake received;
#   2. the same with the fake enforcing 30/s per bot (429 + retry_after beyond) and chatgate's default
#      pacing: messages/s against the 3,000/s ceiling, and the share of sends answered 429;
#   3. 1,000 messages/s offered for 10 s: p50/p99 from the request that sent a message to its arrival at
#      the fake (a little more than acknowledged → received: it includes the API call itself).
# Prints the figures and writes them to bench/delivery.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${BENCH_PORT:-19102}"
FAKE_PORT="${BENCH_FAKE_PORT:-19101}"
BASE="http://127.0.0.1:$PORT"
FAKE="http://127.0.0.1:$FAKE_PORT"
QUEUED="${QUEUED:-20000}"

cargo build --release --quiet --bin chatgate --example delivery
BIN=target/release/chatgate
DRIVER=target/release/examples/delivery
WORK=$(mktemp -d)
. bench/lib.sh
FAKEPID=""
trap 'kill $SERVER $FAKEPID 2>/dev/null || true; rm -rf "$WORK"' EXIT
export CHATGATE_DATABASE_URL="sqlite://$WORK/bench.db" CHATGATE_LOG=warn
export CHATGATE_CONNECTORS__TELEGRAM__BASE_URL="$FAKE"

$BIN account create bench --password bench-pw 2>/dev/null
CHANNELS=$(for i in $(seq 100); do $BIN channel create bench --platform telegram --name "bot$i" --setting "bot_token=$i:tok" 2>/dev/null; done | paste -sd,)

start_fake() { # [per-bot limit]
  [ -n "$FAKEPID" ] && kill "$FAKEPID" 2>/dev/null && wait "$FAKEPID" 2>/dev/null || true
  taskset -c 1 "$DRIVER" fake "$FAKE_PORT" "${1:-0}" & FAKEPID=$!
  for _ in $(seq 100); do curl -sf "$FAKE/stats" >/dev/null && break; sleep 0.05; done
}
queue() { # queue $QUEUED messages with delivery off
  start_server CHATGATE_DELIVERY__ENABLED=false
  taskset -c 1 "$DRIVER" queue "$BASE" bench bench-pw "$CHANNELS" "$QUEUED" >"$WORK/queue.json"
  stop_server
}

echo "delivery benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $QUEUED queued over 100 Telegram channels" >&2
start_fake 0
queue
start_server CHATGATE_CONNECTORS__TELEGRAM__PER_CHANNEL_PER_SEC=0 CHATGATE_CONNECTORS__TELEGRAM__PER_CHAT_PER_SEC=0
wait_accepted "$FAKE" "$QUEUED" 120
curl -sf "$FAKE/stats" >"$WORK/unlimited.json"
stop_server

start_fake 30
queue
start_server
wait_accepted "$FAKE" "$QUEUED" 120
curl -sf "$FAKE/stats" >"$WORK/paced.json"
stop_server

start_fake 0
start_server
taskset -c 1 "$DRIVER" offer "$BASE" bench bench-pw "$CHANNELS" 1000 10 >"$WORK/offer.json"
wait_accepted "$FAKE" 10000 30
curl -sf "$FAKE/stats" >"$WORK/latency.json"
stop_server

python3 - "$WORK" "$QUEUED" <<'PY'
import json, sys
work, queued = sys.argv[1], int(sys.argv[2])
load = lambda n: json.load(open(f"{work}/{n}.json"))
u, p, l, o = load("unlimited"), load("paced"), load("latency"), load("offer")
rate = lambda s: s["accepted"] / max((s["last_us"] - s["first_us"]) / 1e6, 1e-6)
ru, rp = rate(u), rate(p)
share_429 = p["refused"] / max(p["accepted"] + p["refused"], 1)
out = {
    "unlimited_msgs_per_sec": round(ru), "paced_msgs_per_sec": round(rp), "paced_vs_ceiling": round(rp / 3000, 3),
    "paced_429_share": round(share_429, 4), "latency_p50_ms": l["latency_p50_ms"], "latency_p99_ms": l["latency_p99_ms"],
    "offered": o,
}
print(f"no platform limit : {ru:>8.0f} messages/s (>= 5000) {'ok' if ru >= 5000 else 'MISSED'}")
print(f"30/s per bot      : {rp:>8.0f} messages/s = {rp/3000:.2f} x 3000 (>= 0.85) {'ok' if rp >= 2550 else 'MISSED'}; "
      f"429s {share_429*100:.2f}% (<= 1%) {'ok' if share_429 <= 0.01 else 'MISSED'}")
print(f"1000/s offered    : p50 {l['latency_p50_ms']:.1f} ms, p99 {l['latency_p99_ms']:.1f} ms (<= 50) "
      f"{'ok' if l['latency_p99_ms'] <= 50 else 'MISSED'}; sender: {o}")
json.dump(out, open("bench/delivery.json", "w"), indent=2)
PY
