import CSQLiteBench
import Foundation
import KVCore
import KVSQLite

/// Settings from the environment, so `bench/run.sh` and `bench/smoke.sh` can bound a run.
enum Settings {
    static let environment = ProcessInfo.processInfo.environment

    /// Folder for the fixture databases (kept between runs: the 1,000,000-key file takes seconds to build).
    static let folder = environment["LUAT_BENCH_DIR"] ?? (NSTemporaryDirectory() + "luat-bench")
    /// Smoke mode: one iteration of everything on small data, no timing wanted.
    static let smoke = environment["LUAT_BENCH_SMOKE"] == "1"
    /// Seconds each benchmark runs (after warm-up).
    static let seconds = Int(environment["LUAT_BENCH_SECONDS"] ?? "") ?? 1
    /// `kv:get` calls of the memory-growth benchmark.
    static let growthCalls = Int(environment["LUAT_BENCH_GROWTH_CALLS"] ?? "") ?? (smoke ? 20_000 : 10_000_000)

    /// Keys of the main fixture (issue 7: 100k keys, 100-byte values).
    static let keyCount = smoke ? 2_000 : 100_000
    /// Keys of the large and small namespaces of `list_depth`.
    static let bigCount = smoke ? 20_000 : 1_000_000
    static let smallCount = smoke ? 2_000 : 10_000
    static let valueSize = 100
    /// The SQLite layout the fixtures are written in: part of their file names, so a layout
    /// change rebuilds them instead of migrating a cached file.
    static let layout = 2
}

/// A deterministic generator (xorshift64*), so every run touches the same keys.
struct Random {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    @inline(__always) mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
    @inline(__always) mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

func keyName(_ i: Int) -> String {
    let digits = String(i)
    return "key:" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

func value(_ i: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: UInt8(ascii: "v"), count: Settings.valueSize)
    var n = i
    for j in 0..<8 { bytes[j] = UInt8(ascii: "0") + UInt8(n % 10); n /= 10 }
    return bytes
}

/// Fills `namespace` of the database at `path` with keys 0..<count in raw transactions of
/// 10,000 rows, through luat's own schema (the store creates the file and namespace first).
func fill(path: String, namespace: String, count: Int) {
    let storage = try! SQLiteStorage(path: path)
    let store = KVStore(storage: storage, clock: SystemClock())
    _ = try! store.namespace(namespace)
    let raw = RawConnection(path: path)
    let id = raw.namespaceID(namespace)
    let s = raw.prepare(Raw.upsert)
    var i = 0
    while i < count {
        raw.exec("BEGIN IMMEDIATE")
        for j in i..<min(count, i + 10_000) { Raw.put(s, namespace: id, key: Array(keyName(j).utf8), value: value(j)) }
        raw.exec("COMMIT")
        i += 10_000
    }
    raw.exec("PRAGMA wal_checkpoint(TRUNCATE)")
    _ = storage
}

/// A database file built once and kept in `Settings.folder` (rebuilt when its marker is missing).
func cachedDatabase(_ name: String, build: (String) -> Void) -> String {
    let folder = Settings.folder + (Settings.smoke ? "/smoke" : "")
    try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let path = folder + "/" + name
    let marker = path + ".ready"
    if !FileManager.default.fileExists(atPath: marker) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        build(path)
        _ = FileManager.default.createFile(atPath: marker, contents: Data())
    }
    return path
}

/// The main fixture: namespace `bench` with `Settings.keyCount` keys of 100-byte values.
let mainDatabase: String = cachedDatabase("kv-\(Settings.keyCount)-layout\(Settings.layout).db") { fill(path: $0, namespace: "bench", count: Settings.keyCount) }

/// The `list_depth` fixture: namespaces `big` (1,000,000 keys) and `small` (10,000) in one file.
let depthDatabase: String = cachedDatabase("depth-\(Settings.bigCount)-layout\(Settings.layout).db") { path in
    fill(path: path, namespace: "small", count: Settings.smallCount)
    fill(path: path, namespace: "big", count: Settings.bigCount)
}

/// The main keys as bytes, and a fixed random order over them.
let mainKeys: [[UInt8]] = (0..<Settings.keyCount).map { Array(keyName($0).utf8) }
let randomOrder: [Int] = {
    var rng = Random(seed: 42)
    return (0..<(1 << 16)).map { _ in rng.below(Settings.keyCount) }
}()

/// A store over a file, as the server opens it.
func openStore(_ path: String) -> KVStore {
    KVStore(storage: try! SQLiteStorage(path: path), clock: SystemClock())
}

/// A fresh, empty database file (for writers of new keys).
func freshDatabase(_ name: String) -> String {
    let folder = Settings.folder + (Settings.smoke ? "/smoke" : "")
    try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let path = folder + "/" + name
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    return path
}

@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Processor time of this process (all threads, user + system).
func processorNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Resident memory of this process in kilobytes, from /proc/self/statm.
func residentKilobytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
}

/// A fixed set of threads that run one round of work together: `run` releases them all at
/// once (they are already started and waiting) and returns when every one has finished, so a
/// round measures concurrent writers, not thread start-up.
final class WorkerPool: @unchecked Sendable {
    let count: Int
    private let condition = NSCondition()
    private var round = 0
    private var remaining = 0
    private var body: ((Int) -> Void)?

    init(count: Int) {
        self.count = count
        for t in 0..<count {
            let thread = Thread { [unowned self] in self.work(t) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func work(_ t: Int) {
        var seen = 0
        while true {
            condition.lock()
            while round == seen { condition.wait() }
            seen = round
            let body = self.body!
            condition.unlock()
            body(t)
            condition.lock()
            remaining -= 1
            if remaining == 0 { condition.broadcast() }
            condition.unlock()
        }
    }

    func run(_ body: @escaping (Int) -> Void) {
        condition.lock()
        self.body = body
        remaining = count
        round += 1
        condition.broadcast()
        while remaining > 0 { condition.wait() }
        self.body = nil
        condition.unlock()
    }
}
