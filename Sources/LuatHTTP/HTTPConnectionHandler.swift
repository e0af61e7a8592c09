import NIOCore
import NIOHTTP1

/// One connection's requests: collects each request's head and body under the body limit and
/// the server's body budget, passes the whole request to the `HTTPHandler`, and writes its
/// response back on this connection's event loop.
///
/// NIO's `HTTPServerPipelineHandler` (before this one) delivers one request at a time and holds
/// pipelined ones until the previous response has ended, so responses go out in order; its
/// `HTTPServerProtocolErrorHandler` answers 400 to malformed requests and closes. Every method
/// runs on the channel's event loop; the handler's `respond` may come from any thread and hops
/// back here.
final class HTTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

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

    private let shared: ConnectionShared
    private let handler: any HTTPHandler
    private var state = State.idle
    private var body: [UInt8] = []
    /// Bytes of `body` reserved in the budget (released when the handler answers).
    private var reserved = 0
    /// Counts requests handed to the handler; an answer for an older one is ignored.
    private var serial = 0
    private var remoteAddress: String?

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
        switch unwrapInboundIn(data) {
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
                state = .closed
                context.close(promise: nil)
            case .idle, .waiting, .closed:
                break
            }
        }
    }

    private func receive(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        state = .reading(head)
        body = []
        reserved = 0
        guard let declared = head.headers.first(name: "content-length").flatMap({ Int($0) }), declared > 0 else { return }
        if declared > shared.maxBodySize {
            return refuse(413, context: context)
        }
        guard shared.budget.reserve(declared) else {
            return refuse(503, context: context)
        }
        reserved = declared
        body.reserveCapacity(declared)
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
            state = .closed
            return
        }
        var keepAlive = answer.keepAlive
        var headers = NIOHTTP1.HTTPHeaders()
        headers.reserveCapacity(response.headers.fields.count + 2)
        for (name, value) in response.headers {
            if Self.isFraming(name) { continue }
            if Self.equal(name, "connection") {
                if Self.equal(value, "close") { keepAlive = false }
                continue
            }
            headers.add(name: name, value: value)
        }
        let bodyless = (100..<200).contains(response.status) || response.status == 204 || response.status == 304
        if !bodyless { headers.add(name: "Content-Length", value: String(response.body.count)) }
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        } else if answer.version.major == 1 && answer.version.minor == 0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        let head = HTTPResponseHead(version: answer.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !answer.isHead && !bodyless && !response.body.isEmpty {
            var buffer = context.channel.allocator.buffer(capacity: response.body.count)
            buffer.writeBytes(response.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            state = .closed
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Answers before the request has been read (413 over the size limit, 503 over the body
    /// budget): drops what was read, reads the rest of the request without keeping it, and
    /// closes the connection at its end (or at the idle timeout). Reading on, rather than
    /// closing at once, lets the client see the answer instead of a reset.
    private func refuse(_ status: Int, context: ChannelHandlerContext) {
        shared.budget.release(reserved)
        reserved = 0
        body = []
        state = .discarding
        var headers = NIOHTTP1.HTTPHeaders()
        let text: String
        if status == 413 {
            text = #"{"error":"Payload Too Large","limit":\#(shared.maxBodySize)}"#
        } else {
            text = #"{"error":"Service Unavailable","detail":"too many request bodies in flight; retry later"}"#
            headers.add(name: "Retry-After", value: shared.retryAfter)
        }
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            // Nothing came for the idle timeout: close unless the handler is still working on
            // this connection's request (then the client is rightly waiting).
            if case .waiting = state { return }
            state = .closed
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .reading, .discarding:
            shared.budget.release(reserved)
            reserved = 0
            body = []
            state = .closed
        case .waiting:
            break  // released when the handler answers
        case .idle, .closed:
            state = .closed
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Protocol errors were answered (400) by NIO's error handler; anything else ends the connection.
        context.close(promise: nil)
    }

    private static func isFraming(_ name: String) -> Bool {
        equal(name, "content-length") || equal(name, "transfer-encoding")
    }

    static func equal(_ a: String, _ b: String) -> Bool { HTTPHeaders.equal(a, b) }

    private static func lowercased(_ name: String) -> String {
        name.utf8.contains(where: { $0 >= 65 && $0 <= 90 }) ? name.lowercased() : name
    }
}
