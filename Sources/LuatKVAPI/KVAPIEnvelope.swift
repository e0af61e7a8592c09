import KVCore
import LuatHTTP

/// Cloudflare's response envelope: `{"success", "errors", "messages", "result", "result_info"}`.
enum KVAPIEnvelope {
    static func success(_ result: JSONValue, info: JSONValue? = nil, status: Int = 200) -> HTTPResponse {
        var members: [(key: String, value: JSONValue)] = [
            ("success", .bool(true)), ("errors", .array([])), ("messages", .array([])), ("result", result),
        ]
        if let info { members.append(("result_info", info)) }
        return json(.object(members), status: status)
    }

    static func failure(_ error: KVAPIError) -> HTTPResponse {
        let body: JSONValue = .object([
            ("success", .bool(false)),
            ("errors", .array([.object([("code", .integer(Int64(error.code))), ("message", .string(error.message))])])),
            ("messages", .array([])),
            ("result", .null),
        ])
        var response = json(body, status: error.status)
        if error.status == 401 { response.headers.set("WWW-Authenticate", "Bearer realm=\"luat kv api\"") }
        return response
    }

    static func json(_ value: JSONValue, status: Int) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.append("Content-Type", "application/json")
        headers.append("Cache-Control", "no-store")
        // Serialising values built here cannot fail (no NaN or infinite numbers are put in).
        let body = (try? value.serialized()) ?? Array("{\"success\":false}".utf8)
        return HTTPResponse(status: status, headers: headers, body: body)
    }
}
