/* Forced into every Lua C file of the WASM build (clang -include): what WASI lacks. */
#ifndef LUAT_LUA_WASM_H
#define LUAT_LUA_WASM_H
/* No temporary file names on WASI: os.tmpname() fails with Lua's usual error. */
#define LUA_TMPNAMBUFSIZE 32
#define lua_tmpnam(b, e) { (b)[0] = '\0'; e = 1; }
/* No signals on WASI (and no use for them: nothing interrupts a running script). */
#define l_signalT int
#endif
