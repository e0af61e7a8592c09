/// In-memory storage: for tests, `--memory` runs and the WASM engine. Data lives as long
/// as the object. Thread-safe: one lock guards everything, so an atomic commit simply holds
/// it while it reads, decides and writes.
public final class MemoryStorage: KVStorage, @unchecked Sendable {
    private let lock = KVLock()
    private var names: [[UInt8]] = []
    private var spaces: [OrderedEntries] = []
    /// The last version handed out (under `lock`).
    private var lastVersion: Int64 = 0

    public init() {}

    public func namespaceID(for name: [UInt8]) throws(KVError) -> NamespaceID {
        lock.withLock {
            if let index = names.firstIndex(of: name) { return NamespaceID(index) }
            names.append(name)
            spaces.append(OrderedEntries())
            return NamespaceID(names.count - 1)
        }
    }

    public func read(_ namespace: NamespaceID, key: [UInt8]) throws(KVError) -> StoredEntry? {
        lock.withLock { spaces[Int(namespace)].get(key) }
    }

    public func write(_ namespace: NamespaceID, key: [UInt8], entry: StoredEntry) throws(KVError) {
        lock.withLock {
            spaces[Int(namespace)].set(key, stamped(entry, nextVersion()))
        }
    }

    /// A new version; call with `lock` held.
    private func nextVersion() -> Int64 {
        lastVersion += 1
        return lastVersion
    }

    private func stamped(_ entry: StoredEntry, _ version: Int64) -> StoredEntry {
        var entry = entry
        entry.version = version
        return entry
    }

    public func commit(reading keys: [AtomicKey], _ decide: @escaping ([StoredEntry?]) throws(KVError) -> [AtomicWrite]?) throws(KVError) -> Int64? {
        try lock.withLock { () throws(KVError) -> Int64? in
            let current = keys.map { spaces[Int($0.namespace)].get($0.key) }
            guard let writes = try decide(current) else { return nil }
            let version = nextVersion()
            for write in writes {
                if let entry = write.entry {
                    spaces[Int(write.key.namespace)].set(write.key.key, stamped(entry, version))
                } else {
                    spaces[Int(write.key.namespace)].remove(write.key.key)
                }
            }
            return version
        }
    }

    public func writeBatch(_ namespace: NamespaceID, _ entries: [(key: [UInt8], entry: StoredEntry)]) throws(KVError) {
        lock.withLock {
            let version = nextVersion()
            for item in entries { spaces[Int(namespace)].set(item.key, stamped(item.entry, version)) }
        }
    }

    @discardableResult
    public func delete(_ namespace: NamespaceID, key: [UInt8]) throws(KVError) -> Bool {
        lock.withLock { spaces[Int(namespace)].remove(key) }
    }

    public func deleteBatch(_ namespace: NamespaceID, keys: [[UInt8]]) throws(KVError) -> Int {
        lock.withLock {
            var removed = 0
            for key in keys where spaces[Int(namespace)].remove(key) { removed += 1 }
            return removed
        }
    }

    public func scan(_ namespace: NamespaceID, range: KeyRange, limit: Int) throws(KVError) -> [StoredKey] {
        lock.withLock { spaces[Int(namespace)].scan(range, limit: limit) }
    }

    public func purgeExpired(asOf now: Int64) throws(KVError) -> Int {
        lock.withLock {
            var removed = 0
            for i in spaces.indices { removed += spaces[i].purge(asOf: now) }
            return removed
        }
    }

    public func namespaces() throws(KVError) -> [NamespaceSummary] {
        let all: [NamespaceSummary] = lock.withLock {
            var out: [NamespaceSummary] = []
            for i in names.indices where spaces[i].count > 0 {
                out.append(NamespaceSummary(name: names[i], keyCount: spaces[i].count))
            }
            return out
        }
        return all.sorted { ByteOrder.less($0.name, $1.name) }
    }
}
