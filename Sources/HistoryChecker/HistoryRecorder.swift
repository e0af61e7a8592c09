import Synchronization

/// Collects the operations of concurrent clients in one process, with times from one
/// monotonic clock. Thread-safe: `begin` and `end` may be called from any thread.
///
/// Usage: `let t = recorder.now()` before sending a request, then
/// `recorder.record(client:key:invoked:returned:action:)` with `returned: recorder.now()` when
/// the answer came, or `returned: nil` when the outcome is unknown (timeout, lost connection).
public final class HistoryRecorder: Sendable {
    private let start = ContinuousClock.now
    private let operations = Mutex<[HistoryOperation]>([])

    public init() {}

    /// Nanoseconds since the recorder was made.
    public func now() -> UInt64 {
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }

    public func record(client: Int, key: String, invoked: UInt64, returned: UInt64?, action: HistoryOperation.Action) {
        let operation = HistoryOperation(client: client, key: key, invoked: invoked, returned: returned, action: action)
        operations.withLock { $0.append(operation) }
    }

    /// Every operation recorded so far.
    public var history: [HistoryOperation] { operations.withLock { $0 } }
}
