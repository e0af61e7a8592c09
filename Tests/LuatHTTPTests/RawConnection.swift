#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A blocking loopback TCP connection that writes exactly the bytes given and parses responses
/// as they come, so tests see the server's framing (pipelining, early answers, closes).
/// Reads and writes time out after 10 s, so a server that never answers (or stops reading) fails
/// the test instead of hanging it.
final class RawConnection: @unchecked Sendable {
    let fd: Int32
    private var received: [UInt8] = []

    struct Failure: Error, CustomStringConvertible { let description: String }

    struct Response: Sendable {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: [UInt8]
        func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// `fd` is set only once connected: `deinit` closes it, and runs also when `init` throws
    /// after setting it (closing it here too would close whatever file took its number meanwhile).
    init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw Failure(description: "cannot connect to port \(port) (errno \(errno))")
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
    }

    deinit { close(fd) }

    /// Writes everything; false when the server closed or reset the connection first.
    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }

    /// Reads more bytes; false at end of stream (or reset). Throws on timeout.
    private func readMore() throws -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK { throw Failure(description: "no data from the server within 10 s") }
            return false  // ECONNRESET and the like: the connection is gone
        }
        if n == 0 { return false }
        received += buffer[0..<n]
        return true
    }

    /// The next response (framed by Content-Length; none for HEAD when `head` is true); nil when
    /// the server closed the connection before sending one.
    func readResponse(head: Bool = false) throws -> Response? {
        var headEnd: Int?
        while true {
            headEnd = Self.find([13, 10, 13, 10], in: received)
            if headEnd != nil { break }
            guard try readMore() else { return nil }
        }
        let headText = String(decoding: received[0..<headEnd!], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw Failure(description: "bad status line in \(headText)") }
        let headers: [(name: String, value: String)] = lines.compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var response = Response(status: status, headers: headers, body: [])
        let start = headEnd! + 4
        let length = head ? 0 : (response.header("Content-Length").flatMap(Int.init) ?? 0)
        while received.count < start + length {
            guard try readMore() else { throw Failure(description: "connection closed inside a response body") }
        }
        response.body = Array(received[start..<(start + length)])
        received.removeFirst(start + length)
        return response
    }

    /// True when the server closes the connection (end of stream or reset) with nothing more
    /// sent; throws when it stays open for 10 s.
    func closedByServer() throws -> Bool {
        while try readMore() {}
        return received.isEmpty
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
        return nil
    }
}

/// Runs blocking socket work on a thread of its own, so a test that waits for the server does
/// not hold a thread of Swift's cooperative pool (which a concurrent task of the same test,
/// such as a shutdown in progress, may need).
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.start()
    }
}
