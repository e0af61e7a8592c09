import KVCore
import NIOCore
import PostgresNIO

/// Entries as the column arrays the batch statements `unnest` (key, value, expiration and
/// metadata, with a flag for each optional one), bound in that order.
struct PostgresEntryColumns {
    private var keys: [ByteBuffer] = []
    private var values: [ByteBuffer] = []
    private var expirations: [Int64] = []
    private var hasExpiration: [Bool] = []
    private var metadata: [ByteBuffer] = []
    private var hasMetadata: [Bool] = []

    var isEmpty: Bool { keys.isEmpty }

    mutating func append(key: [UInt8], entry: StoredEntry) {
        keys.append(ByteBuffer(bytes: key))
        values.append(ByteBuffer(bytes: entry.value))
        expirations.append(entry.expiration ?? 0)
        hasExpiration.append(entry.expiration != nil)
        metadata.append(ByteBuffer(bytes: entry.metadata ?? []))
        hasMetadata.append(entry.metadata != nil)
    }

    /// Appends the six arrays to `binds`.
    func bind(to binds: inout PostgresBindings) {
        binds.append(keys)
        binds.append(values)
        binds.append(expirations)
        binds.append(hasExpiration)
        binds.append(metadata)
        binds.append(hasMetadata)
    }
}
