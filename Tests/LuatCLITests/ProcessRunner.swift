import Foundation

/// The `luat` executable SwiftPM built beside this test bundle (the test target depends
/// on the executable target, so it is always built first). `LUAT_BINARY` overrides.
func luatBinaryPath() throws -> String {
    if let path = ProcessInfo.processInfo.environment["LUAT_BINARY"] { return path }
    var folders: [URL] = []
    // macOS: the .xctest bundle sits in the build folder.
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        folders.append(bundle.bundleURL.deletingLastPathComponent())
    }
    // Linux: the test runner is itself an executable in the build folder.
    folders.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent())
    folders.append(Bundle.main.bundleURL)
    folders.append(Bundle.main.bundleURL.deletingLastPathComponent())
    for folder in folders {
        let candidate = folder.appendingPathComponent("luat").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw ProcessRunnerError("cannot find the built luat binary near \(folders.map(\.path))")
}

struct ProcessRunnerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `luat` with `arguments` in `directory` and waits for it to exit. Standard input is
/// `stdin` when given, otherwise empty (never a terminal). Output goes through temporary
/// files, so output of any size cannot block the child. `environment` replaces the
/// inherited environment when given.
func runLuat(_ arguments: [String], in directory: String, stdin: Data? = nil,
             environment: [String: String]? = nil) throws -> (status: Int32, stdout: Data, stderr: String) {
    let process = Process()
    if let environment { process.environment = environment }
    process.executableURL = URL(fileURLWithPath: try luatBinaryPath())
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)

    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("luat-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outURL = scratch.appendingPathComponent("stdout")
    let errURL = scratch.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let outHandle = try FileHandle(forWritingTo: outURL)
    let errHandle = try FileHandle(forWritingTo: errURL)
    defer { try? outHandle.close(); try? errHandle.close() }
    process.standardOutput = outHandle
    process.standardError = errHandle

    var inHandle: FileHandle? = nil
    if let stdin {
        let inURL = scratch.appendingPathComponent("stdin")
        try stdin.write(to: inURL)
        inHandle = try FileHandle(forReadingFrom: inURL)
        process.standardInput = inHandle
    } else {
        process.standardInput = FileHandle.nullDevice
    }
    defer { try? inHandle?.close() }

    try process.run()
    process.waitUntilExit()
    let stdout = try Data(contentsOf: outURL)
    let stderr = String(decoding: try Data(contentsOf: errURL), as: UTF8.self)
    return (process.terminationStatus, stdout, stderr)
}
