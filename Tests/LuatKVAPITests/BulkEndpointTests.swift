import KVCore
@testable import LuatKVAPI
import Testing

@Suite struct BulkEndpointTests {
    typealias F = APIFixture
    static let users = "\(F.base)/\(F.id("users"))"

    @Test(arguments: APIBackend.allCases)
    func writeGetDelete(_ backend: APIBackend) throws {
        let api = try backend.makeAPI()
        let body = """
            [{"key":"a","value":"{\\"n\\":1}","metadata":{"m":true}},
             {"key":"b","value":"AAH/","base64":true,"expiration_ttl":100},
             {"key":"c","value":"text","expiration":1800000000},
             {"key":"old","value":"gone","expiration":1000}]
            """
        let written = api.send("PUT", "\(Self.users)/bulk", json: body)
        #expect(written.status == 200, "\(written.text)")
        #expect(written.result?["successful_key_count"] == .integer(3))
        #expect(written.result?["unsuccessful_keys"] == .array([.string("old")]))
        #expect(try api.store.namespace("users").get("b") == [0, 1, 0xFF])

        let text = api.send("POST", "\(Self.users)/bulk/get", json: #"{"keys":["a","c","missing"]}"#)
        #expect(text.result?["values"] == .object([("a", .string(#"{"n":1}"#)), ("c", .string("text")), ("missing", .null)]))
        let json = api.send("POST", "\(Self.users)/bulk/get", json: #"{"keys":["a"],"type":"json","withMetadata":true}"#)
        #expect(json.result?["values"]?["a"] == .object([("value", .object([("n", .integer(1))])), ("metadata", .object([("m", .bool(true))]))]))
        let binary = api.send("POST", "\(Self.users)/bulk/get", json: #"{"keys":["b"]}"#)
        #expect(binary.status == 400)
        #expect(binary.errorMessage.contains("binary"))
        let notJSON = api.send("POST", "\(Self.users)/bulk/get", json: #"{"keys":["c"],"type":"json"}"#)
        #expect(notJSON.errorMessage.contains("not valid JSON"))
        let tooMany = api.send("POST", "\(Self.users)/bulk/get", json: "{\"keys\":[\((0...100).map { "\"k\($0)\"" }.joined(separator: ","))]}")
        #expect(tooMany.errorMessage == "KV.get: too many keys (got 101, at most 100)")

        let deleted = api.send("POST", "\(Self.users)/bulk/delete", json: #"["a","b","nope"]"#)
        #expect(deleted.status == 200)
        #expect(try api.store.namespace("users").list().keys.map(\.name) == ["c"])
        // The older DELETE .../bulk form too.
        #expect(api.send("DELETE", "\(Self.users)/bulk", json: #"["c"]"#).status == 200)
        #expect(try api.store.namespace("users").list().keys.isEmpty)
    }

    @Test(arguments: APIBackend.allCases)
    func aBadEntryWritesNothing(_ backend: APIBackend) throws {
        let api = try backend.makeAPI()
        let long = String(repeating: "k", count: 600)
        let refused = api.send("PUT", "\(Self.users)/bulk", json: #"[{"key":"fine","value":"1"},{"key":"\#(long)","value":"2"}]"#)
        #expect(refused.status == 400)
        #expect(refused.errorMessage == "bulk write: entry 1: key exceeds 512 bytes (got 600); nothing was written")
        #expect(try api.store.namespace("users").get("fine") == nil)
        #expect(api.send("PUT", "\(Self.users)/bulk", json: #"[{"key":"x"}]"#).errorMessage.contains("\"value\" is missing"))
        #expect(api.send("PUT", "\(Self.users)/bulk", json: #"[{"key":"x","value":"%%%","base64":true}]"#).errorMessage.contains("not valid base64"))
        #expect(api.send("PUT", "\(Self.users)/bulk", json: #"{"key":"x"}"#).errorMessage.contains("JSON array"))
        #expect(api.send("POST", "\(Self.users)/bulk/delete", json: #"["ok",7]"#).errorMessage == "bulk delete: key 1: must be a string")
    }

    @Test func tenThousandEntriesInOneWrite() throws {
        let api = try APIBackend.sqlite.makeAPI()
        let entries = (0..<10_000).map { #"{"key":"k\#($0)","value":"v\#($0)"}"# }.joined(separator: ",")
        let written = api.send("PUT", "\(Self.users)/bulk", json: "[\(entries)]")
        #expect(written.result?["successful_key_count"] == .integer(10_000))
        #expect(try api.store.namespace("users").get("k9999") == Array("v9999".utf8))
        let keys = (0..<10_000).map { "\"k\($0)\"" }.joined(separator: ",")
        #expect(api.send("POST", "\(Self.users)/bulk/delete", json: "[\(keys)]").status == 200)
        #expect(try api.store.namespace("users").list().keys.isEmpty)
    }
}
