import CLuaShim
import KVCore

/// The `KV` global: `KV.namespace(name)` and the namespace methods. Each method converts
/// Lua arguments into one KVCore call and the result or `KVError` back; every rule (key
/// and value limits, expiration, list limits, cursors) lives in KVCore.
enum KVBinding {
    static let namespaceMetatable = "luat.KVNamespace"

    static func install(_ L: LuaStatePointer) {
        LuaObjectUserdata.newMetatable(
            L, namespaceMetatable, typeName: "KVNamespace",
            methods: [("get", kvGet), ("getWithMetadata", kvGetWithMetadata), ("put", kvPut),
                      ("delete", kvDelete), ("list", kvList), ("increment", kvIncrement)],
            gc: kvNamespaceGC)
        lua_pushboolean(L, 0)
        LuaStack.setField(L, -2, "__metatable") // shared by every namespace: not for scripts to change
        LuaStack.pushFunction(L, kvNamespaceToString)
        LuaStack.setField(L, -2, "__tostring")
        luat_pop(L, 1)

        KVAtomicBinding.installMetatable(L)

        lua_createtable(L, 0, 2)
        LuaStack.pushFunction(L, kvNamespace)
        LuaStack.setField(L, -2, "namespace")
        LuaStack.pushFunction(L, KVAtomicBinding.create)
        LuaStack.setField(L, -2, "atomic")
        lua_setglobal(L, "KV")
    }

    /// The namespace behind the method's `self`, or the error that tells to use a colon.
    static func namespace(_ L: LuaStatePointer, method: String, usage: String) throws(LuaError) -> KVNamespace {
        guard let box = LuaObjectUserdata.object(L, 1, metatable: namespaceMetatable, as: NamespaceBox.self) else {
            throw LuaError("call it as a method with a colon: kv:\(method)(\(usage)), not kv.\(method)(...)")
        }
        return box.namespace
    }

    /// The namespace passed as an argument at `index` (a value from `KV.namespace`).
    static func namespaceArgument(_ L: LuaStatePointer, _ index: Int32) throws(LuaError) -> KVNamespace {
        guard let box = LuaObjectUserdata.object(L, index, metatable: namespaceMetatable, as: NamespaceBox.self) else {
            throw LuaError("namespace must be a namespace from KV.namespace(name), got \(LuaStack.typeName(L, index))")
        }
        return box.namespace
    }

    /// The counter delta at `index`: an integer, `default` when absent.
    static func counterDelta(_ L: LuaStatePointer, _ index: Int32, default value: Int64?) throws(LuaError) -> Int64 {
        let t = lua_type(L, index)
        if let value, t == LUA_TNIL || t == LUA_TNONE { return value }
        guard t == LUA_TNUMBER else { throw LuaError("n must be an integer, got \(LuaStack.typeName(L, index))") }
        if lua_isinteger(L, index) != 0 { return luat_tointeger(L, index) }
        let number = luat_tonumber(L, index)
        return try kvCall { () throws(KVError) in try KVRules.counterDelta(fromNumber: number) }
    }

    /// The key argument at `index`.
    static func key(_ L: LuaStatePointer, _ index: Int32, name: String = "key") throws(LuaError) -> [UInt8] {
        guard let bytes = LuaStack.bytes(L, index) else {
            throw LuaError("\(name) must be a string, got \(LuaStack.typeName(L, index))")
        }
        return bytes
    }

    enum ReadType { case text, json, arrayBuffer }

    static func readType(_ L: LuaStatePointer, _ index: Int32) throws(LuaError) -> ReadType {
        let t = lua_type(L, index)
        if t == LUA_TNIL || t == LUA_TNONE { return .text }
        switch LuaStack.string(L, index) {
        case "text": return .text
        case "json": return .json
        case "arrayBuffer": return .arrayBuffer
        case let other?: throw LuaError("type must be \"text\", \"json\" or \"arrayBuffer\" (got \"\(other)\")")
        case nil: throw LuaError("type must be \"text\", \"json\" or \"arrayBuffer\" (got a \(LuaStack.typeName(L, index)))")
        }
    }

    /// Pushes a stored value as the requested type.
    static func pushValue(_ L: LuaStatePointer, _ value: [UInt8], as type: ReadType, key: [UInt8]) throws(LuaError) {
        switch type {
        case .text, .arrayBuffer: LuaStack.push(L, value)
        case .json:
            do throws(LuaError) {
                try LuaJSON.decode(L, value)
            } catch {
                throw LuaError("value of key \"\(String(decoding: key, as: UTF8.self))\" is not valid JSON: \(error.message)")
            }
        }
    }

    /// Pushes metadata JSON text as a Lua value.
    static func pushMetadata(_ L: LuaStatePointer, _ text: String?) throws(LuaError) {
        guard let text else { lua_pushnil(L); return }
        try LuaJSON.decode(L, Array(text.utf8))
    }

    /// The keys of a bulk get: a sequence of 1–100 strings.
    static func keyList(_ L: LuaStatePointer, _ index: Int32) throws(LuaError) -> [[UInt8]] {
        let count = Int(lua_rawlen(L, index))
        var keys: [[UInt8]] = []
        keys.reserveCapacity(count)
        for i in 0..<count {
            lua_rawgeti(L, index, Int64(i + 1))
            defer { luat_pop(L, 1) }
            guard let bytes = LuaStack.bytes(L, -1) else {
                throw LuaError("keys[\(i + 1)] must be a string, got \(LuaStack.typeName(L, -1))")
            }
            keys.append(bytes)
        }
        return keys
    }

    // MARK: options

    /// Reads a table of named options, refusing unknown names (with a suggestion).
    static func options(_ L: LuaStatePointer, _ index: Int32, known: [String],
                        _ read: (String, Int32) throws(LuaError) -> Void) throws(LuaError) {
        let t = lua_type(L, index)
        if t == LUA_TNIL || t == LUA_TNONE { return }
        guard t == LUA_TTABLE else { throw LuaError("options must be a table, got \(LuaStack.typeName(L, index))") }
        let table = lua_absindex(L, index)
        // First every name, so a typo is reported before any value is looked at.
        lua_pushnil(L)
        while lua_next(L, table) != 0 {
            guard let name = LuaStack.string(L, -2) else {
                let keyType = LuaStack.typeName(L, -2)
                luat_pop(L, 2)
                throw LuaError("options must be a table of named options (found a \(keyType) key)")
            }
            if !known.contains(name) {
                luat_pop(L, 2)
                var message = "unknown option \"\(name)\""
                if let guess = OptionSuggestion.closest(to: name, in: known) { message += " (did you mean \"\(guess)\"?)" }
                message += "; valid options are " + known.joined(separator: ", ")
                throw LuaError(message)
            }
            luat_pop(L, 1)
        }
        for name in known {
            LuaStack.getField(L, table, name)
            defer { luat_pop(L, 1) }
            if lua_type(L, -1) != LUA_TNIL { try read(name, lua_gettop(L)) }
        }
    }

    static func number(_ L: LuaStatePointer, _ index: Int32, option: String) throws(LuaError) -> Double {
        guard lua_type(L, index) == LUA_TNUMBER else {
            throw LuaError("\(option) must be a number, got \(LuaStack.typeName(L, index))")
        }
        if lua_isinteger(L, index) != 0 { return Double(luat_tointeger(L, index)) }
        return luat_tonumber(L, index)
    }

    static func putOptions(_ L: LuaStatePointer, _ index: Int32) throws(LuaError) -> PutOptions {
        var result = PutOptions()
        try options(L, index, known: ["expiration", "expirationTtl", "metadata"]) { (name, i) throws(LuaError) in
            switch name {
            case "metadata":
                do throws(LuaError) {
                    result.metadata = String(decoding: try LuaJSON.encode(L, at: i), as: UTF8.self)
                } catch {
                    throw LuaError("metadata cannot be encoded as JSON: \(error.message)")
                }
            default:
                let seconds = try number(L, i, option: name)
                do throws(KVError) {
                    // An integer keeps its exact value (and is shown as such in a refusal).
                    let value = lua_isinteger(L, i) != 0
                        ? try KVRules.seconds(fromInteger: luat_tointeger(L, i), option: name)
                        : try KVRules.seconds(fromNumber: seconds, option: name)
                    if name == "expiration" { result.expiration = value } else { result.expirationTtl = value }
                } catch {
                    throw LuaError(error.message)
                }
            }
        }
        return result
    }

    static func listOptions(_ L: LuaStatePointer, _ index: Int32) throws(LuaError) -> ListOptions {
        var result = ListOptions()
        try options(L, index, known: ["prefix", "limit", "cursor"]) { (name, i) throws(LuaError) in
            switch name {
            case "limit":
                let n = try number(L, i, option: "limit")
                result.limit = try kvCall { () throws(KVError) in try KVRules.listLimit(fromNumber: n) }
            default:
                guard let text = LuaStack.bytes(L, i) else {
                    throw LuaError("\(name) must be a string, got \(LuaStack.typeName(L, i))")
                }
                let string = String(decoding: text, as: UTF8.self)
                if name == "prefix" { result.prefix = string } else { result.cursor = string }
            }
        }
        return result
    }

    /// The bytes `put` stores for the value at `index`.
    static func valueBytes(_ L: LuaStatePointer, _ index: Int32) throws(LuaError) -> [UInt8] {
        switch lua_type(L, index) {
        case LUA_TSTRING: return LuaStack.bytes(L, index)!
        case LUA_TNUMBER: return LuaStack.numberText(L, index)
        case LUA_TTABLE:
            do throws(LuaError) { return try LuaJSON.encode(L, at: index) } catch { throw LuaError("value cannot be encoded as JSON: \(error.message)") }
        default:
            throw LuaError("value must be a string or table, got \(LuaStack.typeName(L, index))")
        }
    }
}

/// Keeps a `KVNamespace` alive for the userdata that points at it; `__gc` releases it.
final class NamespaceBox {
    let namespace: KVNamespace
    init(_ namespace: KVNamespace) { self.namespace = namespace }
}

// MARK: Lua-callable functions (run through the C trampoline; they never raise themselves)

/// Runs the namespace method `method` (`kv:method(usage)`): `body` gets the state and the
/// namespace behind `self` and returns the count of results it pushed; an error from either
/// is raised as `KV.method: message`.
@inline(__always)
private func namespaceMethod(_ L: LuaStatePointer?, _ method: String, usage: String,
                             _ body: (LuaStatePointer, KVNamespace) throws(LuaError) -> Int32) -> Int32 {
    let L = L!
    do throws(LuaError) {
        let ns = try KVBinding.namespace(L, method: method, usage: usage)
        return try body(L, ns)
    } catch {
        return LuaStack.raise(L, "KV.\(method): " + error.message)
    }
}

private func kvNamespace(_ L: LuaStatePointer?) -> Int32 {
    let L = L!
    guard let name = LuaStack.bytes(L, 1) else {
        var message = "KV.namespace: name must be a string, got \(LuaStack.typeName(L, 1))"
        if lua_type(L, 1) == LUA_TTABLE { message += " (call KV.namespace(name) with a dot)" }
        return LuaStack.raise(L, message)
    }
    let namespace: KVNamespace
    do throws(KVError) {
        namespace = try LuaContext.current(L).store.namespace(bytes: name)
    } catch {
        return LuaStack.raise(L, "KV.namespace: " + error.message)
    }
    LuaObjectUserdata.push(L, NamespaceBox(namespace), metatable: KVBinding.namespaceMetatable)
    return 1
}

private func kvNamespaceGC(_ L: LuaStatePointer?) -> Int32 {
    LuaObjectUserdata.release(L!, 1, metatable: KVBinding.namespaceMetatable, as: NamespaceBox.self)
    return 0
}

private func kvNamespaceToString(_ L: LuaStatePointer?) -> Int32 {
    let L = L!
    if let box = LuaObjectUserdata.object(L, 1, metatable: KVBinding.namespaceMetatable, as: NamespaceBox.self) {
        LuaStack.push(L, "KVNamespace(" + box.namespace.name + ")")
    } else {
        LuaStack.push(L, "KVNamespace")
    }
    return 1
}

private func kvGet(_ L: LuaStatePointer?) -> Int32 {
    namespaceMethod(L, "get", usage: "key, type?") { (L, ns) throws(LuaError) -> Int32 in
        let type = try KVBinding.readType(L, 3)
        if lua_type(L, 2) == LUA_TTABLE {
            try KVBinding.pushBulk(L, ns) { (key, entry) throws(LuaError) in
                try KVBinding.pushValue(L, entry.value, as: type, key: key)
            }
            return 1
        }
        if type != .json {
            // The fast path: the key is read in Lua's memory and the value pushed straight
            // from SQLite's, with no copy in between.
            guard let key = LuaStack.view(L, 2) else {
                throw LuaError("key must be a string, got \(LuaStack.typeName(L, 2))")
            }
            let found = try kvCall { () throws(KVError) -> Bool in
                try ns.withValue(keyBytes: key) { value in
                    guard let value else { return false }
                    LuaStack.push(L, value)
                    return true
                }
            }
            if !found { lua_pushnil(L) }
            return 1
        }
        let key = try KVBinding.key(L, 2)
        let value = try kvCall { () throws(KVError) in try ns.get(keyBytes: key) }
        guard let value else { lua_pushnil(L); return 1 }
        try KVBinding.pushValue(L, value, as: type, key: key)
        return 1
    }
}

private func kvGetWithMetadata(_ L: LuaStatePointer?) -> Int32 {
    namespaceMethod(L, "getWithMetadata", usage: "key, type?") { (L, ns) throws(LuaError) -> Int32 in
        let type = try KVBinding.readType(L, 3)
        if lua_type(L, 2) == LUA_TTABLE {
            try KVBinding.pushBulk(L, ns) { (key, entry) throws(LuaError) in
                lua_createtable(L, 0, 4)
                try KVBinding.pushValue(L, entry.value, as: type, key: key)
                LuaStack.setField(L, -2, "value")
                try KVBinding.setMetaFields(L, entry)
            }
            return 1
        }
        let key = try KVBinding.key(L, 2)
        let found = try kvCall { () throws(KVError) in try ns.getWithMetadata(keyBytes: key) }
        guard let entry = found else {
            lua_pushnil(L)
            lua_pushnil(L)
            return 2
        }
        try KVBinding.pushValue(L, entry.value, as: type, key: key)
        lua_createtable(L, 0, 3)
        try KVBinding.setMetaFields(L, entry)
        return 2
    }
}

private func kvPut(_ L: LuaStatePointer?) -> Int32 {
    namespaceMethod(L, "put", usage: "key, value, options?") { (L, ns) throws(LuaError) -> Int32 in
        let key = try KVBinding.key(L, 2)
        let value = try KVBinding.valueBytes(L, 3)
        let options = try KVBinding.putOptions(L, 4)
        try kvCall { () throws(KVError) in try ns.put(keyBytes: key, value, options) }
        return 0
    }
}

private func kvDelete(_ L: LuaStatePointer?) -> Int32 {
    namespaceMethod(L, "delete", usage: "key") { (L, ns) throws(LuaError) -> Int32 in
        let key = try KVBinding.key(L, 2)
        try kvCall { () throws(KVError) in try ns.delete(keyBytes: key) }
        return 0
    }
}

private func kvIncrement(_ L: LuaStatePointer?) -> Int32 {
    namespaceMethod(L, "increment", usage: "key, n?") { (L, ns) throws(LuaError) -> Int32 in
        let key = try KVBinding.key(L, 2)
        let n = try KVBinding.counterDelta(L, 3, default: 1)
        let value = try kvCall { () throws(KVError) in try ns.increment(keyBytes: key, by: n) }
        lua_pushinteger(L, value)
        return 1
    }
}

private func kvList(_ L: LuaStatePointer?) -> Int32 {
    namespaceMethod(L, "list", usage: "options?") { (L, ns) throws(LuaError) -> Int32 in
        let options = try KVBinding.listOptions(L, 2)
        let page = try kvCall { () throws(KVError) in try ns.list(options) }
        lua_createtable(L, 0, 3)
        lua_createtable(L, Int32(clamping: page.keys.count), 0)
        for (i, key) in page.keys.enumerated() {
            lua_createtable(L, 0, 3)
            LuaStack.push(L, key.name)
            LuaStack.setField(L, -2, "name")
            if let expiration = key.expiration {
                lua_pushinteger(L, expiration)
                LuaStack.setField(L, -2, "expiration")
            }
            try KVBinding.pushMetadata(L, key.metadata)
            LuaStack.setField(L, -2, "metadata")
            lua_rawseti(L, -2, Int64(i + 1))
        }
        LuaStack.setField(L, -2, "keys")
        lua_pushboolean(L, page.listComplete ? 1 : 0)
        LuaStack.setField(L, -2, "list_complete")
        if let cursor = page.cursor {
            LuaStack.push(L, cursor)
            LuaStack.setField(L, -2, "cursor")
        }
        return 1
    }
}

/// Runs a store call, turning its `KVError` into the `LuaError` the binding raises.
@inline(__always)
func kvCall<T>(_ body: () throws(KVError) -> T) throws(LuaError) -> T {
    do { return try body() } catch { throw LuaError(error.message) }
}

extension KVBinding {
    /// A bulk read: pushes a table from each key of the table at stack index 2 that exists to
    /// the one value `pushEntry` pushes for its entry.
    static func pushBulk(_ L: LuaStatePointer, _ ns: KVNamespace,
                         _ pushEntry: (_ key: [UInt8], _ entry: KVEntry) throws(LuaError) -> Void) throws(LuaError) {
        let keys = try keyList(L, 2)
        let entries = try kvCall { () throws(KVError) in try ns.getMany(keyBytes: keys) }
        var found: [(key: [UInt8], entry: KVEntry)] = []
        for (key, entry) in zip(keys, entries) where entry != nil { found.append((key, entry!)) }
        lua_createtable(L, 0, Int32(found.count))
        for (key, entry) in found {
            LuaStack.push(L, key)
            try pushEntry(key, entry)
            lua_rawset(L, -3)
        }
    }

    /// Sets `expiration` (when there is one), `metadata` and `version` on the table on top of
    /// the stack, the shape of `getWithMetadata`'s second result.
    static func setMetaFields(_ L: LuaStatePointer, _ entry: KVEntry) throws(LuaError) {
        if let expiration = entry.expiration {
            lua_pushinteger(L, expiration)
            LuaStack.setField(L, -2, "expiration")
        }
        if let version = entry.version {
            LuaStack.push(L, version.description)
            LuaStack.setField(L, -2, "version")
        }
        try pushMetadata(L, entry.metadata)
        LuaStack.setField(L, -2, "metadata")
    }
}
