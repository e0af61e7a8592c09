import Foundation
import KVCore
import Testing

/// Rough per-operation cost of each backend, single-threaded, through KVNamespace.
/// Opt-in: `LUAT_BENCH=1 swift test --filter BackendCost` (add `-c release` for real numbers).
@Suite("Backend cost (opt-in)", .enabled(if: ProcessInfo.processInfo.environment["LUAT_BENCH"] != nil))
struct BackendCostTests {
    @Test(arguments: Backend.allCases)
    func perOperationCost(_ backend: Backend) throws {
        let t = try backend.makeStore()
        let kv = try t.namespace("bench")
        let n = 2000
        let value = [UInt8](repeating: 0x61, count: 100)
        func time(_ label: String, _ count: Int, _ body: () throws -> Void) rethrows {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            let micros = Double(DispatchTime.now().uptimeNanoseconds - start) / 1000 / Double(count)
            print("BENCH \(backend.rawValue) \(label): \(String(format: "%.1f", micros)) µs/op")
        }
        try time("put", n) { for i in 0..<n { try kv.put("k\(i)", value) } }
        try time("get", n) { for i in 0..<n { _ = try kv.get("k\(i)") } }
        try time("get missing", n) { for i in 0..<n { _ = try kv.get("missing\(i)") } }
        try time("list 100", 200) { for _ in 0..<200 { _ = try kv.list(ListOptions(limit: 100)) } }
        let batch = (0..<100).map { (key: Array("b\($0)".utf8), value: value, options: PutOptions()) }
        try time("putMany 100", 100) { for _ in 0..<100 { try kv.putMany(batch) } }
        try time("delete", n) { for i in 0..<n { try kv.delete("k\(i)") } }
    }
}
