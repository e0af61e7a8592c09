import LuatHTTP
import Synchronization
import Testing

/// Answers with its own name, synchronously.
private struct Named: HTTPHandler {
    let name: String
    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        respond(HTTPResponse(status: 200, body: Array(name.utf8)))
    }
}

private func answer(_ handler: some HTTPHandler, _ target: String) -> String {
    let got = Mutex<String?>(nil)
    handler.handle(HTTPRequest(method: "GET", target: target)) { response in
        got.withLock { $0 = String(decoding: response.body, as: UTF8.self) }
    }
    return got.withLock { $0 } ?? "(no answer)"
}

@Suite struct PrefixRouterTests {
    let router = PrefixRouter(mounts: [("/client/v4", Named(name: "api")), ("/_luat/kv/", Named(name: "page"))],
                              fallback: Named(name: "routes"))

    @Test(arguments: [
        ("/client/v4", "api"), ("/client/v4/accounts/x", "api"), ("/client/v4?page=2", "api"),
        ("/client/v4x", "routes"), ("/client", "routes"), ("/", "routes"),
        ("/_luat/kv/", "page"), ("/_luat/kv/app.js", "page"), ("/_luat/kv", "routes"),
    ])
    func mountsByPathPrefix(target: String, expected: String) {
        #expect(answer(router, target) == expected)
    }

    @Test func requestSplitsPathAndQuery() {
        let request = HTTPRequest(method: "GET", target: "/a/b?x=1&y=%20")
        #expect(request.path == "/a/b")
        #expect(request.query == "x=1&y=%20")
        #expect(HTTPRequest(method: "GET", target: "/a").query == nil)
        #expect(HTTPRequest(method: "GET", target: "/a?").query == "")
    }

    @Test func headerLookupIgnoresASCIICase() {
        var headers = HTTPHeaders([("content-type", "text/plain"), ("x-a", "1"), ("X-A", "2")])
        #expect(headers["Content-Type"] == "text/plain")
        #expect(headers.values("x-a") == ["1", "2"])
        headers.set("X-a", "3")
        #expect(headers.values("x-a") == ["3"])
        #expect(headers["missing"] == nil)
    }
}
