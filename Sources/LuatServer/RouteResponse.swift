import KVCore

/// A response before it becomes HTTP: status, headers in order, body bytes.
public struct RouteResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public static func == (a: RouteResponse, b: RouteResponse) -> Bool {
        a.status == b.status && a.body == b.body
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response; a value that cannot be written as JSON (NaN, infinity) is a 500.
    public static func json(_ value: JSONValue, status: Int = 200, headers: [(name: String, value: String)] = []) -> RouteResponse {
        guard let bytes = try? value.serialized() else {
            return .error(500, "Internal Server Error", detail: "the response body cannot be written as JSON")
        }
        return RouteResponse(status: status, headers: withDefault(headers, "Content-Type", "application/json"), body: bytes)
    }

    public static func text(_ text: String, status: Int = 200, headers: [(name: String, value: String)] = []) -> RouteResponse {
        RouteResponse(status: status, headers: withDefault(headers, "Content-Type", "text/plain; charset=utf-8"), body: Array(text.utf8))
    }

    /// `{ "error": message }` (and `detail` when given).
    public static func error(_ status: Int, _ message: String, detail: String? = nil, headers: [(name: String, value: String)] = []) -> RouteResponse {
        var members: [(key: String, value: JSONValue)] = [("error", .string(message))]
        if let detail { members.append(("detail", .string(detail))) }
        return .json(.object(members), status: status, headers: headers)
    }

    func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }

    private static func withDefault(_ headers: [(name: String, value: String)], _ name: String, _ value: String) -> [(name: String, value: String)] {
        let lower = name.lowercased()
        if headers.contains(where: { $0.name.lowercased() == lower }) { return headers }
        return [(name, value)] + headers
    }
}
