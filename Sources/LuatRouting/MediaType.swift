import KVCore

/// `type/subtype; name=value` from a Content-Type header, the type and the parameter names
/// in lower case, quotes around a value removed.
public struct MediaType {
    public var type: String
    public var parameters: [String: String] = [:]

    /// The `boundary` of a `multipart/form-data` type; nil for another type or an empty boundary.
    public var multipartBoundary: String? {
        guard type == "multipart/form-data", let boundary = parameters["boundary"], !boundary.isEmpty else { return nil }
        return boundary
    }

    public init(_ header: String) {
        let parts = header.split(separator: ";")
        type = ASCIICase.lower(parts.first.map { $0.trimmingSpaces() } ?? "")
        for part in parts.dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            var value = pair[1].trimmingSpaces()
            if value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            parameters[ASCIICase.lower(pair[0].trimmingSpaces())] = value
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
