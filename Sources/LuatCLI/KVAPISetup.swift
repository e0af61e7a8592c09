import KVCore
import LuatHTTP
import LuatKVAPI
import LuatProject

/// The KV REST API's settings for `luat serve`: `[kv_api]` of luat.toml, each token's secret
/// read from its `secret_env` variable, plus `LUAT_KV_API_TOKEN` as one read-write token for
/// every namespace. Errors name the token and the variable, never a secret.
enum KVAPISetup {
    static let environmentToken = "LUAT_KV_API_TOKEN"

    static func settings(config: LuatConfig, environment: [String: String]) throws(ServeFailure) -> KVAPISettings {
        var tokens: [KVAPIToken] = []
        for token in config.kvAPITokens {
            guard let secret = environment[token.secretEnv], !secret.isEmpty else {
                throw ServeFailure("[[kv_api.tokens]] \"\(token.name)\": environment variable \(token.secretEnv) is not set (it holds the token's secret)")
            }
            tokens.append(KVAPIToken(name: token.name, secret: secret, access: token.access == "write" ? .write : .read,
                                     namespaces: token.namespaces.map(Set.init)))
        }
        if let secret = environment[environmentToken], !secret.isEmpty {
            tokens.append(KVAPIToken(name: environmentToken, secret: secret, access: .write))
        }
        return KVAPISettings(accountID: config.kvAPIAccountID, tokens: tokens)
    }

    /// The handlers `luat serve` mounts before the Lua routes. The REST prefix is mounted even
    /// when the API is disabled (it then answers 404), so `/client/v4` requests, and any token
    /// sent with them, never reach route code.
    static func mounts(store: KVStore, settings: KVAPISettings, threads: Int) -> [(prefix: String, handler: any HTTPHandler)] {
        var mounts: [(prefix: String, handler: any HTTPHandler)] = [
            (KVAPIHandler.mountPrefix, KVAPIHandler(store: store, settings: settings, threads: threads)),
        ]
        if settings.enabled { mounts.append((KVBrowserHandler.mountPrefix, KVBrowserHandler(accountID: settings.accountID))) }
        return mounts
    }
}
