import Foundation
import KVCore
import LuatRouting
import LuatServer
import Testing

/// The route trees of `Tests/Shared/route-table.json`, which the WASM tests
/// (`wasm/test/routes.test.mjs`) read too: the same files must give the same routes, and the
/// same paths the same route and parameters, under `luat serve` and in the WASM engine.
@Suite struct SharedRouteTableTests {
    struct Tree {
        var name: String
        var files: [String]
        var requests: [Request]
        var error: String?
    }

    struct Request {
        var path: String
        /// The folder that answers; nil for 404.
        var route: String?
        var params: [String: String]
        var layouts: [String]?
    }

    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Shared/route-table.json").path

    static func load() throws -> (trees: [Tree], sources: [String: String]) {
        let json = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
        guard case .object(let sourceMembers)? = json["sources"], case .array(let treeValues)? = json["trees"] else {
            throw Failure("route-table.json has no sources or trees")
        }
        var sources: [String: String] = [:]
        for member in sourceMembers { sources[member.key] = member.value.string }
        var trees: [Tree] = []
        for value in treeValues {
            var tree = Tree(name: value["name"]?.string ?? "?", files: strings(value["files"]), requests: [], error: value["error"]?.string)
            if case .array(let requests)? = value["requests"] {
                for r in requests {
                    var params: [String: String] = [:]
                    if case .object(let members)? = r["params"] { for m in members { params[m.key] = m.value.string } }
                    tree.requests.append(Request(path: r["path"]?.string ?? "", route: r["route"]?.string, params: params,
                                                 layouts: r["layouts"].map(strings)))
                }
            }
            trees.append(tree)
        }
        #expect(trees.count >= 6, "the shared table lost trees")
        return (trees, sources)
    }

    static func strings(_ value: JSONValue?) -> [String] {
        guard case .array(let items)? = value else { return [] }
        return items.compactMap(\.string)
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// The matcher, from the file list (as the WASM engine builds its table).
    @Test func matcher() throws {
        for tree in try Self.load().trees {
            let table: RouteTable
            do {
                table = try RouteTable(root: "/r", files: tree.files)
            } catch {
                let expected = try #require(tree.error, "\(tree.name): \(error)")
                #expect(error.description.contains(expected), "\(tree.name): \(error)")
                continue
            }
            #expect(tree.error == nil, "\(tree.name): should be refused")
            for request in tree.requests {
                let match = table.match(try RequestPath(target: request.path).segments)
                #expect(match?.route.folder == request.route, "\(tree.name): \(request.path)")
                guard let match else { continue }
                #expect(match.params == request.params, "\(tree.name): \(request.path)")
                if let layouts = request.layouts {
                    #expect(match.route.layouts == layouts.map { "/r/" + $0 }, "\(tree.name): \(request.path)")
                }
            }
        }
    }

    /// Writes `tree` as a project: every file with the shared source for its name.
    static func writeProject(_ tree: Tree, sources: [String: String]) throws -> String {
        let root = NSTemporaryDirectory() + "luat-route-table-\(UUID().uuidString)"
        for file in tree.files {
            let path = root + "/src/routes/" + file
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let name = (file as NSString).lastPathComponent
            let folder = file.contains("/") ? (file as NSString).deletingLastPathComponent : "."
            let text = sources[name].map { $0.replacingOccurrences(of: "FOLDER", with: "\"\(folder)\"") } ?? "-- not a route file"
            try text.write(toFile: path, atomically: false, encoding: .utf8)
        }
        return root
    }

    /// Discovery from the folder on disk, as `luat serve` lists it.
    @Test func discoveryOnDisk() throws {
        let (trees, sources) = try Self.load()
        for tree in trees {
            let root = try Self.writeProject(tree, sources: sources)
            defer { try? FileManager.default.removeItem(atPath: root) }
            let routes = root + "/src/routes"
            do {
                let table = try RouteTable.discover(root: routes)
                #expect(tree.error == nil, "\(tree.name): should be refused")
                for request in tree.requests {
                    let match = table.match(try RequestPath(target: request.path).segments)
                    #expect(match?.route.folder == request.route, "\(tree.name): \(request.path)")
                    #expect((match?.params ?? [:]) == request.params, "\(tree.name): \(request.path)")
                    if let layouts = request.layouts {
                        #expect(match?.route.layouts == layouts.map { routes + "/" + $0 }, "\(tree.name): \(request.path)")
                    }
                }
            } catch {
                #expect(tree.error.map { "\(error)".contains($0) } == true, "\(tree.name): \(error)")
            }
        }
    }

    /// A real `luat serve` per tree: each request answers with the folder and `ctx.params`
    /// (and its layouts' keys), or 404; a refused tree stops the server with the message.
    @Test func endToEnd() async throws {
        let (trees, sources) = try Self.load()
        for tree in trees {
            let root = try Self.writeProject(tree, sources: sources)
            defer { try? FileManager.default.removeItem(atPath: root) }
            if let expected = tree.error {
                do {
                    let server = try ServerProcess.start(project: root)
                    server.stop()
                    Issue.record("\(tree.name): the server started")
                } catch {
                    #expect("\(error)".contains(expected), "\(tree.name): \(error)")
                }
                continue
            }
            try await ServerProcess.with(project: root) { server in
                for request in tree.requests {
                    let got = try await HTTPClient.get(port: server.port, request.path)
                    guard let route = request.route else {
                        #expect(got.status == 404, "\(tree.name): \(request.path)")
                        continue
                    }
                    #expect(got.status == 200, "\(tree.name): \(request.path): \(got.text)")
                    #expect(got.json["folder"]?.string == route, "\(tree.name): \(request.path)")
                    var params: [String: String] = [:]
                    if case .object(let members)? = got.json["params"] { for m in members { params[m.key] = m.value.string } }
                    #expect(params == request.params, "\(tree.name): \(request.path)")
                    // A page's GET runs its layouts' `load` (an endpoint's does not).
                    let page = tree.files.contains((route == "." ? "" : route + "/") + "+page.server.lua")
                    for layout in page ? request.layouts ?? [] : [] {
                        let folder = layout.contains("/") ? (layout as NSString).deletingLastPathComponent : "."
                        #expect(got.json["layout " + folder] == .bool(true), "\(tree.name): \(request.path): \(layout)")
                    }
                }
            }
        }
    }
}
