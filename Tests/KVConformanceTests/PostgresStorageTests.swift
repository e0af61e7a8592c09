import Foundation
import KVCore
@testable import KVPostgres
import LuatProject
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization
import Testing

/// The test server, from `LUAT_TEST_POSTGRES_URL` (scripts/start-postgres.sh prints it).
enum PostgresTestDatabase {
    static let url: String? = {
        guard let url = ProcessInfo.processInfo.environment["LUAT_TEST_POSTGRES_URL"], !url.isEmpty else { return nil }
        return url
    }()

    static func settings(schema: String) throws -> PostgresSettings {
        var settings = try PostgresSettings(url: try #require(url))
        settings.schema = schema
        return settings
    }
}

/// CI must test PostgreSQL: without a server every postgres case would quietly vanish
/// from `Backend.allCases`, so this fails instead.
@Test func postgresIsConfiguredWhenRunningInCI() {
    let ci = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "false" && $0 != "0" } ?? false
    if ci && PostgresTestDatabase.url == nil {
        Issue.record("CI is set but LUAT_TEST_POSTGRES_URL is not: run `export \"$(bash scripts/start-postgres.sh)\"` before `swift test`")
    }
}

/// A schema of its own for one test, dropped (with everything in it) when released.
final class PostgresTestSchema: @unchecked Sendable {
    let name: String
    let settings: PostgresSettings

    init() throws {
        name = "luat_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        settings = try PostgresTestDatabase.settings(schema: name)
    }

    deinit {
        if let raw = try? RawPostgres(settings) {
            _ = try? raw.execute("DROP SCHEMA IF EXISTS \"\(name)\" CASCADE")
        }
    }
}

/// A plain PostgresNIO connection to inspect and tamper with what the storage wrote.
final class RawPostgres {
    let connection: PostgresConnection
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    init(_ settings: PostgresSettings) throws {
        let configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.username,
            password: settings.password, database: settings.database, tls: .disable)
        connection = try PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 0, logger: logger).wait()
    }

    deinit { _ = try? connection.close().wait() }

    @discardableResult
    func execute(_ sql: String) throws -> [PostgresRow] {
        try connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).wait().rows
    }

    func int(_ sql: String) throws -> Int64? {
        guard let cell = try execute(sql).first?.first else { return nil }
        return try cell.decode(Int64?.self)
    }

    func text(_ sql: String) throws -> String? {
        guard let cell = try execute(sql).first?.first else { return nil }
        return try cell.decode(String?.self)
    }
}

@Suite("PostgreSQL storage: sharing, persistence, schema, connections", .enabled(if: PostgresTestDatabase.url != nil))
struct PostgresStorageTests {
    @Test func twoStoragesOnOneDatabaseSeeEachOthersWritesAtOnce() throws {
        // Two PostgresStorage objects with their own pools stand for two servers.
        let schema = try PostgresTestSchema()
        let clock = ManualClock(seconds: 1_700_000_000)
        let first = KVStore(storage: try PostgresStorage(settings: schema.settings), clock: clock)
        let second = KVStore(storage: try PostgresStorage(settings: schema.settings), clock: clock)
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 2) { which in
            let store = which == 0 ? first : second
            let other = which == 0 ? second : first
            do {
                let kv = try store.namespace("shared")
                let seen = try other.namespace("shared")
                for i in 0..<300 {
                    try kv.put("s\(which):\(i)", "v\(i)")
                    // Seen at once through the other server.
                    if try seen.get("s\(which):\(i)")?.text != "v\(i)" { failures.add("s\(which):\(i) not seen by the other") }
                }
            } catch { failures.add("\(error)") }
        }
        #expect(failures.all.isEmpty, "\(failures.all.prefix(5))")
        #expect(try first.namespace("shared").list().keys.count == 600)
        try first.namespace("shared").delete("s1:0")
        #expect(try second.namespace("shared").get("s1:0") == nil)
        try second.namespace("other").put("k", "from second")
        #expect(try first.namespace("other").get("k")?.text == "from second")
        // Both servers agree on namespace ids, whichever created the namespace.
        #expect(try first.namespaces().map(\.name.text) == ["other", "shared"])
    }

    @Test func callersBeyondThePoolSizeWaitForAConnection() throws {
        // Two callers hold both connections of a pool of two; a third must wait until one
        // comes back, and it then reuses that connection instead of opening a third.
        let schema = try PostgresTestSchema()
        var settings = schema.settings
        settings.poolSize = 2
        settings.applicationName = "luat_pool_" + schema.name.suffix(12)
        let storage = try PostgresStorage(settings: settings)
        let pool = storage.pool
        let entered = KVSemaphore(), release = KVSemaphore(), thirdEntered = KVSemaphore(), done = KVSemaphore()
        let thirdIn = Mutex(false)
        let failures = Failures()
        for _ in 0..<2 {
            Thread.detachNewThread {
                do {
                    try pool.withConnection { (_: PostgresSession) throws(KVError) in
                        entered.post()
                        release.wait()
                    }
                } catch { failures.add("\(error)") }
                done.post()
            }
        }
        entered.wait()
        entered.wait()
        Thread.detachNewThread {
            do {
                try pool.withConnection { (_: PostgresSession) throws(KVError) in
                    thirdIn.withLock { $0 = true }
                    thirdEntered.post()
                }
            } catch { failures.add("\(error)") }
            done.post()
        }
        // The third caller queues (bounded: it is on its way or the pool is broken).
        let deadline = Date().addingTimeInterval(10)
        while pool.waitingCallers == 0 && Date() < deadline { sched_yield() }
        #expect(pool.waitingCallers == 1)
        #expect(thirdIn.withLock { $0 } == false, "a third caller got a connection while both were borrowed")
        release.post()
        thirdEntered.wait()
        release.post()
        for _ in 0..<3 { done.wait() }
        #expect(failures.all.isEmpty, "\(failures.all.prefix(5))")
        #expect(pool.waitingCallers == 0)

        // Eight threads on the same pool: every write lands, and never more than two
        // connections exist.
        let store = KVStore(storage: storage, clock: ManualClock(seconds: 1_700_000_000))
        let kv = try store.namespace("pool")
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            do {
                for i in 0..<100 { try kv.put("t\(thread):\(i)", "v") }
            } catch { failures.add("\(error)") }
        }
        #expect(failures.all.isEmpty, "\(failures.all.prefix(5))")
        #expect(try kv.list().keys.count == 800)
        let raw = try RawPostgres(schema.settings)
        let open = try raw.int("SELECT count(*) FROM pg_stat_activity WHERE application_name = '\(settings.applicationName)'")
        #expect(open == 2)
        withExtendedLifetime(storage) {}
    }

    @Test func dataSurvivesClosingAndReopening() throws {
        let schema = try PostgresTestSchema()
        let clock = ManualClock(seconds: 1_700_000_000)
        let binary: [UInt8] = [0, 0xFF, 0, 0x80, 0x41]
        do {
            let storage = try PostgresStorage(settings: schema.settings)
            let kv = try KVStore(storage: storage, clock: clock).namespace("persist")
            try kv.put("text", "hello")
            try kv.put("bin", binary, PutOptions(expirationTtl: 600, metadata: #"{"v":1}"#))
            try kv.put("empty", [UInt8]())
            storage.close()
        }
        let reopened = KVStore(storage: try PostgresStorage(settings: schema.settings), clock: clock)
        let kv = try reopened.namespace("persist")
        #expect(try kv.get("text")?.text == "hello")
        #expect(try kv.get("empty") == [])
        let entry = try #require(try kv.getWithMetadata("bin"))
        #expect(entry.value == binary)
        #expect(entry.expiration == 1_700_000_600)
        #expect(entry.metadata == #"{"v":1}"#)
    }

    @Test func createsItsSchemaTablesAndRecordsTheSchemaVersion() throws {
        let schema = try PostgresTestSchema()
        _ = try PostgresStorage(settings: schema.settings)
        let raw = try RawPostgres(schema.settings)
        #expect(try raw.int("SELECT version FROM \(schema.name).kv_schema_version") == 2)
        #expect(try raw.int("SELECT count(*) FROM \(schema.name).kv_schema_version") == 1)
        let tables = try raw.execute("SELECT tablename::text FROM pg_tables WHERE schemaname = '\(schema.name)' ORDER BY 1")
            .map { try $0.first!.decode(String.self) }
        #expect(tables == ["entries", "kv_schema_version", "namespaces"])
        #expect(try raw.int("SELECT count(*) FROM pg_indexes WHERE schemaname = '\(schema.name)' AND indexname = 'entries_by_expiration'") == 1)
        // Opening again changes nothing.
        _ = try PostgresStorage(settings: schema.settings)
        #expect(try raw.int("SELECT version FROM \(schema.name).kv_schema_version") == 2)
    }

    /// A schema made before versions existed (version 1, the first release's layout) opens,
    /// migrates, keeps its data, and gets versions from its next writes.
    @Test func aSchemaWithoutVersionsOpensAndMigrates() throws {
        let schema = try PostgresTestSchema()
        let raw = try RawPostgres(schema.settings)
        let s = "\"\(schema.name)\""
        for statement in [
            "CREATE SCHEMA \(s)",
            "CREATE TABLE \(s).kv_schema_version (version bigint NOT NULL)",
            "INSERT INTO \(s).kv_schema_version VALUES (1)",
            "CREATE TABLE \(s).namespaces (id bigserial PRIMARY KEY, name bytea NOT NULL UNIQUE)",
            "CREATE TABLE \(s).entries (namespace bigint NOT NULL, key bytea NOT NULL, value bytea NOT NULL, expiration bigint, metadata bytea, PRIMARY KEY (namespace, key))",
            "CREATE INDEX entries_by_expiration ON \(s).entries (expiration) WHERE expiration IS NOT NULL",
            "INSERT INTO \(s).namespaces (id, name) VALUES (1, 'old'::bytea)",
            "INSERT INTO \(s).entries VALUES (1, 'k'::bytea, '41'::bytea, NULL, '{\"a\":1}'::bytea)",
        ] { _ = try raw.execute(statement) }
        let store = KVStore(storage: try PostgresStorage(settings: schema.settings), clock: ManualClock(seconds: 1_700_000_000))
        let kv = try store.namespace("old")
        let old = try #require(try kv.getWithMetadata("k"))
        #expect(old == KVEntry(value: Array("41".utf8), expiration: nil, metadata: #"{"a":1}"#))
        #expect(old.version?.description == "0000000000000000")
        #expect(try store.atomic().check(kv, "k", old.version).sum(kv, "k", 1).commit() != nil)
        #expect(try kv.get("k")?.text == "42")
        #expect(try kv.getWithMetadata("k")?.version ?? KVVersion(rawValue: 0) > old.version!)
        #expect(try raw.int("SELECT version FROM \(s).kv_schema_version") == 2)
    }

    @Test func refusesASchemaFromANewerRelease() throws {
        let schema = try PostgresTestSchema()
        _ = try PostgresStorage(settings: schema.settings)
        try RawPostgres(schema.settings).execute("UPDATE \(schema.name).kv_schema_version SET version = 99")
        expectKVError(.storage, "has schema version 99, newer than this luat understands (2)") {
            _ = try PostgresStorage(settings: schema.settings)
        }
    }

    @Test func serversStartingAtOnceMigrateTheSchemaOnce() throws {
        let schema = try PostgresTestSchema()
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 6) { i in
            do {
                let kv = try KVStore(storage: try PostgresStorage(settings: schema.settings), clock: SystemClock()).namespace("boot")
                try kv.put("server\(i)", "up")
            } catch { failures.add("\(error)") }
        }
        #expect(failures.all.isEmpty, "\(failures.all)")
        let raw = try RawPostgres(schema.settings)
        #expect(try raw.int("SELECT count(*) FROM \(schema.name).kv_schema_version") == 1)
        #expect(try raw.int("SELECT count(*) FROM \(schema.name).entries") == 6)
        #expect(try raw.int("SELECT count(*) FROM \(schema.name).namespaces") == 1)
    }

    @Test func reconnectsWhenTheServerDropsItsConnections() throws {
        let schema = try PostgresTestSchema()
        var settings = schema.settings
        settings.applicationName = schema.name
        let kv = try KVStore(storage: try PostgresStorage(settings: settings), clock: SystemClock()).namespace("n")
        try kv.put("k", "before")
        // As when the server restarts or an administrator ends the sessions.
        let raw = try RawPostgres(schema.settings)
        let ended = try raw.int("""
            SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = '\(schema.name)') AS t
            """)
        #expect(ended ?? 0 >= 1)
        Thread.sleep(forTimeInterval: 0.2)
        #expect(try kv.get("k")?.text == "before")
        try kv.put("k", "after")
        #expect(try kv.get("k")?.text == "after")
    }

    @Test func aServerThatStopsAnsweringTimesOutAndIsReachedAgainAfterwards() throws {
        let schema = try PostgresTestSchema()
        var settings = schema.settings
        settings.queryTimeoutSeconds = 1
        let kv = try KVStore(storage: try PostgresStorage(settings: settings), clock: SystemClock()).namespace("n")
        try kv.put("k", "v")
        // Another session holds a lock that every statement on entries waits for.
        let raw = try RawPostgres(schema.settings)
        try raw.execute("BEGIN")
        try raw.execute("LOCK TABLE \(schema.name).entries IN ACCESS EXCLUSIVE MODE")
        let started = Date()
        expectKVError(.storage, "no answer within 1 s (query_timeout)") { _ = try kv.get("k") }
        do {
            _ = try kv.get("k")
            Issue.record("the locked read answered")
        } catch {
            #expect(error.storageFailure?.reason == .connectionLost)
        }
        #expect(Date().timeIntervalSince(started) < 10)
        try raw.execute("ROLLBACK")
        #expect(try kv.get("k")?.text == "v")
    }

    @Test func sslmodePreferFallsBackToAPlainConnection() throws {
        // The test server offers no TLS: `prefer` connects plainly where `require` would fail.
        let schema = try PostgresTestSchema()
        var settings = schema.settings
        settings.tls = .prefer
        let kv = try KVStore(storage: try PostgresStorage(settings: settings), clock: SystemClock()).namespace("n")
        try kv.put("k", "v")
        #expect(try kv.get("k")?.text == "v")
    }

    @Test func aWrongPasswordIsReportedWithoutThePassword() throws {
        var settings = try PostgresTestDatabase.settings(schema: "luat_test_unused")
        settings.password = "not-the-password-x7"
        do {
            _ = try PostgresStorage(settings: settings)
            Issue.record("connected with a wrong password")
        } catch {
            #expect(error.kind == .storage)
            #expect(error.message.contains("cannot connect to PostgreSQL at \(settings.address)"), "\(error.message)")
            #expect(error.message.contains("28P01"), "\(error.message)")
            #expect(error.storageFailure == StorageFailure(.badConfiguration, code: "SQLSTATE 28P01"))
            #expect(!error.message.contains("not-the-password-x7"))
        }
    }

    @Test func theProjectOpensPostgresFromTheEnvironmentOrLuatToml() throws {
        let schema = try PostgresTestSchema()
        var components = URLComponents(string: try #require(PostgresTestDatabase.url))!
        components.queryItems = [URLQueryItem(name: "schema", value: schema.name)]
        let url = components.string!
        let folder = TemporaryFolder()
        try "[kv]\npostgres_url = \"\(url)\"\n".write(toFile: folder.path + "/luat.toml", atomically: true, encoding: .utf8)
        let project = try LuatProject(root: folder.path)
        #expect(project.config.postgresURL == url)
        #expect(project.postgresURL(environment: [:]) == url)
        #expect(project.postgresURL(environment: ["LUAT_KV_POSTGRES_URL": "postgres://u@elsewhere/db"]) == "postgres://u@elsewhere/db")
        let store = try project.openStore(.postgres(url))
        try store.namespace("n").put("k", "v")
        #expect(try RawPostgres(schema.settings).int("SELECT count(*) FROM \(schema.name).entries") == 1)
        // No kv.db was made: the store is not SQLite.
        #expect(!FileManager.default.fileExists(atPath: project.dataPath + "/kv.db"))
    }
}

@Suite("PostgreSQL settings and an unreachable server")
struct PostgresSettingsTests {
    @Test func parsesAConnectionURL() throws {
        let s = try PostgresSettings(url: "postgres://luat:p%40ss@db.example:6543/app?sslmode=require&schema=kv_one&connect_timeout=3&pool_size=4")
        #expect(s.host == "db.example")
        #expect(s.port == 6543)
        #expect(s.username == "luat")
        #expect(s.password == "p@ss")
        #expect(s.database == "app")
        #expect(s.tls == .require)
        #expect(s.schema == "kv_one")
        #expect(s.connectTimeoutSeconds == 3)
        #expect(s.poolSize == 4)
        let d = try PostgresSettings(url: "postgresql://me@localhost")
        #expect(d.port == 5432)
        #expect(d.database == "me")
        #expect(d.password == nil)
        #expect(d.schema == "luat_kv")
        #expect(d.tls == .disable)
    }

    @Test func rejectsBadURLsWithoutRepeatingThePassword() {
        expectKVError(.storage, "must look like postgres://") { _ = try PostgresSettings(url: "mysql://u:sekret@h/db") }
        expectKVError(.storage, "unknown parameter foo") { _ = try PostgresSettings(url: "postgres://u:sekret@h/db?foo=1") }
        expectKVError(.storage, "schema name") { _ = try PostgresSettings(url: "postgres://u:sekret@h/db?schema=Bad-Name") }
        expectKVError(.storage, "sslmode") { _ = try PostgresSettings(url: "postgres://u:sekret@h/db?sslmode=maybe") }
        do {
            _ = try PostgresSettings(url: "postgres://u:sekret@h/db?pool_size=0")
            Issue.record("pool_size=0 accepted")
        } catch {
            #expect(error.storageFailure?.reason == .badConfiguration)
        }
        #expect((try? PostgresSettings(url: "postgres://u@h/db?sslmode=prefer"))?.tls == .prefer)
        #expect((try? PostgresSettings(url: "postgres://u@h/db?sslmode=allow"))?.tls == .disable)
        do {
            _ = try PostgresSettings(url: "mysql://u:sekret@h/db")
        } catch {
            #expect(!error.message.contains("sekret"))
            #expect(error.message.contains("mysql://u:***@h/db"))
        }
        #expect(PostgresSettings.redacted("postgres://u:sekret@h:1/db") == "postgres://u:***@h:1/db")
        #expect(PostgresSettings.redacted("postgres://u@h/db") == "postgres://u@h/db")
    }

    @Test func anUnreachableServerIsAClearStorageError() throws {
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        let started = Date()
        do {
            _ = try PostgresStorage(url: "postgres://luat:sekret-pw@127.0.0.1:1/luat_test?connect_timeout=5")
            Issue.record("connected to nothing")
        } catch {
            #expect(error.kind == .storage)
            #expect(error.message.contains("cannot connect to PostgreSQL at 127.0.0.1:1"), "\(error.message)")
            #expect(error.storageFailure?.reason == .unavailable)
            #expect(!error.message.contains("sekret-pw"))
        }
        #expect(Date().timeIntervalSince(started) < 5)
    }
}
