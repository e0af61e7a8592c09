import KVCore
import Testing

@Suite("Conformance: bulk put, entry by entry")
struct BulkPutConformanceTests {
    @Test(arguments: Backend.allCases)
    func putManyStoresEveryEntryWithItsOwnOptions(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("batch")
        try kv.put("old", "replaced")
        try kv.putMany([
            (key: Array("plain".utf8), value: Array("p".utf8), options: PutOptions()),
            (key: Array("ttl".utf8), value: [0, 0xFF], options: PutOptions(expirationTtl: 60)),
            (key: Array("meta".utf8), value: [], options: PutOptions(metadata: #"{"a":1}"#)),
            (key: Array("old".utf8), value: Array("new".utf8), options: PutOptions(expiration: 1_700_000_100, metadata: "true")),
        ])
        #expect(try kv.getWithMetadata("plain") == KVEntry(value: Array("p".utf8), expiration: nil, metadata: nil))
        #expect(try kv.getWithMetadata("ttl") == KVEntry(value: [0, 0xFF], expiration: 1_700_000_060, metadata: nil))
        #expect(try kv.getWithMetadata("meta") == KVEntry(value: [], expiration: nil, metadata: #"{"a":1}"#))
        #expect(try kv.getWithMetadata("old") == KVEntry(value: Array("new".utf8), expiration: 1_700_000_100, metadata: "true"))
        #expect(try kv.list().keys.map(\.name) == ["meta", "old", "plain", "ttl"])
    }

    @Test(arguments: Backend.allCases)
    func aKeyGivenTwiceInOneBatchKeepsItsLastEntry(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("batch")
        try kv.putMany([
            (key: Array("k".utf8), value: Array("first".utf8), options: PutOptions(metadata: "1")),
            (key: Array("other".utf8), value: Array("o".utf8), options: PutOptions()),
            (key: Array("k".utf8), value: Array("last".utf8), options: PutOptions()),
        ])
        #expect(try kv.getWithMetadata("k") == KVEntry(value: Array("last".utf8), expiration: nil, metadata: nil))
        #expect(try kv.list().keys.count == 2)
    }

    @Test(arguments: Backend.allCases)
    func aLargeBatchIsStoredWhole(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("batch")
        let entries = (0..<5000).map { (key: Array("k\($0)".utf8), value: Array("v\($0)".utf8), options: PutOptions()) }
        try kv.putMany(entries)
        #expect(try t.store.namespaces().first?.keyCount == 5000)
        #expect(try kv.get("k4999")?.text == "v4999")
    }
}
