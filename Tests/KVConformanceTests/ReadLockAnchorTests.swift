import Foundation
import KVCore
@testable import KVSQLite
import Testing

/// The read-lock anchor on a real SQLite file, stepped cycle by cycle through its pause hook
/// (no sleeps), and seen from outside by a checkpoint on a connection of its own: a
/// `wal_checkpoint(TRUNCATE)` that must wait for readers answers busy while a read transaction
/// on the WAL is open.
@Suite("SQLite read-lock anchor")
struct ReadLockAnchorTests {
    /// Parks the anchor's thread in each hold time until the test lets it go on.
    final class Gate: @unchecked Sendable {
        private let arrived = DispatchSemaphore(value: 0)
        private let proceed = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private var holdings: [Bool] = []

        var pause: ReadLockAnchor.Pause {
            { [self] holding in
                lock.withLock { holdings.append(holding) }
                arrived.signal()
                _ = proceed.wait(timeout: .now() + 10)
            }
        }

        /// Waits (at most 10 s) for the anchor to reach its next pause; whether it holds there.
        func next() -> Bool? {
            guard arrived.wait(timeout: .now() + 10) == .success else { return nil }
            return lock.withLock { holdings.last }
        }

        func release() { proceed.signal() }
        var pauses: Int { lock.withLock { holdings.count } }
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)` from a connection of its own, not waiting: true when a
    /// reader kept it from finishing.
    static func checkpointIsBlocked(_ path: String) throws -> Bool {
        try SQLiteConnection(path: path, busyTimeoutMilliseconds: 0).integer("PRAGMA wal_checkpoint(TRUNCATE)") != 0
    }

    @Test func holdsWhileReadsComeStandsAsideAfterACommitAndSleepsWithoutReads() throws {
        let folder = TemporaryFolder()
        let path = folder.path + "/kv.db"
        let storage = try SQLiteStorage(path: path, readLockAnchor: false)
        let kv = try KVStore(storage: storage, clock: SystemClock()).namespace("n")
        try kv.put("a", "1")  // frames in the WAL: a reader of them blocks a truncating checkpoint
        #expect(try !Self.checkpointIsBlocked(path), "nothing reads yet")
        try kv.put("b", "2")

        let gate = Gate()
        let anchor = ReadLockAnchor(path: path, busyTimeoutMilliseconds: 1_000, pause: gate.pause)
        anchor.noteRead()
        #expect(gate.next() == true, "the first cycle holds its read transaction")
        #expect(try Self.checkpointIsBlocked(path))
        try kv.put("c", "3")  // the writer is not held up by the anchor
        #expect(try kv.get("c")?.text == "3")

        anchor.noteRead()
        gate.release()
        #expect(gate.next() == false, "a commit since the last cycle: the next one ends its transaction at once")
        #expect(try !Self.checkpointIsBlocked(path))
        // That checkpoint restarted the WAL, a change too; new frames for the next hold to read.
        try kv.put("d", "4")

        anchor.noteRead()
        gate.release()
        #expect(gate.next() == false, "the checkpoint and the write count as changes")
        anchor.noteRead()
        gate.release()
        #expect(gate.next() == true, "a quiet cycle holds again")
        #expect(try Self.checkpointIsBlocked(path))

        // No read during that hold: the anchor ends it and sleeps (no further pause).
        gate.release()
        anchor.stop()
        #expect(gate.pauses == 4)
        #expect(try !Self.checkpointIsBlocked(path))
    }

    @Test func aReadWakesASleepingAnchor() throws {
        let folder = TemporaryFolder()
        let path = folder.path + "/kv.db"
        let kv = try KVStore(storage: try SQLiteStorage(path: path, readLockAnchor: false), clock: SystemClock()).namespace("n")
        try kv.put("a", "1")
        let gate = Gate()
        let anchor = ReadLockAnchor(path: path, busyTimeoutMilliseconds: 1_000, pause: gate.pause)
        for round in 1...3 {
            anchor.noteRead()
            #expect(gate.next() != nil, "round \(round): the read woke the anchor")
            gate.release()
        }
        anchor.stop()
        #expect(gate.pauses == 3)
    }

    /// The storage stops its anchor before its writer closes: the last connection to close
    /// checkpoints the WAL and removes it, as without the anchor.
    @Test func closingTheStorageRemovesTheWALAfterReads() throws {
        let folder = TemporaryFolder()
        let path = folder.path + "/kv.db"
        do {
            let kv = try KVStore(storage: try SQLiteStorage(path: path), clock: SystemClock()).namespace("n")
            for i in 0..<200 {
                try kv.put("k\(i % 10)", "v\(i)")
                #expect(try kv.get("k\(i % 10)")?.text == "v\(i)")
            }
        }
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        let reopened = try KVStore(storage: try SQLiteStorage(path: path), clock: SystemClock()).namespace("n")
        #expect(try reopened.get("k9")?.text == "v199")
    }
}
