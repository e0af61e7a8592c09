import KVCore
import KVSQLite
import LuatProject

extension StoreOptions {
    /// Opens the store of the project found from the current folder (as `luat run` finds
    /// it), or the one `--data-dir` / `--memory` name. SQLite waits for other processes'
    /// locks (its busy timeout) instead of failing. A kv.db from the previous release is
    /// upgraded on the way, with a progress bar on a terminal when it is large.
    func openStore(clock: any KVClock = SystemClock()) throws -> KVStore {
        let project = try LuatProject.discover()
        let upgrade = UpgradeReport()
        let store = try project.openStore(location, clock: clock, migrationProgress: upgrade.progress)
        upgrade.finish()
        return store
    }
}

/// Shows a kv.db layout upgrade: a bar while entries are copied, one line when done.
final class UpgradeReport {
    private var bar: ProgressBar?
    private var total = 0

    lazy var progress = MigrationProgress { [unowned self] done, total in
        if self.bar == nil {
            self.total = total
            self.bar = ProgressBar("Upgrading kv.db", total: total)
        }
        if let bar = self.bar { bar.advance(by: done - bar.done) }
    }

    func finish() {
        guard let bar else { return }
        bar.finish()
        Terminal.printError("Upgraded kv.db to the new storage layout (\(Terminal.keys(total))); `luat kv vacuum` returns the old layout's space to the disk.")
    }
}
