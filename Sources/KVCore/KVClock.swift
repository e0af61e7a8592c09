/// The store's source of the current time, in whole Unix seconds.
/// Injected so that expiration can be tested without sleeping.
public protocol KVClock: AnyObject {
    /// Seconds since 1970-01-01T00:00:00Z.
    func nowSeconds() -> Int64
}

/// A clock that only moves when told to: for tests and deterministic runs.
public final class ManualClock: KVClock {
    private var seconds: Int64
    private let lock = KVLock()

    public init(seconds: Int64) { self.seconds = seconds }

    public func nowSeconds() -> Int64 { lock.withLock { seconds } }

    /// Moves the clock forward by `delta` seconds.
    public func advance(by delta: Int64) { lock.withLock { seconds += delta } }

    /// Sets the clock to `seconds`.
    public func set(_ newSeconds: Int64) { lock.withLock { seconds = newSeconds } }
}

#if !hasFeature(Embedded)
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The machine's real-time clock.
public final class SystemClock: KVClock, @unchecked Sendable {
    public init() {}
    public func nowSeconds() -> Int64 { Int64(time(nil)) }
}
#endif
