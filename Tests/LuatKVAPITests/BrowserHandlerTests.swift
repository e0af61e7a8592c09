import Foundation
import LuatHTTP
@testable import LuatKVAPI
import Testing

@Suite struct BrowserHandlerTests {
    func get(_ handler: KVBrowserHandler, _ path: String, method: String = "GET") -> HTTPResponse {
        handler.response(to: HTTPRequest(method: method, target: path))
    }

    @Test func servesThePageFilesAndNothingElse() {
        let handler = KVBrowserHandler(accountID: "acct\"<x>")
        let page = get(handler, "/_luat/kv/")
        #expect(page.status == 200)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(html.contains(#"<meta name="luat-account" content="acct&quot;&lt;x&gt;">"#))
        #expect(!html.contains("{{ACCOUNT_ID}}"))
        #expect(page.headers["content-security-policy"]?.contains("script-src 'self'") == true)
        #expect(get(handler, "/_luat/kv/app.js").headers["content-type"] == "text/javascript; charset=utf-8")
        #expect(String(decoding: get(handler, "/_luat/kv/app.js").body, as: UTF8.self).contains("sessionStorage"))
        #expect(get(handler, "/_luat/kv/style.css").status == 200)
        let bare = get(handler, "/_luat/kv")
        #expect(bare.status == 308)
        #expect(bare.headers["location"] == "/_luat/kv/")
        #expect(get(handler, "/_luat/kv/../secret").status == 404)
        #expect(get(handler, "/_luat/kv/", method: "POST").status == 405)
        #expect(KVBrowserHandler(accountID: nil).response(to: HTTPRequest(method: "GET", target: "/_luat/kv/")).body.count > 1000)
    }

    /// The page reads and writes only through the REST API: every fetch goes to the API base.
    @Test func theScriptTalksOnlyToTheRESTAPI() {
        let script = KVBrowserAssets.script
        #expect(script.contains("const base = `/client/v4/accounts/"))
        #expect(script.components(separatedBy: "fetch(").count == 2) // the one fetch, in api()
        #expect(!script.contains("localStorage"))
    }
}
