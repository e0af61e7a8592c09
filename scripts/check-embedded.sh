#!/usr/bin/env bash
# Proves the modules the WASM engine shares with the native build still compile under
# Embedded Swift for wasm32 (no Foundation, no untyped throws, no non-class existentials):
# KVCore, LuaRuntime (the Lua binding) and LuatRouting (the response rules of `luat serve`).
#
# LuaRuntime imports Lua's C API through Sources/CLuaShim: its headers are Debian's
# liblua5.4-dev ones (/usr/include/lua5.4, installed by scripts/setup.sh), read with
# wasi-libc's headers (Debian's wasi-libc, installed here when missing) and the wasm
# stand-ins of wasm/runtime/include. Nothing is linked: wasm/build.sh builds the real module.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

embedded=(swiftc -target wasm32-unknown-none-wasm -enable-experimental-feature Embedded -wmo -parse-as-library)

"${embedded[@]}" -module-name KVCore -emit-module -emit-module-path "$out/KVCore.swiftmodule" \
    -c Sources/KVCore/*.swift -o "$out/KVCore.o"
echo "KVCore compiles under Embedded Swift (wasm32): ok"

lua_headers=/usr/include/lua5.4
if [[ ! -f /usr/include/wasm32-wasi/stdio.h ]]; then
    echo "check-embedded: installing wasi-libc (C headers for wasm32)"
    if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y --no-install-recommends wasi-libc >/dev/null 2>&1 \
        || { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends wasi-libc >/dev/null; }
fi
[[ -f "$lua_headers/lua.h" ]] || { echo "check-embedded: Lua headers missing ($lua_headers/lua.h): run scripts/setup.sh" >&2; exit 1; }

mkdir -p "$out/modules/CLuaShim"
cat > "$out/modules/CLuaShim/module.modulemap" <<MAP
module CLuaShim {
    header "$root/Sources/CLuaShim/include/CLuaShim.h"
    export *
}
MAP
c_flags=(-Xfrontend -disable-stack-protector -Xcc -D__wasi__
         -Xcc -isystem -Xcc "$root/wasm/runtime/include" -Xcc -isystem -Xcc /usr/include/wasm32-wasi
         -Xcc -I -Xcc "$lua_headers" -I "$out/modules" -I "$out")

"${embedded[@]}" "${c_flags[@]}" -module-name LuaRuntime -emit-module -emit-module-path "$out/LuaRuntime.swiftmodule" \
    -c Sources/LuaRuntime/*.swift -o "$out/LuaRuntime.o"
echo "LuaRuntime compiles under Embedded Swift (wasm32): ok"

"${embedded[@]}" "${c_flags[@]}" -module-name LuatRouting -emit-module -emit-module-path "$out/LuatRouting.swiftmodule" \
    -c Sources/LuatRouting/*.swift -o "$out/LuatRouting.o"
echo "LuatRouting compiles under Embedded Swift (wasm32): ok"
