/// Finds the token a request's `Authorization: Bearer SECRET` header names.
///
/// Every configured secret is compared in time that depends only on the secrets' lengths,
/// never on where the given bytes first differ, and every token is always compared (no early
/// exit), so response times tell nothing about the secrets.
struct KVAPIAuthenticator: Sendable {
    let tokens: [KVAPIToken]

    enum Outcome {
        case granted(KVAPIToken)
        case missing
        case malformed
        case unknown
    }

    func authenticate(_ header: String?) -> Outcome {
        guard let header else { return .missing }
        let bytes = Array(header.utf8)
        let scheme = Array("bearer ".utf8)
        guard bytes.count > scheme.count,
              zip(bytes, scheme).allSatisfy({ ($0 | 0x20) == $1 || ($0 == $1) }) else { return .malformed }
        var given = Array(bytes[scheme.count...])
        while given.first == 0x20 { given.removeFirst() }
        while given.last == 0x20 { given.removeLast() }
        if given.isEmpty { return .malformed }
        var found: KVAPIToken? = nil
        for token in tokens where Self.constantTimeEqual(given, token.secret) && found == nil {
            found = token
        }
        return found.map(Outcome.granted) ?? .unknown
    }

    /// Equality whose running time depends only on `secret.count`.
    static func constantTimeEqual(_ given: [UInt8], _ secret: [UInt8]) -> Bool {
        var difference: UInt8 = given.count == secret.count ? 0 : 1
        for index in 0..<secret.count {
            let byte = index < given.count ? given[index] : 0
            difference |= byte ^ secret[index]
        }
        return difference == 0
    }
}
