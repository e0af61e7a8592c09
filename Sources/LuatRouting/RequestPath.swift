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

    /// Works on the target's UTF-8 bytes (no `Character` processing): the query is everything
    /// after the first `?`; `#` ends the path. A segment without `%` is taken as it is.
    public init(target: String) throws(Problem) {
        let utf8 = target.utf8
        let pathPart: Substring
        if let q = utf8.firstIndex(of: UInt8(ascii: "?")) {
            pathPart = target[..<q]
            query = String(target[utf8.index(after: q)...])
        } else {
            pathPart = Substring(target)
            query = ""
        }
        let path = pathPart[..<(pathPart.utf8.firstIndex(of: UInt8(ascii: "#")) ?? pathPart.endIndex)]
        guard path.utf8.first == UInt8(ascii: "/") else { throw .notAbsolute }
        raw = String(path)
        var segments: [String] = []
        for piece in path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            let segment = Substring(piece)
            let decoded: String
            if piece.contains(UInt8(ascii: "%")) {
                guard let text = percentDecode(segment, plusAsSpace: false) else { throw .badEncoding }
                decoded = text
            } else {
                decoded = String(segment)
            }
            if decoded == "." || decoded == ".." { throw .forbiddenSegment }
            if decoded.utf8.contains(where: { $0 == 0x2F || $0 == 0x5C || $0 == 0 }) { throw .forbiddenSegment }
            segments.append(decoded)
        }
        self.segments = segments
    }
}
