import Foundation
import Testing

/// A `kv.db` this process may read but not write (issue 10 item 3): reading commands work,
/// writing ones say the file is read-only and change nothing. Root ignores file permissions,
/// so the commands run as user `nobody` through `setpriv`; the test needs root to do that.
@Suite(.enabled(if: getuid() == 0, "switching to user nobody needs root"))
struct KVReadOnlyTests {
    /// Runs `luat kv <arguments>` as user nobody in `directory`.
    static func kvAsNobody(_ arguments: [String], in directory: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", try luatBinaryPath(), "kv"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": directory]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test func readingCommandsWorkAndWritingOnesSayTheFileIsReadOnly() throws {
        let s = try Scratch(); defer { s.remove() }
        #expect(try s.kv(["put", "users", "user:1", "Alice"]).status == 0)
        #expect(try s.kv(["put", "users", "user:2", "Bob"]).status == 0)
        let db = s.path(".luat/data/kv.db")
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        // Everyone may read the folder and the file; only root may write them.
        for path in [s.root, s.path(".luat"), s.path(".luat/data")] {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: db)

        let get = try Self.kvAsNobody(["get", "users", "user:1"], in: s.root)
        #expect(get.status == 0, "\(get.stderr)")
        #expect(get.stdout == "Alice")
        let list = try Self.kvAsNobody(["list", "users", "--json"], in: s.root)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("user:1") && list.stdout.contains("user:2"))
        // A namespace the file does not hold reads as empty (nothing is created).
        let missing = try Self.kvAsNobody(["get", "nobody-here", "k"], in: s.root)
        #expect(missing.status == 1 && !missing.stderr.contains("readonly"), "\(missing.stderr)")

        for write in [["put", "users", "user:3", "Carol"], ["delete", "users", "user:1"]] {
            let refused = try Self.kvAsNobody(write, in: s.root)
            #expect(refused.status != 0, "\(write)")
            #expect(refused.stderr.contains("kv.db is read-only"), "\(write): \(refused.stderr)")
        }
        let after = try Data(contentsOf: URL(fileURLWithPath: db))
        #expect(after == before)
        #expect(try s.kv(["get", "users", "user:1"]).stdout == Data("Alice".utf8))
    }
}
