import ArgumentParser

/// The `luat` command. Subcommands live in files of their own.
@main
struct Luat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "luat",
        abstract: "Run Luat projects: server code, scripts and the KV store.",
        subcommands: [RunCommand.self, ServeCommand.self, KVCommand.self]
    )
}
