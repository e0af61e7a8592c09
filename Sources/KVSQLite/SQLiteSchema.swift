import KVCore

/// The database layout and its migrations. `PRAGMA user_version` records how many
/// migrations a file has had; opening a file runs the missing ones, all in one transaction,
/// so a failure or a crash part-way leaves the file exactly as it was.
///
/// Layout (version 2): `entries` is the ordered key index (`WITHOUT ROWID`, keyed by
/// namespace and key) holding expiration, metadata and values of at most `inlineValueLimit`
/// bytes; larger values live in `blobs`, a rowid table filled in append order, which packs
/// pages densely at every value size (a large row in a `WITHOUT ROWID` tree takes a mostly
/// empty overflow page). Exactly one of `entries.value` and `entries.value_id` is set. Two
/// triggers delete a blob when its entry is deleted or points to another blob, so deletes
/// and purges stay single statements. New files use 16 KiB pages and incremental
/// auto-vacuum (see `SQLiteStorage.prepareNewFile`).
enum SQLiteSchema {
    /// Values of at most this many bytes are stored in the entry row itself.
    static let inlineValueLimit = 128

    /// One migration: SQL, or code for a step that copies data (with progress).
    enum Migration: Sendable {
        case sql(String)
        case code(@Sendable (SQLiteConnection, MigrationProgress?) throws(KVError) -> Void)
    }

    /// Migration `n` brings a file from version `n` to `n + 1`. Append, never edit.
    static let migrations: [Migration] = [
        .sql("""
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
        """),
        .code(splitLargeValues),
        // Versions: every entry's stamp, and the end of the last block of stamps reserved (one
        // row; WriterConnection.beginVersions). Entries of older files read as version 0
        // until their next write.
        .sql("""
        ALTER TABLE entries ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE versions (last INTEGER NOT NULL);
        INSERT INTO versions(last) VALUES (0);
        """),
    ]

    /// Version 1 → 2: large values move out of the key index into `blobs`.
    static let version2Tables = """
        CREATE TABLE blobs (
            id    INTEGER PRIMARY KEY,
            value BLOB NOT NULL
        );
        CREATE TABLE entries_v2 (
            namespace  INTEGER NOT NULL REFERENCES namespaces(id),
            key        BLOB NOT NULL,
            expiration INTEGER,
            metadata   BLOB,
            value      BLOB,
            value_id   INTEGER,
            PRIMARY KEY (namespace, key)
        ) WITHOUT ROWID;
        """

    static let version2Finish = """
        DROP TABLE entries;
        ALTER TABLE entries_v2 RENAME TO entries;
        CREATE INDEX entries_by_expiration ON entries(expiration) WHERE expiration IS NOT NULL;
        CREATE TRIGGER entries_blob_deleted AFTER DELETE ON entries
            WHEN old.value_id IS NOT NULL
            BEGIN DELETE FROM blobs WHERE id = old.value_id; END;
        CREATE TRIGGER entries_blob_replaced AFTER UPDATE OF value_id ON entries
            WHEN old.value_id IS NOT NULL AND old.value_id IS NOT new.value_id
            BEGIN DELETE FROM blobs WHERE id = old.value_id; END;
        """

    static func splitLargeValues(_ connection: SQLiteConnection, _ progress: MigrationProgress?) throws(KVError) {
        try connection.execute(version2Tables)
        let total = try connection.integer("SELECT count(*) FROM entries")
        // A new file passes through here empty: nothing to report.
        let progress = total > 0 ? progress : nil
        let select = try connection.prepare("SELECT namespace, key, value, expiration, metadata FROM entries ORDER BY namespace, key")
        let insertBlob = try connection.prepare("INSERT INTO blobs(value) VALUES (?1)")
        let insertEntry = try connection.prepare("""
            INSERT INTO entries_v2(namespace, key, expiration, metadata, value, value_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            """)
        progress?.report(0, Int(total))
        var done = 0
        while try select.step() {
            let value = select.view(2)
            insertEntry.bind(1, select.int64(0))
            insertEntry.bindBorrowed(2, select.view(1))
            insertEntry.bind(3, select.optionalInt64(3))
            if let metadata = select.optionalView(4) { insertEntry.bindBorrowed(4, metadata) } else { insertEntry.bind(4, nil as Int64?) }
            if value.count <= inlineValueLimit {
                insertEntry.bindBorrowed(5, value)
                insertEntry.bind(6, nil as Int64?)
            } else {
                insertBlob.bindBorrowed(1, value)
                try insertBlob.run()
                insertEntry.bind(5, nil as Int64?)
                insertEntry.bind(6, connection.lastInsertRowID)
            }
            try insertEntry.run()
            done += 1
            if done % 1000 == 0 { progress?.report(done, Int(total)) }
            try progress?.checkFailure(done)
        }
        select.reset()
        progress?.report(done, Int(total))
        try connection.execute(version2Finish)
    }

    static var currentVersion: Int64 { Int64(migrations.count) }

    /// For a file opened read-only: its schema must be exactly `currentVersion`, since an
    /// upgrade would write.
    static func requireCurrent(_ connection: SQLiteConnection) throws(KVError) {
        let version = try connection.integerPragma("user_version")
        if version > currentVersion {
            throw KVError.storage(.schemaTooNew, "\(connection.path) has schema version \(version), newer than this luat understands (\(currentVersion)); upgrade luat")
        }
        if version < currentVersion {
            throw KVError.storage(.readOnly, "\(connection.path) is read-only and has schema version \(version); upgrading it to version \(currentVersion) needs write access (open it once as a user who may write it)")
        }
    }

    /// Brings the file up to `currentVersion` in one transaction; refuses a file from a newer release.
    static func migrate(_ connection: SQLiteConnection, progress: MigrationProgress? = nil) throws(KVError) {
        try connection.transaction { () throws(KVError) in
            let version = try connection.integerPragma("user_version")
            if version < 0 {
                throw KVError.storage("\(connection.path) has schema version \(version), which no luat release writes (PRAGMA user_version is damaged; expected 0 to \(currentVersion))")
            }
            if version > currentVersion {
                throw KVError.storage(.schemaTooNew, "\(connection.path) has schema version \(version), newer than this luat understands (\(currentVersion)); upgrade luat")
            }
            for index in Int(version)..<migrations.count {
                switch migrations[index] {
                case let .sql(sql): try connection.execute(sql)
                case let .code(step): try step(connection, progress)
                }
            }
            if version < currentVersion {
                try connection.execute("PRAGMA user_version = \(currentVersion)")
            }
        }
    }
}

/// Reports how far a data-copying migration has got: `report(done, total)` is called with
/// entries copied so far, every 1,000 entries and at the end, on the opening thread.
public final class MigrationProgress: @unchecked Sendable {
    let report: (Int, Int) -> Void
    /// Testing hook: the migration fails after copying this many entries, inside its transaction.
    let failAfter: Int?

    public init(failAfter: Int? = nil, _ report: @escaping (_ done: Int, _ total: Int) -> Void) {
        self.report = report
        self.failAfter = failAfter
    }

    func checkFailure(_ done: Int) throws(KVError) {
        if let failAfter, done >= failAfter {
            throw KVError.storage("migration stopped after \(done) entries (injected failure)")
        }
    }
}
