#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A fixed number of worker threads, each owning one script state, fed from one queue.
/// A request is queued as a job; the first free worker runs it on its own state and hands
/// the result back. States are made lazily, on their worker thread; `invalidate()` makes
/// every state be made afresh at its next use (used by `--watch`).
///
/// Under load the queue holds the waiting requests, so a worker that finishes a job takes
/// the next one without sleeping.
public final class StatePool<State>: Sendable {
    public let size: Int
    private let queue: JobQueue<Job>
    private let shared: Shared

    /// What the workers share with the pool.
    private final class Shared: Sendable {
        /// Dropped at shutdown, with everything it holds (the KV store, for instance).
        let make: Mutex<(@Sendable () throws -> State)?>
        let generation = Atomic<Int>(0)
        init(make: @escaping @Sendable () throws -> State) { self.make = Mutex(make) }
    }

    /// `retire` is asked after each job on the worker's thread: true drops the worker's state
    /// (closing it there) so that the next job gets a fresh one.
    public init(size: Int, make: @escaping @Sendable () throws -> State, retire: @escaping @Sendable (State) -> Bool = { _ in false }) {
        precondition(size > 0)
        self.size = size
        let shared = Shared(make: make)
        self.shared = shared
        self.queue = JobQueue()
        // The workers hold what they need, not the pool: a pool dropped without shutdown()
        // leaves its workers waiting, as NIOThreadPool's threads would.
        for _ in 0..<size {
            let queue = self.queue
            queue.startThread {
                var state: State?
                var madeAt = 0
                while let job = queue.next() {
                    switch job {
                    case .plain(let body):
                        body()
                    case .withState(let body):
                        body { () throws -> State in
                            let current = shared.generation.load(ordering: .acquiring)
                            if let state, madeAt == current { return state }
                            state = nil
                            guard let makeState = shared.make.withLock({ $0 }) else { throw StatePoolError.shutDown }
                            let made = try makeState()
                            state = made
                            madeAt = current
                            return made
                        }
                        if let current = state, retire(current) { state = nil }
                    }
                }
                // Closing the state on the thread that used it.
                state = nil
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
    /// callers that must not block or suspend (the HTTP core's event loops). False, and `body`
    /// never runs, once the pool is shutting down.
    public func submit(_ body: @escaping @Sendable (() throws -> State) -> Void) -> Bool {
        queue.push(.withState(body))
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

    /// Runs the jobs already queued, stops the threads (each drops its state) and drops the
    /// function that makes states, so what they share (the KV store) is released now, not
    /// whenever this pool is.
    public func shutdown() async throws {
        await queue.stop()
        shared.make.withLock { $0 = nil }
    }

    /// One queued piece of work. `withState` gets a function that returns the worker's state
    /// (making it first when needed).
    enum Job {
        case plain(() -> Void)
        case withState((() throws -> State) -> Void)
    }
}

/// The jobs, guarded by a pthread mutex with a condition variable for idle workers.
final class JobQueue<Job>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    // Guarded by `mutex`.
    private var jobs: [Job?] = []
    private var head = 0
    private var idle = 0
    private var stopping = false
    private var running = 0
    private var stopped: [CheckedContinuation<Void, Never>] = []

    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func startThread(_ body: @escaping () -> Void) {
        pthread_mutex_lock(mutex)
        running += 1
        pthread_mutex_unlock(mutex)
        let context = Unmanaged.passRetained(ThreadContext(body: body, finished: threadFinished))
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

    /// Queues `job`; false once stopping.
    func push(_ job: Job) -> Bool {
        pthread_mutex_lock(mutex)
        guard !stopping else {
            pthread_mutex_unlock(mutex)
            return false
        }
        jobs.append(job)
        let wake = idle > 0
        pthread_mutex_unlock(mutex)
        if wake { pthread_cond_signal(condition) }
        return true
    }

    /// The next job, waiting for one; nil when stopping and nothing is left.
    func next() -> Job? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while head == jobs.count {
            if stopping { return nil }
            idle += 1
            pthread_cond_wait(condition, mutex)
            idle -= 1
        }
        let job = jobs[head].take()
        head += 1
        if head == jobs.count {
            jobs.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
        return job
    }

    func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            pthread_mutex_lock(mutex)
            stopping = true
            let done = running == 0
            if !done { stopped.append(continuation) }
            pthread_mutex_unlock(mutex)
            pthread_cond_broadcast(condition)
            if done { continuation.resume() }
        }
    }

    func threadFinished() {
        pthread_mutex_lock(mutex)
        running -= 1
        let waiters = running == 0 ? stopped : []
        if running == 0 { stopped = [] }
        pthread_mutex_unlock(mutex)
        for waiter in waiters { waiter.resume() }
    }
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
