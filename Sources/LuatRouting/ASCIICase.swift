/// Case folding of ASCII letters only, for the case-insensitive names of HTTP (methods, header
/// names), which are ASCII tokens. Unlike `String.lowercased()` it needs no Unicode case
/// tables, which keeps them out of the WASM module.
public enum ASCIICase {
    public static func lower(_ text: String) -> String { map(text, from: UInt8(ascii: "A"), by: 32) }

    public static func upper(_ text: String) -> String { map(text, from: UInt8(ascii: "a"), by: -32) }

    /// Whether `a` and `b` are equal ignoring the case of ASCII letters.
    public static func equal(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8) { fold($0) == fold($1) }
    }

    private static func fold(_ c: UInt8) -> UInt8 {
        c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") ? c + 32 : c
    }

    private static func map(_ text: String, from first: UInt8, by delta: Int) -> String {
        let last = first + 25
        guard text.utf8.contains(where: { $0 >= first && $0 <= last }) else { return text }
        var bytes = Array(text.utf8)
        for i in bytes.indices where bytes[i] >= first && bytes[i] <= last {
            bytes[i] = UInt8(Int(bytes[i]) + delta)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
