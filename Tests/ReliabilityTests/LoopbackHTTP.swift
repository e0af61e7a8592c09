#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Bytes over a loopback TCP connection, for clients that must send exactly what a test says
/// (well-formed or not) and see exactly what came back. Blocking sockets with timeouts.
enum LoopbackHTTP {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// What came back for one exchange.
    struct Answer {
        /// Bytes received until the server closed, the read timed out, or the first response ended.
        var bytes: [UInt8]
        /// The status of the first response, if one started.
        var status: Int?
        /// The server closed the connection (rather than the read timing out).
        var closed: Bool
        /// The read timed out with the connection still open.
        var timedOut: Bool
        var text: String { String(decoding: bytes, as: UTF8.self) }

        /// The body of the first response (Content-Length bodies only).
        var body: String {
            guard let range = text.range(of: "\r\n\r\n") else { return "" }
            return String(text[range.upperBound...])
        }
    }

    static func connect(port: Int, timeoutSeconds: Int = 10) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let error = errno
            close(fd)
            throw Failure(description: "cannot connect to 127.0.0.1:\(port): errno \(error)")
        }
        setTimeout(fd, seconds: timeoutSeconds)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    static func setTimeout(_ fd: Int32, seconds: Int, microseconds: Int = 0) {
        var timeout = timeval(tv_sec: seconds, tv_usec: microseconds)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Writes all of `bytes`; false when the peer closed or the write timed out.
    @discardableResult
    static func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }

    /// Reads until the server closes, the timeout passes, or (when `untilOneResponse`) one
    /// complete Content-Length response has arrived.
    static func read(_ fd: Int32, untilOneResponse: Bool = true) -> Answer {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var closed = false
        var timedOut = false
        while true {
            if untilOneResponse, responseComplete(received) { break }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { received += buffer[0..<n]; continue }
            if n == 0 || errno == ECONNRESET || errno == EPIPE { closed = true } else { timedOut = true }
            break
        }
        return Answer(bytes: received, status: status(of: received), closed: closed, timedOut: timedOut)
    }

    /// Sends `bytes` on a new connection and reads the answer.
    static func exchange(port: Int, _ bytes: [UInt8], timeoutSeconds: Int = 10) throws -> Answer {
        let fd = try connect(port: port, timeoutSeconds: timeoutSeconds)
        defer { close(fd) }
        write(fd, bytes)
        return read(fd)
    }

    static func exchange(port: Int, _ text: String, timeoutSeconds: Int = 10) throws -> Answer {
        try exchange(port: port, Array(text.utf8), timeoutSeconds: timeoutSeconds)
    }

    /// A well-formed request on its own connection.
    static func request(port: Int, _ method: String, _ target: String, body: String? = nil,
                        headers: [(String, String)] = [], timeoutSeconds: Int = 30) throws -> Answer {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        var bytes: [UInt8]
        if let body {
            head += "Content-Length: \(body.utf8.count)\r\n\r\n"
            bytes = Array(head.utf8) + Array(body.utf8)
        } else {
            bytes = Array((head + "\r\n").utf8)
        }
        return try exchange(port: port, bytes, timeoutSeconds: timeoutSeconds)
    }

    static func status(of bytes: [UInt8]) -> Int? {
        guard bytes.count >= 12, bytes.starts(with: Array("HTTP/1.".utf8)) else { return nil }
        return Int(String(decoding: bytes[9..<12], as: UTF8.self))
    }

    /// A response head plus its Content-Length body (or a head of a bodiless status) is complete.
    static func responseComplete(_ bytes: [UInt8]) -> Bool {
        guard let end = headEnd(bytes) else { return false }
        let head = String(decoding: bytes[0..<end], as: UTF8.self).lowercased()
        if let status = status(of: bytes), status == 204 || status == 304 || (100..<200).contains(status) { return true }
        for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
            guard let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) else { return false }
            return bytes.count >= end + 4 + length
        }
        return false
    }

    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 { return i }
        return nil
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw Failure(description: "bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A real `luat serve` process on a loopback port.
final class ServeProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    let log: String

    private init(project: TestProject, port: Int, arguments: [String], environment: [String: String]) throws {
        self.port = port
        log = NSTemporaryDirectory() + "luat-rel-serve-\(UUID().uuidString).log"
        process = try Luat.start(["serve", project.root, "--host", "127.0.0.1", "--port", String(port)] + arguments,
                                 in: project.root, stdout: "/dev/null", stderr: log, environment: environment)
    }

    /// Starts a server and waits (polling the port, at most 60 s) until it accepts connections.
    static func start(_ project: TestProject, arguments: [String] = [], environment: [String: String] = [:]) throws -> ServeProcess {
        var output = ""
        for _ in 0..<3 {
            let server = try ServeProcess(project: project, port: try LoopbackHTTP.freePort(), arguments: arguments, environment: environment)
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline && server.process.isRunning {
                if let fd = try? LoopbackHTTP.connect(port: server.port) { close(fd); return server }
                usleep(20_000)
            }
            output = server.output
            server.kill()
        }
        throw LoopbackHTTP.Failure(description: "luat serve did not start: \(output)")
    }

    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// SIGKILL, and wait for the process to be gone.
    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// SIGTERM (graceful), SIGKILL after 20 s.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        kill()
    }
}
