import NIOPosix
import Synchronization

/// A fixed number of script states, each used by one request at a time, with a thread pool
/// of the same size to run them on. A request borrows a state (waiting if all are busy),
/// runs on a pool thread, and gives the state back. States are made lazily, on the pool
/// thread; `invalidate()` makes every state be made afresh at its next use (used by `--watch`).
public final class StatePool<State>: Sendable {
    public let size: Int
    private let threads: NIOThreadPool
    /// Dropped at shutdown, with everything it holds (the KV store, for instance).
    private let make: Mutex<(@Sendable () throws -> State)?>
    private let shared: Mutex<Shared>

    /// A state slot; only the borrower touches `state`.
    private final class Slot: @unchecked Sendable {
        var state: State?
        var generation = 0
    }

    private struct Shared: ~Copyable {
        var free: [Slot]
        var waiters: [CheckedContinuation<Slot, Never>] = []
        var generation = 0
    }

    public init(size: Int, make: @escaping @Sendable () throws -> State) {
        precondition(size > 0)
        self.size = size
        self.make = Mutex(make)
        self.threads = NIOThreadPool(numberOfThreads: size)
        self.threads.start()
        self.shared = Mutex(Shared(free: (0..<size).map { _ in Slot() }))
    }

    /// Runs `body` with a state on a pool thread.
    public func withState<R: Sendable>(_ body: @escaping @Sendable (State) throws -> R) async throws -> R {
        let (slot, generation) = await acquire()
        defer { release(slot) }
        guard let make = self.make.withLock({ $0 }) else { throw StatePoolError.shutDown }
        return try await threads.runIfActive {
            if slot.state == nil || slot.generation != generation {
                slot.state = nil
                slot.state = try make()
                slot.generation = generation
            }
            return try body(slot.state!)
        }
    }

    /// Runs `body` on a pool thread without a state (file-system work, for instance).
    public func run<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async throws -> R {
        try await threads.runIfActive(body)
    }

    /// Every state is replaced at its next use.
    public func invalidate() {
        shared.withLock { $0.generation += 1 }
    }

    /// Stops the threads and drops every state (closing them) and the function that makes
    /// them, so what they share (the KV store) is released now, not whenever this pool is.
    public func shutdown() async throws {
        try await threads.shutdownGracefully()
        let slots = shared.withLock { $0.free }
        for slot in slots { slot.state = nil }
        make.withLock { $0 = nil }
    }

    private func acquire() async -> (Slot, Int) {
        let taken: (Slot?, Int) = shared.withLock { shared in (shared.free.popLast(), shared.generation) }
        if let slot = taken.0 { return (slot, taken.1) }
        let slot = await withCheckedContinuation { (continuation: CheckedContinuation<Slot, Never>) in
            let immediate: Slot? = shared.withLock { shared in
                if let slot = shared.free.popLast() { return slot }
                shared.waiters.append(continuation)
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
        return (slot, shared.withLock { $0.generation })
    }

    private func release(_ slot: Slot) {
        let waiter: CheckedContinuation<Slot, Never>? = shared.withLock { shared in
            if !shared.waiters.isEmpty { return shared.waiters.removeFirst() }
            shared.free.append(slot)
            return nil
        }
        waiter?.resume(returning: slot)
    }
}

public enum StatePoolError: Error {
    case shutDown
}
