import ArgumentParser
import KVCore

/// `luat kv namespaces`: namespaces holding live keys, with their key counts.
struct KVNamespacesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "namespaces",
        abstract: "List namespaces with their key counts.",
        discussion: "A table on a terminal; otherwise (or with --json) a JSON array of {\"name\", \"key_count\"}."
    )

    @OptionGroup var store: StoreOptions

    @Flag(name: .long, help: "Print JSON even on a terminal.")
    var json = false

    func run() throws {
        try reportingFailures {
            let summaries = try store.openStore().namespaces()
            let out = ByteSink.standardOutput()
            if json || !Terminal.stdoutIsTerminal {
                let array = JSONValue.array(summaries.map {
                    .object([("name", .string(String(decoding: $0.name, as: UTF8.self))), ("key_count", .integer(Int64($0.keyCount)))])
                })
                try out.write(array.serialized())
                try out.write("\n")
            } else if summaries.isEmpty {
                try out.write("No namespaces with keys.\n")
            } else {
                let rows = summaries.map { [Terminal.printable(String(decoding: $0.name, as: UTF8.self)), Terminal.count($0.keyCount)] }
                try out.write(TextTable.render(header: ["NAMESPACE", "KEYS"], rows: rows, rightAligned: [1]))
            }
            try out.finish()
        }
    }
}
