import Foundation
import KVCore
import KVPostgres
import KVSQLite

/// A Luat project on disk: its root folder (the one holding `luat.toml`, or the folder
/// given) and its configuration, with paths resolved against the root.
public struct LuatProject: Sendable {
    /// Absolute path of the project root.
    public let root: String
    public let config: LuatConfig

    /// Loads the project at `root`; a missing `luat.toml` means all defaults.
    public init(root: String) throws(LuatProjectError) {
        let absolute = Self.absolute(root, relativeTo: FileManager.default.currentDirectoryPath)
        self.root = absolute
        let file = (absolute as NSString).appendingPathComponent("luat.toml")
        if let data = FileManager.default.contents(atPath: file) {
            guard let text = String(data: data, encoding: .utf8) else {
                throw LuatProjectError("\(file): not valid UTF-8")
            }
            config = try LuatConfig(toml: text, file: file)
        } else {
            config = LuatConfig()
        }
    }

    /// The project containing `folder`: the nearest of it and its parents that holds
    /// `luat.toml`, or `folder` itself when none does.
    public static func discover(from folder: String = FileManager.default.currentDirectoryPath) throws(LuatProjectError) -> LuatProject {
        var current = absolute(folder, relativeTo: FileManager.default.currentDirectoryPath)
        while true {
            if FileManager.default.fileExists(atPath: (current as NSString).appendingPathComponent("luat.toml")) {
                return try LuatProject(root: current)
            }
            let parent = (current as NSString).deletingLastPathComponent
            if parent == current || parent.isEmpty { break }
            current = parent
        }
        return try LuatProject(root: folder)
    }

    /// Absolute path of a folder named relative to the root (absolute ones stay as they are).
    public func path(_ relative: String) -> String { Self.absolute(relative, relativeTo: root) }

    public var routesPath: String { path(config.routesDir) }
    public var libPath: String { path(config.libDir) }
    public var dataPath: String { path(config.dataDir) }

    /// Where the KV store lives.
    public enum StoreLocation: Sendable, Equatable {
        /// `<data_dir>/kv.db` of the project (the default).
        case projectDefault
        /// `kv.db` inside this folder (`--data-dir`).
        case dataDirectory(String)
        /// In memory, gone when the process ends (`--memory`).
        case memory
        /// In the PostgreSQL database at this URL (`--postgres`).
        case postgres(String)
    }

    /// The PostgreSQL URL the project's store uses by default: `LUAT_KV_POSTGRES_URL` when
    /// set and not empty, else `[kv] postgres_url` of luat.toml; nil means SQLite.
    public func postgresURL(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let url = environment["LUAT_KV_POSTGRES_URL"], !url.isEmpty { return url }
        return config.postgresURL
    }

    /// Opens the project's KV store; `migrationProgress` hears how far an upgrade of an
    /// older kv.db has got.
    public func openStore(_ location: StoreLocation = .projectDefault, clock: any KVClock = SystemClock(),
                          migrationProgress: MigrationProgress? = nil) throws(KVError) -> KVStore {
        switch location {
        case .memory:
            return KVStore(storage: MemoryStorage(), clock: clock)
        case .projectDefault:
            if let url = postgresURL() { return KVStore(storage: try PostgresStorage(url: url), clock: clock) }
            return KVStore(storage: try SQLiteStorage(dataDirectory: dataPath, migrationProgress: migrationProgress), clock: clock)
        case .dataDirectory(let folder):
            let absolute = Self.absolute(folder, relativeTo: FileManager.default.currentDirectoryPath)
            return KVStore(storage: try SQLiteStorage(dataDirectory: absolute, migrationProgress: migrationProgress), clock: clock)
        case .postgres(let url):
            return KVStore(storage: try PostgresStorage(url: url), clock: clock)
        }
    }

    static func absolute(_ path: String, relativeTo base: String) -> String {
        let joined = path.hasPrefix("/") ? path : (base as NSString).appendingPathComponent(path)
        return (joined as NSString).standardizingPath
    }
}
