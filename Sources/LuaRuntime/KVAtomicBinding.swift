import CLuaShim
import KVCore

/// `KV.atomic()`: a Lua object that collects checks and mutations into a `KVAtomic` and
/// commits them. Each method validates its arguments at once (through KVCore, with the
/// messages of `put` and `delete`) and returns the object itself, for chaining:
///
/// ```lua
/// local ok, version = KV.atomic():check(ns, "k", nil):put(ns, "k", "v"):commit()
/// ```
///
/// `commit()` returns `true, version` when every check held and the mutations were
/// written, `false` when a check failed (nothing written). The object may be committed
/// again (each commit is judged anew). Errors are raised as `KV.atomic:<method>: <message>`.
enum KVAtomicBinding {
    static let metatable = "luat.KVAtomic"

    static func installMetatable(_ L: LuaStatePointer) {
        LuaObjectUserdata.newMetatable(
            L, metatable, typeName: "KVAtomic",
            methods: [("check", atomicCheck), ("put", atomicPut), ("delete", atomicDelete),
                      ("sum", atomicSum), ("commit", atomicCommit)],
            gc: atomicGC)
        luat_pop(L, 1)
    }

    /// The builder behind the method's `self`, or the error that tells to use a colon.
    static func box(_ L: LuaStatePointer, method: String, usage: String) throws(LuaError) -> AtomicBox {
        guard let box = LuaObjectUserdata.object(L, 1, metatable: metatable, as: AtomicBox.self) else {
            throw LuaError("call it as a method with a colon: atomic:\(method)(\(usage)), not atomic.\(method)(...)")
        }
        return box
    }

    /// `KV.atomic()`: a new, empty atomic commit over the state's store.
    static let create: luat_SwiftFunction = { L in
        let L = L!
        let atomic = LuaContext.current(L).store.atomic()
        LuaObjectUserdata.push(L, AtomicBox(atomic), metatable: metatable)
        return 1
    }

    /// Runs one builder method: `body` returns the builder with the operation added; the
    /// object itself is returned to Lua.
    static func add(_ L: LuaStatePointer, _ method: String, usage: String,
                    _ body: (KVAtomic) throws(LuaError) -> KVAtomic) -> Int32 {
        do throws(LuaError) {
            let box = try box(L, method: method, usage: usage)
            box.atomic = try body(box.atomic)
            lua_settop(L, 1)
            return 1
        } catch {
            return LuaStack.raise(L, "KV.atomic:\(method): " + error.message)
        }
    }
}

/// Keeps a `KVAtomic` alive for the userdata that points at it; `__gc` releases it.
final class AtomicBox {
    var atomic: KVAtomic
    init(_ atomic: KVAtomic) { self.atomic = atomic }
}

// MARK: Lua-callable functions (run through the C trampoline; they never raise themselves)

private func atomicCheck(_ L: LuaStatePointer?) -> Int32 {
    let L = L!
    return KVAtomicBinding.add(L, "check", usage: "namespace, key, version") { (atomic) throws(LuaError) -> KVAtomic in
        let ns = try KVBinding.namespaceArgument(L, 2)
        let key = try KVBinding.key(L, 3)
        let version: KVVersion?
        switch lua_type(L, 4) {
        case LUA_TNONE:
            throw LuaError("version must be given: a version from getWithMetadata, or nil for \"must be absent\"")
        case LUA_TNIL:
            version = nil
        case LUA_TSTRING:
            let text = LuaStack.string(L, 4) ?? ""
            version = try kvCall { () throws(KVError) in try KVRules.version(fromText: text) }
        default:
            throw LuaError("version must be a string or nil, got \(LuaStack.typeName(L, 4))")
        }
        return try kvCall { () throws(KVError) in try atomic.check(ns, keyBytes: key, version) }
    }
}

private func atomicPut(_ L: LuaStatePointer?) -> Int32 {
    let L = L!
    return KVAtomicBinding.add(L, "put", usage: "namespace, key, value, options?") { (atomic) throws(LuaError) -> KVAtomic in
        let ns = try KVBinding.namespaceArgument(L, 2)
        let key = try KVBinding.key(L, 3)
        let value = try KVBinding.valueBytes(L, 4)
        let options = try KVBinding.putOptions(L, 5)
        return try kvCall { () throws(KVError) in try atomic.put(ns, keyBytes: key, value, options) }
    }
}

private func atomicDelete(_ L: LuaStatePointer?) -> Int32 {
    let L = L!
    return KVAtomicBinding.add(L, "delete", usage: "namespace, key") { (atomic) throws(LuaError) -> KVAtomic in
        let ns = try KVBinding.namespaceArgument(L, 2)
        let key = try KVBinding.key(L, 3)
        return try kvCall { () throws(KVError) in try atomic.delete(ns, keyBytes: key) }
    }
}

private func atomicSum(_ L: LuaStatePointer?) -> Int32 {
    let L = L!
    return KVAtomicBinding.add(L, "sum", usage: "namespace, key, n") { (atomic) throws(LuaError) -> KVAtomic in
        let ns = try KVBinding.namespaceArgument(L, 2)
        let key = try KVBinding.key(L, 3)
        let n = try KVBinding.counterDelta(L, 4, default: nil)
        return try kvCall { () throws(KVError) in try atomic.sum(ns, keyBytes: key, n) }
    }
}

private func atomicCommit(_ L: LuaStatePointer?) -> Int32 {
    let L = L!
    do throws(LuaError) {
        let box = try KVAtomicBinding.box(L, method: "commit", usage: "")
        let atomic = box.atomic
        guard let version = try kvCall({ () throws(KVError) in try atomic.commit() }) else {
            lua_pushboolean(L, 0)
            return 1
        }
        lua_pushboolean(L, 1)
        LuaStack.push(L, version.description)
        return 2
    } catch {
        return LuaStack.raise(L, "KV.atomic:commit: " + error.message)
    }
}

private func atomicGC(_ L: LuaStatePointer?) -> Int32 {
    LuaObjectUserdata.release(L!, 1, metatable: KVAtomicBinding.metatable, as: AtomicBox.self)
    return 0
}
