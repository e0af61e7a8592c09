/// The path part of a request target, split into decoded segments and checked: no segment
/// may be `.` or `..`, or decode to something holding `/`, `\` or NUL. Routes are matched
/// against a table built at start-up, never looked up on disk, so this is a second fence.
public struct RequestPath: Equatable, Sendable {
    /// The path as sent (still percent-encoded), without the query.
    public let raw: String
    /// The query as sent, without `?` (may be empty).
    public let query: String
    /// Decoded, non-empty segments.
    public let segments: [String]

    public enum Problem: Error, Equatable {
        case notAbsolute
        case badEncoding
        case forbiddenSegment
    }

    public init(target: String) throws(Problem) {
        let pathPart: Substring
        if let q = target.firstIndex(of: "?") {
            pathPart = target[..<q]
            query = String(target[target.index(after: q)...])
        } else {
            pathPart = Substring(target)
            query = ""
        }
        let withoutFragment = pathPart.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard withoutFragment.hasPrefix("/") else { throw .notAbsolute }
        raw = String(withoutFragment)
        var segments: [String] = []
        for piece in withoutFragment.split(separator: "/", omittingEmptySubsequences: true) {
            guard let decoded = percentDecode(piece, plusAsSpace: false) else { throw .badEncoding }
            if decoded == "." || decoded == ".." { throw .forbiddenSegment }
            if decoded.utf8.contains(where: { $0 == 0x2F || $0 == 0x5C || $0 == 0 }) { throw .forbiddenSegment }
            segments.append(decoded)
        }
        self.segments = segments
    }
}

/// Decodes `%XX` escapes (and `+` as a space when asked); nil for a bad escape or bytes that are not UTF-8.
func percentDecode<S: StringProtocol>(_ text: S, plusAsSpace: Bool) -> String? {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count)
    var iterator = text.utf8.makeIterator()
    while let byte = iterator.next() {
        if byte == 0x25 {
            guard let h = iterator.next().flatMap(hexValue), let l = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(h << 4 | l)
        } else if byte == 0x2B && plusAsSpace {
            bytes.append(0x20)
        } else {
            bytes.append(byte)
        }
    }
    return String(validating: bytes, as: UTF8.self)
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x41...0x46: return c - 0x41 + 10
    case 0x61...0x66: return c - 0x61 + 10
    default: return nil
    }
}

/// The query string of a request: `?/name` picks a form action and is not a query field.
struct ParsedQuery: Equatable {
    var action: String?
    var fields: [(name: String, value: String)] = []

    static func == (a: ParsedQuery, b: ParsedQuery) -> Bool {
        a.action == b.action && a.fields.map(\.name) == b.fields.map(\.name) && a.fields.map(\.value) == b.fields.map(\.value)
    }

    init(_ query: String) {
        for piece in query.split(separator: "&", omittingEmptySubsequences: true) {
            if piece.hasPrefix("/") {
                // `?/delete` (SvelteKit's named action); the first one counts.
                if action == nil {
                    let name = piece.dropFirst().split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                    action = percentDecode(name, plusAsSpace: true) ?? String(name)
                }
                continue
            }
            fields.append(Self.field(piece))
        }
    }

    /// `a=1&b=2` as in `application/x-www-form-urlencoded`, with no action part.
    static func urlEncoded(_ text: String) -> [(name: String, value: String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map(field)
    }

    private static func field(_ piece: Substring) -> (name: String, value: String) {
        let parts = piece.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let name = percentDecode(parts[0], plusAsSpace: true) ?? String(parts[0])
        let value = parts.count > 1 ? (percentDecode(parts[1], plusAsSpace: true) ?? String(parts[1])) : ""
        return (name, value)
    }
}
