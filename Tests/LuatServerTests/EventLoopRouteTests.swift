import Foundation
import Testing
@testable import LuatServer

/// Issue 15: short routes run on the HTTP event loop that received them, with that loop's own
/// Lua state; unmeasured and slow routes on the worker queue. A real `luat serve` process with
/// one Lua worker: while that worker is held by a long request, a short route still answers,
/// which it can only do from an event loop.
@Suite(.timeLimit(.minutes(2))) struct EventLoopRouteTests {
    static let routes: [String: String] = [
        // Holds its Lua state until `/loop/release` has stored "go" (bounded by the request
        // time budget), and says first that it runs.
        "src/routes/loop/hold/+server.lua": """
            function GET(ctx)
                local ns = KV.namespace("loop")
                ns:delete("go")
                ns:put("holding", "yes")
                while ns:get("go") ~= "1" do end
                ns:delete("holding")
                return "released"
            end
            """,
        "src/routes/loop/status/+server.lua": """
            function GET(ctx) return KV.namespace("loop"):get("holding") or "no" end
            """,
        "src/routes/loop/release/+server.lua": """
            function GET(ctx) KV.namespace("loop"):put("go", "1") return "ok" end
            """,
    ]

    static func project() throws -> ExampleProject {
        let project = try ExampleProject()
        for (path, text) in routes { try project.write(path, text) }
        return project
    }

    /// Runs `/loop/hold` on the only worker, waits (by polling `/loop/status`) until it holds
    /// it, then releases it with `/loop/release`. Returns what `/loop/hold` answered.
    static func holdAndRelease(port: Int) async throws -> HTTPResult {
        // Measured first (a route's first run is on a worker, and includes loading its file),
        // so both are known to be short.
        for _ in 0..<30 {
            #expect(try await HTTPClient.get(port: port, "/loop/status").text == "no")
            #expect(try await HTTPClient.get(port: port, "/loop/release").text == "ok")
        }
        let held = Task { try await HTTPClient.get(port: port, "/loop/hold") }
        var holding = false
        for _ in 0..<20_000 where !holding {
            holding = try await HTTPClient.get(port: port, "/loop/status").text == "yes"
        }
        #expect(holding, "/loop/hold never started")
        #expect(try await HTTPClient.get(port: port, "/loop/release").text == "ok")
        return try await held.value
    }

    @Test func shortRoutesAnswerWhileTheOnlyWorkerIsBusy() async throws {
        let project = try Self.project()
        defer { project.remove() }
        try await ServerProcess.with(project: project.root, arguments: ["--workers", "1", "--request-timeout", "5", "--event-loop-limit", "50"]) { server in
            // (A limit of 50 ms, not the default 0.5: a debug build's `kv:put` can take longer.)
            let held = try await Self.holdAndRelease(port: server.port)
            #expect(held.status == 200, "\(held.text)")
            #expect(held.text == "released")
        }
    }

    /// The same with the event loop turned off: every request waits for the one worker, so
    /// the release comes only after `/loop/hold` ran out of time. Proves the test above sees
    /// where routes run.
    @Test func withTheLimitOffEveryRouteWaitsForAWorker() async throws {
        let project = try Self.project()
        defer { project.remove() }
        try await ServerProcess.with(project: project.root, arguments: ["--workers", "1", "--request-timeout", "0.5", "--event-loop-limit", "0"]) { server in
            let held = try await Self.holdAndRelease(port: server.port)
            #expect(held.status == 503, "\(held.text)")
        }
    }

    @Test func theLimitIsChecked() throws {
        let project = try Self.project()
        defer { project.remove() }
        let flag = try ServeEndToEndTests().runLuat(["serve", project.root, "--port", "0", "--event-loop-limit=-1"], in: project.root)
        #expect(flag.status != 0)
        #expect(flag.output.contains("--event-loop-limit must be a number of milliseconds from 0 to 1000"), "\(flag.output)")
        let config = try String(contentsOfFile: project.root + "/luat.toml", encoding: .utf8)
        try (config + "\n[serve]\nevent_loop_limit = \"fast\"\n").write(toFile: project.root + "/luat.toml", atomically: true, encoding: .utf8)
        let toml = try ServeEndToEndTests().runLuat(["serve", project.root, "--port", "0"], in: project.root)
        #expect(toml.status != 0)
        #expect(toml.output.contains("[serve] event_loop_limit must be a number of milliseconds from 0 to 1000"), "\(toml.output)")
    }

    /// The policy: unknown until measured, then the weighted average of the runs.
    @Test func routeCostAverage() {
        let cost = RouteCost()
        #expect(!cost.isBelow(500_000))
        cost.record(100_000)
        #expect(cost.isBelow(500_000))
        #expect(!cost.isBelow(100_000))
        // One slow run (5 ms) lifts the average to 100 us + 4.9 ms / 4 = 1.325 ms: off the loop.
        cost.record(5_000_000)
        #expect(!cost.isBelow(500_000))
        // Short runs bring it back under the limit: 1.325 ms → 1.019 → 0.789 → 0.617 → 0.488.
        for _ in 0..<3 { cost.record(100_000) }
        #expect(!cost.isBelow(500_000))
        cost.record(100_000)
        #expect(cost.isBelow(500_000))
    }
}
