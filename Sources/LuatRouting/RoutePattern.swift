/// The URL pattern of one route, from the folders between the routes folder and its files.
///
/// `blog` is a static segment, `[slug]` a parameter, `[[lang]]` an optional parameter,
/// `[...rest]` a catch-all (zero or more segments); `(group)` folders add no segment.
public struct RoutePattern: Equatable, Sendable, CustomStringConvertible {
    public enum Segment: Equatable, Sendable {
        case literal(String)
        case parameter(String)
        case optional(String)
        case rest(String)

        /// Higher is more specific: static segments win over parameters, and parameters
        /// over optional parameters and catch-alls.
        var rank: Int {
            switch self {
            case .literal: return 3
            case .parameter: return 2
            case .optional: return 1
            case .rest: return 0
            }
        }
    }

    public let segments: [Segment]

    public init(segments: [Segment]) { self.segments = segments }

    /// The pattern of a folder path relative to the routes folder, e.g. `["blog", "[slug]", "edit"]`.
    /// Throws for a folder name that is not a valid segment (e.g. `[bad name]`, `post-[id]`)
    /// and for a parameter name used twice.
    public init(folders: [String]) throws(RouteError) {
        var segments: [Segment] = []
        var names = Set<String>()
        for folder in folders {
            guard let segment = try Self.segment(folder) else { continue }
            switch segment {
            case .parameter(let n), .optional(let n), .rest(let n):
                guard names.insert(n).inserted else {
                    throw RouteError("parameter '" + n + "' appears twice in " + folders.joined(separator: "/"))
                }
            case .literal: break
            }
            segments.append(segment)
        }
        self.segments = segments
    }

    /// The segment a folder name stands for; nil for `(group)` folders.
    static func segment(_ folder: String) throws(RouteError) -> Segment? {
        if folder.hasPrefix("(") && folder.hasSuffix(")") && folder.utf8.count >= 2 { return nil }
        if folder.hasPrefix("[[") && folder.hasSuffix("]]") {
            return .optional(try name(String(folder.dropFirst(2).dropLast(2)), folder))
        }
        if folder.hasPrefix("[...") && folder.hasSuffix("]") {
            return .rest(try name(String(folder.dropFirst(4).dropLast()), folder))
        }
        if folder.hasPrefix("[") && folder.hasSuffix("]") {
            return .parameter(try name(String(folder.dropFirst().dropLast()), folder))
        }
        if folder.contains("[") || folder.contains("]") {
            throw RouteError("folder '" + folder + "': a parameter must be the whole folder name")
        }
        return .literal(folder)
    }

    private static func name(_ text: String, _ folder: String) throws(RouteError) -> String {
        let ok = !text.isEmpty && text.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
        } && !(text.utf8.first! >= 0x30 && text.utf8.first! <= 0x39)
        guard ok else { throw RouteError("folder '" + folder + "': '" + text + "' is not a valid parameter name") }
        return text
    }

    /// Matches decoded path segments; returns the parameters, or nil when the path does not match.
    /// An absent optional parameter is left out; a catch-all holds its segments joined by `/`.
    public func match(_ path: [String]) -> [String: String]? {
        var params: [String: String] = [:]
        return Self.match(segments[...], path[...], &params) ? params : nil
    }

    private static func match(_ pattern: ArraySlice<Segment>, _ path: ArraySlice<String>, _ params: inout [String: String]) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        let rest = pattern.dropFirst()
        switch first {
        case .literal(let text):
            guard let head = path.first, head == text else { return false }
            return match(rest, path.dropFirst(), &params)
        case .parameter(let name):
            guard let head = path.first else { return false }
            params[name] = head
            if match(rest, path.dropFirst(), &params) { return true }
            params[name] = nil
            return false
        case .optional(let name):
            if let head = path.first {
                params[name] = head
                if match(rest, path.dropFirst(), &params) { return true }
                params[name] = nil
            }
            return match(rest, path, &params)
        case .rest(let name):
            // Longest first, so a catch-all takes as much as the segments after it allow.
            var count = path.count
            while count >= 0 {
                params[name] = path.prefix(count).joined(separator: "/")
                if match(rest, path.dropFirst(count), &params) { return true }
                count -= 1
            }
            params[name] = nil
            return false
        }
    }

    /// Whether `self` should be tried before `other`: compared segment by segment, the more
    /// specific segment wins; when one pattern is a prefix of the other, the shorter wins.
    public func isMoreSpecific(than other: RoutePattern) -> Bool {
        for (a, b) in zip(segments, other.segments) {
            if a.rank != b.rank { return a.rank > b.rank }
        }
        return segments.count < other.segments.count
    }

    public var description: String {
        if segments.isEmpty { return "/" }
        return segments.map { segment -> String in
            switch segment {
            case .literal(let t): return "/" + t
            case .parameter(let n): return "/[" + n + "]"
            case .optional(let n): return "/[[" + n + "]]"
            case .rest(let n): return "/[..." + n + "]"
            }
        }.joined()
    }

    /// Two patterns that would always match the same paths (parameter names aside).
    func hasSameShape(as other: RoutePattern) -> Bool {
        guard segments.count == other.segments.count else { return false }
        for (a, b) in zip(segments, other.segments) {
            switch (a, b) {
            case let (.literal(x), .literal(y)): if x != y { return false }
            case (.parameter, .parameter), (.optional, .optional), (.rest, .rest): continue
            default: return false
            }
        }
        return true
    }
}
