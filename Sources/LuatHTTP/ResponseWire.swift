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
    /// Appends a whole response to `buffer`. `contentLength` nil writes no `Content-Length`
    /// (1xx, 204, 304); `body` is written unless `omitBody` (HEAD).
    static func write(status: Int, version: HTTPVersion, headers: some Sequence<(name: String, value: String)>,
                      contentLength: Int?, connection: String?, body: [UInt8], omitBody: Bool,
                      into buffer: inout ByteBuffer) {
        writeStatusLine(status, version: version, into: &buffer)
        for (name, value) in headers { writeField(name, value, into: &buffer) }
        if let contentLength { writeField("Content-Length", String(contentLength), into: &buffer) }
        if let connection { writeField("Connection", connection, into: &buffer) }
        buffer.writeStaticString("\r\n")
        if !omitBody { buffer.writeBytes(body) }
    }

    /// `100 Continue`: a status line and a blank line.
    static func writeContinue(version: HTTPVersion, into buffer: inout ByteBuffer) {
        writeStatusLine(100, version: version, into: &buffer)
        buffer.writeStaticString("\r\n")
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
