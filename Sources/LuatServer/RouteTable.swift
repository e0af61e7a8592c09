import Foundation

/// One route: a folder of the routes tree holding `+server.lua` and/or `+page.server.lua`.
public struct Route: Sendable, Equatable {
    public let pattern: RoutePattern
    /// Absolute path of `+server.lua`, if the folder has one.
    public let endpoint: String?
    /// Absolute path of `+page.server.lua`, if the folder has one.
    public let page: String?
    /// `+layout.server.lua` files of the folders on the way to this one (itself included), outermost first.
    public let layouts: [String]
    /// The folder, relative to the routes folder (for messages).
    public let folder: String
}

/// The routes found under a project's routes folder, in matching order.
public struct RouteTable: Sendable {
    public static let endpointFile = "+server.lua"
    public static let pageFile = "+page.server.lua"
    public static let layoutFile = "+layout.server.lua"

    /// Most specific first; the first route whose pattern matches answers.
    public let routes: [Route]

    public init(routes: [Route]) {
        // A stable sort by specificity, so the order on disk breaks no ties.
        self.routes = routes.enumerated().sorted { a, b in
            if a.element.pattern.isMoreSpecific(than: b.element.pattern) { return true }
            if b.element.pattern.isMoreSpecific(than: a.element.pattern) { return false }
            return a.offset < b.offset
        }.map(\.element)
    }

    /// Walks `root` (the routes folder). A missing folder means no routes. Two folders whose
    /// patterns always match the same paths (e.g. through `(group)` folders) are an error.
    public static func discover(root: String) throws(RouteError) -> RouteTable {
        var routes: [Route] = []
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            return RouteTable(routes: [])
        }
        try walk(root: root, folders: [], layouts: [], into: &routes)
        for i in routes.indices {
            for j in routes.indices where j > i && routes[i].pattern.hasSameShape(as: routes[j].pattern) {
                throw RouteError("routes '\(routes[i].folder)' and '\(routes[j].folder)' both answer \(routes[i].pattern)")
            }
        }
        return RouteTable(routes: routes)
    }

    private static func walk(root: String, folders: [String], layouts: [String], into routes: inout [Route]) throws(RouteError) {
        let folder = folders.isEmpty ? root : root + "/" + folders.joined(separator: "/")
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        } catch {
            throw RouteError("cannot read \(folder): \(error.localizedDescription)")
        }
        var layouts = layouts
        if names.contains(layoutFile) { layouts.append(folder + "/" + layoutFile) }
        let endpoint = names.contains(endpointFile) ? folder + "/" + endpointFile : nil
        let page = names.contains(pageFile) ? folder + "/" + pageFile : nil
        if endpoint != nil || page != nil {
            let pattern = try RoutePattern(folders: folders)
            routes.append(Route(pattern: pattern, endpoint: endpoint, page: page, layouts: layouts,
                                folder: folders.isEmpty ? "." : folders.joined(separator: "/")))
        }
        for name in names where !name.hasPrefix(".") {
            var isDirectory: ObjCBool = false
            let path = folder + "/" + name
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            try walk(root: root, folders: folders + [name], layouts: layouts, into: &routes)
        }
    }

    /// The first route matching the decoded path segments, with its parameters.
    public func match(_ segments: [String]) -> (route: Route, params: [String: String])? {
        for route in routes {
            if let params = route.pattern.match(segments) { return (route, params) }
        }
        return nil
    }
}
