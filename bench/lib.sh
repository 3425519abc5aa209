# Shared by the benchmark scripts (sourced): a release chatgate pinned to core 0 on $PORT, and a helper
# (fake platform, webhook receiver, load driver) on core 1. Expects PORT, BASE, WORK, BIN (or
# `prepare_release` to set BIN, DRIVER and WORK).

# The tools, the release build of the server and the load driver, and a scratch directory.
prepare_release() {
  for tool in taskset curl python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "installing $tool…" >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq util-linux curl >/dev/null
    fi
  done
  cargo build --release --quiet --bin chatgate --example delivery
  BIN=target/release/chatgate
  DRIVER=target/release/examples/delivery
  WORK=$(mktemp -d)
}

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
