import KVCore

/// A response before it becomes HTTP: status, headers in order, body bytes. `luat serve`
/// writes it with LuatHTTP's server; the WASM engine hands it to JavaScript. For HEAD the
/// dispatcher still computes the GET body (its length is the Content-Length): the host
/// sends no body.
public struct RouteResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public static func == (a: RouteResponse, b: RouteResponse) -> Bool {
        a.status == b.status && a.body == b.body
            && a.headers.elementsEqual(b.headers) { $0.name == $1.name && $0.value == $1.value }
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

    /// The first header named `name` (any case).
    public func header(_ name: String) -> String? {
        headers.first { ASCIICase.equal($0.name, name) }?.value
    }

    private static func withDefault(_ headers: [(name: String, value: String)], _ name: String, _ value: String) -> [(name: String, value: String)] {
        if headers.contains(where: { ASCIICase.equal($0.name, name) }) { return headers }
        return [(name, value)] + headers
    }
}
