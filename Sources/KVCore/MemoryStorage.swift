/// In-memory storage: for tests, `--memory` runs and the WASM engine. Data lives as long
/// as the object. Thread-safe.
public final class MemoryStorage: KVStorage, @unchecked Sendable {
    private let lock = KVLock()
    private var names: [[UInt8]] = []
    private var spaces: [OrderedEntries] = []

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
        lock.withLock { spaces[Int(namespace)].set(key, entry) }
    }

    public func writeBatch(_ namespace: NamespaceID, _ entries: [(key: [UInt8], entry: StoredEntry)]) throws(KVError) {
        lock.withLock {
            for item in entries { spaces[Int(namespace)].set(item.key, item.entry) }
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
