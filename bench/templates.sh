#!/usr/bin/env bash
# The WhatsApp template benchmark (SPEC §9): chatgate (release, pinned to core 0, SQLite) against a fast
# fake WhatsApp Cloud API (bench/delivery.rs `whatsapp`, pinned to core 1 with the load driver), 100
# numbers of one business account whose listing has one template:
#   1. ingest, delivery off: 20,000 `sendtemplate` against 20,000 `sendmessage` to the same numbers,
#      each over 64 connections, ROUNDS (3) times each, interleaved: messages/s, and the ratio of the medians
#      (target >= 0.9: a template is checked against the listing kept in memory, not asked of Meta);
#   2. Feedbot's `addnewmessages` in lists of 1,000 (an API token bound to one number) against
#      `sendmessages` lists of 1,000 to that number — the bulk rate of SPEC §9 (target >= 0.9 x) — and
#      against single `sendmessage`;
#   3. delivery: 20,000 templates queued on a fresh database, then delivered with chatgate's pacing off:
#      messages/s from the first to the last the fake received (target >= 5,000/s).
# Prints the figures and writes them to bench/templates.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${BENCH_PORT:-19112}"
FAKE_PORT="${BENCH_FAKE_PORT:-19111}"
BASE="http://127.0.0.1:$PORT"
FAKE="http://127.0.0.1:$FAKE_PORT"
COUNT="${COUNT:-20000}"
ROUNDS="${ROUNDS:-3}"

. bench/lib.sh
prepare_release
taskset -c 1 "$DRIVER" whatsapp "$FAKE_PORT" & FAKEPID=$!
trap 'kill $SERVER $FAKEPID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -sf "$FAKE/stats" >/dev/null && break; sleep 0.05; done
export CHATGATE_LOG=warn BENCH_PLATFORM=whatsapp
export CHATGATE_CONNECTORS__WHATSAPP__BASE_URL="$FAKE" CHATGATE_CONNECTORS__TEMPLATES_REFRESH_SECS=0

setup() { # database name: an account with 100 numbers, their templates listed
  export CHATGATE_DATABASE_URL="sqlite://$WORK/$1.db"
  $BIN account create bench --password bench-pw 2>/dev/null
  CHANNELS=$(for i in $(seq 100); do $BIN channel create bench --platform whatsapp --name "number$i" \
    --setting "phone_number_id=$((1000 + i))" --setting access_token=tok --setting waba_id=77 2>/dev/null; done | paste -sd,)
  start_server CHATGATE_DELIVERY__ENABLED=false
  for ch in ${CHANNELS//,/ }; do
    curl -sf "$BASE/api/http/?class=chat&method=gettemplates&user=bench&password=bench-pw&platform=whatsapp&platformid=$ch&refresh=1" >/dev/null
  done
}
ingest() { # method, output name
  BENCH_METHOD=$1 taskset -c 1 "$DRIVER" queue "$BASE" bench bench-pw "$CHANNELS" "$COUNT" >"$WORK/$2.json"
}

echo "template benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $COUNT messages over 100 WhatsApp numbers" >&2
setup ingest
for round in $(seq "$ROUNDS"); do
  ingest sendtemplate "template$round"
  ingest sendmessage "message$round"
done
# Feedbot's lists of 1,000 against `sendmessages` lists of 1,000, on one number's channel.
FIRST=${CHANNELS%%,*}
TOKEN=$($BIN access create bench crm --token --channel "$FIRST" 2>/dev/null)
sleep 0.3
taskset -c 1 "$DRIVER" feedbot "$BASE" "$TOKEN" "$COUNT" 1000 >"$WORK/feedbot.json"
taskset -c 1 "$DRIVER" bulk "$BASE" bench bench-pw "$FIRST" "$COUNT" 1000 >"$WORK/bulk.json"
stop_server

# Delivery: COUNT templates queued on a fresh database, then delivered with pacing off.
setup delivery
ingest sendtemplate queued
stop_server
curl -sf -X POST "$FAKE/reset" >/dev/null
start_server CHATGATE_CONNECTORS__WHATSAPP__PER_CHANNEL_PER_SEC=0
wait_accepted "$FAKE" "$COUNT" 120
curl -sf "$FAKE/stats" >"$WORK/delivery.json"
stop_server

python3 - "$WORK" "$COUNT" "$ROUNDS" <<'PY'
import json, statistics, sys
work, count, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
load = lambda n: json.load(open(f"{work}/{n}.json"))
rate = lambda r: r["sent"] / r["secs"]
names = [f"{kind}{r}" for r in range(1, rounds + 1) for kind in ("template", "message")]
templates = [rate(load(f"template{r}")) for r in range(1, rounds + 1)]
messages = [rate(load(f"message{r}")) for r in range(1, rounds + 1)]
failed = sum(load(n)["failed"] for n in names)
ratio = statistics.median(templates) / statistics.median(messages)
fb, bu = load("feedbot"), load("bulk")
feedbot, bulk = rate(fb), rate(bu)
failed += fb["failed"] + bu["failed"]
d = load("delivery")
delivered = d["accepted"] / max((d["last_us"] - d["first_us"]) / 1e6, 1e-6)
out = {"sendtemplate_per_sec": [round(t) for t in templates], "sendmessage_per_sec": [round(m) for m in messages],
       "sendtemplate_vs_sendmessage": round(ratio, 3), "failed": failed,
       "delivered_per_sec": round(delivered), "delivered": d["accepted"], "distinct": d["distinct"],
       "feedbot_lists_per_sec": round(feedbot), "sendmessages_lists_per_sec": round(bulk),
       "feedbot_vs_sendmessages_lists": round(feedbot / bulk, 3),
       "feedbot_vs_singles": round(feedbot / statistics.median(messages), 2)}
print(f"sendtemplate {statistics.median(templates):.0f}/s, sendmessage {statistics.median(messages):.0f}/s (64 connections): "
      f"{ratio:.2f} x (>= 0.9) {'ok' if ratio >= 0.9 else 'MISSED'}; {failed} failed")
print(f"Feedbot addnewmessages, lists of 1,000: {feedbot:.0f}/s = {feedbot / bulk:.2f} x sendmessages lists of 1,000 "
      f"({bulk:.0f}/s; >= 0.9) {'ok' if feedbot >= 0.9 * bulk else 'MISSED'}; {feedbot / statistics.median(messages):.2f} x single sendmessage")
print(f"delivery: {d['accepted']} messages ({d['distinct']} distinct) at {delivered:.0f}/s (>= 5000) {'ok' if delivered >= 5000 else 'MISSED'}")
json.dump(out, open("bench/templates.json", "w"), indent=2)
PY
