import KVCore
import LuaHost
import LuaRuntime
import LuatProject

/// A `RouteScriptEngine` over one `LuaRuntime`: each route file is loaded once into an
/// environment of its own and kept; `require`d modules are cached by the runtime.
public final class LuaRouteEngine: RouteScriptEngine {
    public let runtime: LuaRuntime
    private var files: [String: (environment: LuaEnvironment, exports: RouteExports)] = [:]

    /// The global the server calls route functions through: it gives `ctx.headers`
    /// case-insensitive lookup, then calls the function.
    static let invoker = "__luat_serve_call"
    static let invokerSource = """
        local lower, rawget, setmetatable, type = string.lower, rawget, setmetatable, type
        local headers_mt = { __index = function(t, k)
            if type(k) == "string" then return rawget(t, lower(k)) end
        end }
        \(invoker) = function(fn, ctx)
            if type(ctx) == "table" and type(ctx.headers) == "table" then setmetatable(ctx.headers, headers_mt) end
            return fn(ctx)
        end
        """

    /// A fresh Lua state for `project`. When the file `hooks` exists (by default
    /// `hooks.server.lua` next to the routes folder, i.e. `src/hooks.server.lua`) it runs
    /// first, in the shared globals: what it defines is visible to every route file.
    public init(project: LuatProject, store: KVStore, hooks: String? = nil) throws(ScriptError) {
        do {
            runtime = try LuaRuntime(project: project, store: store)
            try runtime.run(source: Self.invokerSource, name: "[luat serve]")
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
        let environment = try load(file).environment
        let results: [LuaValue]
        do {
            results = try environment.call(path: function, arguments: [Self.luaValue(ctx)], through: Self.invoker)
        } catch {
            throw ScriptError(luaMessage: error.message)
        }
        let first = results.first ?? .nil
        if case .nil = first { return .value(nil) }
        do {
            return .value(try LuaJSON.jsonValue(first))
        } catch {
            let name = runtime.resolver.display(file)
            throw ScriptError(message: "\(function.joined(separator: ".")) returned a value that cannot be sent: \(error.message)", location: name)
        }
    }

    private func load(_ file: String) throws(ScriptError) -> (environment: LuaEnvironment, exports: RouteExports) {
        if let cached = files[file] { return cached }
        let environment: LuaEnvironment
        do {
            environment = try runtime.loadEnvironment(file: file)
        } catch {
            throw ScriptError(luaMessage: error.message)
        }
        var exports = RouteExports()
        for name in RouteDispatcher.endpointMethods + ["load"] where environment.hasFunction(name) {
            exports.functions.insert(name)
        }
        if case .table(let table)? = try? environment.value("actions") {
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
                            methods.insert(String(decoding: m, as: UTF8.self).uppercased())
                        }
                    }
                    actions[name] = .methods(methods)
                default:
                    continue
                }
            }
            exports.actions = actions
        }
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

    static func object(_ fields: [(String, LuaValue)]) -> LuaValue {
        var table = LuaTable(fields)
        table.jsonType = .object
        return .table(table)
    }

    static func luaValue(_ value: JSONValue) -> LuaValue {
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
