#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import KVCore
import LuatHTTP
import LuatProject
@testable import LuatServer
import Synchronization
import Testing

/// `luat serve` on LuatHTTP's core, as a real process (and once in-process, for `mounts:`):
/// pipelining, malformed requests, idle connections, the body budget, running out of file
/// descriptors, the access-log setting.
@Suite(.serialized) struct HTTPCoreTests {
    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let project = try ExampleProject()
        defer { project.remove() }
        try await ServerProcess.with(project: project.root, arguments: ["--workers", "2"]) { server in
            let raw = try Raw(port: server.port)
            raw.send("GET /api/posts HTTP/1.1\r\nHost: a\r\n\r\nGET /no/such HTTP/1.1\r\nHost: a\r\n\r\n"
                + "POST /test/echo/p HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
                + "PUT /api/posts HTTP/1.1\r\nHost: a\r\n\r\nGET /test/echo/last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            let responses = try Raw.split(raw.readUntilClosed())
            #expect(responses.map(\.status) == [200, 404, 200, 405, 200])
            #expect(responses[2].body.contains("\"rawBody\":\"hello\""))
            #expect(responses[4].body.contains("/test/echo/last"))
        }
    }

    @Test func malformedRequestsGet400AndTheServerKeepsServing() async throws {
        let project = try ExampleProject()
        defer { project.remove() }
        try await ServerProcess.with(project: project.root) { server in
            for bad in ["GARBAGE\r\n\r\n", "GET /api/posts HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
                        "GET /api/posts HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                        "GET /api/posts HTTP/9.9\r\n\r\n"] {
                let raw = try Raw(port: server.port)
                raw.send(bad)
                let responses = try Raw.split(raw.readUntilClosed())
                #expect(responses.map(\.status) == [400], "\(bad.debugDescription)")
            }
            #expect(try await HTTPClient.get(port: server.port, "/api/posts").status == 200)
        }
    }

    @Test func idleConnectionsAreClosed() async throws {
        let project = try ExampleProject()
        defer { project.remove() }
        try await ServerProcess.with(project: project.root, arguments: ["--idle-timeout", "0.3"]) { server in
            let silent = try Raw(port: server.port)
            #expect(try silent.readUntilClosed().isEmpty)
            let kept = try Raw(port: server.port)
            kept.send("GET /api/posts HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try Raw.split(kept.readUntilClosed()).map(\.status) == [200])
        }
    }

    @Test func bodyBudgetAnswers503BeyondIt() async throws {
        let project = try ExampleProject()
        defer { project.remove() }
        try await ServerProcess.with(project: project.root, arguments: ["--max-inflight-body", "1000"]) { server in
            let port = server.port
            let refused = try await HTTPClient.request(port: port, "POST", "/test/echo", headers: [("Content-Type", "text/plain")],
                                                       body: [UInt8](repeating: 0x61, count: 2000))
            #expect(refused.status == 503)
            #expect(refused.header("Retry-After") == "1")
            let fits = try await HTTPClient.request(port: port, "POST", "/test/echo", headers: [("Content-Type", "text/plain")],
                                                    body: [UInt8](repeating: 0x61, count: 1000))
            #expect(fits.status == 200 && fits.json["rawBody"]?.string?.count == 1000)
            #expect(try await HTTPClient.get(port: port, "/api/posts").status == 200)
        }
    }

    /// Under `prlimit --nofile=64`, 150 connections pile up that the server cannot accept: it
    /// must pause accepting (not spin on EMFILE) and answer again once they have gone.
    @Test func outOfFileDescriptorsTheServerBacksOffAndRecovers() async throws {
        let project = try ExampleProject()
        defer { project.remove() }
        try await ServerProcess.with(project: project.root, arguments: ["--workers", "1", "--idle-timeout", "600"],
                                     wrapper: ["/usr/bin/prlimit", "--nofile=64:64"]) { server in
            let port = server.port
            #expect(try await HTTPClient.get(port: port, "/api/posts").status == 200)
            var held: [Int32] = []
            defer { for fd in held { close(fd) } }
            for _ in 0..<150 {
                if let fd = HTTPClient.connect(port: port) { held.append(fd) }
            }
            // The kernel completes connections into the listen backlog even when accept fails.
            #expect(held.count == 150)
            let before = server.cpuSeconds
            try await Task.sleep(for: .seconds(2))  // the span over which CPU use is measured
            let used = server.cpuSeconds - before
            // Spinning on accept burns the whole 2 s of a core; backing off uses almost nothing.
            #expect(used < 0.5, "the server used \(used) s of CPU in 2 s while out of file descriptors")
            for fd in held { close(fd) }
            held = []
            let after = try await HTTPClient.get(port: port, "/api/posts")
            #expect(after.status == 200)
            #expect(server.process.isRunning)
        }
    }

    @Test func accessLogIsASetting() async throws {
        let project = try ExampleProject()
        defer { project.remove() }
        for (arguments, logged) in [([String](), true), (["--no-access-log"], false), (["--production"], false),
                                    (["--production", "--access-log"], true)] {
            try await ServerProcess.with(project: project.root, arguments: arguments) { (server: ServerProcess) async throws in
                #expect(try await HTTPClient.get(port: server.port, "/api/posts").status == 200)
                #expect(try await HTTPClient.get(port: server.port, "/no/such").status == 404)
                // The 404 was answered after the 200, so its line would be written by now.
                #expect(server.output.contains("GET /api/posts 200 ") == logged, "\(arguments)")
                #expect(server.output.contains("Luat server running at"))
            }
        }
        try "[dev]\naccess_log = false\n".write(toFile: project.root + "/luat.toml", atomically: true, encoding: .utf8)
        try await ServerProcess.with(project: project.root) { (server: ServerProcess) async throws in
            #expect(try await HTTPClient.get(port: server.port, "/api/posts").status == 200)
            #expect(try await HTTPClient.get(port: server.port, "/no/such").status == 404)
            #expect(!server.output.contains("GET /api/posts 200 "))
        }
    }

    /// Mounted handlers are served before the Lua routes, by path prefix, on the same server.
    @Test func mountsComeBeforeLuaRoutes() async throws {
        let project = try ExampleProject()
        defer { project.remove() }
        let luat = try LuatProject(root: project.root)
        let store = try luat.openStore(.memory)
        var options = ServerOptions(host: "127.0.0.1", port: 0, workers: 1)
        options.accessLog = false
        let server = try LuatHTTPServer(routesRoot: luat.routesPath, options: options,
                                        mounts: [(prefix: "/client/v4", handler: Mounted())]) {
            try LuaRouteEngine(project: luat, store: store)
        }
        let port = Mutex<Int?>(nil)
        let running = Task { try await server.run { bound in port.withLock { $0 = bound } } }
        defer { running.cancel() }
        var bound: Int?
        for _ in 0..<500 where bound == nil {
            bound = port.withLock { $0 }
            if bound == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        let p = try #require(bound)
        let mounted = try await HTTPClient.get(port: p, "/client/v4/accounts?x=1")
        #expect(mounted.status == 200 && mounted.text == "mounted /client/v4/accounts x=1")
        #expect(try await HTTPClient.get(port: p, "/api/posts").status == 200)
        #expect(try await HTTPClient.get(port: p, "/client/v4x").status == 404)
        running.cancel()
        _ = await running.result  // the server stops on cancellation
    }
}

private struct Mounted: HTTPHandler {
    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        respond(HTTPResponse(status: 200, body: Array("mounted \(request.path) \(request.query ?? "")".utf8)))
    }
}

/// A raw loopback connection: exactly the bytes written, everything read until the server closes.
private final class Raw {
    let fd: Int32

    init(port: Int) throws {
        guard let fd = HTTPClient.connect(port: port) else { throw HTTPClient.Failure(description: "cannot connect to \(port)") }
        self.fd = fd
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything until end of stream; throws when the server keeps the connection open 10 s.
    func readUntilClosed() throws -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                throw HTTPClient.Failure(description: "the server kept the connection open for 10 s")
            }
            if n <= 0 { return received }
            received += buffer[0..<n]
        }
    }

    /// Splits a stream of responses framed by Content-Length.
    static func split(_ bytes: [UInt8]) throws -> [(status: Int, body: String)] {
        var out: [(status: Int, body: String)] = []
        var rest = bytes[...]
        let separator: [UInt8] = [13, 10, 13, 10]
        while !rest.isEmpty {
            guard let end = rest.indices.first(where: { rest[$0...].starts(with: separator) }) else {
                throw HTTPClient.Failure(description: "incomplete response head: \(String(decoding: rest, as: UTF8.self))")
            }
            let head = String(decoding: rest[rest.startIndex..<end], as: UTF8.self)
            let lines = head.components(separatedBy: "\r\n")
            let parts = lines[0].split(separator: " ")
            guard parts.count >= 2, let status = Int(parts[1]) else { throw HTTPClient.Failure(description: "bad status line \(lines[0])") }
            let length = lines.dropFirst().compactMap { line -> Int? in
                let pair = line.split(separator: ":", maxSplits: 1)
                guard pair.count == 2, pair[0].lowercased() == "content-length" else { return nil }
                return Int(pair[1].trimmingCharacters(in: .whitespaces))
            }.first ?? 0
            let bodyStart = end + 4
            let bodyEnd = min(rest.endIndex, bodyStart + length)
            out.append((status, String(decoding: rest[bodyStart..<bodyEnd], as: UTF8.self)))
            rest = rest[bodyEnd...]
        }
        return out
    }
}
