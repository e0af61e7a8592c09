import Foundation
import Testing

/// `luat serve` with `[[kv_api.tokens]]`: a token whose secret variable is unset stops the
/// server before it listens, naming the token and the variable.
@Suite struct KVAPIServeTests {
    @Test func aMissingSecretVariableStopsTheServer() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("luat.toml", """
            [[kv_api.tokens]]
            name = "reader"
            secret_env = "LUAT_TEST_READER_SECRET_UNSET"
            access = "read"
            """)
        try FileManager.default.createDirectory(atPath: scratch.path("src/routes"), withIntermediateDirectories: true)
        try scratch.write("src/routes/+server.lua", "function GET() return { status = 200 } end\n")
        var environment = ProcessInfo.processInfo.environment
        environment["LUAT_TEST_READER_SECRET_UNSET"] = nil
        let run = try runLuat(["serve", "--port", "0"], in: scratch.root, environment: environment)
        #expect(run.status == 1)
        #expect(run.stderr.contains("[[kv_api.tokens]] \"reader\": environment variable LUAT_TEST_READER_SECRET_UNSET is not set"))
    }
}
