import HistoryChecker
import Testing

/// The checker's answers on hand-made histories, and on generated ones that are
/// linearizable by construction, before and after a planted fault.
@Suite("Linearizability checker")
struct LinearizabilityCheckerTests {
    typealias Op = HistoryOperation

    func op(_ client: Int, _ invoked: UInt64, _ returned: UInt64?, _ action: Op.Action, key: String = "k") -> Op {
        Op(client: client, key: key, invoked: invoked, returned: returned, action: action)
    }

    func register(_ history: [Op]) -> LinearizabilityReport {
        LinearizabilityChecker(model: RegisterModel()).check(history)
    }

    @Test func sequentialHistoryIsLinearizable() {
        let report = register([
            op(0, 0, 1, .read(value: nil)),
            op(0, 2, 3, .write(value: "a")),
            op(1, 4, 5, .read(value: "a")),
            op(1, 6, 7, .delete),
            op(0, 8, 9, .read(value: nil)),
        ])
        #expect(report.isLinearizable, "\(report)")
        #expect(report.operations == 5 && report.keys == 1)
    }

    @Test func aReadOverlappingAWriteMaySeeEitherValue() {
        for seen in ["a", "b"] {
            let report = register([
                op(0, 0, 1, .write(value: "a")),
                op(1, 2, 10, .write(value: "b")),
                op(2, 3, 4, .read(value: seen)),
            ])
            #expect(report.isLinearizable, "\(report)")
        }
    }

    @Test func aStaleReadIsCaught() {
        let report = register([
            op(0, 0, 1, .write(value: "a")),
            op(0, 2, 3, .write(value: "b")),
            op(1, 4, 5, .read(value: "a")),
        ])
        #expect(!report.isLinearizable)
        #expect(report.violations.count == 1)
        #expect(report.violations.first?.blocked.action == .read(value: "a"))
        #expect(report.description.contains("read → \"a\""))
    }

    @Test func twoReadsCannotSeeNewThenOld() {
        // The write overlaps both reads, but once one read saw it a later one must too.
        let report = register([
            op(0, 0, 1, .write(value: "a")),
            op(1, 2, 20, .write(value: "b")),
            op(2, 3, 4, .read(value: "b")),
            op(3, 5, 6, .read(value: "a")),
        ])
        #expect(!report.isLinearizable)
    }

    @Test func aPendingWriteMayOrMayNotHaveHappened() {
        let pending = op(1, 2, nil, .write(value: "b"))
        #expect(register([op(0, 0, 1, .write(value: "a")), pending, op(2, 5, 6, .read(value: "a"))]).isLinearizable)
        #expect(register([op(0, 0, 1, .write(value: "a")), pending, op(2, 5, 6, .read(value: "b"))]).isLinearizable)
        // Not before it was invoked.
        #expect(!register([op(0, 0, 1, .write(value: "a")), op(2, 2, 3, .read(value: "b")), op(1, 4, nil, .write(value: "b"))]).isLinearizable)
        // Once seen, it stays.
        #expect(!register([op(0, 0, 1, .write(value: "a")), pending, op(2, 5, 6, .read(value: "b")), op(2, 7, 8, .read(value: "a"))]).isLinearizable)
    }

    @Test func keysAreCheckedSeparately() {
        let report = register([
            op(0, 0, 1, .write(value: "a"), key: "x"),
            op(0, 2, 3, .read(value: nil), key: "y"),
            op(1, 4, 5, .read(value: "a"), key: "x"),
            op(1, 6, 7, .read(value: "a"), key: "y"),
        ])
        #expect(report.keys == 2)
        #expect(report.violations.map(\.key) == ["y"])
    }

    @Test func compareAndSetFollowsVersions() {
        let base = [
            op(0, 0, 1, .write(value: "a", version: "v1")),
            op(1, 2, 3, .read(value: "a", version: "v1")),
            op(0, 4, 5, .write(value: "b", version: "v2")),
        ]
        // A check against the overwritten version must fail; succeeding is a lost update.
        #expect(register(base + [op(1, 6, 7, .compareAndSet(expected: "v1", value: "c", succeeded: false))]).isLinearizable)
        #expect(!register(base + [op(1, 6, 7, .compareAndSet(expected: "v1", value: "c", succeeded: true))]).isLinearizable)
        // Against the current version it must succeed.
        #expect(register(base + [op(1, 6, 7, .compareAndSet(expected: "v2", value: "c", succeeded: true))]).isLinearizable)
        #expect(!register(base + [op(1, 6, 7, .compareAndSet(expected: "v2", value: "c", succeeded: false))]).isLinearizable)
        // "Only if absent" on an existing key.
        #expect(!register(base + [op(1, 6, 7, .compareAndSet(expected: nil, value: "c", succeeded: true))]).isLinearizable)
        #expect(register([op(1, 0, 1, .compareAndSet(expected: nil, value: "c", succeeded: true)), op(0, 2, 3, .read(value: "c"))]).isLinearizable)
    }

    @Test func anUnobservedVersionIsBoundByItsFirstObservation() {
        let base = [op(0, 0, 1, .write(value: "a")), op(1, 2, 3, .read(value: "a", version: "v7"))]
        #expect(register(base + [op(1, 4, 5, .compareAndSet(expected: "v7", value: "b", succeeded: true))]).isLinearizable)
        #expect(!register(base + [op(1, 4, 5, .read(value: "a", version: "v8"))]).isLinearizable)
        // A check against an unknown version may go either way.
        let unknown = [op(0, 0, 1, .write(value: "a"))]
        #expect(register(unknown + [op(1, 2, 3, .compareAndSet(expected: "v1", value: "b", succeeded: true))]).isLinearizable)
        #expect(register(unknown + [op(1, 2, 3, .compareAndSet(expected: "v1", value: "b", succeeded: false))]).isLinearizable)
    }

    @Test func aLostIncrementIsCaught() {
        // Two increments one after the other cannot both return 1.
        let lost = [op(0, 0, 1, .increment(by: 1, result: 1)), op(1, 2, 3, .increment(by: 1, result: 1))]
        #expect(!LinearizabilityChecker(model: CounterModel()).check(lost).isLinearizable)
        #expect(!register(lost).isLinearizable)
        // Concurrent ones cannot either, but may return 2 and 1 in either order.
        let concurrentLost = [op(0, 0, 5, .increment(by: 1, result: 1)), op(1, 1, 4, .increment(by: 1, result: 1))]
        #expect(!LinearizabilityChecker(model: CounterModel()).check(concurrentLost).isLinearizable)
        let fine = [op(0, 0, 5, .increment(by: 1, result: 2)), op(1, 1, 4, .increment(by: 1, result: 1)), op(2, 6, 7, .read(value: "2"))]
        #expect(LinearizabilityChecker(model: CounterModel()).check(fine).isLinearizable)
        #expect(register(fine).isLinearizable)
        // A read of the total that misses an acknowledged increment.
        let missed = [op(0, 0, 1, .increment(by: 5, result: 5)), op(1, 2, 3, .read(value: "0"))]
        #expect(!LinearizabilityChecker(model: CounterModel()).check(missed).isLinearizable)
    }

    @Test func aSearchOverItsBudgetIsInconclusiveNotLinearizable() {
        var history: [Op] = []
        for i in 0..<12 { history.append(op(i, 0, 100, .write(value: "v\(i)"))) }
        history.append(op(99, 101, 102, .read(value: "nothing wrote this")))
        let report = LinearizabilityChecker(model: RegisterModel(), maxSteps: 50).check(history)
        #expect(!report.isLinearizable)
        #expect(report.inconclusiveKeys == ["k"])
    }

    // MARK: - Generated histories

    /// A history linearizable by construction: operations take effect one after another at
    /// points 0, 10, 20, …, each with an interval around its point; several clients, few keys.
    static func generated(seed: UInt64, operations: Int, keys: Int) -> [Op] {
        var random = SplitMix64(seed: seed)
        var values: [String: String] = [:]
        var history: [Op] = []
        for index in 0..<operations {
            let point = UInt64(1_000 + index * 10)
            let key = "k\(random.next() % UInt64(keys))"
            let action: Op.Action
            switch random.next() % 4 {
            case 0:
                let value = "w\(index)"
                values[key] = value
                action = .write(value: value)
            case 1 where values[key] != nil:
                values[key] = nil
                action = .delete
            default:
                action = .read(value: values[key])
            }
            let before = random.next() % 40
            let after = random.next() % 40
            let pending = random.next() % 50 == 0 && { if case .read = action { return false } else { return true } }()
            history.append(Op(client: Int(random.next() % 6), key: key, invoked: point - before,
                              returned: pending ? nil : point + after, action: action))
        }
        return history
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func generatedHistoriesPassAndAPlantedStaleReadIsCaught(seed: UInt64) throws {
        var history = Self.generated(seed: seed, operations: 3_000, keys: 3)
        let clean = register(history)
        #expect(clean.isLinearizable, "\(clean)")
        #expect(clean.operations == 3_000)

        // Plant a stale read: a read that starts after write w2 returned, where w2 was invoked
        // after write w1 returned, now claims to see w1's value.
        var planted = false
        search: for (r, read) in history.enumerated() {
            guard case .read = read.action, let readReturn = read.returned else { continue }
            for w2 in history where w2.key == read.key {
                guard case .write = w2.action, let w2Return = w2.returned, w2Return < read.invoked else { continue }
                for w1 in history where w1.key == read.key {
                    guard case .write(let old, _) = w1.action, let w1Return = w1.returned, w1Return < w2.invoked else { continue }
                    history[r] = Op(client: read.client, key: read.key, invoked: read.invoked, returned: readReturn, action: .read(value: old))
                    planted = true
                    break search
                }
            }
        }
        try #require(planted)
        let faulty = register(history)
        #expect(!faulty.isLinearizable)
        #expect(faulty.violations.count == 1)
    }

    @Test(arguments: [11, 12, 13] as [UInt64])
    func generatedCounterHistoriesPassAndALostIncrementIsCaught(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var total: Int64 = 0
        var history: [Op] = []
        for index in 0..<2_000 {
            let point = UInt64(1_000 + index * 10)
            let action: Op.Action
            if random.next() % 5 == 0 {
                action = .read(value: String(total))
            } else {
                let by = Int64(random.next() % 3) + 1
                total += by
                action = .increment(by: by, result: total)
            }
            history.append(Op(client: Int(random.next() % 8), key: "c", invoked: point - random.next() % 40,
                              returned: point + random.next() % 40, action: action))
        }
        let checker = LinearizabilityChecker(model: CounterModel())
        #expect(checker.check(history).isLinearizable)
        // Lose one increment in the middle: every later result is one step short.
        let victim = history.indices.first { i in
            if case .increment = history[i].action { return i > 1_000 } else { return false }
        }!
        guard case .increment(let lostBy, _) = history[victim].action else { return }
        for i in history.indices where i > victim {
            switch history[i].action {
            case .increment(let by, let result): history[i].action = .increment(by: by, result: result - lostBy)
            case .read(let value?, _): history[i].action = .read(value: String(Int64(value)! - lostBy))
            default: break
            }
        }
        #expect(!checker.check(history).isLinearizable)
    }
}
