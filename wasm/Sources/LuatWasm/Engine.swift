import CLuatHost
import KVCore
import LuaRuntime
import LuatRouting

/// The KV store's clock in WASM: asks the host (JavaScript's `Date.now()`, or the clock the
/// engine was created with) through the `luat.now_ms` import.
final class HostClock: KVClock {
    func nowSeconds() -> Int64 {
        let ms = luat_host_now_ms()
        guard ms.isFinite else { return 0 }
        return Int64((ms / 1000).rounded(.down))
    }
}

/// One engine per WebAssembly instance: a Lua state with Luat's globals over an in-memory
/// KV store that lives as long as the instance. Files (`require`d modules) are held in memory.
final class WasmEngine {
    static let projectRoot = "/project"

    let files: MemoryFileSource
    let store: KVStore
    let runtime: LuaRuntime
    /// Route files loaded into environments of their own (LuatRouting's `RouteEngine`).
    let routes: LuaRouteFiles

    init() throws(LuaError) {
        files = MemoryFileSource()
        store = KVStore(storage: MemoryStorage(), clock: HostClock())
        // print: nil keeps Lua's own print (stdout), which the host captures with io.write's output.
        runtime = try LuaRuntime(store: store, projectRoot: WasmEngine.projectRoot, libDirectory: "src/lib", files: files)
        routes = try LuaRouteFiles(runtime: runtime)
    }

    /// `engine.run(source)`: runs `source` in the global environment; the results or the error.
    func run(_ request: JSONValue) -> JSONValue {
        guard case .string(let source)? = request["source"] else { return Self.failure("run: source must be a string") }
        var name = "main.lua"
        if case .string(let given)? = request["name"] { name = given }
        do throws(LuaError) {
            let results = try runtime.run(source: source, name: name)
            return .object([("results", .array(results.map(Self.json)))])
        } catch {
            return Self.failure(error)
        }
    }

    /// `engine.executeRoute` / `executeApi` / `executeAction` / `executeLoad`: answers the
    /// request (see `RouteRequest`) with LuatRouting's dispatcher, as `luat serve` would; the
    /// answer is the status, the headers (JSON pairs) and the body bytes. Route files named
    /// by path are loaded once and kept until `writeFile`; inline sources load afresh each call.
    func route(_ requestBytes: [UInt8]) -> (meta: JSONValue, body: [UInt8]) {
        let request: RouteRequest
        do throws(JSONError) {
            let json = try JSONValue.parse(requestBytes)
            do throws(RouteRequest.Invalid) {
                request = try RouteRequest(json)
            } catch {
                return (Self.failure(error.message), [])
            }
        } catch {
            return (Self.failure("bad request: " + error.message), [])
        }
        routes.inlineSources = request.sources
        defer { routes.inlineSources = [:] }
        var response = RouteDispatcher(production: request.production)
            .respond(files: request.files, method: request.method, action: request.action, ctx: request.ctx, engine: routes)
        // HEAD: the GET answer without its body (the host has no Content-Length to keep).
        if request.method == "HEAD" { response.body = [] }
        var headers: [JSONValue] = []
        for header in response.headers { headers.append(.array([.string(header.name), .string(header.value)])) }
        return (.object([("status", .integer(Int64(response.status))), ("headers", .array(headers))]), response.body)
    }

    /// `engine.writeFile(path, source)`: adds or replaces a file under the project root.
    func writeFile(_ request: JSONValue) -> JSONValue {
        guard case .string(let path)? = request["path"], case .string(let source)? = request["source"] else {
            return Self.failure("writeFile: path and source must be strings")
        }
        files.files[LuaPath.join(WasmEngine.projectRoot, path)] = Array(source.utf8)
        routes.invalidate()  // route files load again (modules already `require`d stay)
        return .object([])
    }

    // MARK: JSON for the host

    static func failure(_ message: String) -> JSONValue {
        .object([("error", .object([("message", .string(message))]))])
    }

    static func failure(_ error: LuaError) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("message", .string(error.message))]
        if let traceback = error.traceback { members.append(("traceback", .string(traceback))) }
        return .object([("error", .object(members))])
    }

    /// A Lua result as JSON for the host: tables through the runtime's JSON rules; what JSON
    /// cannot hold (functions, userdata, non-UTF-8 strings, NaN) as a descriptive string.
    static func json(_ value: LuaValue) -> JSONValue {
        if case .string(let bytes) = value, !isUTF8(bytes) { return .string(String(decoding: bytes, as: UTF8.self)) }
        do throws(LuaError) {
            return try LuaJSON.jsonValue(value)
        } catch {
            switch value {
            case .number(let d): return .string(d.isNaN ? "nan" : (d < 0 ? "-inf" : "inf"))
            case .table: return .string("table (cannot be written as JSON: \(error.message))")
            default: return .string(value.typeName)
            }
        }
    }

    static func isUTF8(_ bytes: [UInt8]) -> Bool { UTF8Validation.isValid(bytes) }
}
