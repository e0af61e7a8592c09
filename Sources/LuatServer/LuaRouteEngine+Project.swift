import KVCore
import LuaHost
import LuaRuntime
import LuatProject
import LuatRouting

extension LuaRouteEngine {
    /// A fresh Lua state for `project` on disk, as each worker of `luat serve` holds one:
    /// files read from the disk, `KV` over `store`, and the file `hooks` (by default
    /// `hooks.server.lua` next to the routes folder, i.e. `src/hooks.server.lua`) run first
    /// when it exists. `limits` (time budget per request, memory, library) come from
    /// `[serve]` in luat.toml; the hooks file runs under them too.
    public convenience init(project: LuatProject, store: KVStore, hooks: String? = nil, limits: LuaLimits = .unlimited) throws(ScriptError) {
        let runtime: LuaRuntime
        do throws(LuaError) {
            runtime = try LuaRuntime(project: project, store: store, limits: limits)
        } catch {
            throw ScriptError(error)
        }
        try self.init(runtime: runtime, hooks: hooks ?? Self.hooksFile(routesPath: project.routesPath))
    }

    /// The limits of the server's Lua states from `[serve]` in luat.toml: `requestTimeout`
    /// seconds per request and `memoryLimit` bytes per state (nil or 0: no limit).
    public static func limits(requestTimeout: Double?, memoryLimit: Int?, fullLibrary: Bool) -> LuaLimits {
        LuaLimits(timeBudgetMilliseconds: requestTimeout.flatMap { $0 > 0 ? max(1, Int(($0 * 1000).rounded())) : nil },
                  memoryLimitBytes: memoryLimit.flatMap { $0 > 0 ? $0 : nil },
                  library: fullLibrary ? .full : .safe)
    }
}
