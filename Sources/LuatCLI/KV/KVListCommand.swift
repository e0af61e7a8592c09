import ArgumentParser
import KVCore

/// `luat kv list NAMESPACE`: keys in ascending byte order, one page or all of them.
struct KVListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List a namespace's keys with their expiration and metadata.",
        discussion: """
            A table on a terminal. Otherwise, or with --json, the JSON shape of the Lua list \
            result: {"keys": [{"name", "expiration", "metadata"}], "list_complete", "cursor"}.
            """
    )

    @OptionGroup var target: NamespaceOptions

    @Option(name: .long, help: "Only keys starting with this prefix.")
    var prefix: String?

    @Option(name: .long, help: "Keys per page, 1-1000.")
    var limit = 1000

    @Option(name: .long, help: "Resume after the page that returned this cursor.")
    var cursor: String?

    @Flag(name: .long, help: "Follow cursors to the last key.")
    var all = false

    @Flag(name: .long, help: "Print JSON even on a terminal.")
    var json = false

    func run() throws {
        try reportingFailures {
            let ns = try target.open()
            let out = ByteSink.standardOutput()
            let asJSON = json || !Terminal.stdoutIsTerminal
            // JSON streams page by page: the keys array is written as pages arrive.
            if asJSON { try out.write("{\"keys\":[") }
            var count = 0
            var rows: [[String]] = []
            let last = try ns.eachPage(ListOptions(prefix: prefix, limit: limit, cursor: cursor)) { page in
                for key in page.keys {
                    if asJSON {
                        if count > 0 { try out.write(",") }
                        try out.write(key.json.serialized())
                    } else {
                        rows.append(Self.row(key))
                    }
                    count += 1
                }
                return all
            }
            if asJSON {
                try out.write("],\"list_complete\":\(last.listComplete)")
                if let cursor = last.cursor { try out.write(",\"cursor\":" + Terminal.quoted(cursor)) }
                try out.write("}\n")
            } else {
                if !rows.isEmpty { try out.write(TextTable.render(header: ["NAME", "EXPIRES", "METADATA"], rows: rows)) }
                try out.write("\(Terminal.keys(count))\(last.listComplete ? "" : "; more follow")\n")
                if let cursor = last.cursor { try out.write("Next page: --cursor \(cursor)\n") }
            }
            try out.finish()
        }
    }

    static func row(_ key: ListedKey) -> [String] {
        var metadata = key.metadata.map { Terminal.printable($0) } ?? ""
        if metadata.count > 60 { metadata = String(metadata.prefix(59)) + "…" }
        return [Terminal.printable(key.name), key.expiration.map(Terminal.date) ?? "never", metadata]
    }
}
