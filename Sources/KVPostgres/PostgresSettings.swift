import Foundation
import KVCore

/// Where and how to reach the PostgreSQL server, read from a connection URL:
///
///     postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=require&schema=luat_kv
///
/// `postgresql://` works too; the port defaults to 5432, the database to the user name.
/// Query parameters: `sslmode` (`disable`, the default, `require` — encrypted, certificate
/// not checked — or `verify-full`), `schema` (the PostgreSQL schema holding the tables,
/// default `luat_kv`), `connect_timeout` (seconds, default 10), `query_timeout` (seconds,
/// default 60), `pool_size` (most
/// connections one storage opens, default 8) and `application_name` (default `luat`). Percent-escapes in the user and password
/// are decoded.
public struct PostgresSettings: Equatable, Sendable, CustomStringConvertible {
    public enum TLSMode: String, Equatable, Sendable {
        case disable
        /// TLS when the server offers it, else a plain connection; the certificate is not
        /// checked (libpq's `prefer`).
        case prefer
        case require
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// The PostgreSQL schema (namespace of tables) the store lives in.
    public var schema: String
    public var connectTimeoutSeconds: Int
    /// Longest wait for the answer to one statement before the connection is given up
    /// (a server or network that stopped answering); the call then fails.
    public var queryTimeoutSeconds: Int
    public var poolSize: Int
    /// `application_name` the server shows for these connections (`pg_stat_activity`).
    public var applicationName: String

    public static let defaultSchema = "luat_kv"

    public init(host: String, port: Int = 5432, username: String, password: String?, database: String,
                tls: TLSMode = .disable, schema: String = PostgresSettings.defaultSchema,
                connectTimeoutSeconds: Int = 10, queryTimeoutSeconds: Int = 60, poolSize: Int = 8, applicationName: String = "luat") {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.schema = schema
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.queryTimeoutSeconds = queryTimeoutSeconds
        self.poolSize = poolSize
        self.applicationName = applicationName
    }

    /// Parses a connection URL. Errors are `KVError.storage` and never repeat the password.
    public init(url: String) throws(KVError) {
        guard let components = URLComponents(string: url),
              let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw KVError.storage(.badConfiguration, "PostgreSQL URL must look like postgres://user:password@host:port/database (got \(Self.redacted(url)))")
        }
        guard let host = components.host, !host.isEmpty else {
            throw KVError.storage(.badConfiguration, "PostgreSQL URL has no host: \(Self.redacted(url))")
        }
        guard let user = components.user?.removingPercentEncoding ?? components.user, !user.isEmpty else {
            throw KVError.storage(.badConfiguration, "PostgreSQL URL has no user name: \(Self.redacted(url))")
        }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let database = path.removingPercentEncoding ?? path
        self.init(
            host: host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host,
            port: components.port ?? 5432,
            username: user,
            password: components.password.map { $0.removingPercentEncoding ?? $0 },
            database: database.isEmpty ? user : database
        )
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                switch value {
                // libpq's `allow` tries a plain connection first, and a server that accepts one
                // takes it: luat connects plainly (it never retries with TLS).
                case "disable", "allow": tls = .disable
                case "prefer": tls = .prefer
                case "require": tls = .require
                case "verify-full", "verify-ca": tls = .verifyFull
                default: throw KVError.storage(.badConfiguration, "PostgreSQL URL: sslmode must be disable, allow (= disable), prefer, require, verify-ca or verify-full (got \(value))")
                }
            case "schema":
                schema = value
            case "connect_timeout":
                guard let seconds = Int(value), seconds > 0 else {
                    throw KVError.storage(.badConfiguration, "PostgreSQL URL: connect_timeout must be a positive number of seconds (got \(value))")
                }
                connectTimeoutSeconds = seconds
            case "query_timeout":
                guard let seconds = Int(value), seconds > 0 else {
                    throw KVError.storage(.badConfiguration, "PostgreSQL URL: query_timeout must be a positive number of seconds (got \(value))")
                }
                queryTimeoutSeconds = seconds
            case "pool_size":
                guard let size = Int(value), (1...100).contains(size) else {
                    throw KVError.storage(.badConfiguration, "PostgreSQL URL: pool_size must be from 1 to 100 (got \(value))")
                }
                poolSize = size
            case "application_name":
                applicationName = value
            default:
                throw KVError.storage(.badConfiguration, "PostgreSQL URL: unknown parameter \(item.name) (known: sslmode, schema, connect_timeout, query_timeout, pool_size, application_name)")
            }
        }
        try Self.validateSchema(schema)
    }

    /// `host:port`, for messages.
    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Who and where, for messages: `user@host:port/database`, without the password.
    public var description: String { "\(username)@\(address)/\(database)" }

    /// Schema names are spliced into SQL (identifiers cannot be parameters), so only plain
    /// lower-case identifiers are accepted.
    static func validateSchema(_ schema: String) throws(KVError) {
        let bytes = Array(schema.utf8)
        let valid = !bytes.isEmpty && bytes.count <= 63
            && !(bytes[0] >= UInt8(ascii: "0") && bytes[0] <= UInt8(ascii: "9"))
            && bytes.allSatisfy { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_") }
        guard valid else {
            throw KVError.storage(.badConfiguration, "PostgreSQL schema name must be 1-63 characters of a-z, 0-9 and _, not starting with a digit (got \(schema))")
        }
    }

    /// `url` with any password replaced by `***`, for messages.
    public static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@"),
              let colon = rest[..<at].firstIndex(of: ":") else { return url }
        return String(url[..<rest.index(after: colon)]) + "***" + String(rest[at...])
    }
}
