extension JSONValue {
    /// Deepest nesting `parse` accepts, so hostile input cannot exhaust the stack.
    public static let maxDepth = 512

    /// Parses one JSON value (RFC 8259) from UTF-8 bytes; surrounding white space is allowed,
    /// anything else after the value is an error. Errors give the byte position.
    public static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONError) -> JSONValue in
            var parser = JSONParser(bytes: buffer)
            return try parser.parseDocument()
        }
    }

    /// Parses one JSON value from a string.
    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8))
    }
}

struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        skipSpace()
        let value = try parseValue(depth: 0)
        skipSpace()
        if i < bytes.count { throw unexpected() }
        return value
    }

    mutating func skipSpace() {
        while i < bytes.count {
            let c = bytes[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { break }
        }
    }

    func unexpected() -> JSONError {
        if i >= bytes.count { return JSONError("unexpected end of input at byte \(i)", offset: i) }
        let c = bytes[i]
        if c >= 0x20 && c < 0x7F {
            return JSONError("unexpected character '\(String(decoding: [c], as: UTF8.self))' at byte \(i)", offset: i)
        }
        return JSONError("unexpected byte 0x\(hex(c)) at byte \(i)", offset: i)
    }

    func hex(_ c: UInt8) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        return String(decoding: [digits[Int(c >> 4)], digits[Int(c & 15)]], as: UTF8.self)
    }

    mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        if depth > JSONValue.maxDepth { throw JSONError("nesting deeper than \(JSONValue.maxDepth) at byte \(i)", offset: i) }
        guard i < bytes.count else { throw unexpected() }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw unexpected()
        }
    }

    mutating func expectWord(_ word: StaticString) throws(JSONError) {
        let start = i
        let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for c in w {
            guard i < bytes.count, bytes[i] == c else {
                if i >= bytes.count { throw unexpected() }
                throw JSONError("invalid literal at byte \(start)", offset: start)
            }
            i += 1
        }
    }

    mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        i += 1
        var members: [(key: String, value: JSONValue)] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else {
                if i < bytes.count { throw JSONError("expected a string key at byte \(i)", offset: i) }
                throw unexpected()
            }
            let key = try parseString()
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else {
                if i < bytes.count { throw JSONError("expected ':' at byte \(i)", offset: i) }
                throw unexpected()
            }
            i += 1
            skipSpace()
            let value = try parseValue(depth: depth + 1)
            members.append((key, value))
            skipSpace()
            guard i < bytes.count else { throw unexpected() }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            throw JSONError("expected ',' or '}' at byte \(i)", offset: i)
        }
    }

    mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        i += 1
        var elements: [JSONValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(elements) }
        while true {
            skipSpace()
            elements.append(try parseValue(depth: depth + 1))
            skipSpace()
            guard i < bytes.count else { throw unexpected() }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(elements) }
            throw JSONError("expected ',' or ']' at byte \(i)", offset: i)
        }
    }

    mutating func parseHex4() throws(JSONError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw JSONError("truncated \\u escape at byte \(i)", offset: i) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw JSONError("invalid \\u escape at byte \(i)", offset: i)
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    static func appendScalar(_ v: UInt32, to out: inout [UInt8]) {
        if v < 0x80 {
            out.append(UInt8(v))
        } else if v < 0x800 {
            out.append(UInt8(0xC0 | (v >> 6))); out.append(UInt8(0x80 | (v & 0x3F)))
        } else if v < 0x10000 {
            out.append(UInt8(0xE0 | (v >> 12))); out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (v & 0x3F)))
        } else {
            out.append(UInt8(0xF0 | (v >> 18))); out.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((v >> 6) & 0x3F))); out.append(UInt8(0x80 | (v & 0x3F)))
        }
    }

    mutating func parseString() throws(JSONError) -> String {
        let start = i
        i += 1
        var out: [UInt8] = []
        var runStart = i
        while true {
            guard i < bytes.count else { throw JSONError("unterminated string starting at byte \(start)", offset: start) }
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                i += 1
                break
            }
            if c < 0x20 { throw JSONError("control character in string at byte \(i)", offset: i) }
            if c != UInt8(ascii: "\\") { i += 1; continue }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
            let escapeAt = i
            i += 1
            guard i < bytes.count else { throw JSONError("unterminated string starting at byte \(start)", offset: start) }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var v = try parseHex4()
                if v >= 0xD800 && v <= 0xDBFF {
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw JSONError("unpaired surrogate escape at byte \(escapeAt)", offset: escapeAt)
                    }
                    i += 2
                    let low = try parseHex4()
                    guard low >= 0xDC00 && low <= 0xDFFF else {
                        throw JSONError("unpaired surrogate escape at byte \(escapeAt)", offset: escapeAt)
                    }
                    v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                } else if v >= 0xDC00 && v <= 0xDFFF {
                    throw JSONError("unpaired surrogate escape at byte \(escapeAt)", offset: escapeAt)
                }
                JSONParser.appendScalar(v, to: &out)
            default:
                throw JSONError("invalid escape at byte \(escapeAt)", offset: escapeAt)
            }
            runStart = i
        }
        guard UTF8Validation.isValid(out) else { throw JSONError("invalid UTF-8 in string starting at byte \(start)", offset: start) }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = i
        var isInteger = true
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, isDigit(bytes[i]) else { throw JSONError("invalid number at byte \(start)", offset: start) }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if i < bytes.count, isDigit(bytes[i]) { throw JSONError("leading zero in number at byte \(start)", offset: start) }
        } else {
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            guard i < bytes.count, isDigit(bytes[i]) else { throw JSONError("invalid number at byte \(start)", offset: start) }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            isInteger = false
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, isDigit(bytes[i]) else { throw JSONError("invalid number at byte \(start)", offset: start) }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        if isInteger, let v = Int64(text) { return .integer(v) }
        guard let d = Double(text) else { throw JSONError("invalid number at byte \(start)", offset: start) }
        return .double(d)
    }

    @inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
}
