import Foundation
import Synchronization
import Testing

/// `luat serve` under write load while `luat kv` processes write and read the same SQLite
/// file: no error reaches any client ("database is locked" included), nothing acknowledged is
/// lost, and every list (over HTTP and from the CLI) is sorted, without duplicates, and holds
/// every key acknowledged before it started.
@Suite("Contention", .serialized)
struct ContentionTests {
    static let routes = [
        "w/[key]/+server.lua": """
            local kv = KV.namespace("load")
            function PUT(ctx)
                kv:put(ctx.params.key, ctx.rawBody, { metadata = { by = "http" } })
                return "ok"
            end
            """,
        "list/+server.lua": """
            local kv = KV.namespace("load")
            function GET(ctx)
                local result = kv:list({ cursor = ctx.query.cursor, limit = 250 })
                local names = {}
                for i, key in ipairs(result.keys) do names[i] = key.name end
                return { body = { names = names, cursor = result.cursor or "", complete = result.list_complete } }
            end
            """,
    ]

    /// Keys acknowledged so far (key → value), shared by every client thread.
    final class Acknowledged: Sendable {
        private let entries = Mutex<[String: String]>([:])
        func add(_ key: String, _ value: String) { entries.withLock { $0[key] = value } }
        var snapshot: [String: String] { entries.withLock { $0 } }
    }

    /// Problems with a list's names: out of order, repeated, or missing an acknowledged key.
    static func listProblems(_ names: [String], mustHold: some Collection<String>, source: String) -> [String] {
        var problems: [String] = []
        for i in names.indices.dropFirst() where !(Array(names[i - 1].utf8).lexicographicallyPrecedes(Array(names[i].utf8))) {
            problems.append("\(source): \(names[i - 1]) then \(names[i]) (unsorted or repeated)")
            break
        }
        let listed = Set(names)
        let missing = mustHold.filter { !listed.contains($0) }
        if !missing.isEmpty { problems.append("\(source): \(missing.count) acknowledged keys missing, e.g. \(missing.first!)") }
        return problems
    }

    @Test func serveAndLuatKvOnOneFile() throws {
        let project = try TestProject(routes: Self.routes)
        defer { project.remove() }
        let server = try ServeProcess.start(project, arguments: ["--workers", "2", "--production"])
        defer { server.stop() }
        let port = server.port
        let acknowledged = Acknowledged()
        let failures = FailureLog()
        let counts = Mutex((httpWrites: 0, httpLists: 0, cliWrites: 0, cliReads: 0, listsChecked: 0))

        let httpWriters = 2, httpWrites = Luat.scaled(600)
        let cliWriters = 2, cliWrites = Luat.scaled(12)
        let cliReaders = Luat.scaled(8)
        let httpLists = Luat.scaled(20)

        DispatchQueue.concurrentPerform(iterations: 6) { worker in
            switch worker {
            case 0, 1:
                // HTTP write load.
                for i in 0..<httpWrites {
                    let key = "http-\(worker)-\(i)", value = "value \(worker) \(i)"
                    do {
                        let answer = try LoopbackHTTP.request(port: port, "PUT", "/w/\(key)", body: value)
                        if answer.status == 200 && answer.body == "ok" {
                            acknowledged.add(key, value)
                            counts.withLock { $0.httpWrites += 1 }
                        } else {
                            failures.add("PUT \(key): \(answer.text.prefix(300))")
                        }
                    } catch { failures.add("PUT \(key): \(error)") }
                }
            case 2, 3:
                // luat kv put processes on the same file.
                for i in 0..<cliWrites {
                    let key = "cli-\(worker)-\(i)", value = "cli value \(i)"
                    do {
                        let result = try Luat.run(["kv", "put", "load", key, value, "--metadata", #"{"by":"cli"}"#], in: project.root)
                        if result.status == 0 && result.stderr.isEmpty {
                            acknowledged.add(key, value)
                            counts.withLock { $0.cliWrites += 1 }
                        } else {
                            failures.add("luat kv put \(key): status \(result.status): \(result.stderr)")
                        }
                    } catch { failures.add("luat kv put: \(error)") }
                }
            case 4:
                // luat kv list --all and get, reading while the others write.
                for _ in 0..<cliReaders {
                    let before = acknowledged.snapshot
                    do {
                        let result = try Luat.run(["kv", "list", "load", "--all", "--json"], in: project.root)
                        guard result.status == 0, result.stderr.isEmpty,
                              let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                              let keys = json["keys"] as? [[String: Any]] else {
                            failures.add("luat kv list: status \(result.status): \(result.stderr) \(result.stdout.prefix(200))"); continue
                        }
                        let names = keys.compactMap { $0["name"] as? String }
                        for problem in Self.listProblems(names, mustHold: before.keys, source: "luat kv list") { failures.add(problem) }
                        if let (key, value) = before.first {
                            let got = try Luat.run(["kv", "get", "load", key], in: project.root)
                            if got.status != 0 || got.stdout != value { failures.add("luat kv get \(key): status \(got.status): \(got.stderr)") }
                        }
                        counts.withLock { $0.cliReads += 1; $0.listsChecked += 1 }
                    } catch { failures.add("luat kv list: \(error)") }
                }
            default:
                // Paged lists over HTTP.
                for _ in 0..<httpLists {
                    let before = acknowledged.snapshot
                    var names: [String] = []
                    var cursor = ""
                    do {
                        while true {
                            let query = cursor.isEmpty ? "" : "?cursor=" + cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                            let answer = try LoopbackHTTP.request(port: port, "GET", "/list" + query)
                            guard answer.status == 200,
                                  let page = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any],
                                  let pageNames = page["names"] as? [String] else {
                                failures.add("GET /list: \(answer.text.prefix(300))"); break
                            }
                            names += pageNames
                            cursor = page["cursor"] as? String ?? ""
                            if page["complete"] as? Bool == true || cursor.isEmpty { break }
                        }
                        for problem in Self.listProblems(names, mustHold: before.keys, source: "HTTP list") { failures.add(problem) }
                        counts.withLock { $0.httpLists += 1; $0.listsChecked += 1 }
                    } catch { failures.add("GET /list: \(error)") }
                }
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all.prefix(10))")

        // Nothing acknowledged is lost, with its exact value.
        server.stop()
        let stored = try StoreContents.export(project, namespace: "load")
        let all = acknowledged.snapshot
        let wrong = all.filter { stored[$0.key] != $0.value }
        #expect(wrong.isEmpty, "\(wrong.count) acknowledged writes missing or changed, e.g. \(wrong.first.map { "\($0.key)" } ?? "")")
        #expect(stored.count == all.count)
        #expect(try StoreContents.integrity(project) == ["ok"])
        let c = counts.withLock { $0 }
        #expect(c.httpWrites == httpWriters * httpWrites && c.cliWrites == cliWriters * cliWrites)
        reportFigure("contention: acknowledged writes checked", all.count,
                     "\(c.httpWrites) over HTTP, \(c.cliWrites) by luat kv put; \(c.listsChecked) full lists checked (\(c.httpLists) HTTP, \(c.cliReads) luat kv list)")
    }
}
