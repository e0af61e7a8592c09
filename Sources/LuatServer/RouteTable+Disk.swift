import Foundation
import LuatRouting

extension RouteTable {
    /// The routes of the routes folder `root` on disk: every file under it (folders whose name
    /// starts with `.` are not entered) given to `RouteTable(root:files:)`, which finds and
    /// orders the routes the same way for the WASM engine's in-memory files. A missing folder
    /// means no routes.
    public static func discover(root: String) throws(RouteError) -> RouteTable {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            return RouteTable(routes: [])
        }
        var files: [String] = []
        try list(root: root, folder: "", into: &files)
        return try RouteTable(root: root, files: files)
    }

    /// Appends the files under `root/folder` (paths relative to `root`).
    private static func list(root: String, folder: String, into files: inout [String]) throws(RouteError) {
        let path = folder.isEmpty ? root : root + "/" + folder
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw RouteError("cannot read \(path): \(error.localizedDescription)")
        }
        for name in names where !name.hasPrefix(".") {
            let relative = folder.isEmpty ? name : folder + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                try list(root: root, folder: relative, into: &files)
            } else {
                files.append(relative)
            }
        }
    }
}
