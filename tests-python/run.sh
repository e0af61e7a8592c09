#!/usr/bin/env bash
# The KV REST API against the official Cloudflare Python SDK and the KV browser page in
# headless Chromium, each against a real `luat serve` on a loopback port. Makes its own venv.
# Needs the luat binary (.build/debug/luat, or $LUAT_BIN) and Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")"
venv="${LUAT_PY_VENV:-${TMPDIR:-/tmp}/luat-tests-python-venv}"
if [[ ! -x "$venv/bin/pytest" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "cloudflare==5.9.0" "pytest==9.2.0" "websockets==17.4"
fi
if ! command -v chromium >/dev/null 2>&1; then
    echo "tests-python: installing chromium"
    if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
        || { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends chromium >/dev/null; }
fi
[[ -x "${LUAT_BIN:-../.build/debug/luat}" ]] || (cd .. && swift build --product luat)
"$venv/bin/pytest" -q -p no:cacheprovider "$@" .
