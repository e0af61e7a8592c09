/// The store's limits, the same as Cloudflare Workers KV's.
public enum KVLimits {
    /// Longest key, in bytes of UTF-8.
    public static let maxKeyBytes = 512
    /// Longest namespace name, in bytes of UTF-8.
    public static let maxNamespaceBytes = 512
    /// Largest value, in bytes (25 MiB).
    public static let maxValueBytes = 26_214_400
    /// Largest metadata, in bytes of its serialised JSON.
    public static let maxMetadataBytes = 1024
    /// Largest `limit` of one `list` page, and its default.
    public static let maxListLimit = 1000
    /// Most keys in one bulk `get`.
    public static let maxBulkGetKeys = 100

    /// Most checks in one atomic commit (as Deno KV).
    public static let maxAtomicChecks = 100
    /// Most mutations (put, delete, sum) in one atomic commit (as Deno KV).
    public static let maxAtomicMutations = 1000
    /// Most bytes of keys, values and metadata one atomic commit may write (25 MiB, the
    /// largest single value).
    public static let maxAtomicBytes = 26_214_400
}
