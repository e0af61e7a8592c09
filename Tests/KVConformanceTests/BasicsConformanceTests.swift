import KVCore
import Testing

@Suite("Conformance: get, put, delete, namespaces")
struct BasicsConformanceTests {
    @Test(arguments: Backend.allCases)
    func putGetDelete(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("my-namespace")
        #expect(try kv.get("user:123") == nil)
        try kv.put("user:123", "Alice")
        #expect(try kv.get("user:123")?.text == "Alice")
        try kv.put("user:123", "Bob")
        #expect(try kv.get("user:123")?.text == "Bob")
        try kv.delete("user:123")
        #expect(try kv.get("user:123") == nil)
        try kv.delete("never-existed") // no error
    }

    @Test(arguments: Backend.allCases)
    func getWithMetadataReturnsExpirationAndMetadata(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("docs")
        let now = t.clock.nowSeconds()
        try kv.put("doc:abc", "content", PutOptions(expirationTtl: 3600, metadata: #"{"author":"u1","version":1}"#))
        let entry = try #require(try kv.getWithMetadata("doc:abc"))
        #expect(entry.value.text == "content")
        #expect(entry.expiration == now + 3600)
        #expect(entry.metadata == #"{"author":"u1","version":1}"#)

        try kv.put("plain", "v")
        let plain = try #require(try kv.getWithMetadata("plain"))
        #expect(plain.expiration == nil)
        #expect(plain.metadata == nil)
        #expect(try kv.getWithMetadata("missing") == nil)
    }

    @Test(arguments: Backend.allCases)
    func putReplacesExpirationAndMetadata(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("n")
        try kv.put("k", "1", PutOptions(expirationTtl: 10, metadata: "true"))
        try kv.put("k", "2")
        let entry = try #require(try kv.getWithMetadata("k"))
        #expect(entry.value.text == "2")
        #expect(entry.expiration == nil)
        #expect(entry.metadata == nil)
    }

    @Test(arguments: Backend.allCases)
    func namespacesIsolateData(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let users = try t.namespace("users")
        let posts = try t.namespace("posts")
        try users.put("key", "value1")
        try posts.put("key", "value2")
        #expect(try users.get("key")?.text == "value1")
        #expect(try posts.get("key")?.text == "value2")
        try users.delete("key")
        #expect(try posts.get("key")?.text == "value2")
        #expect(try users.list().keys.isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func namespaceAndKeyNeverCollideByConcatenation(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let a = try t.namespace("a")
        let ab = try t.namespace("a:b")
        try a.put("b:c", "in a")
        try ab.put("c", "in a:b")
        #expect(try a.get("b:c")?.text == "in a")
        #expect(try ab.get("c")?.text == "in a:b")
        #expect(try a.get("c") == nil)
        #expect(try ab.get("b:c") == nil)
        #expect(try a.list().keys.map(\.name) == ["b:c"])
        #expect(try ab.list().keys.map(\.name) == ["c"])
        #expect(try a.list(ListOptions(prefix: "b")).keys.map(\.name) == ["b:c"])
    }

    @Test(arguments: Backend.allCases)
    func sameNamespaceTwiceSharesData(_ backend: Backend) throws {
        let t = try backend.makeStore()
        try t.namespace("cache").put("k", "v")
        #expect(try t.namespace("cache").get("k")?.text == "v")
    }

    @Test(arguments: Backend.allCases)
    func valuesAreBinarySafe(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("bin")
        let value: [UInt8] = [0, 1, 0, 0xFF, 0xFE, 0xC3, 0x28, 0, 0x80]
        try kv.put("blob", value)
        #expect(try kv.get("blob") == value)
        try kv.put("empty", [UInt8]())
        #expect(try kv.get("empty") == [])
    }

    @Test(arguments: Backend.allCases)
    func bulkGetReturnsValuesInOrderWithNilForMissing(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("bulk")
        for i in 0..<100 where i % 3 != 0 { try kv.put("k\(i)", "v\(i)", PutOptions(metadata: "{\"i\":\(i)}")) }
        let keys = (0..<100).map { "k\($0)" }
        let entries = try kv.getMany(keys)
        #expect(entries.count == 100)
        for i in 0..<100 {
            if i % 3 == 0 {
                #expect(entries[i] == nil)
            } else {
                #expect(entries[i]?.value.text == "v\(i)")
                #expect(entries[i]?.metadata == "{\"i\":\(i)}")
            }
        }
        expectKVError(.tooManyKeys, "too many keys (got 101, at most 100)") { _ = try kv.getMany((0...100).map { "k\($0)" }) }
        expectKVError(.invalidKey, "keys must not be empty") { _ = try kv.getMany([]) }
        expectKVError(.invalidKey, "key exceeds 512 bytes") { _ = try kv.getMany(["ok", String(repeating: "x", count: 513)]) }
    }

    @Test(arguments: Backend.allCases)
    func namespaceSummariesCountLiveKeys(_ backend: Backend) throws {
        let t = try backend.makeStore()
        try t.namespace("b").put("1", "x")
        try t.namespace("a").put("1", "x")
        try t.namespace("a").put("2", "x", PutOptions(expirationTtl: 5))
        _ = try t.namespace("empty")
        var summaries = try t.store.namespaces()
        #expect(summaries.map { $0.name.text } == ["a", "b"])
        #expect(summaries.map(\.keyCount) == [2, 1])
        t.clock.advance(by: 5)
        summaries = try t.store.namespaces()
        #expect(summaries.map(\.keyCount) == [1, 1])
    }
}
