import Foundation
import KVCore
import Testing

@Suite("Conformance: concurrency")
struct ConcurrencyConformanceTests {
    @Test(arguments: Backend.allCases)
    func eightThreadsPutTenThousandDistinctKeysWithNoneLost(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("threads")
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for i in 0..<1250 {
                let key = "t\(thread):\(i)"
                do {
                    try kv.put(key, key)
                    // Read-your-writes: the put is visible at once, from this thread.
                    if try kv.get(key)?.text != key { failures.add("read-your-writes failed for \(key)") }
                } catch {
                    failures.add("\(key): \(error)")
                }
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all.prefix(5))")
        var count = 0
        var cursor: String? = nil
        repeat {
            let page = try kv.list(ListOptions(cursor: cursor))
            count += page.keys.count
            cursor = page.cursor
        } while cursor != nil
        #expect(count == 10_000)
        for thread in 0..<8 { #expect(try kv.get("t\(thread):1249")?.text == "t\(thread):1249") }
    }

    @Test(arguments: Backend.allCases)
    func lastWriterWinsPerKeyAndReadersSeeWholeValues(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("race")
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            let mine = [UInt8](repeating: UInt8(65 + thread), count: 4096)
            for _ in 0..<300 {
                do {
                    try kv.put("shared", mine)
                    let seen = try kv.get("shared") ?? []
                    // Never a torn value: always 4096 copies of one writer's byte.
                    if seen.count != 4096 || Set(seen).count != 1 { failures.add("torn value") }
                } catch { failures.add("\(error)") }
            }
        }
        #expect(failures.all.isEmpty)
        try kv.put("shared", "final")
        #expect(try kv.get("shared")?.text == "final")
    }
}

/// Failures collected from many threads.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
