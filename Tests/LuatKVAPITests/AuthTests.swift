import KVCore
import LuatHTTP
@testable import LuatKVAPI
import Testing

@Suite struct AuthTests {
    typealias F = APIFixture
    static let users = "\(F.base)/\(F.id("users"))"

    @Test func missingMalformedAndWrongTokensAre401() throws {
        let api = try APIBackend.memory.makeAPI()
        let missing = api.send("GET", F.base, token: nil)
        #expect(missing.status == 401)
        #expect(missing.errorCode == 10000)
        #expect(missing.success == false)
        #expect(missing.response.headers["www-authenticate"] != nil)
        #expect(api.send("GET", F.base, token: nil, headers: [("authorization", "Basic abc")]).status == 401)
        #expect(api.send("GET", F.base, token: nil, headers: [("authorization", "Bearer ")]).status == 401)
        let wrong = api.send("GET", F.base, token: F.writerSecret + "x")
        #expect(wrong.status == 401)
        #expect(wrong.errorMessage == "Authentication error: invalid API token")
        #expect(api.send("GET", F.base, token: String(F.writerSecret.dropLast())).status == 401)
        // Any case of the scheme, as HTTP allows.
        #expect(api.send("GET", F.base, token: nil, headers: [("authorization", "bearer \(F.writerSecret)")]).status == 200)
        // Unknown routes still need a token first: nothing is revealed without one.
        #expect(api.send("GET", "/client/v4/zones", token: nil).status == 401)
    }

    @Test func readOnlyTokensCannotWrite() throws {
        let api = try APIBackend.memory.makeAPI()
        try api.store.namespace("users").put("a", "1")
        let reader = F.readerSecret
        #expect(api.send("GET", "\(Self.users)/values/a", token: reader).body == Array("1".utf8))
        #expect(api.send("GET", "\(Self.users)/keys", token: reader).status == 200)
        #expect(api.send("POST", "\(Self.users)/bulk/get", json: #"{"keys":["a"]}"#, token: reader).status == 200)
        for (method, target, body) in [
            ("PUT", "\(Self.users)/values/a", "2"), ("DELETE", "\(Self.users)/values/a", ""),
            ("PUT", "\(Self.users)/bulk", #"[{"key":"a","value":"3"}]"#), ("POST", "\(Self.users)/bulk/delete", #"["a"]"#),
            ("POST", F.base, #"{"title":"new"}"#), ("PUT", Self.users, #"{"title":"new"}"#), ("DELETE", Self.users, ""),
        ] {
            let refused = api.send(method, target, body: Array(body.utf8), token: reader)
            #expect(refused.status == 403, "\(method) \(target)")
            #expect(refused.errorCode == 10000)
            #expect(refused.errorMessage == "Authentication error: token \"reader\" is read-only")
        }
        #expect(try api.store.namespace("users").get("a") == Array("1".utf8))
    }

    @Test func namespaceScopedTokens() throws {
        let api = try APIBackend.memory.makeAPI()
        try api.store.namespace("users").put("a", "1")
        try api.store.namespace("secrets").put("b", "2")
        let scoped = F.scopedSecret
        #expect(api.send("GET", "\(Self.users)/values/a", token: scoped).status == 200)
        let other = api.send("GET", "\(F.base)/\(F.id("secrets"))/values/b", token: scoped)
        #expect(other.status == 403)
        #expect(other.errorMessage == "Authentication error: token \"scoped\" may not access namespace \"secrets\"")
        #expect(api.send("GET", F.base, token: scoped).result?.array?.compactMap { $0["title"]?.string } == ["users"])
        #expect(api.send("POST", F.base, json: #"{"title":"mine"}"#, token: scoped).status == 403)
        #expect(api.send("PUT", Self.users, json: #"{"title":"secrets2"}"#, token: scoped).status == 403)
    }

    @Test func secretsNeverAppearInAnswers() throws {
        let api = try APIBackend.memory.makeAPI()
        let answers = [
            api.send("GET", F.base, token: F.writerSecret + "x"),
            api.send("PUT", "\(Self.users)/values/a", body: [1], token: F.readerSecret),
            api.send("GET", "\(F.base)/\(F.id("x"))/values/a", token: F.scopedSecret),
            api.send("GET", "/client/v4/nowhere", token: F.writerSecret),
        ]
        for answer in answers {
            for secret in [F.writerSecret, F.readerSecret, F.scopedSecret] {
                #expect(!answer.text.contains(secret))
                #expect(!answer.response.headers.contains { $0.value.contains(secret) })
            }
        }
    }

    @Test func disabledWithoutTokensAndAccountChecked() throws {
        let disabled = try APIBackend.memory.makeAPI(settings: KVAPISettings())
        let answer = disabled.send("GET", F.base)
        #expect(answer.status == 404)
        #expect(answer.errorMessage.contains("disabled"))

        let pinned = try APIBackend.memory.makeAPI(settings: KVAPISettings(accountID: "acct", tokens: F.settings.tokens))
        #expect(pinned.send("GET", F.base).status == 200)
        let elsewhere = pinned.send("GET", "/client/v4/accounts/other/storage/kv/namespaces")
        #expect(elsewhere.status == 403)
        #expect(elsewhere.errorMessage.contains("account"))
    }

    @Test func constantTimeComparison() {
        let secret = Array("s3cret".utf8)
        #expect(KVAPIAuthenticator.constantTimeEqual(secret, secret))
        #expect(!KVAPIAuthenticator.constantTimeEqual(Array("s3creT".utf8), secret))
        #expect(!KVAPIAuthenticator.constantTimeEqual(Array("s3cre".utf8), secret))
        #expect(!KVAPIAuthenticator.constantTimeEqual(Array("s3cret!".utf8), secret))
        #expect(!KVAPIAuthenticator.constantTimeEqual([], secret))
    }
}
