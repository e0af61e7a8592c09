import KVCore

/// The database layout and its migrations. `PRAGMA user_version` records how many
/// migrations a file has had; opening a file runs the missing ones, each in a transaction.
enum SQLiteSchema {
    /// Migration `n` brings a file from version `n` to `n + 1`. Append, never edit.
    static let migrations: [String] = [
        """
        CREATE TABLE namespaces (
            id   INTEGER PRIMARY KEY,
            name BLOB NOT NULL UNIQUE
        );
        CREATE TABLE entries (
            namespace  INTEGER NOT NULL REFERENCES namespaces(id),
            key        BLOB NOT NULL,
            value      BLOB NOT NULL,
            expiration INTEGER,
            metadata   BLOB,
            PRIMARY KEY (namespace, key)
        ) WITHOUT ROWID;
        CREATE INDEX entries_by_expiration ON entries(expiration) WHERE expiration IS NOT NULL;
        """,
    ]

    static var currentVersion: Int64 { Int64(migrations.count) }

    /// Brings the file up to `currentVersion`; refuses a file from a newer release.
    static func migrate(_ connection: SQLiteConnection) throws(KVError) {
        try connection.transaction { () throws(KVError) in
            let version = try connection.integerPragma("user_version")
            if version < 0 {
                throw KVError.storage("\(connection.path) has schema version \(version), which no luat release writes (PRAGMA user_version is damaged; expected 0 to \(currentVersion))")
            }
            if version > currentVersion {
                throw KVError.storage("\(connection.path) has schema version \(version), newer than this luat understands (\(currentVersion)); upgrade luat")
            }
            for index in Int(version)..<migrations.count {
                try connection.execute(migrations[index])
            }
            if version < currentVersion {
                try connection.execute("PRAGMA user_version = \(currentVersion)")
            }
        }
    }
}
