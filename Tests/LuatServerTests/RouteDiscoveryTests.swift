import Foundation
import LuatRouting
import LuatServer
import Testing

/// `RouteTable.discover(root:)`: the routes of a folder on disk.
@Suite struct RouteDiscoveryTests {
    @Test func discoveryFromTheFileTree() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("routes-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = [
            "+layout.server.lua", "+page.server.lua",
            "(app)/blog/+layout.server.lua", "(app)/blog/+page.server.lua", "(app)/blog/[slug]/edit/+page.server.lua",
            "api/posts/+server.lua", "api/[...rest]/+server.lua", "api/helpers.lua", "notes/readme.txt",
        ]
        for file in files {
            let path = root + "/" + file
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try "".write(toFile: path, atomically: true, encoding: .utf8)
        }
        let table = try RouteTable.discover(root: root)
        #expect(table.routes.map(\.pattern.description).sorted() == ["/", "/api/[...rest]", "/api/posts", "/blog", "/blog/[slug]/edit"])
        let edit = try #require(table.match(["blog", "x", "edit"]))
        #expect(edit.route.layouts == [root + "/+layout.server.lua", root + "/(app)/blog/+layout.server.lua"])
        #expect(edit.route.page == root + "/(app)/blog/[slug]/edit/+page.server.lua")
        #expect(table.match(["api", "posts"])?.route.endpoint == root + "/api/posts/+server.lua")
        #expect(table.match(["api", "other", "x"])?.params == ["rest": "other/x"])
        #expect(table.match(["notes"]) == nil)

        // Two folders answering the same paths are refused.
        try FileManager.default.createDirectory(atPath: root + "/(other)/blog", withIntermediateDirectories: true)
        try "".write(toFile: root + "/(other)/blog/+server.lua", atomically: true, encoding: .utf8)
        #expect(throws: RouteError.self) { try RouteTable.discover(root: root) }
    }

    @Test func missingRoutesFolderMeansNoRoutes() throws {
        #expect(try RouteTable.discover(root: "/nonexistent-\(UUID().uuidString)").routes.isEmpty)
    }
}
