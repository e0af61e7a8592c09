/// A storage backend's handle for one namespace, given out by `KVStorage.namespaceID(for:)`.
public typealias NamespaceID = Int64

/// One stored entry as a backend keeps it. `expiration` is absolute Unix seconds;
/// `metadata` is serialised JSON. Backends store these as given and never judge them.
public struct StoredEntry: Equatable, Sendable {
    public var value: [UInt8]
    public var expiration: Int64?
    public var metadata: [UInt8]?

    public init(value: [UInt8], expiration: Int64?, metadata: [UInt8]?) {
        self.value = value
        self.expiration = expiration
        self.metadata = metadata
    }
}

/// One key found by a range scan, without its value.
public struct StoredKey: Equatable, Sendable {
    public var key: [UInt8]
    public var expiration: Int64?
    public var metadata: [UInt8]?

    public init(key: [UInt8], expiration: Int64?, metadata: [UInt8]?) {
        self.key = key
        self.expiration = expiration
        self.metadata = metadata
    }
}

/// A range of keys in ascending byte order: from `lower` (inclusive or not) up to,
/// but not including, `upper` (no upper bound when nil).
public struct KeyRange: Equatable, Sendable {
    public var lower: [UInt8]
    public var lowerInclusive: Bool
    public var upper: [UInt8]?

    public init(lower: [UInt8], lowerInclusive: Bool, upper: [UInt8]?) {
        self.lower = lower
        self.lowerInclusive = lowerInclusive
        self.upper = upper
    }

    /// Whether `key` lies inside the range.
    public func contains(_ key: [UInt8]) -> Bool {
        let afterLower = lowerInclusive ? !ByteOrder.less(key, lower) : ByteOrder.less(lower, key)
        guard afterLower else { return false }
        if let upper { return ByteOrder.less(key, upper) }
        return true
    }
}

/// A namespace name with the number of entries a backend holds for it.
public struct NamespaceSummary: Equatable, Sendable {
    public var name: [UInt8]
    public var keyCount: Int

    public init(name: [UInt8], keyCount: Int) {
        self.name = name
        self.keyCount = keyCount
    }
}

/// The narrow protocol every storage backend implements.
///
/// Backends store, read, delete and scan bytes; they hold no rules. Validation, limits,
/// expiration and cursors live above, in `KVStore` and `KVNamespace`. Keys are compared
/// as unsigned bytes (memcmp order). Every method is safe to call from any thread; a write
/// that returned is seen by every later read. Failures are `KVError` of kind `.storage`.
public protocol KVStorage: AnyObject {
    /// The handle of namespace `name`, created when first asked for.
    func namespaceID(for name: [UInt8]) throws(KVError) -> NamespaceID
    /// The entry stored under `key`, expired or not.
    func read(_ namespace: NamespaceID, key: [UInt8]) throws(KVError) -> StoredEntry?
    /// Stores `entry` under `key`, replacing what was there.
    func write(_ namespace: NamespaceID, key: [UInt8], entry: StoredEntry) throws(KVError)
    /// Stores all entries atomically: all of them or, on failure, none.
    func writeBatch(_ namespace: NamespaceID, _ entries: [(key: [UInt8], entry: StoredEntry)]) throws(KVError)
    /// Removes `key`; true when something was removed.
    @discardableResult
    func delete(_ namespace: NamespaceID, key: [UInt8]) throws(KVError) -> Bool
    /// Removes every key of `keys` atomically; returns how many were removed.
    func deleteBatch(_ namespace: NamespaceID, keys: [[UInt8]]) throws(KVError) -> Int
    /// Up to `limit` keys of `range`, in ascending byte order, expired ones included.
    func scan(_ namespace: NamespaceID, range: KeyRange, limit: Int) throws(KVError) -> [StoredKey]
    /// Removes every entry whose expiration is at or before `now`; returns how many.
    func purgeExpired(asOf now: Int64) throws(KVError) -> Int
    /// Every namespace with at least one entry, by name in ascending byte order.
    func namespaces() throws(KVError) -> [NamespaceSummary]
}
