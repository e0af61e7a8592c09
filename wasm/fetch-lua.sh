#!/usr/bin/env bash
# Fetches Lua 5.4's C sources from Debian's source package into wasm/.lua-src/ (ignored by git).
# Uses a private apt configuration under wasm/.lua-src/apt/ whose deb-src lines are derived
# from the system's own `deb` sources; the system's apt setup is never modified.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="$here/.lua-src"
if [[ -f "$dest/lua/src/lua.h" ]]; then exit 0; fi

apt_dir="$dest/apt"
rm -rf "$apt_dir" "$dest/download" "$dest/lua"
mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$dest/download"

# deb-src versions of every enabled deb source of the system.
if [[ -f /etc/apt/sources.list ]]; then
    grep -E '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list | sed -E 's/^[[:space:]]*deb[[:space:]]/deb-src /' \
        > "$apt_dir/sources.list.d/system-src.list" || true
fi
for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    sed -E 's/^Types:.*$/Types: deb-src/' "$f" > "$apt_dir/sources.list.d/$(basename "$f")"
done
for f in /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    grep -E '^[[:space:]]*deb[[:space:]]' "$f" | sed -E 's/^[[:space:]]*deb[[:space:]]/deb-src /' \
        > "$apt_dir/sources.list.d/$(basename "$f")" || true
done

apt_opts=(
    -o "Dir::Etc::SourceList=/dev/null"
    -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::Cache=$apt_dir/cache"
    -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
    -o "APT::Sandbox::User=root"
)
echo "fetch-lua: updating the private deb-src index"
apt-get "${apt_opts[@]}" update >"$dest/apt-update.log" 2>&1 || { cat "$dest/apt-update.log" >&2; exit 1; }
echo "fetch-lua: downloading the lua5.4 source package"
(cd "$dest/download" && apt-get "${apt_opts[@]}" source --download-only lua5.4 >"$dest/apt-source.log" 2>&1) \
    || { cat "$dest/apt-source.log" >&2; exit 1; }

dsc=$(ls "$dest/download"/lua5.4_*.dsc | head -n1)
if command -v dpkg-source >/dev/null 2>&1; then
    # Debian's patches applied (its CVE fixes included): the same Lua as the native liblua5.4.
    (cd "$dest" && dpkg-source --no-check -x "$dsc" lua >"$dest/dpkg-source.log" 2>&1) \
        || { cat "$dest/dpkg-source.log" >&2; exit 1; }
else
    orig=$(ls "$dest/download"/lua5.4_*.orig.tar.* | head -n1)
    mkdir -p "$dest/unpack"
    tar -xf "$orig" -C "$dest/unpack"
    mv "$(find "$dest/unpack" -mindepth 1 -maxdepth 1 -type d | head -n1)" "$dest/lua"
    rm -rf "$dest/unpack"
fi
test -f "$dest/lua/src/lua.h"
echo "fetch-lua: Lua sources in $dest/lua ($(basename "$dsc"))"
