import Benchmark
import KVCore
import LuaRuntime
import LuatRouting

// Issue 15: what a `luat serve` worker spends around a route's own Lua code. Both benchmarks
// run the same `+server.lua` (one `kv:get` on the memory backend, a `{ status, body, headers }`
// result) on one Lua state:
// - `route_0_lua`: the floor. A Lua loop builds the `ctx` table `luat serve` gives a route,
//   calls `GET` through the same invoker and reads the result's `status`, `body` and
//   `headers` in Lua: the work nginx + Lua does, without leaving Lua.
// - `route_1_serve`: what the worker does per request, from the parsed request to the
//   response bytes: `RequestContext`, `RouteDispatcher.respond` (ctx into Lua, the call,
//   the result out of Lua and into a `RouteResponse`).
// The ratio is the cost of crossing between Swift and Lua per request.

/// One route on one Lua state over an in-memory store.
final class RouteSide {
    static let file = "src/routes/hello/+server.lua"
    static let source = """
        local kv = KV.namespace("bench")
        kv:put("hello", string.rep("v", 100))

        function GET(ctx)
          return { status = 200, body = kv:get("hello"), headers = { ["Content-Type"] = "text/plain" } }
        end

        function floor_batch(count)
          local call, GET = \(LuaRouteEngine.invoker), GET
          local n = 0
          for i = 1, count do
            local ctx = {
              method = "GET", url = "http://127.0.0.1:8080/hello", path = "/hello",
              params = {}, query = {}, headers = { host = "127.0.0.1:8080" }, form = {}, rawBody = "",
            }
            local r = call(GET, ctx)
            if r.status == 200 and #r.body == 100 and r.headers["Content-Type"] then n = n + 1 end
          end
          return n
        end
        """
    let engine: LuaRouteEngine
    let route = Route(pattern: try! RoutePattern(folders: ["hello"]), files: RouteFiles(endpoint: RouteSide.file), folder: "hello")
    let dispatcher = RouteDispatcher(production: true)

    init() {
        let store = KVStore(storage: MemoryStorage(), clock: SystemClock())
        let runtime = try! LuaRuntime(store: store, projectRoot: "/bench", files: MemoryFileSource(["/bench/" + RouteSide.file: RouteSide.source]))
        engine = try! LuaRouteEngine(runtime: runtime)
        _ = try! engine.exports(of: RouteSide.file)
    }

    /// The request as `luat serve` builds it for `GET /hello` from wrk.
    func request() -> RequestContext {
        var ctx = RequestContext(method: "GET", url: "http://127.0.0.1:8080/hello", path: "/hello",
                                 headers: RequestContext.mergedHeaders([("Host", "127.0.0.1:8080")]))
        ctx.parseBody()
        return ctx
    }
}

nonisolated(unsafe) var routeSide: RouteSide? = nil

func routeCallBenchmarks() {
    let setUp = { if routeSide == nil { routeSide = RouteSide() } }
    Benchmark("route_0_lua", configuration: configuration(setup: setUp)) { benchmark in
        let environment = try! routeSide!.engine.runtime.loadEnvironment(file: RouteSide.file)
        timed(benchmark, operations: 2000) {
            let done = try! environment.call("floor_batch", arguments: [.integer(2000)])
            precondition(done == [.integer(2000)])
        }
    }
    Benchmark("route_1_serve", configuration: configuration(setup: setUp)) { benchmark in
        let side = routeSide!
        timed(benchmark, operations: 2000) {
            for _ in 0..<2000 {
                let response = side.dispatcher.respond(to: side.request(), route: side.route, engine: side.engine)
                precondition(response.status == 200 && response.body.count == 100)
            }
        }
    }
}
