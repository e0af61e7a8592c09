import CLuaShim
import KVCore

/// The rules that turn Lua values into JSON and back, over KVCore's one codec (`JSONValue`).
///
/// Encoding:
/// - `nil` and `json.null` → `null`; booleans → `true`/`false`; strings → JSON strings (they
///   must be valid UTF-8); integers → integers (all 64 bits); floats → numbers that read
///   back as the same float (`3.0` stays `3.0`); NaN and infinities are errors.
/// - A table whose keys are exactly 1...n (n ≥ 0) is an array. An **empty table is an
///   array, `[]`**, unless its metatable says `__jsontype = "object"` (tables that
///   `json.decode` made from objects carry that metatable, so `{}` round-trips as `{}`).
/// - Any other table (string keys, sparse or mixed integer keys) is an object: integer keys
///   become their decimal text (`{[1]="a",[3]="c"}` → `{"1":"a","3":"c"}`), members are
///   sorted by key bytes so the output is deterministic; float, boolean or table keys, and
///   two keys with the same text (`1` and `"1"`), are errors.
/// - Functions, userdata, threads and cyclic tables are errors (never a stack overflow);
///   nesting deeper than 512 is an error.
///
/// Decoding: objects → tables (with the object marker metatable), arrays → sequences,
/// `null` → `json.null`, integers → Lua integers, other numbers → floats. Errors give the
/// byte position.
public enum LuaJSON {
    /// The JSON value of a Lua value copied out of Lua.
    public static func jsonValue(_ value: LuaValue) throws(LuaError) -> JSONValue {
        var path: [LuaValue] = []
        return try convert(value, path: &path)
    }

    /// The compact JSON text of the value at `index` of the Lua stack.
    static func encode(_ L: LuaStatePointer, at index: Int32) throws(LuaError) -> [UInt8] {
        let json = try jsonValue(L, at: index)
        do throws(JSONError) {
            return try json.serialized()
        } catch {
            throw LuaError(error.message)
        }
    }

    /// The JSON value of the value at `index` of the Lua stack, read straight from Lua (no
    /// `LuaValue` copy in between): the same rules and messages as `jsonValue(_:)` of the
    /// copied value, and the copy's own errors (`cyclic table`, `nesting deeper than 512`).
    /// When a table breaks more than one rule, which one is reported may differ. Reads with
    /// raw access only (no metamethod runs); leaves the stack as it was.
    static func jsonValue(_ L: LuaStatePointer, at index: Int32) throws(LuaError) -> JSONValue {
        let index = lua_absindex(L, index)
        let top = lua_gettop(L)
        do throws(FastReader.Unsure) {
            return try FastReader.read(L, index, depth: 0)
        } catch {
            // Something breaks a rule: read again, keeping what the message needs.
            lua_settop(L, top)
            var reader = StackReader(L: L)
            return try reader.read(index, depth: 0)
        }
    }

    /// The read of a value that follows the rules, in one pass and without the bookkeeping
    /// messages need (the keys on the way, the tables on the way: a cycle ends at the depth
    /// limit). At the first broken rule it gives up, leaving values on the stack; the caller
    /// restores the stack and reads again with `StackReader`, which reports the rule.
    private enum FastReader {
        struct Unsure: Error {}

        static func read(_ L: LuaStatePointer, _ index: Int32, depth: Int) throws(Unsure) -> JSONValue {
            switch LuaJSON.scalar(L, index) {
            case .value(let value): return value
            case .table: return try table(L, index, depth: depth)
            case .broken: throw Unsure()
            }
        }

        static func table(_ L: LuaStatePointer, _ index: Int32, depth: Int) throws(Unsure) -> JSONValue {
            guard depth < LuaBridge.maxDepth, lua_checkstack(L, 4) != 0 else { throw Unsure() }
            var elements: [(index: Int64, value: JSONValue)] = []
            var members: [(key: String, value: JSONValue)] = []
            var inOrder = true
            lua_pushnil(L)
            while lua_next(L, index) != 0 {
                let value = try read(L, lua_gettop(L), depth: depth + 1)
                switch lua_type(L, -2) {
                case LUA_TNUMBER:
                    guard lua_isinteger(L, -2) != 0 else { throw Unsure() }
                    let n = luat_tointeger(L, -2)
                    if let last = elements.last, last.index >= n { inOrder = false }
                    elements.append((n, value))
                case LUA_TSTRING:
                    guard let key = validString(L, -2) else { throw Unsure() }
                    members.append((key, value))
                default:
                    throw Unsure()
                }
                luat_pop(L, 1)
            }
            if !inOrder { elements.sort { $0.index < $1.index } }
            if members.isEmpty {
                // Exactly the keys 1...n: an array, unless empty and marked an object.
                if elements.isEmpty ? !markedObject(L, index) : elements[0].index == 1 && elements[elements.count - 1].index == Int64(elements.count) {
                    return .array(elements.map { $0.value })
                }
            }
            let mixed = !members.isEmpty && !elements.isEmpty
            for element in elements { members.append((String(element.index), element.value)) }
            members.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            if mixed {
                for i in 1..<members.count where members[i - 1].key.utf8.elementsEqual(members[i].key.utf8) { throw Unsure() }
            }
            return .object(members)
        }
    }

    /// What the value at `index` is in JSON when it is not a table, or the rule it breaks.
    enum Scalar {
        case value(JSONValue)
        case table
        case broken(String)
    }

    static func scalar(_ L: LuaStatePointer, _ index: Int32) -> Scalar {
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE: return .value(.null)
        case LUA_TBOOLEAN: return .value(.bool(lua_toboolean(L, index) != 0))
        case LUA_TNUMBER:
            if lua_isinteger(L, index) != 0 { return .value(.integer(luat_tointeger(L, index))) }
            let d = luat_tonumber(L, index)
            return d.isFinite ? .value(.double(d)) : .broken("cannot encode \(d.isNaN ? "NaN" : "infinity") as JSON")
        case LUA_TSTRING:
            guard let text = validString(L, index) else { return .broken("cannot encode a string that is not valid UTF-8") }
            return .value(.string(text))
        case LUA_TFUNCTION: return .broken("cannot encode a function")
        case LUA_TLIGHTUSERDATA:
            return lua_touserdata(L, index) == JSONNull.sentinel ? .value(.null) : .broken("cannot encode a userdata")
        case LUA_TTABLE: return .table
        default: return .broken("cannot encode a \(LuaStack.typeName(L, index))")
        }
    }

    /// An integer key and a string key with the same text (`1` and `"1"`).
    static func duplicateKey(_ name: String, _ place: String) -> LuaError {
        LuaError("cannot encode a table with two keys named \"\(name)\" (an integer and a string)" + place)
    }

    /// The string at `index` when it is valid UTF-8.
    static func validString(_ L: LuaStatePointer, _ index: Int32) -> String? {
        guard let view = LuaStack.view(L, index) else { return nil }
        let bytes = view.bindMemory(to: UInt8.self)
        guard UTF8Validation.isValid(bytes) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether the table at `index` carries the metatable that marks a JSON object.
    static func markedObject(_ L: LuaStatePointer, _ index: Int32) -> Bool {
        guard lua_getmetatable(L, index) != 0 else { return false }
        defer { luat_pop(L, 2) }
        guard LuaStack.getField(L, -1, "__jsontype") == LUA_TSTRING, let view = LuaStack.view(L, -1) else { return false }
        return view.elementsEqual("object".utf8)
    }

    /// The read that reports which rule a value breaks: it keeps the tables on the way (to
    /// find cycles) and the keys on the way (for messages).
    private struct StackReader {
        enum Step { case name(String), index(Int64) }
        let L: LuaStatePointer
        var path: [Step] = []
        var visiting: [UnsafeRawPointer] = []

        init(L: LuaStatePointer) { self.L = L }

        func at() -> String {
            if path.isEmpty { return "" }
            var text = " (at value"
            for step in path {
                switch step {
                case .name(let name): text += "." + name
                case .index(let n): text += "[\(n)]"
                }
            }
            return text + ")"
        }

        mutating func read(_ index: Int32, depth: Int) throws(LuaError) -> JSONValue {
            switch LuaJSON.scalar(L, index) {
            case .value(let value): return value
            case .table: return try table(index, depth: depth)
            case .broken(let rule): throw LuaError(rule + at())
            }
        }

        func validString(_ index: Int32) -> String? { LuaJSON.validString(L, index) }

        mutating func table(_ index: Int32, depth: Int) throws(LuaError) -> JSONValue {
            if depth >= LuaBridge.maxDepth { throw LuaError("nesting deeper than \(LuaBridge.maxDepth)") }
            let identity = lua_topointer(L, index)!
            if visiting.contains(identity) { throw LuaError("cyclic table") }
            guard lua_checkstack(L, 4) != 0 else { throw LuaError("Lua stack overflow") }
            visiting.append(identity)
            defer { visiting.removeLast() }

            let markedObject = LuaJSON.markedObject(L, index)

            // First the keys: an array has exactly the keys 1...n.
            var integers = 0
            var smallest = Int64.max, largest = Int64.min
            var names: [String] = []
            lua_pushnil(L)
            while lua_next(L, index) != 0 {
                switch lua_type(L, -2) {
                case LUA_TNUMBER where lua_isinteger(L, -2) != 0:
                    let n = luat_tointeger(L, -2)
                    integers += 1
                    smallest = min(smallest, n)
                    largest = max(largest, n)
                case LUA_TNUMBER:
                    luat_pop(L, 2)
                    throw LuaError("cannot encode a table with a non-integer number key" + at())
                case LUA_TSTRING:
                    guard let name = validString(-2) else {
                        luat_pop(L, 2)
                        throw LuaError("cannot encode a table key that is not valid UTF-8" + at())
                    }
                    names.append(name)
                default:
                    let type = String(cString: lua_typename(L, lua_type(L, -2)))
                    luat_pop(L, 2)
                    throw LuaError("cannot encode a table with a \(type) key" + at())
                }
                luat_pop(L, 1)
            }

            if names.isEmpty && (integers == 0 ? !markedObject : smallest == 1 && largest == Int64(integers)) {
                var elements: [JSONValue] = []
                elements.reserveCapacity(integers)
                for i in 0..<Int64(integers) {
                    lua_rawgeti(L, index, i + 1)
                    elements.append(try popValue(at: .index(i + 1), depth: depth + 1))
                }
                return .array(elements)
            }

            // An object: integer keys by their decimal text, members in key byte order.
            var keys: [(name: String, integer: Int64?)] = names.map { ($0, nil) }
            if integers > 0 {
                lua_pushnil(L)
                while lua_next(L, index) != 0 {
                    if lua_type(L, -2) == LUA_TNUMBER {
                        let n = luat_tointeger(L, -2)
                        keys.append((String(n), n))
                    }
                    luat_pop(L, 1)
                }
            }
            keys.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
            var members: [(key: String, value: JSONValue)] = []
            members.reserveCapacity(keys.count)
            for i in keys.indices.dropFirst() where keys[i - 1].name.utf8.elementsEqual(keys[i].name.utf8) {
                throw LuaJSON.duplicateKey(keys[i].name, at())
            }
            for key in keys {
                if let n = key.integer { lua_pushinteger(L, n) } else { LuaStack.push(L, key.name) }
                lua_rawget(L, index)
                members.append((key.name, try popValue(at: .name(key.name), depth: depth + 1)))
            }
            return .object(members)
        }

        /// Reads the value on top of the stack, found at `step` of the table being read, and pops it.
        mutating func popValue(at step: Step, depth: Int) throws(LuaError) -> JSONValue {
            defer { luat_pop(L, 1) }
            path.append(step)
            let value = try read(lua_gettop(L), depth: depth)
            path.removeLast()
            return value
        }
    }

    static func describe(_ path: [LuaValue]) -> String {
        if path.isEmpty { return "" }
        var text = " (at value"
        for key in path {
            switch key {
            case .string(let bytes): text += "." + String(decoding: bytes, as: UTF8.self)
            case .integer(let n): text += "[\(n)]"
            default: text += "[?]"
            }
        }
        return text + ")"
    }

    static func convert(_ value: LuaValue, path: inout [LuaValue]) throws(LuaError) -> JSONValue {
        switch value {
        case .nil, .jsonNull: return .null
        case .boolean(let b): return .bool(b)
        case .integer(let v): return .integer(v)
        case .number(let d):
            guard d.isFinite else { throw LuaError("cannot encode \(d.isNaN ? "NaN" : "infinity") as JSON" + describe(path)) }
            return .double(d)
        case .string(let bytes):
            guard UTF8Validation.isValid(bytes) else { throw LuaError("cannot encode a string that is not valid UTF-8" + describe(path)) }
            return .string(String(decoding: bytes, as: UTF8.self))
        case .function: throw LuaError("cannot encode a function" + describe(path))
        case .other(let name): throw LuaError("cannot encode a \(name)" + describe(path))
        case .table(let table):
            if table.hash.isEmpty && !(table.array.isEmpty && table.jsonType == .object) {
                var elements: [JSONValue] = []
                elements.reserveCapacity(table.array.count)
                for (i, item) in table.array.enumerated() {
                    path.append(.integer(Int64(i + 1)))
                    elements.append(try convert(item, path: &path))
                    path.removeLast()
                }
                return .array(elements)
            }
            var members: [(key: [UInt8], value: LuaValue)] = []
            members.reserveCapacity(table.array.count + table.hash.count)
            for (i, item) in table.array.enumerated() { members.append((Array("\(i + 1)".utf8), item)) }
            for entry in table.hash {
                switch entry.key {
                case .string(let bytes):
                    guard UTF8Validation.isValid(bytes) else { throw LuaError("cannot encode a table key that is not valid UTF-8" + describe(path)) }
                    members.append((bytes, entry.value))
                case .integer(let n): members.append((Array("\(n)".utf8), entry.value))
                case .number: throw LuaError("cannot encode a table with a non-integer number key" + describe(path))
                default: throw LuaError("cannot encode a table with a \(entry.key.typeName) key" + describe(path))
                }
            }
            members.sort { $0.key.lexicographicallyPrecedes($1.key) }
            var object: [(key: String, value: JSONValue)] = []
            object.reserveCapacity(members.count)
            // Two keys with the same text are the table's own fault: found before any member's.
            for i in members.indices.dropFirst() where members[i - 1].key == members[i].key {
                throw duplicateKey(String(decoding: members[i].key, as: UTF8.self), describe(path))
            }
            for member in members {
                let name = String(decoding: member.key, as: UTF8.self)
                path.append(.string(member.key))
                object.append((name, try convert(member.value, path: &path)))
                path.removeLast()
            }
            return .object(object)
        }
    }

    /// Parses JSON text and pushes the Lua value.
    static func decode(_ L: LuaStatePointer, _ bytes: [UInt8]) throws(LuaError) {
        let value: JSONValue
        do throws(JSONError) {
            value = try JSONValue.parse(bytes)
        } catch {
            throw LuaError(error.message)
        }
        try push(L, value)
    }

    /// Pushes a JSON value as Lua: objects carry the object marker; arrays carry the array
    /// marker only with `markArrays` (a route's `ctx`; `json.decode` leaves them plain).
    static func push(_ L: LuaStatePointer, _ value: JSONValue, markArrays: Bool = false) throws(LuaError) {
        guard lua_checkstack(L, 3) != 0 else { throw LuaError("Lua stack overflow") }
        switch value {
        case .null: lua_pushlightuserdata(L, JSONNull.sentinel)
        case .bool(let b): lua_pushboolean(L, b ? 1 : 0)
        case .integer(let v): lua_pushinteger(L, v)
        case .double(let d): lua_pushnumber(L, d)
        case .string(let s): LuaStack.push(L, s)
        case .array(let elements):
            lua_createtable(L, Int32(clamping: elements.count), 0)
            for (i, element) in elements.enumerated() {
                try push(L, element, markArrays: markArrays)
                lua_rawseti(L, -2, Int64(i + 1))
            }
            if markArrays { LuaBridge.setJSONShape(L, -1, .array) }
        case .object(let members):
            lua_createtable(L, 0, Int32(clamping: members.count))
            for member in members {
                LuaStack.push(L, member.key)
                try push(L, member.value, markArrays: markArrays)
                lua_rawset(L, -3)
            }
            LuaBridge.setJSONShape(L, -1, .object)
        }
    }

    // MARK: the `json` global

    static func install(_ L: LuaStatePointer) {
        lua_createtable(L, 0, 3)
        LuaStack.pushFunction(L, jsonEncode)
        LuaStack.setField(L, -2, "encode")
        LuaStack.pushFunction(L, jsonDecode)
        LuaStack.setField(L, -2, "decode")
        lua_pushlightuserdata(L, JSONNull.sentinel)
        LuaStack.setField(L, -2, "null")
        lua_setglobal(L, "json")
    }
}

private func jsonEncode(_ L: LuaStatePointer?) -> Int32 {
    let L = L!
    if lua_type(L, 1) == LUA_TNONE { return LuaStack.raise(L, "json.encode: expected a value to encode") }
    do throws(LuaError) {
        LuaStack.push(L, try LuaJSON.encode(L, at: 1))
        return 1
    } catch {
        return LuaStack.raise(L, "json.encode: " + error.message)
    }
}

private func jsonDecode(_ L: LuaStatePointer?) -> Int32 {
    let L = L!
    guard let bytes = LuaStack.bytes(L, 1) else {
        return LuaStack.raise(L, "json.decode: expected a string, got \(LuaStack.typeName(L, 1))")
    }
    do throws(LuaError) {
        try LuaJSON.decode(L, bytes)
        return 1
    } catch {
        return LuaStack.raise(L, "json.decode: " + error.message)
    }
}
