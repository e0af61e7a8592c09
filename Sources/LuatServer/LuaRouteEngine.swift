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
    public init(project: LuatProject, store: KVStore, hooks: String? = nil) throws(ScriptError) {
        do {
            runtime = try LuaRuntime(project: project, store: store)
            try LuaRoutes.install(in: runtime)
            let hooks = hooks ?? Self.hooksFile(routesPath: project.routesPath)
            if DiskFileSource().readFile(atPath: hooks) != nil {
                try runtime.run(file: hooks)
            }
        } catch {
            throw ScriptError(luaMessage: error.message)
        }
    }

    /// `hooks.server.lua` in the folder holding the routes folder.
    public static func hooksFile(routesPath: String) -> String {
        LuaPath.directory(of: routesPath) + "/hooks.server.lua"
    }

    public func exports(of file: String) throws(ScriptError) -> RouteExports {
        try load(file).exports
    }

    public func call(file: String, function: [String], ctx: RequestContext) throws(ScriptError) -> ScriptReturn {
        try LuaRoutes.call(load(file).environment, function: function, ctx: Self.luaValue(ctx))
    }

    private func load(_ file: String) throws(ScriptError) -> (environment: LuaEnvironment, exports: RouteExports) {
        if let cached = files[file] { return cached }
        let environment: LuaEnvironment
        do {
            environment = try runtime.loadEnvironment(file: file)
        } catch {
            throw ScriptError(luaMessage: error.message)
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
