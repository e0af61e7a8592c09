import DequeModule
import NIOCore
import NIOHTTP1

/// One connection's requests: collects each request's head and body under the body limit and
/// the server's body budget, passes the whole request to the `HTTPHandler`, and writes its
/// response back on this connection's event loop.
///
/// Pipelining: requests are answered one at a time, in order. What arrives while a request is
/// with the handler (the parts of pipelined requests, a parse error) is kept in `pending` and
/// taken up once the answer has gone out; reading pauses only while something is kept. A client
/// that waits for each answer therefore never pauses reading, which spares the event loop two
/// `epoll_ctl` calls per request (NIO's `HTTPServerPipelineHandler` pauses reading for every
/// request that is with the handler). Parse errors (NIO's `HTTPParserError`, from the codec
/// before this handler) get a 400 and close the connection, after the answers to the requests
/// before them. `ChannelShouldQuiesceEvent` (graceful shutdown) closes an idle connection at
/// once and a busy one after its current answer (`Connection: close`).
///
/// Every method runs on the channel's event loop; the handler's `respond` may come from any
/// thread and hops back here.
final class HTTPConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// Between requests.
        case idle
        /// Reading a request's body.
        case reading(HTTPRequestHead)
        /// The request went to the handler; its answer has not come yet.
        case waiting
        /// An early answer (413, 503) went out; the rest of the request is read and dropped,
        /// then the connection closes.
        case discarding
        case closed
    }

    /// Something that arrived while a request was with the handler.
    private enum Pending {
        case part(HTTPServerRequestPart)
        case parseError
    }

    private let shared: ConnectionShared
    private let handler: any HTTPHandler
    private var state = State.idle
    private var body: [UInt8] = []
    /// Bytes of `body` reserved in the budget (released when the handler answers).
    private var reserved = 0
    /// Counts requests handed to the handler; an answer for an older one is ignored.
    private var serial = 0
    private var remoteAddress: String?
    /// Kept in arrival order until the answer before them has gone out.
    private var pending = Deque<Pending>()
    /// A `read` was held back because `pending` was not empty.
    private var readHeld = false
    /// `pending` is being taken up (an answer given inline must not start another pass).
    private var draining = false
    /// The server is shutting down: the current answer is the connection's last.
    private var quiescing = false

    init(shared: ConnectionShared, handler: any HTTPHandler) {
        self.shared = shared
        self.handler = handler
    }

    func channelActive(context: ChannelHandlerContext) {
        if let address = context.channel.remoteAddress, let ip = address.ipAddress, let port = address.port {
            remoteAddress = ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .closed = state { return }
        if mustKeep {
            pending.append(.part(part))
        } else {
            process(part, context: context)
        }
    }

    /// What arrives now waits in `pending`: a request is with the handler, or older arrivals
    /// are still waiting.
    private var mustKeep: Bool {
        if case .waiting = state { return true }
        return !pending.isEmpty
    }

    func read(context: ChannelHandlerContext) {
        if pending.isEmpty {
            context.read()
        } else {
            readHeld = true
        }
    }

    private func process(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            guard case .idle = state else { return }
            receive(head, context: context)
        case .body(let buffer):
            guard case .reading = state else { return }
            receive(buffer, context: context)
        case .end:
            switch state {
            case .reading(let head):
                dispatch(head, context: context)
            case .discarding:
                close(context: context, now: true)
            case .idle, .waiting, .closed:
                break
            }
        }
    }

    private func receive(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        state = .reading(head)
        body = []
        reserved = 0
        if let problem = Self.headProblem(head, limits: shared.headerLimits) {
            return refuse(problem.status, detail: problem.detail, context: context)
        }
        if let declared = head.headers.first(name: "content-length").flatMap({ Int($0) }), declared > 0 {
            if declared > shared.maxBodySize {
                return refuse(413, context: context)
            }
            guard shared.budget.reserve(declared) else {
                return refuse(503, context: context)
            }
            reserved = declared
            body.reserveCapacity(declared)
        }
        // A client that waits for permission to send its body (curl does above 1 KiB) gets it
        // now that the body is accepted; a refused one got its final answer instead.
        if head.version == .http1_1, head.headers[canonicalForm: "expect"].contains(where: { HTTPHeaders.equal(String($0), "100-continue") }) {
            emit(ResponseWire.encodeContinue(version: head.version, allocator: context.channel.allocator),
                 thenClose: false, context: context)
        }
    }

    private func receive(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        let total = body.count + buffer.readableBytes
        if total > shared.maxBodySize {
            return refuse(413, context: context)
        }
        if total > reserved {
            // A chunked body (or more than declared, which the codec does not let through).
            guard shared.budget.reserve(total - reserved) else {
                return refuse(503, context: context)
            }
            reserved = total
        }
        body.append(contentsOf: buffer.readableBytesView)
    }

    private func dispatch(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        for field in head.headers { headers.append(Self.lowercased(field.name), field.value) }
        let request = HTTPRequest(method: head.method.rawValue, target: head.uri, headers: headers,
                                  body: body, remoteAddress: remoteAddress)
        body = []
        serial += 1
        state = .waiting
        let answer = Answer(serial: serial, reserved: reserved, isHead: head.method == .HEAD,
                            version: head.version, keepAlive: head.isKeepAlive)
        reserved = 0
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let shared = self.shared
        handler.handle(request) { response in
            if loop.inEventLoop {
                bound.value.0.send(response, answer, context: bound.value.1)
            } else if !shared.stopped.load(ordering: .acquiring) {
                loop.execute { bound.value.0.send(response, answer, context: bound.value.1) }
            } else {
                shared.budget.release(answer.reserved)
            }
        }
    }

    /// What the response to one request needs to know about it.
    private struct Answer: Sendable {
        let serial: Int
        let reserved: Int
        let isHead: Bool
        let version: HTTPVersion
        let keepAlive: Bool
    }

    private func send(_ response: HTTPResponse, _ answer: Answer, context: ChannelHandlerContext) {
        guard answer.serial == serial, case .waiting = state else { return }  // answered twice
        shared.budget.release(answer.reserved)
        state = .idle
        guard context.channel.isActive else {
            close(context: context, now: false)
            return
        }
        var keepAlive = answer.keepAlive && !quiescing
        var response = response
        if let problem = ResponseWire.invalidField(in: response.headers) {
            let text = #"{"error":"Internal Server Error","detail":"\#(problem)"}"#
            response = HTTPResponse(status: 500, headers: HTTPHeaders([("Content-Type", "application/json")]), body: Array(text.utf8))
        }
        var fields: [(name: String, value: String)] = []
        fields.reserveCapacity(response.headers.fields.count)
        for (name, value) in response.headers {
            if Self.isFraming(name) { continue }
            if Self.equal(name, "connection") {
                if Self.equal(value, "close") { keepAlive = false }
                continue
            }
            fields.append((name, value))
        }
        let bodyless = (100..<200).contains(response.status) || response.status == 204 || response.status == 304
        let connection: String? = !keepAlive ? "close" : (answer.version.major == 1 && answer.version.minor == 0 ? "keep-alive" : nil)
        let bytes = ResponseWire.encode(status: response.status, version: answer.version, headers: fields,
                                        contentLength: bodyless ? nil : response.body.count, connection: connection,
                                        body: response.body, omitBody: answer.isHead || bodyless,
                                        allocator: context.channel.allocator)
        emit(bytes, thenClose: !keepAlive, context: context)
        if keepAlive { drain(context: context) }
    }

    /// Writes one whole response. With `thenClose` it is the connection's last: nothing more is
    /// read or answered, and the channel closes once the bytes are out.
    private func emit(_ bytes: ByteBuffer, thenClose: Bool, context: ChannelHandlerContext) {
        guard thenClose else { return context.writeAndFlush(wrapOutboundOut(bytes), promise: nil) }
        close(context: context, now: false)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { _ in channel.close(promise: nil) }
    }

    /// Takes up what arrived while the last request was with the handler, until the next
    /// request goes to the handler; then reads again if a read was held back.
    private func drain(context: ChannelHandlerContext) {
        guard !draining else { return }
        draining = true
        defer { draining = false }
        while let next = pending.first {
            switch state {
            case .waiting: return
            case .closed:
                pending.removeAll()
                return
            case .idle, .reading, .discarding:
                pending.removeFirst()
                switch next {
                case .part(let part): process(part, context: context)
                case .parseError: answerParseError(context: context)
                }
            }
        }
        if readHeld {
            readHeld = false
            context.read()
        }
    }

    /// Drops the body read so far and gives its bytes back to the budget.
    private func dropBody() {
        shared.budget.release(reserved)
        reserved = 0
        body = []
    }

    /// No more requests on this connection: drops what is kept. With `now`, closes the channel
    /// (otherwise the caller closes it, after its last write).
    private func close(context: ChannelHandlerContext, now: Bool) {
        state = .closed
        pending.removeAll()
        if now { context.close(promise: nil) }
    }

    /// A malformed request (NIO's parser gave up): 400 and close, as NIO's
    /// `HTTPServerProtocolErrorHandler` answers, unless an answer already went out for this
    /// request (then only close).
    private func answerParseError(context: ChannelHandlerContext) {
        switch state {
        case .idle, .reading:
            dropBody()
            emit(ResponseWire.encode(status: 400, version: .http1_1, headers: [], contentLength: 0, connection: "close",
                                     body: [], omitBody: true, allocator: context.channel.allocator),
                 thenClose: true, context: context)
        case .discarding:
            close(context: context, now: true)
        case .waiting, .closed:
            break
        }
    }

    /// What is wrong with a request head that NIO's parser accepted: more header fields or
    /// header bytes than `limits` allow (431), or an HTTP/1.1 request without exactly one
    /// `Host` (400, RFC 9112 §3.2). Nil when the head is acceptable.
    static func headProblem(_ head: HTTPRequestHead, limits: HTTPHeaderLimits) -> (status: Int, detail: String)? {
        var count = 0
        var bytes = 0
        var hosts = 0
        for field in head.headers {
            count += 1
            bytes += field.name.utf8.count + field.value.utf8.count + 4
            if equal(field.name, "host") { hosts += 1 }
        }
        if count > limits.maxFields {
            return (431, "more than \(limits.maxFields) header fields (got \(count))")
        }
        if bytes > limits.maxBytes {
            return (431, "header fields exceed \(limits.maxBytes) bytes (got \(bytes))")
        }
        if hosts > 1 { return (400, "more than one Host header") }
        if hosts == 0 && (head.version.major, head.version.minor) >= (1, 1) { return (400, "an HTTP/1.1 request needs a Host header") }
        return nil
    }

    /// Answers before the request has been read (413 over the size limit, 503 over the body
    /// budget, 431 and 400 for its head): drops what was read, reads the rest of the request
    /// without keeping it, and closes the connection at its end (or at the idle timeout).
    /// Reading on, rather than closing at once, lets the client see the answer instead of a reset.
    private func refuse(_ status: Int, detail: String? = nil, context: ChannelHandlerContext) {
        dropBody()
        state = .discarding
        var headers: [(name: String, value: String)] = []
        let text: String
        if let detail {
            let reason = HTTPResponseStatus(statusCode: status).reasonPhrase
            text = #"{"error":"\#(reason)","detail":"\#(detail)"}"#
        } else if status == 413 {
            text = #"{"error":"Payload Too Large","limit":\#(shared.maxBodySize)}"#
        } else {
            text = #"{"error":"Service Unavailable","detail":"too many request bodies in flight; retry later"}"#
            headers.append((name: "Retry-After", value: shared.retryAfter))
        }
        headers.append((name: "Content-Type", value: "application/json"))
        // `Connection: close`, but the rest of the request is still read (see above).
        emit(ResponseWire.encode(status: status, version: .http1_1, headers: headers, contentLength: text.utf8.count,
                                 connection: "close", body: Array(text.utf8), omitBody: false,
                                 allocator: context.channel.allocator),
             thenClose: false, context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            // Nothing came for the idle timeout: close unless the handler is still working on
            // this connection's request (then the client is rightly waiting).
            if case .waiting = state { return }
            close(context: context, now: true)
            return
        }
        if event is ChannelShouldQuiesceEvent {
            switch state {
            case .idle: close(context: context, now: true)
            case .closed: break
            case .reading, .waiting, .discarding:
                // The request under way gets its answer, with `Connection: close`; nothing after it.
                quiescing = true
                pending.removeAll()
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .reading, .discarding:
            dropBody()
            close(context: context, now: false)
        case .waiting:
            pending.removeAll()  // the budget is released when the handler answers
        case .idle, .closed:
            close(context: context, now: false)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            // Anything but a malformed request ends the connection.
            return close(context: context, now: true)
        }
        // The codec reads nothing more after a parse error; the answer waits for those before it.
        if mustKeep {
            pending.append(.parseError)
        } else {
            answerParseError(context: context)
        }
    }

    private static func isFraming(_ name: String) -> Bool {
        equal(name, "content-length") || equal(name, "transfer-encoding")
    }

    static func equal(_ a: String, _ b: String) -> Bool { HTTPHeaders.equal(a, b) }

    private static func lowercased(_ name: String) -> String {
        name.utf8.contains(where: { $0 >= 65 && $0 <= 90 }) ? name.lowercased() : name
    }
}
