#!/usr/bin/env bash
# The delivery benchmark (SPEC §9): chatgate (release, pinned to core 0, SQLite) delivering to a fast fake
# Telegram (bench/delivery.rs, pinned to core 1, with the load driver):
#   1. 20,000 messages queued over 100 bots, no platform limit (chatgate's own pacing off): messages/s
#      from the first to the last the fake received;
#   2. the same with the fake enforcing 30/s per bot (429 + retry_after beyond) and chatgate's default
#      pacing: messages/s against the 3,000/s ceiling, and the share of sends answered 429;
#   3. 1,000 messages/s offered for 10 s: p50/p99 from the request that sent a message to its arrival at
#      the fake (a little more than acknowledged → received: it includes the API call itself);
#   4. SIGKILL: 500 messages to 500 chats of one bot (the fake at 30/s, default pacing), the server killed
#      1.5 s after the last was acknowledged and restarted at once: time from the restart to the last
#      message's first arrival (target: 10 s + 500/29 s);
#   5. 15,000 messages over 100 bots submitted in lists of 1,000 *while* delivery runs, the fake at 30/s
#      per bot in any sliding second: messages/s from the first submission to the last arrival against
#      the 3,000/s ceiling, and the share of sends answered 429;
#   6. end to end: 20,000 in lists of 1,000 while delivery runs, no limit: messages/s from the first
#      submission to the last arrival;
#   7. ingest, delivery off: `sendmessages` lists of 1,000 on one connection against single
#      `sendmessage` over 64 connections, per message.
# BENCH_DATABASE_URL (an empty PostgreSQL database) runs it on PostgreSQL; SQLite otherwise. `/healthz`
# is measured first with wrk, for the run's absolute figures. Prints the figures and writes them to
# bench/delivery.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${BENCH_PORT:-19102}"
FAKE_PORT="${BENCH_FAKE_PORT:-19101}"
BASE="http://127.0.0.1:$PORT"
FAKE="http://127.0.0.1:$FAKE_PORT"
QUEUED="${QUEUED:-20000}"

for tool in wrk taskset curl python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "installing $tool…" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk util-linux curl >/dev/null
  fi
done

cargo build --release --quiet --bin chatgate --example delivery
BIN=target/release/chatgate
DRIVER=target/release/examples/delivery
WORK=$(mktemp -d)
. bench/lib.sh
FAKEPID=""
trap 'kill $SERVER $FAKEPID 2>/dev/null || true; rm -rf "$WORK"' EXIT
export CHATGATE_DATABASE_URL="${BENCH_DATABASE_URL:-sqlite://$WORK/bench.db}" CHATGATE_LOG=warn
export CHATGATE_CONNECTORS__TELEGRAM__BASE_URL="$FAKE"

$BIN account create bench --password bench-pw 2>/dev/null
CHANNELS=$(for i in $(seq 100); do $BIN channel create bench --platform telegram --name "bot$i" --setting "bot_token=$i:tok" 2>/dev/null; done | paste -sd,)

start_fake() { # [per-bot limit]
  [ -n "$FAKEPID" ] && kill "$FAKEPID" 2>/dev/null && wait "$FAKEPID" 2>/dev/null || true
  taskset -c 1 "$DRIVER" fake "$FAKE_PORT" "${1:-0}" & FAKEPID=$!
  for _ in $(seq 100); do curl -sf "$FAKE/stats" >/dev/null && break; sleep 0.05; done
}
stat() { curl -sf "$FAKE/stats" | python3 -c "import sys, json; print(json.load(sys.stdin)['$1'])"; }
wait_distinct() { # count, timeout seconds: until the fake has accepted count distinct texts
  for _ in $(seq $(($2 * 20))); do n=$(stat distinct); [ "$n" -ge "$1" ] && return 0; sleep 0.05; done
  echo "only $n of $1 distinct arrived" >&2; return 1
}
now_us() { python3 -c 'import time; print(int(time.time() * 1e6))'; }
queue() { # queue $QUEUED messages with delivery off
  start_server CHATGATE_DELIVERY__ENABLED=false
  taskset -c 1 "$DRIVER" queue "$BASE" bench bench-pw "$CHANNELS" "$QUEUED" >"$WORK/queue.json"
  stop_server
}

echo "delivery benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $QUEUED queued over 100 Telegram channels" >&2
start_server CHATGATE_DELIVERY__ENABLED=false
taskset -c 1 wrk -t1 -c64 -d5s "$BASE/healthz" | awk '/Requests\/sec/ {print $2}' >"$WORK/healthz.txt"
stop_server
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

# 4. SIGKILL mid-delivery, restart at once.
FIRST_CHANNEL=${CHANNELS%%,*}
start_fake 30
start_server
taskset -c 1 "$DRIVER" queue "$BASE" bench bench-pw "$FIRST_CHANNEL" 500 >/dev/null
sleep 1.5
kill -9 "$SERVER"; wait "$SERVER" 2>/dev/null || true
echo "$(now_us)" >"$WORK/restart_us.txt"
start_server
wait_distinct 500 120
curl -sf "$FAKE/stats" >"$WORK/sigkill.json"
stop_server

# 5. Paced, the submission overlapping delivery.
start_fake 30
start_server
taskset -c 1 "$DRIVER" bulk "$BASE" bench bench-pw "$CHANNELS" 15000 1000 >"$WORK/overlap_submit.json"
wait_distinct 15000 120
curl -sf "$FAKE/stats" >"$WORK/overlap.json"
stop_server

# 6. End to end, no platform limit.
start_fake 0
start_server CHATGATE_CONNECTORS__TELEGRAM__PER_CHANNEL_PER_SEC=0 CHATGATE_CONNECTORS__TELEGRAM__PER_CHAT_PER_SEC=0
taskset -c 1 "$DRIVER" bulk "$BASE" bench bench-pw "$CHANNELS" 20000 1000 >"$WORK/e2e_submit.json"
wait_distinct 20000 120
curl -sf "$FAKE/stats" >"$WORK/e2e.json"
stop_server

# 7. Ingest: lists of 1,000 on one connection against single sends over 64.
start_server CHATGATE_DELIVERY__ENABLED=false
taskset -c 1 "$DRIVER" queue "$BASE" bench bench-pw "$CHANNELS" 20000 >"$WORK/singles.json"
taskset -c 1 "$DRIVER" bulk "$BASE" bench bench-pw "$CHANNELS" 20000 1000 >"$WORK/bulk.json"
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
healthz = float(open(f"{work}/healthz.txt").read().strip() or 0)
k = load("sigkill"); restart_us = int(open(f"{work}/restart_us.txt").read())
stall = (k["last_us"] - restart_us) / 1e6
ov, ovs = load("overlap"), load("overlap_submit")
rov = 15000 / max((ov["last_us"] - ovs["started_us"]) / 1e6, 1e-6)
share_ov = ov["refused"] / max(ov["accepted"] + ov["refused"], 1)
e, es = load("e2e"), load("e2e_submit")
re2e = 20000 / max((e["last_us"] - es["started_us"]) / 1e6, 1e-6)
si, bu = load("singles"), load("bulk")
rsi, rbu = si["sent"] / si["secs"], bu["sent"] / bu["secs"]
out.update({
    "healthz_rps": healthz, "sigkill_restart_to_last_s": round(stall, 2), "sigkill_repeats": k["accepted"] - k["distinct"],
    "overlap_msgs_per_sec": round(rov), "overlap_vs_ceiling": round(rov / 3000, 3), "overlap_429_share": round(share_ov, 4),
    "e2e_msgs_per_sec": round(re2e), "singles_per_sec": round(rsi), "bulk_per_sec": round(rbu), "bulk_vs_singles": round(rbu / rsi, 2),
    "failed_submissions": si["failed"] + bu["failed"] + ovs["failed"] + es["failed"],
})
print(f"/healthz          : {healthz:>8.0f} requests/s (wrk, 64 connections, 5 s)")
print(f"SIGKILL, restart  : last of 500 arrived {stall:.1f} s after the restart (<= {10 + 500/29:.1f}) "
      f"{'ok' if stall <= 10 + 500 / 29 else 'MISSED'}; {k['accepted'] - k['distinct']} repeats")
print(f"30/s, overlapping : {rov:>8.0f} messages/s = {rov/3000:.2f} x 3000 (>= 0.85) {'ok' if rov >= 2550 else 'MISSED'}; "
      f"429s {share_ov*100:.2f}% (<= 1%) {'ok' if share_ov <= 0.01 else 'MISSED'}")
print(f"end to end        : {re2e:>8.0f} messages/s (>= 5000) {'ok' if re2e >= 5000 else 'MISSED'}")
print(f"ingest            : lists of 1,000 {rbu:.0f}/s, singles over 64 {rsi:.0f}/s = {rbu/rsi:.2f} x (>= 3) "
      f"{'ok' if rbu >= 3 * rsi else 'MISSED'}; failed submissions {out['failed_submissions']}")
json.dump(out, open("bench/delivery.json", "w"), indent=2)
PY
