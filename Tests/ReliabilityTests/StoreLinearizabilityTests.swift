import Foundation
import HistoryChecker
import Synchronization
import Testing

/// Concurrent clients on a few keys through two `luat serve` processes sharing one store
/// (the same SQLite file, or the same PostgreSQL database): every history is linearizable,
/// and the same history with one read made stale is not (so the check cannot pass vacuously).
@Suite("Store linearizability", .serialized)
struct StoreLinearizabilityTests {
    enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    static let postgresURL = ProcessInfo.processInfo.environment["LUAT_TEST_POSTGRES_URL"]
    static let inCI = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "false" && $0 != "0" } ?? false

    /// Reads answer `=value` or `-` (absent), so an empty value and no value differ.
    static let route = """
        local kv = KV.namespace("linearizability")
        function GET(ctx)
            local value = kv:get(ctx.params.key)
            if value == nil then return "-" end
            return "=" .. value
        end
        function PUT(ctx)
            kv:put(ctx.params.key, ctx.rawBody)
            return "ok"
        end
        function DELETE(ctx)
            kv:delete(ctx.params.key)
            return "ok"
        end
        """

    @Test(arguments: StoreKind.allCases)
    func concurrentClientsOnTwoServersAreLinearizable(store: StoreKind) throws {
        var arguments = ["--workers", "2", "--production"]
        if store == .postgres {
            guard let url = Self.postgresURL else {
                if Self.inCI { Issue.record("LUAT_TEST_POSTGRES_URL is not set in CI: the PostgreSQL case did not run") }
                return
            }
            arguments += ["--postgres", url]
        }
        let project = try TestProject(routes: ["lin/[key]/+server.lua": Self.route])
        defer { project.remove() }
        let servers = [try ServeProcess.start(project, arguments: arguments), try ServeProcess.start(project, arguments: arguments)]
        defer { servers.forEach { $0.stop() } }

        // Keys unique to this run (a PostgreSQL database outlives it).
        let run = UUID().uuidString.prefix(8)
        let keys = (0..<4).map { "\(run)-k\($0)" }
        let clients = 6
        let perClient = Luat.scaled(700)
        let recorder = HistoryRecorder()
        let failures = FailureLog()

        DispatchQueue.concurrentPerform(iterations: clients) { client in
            var random = SplitMix64(seed: Luat.seed &+ UInt64(client) &* 7_919)
            let port = servers[client % 2].port
            for n in 0..<perClient {
                let key = keys[Int(random.next() % UInt64(keys.count))]
                let choice = random.next() % 10
                let invoked = recorder.now()
                do {
                    if choice < 5 {
                        let answer = try LoopbackHTTP.request(port: port, "GET", "/lin/\(key)")
                        let returned = recorder.now()
                        guard answer.status == 200 else { failures.add("GET \(key): \(answer.text.prefix(200))"); continue }
                        let body = answer.body
                        let value: String? = body == "-" ? nil : (body.hasPrefix("=") ? String(body.dropFirst()) : nil)
                        guard body == "-" || body.hasPrefix("=") else { failures.add("GET \(key): body \(body.prefix(100))"); continue }
                        recorder.record(client: client, key: key, invoked: invoked, returned: returned, action: .read(value: value))
                    } else {
                        let isWrite = choice < 9
                        let value = "c\(client)-\(n)"
                        let answer = try LoopbackHTTP.request(port: port, isWrite ? "PUT" : "DELETE", "/lin/\(key)", body: isWrite ? value : nil)
                        let returned = recorder.now()
                        let ok = answer.status == 200 && answer.body == "ok"
                        if !ok { failures.add("\(isWrite ? "PUT" : "DELETE") \(key): \(answer.text.prefix(200))") }
                        // A failed write's effect is unknown: the checker may place it or not.
                        recorder.record(client: client, key: key, invoked: invoked, returned: ok ? returned : nil,
                                        action: isWrite ? .write(value: value) : .delete)
                    }
                } catch {
                    failures.add("\(key): \(error)")
                }
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all.prefix(10))")

        let history = recorder.history
        let checker = LinearizabilityChecker(model: RegisterModel())
        let report = checker.check(history)
        #expect(report.isLinearizable, "\(report)")
        #expect(report.operations == clients * perClient - failures.all.count)
        #expect(report.keys == keys.count)
        reportFigure("operations checked for linearizability (\(store.rawValue))", report.operations,
                     "\(clients) clients, 2 luat serve processes, \(keys.count) keys")

        // The same history with one read made stale: it must be refused.
        let planted = try #require(Self.plantStaleRead(history), "no read followed two sequential writes")
        let faulty = checker.check(planted)
        #expect(!faulty.isLinearizable)
        #expect(faulty.violations.count == 1)
    }

    /// The history with one read changed to return the value of a write that was overwritten
    /// (write w1 returned before write w2 started, and w2 returned before the read started).
    static func plantStaleRead(_ history: [HistoryOperation]) -> [HistoryOperation]? {
        var writes: [String: [HistoryOperation]] = [:]
        for op in history { if case .write = op.action, op.returned != nil { writes[op.key, default: []].append(op) } }
        for (index, read) in history.enumerated() {
            guard case .read(let seen, _) = read.action, read.returned != nil else { continue }
            let before = (writes[read.key] ?? []).filter { $0.returned! < read.invoked }
            for w2 in before {
                for w1 in before where w1.returned! < w2.invoked {
                    guard case .write(let old, _) = w1.action, old != seen else { continue }
                    var planted = history
                    planted[index].action = .read(value: old)
                    return planted
                }
            }
        }
        return nil
    }
}

/// Failures from many threads, kept for the test's message.
final class FailureLog: Sendable {
    private let entries = Mutex<[String]>([])
    func add(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}
