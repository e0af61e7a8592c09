import HistoryChecker
import KVCore
import LuaRuntime
import Testing

/// The `json` global's rules (see `LuaJSON`).
@Suite struct JSONTests {
    let h: LuaHarness
    init() throws { h = try LuaHarness(.memory) }

    func encode(_ lua: String) throws -> String? {
        try h.run("return json.encode(\(lua))").first?.stringValue
    }

    func error(_ lua: String) throws -> String? { try h.errorMessage(lua) }

    @Test func integersStayIntegers() throws {
        #expect(try encode("math.maxinteger") == "9223372036854775807")
        #expect(try encode("math.mininteger") == "-9223372036854775808")
        #expect(try encode("{ 1, -2, 0 }") == "[1,-2,0]")
        try h.run("""
            local big = json.decode('[9223372036854775807, -9223372036854775808, 42]')
            assert(big[1] == math.maxinteger and math.type(big[1]) == "integer")
            assert(big[2] == math.mininteger and math.type(big[2]) == "integer")
            assert(math.type(big[3]) == "integer")
            assert(math.type(json.decode('1e2')) == "float" and json.decode('1e2') == 100.0)
            assert(math.type(json.decode('1.0')) == "float")
            assert(math.type(json.decode('18446744073709551616')) == "float") -- beyond 64 bits
            """)
    }

    @Test func floatsRoundTrip() throws {
        #expect(try encode("3.0") == "3.0")
        #expect(try encode("0.1") == "0.1")
        #expect(try encode("-1.5") == "-1.5")
        try h.run("""
            for _, x in ipairs({ 0.1, 1/3, -2.5e-300, 1.7976931348623157e308, 5e-324, 3.0, 2^53, -0.0, 123456.789 }) do
                local back = json.decode(json.encode(x))
                assert(back == x and math.type(back) == "float", tostring(x))
            end
            """)
        #expect(try error("json.encode(0/0)") == "json.encode: cannot encode NaN as JSON")
        #expect(try error("json.encode({ x = math.huge })") == "json.encode: cannot encode infinity as JSON (at value.x)")
    }

    @Test func stringsAreEscaped() throws {
        #expect(try encode(#"'say "hi"\\ back\\slash'"#) == #""say \"hi\"\\ back\\slash""#)
        #expect(try encode(#""\n\r\t\b\f\0\1\31\127""#) == #""\n\r\t\b\f\u0000\u0001\u001f\u007f""#)
        #expect(try encode(#""héllo ✓ 😀""#) == "\"héllo ✓ 😀\"")
        try h.run(#"""
            local s = "tab\t nl\n quote\" back\\ nul\0 ctl\1 é ✓ 😀"
            assert(json.decode(json.encode(s)) == s)
            assert(json.decode('"\\u00e9\\u2713\\ud83d\\ude00"') == "é✓😀")
            assert(json.decode('"\\/"') == "/")
            """#)
        #expect(try error(#"json.encode("\255")"#) == "json.encode: cannot encode a string that is not valid UTF-8")
    }

    @Test func nullSentinel() throws {
        #expect(try encode("json.null") == "null")
        #expect(try encode("nil") == "null")
        #expect(try encode("{ 1, json.null, 3 }") == "[1,null,3]")
        try h.run("""
            local t = json.decode('{"a":null,"b":[null,1]}')
            assert(t.a == json.null and t.b[1] == json.null and t.b[2] == 1 and #t.b == 2)
            assert(json.decode('null') == json.null)
            assert(type(json.null) == "userdata")
            """)
    }

    @Test func emptyTables() throws {
        #expect(try encode("{}") == "[]")
        #expect(try encode("{ list = {}, obj = json.decode('{}') }") == #"{"list":[],"obj":{}}"#)
        #expect(try encode("json.decode('{}')") == "{}")
        #expect(try encode("json.decode('[]')") == "[]")
        #expect(try encode("setmetatable({}, { __jsontype = 'object' })") == "{}")
        #expect(try encode("setmetatable({}, { __jsontype = 'array' })") == "[]")
        try h.run("assert(tostring(json.decode('{}')):find('^table: '))")
    }

    @Test func objectsAndArrays() throws {
        #expect(try encode("{ 'a', 'b', 'c' }") == #"["a","b","c"]"#)
        #expect(try encode("{ b = 1, a = 2, c = { d = true } }") == #"{"a":2,"b":1,"c":{"d":true}}"#)
        try h.run("""
            local t = json.decode('{"z":1,"a":[1,2,{"k":"v"}],"m":false}')
            assert(t.z == 1 and t.a[3].k == "v" and t.m == false)
            """)
    }

    @Test func sparseAndMixedTablesAreObjects() throws {
        #expect(try encode("{ [1] = 'a', [3] = 'c' }") == #"{"1":"a","3":"c"}"#)
        #expect(try encode("{ 'a', 'b', x = 1 }") == #"{"1":"a","2":"b","x":1}"#)
        #expect(try encode("{ [2] = 'b' }") == #"{"2":"b"}"#)
        #expect(try encode("{ [0] = 'z', 'a' }") == #"{"0":"z","1":"a"}"#)
        #expect(try encode("{ [-1] = 'n' }") == #"{"-1":"n"}"#)
        #expect(try error("json.encode({ [1.5] = 'x' })") == "json.encode: cannot encode a table with a non-integer number key")
        #expect(try error("json.encode({ [true] = 'x' })") == "json.encode: cannot encode a table with a boolean key")
        #expect(try error("json.encode({ [{}] = 'x' })") == "json.encode: cannot encode a table with a table key")
        #expect(try error("json.encode({ 'a', ['1'] = 'b', x = 1 })")
                == "json.encode: cannot encode a table with two keys named \"1\" (an integer and a string)")
    }

    @Test func cyclesAndFunctionsAreErrors() throws {
        #expect(try error("local t = {}; t[1] = t; json.encode(t)") == "json.encode: cyclic table")
        #expect(try error("local a, b = {}, {}; a.b = b; b.a = a; json.encode(a)") == "json.encode: cyclic table")
        #expect(try error("json.encode(print)") == "json.encode: cannot encode a function")
        #expect(try error("json.encode({ list = { 1, { f = function() end } } })")
                == "json.encode: cannot encode a function (at value.list[2].f)")
        #expect(try error("json.encode(coroutine.create(print))") == "json.encode: cannot encode a thread")
        #expect(try error("json.encode()") == "json.encode: expected a value to encode")
        // A shared (not cyclic) table is fine.
        #expect(try encode("(function() local s = { 1 }; return { a = s, b = s } end)()") == #"{"a":[1],"b":[1]}"#)
        // Deep nesting is an error, not a stack overflow.
        #expect(try error("local t = {}; local c = t; for i = 1, 10000 do c[1] = {}; c = c[1] end; json.encode(t)")
                == "json.encode: nesting deeper than 512")
        #expect(try error("json.decode(string.rep('[', 10000))")?.hasPrefix("json.decode: nesting deeper than 512") == true)
    }

    @Test func decodeErrorsGiveTheBytePosition() throws {
        #expect(try error(#"json.decode('{"a":1,}')"#) == "json.decode: expected a string key at byte 7")
        #expect(try error(#"json.decode('[1, 2')"#) == "json.decode: unexpected end of input at byte 5")
        #expect(try error(#"json.decode('')"#) == "json.decode: unexpected end of input at byte 0")
        #expect(try error(#"json.decode('{"a" 1}')"#) == "json.decode: expected ':' at byte 5")
        #expect(try error(#"json.decode('[1] x')"#) == "json.decode: unexpected character 'x' at byte 4")
        #expect(try error("json.decode(42)") == "json.decode: expected a string, got number")
        #expect(try error("json.decode()") == "json.decode: expected a string, got nil")
    }

    @Test func putTableUsesTheSameCodec() throws {
        try h.run("""
            local kv = KV.namespace("j")
            kv:put("t", { n = 1, f = 2.0, list = {}, big = math.maxinteger })
            kv:put("num", 42)
            kv:put("float", 1.5)
            """)
        let ns = try h.store.namespace("j")
        #expect(try ns.get("t").map { String(decoding: $0, as: UTF8.self) } == #"{"big":9223372036854775807,"f":2.0,"list":[],"n":1}"#)
        #expect(try ns.get("num") == Array("42".utf8))
        #expect(try ns.get("float") == Array("1.5".utf8))
    }

    /// `json.encode` reads the value straight off the Lua stack; `LuaJSON.jsonValue(_:)` converts
    /// a `LuaValue` copy. Both must give the same JSON, or the same error, for any value with
    /// at most one fault: hand-picked shapes, then 400 generated ones (a fixed seed).
    @Test func readingFromTheStackAgreesWithConvertingACopy() throws {
        var cases = [
            "{}", "{ 1, 2, 3 }", "{ [1] = 'a', [3] = 'c' }", "{ [0] = 'z', 'a' }", "{ [-1] = 1 }",
            "{ 1, 2, x = 3 }", "{ [1] = 'i', ['1'] = 's' }", "json.decode('{}')", "json.decode('{\"a\":[]}')",
            "setmetatable({}, { __jsontype = 'object' })", "setmetatable({ 1 }, { __jsontype = 'object' })",
            "setmetatable({}, { __jsontype = 'array' })", "{ [true] = 1 }", "{ [1.5] = 1 }", "{ [{}] = 1 }",
            "{ ['\\255'] = 1 }", "{ 'ok', '\\255' }", "{ a = { b = { c = 0/0 } } }", "{ f = print }", "{ 1, print }",
            "{ n = json.null, list = { json.null } }", "{ b = false, i = math.mininteger, d = -0.0 }",
            "{ ['é'] = 1, ['e\\204\\129'] = 2, z = 3, A = 4 }", "{ [10] = 1, [2] = 2, [1] = 3 }",
            "{ [math.maxinteger] = 1, [math.mininteger] = 2 }", "{ { {}, { {} } }, {} }",
        ]
        // Around the nesting limit (512).
        for levels in 510...513 { cases.append("(function() local t = {} for _ = 2, \(levels) do t = { t } end return t end)()") }
        var rng = SplitMix64(seed: 0x5EED)
        func value(_ depth: Int) -> String {
            switch Int(rng.next() % (depth > 3 ? 6 : 9)) {
            case 0: return String(Int64(bitPattern: rng.next()) % 1000)
            case 1: return ["0.5", "-2.25", "1e300", "3.0"][Int(rng.next() % 4)]
            case 2: return ["'x'", "''", "'é✓'", "'\\0'", "'a\\nb'"][Int(rng.next() % 5)]
            case 3: return ["true", "false", "json.null"][Int(rng.next() % 3)]
            case 4: return "nil"
            case 5: return "'s'"
            default:
                var fields: [String] = []
                for i in 0..<Int(rng.next() % 5) {
                    switch rng.next() % 4 {
                    case 0: fields.append(value(depth + 1))
                    case 1: fields.append("[\(Int(rng.next() % 6) - 1)] = \(value(depth + 1))")
                    case 2: fields.append("['k\(i)'] = \(value(depth + 1))")
                    default: fields.append("['\(rng.next() % 3)'] = \(value(depth + 1))")
                    }
                }
                let table = "{ " + fields.joined(separator: ", ") + " }"
                return rng.next() % 5 == 0 ? "setmetatable(\(table), { __jsontype = 'object' })" : table
            }
        }
        for _ in 0..<400 { cases.append(value(0)) }
        for lua in cases {
            let fromStack: String
            do {
                fromStack = try h.run("local ok, r = pcall(json.encode, \(lua)); return ok and r or ('error: ' .. r)").first?.stringValue ?? "?"
            }
            let fromCopy: String
            do {
                let copy = try h.run("return \(lua)").first ?? .nil
                fromCopy = try LuaJSON.jsonValue(copy).serializedString()
            } catch let error as LuaError {
                // Copying out of Lua (`run`'s results) says where it failed first.
                let prefix = "cannot read a result: "
                fromCopy = "error: json.encode: " + (error.message.hasPrefix(prefix) ? String(error.message.dropFirst(prefix.count)) : error.message)
            }
            #expect(fromStack == fromCopy, "\(lua)")
        }
    }
}
