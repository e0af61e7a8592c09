import Foundation

/// The Lua code samples of the spec (`kv-store.md`), verbatim, each kept once in
/// `Tests/Shared/spec-samples/<name>.lua`, the files the WASM tests (wasm/test/spec.test.mjs)
/// run too. A value is the file's text without its final newline.
enum SpecSamples {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Shared/spec-samples").path

    static func sample(_ name: String) -> String {
        let path = folder + "/" + name + ".lua"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { fatalError("missing spec sample \(path)") }
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }

    static let basicUsage = sample("basicUsage")
    static let namespaces = sample("namespaces")
    static let get = sample("get")
    static let getWithMetadata = sample("getWithMetadata")
    static let put = sample("put")
    static let delete = sample("delete")
    static let list = sample("list")
    static let session = sample("session")
    static let cachingRoute = sample("cachingRoute")
    static let blog = sample("blog")
    static let formActions = sample("formActions")
    static let bestPracticeExpiration = sample("bestPracticeExpiration")
    static let bestPracticePrefixes = sample("bestPracticePrefixes")
    static let bestPracticeMetadata = sample("bestPracticeMetadata")
    static let bestPracticeMissing = sample("bestPracticeMissing")
}
