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
