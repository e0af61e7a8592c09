/// A key of a KV store as a register: a value or absent, with a version that changes on every
/// write. Reads, writes, deletes, compare-and-set on the version and increments (the value as
/// a decimal integer, absent = 0) all apply to it.
///
/// Versions are opaque. A write whose client did not see the version it created leaves the
/// version *unknown*; the first operation that observes a version in that state binds it. A
/// compare-and-set against an unknown version may have matched or not (both are explored).
/// The model does not check that versions are unique across writes, so a store that reused a
/// version would not be caught by this model; every other wrong answer is.
public struct RegisterModel: SequentialModel {
    public enum Version: Hashable, Sendable {
        case absent
        case unknown
        case known(String)
    }

    public struct State: Hashable, Sendable {
        public var value: String?
        public var version: Version

        public init(value: String?, version: Version) {
            self.value = value
            self.version = version
        }
    }

    public let initialState: State

    /// A register that starts absent, or holding `initialValue` with an unknown version.
    public init(initialValue: String? = nil) {
        initialState = State(value: initialValue, version: initialValue == nil ? .absent : .unknown)
    }

    public func successors(of state: State, applying operation: HistoryOperation) -> [State] {
        let completed = operation.returned != nil
        switch operation.action {
        case .read(let value, let version):
            guard completed else { return [state] }
            guard state.value == value else { return [] }
            guard let version else { return [state] }
            switch state.version {
            case .absent: return []
            case .known(let current): return current == version ? [state] : []
            case .unknown: return [State(value: state.value, version: .known(version))]
            }

        case .write(let value, let version):
            return [State(value: value, version: completed ? version.map(Version.known) ?? .unknown : .unknown)]

        case .delete:
            return [State(value: nil, version: .absent)]

        case .compareAndSet(let expected, let value, let succeeded, let version):
            let written = State(value: value, version: value == nil ? .absent : (completed ? version.map(Version.known) ?? .unknown : .unknown))
            let matches: Bool?  // nil: cannot tell (unknown version)
            switch (expected, state.version) {
            case (nil, _): matches = state.value == nil
            case (.some, .absent): matches = false
            case (.some(let wanted), .known(let current)): matches = wanted == current
            case (.some, .unknown): matches = nil
            }
            if !completed {
                switch matches {
                case true?: return [written]
                case false?: return [state]
                case nil: return [written, state]
                }
            }
            if succeeded {
                guard matches != false else { return [] }
                return [written]
            } else {
                guard matches != true else { return [] }
                return [state]
            }

        case .increment(let by, let result):
            let current: Int64
            if let value = state.value {
                guard let number = Int64(value) else { return [] }
                current = number
            } else {
                current = 0
            }
            let (sum, overflow) = current.addingReportingOverflow(by)
            guard !overflow else { return [] }
            if completed && sum != result { return [] }
            return [State(value: String(sum), version: .unknown)]
        }
    }

    public func describe(_ state: State) -> String {
        let version: String
        switch state.version {
        case .absent: version = ""
        case .unknown: version = " (version not observed)"
        case .known(let v): version = " (version \(v))"
        }
        return HistoryOperation.quote(state.value) + version
    }
}
