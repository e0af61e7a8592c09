import KVCore

extension ListedKey {
    /// The key as the Lua `list` result shows it: `name`, and `expiration` and `metadata`
    /// when present.
    var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("name", .string(name))]
        if let expiration { members.append(("expiration", .integer(expiration))) }
        if let metadata { members.append(("metadata", KVBulkEntry.metadataJSON(metadata))) }
        return .object(members)
    }
}
