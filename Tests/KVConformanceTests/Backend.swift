import Foundation
import KVCore
import KVPostgres
import KVSQLite

/// Every storage backend the conformance suite runs against. A new backend adds a case
/// here and the whole suite runs on it unchanged.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory
    case sqlite
    /// Runs only when `LUAT_TEST_POSTGRES_URL` is set (scripts/start-postgres.sh prints it);
    /// `postgresIsConfiguredWhenRunningInCI` fails in CI when it is not.
    case postgres

    /// Every backend this run can test: PostgreSQL only when a server is configured.
    static var allCases: [Backend] {
        PostgresTestDatabase.url == nil ? [.memory, .sqlite] : [.memory, .sqlite, .postgres]
    }

    var testDescription: String { rawValue }

    /// A fresh, empty store on this backend, telling time by `clock`.
    func makeStore(clock: ManualClock = ManualClock(seconds: 1_700_000_000)) throws -> TestStore {
        switch self {
        case .memory:
            return TestStore(store: KVStore(storage: MemoryStorage(), clock: clock), clock: clock, folder: nil)
        case .sqlite:
            let folder = TemporaryFolder()
            let storage = try SQLiteStorage(dataDirectory: folder.path)
            return TestStore(store: KVStore(storage: storage, clock: clock), clock: clock, folder: folder)
        case .postgres:
            // A schema of its own per store, dropped when the TestStore is released.
            let schema = try PostgresTestSchema()
            let storage = try PostgresStorage(settings: schema.settings)
            return TestStore(store: KVStore(storage: storage, clock: clock), clock: clock, folder: nil, resource: schema)
        }
    }
}

/// A store under test with its clock; removes its files when released.
final class TestStore: @unchecked Sendable {
    let store: KVStore
    let clock: ManualClock
    let folder: TemporaryFolder?
    /// Anything else to release with the store (e.g. a PostgreSQL schema to drop).
    let resource: AnyObject?

    init(store: KVStore, clock: ManualClock, folder: TemporaryFolder?, resource: AnyObject? = nil) {
        self.store = store
        self.clock = clock
        self.folder = folder
        self.resource = resource
    }

    func namespace(_ name: String) throws -> KVNamespace { try store.namespace(name) }
}

/// A folder under the system's temporary directory, deleted when released.
final class TemporaryFolder: @unchecked Sendable {
    let path: String

    init() {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("luat-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}

/// Asserts that `body` throws a `KVError` of `kind` whose message contains `fragment`.
func expectKVError(_ kind: KVError.Kind, _ fragment: String, _ body: () throws -> Void,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        try body()
        Issue.record("expected KVError \(kind) containing \"\(fragment)\", nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as KVError {
        #expect(error.kind == kind, sourceLocation: sourceLocation)
        #expect(error.message.contains(fragment), "message was: \(error.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected KVError, got \(error)", sourceLocation: sourceLocation)
    }
}

import Testing
