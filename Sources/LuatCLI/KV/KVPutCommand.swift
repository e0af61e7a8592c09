import ArgumentParser
import Foundation
import KVCore

/// `luat kv put NAMESPACE KEY [VALUE | --file F | -]`: stores one value by hand, with the
/// same validation and messages as the Lua API.
struct KVPutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Store a value under a key.",
        discussion: "The value is the VALUE argument, the bytes of --file, or standard input when VALUE is -."
    )

    @OptionGroup var target: NamespaceOptions

    @Argument(help: "The key.")
    var key: String

    @Argument(help: "The value; - reads standard input.")
    var value: String?

    @Option(name: .long, help: "Read the value from this file (any bytes).")
    var file: String?

    @Option(name: .long, help: ArgumentHelp("Expire after this many seconds (expirationTtl).", valueName: "seconds"))
    var ttl: String?

    @Option(name: .long, help: ArgumentHelp("Expire at this Unix time in seconds (expiration).", valueName: "unix-time"))
    var expiration: String?

    @Option(name: .long, help: ArgumentHelp("Metadata as JSON text, at most 1024 bytes.", valueName: "json"))
    var metadata: String?

    func validate() throws {
        if value != nil && file != nil { throw ValidationError("give either VALUE or --file, not both") }
        if value == nil && file == nil { throw ValidationError("give a VALUE, --file FILE, or - to read standard input") }
        if ttl != nil && expiration != nil { throw ValidationError("give either --ttl or --expiration, not both") }
    }

    func run() throws {
        try reportingFailures {
            var options = PutOptions()
            options.expirationTtl = try ttl.map { try Self.seconds($0, option: "expirationTtl") }
            options.expiration = try expiration.map { try Self.seconds($0, option: "expiration") }
            options.metadata = metadata.map(Self.compactMetadata)
            let bytes = try readValue()
            try target.open().put(key, bytes, options)
        }
    }

    private func readValue() throws -> [UInt8] {
        if let file {
            // Refuse an oversized file before reading it, with the store's own message.
            if let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int {
                try KVRules.validateValue(byteCount: size)
            }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CommandFailure("cannot read \(file)")
            }
            return Array(data)
        }
        if value == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
        return Array(value!.utf8)
    }

    /// Command-line seconds, judged by the rules the Lua API applies to a number.
    static func seconds(_ text: String, option: String) throws -> Int64 {
        if let whole = Int64(text) {
            try KVRules.validatePositiveSeconds(whole, option: option)
            return whole
        }
        guard let number = Double(text) else {
            throw CommandFailure("\(option) must be a positive integer number of seconds (got \(Terminal.quoted(text)))")
        }
        return try KVRules.seconds(fromNumber: number, option: option)
    }

    /// Metadata in the compact form the Lua API stores; text that is not JSON is passed on
    /// unchanged so the store rejects it with its own message.
    static func compactMetadata(_ text: String) -> String {
        (try? JSONValue.parse(text).serializedString()) ?? text
    }
}
