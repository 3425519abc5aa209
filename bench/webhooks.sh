#!/usr/bin/env bash
# The webhook benchmark (SPEC §9, issue 10): chatgate (release, pinned to core 0, SQLite) sending
# `chat_session.message_sent` events to a receiver on loopback (bench/delivery.rs `receiver`, pinned to
# core 1 with the load driver):
#   1. 20,000 events written with the sender off, then sent to one fast receiver: deliveries/s from the
#      first to the last the receiver got (target >= 3,000/s);
#   2. 500 messages/s offered for 10 s to the fast receiver alone: p50/p99 from the send request to the
#      event's arrival;
#   3. the same with a second webhook whose receiver never answers: the fast one's p99 may grow by at
#      most 100 ms.
# Prints the figures and writes them to bench/webhooks.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${BENCH_PORT:-19112}"
RX_PORT="${BENCH_RX_PORT:-19111}"
BASE="http://127.0.0.1:$PORT"
RX="http://127.0.0.1:$RX_PORT"
QUEUED="${QUEUED:-20000}"

cargo build --release --quiet --bin chatgate --example delivery
BIN=target/release/chatgate
DRIVER=target/release/examples/delivery
WORK=$(mktemp -d)
. bench/lib.sh
RXPID=""
trap 'kill $SERVER $RXPID 2>/dev/null || true; rm -rf "$WORK"' EXIT
export CHATGATE_DATABASE_URL="sqlite://$WORK/bench.db" CHATGATE_LOG=warn BENCH_PLATFORM=webchat
export CHATGATE_OUTBOUND__ALLOW_NETWORKS=127.0.0.0/8

$BIN account create bench --password bench-pw 2>/dev/null
CHANNEL=$($BIN channel create bench --platform webchat --name site 2>/dev/null)

taskset -c 1 "$DRIVER" receiver "$RX_PORT" & RXPID=$!
for _ in $(seq 100); do curl -sf "$RX/stats" >/dev/null && break; sleep 0.05; done

webhook() { # url
  curl -sf "$BASE/api/http/" --data-urlencode class=webhook --data-urlencode method=setwebhook \
    --data-urlencode user=bench --data-urlencode password=bench-pw --data-urlencode "url=$1" \
    --data-urlencode events=chat_session.message_sent | grep -q SUCCESS
}

echo "webhook benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $QUEUED events to one receiver" >&2
start_server CHATGATE_WEBHOOKS__ENABLED=false
webhook "$RX/fast"
taskset -c 1 "$DRIVER" queue "$BASE" bench bench-pw "$CHANNEL" "$QUEUED" >"$WORK/queue.json"
stop_server
start_server
wait_accepted "$RX" "$QUEUED" 120
curl -sf "$RX/stats" >"$WORK/throughput.json"
stop_server

start_server
curl -sf -X POST "$RX/reset"
taskset -c 1 "$DRIVER" offer "$BASE" bench bench-pw "$CHANNEL" 500 10 >"$WORK/offer_alone.json"
wait_accepted "$RX" 5000 30
curl -sf "$RX/stats" >"$WORK/alone.json"
webhook "$RX/hang"
curl -sf -X POST "$RX/reset"
taskset -c 1 "$DRIVER" offer "$BASE" bench bench-pw "$CHANNEL" 500 10 >"$WORK/offer_beside.json"
wait_accepted "$RX" 5000 30
curl -sf "$RX/stats" >"$WORK/beside.json"
stop_server

python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
load = lambda n: json.load(open(f"{work}/{n}.json"))
t, a, b = load("throughput"), load("alone"), load("beside")
rate = t["accepted"] / max((t["last_us"] - t["first_us"]) / 1e6, 1e-6)
growth = b["latency_p99_ms"] - a["latency_p99_ms"]
out = {"deliveries_per_sec": round(rate), "alone_p50_ms": a["latency_p50_ms"], "alone_p99_ms": a["latency_p99_ms"],
       "beside_hanging_p50_ms": b["latency_p50_ms"], "beside_hanging_p99_ms": b["latency_p99_ms"],
       "p99_growth_ms": round(growth, 1), "offers": [load("offer_alone"), load("offer_beside")]}
print(f"one fast receiver : {rate:>8.0f} deliveries/s (>= 3000) {'ok' if rate >= 3000 else 'MISSED'}")
print(f"500/s, alone      : p50 {a['latency_p50_ms']:.1f} ms, p99 {a['latency_p99_ms']:.1f} ms")
print(f"beside a hang     : p50 {b['latency_p50_ms']:.1f} ms, p99 {b['latency_p99_ms']:.1f} ms; "
      f"p99 growth {growth:.1f} ms (<= 100) {'ok' if growth <= 100 else 'MISSED'}")
json.dump(out, open("bench/webhooks.json", "w"), indent=2)
PY
