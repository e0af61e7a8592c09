#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DequeModule
import KVCore
import Synchronization

/// One change for the writer connection.
enum WriteOperation {
    case upsert(NamespaceID, key: [UInt8], entry: StoredEntry)
    case upsertMany(NamespaceID, [(key: [UInt8], entry: StoredEntry)])
    case delete(NamespaceID, key: [UInt8])
    case deleteMany(NamespaceID, keys: [[UInt8]])
    case purge(asOf: Int64)
    case createNamespace([UInt8])
    /// Must run alone, outside a transaction.
    case vacuum
    /// An atomic commit (see `KVStorage.commit`): its result is the version, or -1 when
    /// `decide` wrote nothing.
    case commit([AtomicKey], ([StoredEntry?]) throws(KVError) -> [AtomicWrite]?)
}

/// Funnels every write through one writer connection, committing concurrent writes together.
///
/// A writer that finds no leader becomes the leader: it takes every write waiting at that
/// moment (its own first), runs them in one transaction and commits, then wakes exactly the
/// writers of that batch. If more writes queued up meanwhile, it hands leadership straight to
/// the oldest of them, so a newcomer never starts a batch of one ahead of a full queue: under
/// contention the queue fills while a batch commits and the next batch takes all of it. Each
/// write returns only after the transaction holding it has committed, so durability is as for
/// single writes. If a shared transaction fails, each of its writes is retried alone, so one
/// bad write never fails another.
final class GroupCommit: @unchecked Sendable {
    /// One write and its writer's parking place. Crosses threads: the leader sets `result`
    /// under the mutex and then posts `wake`, which orders that write before the woken writer's read.
    private final class Ticket: @unchecked Sendable {
        let operation: WriteOperation
        /// Set by the leader before it posts `wake`; still nil when `wake` hands this writer
        /// the lead of the next batch instead.
        var result: Result<Int64, KVError>?
        /// Posted once, when `result` is set or the lead is handed over. A semaphore, not a
        /// condition, so the woken writer goes on without taking the mutex again.
        let wake = KVSemaphore()

        init(_ operation: WriteOperation) { self.operation = operation }
    }

    private struct Queue {
        /// Writes not yet in a batch, oldest first.
        var waiting = Deque<Ticket>()
        /// Whether some writer leads (runs a batch, or has been handed the lead). Whenever
        /// `waiting` is not empty, this is true.
        var leaderActive = false
        /// Writes in the last batch: more than one means writers are concurrent.
        var lastBatchSize = 0
    }

    private let writer: WriterConnection
    private let queue = Mutex(Queue())

    /// Most writes one transaction takes.
    let maxBatch = 4096

    init(writer: WriterConnection) {
        self.writer = writer
    }

    /// Performs `operation` and returns its integer result (rows changed, or a namespace id)
    /// once it is committed.
    @discardableResult
    func perform(_ operation: WriteOperation) throws(KVError) -> Int64 {
        let ticket = Ticket(operation)
        let follows = queue.withLock { q in
            q.waiting.append(ticket)
            if q.leaderActive { return true }
            q.leaderActive = true
            return false
        }
        if follows {
            ticket.wake.wait()
            if let result = ticket.result { return try result.get() }
            // Handed the lead.
        }
        // Leading: the ticket is the oldest waiting, so the batch holds it. Under contention
        // (the last batch was shared, or others wait already), first let the writers that
        // are ready to run join the queue, while it still grows; a lone writer never waits.
        var (yields, count) = queue.withLock { q in (q.lastBatchSize > 1 || q.waiting.count > 1 ? 0 : 8, q.waiting.count) }
        while yields < 8, count < maxBatch {
            sched_yield()
            yields += 1
            let now = queue.withLock { q in q.waiting.count }
            if now == count { break }
            count = now
        }
        let batch = queue.withLock { q in
            let batch = Array(q.waiting.prefix(maxBatch))
            q.waiting.removeFirst(batch.count)
            q.lastBatchSize = batch.count
            return batch
        }
        let results = run(batch)
        let woken = queue.withLock { q in
            var woken: [Ticket] = []
            for (t, result) in zip(batch, results) { t.result = result }
            woken.reserveCapacity(batch.count + 1)
            if let next = q.waiting.first {
                woken.append(next) // first: the next batch should not wait for the other wake-ups
            }
            woken.append(contentsOf: batch)
            if q.waiting.isEmpty {
                q.leaderActive = false
            }
            return woken
        }
        // Posted after unlocking, so a new leader does not wait for the mutex. Each ticket is
        // kept alive by `woken` until its post.
        for t in woken where t !== ticket { t.wake.post() }
        return try ticket.result!.get()
    }

    /// Runs a batch and returns each write's result, in order. Every write runs in a
    /// transaction that takes its versions from the writer's reserved block (see
    /// `WriterConnection.beginVersions`).
    private func run(_ batch: [Ticket]) -> [Result<Int64, KVError>] {
        // A vacuum cannot run inside a transaction: a batch holding one runs write by write.
        let hasVacuum = batch.contains { if case .vacuum = $0.operation { true } else { false } }
        if batch.count > 1 && !hasVacuum {
            do {
                var results: [Result<Int64, KVError>] = []
                results.reserveCapacity(batch.count)
                try transaction { () throws(KVError) in
                    for ticket in batch { results.append(.success(try execute(ticket.operation))) }
                }
                return results
            } catch {
                // Retried one by one below, so one bad write never fails another.
            }
        }
        return batch.map { ticket in
            Result { () throws(KVError) -> Int64 in
                if case .vacuum = ticket.operation { return try writer.vacuum() }
                return try transaction { () throws(KVError) -> Int64 in try execute(ticket.operation) }
            }
        }
    }

    private func transaction<T>(_ body: () throws(KVError) -> T) throws(KVError) -> T {
        do {
            return try writer.connection.transaction { () throws(KVError) -> T in
                try writer.beginVersions()
                let result = try body()
                try writer.endVersions()
                return result
            }
        } catch {
            writer.abandonVersions()
            throw error
        }
    }

    /// Runs one operation inside a transaction opened by `transaction`.
    private func execute(_ operation: WriteOperation) throws(KVError) -> Int64 {
        switch operation {
        case let .upsert(namespace, key, entry):
            try writer.upsert(namespace, key, entry, version: writer.nextVersion())
            return 1
        case let .upsertMany(namespace, entries):
            try writer.upsertMany(namespace, entries, version: writer.nextVersion())
            return Int64(entries.count)
        case let .delete(namespace, key):
            return try writer.delete(namespace, key)
        case let .deleteMany(namespace, keys):
            return try deleteAll(namespace, keys)
        case let .purge(now):
            return try writer.purge(now)
        case let .createNamespace(name):
            return try writer.namespaceID(name)
        case .vacuum:
            throw KVError.storage("vacuum cannot run inside a transaction")
        case let .commit(keys, decide):
            var current: [StoredEntry?] = []
            current.reserveCapacity(keys.count)
            for key in keys { current.append(try writer.read(key.namespace, key.key)) }
            guard let writes = try decide(current) else { return -1 }
            let version = writer.nextVersion()
            for write in writes {
                if let entry = write.entry {
                    try writer.upsert(write.key.namespace, write.key.key, entry, version: version)
                } else {
                    _ = try writer.delete(write.key.namespace, write.key.key)
                }
            }
            return version
        }
    }

    private func deleteAll(_ namespace: NamespaceID, _ keys: [[UInt8]]) throws(KVError) -> Int64 {
        var removed: Int64 = 0
        for key in keys { removed += try writer.delete(namespace, key) }
        return removed
    }
}
