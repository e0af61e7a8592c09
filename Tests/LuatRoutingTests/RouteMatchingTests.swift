import KVCore
@testable import LuatRouting
import Testing

@Suite struct RouteMatchingTests {
    func pattern(_ path: String) throws -> RoutePattern {
        try RoutePattern(folders: path.split(separator: "/").map(String.init))
    }

    func table(_ folders: [String]) throws -> RouteTable {
        RouteTable(routes: try folders.map { folder in
            Route(pattern: try pattern(folder), files: RouteFiles(endpoint: "/r/\(folder)/+server.lua"), folder: folder)
        })
    }

    func match(_ table: RouteTable, _ path: String) throws -> (String, [String: String])? {
        let segments = try RequestPath(target: path).segments
        return table.match(segments).map { ($0.route.folder, $0.params) }
    }

    @Test func segmentsAndGroups() throws {
        #expect(try pattern("(app)/blog/[slug]/edit").segments == [.literal("blog"), .parameter("slug"), .literal("edit")])
        #expect(try pattern("[[lang]]/docs/[...rest]").segments == [.optional("lang"), .literal("docs"), .rest("rest")])
        #expect(try pattern("(a)/(b)").segments.isEmpty)
        #expect(throws: RouteError.self) { try pattern("[bad name]") }
        #expect(throws: RouteError.self) { try pattern("post-[id]") }
        #expect(throws: RouteError.self) { try pattern("[id]/x/[id]") }
    }

    @Test func parameters() throws {
        let t = try table(["blog", "blog/[slug]", "blog/[slug]/edit"])
        #expect(try match(t, "/blog")?.0 == "blog")
        #expect(try match(t, "/blog/")?.0 == "blog")
        #expect(try match(t, "/blog/hello")?.1 == ["slug": "hello"])
        #expect(try match(t, "/blog/hello%20world/edit")?.1 == ["slug": "hello world"])
        #expect(try match(t, "/blog/a/b") == nil)
        #expect(try match(t, "/") == nil)
    }

    @Test func staticWinsOverParameters() throws {
        // Listed least specific first: order on disk must not matter.
        let t = try table(["[...rest]", "blog/[slug]", "blog/new", "[page]", "about"])
        #expect(try match(t, "/blog/new")?.0 == "blog/new")
        #expect(try match(t, "/blog/other")?.0 == "blog/[slug]")
        #expect(try match(t, "/about")?.0 == "about")
        #expect(try match(t, "/contact")?.0 == "[page]")
        #expect(try match(t, "/a/b/c")?.1 == ["rest": "a/b/c"])
        #expect(try match(t, "/")?.1 == ["rest": ""])
    }

    @Test func optionalParameters() throws {
        let t = try table(["[[lang]]/about", "x/[[page]]"])
        #expect(try match(t, "/about")?.1 == [:])
        #expect(try match(t, "/fr/about")?.1 == ["lang": "fr"])
        #expect(try match(t, "/x")?.1 == [:])
        #expect(try match(t, "/x/2")?.1 == ["page": "2"])
        #expect(try match(t, "/fr/de/about") == nil)
    }

    @Test func catchAllInTheMiddle() throws {
        let t = try table(["files/[...path]/raw"])
        #expect(try match(t, "/files/a/b/raw")?.1 == ["path": "a/b"])
        #expect(try match(t, "/files/raw")?.1 == ["path": ""])
        #expect(try match(t, "/files/a/b") == nil)
    }

    @Test func unsafePathsAreRefused() {
        for bad in ["/a/../b", "/..", "/a/%2e%2e/b", "/a%2fb", "/a%5cb", "/a%00b", "/%zz", "relative", "/a/./b"] {
            #expect(throws: RequestPath.Problem.self, "\(bad)") { try RequestPath(target: bad) }
        }
        #expect((try? RequestPath(target: "/a//b?x=1"))?.segments == ["a", "b"])
        #expect((try? RequestPath(target: "/a?x=1"))?.query == "x=1")
    }

    @Test func queryAndAction() {
        let q = ParsedQuery("/delete&x=1&y=a+b&x=2&z=%C3%A9")
        #expect(q.action == "delete")
        #expect(q.fields.map(\.name) == ["x", "y", "x", "z"])
        #expect(q.fields.map(\.value) == ["1", "a b", "2", "é"])
        #expect(ParsedQuery("x=1").action == nil)
    }
}
