import CLuatHost
import KVCore
import LuaRuntime
import LuatRouting

/// The KV store's clock in WASM: asks the host (JavaScript's `Date.now()`, or the clock the
/// engine was created with) through the `luat.now_ms` import.
final class HostClock: KVClock {
    func nowSeconds() -> Int64 {
        let ms = luat_host_now_ms()
        guard ms.isFinite else { return 0 }
        return Int64((ms / 1000).rounded(.down))
    }
}

/// One engine per WebAssembly instance: a Lua state with Luat's globals over an in-memory
/// KV store that lives as long as the instance. Files (`require`d modules) are held in memory.
final class WasmEngine {
    static let projectRoot = "/project"

    let files: MemoryFileSource
    let store: KVStore
    let runtime: LuaRuntime
    /// Route files loaded into environments of their own (LuatRouting's `RouteEngine`).
    let routes: LuaRouteEngine
    /// The routes found among the files under `src/routes`, found again after `writeFile`.
    private var table: RouteTable?
    static let routesDirectory = "src/routes"

    init() throws(ScriptError) {
        files = MemoryFileSource()
        store = KVStore(storage: MemoryStorage(), clock: HostClock())
        // print: nil keeps Lua's own print (stdout), which the host captures with io.write's output.
        do throws(LuaError) {
            runtime = try LuaRuntime(store: store, projectRoot: WasmEngine.projectRoot, libDirectory: "src/lib", files: files)
        } catch {
            throw ScriptError(message: error.message)
        }
        routes = try LuaRouteEngine(runtime: runtime)
    }

    /// `engine.run(source)`: runs `source` in the global environment; the results or the error.
    func run(_ request: JSONValue) -> JSONValue {
        guard case .string(let source)? = request["source"] else { return Self.failure("run: source must be a string") }
        var name = "main.lua"
        if case .string(let given)? = request["name"] { name = given }
        do throws(LuaError) {
            let results = try runtime.run(source: source, name: name)
            return .object([("results", .array(results.map(Self.json)))])
        } catch {
            return Self.failure(error)
        }
    }

    /// `engine.executeRoute` / `executeApi` / `executeAction` / `executeLoad`: answers the
    /// request (see `RouteRequest`) with LuatRouting's dispatcher, as `luat serve` would; the
    /// answer is the status, the headers (JSON pairs) and the body bytes. Route files named
    /// by path are loaded once and kept until `writeFile`; inline sources load afresh each call.
    func route(_ requestBytes: [UInt8]) -> (meta: JSONValue, body: [UInt8]) {
        let request: RouteRequest
        do throws(JSONError) {
            let json = try JSONValue.parse(requestBytes)
            do throws(RouteRequest.Invalid) {
                request = try RouteRequest(json)
            } catch {
                return (Self.failure(error.message), [])
            }
        } catch {
            return (Self.failure("bad request: " + error.message), [])
        }
        routes.inlineSources = request.sources
        defer { routes.inlineSources = [:] }
        var response = RouteDispatcher(production: request.production)
            .respond(files: request.files, method: request.method, action: request.action, ctx: LuaArgument(request.ctx), engine: routes)
        // HEAD: the GET answer without its body (the host has no Content-Length to keep).
        if request.method == "HEAD" { response.body = [] }
        return (Self.meta(response), response.body)
    }

    /// `engine.writeFile(path, source)`: adds or replaces a file under the project root.
    func writeFile(_ request: JSONValue) -> JSONValue {
        guard case .string(let path)? = request["path"], case .string(let source)? = request["source"] else {
            return Self.failure("writeFile: path and source must be strings")
        }
        files.files[LuaPath.join(WasmEngine.projectRoot, path)] = Array(source.utf8)
        routes.invalidate()  // route files load again (modules already `require`d stay)
        table = nil
        return .object([])
    }

    /// The routes of the files under `src/routes`, found as `luat serve` finds them on disk.
    func routeTable() throws(RouteError) -> RouteTable {
        if let table { return table }
        let prefix = WasmEngine.projectRoot + "/" + WasmEngine.routesDirectory + "/"
        var names: [String] = []
        for path in files.files.keys where path.hasPrefix(prefix) { names.append(String(path.dropFirst(prefix.count))) }
        let found = try RouteTable(root: WasmEngine.routesDirectory, files: names)
        table = found
        return found
    }

    /// `engine.route(path)`: the route that answers `path` (a request target; the query is
    /// ignored) and its parameters, or `route: null`; as `luat serve` matches it.
    func match(_ request: JSONValue) -> JSONValue {
        guard case .string(let target)? = request["path"] else { return Self.failure("route: path must be a string") }
        let path: RequestPath
        do throws(RequestPath.Problem) {
            path = try RequestPath(target: target)
        } catch {
            return Self.failure("route: invalid path '" + target + "'")
        }
        let found: RouteMatch?
        do throws(RouteError) {
            found = try routeTable().match(path.segments)
        } catch {
            return Self.failure(error.description)
        }
        guard let found else { return .object([("route", .null)]) }
        let route = found.route
        var params: [(key: String, value: JSONValue)] = []
        for key in found.params.keys.sorted() { params.append((key, .string(found.params[key] ?? ""))) }
        return .object([
            ("route", .object([
                ("folder", .string(route.folder)),
                ("pattern", .string(route.pattern.description)),
                ("endpoint", route.endpoint.map { JSONValue.string($0) } ?? .null),
                ("page", route.page.map { JSONValue.string($0) } ?? .null),
                ("layouts", .array(route.layouts.map { JSONValue.string($0) })),
            ])),
            ("params", .object(params)),
        ])
    }

    /// `engine.request(method, url, { headers, body })`: one HTTP request answered as `luat
    /// serve` answers it: the path matched against the routes under `src/routes`, `ctx` built
    /// from the method, URL, headers and body by the same Swift code, then dispatched. Request:
    /// `{ method, url, headers: [[name, value], ...], body }` (body text, may be absent).
    func request(_ request: JSONValue) -> (meta: JSONValue, body: [UInt8]) {
        guard case .string(let target)? = request["url"] else { return (Self.failure("request: url must be a string"), []) }
        var method = "GET"
        if case .string(let m)? = request["method"], !m.isEmpty { method = ASCIICase.upper(m) }
        var headers: [(name: String, value: String)] = []
        if case .array(let pairs)? = request["headers"] {
            for pair in pairs {
                guard case .array(let nv) = pair, nv.count == 2, case .string(let name) = nv[0], case .string(let value) = nv[1] else {
                    return (Self.failure("request: headers must be [name, value] pairs of strings"), [])
                }
                headers.append((name, value))
            }
        }
        headers = RequestContext.mergedHeaders(headers)
        var rawBody: [UInt8] = []
        if case .string(let text)? = request["body"] { rawBody = Array(text.utf8) }
        // An absolute URL keeps its origin; a path gets `http://localhost`.
        var origin = "http://localhost"
        var pathTarget = target
        if target.hasPrefix("http://") || target.hasPrefix("https://") {
            let afterScheme = target.utf8.firstIndex(of: UInt8(ascii: ":"))!
            let hostStart = target.utf8.index(afterScheme, offsetBy: 3)
            if let slash = target.utf8[hostStart...].firstIndex(of: UInt8(ascii: "/")) {
                origin = String(target[..<slash])
                pathTarget = String(target[slash...])
            } else {
                origin = target
                pathTarget = "/"
            }
        }
        let response = respond(method: method, origin: origin, target: pathTarget, headers: headers, rawBody: rawBody,
                               production: request["production"] == .bool(true))
        return (Self.meta(response), method == "HEAD" ? [] : response.body)
    }

    private func respond(method: String, origin: String, target: String, headers: [(name: String, value: String)],
                         rawBody: [UInt8], production: Bool) -> RouteResponse {
        let path: RequestPath
        do throws(RequestPath.Problem) {
            path = try RequestPath(target: target)
        } catch {
            return .error(400, "Bad Request", detail: "invalid path")
        }
        let dispatcher = RouteDispatcher(production: production)
        let found: RouteMatch?
        do throws(RouteError) {
            found = try routeTable().match(path.segments)
        } catch {
            return dispatcher.failure(ScriptError(message: error.description))
        }
        guard let found else { return .error(404, "Not Found") }
        let query = ParsedQuery(path.query)
        var ctx = RequestContext(method: method, url: origin + target, path: path.raw, params: found.params,
                                 query: query.fields, headers: headers, rawBody: rawBody, action: query.action)
        ctx.parseBody()
        return dispatcher.respond(to: ctx, route: found.route, engine: routes)
    }

    static func meta(_ response: RouteResponse) -> JSONValue {
        var headers: [JSONValue] = []
        for header in response.headers { headers.append(.array([.string(header.name), .string(header.value)])) }
        return .object([("status", .integer(Int64(response.status))), ("headers", .array(headers))])
    }

    // MARK: JSON for the host

    static func failure(_ message: String) -> JSONValue {
        .object([("error", .object([("message", .string(message))]))])
    }

    static func failure(_ error: LuaError) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("message", .string(error.message))]
        if let traceback = error.traceback { members.append(("traceback", .string(traceback))) }
        return .object([("error", .object(members))])
    }

    /// A Lua result as JSON for the host: tables through the runtime's JSON rules; what JSON
    /// cannot hold (functions, userdata, non-UTF-8 strings, NaN) as a descriptive string.
    static func json(_ value: LuaValue) -> JSONValue {
        if case .string(let bytes) = value, !isUTF8(bytes) { return .string(String(decoding: bytes, as: UTF8.self)) }
        do throws(LuaError) {
            return try LuaJSON.jsonValue(value)
        } catch {
            switch value {
            case .number(let d): return .string(d.isNaN ? "nan" : (d < 0 ? "-inf" : "inf"))
            case .table: return .string("table (cannot be written as JSON: \(error.message))")
            default: return .string(value.typeName)
            }
        }
    }

    static func isUTF8(_ bytes: [UInt8]) -> Bool { UTF8Validation.isValid(bytes) }
}
