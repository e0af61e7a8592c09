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
    let pool: StatePool<LuaRouteEngine>
    private let routesRoot: String
    private let routes: Mutex<(table: RouteTable, signature: FileTreeSignature?)>
    private let output: OutputLines
    private let dispatcher: RouteDispatcher

    init(routesRoot: String, options: ServerOptions, output: OutputLines,
         makeEngine: @escaping @Sendable () throws -> LuaRouteEngine) throws(RouteError) {
        self.options = options
        self.routesRoot = routesRoot
        self.output = output
        let table = try RouteTable.discover(root: routesRoot)
        let signature = options.watch ? FileTreeSignature(folders: options.watchedFolders) : nil
        self.routes = Mutex((table, signature))
        self.pool = StatePool(size: max(1, options.workers), make: makeEngine, retire: { $0.needsReplacement })
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
                guard let match = routeTable.match(path.segments) else {
                    return respond(Self.http(.error(404, "Not Found")))
                }
                respond(run(match, path: path, request: request, state: state))
            }
            if !queued { respond(Self.unavailable) }
            return
        }
        guard let match = routeTable.match(path.segments) else {
            return respond(Self.http(.error(404, "Not Found")))
        }
        let queued = pool.submit { [self] state in
            respond(run(match, path: path, request: request, state: state))
        }
        if !queued { respond(Self.unavailable) }
    }

    /// Builds `ctx` (once) and runs the route on this worker's state. Runs on a worker thread.
    private func run(_ match: RouteMatch, path: RequestPath, request: HTTPRequest,
                     state: () throws -> LuaRouteEngine) -> HTTPResponse {
        let query = ParsedQuery(path.query)
        let host = request.headers["host"] ?? "\(LuatHTTPServer.urlHost(options.host)):\(options.port)"
        var ctx = RequestContext(
            method: request.method,
            url: "http://\(host)\(request.target)",
            path: path.raw,
            params: match.params,
            query: query.fields,
            headers: RequestContext.mergedHeaders(request.headers.map { ($0.name, $0.value) }),
            rawBody: request.body,
            action: query.action
        )
        ctx.parseBody()
        do {
            let engine = try state()
            let response = engine.withRequestBudget { dispatcher.respond(to: ctx, route: match.route, engine: engine) }
            return Self.http(response)
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
