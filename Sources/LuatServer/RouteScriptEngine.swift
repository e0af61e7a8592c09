import Foundation
import KVCore

/// What a route file defines, as far as the server needs to know to pick a function.
public struct RouteExports: Sendable, Equatable {
    /// Global functions of the file's environment among the ones the server calls
    /// (`GET`, `POST`, …, `load`).
    public var functions: Set<String>
    /// The `actions` table of a page file: each action is a function or a table of
    /// per-method functions. Nil when the file has no `actions` table.
    public var actions: [String: Action]?

    public enum Action: Sendable, Equatable {
        case function
        case methods(Set<String>)
    }

    public init(functions: Set<String> = [], actions: [String: Action]? = nil) {
        self.functions = functions
        self.actions = actions
    }
}

/// What a route function returned.
public enum ScriptReturn: Sendable, Equatable {
    /// A plain value (nil when the function returned nothing).
    case value(JSONValue?)
    /// `fail(status, data)`.
    case failure(status: Int, data: JSONValue?)
}

/// A Lua error: its message and, when known, the `file:line` it came from.
public struct ScriptError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var location: String?

    public init(message: String, location: String? = nil) {
        self.message = message
        self.location = location
    }

    /// Splits a Lua message `path/to/file.lua:12: text` into message and location.
    public init(luaMessage: String) {
        // Find `<something ending in .lua>:<digits>: ` at the start.
        if let range = luaMessage.range(of: #"^[^\n]*?\.lua:\d+: "#, options: .regularExpression) {
            var location = String(luaMessage[range])
            location.removeLast(2)
            self.init(message: String(luaMessage[range.upperBound...]), location: location)
        } else {
            self.init(message: luaMessage)
        }
    }

    public var description: String { location.map { "\($0): \(message)" } ?? message }
}

/// One Lua state as the server sees it. A state is used by one thread at a time; it loads
/// each route file once, into an environment of its own, and keeps it.
public protocol RouteScriptEngine: AnyObject {
    /// Loads `file` (or takes it from the cache) and says what it defines.
    func exports(of file: String) throws(ScriptError) -> RouteExports
    /// Calls the function at `function` (e.g. `["GET"]`, `["actions", "delete"]`,
    /// `["actions", "default", "POST"]`) in `file`'s environment with `ctx`.
    func call(file: String, function: [String], ctx: RequestContext) throws(ScriptError) -> ScriptReturn
}
