/* Debian's luaconf.h includes this for its C module paths; there are no C modules in WASM. */
#ifndef _LUA_DEB_MULTIARCH_
#define _LUA_DEB_MULTIARCH_
#define DEB_HOST_MULTIARCH "wasm32-wasi"
#endif
