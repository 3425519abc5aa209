#!/usr/bin/env bash
# Chat&Messenger's door against the plain door: chatgate (release, pinned to core 0, SQLite, delivery
# off) with one operator channel; the load driver (bench/delivery.rs) on core 1.
# COUNT (20,000) messages, 64 requests at a time, ROUNDS (3) times each, interleaved:
#   - `cam`:   `POST /cam/sendMessage` to the room "Operations" (JSON body, API token);
#   - `plain`: `sendmessage` through the plain door on the same channel, each to its own chat.
# Prints messages/s of each and the ratio of the medians (target >= 0.9), and writes bench/cam.json.
# CAM_ROOM=messenger measures direct messages (to one operator) instead of a room.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${BENCH_PORT:-19122}"
BASE="http://127.0.0.1:$PORT"
COUNT="${COUNT:-20000}"
ROUNDS="${ROUNDS:-3}"

. bench/lib.sh
prepare_release
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
export CHATGATE_LOG=warn BENCH_PLATFORM=operator
export CHATGATE_DATABASE_URL="sqlite://$WORK/cam.db"
$BIN account create bench --password bench-pw 2>/dev/null
CHANNEL=$($BIN channel create bench --platform operator --name team 2>/dev/null)
TOKEN=$($BIN access create bench alerts --token 2>/dev/null)
start_server CHATGATE_DELIVERY__ENABLED=false

echo "Chat&Messenger benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $COUNT messages x $ROUNDS rounds" >&2
# Warm-up: the room is created by its first message.
taskset -c 1 "$DRIVER" cam "$BASE" "$TOKEN" 1000 Operations >/dev/null
for round in $(seq "$ROUNDS"); do
  taskset -c 1 "$DRIVER" cam "$BASE" "$TOKEN" "$COUNT" ${CAM_ROOM:-Operations} >"$WORK/cam$round.json"
  taskset -c 1 "$DRIVER" queue "$BASE" bench bench-pw "$CHANNEL" "$COUNT" >"$WORK/plain$round.json"
done
PEAK=$(grep VmHWM /proc/$SERVER/status | awk '{print $2}')
stop_server

python3 - "$WORK" "$ROUNDS" "$PEAK" <<'PY'
import json, statistics, sys
work, rounds, peak = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
load = lambda n: json.load(open(f"{work}/{n}.json"))
rate = lambda r: r["sent"] / r["secs"]
cam = [rate(load(f"cam{r}")) for r in range(1, rounds + 1)]
plain = [rate(load(f"plain{r}")) for r in range(1, rounds + 1)]
failed = sum(load(f"{k}{r}")["failed"] for r in range(1, rounds + 1) for k in ("cam", "plain"))
ratio = statistics.median(cam) / statistics.median(plain)
out = {"cam_sendmessage_room_per_sec": [round(c) for c in cam], "plain_sendmessage_per_sec": [round(p) for p in plain],
       "cam_vs_plain": round(ratio, 3), "failed": failed, "peak_rss_mib": round(peak / 1024, 1)}
print(f"Chat&Messenger sendMessage to a room {statistics.median(cam):.0f}/s, plain sendmessage {statistics.median(plain):.0f}/s "
      f"(64 connections): {ratio:.2f} x (>= 0.9) {'ok' if ratio >= 0.9 else 'MISSED'}; {failed} failed; peak RSS {peak / 1024:.1f} MiB")
json.dump(out, open("bench/cam.json", "w"), indent=2)
PY
