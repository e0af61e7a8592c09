/// What `LinearizabilityChecker.check` found: how much it checked, and every key whose
/// history is not linearizable (with the operation the search could not place) or that the
/// search could not decide within its step budget.
public struct LinearizabilityReport: Sendable, CustomStringConvertible {
    public struct Violation: Sendable, CustomStringConvertible {
        public var key: String
        /// Operations on this key.
        public var operations: Int
        /// How many operations the deepest attempt managed to place before getting stuck.
        public var placed: Int
        /// The operation that returned before any order could place it.
        public var blocked: HistoryOperation
        /// The model state just before it, in the deepest attempt.
        public var stateBefore: String
        /// Operations overlapping it in time (at most 12), to read the failure.
        public var concurrent: [HistoryOperation]

        public var description: String {
            var text = "key \(HistoryOperation.quote(key)): not linearizable; \(placed) of \(operations) operations placed, "
            text += "then \(blocked) cannot follow state \(stateBefore)"
            if !concurrent.isEmpty { text += "; overlapping: " + concurrent.map(\.description).joined(separator: "; ") }
            return text
        }
    }

    public var keys = 0
    public var operations = 0
    public var violations: [Violation] = []
    public var inconclusiveKeys: [String] = []

    public init() {}

    /// True when every key was decided and none is a violation.
    public var isLinearizable: Bool { violations.isEmpty && inconclusiveKeys.isEmpty }

    public var description: String {
        if isLinearizable { return "linearizable: \(operations) operations on \(keys) keys" }
        var lines = violations.map(\.description)
        if !inconclusiveKeys.isEmpty { lines.append("undecided within the step budget: \(inconclusiveKeys.joined(separator: ", "))") }
        return lines.joined(separator: "\n")
    }
}
