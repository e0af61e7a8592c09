import KVCore

/// What a route function receives as `ctx`, as Swift values. The Lua side turns it into a
/// table; `headers` gets case-insensitive lookup there.
public struct RequestContext: Sendable {
    /// `GET`, `POST`, … (upper case).
    public var method: String
    /// The whole URL: `http://host/path?query`.
    public var url: String
    /// The path as sent, without the query.
    public var path: String
    /// Route parameters (`[slug]` → `params.slug`).
    public var params: [String: String]
    /// Query fields in order, without the `?/action` part; the first of a repeated name wins in Lua.
    public var query: [(name: String, value: String)]
    /// Header names in lower case; repeated headers joined with `, `.
    public var headers: [(name: String, value: String)]
    /// Form fields (url-encoded, multipart, or the members of a JSON object body); always present.
    public var form: [(name: String, value: JSONValue)]
    /// The parsed JSON body, or the form as an object; nil when there is neither.
    public var body: JSONValue?
    /// The body bytes as received.
    public var rawBody: [UInt8]
    /// The action chosen by `?/name`, if any.
    public var action: String?

    public init(method: String, url: String, path: String, params: [String: String] = [:],
                query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = [],
                form: [(name: String, value: JSONValue)] = [], body: JSONValue? = nil, rawBody: [UInt8] = [], action: String? = nil) {
        self.method = method
        self.url = url
        self.path = path
        self.params = params
        self.query = query
        self.headers = headers
        self.form = form
        self.body = body
        self.rawBody = rawBody
        self.action = action
    }

    /// The value of header `name` (any case).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name == lower }?.value
    }

    /// Fills `form` and `body` from `rawBody` according to `Content-Type`.
    mutating func parseBody() {
        guard !rawBody.isEmpty, let contentType = header("content-type") else { return }
        let media = MediaType(contentType)
        switch media.type {
        case "application/x-www-form-urlencoded":
            let text = String(decoding: rawBody, as: UTF8.self)
            form = ParsedQuery.urlEncoded(text).map { ($0.name, JSONValue.string($0.value)) }
            body = .object(firstWins(form))
        case "multipart/form-data":
            guard let boundary = media.parameters["boundary"], !boundary.isEmpty else { return }
            form = MultipartParser.parse(rawBody, boundary: boundary)
            body = .object(firstWins(form))
        case let type where type == "application/json" || type.hasSuffix("+json"):
            guard let value = try? JSONValue.parse(rawBody) else { return }
            body = value
            if case .object(let members) = value {
                form = members.map { ($0.key, $0.value) }
            }
        default:
            return
        }
    }

    private func firstWins(_ fields: [(name: String, value: JSONValue)]) -> [(key: String, value: JSONValue)] {
        var seen = Set<String>()
        var out: [(key: String, value: JSONValue)] = []
        for field in fields where seen.insert(field.name).inserted { out.append((field.name, field.value)) }
        return out
    }
}

/// `type/subtype; name=value` from a Content-Type header, the type in lower case.
struct MediaType {
    var type: String
    var parameters: [String: String] = [:]

    init(_ header: String) {
        let parts = header.split(separator: ";")
        type = (parts.first.map { $0.trimmingSpaces() } ?? "").lowercased()
        for part in parts.dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            var value = pair[1].trimmingSpaces()
            if value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            parameters[pair[0].trimmingSpaces().lowercased()] = value
        }
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}

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
            let headerName = pair[0].trimmingSpaces().lowercased()
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
