import KVCore

/// Decodes `%XX` escapes (and `+` as a space when asked); nil for a bad escape or bytes that are not UTF-8.
public func percentDecode<S: StringProtocol>(_ text: S, plusAsSpace: Bool) -> String? {
    guard let bytes = percentDecodedBytes(text, plusAsSpace: plusAsSpace), UTF8Validation.isValid(bytes) else { return nil }
    return String(decoding: bytes, as: UTF8.self)
}

/// Decodes `%XX` escapes (and `+` as a space when asked) into bytes, which need not be UTF-8;
/// nil when an escape is malformed (`%` not followed by two hex digits).
public func percentDecodedBytes<S: StringProtocol>(_ text: S, plusAsSpace: Bool = false) -> [UInt8]? {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count)
    var iterator = text.utf8.makeIterator()
    while let byte = iterator.next() {
        if byte == 0x25 {
            guard let h = iterator.next().flatMap(hexValue), let l = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(h << 4 | l)
        } else if byte == 0x2B && plusAsSpace {
            bytes.append(0x20)
        } else {
            bytes.append(byte)
        }
    }
    return bytes
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x41...0x46: return c - 0x41 + 10
    case 0x61...0x66: return c - 0x61 + 10
    default: return nil
    }
}
