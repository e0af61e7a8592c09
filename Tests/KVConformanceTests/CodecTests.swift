import KVCore
import Testing

@Suite("JSON and base64 codecs")
struct CodecTests {
    @Test func jsonRoundTripsExactly() throws {
        let text = #"{"int":9007199254740993,"neg":-42,"float":0.1,"big":1e+300,"s":"a\"b\\c\n\u0001é😀","arr":[true,false,null,[]],"obj":{}}"#
        let value = try JSONValue.parse(text)
        #expect(value["int"] == .integer(9_007_199_254_740_993))
        #expect(value["float"] == .double(0.1))
        #expect(value["s"] == .string("a\"b\\c\n\u{1}é😀"))
        let again = try JSONValue.parse(try value.serialized())
        #expect(again == value)
        #expect(try JSONValue.string("\u{1}\u{7F}").serializedString() == #""\u0001\u007f""#)
    }

    @Test func jsonErrorsGiveTheBytePosition() {
        #expect(throws: JSONError("expected ',' or '}' at byte 7", offset: 7)) { _ = try JSONValue.parse(#"{"a":1 x}"#) }
        #expect(throws: JSONError("unexpected character 'x' at byte 2", offset: 2)) { _ = try JSONValue.parse("1 x") }
        #expect(throws: JSONError("unexpected end of input at byte 5", offset: 5)) { _ = try JSONValue.parse(#"[1,2,"#) }
        #expect(throws: JSONError("unterminated string starting at byte 0", offset: 0)) { _ = try JSONValue.parse(#""abc"#) }
        #expect(throws: JSONError("leading zero in number at byte 1", offset: 1)) { _ = try JSONValue.parse("[01]") }
        #expect(throws: JSONError("unpaired surrogate escape at byte 1", offset: 1)) { _ = try JSONValue.parse(#""\ud800""#) }
        #expect(throws: JSONError("cannot encode NaN as JSON")) { _ = try JSONValue.double(.nan).serialized() }
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONError.self) { _ = try JSONValue.parse(deep) }
    }

    @Test func surrogatePairsDecode() throws {
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func base64BothAlphabets() {
        for n in 0..<20 {
            let bytes = (0..<n).map { UInt8(($0 * 37 + 250) & 0xFF) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
            #expect(Base64.decode(Base64.encode(bytes, urlSafe: true)) == bytes)
        }
        #expect(Base64.encode(Array("hello".utf8)) == "aGVsbG8=")
        #expect(Base64.decode("aGVsbG8=") == Array("hello".utf8))
        #expect(Base64.decode("a") == nil)
        #expect(Base64.decode("a*b=") == nil)
    }
}
