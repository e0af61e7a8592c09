#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DequeModule
import KVCore
import NIOPosix
import Synchronization

/// Script states for requests, in two kinds of place:
/// - a fixed number of worker threads, each owning one state, fed from one FIFO queue
///   (`submit`): the first free worker runs the job on its state. Under load the queue holds the
///   waiting requests, so a worker that finishes a job takes the next one without sleeping.
///   A sleeping worker is woken only when a queued job would otherwise wait longer than
///   `patience` (see `JobQueue`): short jobs stay with the workers already running;
/// - the calling thread itself (`runHere`): each thread that asks gets its own state, kept for
///   that thread. The HTTP core's event loops use it to run short routes where the request
///   arrived, without a hop to a worker and back.
///
/// States are made lazily, on the thread that uses them; `invalidate()` makes every state be
/// made afresh at its next use (used by `--watch`). A state is only ever used by one thread at
/// a time. Thread-safe.
public final class StatePool<State>: Sendable {
    public let size: Int
    private let queue: JobQueue<Job>
    private let shared: Shared
    private let local: LocalStates<State>

    /// What the workers and the threads running jobs in place share with the pool.
    private final class Shared: Sendable {
        /// Dropped at shutdown, with everything it holds (the KV store, for instance).
        let make: Mutex<(@Sendable () throws -> State)?>
        let generation = Atomic<Int>(0)
        let retire: @Sendable (State) -> Bool
        init(make: @escaping @Sendable () throws -> State, retire: @escaping @Sendable (State) -> Bool) {
            self.make = Mutex(make)
            self.retire = retire
        }

        /// The state of `slot` for a job, made first when missing or made before the last
        /// `invalidate()`. Called only on the thread that owns the slot.
        func state(in slot: StateSlot<State>) throws -> State {
            let current = generation.load(ordering: .acquiring)
            if let state = slot.state, slot.madeAt == current { return state }
            slot.state = nil
            guard let makeState = make.withLock({ $0 }) else { throw StatePoolError.shutDown }
            let made = try makeState()
            slot.state = made
            slot.madeAt = current
            return made
        }

        /// Runs one job on `slot`'s state, then drops the state if `retire` asks for it (the
        /// next job gets a fresh one).
        func run(_ body: (() throws -> State) -> Void, in slot: StateSlot<State>) {
            body { try self.state(in: slot) }
            if let current = slot.state, retire(current) { slot.state = nil }
        }
    }

    /// `retire` is asked after each job on the thread that ran it: true drops that thread's
    /// state (closing it there) so that its next job gets a fresh one.
    /// `patience`: how long a job whose length is known may wait for a worker that is running
    /// a short job before a sleeping worker is woken for it (`JobQueue`).
    public convenience init(size: Int, patience: Duration = StatePool.defaultPatience,
                            make: @escaping @Sendable () throws -> State, retire: @escaping @Sendable (State) -> Bool = { _ in false }) {
        self.init(size: size, patience: patience, clock: monotonicNanoseconds, make: make, retire: retire)
    }

    /// `clock`: monotonic nanoseconds, for the queue's "running longer than expected" (tests
    /// give their own).
    init(size: Int, patience: Duration, clock: @escaping @Sendable () -> UInt64,
         make: @escaping @Sendable () throws -> State, retire: @escaping @Sendable (State) -> Bool = { _ in false }) {
        precondition(size > 0)
        self.size = size
        let shared = Shared(make: make, retire: retire)
        self.shared = shared
        self.queue = JobQueue(patience: patience, clock: clock)
        self.local = LocalStates()
        // The workers hold what they need, not the pool: a pool dropped without shutdown()
        // leaves its workers waiting, as NIOThreadPool's threads would.
        for _ in 0..<size {
            let queue = self.queue
            queue.startThread {
                let slot = StateSlot<State>()
                let parker = KVSemaphore()
                while let job = queue.next(parkingOn: parker) {
                    switch job {
                    case .plain(let body): body()
                    case .withState(let body): shared.run(body, in: slot)
                    }
                }
                // Closing the state on the thread that used it.
                slot.state = nil
            }
        }
    }

    /// Runs `body` with a state on a worker thread.
    public func withState<R: Sendable>(_ body: @escaping @Sendable (State) throws -> R) async throws -> R {
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<R, any Error>) in
            let job = Job.withState { state in continuation.resume(with: Result { try body(state()) }) }
            if !queue.push(job) { continuation.resume(throwing: StatePoolError.shutDown) }
        }
    }

    /// Queues `body` for the first free worker, without waiting: the worker calls it with a
    /// function that returns its state (making it first when needed, which may throw). For
    /// callers that must not block or suspend (the HTTP core's event loops). `expected`: how
    /// long `body` is expected to run (a route's recent average), nil when unknown; it only
    /// decides whether a sleeping worker is woken for it. False, and `body` never runs, once the
    /// pool is shutting down.
    public func submit(expected: Duration? = nil, _ body: @escaping @Sendable (() throws -> State) -> Void) -> Bool {
        queue.push(.withState(body), expected: expected.map(JobQueue<Job>.nanoseconds))
    }

    /// 200 µs: small next to a loaded server's tail latency (milliseconds), and long enough
    /// that one awake worker takes a burst of short routes in turn (50 µs still woke a second
    /// worker for most bursts; docs/performance.md has the measurements).
    public static var defaultPatience: Duration { .microseconds(200) }

    /// Workers asleep now (for tests).
    var sleepingWorkers: Int { queue.sleeping }

    /// Runs `body` now, on the calling thread, with that thread's own state (made on the first
    /// call from this thread and after `invalidate()`). The caller's thread is busy for as long
    /// as `body` runs. False, and `body` never runs, once the pool is shutting down.
    public func runHere(_ body: (() throws -> State) -> Void) -> Bool {
        guard let slot = local.slot() else { return false }
        shared.run(body, in: slot)
        return true
    }

    /// Runs `body` on a worker thread without a state (file-system work, for instance).
    public func run<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async throws -> R {
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<R, any Error>) in
            let job = Job.plain { continuation.resume(with: Result { try body() }) }
            if !queue.push(job) { continuation.resume(throwing: StatePoolError.shutDown) }
        }
    }

    /// Every state is replaced at its next use.
    public func invalidate() {
        shared.generation.add(1, ordering: .releasing)
    }

    /// Runs the jobs already queued, stops the threads (each drops its state), drops the
    /// states made by `runHere` and the function that makes states, so what they share (the KV
    /// store) is released now, not whenever this pool is. Call it once no thread runs
    /// `runHere` any more (the HTTP server has stopped).
    public func shutdown() async throws {
        await queue.stop()
        local.dropAll()
        shared.make.withLock { $0 = nil }
    }

    /// One queued piece of work. `withState` gets a function that returns the worker's state
    /// (making it first when needed).
    enum Job: Sendable {
        case plain(@Sendable () -> Void)
        case withState(@Sendable (() throws -> State) -> Void)
    }
}

/// One thread's state. Only its thread touches `state` and `madeAt`, except `LocalStates.dropAll`
/// once no thread uses it any more.
final class StateSlot<State>: @unchecked Sendable {
    var state: State?
    var madeAt = 0
}

/// The states of threads that run jobs in place (`StatePool.runHere`): one slot per thread,
/// found through a thread-specific variable, and listed so that shutdown can drop them all.
final class LocalStates<State>: Sendable {
    private let current = ThreadSpecificVariable<StateSlot<State>>()
    /// Every slot handed out; nil once dropped (no new slot after shutdown).
    private let slots = Mutex<[StateSlot<State>]?>([])
    private let dropped = Atomic<Bool>(false)

    /// The calling thread's slot (made on its first call); nil after `dropAll`.
    func slot() -> StateSlot<State>? {
        if let slot = current.currentValue {
            return dropped.load(ordering: .acquiring) ? nil : slot
        }
        let slot = StateSlot<State>()
        let registered = slots.withLock { list -> Bool in
            guard list != nil else { return false }
            list!.append(slot)
            return true
        }
        guard registered else { return nil }
        current.currentValue = slot
        return slot
    }

    func dropAll() {
        dropped.store(true, ordering: .releasing)
        let dropped = slots.withLock { list -> [StateSlot<State>] in
            defer { list = nil }
            return list ?? []
        }
        for slot in dropped { slot.state = nil }
    }
}

/// The jobs, a FIFO queue under a mutex; each idle worker sleeps on its own semaphore and is
/// posted alone when it is woken.
///
/// When to wake a sleeping worker: waking one costs a system call on the pushing thread and a
/// context switch (tens of microseconds on a loaded machine, more than a short route's run), and
/// a woken worker that finds little to do goes back to sleep, so waking one for every job makes
/// short jobs cost several times their run. A sleeping worker is therefore woken only when the
/// queued jobs would wait more than `patience` for the workers that will be free soon:
/// - a job of unknown length (nil `expected`) always wakes one, as does any job while every
///   awake worker runs a long or an overdue job;
/// - "free soon": a worker running a job expected to last at most `patience`, which has not run
///   longer than that by more than `patience` (an overdue job counts as long from then on, which
///   the next push sees);
/// - otherwise a worker is woken when the expected run of the queued jobs, shared among the
///   workers free soon, exceeds `patience`; a worker that takes a long job from the queue wakes
///   another for what is left.
/// So a job expected to be short can wait behind a running one that turns long, until that one
/// ends or the next push notices it overdue: bounded by that run (and its request time budget).
final class JobQueue<Job: Sendable>: Sendable {
    private struct Queued {
        let job: Job
        let expected: Int?
    }

    /// One awake worker's current job: when it started and how long it should take.
    private struct Running {
        let started: UInt64
        let expected: Int
    }

    private struct Queue: ~Copyable {
        var jobs = Deque<Queued>()
        /// Workers waiting for a job, each on its own semaphore; woken last-in first-out (the
        /// most recently idle worker is the most likely to still be on a core).
        var idle: [KVSemaphore] = []
        /// Queued jobs of unknown length, and the expected nanoseconds of the others.
        var unknownQueued = 0
        var queuedNanoseconds = 0
        /// The jobs running now that were expected to be short, by worker.
        var short: [ObjectIdentifier: Running] = [:]
        /// Workers posted but not yet back at the queue: each will take a job soon.
        var waking = 0
        var stopping = false
        var running = 0
        var stopped: [CheckedContinuation<Void, Never>] = []

        /// True when the queued jobs would wait longer than `patience` for the workers free
        /// soon, and a sleeping worker should take some.
        func needsAnotherWorker(patience: Int, now: UInt64) -> Bool {
            if jobs.isEmpty { return false }
            if unknownQueued > 0 { return true }
            var freeSoon = waking
            for run in short.values where now &- run.started <= UInt64(run.expected + patience) { freeSoon += 1 }
            return freeSoon == 0 || queuedNanoseconds > freeSoon * patience
        }
    }

    private let queue = Mutex(Queue())
    private let patience: Int
    private let clock: @Sendable () -> UInt64

    init(patience: Duration, clock: @escaping @Sendable () -> UInt64 = monotonicNanoseconds) {
        self.patience = Self.nanoseconds(patience)
        self.clock = clock
    }

    /// `duration` in nanoseconds, at most 1000 s (so sums of them cannot overflow).
    static func nanoseconds(_ duration: Duration) -> Int {
        max(0, min(duration, .seconds(1000)).nanosecondCount)
    }

    func startThread(_ body: @escaping @Sendable () -> Void) {
        queue.withLock { $0.running += 1 }
        let context = Unmanaged.passRetained(ThreadContext(body: body, finished: { [self] in threadFinished() }))
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let context = Unmanaged<ThreadContext>.fromOpaque(raw!).takeRetainedValue()
            context.body()
            context.finished()
            return nil
        }, context.toOpaque())
        precondition(rc == 0, "cannot start a worker thread (\(rc))")
        pthread_detach(thread)
    }

    /// Queues `job`, expected to run `expected` nanoseconds (nil: unknown); false once stopping.
    func push(_ job: Job, expected: Int? = nil) -> Bool {
        let now = clock()
        let (accepted, wake) = queue.withLock { queue -> (Bool, KVSemaphore?) in
            guard !queue.stopping else { return (false, nil) }
            queue.jobs.append(Queued(job: job, expected: expected))
            if let expected { queue.queuedNanoseconds += expected } else { queue.unknownQueued += 1 }
            guard !queue.idle.isEmpty, queue.needsAnotherWorker(patience: patience, now: now) else { return (true, nil) }
            queue.waking += 1
            return (true, queue.idle.popLast())
        }
        wake?.post()
        return accepted
    }

    /// The next job for the worker that sleeps on `parker` (its previous job, if any, is
    /// over), sleeping while there is none; nil when stopping and nothing is left.
    func next(parkingOn parker: KVSemaphore) -> Job? {
        let worker = ObjectIdentifier(parker)
        var woken = false
        while true {
            let now = clock()
            let (taken, wake) = queue.withLock { queue -> (Job??, KVSemaphore?) in
                queue.short[worker] = nil
                if woken { queue.waking -= 1 }
                if let item = queue.jobs.popFirst() {
                    if let expected = item.expected {
                        queue.queuedNanoseconds -= expected
                        if expected <= patience { queue.short[worker] = Running(started: now, expected: expected) }
                    } else {
                        queue.unknownQueued -= 1
                    }
                    guard !queue.idle.isEmpty, queue.needsAnotherWorker(patience: patience, now: now) else {
                        return (.some(item.job), nil)
                    }
                    queue.waking += 1
                    return (.some(item.job), queue.idle.popLast())
                }
                if queue.stopping { return (.some(nil), nil) }
                queue.idle.append(parker)
                return (nil, nil)
            }
            wake?.post()
            if let taken { return taken }
            parker.wait()
            woken = true
        }
    }

    /// Workers asleep now.
    var sleeping: Int { queue.withLock { $0.idle.count } }

    func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (done, idle) = queue.withLock { queue -> (Bool, [KVSemaphore]) in
                queue.stopping = true
                queue.waking += queue.idle.count
                let done = queue.running == 0
                if !done { queue.stopped.append(continuation) }
                defer { queue.idle = [] }
                return (done, queue.idle)
            }
            for parker in idle { parker.post() }
            if done { continuation.resume() }
        }
    }

    private func threadFinished() {
        let waiters = queue.withLock { queue -> [CheckedContinuation<Void, Never>] in
            queue.running -= 1
            guard queue.running == 0 else { return [] }
            defer { queue.stopped = [] }
            return queue.stopped
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// The monotonic clock, in nanoseconds.
@Sendable func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

private final class ThreadContext {
    let body: () -> Void
    let finished: () -> Void
    init(body: @escaping () -> Void, finished: @escaping () -> Void) {
        self.body = body
        self.finished = finished
    }
}

public enum StatePoolError: Error {
    case shutDown
}
