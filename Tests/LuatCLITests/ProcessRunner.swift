import Foundation

/// Errors of the process helper itself (not of the process it runs).
struct ProcessRunnerError: Error, CustomStringConvertible {
    let description: String
}

/// The built `luat` executable: next to the test bundle (the test target depends on the
/// executable target, so `swift build --build-tests` builds it there). `LUAT_BINARY` overrides.
func luatExecutable() throws -> URL {
    if let path = ProcessInfo.processInfo.environment["LUAT_BINARY"] { return URL(fileURLWithPath: path) }
    var folders: [URL] = [Bundle.main.bundleURL]
    if let executable = Bundle.main.executableURL { folders.append(executable.deletingLastPathComponent()) }
    folders.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    for bundle in Bundle.allBundles { folders.append(bundle.bundleURL.deletingLastPathComponent()) }
    for folder in folders {
        for candidate in [folder, folder.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("luat")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
               FileManager.default.isExecutableFile(atPath: url.path) {
                return url
            }
        }
    }
    throw ProcessRunnerError(description: "cannot find the luat executable near \(folders.map(\.path))")
}

/// Runs `luat` with `arguments` in `directory` as a real process, feeding `stdin` (or nothing),
/// and returns its exit status, standard output (bytes) and standard error (text).
func runLuat(_ arguments: [String], in directory: String, stdin: Data? = nil,
             environment: [String: String]? = nil) throws -> (status: Int32, stdout: Data, stderr: String) {
    // A child that exits without reading its stdin must not kill the tests with SIGPIPE.
    signal(SIGPIPE, SIG_IGN)
    let process = Process()
    process.executableURL = try luatExecutable()
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    if let environment { process.environment = environment }

    let output = Pipe(), errors = Pipe(), input = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = input
    try process.run()

    // Read both pipes and write stdin concurrently, so a full pipe never blocks the child.
    final class Collected: @unchecked Sendable { var stdout = Data(), stderr = Data() }
    let collected = Collected()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) {
        collected.stdout = output.fileHandleForReading.readDataToEndOfFile()
    }
    DispatchQueue.global().async(group: group) {
        collected.stderr = errors.fileHandleForReading.readDataToEndOfFile()
    }
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try? input.fileHandleForWriting.close()
    group.wait()
    process.waitUntilExit()
    return (process.terminationStatus, collected.stdout, String(decoding: collected.stderr, as: UTF8.self))
}
