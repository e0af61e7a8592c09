#!/usr/bin/env bash
# Builds wasm/out/luat.wasm: Lua 5.4 (C, from Debian's source package) + the KV core, the
# Lua runtime and the routing rules of `luat serve` (the same Swift sources as the native
# build, compiled with Embedded Swift) + the WASM entry points in wasm/Sources/LuatWasm. Run from anywhere; rebuilds what changed.
#
#   bash wasm/build.sh            # build (installs missing Debian packages first)
#   LUAT_SRC=/path bash wasm/build.sh   # take Sources/ from another checkout (for development)
#
# Needs: the Swift toolchain with the Embedded stdlib for wasm32 (swiftc on PATH, or
# SWIFT_TOOLCHAIN=/opt/swift/usr), Debian's wasi-libc and libclang-rt-*-dev-wasm32.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
src="${LUAT_SRC:-$root}/Sources"
out="$here/out"
obj="$out/obj"

log() { echo "wasm/build: $*"; }

# --- toolchain -------------------------------------------------------------------------------
if [[ -n "${SWIFT_TOOLCHAIN:-}" ]]; then
    bin="$SWIFT_TOOLCHAIN/bin"
elif command -v swiftc >/dev/null 2>&1; then
    bin="$(dirname "$(readlink -f "$(command -v swiftc)")")"
elif [[ -x /opt/swift/usr/bin/swiftc ]]; then
    bin=/opt/swift/usr/bin
else
    echo "wasm/build: no Swift toolchain found (put swiftc on PATH or set SWIFT_TOOLCHAIN)" >&2
    exit 1
fi
swiftc="$bin/swiftc"
clang="$bin/clang"
wasm_ld="$bin/wasm-ld"
embedded_lib="$(dirname "$bin")/lib/swift/embedded/wasm32-unknown-none-wasm"
for tool in "$swiftc" "$clang" "$wasm_ld"; do
    [[ -x "$tool" ]] || { echo "wasm/build: missing $tool" >&2; exit 1; }
done
[[ -d "$embedded_lib" ]] || { echo "wasm/build: this toolchain has no Embedded Swift stdlib for wasm32 ($embedded_lib)" >&2; exit 1; }

# --- Debian packages -------------------------------------------------------------------------
need=()
[[ -f /usr/lib/wasm32-wasi/libc.a ]] || need+=(wasi-libc)
builtins="$(ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a 2>/dev/null | sort -V | tail -n1 || true)"
if [[ -z "$builtins" ]]; then
    # compiler-rt's wasm32 builtins: version 19 (tried with this toolchain), else the newest
    # libclang-rt-N-dev-wasm32 the archive has.
    if apt-cache show libclang-rt-19-dev-wasm32 >/dev/null 2>&1; then pkg=libclang-rt-19-dev-wasm32; else
        pkg="$(apt-cache search --names-only '^libclang-rt-[0-9]+-dev-wasm32$' 2>/dev/null | awk '{print $1}' | sort -V | tail -n1 || true)"
    fi
    need+=("${pkg:-libclang-rt-19-dev-wasm32}")
fi
command -v dpkg-source >/dev/null 2>&1 || need+=(dpkg-dev)
[[ "${LUAT_WASM_OPT:-1}" == 0 ]] || command -v wasm-opt >/dev/null 2>&1 || need+=(binaryen)
if ((${#need[@]})); then
    log "installing ${need[*]}"
    if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
        || { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; }
    builtins="$(ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a | sort -V | tail -n1)"
fi

# --- Lua sources -----------------------------------------------------------------------------
bash "$here/fetch-lua.sh"
lua="$here/.lua-src/lua/src"

mkdir -p "$obj/lua" "$obj/c" "$obj/swift" "$out/modules"

# --- C: Lua, the Lua shim, the runtime helpers -----------------------------------------------
cflags=(--target=wasm32-wasi -nostdlibinc -isystem "$here/runtime/include" -isystem /usr/include/wasm32-wasi
        -O2 -mllvm -wasm-enable-sjlj -D_WASI_EMULATED_PROCESS_CLOCKS -fvisibility=hidden)

compile_c() { # source object [extra flags...]
    local source="$1" object="$2"; shift 2
    if [[ ! -f "$object" || "$source" -nt "$object" || "$here/runtime/include/luat_lua_wasm.h" -nt "$object" ]]; then
        "$clang" "${cflags[@]}" "$@" -c "$source" -o "$object"
    fi
}

lua_units=(lapi lcode lctype ldebug ldo ldump lfunc lgc llex lmem lobject lopcodes lparser lstate
           lstring ltable ltm lundump lvm lzio lauxlib lbaselib lcorolib ldblib liolib lmathlib
           loadlib loslib lstrlib ltablib lutf8lib linit)
log "compiling Lua ($(basename "$(readlink -f "$lua/..")"))"
for unit in "${lua_units[@]}"; do
    compile_c "$lua/$unit.c" "$obj/lua/$unit.o" -include luat_lua_wasm.h -Wno-deprecated-declarations &
    while (( $(jobs -rp | wc -l) >= 2 )); do wait -n; done
done
wait

compile_c "$here/runtime/sjlj.c" "$obj/c/sjlj.o"
compile_c "$here/runtime/wasi_stubs.c" "$obj/c/wasi_stubs.o"
compile_c "$here/runtime/host.c" "$obj/c/host.o" -I "$here/runtime/include"
compile_c "$src/CLuaShim/CLuaShim.c" "$obj/c/CLuaShim.o" -I "$lua" -I "$src/CLuaShim/include"

# Module maps that let Swift import the shim over the fetched Lua headers.
mkdir -p "$out/modules/CLuaShim"
cat > "$out/modules/CLuaShim/module.modulemap" <<EOF
module CLuaShim {
    header "$src/CLuaShim/include/CLuaShim.h"
    export *
}
EOF

# --- Swift: KVCore, LuaRuntime, LuatRouting, LuatWasm (Embedded Swift, whole-module) ---------
swiftflags=(-target wasm32-unknown-none-wasm -enable-experimental-feature Embedded -wmo -parse-as-library
            -Osize -Xfrontend -disable-stack-protector -Xcc -D__wasi__
            -Xcc -isystem -Xcc "$here/runtime/include" -Xcc -isystem -Xcc /usr/include/wasm32-wasi
            -Xcc -I -Xcc "$lua" -I "$obj/swift" -I "$out/modules" -I "$here/runtime")

compile_swift() { # module "upstream modules" sources...
    local module="$1" upstream="$2"; shift 2
    local object="$obj/swift/$module.o" stale=0
    if [[ ! -f "$object" ]]; then stale=1; else
        for f in "$@" "$here/build.sh"; do [[ "$f" -nt "$object" ]] && stale=1; done
        for m in $upstream; do [[ "$obj/swift/$m.o" -nt "$object" ]] && stale=1; done
    fi
    if ((stale)); then
        log "compiling Swift module $module"
        "$swiftc" "${swiftflags[@]}" -module-name "$module" -emit-module -emit-module-path "$obj/swift/$module.swiftmodule" \
            -c "$@" -o "$object"
    fi
}

compile_swift KVCore "" "$src"/KVCore/*.swift
compile_swift LuaRuntime "KVCore" "$src"/LuaRuntime/*.swift
compile_swift LuatRouting "KVCore LuaRuntime" "$src"/LuatRouting/*.swift
compile_swift LuatWasm "KVCore LuaRuntime LuatRouting" "$here"/Sources/LuatWasm/*.swift

# --- link ------------------------------------------------------------------------------------
exports=(luat_init luat_alloc luat_free luat_call luat_result_ptr luat_result_len)
export_flags=()
for e in "${exports[@]}"; do export_flags+=("--export=$e"); done

log "linking luat.wasm"
"$wasm_ld" --no-entry --gc-sections "${export_flags[@]}" \
    -z stack-size=1048576 --initial-memory=4194304 \
    /usr/lib/wasm32-wasi/crt1-reactor.o \
    "$obj"/swift/*.o "$obj"/c/*.o "$obj"/lua/*.o \
    "$embedded_lib/libswiftUnicodeDataTables.a" \
    -L/usr/lib/wasm32-wasi -lc -lwasi-emulated-process-clocks "$builtins" \
    -o "$obj/luat.linked.wasm"

# Size: binaryen's wasm-opt (Debian's binaryen) when available; LUAT_WASM_OPT=0 skips it.
if [[ "${LUAT_WASM_OPT:-1}" != 0 ]] && command -v wasm-opt >/dev/null 2>&1; then
    wasm-opt -Oz --strip-debug --strip-producers --detect-features "$obj/luat.linked.wasm" -o "$out/luat.wasm"
else
    cp "$obj/luat.linked.wasm" "$out/luat.wasm"
fi

# A distributable pair: out/luat.mjs loads out/luat.wasm next to it.
sed "s#^const DEFAULT_WASM = .*#const DEFAULT_WASM = './luat.wasm';#" "$here/luat.mjs" > "$out/luat.mjs"

size=$(stat -c %s "$out/luat.wasm")
gz=$(gzip -9 -c "$out/luat.wasm" | wc -c)
log "wrote wasm/out/luat.wasm ($size bytes, $gz gzipped) and wasm/out/luat.mjs"
