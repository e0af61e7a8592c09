/// The sequential specification a history is checked against: a state and the states each
/// operation may lead to from it. A model may be nondeterministic (several successors, e.g.
/// for an operation whose outcome is unknown); no successor means the operation, with what it
/// returned, is impossible in that state.
///
/// `step` sees only operations on one key (the checker splits a history by key, which is
/// sound because linearizability is local) and must be a pure function.
public protocol SequentialModel: Sendable {
    associatedtype State: Hashable & Sendable
    /// The state of a key before the history starts.
    var initialState: State { get }
    /// Every state `operation` may lead to from `state`; empty when it cannot happen there.
    /// For an operation with `returned == nil`, what it recorded as its result is ignored.
    func successors(of state: State, applying operation: HistoryOperation) -> [State]
    /// A short description of a state for a violation report.
    func describe(_ state: State) -> String
}
