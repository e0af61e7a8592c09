#include "CLuaShim.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

// MARK: budgets

/// The budgets of one state. Owned by the state: made by `luat_newstate`, freed by `luat_close`.
/// Every field but `interrupted` is used on the state's thread only.
struct luat_Budget {
    size_t used;            // bytes the state holds now
    size_t limit;           // refuse growth past this many bytes; 0: no limit
    int enforcing;          // 1 while Lua code runs under a protected call from the host
    int64_t deadline_ns;    // monotonic deadline of the running call; 0: none
    int64_t budget_ms;      // the budget the deadline came from (for the message)
    int exceeded;           // LUAT_BUDGET_* of the last refusal, until taken
    int interrupted;        // set from any thread (atomic): raise at the next hook
};

static int64_t monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *budget_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    luat_Budget *b = (luat_Budget *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        b->used -= old;
        return NULL;
    }
    if (nsize > old && b->limit != 0 && b->enforcing && b->used - old + nsize > b->limit) {
        // Lua collects garbage and tries again, then raises a memory error inside Lua.
        b->exceeded = LUAT_BUDGET_MEMORY;
        return NULL;
    }
    void *block = realloc(ptr, nsize);
    if (block != NULL) b->used = b->used - old + nsize;
    return block;
}

static luat_Budget *budget_of(lua_State *L) {
    void *ud = NULL;
    lua_Alloc f = lua_getallocf(L, &ud);
    return f == budget_alloc ? (luat_Budget *)ud : NULL;
}

/// Raises once the deadline has passed (or the state was interrupted), then on every
/// instruction of the thread that raised: a `pcall` in the script may catch the error, but the
/// next instruction of the function around it raises again, so the error climbs to the host
/// one protected call at a time. Within the budget it puts the count back to its usual value.
static void budget_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    luat_Budget *b = budget_of(L);
    if (b == NULL) return;
    int reason = 0;
    if (__atomic_load_n(&b->interrupted, __ATOMIC_RELAXED)) {
        reason = LUAT_BUDGET_INTERRUPTED;
    } else if (b->deadline_ns != 0 && monotonic_ns() >= b->deadline_ns) {
        reason = LUAT_BUDGET_TIME;
    }
    if (reason == 0) {
        if (lua_gethookcount(L) != LUAT_HOOK_INSTRUCTIONS) {
            lua_sethook(L, budget_hook, LUA_MASKCOUNT, LUAT_HOOK_INSTRUCTIONS);
        }
        return;
    }
    b->exceeded = reason;
    if (lua_gethookcount(L) != 1) lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    // Inside a hook, level 0 is the Lua function that was running (luaL_error would name its caller).
    luaL_where(L, 0);
    if (reason == LUAT_BUDGET_INTERRUPTED) {
        lua_pushliteral(L, "interrupted: the Lua state is shutting down");
    } else {
        lua_pushfstring(L, "time limit exceeded: the code ran longer than %d ms", (int)b->budget_ms);
    }
    lua_concat(L, 2);
    lua_error(L);
}

lua_State *luat_newstate(size_t memory_limit, int time_hook) {
    luat_Budget *b = (luat_Budget *)calloc(1, sizeof(luat_Budget));
    if (b == NULL) return NULL;
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        free(b);
        return NULL;
    }
    // luaL_newstate's allocator is realloc/free too, so blocks made before the switch are
    // freed the same way; they are counted from Lua's own total.
    b->used = (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB, 0);
    b->limit = memory_limit;
    lua_setallocf(L, budget_alloc, b);
    if (time_hook) {
        // Inherited by every coroutine made later.
        lua_sethook(L, budget_hook, LUA_MASKCOUNT, LUAT_HOOK_INSTRUCTIONS);
    }
    return L;
}

void luat_close(lua_State *L) {
    luat_Budget *b = budget_of(L);
    lua_close(L);
    free(b);
}

int luat_budget_begin(lua_State *L, int64_t milliseconds) {
    luat_Budget *b = budget_of(L);
    if (b == NULL || milliseconds <= 0 || b->deadline_ns != 0) return 0;
    b->budget_ms = milliseconds;
    b->deadline_ns = monotonic_ns() + milliseconds * 1000000;
    return 1;
}

void luat_budget_end(lua_State *L) {
    luat_Budget *b = budget_of(L);
    if (b != NULL) b->deadline_ns = 0;
}

int luat_budget_take_exceeded(lua_State *L) {
    luat_Budget *b = budget_of(L);
    if (b == NULL) return 0;
    int reason = b->exceeded;
    b->exceeded = 0;
    return reason;
}

void luat_interrupt(lua_State *L, int on) {
    luat_Budget *b = budget_of(L);
    if (b != NULL) __atomic_store_n(&b->interrupted, on, __ATOMIC_RELAXED);
}

size_t luat_memory_used(lua_State *L) {
    luat_Budget *b = budget_of(L);
    return b ? b->used : 0;
}

size_t luat_memory_limit(lua_State *L) {
    luat_Budget *b = budget_of(L);
    return b ? b->limit : 0;
}

int luat_pcall(lua_State *L, int nargs, int nresults, int msgh) {
    luat_Budget *b = budget_of(L);
    if (b == NULL) return lua_pcall(L, nargs, nresults, msgh);
    int saved = b->enforcing;
    b->enforcing = 1;
    int status = lua_pcall(L, nargs, nresults, msgh);
    b->enforcing = saved;
    return status;
}

// MARK: message handler

int luat_msghandler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL || lua_type(L, 1) != LUA_TSTRING) {
        if (lua_type(L, 1) == LUA_TNUMBER) {
            msg = lua_tostring(L, 1);
        } else if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
            msg = lua_tostring(L, -1);
        } else {
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
        }
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

// MARK: Swift functions

static int luat_trampoline(lua_State *L) {
    luat_SwiftFunction fn = (luat_SwiftFunction)lua_touserdata(L, lua_upvalueindex(1));
    // Swift code allocates through the API outside any budget check: a refusal there would
    // raise a memory error across Swift frames. The budget applies again once it returns.
    luat_Budget *b = budget_of(L);
    int saved = 0;
    if (b != NULL) {
        saved = b->enforcing;
        b->enforcing = 0;
    }
    int results = fn(L);
    if (b != NULL) b->enforcing = saved;
    if (results < 0) {
        return lua_error(L); // the message is on top of the stack; Swift has returned
    }
    return results;
}

void luat_pushswiftfunction(lua_State *L, luat_SwiftFunction fn) {
    lua_pushlightuserdata(L, (void *)fn);
    lua_pushcclosure(L, luat_trampoline, 1);
}
