/// Checks that a concurrent history is linearizable with respect to a `SequentialModel`:
/// that every operation can be placed at one instant between its invocation and its return
/// so that the resulting sequence is allowed by the model.
///
/// The history is split by key and each key is checked on its own (linearizability is a
/// local property: a history is linearizable iff each object's sub-history is). Per key this
/// is the Wing & Gong search with Lowe's memoization, as in Knossos and Porcupine: operations
/// are tried in real-time order, the search backtracks when an operation's return is reached
/// before it was placed, and every (set of placed operations, model state) pair is visited at
/// most once. The search is exhaustive: "linearizable" and "violation" are exact answers for
/// the model; only a search that exceeds `maxSteps` answers "inconclusive".
///
/// Thread-safety: a value type without shared state; `check` may run on any thread.
public struct LinearizabilityChecker<Model: SequentialModel>: Sendable {
    public let model: Model
    /// Search steps allowed per key before the answer is `inconclusive`.
    public var maxSteps: Int

    public init(model: Model, maxSteps: Int = 20_000_000) {
        self.model = model
        self.maxSteps = maxSteps
    }

    /// Checks every key of `history` (operations in any order).
    public func check(_ history: [HistoryOperation]) -> LinearizabilityReport {
        var byKey: [String: [HistoryOperation]] = [:]
        for operation in history { byKey[operation.key, default: []].append(operation) }
        var report = LinearizabilityReport()
        for key in byKey.keys.sorted() {
            let operations = byKey[key]!
            report.keys += 1
            report.operations += operations.count
            switch checkKey(operations) {
            case .linearizable: break
            case .violation(let violation): report.violations.append(violation)
            case .inconclusive: report.inconclusiveKeys.append(key)
            }
        }
        return report
    }

    /// A call or return of an operation, at its time.
    private struct Event { var time: UInt64; var isCall: Bool; var operation: Int }
    /// A visited configuration: which operations are placed, and the model state after them.
    private struct CacheKey: Hashable { var placed: [UInt64]; var state: Model.State }
    /// A placement to undo when backtracking: the call's node, the state before it, and which
    /// of the model's successors was taken.
    private struct Frame { var node: Int; var state: Model.State; var successor: Int }

    enum KeyResult {
        case linearizable
        case violation(LinearizabilityReport.Violation)
        case inconclusive
    }

    /// The search for one key's operations.
    func checkKey(_ operations: [HistoryOperation]) -> KeyResult {
        let count = operations.count
        if count == 0 { return .linearizable }

        // Events: a call and a return per operation, by time; at equal times calls come first
        // (touching intervals are concurrent). Node 0 is the list's head.
        var events: [Event] = []
        events.reserveCapacity(2 * count)
        for (index, operation) in operations.enumerated() {
            events.append(Event(time: operation.invoked, isCall: true, operation: index))
            events.append(Event(time: operation.returned ?? UInt64.max, isCall: false, operation: index))
        }
        events.sort { a, b in
            if a.time != b.time { return a.time < b.time }
            if a.isCall != b.isCall { return a.isCall }
            return a.operation < b.operation
        }
        let nodes = events.count + 1
        var next = [Int](repeating: -1, count: nodes)
        var previous = [Int](repeating: -1, count: nodes)
        var isCall = [Bool](repeating: false, count: nodes)
        var operationOf = [Int](repeating: -1, count: nodes)
        var returnNode = [Int](repeating: -1, count: count)
        var callNode = [Int](repeating: -1, count: count)
        for (position, event) in events.enumerated() {
            let node = position + 1
            previous[node] = node - 1
            next[node - 1] = node
            isCall[node] = event.isCall
            operationOf[node] = event.operation
            if event.isCall { callNode[event.operation] = node } else { returnNode[event.operation] = node }
        }

        func unlink(_ node: Int) {
            next[previous[node]] = next[node]
            if next[node] != -1 { previous[next[node]] = previous[node] }
        }
        func relink(_ node: Int) {
            next[previous[node]] = node
            if next[node] != -1 { previous[next[node]] = node }
        }

        var placed = [UInt64](repeating: 0, count: (count + 63) / 64)
        var cache: Set<CacheKey> = []
        var stack: [Frame] = []
        var state = model.initialState
        var node = next[0]
        var firstSuccessor = 0
        var steps = 0
        // The deepest point reached, for the report.
        var deepest = (placed: -1, blocked: 0, state: model.initialState)

        while next[0] != -1 {
            steps += 1
            if steps > maxSteps { return .inconclusive }
            if isCall[node] {
                let operation = operationOf[node]
                let successors = model.successors(of: state, applying: operations[operation])
                var moved = false
                var choice = firstSuccessor
                while choice < successors.count {
                    var newPlaced = placed
                    newPlaced[operation / 64] |= 1 << UInt64(operation % 64)
                    if cache.insert(CacheKey(placed: newPlaced, state: successors[choice])).inserted {
                        stack.append(Frame(node: node, state: state, successor: choice))
                        state = successors[choice]
                        placed = newPlaced
                        unlink(node)
                        unlink(returnNode[operation])
                        node = next[0]
                        moved = true
                        break
                    }
                    choice += 1
                }
                firstSuccessor = 0
                if !moved { node = next[node] }
            } else {
                // This operation returned before being placed: undo the last placement.
                if stack.count > deepest.placed {
                    deepest = (stack.count, operationOf[node], state)
                }
                guard let frame = stack.popLast() else {
                    return .violation(violation(operations, deepest))
                }
                let operation = operationOf[frame.node]
                state = frame.state
                placed[operation / 64] &= ~(1 << UInt64(operation % 64))
                relink(returnNode[operation])
                relink(frame.node)
                node = frame.node
                firstSuccessor = frame.successor + 1
            }
        }
        return .linearizable
    }

    private func violation(_ operations: [HistoryOperation], _ deepest: (placed: Int, blocked: Int, state: Model.State)) -> LinearizabilityReport.Violation {
        let blocked = operations[deepest.blocked]
        let end = blocked.returned ?? UInt64.max
        let concurrent = operations.filter { $0 != blocked && $0.invoked <= end && ($0.returned ?? UInt64.max) >= blocked.invoked }
        return LinearizabilityReport.Violation(
            key: blocked.key, operations: operations.count, placed: deepest.placed,
            blocked: blocked, stateBefore: model.describe(deepest.state),
            concurrent: Array(concurrent.sorted { $0.invoked < $1.invoked }.prefix(12)))
    }
}
