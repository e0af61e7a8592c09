/// An error from the KV store. `message` names the argument and the rule it broke,
/// e.g. `key exceeds 512 bytes (got 513)`; bindings prefix it with the call, e.g. `KV.put: `.
///
/// A call that throws has written nothing.
public struct KVError: Error, Equatable, CustomStringConvertible {
    /// What went wrong, for callers that branch on it.
    public enum Kind: Equatable, Sendable {
        case invalidNamespace
        case invalidKey
        case invalidValue
        case invalidMetadata
        case invalidExpiration
        case invalidListOptions
        case invalidCursor
        case tooManyKeys
        /// An atomic commit broke a limit (checks, mutations, bytes) or was given a bad version.
        case invalidAtomic
        /// A counter (`sum`, `increment`) met a value that is not a decimal integer, or overflowed.
        case invalidCounter
        /// The storage backend failed (I/O, a corrupt file, a lost connection).
        case storage
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// A storage-layer failure with the backend's own explanation.
    public static func storage(_ message: String) -> KVError { KVError(.storage, message) }
}
