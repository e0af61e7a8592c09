import KVCore
import Testing

@Suite("Conformance: limits and validation")
struct LimitsConformanceTests {
    @Test(arguments: Backend.allCases)
    func keyLimits(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("keys")
        let longest = String(repeating: "k", count: 512)
        try kv.put(longest, "ok")
        #expect(try kv.get(longest)?.text == "ok")
        // 511 bytes of ASCII plus a two-byte character: 513 bytes, 512 characters.
        let tooLong = String(repeating: "k", count: 511) + "é"
        expectKVError(.invalidKey, "key exceeds 512 bytes (got 513)") { try kv.put(tooLong, "x") }
        expectKVError(.invalidKey, "key must not be empty") { try kv.put("", "x") }
        expectKVError(.invalidKey, "key must not be \".\" or \"..\"") { try kv.put(".", "x") }
        expectKVError(.invalidKey, "key must not be \".\" or \"..\"") { try kv.put("..", "x") }
        expectKVError(.invalidKey, "valid UTF-8") { try kv.put(keyBytes: [0x66, 0xFF], Array("x".utf8)) }
        expectKVError(.invalidKey, "key exceeds 512 bytes") { _ = try kv.get(tooLong) }
        expectKVError(.invalidKey, "key must not be empty") { try kv.delete("") }
        #expect(try kv.list().keys.map(\.name) == [longest])
        try kv.put("...", "three dots are fine")
        try kv.put("a/../b", "fine too")
    }

    @Test(arguments: Backend.allCases)
    func namespaceNameLimits(_ backend: Backend) throws {
        let t = try backend.makeStore()
        _ = try t.namespace(String(repeating: "n", count: 512))
        expectKVError(.invalidNamespace, "namespace name exceeds 512 bytes (got 513)") {
            _ = try t.namespace(String(repeating: "n", count: 513))
        }
        expectKVError(.invalidNamespace, "namespace name must not be empty") { _ = try t.namespace("") }
        expectKVError(.invalidNamespace, "valid UTF-8") { _ = try t.store.namespace(bytes: [0xC0, 0x80]) }
    }

    @Test(arguments: Backend.allCases)
    func valueOf25MiBIsAcceptedAndOneByteMoreIsRejected(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("big")
        var value = [UInt8](repeating: 0x61, count: 26_214_400)
        value[0] = 0
        value[value.count - 1] = 0xFF
        try kv.put("max", value)
        #expect(try kv.get("max") == value)
        value.append(1)
        expectKVError(.invalidValue, "value exceeds 26214400 bytes (got 26214401)") { try kv.put("over", value) }
        #expect(try kv.get("over") == nil)
    }

    @Test(arguments: Backend.allCases)
    func metadataLimits(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("meta")
        // {"a":"xxx..."} is 8 bytes of syntax around the string.
        let fits = #"{"a":""# + String(repeating: "x", count: 1024 - 8) + #""}"#
        #expect(fits.utf8.count == 1024)
        try kv.put("fits", "v", PutOptions(metadata: fits))
        #expect(try kv.getWithMetadata("fits")?.metadata == fits)
        let over = #"{"a":""# + String(repeating: "x", count: 1025 - 8) + #""}"#
        expectKVError(.invalidMetadata, "metadata exceeds 1024 bytes when serialised (got 1025)") {
            try kv.put("over", "v", PutOptions(metadata: over))
        }
        expectKVError(.invalidMetadata, "metadata is not valid JSON") { try kv.put("bad", "v", PutOptions(metadata: "{author:1}")) }
        #expect(try kv.get("over") == nil)
        #expect(try kv.get("bad") == nil)
        for json in ["null", "1", "\"s\"", "[1,2]", "{\"nested\":{\"a\":[true,false,null]}}"] {
            try kv.put("any", "v", PutOptions(metadata: json))
            #expect(try kv.getWithMetadata("any")?.metadata == json)
        }
    }

    @Test(arguments: Backend.allCases)
    func listOptionLimits(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("l")
        expectKVError(.invalidListOptions, "limit must be an integer from 1 to 1000 (got 0)") { _ = try kv.list(ListOptions(limit: 0)) }
        expectKVError(.invalidListOptions, "(got 1001)") { _ = try kv.list(ListOptions(limit: 1001)) }
        expectKVError(.invalidListOptions, "(got 2.5)") { _ = try KVRules.listLimit(fromNumber: 2.5) }
        expectKVError(.invalidListOptions, "(got NaN)") { _ = try KVRules.listLimit(fromNumber: .nan) }
        #expect(try KVRules.listLimit(fromNumber: 1000) == 1000)
    }
}
