import KVCore
@testable import LuatServer
import Testing

/// A script engine answering from Swift closures, to test how results become responses.
final class FakeEngine: RouteScriptEngine {
    var exportsByFile: [String: RouteExports] = [:]
    var results: [String: (RequestContext) throws -> ScriptReturn] = [:]
    var calls: [String] = []

    func exports(of file: String) throws(ScriptError) -> RouteExports { exportsByFile[file] ?? RouteExports() }

    func call(file: String, function: [String], ctx: RequestContext) throws(ScriptError) -> ScriptReturn {
        let key = file + ":" + function.joined(separator: ".")
        calls.append(key)
        guard let result = results[key] else { throw ScriptError(message: "no fake for \(key)") }
        do {
            return try result(ctx)
        } catch let error as ScriptError {
            throw error
        } catch {
            throw ScriptError(message: "\(error)")
        }
    }
}

@Suite struct RouteDispatcherTests {
    let dispatcher = RouteDispatcher(production: false)

    func route(endpoint: String? = nil, page: String? = nil, layouts: [String] = []) -> Route {
        Route(pattern: RoutePattern(segments: []), endpoint: endpoint, page: page, layouts: layouts, folder: ".")
    }

    func ctx(_ method: String, action: String? = nil) -> RequestContext {
        RequestContext(method: method, url: "http://h/", path: "/", action: action)
    }

    func json(_ r: RouteResponse) -> JSONValue? { try? JSONValue.parse(r.body) }

    @Test func endpointShapes() {
        #expect(RouteDispatcher.endpointResponse(.value(nil)) == RouteResponse(status: 200))
        let text = RouteDispatcher.endpointResponse(.value(.string("hi")))
        #expect(text.body == Array("hi".utf8) && text.header("content-type") == "text/plain; charset=utf-8")
        let full = RouteDispatcher.endpointResponse(.value(.object([
            ("status", .integer(201)), ("body", .object([("id", .integer(1))])), ("headers", .object([("X-A", .string("1"))])),
        ])))
        #expect(full.status == 201 && full.header("Content-Type") == "application/json" && full.header("x-a") == "1")
        #expect(full.body == Array(#"{"id":1}"#.utf8))
        // What fail(400, { error = "x" }) returns.
        let failed = RouteDispatcher.endpointResponse(.value(.object([("error", .string("x")), ("status", .integer(400))])))
        #expect(failed.status == 400 && failed.body == Array(#"{"error":"x"}"#.utf8))
        let redirect = RouteDispatcher.endpointResponse(.value(.object([("redirect", .string("/x"))])))
        #expect(redirect.status == 303 && redirect.header("Location") == "/x")
        let custom = RouteDispatcher.endpointResponse(.value(.object([("status", .integer(200)), ("body", .string("<p>")), ("headers", .object([("Content-Type", .string("text/html"))]))])))
        #expect(custom.header("content-type") == "text/html" && custom.headers.count == 1)
    }

    @Test func headAndMethodNotAllowed() {
        let engine = FakeEngine()
        engine.exportsByFile["e"] = RouteExports(functions: ["GET", "POST"])
        engine.results["e:GET"] = { _ in .value(.object([("body", .string("hello"))])) }
        let head = dispatcher.respond(route: route(endpoint: "e"), ctx: ctx("HEAD"), engine: engine)
        #expect(engine.calls == ["e:GET"])
        #expect(head.status == 200 && head.body == Array("hello".utf8))  // the HTTP layer sends no body
        let put = dispatcher.respond(route: route(endpoint: "e"), ctx: ctx("PUT"), engine: engine)
        #expect(put.status == 405 && put.header("Allow") == "GET, HEAD, POST")
    }

    @Test func layoutsMergeUnderThePage() {
        let engine = FakeEngine()
        for f in ["l1", "l2", "p"] { engine.exportsByFile[f] = RouteExports(functions: ["load"]) }
        engine.results["l1:load"] = { _ in .value(.object([("site", .string("S")), ("title", .string("outer"))])) }
        engine.results["l2:load"] = { _ in .value(.object([("section", .string("blog"))])) }
        engine.results["p:load"] = { _ in .value(.object([("title", .string("page")), ("status", .integer(404))])) }
        let r = dispatcher.respond(route: route(page: "p", layouts: ["l1", "l2"]), ctx: ctx("GET"), engine: engine)
        #expect(engine.calls == ["l1:load", "l2:load", "p:load"])
        #expect(r.status == 404)
        #expect(r.body == Array(#"{"site":"S","title":"page","section":"blog"}"#.utf8))
    }

    @Test func actions() {
        let engine = FakeEngine()
        engine.exportsByFile["p"] = RouteExports(functions: [], actions: ["default": .function, "publish": .methods(["POST"])])
        engine.results["p:actions.default"] = { _ in .value(.object([("saved", .bool(true))])) }
        engine.results["p:actions.publish.POST"] = { _ in .value(.object([("redirect", .string("/done"))])) }
        let saved = dispatcher.respond(route: route(page: "p"), ctx: ctx("POST"), engine: engine)
        #expect(saved.status == 200 && saved.body == Array(#"{"saved":true}"#.utf8))
        let published = dispatcher.respond(route: route(page: "p"), ctx: ctx("POST", action: "publish"), engine: engine)
        #expect(published.status == 303 && published.header("location") == "/done")
        #expect(dispatcher.respond(route: route(page: "p"), ctx: ctx("DELETE", action: "publish"), engine: engine).status == 405)
        #expect(dispatcher.respond(route: route(page: "p"), ctx: ctx("POST", action: "nope"), engine: engine).status == 404)
        // A page without actions answers GET only.
        engine.exportsByFile["q"] = RouteExports(functions: ["load"])
        let notAllowed = dispatcher.respond(route: route(page: "q"), ctx: ctx("POST"), engine: engine)
        #expect(notAllowed.status == 405 && notAllowed.header("Allow") == "GET, HEAD")
    }

    @Test func luaErrors() {
        let engine = FakeEngine()
        engine.exportsByFile["e"] = RouteExports(functions: ["GET"])
        engine.results["e:GET"] = { _ in throw ScriptError(luaMessage: "src/routes/+server.lua:3: boom") }
        let dev = dispatcher.respond(route: route(endpoint: "e"), ctx: ctx("GET"), engine: engine)
        #expect(dev.status == 500)
        #expect(json(dev)?["message"] == .string("boom"))
        #expect(json(dev)?["location"] == .string("src/routes/+server.lua:3"))
        let prod = RouteDispatcher(production: true).respond(route: route(endpoint: "e"), ctx: ctx("GET"), engine: engine)
        #expect(prod.status == 500 && prod.body == Array(#"{"error":"Internal Server Error"}"#.utf8))
    }
}
