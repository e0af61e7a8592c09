#!/usr/bin/env bash
# Proves the KV core still compiles under Embedded Swift for WASM (no Foundation,
# no untyped throws, no non-class existentials), as the WASM engine needs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
swiftc -target wasm32-unknown-none-wasm -enable-experimental-feature Embedded -wmo -parse-as-library \
    -module-name KVCore -c Sources/KVCore/*.swift -o "$out/KVCore.o"
echo "KVCore compiles under Embedded Swift (wasm32): ok"
