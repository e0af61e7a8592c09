import CSQLite
import Foundation
import KVCore
import Synchronization

/// SQLite storage: one database file in WAL mode, shared safely by threads and processes.
///
/// Writes go through one writer connection; reads use a pool of reader connections, so
/// readers never wait for the writer. A second process on the same file (the CLI while
/// the server runs) waits up to `busyTimeout` for a lock instead of failing.
public final class SQLiteStorage: KVStorage, @unchecked Sendable {
    /// How strongly a commit is flushed to disk.
    public enum Durability: Sendable {
        /// `synchronous=NORMAL`: a commit survives a crash of the process; the last
        /// commits may be lost if the machine loses power. The default.
        case normal
        /// `synchronous=FULL`: a commit survives power loss, at the cost of a disk flush each.
        case full
    }

    /// Path of the database file.
    public let path: String

    private let writes: GroupCommit
    /// Reader connections not in use, and the namespace ids looked up so far.
    private struct Shared {
        var idleReaders: [ReaderConnection] = []
        var namespaceIDs: [[UInt8]: NamespaceID] = [:]
    }
    private let shared = Mutex(Shared())
    private let busyTimeoutMilliseconds: Int32
    private let durability: Durability
    /// Holds a read lock for frequent readers (nil for a read-only file, whose readers take no
    /// file locks on the WAL index, or when turned off).
    private let anchor: ReadLockAnchor?
    /// The file could only be opened for reading (its permissions deny this process writing):
    /// reads work, every write throws a `.readOnly` storage error naming the file.
    public let isReadOnly: Bool

    /// Opens (creating if needed, with parent folders) the database at `path` and brings
    /// its schema up to date. A file from the previous release is migrated in place, in one
    /// transaction; `migrationProgress` hears how far a data-copying migration has got.
    /// `readLockAnchor` (on by default) keeps one extra connection holding short read
    /// transactions while reads are frequent, which saves each read two system calls
    /// (see `ReadLockAnchor`); off, every read takes its file locks from the kernel.
    public init(path: String, durability: Durability = .normal, busyTimeoutMilliseconds: Int32 = 10_000,
                migrationProgress: MigrationProgress? = nil, readLockAnchor: Bool = true) throws(KVError) {
        self.path = path
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.durability = durability
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw KVError.storage(.unavailable, "cannot create folder \(folder): \(error.localizedDescription)")
            }
        }
        // An existing file this process may not write, or whose folder it may not write (where
        // the `-wal` and `-shm` files live), is opened read-only, as every reader then is.
        let folderPath = folder.isEmpty ? "." : folder
        isReadOnly = FileManager.default.fileExists(atPath: path)
            && (access(path, W_OK) != 0 || access(folderPath, W_OK) != 0)
        let connection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds, readOnly: isReadOnly)
        if isReadOnly {
            // Nothing may be written: no WAL switch, no migration. A file that needs one says so.
            try SQLiteSchema.requireCurrent(connection)
        } else {
            try Self.prepareNewFile(connection)
            try connection.execute("PRAGMA journal_mode = WAL")
            try Self.configure(connection, durability: durability)
            try SQLiteSchema.migrate(connection, progress: migrationProgress)
        }
        writes = GroupCommit(writer: try WriterConnection(connection))
        anchor = readLockAnchor && !isReadOnly ? ReadLockAnchor(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds) : nil
    }

    /// The anchor closes its connection before the writer's: the last connection to close
    /// checkpoints the WAL and removes it.
    deinit { anchor?.stop() }

    /// Throws when the file was opened read-only; called before every write.
    private func requireWritable() throws(KVError) {
        if isReadOnly {
            throw KVError.storage(.readOnly, "\(path) is read-only: this process may not write it (check the file's and its folder's permissions)")
        }
    }

    /// Opens `<dataDirectory>/kv.db`.
    public convenience init(dataDirectory: String, durability: Durability = .normal,
                            migrationProgress: MigrationProgress? = nil) throws(KVError) {
        try self.init(path: (dataDirectory as NSString).appendingPathComponent("kv.db"), durability: durability,
                      migrationProgress: migrationProgress)
    }

    /// Page size and vacuum mode of a file, fixed when its first table is written: 16 KiB
    /// pages (values up to ~3 KB pack five or more to a page, so the rowid `blobs` table wastes
    /// little at any size) and incremental auto-vacuum (`vacuum()` returns free pages to the
    /// operating system without rewriting the file). No effect on an existing file.
    static func prepareNewFile(_ connection: SQLiteConnection) throws(KVError) {
        guard try connection.integerPragma("page_count") == 0 else { return }
        try connection.execute("PRAGMA page_size = 16384")
        try connection.execute("PRAGMA auto_vacuum = INCREMENTAL")
    }

    static func configure(_ connection: SQLiteConnection, durability: Durability) throws(KVError) {
        try connection.execute("PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
        try connection.execute("PRAGMA foreign_keys = OFF")
    }

    // MARK: connections

    private func withReader<T>(_ body: (ReaderConnection) throws(KVError) -> T) throws(KVError) -> T {
        anchor?.noteRead()
        let reader: ReaderConnection
        if let idle = shared.withLock({ $0.idleReaders.popLast() }) {
            reader = idle
        } else {
            let connection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds, readOnly: isReadOnly)
            try Self.configure(connection, durability: durability)
            try connection.execute("PRAGMA query_only = ON")
            reader = try ReaderConnection(connection)
        }
        defer { shared.withLock { $0.idleReaders.append(reader) } }
        return try body(reader)
    }

    // MARK: KVStorage

    public func namespaceID(for name: [UInt8]) throws(KVError) -> NamespaceID {
        if let id = shared.withLock({ $0.namespaceIDs[name] }) { return id }
        if isReadOnly {
            // Looked up, never created: a namespace the file lacks reads as empty.
            guard let id = try withReader({ (r) throws(KVError) -> NamespaceID? in try r.connection.namespaceID(named: name) }) else {
                return Self.absentNamespace
            }
            shared.withLock { $0.namespaceIDs[name] = id }
            return id
        }
        let id = try writes.perform(.createNamespace(name))
        shared.withLock { $0.namespaceIDs[name] = id }
        return id
    }

    public func read(_ namespace: NamespaceID, key: [UInt8]) throws(KVError) -> StoredEntry? {
        var entry: StoredEntry? = nil
        let failure: KVError? = key.withUnsafeBytes { bytes in
            do throws(KVError) {
                _ = try read(namespace, key: bytes) { row in
                    entry = StoredEntry(value: Array(row.value), expiration: row.expiration, metadata: row.metadata.map { Array($0) },
                                        version: row.version)
                }
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
        return entry
    }

    public func read(_ namespace: NamespaceID, key: UnsafeRawBufferPointer, _ body: (StoredEntryView) -> Void) throws(KVError) -> Bool {
        try withReader { (r) throws(KVError) -> Bool in
            let s = r.read
            s.bind(1, namespace)
            s.bindBorrowed(2, key)
            defer { s.reset() }
            guard try s.step() else { return false }
            // The value is inline (column 0) or in `blobs` (column 3): exactly one is not NULL.
            let value = s.isNull(0) ? s.view(3) : s.view(0)
            body(StoredEntryView(value: value, expiration: s.optionalInt64(1), metadata: s.optionalView(2), version: s.int64(4)))
            return true
        }
    }

    /// The id a read-only store gives a namespace its file does not hold: no row has it.
    static let absentNamespace: NamespaceID = -1

    public func write(_ namespace: NamespaceID, key: [UInt8], entry: StoredEntry) throws(KVError) {
        try requireWritable()
        try writes.perform(.upsert(namespace, key: key, entry: entry))
    }

    public func writeBatch(_ namespace: NamespaceID, _ entries: [(key: [UInt8], entry: StoredEntry)]) throws(KVError) {
        try requireWritable()
        try writes.perform(.upsertMany(namespace, entries))
    }

    @discardableResult
    public func delete(_ namespace: NamespaceID, key: [UInt8]) throws(KVError) -> Bool {
        try requireWritable()
        return try writes.perform(.delete(namespace, key: key)) > 0
    }

    public func deleteBatch(_ namespace: NamespaceID, keys: [[UInt8]]) throws(KVError) -> Int {
        try requireWritable()
        return Int(try writes.perform(.deleteMany(namespace, keys: keys)))
    }

    public func scan(_ namespace: NamespaceID, range: KeyRange, limit: Int) throws(KVError) -> [StoredKey] {
        var out: [StoredKey] = []
        out.reserveCapacity(limit)
        try scan(namespace, range: range, limit: limit) { row in
            out.append(StoredKey(key: Array(row.key), expiration: row.expiration, metadata: row.metadata.map { Array($0) }))
            return true
        }
        return out
    }

    @discardableResult
    public func scan(_ namespace: NamespaceID, range: KeyRange, limit: Int, _ body: (StoredKeyView) -> Bool) throws(KVError) -> Int {
        try withReader { (r) throws(KVError) -> Int in
            let s: SQLiteStatement
            switch (range.lowerInclusive, range.upper != nil) {
            case (true, true): s = r.scanFromBelow
            case (true, false): s = r.scanFrom
            case (false, true): s = r.scanAfterBelow
            case (false, false): s = r.scanAfter
            }
            s.bind(1, namespace)
            s.bind(2, range.lower)
            s.bind(3, Int64(limit))
            if let upper = range.upper { s.bind(4, upper) }
            defer { s.reset() }
            var visited = 0
            while try s.step() {
                visited += 1
                if !body(StoredKeyView(key: s.view(0), expiration: s.optionalInt64(1), metadata: s.optionalView(2))) { break }
            }
            return visited
        }
    }

    /// Runs on the writer connection inside a group-commit transaction, so the reads, the
    /// decision and the writes hold the file's write lock together.
    public func commit(reading keys: [AtomicKey], _ decide: @escaping ([StoredEntry?]) throws(KVError) -> [AtomicWrite]?) throws(KVError) -> Int64? {
        try requireWritable()
        let version = try writes.perform(.commit(keys, decide))
        return version < 0 ? nil : version
    }

    public func purgeExpired(asOf now: Int64) throws(KVError) -> Int {
        if isReadOnly { return 0 }  // expired entries read as absent; removing them waits for a writer
        return Int(try writes.perform(.purge(asOf: now)))
    }

    /// Returns free pages to the operating system: `PRAGMA incremental_vacuum` on a file with
    /// incremental auto-vacuum (every file this release creates), otherwise a `VACUUM` (a file
    /// created by the version-1 release; WAL mode keeps its vacuum mode and page size). Runs
    /// on the writer connection through the normal write path, so it is safe while other
    /// threads and processes read and write; then truncates the WAL. Returns the pages freed.
    @discardableResult
    public func vacuum() throws(KVError) -> Int {
        try requireWritable()
        return Int(try writes.perform(.vacuum))
    }

    public func namespaces() throws(KVError) -> [NamespaceSummary] {
        try withReader { (r) throws(KVError) -> [NamespaceSummary] in
            let s = r.namespaceCounts
            defer { s.reset() }
            var out: [NamespaceSummary] = []
            while try s.step() { out.append(NamespaceSummary(name: s.bytes(0), keyCount: Int(s.int64(1)))) }
            return out
        }
    }
}

/// The writer connection with its prepared statements.
final class WriterConnection {
    let connection: SQLiteConnection
    let upsertStatement: SQLiteStatement
    let deleteStatement: SQLiteStatement
    let purgeStatement: SQLiteStatement
    let insertNamespace: SQLiteStatement
    let selectNamespace: SQLiteStatement
    let insertBlob: SQLiteStatement
    let readStatement: SQLiteStatement
    let loadVersion: SQLiteStatement
    let saveVersion: SQLiteStatement
    let dataVersion: SQLiteStatement
    let anyEntry: SQLiteStatement
    /// Versions are handed out from a block reserved in the `versions` row: the row holds
    /// the end of the block (every version handed out is at most the row's value), so a
    /// transaction writes that row only when it passes the end, once per `versionBlock`
    /// versions, not once per commit (one page less in every commit's WAL frames).
    /// Invariant after `beginVersions()`: `nextFree` is greater than every version any
    /// connection has committed, and `reservedEnd` is the row's value.
    private var nextFree: Int64 = 0
    private var reservedEnd: Int64 = 0
    /// `PRAGMA data_version` when the block was last known good: it changes when another
    /// connection (another process, `luat kv`) commits, which may have taken versions past
    /// `nextFree`. Nil: reload the row at the next transaction (start, or after a rollback).
    private var blockDataVersion: Int64?
    static let versionBlock: Int64 = 1024

    init(_ connection: SQLiteConnection) throws(KVError) {
        self.connection = connection
        upsertStatement = try connection.prepare("""
            INSERT INTO entries(namespace, key, value, expiration, metadata, value_id, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value,
                expiration = excluded.expiration, metadata = excluded.metadata, value_id = excluded.value_id,
                version = excluded.version
            """)
        readStatement = try connection.prepare("""
            SELECT coalesce(e.value, b.value), e.expiration, e.metadata, e.version FROM entries e LEFT JOIN blobs b ON b.id = e.value_id
            WHERE e.namespace = ?1 AND e.key = ?2
            """)
        loadVersion = try connection.prepare("SELECT last FROM versions")
        saveVersion = try connection.prepare("UPDATE versions SET last = ?1")
        dataVersion = try connection.prepare("PRAGMA data_version")
        anyEntry = try connection.prepare("SELECT 1 FROM entries LIMIT 1")
        insertBlob = try connection.prepare("INSERT INTO blobs(value) VALUES (?1)")
        deleteStatement = try connection.prepare("DELETE FROM entries WHERE namespace = ?1 AND key = ?2")
        purgeStatement = try connection.prepare("DELETE FROM entries WHERE expiration <= ?1")
        insertNamespace = try connection.prepare("INSERT OR IGNORE INTO namespaces(name) VALUES (?1)")
        selectNamespace = try connection.prepare("SELECT id FROM namespaces WHERE name = ?1")
    }

    /// Stores a value inline, or in a new `blobs` row when larger than
    /// `SQLiteSchema.inlineValueLimit` (a trigger deletes the blob it replaces).
    /// Call inside a transaction: a large value is two statements (blob, entry). Stores
    /// `version`, not `entry.version`.
    func upsert(_ namespace: NamespaceID, _ key: [UInt8], _ entry: StoredEntry, version: Int64) throws(KVError) {
        let s = upsertStatement
        s.bind(1, namespace)
        s.bind(2, key)
        s.bind(7, version)
        if entry.value.count <= SQLiteSchema.inlineValueLimit {
            s.bind(3, entry.value)
            s.bind(6, nil as Int64?)
        } else {
            insertBlob.bind(1, entry.value)
            try insertBlob.run()
            s.bind(3, nil as [UInt8]?)
            s.bind(6, connection.lastInsertRowID)
        }
        s.bind(4, entry.expiration)
        s.bind(5, entry.metadata)
        try s.run()
    }

    /// A batch of at least this many entries written into an empty key index is followed by
    /// a rebuild of the index (see `upsertMany`); smaller ones fill a few pages at most.
    static let bulkLoadMinimum = 1_000

    /// Stores `entries` in order (a key given twice keeps its last entry), all with `version`;
    /// call inside a transaction. When the key index was empty and the batch has at least
    /// `bulkLoadMinimum` entries (an import into a new store), the index is then rebuilt in
    /// key order (`REINDEX`, SQLite's bulk load, which fills every leaf; inserting row by row
    /// leaves leaves about 7/8 full, even in key order) and the pages the rebuild freed go
    /// back to the operating system (files with incremental auto-vacuum). The rebuild costs
    /// one more pass over the batch's rows, in its transaction.
    func upsertMany(_ namespace: NamespaceID, _ entries: [(key: [UInt8], entry: StoredEntry)], version: Int64) throws(KVError) {
        var bulkLoad = false
        if entries.count >= Self.bulkLoadMinimum {
            defer { anyEntry.reset() }
            bulkLoad = try !anyEntry.step()
        }
        for item in entries { try upsert(namespace, item.key, item.entry, version: version) }
        guard bulkLoad else { return }
        let freeBefore = try connection.integerPragma("freelist_count")
        try connection.execute("REINDEX entries")
        let freed = try connection.integerPragma("freelist_count") - freeBefore
        if freed > 0 {
            // Only the rebuild's pages: free pages from earlier deletes wait for `vacuum()`.
            try connection.execute("PRAGMA incremental_vacuum(\(freed))")
        }
    }

    /// The entry under `key`, read on the writer connection (inside its transaction).
    func read(_ namespace: NamespaceID, _ key: [UInt8]) throws(KVError) -> StoredEntry? {
        let s = readStatement
        s.bind(1, namespace)
        s.bind(2, key)
        defer { s.reset() }
        guard try s.step() else { return nil }
        return StoredEntry(value: s.bytes(0), expiration: s.optionalInt64(1), metadata: s.optionalBytes(2), version: s.int64(3))
    }

    /// Call first in every write transaction (the write lock held): keeps the reserved block
    /// when no other connection committed since it was reserved, else starts after the row's
    /// value (the end of every block any connection reserved).
    func beginVersions() throws(KVError) {
        let current: Int64
        do {
            defer { dataVersion.reset() }
            guard try dataVersion.step() else { throw KVError.storage("PRAGMA data_version returned nothing in \(connection.path)") }
            current = dataVersion.int64(0)
        }
        if blockDataVersion == current { return }
        defer { loadVersion.reset() }
        guard try loadVersion.step() else { throw KVError.storage("the versions row is missing in \(connection.path)") }
        reservedEnd = loadVersion.int64(0)
        nextFree = reservedEnd + 1
        blockDataVersion = current
    }

    /// A new version, greater than every one handed out before (inside a transaction).
    func nextVersion() -> Int64 {
        defer { nextFree += 1 }
        return nextFree
    }

    /// Call last in every write transaction: reserves the next block when this transaction
    /// handed out versions past the reserved one.
    func endVersions() throws(KVError) {
        guard nextFree - 1 > reservedEnd else { return }
        let end = nextFree - 1 + Self.versionBlock
        saveVersion.bind(1, end)
        try saveVersion.run()
        reservedEnd = end
    }

    /// Call when a write transaction rolled back: the row may not hold the block this
    /// connection was using, so the next transaction reads it again.
    func abandonVersions() {
        blockDataVersion = nil
    }

    /// See `SQLiteStorage.vacuum()`. Runs outside any transaction.
    func vacuum() throws(KVError) -> Int64 {
        let before = try connection.integerPragma("page_count")
        if try connection.integerPragma("auto_vacuum") == 2 {
            try connection.execute("PRAGMA incremental_vacuum")
        } else {
            try connection.execute("VACUUM")
        }
        try connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return max(0, before - (try connection.integerPragma("page_count")))
    }

    /// Removes one key; returns the number of rows removed.
    func delete(_ namespace: NamespaceID, _ key: [UInt8]) throws(KVError) -> Int64 {
        deleteStatement.bind(1, namespace)
        deleteStatement.bind(2, key)
        try deleteStatement.run()
        return Int64(sqlite3_changes(connection.handle))
    }

    /// Removes entries expired at `now`; returns how many.
    func purge(_ now: Int64) throws(KVError) -> Int64 {
        purgeStatement.bind(1, now)
        try purgeStatement.run()
        return Int64(sqlite3_changes(connection.handle))
    }

    /// The id of namespace `name`, inserting it when new.
    func namespaceID(_ name: [UInt8]) throws(KVError) -> Int64 {
        insertNamespace.bind(1, name)
        try insertNamespace.run()
        selectNamespace.bind(1, name)
        defer { selectNamespace.reset() }
        guard try selectNamespace.step() else { throw KVError.storage("namespace row vanished in \(connection.path)") }
        return selectNamespace.int64(0)
    }
}

/// A reader connection with its prepared statements. Used by one thread at a time: the
/// storage's pool hands it from one reader to the next under its mutex.
final class ReaderConnection: @unchecked Sendable {
    let connection: SQLiteConnection
    let read: SQLiteStatement
    let scanFrom: SQLiteStatement
    let scanAfter: SQLiteStatement
    let scanFromBelow: SQLiteStatement
    let scanAfterBelow: SQLiteStatement
    let namespaceCounts: SQLiteStatement

    init(_ connection: SQLiteConnection) throws(KVError) {
        self.connection = connection
        read = try connection.prepare("""
            SELECT e.value, e.expiration, e.metadata, b.value, e.version FROM entries e LEFT JOIN blobs b ON b.id = e.value_id
            WHERE e.namespace = ?1 AND e.key = ?2
            """)
        let columns = "SELECT key, expiration, metadata FROM entries WHERE namespace = ?1"
        scanFrom = try connection.prepare("\(columns) AND key >= ?2 ORDER BY key LIMIT ?3")
        scanAfter = try connection.prepare("\(columns) AND key > ?2 ORDER BY key LIMIT ?3")
        scanFromBelow = try connection.prepare("\(columns) AND key >= ?2 AND key < ?4 ORDER BY key LIMIT ?3")
        scanAfterBelow = try connection.prepare("\(columns) AND key > ?2 AND key < ?4 ORDER BY key LIMIT ?3")
        namespaceCounts = try connection.prepare("""
            SELECT n.name, count(*) FROM entries e JOIN namespaces n ON n.id = e.namespace
            GROUP BY e.namespace ORDER BY n.name
            """)
    }
}
