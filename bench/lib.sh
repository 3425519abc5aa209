# Shared by bench/delivery.sh and bench/webhooks.sh (sourced): a release chatgate pinned to core 0 on
# $PORT, and a helper (fake platform or webhook receiver) on core 1. Expects PORT, BASE, WORK, BIN.

SERVER=""
start_server() { # env assignments…
  env "$@" CHATGATE_LISTEN="127.0.0.1:$PORT" taskset -c 0 "$BIN" serve 2>"$WORK/server.log" & SERVER=$!
  for _ in $(seq 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.05; done
}
stop_server() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""; }
wait_accepted() { # stats URL, count, timeout seconds: until the helper has accepted count requests
  for _ in $(seq $(($3 * 10))); do
    n=$(curl -sf "$1/stats" | python3 -c 'import sys,json; print(json.load(sys.stdin)["accepted"])')
    [ "$n" -ge "$2" ] && return 0; sleep 0.1
  done
  echo "only $n of $2 arrived" >&2; return 1
}
