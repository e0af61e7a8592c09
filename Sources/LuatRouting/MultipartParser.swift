import KVCore

/// `multipart/form-data` bodies: text fields become strings, file fields become
/// `{ filename, type, content }`.
enum MultipartParser {
    static func parse(_ body: [UInt8], boundary: String) -> [(name: String, value: JSONValue)] {
        let delimiter = Array(("--" + boundary).utf8)
        var fields: [(name: String, value: JSONValue)] = []
        guard var position = find(delimiter, in: body, from: 0) else { return [] }
        position += delimiter.count
        while position + 1 < body.count {
            // `--` after a delimiter ends the body.
            if body[position] == 0x2D && body[position + 1] == 0x2D { break }
            // Skip the CRLF after the delimiter line.
            guard let lineEnd = find([0x0D, 0x0A], in: body, from: position) else { break }
            let partStart = lineEnd + 2
            guard let next = find([0x0D, 0x0A] + delimiter, in: body, from: partStart) else { break }
            if let field = part(body[partStart..<next]) { fields.append(field) }
            position = next + 2 + delimiter.count
        }
        return fields
    }

    private static func part(_ bytes: ArraySlice<UInt8>) -> (name: String, value: JSONValue)? {
        guard let split = find([0x0D, 0x0A, 0x0D, 0x0A], in: Array(bytes), from: 0) else { return nil }
        let headerText = String(decoding: bytes.prefix(split), as: UTF8.self)
        let content = bytes.dropFirst(split + 4)
        var name: String?
        var filename: String?
        var type = "text/plain"
        for line in headerText.split(separator: "\r\n") {
            let pair = line.split(separator: ":", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let headerName = ASCIICase.lower(pair[0].trimmingSpaces())
            if headerName == "content-disposition" {
                let media = MediaType(String(pair[1]))
                name = media.parameters["name"]
                filename = media.parameters["filename"]
            } else if headerName == "content-type" {
                type = pair[1].trimmingSpaces()
            }
        }
        guard let name else { return nil }
        let text = String(decoding: content, as: UTF8.self)
        if let filename {
            return (name, .object([("filename", .string(filename)), ("type", .string(type)),
                                   ("size", .integer(Int64(content.count))), ("content", .string(text))]))
        }
        return (name, .string(text))
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        var i = start
        let last = haystack.count - needle.count
        let first = needle[0]
        while i <= last {
            if haystack[i] == first {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}
