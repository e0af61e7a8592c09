#ifndef CLUASHIM_H
#define CLUASHIM_H

#include <stddef.h>
#include <stdint.h>
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

// MARK: budgets

/// What a state ran out of (`luat_budget_take_exceeded`).
#define LUAT_BUDGET_TIME 1
#define LUAT_BUDGET_MEMORY 2
#define LUAT_BUDGET_INTERRUPTED 3
/// Lua instructions between two checks of the deadline.
#define LUAT_HOOK_INSTRUCTIONS 1000

/// The budgets of one state (private to the shim).
typedef struct luat_Budget luat_Budget;

/// A state with Lua's standard allocator wrapped in a budget of `memory_limit` bytes (0: no
/// limit) and, when `time_hook` is not 0, a count hook that raises a Lua error once the
/// deadline of `luat_budget_begin` has passed or `luat_interrupt` was called. Close it with
/// `luat_close`.
///
/// The memory limit is enforced only while Lua code runs under `luat_pcall`, never inside a
/// Swift function (the trampoline lifts it) nor in API calls made from Swift outside a
/// protected call: a refused allocation raises a memory error, and Lua's long jump must
/// never cross a Swift frame. Lua collects garbage before it gives up.
lua_State *luat_newstate(size_t memory_limit, int time_hook);
/// Closes a state made by `luat_newstate` and frees its budget.
void luat_close(lua_State *L);
/// Starts a deadline `milliseconds` from now; returns 0 (and changes nothing) when one is
/// already running, the state has no budget or `milliseconds` is not positive.
int luat_budget_begin(lua_State *L, int64_t milliseconds);
/// Ends the running deadline.
void luat_budget_end(lua_State *L);
/// The `LUAT_BUDGET_*` of the last budget that raised an error (0: none), and forgets it.
int luat_budget_take_exceeded(lua_State *L);
/// From any thread: `on` != 0 makes the running code (and any later code) raise an error at
/// its next hook; 0 lets it run again. Needs a state made with `time_hook`.
void luat_interrupt(lua_State *L, int on);
/// Bytes the state holds now, and its limit (0: none).
size_t luat_memory_used(lua_State *L);
size_t luat_memory_limit(lua_State *L);
/// The message handler of every protected call from the host: the error value as text (a
/// number, or what `__tostring` gives; other values are named by type), then Lua's stack
/// traceback from the function that raised. Written in C so that it runs no Lua instruction:
/// a budget that ran out cannot fail it.
int luat_msghandler(lua_State *L);
/// `lua_pcall`, with the state's memory limit enforced while it runs.
int luat_pcall(lua_State *L, int nargs, int nresults, int msgh);

// Lua's function-like macros and constant expressions, which Swift cannot import.
static inline int luat_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline int luat_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline void luat_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void luat_newtable(lua_State *L) { lua_newtable(L); }
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
