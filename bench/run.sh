#!/usr/bin/env bash
# The performance suite of issue 7: every target as a ratio against a baseline measured in
# the same run, one line each: `NAME ratio=R (ours X / baseline Y)`, plus rss_mb, state_kb
# and startup_ms. Bounded in time (under 15 minutes, build included); loopback only.
#
#   bench/run.sh                 # everything
#
# Settings (environment):
#   LUAT_BENCH_ROUNDS=3          rounds of the KV benchmarks (the median ratio is reported)
#   LUAT_BENCH_SECONDS=1         seconds per KV benchmark and round
#   LUAT_BENCH_GROWTH_CALLS=10000000   kv:get calls of the memory-growth check
#   LUAT_BENCH_HTTP_SECONDS=8    seconds per wrk run (3 rounds, interleaved)
#   LUAT_BENCH_LOAD_SECONDS=60   mixed load before reading rss_mb (shortened to fit the bound)
#   LUAT_BENCH_DEADLINE=870      seconds the whole run may take
#   LUAT_BENCH_OUT=DIR           where results go (default .build-bench/results/TIMESTAMP)
#   LUAT_BENCH_ONLY=http         only the HTTP comparison (target 5, issue 15): builds luat and
#                                the two hello-worlds, prints the http_* lines (~3 min warm)
#   LUAT_BENCH_ONLY=hello        only nginx against the Hummingbird and SwiftNIO hello-worlds
#                                (http_hello, http_nio_hello; no luat build)
#   LUAT_BENCH_BEFORE=PATH       an older luat binary, measured in the same HTTP rounds
#                                (http_before_sqlite, http_before_memory)
#   LUAT_BENCH_ONLY=increment    only the counter benchmarks (issue 14): increment against put
#                                of a new value, and 64 writers on one key
#   LUAT_BENCH_ONLY=disk         only the disk use per value size (issue 11): builds luat,
#                                prints the disk_ratio_* lines (~3 min)
#   LUAT_BENCH_DISK_SCALE=1      fraction of the disk benchmark's entries (0.1 for a quick look)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
start=$(date +%s)
deadline=$((start + ${LUAT_BENCH_DEADLINE:-870}))
left() { echo $((deadline - $(date +%s))); }

rounds=${LUAT_BENCH_ROUNDS:-3}
only=${LUAT_BENCH_ONLY:-}
case "$only" in ""|http|hello|disk|increment) ;; *) echo "LUAT_BENCH_ONLY: unknown part '$only' (known: http, hello, disk, increment)"; exit 2 ;; esac
http_seconds=${LUAT_BENCH_HTTP_SECONDS:-8}
load_seconds=${LUAT_BENCH_LOAD_SECONDS:-60}
export LUAT_BENCH_SECONDS=${LUAT_BENCH_SECONDS:-1}
export LUAT_BENCH_GROWTH_CALLS=${LUAT_BENCH_GROWTH_CALLS:-10000000}
export LUAT_BENCH_DIR=${LUAT_BENCH_DIR:-$root/.build-bench/fixtures}
out=${LUAT_BENCH_OUT:-$root/.build-bench/results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out" "$LUAT_BENCH_DIR"
log="$out/run.log"
echo "bench/run.sh: results in $out"

# --- tools -----------------------------------------------------------------------------
bash scripts/setup.sh >>"$log" 2>&1
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || missing+=(nginx)
[ -f /usr/share/nginx/modules/ngx_http_lua_module.so ] || missing+=(libnginx-mod-http-lua)
if ((${#missing[@]})); then
    echo "Installing ${missing[*]}"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq >>"$log" 2>&1
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >>"$log" 2>&1
fi

# --- build (one build folder: the benchmarks, luat and the two hello-worlds) -------------
echo "Building (release)..."
(cd Benchmarks && { [ -n "$only" ] && [ "$only" != increment ] || swift build -c release --product KVBenchmarks >>"$log" 2>&1; } \
    && { [ "$only" = disk ] || [ "$only" = increment ] || swift build -c release --product HelloHummingbird >>"$log" 2>&1; } \
    && { [ "$only" = disk ] || [ "$only" = increment ] || swift build -c release --product HelloNIO >>"$log" 2>&1; } \
    && { [ "$only" = hello ] || [ "$only" = increment ] || swift build -c release --product luat >>"$log" 2>&1; }) || { tail -30 "$log"; exit 1; }
bin=$(cd Benchmarks && swift build -c release --show-bin-path)
echo "  built in $(($(date +%s) - start)) s"

if [ "$only" = increment ]; then
    for r in $(seq 1 "$rounds"); do
        echo "Counter benchmarks, round $r/$rounds..."
        (cd Benchmarks && swift package --disable-sandbox benchmark --no-progress --filter 'increment_.*' \
            --format histogramPercentiles --path "$out/round-$r" >>"$log" 2>&1) || { tail -30 "$log"; exit 1; }
    done
    echo
    echo "== issue 14, counters only ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(($(date +%s) - start)) s) =="
    python3 bench/report.py "$out" | grep -E '^increment' | tee "$out/summary.txt"
    exit 0
fi

if [ "$only" = http ] || [ "$only" = hello ]; then
    luat="$bin/luat"
    [ "$only" = hello ] && luat=-
    echo "HTTP: luat serve (SQLite, memory) and the hello-worlds vs nginx + lua shared dict, wrk -t2 -c64, ${http_seconds} s x 3 rounds..."
    python3 bench/servers.py http "$out" "$luat" "$http_seconds" 3 "$bin/HelloHummingbird" "$bin/HelloNIO"
    echo
    echo "== issue 7/15, HTTP only ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(($(date +%s) - start)) s) =="
    python3 bench/report.py "$out" | grep -E '^(http_|  \(reference)' | tee "$out/summary.txt"
    exit 0
fi

if [ "$only" = disk ]; then
    echo "Disk: kv.db bytes / data bytes per value size after luat kv import..."
    python3 bench/disk.py "$out" "$bin/luat"
    echo
    echo "== issue 11, disk only =="
    python3 bench/report.py "$out" | grep -E '^disk_ratio' | tee "$out/summary.txt"
    exit 0
fi

# --- KV benchmarks (targets 1-4, 6) ------------------------------------------------------
for r in $(seq 1 "$rounds"); do
    if ((r > 1 && $(left) < 420)); then echo "  (skipping KV round $r to stay within the time bound)"; break; fi
    # backend_*: the per-backend costs, measured on demand only (BackendCost.swift)
    skip=(--skip 'backend_.*')
    # state size and memory growth: once, in the first round
    ((r > 1)) && skip+=(--skip 'state_kb' --skip 'kv_get_memory_growth')
    echo "KV benchmarks, round $r/$rounds..."
    (cd Benchmarks && swift package --disable-sandbox benchmark --no-progress \
        --format histogramPercentiles --path "$out/round-$r" "${skip[@]}" >>"$log" 2>&1) \
        || { tail -30 "$log"; exit 1; }
done
depth_db=$(ls -t "$LUAT_BENCH_DIR"/depth-*.db | head -1)

# --- HTTP (target 5) -------------------------------------------------------------------------
echo "HTTP: luat serve (SQLite, memory) vs nginx + lua shared dict, wrk -t2 -c64, ${http_seconds} s x 3 rounds..."
python3 bench/servers.py http "$out" "$bin/luat" "$http_seconds" 3 "$bin/HelloHummingbird" "$bin/HelloNIO" || echo "  HTTP measurement failed (see above)"

# --- memory (target 6) -------------------------------------------------------------------
budget=$(($(left) - 60))
if ((budget < load_seconds)); then
    load_seconds=$((budget > 10 ? budget : 10))
    echo "  (mixed load shortened to ${load_seconds} s to stay within the time bound)"
fi
echo "Memory: luat serve on 1,000,000 keys after ${load_seconds} s of mixed load..."
python3 bench/servers.py memory "$out" "$bin/luat" "$depth_db" "$load_seconds" || echo "  memory measurement failed"

# --- disk (issue 11) -----------------------------------------------------------------------
if (($(left) > 240)); then
    echo "Disk: kv.db bytes / data bytes per value size after luat kv import..."
    python3 bench/disk.py "$out" "$bin/luat" || echo "  disk measurement failed"
else
    echo "  (skipping the disk measurement to stay within the time bound)"
fi

# --- start-up (target 7) -------------------------------------------------------------------
echo "Start-up: first response after launch, luat serve vs Hummingbird hello-world..."
python3 bench/servers.py startup "$out" "$bin/luat" "$bin/HelloHummingbird" 5 || echo "  start-up measurement failed"

echo
echo "== issue 7 targets ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(($(date +%s) - start)) s) =="
python3 bench/report.py "$out" | tee "$out/summary.txt"
