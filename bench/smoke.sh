#!/usr/bin/env bash
# CI smoke run of the benchmarks: builds the Benchmarks/ package and runs every benchmark
# once on small fixtures. Proves they build and execute; asserts no timing.
set -euo pipefail
cd "$(dirname "$0")/../Benchmarks"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export LUAT_BENCH_SMOKE=1 LUAT_BENCH_DIR="$scratch" LUAT_BENCH_SECONDS=1
swift build -c release --product KVBenchmarks
# Run directly (no host process): every benchmark once, in order; a failure exits non-zero.
"$(swift build -c release --show-bin-path)/KVBenchmarks" >"$scratch/out.txt" 2>&1 \
    || { tail -40 "$scratch/out.txt"; exit 1; }
count=$(grep -c '^ops_per_s:\|^state_kb:' "$scratch/out.txt" || true)
echo "benchmark smoke run: ok ($count benchmarks executed once each)"
