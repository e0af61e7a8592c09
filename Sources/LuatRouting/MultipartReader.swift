/// Reads the parts of a `multipart/form-data` body (RFC 7578) one at a time, in order: the
/// one reader behind `ctx.form` of a Lua route (`MultipartParser`) and the KV REST API's
/// multipart `put`. Text before the first delimiter and after the closing one is ignored,
/// as is anything after a delimiter on its line.
public struct MultipartReader {
    private let body: [UInt8]
    private let delimiter: [UInt8]
    /// Where the next delimiter line starts being read; nil before the first one is found.
    private var position: Int?
    private var finished = false

    public init(body: [UInt8], boundary: String) {
        self.body = body
        self.delimiter = Array(("--" + boundary).utf8)
    }

    /// The parts of `body`, each of which must have a Content-Disposition `name`; throws at the
    /// first malformation, naming it.
    public static func namedParts(body: [UInt8], boundary: String) throws(MultipartError) -> [MultipartPart] {
        var reader = MultipartReader(body: body, boundary: boundary)
        var parts: [MultipartPart] = []
        while let part = try reader.next() {
            guard part.name != nil else { throw MultipartError("multipart part has no Content-Disposition name") }
            parts.append(part)
        }
        return parts
    }

    /// The next part, or nil after the closing delimiter (`--boundary--`). Throws, naming
    /// what is malformed, when the body has no delimiter or a part is cut short; after a
    /// throw or nil the reader returns nil.
    public mutating func next() throws(MultipartError) -> MultipartPart? {
        if finished { return nil }
        let crlf: [UInt8] = [0x0D, 0x0A]
        var start: Int
        if let position {
            start = position
        } else {
            guard let first = Self.find(delimiter, in: body, from: 0) else {
                finished = true
                throw MultipartError("multipart body has no boundary line")
            }
            start = first
        }
        start += delimiter.count
        // `--` after a delimiter ends the body.
        if start + 1 < body.count, body[start] == 0x2D, body[start + 1] == 0x2D {
            finished = true
            return nil
        }
        finished = true // until this part is read whole
        guard let headerStart = Self.find(crlf, in: body, from: start) else {
            throw MultipartError("multipart part is cut short")
        }
        guard let headerEnd = Self.find(crlf + crlf, in: body, from: headerStart) else {
            throw MultipartError("multipart part has no blank line after its headers")
        }
        let contentStart = headerEnd + 4
        guard let next = Self.find(crlf + delimiter, in: body, from: contentStart) else {
            throw MultipartError("multipart part has no closing boundary")
        }
        finished = false
        position = next + 2
        var part = MultipartPart(content: body[contentStart..<next])
        let headers = String(decoding: body[min(headerStart + 2, headerEnd)..<headerEnd], as: UTF8.self)
        for line in headers.split(separator: "\r\n") {
            let pair = line.split(separator: ":", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let name = ASCIICase.lower(pair[0].trimmingSpaces())
            if name == "content-disposition" {
                let disposition = MediaType(String(pair[1]))
                part.name = disposition.parameters["name"]
                part.filename = disposition.parameters["filename"]
            } else if name == "content-type" {
                part.contentType = pair[1].trimmingSpaces()
            }
        }
        return part
    }

    /// The first index at or after `start` where `needle` stands in `haystack`.
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

/// One part of a `multipart/form-data` body.
public struct MultipartPart {
    /// The `name` parameter of its Content-Disposition header; nil when it has none.
    public var name: String?
    /// The `filename` parameter of its Content-Disposition header (a file field).
    public var filename: String?
    /// Its Content-Type header, trimmed; nil when it has none.
    public var contentType: String?
    /// Its bytes, between the blank line after its headers and the CRLF before the next delimiter.
    public var content: ArraySlice<UInt8>

    init(content: ArraySlice<UInt8>) { self.content = content }
}

/// What is malformed in a multipart body, as a message.
public struct MultipartError: Error {
    public let message: String
    public init(_ message: String) { self.message = message }
}
