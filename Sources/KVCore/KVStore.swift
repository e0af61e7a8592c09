/// The KV store: hands out namespaces over one storage backend and owns the rules that
/// apply to all of them (expiration against an injected clock, periodic purging).
///
/// Thread-safe; every call is synchronous.
public final class KVStore: @unchecked Sendable {
    /// The backend that holds the bytes.
    public let storage: any KVStorage
    /// The clock expiration is judged by.
    public let clock: any KVClock
    /// Seconds between purges of expired entries, run by the write path when due.
    public let purgeInterval: Int64

    private let lock = KVLock()
    private var nextPurge: Int64

    /// A store over `storage`, telling time by `clock`.
    public init(storage: any KVStorage, clock: any KVClock, purgeInterval: Int64 = 60) {
        self.storage = storage
        self.clock = clock
        self.purgeInterval = purgeInterval
        self.nextPurge = clock.nowSeconds() + purgeInterval
    }

    /// The namespace `name` (1–512 bytes of UTF-8), created on first use.
    public func namespace(_ name: String) throws(KVError) -> KVNamespace {
        try namespace(bytes: Array(name.utf8))
    }

    /// The namespace whose name is `bytes`; the name must be valid UTF-8.
    public func namespace(bytes: [UInt8]) throws(KVError) -> KVNamespace {
        try KVRules.validateNamespace(bytes)
        return KVNamespace(store: self, name: bytes, id: try storage.namespaceID(for: bytes))
    }

    /// Namespaces holding at least one live entry, with their live key counts. Internal
    /// namespaces (see `internalNamespace`) are left out.
    public func namespaces() throws(KVError) -> [NamespaceSummary] {
        _ = try purgeExpired()
        return try storage.namespaces().filter { $0.name.first != Self.internalMark }
    }

    /// A namespace for the store's own bookkeeping (the KV REST API's registry of namespaces
    /// created empty): its name is the byte 0xFF followed by `name`. 0xFF never occurs in
    /// UTF-8, so no user name (Lua, CLI, REST) can reach it, and `namespaces()` omits it.
    /// Keys and values in it follow the usual rules.
    public func internalNamespace(_ name: String) throws(KVError) -> KVNamespace {
        let bytes = [Self.internalMark] + Array(name.utf8)
        return KVNamespace(store: self, name: bytes, id: try storage.namespaceID(for: bytes))
    }

    /// The first byte of every internal namespace's name.
    static let internalMark: UInt8 = 0xFF

    /// Removes every expired entry now; returns how many.
    @discardableResult
    public func purgeExpired() throws(KVError) -> Int {
        let now = clock.nowSeconds()
        lock.withLock { nextPurge = now + purgeInterval }
        return try storage.purgeExpired(asOf: now)
    }

    /// Purges when the interval has passed; called after writes.
    func purgeIfDue(now: Int64) {
        let due: Bool = lock.withLock {
            guard now >= nextPurge else { return false }
            nextPurge = now + purgeInterval
            return true
        }
        // A failed purge loses nothing: it is retried at the next interval.
        if due { _ = try? storage.purgeExpired(asOf: now) }
    }

    /// Whether an entry with this expiration is visible at `now`.
    @inline(__always)
    static func isLive(_ expiration: Int64?, now: Int64) -> Bool {
        guard let expiration else { return true }
        return expiration > now
    }
}
