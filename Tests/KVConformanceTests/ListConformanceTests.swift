import Foundation
import KVCore
import Testing

@Suite("Conformance: list, prefixes and cursors")
struct ListConformanceTests {
    @Test(arguments: Backend.allCases)
    func keysComeInUTF8ByteOrder(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("order")
        // Inserted shuffled; "é" (C3 A9) sorts after "z", "Z" before "a", "😀" (F0...) last,
        // and precomposed "é" differs from "e" + combining accent (65 CC 81).
        let keys = ["é", "z", "a", "Z", "😀", "e\u{301}", "aa", "a b", "~", "ä"]
        for key in keys { try kv.put(key, key) }
        let listed = try kv.list().keys.map(\.name)
        let expected = keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        #expect(listed.map { Array($0.utf8) } == expected.map { Array($0.utf8) })
        #expect(listed.count == keys.count)
        // Compare bytes: Swift's String == would treat "é" and "e\u{301}" as equal.
        let bytes = listed.map { Array($0.utf8) }
        #expect(bytes.firstIndex(of: Array("é".utf8))! > bytes.firstIndex(of: Array("z".utf8))!)
        #expect(try kv.get("e\u{301}")?.text == "e\u{301}")
        #expect(try kv.get("é").map { Array($0) } == Array("é".utf8))
    }

    @Test(arguments: Backend.allCases)
    func prefixIsLiteralAndCaseSensitive(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("p")
        for key in ["100%", "100%_done", "100x", "1000", "a_b", "axb", "a\\b", "a*", "abc", "User:1", "user:1", "user:2", "user:10"] {
            try kv.put(key, "v")
        }
        #expect(try kv.list(ListOptions(prefix: "100%")).keys.map(\.name) == ["100%", "100%_done"])
        #expect(try kv.list(ListOptions(prefix: "a_")).keys.map(\.name) == ["a_b"])
        #expect(try kv.list(ListOptions(prefix: "a\\")).keys.map(\.name) == ["a\\b"])
        #expect(try kv.list(ListOptions(prefix: "a*")).keys.map(\.name) == ["a*"])
        #expect(try kv.list(ListOptions(prefix: "user:")).keys.map(\.name) == ["user:1", "user:10", "user:2"])
        #expect(try kv.list(ListOptions(prefix: "nothing")).keys.isEmpty)
        #expect(try kv.list(ListOptions(prefix: "")).keys.count == 13)
    }

    @Test(arguments: Backend.allCases)
    func prefixEndingInHighBytes(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("p")
        for key in ["\u{10FFFF}", "\u{10FFFF}a", "\u{FFFF}", "zz"] { try kv.put(key, "v") }
        #expect(try kv.list(ListOptions(prefix: "\u{10FFFF}")).keys.map(\.name) == ["\u{10FFFF}", "\u{10FFFF}a"])
    }

    @Test(arguments: Backend.allCases)
    func listedKeysCarryExpirationAndMetadata(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("posts")
        let now = t.clock.nowSeconds()
        try kv.put("post:1", "a", PutOptions(metadata: #"{"author":"alice"}"#))
        try kv.put("post:2", "b", PutOptions(expirationTtl: 100))
        try kv.put("post:3", "c")
        let result = try kv.list(ListOptions(prefix: "post:"))
        #expect(result.keys == [
            ListedKey(name: "post:1", expiration: nil, metadata: #"{"author":"alice"}"#),
            ListedKey(name: "post:2", expiration: now + 100, metadata: nil),
            ListedKey(name: "post:3", expiration: nil, metadata: nil),
        ])
        #expect(result.listComplete)
        #expect(result.cursor == nil)
    }

    @Test(arguments: Backend.allCases)
    func pagingThrough2500KeysWithWritesBetweenPages(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("paging")
        func key(_ i: Int) -> String { "key:" + String(repeating: "0", count: 5 - String(i).count) + String(i) }
        for i in 0..<2500 { try kv.put(key(i * 2), "v") } // even numbers 0...4998

        let page1 = try kv.list(ListOptions(limit: 1000))
        #expect(page1.keys.count == 1000)
        #expect(!page1.listComplete)
        #expect(page1.keys.last?.name == key(1998))
        let cursor1 = try #require(page1.cursor)
        #expect(!cursor1.contains("key:"), "the cursor is opaque")

        // Between pages: delete the last key returned, delete keys ahead, insert keys ahead and behind.
        try kv.delete(key(1998))
        for i in stride(from: 2000, to: 2200, by: 2) { try kv.delete(key(i)) } // 100 removed ahead
        for i in stride(from: 2001, to: 2101, by: 2) { try kv.put(key(i), "new") } // 50 inserted ahead
        try kv.put(key(1), "behind") // behind the cursor: not seen again

        let page2 = try kv.list(ListOptions(limit: 1000, cursor: cursor1))
        #expect(page2.keys.count == 1000)
        #expect(page2.keys.first?.name == key(2001))
        #expect(!page2.listComplete)
        let page3 = try kv.list(ListOptions(limit: 1000, cursor: try #require(page2.cursor)))
        // 2500 - 1000 - 100 + 50 = 1450 keys after page 1: 1000 + 450.
        #expect(page3.keys.count == 450)
        #expect(page3.listComplete)
        #expect(page3.cursor == nil)
        #expect(page3.keys.last?.name == key(4998))

        let all = page1.keys + page2.keys + page3.keys
        #expect(Set(all.map(\.name)).count == all.count, "no key is listed twice")
        let names = all.map { Array($0.name.utf8) }
        #expect(names == names.sorted { $0.lexicographicallyPrecedes($1) })
    }

    @Test(arguments: Backend.allCases)
    func expiredKeysInsideAPageNeverShortenIt(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("mixed")
        // 30 live keys with 3 expiring keys between each pair, plus 40 expiring keys at the end.
        for i in 0..<30 {
            try kv.put(String(format: "k%03d", i * 10), "live")
            for j in 1...3 { try kv.put(String(format: "k%03d", i * 10 + j), "dies", PutOptions(expirationTtl: 5)) }
        }
        for i in 0..<40 { try kv.put(String(format: "z%03d", i), "dies", PutOptions(expirationTtl: 5)) }
        t.clock.advance(by: 5)

        var cursor: String? = nil
        var pages: [[String]] = []
        var completes: [Bool] = []
        repeat {
            let page = try kv.list(ListOptions(limit: 7, cursor: cursor))
            pages.append(page.keys.map(\.name))
            completes.append(page.listComplete)
            cursor = page.cursor
        } while cursor != nil
        #expect(pages.map(\.count) == [7, 7, 7, 7, 2])
        #expect(completes == [false, false, false, false, true])
        #expect(pages.joined().allSatisfy { $0.hasPrefix("k") && $0.hasSuffix("0") })

        // A page that ends exactly at the last live key is complete, even with expired keys after it.
        let exact = try kv.list(ListOptions(limit: 30))
        #expect(exact.keys.count == 30)
        #expect(exact.listComplete)
        #expect(exact.cursor == nil)
    }

    @Test(arguments: Backend.allCases)
    func limitExactlyAtTheEndIsComplete(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("n")
        for i in 0..<5 { try kv.put("k\(i)", "v") }
        let page = try kv.list(ListOptions(limit: 5))
        #expect(page.keys.count == 5 && page.listComplete && page.cursor == nil)
        let short = try kv.list(ListOptions(limit: 4))
        #expect(short.keys.count == 4 && !short.listComplete)
        let rest = try kv.list(ListOptions(limit: 4, cursor: short.cursor))
        #expect(rest.keys.map(\.name) == ["k4"] && rest.listComplete)
    }

    @Test(arguments: Backend.allCases)
    func cursorsAreBoundToNamespaceAndPrefix(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let a = try t.namespace("a")
        let b = try t.namespace("b")
        for i in 0..<10 { try a.put("p:\(i)", "v"); try b.put("p:\(i)", "v") }
        let cursor = try #require(try a.list(ListOptions(prefix: "p:", limit: 3)).cursor)
        expectKVError(.invalidCursor, "cursor belongs to another namespace or prefix") {
            _ = try b.list(ListOptions(prefix: "p:", limit: 3, cursor: cursor))
        }
        expectKVError(.invalidCursor, "cursor belongs to another namespace or prefix") {
            _ = try a.list(ListOptions(prefix: "p", limit: 3, cursor: cursor))
        }
        expectKVError(.invalidCursor, "cursor is malformed") { _ = try a.list(ListOptions(prefix: "p:", cursor: "not a cursor!")) }
        expectKVError(.invalidCursor, "cursor is malformed") { _ = try a.list(ListOptions(prefix: "p:", cursor: "AAAA")) }
        #expect(try a.list(ListOptions(prefix: "p:", limit: 3, cursor: cursor)).keys.map(\.name) == ["p:3", "p:4", "p:5"])
        // An empty cursor means "from the start", as Cloudflare accepts it.
        #expect(try a.list(ListOptions(prefix: "p:", limit: 1, cursor: "")).keys.map(\.name) == ["p:0"])
    }
}
