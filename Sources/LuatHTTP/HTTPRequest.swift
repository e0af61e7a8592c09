/// One HTTP request as the server's handlers see it: the head parsed, the body read whole
/// (the server core has already refused bodies over its limit with 413).
///
/// Invariants: `method` is upper case as sent; `path` is the request target before `?`, not
/// percent-decoded (handlers decode what they need); `query` is the raw text after `?`
/// (nil when there is no `?`); header names are lower case, in the order received.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The request target as received: `/a/b?x=1`.
    public var target: String
    public var path: String
    public var query: String?
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// `host:port` of the peer, for logs; nil when unknown.
    public var remoteAddress: String?

    public init(method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [], remoteAddress: String? = nil) {
        self.method = method
        self.target = target
        if let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            self.path = String(target[..<mark])
            self.query = String(target[target.index(after: mark)...])
        } else {
            self.path = target
            self.query = nil
        }
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
    }
}

/// A response a handler gives back: status, headers in order, body bytes. The server core
/// adds `Content-Length` (and, for HEAD, sends no body); handlers set everything else.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Header fields in order. Lookup is ASCII case-insensitive; names given to `append` are kept
/// as given (requests built by the server core carry lower-case names).
public struct HTTPHeaders: Sendable, Sequence {
    public private(set) var fields: [(name: String, value: String)]

    public init(_ fields: [(name: String, value: String)] = []) { self.fields = fields }

    public mutating func append(_ name: String, _ value: String) { fields.append((name, value)) }

    /// Replaces every field named `name` with one field.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        fields.append((name, value))
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { Self.equal($0.name, name) }
    }

    /// The first value of `name`, any case.
    public subscript(name: String) -> String? {
        fields.first { Self.equal($0.name, name) }?.value
    }

    /// Every value of `name`, any case, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { Self.equal($0.name, name) }.map(\.value)
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    static func equal(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { lower($0) == lower($1) }
    }

    private static func lower(_ byte: UInt8) -> UInt8 { byte >= 65 && byte <= 90 ? byte + 32 : byte }
}
