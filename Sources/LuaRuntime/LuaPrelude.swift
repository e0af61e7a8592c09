/// The Lua sources the runtime runs inside every state, held in Swift strings so they are
/// compiled into the binary (the Embedded/WASM build has no resource files).
enum LuaPrelude {
    /// The Lua half of `require`: the loop guard and the call of the module's chunk run in Lua,
    /// so a module's own error keeps its traceback and never crosses a Swift frame.
    static let require = """
    local find, loaded, cache = ...
    local type, error, setmetatable = type, error, setmetatable
    local loading = {}
    local function unmark(path)
        return setmetatable({}, { __close = function() loading[path] = nil end })
    end
    local function require_from(caller, name)
        if type(name) ~= "string" then
            error("require: module name must be a string, got " .. type(name), 0)
        end
        local preloaded = loaded[name]
        if preloaded ~= nil then return preloaded end
        local path, chunk = find(name, caller)
        if chunk == nil then return cache[path] end
        if loading[path] then
            error("require: module \\"" .. name .. "\\" requires itself while loading (" .. path .. ")", 0)
        end
        loading[path] = true
        local guard <close> = unmark(path)
        local result = chunk(name, path)
        if result == nil then result = true end
        cache[path] = result
        return result
    end
    local function bind(caller)
        return function(name) return require_from(caller, name) end
    end
    return function(name) return require_from(nil, name) end, bind
    """

    /// `print` when the host gives a print handler: same text as Lua's own print.
    static let print = """
    local write, select, tostring, concat = ...
    return function(...)
        local n = select("#", ...)
        local parts = {}
        for i = 1, n do parts[i] = tostring((select(i, ...))) end
        write(concat(parts, "\\t") .. "\\n")
    end
    """
}
