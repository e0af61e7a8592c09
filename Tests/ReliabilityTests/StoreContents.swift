import Foundation

/// What a namespace holds, read after the fact through `luat kv export` (a separate process,
/// as a user would), plus the file's own `PRAGMA integrity_check`.
enum StoreContents {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Key → value of every live entry of `namespace` in the project's store.
    static func export(_ project: TestProject, namespace: String, extra: [String] = []) throws -> [String: String] {
        let file = project.path("export-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try Luat.run(["kv", "export", namespace, "-o", file] + extra, in: project.root)
        guard result.status == 0 else { throw Failure(description: "luat kv export \(namespace): status \(result.status): \(result.stderr)") }
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        guard let entries = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw Failure(description: "export of \(namespace) is not an array of objects")
        }
        var contents: [String: String] = [:]
        for entry in entries {
            guard let key = entry["key"] as? String, var value = entry["value"] as? String else {
                throw Failure(description: "export entry without key or value: \(entry)")
            }
            if entry["base64"] as? Bool == true, let bytes = Data(base64Encoded: value) {
                value = String(decoding: bytes, as: UTF8.self)
            }
            guard contents.updateValue(value, forKey: key) == nil else { throw Failure(description: "export lists \(key) twice") }
        }
        return contents
    }

    /// `PRAGMA integrity_check` of the project's database, on a connection of our own.
    static func integrity(_ project: TestProject) throws -> [String] {
        let check = try SQLiteCheck(path: project.database)
        defer { check.close() }
        return try check.integrity()
    }

    /// Complete lines of a log file (a line cut short by a kill is dropped).
    static func lines(_ path: String) -> [Substring] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        var text = String(decoding: data, as: UTF8.self)
        if !text.hasSuffix("\n"), let lastNewline = text.lastIndex(of: "\n") {
            text = String(text[...lastNewline])
        } else if !text.hasSuffix("\n") {
            return []
        }
        return text.split(separator: "\n", omittingEmptySubsequences: true)
    }
}
