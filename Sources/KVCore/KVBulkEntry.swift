/// One entry of the JSON array format of `wrangler kv bulk put` (and of the REST API's bulk
/// write): `{"key", "value", "expiration", "expiration_ttl", "metadata", "base64"}`.
/// A value that is not valid UTF-8 is written as base64 with `"base64": true`.
///
/// Shared by `luat kv import`/`export` and the KV REST API, so both read and write entries
/// with the same rules (`KVRules`) and messages.
public enum KVBulkEntry {
    /// The JSON object for `key` and its stored `entry`, as `export` and `get --json` write it.
    public static func json(key: String, entry: KVEntry) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("key", .string(key))]
        if UTF8Validation.isValid(entry.value) {
            members.append(("value", .string(String(decoding: entry.value, as: UTF8.self))))
        } else {
            members.append(("value", .string(Base64.encode(entry.value))))
            members.append(("base64", .bool(true)))
        }
        if let expiration = entry.expiration { members.append(("expiration", .integer(expiration))) }
        if let metadata = entry.metadata { members.append(("metadata", metadataJSON(metadata))) }
        return .object(members)
    }

    /// Stored metadata text as a JSON value to embed (it was validated as JSON when put).
    public static func metadataJSON(_ text: String) -> JSONValue {
        (try? JSONValue.parse(text)) ?? .string(text)
    }

    /// What a bulk write does with one entry.
    public enum Decoded: Sendable {
        /// Store this.
        case put(key: [UInt8], value: [UInt8], options: PutOptions)
        /// The entry's absolute `expiration` is at or before now: it would be invisible at
        /// once, so it is left out (counted and reported) rather than failing the write.
        case alreadyExpired
    }

    /// Reads and validates one element of a bulk array against the store's rules
    /// (`KVRules`, the same messages as the Lua API), as of `now`. Field problems name the
    /// field: `"value" is missing`, `"base64" must be true or false`.
    public static func decode(_ element: JSONValue, now: Int64) throws(KVError) -> Decoded {
        guard case .object = element else { throw KVError(.invalidValue, "expected an object with \"key\" and \"value\"") }
        let key = Array(try string(element, "key", kind: .invalidKey).utf8)
        var value = Array(try string(element, "value", kind: .invalidValue).utf8)
        switch element["base64"] {
        case nil, .null?, .bool(false)?: break
        case .bool(true)?:
            guard let bytes = Base64.decode(String(decoding: value, as: UTF8.self)) else {
                throw KVError(.invalidValue, "\"value\" is not valid base64")
            }
            value = bytes
        default: throw KVError(.invalidValue, "\"base64\" must be true or false")
        }
        let expiration = try seconds(element, "expiration")
        let ttl = try seconds(element, "expiration_ttl")
        var metadata: String? = nil
        if let meta = element["metadata"], meta != .null {
            do {
                metadata = try meta.serializedString()
            } catch {
                throw KVError(.invalidMetadata, "metadata cannot be written as JSON: \(error.message)")
            }
        }

        try KVRules.validateKey(key)
        try KVRules.validateValue(byteCount: value.count)
        if let metadata { try KVRules.validateMetadata(Array(metadata.utf8)) }
        if let ttl {
            try KVRules.validatePositiveSeconds(ttl, option: "expiration_ttl")
        } else if let expiration {
            try KVRules.validatePositiveSeconds(expiration, option: "expiration")
            if expiration <= now { return .alreadyExpired }
        }
        _ = try KVRules.resolveExpiration(expiration: expiration, expirationTtl: ttl, now: now)
        return .put(key: key, value: value, options: PutOptions(expiration: expiration, expirationTtl: ttl, metadata: metadata))
    }

    private static func string(_ object: JSONValue, _ field: String, kind: KVError.Kind) throws(KVError) -> String {
        switch object[field] {
        case .string(let text)?: return text
        case nil: throw KVError(kind, "\"\(field)\" is missing")
        default: throw KVError(kind, "\"\(field)\" must be a string")
        }
    }

    /// A whole number of seconds, or nil when absent or null.
    private static func seconds(_ object: JSONValue, _ field: String) throws(KVError) -> Int64? {
        switch object[field] {
        case nil, .null?: return nil
        case .integer(let n)?: return n
        case .double(let d)?: return try KVRules.seconds(fromNumber: d, option: field)
        default: throw KVError(.invalidExpiration, "\"\(field)\" must be a number of seconds")
        }
    }
}
