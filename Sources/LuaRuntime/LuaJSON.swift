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
        let json = try jsonValue(try LuaBridge.value(L, at: index))
        do throws(JSONError) {
            return try json.serialized()
        } catch {
            throw LuaError(error.message)
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
            for (i, member) in members.enumerated() {
                let name = String(decoding: member.key, as: UTF8.self)
                if i > 0 && members[i - 1].key == member.key {
                    throw LuaError("cannot encode a table with two keys named \"\(name)\" (an integer and a string)" + describe(path))
                }
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

    /// Pushes a JSON value as Lua.
    static func push(_ L: LuaStatePointer, _ value: JSONValue) throws(LuaError) {
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
                try push(L, element)
                lua_rawseti(L, -2, Int64(i + 1))
            }
        case .object(let members):
            lua_createtable(L, 0, Int32(clamping: members.count))
            for member in members {
                LuaStack.push(L, member.key)
                try push(L, member.value)
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
