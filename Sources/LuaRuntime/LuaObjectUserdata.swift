import CLuaShim

/// A full userdata that holds one retained Swift object, the shape of every Lua object the
/// runtime hands out (`KVNamespace`, `KVAtomic`). The userdata's slot keeps the object alive
/// until its `__gc` calls `release`, which empties the slot.
enum LuaObjectUserdata {
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
