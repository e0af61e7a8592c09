/// Something that answers requests: the Lua routes of `luat serve`, the KV REST API, the KV
/// browser's files. The server core calls `handle` on an event-loop thread and must not be
/// blocked there: a handler that does blocking work (Lua, SQLite) moves it to its own threads
/// and answers through `respond` from any thread, exactly once.
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void)
}

/// Sends each request to the first handler whose path prefix matches, else to `fallback`.
/// A prefix matches the path itself or the path followed by `/` (`/client/v4` matches
/// `/client/v4` and `/client/v4/accounts`, not `/client/v4x`).
public struct PrefixRouter: HTTPHandler {
    public let mounts: [(prefix: String, handler: any HTTPHandler)]
    public let fallback: any HTTPHandler

    public init(mounts: [(prefix: String, handler: any HTTPHandler)], fallback: any HTTPHandler) {
        self.mounts = mounts
        self.fallback = fallback
    }

    public func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        for mount in mounts where Self.matches(request.path, prefix: mount.prefix) {
            return mount.handler.handle(request, respond: respond)
        }
        fallback.handle(request, respond: respond)
    }

    static func matches(_ path: String, prefix: String) -> Bool {
        guard path.hasPrefix(prefix) else { return false }
        if path.utf8.count == prefix.utf8.count || prefix.hasSuffix("/") { return true }
        return path.utf8[path.utf8.index(path.utf8.startIndex, offsetBy: prefix.utf8.count)] == UInt8(ascii: "/")
    }
}
