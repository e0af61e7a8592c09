import Foundation
import KVCore
import Synchronization

/// Keeps the file locks of frequent reads inside the process.
///
/// In WAL mode every read transaction takes a shared lock on one of the WAL's read marks and
/// releases it at the end. SQLite's unix VFS asks the kernel (`fcntl`) for that lock only when
/// no other connection of the same process holds it, so a busy server's reads, which seldom
/// overlap, pay up to two system calls each. While reads keep coming, the anchor holds a read
/// transaction of its own on a separate connection, renewed every hold time (2 ms): readers
/// that start on the same snapshot share its read mark and take their lock without a system
/// call.
///
/// What it may and may not do to others: it never reads data for anyone, so no read is staler
/// for it. A held snapshot keeps a checkpoint from copying frames written after it, and WAL
/// restarts from reusing the log, for at most the hold time; so once a cycle sees that
/// something was committed since the last one (`PRAGMA data_version`, which counts commits of
/// every connection and process), it ends its transaction at once and holds again only after
/// a quiet cycle. Under writes readers need new read marks anyway (with their system calls),
/// so the anchor then stands aside. With no read during a cycle it holds nothing and its
/// thread sleeps until the next read.
///
/// Thread-safety: `noteRead()` from any thread (one relaxed load while the anchor is awake);
/// `stop()` once, from the owner's deinit. The anchor's connection is opened, used and closed
/// by its own thread only; `stop()` returns after that thread has closed it, so the storage's
/// last connection can still checkpoint and remove the WAL.
final class ReadLockAnchor: Sendable {
    /// How long one read transaction is held, in microseconds: the longest a checkpoint waits
    /// for the anchor, and the period of its renewals while reads come (500 a second).
    static let holdMicroseconds: UInt32 = 2_000

    /// Where the anchor's thread waits out a hold time: `holding` says whether its read
    /// transaction is open meanwhile. Tests pass one that parks until they let it go on.
    typealias Pause = @Sendable (_ holding: Bool) -> Void

    private let path: String
    private let busyTimeoutMilliseconds: Int32
    private let pause: Pause?
    /// A read happened since the anchor last looked.
    private let demand = Atomic<Bool>(false)
    /// The anchor's thread sleeps on `wake` until a read (no read in its last cycle).
    private let asleep = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    /// Posted by the read that finds the anchor asleep, and by `stop()`.
    private let wake = KVSemaphore()
    private let finished = KVSemaphore()

    /// Starts the anchor's thread, asleep until the first `noteRead()`. The connection opens
    /// on the first cycle; when it cannot be opened the anchor tries again each cycle, and
    /// reads are not affected either way.
    init(path: String, busyTimeoutMilliseconds: Int32, pause: Pause? = nil) {
        self.path = path
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.pause = pause
        let thread = Thread { [self] in run() }
        thread.stackSize = 256 * 1024
        thread.start()
    }

    /// Called by every read. Wakes the anchor when it sleeps.
    @inline(__always)
    func noteRead() {
        guard !demand.load(ordering: .relaxed) else { return }
        demand.store(true, ordering: .sequentiallyConsistent)
        if asleep.load(ordering: .sequentiallyConsistent),
           asleep.compareExchange(expected: true, desired: false, ordering: .sequentiallyConsistent).exchanged {
            wake.post()
        }
    }

    /// Ends the anchor's transaction (after its hold time), closes its connection and ends its
    /// thread; returns after.
    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        wake.post()
        finished.wait()
    }

    private func run() {
        var session: Session?
        while !stopping.load(ordering: .sequentiallyConsistent) {
            guard demand.exchange(false, ordering: .sequentiallyConsistent) else {
                sleepUntilRead()
                continue
            }
            if session == nil { session = Session(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds) }
            guard let session else { wait(holding: false); continue }
            session.cycle { holding in wait(holding: holding) }
        }
        session = nil
        finished.post()
    }

    /// One hold time (`usleep`: on the monotonic clock, so a change of the wall clock cannot
    /// stretch a hold). `stop()` waits for it to end.
    private func wait(holding: Bool) {
        if let pause { return pause(holding) }
        usleep(Self.holdMicroseconds)
    }

    /// Parks the thread until a read (or `stop()`) posts `wake`. A read that set `demand`
    /// after the check in `run()` but before `asleep` was set is not lost: either it sees
    /// `asleep` and posts, or this thread sees its `demand` and stays up.
    private func sleepUntilRead() {
        asleep.store(true, ordering: .sequentiallyConsistent)
        if demand.load(ordering: .sequentiallyConsistent) || stopping.load(ordering: .sequentiallyConsistent),
           asleep.compareExchange(expected: true, desired: false, ordering: .sequentiallyConsistent).exchanged {
            return
        }
        wake.wait()
    }

    /// The anchor's connection and statements; lives on the anchor's thread only.
    private final class Session {
        let connection: SQLiteConnection
        let begin: SQLiteStatement
        let dataVersion: SQLiteStatement
        let commit: SQLiteStatement
        /// `PRAGMA data_version` in the last cycle (nil before the first).
        var lastVersion: Int64?

        init?(path: String, busyTimeoutMilliseconds: Int32) {
            do {
                connection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
                try connection.execute("PRAGMA query_only = ON")
                begin = try connection.prepare("BEGIN")
                dataVersion = try connection.prepare("PRAGMA data_version")
                commit = try connection.prepare("COMMIT")
            } catch {
                return nil
            }
        }

        /// One read transaction, held through `wait(true)` when nothing was committed since
        /// the last cycle (or this is the first), ended before `wait(false)` otherwise.
        func cycle(_ wait: (_ holding: Bool) -> Void) {
            do {
                try begin.run()
                // The transaction's first statement starts it: takes the read mark.
                guard try dataVersion.step() else { throw KVError.storage("PRAGMA data_version returned no row") }
                let version = dataVersion.int64(0)
                dataVersion.reset()
                let quiet = lastVersion == nil || lastVersion == version
                lastVersion = version
                if quiet { wait(true) }
                try commit.run()
                if !quiet { wait(false) }
            } catch {
                dataVersion.reset()
                if !connection.isAutocommit { try? connection.execute("ROLLBACK") }
                wait(false)
            }
        }
    }
}
