import ArgumentParser
import KVCore
import LuatProject

/// Options every command that opens the KV store shares: where the store lives.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Folder holding kv.db (default: the project's [routing] data_dir).")
    var dataDir: String?

    @Flag(name: .long, help: "Keep the KV store in memory; nothing is saved.")
    var memory = false

    @Option(name: .long, help: ArgumentHelp(
        "Keep the KV store in this PostgreSQL database (postgres://user:password@host:port/database).",
        discussion: "Default: $LUAT_KV_POSTGRES_URL, else luat.toml's [kv] postgres_url, else kv.db.",
        valueName: "url"))
    var postgres: String?

    var location: LuatProject.StoreLocation {
        if memory { return .memory }
        if let postgres { return .postgres(postgres) }
        if let dataDir { return .dataDirectory(dataDir) }
        return .projectDefault
    }

    func validate() throws {
        if memory && dataDir != nil { throw ValidationError("--memory and --data-dir cannot be used together") }
        if postgres != nil && (memory || dataDir != nil) {
            throw ValidationError("--postgres cannot be used with --memory or --data-dir")
        }
    }
}
