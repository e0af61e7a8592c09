import KVCore
import LuaRuntime

/// One Lua state as the route dispatcher uses it, for `luat serve` (one per worker thread) and
/// the WASM engine alike: each route file is read through the runtime's file source, loaded
/// once into an environment of its own and kept (until `invalidate()`); `require`d modules
/// are cached by the runtime. `ctx` is what the host builds once per request, written into
/// Lua afresh for each function called (`RequestContext.luaArgument`, or a `LuaValue`). A host can also give a file's source with a request
/// (`inlineSources`): such a file is loaded afresh for each request.
///
/// Not thread-safe: one thread uses an engine at a time (its Lua state is not shared).
public final class LuaRouteEngine: RouteEngine {
    public let runtime: LuaRuntime
    private var cache: [String: (environment: LuaEnvironment, exports: RouteExports)] = [:]
    private var inline: [String: String] = [:]
    private var inlineCache: [String: (environment: LuaEnvironment, exports: RouteExports)] = [:]

    /// Installs the route invoker in `runtime` (once per runtime). When `hooks` names a file
    /// the runtime's file source has (`luat serve`: `src/hooks.server.lua`), it runs first, in
    /// the shared globals: what it defines is visible to every route file.
    public init(runtime: LuaRuntime, hooks: String? = nil) throws(ScriptError) {
        self.runtime = runtime
        do throws(LuaError) {
            _ = try runtime.run(source: Self.invokerSource, name: "[luat routes]")
            if let hooks, runtime.hasFile(hooks) {
                try runtime.run(file: hooks)
            }
        } catch {
            throw ScriptError(error)
        }
    }

    /// `hooks.server.lua` in the folder holding the routes folder (`src/routes` → `src/hooks.server.lua`).
    public static func hooksFile(routesPath: String) -> String {
        LuaPath.directory(of: routesPath) + "/hooks.server.lua"
    }

    /// Sources of files given with the current request (path → Lua source), which take the
    /// place of the files of the same path. Setting them drops what was loaded from the previous ones.
    public var inlineSources: [String: String] {
        get { inline }
        set {
            inline = newValue
            inlineCache = [:]
        }
    }

    /// Forgets every loaded file (after files changed).
    public func invalidate() {
        cache = [:]
        inlineCache = [:]
    }

    public func exports(of file: String) throws(ScriptError) -> RouteExports {
        try load(file).exports
    }

    public func call(file: String, function: [String], ctx: LuaArgument) throws(ScriptError) -> ScriptReturn {
        do throws(ScriptError) {
            return try Self.call(load(file).environment, function: function, ctx: ctx)
        } catch {
            if error.kind != .error { needsReplacement = true }
            throw error
        }
    }

    /// True once a call hit a limit of the state (time, memory, interruption): the host
    /// replaces the state before its next request, so nothing a stopped script left half done
    /// is seen again.
    public private(set) var needsReplacement = false

    /// Runs `body` (one request: every call it makes into this engine) under one time budget
    /// of the runtime's limits.
    public func withRequestBudget<R>(_ body: () -> R) -> R {
        runtime.withTimeBudget(body)
    }

    private func load(_ file: String) throws(ScriptError) -> (environment: LuaEnvironment, exports: RouteExports) {
        if let source = inline[file] {
            if let loaded = inlineCache[file] { return loaded }
            let loaded = try Self.loaded { () throws(LuaError) in try runtime.loadEnvironment(source: source, path: file) }
            inlineCache[file] = loaded
            return loaded
        }
        if let loaded = cache[file] { return loaded }
        let loaded = try Self.loaded { () throws(LuaError) in try runtime.loadEnvironment(file: file) }
        cache[file] = loaded
        return loaded
    }

    private static func loaded(_ make: () throws(LuaError) -> LuaEnvironment) throws(ScriptError) -> (environment: LuaEnvironment, exports: RouteExports) {
        let environment: LuaEnvironment
        do throws(LuaError) {
            environment = try make()
        } catch {
            throw ScriptError(error)
        }
        return (environment, exports(of: environment))
    }

    // MARK: The Lua side of a route call

    /// The global route functions are called through: it gives `ctx.headers`
    /// case-insensitive lookup (header names are stored in lower case), then calls the function.
    public static let invoker = "__luat_serve_call"
    static let invokerSource = """
        local lower, rawget, setmetatable, type = string.lower, rawget, setmetatable, type
        local headers_mt = { __metatable = false, __index = function(t, k)
            if type(k) == "string" then return rawget(t, lower(k)) end
        end }
        \(invoker) = function(fn, ctx)
            if type(ctx) == "table" and type(ctx.headers) == "table" then setmetatable(ctx.headers, headers_mt) end
            return fn(ctx)
        end
        """

    /// What a route file's environment defines: the route functions among its own globals
    /// (`GET`, …, `load`) and its `actions` table (each action a function, or a table of
    /// functions by method, method names taken in upper case).
    public static func exports(of environment: LuaEnvironment) -> RouteExports {
        var exports = RouteExports()
        for name in RouteDispatcher.routeFunctions where environment.hasFunction(name) {
            exports.functions.insert(name)
        }
        let actionsValue: LuaValue
        do throws(LuaError) {
            actionsValue = try environment.value("actions")
        } catch {
            return exports
        }
        guard case .table(let table) = actionsValue else { return exports }
        var actions: [String: RouteExports.Action] = [:]
        for entry in table.hash {
            guard case .string(let key) = entry.key else { continue }
            let name = String(decoding: key, as: UTF8.self)
            switch entry.value {
            case .function:
                actions[name] = .function
            case .table(let perMethod):
                var methods = Set<String>()
                for method in perMethod.hash {
                    if case .string(let m) = method.key, case .function = method.value {
                        methods.insert(ASCIICase.upper(String(decoding: m, as: UTF8.self)))
                    }
                }
                actions[name] = .methods(methods)
            default:
                continue
            }
        }
        exports.actions = actions
        return exports
    }

    /// Calls the function at `function` of `environment` with `ctx` (through the invoker) and
    /// reads its first result as JSON. A Lua error, or a result JSON cannot hold, is a
    /// `ScriptError` with the file and line when Lua gave them.
    public static func call(_ environment: LuaEnvironment, function: [String], ctx: LuaArgument) throws(ScriptError) -> ScriptReturn {
        let result: Result<JSONValue?, LuaError>
        do throws(LuaError) {
            result = try environment.callForJSON(path: function, argument: ctx, through: invoker)
        } catch {
            throw ScriptError(error)
        }
        switch result {
        case .success(let value):
            return .value(value)
        case .failure(let error):
            let name = environment.runtime.resolver.display(environment.path)
            throw ScriptError(message: function.joined(separator: ".") + " returned a value that cannot be sent: " + error.message, location: name)
        }
    }

    /// A table Lua's JSON encoder writes as an object even when empty.
    public static func object(_ fields: [(String, LuaValue)]) -> LuaValue {
        var table = LuaTable(fields)
        table.jsonType = .object
        return .table(table)
    }

    /// A JSON value as the Lua value a route sees: objects and arrays keep their JSON shape,
    /// `null` is `json.null`.
    public static func luaValue(_ value: JSONValue) -> LuaValue {
        switch value {
        case .null: return .jsonNull
        case .bool(let b): return .boolean(b)
        case .integer(let n): return .integer(n)
        case .double(let d): return .number(d)
        case .string(let s): return .string(s)
        case .array(let items): return .table(LuaTable(array: items.map(luaValue), jsonType: .array))
        case .object(let members): return object(members.map { ($0.key, luaValue($0.value)) })
        }
    }
}
