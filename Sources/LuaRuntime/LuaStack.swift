import CLuaShim

/// A `lua_State *` as Swift sees it.
public typealias LuaStatePointer = OpaquePointer

/// Thin helpers over the Lua C API. None of them raises a Lua error (they use raw access
/// and never call metamethods), so they are safe to call from Swift frames; the only
/// exception is an out-of-memory error inside Lua's allocator, which Lua cannot avoid.
enum LuaStack {
    static let registry = luat_registryindex()


    static func typeName(_ L: LuaStatePointer, _ index: Int32) -> String {
        let t = lua_type(L, index)
        if t == LUA_TNONE { return "nil" }
        if t == LUA_TLIGHTUSERDATA, lua_touserdata(L, index) == JSONNull.sentinel { return "json.null" }
        return String(cString: lua_typename(L, t))
    }

    /// The bytes of the string at `index`, or nil when it is not a string (numbers are not converted).
    static func bytes(_ L: LuaStatePointer, _ index: Int32) -> [UInt8]? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        var length = 0
        guard let p = lua_tolstring(L, index, &length) else { return nil }
        return p.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    /// The string at `index` as Swift text (invalid UTF-8 repaired), or nil.
    static func string(_ L: LuaStatePointer, _ index: Int32) -> String? {
        bytes(L, index).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Lua's own text for a number (`42`, `3.14`, `1e+100`), without changing the value at `index`.
    static func numberText(_ L: LuaStatePointer, _ index: Int32) -> [UInt8] {
        lua_pushvalue(L, index)
        var length = 0
        let p = lua_tolstring(L, -1, &length)!
        let result = p.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
        luat_pop(L, 1)
        return result
    }

    static func push(_ L: LuaStatePointer, _ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(buffer.count, 1)) {
                _ = lua_pushlstring(L, $0, buffer.count)
            }
        }
    }

    /// Pushes borrowed bytes as a Lua string (Lua copies them).
    static func push(_ L: LuaStatePointer, _ bytes: UnsafeRawBufferPointer) {
        if let base = bytes.baseAddress {
            _ = lua_pushlstring(L, base.assumingMemoryBound(to: CChar.self), bytes.count)
        } else {
            _ = lua_pushlstring(L, "", 0)
        }
    }

    /// The string at `index` in Lua's own memory, valid while the value stays on the stack,
    /// or nil when it is not a string (numbers are not converted).
    static func view(_ L: LuaStatePointer, _ index: Int32) -> UnsafeRawBufferPointer? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        var length = 0
        guard let p = lua_tolstring(L, index, &length) else { return nil }
        return UnsafeRawBufferPointer(start: p, count: length)
    }

    static func push(_ L: LuaStatePointer, _ text: String) {
        var text = text
        text.withUTF8 { buffer in
            if let base = buffer.baseAddress {
                base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { _ = lua_pushlstring(L, $0, buffer.count) }
            } else {
                _ = lua_pushlstring(L, "", 0)
            }
        }
    }

    /// `t[name] = top` for the table at `table` (raw, pops the value).
    static func setField(_ L: LuaStatePointer, _ table: Int32, _ name: String) {
        let t = lua_absindex(L, table)
        push(L, name)
        lua_rotate(L, -2, 1)
        lua_rawset(L, t)
    }

    /// Pushes `t[name]` of the table at `table` (raw).
    @discardableResult
    static func getField(_ L: LuaStatePointer, _ table: Int32, _ name: String) -> Int32 {
        let t = lua_absindex(L, table)
        push(L, name)
        return lua_rawget(L, t)
    }

    /// Pushes `fn` as a Lua function whose errors are raised after it returned.
    static func pushFunction(_ L: LuaStatePointer, _ fn: luat_SwiftFunction) {
        luat_pushswiftfunction(L, fn)
    }

    /// Pushes an error message and returns the trampoline's "raise it" sentinel.
    static func raise(_ L: LuaStatePointer, _ message: String) -> Int32 {
        push(L, message)
        return -1
    }

    /// Runs a chunk of the runtime's own Lua code and leaves its `count` results on the stack.
    static func runInternal(_ L: LuaStatePointer, _ source: String, name: String, arguments: Int32 = 0, results: Int32 = 1) -> Bool {
        var source = source
        let loaded = source.withUTF8 { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                luat_loadbuffer(L, $0, buffer.count, "=" + name)
            }
        }
        if loaded != LUA_OK { return false }
        if arguments > 0 { lua_rotate(L, -(arguments + 1), 1) }
        return luat_pcall(L, arguments, results, 0) == LUA_OK
    }
}

/// `json.null`: a light userdata with an address of its own.
enum JSONNull {
    nonisolated(unsafe) static let sentinel: UnsafeMutableRawPointer = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
}
