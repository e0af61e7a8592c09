import KVCore

/// One entry of the JSON array format of `wrangler kv bulk put`:
/// `{"key", "value", "expiration", "expiration_ttl", "metadata", "base64"}`.
/// A value that is not valid UTF-8 is written as base64 with `"base64": true`.
enum BulkEntry {
    /// The JSON object for `key` and its stored `entry`, as `export` and `get --json` write it.
    static func json(key: String, entry: KVEntry) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("key", .string(key))]
        if let text = String(validating: entry.value, as: UTF8.self) {
            members.append(("value", .string(text)))
        } else {
            members.append(("value", .string(Base64.encode(entry.value))))
            members.append(("base64", .bool(true)))
        }
        if let expiration = entry.expiration { members.append(("expiration", .integer(expiration))) }
        if let metadata = entry.metadata { members.append(("metadata", metadataJSON(metadata))) }
        return .object(members)
    }

    /// Stored metadata text as a JSON value to embed (it was validated as JSON when put).
    static func metadataJSON(_ text: String) -> JSONValue {
        (try? JSONValue.parse(text)) ?? .string(text)
    }

    /// What an import does with one entry.
    enum Decoded {
        /// Store this.
        case put(key: [UInt8], value: [UInt8], options: PutOptions)
        /// The entry's absolute `expiration` is at or before now: it would be invisible at
        /// once, so it is left out (counted and reported) rather than failing the import.
        case alreadyExpired
    }

    /// Reads and validates one element of an import file against the store's rules
    /// (`KVRules`, the same messages as the Lua API), as of `now`.
    static func decode(_ element: JSONValue, now: Int64) throws -> Decoded {
        guard case .object = element else { throw CommandFailure("expected an object with \"key\" and \"value\"") }
        let key = Array(try string(element, "key").utf8)
        var value = Array(try string(element, "value").utf8)
        switch element["base64"] {
        case nil, .null?, .bool(false)?: break
        case .bool(true)?:
            guard let bytes = Base64.decode(String(decoding: value, as: UTF8.self)) else {
                throw CommandFailure("\"value\" is not valid base64")
            }
            value = bytes
        default: throw CommandFailure("\"base64\" must be true or false")
        }
        let expiration = try seconds(element, "expiration")
        let ttl = try seconds(element, "expiration_ttl")
        var metadata: String? = nil
        if let meta = element["metadata"], meta != .null {
            metadata = try meta.serializedString()
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

    private static func string(_ object: JSONValue, _ field: String) throws -> String {
        switch object[field] {
        case .string(let text)?: return text
        case nil: throw CommandFailure("\"\(field)\" is missing")
        default: throw CommandFailure("\"\(field)\" must be a string")
        }
    }

    /// A whole number of seconds, or nil when absent or null.
    private static func seconds(_ object: JSONValue, _ field: String) throws -> Int64? {
        switch object[field] {
        case nil, .null?: return nil
        case .integer(let n)?: return n
        case .double(let d)?: return try KVRules.seconds(fromNumber: d, option: field)
        default: throw CommandFailure("\"\(field)\" must be a number of seconds")
        }
    }
}
