import KVCore
import LuaRuntime

/// The route files that answer one request: what `luat serve` found on disk for the matched
/// folder, or what the WASM engine's host names. Paths are opaque to the dispatcher; it only
/// hands them back to the engine.
public struct RouteFiles: Sendable, Equatable {
    /// The folder's `+server.lua`, if any.
    public var endpoint: String?
    /// The folder's `+page.server.lua`, if any.
    public var page: String?
    /// `+layout.server.lua` files on the way to the folder (itself included), outermost first.
    public var layouts: [String]

    public init(endpoint: String? = nil, page: String? = nil, layouts: [String] = []) {
        self.endpoint = endpoint
        self.page = page
        self.layouts = layouts
    }
}

/// What a route file defines, as far as the dispatcher needs to know to pick a function.
public struct RouteExports: Sendable, Equatable {
    /// Global functions of the file's environment among the ones the dispatcher calls
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
    /// Why the script stopped: its own error, or a limit of its Lua state.
    public enum Kind: Sendable, Equatable {
        case error
        /// The request's time budget ran out (`LuaError.Kind.timeLimit`).
        case timeLimit
        /// The Lua state's memory limit refused an allocation.
        case memoryLimit
        /// The host stopped the state (shutting down).
        case interrupted
    }

    public var kind: Kind = .error
    public var message: String
    public var location: String?

    public init(message: String, location: String? = nil, kind: Kind = .error) {
        self.message = message
        self.location = location
        self.kind = kind
    }

    /// A `LuaError` as the dispatcher sees it: message split from its location, kind kept.
    public init(_ error: LuaError) {
        self.init(luaMessage: error.message)
        switch error.kind {
        case .script: kind = .error
        case .timeLimit: kind = .timeLimit
        case .memoryLimit: kind = .memoryLimit
        case .interrupted: kind = .interrupted
        }
    }

    /// Splits a Lua message `path/to/file.lua:12: text` into message and location: the
    /// first `<anything but a newline>.lua:<digits>: ` at the start of the message.
    public init(luaMessage: String) {
        let bytes = Array(luaMessage.utf8)
        let suffix = Array(".lua:".utf8)
        var i = 0
        while i + suffix.count <= bytes.count, bytes[i] != UInt8(ascii: "\n") {
            if bytes[i] == suffix[0] && bytes[i..<(i + suffix.count)].elementsEqual(suffix) {
                var j = i + suffix.count
                let digits = j
                while j < bytes.count, bytes[j] >= UInt8(ascii: "0"), bytes[j] <= UInt8(ascii: "9") { j += 1 }
                if j > digits, j + 1 < bytes.count, bytes[j] == UInt8(ascii: ":"), bytes[j + 1] == UInt8(ascii: " ") {
                    self.init(message: String(decoding: bytes[(j + 2)...], as: UTF8.self),
                              location: String(decoding: bytes[..<j], as: UTF8.self))
                    return
                }
            }
            i += 1
        }
        self.init(message: luaMessage)
    }

    public var description: String {
        if let location { return location + ": " + message }
        return message
    }
}

/// One Lua state as the dispatcher sees it: it says what a route file defines and calls its
/// functions with the request's `ctx`. `Context` is the host's request model (`luat serve`'s
/// `RequestContext`, the WASM engine's Lua table); the dispatcher only passes it through.
/// A state is used by one thread at a time.
public protocol RouteEngine: AnyObject {
    associatedtype Context
    /// Loads `file` (or takes it from a cache) and says what it defines.
    func exports(of file: String) throws(ScriptError) -> RouteExports
    /// Calls the function at `function` (e.g. `["GET"]`, `["actions", "delete"]`,
    /// `["actions", "default", "POST"]`) in `file`'s environment with `ctx`.
    func call(file: String, function: [String], ctx: Context) throws(ScriptError) -> ScriptReturn
}
