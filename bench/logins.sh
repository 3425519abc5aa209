#!/usr/bin/env bash
# The failed-login case (issue 14): 1,000 wrong passwords, 64 at a time, spread over 50 client addresses
# (X-Forwarded-For from a trusted 127.0.0.1), against chatgate (release, pinned to core 0, SQLite).
# Reports the server's RSS before, its peak, and 5 s after (targets: peak <= 128 MiB, settled <= 64 MiB),
# the server's CPU seconds, and how the attempts were answered. Writes bench/logins.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${BENCH_PORT:-19123}"
BASE="http://127.0.0.1:$PORT"

# BIN=… measures another build (e.g. an older commit's) the same way.
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet --bin chatgate
  BIN=target/release/chatgate
fi
WORK=$(mktemp -d)
. bench/lib.sh
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
export CHATGATE_DATABASE_URL="sqlite://$WORK/bench.db" CHATGATE_LOG=warn CHATGATE_TRUSTED_PROXIES=127.0.0.1/32
$BIN account create bench --password bench-pw 2>/dev/null

echo "failed-login benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), 1000 wrong passwords, 64 at once, 50 addresses" >&2
start_server
BEFORE=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER/status")
seq 1 1000 | taskset -c 1 xargs -P 64 -I{} sh -c \
  'curl -s -H "X-Forwarded-For: 198.51.100.$(( {} % 50 + 1 ))" "'"$BASE"'/api/http/?class=chat&method=getchatchannels&user=bench&password=wrong{}"' \
  >"$WORK/answers.txt"
PEAK=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
sleep 5
AFTER=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER/status")
CPU=$(awk '{print ($14 + $15) / 100}' "/proc/$SERVER/stat")
stop_server

python3 - "$WORK" "$BEFORE" "$PEAK" "$AFTER" "$CPU" <<'PY'
import collections, json, sys
work, before, peak, after, cpu = sys.argv[1], *[int(v) / 1024 for v in sys.argv[2:5]], float(sys.argv[5])
import re
# Parallel curls may share a line; count the answers' codes wherever they are.
answers = collections.Counter(re.findall(r'"error":"([A-Z_]+)"', open(f"{work}/answers.txt").read()))
print(f"answers           : {dict(answers)}")
print(f"RSS               : {before:.1f} MiB before, peak {peak:.1f} MiB (<= 128) {'ok' if peak <= 128 else 'MISSED'}, "
      f"{after:.1f} MiB 5 s later (<= 64) {'ok' if after <= 64 else 'MISSED'}; server CPU {cpu:.2f} s")
json.dump({"answers": answers, "rss_before_mib": round(before, 1), "peak_rss_mib": round(peak, 1),
           "rss_after_5s_mib": round(after, 1), "cpu_secs": cpu}, open("bench/logins.json", "w"), indent=2)
PY
