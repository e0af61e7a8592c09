#ifndef CLUASHIM_H
#define CLUASHIM_H

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

/// A Lua-callable function written in Swift. It returns the number of results it pushed,
/// or a negative number after pushing an error message: the trampoline then raises that
/// message as a Lua error once the Swift function has returned, so `lua_error`'s long
/// jump never crosses a Swift frame.
typedef int (*luat_SwiftFunction)(lua_State *L);

/// Pushes `fn` as a Lua function (a C closure over the trampoline).
void luat_pushswiftfunction(lua_State *L, luat_SwiftFunction fn);

// Lua's function-like macros and constant expressions, which Swift cannot import.
static inline int luat_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline int luat_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline void luat_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void luat_newtable(lua_State *L) { lua_newtable(L); }
static inline int luat_pcall(lua_State *L, int nargs, int nresults, int msgh) { return lua_pcall(L, nargs, nresults, msgh); }
static inline void luat_insert(lua_State *L, int idx) { lua_insert(L, idx); }
static inline void luat_remove(lua_State *L, int idx) { lua_remove(L, idx); }
static inline void luat_replace(lua_State *L, int idx) { lua_replace(L, idx); }
static inline lua_Integer luat_tointeger(lua_State *L, int idx) { return lua_tointeger(L, idx); }
static inline lua_Number luat_tonumber(lua_State *L, int idx) { return lua_tonumber(L, idx); }
static inline void *luat_newuserdata(lua_State *L, size_t size) { return lua_newuserdatauv(L, size, 0); }
static inline int luat_getmetatable(lua_State *L, const char *name) { return luaL_getmetatable(L, name); }
static inline int luat_loadbuffer(lua_State *L, const char *buf, size_t size, const char *name) {
    return luaL_loadbufferx(L, buf, size, name, "t");
}
/// Extra space of the main thread (one pointer), copied into every coroutine: where the
/// Swift runtime keeps its context.
static inline void **luat_extraspace(lua_State *L) { return (void **)lua_getextraspace(L); }
static inline int luat_gc_count_kb(lua_State *L) { return lua_gc(L, LUA_GCCOUNT, 0); }
static inline void luat_gc_collect(lua_State *L) { lua_gc(L, LUA_GCCOLLECT, 0); }

#endif
