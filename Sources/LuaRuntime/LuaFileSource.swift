/// How the runtime reads Lua files (the files `require` loads and the files it runs). The
/// native layer reads the disk (`LuaHost.DiskFileSource`); a WASM build can serve files from
/// memory.
public protocol LuaFileSource: AnyObject {
    /// The bytes of the file at the absolute, normalised `path`, or nil when there is no such file.
    func readFile(atPath path: String) -> [UInt8]?
    /// `path` with symbolic links resolved, so `require` cannot leave the project through a
    /// link; return `path` itself where links do not exist.
    func resolvedPath(_ path: String) -> String
}

extension LuaFileSource {
    public func resolvedPath(_ path: String) -> String { path }
}

/// Files held in memory, by absolute path: for tests and for hosts without a file system.
public final class MemoryFileSource: LuaFileSource {
    public var files: [String: [UInt8]]

    public init(_ files: [String: String] = [:]) {
        var bytes: [String: [UInt8]] = [:]
        for (path, text) in files { bytes[path] = Array(text.utf8) }
        self.files = bytes
    }

    public func readFile(atPath path: String) -> [UInt8]? { files[path] }
}

/// Lexical path arithmetic on `/`-separated paths (no file system access).
public enum LuaPath {
    /// `path` with `.` and `..` segments and repeated slashes removed. Absolute paths stay
    /// absolute; `..` never climbs above `/`.
    public static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if let last = parts.last, last != ".." { parts.removeLast() } else if !absolute { parts.append(part) }
                continue
            }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    /// `base` joined with `relative` (kept as is when already absolute), normalised.
    public static func join(_ base: String, _ relative: String) -> String {
        relative.hasPrefix("/") ? normalize(relative) : normalize(base + "/" + relative)
    }

    /// The folder holding `path`.
    public static func directory(of path: String) -> String {
        let normalized = normalize(path)
        guard let slash = normalized.lastIndex(of: "/") else { return "." }
        if slash == normalized.startIndex { return "/" }
        return String(normalized[..<slash])
    }

    /// Whether `path` is `folder` or inside it (both normalised, absolute).
    public static func isInside(_ path: String, _ folder: String) -> Bool {
        if folder == "/" { return path.hasPrefix("/") }
        return path == folder || path.hasPrefix(folder + "/")
    }

    /// `path` relative to `folder` when inside it, else `path` unchanged.
    public static func relative(_ path: String, to folder: String) -> String {
        guard isInside(path, folder), path != folder else { return path }
        if folder == "/" { return String(path.dropFirst()) }
        return String(path.dropFirst(folder.utf8.count + 1))
    }
}
