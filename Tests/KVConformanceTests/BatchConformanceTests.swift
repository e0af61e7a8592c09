import KVCore
import Testing

@Suite("Conformance: batch writes and deletes")
struct BatchConformanceTests {
    @Test(arguments: Backend.allCases)
    func putManyWritesAllOrNothing(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("batch")
        var entries: [(key: [UInt8], value: [UInt8], options: PutOptions)] = (0..<500).map {
            (Array("k\($0)".utf8), Array("v\($0)".utf8), PutOptions())
        }
        entries[321] = (Array(String(repeating: "x", count: 513).utf8), [], PutOptions())
        expectKVError(.invalidKey, "entry 321: key exceeds 512 bytes (got 513)") { try kv.putMany(entries) }
        #expect(try kv.list().keys.isEmpty)
        entries[321] = (Array("k321".utf8), Array("v321".utf8), PutOptions(expirationTtl: 60, metadata: "[1]"))
        try kv.putMany(entries)
        #expect(try kv.list().keys.count == 500)
        #expect(try kv.getWithMetadata("k321") == KVEntry(value: Array("v321".utf8), expiration: t.clock.nowSeconds() + 60, metadata: "[1]"))
    }

    @Test(arguments: Backend.allCases)
    func deleteManyValidatesFirstAndCountsRemovals(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("batch")
        for i in 0..<10 { try kv.put("k\(i)", "v") }
        expectKVError(.invalidKey, "key 2: key must not be empty") {
            _ = try kv.deleteMany(keyBytes: [Array("k0".utf8), Array("k1".utf8), []])
        }
        #expect(try kv.list().keys.count == 10)
        let removed = try kv.deleteMany(keyBytes: [Array("k0".utf8), Array("k1".utf8), Array("missing".utf8)])
        #expect(removed == 2)
        #expect(try kv.list().keys.map(\.name) == (2..<10).map { "k\($0)" })
    }
}
