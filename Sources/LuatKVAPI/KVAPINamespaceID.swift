/// The REST id of a namespace: the lowercase hexadecimal of its title's UTF-8 bytes
/// (`users` → `7573657273`). Stable (the same title always has the same id, on every
/// backend and server), URL-safe, and decoded without any lookup.
enum KVAPINamespaceID {
    static func id(forTitle title: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(title.utf8.count * 2)
        for byte in title.utf8 {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The title bytes an id names, or nil when it is not lowercase hex of even length.
    static func titleBytes(forID id: String) -> [UInt8]? {
        let chars = Array(id.utf8)
        guard !chars.isEmpty, chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = nibble(chars[index]), let low = nibble(chars[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
