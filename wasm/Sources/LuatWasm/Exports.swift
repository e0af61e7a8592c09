import CLuatHost
import KVCore
import LuaRuntime
import LuatRouting

// The module's interface to JavaScript (see wasm/luat.mjs). Requests are JSON written into
// memory from `luat_alloc`; every answer is left in one result buffer, read through
// `luat_result_ptr` / `luat_result_len` until the next call:
//
//     [UInt32 little-endian: length of the JSON part] [JSON part] [body bytes]
//
// Operations of `luat_call`: 1 run, 2 route (executeRoute / executeApi / executeAction / executeLoad),
// 3 writeFile, 4 match (route), 5 request. Lua's stdout and stderr reach the host through WASI `fd_write`.

nonisolated(unsafe) var engine: WasmEngine? = nil
nonisolated(unsafe) var resultBuffer: [UInt8] = []

func setResult(_ meta: JSONValue, body: [UInt8] = []) {
    let json = (try? meta.serialized()) ?? Array(#"{"error":{"message":"the answer cannot be written as JSON"}}"#.utf8)
    var out: [UInt8] = []
    out.reserveCapacity(4 + json.count + body.count)
    let n = UInt32(json.count)
    out.append(UInt8(truncatingIfNeeded: n))
    out.append(UInt8(truncatingIfNeeded: n >> 8))
    out.append(UInt8(truncatingIfNeeded: n >> 16))
    out.append(UInt8(truncatingIfNeeded: n >> 24))
    out.append(contentsOf: json)
    out.append(contentsOf: body)
    resultBuffer = out
}

/// Creates the engine (the Lua state and its store). 0 on success; else the result holds the error.
@_cdecl("luat_init")
public func luatInit() -> Int32 {
    if engine != nil { return 0 }
    do throws(ScriptError) {
        engine = try WasmEngine()
        setResult(.object([]))
        return 0
    } catch {
        setResult(.object([("error", .object([("message", .string(error.description))]))]))
        return 1
    }
}

/// Runs operation `op` on the request (`length` bytes of JSON at `request`). Returns 0; the
/// answer is in the result buffer (an `error` member says the operation failed).
@_cdecl("luat_call")
public func luatCall(_ op: Int32, _ request: UnsafePointer<UInt8>?, _ length: Int32) -> Int32 {
    guard let engine else {
        setResult(WasmEngine.failure("the engine is not initialised"))
        return 1
    }
    let bytes = request.map { Array(UnsafeBufferPointer(start: $0, count: Int(length))) } ?? []
    defer { luat_flush_stdio() }
    switch op {
    case 2:
        let answer = engine.route(bytes)
        luat_flush_stdio()
        setResult(answer.meta, body: answer.body)
        return 0
    case 1, 3, 4, 5:
        let parsed: JSONValue
        do throws(JSONError) {
            parsed = try JSONValue.parse(bytes)
        } catch {
            setResult(WasmEngine.failure("bad request: " + error.message))
            return 1
        }
        let answer: (meta: JSONValue, body: [UInt8])
        switch op {
        case 1: answer = (engine.run(parsed), [])
        case 3: answer = (engine.writeFile(parsed), [])
        case 4: answer = (engine.match(parsed), [])
        default: answer = engine.request(parsed)
        }
        luat_flush_stdio()
        setResult(answer.meta, body: answer.body)
        return 0
    default:
        setResult(WasmEngine.failure("unknown operation"))
        return 1
    }
}

@_cdecl("luat_result_ptr")
public func luatResultPointer() -> UnsafePointer<UInt8>? {
    resultBuffer.withUnsafeBufferPointer { $0.baseAddress }
}

@_cdecl("luat_result_len")
public func luatResultLength() -> Int32 {
    Int32(resultBuffer.count)
}
