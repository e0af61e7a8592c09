#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import HistoryChecker
import Synchronization
import Testing

/// SIGKILL at seeded random moments while a process writes to one SQLite file: after each
/// kill the file passes `integrity_check` and every write that was acknowledged before the
/// kill is there with its exact value (docs/reliability.md, "A process crash").
@Suite("Crash safety", .serialized)
struct CrashSafetyTests {
    /// The value written for a unique key: its size varies with the key (0 to a few KiB).
    static func value(for key: String, sequence: Int) -> String {
        String(repeating: String(UnicodeScalar(UInt8(97 + sequence % 26))), count: (sequence &* 37) % 3_000) + "#" + key
    }

    /// Writes unique keys `r<round>-<i>` and overwrites eight hot keys with `<i>:<round>`;
    /// after each `put` returns it logs `u KEY` or `h KEY SEQUENCE` (unbuffered, so the line
    /// reaches the file before the next write starts).
    static let writer = #"""
        io.stdout:setvbuf("no")
        local kv = KV.namespace("crash")
        local round = arg[1]
        local i = 0
        while true do
            i = i + 1
            if i % 4 == 0 then
                local key = "hot-" .. (i % 8)
                kv:put(key, i .. ":" .. round)
                io.stdout:write("h ", key, " ", i, "\n")
            else
                local key = "r" .. round .. "-" .. i
                kv:put(key, string.rep(string.char(97 + i % 26), (i * 37) % 3000) .. "#" .. key)
                io.stdout:write("u ", key, "\n")
            end
        end
        """#

    /// Acknowledged writes so far: unique keys with their values, and per hot key the last
    /// acknowledged sequence (a later, unacknowledged write may also have landed).
    struct Acknowledged {
        var unique: [String: String] = [:]
        var hot: [String: (round: Int, sequence: Int)] = [:]
        var count = 0

        mutating func add(_ line: Substring, round: Int) {
            let parts = line.split(separator: " ")
            if parts.first == "u", parts.count == 2 {
                let key = String(parts[1])
                let sequence = Int(key.split(separator: "-").last ?? "") ?? 0
                unique[key] = CrashSafetyTests.value(for: key, sequence: sequence)
                count += 1
            } else if parts.first == "h", parts.count == 3, let sequence = Int(parts[2]) {
                hot[String(parts[1])] = (round, sequence)
                count += 1
            }
        }

        /// Problems with `contents` (the namespace after a kill); empty when all is well.
        func problems(in contents: [String: String]) -> [String] {
            var problems: [String] = []
            for (key, value) in unique where contents[key] != value {
                problems.append("acknowledged \(key) is \(contents[key].map { "\($0.count) bytes, not the value written" } ?? "missing")")
            }
            for (key, acked) in hot {
                guard let stored = contents[key] else { problems.append("acknowledged \(key) is missing"); continue }
                let parts = stored.split(separator: ":")
                guard parts.count == 2, let sequence = Int(parts[0]), let round = Int(parts[1]) else {
                    problems.append("\(key) holds \(stored.prefix(40)), which no writer wrote"); continue
                }
                if (round, sequence) < (acked.round, acked.sequence) {
                    problems.append("\(key) went back to \(stored) after \(acked.sequence):\(acked.round) was acknowledged")
                }
            }
            return problems
        }
    }

    @Test func killingLuatRunLosesNoAcknowledgedWrite() throws {
        let project = try TestProject(files: ["writer.lua": Self.writer])
        defer { project.remove() }
        var random = SplitMix64(seed: Luat.seed &+ 1)
        var acknowledged = Acknowledged()
        let rounds = Luat.scaled(12, minimum: 10)
        var killedWhileWriting = 0
        for round in 1...rounds {
            let log = project.path("writer-\(round).log")
            let process = try Luat.start(["run", "writer.lua", String(round)], in: project.root, stdout: log, stderr: log + ".err")
            // Most kills come after a random number of acknowledged writes; every fourth comes
            // a random few milliseconds after start (opening the file, creating the schema).
            if round % 4 == 1 {
                usleep(useconds_t(random.next() % 30_000))
            } else {
                let target = 1 + Int(random.next() % 400)
                let deadline = Date().addingTimeInterval(60)
                while process.isRunning && CrashSafetyTests.count(log) < target && Date() < deadline { usleep(1_000) }
                killedWhileWriting += 1
            }
            #expect(process.isRunning, "the writer ended by itself: \(project.read("writer-\(round).log.err"))")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)

            for line in StoreContents.lines(log) { acknowledged.add(line, round: round) }
            // Killed before the file was even created: then nothing can have been acknowledged.
            guard FileManager.default.fileExists(atPath: project.database) else {
                #expect(acknowledged.count == 0, "round \(round): acknowledged writes but no database file")
                continue
            }
            #expect(try StoreContents.integrity(project) == ["ok"], "round \(round)")
            let problems = acknowledged.problems(in: try StoreContents.export(project, namespace: "crash"))
            #expect(problems.isEmpty, "round \(round): \(problems.prefix(5))")
        }
        #expect(acknowledged.count > 0)
        #expect(killedWhileWriting >= rounds / 2)
        reportFigure("kills (luat run writer)", rounds, "seed \(Luat.seed)")
        reportFigure("acknowledged writes checked (luat run writer)", acknowledged.count, "after every kill, cumulatively")
    }

    /// The route the HTTP writers use.
    static let writeRoute = """
        local kv = KV.namespace("crash")
        function PUT(ctx)
            kv:put(ctx.params.key, ctx.rawBody)
            return "ok"
        end
        """

    @Test func killingLuatServeLosesNoAcknowledgedWrite() throws {
        let project = try TestProject(routes: ["w/[key]/+server.lua": Self.writeRoute])
        defer { project.remove() }
        var random = SplitMix64(seed: Luat.seed &+ 2)
        let rounds = Luat.scaled(10, minimum: 10)
        var acknowledged = Acknowledged()
        var sent = 0
        for round in 1...rounds {
            let server = try ServeProcess.start(project, arguments: ["--workers", "2", "--production"])
            let target = 20 + Int(random.next() % 200)
            let round = round
            // Two clients write until the server dies; a write counts only when its 200 came.
            let results = (0..<2).map { client in
                AsyncWriter(port: server.port) { i in
                    if i % 4 == 0 {
                        let key = "hot-\(client)-\(i % 3)"
                        return (key, "\(i):\(round)", "h \(key) \(i)")
                    }
                    let key = "r\(round)-\(client)-\(i)"
                    return (key, CrashSafetyTests.value(for: key, sequence: i), "u \(key)")
                }
            }
            let deadline = Date().addingTimeInterval(60)
            while results.reduce(0, { $0 + $1.acknowledgedCount }) < target && Date() < deadline && server.process.isRunning { usleep(1_000) }
            #expect(server.process.isRunning, "\(server.output)")
            server.kill()
            for writer in results {
                let lines = writer.finish()
                sent += writer.sentCount
                for line in lines { acknowledged.add(Substring(line), round: round) }
            }
            #expect(try StoreContents.integrity(project) == ["ok"], "round \(round)")
            let problems = acknowledged.problems(in: try StoreContents.export(project, namespace: "crash"))
            #expect(problems.isEmpty, "round \(round): \(problems.prefix(5))")
        }
        #expect(acknowledged.count >= rounds * 20)
        reportFigure("kills (luat serve under HTTP writes)", rounds, "seed \(Luat.seed)")
        reportFigure("acknowledged writes checked (luat serve)", acknowledged.count, "\(sent) sent")
    }

    @Test func killingLuatKvImportIsAllOrNothing() throws {
        let project = try TestProject()
        defer { project.remove() }
        let entries = Luat.scaled(20_000, minimum: 2_000)
        var random = SplitMix64(seed: Luat.seed &+ 3)
        let targetKills = Luat.scaled(10, minimum: 10)
        var rounds = 0
        var outcomes = (nothing: 0, all: 0)
        var kills = 0
        // Something else in the file, which must survive every kill untouched.
        #expect(try Luat.run(["kv", "put", "keep", "k", "kept"], in: project.root).status == 0)
        func bulkFile(_ round: Int) throws -> String {
            let file = project.path("bulk-\(round).json")
            let body = (0..<entries).map { #"{"key":"i\#(round)-\#($0)","value":"v\#($0)-\#(round)"}"# }.joined(separator: ",\n")
            try ("[" + body + "]").write(toFile: file, atomically: false, encoding: .utf8)
            return file
        }
        // One import left alone, to time it. Kills then land at a random fraction of a window
        // that adapts: it shrinks when an import finished first (the machine got faster) and
        // grows when it was killed, so kills keep landing late in an import (writing,
        // committing) however loaded the machine is. Rounds go on until 10 kills.
        let started = Date()
        let timed = try Luat.run(["kv", "import", "ns0", try bulkFile(0)], in: project.root)
        let duration = Date().timeIntervalSince(started)
        #expect(timed.status == 0, "\(timed.stderr)")
        #expect(try StoreContents.export(project, namespace: "ns0").count == entries)
        var window = duration
        while kills < targetKills && rounds < 4 * targetKills {
            rounds += 1
            let round = rounds
            let file = try bulkFile(round)
            let log = project.path("import-\(round).log")
            let process = try Luat.start(["kv", "import", "ns\(round)", file], in: project.root, stdout: log, stderr: log + ".err")
            usleep(useconds_t(window * (0.3 + Double(random.next() % 700) / 1_000) * 1_000_000))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
                window = min(window * 1.1, duration * 3)
            } else {
                window *= 0.6
            }
            process.waitUntilExit()
            let finished = process.terminationReason == .exit && process.terminationStatus == 0

            #expect(try StoreContents.integrity(project) == ["ok"], "round \(round)")
            let contents = try StoreContents.export(project, namespace: "ns\(round)")
            if contents.isEmpty {
                #expect(!finished, "the import reported success but stored nothing")
                outcomes.nothing += 1
            } else {
                #expect(contents.count == entries, "round \(round): \(contents.count) of \(entries) keys after a kill")
                let wrong = contents.filter { key, value in value != "v\(key.split(separator: "-").last!)-\(round)" }
                #expect(wrong.isEmpty, "round \(round): \(wrong.count) wrong values")
                outcomes.all += 1
            }
            #expect(try StoreContents.export(project, namespace: "keep") == ["k": "kept"])
        }
        #expect(kills >= targetKills, "only \(kills) of \(rounds) imports were still running when killed")
        reportFigure("kills (luat kv import)", kills, "\(outcomes.nothing) left nothing, \(outcomes.all - (rounds - kills)) all (killed after the commit), \(rounds - kills) finished first; \(entries) entries each, an import takes \(Int(duration * 1_000)) ms")
    }

    static func count(_ path: String) -> Int {
        guard let data = FileManager.default.contents(atPath: path) else { return 0 }
        return data.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
    }
}

/// A client thread that writes `(key, value, logLine)` items from `make(i)` for i = 0, 1, …
/// over HTTP until a request fails (the server died); keeps the log lines of acknowledged writes.
final class AsyncWriter: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let state = Mutex<(lines: [String], sent: Int)>(([], 0))

    init(port: Int, make: @escaping @Sendable (Int) -> (key: String, value: String, line: String)) {
        let thread = Thread { [self] in
            var i = 0
            while true {
                let item = make(i)
                state.withLock { $0.sent += 1 }
                guard let answer = try? LoopbackHTTP.request(port: port, "PUT", "/w/\(item.key)", body: item.value, timeoutSeconds: 30),
                      answer.status == 200, answer.body == "ok" else { break }
                state.withLock { $0.lines.append(item.line) }
                i += 1
            }
            done.signal()
        }
        thread.start()
    }

    var acknowledgedCount: Int { state.withLock { $0.lines.count } }
    var sentCount: Int { state.withLock { $0.sent } }

    /// Waits for the thread to stop (after the server died) and returns the acknowledged lines.
    func finish() -> [String] {
        done.wait()
        return state.withLock { $0.lines }
    }
}
