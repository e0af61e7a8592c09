/// What code running in one `LuaRuntime` may use. The defaults limit nothing and open the
/// full standard library (as the `lua` command does, and as `luat run` keeps);
/// `luat serve` sets every field from `[serve]` in `luat.toml` (see docs/luat-serve.md).
public struct LuaLimits: Sendable, Equatable {
    /// Longest a call from the host may run, in milliseconds; nil: no limit. A call started
    /// while another one's budget runs (`LuaRuntime.withTimeBudget`) shares that budget.
    /// Checked by a count hook every `LUAT_HOOK_INSTRUCTIONS` Lua instructions, so a pure Lua
    /// loop stops within about a millisecond of the deadline; a long C function (a KV call, a
    /// `string.rep`) is not cut short, the error comes at the next Lua instruction after it.
    /// Once past the deadline every later hook raises again, so `pcall` cannot swallow it.
    public var timeBudgetMilliseconds: Int?
    /// Most bytes the state's allocator holds; nil: no limit. Lua collects garbage before it
    /// refuses; a refused allocation is a Lua memory error (which `pcall` can catch).
    public var memoryLimitBytes: Int?
    /// The standard library route code sees.
    public var library: Library

    public enum Library: Sendable, Equatable {
        /// Every standard library as Lua ships it.
        case full
        /// Safe for route code: no way to end or spawn processes, to load native code or
        /// binary chunks, to change the shared metatables, or to reach Lua's internals
        /// through `debug` (see `LuaRuntime` and docs/lua-runtime.md).
        case safe
    }

    public init(timeBudgetMilliseconds: Int? = nil, memoryLimitBytes: Int? = nil, library: Library = .full) {
        self.timeBudgetMilliseconds = timeBudgetMilliseconds
        self.memoryLimitBytes = memoryLimitBytes
        self.library = library
    }

    /// No limit, the full library.
    public static let unlimited = LuaLimits()
}
