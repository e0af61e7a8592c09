/// How the KV REST API runs: which tokens open it and which account id its paths carry.
///
/// The API is disabled (every request answers 404 in Cloudflare's envelope) unless at least
/// one token is configured. Secrets live only here, in memory; they are never logged or
/// echoed (a token is named by `name` in messages).
public struct KVAPISettings: Sendable {
    /// `[kv_api] account_id`: the only account id accepted in paths; nil accepts any.
    public var accountID: String?
    /// Every token that opens the API.
    public var tokens: [KVAPIToken]

    public init(accountID: String? = nil, tokens: [KVAPIToken] = []) {
        self.accountID = accountID
        self.tokens = tokens
    }

    /// Whether the API serves at all.
    public var enabled: Bool { !tokens.isEmpty }
}

/// One API token: a secret, what it may do, and (optionally) which namespaces it may touch.
public struct KVAPIToken: Sendable {
    public enum Access: String, Sendable {
        /// Reads only: listing namespaces and keys, reading values and metadata.
        case read
        /// Reads and writes, including creating, renaming and deleting namespaces.
        case write
    }

    /// Shown in logs and errors instead of the secret.
    public var name: String
    /// The bearer secret, as UTF-8 bytes.
    public var secret: [UInt8]
    public var access: Access
    /// Namespace titles this token may touch; nil means every namespace.
    public var namespaces: Set<String>?

    public init(name: String, secret: String, access: Access, namespaces: Set<String>? = nil) {
        self.name = name
        self.secret = Array(secret.utf8)
        self.access = access
        self.namespaces = namespaces
    }

    /// Whether this token may touch the namespace titled `title`.
    public func allows(namespace title: String) -> Bool {
        namespaces.map { $0.contains(title) } ?? true
    }
}
