#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KVCore
import LuatHTTP
import LuatRouting
import Logging
import NIOCore
import ServiceLifecycle
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
    /// Largest total of request bodies held at once (being read or being handled); a body
    /// beyond it gets 503 with Retry-After.
    public var maxInflightBodyBytes = 256 * 1024 * 1024
    /// Write one line per request (`GET /path 200 1.23ms`) to standard output.
    public var accessLog = true
    /// Idle connections are closed after this long.
    public var idleTimeout: Duration = .seconds(60)
    /// At shutdown, how long requests in flight may take.
    public var shutdownGrace: Duration = .seconds(10)
    /// Number of Lua states (and worker threads).
    public var workers: Int
    /// Event-loop threads of the HTTP server (accepting, parsing, writing).
    public var eventLoops = System.coreCount
    /// Routes whose recent runs averaged less than this run on the event loop that received
    /// the request, on that loop's own Lua state; others (and a route's first run) go to the
    /// worker queue. Nil: every route runs on a worker. Must be nil when the KV store's calls
    /// block on network I/O (PostgreSQL). Ignored under `watch`. Off by default: under
    /// concurrent load the worker queue answers more requests per second (docs/performance.md).
    public var eventLoopRouteLimit: Duration? = nil
    /// Folders `--watch` looks at.
    public var watchedFolders: [String] = []

    public init(host: String, port: Int, workers: Int) {
        self.host = host
        self.port = port
        self.workers = workers
    }
}

/// `luat serve`: the `HTTPServer` of LuatHTTP (SwiftNIO) receives requests on its event loops;
/// `mounts` are served first by path prefix, everything else by the Lua routes, each request
/// run on a Lua state of a worker thread (`LuaRoutesHandler`).
public final class LuatHTTPServer: Sendable {
    public let options: ServerOptions
    private let routes: LuaRoutesHandler
    private let mounts: [(prefix: String, handler: any HTTPHandler)]
    private let output: OutputLines

    /// - Parameters:
    ///   - routesRoot: the routes folder (found again under `--watch`).
    ///   - mounts: handlers served before the Lua routes, by path prefix (see `PrefixRouter`).
    ///   - makeEngine: makes one Lua state; called on a worker thread, once per state
    ///     (and again after a `--watch` reload).
    public init(routesRoot: String, options: ServerOptions, mounts: [(prefix: String, handler: any HTTPHandler)] = [],
                makeEngine: @escaping @Sendable () throws -> LuaRouteEngine) throws(RouteError) {
        self.options = options
        self.mounts = mounts
        let output = OutputLines()
        self.output = output
        self.routes = try LuaRoutesHandler(routesRoot: routesRoot, options: options, output: output, makeEngine: makeEngine)
    }

    public var routeTable: RouteTable { routes.routeTable }

    /// Serves until SIGINT or SIGTERM; then stops accepting, lets requests in flight finish
    /// (at most `shutdownGrace`), and closes the Lua states (and with them the store).
    /// `onRunning` gets the port actually bound (useful with port 0).
    public func run(onRunning: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        var logger = Logger(label: "luat")
        logger.logLevel = .warning
        let service = Serving(server: self, onRunning: onRunning)
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        do {
            try await group.run()
        } catch {
            try? await routes.pool.shutdown()
            throw error
        }
        try await routes.pool.shutdown()
        output.out("Luat server stopped")
    }

    /// The server as a service of ServiceLifecycle, which turns SIGINT/SIGTERM into a graceful shutdown.
    private struct Serving: Service {
        let server: LuatHTTPServer
        let onRunning: @Sendable (Int) -> Void

        func run() async throws {
            let options = server.options
            var configuration = HTTPServerConfiguration(host: options.host, port: options.port, eventLoops: options.eventLoops)
            configuration.maxBodySize = options.maxBodySize
            configuration.maxInflightBodyBytes = options.maxInflightBodyBytes
            configuration.idleTimeout = options.idleTimeout
            configuration.shutdownGrace = options.shutdownGrace
            var handler: any HTTPHandler = server.mounts.isEmpty ? server.routes : PrefixRouter(mounts: server.mounts, fallback: server.routes)
            if options.accessLog { handler = AccessLog(handler, output: server.output) }
            let http = HTTPServer(configuration: configuration, handler: handler)
            let port: Int
            do {
                port = try await http.start()
            } catch {
                await http.shutdown()
                throw error
            }
            let mode = options.production ? "production" : "development"
            let watching = options.watch ? ", watching for changes" : ""
            server.output.out("Luat server running at http://\(LuatHTTPServer.urlHost(options.host)):\(port)/ (\(mode), \(options.workers) Lua state\(options.workers == 1 ? "" : "s")\(watching))")
            onRunning(port)
            try? await gracefulShutdown()
            await http.shutdown()
        }
    }

    static func urlHost(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }
}

/// The access log: one line per request to standard output, `GET /path 200 1.23ms`, timed
/// from the request's arrival at the handler to its answer.
struct AccessLog: HTTPHandler {
    let wrapped: any HTTPHandler
    let output: OutputLines

    init(_ wrapped: any HTTPHandler, output: OutputLines) {
        self.wrapped = wrapped
        self.output = output
    }

    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let start = ContinuousClock.now
        let output = self.output
        let method = request.method
        let path = request.path
        wrapped.handle(request) { response in
            let elapsed = ContinuousClock.now - start
            output.out("\(method) \(path) \(response.status) \(Self.milliseconds(elapsed))")
            respond(response)
        }
    }

    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let micros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        return "\(micros / 1000).\(String(micros % 1000 / 10 + 100).dropFirst())ms"
    }
}

/// Lines to standard output and standard error, whole and flushed (access log, startup line, errors).
final class OutputLines: Sendable {
    private let lock = Mutex(())

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
