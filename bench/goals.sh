#!/usr/bin/env bash
# Goals under load: chatgate (release, pinned to core 0, SQLite, delivery off) with a webchat channel of
# 5 goals; the load driver (bench/delivery.rs) on core 1. 1,000 webchat visitors are started first; then
# ROUNDS (3) times, interleaved:
#   - `alone`: COUNT (80,000) `sendmessage` through the plain door, 64 connections (a few seconds);
#   - `with views`: the same while the visitors report 10 page views each (`POST …/api/visit`), VIEW_RATE
#     (1,000) a second — each visitor a page a second; the views take 10 s, longer than the sendmessage
#     run, which sees them at that rate from start to end — one view in ten on a goal's page;
#   - `with probes`: the same while as many `GET /healthz` arrive at the same rate: what any request
#     arriving that often costs (the floor under the views' figure on this machine).
# Prints the medians, the drop of sendmessage's rate (target <= 10 %) and the probes' drop beside it,
# and writes bench/goals.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${BENCH_PORT:-19132}"
BASE="http://127.0.0.1:$PORT"
COUNT="${COUNT:-80000}"
VIEW_RATE="${VIEW_RATE:-1000}"
ROUNDS="${ROUNDS:-3}"
VISITORS="${VISITORS:-1000}"
VIEWS="${VIEWS:-10}"

. bench/lib.sh
prepare_release
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
export CHATGATE_LOG=warn BENCH_PLATFORM=webchat
export CHATGATE_DATABASE_URL="sqlite://$WORK/goals.db"
# Every view comes from this one address: the per-address limits are lifted for the benchmark.
export CHATGATE_WEBCHAT__READS_PER_ADDRESS_PER_MINUTE=100000000 CHATGATE_WEBCHAT__READS_PER_VISITOR_PER_MINUTE=100000000
export CHATGATE_WEBCHAT__SESSIONS_PER_ADDRESS_PER_MINUTE=100000000
$BIN account create bench --password bench-pw 2>/dev/null
GOALS="goals=checkout=https://shop.example/checkout/*;thanks=https://shop.example/thanks;cart=https://shop.example/cart/*;signup=https://shop.example/signup*;contact=https://shop.example/contact"
CHANNEL=$($BIN channel create bench --platform webchat --name shop --setting "$GOALS" 2>/dev/null)
start_server CHATGATE_DELIVERY__ENABLED=false
taskset -c 1 "$DRIVER" sessions "$BASE" "$CHANNEL" "$VISITORS" >"$WORK/sessions.txt"

echo "goals benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $COUNT sendmessage x $ROUNDS rounds, $VISITORS visitors x $VIEWS views at $VIEW_RATE/s" >&2
# A first run warms the fresh database up (its first seconds are slower); it is not counted.
taskset -c 1 "$DRIVER" queue "$BASE" bench bench-pw "$CHANNEL" "$COUNT" >/dev/null
for round in $(seq "$ROUNDS"); do
  taskset -c 1 "$DRIVER" queue "$BASE" bench bench-pw "$CHANNEL" "$COUNT" >"$WORK/alone$round.json"
  taskset -c 1 "$DRIVER" visits "$BASE" "$CHANNEL" "$WORK/sessions.txt" "$VIEWS" "$VIEW_RATE" >"$WORK/visits$round.json" &
  VISITS=$!
  taskset -c 1 "$DRIVER" queue "$BASE" bench bench-pw "$CHANNEL" "$COUNT" >"$WORK/with$round.json"
  wait "$VISITS"
  taskset -c 1 "$DRIVER" probes "$BASE" "$((VISITORS * VIEWS))" "$VIEW_RATE" >"$WORK/probes$round.json" &
  PROBES=$!
  taskset -c 1 "$DRIVER" queue "$BASE" bench bench-pw "$CHANNEL" "$COUNT" >"$WORK/floor$round.json"
  wait "$PROBES"
done
PEAK=$(grep VmHWM /proc/$SERVER/status | awk '{print $2}')
stop_server

python3 - "$WORK" "$ROUNDS" "$PEAK" "$VIEW_RATE" <<'PY'
import json, statistics, sys
work, rounds, peak, view_rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
load = lambda n: json.load(open(f"{work}/{n}.json"))
rate = lambda r: r["sent"] / r["secs"]
alone = [rate(load(f"alone{r}")) for r in range(1, rounds + 1)]
with_visits = [rate(load(f"with{r}")) for r in range(1, rounds + 1)]
with_probes = [rate(load(f"floor{r}")) for r in range(1, rounds + 1)]
visits = [load(f"visits{r}") for r in range(1, rounds + 1)]
probes = [load(f"probes{r}") for r in range(1, rounds + 1)]
failed = sum(load(f"{k}{r}")["failed"] for r in range(1, rounds + 1) for k in ("alone", "with", "floor"))
drop = 1 - statistics.median(with_visits) / statistics.median(alone)
floor = 1 - statistics.median(with_probes) / statistics.median(alone)
out = {"view_rate": view_rate, "sendmessage_alone_per_sec": [round(a) for a in alone],
       "sendmessage_with_visits_per_sec": [round(w) for w in with_visits],
       "sendmessage_with_healthz_per_sec": [round(w) for w in with_probes], "drop": round(drop, 3), "drop_healthz": round(floor, 3),
       "visits": [{"views": v["views"], "answered": v["answered"], "per_sec": round(v["views"] / v["secs"])} for v in visits],
       "failed": failed, "peak_rss_mib": round(peak / 1024, 1)}
print(f"sendmessage alone {statistics.median(alone):.0f}/s, with page views {statistics.median(with_visits):.0f}/s: "
      f"drop {drop * 100:.1f} % (<= 10 %) {'ok' if drop <= 0.10 else 'MISSED'}; with as many /healthz "
      f"{statistics.median(with_probes):.0f}/s: drop {floor * 100:.1f} %; views answered "
      f"{sum(v['answered'] for v in visits)}/{sum(v['views'] for v in visits)}, probes "
      f"{sum(p['answered'] for p in probes)}/{sum(p['views'] for p in probes)}; {failed} sends failed; peak RSS {peak / 1024:.1f} MiB")
json.dump(out, open("bench/goals.json", "w"), indent=2)
PY
