import ArgumentParser

/// `luat kv purge-expired`: removes expired entries of every namespace now.
struct KVPurgeExpiredCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge-expired",
        abstract: "Remove expired entries from every namespace now and say how many.",
        discussion: "Expired entries are already invisible to reads; the server also removes them periodically."
    )

    @OptionGroup var store: StoreOptions

    func run() throws {
        try reportingFailures {
            let removed = try store.openStore().purgeExpired()
            print("Removed \(Terminal.keys(removed)) that had expired.")
        }
    }
}
