import KVCore
import LuaRuntime
import LuatProject

extension LuaRuntime {
    /// A runtime for a project on disk: `require` looks in the project's `[routing] lib_dir`
    /// and stays inside the project root, files are read from the disk, `KV` uses `store`.
    /// `limits` default to none and the full library (`luat run`); `luat serve` passes its own.
    public convenience init(project: LuatProject, store: KVStore, print: (([UInt8]) -> Void)? = nil,
                            limits: LuaLimits = .unlimited) throws(LuaError) {
        try self.init(store: store, projectRoot: project.root, libDirectory: project.libPath,
                      files: DiskFileSource(), print: print, limits: limits)
    }
}
