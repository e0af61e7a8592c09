extension JSONValue {
    /// The compact JSON text of this value, as UTF-8 bytes.
    /// Non-finite doubles cannot be written: they are an error.
    public func serialized() throws(JSONError) -> [UInt8] {
        var out: [UInt8] = []
        try JSONValue.write(self, to: &out)
        return out
    }

    /// The compact JSON text of this value.
    public func serializedString() throws(JSONError) -> String {
        String(decoding: try serialized(), as: UTF8.self)
    }

    static func write(_ value: JSONValue, to out: inout [UInt8]) throws(JSONError) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(true): out.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        case .bool(false): out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        case let .integer(v): out.append(contentsOf: "\(v)".utf8)
        case let .double(d):
            guard d.isFinite else { throw JSONError("cannot encode \(d.isNaN ? "NaN" : "infinity") as JSON") }
            out.append(contentsOf: formatDouble(d).utf8)
        case let .string(s): writeString(s.utf8, to: &out)
        case let .array(elements):
            out.append(UInt8(ascii: "["))
            for (n, element) in elements.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                try write(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let .object(members):
            out.append(UInt8(ascii: "{"))
            for (n, member) in members.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                writeString(member.key.utf8, to: &out)
                out.append(UInt8(ascii: ":"))
                try write(member.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Writes `bytes` (valid UTF-8) as a JSON string literal: quotes, backslashes and
    /// control characters escaped; everything else, non-ASCII included, as it is.
    public static func writeString<S: Sequence<UInt8>>(_ bytes: S, to out: inout [UInt8]) {
        let hexDigits: StaticString = "0123456789abcdef"
        out.append(UInt8(ascii: "\""))
        for c in bytes {
            switch c {
            case UInt8(ascii: "\""): out.append(0x5C); out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
            case 0x00..<0x20, 0x7F:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30])
                out.append(hexDigits.utf8Start[Int(c >> 4)])
                out.append(hexDigits.utf8Start[Int(c & 15)])
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The shortest text that reads back as exactly `d` (finite), e.g. `0.1`, `1e+20`, `3.0`.
    public static func formatDouble(_ d: Double) -> String {
        "\(d)"
    }
}
