/// A Lua value copied out of (or into) a Lua state, for Swift code that talks to Lua:
/// arguments built in Swift, results read back.
///
/// Strings are bytes (Lua strings are binary-safe). Functions, userdata and threads cannot
/// be copied; reading one gives `.function` or `.other(typeName)` so callers can still see
/// that a key holds, say, an action function.
public enum LuaValue: Equatable, Sendable {
    case `nil`
    case boolean(Bool)
    /// A Lua 5.4 integer (64-bit).
    case integer(Int64)
    /// A Lua float.
    case number(Double)
    case string([UInt8])
    case table(LuaTable)
    /// The `json.null` sentinel (JSON `null`).
    case jsonNull
    /// A Lua function (read only; call it through `LuaEnvironment.call`).
    case function
    /// Userdata or a thread, by Lua type name (read only).
    case other(String)

    /// A string value from Swift text.
    public static func string(_ text: String) -> LuaValue { .string(Array(text.utf8)) }

    /// The Lua type name: `nil`, `boolean`, `number`, `string`, `table`, `function`, ...
    public var typeName: String {
        switch self {
        case .nil: return "nil"
        case .boolean: return "boolean"
        case .integer, .number: return "number"
        case .string: return "string"
        case .table: return "table"
        case .jsonNull: return "userdata"
        case .function: return "function"
        case .other(let name): return name
        }
    }

    /// The string's bytes decoded as UTF-8 text, or nil for other types.
    public var stringValue: String? {
        if case .string(let bytes) = self { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }

    public var tableValue: LuaTable? {
        if case .table(let t) = self { return t }
        return nil
    }

    /// `value["key"]` for tables, `.nil` otherwise.
    public subscript(key: String) -> LuaValue {
        tableValue?[key] ?? .nil
    }
}

/// A Lua table's contents: `array` holds `t[1]...t[n]` for the longest run of integer keys
/// from 1 without a gap; `hash` holds every other entry, sorted (booleans, numbers, then
/// strings by bytes) so that reading the same table twice gives the same order.
public struct LuaTable: Equatable, Sendable {
    public var array: [LuaValue]
    public var hash: [(key: LuaValue, value: LuaValue)]
    /// The table's `__jsontype` metatable field (`"array"` or `"object"`), if any: how
    /// `json.encode` writes it when the shape alone does not say (an empty table).
    public var jsonType: JSONShape?

    public enum JSONShape: Sendable, Equatable { case array, object }

    public init(array: [LuaValue] = [], hash: [(key: LuaValue, value: LuaValue)] = [], jsonType: JSONShape? = nil) {
        self.array = array
        self.hash = hash
        self.jsonType = jsonType
    }

    /// A table with string keys, e.g. `LuaTable(["status": .integer(200)])`.
    public init(_ fields: [(String, LuaValue)]) {
        self.init(array: [], hash: fields.map { (key: LuaValue.string($0.0), value: $0.1) })
    }

    public var isEmpty: Bool { array.isEmpty && hash.isEmpty }

    /// The value at string key `key`, or `.nil`.
    public subscript(key: String) -> LuaValue {
        get {
            let wanted = Array(key.utf8)
            for entry in hash {
                if case .string(let k) = entry.key, k == wanted { return entry.value }
            }
            return .nil
        }
        set {
            let wanted = Array(key.utf8)
            if let i = hash.firstIndex(where: { if case .string(let k) = $0.key { return k == wanted } else { return false } }) {
                if case .nil = newValue { hash.remove(at: i) } else { hash[i].value = newValue }
            } else if newValue != .nil {
                hash.append((key: .string(wanted), value: newValue))
            }
        }
    }

    /// The value at integer key `index` (1-based, like Lua), or `.nil`.
    public subscript(index: Int) -> LuaValue {
        if index >= 1 && index <= array.count { return array[index - 1] }
        for entry in hash {
            if case .integer(let k) = entry.key, k == Int64(index) { return entry.value }
        }
        return .nil
    }

    public static func == (a: LuaTable, b: LuaTable) -> Bool {
        guard a.array == b.array, a.hash.count == b.hash.count else { return false }
        for entry in a.hash where !b.hash.contains(where: { $0.key == entry.key && $0.value == entry.value }) {
            return false
        }
        return true
    }
}

extension LuaValue {
    /// Key order of `LuaTable.hash`: booleans, then numbers, then strings by bytes.
    static func keyPrecedes(_ a: LuaValue, _ b: LuaValue) -> Bool {
        func rank(_ v: LuaValue) -> Int {
            switch v {
            case .boolean: return 0
            case .integer, .number: return 1
            case .string: return 2
            default: return 3
            }
        }
        let ra = rank(a), rb = rank(b)
        if ra != rb { return ra < rb }
        switch (a, b) {
        case let (.boolean(x), .boolean(y)): return !x && y
        case let (.integer(x), .integer(y)): return x < y
        case let (.integer(x), .number(y)): return Double(x) < y
        case let (.number(x), .integer(y)): return x < Double(y)
        case let (.number(x), .number(y)): return x < y
        case let (.string(x), .string(y)): return x.lexicographicallyPrecedes(y)
        default: return false
        }
    }
}
