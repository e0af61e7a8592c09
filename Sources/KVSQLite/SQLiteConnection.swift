import CSQLite
import KVCore

/// One sqlite3 connection, used by one thread at a time. Errors are `KVError.storage`
/// with SQLite's own message.
final class SQLiteConnection {
    let handle: OpaquePointer
    let path: String

    init(path: String, busyTimeoutMilliseconds: Int32) throws(KVError) {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw KVError.storage("cannot open SQLite database \(path): \(message)")
        }
        handle = db
        self.path = path
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs one or more statements that return no rows.
    func execute(_ sql: String) throws(KVError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(errorMessage)
            throw KVError.storage("SQLite error \(rc) in \(path): \(message)")
        }
    }

    /// A prepared statement, kept for the life of the connection.
    func prepare(_ sql: String) throws(KVError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw error(rc) }
        return SQLiteStatement(statement, connection: self)
    }

    /// The connection's last error as a `KVError`.
    func error(_ rc: Int32) -> KVError {
        KVError.storage("SQLite error \(rc) in \(path): \(String(cString: sqlite3_errmsg(handle)))")
    }

    /// The value of an integer pragma, e.g. `user_version`.
    func integerPragma(_ name: String) throws(KVError) -> Int64 {
        let statement = try prepare("PRAGMA \(name)")
        guard try statement.step() else { return 0 }
        return statement.int64(0)
    }

    /// The first column of the first row of `sql` as an integer (0 when no row).
    func integer(_ sql: String) throws(KVError) -> Int64 {
        let statement = try prepare(sql)
        guard try statement.step() else { return 0 }
        return statement.int64(0)
    }

    /// The rowid of the last row this connection inserted.
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction: committed when it returns, rolled back when it throws.
    func transaction<T>(_ body: () throws(KVError) -> T) throws(KVError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}
