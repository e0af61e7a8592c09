/// The opaque `list` cursor: it names the last key returned, bound to the namespace and
/// prefix it was made for. A listing resumes strictly after that key, so the cursor stays
/// valid when the key is deleted or others are inserted.
///
/// Layout before URL-safe base64: version byte, 8-byte FNV-1a hash of namespace and
/// prefix, then the key's bytes.
enum ListCursor {
    static let version: UInt8 = 1

    static func encode(after key: [UInt8], namespace: [UInt8], prefix: [UInt8]) -> String {
        var bytes: [UInt8] = [version]
        var h = binding(namespace: namespace, prefix: prefix)
        for _ in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: h)); h >>= 8 }
        bytes.append(contentsOf: key)
        return Base64.encode(bytes, urlSafe: true)
    }

    /// The key a cursor resumes after; an error names what is wrong with it.
    static func decode(_ cursor: String, namespace: [UInt8], prefix: [UInt8]) throws(KVError) -> [UInt8] {
        guard let bytes = Base64.decode(cursor), bytes.count > 9, bytes[0] == version else {
            throw KVError(.invalidCursor, "cursor is malformed (pass the cursor of the previous list result unchanged)")
        }
        var h: UInt64 = 0
        for i in (1...8).reversed() { h = h << 8 | UInt64(bytes[i]) }
        guard h == binding(namespace: namespace, prefix: prefix) else {
            throw KVError(.invalidCursor, "cursor belongs to another namespace or prefix")
        }
        let key = Array(bytes[9...])
        guard key.count <= KVLimits.maxKeyBytes, ByteOrder.hasPrefix(key, prefix) else {
            throw KVError(.invalidCursor, "cursor is malformed (pass the cursor of the previous list result unchanged)")
        }
        return key
    }

    static func binding(namespace: [UInt8], prefix: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ b: UInt8) { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        for b in namespace { mix(b) }
        mix(0xFF) // never inside UTF-8, so (a, b:c) and (a:b, c) cannot collide by concatenation
        for b in prefix { mix(b) }
        return h
    }
}
