#!/usr/bin/env bash
# The data-scale benchmark (issue 16): do reads cost what they return, not what the database holds?
# For each engine in ENGINES ("sqlite postgres"; PostgreSQL is started by scripts/postgres.sh): a release
# chatgate pinned to core 0 with one account, nine webchat channels and a Telegram channel, filled through
# the API by bench/scale.rs (pinned to core 1: `sendmessages` for 90 %, the Telegram webhook for the 10 %
# received) to 10,000 messages and measured, then filled to 1,000,000 (SIZE) and measured again. Each read
# is timed over one connection (300 calls after 30 to warm up) for the same answer size at both sizes;
# `sendmessage` over 64 connections. Prints p50 at both sizes and the ratio (target ≤ 1.2).
# Then, on the full database of each engine in SOAK_ENGINES (default: ENGINES), SOAK_MINUTES (10) of mixed
# load (the reads above, `sendmessage` and `getmessagestatus`, 64 connections, wrk on core 1): per minute
# req/s, p99 and the server's RSS (target: RSS flat within 10 %). Figures go to bench/scale.json.
set -euo pipefail
cd "$(dirname "$0")/.."
ENGINES="${ENGINES:-sqlite postgres}"
SOAK_ENGINES="${SOAK_ENGINES:-$ENGINES}"
SOAK_MINUTES="${SOAK_MINUTES:-10}"
SMALL="${SMALL:-10000}"
SIZE="${SIZE:-1000000}"
PORT="${BENCH_PORT:-19300}"
BASE="http://127.0.0.1:$PORT"
SECRET=scale-webhook-secret

command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --bin chatgate --example scale
BIN=$PWD/target/release/chatgate
DRIVER=$PWD/target/release/examples/scale
WORK=$(mktemp -d)
SERVER=""
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
RESULTS="$WORK/results.jsonl"

rss_mib() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER/status"; }

soak() { # engine webchat-ids telegram-id
  local w1 w2 t=$3
  w1=$(cut -d, -f1 <<<"$2"); w2=$(cut -d, -f2 <<<"$2")
  cat >"$WORK/soak.lua" <<LUA
local n = 0
local auth = 'user=scale&password=scale-pw'
request = function()
  n = n + 1
  local k = n % 6
  local q
  if k == 0 then q = 'method=getmessages&platform=webchat&platformid=$w1&destination=busy'
  elseif k == 1 then q = 'method=getchats&platform=webchat&platformid=$w2'
  elseif k == 2 then q = 'method=getunreadmessages&platform=telegram&platformid=$t&destination=7&markread=0&limit=10'
  elseif k == 3 then q = 'method=getmessagestatus&messageid=' .. (1 + n % 100000)
  elseif k == 4 then q = 'method=getchats&platform=webchat&platformid=$w1&limit=100'
  else q = 'method=sendmessage&platform=webchat&platformid=$w2&destination=soak' .. (n % 1000) .. '&message=soak+' .. n end
  return wrk.format('GET', '/api/http/?class=chat&' .. q .. '&' .. auth)
end
LUA
  echo "soak on $1: $SOAK_MINUTES minutes of mixed load, 64 connections" >&2
  for minute in $(seq "$SOAK_MINUTES"); do
    taskset -c 1 wrk -t1 -c64 -d60s --latency -s "$WORK/soak.lua" "$BASE/" >"$WORK/soak.out" 2>&1 || true
    python3 - "$1" "$minute" "$(rss_mib)" "$WORK/soak.out" >>"$RESULTS" <<'PY'
import json, re, sys
engine, minute, rss, text = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), open(sys.argv[4]).read()
m = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)] if m else None
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
errors = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", text))
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
errors += sum(int(x) for x in sock.groups()) if sock else 0
row = {"engine": engine, "soak_minute": minute, "rss_mib": rss, "p99_ms": round(p99, 2) if p99 else None,
       "rps": float(rps.group(1)) if rps else 0.0, "errors": errors}
print(json.dumps(row))
print(f"  minute {minute}: {row['rps']:.0f} req/s, p99 {row['p99_ms']} ms, RSS {rss} MiB, {errors} errors", file=sys.stderr)
PY
  done
}

for engine in $ENGINES; do
  dir="$WORK/$engine" && mkdir -p "$dir"
  if [ "$engine" = sqlite ]; then
    export CHATGATE_DATABASE_URL="sqlite://$dir/scale.db"
  else
    pg=$(scripts/postgres.sh)
    db="scale_$$"
    psql -q "$pg" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    export CHATGATE_DATABASE_URL="${pg%/*}/$db"
  fi
  (cd "$dir" && "$BIN" account create scale --password scale-pw >/dev/null 2>&1)
  webchat=$(cd "$dir" && for i in $(seq 9); do "$BIN" channel create scale --platform webchat --name "w$i" 2>/dev/null; done | paste -sd,)
  telegram=$(cd "$dir" && "$BIN" channel create scale --platform telegram --name t \
    --setting bot_token=1:scale --setting "webhook_secret=$SECRET" 2>/dev/null)
  (cd "$dir" && exec env CHATGATE_LISTEN="127.0.0.1:$PORT" CHATGATE_LOG=warn \
    CHATGATE_CONNECTORS__TELEGRAM__BASE_URL=http://127.0.0.1:9 taskset -c 0 "$BIN" serve 2>"$dir/server.log") &
  SERVER=$!
  for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
  kill -0 "$SERVER" 2>/dev/null || { echo "the server did not start:" >&2; cat "$dir/server.log" >&2; exit 1; }
  from=0
  for size in "$SMALL" "$SIZE"; do
    taskset -c 1 "$DRIVER" fill "$BASE" scale scale-pw "$from" "$size" "$webchat" "$telegram" "$SECRET"
    from=$size
    echo "measuring $engine at $size messages…" >&2
    taskset -c 1 "$DRIVER" measure "$BASE" scale scale-pw "$webchat" "$telegram" |
      python3 -c 'import json,sys; r=json.load(sys.stdin); r.update(engine=sys.argv[1], size=int(sys.argv[2])); print(json.dumps(r))' \
        "$engine" "$size" >>"$RESULTS"
  done
  case " $SOAK_ENGINES " in *" $engine "*) soak "$engine" "$webchat" "$telegram" ;; esac
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
  [ "$engine" = postgres ] && psql -q "$pg" -c "DROP DATABASE $db" >/dev/null 2>&1 || true
done

python3 - "$RESULTS" "$SMALL" "$SIZE" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
small, size = int(sys.argv[2]), int(sys.argv[3])
out = {"measured": [], "soak": [r for r in rows if "soak_minute" in r]}
calls = ["getmessages_busy_chat", "getchats_1000_chats", "getchats_10000_chats", "getchats_10000_chats_default_limit",
         "getunreadmessages_hot_chat", "getmessagestatus"]
print(f"\n{'engine':<9} {'call':<28} {'p50 @%dk' % (small // 1000):>10} {'p50 @%dk' % (size // 1000):>11} {'ratio':>6}  items")
for engine in dict.fromkeys(r["engine"] for r in rows if "size" in r):
    at = {r["size"]: r for r in rows if r.get("engine") == engine and "size" in r}
    a, b = at[small], at[size]
    for c in calls:
        # A ratio only compares answers of the same size.
        ratio = round(b[c]["p50_ms"] / a[c]["p50_ms"], 2) if a[c]["items"] == b[c]["items"] else None
        out["measured"].append({"engine": engine, "call": c, "small": a[c], "large": b[c], "ratio": ratio})
        print(f"{engine:<9} {c:<28} {a[c]['p50_ms']:>8} ms {b[c]['p50_ms']:>8} ms {str(ratio or '—'):>6}  {a[c]['items']} / {b[c]['items']}")
    ratio = round(b["sendmessage_per_s"] / a["sendmessage_per_s"], 2)
    out["measured"].append({"engine": engine, "call": "sendmessage_per_s", "small": a["sendmessage_per_s"], "large": b["sendmessage_per_s"], "ratio": ratio})
    print(f"{engine:<9} {'sendmessage, 64 conn.':<28} {a['sendmessage_per_s']:>8}/s {b['sendmessage_per_s']:>9}/s {ratio:>6}")
for engine in dict.fromkeys(r["engine"] for r in out["soak"]):
    soak = [r for r in out["soak"] if r["engine"] == engine]
    rss = [r["rss_mib"] for r in soak]
    print(f"soak {engine}: RSS {min(rss)}–{max(rss)} MiB (spread {round((max(rss) - min(rss)) / min(rss) * 100, 1)} %), "
          f"p99 per minute {[r['p99_ms'] for r in soak]} ms, errors {sum(r['errors'] for r in soak)}")
json.dump(out, open("bench/scale.json", "w"), indent=1)
PY
