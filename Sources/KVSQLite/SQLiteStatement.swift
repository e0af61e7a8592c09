import CSQLite
import KVCore

/// A prepared statement with typed binding and column access. `reset()` after each use
/// releases its bindings. `bind` copies the bytes it binds; bytes given to `bindBorrowed`
/// must stay valid until `reset()`.
final class SQLiteStatement {
    let handle: OpaquePointer
    unowned let connection: SQLiteConnection

    init(_ handle: OpaquePointer, connection: SQLiteConnection) {
        self.handle = handle
        self.connection = connection
    }

    deinit { sqlite3_finalize(handle) }

    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }

    func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    /// Binds bytes as a BLOB; SQLite copies them, so the array may go away afterwards.
    func bind(_ index: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress, raw.count > 0 {
                sqlite3_bind_blob64(handle, index, base, sqlite3_uint64(raw.count), csqlite_transient())
            } else {
                sqlite3_bind_zeroblob(handle, index, 0)
            }
        }
    }

    /// Binds borrowed bytes as a BLOB without a copy: they must stay valid until `reset()`.
    func bindBorrowed(_ index: Int32, _ bytes: UnsafeRawBufferPointer) {
        if let base = bytes.baseAddress, bytes.count > 0 {
            sqlite3_bind_blob64(handle, index, base, sqlite3_uint64(bytes.count), csqlite_static())
        } else {
            sqlite3_bind_zeroblob(handle, index, 0)
        }
    }

    func bind(_ index: Int32, _ bytes: [UInt8]?) {
        if let bytes { bind(index, bytes) } else { sqlite3_bind_null(handle, index) }
    }

    /// Steps once: true when a row is ready, false when done.
    func step() throws(KVError) -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        let error = connection.error(rc)
        sqlite3_reset(handle)
        throw error
    }

    /// Runs a statement that returns no rows, then resets it.
    func run() throws(KVError) {
        defer { reset() }
        _ = try step()
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }

    func bytes(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let base = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: count))
    }


    /// The bytes of a column in SQLite's own memory, valid until the next step or reset.
    func view(_ column: Int32) -> UnsafeRawBufferPointer {
        let base = sqlite3_column_blob(handle, column)
        return UnsafeRawBufferPointer(start: base, count: base == nil ? 0 : Int(sqlite3_column_bytes(handle, column)))
    }

    func optionalBytes(_ column: Int32) -> [UInt8]? { isNull(column) ? nil : bytes(column) }

    func optionalView(_ column: Int32) -> UnsafeRawBufferPointer? { isNull(column) ? nil : view(column) }
}
