import KVCore
@testable import LuatKVAPI
import Testing

@Suite struct NamespaceEndpointTests {
    typealias F = APIFixture

    @Test(arguments: APIBackend.allCases)
    func createListGetRenameDelete(_ backend: APIBackend) throws {
        let api = try backend.makeAPI()
        let created = api.send("POST", F.base, json: #"{"title":"users"}"#)
        #expect(created.status == 200)
        #expect(created.result?["id"] == .string("7573657273"))
        #expect(created.result?["title"] == .string("users"))

        // An empty namespace created over REST is listed and found.
        let listed = api.send("GET", F.base)
        #expect(listed.result?.array?.compactMap { $0["title"]?.string } == ["users"])
        #expect(listed.json["result_info"]?["total_count"] == .integer(1))
        #expect(api.send("GET", "\(F.base)/\(F.id("users"))").result?["title"] == .string("users"))

        // The same title again is Cloudflare's 10014.
        let again = api.send("POST", F.base, json: #"{"title":"users"}"#)
        #expect(again.status == 400)
        #expect(again.errorCode == 10014)

        // A namespace Lua wrote to exists without being created.
        try api.store.namespace("from-lua").put("k", "v")
        #expect(api.send("GET", "\(F.base)/\(F.id("from-lua"))").status == 200)

        // Rename moves the entries; the old id is gone, the new one holds the data.
        try api.store.namespace("users").put("alice", "1", PutOptions(metadata: #"{"a":1}"#))
        let renamed = api.send("PUT", "\(F.base)/\(F.id("users"))", json: #"{"title":"people"}"#)
        #expect(renamed.status == 200)
        #expect(renamed.result?["id"] == .string(F.id("people")))
        #expect(try api.store.namespace("people").getWithMetadata("alice") == KVEntry(value: Array("1".utf8), expiration: nil, metadata: #"{"a":1}"#))
        #expect(try api.store.namespace("users").get("alice") == nil)
        #expect(api.send("GET", "\(F.base)/\(F.id("users"))").errorCode == 10013)

        // Delete removes entries and the namespace.
        #expect(api.send("DELETE", "\(F.base)/\(F.id("people"))").status == 200)
        let gone = api.send("GET", "\(F.base)/\(F.id("people"))")
        #expect(gone.status == 404)
        #expect(gone.errorCode == 10013)
        #expect(try api.store.namespace("people").get("alice") == nil)
        #expect(api.send("GET", F.base).result?.array?.compactMap { $0["title"]?.string } == ["from-lua"])
        // The registry is internal: `luat kv namespaces` never sees it.
        #expect(try api.store.namespaces().map { String(decoding: $0.name, as: UTF8.self) } == ["from-lua"])
    }

    @Test func pagingAndOrder() throws {
        let api = try APIBackend.memory.makeAPI()
        for title in ["c", "a", "e", "b", "d"] {
            #expect(api.send("POST", F.base, json: #"{"title":"\#(title)"}"#).status == 200)
        }
        let first = api.send("GET", "\(F.base)?page=1&per_page=2&order=title&direction=desc")
        #expect(first.result?.array?.compactMap { $0["title"]?.string } == ["e", "d"])
        #expect(first.json["result_info"]?["total_pages"] == .integer(3))
        let last = api.send("GET", "\(F.base)?page=3&per_page=2&order=title&direction=desc")
        #expect(last.result?.array?.compactMap { $0["title"]?.string } == ["a"])
        #expect(api.send("GET", "\(F.base)?page=4&per_page=2").result?.array?.isEmpty == true)
        let bad = api.send("GET", "\(F.base)?direction=up")
        #expect(bad.status == 400)
        #expect(bad.errorMessage.contains("direction"))
    }

    @Test func badTitlesAndIds() throws {
        let api = try APIBackend.memory.makeAPI()
        let long = String(repeating: "n", count: 513)
        let tooLong = api.send("POST", F.base, json: #"{"title":"\#(long)"}"#)
        #expect(tooLong.status == 400)
        #expect(tooLong.errorMessage == "create namespace: title: namespace name exceeds 512 bytes (got 513)")
        #expect(api.send("POST", F.base, json: #"{"name":"x"}"#).errorMessage.contains("\"title\" must be a string"))
        #expect(api.send("POST", F.base, json: "{").errorMessage.contains("not valid JSON"))
        let notHex = api.send("GET", "\(F.base)/XYZ")
        #expect(notHex.status == 404)
        #expect(notHex.errorCode == 10013)
        #expect(api.send("GET", "\(F.base)/ff").errorCode == 10013) // 0xFF: not UTF-8
        #expect(api.send("PATCH", F.base).status == 405)
        #expect(api.send("GET", "/client/v4/accounts/acct/storage/kv/other").status == 404)
    }

    @Test func idMapping() {
        #expect(KVAPINamespaceID.id(forTitle: "users") == "7573657273")
        #expect(KVAPINamespaceID.id(forTitle: "é/ü") == "c3a92fc3bc")
        #expect(KVAPINamespaceID.titleBytes(forID: "c3a92fc3bc") == Array("é/ü".utf8))
        #expect(KVAPINamespaceID.titleBytes(forID: "ABCD") == nil) // upper case is not an id: one id per title
        #expect(KVAPINamespaceID.titleBytes(forID: "abc") == nil)
        #expect(KVAPINamespaceID.titleBytes(forID: "") == nil)
    }
}
