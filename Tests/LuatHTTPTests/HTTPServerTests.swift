import Foundation
import LuatHTTP
import Synchronization
import Testing

/// Requests the test decides when to answer.
final class Held: Sendable {
    private let pending = Mutex<[(HTTPRequest, @Sendable (HTTPResponse) -> Void)]>([])
    private let arrived = DispatchSemaphore(value: 0)

    func add(_ request: HTTPRequest, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        pending.withLock { $0.append((request, respond)) }
        arrived.signal()
    }

    /// Waits (at most 10 s) until one more request is held.
    func waitForOne() -> Bool { arrived.wait(timeout: .now() + 10) == .success }

    /// Answers every held request with 200 and its body size.
    func releaseAll() {
        let all = pending.withLock { list in defer { list = [] }; return list }
        for (request, respond) in all { respond(HTTPResponse(status: 200, body: Array("held \(request.body.count)".utf8))) }
    }
}

/// The handler of these tests: `/echo` answers at once with what it got, `/later/N` answers
/// from another thread after N ms, `/hold` waits for the test.
struct TestHandler: HTTPHandler {
    let held: Held

    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        if request.path == "/hold" { return held.add(request, respond) }
        var headers = HTTPHeaders()
        headers.append("Content-Type", "text/plain")
        headers.append("X-Method", request.method)
        headers.append("X-Query", request.query ?? "-")
        headers.append("X-Header-Names", request.headers.fields.map(\.name).joined(separator: ","))
        headers.append("Content-Length", "999")  // the core sets the real one
        let response = HTTPResponse(status: 200, headers: headers, body: Array("\(request.path) \(request.body.count)".utf8) + request.body)
        if request.path.hasPrefix("/later/"), let ms = Int(request.path.dropFirst(7)) {
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(ms)) { respond(response) }
        } else if request.path == "/badheader" {
            // A value that would split the response if written as it is.
            respond(HTTPResponse(status: 200, headers: HTTPHeaders([("X-Split", "a\r\nSet-Cookie: stolen=1")]), body: Array("no".utf8)))
        } else if request.path == "/badname" {
            respond(HTTPResponse(status: 200, headers: HTTPHeaders([("Bad Name", "v")]), body: Array("no".utf8)))
        } else if request.path == "/nocontent" {
            respond(HTTPResponse(status: 204))
        } else {
            respond(response)
        }
    }
}

func withServer(_ configure: (inout HTTPServerConfiguration) -> Void = { _ in },
                _ body: (Int, Held) async throws -> Void) async throws {
    var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0, eventLoops: 2)
    configure(&configuration)
    let held = Held()
    let server = HTTPServer(configuration: configuration, handler: TestHandler(held: held))
    do {
        let port = try await server.start()
        try await body(port, held)
    } catch {
        held.releaseAll()
        await server.shutdown()
        throw error
    }
    held.releaseAll()
    await server.shutdown()
}

/// A real server on a loopback port (port 0), spoken to over raw sockets.
@Suite struct HTTPServerTests {
    @Test func keepAliveHeadAndFraming() async throws {
        try await withServer { port, _ in
            let c = try RawConnection(port: port)
            c.send("GET /echo?x=1 HTTP/1.1\r\nHost: a\r\nX-Mixed-Case: v\r\n\r\n")
            let get = try #require(try c.readResponse())
            #expect(get.status == 200)
            #expect(get.text == "/echo 0")
            #expect(get.header("Content-Length") == "7")
            #expect(get.header("X-Query") == "x=1")
            #expect(get.header("X-Header-Names") == "host,x-mixed-case")
            // HEAD: the GET body's length, no body; the next response on the connection parses.
            c.send("HEAD /echo HTTP/1.1\r\nHost: a\r\n\r\n")
            let head = try #require(try c.readResponse(head: true))
            #expect(head.status == 200 && head.header("Content-Length") == "7" && head.header("X-Method") == "HEAD")
            c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
            let post = try #require(try c.readResponse())
            #expect(post.text == "/echo 5hello")
            c.send("DELETE /nocontent HTTP/1.1\r\nHost: a\r\n\r\n")
            let none = try #require(try c.readResponse())
            #expect(none.status == 204 && none.header("Content-Length") == nil)
            // Still the same connection.
            c.send("GET /echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            let last = try #require(try c.readResponse())
            #expect(last.header("Connection") == "close")
            #expect(try c.closedByServer())
        }
    }

    @Test func expectContinueIsAnsweredBeforeTheBody() async throws {
        try await withServer({ $0.maxBodySize = 1000 }) { port, _ in
            let c = try RawConnection(port: port)
            c.send("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            let proceed = try #require(try c.readResponse(head: true))
            #expect(proceed.status == 100)
            c.send("hello")
            #expect(try c.readResponse()?.text == "/echo 5hello")
            // Refused by its length: the final answer, no 100.
            let big = try RawConnection(port: port)
            big.send("POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n")
            #expect(try big.readResponse()?.status == 413)
        }
    }

    @Test func http10ClosesUnlessKeepAlive() async throws {
        try await withServer { port, _ in
            let c = try RawConnection(port: port)
            c.send("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try c.readResponse()?.header("Connection") == "keep-alive")
            c.send("GET /echo HTTP/1.0\r\n\r\n")
            #expect(try c.readResponse()?.status == 200)
            #expect(try c.closedByServer())
        }
    }

    @Test func pipelinedResponsesComeInOrder() async throws {
        try await withServer { port, _ in
            let c = try RawConnection(port: port)
            // The first answer comes last in time; they must still go out in request order.
            c.send("GET /later/150 HTTP/1.1\r\nHost: a\r\n\r\nGET /later/0 HTTP/1.1\r\nHost: a\r\n\r\n"
                + "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /later/20 HTTP/1.1\r\nHost: a\r\n\r\n")
            var texts: [String] = []
            for _ in 0..<4 { texts.append(try #require(try c.readResponse()).text) }
            #expect(texts == ["/later/150 0", "/later/0 0", "/echo 3abc", "/later/20 0"])
        }
    }

    @Test func manyPipelinedRequestsInOneWriteAreAllAnsweredInOrder() async throws {
        try await withServer { port, _ in
            let c = try RawConnection(port: port)
            // Far more than one readable event takes in (~400 KB), answered inline (/echo) and
            // from other threads (/later/0) in turn: reading pauses while requests wait and
            // must resume after, or the rest is never read.
            let paths = (0..<400).map { $0 % 2 == 0 ? "/echo?n=\($0)" : "/later/0?n=\($0)" }
            let pad = String(repeating: "p", count: 1000)
            #expect(c.send(paths.map { "GET \($0) HTTP/1.1\r\nHost: a\r\nX-Pad: \(pad)\r\n\r\n" }.joined()))
            var queries: [String] = []
            for _ in paths { queries.append(try #require(try c.readResponse()?.header("X-Query"))) }
            #expect(queries == (0..<400).map { "n=\($0)" })
        }
    }

    @Test func aMalformedPipelinedRequestIsRefusedAfterTheAnswersBeforeIt() async throws {
        try await withServer { port, _ in
            let c = try RawConnection(port: port)
            c.send("GET /later/100 HTTP/1.1\r\nHost: a\r\n\r\nGET /echo HTTP/1.1\r\nHost: a\r\n\r\nGARBAGE\r\n\r\n")
            #expect(try c.readResponse()?.text == "/later/100 0")
            #expect(try c.readResponse()?.text == "/echo 0")
            let refused = try #require(try c.readResponse())
            #expect(refused.status == 400 && refused.header("Connection") == "close")
            #expect(try c.closedByServer())
        }
    }

    @Test func nothingIsAnsweredAfterAConnectionCloseRequest() async throws {
        try await withServer { port, _ in
            let c = try RawConnection(port: port)
            c.send("GET /later/50 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
            let answer = try #require(try c.readResponse())
            #expect(answer.text == "/later/50 0" && answer.header("Connection") == "close")
            #expect(try c.closedByServer())
        }
    }

    @Test func responseHeadersThatCannotBeSentBecomeA500() async throws {
        try await withServer { port, _ in
            let c = try RawConnection(port: port)
            c.send("GET /badheader HTTP/1.1\r\nHost: a\r\n\r\n")
            let split = try #require(try c.readResponse())
            #expect(split.status == 500)
            #expect(split.text.contains("response header X-Split has a control character"))
            #expect(split.header("Set-Cookie") == nil && split.header("X-Split") == nil)
            c.send("GET /badname HTTP/1.1\r\nHost: a\r\n\r\n")
            let badName = try #require(try c.readResponse())
            #expect(badName.status == 500 && badName.text.contains("not a token"))
            // The connection keeps serving.
            c.send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try c.readResponse()?.text == "/echo 0")
        }
    }

    @Test func chunkedBodies() async throws {
        try await withServer({ $0.maxBodySize = 1000 }) { port, _ in
            let c = try RawConnection(port: port)
            c.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
            #expect(try c.readResponse()?.text == "/echo 11hello world")
            // Over the limit while streaming: 413 before the end, then the connection closes.
            let big = try RawConnection(port: port)
            big.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
            for _ in 0..<3 { big.send("1f4\r\n" + String(repeating: "x", count: 500) + "\r\n") }
            let refused = try #require(try big.readResponse())
            #expect(refused.status == 413 && refused.header("Connection") == "close")
            big.send("0\r\n\r\n")
            #expect(try big.closedByServer())
        }
    }

    @Test func declaredLengthOverTheLimitIsRefusedBeforeReading() async throws {
        try await withServer({ $0.maxBodySize = 1000 }) { port, _ in
            let c = try RawConnection(port: port)
            c.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n")  // no body sent
            let refused = try #require(try c.readResponse())
            #expect(refused.status == 413)
            #expect(refused.text.contains("1000"))
            let ok = try RawConnection(port: port)
            ok.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n" + String(repeating: "y", count: 1000))
            #expect(try ok.readResponse()?.status == 200)
        }
    }

    @Test func malformedRequestsGet400AndTheServerKeepsServing() async throws {
        try await withServer { port, _ in
            for bad in ["GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
                        "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"] {
                let c = try RawConnection(port: port)
                c.send(bad)
                let response = try c.readResponse()
                #expect(response?.status == 400, "\(bad.debugDescription)")
                #expect(try c.closedByServer(), "\(bad.debugDescription)")
            }
            let good = try RawConnection(port: port)
            good.send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try good.readResponse()?.status == 200)
        }
    }

    @Test func headerBlocksOverTheLimitsAndBadHostsAreRefused() async throws {
        try await withServer({ $0.headerLimits.maxFields = 20; $0.headerLimits.maxBytes = 2_000 }) { port, _ in
            let cases: [(String, Int, String)] = [
                ("GET /echo HTTP/1.1\r\nHost: a\r\n" + String(repeating: "X-Many: y\r\n", count: 20) + "\r\n", 431, "more than 20 header fields (got 21)"),
                ("GET /echo HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "b", count: 2_000) + "\r\n\r\n", 431, "exceed 2000 bytes"),
                ("GET /echo HTTP/1.1\r\n\r\n", 400, "needs a Host header"),
                ("GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "more than one Host"),
            ]
            for (request, status, detail) in cases {
                let c = try RawConnection(port: port)
                c.send(request)
                let response = try #require(try c.readResponse(), "\(request.prefix(40).debugDescription)")
                #expect(response.status == status, "\(request.prefix(40).debugDescription)")
                #expect(response.text.contains(detail), "\(response.text)")
                #expect(try c.closedByServer())
            }
            // At the limits, and HTTP/1.0 without Host, are served.
            let atLimit = try RawConnection(port: port)
            atLimit.send("GET /echo HTTP/1.1\r\nHost: a\r\n" + String(repeating: "X-Many: y\r\n", count: 19) + "\r\n")
            #expect(try atLimit.readResponse()?.status == 200)
            let old = try RawConnection(port: port)
            old.send("GET /echo HTTP/1.0\r\n\r\n")
            #expect(try old.readResponse()?.status == 200)
        }
    }

    @Test func bodyBudgetRefusesBeyondItAndServesSmallRequests() async throws {
        try await withServer({ $0.maxBodySize = 80_000; $0.maxInflightBodyBytes = 100_000; $0.retryAfterSeconds = 2 }) { port, held in
            // 60,000 bytes held by a handler that has not answered yet.
            let first = try RawConnection(port: port)
            first.send("POST /hold HTTP/1.1\r\nHost: a\r\nContent-Length: 60000\r\n\r\n" + String(repeating: "a", count: 60_000))
            #expect(try await onThread { held.waitForOne() })
            // Another 60,000 does not fit: 503 by its declared length, before its body is sent.
            let second = try RawConnection(port: port)
            second.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 60000\r\n\r\n")
            let refused = try #require(try second.readResponse())
            #expect(refused.status == 503 && refused.header("Retry-After") == "2")
            // A chunked body is refused when it passes the budget.
            let chunked = try RawConnection(port: port)
            chunked.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
            for _ in 0..<5 { chunked.send("2710\r\n" + String(repeating: "c", count: 10_000) + "\r\n") }
            #expect(try chunked.readResponse()?.status == 503)
            // Requests without a body, and small ones that fit, are still served.
            let small = try RawConnection(port: port)
            small.send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\nPOST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 30000\r\n\r\n" + String(repeating: "s", count: 30_000))
            #expect(try small.readResponse()?.status == 200)
            #expect(try small.readResponse()?.status == 200)
            // Once the held request is answered, its bytes are free again.
            held.releaseAll()
            #expect(try first.readResponse()?.text == "held 60000")
            let again = try RawConnection(port: port)
            again.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 60000\r\n\r\n" + String(repeating: "b", count: 60_000))
            #expect(try again.readResponse()?.status == 200)
        }
    }

    @Test func idleConnectionsAreClosed() async throws {
        try await withServer({ $0.idleTimeout = .milliseconds(300) }) { port, held in
            // Never sends anything.
            let silent = try RawConnection(port: port)
            #expect(try silent.closedByServer())
            // Kept alive after a response, then idle.
            let kept = try RawConnection(port: port)
            kept.send("GET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try kept.readResponse()?.status == 200)
            #expect(try kept.closedByServer())
            // A stalled body.
            let stalled = try RawConnection(port: port)
            stalled.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
            #expect(try stalled.closedByServer())
            // A request the handler is still working on is not cut off by the idle timeout.
            let waiting = try RawConnection(port: port)
            waiting.send("GET /later/900 HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try waiting.readResponse()?.text == "/later/900 0")
            _ = held
        }
    }

    @Test func shutdownFinishesRequestsInFlightThenStops() async throws {
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0, eventLoops: 1)
        configuration.shutdownGrace = .seconds(30)
        let held = Held()
        let server = HTTPServer(configuration: configuration, handler: TestHandler(held: held))
        let port = try await server.start()
        #expect(server.port == port && port > 0)
        let busy = try RawConnection(port: port)
        busy.send("GET /hold HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try await onThread { held.waitForOne() })
        let idle = try RawConnection(port: port)
        let stopping = Task { await server.shutdown() }
        // The idle connection closes at once, the busy one gets its answer, then closes.
        #expect(try await onThread { try idle.closedByServer() })
        held.releaseAll()
        let answer = try #require(try await onThread { try busy.readResponse() })
        #expect(answer.text == "held 0")
        #expect(try await onThread { try busy.closedByServer() })
        await stopping.value
        #expect((try? RawConnection(port: port)) == nil)
    }

    @Test func shutdownAnswersTheRequestUnderWayAndNotThePipelinedOnes() async throws {
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0, eventLoops: 1)
        configuration.shutdownGrace = .seconds(30)
        let held = Held()
        let server = HTTPServer(configuration: configuration, handler: TestHandler(held: held))
        let port = try await server.start()
        let busy = try RawConnection(port: port)
        busy.send("GET /hold HTTP/1.1\r\nHost: a\r\n\r\nGET /echo HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try await onThread { held.waitForOne() })
        let stopping = Task { await server.shutdown() }
        // Once the listening socket is closed, the connections' shutdown events are queued on
        // the (one) event loop, ahead of the answer released next.
        #expect(try await onThread { () -> Bool in
            for _ in 0..<1000 where (try? RawConnection(port: port)) != nil { usleep(10_000) }
            return (try? RawConnection(port: port)) == nil
        })
        held.releaseAll()
        let answer = try #require(try await onThread { try busy.readResponse() })
        #expect(answer.text == "held 0" && answer.header("Connection") == "close")
        #expect(try await onThread { try busy.closedByServer() })
        await stopping.value
    }

    @Test func shutdownGraceIsBounded() async throws {
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0, eventLoops: 1)
        configuration.shutdownGrace = .milliseconds(200)
        let held = Held()
        let server = HTTPServer(configuration: configuration, handler: TestHandler(held: held))
        let port = try await server.start()
        let busy = try RawConnection(port: port)
        busy.send("GET /hold HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try await onThread { held.waitForOne() })
        await server.shutdown()  // returns although the request was never answered
        #expect(try busy.closedByServer())
        held.releaseAll()  // a late answer is dropped
    }
}
