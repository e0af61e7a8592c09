import LuatProject
import Testing

/// `[kv_api]` in luat.toml: exactly the documented shape, and errors that name the entry.
@Suite struct KVAPIConfigTests {
    @Test func tokensAndAccount() throws {
        let config = try LuatConfig(toml: """
            [kv_api]
            account_id = "abc"

            [[kv_api.tokens]]
            name = "reader"
            secret_env = "READER_TOKEN"
            access = "read"
            namespaces = ["users"]

            [[kv_api.tokens]]
            name = "admin"
            secret_env = "ADMIN_TOKEN"
            access = "write"
            """)
        #expect(config.kvAPIAccountID == "abc")
        #expect(config.kvAPITokens == [
            KVAPITokenConfig(name: "reader", secretEnv: "READER_TOKEN", access: "read", namespaces: ["users"]),
            KVAPITokenConfig(name: "admin", secretEnv: "ADMIN_TOKEN", access: "write", namespaces: nil),
        ])
        #expect(try LuatConfig(toml: "").kvAPITokens.isEmpty)
    }

    @Test(arguments: [
        ("[[kv_api.tokens]]\nname = \"r\"\nsecret_env = \"R\"\naccess = \"admin\"",
         "luat.toml: [[kv_api.tokens]] entry 1: access must be \"read\" or \"write\" (got \"admin\")"),
        ("[[kv_api.tokens]]\nname = \"r\"\naccess = \"read\"",
         "luat.toml: [[kv_api.tokens]] entry 1: secret_env is missing"),
        ("[[kv_api.tokens]]\nname = \"r\"\nsecret_env = \"R\"\naccess = \"read\"\nsecret = \"s3cret\"",
         "luat.toml: [[kv_api.tokens]] entry 1: unknown key secret (expected name, secret_env, access, namespaces)"),
        ("[[kv_api.tokens]]\nname = \"r\"\nsecret_env = \"R\"\naccess = \"read\"\nnamespaces = \"users\"",
         "luat.toml: [[kv_api.tokens]] entry 1: namespaces must be an array of namespace titles"),
        ("[kv_api]\ntokens = 3", "luat.toml: [kv_api] tokens must be an array of tables ([[kv_api.tokens]])"),
    ])
    func badTokensNameTheProblem(_ toml: String, _ message: String) {
        #expect(throws: LuatProjectError(message)) { try LuatConfig(toml: toml) }
    }
}
