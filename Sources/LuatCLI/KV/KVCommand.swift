import ArgumentParser

/// `luat kv`: look inside the project's KV store, change it by hand, back it up and move
/// it, in the spirit of `wrangler kv key ...` and `wrangler kv bulk ...`.
struct KVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv",
        abstract: "Inspect and edit the project's KV store; export and import it in wrangler's bulk format.",
        subcommands: [
            KVNamespacesCommand.self,
            KVListCommand.self,
            KVGetCommand.self,
            KVPutCommand.self,
            KVDeleteCommand.self,
            KVExportCommand.self,
            KVImportCommand.self,
            KVPurgeExpiredCommand.self,
            KVVacuumCommand.self,
        ]
    )
}
