import KVCore
import LuatHTTP
import LuatRouting
import Synchronization

/// The Lua routes of `luat serve` as an `HTTPHandler`: matches the request against the routes
/// found at start-up (on the calling event loop: no file system, no Lua) and queues the route's
/// work on the `StatePool`, whose worker runs it on its own Lua state and calls `respond`.
/// Under `--watch` the whole request goes to a worker, which first looks for changed files.
///
/// Thread-safe: the route table is behind a mutex (replaced whole by a reload).
final class LuaRoutesHandler: HTTPHandler {
    let options: ServerOptions
    let pool: StatePool<any RouteScriptEngine>
    private let routesRoot: String
    private let routes: Mutex<(table: RouteTable, signature: FileTreeSignature?)>
    private let output: OutputLines
    private let dispatcher: RouteDispatcher

    init(routesRoot: String, options: ServerOptions, output: OutputLines,
         makeEngine: @escaping @Sendable () throws -> any RouteScriptEngine) throws(RouteError) {
        self.options = options
        self.routesRoot = routesRoot
        self.output = output
        let table = try RouteTable.discover(root: routesRoot)
        let signature = options.watch ? FileTreeSignature(folders: options.watchedFolders) : nil
        self.routes = Mutex((table, signature))
        self.pool = StatePool(size: max(1, options.workers), make: makeEngine)
        self.dispatcher = RouteDispatcher(production: options.production) { error in
            output.err("Lua error: \(error)")
        }
    }

    var routeTable: RouteTable { routes.withLock { $0.table } }

    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let path: RequestPath
        do {
            path = try RequestPath(target: request.target)
        } catch {
            return respond(Self.http(.error(400, "Bad Request", detail: "invalid path")))
        }
        if options.watch {
            let queued = pool.submit { [self] state in
                if let problem = reloadIfChanged() {
                    return respond(Self.http(.error(500, "Internal Server Error", detail: options.production ? nil : problem)))
                }
                guard let (route, params) = routeTable.match(path.segments) else {
                    return respond(Self.http(.error(404, "Not Found")))
                }
                respond(run(route, params: params, path: path, request: request, state: state))
            }
            if !queued { respond(Self.unavailable) }
            return
        }
        guard let (route, params) = routeTable.match(path.segments) else {
            return respond(Self.http(.error(404, "Not Found")))
        }
        let queued = pool.submit { [self] state in
            respond(run(route, params: params, path: path, request: request, state: state))
        }
        if !queued { respond(Self.unavailable) }
    }

    /// Builds `ctx` and runs the route on this worker's state. Runs on a worker thread.
    private func run(_ route: Route, params: [String: String], path: RequestPath, request: HTTPRequest,
                     state: () throws -> any RouteScriptEngine) -> HTTPResponse {
        let query = ParsedQuery(path.query)
        let host = request.headers["host"] ?? "\(LuatHTTPServer.urlHost(options.host)):\(options.port)"
        var ctx = RequestContext(
            method: request.method,
            url: "http://\(host)\(request.target)",
            path: path.raw,
            params: params,
            query: query.fields,
            headers: Self.mergedHeaders(request.headers),
            rawBody: request.body,
            action: query.action
        )
        ctx.parseBody()
        do {
            let engine = try state()
            return Self.http(dispatcher.respond(route: route, ctx: ctx, engine: engine))
        } catch let error as ScriptError {
            // The state could not start (e.g. hooks.server.lua failed).
            return Self.http(dispatcher.failure(error))
        } catch {
            output.err("Lua state error: \(error)")
            return Self.http(.error(500, "Internal Server Error", detail: options.production ? nil : "\(error)"))
        }
    }

    static let unavailable = http(.error(503, "Service Unavailable", detail: "the server is shutting down"))

    static func http(_ response: RouteResponse) -> HTTPResponse {
        HTTPResponse(status: response.status, headers: HTTPHeaders(response.headers), body: response.body)
    }

    /// One field per header name (the core's names are lower case already), repeated headers
    /// joined with `, ` (cookies with `; `), as `ctx.headers` promises.
    static func mergedHeaders(_ headers: HTTPHeaders) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        out.reserveCapacity(headers.fields.count)
        for field in headers {
            if let i = out.firstIndex(where: { $0.name == field.name }) {
                out[i].value += (field.name == "cookie" ? "; " : ", ") + field.value
            } else {
                out.append((field.name, field.value))
            }
        }
        return out
    }

    /// Under `--watch`: when a file under the watched folders changed, find routes again and
    /// make every Lua state start afresh (so changed route files and modules load again).
    /// Returns a problem with the routes folder, if any. Runs on a worker thread.
    private func reloadIfChanged() -> String? {
        let current = FileTreeSignature(folders: options.watchedFolders)
        let changed = routes.withLock { $0.signature != current }
        guard changed else { return nil }
        do {
            let table = try RouteTable.discover(root: routesRoot)
            routes.withLock { $0 = (table, current) }
            pool.invalidate()
            output.out("Reloaded: \(table.routes.count) route\(table.routes.count == 1 ? "" : "s")")
            return nil
        } catch {
            return "\(error)"
        }
    }
}
