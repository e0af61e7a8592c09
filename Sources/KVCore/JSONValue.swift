/// A JSON document, the store's one JSON codec: metadata is checked with it, and the Lua
/// runtime's `json` global and the CLI encode and decode through it.
///
/// Integers that fit in 64 bits stay integers; other numbers are doubles. Objects keep
/// their members in order.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.integer(x), .integer(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        case let (.string(x), .string(y)): return Array(x.utf8) == Array(y.utf8)
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            guard x.count == y.count else { return false }
            for i in 0..<x.count where Array(x[i].key.utf8) != Array(y[i].key.utf8) || x[i].value != y[i].value {
                return false
            }
            return true
        default: return false
        }
    }

    /// The member `key` of an object, or nil.
    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        for member in members where member.key.utf8.elementsEqual(key.utf8) { return member.value }
        return nil
    }
}

/// A JSON text that could not be parsed or a value that cannot be written as JSON.
public struct JSONError: Error, Equatable {
    /// What is wrong, with the byte position for parse errors, e.g. `unexpected character 'x' at byte 7`.
    public let message: String
    /// Zero-based byte offset of the problem in the input, for parse errors.
    public let offset: Int?

    public init(_ message: String, offset: Int? = nil) {
        self.message = message
        self.offset = offset
    }
}
