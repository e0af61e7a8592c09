/// A Lua error seen from Swift: a script that failed to compile or raised an error, or a
/// value that could not cross between Swift and Lua.
public struct LuaError: Error, Equatable, CustomStringConvertible {
    /// Why the code stopped.
    public enum Kind: Sendable, Equatable {
        /// The code raised an error (or failed to compile, or a value could not cross).
        case script
        /// The call ran past its time budget (`LuaLimits.timeBudgetMilliseconds`).
        case timeLimit
        /// The state's memory limit refused an allocation (`LuaLimits.memoryLimitBytes`).
        case memoryLimit
        /// The host interrupted the state (`LuaRuntime.interrupt()`), e.g. at shutdown.
        case interrupted
    }

    public let kind: Kind
    /// The error message, e.g. `src/routes/+page.server.lua:12: attempt to index a nil value`.
    public let message: String
    /// Lua's `stack traceback:` lines (file:line of each frame), when the error came from running code.
    public let traceback: String?

    public init(_ message: String, traceback: String? = nil, kind: Kind = .script) {
        self.kind = kind
        self.message = message
        self.traceback = traceback
    }

    /// The message, then the traceback if there is one.
    public var description: String {
        guard let traceback, !traceback.isEmpty else { return message }
        return message + "\n" + traceback
    }

    /// Splits the text Lua's `debug.traceback` produced into message and traceback.
    static func fromTraceback(_ text: String) -> LuaError {
        let marker = Array("\nstack traceback:".utf8)
        let bytes = Array(text.utf8)
        if bytes.count >= marker.count {
            var i = 0
            while i + marker.count <= bytes.count {
                if bytes[i] == marker[0] && Array(bytes[i..<(i + marker.count)]) == marker {
                    return LuaError(String(decoding: bytes[..<i], as: UTF8.self),
                                    traceback: String(decoding: bytes[(i + 1)...], as: UTF8.self))
                }
                i += 1
            }
        }
        return LuaError(text)
    }
}
