import CLuaShim

/// Copies values between the Lua stack and `LuaValue`.
enum LuaBridge {
    /// Deepest table nesting copied out of Lua (the JSON parser's limit too).
    static let maxDepth = 512

    /// Registry keys of the metatables `json.decode` puts on objects and that `__jsontype` names.
    static let objectMetatableKey = "luat.json.object"

    /// Reads the value at `index`. Tables are copied whole; a table reached again while it
    /// is being copied is an error (`cyclic table`), and so is nesting deeper than 512.
    static func value(_ L: LuaStatePointer, at index: Int32) throws(LuaError) -> LuaValue {
        var visiting: [UnsafeRawPointer] = []
        return try value(L, lua_absindex(L, index), depth: 0, visiting: &visiting)
    }

    static func value(_ L: LuaStatePointer, _ index: Int32, depth: Int, visiting: inout [UnsafeRawPointer]) throws(LuaError) -> LuaValue {
        let index = lua_absindex(L, index)
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE: return .nil
        case LUA_TBOOLEAN: return .boolean(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            if lua_isinteger(L, index) != 0 { return .integer(luat_tointeger(L, index)) }
            return .number(luat_tonumber(L, index))
        case LUA_TSTRING: return .string(LuaStack.bytes(L, index) ?? [])
        case LUA_TFUNCTION: return .function
        case LUA_TLIGHTUSERDATA:
            return lua_touserdata(L, index) == JSONNull.sentinel ? .jsonNull : .other("userdata")
        case LUA_TTABLE: return .table(try table(L, index, depth: depth, visiting: &visiting))
        default: return .other(LuaStack.typeName(L, index))
        }
    }

    static func table(_ L: LuaStatePointer, _ index: Int32, depth: Int, visiting: inout [UnsafeRawPointer]) throws(LuaError) -> LuaTable {
        if depth >= maxDepth { throw LuaError("nesting deeper than \(maxDepth)") }
        let identity = lua_topointer(L, index)!
        if visiting.contains(identity) { throw LuaError("cyclic table") }
        guard lua_checkstack(L, 4) != 0 else { throw LuaError("Lua stack overflow") }
        visiting.append(identity)
        defer { visiting.removeLast() }

        var result = LuaTable()
        if lua_getmetatable(L, index) != 0 {
            if LuaStack.getField(L, -1, "__jsontype") == LUA_TSTRING {
                switch LuaStack.string(L, -1) {
                case "object": result.jsonType = .object
                case "array": result.jsonType = .array
                default: break
                }
            }
            luat_pop(L, 2)
        }

        var integerKeyed: [Int64: LuaValue] = [:]
        var others: [(key: LuaValue, value: LuaValue)] = []
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            let key: LuaValue
            do throws(LuaError) {
                key = try value(L, -2, depth: depth + 1, visiting: &visiting)
                let item = try value(L, -1, depth: depth + 1, visiting: &visiting)
                if case .integer(let n) = key { integerKeyed[n] = item } else { others.append((key, item)) }
            } catch {
                luat_pop(L, 2)
                throw error
            }
            luat_pop(L, 1)
        }
        var n: Int64 = 1
        while let item = integerKeyed.removeValue(forKey: n) {
            result.array.append(item)
            n += 1
        }
        for (k, v) in integerKeyed { others.append((.integer(k), v)) }
        others.sort { LuaValue.keyPrecedes($0.key, $1.key) }
        result.hash = others
        return result
    }

    /// Pushes `value`. Functions and userdata cannot be made from Swift: they are an error.
    static func push(_ L: LuaStatePointer, _ value: LuaValue) throws(LuaError) {
        guard lua_checkstack(L, 3) != 0 else { throw LuaError("Lua stack overflow") }
        switch value {
        case .nil: lua_pushnil(L)
        case .boolean(let b): lua_pushboolean(L, b ? 1 : 0)
        case .integer(let v): lua_pushinteger(L, v)
        case .number(let d): lua_pushnumber(L, d)
        case .string(let bytes): LuaStack.push(L, bytes)
        case .jsonNull: lua_pushlightuserdata(L, JSONNull.sentinel)
        case .function: throw LuaError("a function cannot be passed from Swift to Lua")
        case .other(let name): throw LuaError("a \(name) cannot be passed from Swift to Lua")
        case .table(let table):
            lua_createtable(L, Int32(clamping: table.array.count), Int32(clamping: table.hash.count))
            let t = lua_gettop(L)
            do throws(LuaError) {
                for (i, item) in table.array.enumerated() {
                    try push(L, item)
                    lua_rawseti(L, t, Int64(i + 1))
                }
                for entry in table.hash {
                    if case .nil = entry.key { continue }
                    if case .nil = entry.value { continue }
                    try push(L, entry.key)
                    try push(L, entry.value)
                    lua_rawset(L, t)
                }
            } catch {
                lua_settop(L, t - 1)
                throw error
            }
            if let shape = table.jsonType {
                setJSONShape(L, t, shape)
            }
        }
    }

    /// Gives the table at `index` the shared metatable marking it a JSON object or array.
    static func setJSONShape(_ L: LuaStatePointer, _ index: Int32, _ shape: LuaTable.JSONShape) {
        let t = lua_absindex(L, index)
        let key = shape == .object ? objectMetatableKey : "luat.json.array"
        if luat_getmetatable(L, key) != LUA_TTABLE {
            luat_pop(L, 1)
            // A plain table (no `__name`), so `tostring` still says `table: 0x...`.
            lua_createtable(L, 0, 1)
            LuaStack.push(L, shape == .object ? "object" : "array")
            LuaStack.setField(L, -2, "__jsontype")
            lua_pushvalue(L, -1)
            lua_setfield(L, LuaStack.registry, key)
        }
        lua_setmetatable(L, t)
    }
}
