import CLuaShim

/// A full userdata that holds one retained Swift object, the shape of every Lua object the
/// runtime hands out (`KVNamespace`, `KVAtomic`). The userdata's slot keeps the object alive
/// until its `__gc` calls `release`, which empties the slot.
enum LuaObjectUserdata {
    /// Creates the registered metatable `name` of such userdata: `methods` as its `__index`
    /// table, `gc` as `__gc` (which calls `release`), `typeName` as `__name`. Leaves it on the
    /// top of the stack, for the caller to add fields and pop.
    static func newMetatable(_ L: LuaStatePointer, _ name: String, typeName: String,
                             methods: [(String, luat_SwiftFunction)], gc: luat_SwiftFunction) {
        _ = luaL_newmetatable(L, name)
        lua_createtable(L, 0, Int32(methods.count))
        for (method, fn) in methods {
            LuaStack.pushFunction(L, fn)
            LuaStack.setField(L, -2, method)
        }
        LuaStack.setField(L, -2, "__index")
        LuaStack.pushFunction(L, gc)
        LuaStack.setField(L, -2, "__gc")
        LuaStack.push(L, typeName)
        LuaStack.setField(L, -2, "__name")
    }

    /// Pushes a new userdata holding `object` (retained) with the registered metatable `metatable`.
    static func push<T: AnyObject>(_ L: LuaStatePointer, _ object: T, metatable: String) {
        let slot = luat_newuserdata(L, MemoryLayout<UnsafeRawPointer?>.size)!
            .assumingMemoryBound(to: UnsafeRawPointer?.self)
        slot.pointee = UnsafeRawPointer(Unmanaged.passRetained(object).toOpaque())
        luaL_setmetatable(L, metatable)
    }

    /// The object held by the userdata at `index` when it has the metatable `metatable` and
    /// has not been released; nil otherwise.
    static func object<T: AnyObject>(_ L: LuaStatePointer, _ index: Int32, metatable: String, as type: T.Type) -> T? {
        guard let raw = luaL_testudata(L, index, metatable),
              let pointer = raw.assumingMemoryBound(to: UnsafeRawPointer?.self).pointee else { return nil }
        return Unmanaged<T>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// `__gc`: releases the object held by the userdata at `index` (once: the slot is emptied).
    static func release<T: AnyObject>(_ L: LuaStatePointer, _ index: Int32, metatable: String, as type: T.Type) {
        guard let raw = luaL_testudata(L, index, metatable) else { return }
        let slot = raw.assumingMemoryBound(to: UnsafeRawPointer?.self)
        guard let pointer = slot.pointee else { return }
        slot.pointee = nil
        Unmanaged<T>.fromOpaque(pointer).release()
    }
}
