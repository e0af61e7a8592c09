import KVCore
import LuaRuntime

/// What a route function receives as `ctx`, as Swift values: built once per request by the
/// host (`luat serve` from the HTTP request, the WASM engine from JavaScript's), then written
/// into Lua (`luaArgument`) for every function the request runs (layouts' `load`, the page's). `headers` gets case-insensitive lookup in Lua (see `LuaRouteEngine`).
public struct RequestContext: Sendable {
    /// `GET`, `POST`, … (upper case).
    public var method: String
    /// The whole URL: `http://host/path?query`.
    public var url: String
    /// The path as sent, without the query.
    public var path: String
    /// Route parameters (`[slug]` → `params.slug`).
    public var params: [String: String]
    /// Query fields in order, without the `?/action` part; the first of a repeated name wins in Lua.
    public var query: [(name: String, value: String)]
    /// Header names in lower case; repeated headers joined with `, `.
    public var headers: [(name: String, value: String)]
    /// Form fields (url-encoded, multipart, or the members of a JSON object body); always present.
    public var form: [(name: String, value: JSONValue)]
    /// The parsed JSON body, or the form as an object; nil when there is neither.
    public var body: JSONValue?
    /// The body bytes as received.
    public var rawBody: [UInt8]
    /// The action chosen by `?/name`, if any.
    public var action: String?

    public init(method: String, url: String, path: String, params: [String: String] = [:],
                query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = [],
                form: [(name: String, value: JSONValue)] = [], body: JSONValue? = nil, rawBody: [UInt8] = [], action: String? = nil) {
        self.method = method
        self.url = url
        self.path = path
        self.params = params
        self.query = query
        self.headers = headers
        self.form = form
        self.body = body
        self.rawBody = rawBody
        self.action = action
    }

    /// `ctx.headers` from the headers as received: names in lower case, one field per name,
    /// repeated headers joined with `, ` (cookies with `; `), in order of first appearance.
    public static func mergedHeaders(_ fields: [(name: String, value: String)]) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        out.reserveCapacity(fields.count)
        for field in fields {
            let name = ASCIICase.lower(field.name)
            if let i = out.firstIndex(where: { $0.name == name }) {
                out[i].value += (name == "cookie" ? "; " : ", ") + field.value
            } else {
                out.append((name, field.value))
            }
        }
        return out
    }

    /// The value of header `name` (any case).
    public func header(_ name: String) -> String? {
        let lower = ASCIICase.lower(name)
        return headers.first { $0.name == lower }?.value
    }

    /// Fills `form` and `body` from `rawBody` according to `Content-Type`.
    public mutating func parseBody() {
        guard !rawBody.isEmpty, let contentType = header("content-type") else { return }
        let media = MediaType(contentType)
        switch media.type {
        case "application/x-www-form-urlencoded":
            let text = String(decoding: rawBody, as: UTF8.self)
            form = ParsedQuery.urlEncoded(text).map { ($0.name, JSONValue.string($0.value)) }
            body = .object(firstWins(form))
        case "multipart/form-data":
            guard let boundary = media.multipartBoundary else { return }
            form = MultipartParser.parse(rawBody, boundary: boundary)
            body = .object(firstWins(form))
        case let type where type == "application/json" || type.hasSuffix("+json"):
            guard let value = try? JSONValue.parse(rawBody) else { return }
            body = value
            if case .object(let members) = value {
                form = members.map { ($0.key, $0.value) }
            }
        default:
            return
        }
    }

    private func firstWins(_ fields: [(name: String, value: JSONValue)]) -> [(key: String, value: JSONValue)] {
        var seen = Set<String>()
        var out: [(key: String, value: JSONValue)] = []
        for field in fields where seen.insert(field.name).inserted { out.append((field.name, field.value)) }
        return out
    }
}

extension RequestContext {
    /// `ctx` as the Lua table a route function gets: `params`, `query`, `headers` and `form`
    /// always tables (the first of a repeated query or form field wins), `body` and `json` the
    /// parsed body when there is one, `action` when `?/name` chose one.
    public var luaValue: LuaValue {
        let queryFields = Self.firstOfEachName(query).map { ($0.name, LuaValue.string($0.value)) }
        let formFields = Self.firstOfEachName(form).map { ($0.name, LuaRouteEngine.luaValue($0.value)) }
        var fields: [(String, LuaValue)] = [
            ("method", .string(method)),
            ("url", .string(url)),
            ("path", .string(path)),
            ("params", LuaRouteEngine.object(params.sorted { $0.key < $1.key }.map { ($0.key, LuaValue.string($0.value)) })),
            ("query", LuaRouteEngine.object(queryFields)),
            ("headers", LuaRouteEngine.object(headers.map { ($0.name, LuaValue.string($0.value)) })),
            ("form", LuaRouteEngine.object(formFields)),
            ("rawBody", .string(rawBody)),
        ]
        if let body {
            let value = LuaRouteEngine.luaValue(body)
            fields.append(("body", value))
            fields.append(("json", value))
        }
        if let action { fields.append(("action", .string(action))) }
        return .table(LuaTable(fields))
    }

    /// `ctx` written straight into Lua when a function is called: the same table as
    /// `luaValue` (fields, JSON shapes, separate `body` and `json` tables), without building
    /// the `LuaValue` first.
    public var luaArgument: LuaArgument {
        LuaArgument { (stack: LuaStackWriter) throws(LuaError) in try self.write(to: stack) }
    }

    private func write(to stack: LuaStackWriter) throws(LuaError) {
        try stack.pushTable(fields: 10, object: false)
        try stack.push(method)
        stack.setField("method")
        try stack.push(url)
        stack.setField("url")
        try stack.push(path)
        stack.setField("path")
        // In name order, as `luaValue` builds them (a dictionary's order changes between runs).
        let paramFields = params.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
        try Self.writeObject(paramFields, to: stack) { (value: String) throws(LuaError) in try stack.push(value) }
        stack.setField("params")
        try Self.writeObject(Self.firstOfEachName(query), to: stack) { (value: String) throws(LuaError) in try stack.push(value) }
        stack.setField("query")
        try Self.writeObject(headers, to: stack) { (value: String) throws(LuaError) in try stack.push(value) }
        stack.setField("headers")
        try Self.writeObject(Self.firstOfEachName(form), to: stack) { (value: JSONValue) throws(LuaError) in try stack.push(json: value) }
        stack.setField("form")
        try stack.push(bytes: rawBody)
        stack.setField("rawBody")
        if let body {
            try stack.push(json: body)
            stack.setField("body")
            try stack.push(json: body)
            stack.setField("json")
        }
        if let action {
            try stack.push(action)
            stack.setField("action")
        }
    }

    /// Pushes a table marked a JSON object holding `fields` (a later repeat of a name wins, so
    /// callers pass them without repeats), each value pushed by `push`.
    private static func writeObject<Value>(_ fields: [(name: String, value: Value)], to stack: LuaStackWriter,
                                           push: (Value) throws(LuaError) -> Void) throws(LuaError) {
        try stack.pushTable(fields: fields.count, object: true)
        for field in fields {
            try push(field.value)
            stack.setField(field.name)
        }
    }

    /// `fields` without the repeats of a name (the first one stays), in order.
    private static func firstOfEachName<Value>(_ fields: [(name: String, value: Value)]) -> [(name: String, value: Value)] {
        guard fields.count > 1 else { return fields }
        var seen = Set<String>()
        return fields.filter { seen.insert($0.name).inserted }
    }
}
