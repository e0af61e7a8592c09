import KVCore
import LuaRuntime
import LuatRouting

/// A route request from JavaScript (`engine.executeRoute` / `executeApi` / `executeAction` /
/// `executeLoad` in luat.mjs), as JSON:
///
///     { "route": { "endpoint": "src/routes/api/blog/+server.lua",      (each optional)
///                  "page": "src/routes/blog/+page.server.lua",
///                  "layouts": ["src/routes/+layout.server.lua"] },
///       "sources": { "src/routes/+server.lua": "function GET() … end" }, (files given inline)
///       "ctx": { "method": "GET", "url": …, "params": {…}, "headers": {…}, "form": {…}, … },
///       "production": false }
///
/// Only the request is read here. Which function answers and how its result becomes a
/// response are `LuatRouting`'s rules, the same Swift code `luat serve` runs.
struct RouteRequest {
    var files: RouteFiles
    var sources: [String: String]
    var method: String
    var action: String?
    var ctx: LuaValue
    var production: Bool

    struct Invalid: Error {
        var message: String
    }

    init(_ request: JSONValue) throws(Invalid) {
        guard case .object = request else { throw Invalid(message: "route: the request must be an object") }
        files = RouteFiles()
        if case .object? = request["route"] {
            files.endpoint = try Self.path(request["route"]?["endpoint"], "route.endpoint")
            files.page = try Self.path(request["route"]?["page"], "route.page")
            if case .array(let layouts)? = request["route"]?["layouts"] {
                for layout in layouts {
                    guard case .string(let path) = layout else { throw Invalid(message: "route: route.layouts must hold paths") }
                    files.layouts.append(path)
                }
            }
        }
        guard files.endpoint != nil || files.page != nil else {
            throw Invalid(message: "route: the route needs an endpoint (+server.lua) or a page (+page.server.lua)")
        }
        sources = [:]
        if case .object(let members)? = request["sources"] {
            for member in members {
                guard case .string(let source) = member.value else { throw Invalid(message: "route: sources must be strings") }
                sources[member.key] = source
            }
        }
        production = request["production"] == .bool(true)
        (ctx, method, action) = Self.context(request["ctx"])
    }

    private static func path(_ value: JSONValue?, _ name: String) throws(Invalid) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let path)?: return path
        default: throw Invalid(message: "route: \(name) must be a path")
        }
    }

    /// `ctx` as a Lua table, as `luat serve` gives it: every field of the request's ctx
    /// (`null` fields are absent), `method` in upper case (default GET), `params`, `query`,
    /// `form` and `headers` always tables; header names in lower case (the route invoker
    /// makes their lookup case-insensitive).
    static func context(_ value: JSONValue?) -> (ctx: LuaValue, method: String, action: String?) {
        var fields: [(String, LuaValue)] = []
        var present = Set<String>()
        var method = "GET"
        var action: String? = nil
        if case .object(let members)? = value {
            for member in members where member.value != .null && present.insert(member.key).inserted {
                switch member.key {
                case "method":
                    if case .string(let m) = member.value, !m.isEmpty { method = ASCIICase.upper(m) }
                case "headers":
                    var headers: [(String, LuaValue)] = []
                    if case .object(let pairs) = member.value {
                        for pair in pairs { headers.append((ASCIICase.lower(pair.key), LuaRouteEngine.luaValue(pair.value))) }
                    }
                    fields.append(("headers", LuaRouteEngine.object(headers)))
                default:
                    if member.key == "action", case .string(let name) = member.value { action = name }
                    fields.append((member.key, LuaRouteEngine.luaValue(member.value)))
                }
            }
        }
        fields.append(("method", .string(method)))
        for name in ["params", "query", "form", "headers"] where !present.contains(name) {
            fields.append((name, LuaRouteEngine.object([])))
        }
        return (.table(LuaTable(fields)), method, action)
    }
}
