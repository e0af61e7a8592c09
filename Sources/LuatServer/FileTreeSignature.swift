#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A fingerprint of the files under some folders (path, size, modification time), for
/// `--watch`: when it changes, routes are found again and Lua states start afresh.
struct FileTreeSignature: Equatable {
    private var entries: [String: [Int64]] = [:]

    init(folders: [String]) {
        for folder in folders { scan(folder) }
    }

    private mutating func scan(_ folder: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            // A single file (or nothing yet): its own entry.
            var info = stat()
            if stat(folder, &info) == 0 { entries[folder] = Self.entry(info) } else { entries[folder] = [-1] }
            return
        }
        for name in names where !name.hasPrefix(".") {
            let path = folder + "/" + name
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            entries[path] = Self.entry(info)
            if (info.st_mode & S_IFMT) == S_IFDIR { scan(path) }
        }
    }

    private static func entry(_ info: stat) -> [Int64] {
        #if canImport(Darwin)
        let mtime = info.st_mtimespec
        #else
        let mtime = info.st_mtim
        #endif
        return [Int64(info.st_size), Int64(mtime.tv_sec), Int64(mtime.tv_nsec), Int64(info.st_ino)]
    }
}
