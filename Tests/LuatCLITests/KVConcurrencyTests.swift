import Foundation
import KVCore
import Testing

/// `luat kv` on the same SQLite file while other processes keep writing to it, as when
/// `luat serve` is running: every command succeeds and no "database is locked" reaches the user.
@Suite("luat kv with concurrent writers")
struct KVConcurrencyTests {
    /// A shell loop of `luat kv` writes in the scratch folder, until the file `stop` appears.
    /// It prints a line after each round, so the test knows it is running without sleeping.
    final class WriterLoop {
        let process = Process()
        let output = Pipe()
        let errors: URL

        init(_ s: Scratch, name: String, body: String) throws {
            errors = URL(fileURLWithPath: s.path("\(name).err"))
            _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", """
                i=0
                while [ ! -e stop ]; do
                  \(body)
                  i=$((i+1))
                  echo "$i"
                done
                """]
            process.environment = ["LUAT": try luatBinaryPath(), "PATH": "/usr/bin:/bin"]
            process.currentDirectoryURL = URL(fileURLWithPath: s.root)
            process.standardOutput = output
            process.standardError = try FileHandle(forWritingTo: errors)
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        /// Blocks until the loop has finished its first round.
        func waitForFirstRound() {
            _ = output.fileHandleForReading.availableData
        }

        /// Waits for the loop to end (after `stop` exists); returns its rounds, status and stderr.
        func finish() throws -> (rounds: Int, status: Int32, stderr: String) {
            let rest = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let rounds = rest.split(separator: "\n").last.flatMap { Int($0) } ?? 1
            return (rounds, process.terminationStatus, String(decoding: try Data(contentsOf: errors), as: UTF8.self))
        }
    }

    @Test func everyCommandWorksWhileOtherProcessesWrite() throws {
        let s = try Scratch(); defer { s.remove() }
        // Create the file first, as a running server would have.
        try s.store().namespace("load").put("seed", "x")
        func bulk(_ prefix: String, _ count: Int) -> String {
            "[" + (0..<count).map { #"{"key":"\#(prefix)\#($0)","value":"value \#($0)","expiration_ttl":3600}"# }.joined(separator: ",") + "]"
        }
        try s.write("load.json", bulk("bulk:", 5_000))
        try s.write("mine.json", bulk("mine:", 1_000))

        // One loop of single puts and one of large one-transaction imports, which hold the
        // write lock for a while.
        let puts = try WriterLoop(s, name: "puts", body: #""$LUAT" kv put load "put:$i" "value $i" --metadata '{"i":1}' || exit 1"#)
        let imports = try WriterLoop(s, name: "imports", body: #""$LUAT" kv import load load.json > /dev/null || exit 1"#)
        puts.waitForFirstRound()
        imports.waitForFirstRound()

        var failures: [String] = []
        func check(_ arguments: [String], stdin: Data? = nil) throws -> Run {
            let run = try s.kv(arguments, stdin: stdin)
            if run.status != 0 || run.stderr.lowercased().contains("locked") || run.stderr.lowercased().contains("busy") {
                failures.append("luat kv \(arguments.joined(separator: " ")): status \(run.status): \(run.stderr)")
            }
            return run
        }
        for round in 0..<3 {
            _ = try check(["put", "mine", "key", "round \(round)"])
            #expect(try check(["get", "mine", "key"]).text == "round \(round)")
            _ = try check(["namespaces"])
            _ = try check(["list", "load", "--all"])
            _ = try check(["export", "load", "-o", "load-export.json"])
            #expect(try check(["import", "mine", "mine.json"]).text == "Imported 1,000 keys into namespace \"mine\".\n")
            _ = try check(["export", "mine", "-o", "mine-export.json"])
            #expect(try check(["delete", "mine", "--prefix", "mine:"]).text.hasPrefix("Deleted 1,000 keys"))
            _ = try check(["delete", "load", "put:0", "put:1"])
            _ = try check(["purge-expired"])
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")

        // The exported copy is a valid bulk file of what the namespace held.
        let exported = try JSONValue.parse(Array(try s.read("load-export.json")))
        guard case .array(let entries) = exported else { Issue.record("export is not an array"); return }
        #expect(entries.count >= 5_000)

        try s.write("stop", "")
        for loop in [puts, imports] {
            let result = try loop.finish()
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr == "")
            #expect(result.rounds >= 1)
        }
    }
}
