import KVCore
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// PostgreSQL storage: one database shared by any number of luat processes on any number
/// of machines. Every write is committed before it returns and is seen at once by every
/// later read through any `PostgresStorage` on the same database and schema.
///
/// The protocol is synchronous and PostgresNIO is not: calls borrow a connection from a
/// small pool (see `PostgresPool`) and block the calling thread until PostgreSQL answers.
/// Keys are `bytea`, which PostgreSQL compares as unsigned bytes (memcmp order), as
/// `KVStorage` requires.
public final class PostgresStorage: KVStorage, @unchecked Sendable {
    public let settings: PostgresSettings

    let pool: PostgresPool
    private let sql: Statements
    private let namespaceIDs = Mutex<[[UInt8]: NamespaceID]>([:])

    /// Connects to the database at `url` (see `PostgresSettings` for its form), creating
    /// the schema and its tables when missing. Fails with a `KVError.storage` naming the
    /// host and port when the server cannot be reached.
    public convenience init(url: String) throws(KVError) {
        try self.init(settings: PostgresSettings(url: url))
    }

    /// Connects with `settings`. `group` runs the connections; by default a group of luat's
    /// own (`PostgresStorage.eventLoopGroup`), never one an HTTP server runs handlers on:
    /// a handler blocking in a KV call must not be the thread its answer has to arrive on.
    public init(settings: PostgresSettings, group: any EventLoopGroup = PostgresStorage.eventLoopGroup) throws(KVError) {
        try PostgresSettings.validateSchema(settings.schema)
        self.settings = settings
        pool = try PostgresPool(settings: settings, group: group)
        sql = Statements(schema: PostgresSchema.quoted(settings.schema))
        try pool.withConnection { (session) throws(KVError) in
            try PostgresSchema.migrate(session, settings: settings)
        }
    }

    deinit { pool.close() }

    /// The event-loop threads of every `PostgresStorage` of the process unless told
    /// otherwise: two threads, started on first use, living as long as the process.
    public static let eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    /// Closes the pooled connections. Later calls fail; the storage need not be closed
    /// before it is released.
    public func close() { pool.close() }

    // MARK: KVStorage

    public func namespaceID(for name: [UInt8]) throws(KVError) -> NamespaceID {
        if let id = namespaceIDs.withLock({ $0[name] }) { return id }
        var binds = PostgresBindings()
        binds.append(ByteBuffer(bytes: name))
        let id = try pool.withConnection(retry: true) { (session) throws(KVError) -> NamespaceID in
            // Select first so that existing names do not use up sequence values; when two
            // servers insert the same new name at once, the loser's insert returns nothing
            // and its second select finds the winner's row.
            for statement in [sql.selectNamespace, sql.insertNamespace, sql.selectNamespace] {
                if let row = try session.query(statement, binds).rows.first {
                    return try Self.int64(row, 0)
                }
            }
            throw KVError.storage("PostgreSQL at \(settings.address): namespace row vanished")
        }
        namespaceIDs.withLock { $0[name] = id }
        return id
    }

    public func read(_ namespace: NamespaceID, key: [UInt8]) throws(KVError) -> StoredEntry? {
        var binds = PostgresBindings()
        binds.append(namespace)
        binds.append(ByteBuffer(bytes: key))
        let rows = try pool.withConnection(retry: true) { (session) throws(KVError) in try session.query(sql.read, binds).rows }
        guard let row = rows.first else { return nil }
        let cells = row.makeRandomAccess()
        return StoredEntry(value: Self.bytes(cells[0]) ?? [], expiration: try Self.optionalInt64(cells[1]), metadata: Self.bytes(cells[2]),
                           version: try Self.optionalInt64(cells[3]) ?? 0)
    }

    public func write(_ namespace: NamespaceID, key: [UInt8], entry: StoredEntry) throws(KVError) {
        var binds = PostgresBindings()
        binds.append(namespace)
        binds.append(ByteBuffer(bytes: key))
        binds.append(ByteBuffer(bytes: entry.value))
        binds.append(entry.expiration)
        binds.append(entry.metadata.map { ByteBuffer(bytes: $0) })
        try pool.withConnection(retry: true) { (session) throws(KVError) in _ = try session.query(sql.upsert, binds) }
    }

    /// One statement over arrays: atomic without an explicit transaction, one round trip
    /// however many entries. A key given twice keeps its last entry, as sequential writes would.
    public func writeBatch(_ namespace: NamespaceID, _ entries: [(key: [UInt8], entry: StoredEntry)]) throws(KVError) {
        if entries.isEmpty { return }
        if entries.count == 1 {
            return try write(namespace, key: entries[0].key, entry: entries[0].entry)
        }
        var seen = Set<[UInt8]>()
        var columns = PostgresEntryColumns()
        for item in entries.reversed() where seen.insert(item.key).inserted {
            columns.append(key: item.key, entry: item.entry)
        }
        var binds = PostgresBindings()
        binds.append(namespace)
        columns.bind(to: &binds)
        try pool.withConnection(retry: true) { (session) throws(KVError) in _ = try session.query(sql.upsertMany, binds) }
    }

    @discardableResult
    public func delete(_ namespace: NamespaceID, key: [UInt8]) throws(KVError) -> Bool {
        var binds = PostgresBindings()
        binds.append(namespace)
        binds.append(ByteBuffer(bytes: key))
        let result = try pool.withConnection { (session) throws(KVError) in try session.query(sql.delete, binds) }
        return (result.metadata.rows ?? 0) > 0
    }

    /// One statement over an array of keys: atomic, one round trip.
    public func deleteBatch(_ namespace: NamespaceID, keys: [[UInt8]]) throws(KVError) -> Int {
        if keys.isEmpty { return 0 }
        var binds = PostgresBindings()
        binds.append(namespace)
        binds.append(keys.map { ByteBuffer(bytes: $0) })
        let result = try pool.withConnection { (session) throws(KVError) in try session.query(sql.deleteMany, binds) }
        return result.metadata.rows ?? 0
    }

    public func scan(_ namespace: NamespaceID, range: KeyRange, limit: Int) throws(KVError) -> [StoredKey] {
        if limit <= 0 { return [] }
        var binds = PostgresBindings()
        binds.append(namespace)
        binds.append(ByteBuffer(bytes: range.lower))
        binds.append(Int64(limit))
        if let upper = range.upper { binds.append(ByteBuffer(bytes: upper)) }
        let statement: String
        switch (range.lowerInclusive, range.upper != nil) {
        case (true, true): statement = sql.scanFromBelow
        case (true, false): statement = sql.scanFrom
        case (false, true): statement = sql.scanAfterBelow
        case (false, false): statement = sql.scanAfter
        }
        let rows = try pool.withConnection(retry: true) { (session) throws(KVError) in try session.query(statement, binds).rows }
        var out: [StoredKey] = []
        out.reserveCapacity(rows.count)
        for row in rows {
            let cells = row.makeRandomAccess()
            out.append(StoredKey(key: Self.bytes(cells[0]) ?? [], expiration: try Self.optionalInt64(cells[1]), metadata: Self.bytes(cells[2])))
        }
        return out
    }

    public func purgeExpired(asOf now: Int64) throws(KVError) -> Int {
        var binds = PostgresBindings()
        binds.append(now)
        let result = try pool.withConnection { (session) throws(KVError) in try session.query(sql.purge, binds) }
        return result.metadata.rows ?? 0
    }

    /// One transaction at READ COMMITTED: first the advisory locks of every key, in one
    /// order (every other write takes its keys' locks too, so none can slip between the
    /// reads and the writes, not even an insert of an absent key), then the commit's
    /// version, the reads, and the writes. A deadlock with a purge is retried.
    public func commit(reading keys: [AtomicKey], _ decide: @escaping ([StoredEntry?]) throws(KVError) -> [AtomicWrite]?) throws(KVError) -> Int64? {
        var keyBinds = PostgresBindings()
        keyBinds.append(keys.map(\.namespace))
        keyBinds.append(keys.map { ByteBuffer(bytes: $0.key) })
        var attempt = 0
        while true {
            attempt += 1
            var state: String? = nil
            do {
                return try pool.withConnection { (session) throws(KVError) -> Int64? in
                    defer { state = session.lastSQLState }
                    return try session.transaction { () throws(KVError) -> Int64? in
                        let version = try Self.int64(try session.query(sql.lockAndStamp, keyBinds).rows.first.orThrow(settings), 0)
                        var found: [AtomicKey: StoredEntry] = [:]
                        for row in try session.query(sql.readMany, keyBinds).rows {
                            let cells = row.makeRandomAccess()
                            let key = AtomicKey(namespace: try Self.int64(row, 0), key: Self.bytes(cells[1]) ?? [])
                            found[key] = StoredEntry(value: Self.bytes(cells[2]) ?? [], expiration: try Self.optionalInt64(cells[3]),
                                                     metadata: Self.bytes(cells[4]), version: try Self.int64(row, 5))
                        }
                        guard let writes = try decide(keys.map { found[$0] }) else { return nil }
                        try apply(writes, version: version, in: session)
                        return version
                    }
                }
            } catch {
                // 40P01: deadlock (with a purge, which takes no advisory locks); 40001: serialization.
                if attempt < 5, state == "40P01" || state == "40001" { continue }
                throw error
            }
        }
    }

    private func apply(_ writes: [AtomicWrite], version: Int64, in session: PostgresSession) throws(KVError) {
        var namespaces: [Int64] = [], columns = PostgresEntryColumns()
        var deletedNamespaces: [Int64] = [], deletedKeys: [ByteBuffer] = []
        for write in writes {
            guard let entry = write.entry else {
                deletedNamespaces.append(write.key.namespace)
                deletedKeys.append(ByteBuffer(bytes: write.key.key))
                continue
            }
            namespaces.append(write.key.namespace)
            columns.append(key: write.key.key, entry: entry)
        }
        if !columns.isEmpty {
            var binds = PostgresBindings()
            binds.append(namespaces)
            columns.bind(to: &binds)
            binds.append(version)
            try session.query(sql.writeStamped, binds)
        }
        if !deletedKeys.isEmpty {
            var binds = PostgresBindings()
            binds.append(deletedNamespaces)
            binds.append(deletedKeys)
            try session.query(sql.deleteLocked, binds)
        }
    }

    public func namespaces() throws(KVError) -> [NamespaceSummary] {
        let rows = try pool.withConnection(retry: true) { (session) throws(KVError) in try session.query(sql.namespaceCounts).rows }
        var out: [NamespaceSummary] = []
        for row in rows {
            let cells = row.makeRandomAccess()
            out.append(NamespaceSummary(name: Self.bytes(cells[0]) ?? [], keyCount: Int(try Self.int64(row, 1))))
        }
        return out
    }

    // MARK: decoding

    private static func bytes(_ cell: PostgresCell) -> [UInt8]? {
        cell.bytes.map { Array($0.readableBytesView) }
    }

    private static func optionalInt64(_ cell: PostgresCell) throws(KVError) -> Int64? {
        guard cell.bytes != nil else { return nil }
        do { return try cell.decode(Int64.self) } catch {
            throw KVError.storage("PostgreSQL: column \(cell.columnName) is not a bigint")
        }
    }

    private static func int64(_ row: PostgresRow, _ column: Int) throws(KVError) -> Int64 {
        let cell = row.makeRandomAccess()[column]
        guard let value = try optionalInt64(cell) else { throw KVError.storage("PostgreSQL: column \(cell.columnName) is null") }
        return value
    }
}

/// The SQL text of every statement, with the schema spliced in. Values are always bound
/// parameters.
///
/// Every write first takes the transaction-scoped advisory lock of each key it writes (a
/// hash of namespace and key, several in ascending order), then takes its version from the
/// sequence: so a write of a key waits for any atomic commit that read it, and a key's
/// versions grow in commit order. The lock is taken in a MATERIALIZED common table
/// expression, which runs before the statement's own rows are made.
struct Statements {
    let read, upsert, upsertMany, delete, deleteMany, purge: String
    let scanFrom, scanAfter, scanFromBelow, scanAfterBelow: String
    let selectNamespace, insertNamespace, namespaceCounts: String
    let lockAndStamp, readMany, writeStamped, deleteLocked: String

    init(schema s: String) {
        let nextVersion = "nextval('\(s).entry_versions')"
        func lockHash(_ namespace: String, _ key: String) -> String { "hashtextextended(encode(\(key), 'hex'), \(namespace))" }
        let lockOne = "WITH l AS MATERIALIZED (SELECT pg_advisory_xact_lock(\(lockHash("$1::bigint", "$2::bytea"))))"
        /// Locks for the keys `$2` (an array) of namespace `$1`, in ascending order.
        let lockKeys = """
            WITH l AS MATERIALIZED (SELECT pg_advisory_xact_lock(h) FROM
                (SELECT DISTINCT \(lockHash("$1::bigint", "k")) AS h FROM unnest($2::bytea[]) AS k ORDER BY h) d)
            """
        read = "SELECT value, expiration, metadata, version FROM \(s).entries WHERE namespace = $1 AND key = $2"
        let update = """
            ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value,
                expiration = excluded.expiration, metadata = excluded.metadata, version = excluded.version
            """
        upsert = """
            \(lockOne)
            INSERT INTO \(s).entries (namespace, key, value, expiration, metadata, version)
            SELECT $1, $2, $3, $4, $5, \(nextVersion) FROM l \(update)
            """
        upsertMany = """
            \(lockKeys), stamp AS MATERIALIZED (SELECT \(nextVersion) AS version FROM (SELECT count(*) FROM l) c)
            INSERT INTO \(s).entries (namespace, key, value, expiration, metadata, version)
            SELECT $1, k, v, CASE WHEN he THEN e END, CASE WHEN hm THEN m END, stamp.version
            FROM unnest($2::bytea[], $3::bytea[], $4::bigint[], $5::boolean[], $6::bytea[], $7::boolean[]) AS t(k, v, e, he, m, hm), stamp
            \(update)
            """
        delete = "\(lockOne) DELETE FROM \(s).entries WHERE namespace = $1 AND key = $2 AND EXISTS (SELECT 1 FROM l)"
        deleteMany = "\(lockKeys) DELETE FROM \(s).entries WHERE namespace = $1 AND key = ANY($2::bytea[]) AND EXISTS (SELECT 1 FROM (SELECT count(*) FROM l) c)"
        purge = "DELETE FROM \(s).entries WHERE expiration <= $1"
        let columns = "SELECT key, expiration, metadata FROM \(s).entries WHERE namespace = $1"
        scanFrom = "\(columns) AND key >= $2 ORDER BY key LIMIT $3"
        scanAfter = "\(columns) AND key > $2 ORDER BY key LIMIT $3"
        scanFromBelow = "\(columns) AND key >= $2 AND key < $4 ORDER BY key LIMIT $3"
        scanAfterBelow = "\(columns) AND key > $2 AND key < $4 ORDER BY key LIMIT $3"
        selectNamespace = "SELECT id FROM \(s).namespaces WHERE name = $1"
        insertNamespace = "INSERT INTO \(s).namespaces (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id"
        namespaceCounts = """
            SELECT n.name, count(*) FROM \(s).entries e JOIN \(s).namespaces n ON n.id = e.namespace
            GROUP BY n.name ORDER BY n.name
            """
        // Atomic commits: keys as two arrays, namespaces `$1` and keys `$2`.
        lockAndStamp = """
            WITH l AS MATERIALIZED (SELECT pg_advisory_xact_lock(h) FROM
                (SELECT DISTINCT \(lockHash("n", "k")) AS h FROM unnest($1::bigint[], $2::bytea[]) AS t(n, k) ORDER BY h) d)
            SELECT \(nextVersion) FROM (SELECT count(*) FROM l) c
            """
        readMany = """
            SELECT e.namespace, e.key, e.value, e.expiration, e.metadata, e.version
            FROM unnest($1::bigint[], $2::bytea[]) AS t(n, k) JOIN \(s).entries e ON e.namespace = t.n AND e.key = t.k
            """
        writeStamped = """
            INSERT INTO \(s).entries (namespace, key, value, expiration, metadata, version)
            SELECT n, k, v, CASE WHEN he THEN e END, CASE WHEN hm THEN m END, $8
            FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bigint[], $5::boolean[], $6::bytea[], $7::boolean[]) AS t(n, k, v, e, he, m, hm)
            \(update)
            """
        deleteLocked = """
            DELETE FROM \(s).entries e USING unnest($1::bigint[], $2::bytea[]) AS t(n, k)
            WHERE e.namespace = t.n AND e.key = t.k
            """
    }
}

extension Optional where Wrapped == PostgresRow {
    /// The row, or a storage error when the statement returned none.
    func orThrow(_ settings: PostgresSettings) throws(KVError) -> PostgresRow {
        guard let row = self else { throw KVError.storage("PostgreSQL at \(settings.address): a statement that returns a row returned none") }
        return row
    }
}
