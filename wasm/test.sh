#!/usr/bin/env bash
# Builds the WASM engine when needed, then runs its tests under node (wasm/test/*.test.mjs,
# including the headless-Chromium demo test). Ends with `N passed, N failed`; exits non-zero
# when a test failed. Usage: bash wasm/test.sh [name filter]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

if ! command -v node >/dev/null 2>&1; then
    echo "wasm/test: node is required (node 18 or newer)" >&2
    exit 1
fi
# Chromium for the demo test (Debian's package).
if ! command -v chromium >/dev/null 2>&1 && [[ -z "${LUAT_SKIP_BROWSER:-}" ]]; then
    echo "wasm/test: installing chromium"
    if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
        || { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends chromium >/dev/null; }
fi

bash "$here/build.sh"
node "$here/test/run.mjs" "$@"
