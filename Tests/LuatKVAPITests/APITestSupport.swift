import Foundation
import KVCore
import KVPostgres
import KVSQLite
import LuatHTTP
import PostgresNIO
import Logging
import NIOPosix
@testable import LuatKVAPI
import Testing

/// The backends the REST API is tested on; PostgreSQL only when `LUAT_TEST_POSTGRES_URL` is set.
enum APIBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory, sqlite, postgres

    static var allCases: [APIBackend] {
        postgresURL == nil ? [.memory, .sqlite] : [.memory, .sqlite, .postgres]
    }

    static let postgresURL: String? = {
        guard let url = ProcessInfo.processInfo.environment["LUAT_TEST_POSTGRES_URL"], !url.isEmpty else { return nil }
        return url
    }()

    var testDescription: String { rawValue }

    func makeAPI(settings: KVAPISettings = APIFixture.settings) throws -> APIFixture {
        let clock = ManualClock(seconds: 1_700_000_000)
        switch self {
        case .memory:
            return APIFixture(store: KVStore(storage: MemoryStorage(), clock: clock), clock: clock, settings: settings)
        case .sqlite:
            let folder = NSTemporaryDirectory() + "luat-kvapi-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let store = KVStore(storage: try SQLiteStorage(dataDirectory: folder), clock: clock)
            return APIFixture(store: store, clock: clock, settings: settings, cleanup: { try? FileManager.default.removeItem(atPath: folder) })
        case .postgres:
            var pg = try PostgresSettings(url: try #require(Self.postgresURL))
            let schema = "luat_kvapi_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            pg.schema = schema
            let store = KVStore(storage: try PostgresStorage(settings: pg), clock: clock)
            return APIFixture(store: store, clock: clock, settings: settings, cleanup: { dropSchema(schema, pg) })
        }
    }
}

private func dropSchema(_ schema: String, _ settings: PostgresSettings) {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    let configuration = PostgresConnection.Configuration(host: settings.host, port: settings.port, username: settings.username,
                                                         password: settings.password, database: settings.database, tls: .disable)
    guard let connection = try? PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration,
                                                           id: 0, logger: logger).wait() else { return }
    _ = try? connection.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"), logger: logger).wait()
    _ = try? connection.close().wait()
}

/// A REST API over a fresh store, with a manual clock and three tokens.
final class APIFixture: @unchecked Sendable {
    static let writerSecret = "writer-secret-0123456789"
    static let readerSecret = "reader-secret-0123456789"
    static let scopedSecret = "scoped-secret-0123456789"
    static let settings = KVAPISettings(tokens: [
        KVAPIToken(name: "writer", secret: writerSecret, access: .write),
        KVAPIToken(name: "reader", secret: readerSecret, access: .read),
        KVAPIToken(name: "scoped", secret: scopedSecret, access: .write, namespaces: ["users"]),
    ])
    static let base = "/client/v4/accounts/acct/storage/kv/namespaces"

    let store: KVStore
    let clock: ManualClock
    let handler: KVAPIHandler
    private let cleanup: () -> Void

    init(store: KVStore, clock: ManualClock, settings: KVAPISettings, cleanup: @escaping () -> Void = {}) {
        self.store = store
        self.clock = clock
        self.handler = KVAPIHandler(store: store, settings: settings, threads: 1)
        self.cleanup = cleanup
    }

    deinit { cleanup() }

    static func id(_ title: String) -> String { KVAPINamespaceID.id(forTitle: title) }

    /// Sends one request through `handle` (the handler's own threads) and waits for the answer.
    func send(_ method: String, _ target: String, body: [UInt8] = [], token: String? = APIFixture.writerSecret,
              headers: [(String, String)] = []) -> APIResult {
        var fields = HTTPHeaders()
        if let token { fields.append("authorization", "Bearer \(token)") }
        for (name, value) in headers { fields.append(name, value) }
        let request = HTTPRequest(method: method, target: target, headers: fields, body: body)
        let done = DispatchSemaphore(value: 0)
        let box = ResponseBox()
        handler.handle(request) { response in
            box.response = response
            done.signal()
        }
        done.wait()
        return APIResult(response: box.response!)
    }

    func send(_ method: String, _ target: String, json: String, token: String? = APIFixture.writerSecret) -> APIResult {
        send(method, target, body: Array(json.utf8), token: token, headers: [("content-type", "application/json")])
    }
}

final class ResponseBox: @unchecked Sendable { var response: HTTPResponse? }

/// A response with its body parsed when it is JSON.
struct APIResult {
    let response: HTTPResponse
    var status: Int { response.status }
    var body: [UInt8] { response.body }
    var json: JSONValue { (try? JSONValue.parse(response.body)) ?? .null }
    var result: JSONValue? { json["result"] }
    var success: Bool { json["success"] == .bool(true) }
    var errorCode: Int64? {
        guard case .array(let errors)? = json["errors"], case .integer(let code)? = errors.first?["code"] else { return nil }
        return code
    }
    var errorMessage: String {
        guard case .array(let errors)? = json["errors"], case .string(let message)? = errors.first?["message"] else { return "" }
        return message
    }
    var text: String { String(decoding: response.body, as: UTF8.self) }
}

extension JSONValue {
    var string: String? { if case .string(let s) = self { return s }; return nil }
    var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    var int: Int64? { if case .integer(let i) = self { return i }; return nil }
}
