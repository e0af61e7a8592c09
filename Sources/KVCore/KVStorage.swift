/// A storage backend's handle for one namespace, given out by `KVStorage.namespaceID(for:)`.
public typealias NamespaceID = Int64

/// One stored entry as a backend keeps it. `expiration` is absolute Unix seconds;
/// `metadata` is serialised JSON. Backends store these as given and never judge them.
///
/// `version` is the backend's own stamp: every write (single, batch or atomic commit) sets
/// it to a value greater than every version the store handed out before, so it changes on
/// every write of the key. The version given to a write is ignored; reads return the stamp.
/// Equality compares value, expiration and metadata (what is stored, not when).
public struct StoredEntry: Equatable, Sendable {
    public var value: [UInt8]
    public var expiration: Int64?
    public var metadata: [UInt8]?
    public var version: Int64

    public init(value: [UInt8], expiration: Int64?, metadata: [UInt8]?, version: Int64 = 0) {
        self.value = value
        self.expiration = expiration
        self.metadata = metadata
        self.version = version
    }

    public static func == (a: StoredEntry, b: StoredEntry) -> Bool {
        a.value == b.value && a.expiration == b.expiration && a.metadata == b.metadata
    }
}

/// One key an atomic commit reads or writes.
public struct AtomicKey: Hashable, Sendable {
    public var namespace: NamespaceID
    public var key: [UInt8]

    public init(namespace: NamespaceID, key: [UInt8]) {
        self.namespace = namespace
        self.key = key
    }
}

/// One write of an atomic commit: store `entry` under the key, or remove the key (`entry` nil).
public struct AtomicWrite: Equatable, Sendable {
    public var key: AtomicKey
    public var entry: StoredEntry?

    public init(key: AtomicKey, entry: StoredEntry?) {
        self.key = key
        self.entry = entry
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

    /// The one atomic read-modify-write: with every key of `keys` protected from every other
    /// write (by any thread, process or server on the same store), reads their entries
    /// (expired or not, nil when missing, in the order of `keys`) and passes them to
    /// `decide`. When `decide` returns nil, or throws, nothing is written and `commit`
    /// returns nil, or rethrows. Otherwise the returned writes (only of keys in `keys`,
    /// applied in order) are committed together, all stamped with one new version, which is
    /// returned. `decide` holds every rule; it may be called again when the backend retries
    /// the commit (only the last call's answer counts), so it must not have other effects
    /// than recording its answer. It is escaping only so that a backend may hand it to
    /// another thread (SQLite's group-commit leader); it is not called after `commit` returns.
    func commit(reading keys: [AtomicKey], _ decide: @escaping ([StoredEntry?]) throws(KVError) -> [AtomicWrite]?) throws(KVError) -> Int64?

    // Borrowing variants for hot paths: the bytes a closure sees are valid only during the
    // call, so a backend can hand out its own buffers (SQLite's column memory) without copies.
    // Each has a default built on the copying method above.

    /// Calls `body` with the entry stored under `key` (expired or not) and returns true, or
    /// returns false without calling it when there is none.
    func read(_ namespace: NamespaceID, key: UnsafeRawBufferPointer, _ body: (StoredEntryView) -> Void) throws(KVError) -> Bool
    /// Calls `body` for up to `limit` keys of `range`, in ascending byte order, expired ones
    /// included, until it returns false. Returns how many keys it was called for.
    @discardableResult
    func scan(_ namespace: NamespaceID, range: KeyRange, limit: Int, _ body: (StoredKeyView) -> Bool) throws(KVError) -> Int
}

/// A stored entry seen in place; valid only inside the closure it is passed to.
public struct StoredEntryView {
    public var value: UnsafeRawBufferPointer
    public var expiration: Int64?
    public var metadata: UnsafeRawBufferPointer?
    public var version: Int64

    public init(value: UnsafeRawBufferPointer, expiration: Int64?, metadata: UnsafeRawBufferPointer?, version: Int64 = 0) {
        self.value = value
        self.expiration = expiration
        self.metadata = metadata
        self.version = version
    }
}

/// A key found by a range scan, seen in place; valid only inside the closure it is passed to.
public struct StoredKeyView {
    public var key: UnsafeRawBufferPointer
    public var expiration: Int64?
    public var metadata: UnsafeRawBufferPointer?

    public init(key: UnsafeRawBufferPointer, expiration: Int64?, metadata: UnsafeRawBufferPointer?) {
        self.key = key
        self.expiration = expiration
        self.metadata = metadata
    }
}

extension KVStorage {
    public func read(_ namespace: NamespaceID, key: UnsafeRawBufferPointer, _ body: (StoredEntryView) -> Void) throws(KVError) -> Bool {
        guard let entry = try read(namespace, key: Array(key)) else { return false }
        entry.value.withUnsafeBytes { value in
            if let metadata = entry.metadata {
                metadata.withUnsafeBytes { body(StoredEntryView(value: value, expiration: entry.expiration, metadata: $0, version: entry.version)) }
            } else {
                body(StoredEntryView(value: value, expiration: entry.expiration, metadata: nil, version: entry.version))
            }
        }
        return true
    }

    @discardableResult
    public func scan(_ namespace: NamespaceID, range: KeyRange, limit: Int, _ body: (StoredKeyView) -> Bool) throws(KVError) -> Int {
        var visited = 0
        for row in try scan(namespace, range: range, limit: limit) {
            visited += 1
            let go = row.key.withUnsafeBytes { key in
                if let metadata = row.metadata {
                    return metadata.withUnsafeBytes { body(StoredKeyView(key: key, expiration: row.expiration, metadata: $0)) }
                }
                return body(StoredKeyView(key: key, expiration: row.expiration, metadata: nil))
            }
            if !go { break }
        }
        return visited
    }
}
