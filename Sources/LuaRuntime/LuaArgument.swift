import CLuaShim
import KVCore

/// An argument a host passes to a Lua function (`LuaEnvironment.callForJSON`): a copy of a
/// `LuaValue`, or a closure that writes the value straight onto the Lua stack when the call
/// is made, without building a `LuaValue` first. Each call writes a fresh value: what one
/// function does to its table is not seen by the next.
public struct LuaArgument {
    let write: (LuaStackWriter) throws(LuaError) -> Void

    /// `value`, pushed as `LuaBridge` pushes it (JSON shapes kept).
    public init(_ value: LuaValue) {
        write = { (stack: LuaStackWriter) throws(LuaError) in try stack.push(value) }
    }

    /// A value `write` builds on the stack. It must leave exactly one more value there.
    public init(writing write: @escaping (LuaStackWriter) throws(LuaError) -> Void) {
        self.write = write
    }
}

/// Writes values onto the stack of the Lua state a call is being made on (see `LuaArgument`).
/// Given to the host's closure by the runtime, on the runtime's thread, and valid only during
/// that closure. Every `push…` leaves one more value on the stack; `setField` pops one.
/// Nothing here runs Lua code or metamethods; like every allocation in a state, a table or
/// string can fail only on running out of the state's memory.
public struct LuaStackWriter {
    let L: LuaStatePointer

    public func push(_ value: LuaValue) throws(LuaError) { try LuaBridge.push(L, value) }

    public func push(_ text: String) throws(LuaError) {
        try reserve()
        LuaStack.push(L, text)
    }

    public func push(bytes: [UInt8]) throws(LuaError) {
        try reserve()
        LuaStack.push(L, bytes)
    }

    /// A new table with room for `fields` named fields; marked a JSON object when `object`,
    /// so that it encodes as `{}` when empty (as `LuaTable.jsonType = .object`).
    public func pushTable(fields: Int, object: Bool) throws(LuaError) {
        try reserve()
        lua_createtable(L, 0, Int32(clamping: fields))
        if object { LuaBridge.setJSONShape(L, -1, .object) }
    }

    /// `table[name] = value` for the table just below the top and the value on top (raw); pops the value.
    public func setField(_ name: String) {
        LuaStack.setField(L, -2, name)
    }

    /// A JSON value as a route's `ctx` holds it: objects and arrays are tables marked with
    /// their JSON shape, `null` is `json.null` (as `LuaBridge.push` of the same value as a
    /// `LuaValue` tree with its shapes set).
    public func push(json: JSONValue) throws(LuaError) {
        try LuaJSON.push(L, json, markArrays: true)
    }

    /// Room for a value and the helpers' temporaries.
    private func reserve() throws(LuaError) {
        guard lua_checkstack(L, 4) != 0 else { throw LuaError("Lua stack overflow") }
    }
}
