import DequeModule
import Foundation
import KVCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization

/// A small pool of PostgreSQL connections used from synchronous code.
///
/// Connections live on a `MultiThreadedEventLoopGroup`; a caller borrows one, runs queries
/// and blocks its own thread (never an event-loop thread of this group) until each result
/// arrives. At most `settings.poolSize` connections are open; a caller finding all in use
/// waits for one. A connection that broke is dropped when returned, and the next caller
/// opens a new one, so a restarted server is reached again without restarting luat.
final class PostgresPool: @unchecked Sendable {
    let settings: PostgresSettings
    private let group: any EventLoopGroup
    private let configuration: PostgresConnection.Configuration
    private let logger = Logger(label: "luat.kv.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    private let state = Mutex(State())

    private struct State {
        var idle: [PostgresConnection] = []
        /// Connections open or being opened, idle or borrowed.
        var count = 0
        var nextID = 0
        var closed = false
        /// Callers waiting for a connection to come back or a slot to free up, oldest first.
        /// Each is posted once, after the lock is released, and then looks again.
        var waiters = Deque<KVSemaphore>()
    }

    init(settings: PostgresSettings, group: any EventLoopGroup) throws(KVError) {
        self.settings = settings
        self.group = group
        let tls: PostgresConnection.Configuration.TLS
        switch settings.tls {
        case .disable:
            tls = .disable
        case .prefer, .require, .verifyFull:
            var client = TLSConfiguration.makeClientConfiguration()
            if settings.tls != .verifyFull { client.certificateVerification = .none }
            do {
                let context = try NIOSSLContext(configuration: client)
                tls = settings.tls == .prefer ? .prefer(context) : .require(context)
            } catch {
                throw KVError.storage(.badConfiguration, "cannot set up TLS for PostgreSQL at \(settings.address): \(error)")
            }
        }
        var configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.username,
            password: settings.password, database: settings.database, tls: tls)
        configuration.options.connectTimeout = .seconds(Int64(settings.connectTimeoutSeconds))
        if settings.tls == .verifyFull { configuration.options.tlsServerName = settings.host }
        configuration.options.additionalStartupParameters = [("application_name", settings.applicationName)]
        self.configuration = configuration
    }

    deinit { close() }

    /// Closes every idle connection; borrowed ones close when returned.
    func close() {
        let (connections, waiters) = state.withLock { s in
            s.closed = true
            let connections = s.idle
            s.idle.removeAll()
            s.count -= connections.count
            let waiters = s.waiters
            s.waiters.removeAll()
            return (connections, waiters)
        }
        for waiter in waiters { waiter.post() }
        for connection in connections { Self.discard(connection) }
    }

    /// Closes `connection` in the background. The connection must stay alive until its
    /// channel has closed (PostgresNIO asserts it), so the completion handler holds it.
    private static func discard(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    // MARK: borrowing

    /// Callers waiting for a connection at this moment (for tests and diagnostics).
    var waitingCallers: Int { state.withLock { $0.waiters.count } }

    /// Runs `body` with a connection. When the connection fails (not a server error on a
    /// healthy connection) it is closed rather than returned. With `retry`, a failure of a
    /// connection that had sat idle in the pool (the server may have restarted meanwhile) is
    /// retried once on a new connection; only idempotent work may ask for that.
    func withConnection<T>(retry: Bool = false, _ body: (PostgresSession) throws(KVError) -> T) throws(KVError) -> T {
        var attempt = 0
        while true {
            attempt += 1
            let (connection, reused) = try checkOut()
            let session = PostgresSession(connection, pool: self)
            do {
                let result = try body(session)
                checkIn(connection, broken: session.broken || connection.isClosed)
                return result
            } catch {
                let broken = session.broken || connection.isClosed
                checkIn(connection, broken: broken)
                // A timeout is not retried: the server is slow or gone, waiting again won't help.
                if broken && !session.timedOut && retry && reused && attempt == 1 { continue }
                throw error
            }
        }
    }

    private func checkOut() throws(KVError) -> (PostgresConnection, reused: Bool) {
        enum Step: Sendable {
            case closed
            case reuse(PostgresConnection)
            case open(id: Int)
            case wait(KVSemaphore)
        }
        let poolSize = settings.poolSize
        while true {
            let step = state.withLock { s -> Step in
                if s.closed { return .closed }
                while let connection = s.idle.popLast() {
                    if !connection.isClosed { return .reuse(connection) }
                    s.count -= 1
                }
                if s.count < poolSize {
                    s.count += 1
                    s.nextID += 1
                    return .open(id: s.nextID)
                }
                let wake = KVSemaphore()
                s.waiters.append(wake)
                return .wait(wake)
            }
            switch step {
            case .closed:
                throw KVError.storage(.closed, "PostgreSQL storage for \(settings.description) is closed")
            case .reuse(let connection):
                return (connection, true)
            case .open(let id):
                do {
                    return (try connect(id: id), false)
                } catch {
                    state.withLock { s in
                        s.count -= 1
                        return s.waiters.popFirst()
                    }?.post()
                    throw error
                }
            case .wait(let wake):
                wake.wait()
            }
        }
    }

    private func checkIn(_ connection: PostgresConnection, broken: Bool) {
        let (discard, waiter) = state.withLock { s -> (Bool, KVSemaphore?) in
            if broken || s.closed {
                s.count -= 1
                return (true, s.waiters.popFirst())
            }
            s.idle.append(connection)
            return (false, s.waiters.popFirst())
        }
        waiter?.post()
        if discard { Self.discard(connection) }
    }

    private func connect(id: Int) throws(KVError) -> PostgresConnection {
        let future = PostgresConnection.connect(on: group.next(), configuration: configuration, id: id, logger: logger)
        do {
            return try Self.wait(future)
        } catch {
            throw KVError.storage(Self.reason(error, connecting: true), "cannot connect to PostgreSQL at \(settings.address) (database \(settings.database), user \(settings.username)): \(Self.explain(error))", code: Self.sqlState(error))
        }
    }

    // MARK: queries

    /// Runs one parameterised statement on `connection` and returns its rows and command tag.
    /// The error says whether the connection is still usable.
    func run(_ connection: PostgresConnection, _ sql: String, _ binds: PostgresBindings) throws(QueryFailure) -> PostgresQueryResult {
        let started = NIODeadline.now()
        let timeout = TimeAmount.seconds(Int64(settings.queryTimeoutSeconds))
        let future = connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
        // A server or network that stops answering would block the caller for ever: past
        // the timeout the connection is closed, which fails the query.
        let watchdog = connection.eventLoop.scheduleTask(in: timeout) { Self.discard(connection) }
        defer { watchdog.cancel() }
        do {
            return try Self.wait(future)
        } catch {
            var explanation = Self.explain(error)
            let timedOut = NIODeadline.now() - started >= timeout
            if timedOut {
                explanation = "no answer within \(settings.queryTimeoutSeconds) s (query_timeout), connection closed"
            }
            throw QueryFailure(
                error: KVError.storage(timedOut ? .connectionLost : Self.reason(error, connecting: false), "PostgreSQL at \(settings.address): \(explanation)",
                                      code: Self.sqlState(error)),
                lost: timedOut || connection.isClosed || !Self.isServerError(error), timedOut: timedOut,
                sqlState: Self.sqlState(error))
        }
    }

    struct QueryFailure: Error {
        let error: KVError
        /// Whether the connection can no longer be used.
        let lost: Bool
        /// Whether the statement got no answer in time.
        let timedOut: Bool
        /// The server's SQLSTATE, when the server refused the statement.
        let sqlState: String?
    }

    /// Blocks the calling thread until `future` completes.
    static func wait<T>(_ future: EventLoopFuture<T>) throws -> T {
        // NIO's wait() traps on the future's own event loop; that is a misuse of a
        // synchronous API and cannot happen from luat's own threads.
        precondition(!future.eventLoop.inEventLoop, "PostgresStorage called from one of its own event-loop threads")
        return try future.wait()
    }

    static func isServerError(_ error: any Error) -> Bool {
        (error as? PSQLError)?.code == .server
    }

    /// What a PostgresNIO error means for callers: the server's SQLSTATE class when it sent
    /// one, else what happened to the connection.
    static func reason(_ error: any Error, connecting: Bool) -> StorageFailure.Reason {
        guard let error = error as? PSQLError else { return .other }
        if error.code == .server, let state = error.serverInfo?[.sqlState] {
            switch state {
            case "53100": return .full                                  // disk_full
            case "53300", "40001", "40P01", "55P03", "57P03": return .busy // too many connections, serialization, deadlock, lock, cannot connect now
            case "25006": return .readOnly                              // read_only_sql_transaction
            case "XX001", "XX002": return .corrupt                      // data_corrupted, index_corrupted
            case "57P01", "57P02": return .connectionLost               // admin / crash shutdown
            case "28000", "28P01", "3D000", "3F000", "42501": return .badConfiguration // auth, no database, no schema, no privilege
            default: return .other
            }
        }
        switch error.code {
        case .connectionError: return connecting ? .unavailable : .connectionLost
        case .serverClosedConnection, .clientClosedConnection, .uncleanShutdown: return .connectionLost
        case .authMechanismRequiresPassword, .unsupportedAuthMechanism, .sslUnsupported: return .badConfiguration
        default: return .other
        }
    }

    /// `SQLSTATE 53100` when the server sent a state.
    static func sqlState(_ error: any Error) -> String? {
        guard let error = error as? PSQLError, error.code == .server, let state = error.serverInfo?[.sqlState] else { return nil }
        return "SQLSTATE " + state
    }

    /// A one-line explanation of a PostgresNIO error: the server's SQLSTATE and message, or
    /// what happened to the connection. Never includes bound values or the password.
    static func explain(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if error.code == .server, let info = error.serverInfo {
            var text = info[.message] ?? "server error"
            if let state = info[.sqlState] { text += " (SQLSTATE \(state))" }
            if let detail = info[.detail] { text += ": \(detail)" }
            return text
        }
        var text: String
        switch error.code {
        case .connectionError: text = "connection failed"
        case .serverClosedConnection: text = "the server closed the connection"
        case .clientClosedConnection: text = "the connection was closed"
        case .uncleanShutdown: text = "the connection was cut"
        case .authMechanismRequiresPassword: text = "the server asks for a password and the URL gives none"
        case .unsupportedAuthMechanism: text = "the server asks for an authentication method luat does not support"
        case .sslUnsupported: text = "the server does not support TLS (sslmode)"
        default: text = "\(error.code)"
        }
        if let underlying = error.underlying { text += ": \(describe(underlying))" }
        return text
    }

    /// Socket errors said plainly ("Connection refused"), others as NIO words them.
    private static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        if let connection = error as? NIOConnectionError, !connection.connectionErrors.isEmpty {
            let reasons = connection.connectionErrors.map { describe($0.error) }
            return Array(Set(reasons)).sorted().joined(separator: "; ")
        }
        return "\(error)"
    }
}

/// One borrowed connection. Every query goes through it, so a failure that leaves the
/// connection unusable is noticed and the pool drops the connection.
final class PostgresSession {
    let connection: PostgresConnection
    unowned let pool: PostgresPool
    private(set) var broken = false
    private(set) var timedOut = false
    /// The SQLSTATE of the last statement the server refused (e.g. `40P01`, a deadlock).
    private(set) var lastSQLState: String?

    init(_ connection: PostgresConnection, pool: PostgresPool) {
        self.connection = connection
        self.pool = pool
    }

    /// Runs one parameterised statement and returns all its rows and its command tag.
    @discardableResult
    func query(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) throws(KVError) -> PostgresQueryResult {
        do {
            return try pool.run(connection, sql, binds)
        } catch {
            if error.lost { broken = true }
            if error.timedOut { timedOut = true }
            lastSQLState = error.sqlState
            throw error.error
        }
    }

    /// Runs `body` inside BEGIN ... COMMIT, rolling back when it throws.
    func transaction<T>(_ body: () throws(KVError) -> T) throws(KVError) -> T {
        try query("BEGIN")
        do {
            let result = try body()
            try query("COMMIT")
            return result
        } catch {
            if !broken { _ = try? query("ROLLBACK") }
            throw error
        }
    }
}
