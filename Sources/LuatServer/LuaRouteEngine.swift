import KVCore
import LuaHost
import LuaRuntime
import LuatProject
import LuatRouting

/// A `RouteScriptEngine` over one `LuaRuntime`: each route file is loaded once into an
/// environment of its own and kept; `require`d modules are cached by the runtime.
public final class LuaRouteEngine: RouteScriptEngine {
    public let runtime: LuaRuntime
    private var files: [String: (environment: LuaEnvironment, exports: RouteExports)] = [:]

    /// A fresh Lua state for `project`. When the file `hooks` exists (by default
    /// `hooks.server.lua` next to the routes folder, i.e. `src/hooks.server.lua`) it runs
    /// first, in the shared globals: what it defines is visible to every route file.
    ///
    /// `limits` (time budget per request, memory, library) come from `[serve]` in luat.toml;
    /// the hooks file runs under the time budget too.
    public init(project: LuatProject, store: KVStore, hooks: String? = nil, limits: LuaLimits = .unlimited) throws(ScriptError) {
        do {
            runtime = try LuaRuntime(project: project, store: store, limits: limits)
            try LuaRoutes.install(in: runtime)
            let hooks = hooks ?? Self.hooksFile(routesPath: project.routesPath)
            if DiskFileSource().readFile(atPath: hooks) != nil {
                try runtime.run(file: hooks)
            }
        } catch {
            throw ScriptError(error)
        }
    }

    public private(set) var needsReplacement = false

    public func withRequestBudget<R>(_ body: () -> R) -> R {
        runtime.withTimeBudget(body)
    }

    /// The limits of the server's Lua states from `[serve]` in luat.toml: `requestTimeout`
    /// seconds per request and `memoryLimit` bytes per state (nil or 0: no limit).
    public static func limits(requestTimeout: Double?, memoryLimit: Int?, fullLibrary: Bool) -> LuaLimits {
        LuaLimits(timeBudgetMilliseconds: requestTimeout.flatMap { $0 > 0 ? max(1, Int(($0 * 1000).rounded())) : nil },
                  memoryLimitBytes: memoryLimit.flatMap { $0 > 0 ? $0 : nil },
                  library: fullLibrary ? .full : .safe)
    }

    /// `hooks.server.lua` in the folder holding the routes folder.
    public static func hooksFile(routesPath: String) -> String {
        LuaPath.directory(of: routesPath) + "/hooks.server.lua"
    }

    public func exports(of file: String) throws(ScriptError) -> RouteExports {
        try load(file).exports
    }

    public func call(file: String, function: [String], ctx: RequestContext) throws(ScriptError) -> ScriptReturn {
        do throws(ScriptError) {
            return try LuaRoutes.call(load(file).environment, function: function, ctx: Self.luaValue(ctx))
        } catch {
            if error.kind != .error { needsReplacement = true }
            throw error
        }
    }

    private func load(_ file: String) throws(ScriptError) -> (environment: LuaEnvironment, exports: RouteExports) {
        if let cached = files[file] { return cached }
        let environment: LuaEnvironment
        do {
            environment = try runtime.loadEnvironment(file: file)
        } catch {
            if error.kind != .script { needsReplacement = true }
            throw ScriptError(error)
        }
        let exports = LuaRoutes.exports(of: environment)
        files[file] = (environment, exports)
        return (environment, exports)
    }

    // MARK: Swift values to Lua

    static func luaValue(_ ctx: RequestContext) -> LuaValue {
        var query: [(String, LuaValue)] = []
        var seen = Set<String>()
        for field in ctx.query where seen.insert(field.name).inserted { query.append((field.name, .string(field.value))) }
        var form: [(String, LuaValue)] = []
        seen = []
        for field in ctx.form where seen.insert(field.name).inserted { form.append((field.name, luaValue(field.value))) }
        let body = ctx.body.map(luaValue) ?? .nil
        var fields: [(String, LuaValue)] = [
            ("method", .string(ctx.method)),
            ("url", .string(ctx.url)),
            ("path", .string(ctx.path)),
            ("params", object(ctx.params.sorted { $0.key < $1.key }.map { ($0.key, LuaValue.string($0.value)) })),
            ("query", object(query)),
            ("headers", object(ctx.headers.map { ($0.name, LuaValue.string($0.value)) })),
            ("form", object(form)),
            ("rawBody", .string(ctx.rawBody)),
        ]
        if case .nil = body {} else {
            fields.append(("body", body))
            fields.append(("json", body))
        }
        if let action = ctx.action { fields.append(("action", .string(action))) }
        return .table(LuaTable(fields))
    }

    static func object(_ fields: [(String, LuaValue)]) -> LuaValue { LuaRoutes.object(fields) }

    static func luaValue(_ value: JSONValue) -> LuaValue { LuaRoutes.luaValue(value) }
}
