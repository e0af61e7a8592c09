import ArgumentParser
import Foundation
import KVCore

/// `luat kv export NAMESPACE [-o FILE]`: the namespace in the JSON array format of
/// `wrangler kv bulk put`, streamed page by page so any size fits.
struct KVExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a namespace as a `wrangler kv bulk put` JSON file.",
        discussion: """
            One entry per line: {"key", "value", "expiration", "metadata"}; values that are \
            not valid UTF-8 are base64 with "base64": true. Expired keys are left out. The \
            file can be imported with `luat kv import` or `wrangler kv bulk put`.
            """
    )

    @OptionGroup var target: NamespaceOptions

    @Option(name: .long, help: "Only keys starting with this prefix.")
    var prefix: String?

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?

    func run() throws {
        try reportingFailures {
            let ns = try target.open()
            // A file is written beside its final name and renamed at the end, so a failed
            // export never leaves half a file under that name.
            let partial = output.map { "\($0).partial-\(ProcessInfo.processInfo.processIdentifier)" }
            let sink = try partial.map(ByteSink.file) ?? ByteSink.standardOutput()
            do {
                let showProgress = Terminal.stderrIsTerminal && (output != nil || !Terminal.stdoutIsTerminal)
                let total = showProgress ? try ns.countKeys(prefix: prefix) : nil
                let progress = ProgressBar("Exporting", total: total, enabled: showProgress)
                let count = try Self.write(ns, prefix: prefix, to: sink, progress: progress)
                try sink.finish()
                progress.finish()
                if let output, let partial {
                    if rename(partial, output) != 0 {
                        throw CommandFailure("cannot rename \(partial) to \(output): \(String(cString: strerror(errno)))")
                    }
                }
                Terminal.printError("Exported \(Terminal.keys(count)) from namespace \(Terminal.quoted(target.namespace))\(output.map { " to \($0)" } ?? "").")
            } catch {
                if let partial { unlink(partial) }
                throw error
            }
        }
    }

    /// Writes the array, one page of keys at a time; returns how many entries were written.
    /// A key deleted or expired between listing and reading is skipped.
    static func write(_ ns: KVNamespace, prefix: String?, to sink: ByteSink, progress: ProgressBar) throws -> Int {
        var count = 0
        try sink.write("[")
        try ns.eachPage(ListOptions(prefix: prefix)) { page in
            for key in page.keys {
                guard let entry = try ns.getWithMetadata(key.name) else { continue }
                try sink.write(count == 0 ? "\n" : ",\n")
                try sink.write(KVBulkEntry.json(key: key.name, entry: entry).serialized())
                count += 1
            }
            progress.advance(by: page.keys.count)
            return true
        }
        try sink.write(count == 0 ? "]\n" : "\n]\n")
        return count
    }
}
