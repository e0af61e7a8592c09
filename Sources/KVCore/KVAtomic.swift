/// An atomic commit being built (a Luat addition to the Workers KV API): checks on the
/// versions of keys, then mutations (put, delete, sum), in namespaces of one store, which
/// `commit()` applies all together or not at all.
///
/// Value type: each builder method returns a new `KVAtomic` with one more operation, so a
/// commit reads as one chained expression:
///
/// ```swift
/// let version = try store.atomic()
///     .check(emails, "alice@example.com", nil)         // must be absent
///     .check(users, "u:1", info.version)               // must be unchanged since read
///     .put(users, "u:1", userJSON)
///     .put(emails, "alice@example.com", "u:1")
///     .sum(users, "count", 1)
///     .commit()                                        // nil: a check failed, nothing written
/// ```
///
/// Every argument is validated by the method that adds it, with the messages of `put` and
/// `delete`, so a bad one throws before anything is written; the limits of `KVLimits`
/// (`maxAtomicChecks`, `maxAtomicMutations`, `maxAtomicBytes`) are enforced as operations
/// are added. Checks are judged against committed state at commit time, by the rules of
/// `get` (an expired entry is absent). `put` options behave as in `KVNamespace.put`, its
/// expiration judged when the put is added. Mutations of one key apply in the order given.
public struct KVAtomic: Sendable {
    /// The store every namespace of the commit belongs to.
    public let store: KVStore

    enum Mutation: Sendable {
        case put(StoredEntry)
        case delete
        case sum(Int64)
    }

    struct Check: Sendable {
        var key: AtomicKey
        var version: KVVersion?
    }

    private(set) var checks: [Check] = []
    private(set) var mutations: [(key: AtomicKey, mutation: Mutation)] = []
    private(set) var bytes = 0

    init(store: KVStore) { self.store = store }

    // MARK: building

    /// Requires `key` of `namespace` to have `version` at commit time, or to be absent (or
    /// expired) when `version` is nil.
    public func check(_ namespace: KVNamespace, _ key: String, _ version: KVVersion?) throws(KVError) -> KVAtomic {
        try check(namespace, keyBytes: Array(key.utf8), version)
    }

    /// `check` by key bytes.
    public func check(_ namespace: KVNamespace, keyBytes key: [UInt8], _ version: KVVersion?) throws(KVError) -> KVAtomic {
        try owned(namespace)
        try KVRules.validateKey(key)
        try KVRules.validateAtomicChecks(checks.count + 1)
        var next = self
        next.checks.append(Check(key: AtomicKey(namespace: namespace.id, key: key), version: version))
        return next
    }

    /// Stores `value` under `key` of `namespace`, as `KVNamespace.put` would.
    public func put(_ namespace: KVNamespace, _ key: String, _ value: String, _ options: PutOptions = PutOptions()) throws(KVError) -> KVAtomic {
        try put(namespace, keyBytes: Array(key.utf8), Array(value.utf8), options)
    }

    /// `put` of bytes.
    public func put(_ namespace: KVNamespace, _ key: String, _ value: [UInt8], _ options: PutOptions = PutOptions()) throws(KVError) -> KVAtomic {
        try put(namespace, keyBytes: Array(key.utf8), value, options)
    }

    /// `put` by key bytes.
    public func put(_ namespace: KVNamespace, keyBytes key: [UInt8], _ value: [UInt8], _ options: PutOptions = PutOptions()) throws(KVError) -> KVAtomic {
        try owned(namespace)
        let entry = try KVNamespace.validatedEntry(key: key, value: value, options: options, now: store.clock.nowSeconds())
        return try adding(AtomicKey(namespace: namespace.id, key: key), .put(entry),
                          bytes: key.count + value.count + (entry.metadata?.count ?? 0))
    }

    /// Removes `key` of `namespace`; no error when it does not exist.
    public func delete(_ namespace: KVNamespace, _ key: String) throws(KVError) -> KVAtomic {
        try delete(namespace, keyBytes: Array(key.utf8))
    }

    /// `delete` by key bytes.
    public func delete(_ namespace: KVNamespace, keyBytes key: [UInt8]) throws(KVError) -> KVAtomic {
        try owned(namespace)
        try KVRules.validateKey(key)
        return try adding(AtomicKey(namespace: namespace.id, key: key), .delete, bytes: key.count)
    }

    /// Adds `n` to the counter under `key` of `namespace`: a value stored as decimal integer
    /// text (absent or expired counts as 0). The sum is stored as decimal text, keeping the
    /// entry's expiration and metadata. At commit, a value that is not a 64-bit decimal
    /// integer, or a sum that overflows, fails the commit with an error naming the key.
    public func sum(_ namespace: KVNamespace, _ key: String, _ n: Int64) throws(KVError) -> KVAtomic {
        try sum(namespace, keyBytes: Array(key.utf8), n)
    }

    /// `sum` by key bytes.
    public func sum(_ namespace: KVNamespace, keyBytes key: [UInt8], _ n: Int64) throws(KVError) -> KVAtomic {
        try owned(namespace)
        try KVRules.validateKey(key)
        return try adding(AtomicKey(namespace: namespace.id, key: key), .sum(n), bytes: key.count + 20)
    }

    private func owned(_ namespace: KVNamespace) throws(KVError) {
        if namespace.store !== store {
            throw KVError(.invalidAtomic, "namespace \"\(namespace.name)\" belongs to another store than this atomic commit")
        }
    }

    private func adding(_ key: AtomicKey, _ mutation: Mutation, bytes added: Int) throws(KVError) -> KVAtomic {
        try KVRules.validateAtomicMutations(mutations.count + 1)
        try KVRules.validateAtomicBytes(bytes + added)
        var next = self
        next.mutations.append((key, mutation))
        next.bytes += added
        return next
    }

    // MARK: committing

    /// Commits: when every check holds, applies every mutation together and returns the
    /// version they were all written with; when a check fails, writes nothing and returns
    /// nil. Throws (having written nothing) when a storage fails or a counter cannot be added to.
    @discardableResult
    public func commit() throws(KVError) -> KVVersion? {
        try commitWithSums()?.version
    }

    /// `commit`, also returning the value each `sum` left, in the order of the sums.
    func commitWithSums() throws(KVError) -> (version: KVVersion, sums: [Int64])? {
        var keys: [AtomicKey] = []
        var position: [AtomicKey: Int] = [:]
        for key in checks.map({ $0.key }) + mutations.map({ $0.key }) where position[key] == nil {
            position[key] = keys.count
            keys.append(key)
        }
        let now = store.clock.nowSeconds()
        var sums: [Int64] = []
        let checks = self.checks, mutations = self.mutations
        let stamp = try store.storage.commit(reading: keys) { (stored) throws(KVError) -> [AtomicWrite]? in
            var current: [StoredEntry?] = stored.map { entry in
                guard let entry, KVStore.isLive(entry.expiration, now: now) else { return nil }
                return entry
            }
            for check in checks {
                let entry = current[position[check.key]!]
                if entry.map({ KVVersion(rawValue: $0.version) }) != check.version { return nil }
            }
            sums = []
            var touched: [Int] = []
            var isTouched = [Bool](repeating: false, count: keys.count)
            for (key, mutation) in mutations {
                let i = position[key]!
                if !isTouched[i] { isTouched[i] = true; touched.append(i) }
                switch mutation {
                case .put(let entry): current[i] = entry
                case .delete: current[i] = nil
                case .sum(let n):
                    var entry = current[i] ?? StoredEntry(value: [], expiration: nil, metadata: nil)
                    let old = current[i] == nil ? 0 : try KVRules.counterValue(entry.value, key: key.key)
                    let new = try KVRules.counterSum(old, n, key: key.key)
                    entry.value = Array("\(new)".utf8)
                    current[i] = entry
                    sums.append(new)
                }
            }
            return touched.map { AtomicWrite(key: keys[$0], entry: current[$0]) }
        }
        guard let stamp else { return nil }
        if !mutations.isEmpty { store.purgeIfDue(now: now) }
        return (KVVersion(rawValue: stamp), sums)
    }
}

extension KVStore {
    /// A new, empty atomic commit over this store's namespaces.
    public func atomic() -> KVAtomic { KVAtomic(store: self) }
}
