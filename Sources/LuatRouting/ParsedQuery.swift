/// The query string of a request: `?/name` picks a form action and is not a query field.
public struct ParsedQuery: Equatable, Sendable {
    public var action: String?
    public var fields: [(name: String, value: String)] = []

    public static func == (a: ParsedQuery, b: ParsedQuery) -> Bool {
        a.action == b.action && a.fields.elementsEqual(b.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    public init(_ query: String) {
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
    public static func urlEncoded(_ text: String) -> [(name: String, value: String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map(field)
    }

    private static func field(_ piece: Substring) -> (name: String, value: String) {
        let parts = piece.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let name = percentDecode(parts[0], plusAsSpace: true) ?? String(parts[0])
        let value = parts.count > 1 ? (percentDecode(parts[1], plusAsSpace: true) ?? String(parts[1])) : ""
        return (name, value)
    }
}
