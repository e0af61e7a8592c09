import KVCore
import LuatRouting
import Testing

/// The request a fake route function sees.
struct FakeContext {
    var method: String
    var action: String?
}

/// A script engine answering from Swift closures, to test how results become responses.
final class FakeEngine: RouteEngine {
    var exportsByFile: [String: RouteExports] = [:]
    var results: [String: (FakeContext) throws -> ScriptReturn] = [:]
    var calls: [String] = []

    func exports(of file: String) throws(ScriptError) -> RouteExports {
        if file == "broken" { throw ScriptError(luaMessage: "src/routes/broken/+server.lua:1: syntax error near 'end'") }
        return exportsByFile[file] ?? RouteExports()
    }

    func call(file: String, function: [String], ctx: FakeContext) throws(ScriptError) -> ScriptReturn {
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

    func respond(_ engine: FakeEngine, endpoint: String? = nil, page: String? = nil, layouts: [String] = [],
                 _ method: String, action: String? = nil, production: Bool = false) -> RouteResponse {
        RouteDispatcher(production: production).respond(
            files: RouteFiles(endpoint: endpoint, page: page, layouts: layouts),
            method: method, action: action, ctx: FakeContext(method: method, action: action), engine: engine)
    }

    func json(_ r: RouteResponse) -> JSONValue? { try? JSONValue.parse(r.body) }
    func text(_ r: RouteResponse) -> String { String(decoding: r.body, as: UTF8.self) }

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
        #expect(redirect.status == 303 && redirect.header("Location") == "/x" && redirect.body.isEmpty)
        let custom = RouteDispatcher.endpointResponse(.value(.object([("status", .integer(200)), ("body", .string("<p>")), ("headers", .object([("Content-Type", .string("text/html"))]))])))
        #expect(custom.header("content-type") == "text/html" && custom.headers.count == 1)
    }

    @Test func endpointBodiesStatusesAndHeaders() {
        // A table without steering keys is the JSON body; an empty one is an empty 200.
        let plain = RouteDispatcher.endpointResponse(.value(.object([("items", .array([.integer(1)]))])))
        #expect(plain.status == 200 && text(plain) == #"{"items":[1]}"#)
        #expect(RouteDispatcher.endpointResponse(.value(.array([]))) == RouteResponse(status: 200))
        let list = RouteDispatcher.endpointResponse(.value(.array([.integer(1), .integer(2)])))
        #expect(text(list) == "[1,2]" && list.header("Content-Type") == "application/json")
        // `body = json.null` and no body: no content; a whole float status counts.
        let noContent = RouteDispatcher.endpointResponse(.value(.object([("status", .integer(204))])))
        #expect(noContent == RouteResponse(status: 204))
        #expect(RouteDispatcher.endpointResponse(.value(.object([("status", .double(201)), ("body", .null)]))) == RouteResponse(status: 201))
        // Header values: strings, numbers, booleans; arrays repeat the header; tables are skipped.
        let headers = RouteDispatcher.endpointResponse(.value(.object([
            ("body", .string("x")),
            ("headers", .object([("X-Int", .integer(1)), ("X-Many", .array([.string("a"), .string("b")])), ("X-Bool", .bool(true)), ("X-Table", .object([]))])),
        ])))
        #expect(headers.headers.map { $0.name + "=" + $0.value } == ["Content-Type=text/plain; charset=utf-8", "X-Int=1", "X-Many=a", "X-Many=b", "X-Bool=true"])
        // A redirect keeps a 3xx status and replaces any other.
        let moved = RouteDispatcher.endpointResponse(.value(.object([("redirect", .string("/y")), ("status", .integer(301))])))
        #expect(moved.status == 301 && moved.header("location") == "/y")
        #expect(RouteDispatcher.endpointResponse(.value(.object([("redirect", .string("/y")), ("status", .integer(200))]))).status == 303)
        // `.failure` (fail() as a host may report it) answers its status with its data.
        let failure = RouteDispatcher.endpointResponse(.failure(status: 422, data: .object([("field", .string("title"))])))
        #expect(failure.status == 422 && text(failure) == #"{"field":"title"}"#)
        #expect(RouteDispatcher.endpointResponse(.failure(status: 409, data: nil)) == RouteResponse(status: 409))
        // A value JSON cannot hold is a 500, not a crash.
        #expect(RouteDispatcher.endpointResponse(.value(.object([("body", .object([("x", .double(.nan))]))]))).status == 500)
    }

    /// Issue 10, item 7: statuses are checked as `fail()` checks them, 1xx cannot end a
    /// response, and `redirect` must be a URL; a broken rule is a 500 naming the route file.
    @Test(arguments: [
        (JSONValue.integer(99999), "got 99999"), (.integer(0), "got 0"), (.integer(-1), "got -1"),
        (.string("200"), "got the string \"200\""), (.double(200.5), "got 200.5"), (.integer(101), "got 101"),
        (.integer(100), "got 100"), (.bool(true), "got a boolean"), (.object([]), "got a table"),
    ])
    func brokenStatusesAre500sNamingTheFile(status: JSONValue, shown: String) {
        let message = "status must be an integer HTTP status from 200 to 599 (1xx cannot end a response), " + shown
        for body in [JSONValue.string("hi"), .null] {
            let engine = fake("e", "GET", .value(.object([("status", status), ("body", body)])))
            let r = respond(engine, endpoint: "e", "GET")
            #expect(r.status == 500)
            #expect(json(r)?["message"] == .string(message), "\(text(r))")
            #expect(json(r)?["location"] == .string("e"))
        }
        let page = fake("p", "load", .value(.object([("status", status), ("a", .integer(1))])))
        let r = respond(page, page: "p", "GET")
        #expect(r.status == 500 && json(r)?["message"] == .string(message) && json(r)?["location"] == .string("p"))
        // Production hides the rule but still answers 500.
        #expect(respond(page, page: "p", "GET", production: true).status == 500)
    }

    func fake(_ file: String, _ function: String, _ result: ScriptReturn) -> FakeEngine {
        let engine = FakeEngine()
        engine.exportsByFile[file] = RouteExports(functions: [function])
        engine.results[file + ":" + function] = { _ in result }
        return engine
    }

    @Test func redirectMustBeAURLAndFail1xxIsRefused() {
        for redirect in [JSONValue.object([]), .string(""), .integer(3)] {
            let engine = fake("e", "GET", .value(.object([("redirect", redirect)])))
            let r = respond(engine, endpoint: "e", "GET")
            #expect(r.status == 500 && text(r).contains("redirect must be a non-empty string"), "\(text(r))")
        }
        let fail101 = fake("e", "POST", .failure(status: 101, data: .object([("x", .integer(1))])))
        #expect(respond(fail101, endpoint: "e", "POST").status == 500)
        // Valid ones still pass.
        let ok = fake("e", "GET", .value(.object([("redirect", .string("/to")), ("status", .integer(302))])))
        #expect(respond(ok, endpoint: "e", "GET").status == 302)
    }

    @Test func pageShapes() {
        let data = RouteDispatcher.pageResponse(.value(.object([("a", .integer(1)), ("headers", .object([("Cache-Control", .string("no-store"))]))])))
        #expect(data.status == 200 && text(data) == #"{"a":1}"# && data.header("cache-control") == "no-store")
        #expect(text(RouteDispatcher.pageResponse(.value(nil))) == "{}")
        #expect(text(RouteDispatcher.pageResponse(.value(.array([.integer(1), .integer(2)])))) == #"{"data":[1,2]}"#)
        let notFound = RouteDispatcher.pageResponse(.value(.object([("error", .string("Post not found")), ("status", .integer(404))])))
        #expect(notFound.status == 404 && text(notFound) == #"{"error":"Post not found"}"#)
        let redirect = RouteDispatcher.pageResponse(.value(.object([("redirect", .string("/blog"))])))
        #expect(redirect.status == 303 && redirect.header("Location") == "/blog" && redirect.body.isEmpty)
        // A `redirect` that is not a URL breaks the rules (it used to be data).
        let notURL = RouteDispatcher.pageResponse(.value(.object([("redirect", .bool(true))])))
        #expect(notURL.status == 500 && text(notURL).contains("redirect must be a non-empty string (a URL), got boolean"))
    }

    @Test func headAndMethodNotAllowed() {
        let engine = FakeEngine()
        engine.exportsByFile["e"] = RouteExports(functions: ["GET", "POST"])
        engine.results["e:GET"] = { _ in .value(.object([("body", .string("hello"))])) }
        let head = respond(engine, endpoint: "e", "HEAD")
        #expect(engine.calls == ["e:GET"])
        #expect(head.status == 200 && head.body == Array("hello".utf8))  // the host sends no body
        let put = respond(engine, endpoint: "e", "PUT")
        #expect(put.status == 405 && put.header("Allow") == "GET, HEAD, POST")
        #expect(json(put) == .object([("error", .string("Method Not Allowed"))]))
        // An explicit HEAD wins over GET.
        engine.exportsByFile["h"] = RouteExports(functions: ["GET", "HEAD"])
        engine.results["h:HEAD"] = { _ in .value(.string("head")) }
        #expect(respond(engine, endpoint: "h", "HEAD").body == Array("head".utf8))
    }

    @Test func theMethodReachesTheFunction() {
        let engine = FakeEngine()
        engine.exportsByFile["e"] = RouteExports(functions: ["PATCH"])
        engine.results["e:PATCH"] = { ctx in .value(.object([("body", .object([("m", .string(ctx.method))]))])) }
        #expect(text(respond(engine, endpoint: "e", "PATCH")) == #"{"m":"PATCH"}"#)
    }

    @Test func endpointAndPageInOneFolder() {
        let engine = FakeEngine()
        engine.exportsByFile["e"] = RouteExports(functions: ["POST"])
        engine.exportsByFile["p"] = RouteExports(functions: ["load"])
        engine.results["e:POST"] = { _ in .value(.string("endpoint")) }
        engine.results["p:load"] = { _ in .value(.object([("page", .bool(true))])) }
        #expect(text(respond(engine, endpoint: "e", page: "p", "POST")) == "endpoint")
        #expect(text(respond(engine, endpoint: "e", page: "p", "GET")) == #"{"page":true}"#)
        let delete = respond(engine, endpoint: "e", page: "p", "DELETE")
        #expect(delete.status == 405 && delete.header("Allow") == "POST, GET, HEAD")
    }

    @Test func layoutsMergeUnderThePage() {
        let engine = FakeEngine()
        for f in ["l1", "l2", "p"] { engine.exportsByFile[f] = RouteExports(functions: ["load"]) }
        engine.results["l1:load"] = { _ in .value(.object([("site", .string("S")), ("title", .string("outer"))])) }
        engine.results["l2:load"] = { _ in .value(.object([("section", .string("blog"))])) }
        engine.results["p:load"] = { _ in .value(.object([("title", .string("page")), ("status", .integer(404))])) }
        let r = respond(engine, page: "p", layouts: ["l1", "l2"], "GET")
        #expect(engine.calls == ["l1:load", "l2:load", "p:load"])
        #expect(r.status == 404)
        #expect(r.body == Array(#"{"site":"S","title":"page","section":"blog"}"#.utf8))
    }

    @Test func aLayoutRedirectOrFailureAnswersAtOnce() {
        let engine = FakeEngine()
        for f in ["l1", "l2", "p"] { engine.exportsByFile[f] = RouteExports(functions: ["load"]) }
        engine.exportsByFile["l0"] = RouteExports()  // a layout without load is skipped
        engine.results["l1:load"] = { _ in .value(.object([("site", .string("S")), ("headers", .object([("X-Layout", .string("1"))]))])) }
        engine.results["l2:load"] = { _ in .value(.object([("redirect", .string("/login"))])) }
        let r = respond(engine, page: "p", layouts: ["l0", "l1", "l2"], "GET")
        #expect(engine.calls == ["l1:load", "l2:load"])
        #expect(r.status == 303 && r.header("Location") == "/login")
        engine.calls = []
        engine.results["l2:load"] = { _ in .failure(status: 401, data: .object([("error", .string("login first"))])) }
        let failed = respond(engine, page: "p", layouts: ["l1", "l2"], "GET")
        #expect(engine.calls == ["l1:load", "l2:load"])
        #expect(failed.status == 401 && text(failed) == #"{"error":"login first"}"#)
        // Headers of every level are kept.
        engine.results["l2:load"] = { _ in .value(.object([("headers", .object([("X-Inner", .string("2"))]))])) }
        engine.results["p:load"] = { _ in .value(nil) }
        let merged = respond(engine, page: "p", layouts: ["l1", "l2"], "HEAD")
        #expect(merged.header("X-Layout") == "1" && merged.header("X-Inner") == "2" && text(merged) == #"{"site":"S"}"#)
    }

    @Test func actions() {
        let engine = FakeEngine()
        engine.exportsByFile["p"] = RouteExports(functions: [], actions: ["default": .function, "publish": .methods(["POST"])])
        engine.results["p:actions.default"] = { _ in .value(.object([("saved", .bool(true))])) }
        engine.results["p:actions.publish.POST"] = { _ in .value(.object([("redirect", .string("/done"))])) }
        let saved = respond(engine, page: "p", "POST")
        #expect(saved.status == 200 && saved.body == Array(#"{"saved":true}"#.utf8))
        let published = respond(engine, page: "p", "POST", action: "publish")
        #expect(published.status == 303 && published.header("location") == "/done")
        let wrongMethod = respond(engine, page: "p", "DELETE", action: "publish")
        #expect(wrongMethod.status == 405 && wrongMethod.header("Allow") == "GET, HEAD, POST")
        let unknown = respond(engine, page: "p", "POST", action: "nope")
        #expect(unknown.status == 404 && json(unknown) == .object([("error", .string("No action named 'nope'"))]))
        // GET of a page with actions but no load: empty data.
        #expect(text(respond(engine, page: "p", "GET")) == "{}")
        // A page with actions allows every action method.
        let options = respond(engine, page: "p", "OPTIONS")
        #expect(options.status == 405 && options.header("Allow") == "GET, HEAD, POST, PUT, PATCH, DELETE")
        // A page without actions answers GET only.
        engine.exportsByFile["q"] = RouteExports(functions: ["load"])
        let notAllowed = respond(engine, page: "q", "POST")
        #expect(notAllowed.status == 405 && notAllowed.header("Allow") == "GET, HEAD")
    }

    @Test func luaErrors() {
        let engine = FakeEngine()
        engine.exportsByFile["e"] = RouteExports(functions: ["GET"])
        engine.results["e:GET"] = { _ in throw ScriptError(luaMessage: "src/routes/+server.lua:3: boom") }
        let dev = respond(engine, endpoint: "e", "GET")
        #expect(dev.status == 500)
        #expect(json(dev) == .object([("error", .string("Internal Server Error")), ("message", .string("boom")), ("location", .string("src/routes/+server.lua:3"))]))
        let prod = respond(engine, endpoint: "e", "GET", production: true)
        #expect(prod.status == 500 && prod.body == Array(#"{"error":"Internal Server Error"}"#.utf8))
        // A file that does not load is a 500 too.
        let broken = respond(engine, endpoint: "broken", "GET")
        #expect(broken.status == 500 && json(broken)?["location"] == .string("src/routes/broken/+server.lua:1"))
    }

    @Test func errorsAreLogged() {
        final class Log: @unchecked Sendable { var lines: [String] = [] }
        let log = Log()
        let engine = FakeEngine()
        engine.exportsByFile["e"] = RouteExports(functions: ["GET"])
        engine.results["e:GET"] = { _ in throw ScriptError(message: "boom", location: "x.lua:1") }
        let dispatcher = RouteDispatcher(production: true) { log.lines.append($0.description) }
        _ = dispatcher.respond(files: RouteFiles(endpoint: "e"), method: "GET", action: nil, ctx: FakeContext(method: "GET"), engine: engine)
        #expect(log.lines == ["x.lua:1: boom"])
    }

    @Test func luaMessagesSplitIntoMessageAndLocation() {
        #expect(ScriptError(luaMessage: "src/routes/+server.lua:12: attempt to index a nil value") == ScriptError(message: "attempt to index a nil value", location: "src/routes/+server.lua:12"))
        #expect(ScriptError(luaMessage: "a b/c.lua:1: x: y.lua:2: z") == ScriptError(message: "x: y.lua:2: z", location: "a b/c.lua:1"))
        #expect(ScriptError(luaMessage: "boom") == ScriptError(message: "boom"))
        #expect(ScriptError(luaMessage: "x.lua:: no line") == ScriptError(message: "x.lua:: no line"))
        #expect(ScriptError(luaMessage: "first line\nx.lua:3: later") == ScriptError(message: "first line\nx.lua:3: later"))
        #expect(ScriptError(luaMessage: "x.lua:1: multi\nline") == ScriptError(message: "multi\nline", location: "x.lua:1"))
        #expect(ScriptError(luaMessage: "m.lua:7x.lua:8: two") == ScriptError(message: "two", location: "m.lua:7x.lua:8"))
    }
}

@Suite struct ASCIICaseTests {
    @Test func foldsASCIILettersOnly() {
        #expect(ASCIICase.lower("Content-Type") == "content-type")
        #expect(ASCIICase.upper("post") == "POST")
        #expect(ASCIICase.lower("Ä-X") == "Ä-x")
        #expect(ASCIICase.upper("already UP") == "ALREADY UP")
        #expect(ASCIICase.equal("X-Cache", "x-cache") && !ASCIICase.equal("X-Cache", "X-Cach") && !ASCIICase.equal("a", "b"))
    }
}
