import ArgumentParser
import KVCore
import LuatProject

/// A failure a `luat kv` command reports in one line on stderr, exiting with status 1.
struct CommandFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }

    /// The one-line reason of a store, project or command error.
    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as KVError: return error.message
        case let error as LuatProjectError: return error.description
        case let error as CommandFailure: return error.message
        default: return "\(error)"
        }
    }
}

/// Runs a command's body; store, project and command failures become `error: ...` on
/// stderr and exit status 1. Argument errors and explicit exit codes pass through.
func reportingFailures(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error where error is KVError || error is LuatProjectError || error is CommandFailure {
        throw fail(CommandFailure.reason(error))
    }
}

/// Writes `error: message` to stderr and returns the exit code to throw.
func fail(_ message: String) -> ExitCode {
    Terminal.printError("error: \(message)")
    return ExitCode.failure
}
