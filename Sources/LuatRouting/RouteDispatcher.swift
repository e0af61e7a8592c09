import KVCore
import LuaRuntime

/// The rules of `luat serve` (issue 4) that turn one request and a route's files into a
/// response, shared by the native server and the WASM engine:
///
/// - `+server.lua`: the global function named after the method (`GET`, `POST`, …); `HEAD`
///   falls back to `GET` (the host drops the body); a method the file does not export is 405
///   with `Allow`.
/// - `+page.server.lua`: GET/HEAD run every layout's `load`, outermost first, then the page's,
///   merged (later keys win); POST/PUT/PATCH/DELETE run `actions[name]` (`?/name`, else
///   `default`), a function or a table of per-method functions.
/// - What a function returns becomes a response (see `endpointResponse`, `pageResponse`).
/// - A Lua error is a 500 JSON error: message and `file:line` in development, a generic
///   message in production.
///
/// It never touches Lua itself: an engine (`RouteEngine`) says what a file defines and runs
/// its functions. Runs on the engine's thread (a worker thread in `luat serve`).
public struct RouteDispatcher: Sendable {
    /// Methods a `+server.lua` can export.
    public static let endpointMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    /// Methods a page's actions answer.
    public static let actionMethods = ["POST", "PUT", "PATCH", "DELETE"]
    /// The functions an engine looks for in a route file's environment.
    public static let routeFunctions = endpointMethods + ["load"]

    /// Hide Lua error details from clients.
    public var production: Bool
    /// Where a Lua error is logged (message and location, even in production).
    public var logError: @Sendable (ScriptError) -> Void

    public init(production: Bool, logError: @escaping @Sendable (ScriptError) -> Void = { _ in }) {
        self.production = production
        self.logError = logError
    }

    /// Answers one request: `method` (upper case) and `action` (the `?/name`, if any) choose
    /// the function; `ctx` is passed to it as is.
    public func respond<Engine: RouteEngine>(files: RouteFiles, method: String, action: String?,
                                             ctx: Engine.Context, engine: Engine) -> RouteResponse {
        do throws(ScriptError) {
            return try dispatch(files: files, method: method, action: action, ctx: ctx, engine: engine)
        } catch {
            return failure(error)
        }
    }

    /// Answers `request` with the files of the route it matched. `ctx` is built once, here,
    /// and every function the request runs (layouts' `load`, the page's) gets it.
    public func respond<Engine: RouteEngine>(to request: RequestContext, route: Route, engine: Engine) -> RouteResponse
        where Engine.Context == LuaArgument {
        respond(files: route.files, method: request.method, action: request.action, ctx: request.luaArgument, engine: engine)
    }

    /// The answer to a Lua error: 500, or 503 when the request ran out of time or the server
    /// is stopping; message and `file:line` in development, a generic message in production.
    /// The error is logged either way.
    public func failure(_ error: ScriptError) -> RouteResponse {
        logError(error)
        let status: Int
        let title: String
        switch error.kind {
        case .timeLimit, .interrupted: (status, title) = (503, "Service Unavailable")
        case .error, .memoryLimit: (status, title) = (500, "Internal Server Error")
        }
        if production { return .error(status, title) }
        var members: [(key: String, value: JSONValue)] = [("error", .string(title)), ("message", .string(error.message))]
        if let location = error.location { members.append(("location", .string(location))) }
        return .json(.object(members), status: status)
    }

    private func dispatch<Engine: RouteEngine>(files: RouteFiles, method: String, action: String?,
                                               ctx: Engine.Context, engine: Engine) throws(ScriptError) -> RouteResponse {
        let isHead = method == "HEAD"

        if let endpoint = files.endpoint {
            let exports = try engine.exports(of: endpoint)
            if exports.functions.contains(method) {
                return try Self.checkedEndpointResponse(try engine.call(file: endpoint, function: [method], ctx: ctx), file: endpoint)
            }
            if isHead && exports.functions.contains("GET") {
                // The body is computed (its length is the Content-Length) but not sent.
                return try Self.checkedEndpointResponse(try engine.call(file: endpoint, function: ["GET"], ctx: ctx), file: endpoint)
            }
        }

        if let page = files.page {
            let exports = try engine.exports(of: page)
            if method == "GET" || isHead {
                return try load(page: page, exports: exports, layouts: files.layouts, ctx: ctx, engine: engine)
            }
            if let actions = exports.actions, Self.actionMethods.contains(method) {
                let name = action ?? "default"
                switch actions[name] {
                case nil:
                    return .error(404, "No action named '" + name + "'")
                case .function:
                    return try PageData(try engine.call(file: page, function: ["actions", name], ctx: ctx), file: page).response()
                case .methods(let methods):
                    if methods.contains(method) {
                        return try PageData(try engine.call(file: page, function: ["actions", name, method], ctx: ctx), file: page).response()
                    }
                    let allowed = Self.actionMethods.filter { methods.contains($0) }
                    return .error(405, "Method Not Allowed", headers: [("Allow", (["GET", "HEAD"] + allowed).joined(separator: ", "))])
                }
            }
        }
        return .error(405, "Method Not Allowed", headers: [("Allow", try allowed(files: files, engine: engine))])
    }

    /// The `Allow` field of a 405: the endpoint's methods (HEAD with GET), then the page's
    /// GET and HEAD, then its action methods when it has actions.
    private func allowed<Engine: RouteEngine>(files: RouteFiles, engine: Engine) throws(ScriptError) -> String {
        var allow: [String] = []
        if let endpoint = files.endpoint {
            let functions = try engine.exports(of: endpoint).functions
            allow += Self.endpointMethods.filter { functions.contains($0) || ($0 == "HEAD" && functions.contains("GET")) }
        }
        if let page = files.page {
            allow += ["GET", "HEAD"]
            if try engine.exports(of: page).actions != nil { allow += Self.actionMethods }
        }
        var seen = Set<String>()
        return allow.filter { seen.insert($0).inserted }.joined(separator: ", ")
    }

    /// GET of a page: every layout's `load` on the way, outermost first, then the page's;
    /// later keys win. The first redirect or failure answers at once.
    private func load<Engine: RouteEngine>(page: String, exports: RouteExports, layouts: [String],
                                           ctx: Engine.Context, engine: Engine) throws(ScriptError) -> RouteResponse {
        var merged = PageData()
        var files: [(String, Bool)] = []
        for layout in layouts { files.append((layout, try engine.exports(of: layout).functions.contains("load"))) }
        files.append((page, exports.functions.contains("load")))
        for (file, hasLoad) in files where hasLoad {
            let result = try engine.call(file: file, function: ["load"], ctx: ctx)
            let data = try PageData(result, file: file)
            if data.redirect != nil || data.failed { return data.response() }
            merged.merge(data)
        }
        return merged.response()
    }

    // MARK: Reading what Lua returned

    /// A `+server.lua` result: `{ status, body, headers }` (or `redirect`); a string is a
    /// text body; another table with none of those keys is a JSON body. A result that breaks
    /// the response rules (see `finalStatus`, `redirect` not a string) is a 500 naming the rule.
    public static func endpointResponse(_ result: ScriptReturn) -> RouteResponse {
        do throws(ScriptError) {
            return try checkedEndpointResponse(result, file: nil)
        } catch {
            return .error(500, "Internal Server Error", detail: error.message)
        }
    }

    /// `endpointResponse`, with a broken rule thrown as a `ScriptError` located at `file`.
    static func checkedEndpointResponse(_ result: ScriptReturn, file: String?) throws(ScriptError) -> RouteResponse {
        switch result {
        case .failure(let status, let data):
            let status = try finalStatus(.integer(Int64(status)), file: file) ?? 200
            return data.map { bodyResponse($0, status: status, headers: []) } ?? RouteResponse(status: status)
        case .value(nil):
            return RouteResponse(status: 200)
        case .value(.string(let text)?):
            return .text(text)
        case .value(let value?):
            guard case .object(let members) = value,
                  members.contains(where: { isResponseKey($0.key) || $0.key == "body" }) else {
                if isEmptyTable(value) { return RouteResponse(status: 200) }
                return bodyResponse(value, status: 200, headers: [])
            }
            let headers = headerList(value["headers"])
            let status = try finalStatus(value["status"], file: file)
            if let redirect = value["redirect"] {
                guard case .string(let location) = redirect, !location.isEmpty else {
                    throw ScriptError(message: "redirect must be a non-empty string (a URL), got \(typeName(redirect))", location: file)
                }
                let code = status.flatMap { (300...399).contains($0) ? $0 : nil } ?? 303
                return RouteResponse(status: code, headers: [("Location", location)] + headers)
            }
            let code = status ?? 200
            if let body = value["body"] {
                return body == .null ? RouteResponse(status: code, headers: headers) : bodyResponse(body, status: code, headers: headers)
            }
            // No `body` key: other keys (as `fail(400, { error = ... })` makes) are the JSON body.
            let rest = members.filter { !isResponseKey($0.key) }
            return rest.isEmpty ? RouteResponse(status: code, headers: headers) : .json(.object(rest), status: code, headers: headers)
        }
    }

    /// A page `load` or action result: `redirect`, `status` and `headers` keys steer the
    /// response; the other keys are the JSON body. A broken rule is a 500 naming it.
    public static func pageResponse(_ result: ScriptReturn) -> RouteResponse {
        do throws(ScriptError) {
            return try PageData(result, file: nil).response()
        } catch {
            return .error(500, "Internal Server Error", detail: error.message)
        }
    }

    /// The status a route sets, as `fail()` checks it: an integer (a float only when whole)
    /// from 200 to 599 — 1xx statuses are not final responses. Nil when absent.
    static func finalStatus(_ value: JSONValue?, file: String?) throws(ScriptError) -> Int? {
        let shown: String
        switch value {
        case nil, .null?: return nil
        case .integer(let n)?:
            if (200...599).contains(n) { return Int(n) }
            shown = String(n)
        case .double(let d)?:
            if d.rounded() == d && d >= 200 && d <= 599 { return Int(d) }
            shown = JSONValue.formatDouble(d)
        case .string(let text)?:
            shown = "the string \"" + text + "\""
        case let other?:
            shown = "a " + typeName(other)
        }
        throw ScriptError(message: "status must be an integer HTTP status from 200 to 599 (1xx cannot end a response), got \(shown)", location: file)
    }

    /// `status`, `headers`, `redirect`: the keys of a result that steer the response.
    private static func isResponseKey(_ key: String) -> Bool {
        switch key {
        case "status", "headers", "redirect": return true
        default: return false
        }
    }

    static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer, .double: return "number"
        case .string: return "string"
        case .array, .object: return "table"
        }
    }

    static func bodyResponse(_ body: JSONValue, status: Int, headers: [(name: String, value: String)]) -> RouteResponse {
        if case .string(let text) = body { return .text(text, status: status, headers: headers) }
        return .json(body, status: status, headers: headers)
    }

    static func headerList(_ value: JSONValue?) -> [(name: String, value: String)] {
        guard case .object(let members)? = value else { return [] }
        var out: [(name: String, value: String)] = []
        for member in members {
            switch member.value {
            case .array(let values): for v in values { if let s = scalarText(v) { out.append((member.key, s)) } }
            default: if let s = scalarText(member.value) { out.append((member.key, s)) }
            }
        }
        return out
    }

    static func scalarText(_ value: JSONValue) -> String? {
        switch value {
        case .string(let s): return s
        case .integer(let n): return String(n)
        case .double(let d): return JSONValue.formatDouble(d)
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    static func isEmptyTable(_ value: JSONValue) -> Bool {
        switch value {
        case .array(let a): return a.isEmpty
        case .object(let o): return o.isEmpty
        default: return false
        }
    }
}

/// A page's data as it builds up from layouts and the page.
struct PageData {
    var members: [(key: String, value: JSONValue)] = []
    var status: Int?
    var headers: [(name: String, value: String)] = []
    var redirect: String?
    var failed = false

    init() {}

    init(_ result: ScriptReturn, file: String?) throws(ScriptError) {
        switch result {
        case .failure(let status, let data):
            self.status = try RouteDispatcher.finalStatus(.integer(Int64(status)), file: file)
            failed = true
            if case .object(let m)? = data { members = m } else if let data, !RouteDispatcher.isEmptyTable(data) { members = [("data", data)] }
        case .value(nil):
            break
        case .value(let value?):
            guard case .object(let m) = value else {
                if !RouteDispatcher.isEmptyTable(value) { members = [("data", value)] }
                return
            }
            for member in m {
                switch member.key {
                case "status": status = try RouteDispatcher.finalStatus(member.value, file: file)
                case "headers": headers = RouteDispatcher.headerList(member.value)
                case "redirect":
                    guard case .string(let s) = member.value, !s.isEmpty else {
                        throw ScriptError(message: "redirect must be a non-empty string (a URL), got \(RouteDispatcher.typeName(member.value))", location: file)
                    }
                    redirect = s
                default: members.append(member)
                }
            }
        }
    }

    mutating func merge(_ other: PageData) {
        for member in other.members {
            if let i = members.firstIndex(where: { $0.key == member.key }) { members[i].value = member.value } else { members.append(member) }
        }
        if let s = other.status { status = s }
        headers += other.headers
    }

    func response() -> RouteResponse {
        if let redirect {
            let code = status.flatMap { (300...399).contains($0) ? $0 : nil } ?? 303
            return RouteResponse(status: code, headers: [("Location", redirect)] + headers)
        }
        return .json(.object(members), status: status ?? 200, headers: headers)
    }
}
