import Foundation
import KVCore
import Testing

@Suite("Conformance: versions, atomic commits and counters")
struct AtomicConformanceTests {
    @Test(arguments: Backend.allCases)
    func everyWriteGivesAGreaterVersion(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("v")
        try kv.put("a", "1")
        let first = try #require(try kv.getWithMetadata("a")?.version)
        try kv.put("a", "1") // the same value again is still a new write
        let second = try #require(try kv.getWithMetadata("a")?.version)
        #expect(second > first)
        try kv.put("b", "x")
        let other = try #require(try kv.getWithMetadata("b")?.version)
        #expect(other > second) // increasing across the store, not only per key
        try kv.delete("a")
        try kv.put("a", "1")
        let third = try #require(try kv.getWithMetadata("a")?.version)
        #expect(third > other)
        try kv.putMany([(Array("a".utf8), Array("2".utf8), PutOptions()), (Array("c".utf8), Array("3".utf8), PutOptions())])
        let batched = try #require(try kv.getWithMetadata("a")?.version)
        #expect(batched > third)
        // The text form is opaque but sorts as the store orders versions.
        #expect(first.description < second.description && second.description < batched.description)
        #expect(KVVersion(batched.description) == batched)
        #expect(try kv.getMany(["a", "c"]).map { $0?.version } == [batched, batched])
    }

    @Test(arguments: Backend.allCases)
    func uniqueSignUpChecksAbsenceAndVersionsAcrossNamespaces(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let users = try t.namespace("users"), emails = try t.namespace("emails")
        try users.put("u:1", #"{"name":"Alice"}"#, PutOptions(metadata: #"{"v":1}"#))
        try users.put("u:1:draft", "draft")
        let info = try #require(try users.getWithMetadata("u:1"))

        let version = try t.store.atomic()
            .check(emails, "alice@example.com", nil)
            .check(users, "u:1", info.version)
            .put(users, "u:1", #"{"name":"Alice","email":"alice@example.com"}"#, PutOptions(metadata: #"{"v":2}"#))
            .put(emails, "alice@example.com", "u:1")
            .delete(users, "u:1:draft")
            .sum(users, "count", 1)
            .commit()
        let committed = try #require(version)
        #expect(committed > info.version!)
        #expect(try emails.get("alice@example.com")?.text == "u:1")
        #expect(try users.getWithMetadata("u:1")?.metadata == #"{"v":2}"#)
        #expect(try users.getWithMetadata("u:1")?.version == committed)
        #expect(try emails.getWithMetadata("alice@example.com")?.version == committed)
        #expect(try users.get("u:1:draft") == nil)
        #expect(try users.get("count")?.text == "1")

        // The same sign-up again: the email is taken now, so nothing is written.
        let again = try t.store.atomic()
            .check(emails, "alice@example.com", nil)
            .put(emails, "alice@example.com", "u:2")
            .sum(users, "count", 1)
            .commit()
        #expect(again == nil)
        #expect(try emails.get("alice@example.com")?.text == "u:1")
        #expect(try users.get("count")?.text == "1")
    }

    @Test(arguments: Backend.allCases)
    func staleVersionFailsAndWritesNothing(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("cas")
        try kv.put("k", "1")
        let seen = try #require(try kv.getWithMetadata("k")?.version)
        try kv.put("k", "2") // someone else wrote meanwhile
        #expect(try t.store.atomic().check(kv, "k", seen).put(kv, "k", "from stale").put(kv, "other", "x").commit() == nil)
        #expect(try kv.get("k")?.text == "2")
        #expect(try kv.get("other") == nil)
        // A present key fails an absence check; an absent key fails a version check.
        #expect(try t.store.atomic().check(kv, "k", nil).put(kv, "other", "x").commit() == nil)
        #expect(try t.store.atomic().check(kv, "missing", seen).put(kv, "other", "x").commit() == nil)
        #expect(try kv.get("other") == nil)
        // The current version passes.
        let current = try kv.getWithMetadata("k")?.version
        #expect(try t.store.atomic().check(kv, "k", current).put(kv, "k", "3").commit() != nil)
        #expect(try kv.get("k")?.text == "3")
    }

    @Test(arguments: Backend.allCases)
    func expiredEntryCountsAsAbsent(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("exp")
        try kv.put("lock", "held", PutOptions(expirationTtl: 60))
        let version = try kv.getWithMetadata("lock")?.version
        #expect(try t.store.atomic().check(kv, "lock", nil).put(kv, "lock", "mine").commit() == nil)
        t.clock.advance(by: 60)
        // Expired: its old version no longer matches, and an absence check passes.
        #expect(try t.store.atomic().check(kv, "lock", version).put(kv, "lock", "stale").commit() == nil)
        #expect(try t.store.atomic().check(kv, "lock", nil).put(kv, "lock", "mine", PutOptions(expirationTtl: 60)).commit() != nil)
        let entry = try #require(try kv.getWithMetadata("lock"))
        #expect(entry.value.text == "mine")
        #expect(entry.expiration == t.clock.nowSeconds() + 60)
        // An expired counter restarts from 0, without the old expiration.
        try kv.put("hits", "41", PutOptions(expirationTtl: 10))
        t.clock.advance(by: 10)
        #expect(try kv.increment("hits") == 1)
        #expect(try kv.getWithMetadata("hits")?.expiration == nil)
    }

    @Test(arguments: Backend.allCases)
    func countersAddToDecimalTextAndKeepExpirationAndMetadata(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("counters")
        #expect(try kv.increment("visits") == 1)
        #expect(try kv.increment("visits", by: 41) == 42)
        #expect(try kv.increment("visits", by: -50) == -8)
        #expect(try kv.get("visits")?.text == "-8")
        try kv.put("window", "007", PutOptions(expirationTtl: 60, metadata: #"{"w":1}"#))
        #expect(try kv.increment("window") == 8)
        let entry = try #require(try kv.getWithMetadata("window"))
        #expect(entry == KVEntry(value: Array("8".utf8), expiration: t.clock.nowSeconds() + 60, metadata: #"{"w":1}"#))
        // Several sums of one key in one commit add up, in order after a put.
        let version = try t.store.atomic().put(kv, "n", "10").sum(kv, "n", 5).sum(kv, "n", -1).commit()
        #expect(version != nil)
        #expect(try kv.get("n")?.text == "14")
        try kv.put("big", "\(Int64.max - 1)")
        #expect(try kv.increment("big") == Int64.max)
        try kv.put("low", "\(Int64.min)")
        #expect(try kv.increment("low", by: 0) == Int64.min)
    }

    @Test(arguments: Backend.allCases)
    func counterErrorsNameTheKeyAndWriteNothing(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("counters")
        try kv.put("name", "alice")
        try kv.put("big", "\(Int64.max)")
        for bad in ["", "1.5", " 1", "+1", "1e3", "-", "99999999999999999999"] {
            try kv.put("bad", bad)
            expectKVError(.invalidCounter, #"value of key "bad" is not a 64-bit decimal integer"#) { try kv.increment("bad") }
        }
        expectKVError(.invalidCounter, #"value of key "name" is not a 64-bit decimal integer"#) {
            try t.store.atomic().put(kv, "side", "effect").sum(kv, "name", 1).commit()
        }
        #expect(try kv.get("side") == nil)
        expectKVError(.invalidCounter, #"counter "big" would overflow 64 bits"#) { try kv.increment("big") }
        #expect(try kv.get("big")?.text == "\(Int64.max)")
    }

    @Test(arguments: Backend.allCases)
    func badArgumentsFailWithPutsMessagesBeforeAnythingIsWritten(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("args")
        let long = String(repeating: "x", count: 513)
        expectKVError(.invalidKey, "key exceeds 512 bytes (got 513)") {
            try t.store.atomic().put(kv, "ok", "v").put(kv, long, "v").commit()
        }
        expectKVError(.invalidKey, "key must not be empty") { try t.store.atomic().put(kv, "ok", "v").delete(kv, "").commit() }
        expectKVError(.invalidKey, #"key must not be "." or "..""#) { try t.store.atomic().check(kv, "..", nil).commit() }
        expectKVError(.invalidMetadata, "metadata is not valid JSON") {
            try t.store.atomic().put(kv, "ok", "v").put(kv, "m", "v", PutOptions(metadata: "{")).commit()
        }
        expectKVError(.invalidExpiration, "expiration must be in the future") {
            try t.store.atomic().put(kv, "ok", "v").put(kv, "e", "v", PutOptions(expiration: t.clock.nowSeconds())).commit()
        }
        expectKVError(.invalidValue, "value exceeds 26214400 bytes (got 26214401)") {
            try t.store.atomic().put(kv, "ok", "v").put(kv, "big", [UInt8](repeating: 0, count: 26_214_401)).commit()
        }
        expectKVError(.invalidCounter, "n must be an integer (got 1.5)") { _ = try KVRules.counterDelta(fromNumber: 1.5) }
        expectKVError(.invalidAtomic, "version must be a version string") { _ = try KVRules.version(fromText: "v1") }
        let elsewhere = try backend.makeStore()
        expectKVError(.invalidAtomic, #"namespace "args" belongs to another store"#) {
            try elsewhere.store.atomic().put(kv, "ok", "v").commit()
        }
        #expect(try kv.list().keys.isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func limitsAreEnforcedWithClearErrors(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("limits")
        var atomic = t.store.atomic()
        for i in 0..<KVLimits.maxAtomicChecks { atomic = try atomic.check(kv, "c\(i)", nil) }
        expectKVError(.invalidAtomic, "too many checks in one atomic commit (got 101, at most 100)") { _ = try atomic.check(kv, "one more", nil) }
        for i in 0..<KVLimits.maxAtomicMutations { atomic = try atomic.put(kv, "m\(i)", "v") }
        expectKVError(.invalidAtomic, "too many mutations in one atomic commit (got 1001, at most 1000)") { _ = try atomic.delete(kv, "one more") }
        // At the limits the commit goes through: 100 checks, 1,000 puts.
        #expect(try atomic.commit() != nil)
        #expect(try kv.list().keys.count == 1000)
        let half = [UInt8](repeating: 1, count: 13_107_200)
        expectKVError(.invalidAtomic, "atomic commit writes more than 26214400 bytes of keys, values and metadata (got 26214404)") {
            try t.store.atomic().put(kv, "h1", half).put(kv, "h2", half).put(kv, "h3", []).commit()
        }
        #expect(try kv.get("h1") == nil)
    }

    @Test(arguments: Backend.allCases)
    func checkOnlyCommitAndEmptyCommitWriteNothing(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("empty")
        try kv.put("k", "v")
        let version = try kv.getWithMetadata("k")?.version
        #expect(try t.store.atomic().check(kv, "k", version).commit() != nil)
        #expect(try t.store.atomic().commit() != nil)
        #expect(try kv.getWithMetadata("k")?.version == version)
    }

    @Test(arguments: Backend.allCases)
    func eightThreadsIncrementAndCompareAndSetExactly(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("contended")
        let failures = Failures()
        let perThread = backend == .postgres ? 100 : 500
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<perThread {
                do {
                    try kv.increment("counter")
                    // Check-and-set: read, check the version, put value + 1; retry on a lost race.
                    while true {
                        let entry = try kv.getWithMetadata("cas")
                        let value = entry.map { Int($0.value.text)! } ?? 0
                        if try t.store.atomic().check(kv, "cas", entry?.version).put(kv, "cas", "\(value + 1)").commit() != nil { break }
                    }
                } catch { failures.add("\(error)") }
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all.prefix(3))")
        #expect(try kv.get("counter")?.text == "\(8 * perThread)")
        #expect(try kv.get("cas")?.text == "\(8 * perThread)")
    }
}
