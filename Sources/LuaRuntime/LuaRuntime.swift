import CLuaShim
import KVCore

/// One Lua 5.4 state with Luat's server-side globals:
///
/// - the standard libraries;
/// - `KV` (the KV store given), `json` (`encode`, `decode`, `null`), `fail(status, data)`;
/// - `require`, resolving modules inside the project (see `ModuleResolver`), once per state.
///
/// A runtime is not thread-safe: use it from one thread at a time (a server keeps a pool of
/// runtimes, one per worker); only `interrupt()` may be called from another thread. Errors of
/// Lua code come back as `LuaError` with a traceback; a call stopped by `limits` comes back
/// as a `LuaError` of kind `.timeLimit` or `.memoryLimit`, and the state stays usable.
public final class LuaRuntime: @unchecked Sendable {
    /// The raw `lua_State *`, for code that needs the C API directly.
    public let state: LuaStatePointer
    let context: LuaContext
    /// What code in this state may use (fixed at creation).
    public let limits: LuaLimits

    /// The project root (absolute, normalised) that `require` stays inside.
    public var projectRoot: String { context.resolver.root }
    /// Module resolution rules of this runtime.
    public var resolver: ModuleResolver { context.resolver }
    /// The store behind `KV`.
    public var store: KVStore { context.store }

    /// - Parameters:
    ///   - store: the store `KV.namespace` opens namespaces of.
    ///   - projectRoot: absolute path of the project folder; `require` never leaves it.
    ///   - libDirectory: the lib folder (`[routing] lib_dir`), relative to the root or absolute.
    ///   - files: reads the Lua files (`require`, `run(file:)`, `loadEnvironment(file:)`).
    ///   - print: where `print` writes; nil keeps Lua's own `print` (process stdout).
    ///   - limits: time and memory budgets and the standard library (default: none, full).
    public init(store: KVStore, projectRoot: String, libDirectory: String = "src/lib",
                files: any LuaFileSource, print: (([UInt8]) -> Void)? = nil,
                limits: LuaLimits = .unlimited) throws(LuaError) {
        let memoryLimit = limits.memoryLimitBytes.map { max($0, 1) } ?? 0
        guard let L = luat_newstate(memoryLimit, limits.timeBudgetMilliseconds == nil ? 0 : 1) else {
            throw LuaError("cannot create a Lua state (out of memory)")
        }
        state = L
        self.limits = limits
        context = LuaContext(store: store, resolver: ModuleResolver(root: projectRoot, libDirectory: libDirectory),
                             files: files, print: print)
        context.attach(to: L)
        luaL_openlibs(L)
        LuaJSON.install(L)
        KVBinding.install(L)
        LuaStack.pushFunction(L, luaFail)
        lua_setglobal(L, "fail")

        // require
        lua_createtable(L, 0, 0)
        lua_pushvalue(L, -1)
        lua_setfield(L, LuaStack.registry, moduleCacheKey)
        let cache = lua_gettop(L)
        LuaStack.pushFunction(L, requireFind)
        lua_getfield(L, LuaStack.registry, LUA_LOADED_TABLE)
        lua_pushvalue(L, cache)
        guard LuaStack.runInternal(L, LuaPrelude.require, name: "[luat require]", arguments: 3, results: 2) else {
            throw LuaError("cannot install require: " + (LuaStack.string(L, -1) ?? "?"))
        }
        lua_setglobal(L, requireBinderGlobal)
        lua_setglobal(L, "require")
        luat_pop(L, 1)

        // message handler
        lua_pushcclosure(L, luat_msghandler, 0)
        lua_setfield(L, LuaStack.registry, messageHandlerKey)

        // environments of loaded files read missing names from the globals
        lua_createtable(L, 0, 1)
        lua_rawgeti(L, LuaStack.registry, lua_Integer(LUA_RIDX_GLOBALS))
        LuaStack.setField(L, -2, "__index")
        lua_setfield(L, LuaStack.registry, environmentMetatableKey)

        if print != nil {
            LuaStack.pushFunction(L, luaWrite)
            lua_getglobal(L, "select")
            lua_getglobal(L, "tostring")
            lua_getglobal(L, "table")
            lua_getfield(L, -1, "concat")
            luat_remove(L, -2)
            guard LuaStack.runInternal(L, LuaPrelude.print, name: "[luat print]", arguments: 4) else {
                throw LuaError("cannot install print: " + (LuaStack.string(L, -1) ?? "?"))
            }
            lua_setglobal(L, "print")
        }
        if limits.library == .safe { try SafeLibrary.install(L) }
        lua_settop(L, 0)
    }

    deinit {
        luat_close(state)
    }

    // MARK: running code

    /// Runs the Lua file at `path` (absolute, or relative to the project root) in the global
    /// environment, as the `lua` command runs a script: `arguments` are the chunk's `...`
    /// and `arg[1...]`, `scriptName` is `arg[0]` (default: the path as shown in tracebacks).
    /// Returns the chunk's results.
    @discardableResult
    public func run(file path: String, arguments: [String] = [], scriptName: String? = nil) throws(LuaError) -> [LuaValue] {
        let absolute = LuaPath.join(projectRoot, path)
        guard let source = context.files.readFile(atPath: absolute) else {
            throw LuaError("cannot open \(context.resolver.display(absolute))")
        }
        let L = state
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        lua_createtable(L, Int32(arguments.count), 1)
        LuaStack.push(L, scriptName ?? context.resolver.display(absolute))
        lua_rawseti(L, -2, 0)
        for (i, argument) in arguments.enumerated() {
            LuaStack.push(L, argument)
            lua_rawseti(L, -2, lua_Integer(i + 1))
        }
        lua_setglobal(L, "arg")
        try context.load(L, source, path: absolute)
        return try callFunctionOnTop(arguments.map { LuaValue.string($0) })
    }

    /// Whether the file source has a file at `path` (absolute, or relative to the project root).
    public func hasFile(_ path: String) -> Bool {
        context.files.readFile(atPath: LuaPath.join(projectRoot, path)) != nil
    }

    /// Runs Lua source text in the global environment and returns its results. `name` is the
    /// chunk name shown in messages (a path, relative to the project root, makes `require("./x")`
    /// resolve from that file's folder).
    @discardableResult
    public func run(source: String, name: String = "main.lua", arguments: [LuaValue] = []) throws(LuaError) -> [LuaValue] {
        let L = state
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        try context.load(L, Array(source.utf8), path: LuaPath.join(projectRoot, name))
        return try callFunctionOnTop(arguments)
    }

    /// Runs the Lua file at `path` in an environment table of its own, so the globals it
    /// defines (`GET`, `load`, `actions`, ...) stay in that table and never leak into another
    /// file's; names it does not define are read from the shared globals (`KV`, `json`,
    /// `string`, ...). The returned environment calls the file's functions.
    public func loadEnvironment(file path: String) throws(LuaError) -> LuaEnvironment {
        let absolute = LuaPath.join(projectRoot, path)
        guard let source = context.files.readFile(atPath: absolute) else {
            throw LuaError("cannot open \(context.resolver.display(absolute))")
        }
        return try loadEnvironment(bytes: source, path: absolute)
    }

    /// `loadEnvironment(file:)` for source text that `path` names (not read from the file source).
    public func loadEnvironment(source: String, path: String) throws(LuaError) -> LuaEnvironment {
        try loadEnvironment(bytes: Array(source.utf8), path: LuaPath.join(projectRoot, path))
    }

    func loadEnvironment(bytes: [UInt8], path: String) throws(LuaError) -> LuaEnvironment {
        let L = state
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        lua_createtable(L, 0, 8)
        lua_getfield(L, LuaStack.registry, environmentMetatableKey)
        lua_setmetatable(L, -2)
        let env = lua_gettop(L)
        try context.load(L, bytes, path: path)
        lua_pushvalue(L, env)
        _ = lua_setupvalue(L, -2, 1) // a main chunk's first upvalue is _ENV
        _ = try callFunctionOnTop([])
        lua_pushvalue(L, env)
        let reference = luaL_ref(L, LuaStack.registry)
        return LuaEnvironment(runtime: self, reference: reference, path: path)
    }

    /// Calls the function on top of the stack with `arguments` in protected mode with the
    /// traceback handler, and returns its results (the stack is left as it was below the function).
    func callFunctionOnTop(_ arguments: [LuaValue], leadingArguments: Int32 = 0) throws(LuaError) -> [LuaValue] {
        let L = state
        let handler = try callOnTop(leadingArguments: leadingArguments, arguments: Int32(clamping: arguments.count)) { () throws(LuaError) in
            for argument in arguments { try LuaBridge.push(L, argument) }
        }
        var results: [LuaValue] = []
        let top = lua_gettop(L)
        if top > handler {
            for i in (handler + 1)...top {
                do throws(LuaError) {
                    results.append(try LuaBridge.value(L, at: i))
                } catch {
                    lua_settop(L, handler - 1)
                    throw LuaError("cannot read a result: \(error.message)")
                }
            }
        }
        lua_settop(L, handler - 1)
        return results
    }

    /// Calls the function below the `leadingArguments` values on top of the stack, after
    /// `pushArguments` pushed `arguments` more, in protected mode with the traceback handler.
    /// On success the results are on the stack above the returned index (the handler's): the
    /// caller reads them, then restores the stack with `lua_settop(L, handler - 1)`. On failure
    /// the stack is already restored.
    func callOnTop(leadingArguments: Int32, arguments: Int32,
                   pushArguments: () throws(LuaError) -> Void) throws(LuaError) -> Int32 {
        let L = state
        let function = lua_gettop(L) - leadingArguments
        lua_getfield(L, LuaStack.registry, messageHandlerKey)
        lua_rotate(L, function, 1) // handler below the function
        let handler = function
        guard lua_checkstack(L, arguments + 4) != 0 else {
            lua_settop(L, handler - 1)
            throw LuaError("too many arguments")
        }
        do throws(LuaError) {
            try pushArguments()
        } catch {
            lua_settop(L, handler - 1)
            throw error
        }
        _ = luat_budget_take_exceeded(L)
        let started = limits.timeBudgetMilliseconds.map { luat_budget_begin(L, Int64($0)) != 0 } ?? false
        let status = luat_pcall(L, arguments + leadingArguments, LUA_MULTRET, handler)
        if started { luat_budget_end(L) }
        if status != LUA_OK {
            let text = LuaStack.string(L, -1) ?? "(error object is not a string)"
            lua_settop(L, handler - 1)
            if let error = budgetError(status: status, exceeded: luat_budget_take_exceeded(L), text: text) {
                // What the stopped code left is garbage now: give the memory back before the
                // next call (an emergency collection inside the limit does not always free it).
                if error.kind == .memoryLimit { luat_gc_collect(L) }
                throw error
            }
            throw LuaError.fromTraceback(text)
        }
        return handler
    }

    // MARK: budgets

    /// Runs `body` (which calls into this runtime, maybe several times) under one time budget
    /// of `limits.timeBudgetMilliseconds`, as `luat serve` does for a whole request; calls
    /// inside it share the budget instead of starting their own. Without a time limit, or
    /// inside another budget, it only runs `body`.
    public func withTimeBudget<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        let started = limits.timeBudgetMilliseconds.map { luat_budget_begin(state, Int64($0)) != 0 } ?? false
        defer { if started { luat_budget_end(state) } }
        return try body()
    }

    /// From any thread: the code running in this state (and every later call) stops with a
    /// `LuaError` of kind `.interrupted` at its next hook. Used at shutdown so that a running
    /// script cannot hold the server. Needs a time budget in `limits` (the hook comes with it).
    public func interrupt() {
        luat_interrupt(state, 1)
    }

    /// Whether `text` holds `part` (byte-wise; `String.contains(String)` is not in Embedded Swift).
    static func mentions(_ text: String, _ part: String) -> Bool {
        let haystack = Array(text.utf8), needle = Array(part.utf8)
        guard needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start..<start + needle.count].elementsEqual(needle) {
            return true
        }
        return false
    }

    /// The error for a call a budget stopped, or nil when the code failed on its own.
    private func budgetError(status: Int32, exceeded: Int32, text: String) -> LuaError? {
        switch exceeded {
        case LUAT_BUDGET_TIME:
            // The hook's own message says where the code was (`file:line: time limit ...`).
            let raised = LuaError.fromTraceback(text)
            if status == LUA_ERRRUN, Self.mentions(raised.message, "time limit exceeded") {
                return LuaError(raised.message, traceback: raised.traceback, kind: .timeLimit)
            }
            let limit = limits.timeBudgetMilliseconds ?? 0
            return LuaError("time limit exceeded: the code ran longer than \(limit) ms", kind: .timeLimit)
        case LUAT_BUDGET_INTERRUPTED:
            let raised = LuaError.fromTraceback(text)
            if status == LUA_ERRRUN, Self.mentions(raised.message, "interrupted: ") {
                return LuaError(raised.message, traceback: raised.traceback, kind: .interrupted)
            }
            return LuaError("interrupted: the Lua state is shutting down", kind: .interrupted)
        case LUAT_BUDGET_MEMORY where status == LUA_ERRMEM:
            let limit = limits.memoryLimitBytes ?? 0
            return LuaError("memory limit exceeded: a Lua state may hold at most \(Self.byteText(limit))", kind: .memoryLimit)
        default:
            return nil
        }
    }

    /// `268435456 bytes (256 MiB)`.
    static func byteText(_ bytes: Int) -> String {
        let mib = bytes / (1024 * 1024)
        return mib > 0 && mib * 1024 * 1024 == bytes ? "\(bytes) bytes (\(mib) MiB)" : "\(bytes) bytes"
    }

    /// Bytes the state holds now (what `limits.memoryLimitBytes` bounds).
    public var memoryInUseBytes: Int { Int(luat_memory_used(state)) }

    // MARK: globals and memory

    /// A copy of the global `name` (raw read of the globals table).
    public func global(_ name: String) throws(LuaError) -> LuaValue {
        let L = state
        lua_rawgeti(L, LuaStack.registry, lua_Integer(LUA_RIDX_GLOBALS))
        LuaStack.getField(L, -1, name)
        defer { luat_pop(L, 2) }
        return try LuaBridge.value(L, at: -1)
    }

    /// Kilobytes the Lua state has allocated.
    public var memoryInUseKilobytes: Int { Int(luat_gc_count_kb(state)) }

    /// Runs a full garbage collection.
    public func collectGarbage() { luat_gc_collect(state) }
}

let environmentMetatableKey = "luat.environment"

/// The environment table of one file loaded with `LuaRuntime.loadEnvironment`: its globals
/// (`GET`, `POST`, `load`, `actions`, ...) and calls of its functions. Valid while its runtime
/// lives (it keeps the runtime alive); use it on the runtime's thread only.
public final class LuaEnvironment: @unchecked Sendable {
    public let runtime: LuaRuntime
    /// The absolute path of the file.
    public let path: String
    let reference: Int32

    init(runtime: LuaRuntime, reference: Int32, path: String) {
        self.runtime = runtime
        self.reference = reference
        self.path = path
    }

    deinit {
        luaL_unref(runtime.state, LuaStack.registry, reference)
    }

    /// Pushes the value at `path` (`["actions", "default"]`) inside the environment; false if
    /// some step is not a table.
    func push(_ path: [String]) -> Bool {
        let L = runtime.state
        lua_rawgeti(L, LuaStack.registry, lua_Integer(reference))
        for name in path {
            guard lua_type(L, -1) == LUA_TTABLE else { luat_pop(L, 1); return false }
            LuaStack.getField(L, -1, name)
            luat_remove(L, -2)
        }
        return true
    }

    /// A copy of what the file defined at `path` (e.g. `["actions"]`): `.nil` when absent.
    /// Only the file's own globals are seen, not the shared ones. Functions read as `.function`.
    public func value(_ path: String...) throws(LuaError) -> LuaValue { try value(path: path) }

    public func value(path: [String]) throws(LuaError) -> LuaValue {
        let L = runtime.state
        guard push(path) else { return .nil }
        defer { luat_pop(L, 1) }
        return try LuaBridge.value(L, at: -1)
    }

    /// Whether the file defined a function at `path`, e.g. `hasFunction("GET")`.
    public func hasFunction(_ path: String...) -> Bool {
        let L = runtime.state
        guard push(path) else { return false }
        defer { luat_pop(L, 1) }
        return lua_type(L, -1) == LUA_TFUNCTION
    }

    /// Calls the function the file defined at `path` (`call("GET", arguments: [ctx])`,
    /// `call("actions", "default", arguments: [ctx])`) and returns copies of its results.
    /// A Lua error comes back as `LuaError` with its traceback.
    @discardableResult
    public func call(_ path: String..., arguments: [LuaValue] = []) throws(LuaError) -> [LuaValue] {
        try call(path: path, arguments: arguments)
    }

    @discardableResult
    public func call(path: [String], arguments: [LuaValue] = []) throws(LuaError) -> [LuaValue] {
        let L = runtime.state
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        guard push(path), lua_type(L, -1) == LUA_TFUNCTION else {
            throw LuaError("\(runtime.resolver.display(self.path)) does not define a function \(path.joined(separator: "."))")
        }
        return try runtime.callFunctionOnTop(arguments)
    }

    /// Calls the global function `wrapper` with the function at `path` and `argument`:
    /// `wrapper(fn, argument)` (a host prepares the argument in Lua that way, e.g. gives a
    /// table a metatable). `argument` is written straight onto the stack, and the first
    /// result is read straight into JSON (`LuaJSON`'s rules): nil when the function returned
    /// nothing or `nil`. A Lua error in the call is thrown; a result that JSON cannot hold is
    /// the returned failure.
    public func callForJSON(path: [String], argument: LuaArgument, through wrapper: String) throws(LuaError) -> Result<JSONValue?, LuaError> {
        let L = runtime.state
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        try pushWrapped(path, wrapper)
        let handler = try runtime.callOnTop(leadingArguments: 1, arguments: 1) { () throws(LuaError) in
            try argument.write(LuaStackWriter(L: L))
        }
        let first = handler + 1
        if first > lua_gettop(L) || lua_type(L, first) == LUA_TNIL { return .success(nil) }
        do throws(LuaError) {
            return .success(try LuaJSON.jsonValue(L, at: first))
        } catch {
            return .failure(error)
        }
    }

    /// Pushes the global function `wrapper` and then the function at `path`.
    private func pushWrapped(_ path: [String], _ wrapper: String) throws(LuaError) {
        let L = runtime.state
        lua_rawgeti(L, LuaStack.registry, lua_Integer(LUA_RIDX_GLOBALS))
        LuaStack.getField(L, -1, wrapper)
        luat_remove(L, -2)
        guard lua_type(L, -1) == LUA_TFUNCTION else {
            throw LuaError("no global function \(wrapper)")
        }
        guard push(path), lua_type(L, -1) == LUA_TFUNCTION else {
            throw LuaError("\(runtime.resolver.display(self.path)) does not define a function \(path.joined(separator: "."))")
        }
    }
}
