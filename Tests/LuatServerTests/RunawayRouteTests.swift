import Foundation
import KVCore
import Testing

/// Issue 10, item 1: a route that never ends or eats memory costs its own request only.
/// Real `luat serve` processes on loopback, limits from luat.toml and from flags.
@Suite(.timeLimit(.minutes(3))) struct RunawayRouteTests {
    static let routes: [String: String] = [
        "src/routes/runaway/loop/+server.lua": "function GET(ctx) while true do end end\n",
        "src/routes/runaway/tail/+server.lua": "local function f(n) return f(n + 1) end\nfunction GET(ctx) return f(1) end\n",
        "src/routes/runaway/catch/+server.lua": "function GET(ctx) while true do pcall(function() while true do end end) end end\n",
        "src/routes/runaway/hog/+server.lua": """
            function GET(ctx)
                local t, s = {}, string.rep("x", 1024 * 1024)
                for i = 1, 2048 do t[i] = s end
                return { body = { size = #table.concat(t) } }
            end
            """,
        "src/routes/runaway/announced/+server.lua": "function GET(ctx) print('runaway started') io.stdout:flush() while true do end end\n",
        "src/routes/runaway/ok/+server.lua": "function GET(ctx) return 'ok' end\n",
    ]

    static func project(toml: String? = nil) throws -> ExampleProject {
        let project = try ExampleProject()
        for (path, text) in routes { try project.write(path, text) }
        if let toml {
            let config = try String(contentsOfFile: project.root + "/luat.toml", encoding: .utf8)
            try (config + "\n" + toml).write(toFile: project.root + "/luat.toml", atomically: true, encoding: .utf8)
        }
        return project
    }

    @Test func runawayRoutesAnswer503AndTheServerKeepsServing() async throws {
        let project = try Self.project(toml: "[serve]\nrequest_timeout = 0.4\n")
        defer { project.remove() }
        try await ServerProcess.with(project: project.root, arguments: ["--workers", "2"]) { server in
            let port = server.port
            // More runaway requests than Lua states, all at once.
            let paths = ["/runaway/loop", "/runaway/loop", "/runaway/tail", "/runaway/catch"]
            let results = try await withThrowingTaskGroup(of: (String, HTTPResult).self) { group in
                for path in paths { group.addTask { (path, try await HTTPClient.get(port: port, path)) } }
                var results: [(String, HTTPResult)] = []
                for try await result in group { results.append(result) }
                return results
            }
            for (path, result) in results {
                #expect(result.status == 503, "\(path): \(result.text)")
                #expect(result.json["error"]?.string == "Service Unavailable")
                #expect(result.json["message"]?.string?.contains("time limit exceeded: the code ran longer than 400 ms") == true, "\(result.text)")
            }
            let loop = try #require(results.first { $0.0 == "/runaway/loop" }?.1)
            #expect(loop.json["location"]?.string == "src/routes/runaway/loop/+server.lua:1")
            // Both states were replaced and serve again; the store is untouched.
            for _ in 0..<4 {
                #expect(try await HTTPClient.get(port: port, "/runaway/ok").text == "ok")
            }
            #expect(try await HTTPClient.get(port: port, "/api/posts").status == 200)
            #expect(server.output.contains("time limit exceeded"))
        }
    }

    @Test func aMemoryHogFailsItsOwnRequestOnly() async throws {
        let project = try Self.project()
        defer { project.remove() }
        try await ServerProcess.with(project: project.root, arguments: ["--workers", "1", "--lua-memory-limit", "64MB"]) { server in
            let port = server.port
            let hog = try await HTTPClient.get(port: port, "/runaway/hog")
            #expect(hog.status == 500)
            #expect(hog.json["message"]?.string == "memory limit exceeded: a Lua state may hold at most 67108864 bytes (64 MiB)", "\(hog.text)")
            #expect(try await HTTPClient.get(port: port, "/runaway/ok").text == "ok")
            // The process never came near the 2 GB the route asked for.
            let rss = Self.residentBytes(pid: server.process.processIdentifier)
            #expect(rss > 0 && rss < 512 * 1024 * 1024, "RSS \(rss)")
        }
    }

    @Test func shutdownEndsWhileAScriptRuns() async throws {
        let project = try Self.project()
        defer { project.remove() }
        let server = try ServerProcess.start(project: project.root, arguments: ["--workers", "1", "--request-timeout", "2"])
        defer { server.stop() }
        let port = server.port
        let inFlight = Task { try await HTTPClient.get(port: port, "/runaway/announced") }
        // Until the script runs (the route prints first); polling is the only waiting here.
        let deadline = Date().addingTimeInterval(60)
        while !server.output.contains("runaway started") && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(server.output.contains("runaway started"))
        server.process.terminate()
        let answer = try await inFlight.value
        #expect(answer.status == 503)
        server.process.waitUntilExit()
        #expect(server.process.terminationReason == .exit && server.process.terminationStatus == 0)
        #expect(server.output.contains("Luat server stopped"))
    }

    @Test func limitsInLuatTomlAreChecked() throws {
        let project = try Self.project(toml: "[serve]\nrequest_timeout = \"soon\"\n")
        defer { project.remove() }
        let result = try ServeEndToEndTests().runLuat(["serve", project.root, "--port", "0"], in: project.root)
        #expect(result.status != 0)
        #expect(result.output.contains("[serve] request_timeout must be a number of seconds"), "\(result.output)")
        let flag = try ServeEndToEndTests().runLuat(["serve", project.root, "--port", "0", "--lua-memory-limit", "lots"], in: project.root)
        #expect(flag.status != 0)
        #expect(flag.output.contains("--lua-memory-limit must be a number of bytes"), "\(flag.output)")
    }

    static func residentBytes(pid: Int32) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
