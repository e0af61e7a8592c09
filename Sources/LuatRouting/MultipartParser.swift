import KVCore

/// `multipart/form-data` bodies as `ctx.form` fields: text fields become strings, file fields
/// become `{ filename, type, size, content }`. Lenient: parts without a name are skipped, and
/// a malformed part ends the fields (those before it are kept).
enum MultipartParser {
    static func parse(_ body: [UInt8], boundary: String) -> [(name: String, value: JSONValue)] {
        var reader = MultipartReader(body: body, boundary: boundary)
        var fields: [(name: String, value: JSONValue)] = []
        while let part = try? reader.next() {
            guard let name = part.name else { continue }
            let text = String(decoding: part.content, as: UTF8.self)
            if let filename = part.filename {
                fields.append((name, .object([("filename", .string(filename)), ("type", .string(part.contentType ?? "text/plain")),
                                              ("size", .integer(Int64(part.content.count))), ("content", .string(text))])))
            } else {
                fields.append((name, .string(text)))
            }
        }
        return fields
    }
}
