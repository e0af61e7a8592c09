import ArgumentParser
import Foundation
import KVCore

/// `luat kv import NAMESPACE FILE`: loads a `wrangler kv bulk put` JSON file, all or nothing.
struct KVImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load a `wrangler kv bulk put` JSON file into a namespace, all or nothing.",
        discussion: """
            The file is a JSON array of {"key", "value", "expiration", "expiration_ttl", \
            "metadata", "base64"}. Every entry is checked against the store's rules before \
            any is written, and all are written in one transaction: a bad file changes \
            nothing, and the error names the entry's index (from 0). Existing keys not in \
            the file are kept. Entries whose expiration has already passed are skipped and \
            counted, as they would be invisible at once.
            """
    )

    @OptionGroup var target: NamespaceOptions

    @Argument(help: "The JSON file; - reads standard input.")
    var file: String

    func run() throws {
        try reportingFailures {
            let entries = try Self.readArray(file)
            // One instant for the whole import: expirations are judged against it while
            // checking, and the store writes with the same clock.
            let now = SystemClock().nowSeconds()
            let ns = try target.open(clock: ManualClock(seconds: now))

            let progress = ProgressBar("Checking", total: entries.count)
            var batch: [(key: [UInt8], value: [UInt8], options: PutOptions)] = []
            batch.reserveCapacity(entries.count)
            var expired = 0
            for (index, element) in entries.enumerated() {
                do {
                    switch try KVBulkEntry.decode(element, now: now) {
                    case let .put(key, value, options): batch.append((key, value, options))
                    case .alreadyExpired: expired += 1
                    }
                } catch {
                    throw CommandFailure("\(file): entry \(index): \(CommandFailure.reason(error)); nothing was imported")
                }
                progress.advance()
            }
            progress.finish()

            try ns.putMany(batch)
            // A key given more than once is stored once, with its last entry.
            var distinct = Set<[UInt8]>()
            for entry in batch { distinct.insert(entry.key) }
            var line = "Imported \(Terminal.keys(distinct.count)) into namespace \(Terminal.quoted(target.namespace))."
            let repeated = batch.count - distinct.count
            if repeated > 0 {
                line += " \(Terminal.count(repeated)) \(repeated == 1 ? "entry repeated" : "entries repeated") a key given earlier in the file; the last entry for each key was kept."
            }
            if expired > 0 { line += " Skipped \(Terminal.count(expired)) whose expiration had passed." }
            print(line)
        }
    }

    /// The file's top-level JSON array; parse errors give the line and column.
    static func readArray(_ file: String) throws -> [JSONValue] {
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: file) else { throw CommandFailure("cannot read \(file)") }
            data = contents
        }
        let bytes = Array(data)
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            var location = ""
            if let offset = error.offset {
                let before = bytes[..<min(offset, bytes.count)]
                let line = before.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
                let column = offset - (before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
                location = " (line \(line), column \(column))"
            }
            throw CommandFailure("\(file): not valid JSON: \(error.message)\(location); nothing was imported")
        }
        guard case .array(let entries) = document else {
            throw CommandFailure("\(file): expected a JSON array of {\"key\", \"value\", ...} entries; nothing was imported")
        }
        return entries
    }
}
