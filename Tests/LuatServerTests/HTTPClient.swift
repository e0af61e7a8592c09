#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import KVCore

/// A response as received.
struct HTTPResult: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as JSON (`.null` when it is not JSON).
    var json: JSONValue { (try? JSONValue.parse(body)) ?? .null }
}

/// A small HTTP/1.1 client over a blocking socket: exactly the request written, no
/// redirects followed, so tests see what the server sent. Each request runs on a thread
/// of its own, so many can be in flight at once.
enum HTTPClient {
    static func request(port: Int, _ method: String, _ target: String, headers: [(String, String)] = [],
                        body: [UInt8] = [], chunked: Bool = false) async throws -> HTTPResult {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    continuation.resume(returning: try send(port: port, method, target, headers: headers, body: body, chunked: chunked))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    static func get(port: Int, _ target: String, headers: [(String, String)] = []) async throws -> HTTPResult {
        try await request(port: port, "GET", target, headers: headers)
    }

    static func form(port: Int, _ method: String, _ target: String, _ fields: [(String, String)]) async throws -> HTTPResult {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._*"))
        let encoded = fields.map { name, value in
            "\(name.addingPercentEncoding(withAllowedCharacters: allowed)!)=\(value.addingPercentEncoding(withAllowedCharacters: allowed)!)"
        }.joined(separator: "&")
        return try await request(port: port, method, target, headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array(encoded.utf8))
    }

    static func json(port: Int, _ method: String, _ target: String, _ text: String) async throws -> HTTPResult {
        try await request(port: port, method, target, headers: [("Content-Type", "application/json")], body: Array(text.utf8))
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func connect(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { close(fd); return nil }
        return fd
    }

    static func send(port: Int, _ method: String, _ target: String, headers: [(String, String)], body: [UInt8], chunked: Bool) throws -> HTTPResult {
        guard let fd = connect(port: port) else { throw Failure(description: "cannot connect to port \(port)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        var payload: [UInt8]
        if chunked {
            head += "Transfer-Encoding: chunked\r\n\r\n"
            payload = Array(head.utf8)
            var offset = 0
            while offset < body.count {
                let piece = body[offset..<min(offset + 1024, body.count)]
                payload += Array((String(piece.count, radix: 16) + "\r\n").utf8) + piece + Array("\r\n".utf8)
                offset += piece.count
            }
            payload += Array("0\r\n\r\n".utf8)
        } else {
            if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) { head += "Content-Length: \(body.count)\r\n" }
            head += "\r\n"
            payload = Array(head.utf8) + body
        }
        // A server may answer (413) before reading everything: a failed write is not the end.
        _ = writeAll(fd, payload)

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        func readMore() throws -> Bool {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { throw Failure(description: "read failed: errno \(errno)") }
            if n == 0 { return false }
            received += buffer[0..<n]
            return true
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        while headEnd == nil {
            headEnd = find(separator, in: received)
            if headEnd == nil { guard try readMore() else { throw Failure(description: "connection closed before the response head") } }
        }
        let headText = String(decoding: received[0..<headEnd!], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw Failure(description: "bad status line: \(headText)") }
        let responseHeaders: [(name: String, value: String)] = lines.compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var result = HTTPResult(status: status, headers: responseHeaders, body: [])
        let bodyStart = headEnd! + 4
        if method == "HEAD" || status == 204 || status == 304 || (100..<200).contains(status) { return result }
        if let length = result.header("Content-Length").flatMap(Int.init) {
            while received.count < bodyStart + length { guard try readMore() else { break } }
            result.body = Array(received[bodyStart..<min(received.count, bodyStart + length)])
        } else {
            while try readMore() {}
            result.body = Array(received[bodyStart...])
        }
        return result
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
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

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
        return nil
    }
}
