/// One operation of a concurrent history, as a client saw it: when it was invoked, when it
/// returned (or that it never did), which key it touched and what it observed.
///
/// Times are in one clock shared by every client of the history (nanoseconds of a monotonic
/// clock, e.g. `HistoryRecorder`'s); only their order matters. Operation `a` precedes `b` in
/// real time exactly when `a.returned < b.invoked`; equal times count as concurrent.
///
/// An operation whose outcome is unknown (the client timed out, lost its connection or was
/// killed) has `returned == nil`: the checker may place it anywhere after its invocation or
/// treat it as never having taken effect, and ignores what it recorded as its result.
public struct HistoryOperation: Sendable, Hashable, CustomStringConvertible {
    /// What the operation did and, for a completed one, what it returned.
    public enum Action: Sendable, Hashable {
        /// A read that saw `value` (`nil`: absent) and, when the client observed it, `version`.
        case read(value: String?, version: String? = nil)
        /// A write of `value`; `version` is the version it created, when the client saw it.
        case write(value: String, version: String? = nil)
        /// A delete (absent afterwards, whether or not the key existed).
        case delete
        /// Compare-and-set on the version: writes `value` (`nil`: deletes) only when the key's
        /// current version is `expected` (`nil`: only when the key is absent). `succeeded` is
        /// what the store answered; `version` the new version when it succeeded and was returned.
        case compareAndSet(expected: String?, value: String?, succeeded: Bool, version: String? = nil)
        /// Adds `by` to the key's integer value (absent counts as 0) and returns the new value.
        case increment(by: Int64, result: Int64)
    }

    public var client: Int
    public var key: String
    public var invoked: UInt64
    /// `nil`: the outcome is unknown (see the type's comment).
    public var returned: UInt64?
    public var action: Action

    public init(client: Int, key: String, invoked: UInt64, returned: UInt64?, action: Action) {
        self.client = client
        self.key = key
        self.invoked = invoked
        self.returned = returned
        self.action = action
    }

    public var description: String {
        let span = "[\(invoked), \(returned.map(String.init) ?? "pending")]"
        return "client \(client) \(Self.describe(action)) on \(Self.quote(key)) \(span)"
    }

    static func quote(_ value: String?) -> String {
        guard let value else { return "absent" }
        let shown = value.utf8.count > 40 ? String(value.prefix(40)) + "…" : value
        return "\"\(shown)\""
    }

    static func describe(_ action: Action) -> String {
        switch action {
        case .read(let value, let version):
            return "read → \(quote(value))" + (version.map { " (version \($0))" } ?? "")
        case .write(let value, let version):
            return "write \(quote(value))" + (version.map { " → version \($0)" } ?? "")
        case .delete:
            return "delete"
        case .compareAndSet(let expected, let value, let succeeded, _):
            return "compare-and-set \(expected.map { "version \($0)" } ?? "absent") → \(quote(value)): \(succeeded ? "ok" : "refused")"
        case .increment(let by, let result):
            return "increment by \(by) → \(result)"
        }
    }
}
