import Foundation
import KVCore
import Testing

extension JSONValue {
    var string: String? { if case .string(let s) = self { return s }; return nil }
    var int: Int64? { if case .integer(let n) = self { return n }; return nil }
    var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    var keys: [String] { if case .object(let m) = self { return m.map(\.key) }; return [] }
}

/// The real `luat` binary serving the example app on a free loopback port, over real HTTP.
@Suite(.serialized) struct ServeEndToEndTests {
    @Test func sessionStorage() async throws {
        let project = try ExampleProject()
        defer { project.remove() }
        try await ServerProcess.with(project: project.root) { server in
            let port = server.port
            let created = try await HTTPClient.json(port: port, "POST", "/api/session", #"{"user_id":"alice"}"#)
            #expect(created.status == 201)
            let id = try #require(created.json["session_id"]?.string)
            #expect(id.count == 32)
            #expect(created.header("Set-Cookie")?.hasPrefix("session=\(id);") == true)

            let session = try await HTTPClient.get(port: port, "/api/session/\(id)")
            #expect(session.status == 200)
            #expect(session.json["user_id"]?.string == "alice")
            #expect(session.json["created"]?.int != nil)

            let byForm = try await HTTPClient.form(port: port, "POST", "/api/session", [("user_id", "bob")])
            #expect(byForm.status == 201)
            let other = try #require(byForm.json["session_id"]?.string)
            #expect(other != id)
            #expect(try await HTTPClient.get(port: port, "/api/session/\(other)").json["user_id"]?.string == "bob")

            #expect(try await HTTPClient.json(port: port, "POST", "/api/session", "{}").status == 400)

            let destroyed = try await HTTPClient.request(port: port, "DELETE", "/api/session/\(id)")
            #expect(destroyed.status == 204 && destroyed.body.isEmpty)
            let gone = try await HTTPClient.get(port: port, "/api/session/\(id)")
            #expect(gone.status == 404)
            #expect(gone.json["error"]?.string == "Session not found")
        }
    }

    @Test func apiCacheMissThenHit() async throws {
        let project = try ExampleProject()
        defer { project.remove() }
        try await ServerProcess.with(project: project.root) { server in
            let port = server.port
            #expect(try await HTTPClient.form(port: port, "POST", "/api/blog", [("slug", "first"), ("title", "First")]).status == 201)
            let miss = try await HTTPClient.get(port: port, "/api/posts")
            #expect(miss.status == 200)
            #expect(miss.header("X-Cache") == "MISS")
            #expect(miss.header("Content-Type") == "application/json")
            #expect(miss.json.array?.first?["slug"]?.string == "first")
            let hit = try await HTTPClient.get(port: port, "/api/posts")
            #expect(hit.header("X-Cache") == "HIT")
            #expect(hit.json == miss.json)
            // A new post is not seen until the 5-minute entry expires.
            #expect(try await HTTPClient.form(port: port, "POST", "/api/blog", [("slug", "second")]).status == 201)
            let stillCached = try await HTTPClient.get(port: port, "/api/posts")
            #expect(stillCached.header("X-Cache") == "HIT" && stillCached.json.array?.count == 1)
            // The cache entry expires 5 minutes after it was written.
            let ttl = try await HTTPClient.get(port: port, "/test/cache-ttl")
            let left = try #require(ttl.json["left"]?.int)
            #expect((290...300).contains(left))
        }
    }

    @Test func blogModuleRoutes() async throws {
        let project = try ExampleProject()
        defer { project.remove() }
        try await ServerProcess.with(project: project.root) { server in
            let port = server.port
            let created = try await HTTPClient.form(port: port, "POST", "/api/blog",
                                                    [("slug", "hello-world"), ("title", "Hello"), ("content", "Body & more"), ("author", "alice")])
            #expect(created.status == 201)
            #expect(created.header("Location") == "/api/blog/hello-world")
            #expect(created.json["content"]?.string == "Body & more")
            #expect(created.json["created"]?.int != nil)
            #expect(try await HTTPClient.form(port: port, "POST", "/api/blog", [("slug", "hello-world")]).status == 409)
            #expect(try await HTTPClient.form(port: port, "POST", "/api/blog", [("slug", "../x")]).status == 400)

            let got = try await HTTPClient.get(port: port, "/api/blog/hello-world")
            #expect(got.status == 200 && got.json["title"]?.string == "Hello")

            let put = try await HTTPClient.json(port: port, "PUT", "/api/blog/hello-world", #"{"title":"Hello again"}"#)
            #expect(put.status == 200)
            #expect(put.json["title"]?.string == "Hello again" && put.json["content"]?.string == "Body & more")
            #expect(put.json["updated"]?.int != nil)
            let patch = try await HTTPClient.json(port: port, "PATCH", "/api/blog/hello-world", #"{"content":"Patched"}"#)
            #expect(patch.status == 200 && patch.json["content"]?.string == "Patched")
            #expect(try await HTTPClient.json(port: port, "PUT", "/api/blog/missing", #"{"title":"x"}"#).status == 404)

            let list = try await HTTPClient.get(port: port, "/api/blog")
            #expect(list.json.array?.map { $0["slug"]?.string } == ["hello-world"])
            let page = try await HTTPClient.get(port: port, "/blog/hello-world")
            #expect(page.json["post"]?["title"]?.string == "Hello again")
            #expect(page.json["site"]?.string == "Luat Blog")

            let current = try await HTTPClient.get(port: port, "/api/blog/hello-world")
            let head = try await HTTPClient.request(port: port, "HEAD", "/api/blog/hello-world")
            #expect(head.status == 200 && head.body.isEmpty)
            #expect(head.header("Content-Length") == String(current.body.count))

            let deleted = try await HTTPClient.request(port: port, "DELETE", "/api/blog/hello-world")
            #expect(deleted.status == 204)
            #expect(try await HTTPClient.get(port: port, "/api/blog/hello-world").status == 404)
            #expect(try await HTTPClient.get(port: port, "/api/blog").json == .array([]))
        }
    }

    @Test func formActions() async throws {
        let project = try ExampleProject()
        defer { project.remove() }
        try await ServerProcess.with(project: project.root) { server in
            let port = server.port
            #expect(try await HTTPClient.form(port: port, "POST", "/api/blog", [("slug", "draft"), ("title", "Draft"), ("author", "bob")]).status == 201)

            // load
            let edit = try await HTTPClient.get(port: port, "/blog/draft/edit")
            #expect(edit.status == 200)
            #expect(edit.json["post"]?["title"]?.string == "Draft")
            #expect(edit.json.keys == ["site", "post"])  // layout data first, page data merged over it
            let missing = try await HTTPClient.get(port: port, "/blog/nothing/edit")
            #expect(missing.status == 404)
            #expect(missing.json["error"]?.string == "Post not found")
            #expect(missing.json["status"] == nil)

            // default action, url-encoded
            let saved = try await HTTPClient.form(port: port, "POST", "/blog/draft/edit", [("title", "Final"), ("content", "Done")])
            #expect(saved.status == 200)
            #expect(saved.json == .object([("saved", .bool(true))]))
            let after = try await HTTPClient.get(port: port, "/api/blog/draft")
            #expect(after.json["title"]?.string == "Final" && after.json["content"]?.string == "Done" && after.json["author"]?.string == "bob")

            // default action, multipart
            let boundary = "----luat\(UUID().uuidString)"
            let multipart = "--\(boundary)\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nFrom multipart\r\n"
                + "--\(boundary)\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nline 1\r\nline 2\r\n--\(boundary)--\r\n"
            let viaMultipart = try await HTTPClient.request(port: port, "POST", "/blog/draft/edit",
                                                           headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")], body: Array(multipart.utf8))
            #expect(viaMultipart.json["saved"] == .bool(true))
            let afterMultipart = try await HTTPClient.get(port: port, "/api/blog/draft")
            #expect(afterMultipart.json["title"]?.string == "From multipart" && afterMultipart.json["content"]?.string == "line 1\r\nline 2")

            // fail(400, ...)
            let failed = try await HTTPClient.form(port: port, "POST", "/blog/nothing/edit", [("title", "x")])
            #expect(failed.status == 400)
            #expect(failed.json == .object([("error", .string("Post not found"))]))

            // unknown action, unsupported method on a page without that action
            #expect(try await HTTPClient.form(port: port, "POST", "/blog/draft/edit?/publish", []).status == 404)
            let notAllowed = try await HTTPClient.request(port: port, "DELETE", "/blog")
            #expect(notAllowed.status == 405 && notAllowed.header("Allow") == "GET, HEAD")

            // delete action: redirect
            let redirect = try await HTTPClient.request(port: port, "POST", "/blog/draft/edit?/delete")
            #expect(redirect.status == 303)
            #expect(redirect.header("Location") == "/blog")
            #expect(try await HTTPClient.get(port: port, "/blog").json["posts"] == .array([]))
        }
    }

    @Test func errorsAndRequestContext() async throws {
        let project = try ExampleProject()
        defer { project.remove() }
        try await ServerProcess.with(project: project.root) { server in
            let port = server.port
            let notFound = try await HTTPClient.get(port: port, "/no/such/page")
            #expect(notFound.status == 404 && notFound.json["error"]?.string == "Not Found")

            let wrongMethod = try await HTTPClient.request(port: port, "PUT", "/api/posts")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.header("Allow") == "GET, HEAD")

            for bad in ["/api/blog/..%2F..%2Fluat.toml", "/api/blog/%2e%2e", "/api/blog/a%00b", "/test/echo/../../luat.toml"] {
                let refused = try await HTTPClient.get(port: port, bad)
                #expect(refused.status == 400, "\(bad)")
            }

            let boom = try await HTTPClient.get(port: port, "/test/boom")
            #expect(boom.status == 500)
            #expect(boom.json["message"]?.string == "boom")
            #expect(boom.json["location"]?.string == "src/routes/test/boom/+server.lua:2")
            // …and the server keeps serving.
            #expect(try await HTTPClient.get(port: port, "/api/posts").status == 200)

            let echo = try await HTTPClient.request(port: port, "POST", "/test/echo/a/b%20c?/save&x=1&y=two+words",
                                                    headers: [("Content-Type", "application/json"), ("x-TEST-agent", "probe")],
                                                    body: Array(#"{"title":"T","tags":["a","b"]}"#.utf8))
            #expect(echo.status == 200)
            let ctx = echo.json
            #expect(ctx["method"]?.string == "POST")
            #expect(ctx["path"]?.string == "/test/echo/a/b%20c")
            #expect(ctx["url"]?.string == "http://127.0.0.1:\(port)/test/echo/a/b%20c?/save&x=1&y=two+words")
            #expect(ctx["params"] == .object([("rest", .string("a/b c"))]))
            #expect(ctx["query"] == .object([("x", .string("1")), ("y", .string("two words"))]))
            #expect(ctx["form"]?["title"]?.string == "T")
            #expect(ctx["json"]?["tags"] == .array([.string("a"), .string("b")]))
            #expect(ctx["body"] == ctx["json"])
            #expect(ctx["rawBody"]?.string == #"{"title":"T","tags":["a","b"]}"#)
            #expect(ctx["agent"]?.string == "probe" && ctx["agent_lower"]?.string == "probe")
            #expect(ctx["type"]?.string == "application/json")

            let plain = try await HTTPClient.get(port: port, "/test/echo")
            #expect(plain.json["params"] == .object([("rest", .string(""))]))
            #expect(plain.json["form"] == .object([]) && plain.json["query"] == .object([]))

            let log = server.output
            #expect(log.contains("Luat server running at http://127.0.0.1:\(port)/"))
            #expect(log.contains("GET /test/boom 500 "))
            #expect(log.contains("PUT /api/posts 405 "))
            #expect(log.contains("boom"))  // the Lua error is logged for the operator too
        }
    }

    @Test func bodyLimit() async throws {
        let project = try ExampleProject()
        defer { project.remove() }
        try await ServerProcess.with(project: project.root, arguments: ["--max-body-size", "1024"]) { server in
            let port = server.port
            let small = try await HTTPClient.request(port: port, "POST", "/test/echo", headers: [("Content-Type", "text/plain")], body: [UInt8](repeating: 0x61, count: 1024))
            #expect(small.status == 200 && small.json["rawBody"]?.string?.count == 1024)
            let declared = try await HTTPClient.request(port: port, "POST", "/test/echo", body: [UInt8](repeating: 0x61, count: 4096))
            #expect(declared.status == 413)
            let streamed = try await HTTPClient.request(port: port, "POST", "/test/echo", body: [UInt8](repeating: 0x61, count: 8192), chunked: true)
            #expect(streamed.status == 413)
            #expect(try await HTTPClient.get(port: port, "/api/posts").status == 200)
        }
    }

    @Test func dataSurvivesARestart() async throws {
        let project = try ExampleProject()
        defer { project.remove() }
        let sessionID = try await ServerProcess.with(project: project.root) { server in
            #expect(try await HTTPClient.form(port: server.port, "POST", "/api/blog", [("slug", "kept"), ("title", "Kept")]).status == 201)
            return try #require(try await HTTPClient.json(port: server.port, "POST", "/api/session", #"{"user_id":"carol"}"#).json["session_id"]?.string)
        }
        #expect(FileManager.default.fileExists(atPath: project.root + "/.luat/data/kv.db"))
        try await ServerProcess.with(project: project.root) { (server: ServerProcess) async throws in
            #expect(try await HTTPClient.get(port: server.port, "/api/blog/kept").json["title"]?.string == "Kept")
            #expect(try await HTTPClient.get(port: server.port, "/api/session/\(sessionID)").json["user_id"]?.string == "carol")
        }
    }

    @Test func gracefulShutdown() async throws {
        let project = try ExampleProject()
        defer { project.remove() }
        let server = try ServerProcess.start(project: project.root)
        defer { server.stop() }
        #expect(try await HTTPClient.get(port: server.port, "/api/posts").status == 200)
        server.stop()
        #expect(server.process.terminationReason == .exit && server.process.terminationStatus == 0)
        #expect(server.output.contains("Luat server stopped"))
        // The database was closed cleanly: SQLite removes its WAL file on the last close.
        #expect(!FileManager.default.fileExists(atPath: project.root + "/.luat/data/kv.db-wal"))
    }

    @Test func twoHundredParallelWrites() async throws {
        let project = try ExampleProject()
        defer { project.remove() }
        try await ServerProcess.with(project: project.root) { server in
            let port = server.port
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<200 {
                    group.addTask {
                        try await HTTPClient.form(port: port, "POST", "/api/blog", [("slug", "post-\(i)"), ("title", "Post \(i)")]).status
                    }
                }
                var statuses: [Int] = []
                for try await status in group { statuses.append(status) }
                return statuses
            }
            #expect(statuses.count == 200 && statuses.allSatisfy { $0 == 201 })
            let slugs = Set(try await HTTPClient.get(port: port, "/api/blog").json.array?.compactMap { $0["slug"]?.string } ?? [])
            #expect(slugs == Set((0..<200).map { "post-\($0)" }))
        }
    }

    @Test func productionModeAndIsolatedRouteGlobals() async throws {
        let project = try ExampleProject()
        defer { project.remove() }
        try await ServerProcess.with(project: project.root, arguments: ["--production", "--workers", "1"]) { server in
            let port = server.port
            let boom = try await HTTPClient.get(port: port, "/test/boom")
            #expect(boom.status == 500)
            #expect(boom.json == .object([("error", .string("Internal Server Error"))]))
            #expect(server.output.contains("src/routes/test/boom/+server.lua:2"))
            // With one Lua state, files defining POST/DELETE/load/actions are loaded first; the
            // probe still sees none of them.
            _ = try await HTTPClient.get(port: port, "/api/blog")
            _ = try await HTTPClient.get(port: port, "/api/blog/x")
            _ = try await HTTPClient.get(port: port, "/blog/x/edit")
            let leak = try await HTTPClient.get(port: port, "/test/leak")
            #expect(leak.json == .object([("DELETE", .string("nil")), ("POST", .string("nil")), ("actions", .string("nil")), ("load", .string("builtin"))]))
        }
    }

    @Test func watchReloadsChangedFiles() async throws {
        let project = try ExampleProject()
        defer { project.remove() }
        try await ServerProcess.with(project: project.root, arguments: ["--watch"]) { server in
            let port = server.port
            #expect(try await HTTPClient.get(port: port, "/test/version").text == "v1")
            try project.write("src/routes/test/version/+server.lua", "function GET(ctx) return \"version two\" end\n")
            #expect(try await HTTPClient.get(port: port, "/test/version").text == "version two")
            try project.write("src/routes/test/added/+server.lua", "function GET(ctx) return { body = { added = true } } end\n")
            #expect(try await HTTPClient.get(port: port, "/test/added").json["added"] == .bool(true))
        }
    }

    @Test func malformedConfigIsAClearError() throws {
        let project = try ExampleProject()
        defer { project.remove() }
        try "[dev]\nport = \n".write(toFile: project.root + "/luat.toml", atomically: true, encoding: .utf8)
        let result = try runLuat(["serve", project.root, "--port", "0"], in: project.root)
        #expect(result.status != 0)
        #expect(result.output.contains("luat.toml:2"))
    }

    /// Runs `luat` to completion (for commands that end by themselves).
    func runLuat(_ arguments: [String], in folder: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServerProcess.binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
