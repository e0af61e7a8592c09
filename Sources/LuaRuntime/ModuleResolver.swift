/// Where `require(name)` looks, the ways Luat projects write module names:
///
/// - `require("blog")`, `require("lib/blog")`, `require("$lib/blog")`: the project's lib
///   folder (`[routing] lib_dir`, default `src/lib`).
/// - `require("./helpers")`, `require("../../lib/blog")`: relative to the folder of the file
///   that calls `require`.
/// - Dotted names without a slash, `require("utils.strings")`: `utils/strings.lua` in the lib folder.
/// - Other names with a slash, `require("utils/strings")`: relative to the lib folder.
///
/// A trailing `.lua` is ignored. Each name is tried as `X.lua`, then `X/init.lua`. No path
/// outside the project folder is ever tried.
public struct ModuleResolver: Sendable {
    /// Absolute, normalised project root.
    public let root: String
    /// Absolute, normalised lib folder.
    public let libDirectory: String

    public init(root: String, libDirectory: String) {
        self.root = LuaPath.normalize(root)
        self.libDirectory = LuaPath.join(root, libDirectory)
    }

    /// The files to try for `name`, in order, when required from `callerFile` (absolute
    /// path, or nil when not called from a file: relative names then start at the root).
    public func candidates(for name: String, callerFile: String?) throws(LuaError) -> [String] {
        if name.isEmpty { throw LuaError("module name must not be empty") }
        var stem = name
        if stem.hasSuffix(".lua") { stem = String(stem.dropLast(4)) }
        let base: String
        if stem == "." || stem == ".." || stem.hasPrefix("./") || stem.hasPrefix("../") {
            base = LuaPath.join(callerFile.map { LuaPath.directory(of: $0) } ?? root, stem)
        } else if stem.hasPrefix("$lib/") {
            base = LuaPath.join(libDirectory, String(stem.dropFirst(5)))
        } else if stem.hasPrefix("lib/") {
            base = LuaPath.join(libDirectory, String(stem.dropFirst(4)))
        } else if stem.hasPrefix("/") {
            base = LuaPath.normalize(stem)
        } else if stem.contains("/") {
            base = LuaPath.join(libDirectory, stem)
        } else {
            base = LuaPath.join(libDirectory, String(stem.map { $0 == "." ? "/" : $0 }))
        }
        guard LuaPath.isInside(base, root) else {
            throw LuaError("module \"\(name)\" would be \(base), outside the project folder \(root)")
        }
        return [base + ".lua", base + "/init.lua"]
    }

    /// How a path is shown in messages and tracebacks: relative to the root when inside it.
    public func display(_ path: String) -> String { LuaPath.relative(path, to: root) }

    /// The absolute path of a chunk name given by `display`.
    public func absolute(fromDisplay name: String) -> String { LuaPath.join(root, name) }
}
