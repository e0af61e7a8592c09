import Foundation

/// A copy of `examples/blog` in a temporary folder (so each test has its own KV store), with
/// a few routes only the tests use: an error, an echo of `ctx`, a globals-leak probe.
struct ExampleProject {
    let root: String

    static let exampleFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/blog").path

    static let testRoutes: [String: String] = [
        "src/routes/test/boom/+server.lua": """
            function GET(ctx)
                error("boom")
            end
            """,
        "src/routes/test/echo/[...rest]/+server.lua": """
            local function describe(ctx)
                return {
                    method = ctx.method, url = ctx.url, path = ctx.path, params = ctx.params,
                    query = ctx.query, form = ctx.form, json = ctx.json, body = ctx.body, rawBody = ctx.rawBody,
                    agent = ctx.headers["X-Test-Agent"], agent_lower = ctx.headers["x-test-agent"],
                    type = ctx.headers["Content-Type"],
                }
            end

            function POST(ctx)
                return { status = 200, body = describe(ctx) }
            end

            GET = POST
            PUT = POST
            """,
        "src/routes/test/leak/+server.lua": """
            function GET(ctx)
                -- `load` is also Lua's own global function: another file's `load` must not replace it.
                return { body = { POST = type(POST), DELETE = type(DELETE), load = load == _G.load and "builtin" or "leaked", actions = type(actions) } }
            end
            """,
        "src/routes/test/cache-ttl/+server.lua": """
            function GET(ctx)
                local value, meta = KV.namespace("cache"):getWithMetadata("posts:all")
                return { body = { left = meta.expiration - os.time() } }
            end
            """,
        "src/routes/test/version/+server.lua": """
            function GET(ctx)
                return "v1"
            end
            """,
    ]

    init() throws {
        root = NSTemporaryDirectory() + "luat-serve-test-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: Self.exampleFolder, toPath: root)
        try? FileManager.default.removeItem(atPath: root + "/.luat")
        for (path, text) in Self.testRoutes { try write(path, text) }
    }

    func write(_ path: String, _ text: String) throws {
        let full = root + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}
