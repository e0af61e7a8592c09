import KVCore
@testable import LuatKVAPI
import Testing

@Suite struct ValueEndpointTests {
    typealias F = APIFixture
    static let users = "\(F.base)/\(F.id("users"))"

    @Test(arguments: APIBackend.allCases)
    func binaryValuesRoundTripAndMissingKeys(_ backend: APIBackend) throws {
        let api = try backend.makeAPI()
        let binary: [UInt8] = (0...255).map { UInt8($0) } + [0, 0xFF, 0xFE]
        #expect(api.send("PUT", "\(Self.users)/values/bin%2Fkey", body: binary, headers: [("content-type", "application/octet-stream")]).status == 200)
        let read = api.send("GET", "\(Self.users)/values/bin%2Fkey")
        #expect(read.status == 200)
        #expect(read.body == binary)
        #expect(read.response.headers["content-type"] == "application/octet-stream")
        // The REST title `users` is Lua's KV.namespace("users").
        #expect(try api.store.namespace("users").get("bin/key") == binary)

        let missing = api.send("GET", "\(Self.users)/values/nope")
        #expect(missing.status == 404)
        #expect(missing.errorCode == 10009)
        #expect(missing.success == false)
        #expect(api.send("GET", "\(Self.users)/metadata/nope").errorCode == 10009)

        #expect(api.send("DELETE", "\(Self.users)/values/bin%2Fkey").status == 200)
        #expect(api.send("GET", "\(Self.users)/values/bin%2Fkey").status == 404)
    }

    @Test(arguments: APIBackend.allCases)
    func multipartValueWithMetadata(_ backend: APIBackend) throws {
        let api = try backend.makeAPI()
        let boundary = "----luat1234"
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"value\"; filename=\"blob\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        body += [1, 2, 13, 10, 45, 45, 3]  // a CRLF and dashes inside the value
        body += Array("\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{\"owner\":\"ann\",\"n\":[1,2]}\r\n--\(boundary)--\r\n".utf8)
        let put = api.send("PUT", "\(Self.users)/values/doc?expiration_ttl=120", body: body,
                           headers: [("content-type", "multipart/form-data; boundary=\(boundary)")])
        #expect(put.status == 200, "\(put.text)")
        #expect(api.send("GET", "\(Self.users)/values/doc").body == [1, 2, 13, 10, 45, 45, 3])
        let metadata = api.send("GET", "\(Self.users)/metadata/doc")
        #expect(metadata.result == .object([("owner", .string("ann")), ("n", .array([.integer(1), .integer(2)]))]))
        let entry = try #require(try api.store.namespace("users").getWithMetadata("doc"))
        #expect(entry.expiration == 1_700_000_120)

        // Metadata over the limit: the Lua API's message, nothing written.
        let big = String(repeating: "x", count: 1100)
        let tooBig = Array("--b\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\nv\r\n--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n\"\(big)\"\r\n--b--\r\n".utf8)
        let refused = api.send("PUT", "\(Self.users)/values/other", body: tooBig, headers: [("content-type", "multipart/form-data; boundary=b")])
        #expect(refused.status == 400)
        #expect(refused.errorMessage == "KV.put: metadata exceeds 1024 bytes when serialised (got 1102)")
        #expect(try api.store.namespace("users").get("other") == nil)
        let noValue = api.send("PUT", "\(Self.users)/values/other", body: Array("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n--b--\r\n".utf8),
                               headers: [("content-type", "multipart/form-data; boundary=b")])
        #expect(noValue.errorMessage.contains("no \"value\" part"))
    }

    @Test(arguments: APIBackend.allCases)
    func expirationFollowsTheInjectedClock(_ backend: APIBackend) throws {
        let api = try backend.makeAPI()
        #expect(api.send("PUT", "\(Self.users)/values/a?expiration_ttl=60", body: Array("x".utf8)).status == 200)
        #expect(api.send("PUT", "\(Self.users)/values/b?expiration=1700000300", body: Array("y".utf8)).status == 200)
        let keys = api.send("GET", "\(Self.users)/keys")
        #expect(keys.result?.array?.map { $0["expiration"] } == [.integer(1_700_000_060), .integer(1_700_000_300)])
        #expect(api.send("GET", "\(Self.users)/values/a").response.headers["expiration"] == "1700000060")

        api.clock.advance(by: 60)
        #expect(api.send("GET", "\(Self.users)/values/a").status == 404)
        #expect(api.send("GET", "\(Self.users)/values/b").status == 200)
        #expect(api.send("GET", "\(Self.users)/keys").result?.array?.count == 1)

        let past = api.send("PUT", "\(Self.users)/values/c?expiration=1000", body: Array("z".utf8))
        #expect(past.status == 400)
        #expect(past.errorCode == 10033)
        #expect(past.errorMessage == "KV.put: expiration must be in the future (got 1000, now 1700000060); use expirationTtl for a relative time")
        let zero = api.send("PUT", "\(Self.users)/values/c?expiration_ttl=0", body: Array("z".utf8))
        #expect(zero.errorMessage == "KV.put: expirationTtl must be a positive integer number of seconds (got 0)")
        #expect(api.send("PUT", "\(Self.users)/values/c?expiration_ttl=soon", body: Array("z".utf8)).errorCode == 10033)
        #expect(try api.store.namespace("users").get("c") == nil)
    }

    @Test func limitsAreTheLuaAPIs() throws {
        let api = try APIBackend.memory.makeAPI()
        let longKey = String(repeating: "k", count: 513)
        let refused = api.send("PUT", "\(Self.users)/values/\(longKey)", body: Array("v".utf8))
        #expect(refused.status == 400)
        #expect(refused.errorMessage == "KV.put: key exceeds 512 bytes (got 513)")
        #expect(api.send("GET", "\(Self.users)/values/..").errorMessage == "KV.get: key must not be \".\" or \"..\"")
        #expect(api.send("GET", "\(Self.users)/values/%ZZ").status == 400)
        #expect(api.send("GET", "\(Self.users)/keys?limit=1001").errorMessage == "KV.list: limit must be an integer from 1 to 1000 (got 1001)")
        #expect(api.send("GET", "\(Self.users)/keys?cursor=bogus").status == 400)
    }

    /// A malformed escape in a query value is refused by name; it must not read as "no prefix"
    /// and list every key.
    @Test func malformedQueryEscapesAreRefused() throws {
        let api = try APIBackend.memory.makeAPI()
        try api.store.namespace("users").put("user:1", "v")
        let bad = api.send("GET", "\(Self.users)/keys?prefix=%ZZ")
        #expect(bad.status == 400)
        #expect(bad.errorMessage.hasPrefix("query parameter prefix: malformed value %ZZ"), "\(bad.errorMessage)")
        let notUTF8 = api.send("GET", "\(Self.users)/keys?prefix=%FF")
        #expect(notUTF8.status == 400)
        #expect(notUTF8.errorMessage.hasPrefix("query parameter prefix: malformed value %FF"))
        #expect(api.send("GET", "\(Self.users)/keys?limit=10&x%G1=1").errorMessage.hasPrefix("query string: malformed field name x%G1"))
        let good = api.send("GET", "\(Self.users)/keys?prefix=user%3A")
        #expect(good.status == 200)
    }

    @Test(arguments: APIBackend.allCases)
    func keyPagesCoverEveryKeyOnce(_ backend: APIBackend) throws {
        let api = try backend.makeAPI()
        let ns = try api.store.namespace("users")
        try ns.putMany((0..<2_500).map { (Array("user:\(String($0 + 10_000))".utf8), Array("v".utf8), PutOptions()) })
        try ns.put("other", "x")
        var names: [String] = []
        var cursor = ""
        var pages = 0
        repeat {
            let page = api.send("GET", "\(Self.users)/keys?prefix=user%3A&limit=1000&cursor=\(cursor)")
            #expect(page.status == 200)
            let keys = try #require(page.result?.array)
            names += keys.compactMap { $0["name"]?.string }
            #expect(page.json["result_info"]?["count"] == .integer(Int64(keys.count)))
            cursor = page.json["result_info"]?["cursor"]?.string ?? ""
            pages += 1
        } while !cursor.isEmpty && pages < 10
        #expect(pages == 3)
        #expect(names == (0..<2_500).map { "user:\($0 + 10_000)" })
    }
}
