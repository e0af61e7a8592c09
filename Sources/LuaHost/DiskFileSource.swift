import Foundation
import LuaRuntime

/// Reads Lua files from the disk for a `LuaRuntime`.
public final class DiskFileSource: LuaFileSource {
    public init() {}

    public func readFile(atPath path: String) -> [UInt8]? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let data = FileManager.default.contents(atPath: path) else { return nil }
        return [UInt8](data)
    }

    /// The path with every symbolic link resolved (`realpath`), or the path itself when it does not exist.
    public func resolvedPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
