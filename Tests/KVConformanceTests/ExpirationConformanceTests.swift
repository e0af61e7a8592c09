import KVCore
import Testing

@Suite("Conformance: expiration")
struct ExpirationConformanceTests {
    @Test(arguments: Backend.allCases)
    func ttlEntryDisappearsExactlyAtItsExpiration(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("sessions")
        let start = t.clock.nowSeconds()
        try kv.put("session:abc", "data", PutOptions(expirationTtl: 3600))
        #expect(try kv.getWithMetadata("session:abc")?.expiration == start + 3600)
        t.clock.advance(by: 3599)
        #expect(try kv.get("session:abc")?.text == "data")
        #expect(try kv.list().keys.map(\.name) == ["session:abc"])
        t.clock.advance(by: 1)
        #expect(try kv.get("session:abc") == nil)
        #expect(try kv.getWithMetadata("session:abc") == nil)
        #expect(try kv.list().keys.isEmpty)
        #expect(try kv.list().listComplete)
    }

    @Test(arguments: Backend.allCases)
    func absoluteExpiration(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("tokens")
        let tomorrow = t.clock.nowSeconds() + 86400
        try kv.put("token:xyz", "secret", PutOptions(expiration: tomorrow))
        let listed = try kv.list().keys
        #expect(listed == [ListedKey(name: "token:xyz", expiration: tomorrow, metadata: nil)])
        t.clock.set(tomorrow - 1)
        #expect(try kv.get("token:xyz") != nil)
        t.clock.set(tomorrow)
        #expect(try kv.get("token:xyz") == nil)
    }

    @Test(arguments: Backend.allCases)
    func ttlWinsWhenBothAreGiven(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("n")
        let now = t.clock.nowSeconds()
        try kv.put("k", "v", PutOptions(expiration: now + 10_000, expirationTtl: 60))
        #expect(try kv.getWithMetadata("k")?.expiration == now + 60)
    }

    @Test(arguments: Backend.allCases)
    func invalidExpirationsAreErrorsAndWriteNothing(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("n")
        let now = t.clock.nowSeconds()
        expectKVError(.invalidExpiration, "expirationTtl must be a positive integer number of seconds (got 0)") {
            try kv.put("k", "v", PutOptions(expirationTtl: 0))
        }
        expectKVError(.invalidExpiration, "expirationTtl must be a positive integer number of seconds (got -5)") {
            try kv.put("k", "v", PutOptions(expirationTtl: -5))
        }
        expectKVError(.invalidExpiration, "expiration must be a positive integer number of seconds (got 0)") {
            try kv.put("k", "v", PutOptions(expiration: 0))
        }
        expectKVError(.invalidExpiration, "expiration must be in the future") {
            try kv.put("k", "v", PutOptions(expiration: now))
        }
        expectKVError(.invalidExpiration, "expirationTtl is too large") {
            try kv.put("k", "v", PutOptions(expirationTtl: Int64.max))
        }
        expectKVError(.invalidExpiration, "expirationTtl must be a positive integer number of seconds (got NaN)") {
            _ = try KVRules.seconds(fromNumber: .nan, option: "expirationTtl")
        }
        expectKVError(.invalidExpiration, "(got 1.5)") { _ = try KVRules.seconds(fromNumber: 1.5, option: "expirationTtl") }
        expectKVError(.invalidExpiration, "(got inf)") { _ = try KVRules.seconds(fromNumber: .infinity, option: "expiration") }
        #expect(try KVRules.seconds(fromNumber: 3600, option: "expirationTtl") == 3600)
        #expect(try kv.get("k") == nil)
    }

    @Test(arguments: Backend.allCases)
    func expiredEntriesArePurgedPhysically(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("cache")
        for i in 0..<50 { try kv.put("short:\(i)", "v", PutOptions(expirationTtl: 10)) }
        for i in 0..<5 { try kv.put("long:\(i)", "v", PutOptions(expirationTtl: 1000)) }
        try kv.put("forever", "v")
        t.clock.advance(by: 10)
        #expect(try t.store.purgeExpired() == 50)
        let everything = try t.store.storage.scan(try t.store.storage.namespaceID(for: Array("cache".utf8)),
                                                  range: KeyRange(lower: [], lowerInclusive: true, upper: nil), limit: 1000)
        #expect(everything.count == 6)
        #expect(try t.store.purgeExpired() == 0)
    }

    @Test(arguments: Backend.allCases)
    func writesPurgeExpiredEntriesOncePerInterval(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("cache")
        let id = try t.store.storage.namespaceID(for: Array("cache".utf8))
        let all = KeyRange(lower: [], lowerInclusive: true, upper: nil)
        for i in 0..<20 { try kv.put("old:\(i)", "v", PutOptions(expirationTtl: 1)) }
        t.clock.advance(by: 30)
        try kv.put("trigger", "v") // before the 60-second interval: nothing purged
        #expect(try t.store.storage.scan(id, range: all, limit: 100).count == 21)
        t.clock.advance(by: 30)
        try kv.put("trigger", "v") // interval reached
        #expect(try t.store.storage.scan(id, range: all, limit: 100).map { $0.key.text } == ["trigger"])
    }
}
