import KVCore
@testable import LuatRouting
import Testing

@Suite struct RequestBodyTests {
    func ctx(_ contentType: String, _ body: String) -> RequestContext {
        var ctx = RequestContext(method: "POST", url: "http://h/", path: "/", headers: [("content-type", contentType)], rawBody: Array(body.utf8))
        ctx.parseBody()
        return ctx
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
