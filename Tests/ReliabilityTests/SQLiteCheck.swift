import CSQLite
import Foundation

/// Reads a SQLite file the way a checker should: `PRAGMA integrity_check` and direct
/// queries of the KV tables, with its own connection (never through the code under test).
struct SQLiteCheck {
    struct Failure: Error, CustomStringConvertible { let description: String }

    private let db: OpaquePointer

    init(path: String) throws {
        var handle: OpaquePointer?
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let handle else {
            throw Failure(description: "cannot open \(path)")
        }
        sqlite3_busy_timeout(handle, 10_000)
        db = handle
    }

    func close() { sqlite3_close(db) }

    /// Rows of a query, each column as text (nil for NULL).
    func rows(_ sql: String) throws -> [[String?]] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else {
            throw Failure(description: "\(sql): \(String(cString: sqlite3_errmsg(db)))")
        }
        defer { sqlite3_finalize(statement) }
        var result: [[String?]] = []
        while true {
            let step = sqlite3_step(statement)
            if step == SQLITE_DONE { break }
            guard step == SQLITE_ROW else { throw Failure(description: "\(sql): \(String(cString: sqlite3_errmsg(db)))") }
            result.append((0..<sqlite3_column_count(statement)).map { column in
                sqlite3_column_text(statement, column).map { String(cString: $0) }
            })
        }
        return result
    }

    /// `PRAGMA integrity_check`'s answer: `["ok"]` for a sound file.
    func integrity() throws -> [String] { try rows("PRAGMA integrity_check").map { $0.first.flatMap { $0 } ?? "" } }
}
