import CSQLiteBench
import Foundation

/// The baselines: the sqlite3 C API called directly, with persistent prepared statements on
/// the same file, schema and pragmas (WAL, synchronous=NORMAL) as `SQLiteStorage` uses. Nothing
/// here goes through luat's code.
final class RawConnection {
    let db: OpaquePointer

    init(path: String) {
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let handle else { fatalError("cannot open \(path): \(rc)") }
        db = handle
        sqlite3_busy_timeout(db, 10_000)
        exec("PRAGMA journal_mode = WAL")
        exec("PRAGMA synchronous = NORMAL")
    }

    deinit { sqlite3_close_v2(db) }

    func exec(_ sql: String) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "rc \(rc)"
            sqlite3_free(message)
            fatalError("SQLite: \(text) in \(sql)")
        }
    }

    func prepare(_ sql: String) -> RawStatement {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { fatalError("prepare \(sql): \(String(cString: sqlite3_errmsg(db)))") }
        return RawStatement(statement)
    }

    /// The id of namespace `name` in luat's schema.
    func namespaceID(_ name: String) -> Int64 {
        let s = prepare("SELECT id FROM namespaces WHERE name = ?1")
        s.bind(1, Array(name.utf8))
        guard s.step() else { fatalError("no namespace \(name)") }
        let id = sqlite3_column_int64(s.handle, 0)
        s.reset()
        return id
    }
}

final class RawStatement {
    let handle: OpaquePointer
    init(_ handle: OpaquePointer) { self.handle = handle }
    deinit { sqlite3_finalize(handle) }

    @inline(__always) func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(handle, index, value) }

    /// Binds without a copy: the bytes must stay put until the statement is reset.
    @inline(__always) func bind(_ index: Int32, _ pointer: UnsafeRawBufferPointer) {
        sqlite3_bind_blob(handle, index, pointer.baseAddress, Int32(pointer.count), csqlitebench_static())
    }

    @inline(__always) func bind(_ index: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), csqlitebench_transient()) }
    }

    @inline(__always) func bindNull(_ index: Int32) { sqlite3_bind_null(handle, index) }

    @inline(__always) func step() -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        fatalError("step: \(rc) \(String(cString: sqlite3_errmsg(sqlite3_db_handle(handle))))")
    }

    @inline(__always) func reset() { sqlite3_reset(handle) }
}

/// Raw operations, one function per baseline, each as cheap as the C API allows.
enum Raw {
    /// luat's layout 2: the value is inline (column 0) or in `blobs` (column 3).
    static let selectValue = """
        SELECT e.value, e.expiration, e.metadata, b.value FROM entries e LEFT JOIN blobs b ON b.id = e.value_id
        WHERE e.namespace = ?1 AND e.key = ?2
        """
    /// An inline value (the benchmarks' 100-byte values are under the 128-byte inline limit).
    static let upsert = """
        INSERT INTO entries(namespace, key, value, expiration, metadata, value_id) VALUES (?1, ?2, ?3, NULL, NULL, NULL)
        ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value,
            expiration = excluded.expiration, metadata = excluded.metadata, value_id = NULL
        """
    static let scanAfter = "SELECT key, expiration, metadata FROM entries WHERE namespace = ?1 AND key > ?2 ORDER BY key LIMIT ?3"

    /// One point lookup: bind, step, read the value's pointer and length (no copy), reset.
    @inline(__always)
    static func get(_ s: RawStatement, namespace: Int64, key: [UInt8]) -> Int {
        s.bind(1, namespace)
        let length: Int = key.withUnsafeBytes { k in
            s.bind(2, k)
            guard s.step() else { s.reset(); return -1 }
            let column: Int32 = sqlite3_column_type(s.handle, 0) == SQLITE_NULL ? 3 : 0
            let pointer = sqlite3_column_blob(s.handle, column)
            let n = Int(sqlite3_column_bytes(s.handle, column))
            _ = sqlite3_column_type(s.handle, 1)
            _ = sqlite3_column_type(s.handle, 2)
            blackHoleRaw(pointer)
            s.reset()
            return n
        }
        return length
    }

    /// One upsert of a value without expiration or metadata.
    @inline(__always)
    static func put(_ s: RawStatement, namespace: Int64, key: [UInt8], value: [UInt8]) {
        s.bind(1, namespace)
        key.withUnsafeBytes { k in
            value.withUnsafeBytes { v in
                s.bind(2, k)
                s.bind(3, v)
                _ = s.step()
                s.reset()
            }
        }
    }

    /// One range scan of `limit` rows after `after`, touching every column; returns the rows read.
    static func scan(_ s: RawStatement, namespace: Int64, after: [UInt8], limit: Int) -> Int {
        s.bind(1, namespace)
        s.bind(3, Int64(limit))
        return after.withUnsafeBytes { a in
            s.bind(2, a)
            var rows = 0
            while s.step() {
                blackHoleRaw(sqlite3_column_blob(s.handle, 0))
                _ = sqlite3_column_bytes(s.handle, 0)
                _ = sqlite3_column_type(s.handle, 1)
                _ = sqlite3_column_type(s.handle, 2)
                rows += 1
            }
            s.reset()
            return rows
        }
    }
}

@inline(never)
func blackHoleRaw(_ pointer: UnsafeRawPointer?) { _ = pointer }
