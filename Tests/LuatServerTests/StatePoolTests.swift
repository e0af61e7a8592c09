import Foundation
import Synchronization
import Testing
@testable import LuatServer

/// The worker queue's rule for waking a sleeping worker (`JobQueue`): a job expected to be
/// short is left to an awake worker when it would wait for it no longer than the patience; a
/// job of unknown or long length, queued work beyond the patience, or an awake worker whose job
/// has overrun, wakes a sleeping one. Two real worker threads; the jobs hold their worker on
/// semaphores, so what runs where is decided by the rule alone, and an injected clock stands for
/// time passing.
@Suite(.timeLimit(.minutes(1))) struct StatePoolTests {
    /// A pool of two workers with a test clock (nanoseconds, moved by hand), its workers asleep.
    final class Fixture: Sendable {
        let clock = TestClock()
        let pool: StatePool<Int>

        init(patience: Duration) {
            let clock = self.clock
            pool = StatePool(size: 2, patience: patience, clock: { clock.nanoseconds.load(ordering: .relaxed) }, make: { 0 })
            // The workers start and fall asleep on their own threads.
            for _ in 0..<10_000_000 where pool.sleepingWorkers < 2 { sched_yield() }
        }

        /// Queues a job that says it started (and on which thread), then holds its worker until
        /// `release` is signalled.
        func hold(expected: Duration?, started: DispatchSemaphore, thread: Thread? = nil,
                  release: DispatchSemaphore) {
            let queued = pool.submit(expected: expected) { _ in
                thread?.id.store(UInt(pthread_self()), ordering: .relaxed)
                started.signal()
                release.wait()
            }
            #expect(queued)
        }

        func advance(_ duration: Duration) {
            clock.nanoseconds.add(UInt64(JobQueue<Int>.nanoseconds(duration)), ordering: .relaxed)
        }

        func shutdown() async throws { try await pool.shutdown() }
    }

    final class TestClock: Sendable {
        let nanoseconds = Atomic<UInt64>(1_000_000_000)
    }

    /// The worker thread a job ran on.
    final class Thread: Sendable {
        let id = Atomic<UInt>(0)
    }

    static func waited(_ semaphore: DispatchSemaphore) -> Bool {
        semaphore.wait(timeout: .now() + 20) == .success
    }

    @Test func aShortJobWaitsForTheAwakeWorkerInsteadOfWakingAnother() async throws {
        let fixture = Fixture(patience: .seconds(10))
        let (startedA, releaseA, startedB, releaseB) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0), DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        let threadA = Thread(), threadB = Thread()
        fixture.hold(expected: Duration.microseconds(5), started: startedA, thread: threadA, release: releaseA)
        #expect(Self.waited(startedA))
        #expect(fixture.pool.sleepingWorkers == 1)

        fixture.hold(expected: Duration.microseconds(5), started: startedB, thread: threadB, release: releaseB)
        // Left to the awake worker: the other one sleeps on, and B cannot start while A holds.
        #expect(fixture.pool.sleepingWorkers == 1)
        #expect(startedB.wait(timeout: .now()) == .timedOut)

        releaseA.signal()
        #expect(Self.waited(startedB))
        #expect(threadA.id.load(ordering: .relaxed) != 0)
        #expect(threadB.id.load(ordering: .relaxed) == threadA.id.load(ordering: .relaxed), "B ran on the worker that ran A")
        releaseB.signal()
        try await fixture.shutdown()
    }

    @Test(arguments: [nil, Duration.seconds(60)])
    func aJobBehindAnUnknownOrLongOneWakesASleepingWorker(runningFor expected: Duration?) async throws {
        let fixture = Fixture(patience: .seconds(10))
        let (startedA, releaseA, startedB, releaseB) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0), DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        fixture.hold(expected: expected, started: startedA, release: releaseA)
        #expect(Self.waited(startedA))

        fixture.hold(expected: Duration.microseconds(5), started: startedB, release: releaseB)
        // B runs while A still holds its worker.
        #expect(Self.waited(startedB))
        #expect(fixture.pool.sleepingWorkers == 0)
        releaseA.signal()
        releaseB.signal()
        try await fixture.shutdown()
    }

    @Test func queuedWorkBeyondThePatienceWakesASleepingWorker() async throws {
        let fixture = Fixture(patience: .seconds(10))
        let (startedA, releaseA) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        fixture.hold(expected: Duration.microseconds(5), started: startedA, release: releaseA)
        #expect(Self.waited(startedA))

        // 4 s + 4 s queued for the one awake worker: within the 10 s of patience.
        let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        fixture.hold(expected: Duration.seconds(4), started: started, release: release)
        fixture.hold(expected: Duration.seconds(4), started: started, release: release)
        #expect(fixture.pool.sleepingWorkers == 1)
        #expect(started.wait(timeout: .now()) == .timedOut)
        // 12 s would be too long: the sleeping worker takes the first queued job now.
        fixture.hold(expected: Duration.seconds(4), started: started, release: release)
        #expect(Self.waited(started))
        #expect(fixture.pool.sleepingWorkers == 0)

        releaseA.signal()
        for _ in 0..<3 { release.signal() }
        #expect(Self.waited(started))
        #expect(Self.waited(started))
        try await fixture.shutdown()
    }

    @Test func aShortJobThatOverrunsNoLongerHoldsBackTheQueue() async throws {
        let fixture = Fixture(patience: .milliseconds(1))
        let (startedA, releaseA, startedB, releaseB, startedC, releaseC) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0), DispatchSemaphore(value: 0), DispatchSemaphore(value: 0), DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        fixture.hold(expected: Duration.microseconds(5), started: startedA, release: releaseA)
        #expect(Self.waited(startedA))
        fixture.hold(expected: Duration.microseconds(5), started: startedB, release: releaseB)
        #expect(fixture.pool.sleepingWorkers == 1)

        // A has now run 2 ms against 5 µs expected and 1 ms of patience: the next push sees it
        // overdue and wakes the sleeping worker, which takes B (first in the queue).
        fixture.advance(.milliseconds(2))
        fixture.hold(expected: Duration.microseconds(5), started: startedC, release: releaseC)
        #expect(Self.waited(startedB))
        #expect(startedC.wait(timeout: .now()) == .timedOut)

        releaseA.signal()
        #expect(Self.waited(startedC))
        releaseB.signal()
        releaseC.signal()
        try await fixture.shutdown()
    }
}
