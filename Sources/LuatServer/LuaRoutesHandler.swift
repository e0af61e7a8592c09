import KVCore
import LuatHTTP
import LuatRouting
import Synchronization

/// The Lua routes of `luat serve` as an `HTTPHandler`: matches the request against the routes
/// found at start-up (on the calling event loop: no file system) and runs the route on a Lua
/// state, in one of two places:
/// - on the event loop itself, with that loop's own state, when the route is known to be short
///   (`ServerOptions.eventLoopRouteLimit`: its recent runs averaged less than the limit). No
///   hop to another thread and back, as nginx runs Lua;
/// - otherwise on the `StatePool`'s worker queue, whose worker runs it on its own state and
///   calls `respond`: a route not yet measured, a slow one, every route when the limit is off
///   (the default, and always with the PostgreSQL backend, whose calls must not block an event
///   loop). The route's average goes with the job, so a short route is left to a worker that
///   is already awake rather than waking a sleeping one (`JobQueue`).
/// A route that turns slow while on the loop costs that loop at most one run (bounded by the
/// request time budget) before its average sends it to the workers.
/// Under `--watch` the whole request goes to a worker, which first looks for changed files.
///
/// Thread-safe: the route table is fixed, or under `--watch` behind a mutex (replaced whole by a
/// reload); the run-time averages are atomics.
final class LuaRoutesHandler: HTTPHandler {
    let options: ServerOptions
    let pool: StatePool<LuaRouteEngine>
    private let routesRoot: String
    private let routes: Mutex<(table: RouteTable, signature: FileTreeSignature?)>
    /// The route table when it never changes (no `--watch`): read without the mutex.
    private let fixedTable: RouteTable?
    private let output: OutputLines
    private let dispatcher: RouteDispatcher
    /// Each route's recent run time, by route folder (fixed at start-up: not used with `--watch`).
    private let costs: [String: RouteCost]
    /// Routes whose average run is below this many nanoseconds run on the event loop.
    private let eventLoopLimit: Int?

    init(routesRoot: String, options: ServerOptions, output: OutputLines,
         makeEngine: @escaping @Sendable () throws -> LuaRouteEngine) throws(RouteError) {
        self.options = options
        self.routesRoot = routesRoot
        self.output = output
        let table = try RouteTable.discover(root: routesRoot)
        let signature = options.watch ? FileTreeSignature(folders: options.watchedFolders) : nil
        self.routes = Mutex((table, signature))
        self.fixedTable = options.watch ? nil : table
        if let limit = options.eventLoopRouteLimit, !options.watch {
            self.eventLoopLimit = limit.nanosecondCount
        } else {
            self.eventLoopLimit = nil
        }
        self.costs = options.watch ? [:] : Dictionary(table.routes.map { ($0.folder, RouteCost()) }, uniquingKeysWith: { a, _ in a })
        self.pool = StatePool(size: max(1, options.workers), make: makeEngine, retire: { $0.needsReplacement })
        self.dispatcher = RouteDispatcher(production: options.production) { error in
            output.err("Lua error: \(error)")
        }
    }

    var routeTable: RouteTable { fixedTable ?? routes.withLock { $0.table } }

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
        let cost = costs[match.route.folder]
        if let limit = eventLoopLimit, let cost, cost.isBelow(limit) {
            let ran = pool.runHere { state in
                respond(run(match, path: path, request: request, state: state, cost: cost))
            }
            if !ran { respond(Self.unavailable) }
            return
        }
        let queued = pool.submit(expected: cost?.average) { [self] state in
            respond(run(match, path: path, request: request, state: state, cost: cost))
        }
        if !queued { respond(Self.unavailable) }
    }

    /// Builds `ctx` (once) and runs the route on this worker's state. Runs on a worker thread.
    private func run(_ match: RouteMatch, path: RequestPath, request: HTTPRequest,
                     state: () throws -> LuaRouteEngine, cost: RouteCost? = nil) -> HTTPResponse {
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
            // Making a state is not the route's cost: timed from here.
            let engine = try state()
            let start = ContinuousClock.now
            let response = engine.withRequestBudget { dispatcher.respond(to: ctx, route: match.route, engine: engine) }
            cost?.record(since: start)
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

/// A route's recent run time (which decides where it runs, and whether a sleeping worker is
/// woken for it): an exponentially weighted average (weight 1/4) of its runs, in nanoseconds, from the call into Lua to the response (making a state is not counted; loading
/// the route file on a state's first use is). Unknown until the first run. Updates
/// from several threads may overwrite each other; an average that misses a sample is still
/// an average. Thread-safe.
final class RouteCost: Sendable {
    private let nanoseconds = Atomic<Int>(-1)

    /// The average, nil until the first run.
    var average: Duration? {
        let value = nanoseconds.load(ordering: .relaxed)
        return value < 0 ? nil : .nanoseconds(value)
    }

    /// True once measured and the average is under `limit` nanoseconds.
    func isBelow(_ limit: Int) -> Bool {
        let value = nanoseconds.load(ordering: .relaxed)
        return value >= 0 && value < limit
    }

    /// Adds the run that started at `start` to the average.
    func record(since start: ContinuousClock.Instant) {
        record((ContinuousClock.now - start).nanosecondCount)
    }

    /// Adds one run of `run` nanoseconds to the average.
    func record(_ run: Int) {
        let old = nanoseconds.load(ordering: .relaxed)
        nanoseconds.store(old < 0 ? run : old + (run - old) / 4, ordering: .relaxed)
    }
}
