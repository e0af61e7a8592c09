#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Hummingbird
import KVCore
import LuatRouting
import Logging
import NIOCore
import Synchronization

/// How `luat serve` runs.
public struct ServerOptions: Sendable {
    public var host: String
    public var port: Int
    /// Hide Lua error details from clients (they still go to the server's error output).
    public var production = false
    /// Find routes again and reload Lua files when files under the routes or lib folder change.
    public var watch = false
    /// Largest request body accepted; larger ones get 413.
    public var maxBodySize = 26 * 1024 * 1024
    /// Number of Lua states (and worker threads).
    public var workers: Int
    /// Folders `--watch` looks at.
    public var watchedFolders: [String] = []

    public init(host: String, port: Int, workers: Int) {
        self.host = host
        self.port = port
        self.workers = workers
    }
}

/// `luat serve`: Hummingbird receives requests on its event loops; each request is matched
/// against the routes found at start-up and run on a borrowed Lua state on a worker thread.
public final class LuatHTTPServer: Sendable {
    public let options: ServerOptions
    private let routesRoot: String
    private let pool: StatePool<any RouteScriptEngine>
    private let routes: Mutex<(table: RouteTable, signature: FileTreeSignature?)>
    private let output: OutputLines

    /// - Parameters:
    ///   - routesRoot: the routes folder (found again under `--watch`).
    ///   - makeEngine: makes one Lua state; called on a worker thread, once per state
    ///     (and again after a `--watch` reload).
    public init(routesRoot: String, options: ServerOptions, makeEngine: @escaping @Sendable () throws -> any RouteScriptEngine) throws(RouteError) {
        self.options = options
        self.routesRoot = routesRoot
        let table = try RouteTable.discover(root: routesRoot)
        let signature = options.watch ? FileTreeSignature(folders: options.watchedFolders) : nil
        self.routes = Mutex((table, signature))
        self.pool = StatePool(size: max(1, options.workers), make: makeEngine, retire: { $0.needsReplacement })
        self.output = OutputLines()
    }

    public var routeTable: RouteTable { routes.withLock { $0.table } }

    /// Serves until SIGINT or SIGTERM; requests in flight finish, then the Lua states close.
    /// `onRunning` gets the port actually bound (useful with port 0).
    public func run(onRunning: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        var logger = Logger(label: "luat")
        logger.logLevel = .warning
        let responder = Responder(server: self)
        let options = self.options
        let output = self.output
        let app = Application(
            responder: responder,
            // Idle keep-alive connections (and HTTP/1.0 clients, which Hummingbird keeps open)
            // are closed after a minute.
            server: .http1(configuration: .init(idleTimeout: .seconds(60))),
            configuration: .init(address: .hostname(options.host, port: options.port)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? options.port
                let mode = options.production ? "production" : "development"
                let watching = options.watch ? ", watching for changes" : ""
                output.out("Luat server running at http://\(Self.urlHost(options.host)):\(port)/ (\(mode), \(options.workers) Lua state\(options.workers == 1 ? "" : "s")\(watching))")
                onRunning(port)
            },
            logger: logger
        )
        do {
            try await app.runService()
        } catch {
            try? await pool.shutdown()
            throw error
        }
        try await pool.shutdown()
        output.out("Luat server stopped")
    }

    static func urlHost(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

    // MARK: One request

    struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let server: LuatHTTPServer

        func respond(to request: Request, context: Context) async throws -> Response {
            // The access log line is neither timed nor formatted when standard output is /dev/null.
            guard server.output.outputDiscarded == false else {
                return Self.response(await server.handle(request), head: request.method == .head)
            }
            let start = ContinuousClock.now
            let result = await server.handle(request)
            let elapsed = ContinuousClock.now - start
            let path = (request.head.path ?? "/").split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "/"
            server.output.out("\(request.method.rawValue) \(path) \(result.status) \(Self.milliseconds(elapsed))")
            return Self.response(result, head: request.method == .head)
        }

        static func milliseconds(_ duration: Duration) -> String {
            let (seconds, attoseconds) = duration.components
            let micros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
            return "\(micros / 1000).\(String(micros % 1000 / 10 + 100).dropFirst())ms"
        }

        /// For HEAD the Content-Length is the GET body's, and no body is sent.
        static func response(_ result: RouteResponse, head: Bool = false) -> Response {
            var fields = HTTPFields()
            for header in result.headers {
                guard let name = HTTPFields.Element.Name(header.name) else { continue }
                fields.append(HTTPFields.Element(name: name, value: header.value))
            }
            var buffer = ByteBuffer()
            if !head { buffer.writeBytes(result.body) }
            fields[.contentLength] = String(result.body.count)
            return Response(status: .init(code: result.status), headers: fields, body: .init(byteBuffer: buffer))
        }
    }

    func handle(_ request: Request) async -> RouteResponse {
        let target = request.head.path ?? "/"
        let path: RequestPath
        do {
            path = try RequestPath(target: target)
        } catch {
            return .error(400, "Bad Request", detail: "invalid path")
        }
        if options.watch {
            if let problem = await reloadIfChanged() { return .error(500, "Internal Server Error", detail: options.production ? nil : problem) }
        }
        guard let (route, params) = routeTable.match(path.segments) else {
            return .error(404, "Not Found")
        }
        let rawBody: [UInt8]
        switch await readBody(request) {
        case .success(let bytes): rawBody = bytes
        case .failure(.tooLarge): return .error(413, "Payload Too Large", headers: [("Connection", "close")])
        case .failure(.unreadable): return .error(400, "Bad Request", detail: "the request body could not be read")
        }

        let query = ParsedQuery(path.query)
        var ctx = RequestContext(
            method: request.method.rawValue,
            url: "http://\(request.head.authority ?? "\(Self.urlHost(options.host)):\(options.port)")\(target)",
            path: path.raw,
            params: params,
            query: query.fields,
            headers: Self.headers(request.headers),
            rawBody: rawBody,
            action: query.action
        )
        ctx.parseBody()
        let output = self.output
        let dispatcher = RouteDispatcher(production: options.production) { error in
            output.err("Lua error: \(error)")
        }
        let context = ctx
        do {
            return try await pool.withState { engine in dispatcher.respond(route: route, ctx: context, engine: engine) }
        } catch let error as ScriptError {
            // The state could not start (e.g. hooks.server.lua failed).
            return dispatcher.failure(error)
        } catch {
            output.err("Lua state error: \(error)")
            return .error(500, "Internal Server Error", detail: options.production ? nil : "\(error)")
        }
    }

    enum BodyProblem: Error { case tooLarge, unreadable }

    /// The body, read chunk by chunk and refused as soon as it passes the limit (the
    /// declared Content-Length is checked before reading anything).
    private func readBody(_ request: Request) async -> Result<[UInt8], BodyProblem> {
        let limit = options.maxBodySize
        if let declared = request.headers[.contentLength], let length = Int(declared), length > limit {
            return .failure(.tooLarge)
        }
        var bytes: [UInt8] = []
        do {
            for try await chunk in request.body {
                if bytes.count + chunk.readableBytes > limit { return .failure(.tooLarge) }
                bytes.append(contentsOf: chunk.readableBytesView)
            }
        } catch {
            return .failure(.unreadable)
        }
        return .success(bytes)
    }

    static func headers(_ fields: HTTPFields) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        var index: [String: Int] = [:]
        for field in fields {
            let name = field.name.canonicalName
            if let i = index[name] {
                out[i].value += (name == "cookie" ? "; " : ", ") + field.value
            } else {
                index[name] = out.count
                out.append((name, field.value))
            }
        }
        return out
    }

    /// Under `--watch`: when a file under the watched folders changed, find routes again and
    /// make every Lua state start afresh (so changed route files and modules load again).
    /// Returns a problem with the routes folder, if any.
    private func reloadIfChanged() async -> String? {
        let folders = options.watchedFolders
        let root = routesRoot
        do {
            let current = try await pool.run { FileTreeSignature(folders: folders) }
            let changed = routes.withLock { $0.signature != current }
            guard changed else { return nil }
            let table = try await pool.run { () throws(RouteError) -> RouteTable in try RouteTable.discover(root: root) }
            routes.withLock { $0 = (table, current) }
            pool.invalidate()
            output.out("Reloaded: \(table.routes.count) route\(table.routes.count == 1 ? "" : "s")")
            return nil
        } catch {
            return "\(error)"
        }
    }
}

/// Lines to standard output and standard error, whole and flushed (access log, startup line, errors).
final class OutputLines: Sendable {
    private let lock = Mutex(())
    /// Standard output is /dev/null (as under `luat serve > /dev/null`): lines to it can be skipped.
    let outputDiscarded: Bool

    init() {
        outputDiscarded = Self.isDevNull(1)
    }

    static func isDevNull(_ fd: Int32) -> Bool {
        var target = stat()
        var null = stat()
        guard fstat(fd, &target) == 0, stat("/dev/null", &null) == 0 else { return false }
        return (target.st_mode & S_IFMT) == S_IFCHR && target.st_rdev == null.st_rdev
    }

    func out(_ line: String) { write(line, to: 1) }
    func err(_ line: String) { write(line, to: 2) }

    private func write(_ line: String, to fd: Int32) {
        let bytes = Array((line + "\n").utf8)
        lock.withLock { _ in
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if n <= 0 { if n < 0 && errno == EINTR { continue }; break }
                    offset += n
                }
            }
        }
    }
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#else
private let systemWrite = Darwin.write
#endif
