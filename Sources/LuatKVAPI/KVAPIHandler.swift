import KVCore
import LuatHTTP
import LuatRouting
import NIOPosix

/// Cloudflare's Workers KV REST API (API v4) over a `KVStore`, mounted at `/client/v4`:
/// a client whose base URL is `http://HOST:PORT/client/v4` works unchanged. Endpoints,
/// the namespace id mapping and every difference from Cloudflare are in docs/kv-api.md.
///
/// Every request needs `Authorization: Bearer SECRET` naming a configured token; the API is
/// disabled (404) when no token is configured. Inputs are judged by `KVRules`, so messages
/// and limits are the Lua API's. `handle` returns at once: the store is called on the
/// handler's own thread pool and `respond` is called from there. Thread-safe.
public final class KVAPIHandler: HTTPHandler, @unchecked Sendable {
    public static let mountPrefix = "/client/v4"

    let store: KVStore
    let settings: KVAPISettings
    let authenticator: KVAPIAuthenticator
    let registry: KVAPINamespaceRegistry
    private let pool: NIOThreadPool

    /// - Parameter threads: threads that run store calls (SQLite and PostgreSQL calls block).
    public init(store: KVStore, settings: KVAPISettings, threads: Int = 2) {
        self.store = store
        self.settings = settings
        self.authenticator = KVAPIAuthenticator(tokens: settings.tokens)
        self.registry = KVAPINamespaceRegistry(store: store)
        self.pool = NIOThreadPool(numberOfThreads: max(1, threads))
        pool.start()
    }

    deinit { pool.shutdownGracefully { _ in } }

    public func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        pool.submit { [self] state in
            guard case .active = state else {
                return respond(KVAPIEnvelope.failure(KVAPIError(503, KVAPIError.internalCode, "the server is shutting down")))
            }
            respond(self.response(to: request))
        }
    }

    /// Answers one request on the calling thread (blocking on the store).
    public func response(to request: HTTPRequest) -> HTTPResponse {
        do {
            return try route(request)
        } catch {
            return KVAPIEnvelope.failure(error)
        }
    }

    private func route(_ request: HTTPRequest) throws(KVAPIError) -> HTTPResponse {
        guard settings.enabled else {
            throw KVAPIError(404, KVAPIError.routeCode, "the KV REST API is disabled: configure [[kv_api.tokens]] in luat.toml or set LUAT_KV_API_TOKEN")
        }
        let token: KVAPIToken
        switch authenticator.authenticate(request.headers["authorization"]) {
        case .granted(let found): token = found
        case .missing: throw .unauthenticated("missing Authorization header (expected \"Authorization: Bearer TOKEN\")")
        case .malformed: throw .unauthenticated("malformed Authorization header (expected \"Authorization: Bearer TOKEN\")")
        case .unknown: throw .unauthenticated("invalid API token")
        }

        // /client/v4/accounts/{account_id}/storage/kv/namespaces[/...]
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { $0 }
        guard segments.count >= 7, segments[0] == "client", segments[1] == "v4", segments[2] == "accounts",
              segments[4] == "storage", segments[5] == "kv", segments[6] == "namespaces" else {
            throw KVAPIError(404, KVAPIError.routeCode, "no route for \(request.method) \(request.path)")
        }
        guard let account = percentDecodedBytes(segments[3]), !account.isEmpty else {
            throw KVAPIError(404, KVAPIError.routeCode, "account id missing in the path")
        }
        if let expected = settings.accountID, Array(expected.utf8) != account {
            throw .forbidden("this server serves account \(expected) only (see [kv_api] account_id)")
        }
        let call = KVAPICall(handler: self, request: request, token: token)
        let rest = Array(segments.dropFirst(7))
        let method = request.method
        switch rest.count {
        case 0:
            if method == "GET" { return try call.listNamespaces() }
            if method == "POST" { return try call.createNamespace() }
        case 1:
            if method == "GET" { return try call.getNamespace(rest[0]) }
            if method == "PUT" { return try call.renameNamespace(rest[0]) }
            if method == "DELETE" { return try call.deleteNamespace(rest[0]) }
        default:
            let id = rest[0]
            switch (rest[1], rest.count) {
            case ("keys", 2):
                if method == "GET" { return try call.listKeys(id) }
            case ("values", 3...):
                let key = try Self.key(rest[2...])
                if method == "GET" { return try call.getValue(id, key: key) }
                if method == "PUT" { return try call.putValue(id, key: key) }
                if method == "DELETE" { return try call.deleteValue(id, key: key) }
            case ("metadata", 3...):
                let key = try Self.key(rest[2...])
                if method == "GET" { return try call.getMetadata(id, key: key) }
            case ("bulk", 2):
                if method == "PUT" { return try call.bulkWrite(id) }
                if method == "DELETE" { return try call.bulkDelete(id) }
            case ("bulk", 3) where rest[2] == "delete":
                if method == "POST" { return try call.bulkDelete(id) }
            case ("bulk", 3) where rest[2] == "get":
                if method == "POST" { return try call.bulkGet(id) }
            default:
                throw KVAPIError(404, KVAPIError.routeCode, "no route for \(request.method) \(request.path)")
            }
        }
        throw KVAPIError(405, KVAPIError.methodCode, "method \(method) is not allowed for \(request.path)")
    }

    /// A key from the rest of the path, percent-decoded (a `/` may be sent as is or as `%2F`).
    private static func key(_ parts: ArraySlice<Substring>) throws(KVAPIError) -> [UInt8] {
        let joined = parts.joined(separator: "/")
        guard let bytes = percentDecodedBytes(joined) else {
            throw .badRequest("key_name: malformed percent-encoding in the path")
        }
        return bytes
    }
}
