import LuatHTTP

/// The KV browser page at `/_luat/kv/`: plain HTML, CSS and JavaScript compiled into the
/// binary (no build step, no CDN). The page holds no data and needs no token to load; it
/// asks for a token, keeps it in the browser's sessionStorage (never in a URL), and reads and
/// writes only through the REST API at `/client/v4`, so the API's checks apply to every
/// click. Answers at once on the calling thread (no blocking work).
public struct KVBrowserHandler: HTTPHandler {
    public static let mountPrefix = "/_luat/kv"

    private let index: [UInt8]

    /// - Parameter accountID: the account id the page puts in API paths (`[kv_api]
    ///   account_id`, or `local` when any is accepted).
    public init(accountID: String?) {
        let account = (accountID ?? "local").utf8.map { byte -> String in
            switch byte {
            case UInt8(ascii: "&"): return "&amp;"
            case UInt8(ascii: "<"): return "&lt;"
            case UInt8(ascii: ">"): return "&gt;"
            case UInt8(ascii: "\""): return "&quot;"
            default: return String(decoding: [byte], as: UTF8.self)
            }
        }.joined()
        index = Array(KVBrowserAssets.html.replacing("{{ACCOUNT_ID}}", with: account).utf8)
    }

    public func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        respond(response(to: request))
    }

    public func response(to request: HTTPRequest) -> HTTPResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            var headers = HTTPHeaders()
            headers.append("Allow", "GET, HEAD")
            headers.append("Content-Type", "text/plain; charset=utf-8")
            return HTTPResponse(status: 405, headers: headers, body: Array("Method Not Allowed\n".utf8))
        }
        switch request.path {
        case Self.mountPrefix:
            var headers = HTTPHeaders()
            headers.append("Location", Self.mountPrefix + "/")
            return HTTPResponse(status: 308, headers: headers)
        case Self.mountPrefix + "/", Self.mountPrefix + "/index.html":
            return file(index, type: "text/html; charset=utf-8")
        case Self.mountPrefix + "/app.js":
            return file(Array(KVBrowserAssets.script.utf8), type: "text/javascript; charset=utf-8")
        case Self.mountPrefix + "/style.css":
            return file(Array(KVBrowserAssets.style.utf8), type: "text/css; charset=utf-8")
        default:
            var headers = HTTPHeaders()
            headers.append("Content-Type", "text/plain; charset=utf-8")
            return HTTPResponse(status: 404, headers: headers, body: Array("Not Found\n".utf8))
        }
    }

    private func file(_ body: [UInt8], type: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.append("Content-Type", type)
        headers.append("Cache-Control", "no-store")
        headers.append("X-Content-Type-Options", "nosniff")
        headers.append("Referrer-Policy", "no-referrer")
        headers.append("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
        return HTTPResponse(status: 200, headers: headers, body: body)
    }
}
