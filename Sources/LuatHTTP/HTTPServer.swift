import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import Synchronization

/// An HTTP/1.1 server on SwiftNIO: NIOHTTP1's request decoder and one `HTTPConnectionHandler` per
/// connection, which reads each request whole under the body limits, passes it to `handler` on
/// the connection's event loop with no Swift-concurrency task per request, and writes the
/// responses back on that event loop, in order (pipelining, 400 on malformed requests and
/// graceful shutdown are its work too).
///
/// Lifecycle: `start()` once, then `shutdown()` once (also when `start()` failed). Shutting down
/// stops accepting, lets requests in flight finish (bounded by `shutdownGrace`), then closes
/// every connection and stops the event-loop threads. Thread-safe.
public final class HTTPServer: Sendable {
    public let configuration: HTTPServerConfiguration
    private let handler: any HTTPHandler
    private let shared: ConnectionShared
    private let group: MultiThreadedEventLoopGroup
    private let state = Mutex<(channel: (any Channel)?, quiesce: ServerQuiescingHelper?, started: Bool)>((nil, nil, false))

    public init(configuration: HTTPServerConfiguration, handler: any HTTPHandler) {
        self.configuration = configuration
        self.handler = handler
        self.shared = ConnectionShared(configuration: configuration)
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoops)
    }

    /// Binds and starts accepting; returns the port bound (the one picked when the port is 0).
    public func start() async throws -> Int {
        let alreadyStarted = state.withLock { state in
            defer { state.started = true }
            return state.started
        }
        precondition(!alreadyStarted, "HTTPServer.start() called twice")
        let quiesce = ServerQuiescingHelper(group: group)
        let shared = self.shared
        let handler = self.handler
        let backoff = TimeAmount(configuration.acceptBackoff)
        let idle = TimeAmount(configuration.idleTimeout)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                    // Out of file descriptors, `accept` fails at once again: pause instead of spinning.
                    try channel.pipeline.syncOperations.addHandler(AcceptPauseHandler(pause: backoff))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(IdleStateHandler(readTimeout: idle))
                    // NIO's request decoder only: pipelining, malformed requests and writing the
                    // responses are the connection handler's (see there and `ResponseWire`).
                    try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                    try pipeline.addHandler(HTTPConnectionHandler(shared: shared, handler: handler))
                }
            }
        Self.instantiateConnectionTypes()
        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        state.withLock { $0.channel = channel; $0.quiesce = quiesce }
        return channel.localAddress?.port ?? configuration.port
    }

    /// Builds a connection's generic handler types once, on the thread that starts the
    /// server, before any event loop accepts. Otherwise the event loops build them at their
    /// first connections, concurrently; and there the Swift runtime (6.3.1, Linux) was seen to
    /// crash, in 2 of 1,000 starts with four clients connecting at once: SIGSEGV in
    /// `swift_conformsToProtocolMaybeInstantiateSuperclasses` → `swift_checkMetadataState`
    /// while one loop instantiated `ByteToMessageHandler<HTTPDecoder<…>>` from its mangled
    /// name. Instantiated here, the loops find the metadata and the conformance complete.
    static func instantiateConnectionTypes() {
        _ = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes))
        _ = NIOAny(HTTPServerRequestPart.end(nil))
        _ = NIOAny(HTTPServerResponsePart.end(nil))
    }

    /// The port bound, once started.
    public var port: Int? { state.withLock { $0.channel?.localAddress?.port } }

    /// Stops accepting, waits for requests in flight (at most `shutdownGrace`), closes every
    /// connection and stops the event loops. Responses that arrive later are dropped.
    public func shutdown() async {
        await quiesce()
        shared.stopped.store(true, ordering: .releasing)
        try? await group.shutdownGracefully()
    }

    /// Closes the listening socket, then waits until every connection has closed (idle ones
    /// close now, busy ones after their current response) or the grace period is over.
    /// The quiescing helper is released here, before the event loops stop (its deinit
    /// completes a promise on them).
    private func quiesce() async {
        let quiesce = state.withLock { state in
            defer { state.channel = nil; state.quiesce = nil }
            return state.quiesce
        }
        guard let quiesce else { return }
        let loop = group.next()
        let done = loop.makePromise(of: Void.self)
        quiesce.initiateShutdown(promise: done)
        let timer = loop.scheduleTask(in: TimeAmount(configuration.shutdownGrace)) { done.succeed(()) }
        try? await done.futureResult.get()
        timer.cancel()
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// What every connection of one server shares: its limits, the body budget, whether it stopped.
final class ConnectionShared: Sendable {
    let maxBodySize: Int
    let budget: BodyBudget
    let retryAfter: String
    let headerLimits: HTTPHeaderLimits
    /// Set once the event loops are stopping: late responses are dropped, not scheduled.
    let stopped = Atomic<Bool>(false)

    init(configuration: HTTPServerConfiguration) {
        maxBodySize = configuration.maxBodySize
        budget = BodyBudget(limit: configuration.maxInflightBodyBytes)
        retryAfter = String(configuration.retryAfterSeconds)
        headerLimits = configuration.headerLimits
    }
}
