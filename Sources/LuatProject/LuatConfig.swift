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
        if let serve = try Self.section(table, "serve", file) {
            if let v = serve["max_inflight_body_bytes"] {
                guard let bytes = v.int, bytes >= 0 else {
                    throw LuatProjectError("\(file): [serve] max_inflight_body_bytes must be a non-negative integer (bytes)")
                }
                maxInflightBodyBytes = bytes
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
    }

    private static func section(_ table: TOMLTable, _ name: String, _ file: String) throws(LuatProjectError) -> TOMLTable? {
        guard let value = table[name] else { return nil }
        guard let section = value.table else { throw LuatProjectError("\(file): [\(name)] must be a table") }
        return section
    }

    private static func string(_ table: TOMLTable, _ key: String, _ section: String, _ file: String) throws(LuatProjectError) -> String? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else { throw LuatProjectError("\(file): [\(section)] \(key) must be a string") }
        return text
    }
}

/// A problem with a project's layout or configuration, said in one line.
public struct LuatProjectError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
