import KVCore
import LuatProject

extension StoreOptions {
    /// Opens the store of the project found from the current folder (as `luat run` finds
    /// it), or the one `--data-dir` / `--memory` name. SQLite waits for other processes'
    /// locks (its busy timeout) instead of failing.
    func openStore(clock: any KVClock = SystemClock()) throws -> KVStore {
        let project = try LuatProject.discover()
        return try project.openStore(location, clock: clock)
    }
}
