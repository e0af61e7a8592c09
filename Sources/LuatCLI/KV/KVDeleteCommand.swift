import ArgumentParser
import KVCore

/// `luat kv delete NAMESPACE KEY...` or `luat kv delete NAMESPACE --prefix P`.
struct KVDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete keys, or every key with a prefix, and say how many were removed.",
        discussion: "Deleting by prefix asks for confirmation when run on a terminal, unless --yes is given."
    )

    @OptionGroup var target: NamespaceOptions

    @Argument(help: "Keys to delete.")
    var keys: [String] = []

    @Option(name: .long, help: "Delete every key starting with this prefix (\"\" for all keys).")
    var prefix: String?

    @Flag(name: [.long, .short], help: "Do not ask for confirmation.")
    var yes = false

    func validate() throws {
        if keys.isEmpty && prefix == nil { throw ValidationError("give the keys to delete, or --prefix") }
        if !keys.isEmpty && prefix != nil { throw ValidationError("give either keys or --prefix, not both") }
    }

    func run() throws {
        try reportingFailures {
            let ns = try target.open()
            if let prefix { try deletePrefix(prefix, in: ns) } else { try deleteKeys(in: ns) }
        }
    }

    private func deleteKeys(in ns: KVNamespace) throws {
        let keyBytes = keys.map { Array($0.utf8) }
        for key in keyBytes { try KVRules.validateKey(key) }
        let missing = try keys.filter { try ns.getWithMetadata($0) == nil }
        try ns.deleteMany(keyBytes: keyBytes)
        let removed = keys.count - missing.count
        var line = "Deleted \(Terminal.keys(removed)) from namespace \(Terminal.quoted(target.namespace))."
        if !missing.isEmpty { line += " Not found: \(missing.map(Terminal.quoted).joined(separator: ", "))." }
        print(line)
    }

    private func deletePrefix(_ prefix: String, in ns: KVNamespace) throws {
        let what = prefix.isEmpty ? "every key" : "keys starting with \(Terminal.quoted(prefix))"
        var total: Int? = nil
        if !yes && Terminal.stdinIsTerminal {
            let count = try ns.countKeys(prefix: prefix)
            total = count
            if count == 0 {
                print("No \(prefix.isEmpty ? "keys" : what) in namespace \(Terminal.quoted(target.namespace)).")
                return
            }
            guard Terminal.confirm("Delete \(Terminal.keys(count)) (\(what)) from namespace \(Terminal.quoted(target.namespace))?") else {
                Terminal.printError("Cancelled; nothing was deleted.")
                throw ExitCode.failure
            }
        } else if Terminal.stderrIsTerminal {
            total = try ns.countKeys(prefix: prefix)
        }
        let progress = ProgressBar("Deleting", total: total)
        var removed = 0
        // Pages follow the cursor, so keys another process adds meanwhile cannot keep this going.
        try ns.eachPage(ListOptions(prefix: prefix)) { page in
            removed += try ns.deleteMany(keyBytes: page.keys.map { Array($0.name.utf8) })
            progress.advance(by: page.keys.count)
            return true
        }
        progress.finish()
        print("Deleted \(Terminal.keys(removed)) (\(what)) from namespace \(Terminal.quoted(target.namespace)).")
    }
}
