// Debian's liblua5.4-dev: pkg-config `lua5.4` puts its include folder on the path.
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
