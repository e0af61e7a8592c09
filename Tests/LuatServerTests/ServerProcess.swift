#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A real `luat serve` process on a free loopback port, for end-to-end tests. `stop()`
/// (SIGTERM, then waiting for the exit) is always called through `ServerProcess.with`.
final class ServerProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    let project: String
    private let outputFile: String

    /// The `luat` binary next to the test bundle (both are built into the same folder),
    /// or `LUAT_BINARY` when set.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["LUAT_BINARY"] { return path }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for folder in [bundle, bundle.deletingLastPathComponent(), bundle.deletingLastPathComponent().deletingLastPathComponent()] {
            let candidate = folder.appendingPathComponent("luat").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        // `swift test` puts the tests and `luat` in .build/debug.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/luat").path
    }

    private init(project: String, port: Int, arguments: [String], wrapper: [String]) throws {
        self.project = project
        self.port = port
        outputFile = NSTemporaryDirectory() + "luat-serve-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: outputFile, contents: nil)
        process = Process()
        let command = wrapper + [Self.binary, "serve", project, "--host", "127.0.0.1", "--port", String(port)] + arguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let handle = FileHandle(forWritingAtPath: outputFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// Starts a server and waits until its port answers; retries with another port if the
    /// one picked was taken in between. `wrapper` runs the server through another program
    /// (`["/usr/bin/prlimit", "--nofile=64"]`), which must exec it (same process id).
    static func start(project: String, arguments: [String] = [], wrapper: [String] = []) throws -> ServerProcess {
        var lastOutput = ""
        for _ in 0..<3 {
            let server = try ServerProcess(project: project, port: try freePort(), arguments: arguments, wrapper: wrapper)
            if server.waitUntilListening() { return server }
            server.stop()
            lastOutput = server.output
        }
        throw LaunchError(message: "luat serve did not start:\n\(lastOutput)")
    }

    /// Runs `body` with a started server and always stops it afterwards.
    static func with<R>(project: String, arguments: [String] = [], wrapper: [String] = [],
                        _ body: (ServerProcess) async throws -> R) async throws -> R {
        let server = try start(project: project, arguments: arguments, wrapper: wrapper)
        do {
            let result = try await body(server)
            server.stop()
            return result
        } catch {
            server.stop()
            throw error
        }
    }

    struct LaunchError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Polls the port (the only waiting these tests do) until it accepts a connection or the
    /// process ends; gives up after 60 s.
    private func waitUntilListening() -> Bool {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if !process.isRunning { return false }
            if Self.canConnect(port: port) { return true }
            usleep(20_000)
        }
        return false
    }

    /// SIGTERM (graceful shutdown), then wait for the exit; SIGKILL if it does not come.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// CPU time (user + system) the server process has used so far, from /proc.
    var cpuSeconds: Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return .nan }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Everything the server wrote to stdout and stderr so far.
    var output: String {
        (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LaunchError(message: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw LaunchError(message: "bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        guard let fd = HTTPClient.connect(port: port) else { return false }
        close(fd)
        return true
    }
}
