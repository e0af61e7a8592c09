#if !hasFeature(Embedded)
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parks one thread until another posts: the project's one blocking-wait primitive, beside
/// `Synchronization.Mutex` (`KVLock` inside KVCore) for mutual exclusion. A counting POSIX
/// semaphore, so a post before the wait is not lost and the woken thread goes on without
/// taking any lock again (the post orders the memory written before it).
///
/// Used where a thread must sleep until it is handed work or a result: the group commit's
/// writers, the Lua worker queue, the PostgreSQL connection pool. Not available under
/// Embedded Swift (the WASM build is single-threaded and never waits).
public final class KVSemaphore: @unchecked Sendable {
    private let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

    public init(value: UInt32 = 0) {
        sem_init(semaphore, 0, value)
    }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    /// Wakes one waiter (or lets the next `wait` pass at once).
    @inline(__always)
    public func post() {
        sem_post(semaphore)
    }

    /// Sleeps until a post.
    public func wait() {
        while sem_wait(semaphore) != 0 {}  // only EINTR interrupts it
    }
}
#endif
