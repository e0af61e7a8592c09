import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif

/// A buffered, binary-safe writer to a file descriptor (stdout or a file): bytes go out
/// exactly as given, in chunks, so output of any size streams.
final class ByteSink {
    private let fd: Int32
    private let ownsDescriptor: Bool
    private let name: String
    private var buffer: [UInt8] = []
    private let chunk = 1 << 16

    private init(fd: Int32, ownsDescriptor: Bool, name: String) {
        self.fd = fd
        self.ownsDescriptor = ownsDescriptor
        self.name = name
        buffer.reserveCapacity(chunk)
    }

    deinit { if ownsDescriptor { close(fd) } }

    static func standardOutput() -> ByteSink { ByteSink(fd: STDOUT_FILENO, ownsDescriptor: false, name: "standard output") }

    /// Creates (or truncates) the file at `path`.
    static func file(_ path: String) throws -> ByteSink {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw CommandFailure("cannot write \(path): \(String(cString: strerror(errno)))") }
        return ByteSink(fd: fd, ownsDescriptor: true, name: path)
    }

    func write<S: Sequence<UInt8>>(_ bytes: S) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= chunk { try flush() }
    }

    func write(_ text: String) throws { try write(text.utf8) }

    func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { raw in
                systemWrite(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                buffer.removeAll(keepingCapacity: true)
                throw CommandFailure("cannot write \(name): \(reason)")
            }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and, for a file, makes it durable.
    func finish() throws {
        try flush()
        if ownsDescriptor && fsync(fd) != 0 {
            throw CommandFailure("cannot write \(name): \(String(cString: strerror(errno)))")
        }
    }
}
