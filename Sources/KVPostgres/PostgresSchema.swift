import Foundation
import KVCore
import PostgresNIO

/// The database layout and its migrations. All tables live in one PostgreSQL schema
/// (`luat_kv` unless the URL says otherwise); `kv_schema_version` records how many
/// migrations it has had. Opening a store runs the missing ones in one transaction under
/// an advisory lock, so several servers starting at once migrate it exactly once.
enum PostgresSchema {
    /// Migration `n` brings a schema from version `n` to `n + 1`: its statements run in
    /// order, `{schema}` standing for the quoted schema name. Append, never edit.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE {schema}.namespaces (
                id   bigserial PRIMARY KEY,
                name bytea NOT NULL UNIQUE
            )
            """,
            """
            CREATE TABLE {schema}.entries (
                namespace  bigint NOT NULL,
                key        bytea NOT NULL,
                value      bytea NOT NULL,
                expiration bigint,
                metadata   bytea,
                PRIMARY KEY (namespace, key)
            )
            """,
            "CREATE INDEX entries_by_expiration ON {schema}.entries (expiration) WHERE expiration IS NOT NULL",
        ],
        // Versions: every entry's stamp, taken from one sequence. Entries written before read
        // as version 0 until their next write (a constant default: no table rewrite).
        [
            "ALTER TABLE {schema}.entries ADD COLUMN version bigint NOT NULL DEFAULT 0",
            "CREATE SEQUENCE {schema}.entry_versions",
        ],
    ]

    static var currentVersion: Int64 { Int64(migrations.count) }

    /// The advisory lock key of a schema's migrations: one lock per schema, shared by every
    /// luat process on the database.
    static let lockSQL = "SELECT pg_advisory_xact_lock(hashtext('luat-kv-migrate:' || $1))"

    /// Creates the schema when missing and brings it up to `currentVersion`; refuses a
    /// schema from a newer release.
    static func migrate(_ session: PostgresSession, settings: PostgresSettings) throws(KVError) {
        let schema = quoted(settings.schema)
        try session.transaction { () throws(KVError) in
            var name = PostgresBindings()
            name.append(settings.schema)
            try session.query(lockSQL, name)
            // CREATE SCHEMA IF NOT EXISTS needs the CREATE right even when the schema exists,
            // so a schema an administrator made is looked for first.
            if try session.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", name).rows.isEmpty {
                try session.query("CREATE SCHEMA \(schema)")
            }
            let hasVersionTable = try !session.query(
                "SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'kv_schema_version'", name).rows.isEmpty
            if !hasVersionTable {
                try session.query("CREATE TABLE \(schema).kv_schema_version (version bigint NOT NULL)")
                try session.query("INSERT INTO \(schema).kv_schema_version (version) VALUES (0)")
            }
            let rows = try session.query("SELECT version FROM \(schema).kv_schema_version").rows
            guard rows.count == 1, let cell = rows[0].first, let version = try? cell.decode(Int64.self) else {
                throw KVError.storage(.corrupt, "\(settings.description) schema \(settings.schema): kv_schema_version must hold exactly one row")
            }
            if version > currentVersion {
                throw KVError.storage(.schemaTooNew, "\(settings.description) schema \(settings.schema) has schema version \(version), newer than this luat understands (\(currentVersion)); upgrade luat")
            }
            for index in Int(version)..<migrations.count {
                for statement in migrations[index] {
                    try session.query(statement.replacingOccurrences(of: "{schema}", with: schema))
                }
            }
            if version < currentVersion {
                var binds = PostgresBindings()
                binds.append(currentVersion)
                try session.query("UPDATE \(schema).kv_schema_version SET version = $1", binds)
            }
        }
    }

    /// A schema name as an SQL identifier. Names are validated by `PostgresSettings`
    /// (a-z, 0-9, _), so quoting cannot be escaped.
    static func quoted(_ schema: String) -> String { "\"\(schema)\"" }
}
