/// One route: a folder of the routes tree holding `+server.lua` and/or `+page.server.lua`.
public struct Route: Sendable, Equatable {
    public let pattern: RoutePattern
    /// The files that answer it (paths as the host gave them, prefixed by the routes folder).
    public let files: RouteFiles
    /// The folder, relative to the routes folder (`.` for the routes folder itself; for messages).
    public let folder: String

    public init(pattern: RoutePattern, files: RouteFiles, folder: String) {
        self.pattern = pattern
        self.files = files
        self.folder = folder
    }

    /// The folder's `+server.lua`, if any.
    public var endpoint: String? { files.endpoint }
    /// The folder's `+page.server.lua`, if any.
    public var page: String? { files.page }
    /// `+layout.server.lua` files of the folders on the way to this one (itself included), outermost first.
    public var layouts: [String] { files.layouts }
}

/// A route that matched a request path, with the values of its parameters.
public struct RouteMatch: Sendable, Equatable {
    public let route: Route
    /// `[name]` → its segment; an absent `[[optional]]` is left out; `[...rest]` holds its
    /// segments joined by `/` (empty when it took none).
    public let params: [String: String]
}

/// The routes of a routes folder, in matching order. Built from a list of file paths, so a
/// host with a disk (`luat serve` lists `src/routes`) and one without (the WASM engine, which
/// holds its files in memory) find the same routes and match a path the same way.
public struct RouteTable: Sendable {
    public static let endpointFile = "+server.lua"
    public static let pageFile = "+page.server.lua"
    public static let layoutFile = "+layout.server.lua"

    /// Most specific first; the first route whose pattern matches answers.
    public let routes: [Route]

    /// Orders `routes` most specific first. The sort is stable, so the given order (a walk of
    /// the folders in name order, as `init(root:files:)` makes it) breaks ties.
    public init(routes: [Route]) {
        self.routes = routes.enumerated().sorted { a, b in
            if a.element.pattern.isMoreSpecific(than: b.element.pattern) { return true }
            if b.element.pattern.isMoreSpecific(than: a.element.pattern) { return false }
            return a.offset < b.offset
        }.map { $0.element }
    }

    /// The routes of the files under the routes folder `root`: `files` are paths relative to
    /// `root` (`blog/[slug]/+page.server.lua`), any order; other files and anything under a
    /// folder whose name starts with `.` are ignored. Route file paths are `root + "/" + file`.
    /// Two folders whose patterns always match the same paths (e.g. through `(group)`
    /// folders) are an error, as is a folder name that is not a valid segment.
    public init(root: String, files: [String]) throws(RouteError) {
        // Folder (as its names) → the route files it holds.
        var folders: [[String]: (endpoint: Bool, page: Bool, layout: Bool)] = [:]
        for file in files {
            var parts = file.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            guard let name = parts.popLast() else { continue }
            if parts.contains(where: { $0.hasPrefix(".") }) { continue }
            var entry = folders[parts] ?? (false, false, false)
            switch name {
            case Self.endpointFile: entry.endpoint = true
            case Self.pageFile: entry.page = true
            case Self.layoutFile: entry.layout = true
            default: continue
            }
            folders[parts] = entry
        }
        // Parents before children, siblings in name order: a walk of the tree.
        let ordered = folders.keys.sorted { $0.lexicographicallyPrecedes($1) }
        var routes: [Route] = []
        for names in ordered {
            guard let entry = folders[names], entry.endpoint || entry.page else { continue }
            let path = names.isEmpty ? root : root + "/" + names.joined(separator: "/")
            var layouts: [String] = []
            for depth in 0...names.count where folders[Array(names.prefix(depth))]?.layout == true {
                let prefix = names.prefix(depth)
                layouts.append((prefix.isEmpty ? root : root + "/" + prefix.joined(separator: "/")) + "/" + Self.layoutFile)
            }
            let files = RouteFiles(endpoint: entry.endpoint ? path + "/" + Self.endpointFile : nil,
                                   page: entry.page ? path + "/" + Self.pageFile : nil,
                                   layouts: layouts)
            routes.append(Route(pattern: try RoutePattern(folders: names), files: files,
                                folder: names.isEmpty ? "." : names.joined(separator: "/")))
        }
        for i in routes.indices {
            for j in routes.indices where j > i && routes[i].pattern.hasSameShape(as: routes[j].pattern) {
                throw RouteError("routes '" + routes[i].folder + "' and '" + routes[j].folder + "' both answer " + routes[i].pattern.description)
            }
        }
        self.init(routes: routes)
    }

    /// The first route matching the decoded path segments, with its parameters.
    public func match(_ segments: [String]) -> RouteMatch? {
        for route in routes {
            if let params = route.pattern.match(segments) { return RouteMatch(route: route, params: params) }
        }
        return nil
    }
}
