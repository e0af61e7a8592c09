import Synchronization

/// The memory budget shared by every request body being read or handled: the total bytes
/// reserved across all connections never exceeds `limit`. A connection reserves a body's
/// declared `Content-Length` before reading it (a chunked body: each piece as it arrives) and
/// releases the reservation when the handler has answered (or the connection has gone).
///
/// Thread-safe: reservations and releases come from every event loop and from handler threads.
final class BodyBudget: Sendable {
    let limit: Int
    private let used = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Reserves `bytes`; false (nothing reserved) when that would pass the limit.
    func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        var current = used.load(ordering: .relaxed)
        while true {
            guard bytes <= limit - current else { return false }
            let (exchanged, original) = used.compareExchange(expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        used.subtract(bytes, ordering: .relaxed)
    }

    /// Bytes reserved now (for tests and diagnostics).
    var inUse: Int { used.load(ordering: .relaxed) }
}
