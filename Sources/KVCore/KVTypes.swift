/// A value read with its expiration, metadata and version.
///
/// Two entries are equal when their value, expiration and metadata are: the version says
/// when an entry was written, not what it holds (compare `version` itself for that).
public struct KVEntry: Equatable, Sendable {
    /// The stored bytes, exactly as put.
    public var value: [UInt8]
    /// Absolute expiration in Unix seconds, or nil if the entry never expires.
    public var expiration: Int64?
    /// The metadata's JSON text, or nil if none was put.
    public var metadata: String?
    /// The version of the write that stored this entry (a Luat addition; see `KVVersion`).
    /// Nil only for entries not read from a store.
    public var version: KVVersion?

    public init(value: [UInt8], expiration: Int64?, metadata: String?, version: KVVersion? = nil) {
        self.value = value
        self.expiration = expiration
        self.metadata = metadata
        self.version = version
    }

    public static func == (a: KVEntry, b: KVEntry) -> Bool {
        a.value == b.value && a.expiration == b.expiration && a.metadata == b.metadata
    }
}

/// Options of `put`. `expirationTtl` wins when both expirations are given.
public struct PutOptions: Sendable {
    /// Absolute expiration, Unix seconds, after now.
    public var expiration: Int64?
    /// Seconds from now until expiration, greater than zero.
    public var expirationTtl: Int64?
    /// Metadata as JSON text, at most 1,024 bytes.
    public var metadata: String?

    public init(expiration: Int64? = nil, expirationTtl: Int64? = nil, metadata: String? = nil) {
        self.expiration = expiration
        self.expirationTtl = expirationTtl
        self.metadata = metadata
    }
}

/// Options of `list`.
public struct ListOptions: Sendable {
    /// Only keys starting with these bytes, matched literally.
    public var prefix: String?
    /// Page size, 1–1000.
    public var limit: Int
    /// The `cursor` of the previous page, unchanged.
    public var cursor: String?

    public init(prefix: String? = nil, limit: Int = KVLimits.maxListLimit, cursor: String? = nil) {
        self.prefix = prefix
        self.limit = limit
        self.cursor = cursor
    }
}

/// One key of a `list` page.
public struct ListedKey: Equatable, Sendable {
    public var name: String
    /// Absolute expiration in Unix seconds, or nil.
    public var expiration: Int64?
    /// The metadata's JSON text, or nil.
    public var metadata: String?

    public init(name: String, expiration: Int64?, metadata: String?) {
        self.name = name
        self.expiration = expiration
        self.metadata = metadata
    }
}

/// One page of `list`: `listComplete` is false exactly when more live keys remain, and
/// then `cursor` resumes after the last key of `keys`.
public struct ListResult: Equatable, Sendable {
    public var keys: [ListedKey]
    public var listComplete: Bool
    public var cursor: String?

    public init(keys: [ListedKey], listComplete: Bool, cursor: String?) {
        self.keys = keys
        self.listComplete = listComplete
        self.cursor = cursor
    }
}
