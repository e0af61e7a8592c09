import ArgumentParser
import Foundation
import KVCore
import LuaHost
import LuaRuntime
import LuatProject

/// `luat run FILE.lua [args...]`: runs a Lua file with the `KV`, `json` and `fail` globals
/// and `require` from the project, over the KV store the project's options open (its SQLite
/// file by default, PostgreSQL, or memory).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a Lua file with the KV store, json, fail and the project's require.",
        discussion: """
            The project is the nearest folder, from the current one upwards, holding luat.toml.
            Arguments after the file are the script's: `...` and arg[1], arg[2], ...
            On a Lua error the message and its traceback go to stderr and the exit status is 1.
            """
    )

    @OptionGroup var store: StoreOptions

    @Argument(help: "The Lua file to run.")
    var file: String

    @Argument(parsing: .captureForPassthrough, help: "Arguments passed to the script in `arg`.")
    var arguments: [String] = []

    func run() throws {
        let runtime: LuaRuntime
        do {
            let project = try LuatProject.discover()
            let kv = try project.openStore(store.location)
            runtime = try LuaRuntime(project: project, store: kv)
        } catch {
            Self.report("\(error)")
            throw ExitCode(1)
        }
        let path = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
        do {
            try runtime.run(file: path, arguments: arguments, scriptName: file)
        } catch {
            Self.report(error.description)
            throw ExitCode(1)
        }
        fflush(nil)
    }

    static func report(_ message: String) {
        fflush(nil)
        FileHandle.standardError.write(Data("luat: \(message)\n".utf8))
    }
}
