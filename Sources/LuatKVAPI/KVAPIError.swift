import KVCore

/// A failed REST call: the HTTP status and Cloudflare's error code and message, answered in
/// Cloudflare's envelope. Messages never contain a token's secret.
struct KVAPIError: Error {
    let status: Int
    let code: Int
    let message: String

    init(_ status: Int, _ code: Int, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    // Cloudflare's codes (docs/kv-api.md lists them).
    static let authenticationCode = 10000
    static let keyNotFoundCode = 10009
    static let namespaceNotFoundCode = 10013
    static let titleTakenCode = 10014
    static let invalidRequestCode = 10026
    static let invalidExpirationCode = 10033
    static let routeCode = 7003
    static let methodCode = 7001
    static let internalCode = 10001

    static func unauthenticated(_ why: String) -> KVAPIError { KVAPIError(401, authenticationCode, "Authentication error: \(why)") }
    static func forbidden(_ why: String) -> KVAPIError { KVAPIError(403, authenticationCode, "Authentication error: \(why)") }
    static func badRequest(_ message: String) -> KVAPIError { KVAPIError(400, invalidRequestCode, message) }

    /// A store error as the API answers it: the same message the Lua API gives (after the
    /// call's prefix), 400 for bad input, 500 for a storage failure.
    static func store(_ error: KVError, call: String) -> KVAPIError {
        switch error.kind {
        case .storage: return KVAPIError(500, internalCode, "\(call): storage failure: \(error.message)")
        case .invalidExpiration: return KVAPIError(400, invalidExpirationCode, "\(call): \(error.message)")
        default: return KVAPIError(400, invalidRequestCode, "\(call): \(error.message)")
        }
    }
}
