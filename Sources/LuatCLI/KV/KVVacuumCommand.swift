import ArgumentParser
import Foundation
import KVSQLite

/// `luat kv vacuum`: gives the free pages of kv.db back to the operating system.
struct KVVacuumCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vacuum",
        abstract: "Give kv.db's free space (left by deleted and expired keys) back to the disk.",
        discussion: """
            Safe while `luat serve` runs: it goes through the store's single writer like any write. \
            Deleted space is reused by new writes anyway; this makes the file smaller.
            """
    )

    @OptionGroup var store: StoreOptions

    func run() throws {
        try reportingFailures {
            let opened = try store.openStore()
            guard let sqlite = opened.storage as? SQLiteStorage else {
                throw CommandFailure("luat kv vacuum: only the SQLite store (kv.db) has a file to shrink; PostgreSQL reclaims space with its own autovacuum")
            }
            let before = Self.bytes(sqlite.path)
            try sqlite.vacuum()
            let after = Self.bytes(sqlite.path)
            print("Vacuumed \(sqlite.path): \(Self.megabytes(before)) → \(Self.megabytes(after)).")
        }
    }

    /// Bytes of the database file and its write-ahead log.
    static func bytes(_ path: String) -> Int {
        ["", "-wal"].reduce(0) { sum, suffix in
            sum + (((try? FileManager.default.attributesOfItem(atPath: path + suffix))?[.size] as? Int) ?? 0)
        }
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
}
