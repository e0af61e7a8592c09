import KVCore
import LuaHost
import LuaRuntime
import LuatProject
import LuatRouting

extension LuaRouteEngine {
    /// A fresh Lua state for `project` on disk, as each worker of `luat serve` holds one:
    /// files read from the disk, `KV` over `store`, and the file `hooks` (by default
    /// `hooks.server.lua` next to the routes folder, i.e. `src/hooks.server.lua`) run first
    /// when it exists.
    public convenience init(project: LuatProject, store: KVStore, hooks: String? = nil) throws(ScriptError) {
        let runtime: LuaRuntime
        do throws(LuaError) {
            runtime = try LuaRuntime(project: project, store: store)
        } catch {
            throw ScriptError(luaMessage: error.message)
        }
        try self.init(runtime: runtime, hooks: hooks ?? Self.hooksFile(routesPath: project.routesPath))
    }
}
