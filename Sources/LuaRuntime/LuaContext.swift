import CLuaShim
import KVCore

/// What the Lua-callable Swift functions of one state need: the store, the project's module
/// rules and the file source. Kept alive by its `LuaRuntime`; the state's extra space holds
/// an unretained pointer to it (copied into every coroutine).
final class LuaContext {
    let store: KVStore
    let resolver: ModuleResolver
    let files: any LuaFileSource
    let print: (([UInt8]) -> Void)?

    init(store: KVStore, resolver: ModuleResolver, files: any LuaFileSource, print: (([UInt8]) -> Void)?) {
        self.store = store
        self.resolver = resolver
        self.files = files
        self.print = print
    }

    static func current(_ L: LuaStatePointer) -> LuaContext {
        Unmanaged<LuaContext>.fromOpaque(luat_extraspace(L)!.pointee!).takeUnretainedValue()
    }

    func attach(to L: LuaStatePointer) {
        luat_extraspace(L)!.pointee = Unmanaged.passUnretained(self).toOpaque()
    }

    /// Loads Lua source as a chunk named after `path` (shown relative to the project root).
    ///
    /// The chunk gets its own `require`, bound to its file, so relative names resolve from the
    /// file's folder even in a tail call (`return require("./impl")`), where the caller's
    /// frame is gone. It is declared on line 1 in front of the source, so line numbers stay
    /// true. A first line starting with `#` (a shebang) is skipped, as the `lua` command does.
    func load(_ L: LuaStatePointer, _ source: [UInt8], path: String) throws(LuaError) {
        var prefix = Array("local require = \(requireBinderGlobal)(".utf8) + Self.luaStringLiteral(path) + Array(");".utf8)
        if source.first == UInt8(ascii: "#") { prefix += [0x2D, 0x2D] }
        let chunk = prefix + source
        let name = "@" + resolver.display(path)
        let status = chunk.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                luat_loadbuffer(L, $0, buffer.count, name)
            }
        }
        if status != LUA_OK {
            let message = LuaStack.string(L, -1) ?? "cannot load \(resolver.display(path))"
            luat_pop(L, 1)
            throw LuaError(message)
        }
    }

    /// `text` as a Lua string literal with decimal escapes for anything unusual.
    static func luaStringLiteral(_ text: String) -> [UInt8] {
        var out: [UInt8] = [0x22]
        for c in text.utf8 {
            if c == 0x22 || c == 0x5C || c < 0x20 || c == 0x7F {
                out.append(0x5C)
                let digits = Array("\(c)".utf8)
                out.append(contentsOf: Array(repeating: UInt8(ascii: "0"), count: 3 - digits.count) + digits)
            } else {
                out.append(c)
            }
        }
        out.append(0x22)
        return out
    }

    /// The absolute path of the Lua file nearest up the call stack (the caller of `require`).
    func callerFile(_ L: LuaStatePointer) -> String? {
        var level: Int32 = 1
        var ar = lua_Debug()
        while lua_getstack(L, level, &ar) != 0 {
            if lua_getinfo(L, "S", &ar) != 0, let source = ar.source, source.pointee == 0x40 {
                return resolver.absolute(fromDisplay: String(cString: source + 1))
            }
            level += 1
        }
        return nil
    }
}

// MARK: require

/// Registry table: absolute module path → the module's value (loaded once per state).
let moduleCacheKey = "luat.modules"

/// The global through which every loaded chunk gets its file-bound `require`.
let requireBinderGlobal = "__luat_require_for"

/// `find(name, caller?)`: returns the module's absolute path, plus its compiled chunk when it
/// is not loaded yet. `caller` is the requiring file's absolute path; without it the nearest
/// Lua file up the call stack is the caller.
func requireFind(_ L: LuaStatePointer?) -> Int32 {
    let L = L!
    let context = LuaContext.current(L)
    guard let name = LuaStack.string(L, 1) else { return LuaStack.raise(L, "require: module name must be a string") }
    do throws(LuaError) {
        let caller = LuaStack.string(L, 2) ?? context.callerFile(L)
        let candidates = try context.resolver.candidates(for: name, callerFile: caller)
        let rootResolved = context.files.resolvedPath(context.resolver.root)
        for path in candidates {
            luat_getmetatable(L, moduleCacheKey)
            LuaStack.push(L, path)
            let cached = lua_rawget(L, -2) != LUA_TNIL
            luat_pop(L, 2)
            if cached {
                LuaStack.push(L, path)
                return 1
            }
            guard let source = context.files.readFile(atPath: path) else { continue }
            guard LuaPath.isInside(context.files.resolvedPath(path), rootResolved) else {
                throw LuaError("module \"\(name)\" resolves through a link to a file outside the project folder")
            }
            LuaStack.push(L, path)
            do throws(LuaError) {
                try context.load(L, source, path: path)
            } catch {
                throw LuaError("error loading module \"\(name)\" from \(context.resolver.display(path)): \(error.message)")
            }
            return 2
        }
        throw LuaError("module \"\(name)\" not found; tried:" + candidates.map { "\n\t" + context.resolver.display($0) }.joined())
    } catch {
        return LuaStack.raise(L, "require: " + error.message)
    }
}

// MARK: fail

/// `fail(status, data)`: a form action's failure, `{ status = status, <every key of data> }`.
func luaFail(_ L: LuaStatePointer?) -> Int32 {
    let L = L!
    guard lua_type(L, 1) == LUA_TNUMBER else {
        return LuaStack.raise(L, "fail: status must be an integer HTTP status, got \(LuaStack.typeName(L, 1))")
    }
    var isInteger: Int32 = 0
    let status = lua_tointegerx(L, 1, &isInteger)
    guard isInteger != 0, status >= 100, status <= 599 else {
        return LuaStack.raise(L, "fail: status must be an integer HTTP status from 100 to 599 (got \(String(decoding: LuaStack.numberText(L, 1), as: UTF8.self)))")
    }
    let dataType = lua_type(L, 2)
    guard dataType == LUA_TNIL || dataType == LUA_TNONE || dataType == LUA_TTABLE else {
        return LuaStack.raise(L, "fail: data must be a table, got \(LuaStack.typeName(L, 2))")
    }
    lua_createtable(L, 0, 4)
    let result = lua_gettop(L)
    if dataType == LUA_TTABLE {
        lua_pushnil(L)
        while lua_next(L, 2) != 0 {
            lua_pushvalue(L, -2)
            lua_rotate(L, -2, 1)
            lua_rawset(L, result)
        }
    }
    lua_pushinteger(L, status)
    LuaStack.setField(L, result, "status")
    return 1
}

// MARK: print and error messages

func luaWrite(_ L: LuaStatePointer?) -> Int32 {
    let L = L!
    if let bytes = LuaStack.bytes(L, 1) { LuaContext.current(L).print?(bytes) }
    return 0
}

/// Registry key of the message handler of every protected call (`luat_msghandler`).
let messageHandlerKey = "luat.msgh"
