/// One namespace of a `KVStore`: an isolated set of keys with the Workers KV API.
///
/// Keys are 1–512 bytes of UTF-8 (not `.` or `..`), values up to 25 MiB of any bytes,
/// metadata a JSON text of at most 1,024 bytes. Entries whose expiration is at or before
/// the store clock's now are invisible at once. A call that throws has written nothing.
public struct KVNamespace: Sendable {
    public let store: KVStore
    /// The namespace's name as UTF-8 bytes.
    public let nameBytes: [UInt8]
    let id: NamespaceID

    init(store: KVStore, name: [UInt8], id: NamespaceID) {
        self.store = store
        self.nameBytes = name
        self.id = id
    }

    /// The namespace's name.
    public var name: String { String(decoding: nameBytes, as: UTF8.self) }

    // MARK: get

    /// The value of `key`, or nil when it is missing or expired.
    public func get(_ key: String) throws(KVError) -> [UInt8]? {
        try liveEntry(Array(key.utf8))?.value
    }

    /// The value of the key whose UTF-8 bytes are `keyBytes`, or nil.
    public func get(keyBytes: [UInt8]) throws(KVError) -> [UInt8]? {
        try liveEntry(keyBytes)?.value
    }

    /// The value, expiration and metadata of `key`, or nil when it is missing or expired.
    public func getWithMetadata(_ key: String) throws(KVError) -> KVEntry? {
        try getWithMetadata(keyBytes: Array(key.utf8))
    }

    /// The entry of the key whose UTF-8 bytes are `keyBytes`, or nil.
    public func getWithMetadata(keyBytes: [UInt8]) throws(KVError) -> KVEntry? {
        guard let stored = try liveEntry(keyBytes) else { return nil }
        return KVEntry(value: stored.value, expiration: stored.expiration,
                       metadata: stored.metadata.map { String(decoding: $0, as: UTF8.self) },
                       version: KVVersion(rawValue: stored.version))
    }

    /// Calls `body` with the value of the key whose UTF-8 bytes are `keyBytes` (nil when it
    /// is missing or expired) and returns its result. The value is the backend's own memory,
    /// valid only during the call: the fast path for hosts that copy it elsewhere anyway
    /// (the Lua binding pushes it straight onto the Lua stack).
    public func withValue<R>(keyBytes key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer?) -> R) throws(KVError) -> R {
        try KVRules.validateKey(key)
        let now = store.clock.nowSeconds()
        var result: R? = nil
        let found = try store.storage.read(id, key: key) { entry in
            result = body(KVStore.isLive(entry.expiration, now: now) ? entry.value : nil)
        }
        return found ? result! : body(nil)
    }

    /// The stored entry of a valid key, if it exists and has not expired.
    private func liveEntry(_ key: [UInt8]) throws(KVError) -> StoredEntry? {
        try KVRules.validateKey(key)
        guard let stored = try store.storage.read(id, key: key),
              KVStore.isLive(stored.expiration, now: store.clock.nowSeconds()) else { return nil }
        return stored
    }

    /// Bulk get: the entries of 1–100 keys, in the order asked, nil for missing ones.
    public func getMany(_ keys: [String]) throws(KVError) -> [KVEntry?] {
        try getMany(keyBytes: keys.map { Array($0.utf8) })
    }

    /// Bulk get by key bytes.
    public func getMany(keyBytes keys: [[UInt8]]) throws(KVError) -> [KVEntry?] {
        try KVRules.validateBulkCount(keys.count)
        for key in keys { try KVRules.validateKey(key) }
        var result: [KVEntry?] = []
        result.reserveCapacity(keys.count)
        for key in keys { result.append(try getWithMetadata(keyBytes: key)) }
        return result
    }

    // MARK: put

    /// Stores `value` under `key`, replacing any previous value, expiration and metadata.
    public func put(_ key: String, _ value: [UInt8], _ options: PutOptions = PutOptions()) throws(KVError) {
        try put(keyBytes: Array(key.utf8), value, options)
    }

    /// Stores a UTF-8 string value.
    public func put(_ key: String, _ value: String, _ options: PutOptions = PutOptions()) throws(KVError) {
        try put(keyBytes: Array(key.utf8), Array(value.utf8), options)
    }

    /// Stores `value` under the key whose UTF-8 bytes are `keyBytes`.
    public func put(keyBytes: [UInt8], _ value: [UInt8], _ options: PutOptions = PutOptions()) throws(KVError) {
        let now = store.clock.nowSeconds()
        let entry = try Self.validatedEntry(key: keyBytes, value: value, options: options, now: now)
        try store.storage.write(id, key: keyBytes, entry: entry)
        store.purgeIfDue(now: now)
    }

    /// Stores every entry, all or none: each is validated before any is written, and a
    /// failure names the index of the entry at fault, e.g. `entry 3: key exceeds 512 bytes (got 600)`.
    public func putMany(_ entries: [(key: [UInt8], value: [UInt8], options: PutOptions)]) throws(KVError) {
        let now = store.clock.nowSeconds()
        var batch: [(key: [UInt8], entry: StoredEntry)] = []
        batch.reserveCapacity(entries.count)
        for (index, item) in entries.enumerated() {
            do {
                batch.append((item.key, try Self.validatedEntry(key: item.key, value: item.value, options: item.options, now: now)))
            } catch {
                throw KVError(error.kind, "entry \(index): \(error.message)")
            }
        }
        try store.storage.writeBatch(id, batch)
        store.purgeIfDue(now: now)
    }

    static func validatedEntry(key: [UInt8], value: [UInt8], options: PutOptions, now: Int64) throws(KVError) -> StoredEntry {
        try KVRules.validateKey(key)
        try KVRules.validateValue(byteCount: value.count)
        var metadata: [UInt8]? = nil
        if let text = options.metadata {
            let bytes = Array(text.utf8)
            try KVRules.validateMetadata(bytes)
            metadata = bytes
        }
        let expiration = try KVRules.resolveExpiration(expiration: options.expiration, expirationTtl: options.expirationTtl, now: now)
        return StoredEntry(value: value, expiration: expiration, metadata: metadata)
    }

    // MARK: delete

    /// Removes `key`; no error if it does not exist.
    public func delete(_ key: String) throws(KVError) {
        try delete(keyBytes: Array(key.utf8))
    }

    /// Removes the key whose UTF-8 bytes are `keyBytes`.
    public func delete(keyBytes: [UInt8]) throws(KVError) {
        try KVRules.validateKey(keyBytes)
        try store.storage.delete(id, key: keyBytes)
    }

    /// Removes every key of `keys` atomically; all
    /// keys are validated first, so a bad one removes nothing. Returns how many keys
    /// were removed (an expired entry not yet purged counts too).
    @discardableResult
    public func deleteMany(keyBytes keys: [[UInt8]]) throws(KVError) -> Int {
        for (index, key) in keys.enumerated() {
            do { try KVRules.validateKey(key) } catch { throw KVError(error.kind, "key \(index): \(error.message)") }
        }
        return try store.storage.deleteBatch(id, keys: keys)
    }

    // MARK: counters

    /// Adds `n` (default 1) to the counter under `key` atomically and returns its new value
    /// (a Luat addition). The counter is the value stored as decimal integer text; a missing
    /// or expired key counts as 0. See `KVAtomic.sum` for the rules and errors.
    @discardableResult
    public func increment(_ key: String, by n: Int64 = 1) throws(KVError) -> Int64 {
        try increment(keyBytes: Array(key.utf8), by: n)
    }

    /// `increment` by key bytes.
    @discardableResult
    public func increment(keyBytes key: [UInt8], by n: Int64 = 1) throws(KVError) -> Int64 {
        guard let result = try store.atomic().sum(self, keyBytes: key, n).commitWithSums(), let value = result.sums.first else {
            throw KVError.storage("increment of key \"\(String(decoding: key, as: UTF8.self))\" was not committed")
        }
        return value
    }

    // MARK: list

    /// One page of live keys in ascending byte order. A page holds exactly
    /// min(limit, live keys remaining) keys; expired entries never shorten it.
    public func list(_ options: ListOptions = ListOptions()) throws(KVError) -> ListResult {
        try KVRules.validateListLimit(options.limit)
        let prefix = Array((options.prefix ?? "").utf8)
        if prefix.count > KVLimits.maxKeyBytes {
            throw KVError(.invalidListOptions, "prefix exceeds \(KVLimits.maxKeyBytes) bytes (got \(prefix.count))")
        }
        var range = KeyRange(lower: prefix, lowerInclusive: true, upper: ByteOrder.successor(ofPrefix: prefix))
        if let cursor = options.cursor, !cursor.isEmpty {
            range.lower = try ListCursor.decode(cursor, namespace: nameBytes, prefix: prefix)
            range.lowerInclusive = false
        }

        // Rows are seen in the backend's memory: only listed names are copied (into the
        // result's strings), and key bytes only where a cursor or the next scan needs them.
        let now = store.clock.nowSeconds()
        let limit = options.limit
        var keys: [ListedKey] = []
        keys.reserveCapacity(limit)
        var lastListed: [UInt8] = []
        var complete = true
        scanning: while true {
            // Ask for one more than the page still needs (it tells whether more remain), and
            // at least a few rows, so a run of expired entries costs few scans.
            let batchSize = max(limit + 1 - keys.count, 16)
            var lastVisited: [UInt8] = []
            var seen = 0
            let visited = try store.storage.scan(id, range: range, limit: batchSize) { row in
                seen += 1
                if seen == batchSize { lastVisited = Array(row.key) } // where the next scan resumes
                if KVStore.isLive(row.expiration, now: now) {
                    if keys.count == limit {
                        complete = false
                        return false
                    }
                    keys.append(ListedKey(name: String(decoding: row.key, as: UTF8.self), expiration: row.expiration,
                                          metadata: row.metadata.map { String(decoding: $0, as: UTF8.self) }))
                    if keys.count == limit { lastListed = Array(row.key) }
                }
                return true
            }
            if !complete || visited < batchSize { break scanning }
            range.lower = lastVisited
            range.lowerInclusive = false
        }
        let cursor = complete ? nil : ListCursor.encode(after: lastListed, namespace: nameBytes, prefix: prefix)
        return ListResult(keys: keys, listComplete: complete, cursor: cursor)
    }
}
