/// A key used only as a counter: increments return the new total, reads see the total as a
/// decimal integer (absent reads as 0 only when nothing was added yet). Cheaper than
/// `RegisterModel` for long increment-only histories, and stricter: a write or delete on a
/// counter key is impossible in this model.
public struct CounterModel: SequentialModel {
    public let initialState: Int64

    public init(initialValue: Int64 = 0) {
        initialState = initialValue
    }

    public func successors(of state: Int64, applying operation: HistoryOperation) -> [Int64] {
        let completed = operation.returned != nil
        switch operation.action {
        case .increment(let by, let result):
            let (sum, overflow) = state.addingReportingOverflow(by)
            guard !overflow, !completed || sum == result else { return [] }
            return [sum]
        case .read(let value, _):
            guard completed else { return [state] }
            if let value { return Int64(value) == state ? [state] : [] }
            return state == initialState && initialState == 0 ? [state] : []
        case .write, .delete, .compareAndSet:
            return []
        }
    }

    public func describe(_ state: Int64) -> String { String(state) }
}
