import KVCore
import LuatHTTP
import LuatRouting

/// One authenticated REST request: the endpoints themselves. Each checks the token's access
/// before touching the store, validates everything through `KVRules` (via `KVNamespace`),
/// and answers Cloudflare's envelope (values: raw bytes).
struct KVAPICall {
    let handler: KVAPIHandler
    let request: HTTPRequest
    let token: KVAPIToken

    private var store: KVStore { handler.store }
    private var registry: KVAPINamespaceRegistry { handler.registry }

    // MARK: access

    private func requireWrite() throws(KVAPIError) {
        if token.access != .write { throw .forbidden("token \"\(token.name)\" is read-only") }
    }

    /// The title an id names, after checking the token may touch it.
    private func title(_ id: Substring) throws(KVAPIError) -> String {
        guard let bytes = KVAPINamespaceID.titleBytes(forID: String(id)) else {
            throw KVAPIError(404, KVAPIError.namespaceNotFoundCode, "namespace not found: \"\(id)\" is not a namespace id (ids are the lowercase hex of the title's UTF-8 bytes)")
        }
        do { try KVRules.validateNamespace(bytes) } catch {
            throw KVAPIError(404, KVAPIError.namespaceNotFoundCode, "namespace not found: \(error.message)")
        }
        let title = String(decoding: bytes, as: UTF8.self)
        if !token.allows(namespace: title) { throw .forbidden("token \"\(token.name)\" may not access namespace \"\(title)\"") }
        return title
    }

    private func namespace(_ title: String) throws(KVAPIError) -> KVNamespace {
        do { return try store.namespace(title) } catch { throw .store(error, call: "namespace") }
    }

    private func existing(_ id: Substring) throws(KVAPIError) -> String {
        let title = try title(id)
        let found: Bool
        do { found = try registry.exists(title) } catch { throw .store(error, call: "namespace") }
        if !found { throw KVAPIError(404, KVAPIError.namespaceNotFoundCode, "namespace not found: \"\(title)\" has no entries and was not created") }
        return title
    }

    private static func namespaceJSON(_ title: String) -> JSONValue {
        .object([("id", .string(KVAPINamespaceID.id(forTitle: title))), ("title", .string(title)), ("supports_url_encoding", .bool(true))])
    }

    // MARK: query and body

    /// The last value of query field `name` (`a=1&b=x+y`), percent-decoded; nil when absent.
    /// A field whose name or value has a malformed escape (`%ZZ`) or is not UTF-8 once decoded
    /// is refused (400 naming it), so that `prefix=%ZZ` never lists every key.
    private func queryValue(_ name: String) throws(KVAPIError) -> String? {
        guard let text = request.query, !text.isEmpty else { return nil }
        var found: String?
        for part in text.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let fieldName = percentDecode(pieces[0], plusAsSpace: true) else {
                throw .badRequest("query string: malformed field name \(pieces[0].prefix(64)) (a percent-escape is % and two hex digits, and the bytes must be UTF-8)")
            }
            guard fieldName == name else { continue }
            let rawValue = pieces.count > 1 ? pieces[1] : ""
            guard let value = percentDecode(rawValue, plusAsSpace: true) else {
                throw .badRequest("query parameter \(name): malformed value \(rawValue.prefix(64)) (a percent-escape is % and two hex digits, and the bytes must be UTF-8)")
            }
            found = value
        }
        return found
    }

    private func queryInt(_ name: String, default value: Int, range: ClosedRange<Int>) throws(KVAPIError) -> Int {
        guard let text = try queryValue(name) else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw .badRequest("\(name) must be an integer from \(range.lowerBound) to \(range.upperBound) (got \(text))")
        }
        return number
    }

    private func bodyJSON(_ call: String) throws(KVAPIError) -> JSONValue {
        do { return try JSONValue.parse(request.body) } catch {
            throw .badRequest("\(call): the request body is not valid JSON: \(error.message)")
        }
    }

    private func seconds(_ name: String, option: String) throws(KVAPIError) -> Int64? {
        guard let text = try queryValue(name), !text.isEmpty else { return nil }
        guard let number = Double(text) else {
            throw KVAPIError(400, KVAPIError.invalidExpirationCode, "KV.put: \(option) must be a positive integer number of seconds (got \(text))")
        }
        do { return try KVRules.seconds(fromNumber: number, option: option) } catch { throw .store(error, call: "KV.put") }
    }

    // MARK: namespaces

    func listNamespaces() throws(KVAPIError) -> HTTPResponse {
        let page = try queryInt("page", default: 1, range: 1...Int(Int32.max))
        let perPage = try queryInt("per_page", default: 20, range: 1...1000)
        let order = try queryValue("order") ?? "id"
        guard order == "id" || order == "title" else { throw .badRequest("order must be \"id\" or \"title\" (got \(order))") }
        let direction = try queryValue("direction") ?? "asc"
        guard direction == "asc" || direction == "desc" else { throw .badRequest("direction must be \"asc\" or \"desc\" (got \(direction))") }

        var titles: [String]
        do { titles = try registry.titles() } catch { throw .store(error, call: "namespaces") }
        titles = titles.filter { token.allows(namespace: $0) }
        // Ids are the titles' hex: both orders are the titles' byte order.
        if direction == "desc" { titles.reverse() }
        let start = min((page - 1) * perPage, titles.count)
        let slice = titles[start..<min(start + perPage, titles.count)]
        let info: JSONValue = .object([
            ("page", .integer(Int64(page))), ("per_page", .integer(Int64(perPage))), ("count", .integer(Int64(slice.count))),
            ("total_count", .integer(Int64(titles.count))),
            ("total_pages", .integer(Int64((titles.count + perPage - 1) / perPage))),
        ])
        return KVAPIEnvelope.success(.array(slice.map(Self.namespaceJSON)), info: info)
    }

    func createNamespace() throws(KVAPIError) -> HTTPResponse {
        try requireWrite()
        let title = try titleField(bodyJSON("create namespace"), call: "create namespace")
        if !token.allows(namespace: title) { throw .forbidden("token \"\(token.name)\" may not access namespace \"\(title)\"") }
        do {
            if try registry.exists(title) {
                throw KVAPIError(400, KVAPIError.titleTakenCode, "create namespace: a namespace with title \"\(title)\" already exists")
            }
            try registry.register(title)
        } catch let error as KVError { throw .store(error, call: "create namespace") } catch let error as KVAPIError { throw error } catch {
            throw KVAPIError(500, KVAPIError.internalCode, "create namespace: \(error)")
        }
        return KVAPIEnvelope.success(Self.namespaceJSON(title))
    }

    private func titleField(_ body: JSONValue, call: String) throws(KVAPIError) -> String {
        guard case .string(let title)? = body["title"] else { throw .badRequest("\(call): \"title\" must be a string") }
        do { try KVRules.validateNamespace(Array(title.utf8)) } catch { throw .badRequest("\(call): title: \(error.message)") }
        return title
    }

    func getNamespace(_ id: Substring) throws(KVAPIError) -> HTTPResponse {
        KVAPIEnvelope.success(Self.namespaceJSON(try existing(id)))
    }

    func renameNamespace(_ id: Substring) throws(KVAPIError) -> HTTPResponse {
        try requireWrite()
        let old = try existing(id)
        let new = try titleField(bodyJSON("rename namespace"), call: "rename namespace")
        if new == old { return KVAPIEnvelope.success(Self.namespaceJSON(new)) }
        if !token.allows(namespace: new) { throw .forbidden("token \"\(token.name)\" may not access namespace \"\(new)\"") }
        do {
            if try registry.exists(new) {
                throw KVAPIError(400, KVAPIError.titleTakenCode, "rename namespace: a namespace with title \"\(new)\" already exists")
            }
            try registry.rename(old, to: new)
        } catch let error as KVError { throw .store(error, call: "rename namespace") } catch let error as KVAPIError { throw error } catch {
            throw KVAPIError(500, KVAPIError.internalCode, "rename namespace: \(error)")
        }
        return KVAPIEnvelope.success(Self.namespaceJSON(new))
    }

    func deleteNamespace(_ id: Substring) throws(KVAPIError) -> HTTPResponse {
        try requireWrite()
        let title = try existing(id)
        do { try registry.drop(title) } catch { throw .store(error, call: "delete namespace") }
        return KVAPIEnvelope.success(.object([]))
    }

    // MARK: keys

    func listKeys(_ id: Substring) throws(KVAPIError) -> HTTPResponse {
        let ns = try namespace(try title(id))
        var options = ListOptions()
        options.prefix = try queryValue("prefix").flatMap { $0.isEmpty ? nil : $0 }
        options.cursor = try queryValue("cursor").flatMap { $0.isEmpty ? nil : $0 }
        if let text = try queryValue("limit") {
            guard let number = Double(text) else {
                throw .badRequest("KV.list: limit must be an integer from 1 to \(KVLimits.maxListLimit) (got \(text))")
            }
            do { options.limit = try KVRules.listLimit(fromNumber: number) } catch { throw .store(error, call: "KV.list") }
        }
        let page: ListResult
        do { page = try ns.list(options) } catch { throw .store(error, call: "KV.list") }
        let keys: [JSONValue] = page.keys.map { key in
            var members: [(key: String, value: JSONValue)] = [("name", .string(key.name))]
            if let expiration = key.expiration { members.append(("expiration", .integer(expiration))) }
            if let metadata = key.metadata { members.append(("metadata", KVBulkEntry.metadataJSON(metadata))) }
            return .object(members)
        }
        let info: JSONValue = .object([("count", .integer(Int64(keys.count))), ("cursor", .string(page.cursor ?? ""))])
        return KVAPIEnvelope.success(.array(keys), info: info)
    }

    // MARK: values

    func getValue(_ id: Substring, key: [UInt8]) throws(KVAPIError) -> HTTPResponse {
        let ns = try namespace(try title(id))
        let entry: KVEntry?
        do { entry = try ns.getWithMetadata(keyBytes: key) } catch { throw .store(error, call: "KV.get") }
        guard let entry else { throw KVAPIError(404, KVAPIError.keyNotFoundCode, "get: 'key not found'") }
        var headers = HTTPHeaders()
        headers.append("Content-Type", "application/octet-stream")
        headers.append("Cache-Control", "no-store")
        if let expiration = entry.expiration { headers.append("Expiration", String(expiration)) }
        return HTTPResponse(status: 200, headers: headers, body: entry.value)
    }

    func putValue(_ id: Substring, key: [UInt8]) throws(KVAPIError) -> HTTPResponse {
        try requireWrite()
        let ns = try namespace(try title(id))
        var value = request.body
        var options = PutOptions()
        if let contentType = request.headers["content-type"], let boundary = MediaType(contentType).multipartBoundary {
            let parts: [MultipartPart]
            do { parts = try MultipartReader.namedParts(body: request.body, boundary: boundary) } catch {
                throw .badRequest("KV.put: \(error.message)")
            }
            guard let part = parts.first(where: { $0.name == "value" }) else {
                throw .badRequest("KV.put: the multipart body has no \"value\" part")
            }
            value = Array(part.content)
            if let metadata = parts.first(where: { $0.name == "metadata" }) {
                options.metadata = String(decoding: metadata.content, as: UTF8.self)
            }
        }
        options.expiration = try seconds("expiration", option: "expiration")
        options.expirationTtl = try seconds("expiration_ttl", option: "expirationTtl")
        do { try ns.put(keyBytes: key, value, options) } catch { throw .store(error, call: "KV.put") }
        return KVAPIEnvelope.success(.object([]))
    }

    func deleteValue(_ id: Substring, key: [UInt8]) throws(KVAPIError) -> HTTPResponse {
        try requireWrite()
        let ns = try namespace(try title(id))
        do { try ns.delete(keyBytes: key) } catch { throw .store(error, call: "KV.delete") }
        return KVAPIEnvelope.success(.object([]))
    }

    func getMetadata(_ id: Substring, key: [UInt8]) throws(KVAPIError) -> HTTPResponse {
        let ns = try namespace(try title(id))
        let entry: KVEntry?
        do { entry = try ns.getWithMetadata(keyBytes: key) } catch { throw .store(error, call: "KV.getWithMetadata") }
        guard let entry else { throw KVAPIError(404, KVAPIError.keyNotFoundCode, "metadata: 'key not found'") }
        return KVAPIEnvelope.success(entry.metadata.map(KVBulkEntry.metadataJSON) ?? .null)
    }

    // MARK: bulk

    func bulkWrite(_ id: Substring) throws(KVAPIError) -> HTTPResponse {
        try requireWrite()
        let ns = try namespace(try title(id))
        guard case .array(let elements) = try bodyJSON("bulk write") else {
            throw .badRequest("bulk write: the body must be a JSON array of {\"key\", \"value\", ...} objects")
        }
        let now = store.clock.nowSeconds()
        var batch: [(key: [UInt8], value: [UInt8], options: PutOptions)] = []
        batch.reserveCapacity(elements.count)
        var skipped: [JSONValue] = []
        for (index, element) in elements.enumerated() {
            do {
                switch try KVBulkEntry.decode(element, now: now) {
                case let .put(key, value, options): batch.append((key, value, options))
                case .alreadyExpired: skipped.append(element["key"] ?? .null)
                }
            } catch {
                throw KVAPIError.store(KVError(error.kind, "entry \(index): \(error.message); nothing was written"), call: "bulk write")
            }
        }
        do { try ns.putMany(batch) } catch { throw .store(error, call: "bulk write") }
        return KVAPIEnvelope.success(.object([
            ("successful_key_count", .integer(Int64(batch.count))), ("unsuccessful_keys", .array(skipped)),
        ]))
    }

    func bulkDelete(_ id: Substring) throws(KVAPIError) -> HTTPResponse {
        try requireWrite()
        let ns = try namespace(try title(id))
        guard case .array(let elements) = try bodyJSON("bulk delete") else {
            throw .badRequest("bulk delete: the body must be a JSON array of key names")
        }
        var keys: [[UInt8]] = []
        keys.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard case .string(let key) = element else { throw .badRequest("bulk delete: key \(index): must be a string") }
            keys.append(Array(key.utf8))
        }
        do { try ns.deleteMany(keyBytes: keys) } catch { throw .store(error, call: "bulk delete") }
        return KVAPIEnvelope.success(.object([
            ("successful_key_count", .integer(Int64(keys.count))), ("unsuccessful_keys", .array([])),
        ]))
    }

    func bulkGet(_ id: Substring) throws(KVAPIError) -> HTTPResponse {
        let ns = try namespace(try title(id))
        let body = try bodyJSON("bulk get")
        guard case .array(let list)? = body["keys"] else { throw .badRequest("bulk get: \"keys\" must be an array of key names") }
        var keys: [[UInt8]] = []
        for (index, element) in list.enumerated() {
            guard case .string(let key) = element else { throw .badRequest("bulk get: key \(index): must be a string") }
            keys.append(Array(key.utf8))
        }
        var asJSON = false
        switch body["type"] {
        case nil, .null?, .string("text")?: break
        case .string("json")?: asJSON = true
        default: throw .badRequest("bulk get: \"type\" must be \"text\" or \"json\"")
        }
        var withMetadata = false
        switch body["withMetadata"] ?? body["with_metadata"] {
        case nil, .null?, .bool(false)?: break
        case .bool(true)?: withMetadata = true
        default: throw .badRequest("bulk get: \"withMetadata\" must be true or false")
        }
        let entries: [KVEntry?]
        do { entries = try ns.getMany(keyBytes: keys) } catch { throw .store(error, call: "KV.get") }
        var values: [(key: String, value: JSONValue)] = []
        for (key, entry) in zip(keys, entries) {
            let name = String(decoding: key, as: UTF8.self)
            guard let entry else {
                values.append((name, .null))
                continue
            }
            let value: JSONValue
            if asJSON {
                do { value = try JSONValue.parse(entry.value) } catch {
                    throw .badRequest("KV.get: the value of \"\(name)\" is not valid JSON: \(error.message)")
                }
            } else {
                guard UTF8Validation.isValid(entry.value) else {
                    throw .badRequest("KV.get: the value of \"\(name)\" is binary (not UTF-8); read it with GET .../values/KEY")
                }
                value = .string(String(decoding: entry.value, as: UTF8.self))
            }
            if withMetadata {
                var members: [(key: String, value: JSONValue)] = [("value", value), ("metadata", entry.metadata.map(KVBulkEntry.metadataJSON) ?? .null)]
                if let expiration = entry.expiration { members.append(("expiration", .integer(expiration))) }
                values.append((name, .object(members)))
            } else {
                values.append((name, value))
            }
        }
        return KVAPIEnvelope.success(.object([("values", .object(values))]))
    }
}
