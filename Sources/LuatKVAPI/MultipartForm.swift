/// The parts of a `multipart/form-data` body (RFC 7578), by field name. Only what the KV
/// REST API needs: each part's `name` and bytes; part headers other than
/// Content-Disposition are ignored.
///
/// Hand-written rather than taken from vapor/multipart-kit: the API reads two fields from a
/// body already in memory, and this keeps the module's dependencies to NIO alone.
struct MultipartForm {
    private(set) var parts: [(name: String, body: [UInt8])] = []

    /// The first part named `name`.
    subscript(name: String) -> [UInt8]? { parts.first { $0.name == name }?.body }

    /// The `boundary` parameter of a `multipart/form-data` Content-Type, or nil when the
    /// type is another one.
    static func boundary(contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingSpaces() }
        guard let type = pieces.first, type.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingSpaces().lowercased() == "boundary" else { continue }
            var value = pair[1].trimmingSpaces()
            if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// Parses `body`; throws a message naming what is malformed.
    init(body: [UInt8], boundary: String) throws(MultipartError) {
        let delimiter = Array("--\(boundary)".utf8)
        let crlf: [UInt8] = [13, 10]
        guard var position = Self.find(delimiter, in: body, from: 0) else {
            throw MultipartError("multipart body has no boundary line")
        }
        while true {
            position += delimiter.count
            // `--` after a delimiter ends the body.
            if position + 1 < body.count, body[position] == 45, body[position + 1] == 45 { return }
            guard let headerStart = Self.find(crlf, in: body, from: position) else { throw MultipartError("multipart part is cut short") }
            guard let headerEnd = Self.find(crlf + crlf, in: body, from: headerStart) else {
                throw MultipartError("multipart part has no blank line after its headers")
            }
            let headers = String(decoding: body[(headerStart + 2)..<headerEnd], as: UTF8.self)
            let contentStart = headerEnd + 4
            guard let next = Self.find(crlf + delimiter, in: body, from: contentStart) else {
                throw MultipartError("multipart part has no closing boundary")
            }
            guard let name = Self.fieldName(headers) else {
                throw MultipartError("multipart part has no Content-Disposition name")
            }
            parts.append((name, Array(body[contentStart..<next])))
            position = next + 2
        }
    }

    private static func fieldName(_ headers: String) -> String? {
        for line in headers.split(separator: "\r\n") {
            let pair = line.split(separator: ":", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingSpaces().lowercased() == "content-disposition" else { continue }
            for parameter in pair[1].split(separator: ";").dropFirst() {
                let kv = parameter.split(separator: "=", maxSplits: 1)
                guard kv.count == 2, kv[0].trimmingSpaces().lowercased() == "name" else { continue }
                var value = kv[1].trimmingSpaces()
                if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 { value = String(value.dropFirst().dropLast()) }
                return value
            }
        }
        return nil
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        let first = needle[0]
        while index <= last {
            if haystack[index] == first {
                var match = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    match = false
                    break
                }
                if match { return index }
            }
            index += 1
        }
        return nil
    }
}

struct MultipartError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

extension Substring {
    func trimmingSpaces() -> String {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return String(s)
    }
}
