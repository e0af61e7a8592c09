/// Entries of one namespace kept in ascending byte order of their keys, in sorted chunks:
/// point lookups and updates are O(log n) searches plus a bounded move inside one chunk,
/// and a range scan walks the chunks in order.
struct OrderedEntries {
    typealias Item = (key: [UInt8], entry: StoredEntry)
    static let maxChunk = 512

    private(set) var chunks: [[Item]] = []
    private(set) var count = 0

    /// The chunk that holds `key` or would hold it, and the position there (first key >= `key`).
    private func locate(_ key: [UInt8]) -> (chunk: Int, index: Int, found: Bool) {
        if chunks.isEmpty { return (0, 0, false) }
        var lo = 0, hi = chunks.count - 1
        while lo < hi { // first chunk whose last key >= key
            let mid = (lo + hi) / 2
            if ByteOrder.less(chunks[mid][chunks[mid].count - 1].key, key) { lo = mid + 1 } else { hi = mid }
        }
        let chunk = chunks[lo]
        var a = 0, b = chunk.count
        while a < b {
            let mid = (a + b) / 2
            if ByteOrder.less(chunk[mid].key, key) { a = mid + 1 } else { b = mid }
        }
        return (lo, a, a < chunk.count && chunk[a].key == key)
    }

    func get(_ key: [UInt8]) -> StoredEntry? {
        let at = locate(key)
        return at.found ? chunks[at.chunk][at.index].entry : nil
    }

    mutating func set(_ key: [UInt8], _ entry: StoredEntry) {
        if chunks.isEmpty { chunks = [[(key, entry)]]; count = 1; return }
        let at = locate(key)
        if at.found { chunks[at.chunk][at.index].entry = entry; return }
        chunks[at.chunk].insert((key, entry), at: at.index)
        count += 1
        if chunks[at.chunk].count > Self.maxChunk {
            let upper = Array(chunks[at.chunk][(Self.maxChunk / 2)...])
            chunks[at.chunk].removeLast(upper.count)
            chunks.insert(upper, at: at.chunk + 1)
        }
    }

    @discardableResult
    mutating func remove(_ key: [UInt8]) -> Bool {
        let at = locate(key)
        guard at.found else { return false }
        chunks[at.chunk].remove(at: at.index)
        count -= 1
        if chunks[at.chunk].isEmpty { chunks.remove(at: at.chunk) }
        return true
    }

    func scan(_ range: KeyRange, limit: Int) -> [StoredKey] {
        var out: [StoredKey] = []
        var at = locate(range.lower)
        if at.found && !range.lowerInclusive { at.index += 1 }
        var c = at.chunk
        var i = at.index
        while c < chunks.count && out.count < limit {
            let chunk = chunks[c]
            while i < chunk.count && out.count < limit {
                let item = chunk[i]
                if let upper = range.upper, !ByteOrder.less(item.key, upper) { return out }
                out.append(StoredKey(key: item.key, expiration: item.entry.expiration, metadata: item.entry.metadata))
                i += 1
            }
            c += 1
            i = 0
        }
        return out
    }

    /// Removes entries expired at `now`; returns how many.
    mutating func purge(asOf now: Int64) -> Int {
        var removed = 0
        for c in chunks.indices {
            let before = chunks[c].count
            chunks[c].removeAll { item in item.entry.expiration.map { $0 <= now } ?? false }
            removed += before - chunks[c].count
        }
        chunks.removeAll { $0.isEmpty }
        count -= removed
        return removed
    }
}
