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
        /// The storage backend failed: `storageFailure` says why.
        case storage
    }

    public let kind: Kind
    public let message: String
    /// Why the backend failed, when `kind` is `.storage` (nil otherwise).
    public let storageFailure: StorageFailure?

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
        self.storageFailure = kind == .storage ? StorageFailure(.other) : nil
    }

    init(_ message: String, failure: StorageFailure) {
        self.kind = .storage
        self.message = message
        self.storageFailure = failure
    }

    public var description: String { message }

    /// A storage-layer failure with the backend's own explanation; `reason` and `code` (the
    /// backend's result code or SQLSTATE) let callers tell a busy database from a full disk.
    public static func storage(_ reason: StorageFailure.Reason, _ message: String, code: String? = nil) -> KVError {
        KVError(message, failure: StorageFailure(reason, code: code))
    }

    /// A storage-layer failure of no particular reason (`StorageFailure.Reason.other`).
    public static func storage(_ message: String) -> KVError { KVError(.storage, message) }
}

/// Why a storage backend failed, as GRDB's `DatabaseError` carries SQLite's result code: a
/// reason callers can branch on (retry when busy, alert when full or corrupt) and the
/// backend's own code for messages and logs.
public struct StorageFailure: Equatable, Sendable {
    public enum Reason: Equatable, Sendable {
        /// Another writer holds a lock, or the server has no connection slot (retrying may work).
        case busy
        /// The database file or data is damaged, or the file is not a database.
        case corrupt
        /// The disk (or the database's size limit) is full.
        case full
        /// The database refuses writes (a read-only file, folder or server).
        case readOnly
        /// The database cannot be opened or reached (a missing folder, no permission, a
        /// refused TCP connection).
        case unavailable
        /// An established connection was lost, or the server stopped answering in time.
        case connectionLost
        /// A setting is wrong: the URL, a parameter, the password, a missing database.
        case badConfiguration
        /// The data was written by a newer release (its schema version is not understood).
        case schemaTooNew
        /// The store was closed before the call.
        case closed
        /// An I/O error, or anything else.
        case other
    }

    public let reason: Reason
    /// The backend's code, e.g. `SQLITE_BUSY (5)` or `SQLSTATE 53100`.
    public let code: String?

    public init(_ reason: Reason, code: String? = nil) {
        self.reason = reason
        self.code = code
    }
}
