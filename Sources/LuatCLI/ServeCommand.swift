import ArgumentParser
import Foundation
import KVCore
import LuatProject
import LuatKVAPI
import LuatRouting
import LuatServer

/// `luat serve`: runs a project's `+server.lua` and `+page.server.lua` files over HTTP.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a Luat project's server routes over HTTP.",
        discussion: """
            Routes come from the project's routes folder ([routing] routes_dir, default src/routes): \
            +server.lua files answer with their GET/POST/... functions, +page.server.lua files \
            with load (GET) and actions (POST/PUT/PATCH/DELETE, ?/name picks one). Pages answer JSON.
            """
    )

    @Argument(help: "The project folder (default: the nearest folder holding luat.toml, else the current one).")
    var projectDir: String?

    @Option(name: .long, help: "Address to listen on (default: [dev] host, else 127.0.0.1).")
    var host: String?

    @Option(name: .long, help: "Port to listen on; 0 picks a free one (default: [dev] port, else 3000).")
    var port: Int?

    @Option(name: .long, help: "Number of Lua states, i.e. requests run in parallel (default: one per core).")
    var workers: Int?

    @Option(name: .long, help: "Largest request body in bytes (26 MiB by default); larger ones get 413.")
    var maxBodySize: Int = 26 * 1024 * 1024

    @Option(name: .long, help: ArgumentHelp("Most request-body bytes held at once across all connections (default: [serve] max_inflight_body_bytes, else 256 MiB); bodies beyond it get 503 with Retry-After.", valueName: "bytes"))
    var maxInflightBody: Int?

    @Option(name: .long, help: ArgumentHelp("Close connections idle for this many seconds (default 60).", valueName: "seconds"))
    var idleTimeout: Double = 60

    @Flag(inversion: .prefixedNo, help: "Write a line per request to standard output (default: [dev] access_log, else on in development and off with --production).")
    var accessLog: Bool?
    @Option(name: .long, help: "Seconds the Lua code of one request may run before it is stopped with 503; 0: no limit (default: [serve] request_timeout, else 5).")
    var requestTimeout: Double?

    @Option(name: .long, help: "Bytes one Lua state may hold, e.g. 268435456 or 256MB; 0: no limit (default: [serve] lua_memory_limit, else 256MB).")
    var luaMemoryLimit: String?

    @Option(name: .long, help: ArgumentHelp("Routes whose recent runs averaged under this many milliseconds run on the HTTP event loop itself, the others on the Lua workers; 0: every route on a worker; ignored with PostgreSQL and --watch (default: [serve] event_loop_limit, else 0).", valueName: "ms"))
    var eventLoopLimit: Double?

    @Flag(name: .long, help: "Production mode: Lua errors answer a generic 500 without the message or file:line.")
    var production = false

    @Flag(name: .long, help: "Reload route files and modules when files under the routes or lib folder change.")
    var watch = false

    @OptionGroup var store: StoreOptions

    func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be from 0 to 65535") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        if maxBodySize < 0 { throw ValidationError("--max-body-size cannot be negative") }
        if let maxInflightBody, maxInflightBody < 0 { throw ValidationError("--max-inflight-body cannot be negative") }
        if !(idleTimeout > 0 && idleTimeout <= 86_400) { throw ValidationError("--idle-timeout must be more than 0 and at most 86400 seconds") }
        if let requestTimeout, !(requestTimeout >= 0 && requestTimeout <= 86_400) {
            throw ValidationError("--request-timeout must be a number of seconds from 0 to 86400 (0: no limit)")
        }
        if let eventLoopLimit, !(eventLoopLimit >= 0 && eventLoopLimit <= 1000) {
            throw ValidationError("--event-loop-limit must be a number of milliseconds from 0 to 1000 (0: every route runs on a worker)")
        }
        if let luaMemoryLimit, LuatConfig.byteCount(luaMemoryLimit) == nil {
            throw ValidationError("--lua-memory-limit must be a number of bytes or a size such as 256MB (got \"\(luaMemoryLimit)\")")
        }
    }

    func run() async throws {
        let project: LuatProject
        do {
            project = try projectDir.map { try LuatProject(root: $0) } ?? LuatProject.discover()
        } catch {
            throw ServeFailure("\(error)")
        }
        var options = ServerOptions(
            host: host ?? project.config.host,
            port: port ?? project.config.port,
            workers: workers ?? ProcessInfo.processInfo.activeProcessorCount
        )
        options.production = production
        options.watch = watch
        options.maxBodySize = maxBodySize
        options.maxInflightBodyBytes = maxInflightBody ?? project.config.maxInflightBodyBytes
        options.accessLog = accessLog ?? project.config.accessLog ?? !production
        options.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
        // PostgreSQL calls wait on the network: they must not run on an event loop.
        let onPostgres: Bool
        switch store.location {
        case .postgres: onPostgres = true
        case .memory, .dataDirectory: onPostgres = false
        case .projectDefault: onPostgres = project.postgresURL() != nil
        }
        let eventLoopMilliseconds = eventLoopLimit ?? project.config.eventLoopLimit
        options.eventLoopRouteLimit = onPostgres || eventLoopMilliseconds == 0 ? nil : .microseconds(Int64(eventLoopMilliseconds * 1000))
        let hooks = LuaRouteEngine.hooksFile(routesPath: project.routesPath)
        options.watchedFolders = [project.routesPath, project.libPath, hooks]

        let limits = LuaRouteEngine.limits(
            requestTimeout: requestTimeout ?? project.config.requestTimeout,
            memoryLimit: luaMemoryLimit.flatMap(LuatConfig.byteCount) ?? project.config.luaMemoryLimit,
            fullLibrary: project.config.fullLuaLibrary)
        let kv: KVStore
        do {
            kv = try project.openStore(store.location)
        } catch {
            throw ServeFailure("cannot open the KV store: \(error)")
        }
        let api = try KVAPISetup.settings(config: project.config, environment: ProcessInfo.processInfo.environment)
        let mounts = KVAPISetup.mounts(store: kv, settings: api, threads: max(2, options.workers))
        let server: LuatHTTPServer
        do {
            server = try LuatHTTPServer(routesRoot: project.routesPath, options: options, mounts: mounts) {
                try LuaRouteEngine(project: project, store: kv, hooks: hooks, limits: limits)
            }
        } catch {
            throw ServeFailure("\(project.routesPath): \(error)")
        }
        do {
            let listenHost = options.host
            try await server.run { port in
                guard api.enabled else { return }
                let host = listenHost.contains(":") ? "[\(listenHost)]" : listenHost
                let origin = "http://\(host):\(port)"
                let names = api.tokens.map(\.name).joined(separator: ", ")
                let line = "KV REST API at \(origin)/client/v4 (tokens: \(names)); KV browser at \(origin)/_luat/kv/\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            }
        } catch {
            throw ServeFailure("cannot serve on \(options.host):\(options.port): \(error)")
        }
    }
}

/// A reason `luat serve` cannot start, printed as `Error: …` with exit status 1.
struct ServeFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
