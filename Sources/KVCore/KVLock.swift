#if hasFeature(Embedded)
/// Single-threaded builds (WASM) need no lock: this one does nothing. `Synchronization.Mutex`
/// is not available under Embedded Swift for wasm32, which is why KVCore keeps this one
/// small lock type instead of using `Mutex` directly.
public final class KVLock: @unchecked Sendable {
    public init() {}
    @inline(__always)
    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T { try body() }
}
#else
import Synchronization

/// A mutual-exclusion lock for KVCore's shared state: `Synchronization.Mutex` behind the one
/// API KVCore's code can also use under Embedded Swift, where `Mutex` does not exist. The one
/// exception to the project's lock vocabulary: every other module uses `Mutex` directly for
/// mutual exclusion (and `KVSemaphore` to park a thread).
public final class KVLock: Sendable {
    private let mutex = Mutex(())

    public init() {}

    @inline(__always)
    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        try mutex.withLock { _ throws(E) -> T in try body() }
    }
}
#endif
