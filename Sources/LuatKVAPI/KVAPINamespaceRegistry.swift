import KVCore

/// Which namespaces exist for the REST API. Luat namespaces exist implicitly (Lua's
/// `KV.namespace("users")` needs no creation); Cloudflare's are created and deleted
/// explicitly. A namespace exists here when it holds at least one live entry, or when it was
/// created over REST (an empty one too) and not deleted since.
///
/// The REST-created titles are kept in the store itself, in the internal namespace
/// `kv_api.namespaces` (see `KVStore.internalNamespace`), so they persist with the data on
/// every backend and are shared by servers on one PostgreSQL database.
struct KVAPINamespaceRegistry {
    let store: KVStore

    private func registry() throws(KVError) -> KVNamespace { try store.internalNamespace("kv_api.namespaces") }

    /// Every existing namespace title, in ascending byte order.
    func titles() throws(KVError) -> [String] {
        var names = Set<String>()
        for summary in try store.namespaces() { names.insert(String(decoding: summary.name, as: UTF8.self)) }
        let created = try registry()
        var cursor: String? = nil
        repeat {
            let page = try created.list(ListOptions(limit: KVLimits.maxListLimit, cursor: cursor))
            for key in page.keys { names.insert(key.name) }
            cursor = page.listComplete ? nil : page.cursor
        } while cursor != nil
        return names.sorted { ByteOrder.less(Array($0.utf8), Array($1.utf8)) }
    }

    func exists(_ title: String) throws(KVError) -> Bool {
        if try registry().get(title) != nil { return true }
        return try !store.namespace(title).list(ListOptions(limit: 1)).keys.isEmpty
    }

    /// Records `title` as created (empty or not).
    func register(_ title: String) throws(KVError) {
        try registry().put(title, [UInt8]())
    }

    /// Removes every entry of `title` and its record.
    func drop(_ title: String) throws(KVError) {
        let namespace = try store.namespace(title)
        while true {
            let page = try namespace.list(ListOptions(limit: KVLimits.maxListLimit))
            if page.keys.isEmpty { break }
            try namespace.deleteMany(keyBytes: page.keys.map { Array($0.name.utf8) })
        }
        try registry().delete(title)
    }

    /// Moves every entry of `old` to `new` (with expiration and metadata), then drops `old`.
    /// Page by page: not atomic as a whole (docs/kv-api.md).
    func rename(_ old: String, to new: String) throws(KVError) {
        let source = try store.namespace(old)
        let target = try store.namespace(new)
        try register(new)
        while true {
            let page = try source.list(ListOptions(limit: KVLimits.maxListLimit))
            if page.keys.isEmpty { break }
            var batch: [(key: [UInt8], value: [UInt8], options: PutOptions)] = []
            var keys: [[UInt8]] = []
            let now = store.clock.nowSeconds()
            for key in page.keys {
                let bytes = Array(key.name.utf8)
                keys.append(bytes)
                // An entry that expires meanwhile is left behind (and deleted with the rest).
                guard let entry = try source.getWithMetadata(keyBytes: bytes), (entry.expiration ?? .max) > now + 1 else { continue }
                batch.append((bytes, entry.value, PutOptions(expiration: entry.expiration, metadata: entry.metadata)))
            }
            if !batch.isEmpty { try target.putMany(batch) }
            try source.deleteMany(keyBytes: keys)
        }
        try registry().delete(old)
    }
}
