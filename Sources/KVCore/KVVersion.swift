/// The version of a stored entry: set by the store on every write of the key, greater than
/// every version the store handed out before it (on PostgreSQL: before the write began).
///
/// Its text form is opaque to users: 16 lowercase hexadecimal digits, so that comparing two
/// versions as strings orders them as the store does. Entries written before the store had
/// versions (an older file or database) read as version `0000000000000000` until their
/// next write.
public struct KVVersion: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The backend's stamp (`StoredEntry.version`), never negative.
    public let rawValue: Int64

    public init(rawValue: Int64) { self.rawValue = rawValue }

    /// Parses the text form; nil when `text` is not a version.
    public init?(_ text: String) {
        let digits = Array(text.utf8)
        guard digits.count == 16 else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            let nibble: UInt8
            switch digit {
            case 0x30...0x39: nibble = digit - 0x30
            case 0x61...0x66: nibble = digit - 0x61 + 10
            default: return nil
            }
            value = value << 4 | UInt64(nibble)
        }
        guard value <= UInt64(Int64.max) else { return nil }
        rawValue = Int64(value)
    }

    /// 16 lowercase hexadecimal digits.
    public var description: String {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0x30, count: 16)
        var value = UInt64(rawValue)
        for i in stride(from: 15, through: 0, by: -1) {
            out[i] = hex[Int(value & 0xF)]
            value >>= 4
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func < (a: KVVersion, b: KVVersion) -> Bool { a.rawValue < b.rawValue }
}
