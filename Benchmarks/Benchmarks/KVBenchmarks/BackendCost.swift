import Benchmark
import Foundation
import KVCore
import KVPostgres
import KVSQLite

// The cost of each `KVNamespace` operation on each storage backend, single-threaded, with
// 100-byte values: `backend_<backend>_<operation>`. Backends: `memory` (the floor), `sqlite`
// (a fresh file) and `postgres` when `LUAT_BENCH_POSTGRES_URL` names a database (its tables
// go in the schema `luat_bench`, kept between runs). Not part of `bench/run.sh`'s bounded
// rounds; run them with `swift package --disable-sandbox benchmark --filter 'backend_.*'`.

/// One backend's store and its `bench` namespace, holding keys `k0` ..< `k<count>`.
final class BackendSide {
    static let count = 2000
    let store: KVStore
    let namespace: KVNamespace
    let value = [UInt8](repeating: 0x61, count: Settings.valueSize)

    init(_ storage: any KVStorage) {
        store = KVStore(storage: storage, clock: SystemClock())
        namespace = try! store.namespace("bench")
    }

    /// Writes every key (again), so reads find them whatever ran before.
    func fill() {
        for i in 0..<Self.count { try! namespace.put(keyBytes: Self.key(i), value) }
    }

    static func key(_ i: Int) -> [UInt8] { Array("k\(i)".utf8) }
}

/// The backends this run measures, created on first use.
let backendSides: [(name: String, side: () -> BackendSide)] = {
    var sides: [(String, () -> BackendSide)] = [
        ("memory", lazySide { MemoryStorage() }),
        ("sqlite", lazySide { try! SQLiteStorage(path: freshDatabase("backend-cost.db")) }),
    ]
    if let url = Settings.environment["LUAT_BENCH_POSTGRES_URL"] {
        sides.append(("postgres", lazySide {
            var settings = try! PostgresSettings(url: url)
            settings.schema = "luat_bench"
            return try! PostgresStorage(settings: settings)
        }))
    }
    return sides
}()

private func lazySide(_ make: @escaping () -> any KVStorage) -> () -> BackendSide {
    var side: BackendSide?
    return {
        if let side { return side }
        let made = BackendSide(make())
        side = made
        return made
    }
}

func backendCostBenchmarks() {
    let n = BackendSide.count
    for (name, side) in backendSides {
        let setup = { side().fill() }
        Benchmark("backend_\(name)_put", configuration: configuration(setup: setup)) { benchmark in
            let s = side()
            timed(benchmark, operations: n) { for i in 0..<n { try! s.namespace.put(keyBytes: BackendSide.key(i), s.value) } }
        }
        Benchmark("backend_\(name)_get", configuration: configuration(setup: setup)) { benchmark in
            let s = side()
            timed(benchmark, operations: n) { for i in 0..<n { blackHole(try! s.namespace.get(keyBytes: BackendSide.key(i))) } }
        }
        Benchmark("backend_\(name)_get_missing", configuration: configuration(setup: setup)) { benchmark in
            let s = side()
            timed(benchmark, operations: n) { for i in 0..<n { blackHole(try! s.namespace.get(keyBytes: Array("missing\(i)".utf8))) } }
        }
        Benchmark("backend_\(name)_list_100", configuration: configuration(setup: setup)) { benchmark in
            let s = side()
            timed(benchmark, operations: 200) { for _ in 0..<200 { blackHole(try! s.namespace.list(ListOptions(limit: 100))) } }
        }
        Benchmark("backend_\(name)_put_many_100", configuration: configuration(setup: setup)) { benchmark in
            let s = side()
            let batch = (0..<100).map { (key: Array("b\($0)".utf8), value: s.value, options: PutOptions()) }
            timed(benchmark, operations: 100) { for _ in 0..<100 { try! s.namespace.putMany(batch) } }
        }
        Benchmark("backend_\(name)_delete", configuration: configuration(setup: setup)) { benchmark in
            let s = side()
            s.fill() // every iteration deletes keys that exist
            timed(benchmark, operations: n) { for i in 0..<n { try! s.namespace.delete(keyBytes: BackendSide.key(i)) } }
        }
    }
}
