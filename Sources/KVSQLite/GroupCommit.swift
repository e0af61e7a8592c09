#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KVCore

/// One change for the writer connection.
enum WriteOperation {
    case upsert(NamespaceID, key: [UInt8], entry: StoredEntry)
    case upsertMany(NamespaceID, [(key: [UInt8], entry: StoredEntry)])
    case delete(NamespaceID, key: [UInt8])
    case deleteMany(NamespaceID, keys: [[UInt8]])
    case purge(asOf: Int64)
    case createNamespace([UInt8])
}

/// Funnels every write through one writer connection, committing concurrent writes together.
///
/// A writer that finds the connection idle becomes the leader: it takes every write waiting
/// at that moment, runs them in one transaction and commits, then wakes their writers. Each
/// write returns only after the transaction holding it has committed, so durability is as
/// for single writes; under contention many writes share one commit. If a shared transaction
/// fails, each of its writes is retried alone, so one bad write never fails another.
final class GroupCommit: @unchecked Sendable {
    private final class Ticket {
        let operation: WriteOperation
        var result: Result<Int64, KVError>?
        init(_ operation: WriteOperation) { self.operation = operation }
    }

    private let writer: WriterConnection
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var waiting: [Ticket] = []
    private var leaderActive = false

    /// Most writes one transaction takes.
    let maxBatch = 4096

    init(writer: WriterConnection) {
        self.writer = writer
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(done, nil)
    }

    deinit {
        pthread_cond_destroy(done)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        done.deallocate()
    }

    /// Performs `operation` and returns its integer result (rows changed, or a namespace id)
    /// once it is committed.
    @discardableResult
    func perform(_ operation: WriteOperation) throws(KVError) -> Int64 {
        let ticket = Ticket(operation)
        pthread_mutex_lock(mutex)
        waiting.append(ticket)
        while ticket.result == nil {
            if leaderActive {
                pthread_cond_wait(done, mutex)
                continue
            }
            leaderActive = true
            let batch = Array(waiting.prefix(maxBatch))
            waiting.removeFirst(batch.count)
            pthread_mutex_unlock(mutex)
            run(batch)
            pthread_mutex_lock(mutex)
            leaderActive = false
            pthread_cond_broadcast(done)
        }
        pthread_mutex_unlock(mutex)
        return try ticket.result!.get()
    }

    private func run(_ batch: [Ticket]) {
        if batch.count == 1 {
            batch[0].result = Result { () throws(KVError) -> Int64 in try execute(batch[0].operation, inTransaction: false) }
            return
        }
        do {
            var results: [Int64] = []
            try writer.connection.transaction { () throws(KVError) in
                for ticket in batch { results.append(try execute(ticket.operation, inTransaction: true)) }
            }
            for (ticket, result) in zip(batch, results) { ticket.result = .success(result) }
        } catch {
            for ticket in batch {
                ticket.result = Result { () throws(KVError) -> Int64 in try execute(ticket.operation, inTransaction: false) }
            }
        }
    }

    private func execute(_ operation: WriteOperation, inTransaction: Bool) throws(KVError) -> Int64 {
        switch operation {
        case let .upsert(namespace, key, entry):
            try writer.upsert(namespace, key, entry)
            return 1
        case let .upsertMany(namespace, entries):
            if inTransaction { return try upsertAll(namespace, entries) }
            return try writer.connection.transaction { () throws(KVError) -> Int64 in try upsertAll(namespace, entries) }
        case let .delete(namespace, key):
            return try writer.delete(namespace, key)
        case let .deleteMany(namespace, keys):
            if inTransaction { return try deleteAll(namespace, keys) }
            return try writer.connection.transaction { () throws(KVError) -> Int64 in try deleteAll(namespace, keys) }
        case let .purge(now):
            return try writer.purge(now)
        case let .createNamespace(name):
            return try writer.namespaceID(name)
        }
    }

    private func upsertAll(_ namespace: NamespaceID, _ entries: [(key: [UInt8], entry: StoredEntry)]) throws(KVError) -> Int64 {
        for item in entries { try writer.upsert(namespace, item.key, item.entry) }
        return Int64(entries.count)
    }

    private func deleteAll(_ namespace: NamespaceID, _ keys: [[UInt8]]) throws(KVError) -> Int64 {
        var removed: Int64 = 0
        for key in keys { removed += try writer.delete(namespace, key) }
        return removed
    }
}
