import Benchmark
import CSQLiteBench
import Foundation
import KVCore
import KVSQLite
import LuaRuntime

// Issue 7, targets 1–4 and 6. The benchmark tool runs benchmarks in name order, each in a
// process of its own, so each target's names share a prefix and its baseline sorts first
// (`get_0_raw`, `get_1_swift`, `get_2_lua`): both halves run close together in time; `bench/run.sh` repeats the suite and takes the
// median ratio. Every benchmark records its own rate as the custom metric `ops_per_s`
// (operations in one iteration divided by that iteration's time).

let opsPerSecond = BenchmarkMetric.custom("ops_per_s", polarity: .prefersLarger, useScalingFactor: false)
/// Processor time (user + system, all threads) per operation: steadier than wall time on a
/// shared machine, and what a server pays per request.
let cpuPerOperation = BenchmarkMetric.custom("cpu_ns_per_op", polarity: .prefersSmaller, useScalingFactor: false)

func configuration(warmup: Int = 2, maxIterations: Int = 1_000_000, setup: (() -> Void)? = nil,
                   metrics: [BenchmarkMetric] = [.wallClock, opsPerSecond, cpuPerOperation]) -> Benchmark.Configuration {
    Benchmark.Configuration(
        metrics: metrics,
        timeUnits: .microseconds,
        units: [opsPerSecond: .count, cpuPerOperation: .count],
        warmupIterations: Settings.smoke ? 0 : warmup,
        maxDuration: .seconds(Settings.seconds),
        maxIterations: Settings.smoke ? 1 : maxIterations,
        setup: setup.map { body in { body() } }
    )
}

/// Times `body`, which performs `operations` operations, and records the rate.
@inline(__always)
func timed(_ benchmark: Benchmark, operations: Int, _ body: () -> Void) {
    let cpuStart = processorNanoseconds()
    let start = monotonicNanoseconds()
    body()
    let elapsed = max(monotonicNanoseconds() - start, 1)
    let cpu = processorNanoseconds() - cpuStart
    benchmark.measurement(opsPerSecond, Int(Double(operations) * 1e9 / Double(elapsed)))
    benchmark.measurement(cpuPerOperation, Int(cpu / UInt64(operations)))
}

// MARK: shared state (built once, in each benchmark's setup)

/// The raw side: one connection for reads and one for writes, on the main fixture.
final class RawSide {
    let reader = RawConnection(path: mainDatabase)
    let writer = RawConnection(path: mainDatabase)
    lazy var select = reader.prepare(Raw.selectValue)
    lazy var upsert = writer.prepare(Raw.upsert)
    lazy var scan = reader.prepare(Raw.scanAfter)
    lazy var namespace = reader.namespaceID("bench")
}

/// Our side: a store over the main fixture, its `bench` namespace, and a Lua runtime.
final class OurSide {
    let store = openStore(mainDatabase)
    lazy var namespace = try! store.namespace("bench")
    lazy var lua: LuaEnvironment = {
        let runtime = try! LuaRuntime(store: store, projectRoot: "/bench", files: MemoryFileSource())
        let env = try! runtime.loadEnvironment(source: luaSource, path: "bench.lua")
        try! env.call("setup", arguments: [.integer(Int64(Settings.keyCount)), .integer(Int64(runStamp))])
        return env
    }()
}

let luaSource = """
    local kv = KV.namespace("bench")
    local order = {}
    local pos = 0
    local value = string.rep("v", 100)
    local stamp = 0
    function setup(n, base)
      stamp = base
      math.randomseed(42)
      for i = 1, 65536 do order[i] = string.format("key:%08d", math.random(n) - 1) end
    end
    function get_batch(count)
      local kv, order, p = kv, order, pos
      for _ = 1, count do
        p = (p & 65535) + 1
        local v = kv:get(order[p])
      end
      pos = p
    end
    local tail = string.rep("v", 84)
    function put_batch(count)
      local kv, order, p, tail = kv, order, pos, tail
      for _ = 1, count do
        p = (p & 65535) + 1
        stamp = stamp + 1
        kv:put(order[p], string.format("%016d", stamp % 10000000000000000) .. tail) -- a new value each time
      end
      pos = p
    end
    """

nonisolated(unsafe) var raw: RawSide! = nil
nonisolated(unsafe) var ours: OurSide! = nil
nonisolated(unsafe) var position = 0
/// Values to put: each put stores a value different from the one it replaces (SQLite skips
/// writing a row whose bytes did not change, which would flatter every write benchmark).
/// The keys repeat from one process to the next (the fixtures are kept), so the 16-digit
/// stamp starts at a random point in every process: a run never stores again what an
/// earlier run stored under the same key.
let runStamp = Int.random(in: 0..<100_000_000_000_000)
nonisolated(unsafe) var stampedValue = value(0)
nonisolated(unsafe) var stamp = runStamp
@inline(__always)
func nextValue() -> [UInt8] {
    stamp += 1
    stampDigits(stamp, into: &stampedValue)
    return stampedValue
}

/// Writes the last 16 decimal digits of `stamp` over the first 16 bytes of `value`.
@inline(__always)
func stampDigits(_ stamp: Int, into value: inout [UInt8]) {
    var n = stamp
    for j in 0..<16 { value[j] = UInt8(ascii: "0") + UInt8(n % 10); n /= 10 }
}

/// The same for one writer thread of a group-commit round.
struct Stamper {
    var value: [UInt8]
    var stamp: Int
    init(thread: Int) { value = KVBenchmarks.value(thread); stamp = thread * 100_000_000_000_000 + runStamp }
    mutating func next() -> [UInt8] {
        stamp += 1
        stampDigits(stamp, into: &value)
        return value
    }
}

func setUpMain() {
    if raw == nil { raw = RawSide() }
    if ours == nil { ours = OurSide() }
}

@inline(__always)
func nextKey() -> [UInt8] {
    position = (position + 1) & (randomOrder.count - 1)
    return mainKeys[randomOrder[position]]
}

/// Listing positions: (cursor of a page, the key that page resumes after).
func pageStarts(_ namespace: KVNamespace, keepFrom fraction: Double, total: Int) -> [(cursor: String, after: [UInt8])] {
    var starts: [(String, [UInt8])] = []
    var cursor: String? = nil
    var listed = 0
    repeat {
        let page = try! namespace.list(ListOptions(limit: 1000, cursor: cursor))
        listed += page.keys.count
        cursor = page.cursor
        if let c = cursor, Double(listed) >= fraction * Double(total), listed + 1000 <= total {
            starts.append((c, Array(page.keys.last!.name.utf8)))
        }
    } while cursor != nil
    return starts
}

nonisolated(unsafe) var listStarts: [(cursor: String, after: [UInt8])] = []
nonisolated(unsafe) var depthSide: (store: KVStore, big: KVNamespace, small: KVNamespace,
                                    bigStarts: [(cursor: String, after: [UInt8])],
                                    smallStarts: [(cursor: String, after: [UInt8])])? = nil

func setUpDepth() {
    guard depthSide == nil else { return }
    let store = openStore(depthDatabase)
    let big = try! store.namespace("big")
    let small = try! store.namespace("small")
    depthSide = (store, big, small,
                 pageStarts(big, keepFrom: 0.5, total: Settings.bigCount),
                 pageStarts(small, keepFrom: 0.5, total: Settings.smallCount))
}

// MARK: group commit

let writers = 64
let pool = WorkerPool(count: writers)
let rowsPerWriter = 125 // 64 × 125 = 8,000 rows, eight raw transactions of 1,000

/// Keys for one round of 8,000 random writes, as 64 slices of 125.
func randomRound(_ rng: inout Random) -> [[[UInt8]]] {
    (0..<writers).map { _ in (0..<rowsPerWriter).map { _ in mainKeys[rng.below(mainKeys.count)] } }
}

nonisolated(unsafe) var roundRandom = Random(seed: 7)

final class SequenceCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    func take() -> Int { lock.lock(); defer { lock.unlock() }; next += 1; return next }
}

/// 1,000 counter keys, spread over the namespace's key space.
let counterKeys: [[UInt8]] = (0..<1000).map { Array("counter:\($0 * 7919 % 1000)".utf8) }

func sequentialKey(_ n: Int) -> [UInt8] {
    let digits = String(n)
    return Array(("seq:" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits).utf8)
}

nonisolated(unsafe) var sequentialOurs: (store: KVStore, namespace: KVNamespace, counter: SequenceCounter)? = nil
nonisolated(unsafe) var sequentialRaw: (connection: RawConnection, upsert: RawStatement, namespace: Int64, next: Int)? = nil

// MARK: Lua state size and memory growth

let stateSize = BenchmarkMetric.custom("state_kb", polarity: .prefersSmaller, useScalingFactor: false)
let stateResident = BenchmarkMetric.custom("state_rss_kb", polarity: .prefersSmaller, useScalingFactor: false)
let residentGrowth = BenchmarkMetric.custom("rss_growth_kb", polarity: .prefersSmaller, useScalingFactor: false)
let residentGrowthTotal = BenchmarkMetric.custom("rss_growth_total_kb", polarity: .prefersSmaller, useScalingFactor: false)
let luaGrowth = BenchmarkMetric.custom("lua_growth_kb", polarity: .prefersSmaller, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    // Target 1: get / put / list against raw prepared statements.
    Benchmark("get_0_raw", configuration: configuration(setup: setUpMain)) { benchmark in
        let s = raw.select, ns = raw.namespace
        timed(benchmark, operations: 2000) {
            for _ in 0..<2000 { blackHole(Raw.get(s, namespace: ns, key: nextKey())) }
        }
    }
    Benchmark("get_1_swift", configuration: configuration(setup: setUpMain)) { benchmark in
        let ns = ours.namespace
        timed(benchmark, operations: 2000) {
            for _ in 0..<2000 { blackHole(try! ns.get(keyBytes: nextKey())) }
        }
    }
    // Target 2 (read): the same lookups from a Lua loop.
    Benchmark("get_2_lua", configuration: configuration(setup: { setUpMain(); _ = ours.lua })) { benchmark in
        let env = ours.lua
        timed(benchmark, operations: 2000) { try! env.call("get_batch", arguments: [.integer(2000)]) }
    }
    Benchmark("put_0_raw", configuration: configuration(setup: setUpMain)) { benchmark in
        let s = raw.upsert, ns = raw.namespace
        timed(benchmark, operations: 1000) {
            for _ in 0..<1000 { Raw.put(s, namespace: ns, key: nextKey(), value: nextValue()) }
        }
    }
    Benchmark("put_1_swift", configuration: configuration(setup: setUpMain)) { benchmark in
        let ns = ours.namespace
        timed(benchmark, operations: 1000) {
            for _ in 0..<1000 { try! ns.put(keyBytes: nextKey(), nextValue()) }
        }
    }
    // Target 2 (write).
    Benchmark("put_2_lua", configuration: configuration(setup: { setUpMain(); _ = ours.lua })) { benchmark in
        let env = ours.lua
        timed(benchmark, operations: 1000) { try! env.call("put_batch", arguments: [.integer(1000)]) }
    }
    Benchmark("list_0_raw", configuration: configuration(setup: {
        setUpMain()
        if listStarts.isEmpty { listStarts = pageStarts(ours.namespace, keepFrom: 0, total: Settings.keyCount) }
    })) { benchmark in
        let s = raw.scan, ns = raw.namespace
        timed(benchmark, operations: 10) {
            for _ in 0..<10 {
                position += 1
                blackHole(Raw.scan(s, namespace: ns, after: listStarts[position % listStarts.count].after, limit: 1000))
            }
        }
    }
    Benchmark("list_1_swift", configuration: configuration(setup: {
        setUpMain()
        if listStarts.isEmpty { listStarts = pageStarts(ours.namespace, keepFrom: 0, total: Settings.keyCount) }
    })) { benchmark in
        let ns = ours.namespace
        timed(benchmark, operations: 10) {
            for _ in 0..<10 {
                position += 1
                blackHole(try! ns.list(ListOptions(limit: 1000, cursor: listStarts[position % listStarts.count].cursor)))
            }
        }
    }

    // Target 3: group commit. Random keys: 64 writers against one raw writer putting the
    // same 8,000 rows 1,000 per transaction.
    Benchmark("group_commit_random_0_raw", configuration: configuration(warmup: 1, setup: setUpMain)) { benchmark in
        let round = randomRound(&roundRandom).flatMap { $0 }
        let s = raw.upsert, ns = raw.namespace, connection = raw.writer
        timed(benchmark, operations: round.count) {
            for start in stride(from: 0, to: round.count, by: 1000) {
                connection.exec("BEGIN IMMEDIATE")
                for key in round[start..<min(start + 1000, round.count)] { Raw.put(s, namespace: ns, key: key, value: nextValue()) }
                connection.exec("COMMIT")
            }
        }
    }
    Benchmark("group_commit_random_1_ours", configuration: configuration(warmup: 1, setup: setUpMain)) { benchmark in
        let round = randomRound(&roundRandom)
        let ns = ours.namespace
        timed(benchmark, operations: writers * rowsPerWriter) {
            pool.run { t in
                var stamper = Stamper(thread: t + 1)
                for key in round[t] { try! ns.put(keyBytes: key, stamper.next()) }
            }
        }
    }
    // Sequential (time-ordered) keys: 64 writers against one raw writer in autocommit.
    Benchmark("group_commit_sequential_0_raw", configuration: configuration(warmup: 1, setup: {
        if sequentialRaw == nil {
            let path = freshDatabase("seq-raw.db")
            _ = try! openStore(path).namespace("seq")
            let connection = RawConnection(path: path)
            sequentialRaw = (connection, connection.prepare(Raw.upsert), connection.namespaceID("seq"), 0)
        }
    })) { benchmark in
        let s = sequentialRaw!.upsert, ns = sequentialRaw!.namespace
        var next = sequentialRaw!.next
        timed(benchmark, operations: 1000) {
            for _ in 0..<1000 {
                next += 1
                Raw.put(s, namespace: ns, key: sequentialKey(next), value: nextValue())
            }
        }
        sequentialRaw!.next = next
    }
    Benchmark("group_commit_sequential_1_ours", configuration: configuration(warmup: 1, setup: {
        if sequentialOurs == nil {
            let store = openStore(freshDatabase("seq-ours.db"))
            sequentialOurs = (store, try! store.namespace("seq"), SequenceCounter())
        }
    })) { benchmark in
        let ns = sequentialOurs!.namespace, counter = sequentialOurs!.counter
        timed(benchmark, operations: writers * rowsPerWriter) {
            pool.run { t in
                var stamper = Stamper(thread: t + 1)
                for _ in 0..<rowsPerWriter { try! ns.put(keyBytes: sequentialKey(counter.take()), stamper.next()) }
            }
        }
    }

    // Issue 14: `increment` (an atomic read-add-write) against `put` of a new value, one
    // writer each, on the main fixture; and a contended counter: 64 writers on one key.
    Benchmark("increment_0_put", configuration: configuration(setup: setUpMain)) { benchmark in
        let ns = ours.namespace
        timed(benchmark, operations: 1000) {
            for _ in 0..<1000 { try! ns.put(keyBytes: nextKey(), nextValue()) }
        }
    }
    Benchmark("increment_1_ours", configuration: configuration(setup: setUpMain)) { benchmark in
        let ns = ours.namespace
        timed(benchmark, operations: 1000) {
            for i in 0..<1000 { blackHole(try! ns.increment(keyBytes: counterKeys[i])) }
        }
    }
    Benchmark("increment_contended", configuration: configuration(warmup: 1, setup: setUpMain)) { benchmark in
        let ns = ours.namespace
        timed(benchmark, operations: writers * rowsPerWriter) {
            pool.run { _ in
                for _ in 0..<rowsPerWriter { try! ns.increment(keyBytes: Array("counter:contended".utf8)) }
            }
        }
    }

    // Target 4: a deep 1,000-key page of a 1,000,000-key namespace against one of a 10,000-key namespace.
    Benchmark("list_depth_0_10k", configuration: configuration(setup: setUpDepth)) { benchmark in
        let side = depthSide!
        timed(benchmark, operations: 10) {
            for _ in 0..<10 {
                position += 7
                blackHole(try! side.small.list(ListOptions(limit: 1000, cursor: side.smallStarts[position % side.smallStarts.count].cursor)))
            }
        }
    }
    Benchmark("list_depth_1_1m", configuration: configuration(setup: setUpDepth)) { benchmark in
        let side = depthSide!
        timed(benchmark, operations: 10) {
            for _ in 0..<10 {
                position += 7
                blackHole(try! side.big.list(ListOptions(limit: 1000, cursor: side.bigStarts[position % side.bigStarts.count].cursor)))
            }
        }
    }

    // Target 6: what one Lua state costs, and no growth over many kv:get calls.
    Benchmark("state_kb", configuration: configuration(warmup: 0, maxIterations: 3,
                                                       metrics: [.wallClock, stateSize, stateResident])) { benchmark in
        let store = KVStore(storage: MemoryStorage(), clock: SystemClock())
        let count = 200
        var runtimes: [LuaRuntime] = []
        runtimes.reserveCapacity(count)
        let before = residentKilobytes()
        for _ in 0..<count {
            let runtime = try! LuaRuntime(store: store, projectRoot: "/bench", files: MemoryFileSource())
            // A route file's worth of code, as a pooled state holds: one environment with a handler.
            _ = try! runtime.loadEnvironment(source: "function GET(ctx) return KV.namespace('n'):get(ctx.key) end", path: "r.lua")
            runtime.collectGarbage()
            runtimes.append(runtime)
        }
        let after = residentKilobytes()
        benchmark.measurement(stateSize, runtimes[0].memoryInUseKilobytes)
        benchmark.measurement(stateResident, max(0, after - before) / count)
        blackHole(runtimes)
    }
    Benchmark("kv_get_memory_growth", configuration: configuration(warmup: 0, maxIterations: 1,
                                                                   setup: { setUpMain(); _ = ours.lua },
                                                                   metrics: [.wallClock, residentGrowth, residentGrowthTotal, luaGrowth, opsPerSecond])) { benchmark in
        let env = ours.lua
        let batch = 100_000
        // Warm up: caches, reader connection, Lua's string table.
        try! env.call("get_batch", arguments: [.integer(Int64(min(batch, Settings.growthCalls)))])
        env.runtime.collectGarbage()
        let residentBefore = residentKilobytes()
        let luaBefore = env.runtime.memoryInUseKilobytes
        var done = 0
        var residentHalf = 0
        timed(benchmark, operations: Settings.growthCalls) {
            while done < Settings.growthCalls {
                let n = min(batch, Settings.growthCalls - done)
                try! env.call("get_batch", arguments: [.integer(Int64(n))])
                done += n
                if residentHalf == 0, done >= Settings.growthCalls / 2 { residentHalf = residentKilobytes() }
            }
        }
        env.runtime.collectGarbage()
        let residentAfter = residentKilobytes()
        // Growth over the second half: what keeps growing. The first half also fills SQLite's
        // page cache (2 MB per connection by default), which is bounded.
        benchmark.measurement(residentGrowth, max(0, residentAfter - residentHalf))
        benchmark.measurement(residentGrowthTotal, max(0, residentAfter - residentBefore))
        benchmark.measurement(luaGrowth, max(0, env.runtime.memoryInUseKilobytes - luaBefore))
    }

    // A route call from the parsed request to the response, against the same in Lua (RouteCall.swift).
    routeCallBenchmarks()

    // Per-operation cost of each storage backend (BackendCost.swift).
    backendCostBenchmarks()
}
