import ArgumentParser
import KVCore

/// `luat kv get NAMESPACE KEY`: the value exactly as stored.
struct KVGetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print a key's value exactly as stored (binary-safe).",
        discussion: """
            With --metadata, prints {"expiration", "metadata"} (the second result of the Lua \
            getWithMetadata) instead of the value. With --json, prints the whole entry as one \
            element of the bulk format: {"key", "value", "base64", "expiration", "metadata"}. \
            A missing or expired key is exit status 1 with a message on stderr.
            """
    )

    @OptionGroup var target: NamespaceOptions

    @Argument(help: "The key.")
    var key: String

    @Flag(name: .long, help: "Print the expiration and metadata as JSON instead of the value.")
    var metadata = false

    @Flag(name: .long, help: "Print key, value, expiration and metadata as one JSON object.")
    var json = false

    func run() throws {
        try reportingFailures {
            let ns = try target.open()
            guard let entry = try ns.getWithMetadata(key) else {
                throw CommandFailure("key \(Terminal.quoted(key)) not found in namespace \(Terminal.quoted(target.namespace))")
            }
            let out = ByteSink.standardOutput()
            if json {
                try out.write(KVBulkEntry.json(key: key, entry: entry).serialized())
                try out.write("\n")
            } else if metadata {
                let meta = JSONValue.object([
                    ("expiration", entry.expiration.map { .integer($0) } ?? .null),
                    ("metadata", entry.metadata.map(KVBulkEntry.metadataJSON) ?? .null),
                ])
                try out.write(meta.serialized())
                try out.write("\n")
            } else {
                try out.write(entry.value)
            }
            try out.finish()
        }
    }
}
