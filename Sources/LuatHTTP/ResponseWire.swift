import NIOCore
import NIOHTTP1

/// The bytes of HTTP/1.x responses, written straight into one `ByteBuffer` (status line,
/// header fields, blank line, body), so each response is one buffer and one write on the
/// channel instead of three parts through NIO's response encoder and header validator.
///
/// Contract: callers pass header fields that `invalidField(in:)` accepted (the connection
/// handler turns a response with a broken field into a 500 instead); this type does not check
/// them again. Framing fields (`Content-Length`, `Transfer-Encoding`, `Connection`) are the
/// caller's to leave out of `headers` and to pass as arguments.
enum ResponseWire {
    /// A whole response, in a buffer sized for it. `contentLength` nil writes no
    /// `Content-Length` (1xx, 204, 304); `body` is written unless `omitBody` (HEAD).
    static func encode(status: Int, version: HTTPVersion, headers: [(name: String, value: String)],
                       contentLength: Int?, connection: String?, body: [UInt8], omitBody: Bool,
                       allocator: ByteBufferAllocator) -> ByteBuffer {
        // Status line, framing fields and the blank line fit in 96 bytes.
        let fieldBytes = headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        var buffer = allocator.buffer(capacity: 96 + fieldBytes + (omitBody ? 0 : body.count))
        writeStatusLine(status, version: version, into: &buffer)
        for (name, value) in headers { writeField(name, value, into: &buffer) }
        if let contentLength { writeField("Content-Length", String(contentLength), into: &buffer) }
        if let connection { writeField("Connection", connection, into: &buffer) }
        buffer.writeStaticString("\r\n")
        if !omitBody { buffer.writeBytes(body) }
        return buffer
    }

    /// `100 Continue`: a status line and a blank line.
    static func encodeContinue(version: HTTPVersion, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 32)
        writeStatusLine(100, version: version, into: &buffer)
        buffer.writeStaticString("\r\n")
        return buffer
    }

    private static func writeStatusLine(_ status: Int, version: HTTPVersion, into buffer: inout ByteBuffer) {
        buffer.writeStaticString(version.major == 1 && version.minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        buffer.writeString(String(status))
        buffer.writeStaticString(" ")
        buffer.writeString(HTTPResponseStatus(statusCode: status).reasonPhrase)
        buffer.writeStaticString("\r\n")
    }

    private static func writeField(_ name: String, _ value: String, into buffer: inout ByteBuffer) {
        buffer.writeString(name)
        buffer.writeStaticString(": ")
        buffer.writeString(value)
        buffer.writeStaticString("\r\n")
    }

    /// A description of the first header field that cannot be sent as it is: a name that is
    /// not an RFC 9110 token, or a value holding CR, LF, NUL or another control character but
    /// tab (which would let a route split the response). Nil when every field is valid.
    static func invalidField(in headers: some Sequence<(name: String, value: String)>) -> String? {
        for (name, value) in headers {
            guard !name.isEmpty, name.utf8.allSatisfy(isTokenByte) else {
                return "a response header name is not a token (RFC 9110)"
            }
            if value.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) {
                return "response header \(name) has a control character (CR, LF, NUL...) in its value"
            }
        }
        return nil
    }

    /// RFC 9110 `tchar`: `!#$%&'*+-.^_`|~`, digits and letters.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
