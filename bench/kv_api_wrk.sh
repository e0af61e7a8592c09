#!/usr/bin/env bash
# Request rate of GET .../values/KEY over the KV REST API against a Lua route doing the same
# `kv:get`, in one run of one `luat serve` (SQLite store, loopback, wrk from Debian).
# Bounded: LUAT_WRK_SECONDS (default 10) per side, 2 threads, 16 connections.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${LUAT_WRK_SECONDS:-10}"
luat="${LUAT_BIN:-.build/release/luat}"
[[ -x "$luat" ]] || { echo "build it first: swift build -c release --product luat" >&2; exit 1; }
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }

project=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$project"' EXIT
mkdir -p "$project/src/routes/get"
: > "$project/luat.toml"
cat > "$project/src/routes/get/+server.lua" <<'LUA'
function GET(ctx)
  return { status = 200, body = KV.namespace("bench"):get("greeting") }
LUA
echo "end" >> "$project/src/routes/get/+server.lua"

token="bench-$RANDOM$RANDOM"
LUAT_KV_API_TOKEN="$token" "$luat" serve "$project" --port 0 --no-access-log > "$project/out.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "running at" "$project/out.log" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*running at http:\/\/127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' "$project/out.log" | head -1)
[[ -n "$port" ]] || { cat "$project/out.log"; exit 1; }
api="http://127.0.0.1:$port/client/v4/accounts/bench/storage/kv/namespaces/$(printf bench | od -An -tx1 | tr -d ' \n')/values/greeting"
curl -sf -X PUT -H "Authorization: Bearer $token" --data-binary "hello, world" "$api" > /dev/null
[[ "$(curl -sf -H "Authorization: Bearer $token" "$api")" == "hello, world" ]]
[[ "$(curl -sf "http://127.0.0.1:$port/get")" == "hello, world" ]]

rate() { wrk -t2 -c16 -d"${seconds}s" "$@" | awk '/Requests\/sec/ {print $2}'; }
rest=$(rate -H "Authorization: Bearer $token" "$api")
lua=$(rate "http://127.0.0.1:$port/get")
echo "GET .../values/KEY over REST: $rest req/s"
echo "Lua route kv:get:             $lua req/s"
awk -v r="$rest" -v l="$lua" 'BEGIN { printf "REST / Lua: %.2f\n", r / l }'
