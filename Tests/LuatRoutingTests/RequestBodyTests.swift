import KVCore
import LuaRuntime
@testable import LuatRouting
import Testing

@Suite struct RequestBodyTests {
    func ctx(_ contentType: String, _ body: String) -> RequestContext {
        var ctx = RequestContext(method: "POST", url: "http://h/", path: "/", headers: [("content-type", contentType)], rawBody: Array(body.utf8))
        ctx.parseBody()
        return ctx
    }

    /// In Lua, the first field of a repeated name wins, in `ctx.query` and `ctx.form` alike;
    /// a single field is kept as it is.
    @Test func repeatedNamesKeepTheFirstInLua() throws {
        var c = ctx("application/x-www-form-urlencoded", "t=1&u=2&t=3")
        c.query = [("a", "1"), ("b", "2"), ("a", "3")]
        guard case .table(let table) = c.luaValue else { Issue.record("ctx is not a table"); return }
        func member(_ name: String) -> [(String, LuaValue)] {
            guard let entry = table.hash.first(where: { $0.key == .string(Array(name.utf8)) }),
                  case .table(let t) = entry.value else { return [] }
            return t.hash.map { (key, value) in
                guard case .string(let bytes) = key else { return ("?", value) }
                return (String(decoding: bytes, as: UTF8.self), value)
            }
        }
        let query = member("query")
        #expect(query.map(\.0) == ["a", "b"] && query.first?.1 == .string(Array("1".utf8)))
        let form = member("form")
        #expect(form.map(\.0) == ["t", "u"] && form.first?.1 == .string(Array("1".utf8)))
        c.query = [("only", "x")]
        guard case .table(let single) = c.luaValue,
              case .table(let q)? = single.hash.first(where: { $0.key == .string(Array("query".utf8)) })?.value else {
            Issue.record("no query table"); return
        }
        #expect(q.hash.count == 1)
    }

    @Test func urlEncoded() {
        let c = ctx("application/x-www-form-urlencoded", "title=Hello+world&content=a%26b&/x=1")
        #expect(c.form.map(\.name) == ["title", "content", "/x"])
        #expect(c.form.first?.value == .string("Hello world"))
        #expect(c.body?["content"] == .string("a&b"))
    }

    @Test func json() {
        let c = ctx("application/json; charset=utf-8", #"{"title":"T","n":2}"#)
        #expect(c.form.map(\.name) == ["title", "n"])
        #expect(c.body?["n"] == .integer(2))
        #expect(ctx("application/json", "[1,2]").form.isEmpty)
        #expect(ctx("application/json", "{oops").body == nil)
    }

    @Test func multipart() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHello\r\n"
            + "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nline1\r\nline2\r\n"
            + "--XyZ--\r\n"
        let c = ctx("multipart/form-data; boundary=XyZ", body)
        #expect(c.form.map(\.name) == ["title", "file"])
        #expect(c.form[0].value == .string("Hello"))
        #expect(c.form[1].value["filename"] == .string("a.txt"))
        #expect(c.form[1].value["content"] == .string("line1\r\nline2"))
    }

    @Test func headersAreLookedUpInAnyCase() {
        let c = RequestContext(method: "GET", url: "", path: "/", headers: [("x-token", "abc")])
        #expect(c.header("X-Token") == "abc")
    }
}
