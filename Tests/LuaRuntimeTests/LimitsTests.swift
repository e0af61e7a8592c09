import Foundation
import KVCore
import LuaRuntime
import Testing

/// Time and memory budgets of a Lua state (issue 10, item 1): runaway code stops with an
/// error of its own kind, and the state keeps serving afterwards.
@Suite(.timeLimit(.minutes(1))) struct LimitsTests {
    static let timed = LuaLimits(timeBudgetMilliseconds: 150)

    /// The error `source` raises when run as a whole call (it must raise).
    static func failure(_ h: LuaHarness, _ source: String) -> LuaError? {
        do {
            try h.run(source)
            return nil
        } catch let error as LuaError {
            return error
        } catch {
            return LuaError("unexpected \(error)")
        }
    }

    @Test(arguments: [
        "while true do end",
        "local function f(n) return f(n + 1) end return f(1)",
        "while true do pcall(function() while true do end end) end",
        "while true do pcall(error, 'again') end",
        "coroutine.wrap(function() while true do end end)()",
        "local co = coroutine.create(function() while true do coroutine.yield() end end) while true do coroutine.resume(co) end",
        "table.sort({3, 2, 1, 5, 4}, function(a, b) while true do end end)",
    ])
    func runawayCodeStopsAtTheDeadline(source: String) throws {
        let h = try LuaHarness(.memory, limits: Self.timed)
        let error = try #require(Self.failure(h, source))
        #expect(error.kind == .timeLimit, "\(error)")
        #expect(error.message.contains("time limit exceeded"), "\(error.message)")
        #expect(error.message.contains("150 ms"), "\(error.message)")
        #expect(error.message.hasPrefix("main.lua:"), "\(error.message)")
        // The state keeps working, and the next call has a budget of its own.
        #expect(try h.run("local n = 0 for i = 1, 1000 do n = n + i end return n") == [.integer(500500)])
    }

    @Test func aRequestSharesOneBudgetAcrossCalls() throws {
        let h = try LuaHarness(.memory, limits: LuaLimits(timeBudgetMilliseconds: 200))
        let work = "local n = 0 for i = 1, 100000 do n = n + 1 end return n"
        let clock = ContinuousClock()
        // Inside one budget, a call made after the budget is spent (here by the host) fails
        // at its first hook; a call of its own would have had 200 ms.
        let error = #expect(throws: LuaError.self) {
            try h.runtime.withTimeBudget { () throws(LuaError) in
                let start = clock.now
                try h.runtime.run(source: work)
                while clock.now < start + .milliseconds(250) {}
                try h.runtime.run(source: work)
            }
        }
        #expect(error?.kind == .timeLimit)
        // Outside it, every call has its own budget again.
        #expect(try h.run(work) == [.integer(100000)])
        #expect(try h.runtime.withTimeBudget { () throws(LuaError) in try h.runtime.run(source: work) } == [.integer(100000)])
    }

    @Test func withoutATimeBudgetNothingStops() throws {
        let h = try LuaHarness(.memory)
        // 30 ms of work would pass a 10 ms budget; without one it simply finishes.
        #expect(try h.run("local stop = os.clock() + 0.03 while os.clock() < stop do end return 'done'") == [.string("done")])
        #expect(h.runtime.limits == .unlimited)
    }

    @Test func interruptStopsRunningCodeFromAnotherThread() async throws {
        let h = try LuaHarness(.memory, limits: LuaLimits(timeBudgetMilliseconds: 60_000))
        let runtime = h.runtime
        // The loop runs on a thread of its own (never on the test's cooperative pool) until
        // interrupted; the budget is a minute. Whether the interrupt comes before the loop
        // starts or while it runs, the call ends the same way.
        let error = await withCheckedContinuation { (continuation: CheckedContinuation<LuaError?, Never>) in
            let thread = Thread {
                do {
                    try runtime.run(source: "while true do end")
                    continuation.resume(returning: nil)
                } catch {
                    continuation.resume(returning: error as? LuaError)
                }
            }
            thread.start()
            runtime.interrupt()
        }
        #expect(error?.kind == .interrupted)
        #expect(error?.message.hasPrefix("main.lua:1: interrupted") == true, "\(String(describing: error))")
        #expect(throws: LuaError.self) { try h.run("return 1") }
    }

    static let limited = LuaLimits(memoryLimitBytes: 32 * 1024 * 1024)

    @Test(arguments: [
        // 2 GiB from 2048 references to one 1 MiB string.
        "local t, s = {}, string.rep('x', 1024 * 1024) for i = 1, 2048 do t[i] = s end return #table.concat(t)",
        "return #string.rep('x', 1024 * 1024 * 1024)",
        "local t = {} for i = 1, 1e9 do t[i] = i end",
        "local s = 'x' while true do s = s .. s end",
    ])
    func aStateCannotPassItsMemoryLimit(source: String) throws {
        let h = try LuaHarness(.memory, limits: Self.limited)
        let error = try #require(Self.failure(h, source))
        #expect(error.kind == .memoryLimit, "\(error)")
        #expect(error.message == "memory limit exceeded: a Lua state may hold at most 33554432 bytes (32 MiB)")
        h.runtime.collectGarbage()
        #expect(h.runtime.memoryInUseBytes < 4 * 1024 * 1024)
        #expect(try h.run("return #string.rep('y', 1024 * 1024)") == [.integer(1024 * 1024)])
    }

    /// A Swift function may take the state past its limit (a refusal there would long-jump
    /// across Swift frames); the next allocation in Lua fails instead.
    @Test func swiftFunctionsAllocateOutsideTheLimit() throws {
        let h = try LuaHarness(.memory, limits: LuaLimits(memoryLimitBytes: 16 * 1024 * 1024))
        let error = try #require(Self.failure(h, """
            local s = string.rep("a", 6 * 1024 * 1024)
            local encoded = json.encode({ s, s, s })
            assert(#encoded > 18 * 1024 * 1024)
            local more = encoded .. "!"
            """))
        #expect(error.kind == .memoryLimit)
        // A memory error caught by pcall is the script's to handle.
        // The state is usable at once (the failed call's garbage is collected before it returns).
        #expect(h.runtime.memoryInUseBytes < 4 * 1024 * 1024)
        // A memory error caught by pcall is the script's to handle.
        #expect(try h.run("local ok, e = pcall(string.rep, 'x', 64 * 1024 * 1024) return ok, e") == [.boolean(false), .string("not enough memory")])
    }

    @Test func memoryIsCountedWithoutALimit() throws {
        let h = try LuaHarness(.memory)
        h.runtime.collectGarbage()
        let before = h.runtime.memoryInUseBytes
        #expect(before > 0)
        try h.run("big = string.rep('z', 8 * 1024 * 1024)")
        #expect(h.runtime.memoryInUseBytes >= 8 * 1024 * 1024)
        try h.run("big = nil")
        h.runtime.collectGarbage()
        #expect(h.runtime.memoryInUseBytes < before + 1024 * 1024)
    }
}
