#include "CLuaShim.h"

static int luat_trampoline(lua_State *L) {
    luat_SwiftFunction fn = (luat_SwiftFunction)lua_touserdata(L, lua_upvalueindex(1));
    int results = fn(L);
    if (results < 0) {
        return lua_error(L); // the message is on top of the stack; Swift has returned
    }
    return results;
}

void luat_pushswiftfunction(lua_State *L, luat_SwiftFunction fn) {
    lua_pushlightuserdata(L, (void *)fn);
    lua_pushcclosure(L, luat_trampoline, 1);
}
