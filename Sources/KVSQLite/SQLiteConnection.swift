import CSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KVCore

/// One sqlite3 connection, used by one thread at a time. Errors are `KVError.storage`
/// with SQLite's own message.
final class SQLiteConnection {
    let handle: OpaquePointer
    let path: String

    /// `readOnly` opens with `SQLITE_OPEN_READONLY`, which lets SQLite read a WAL file whose
    /// folder this process may not write (the `-shm` index then lives in memory).
    ///
    /// A WAL file whose `-wal` and `-shm` files are absent (no writer has it open: the last one
    /// checkpointed and removed them) and cannot be created, because this process may not write
    /// the folder, can only be read as `immutable`; then it is opened that way.
    init(path: String, busyTimeoutMilliseconds: Int32, readOnly: Bool = false) throws(KVError) {
        _ = Self.processConfiguration
        var db: OpaquePointer?
        var flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        var name = path
        if readOnly && access(path + "-wal", F_OK) != 0 {
            flags |= SQLITE_OPEN_URI
            name = "file:" + Self.uriEscaped(path) + "?immutable=1"
        }
        let rc = sqlite3_open_v2(name, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw KVError.storage(Self.reason(rc), "cannot open SQLite database \(path): \(message)", code: Self.code(rc))
        }
        handle = db
        self.path = path
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { sqlite3_close_v2(handle) }

    /// Process-wide settings, applied once before the first connection opens (SQLite accepts
    /// them only before it initializes; if something else in the process initialized it
    /// first, they are skipped and SQLite keeps its defaults — correct, only slower).
    /// Allocation statistics are off: nothing here reads `sqlite3_memory_used` or sets a heap
    /// limit, and counting takes one process-wide mutex around every SQLite malloc and free,
    /// which the reader connections of concurrent requests contend for.
    private static let processConfiguration: Void = { _ = csqlite_disable_memstatus() }()

    /// `path` with the characters a `file:` URI gives meaning to (`%`, `?`, `#`) escaped.
    static func uriEscaped(_ path: String) -> String {
        var out = ""
        for character in path {
            switch character {
            case "%": out += "%25"
            case "?": out += "%3f"
            case "#": out += "%23"
            default: out.append(character)
            }
        }
        return out
    }

    /// The id of namespace `name`, or nil when the file has none of that name.
    func namespaceID(named name: [UInt8]) throws(KVError) -> Int64? {
        let statement = try prepare("SELECT id FROM namespaces WHERE name = ?1")
        statement.bind(1, name)
        defer { statement.reset() }
        return try statement.step() ? statement.int64(0) : nil
    }

    /// Runs one or more statements that return no rows.
    func execute(_ sql: String) throws(KVError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(errorMessage)
            throw KVError.storage(Self.reason(rc), "SQLite error \(rc) in \(path): \(message)", code: Self.code(rc))
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
        KVError.storage(Self.reason(rc), "SQLite error \(rc) in \(path): \(String(cString: sqlite3_errmsg(handle)))", code: Self.code(rc))
    }

    /// What a result code (primary or extended) means for callers.
    static func reason(_ rc: Int32) -> StorageFailure.Reason {
        switch rc & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED: return .busy
        case SQLITE_CORRUPT, SQLITE_NOTADB: return .corrupt
        case SQLITE_FULL: return .full
        case SQLITE_READONLY: return .readOnly
        case SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH: return .unavailable
        default: return .other
        }
    }

    /// `SQLITE_BUSY (5)`: SQLite's name for the primary code, and the code as returned.
    static func code(_ rc: Int32) -> String {
        let names: [Int32: String] = [
            SQLITE_ERROR: "SQLITE_ERROR", SQLITE_PERM: "SQLITE_PERM", SQLITE_BUSY: "SQLITE_BUSY", SQLITE_LOCKED: "SQLITE_LOCKED",
            SQLITE_NOMEM: "SQLITE_NOMEM", SQLITE_READONLY: "SQLITE_READONLY", SQLITE_IOERR: "SQLITE_IOERR",
            SQLITE_CORRUPT: "SQLITE_CORRUPT", SQLITE_FULL: "SQLITE_FULL", SQLITE_CANTOPEN: "SQLITE_CANTOPEN",
            SQLITE_CONSTRAINT: "SQLITE_CONSTRAINT", SQLITE_AUTH: "SQLITE_AUTH", SQLITE_NOTADB: "SQLITE_NOTADB",
        ]
        return "\(names[rc & 0xFF] ?? "SQLite result code") (\(rc))"
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

    /// False while the connection is inside an explicit transaction.
    var isAutocommit: Bool { sqlite3_get_autocommit(handle) != 0 }

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
