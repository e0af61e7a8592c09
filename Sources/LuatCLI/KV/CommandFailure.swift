import ArgumentParser
import KVCore
import LuatProject

/// A failure a `luat kv` command reports in one line on stderr, exiting with status 1.
struct CommandFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Runs a command's body; store, project and command failures become `error: ...` on
/// stderr and exit status 1. Argument errors and explicit exit codes pass through.
func reportingFailures(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as KVError {
        throw fail(error.message)
    } catch let error as LuatProjectError {
        throw fail(error.description)
    } catch let error as CommandFailure {
        throw fail(error.message)
    }
}

/// Writes `error: message` to stderr and returns the exit code to throw.
func fail(_ message: String) -> ExitCode {
    Terminal.printError("error: \(message)")
    return ExitCode.failure
}
