import CLuaShim

/// The safe standard library (`LuaLimits.Library.safe`) that route code gets in `luat serve`:
/// what could end the process, spawn one, load native code or binary chunks, read the
/// process environment, switch off the garbage collector, or change state every request of
/// the Lua state shares, is taken away; the rest is Lua's own. docs/lua-runtime.md lists it.
///
/// - `os`: `time`, `clock`, `date`, `difftime` only (no `exit`, `execute`, `getenv`,
///   `remove`, `rename`, `tmpname`, `setlocale`).
/// - `io`: no `popen` (files can still be opened).
/// - `load` takes text chunks only; `loadfile`, `dofile` and `package.loadlib` are gone.
/// - `debug`: `traceback` and `getinfo` only.
/// - `collectgarbage`: `collect`, `count`, `step`, `isrunning`.
/// - Shared metatables (strings' and KV namespaces'; `ctx.headers`' in `luat serve`) are
///   protected: `getmetatable` returns false for them. (Those of JSON objects and arrays are
///   not: scripts may give a decoded table a metatable of their own.)
enum SafeLibrary {
    static let source = """
    local string_mt = getmetatable("")
    string_mt.__metatable = false
    local kept_os = { time = os.time, clock = os.clock, date = os.date, difftime = os.difftime }
    for name in pairs(os) do os[name] = kept_os[name] end
    io.popen = nil
    local base_load, select, error, type = load, select, error, type
    load = function(chunk, name, mode, ...)
        if mode ~= nil and mode ~= "t" then
            error("load: only text chunks can be loaded (mode \\"t\\")", 2)
        end
        return base_load(chunk, name, "t", ...)
    end
    loadfile, dofile = nil, nil
    package.loadlib, package.cpath = nil, ""
    local traceback, getinfo = debug.traceback, debug.getinfo
    for name in pairs(debug) do debug[name] = nil end
    debug.traceback, debug.getinfo = traceback, getinfo
    local base_collect = collectgarbage
    local allowed = { collect = true, count = true, step = true, isrunning = true }
    collectgarbage = function(option, ...)
        option = option or "collect"
        if not allowed[option] then
            error("collectgarbage: option \\"" .. tostring(option) .. "\\" is not available to route code", 2)
        end
        return base_collect(option, ...)
    end
    """

    /// Applies the safe library to the globals of `L` (once, after the standard libraries
    /// and Luat's globals are installed).
    static func install(_ L: LuaStatePointer) throws(LuaError) {
        guard LuaStack.runInternal(L, source, name: "[luat safe library]", results: 0) else {
            throw LuaError("cannot install the safe library: " + (LuaStack.string(L, -1) ?? "?"))
        }
    }
}
