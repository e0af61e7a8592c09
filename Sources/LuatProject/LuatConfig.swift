import TOMLKit

/// Settings of a Luat project, read from `luat.toml`. Every field has Luat's default,
/// so a missing file or a missing key means the default.
public struct LuatConfig: Equatable, Sendable {
    /// `[dev] host`: the address `luat serve` listens on.
    public var host = "127.0.0.1"
    /// `[dev] port`: the port `luat serve` listens on.
    public var port = 3000
    /// `[dev] access_log`: whether `luat serve` writes a line per request to standard output;
    /// nil means the default (on in development, off with `--production`).
    public var accessLog: Bool? = nil
    /// `[serve] max_inflight_body_bytes`: the most request-body bytes `luat serve` holds at
    /// once across all connections; bodies beyond it get 503 with Retry-After.
    public var maxInflightBodyBytes = 256 * 1024 * 1024
    /// `[routing] routes_dir`, relative to the project root.
    public var routesDir = "src/routes"
    /// `[routing] lib_dir`, relative to the project root: where `require` looks first.
    public var libDir = "src/lib"
    /// `[routing] data_dir`, relative to the project root: the KV store is `<data_dir>/kv.db`.
    public var dataDir = ".luat/data"
    /// `[kv] postgres_url`: keep the KV store in this PostgreSQL database instead of
    /// `<data_dir>/kv.db` (see docs/postgres.md). `LUAT_KV_POSTGRES_URL` overrides it.
    public var postgresURL: String? = nil
    /// `[kv_api] account_id`: the only account id the KV REST API accepts in its paths
    /// (nil: any).
    public var kvAPIAccountID: String? = nil
    /// `[[kv_api.tokens]]`: the tokens that open the KV REST API (docs/kv-api.md).
    public var kvAPITokens: [KVAPITokenConfig] = []
    /// `[serve] request_timeout`: seconds the Lua code of one request may run (a number;
    /// 0: no limit). Past it the request answers 503 and the Lua state is replaced.
    public var requestTimeout: Double = 5
    /// `[serve] lua_memory_limit`: bytes one Lua state may hold (an integer, or a string with
    /// a unit: `"256MB"`, `"1GB"`, units of 1024; 0: no limit). Past it the request fails.
    public var luaMemoryLimit = 256 * 1024 * 1024
    /// `[serve] lua_library`: `"safe"` (default) gives route code the safe standard library,
    /// `"full"` every library as Lua ships it, for trusted scripts (docs/lua-runtime.md).
    public var fullLuaLibrary = false
    /// `[serve] event_loop_limit`: milliseconds (a number from 0 to 1000; 0: never). Routes
    /// whose recent runs averaged less run on the HTTP event loop that received the request,
    /// without a hop to a Lua worker thread; others on the workers. Not with PostgreSQL.
    /// Default 0 (off).
    public var eventLoopLimit: Double = 0

    public init() {}

    /// Parses `luat.toml` text. A malformed file or a key of the wrong type is a
    /// `LuatProjectError` naming the file and line.
    public init(toml text: String, file: String = "luat.toml") throws(LuatProjectError) {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw LuatProjectError("\(file):\(error.source.begin.line): \(error.description)")
        } catch {
            throw LuatProjectError("\(file): \(error)")
        }
        if let dev = try Self.section(table, "dev", file) {
            if let v = try Self.string(dev, "host", "dev", file) { host = v }
            if let v = dev["port"] {
                guard let port = v.int, (1...65535).contains(port) else {
                    throw LuatProjectError("\(file): [dev] port must be an integer from 1 to 65535")
                }
                self.port = port
            }
            if let v = dev["access_log"] {
                guard let on = v.bool else { throw LuatProjectError("\(file): [dev] access_log must be true or false") }
                accessLog = on
            }
        }
        if let routing = try Self.section(table, "routing", file) {
            if let v = try Self.string(routing, "routes_dir", "routing", file) { routesDir = v }
            if let v = try Self.string(routing, "lib_dir", "routing", file) { libDir = v }
            if let v = try Self.string(routing, "data_dir", "routing", file) { dataDir = v }
        }
        if let kv = try Self.section(table, "kv", file) {
            if let v = try Self.string(kv, "postgres_url", "kv", file) { postgresURL = v.isEmpty ? nil : v }
        }
        if let api = try Self.section(table, "kv_api", file) {
            if let v = try Self.string(api, "account_id", "kv_api", file) { kvAPIAccountID = v.isEmpty ? nil : v }
            if let value = api["tokens"] {
                guard let list = value.array else { throw LuatProjectError("\(file): [kv_api] tokens must be an array of tables ([[kv_api.tokens]])") }
                for (index, element) in list.enumerated() {
                    guard let token = element.table else { throw LuatProjectError("\(file): [[kv_api.tokens]] entry \(index + 1) must be a table") }
                    kvAPITokens.append(try KVAPITokenConfig(token, index: index, file: file))
                }
            }
        }
        if let serve = try Self.section(table, "serve", file) {
            if let v = serve["max_inflight_body_bytes"] {
                guard let bytes = v.int, bytes >= 0 else {
                    throw LuatProjectError("\(file): [serve] max_inflight_body_bytes must be a non-negative integer (bytes)")
                }
                maxInflightBodyBytes = bytes
            }
            if let seconds = try Self.number(serve, "request_timeout", in: 0...86_400, file,
                                             "must be a number of seconds from 0 to 86400 (0: no limit)") {
                requestTimeout = seconds
            }
            if let v = serve["lua_memory_limit"] {
                guard let bytes = v.int ?? v.string.flatMap(Self.byteCount), bytes >= 0 else {
                    throw LuatProjectError("\(file): [serve] lua_memory_limit must be a number of bytes or a size such as \"256MB\" (0: no limit)")
                }
                luaMemoryLimit = bytes
            }
            if let ms = try Self.number(serve, "event_loop_limit", in: 0...1000, file,
                                        "must be a number of milliseconds from 0 to 1000 (0: every route runs on a worker)") {
                eventLoopLimit = ms
            }
            if let v = try Self.string(serve, "lua_library", "serve", file) {
                guard v == "safe" || v == "full" else {
                    throw LuatProjectError("\(file): [serve] lua_library must be \"safe\" or \"full\" (got \"\(v)\")")
                }
                fullLuaLibrary = v == "full"
            }
        }
    }

    /// `"256MB"`, `"1 GB"`, `"512KiB"`, `"1048576"`: bytes (units of 1024), nil when malformed.
    public static func byteCount(_ text: String) -> Int? {
        let trimmed = text.filter { $0 != " " }.uppercased()
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let number = Int(digits) else { return nil }
        let unit: Int
        switch trimmed.dropFirst(digits.count) {
        case "", "B": unit = 1
        case "K", "KB", "KIB": unit = 1024
        case "M", "MB", "MIB": unit = 1024 * 1024
        case "G", "GB", "GIB": unit = 1024 * 1024 * 1024
        default: return nil
        }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: unit)
        return overflow ? nil : bytes
    }

    private static func section(_ table: TOMLTable, _ name: String, _ file: String) throws(LuatProjectError) -> TOMLTable? {
        guard let value = table[name] else { return nil }
        guard let section = value.table else { throw LuatProjectError("\(file): [\(name)] must be a table") }
        return section
    }

    /// A `[serve]` number (integer or float) within `range`; `rule` completes the message.
    private static func number(_ table: TOMLTable, _ key: String, in range: ClosedRange<Double>, _ file: String,
                               _ rule: String) throws(LuatProjectError) -> Double? {
        guard let value = table[key] else { return nil }
        guard let number = value.double ?? value.int.map(Double.init), range.contains(number) else {
            throw LuatProjectError("\(file): [serve] \(key) \(rule)")
        }
        return number
    }

    private static func string(_ table: TOMLTable, _ key: String, _ section: String, _ file: String) throws(LuatProjectError) -> String? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else { throw LuatProjectError("\(file): [\(section)] \(key) must be a string") }
        return text
    }
}

/// One `[[kv_api.tokens]]` table. The secret itself is never in luat.toml: it is read from
/// the environment variable `secret_env` when `luat serve` starts.
public struct KVAPITokenConfig: Equatable, Sendable {
    /// Shown in logs and errors instead of the secret.
    public var name: String
    /// The environment variable holding the secret.
    public var secretEnv: String
    /// `"read"` or `"write"`.
    public var access: String
    /// Namespace titles the token may touch; nil: all.
    public var namespaces: [String]?

    public init(name: String, secretEnv: String, access: String, namespaces: [String]? = nil) {
        self.name = name
        self.secretEnv = secretEnv
        self.access = access
        self.namespaces = namespaces
    }

    init(_ table: TOMLTable, index: Int, file: String) throws(LuatProjectError) {
        let at = "\(file): [[kv_api.tokens]] entry \(index + 1)"
        func text(_ key: String) throws(LuatProjectError) -> String {
            guard let value = table[key] else { throw LuatProjectError("\(at): \(key) is missing") }
            guard let string = value.string, !string.isEmpty else { throw LuatProjectError("\(at): \(key) must be a non-empty string") }
            return string
        }
        name = try text("name")
        secretEnv = try text("secret_env")
        access = try text("access")
        guard access == "read" || access == "write" else {
            throw LuatProjectError("\(at): access must be \"read\" or \"write\" (got \"\(access)\")")
        }
        if let value = table["namespaces"] {
            guard let list = value.array, let names = Optional(list.compactMap(\.string)), names.count == list.count else {
                throw LuatProjectError("\(at): namespaces must be an array of namespace titles")
            }
            namespaces = names
        }
        for key in table.keys where !["name", "secret_env", "access", "namespaces"].contains(key) {
            throw LuatProjectError("\(at): unknown key \(key) (expected name, secret_env, access, namespaces)")
        }
    }
}

/// A problem with a project's layout or configuration, said in one line.
public struct LuatProjectError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
