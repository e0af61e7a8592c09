#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Pauses accepting for a while when `accept` fails for lack of resources (EMFILE, ENFILE,
/// ENOBUFS, ENOMEM), on the listening channel.
///
/// NIO's `AcceptBackoffHandler` is not enough with `ServerBootstrap`: it only delays the next
/// `read()`, while the listening socket stays registered for readability after a failed
/// `accept` (the channel still has a read pending), so the event loop wakes at once, calls
/// `accept` again and spins on a core for as long as descriptors are short. Turning the
/// channel's `autoRead` off unregisters the socket from the selector; it is turned back on
/// after `pause`. Connections arriving meanwhile wait in the listen backlog.
/// Runs on the listening channel's event loop.
final class AcceptPauseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Channel

    private let pause: TimeAmount
    private var paused = false

    init(pause: TimeAmount) { self.pause = pause }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let failure = error as? IOError,
              [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(failure.errnoCode) else {
            return context.fireErrorCaught(error)
        }
        guard !paused, let options = context.channel.syncOptions else { return }
        paused = true
        try? options.setOption(ChannelOptions.autoRead, value: false)
        let channel = context.channel
        context.eventLoop.assumeIsolated().scheduleTask(in: pause) {
            self.paused = false
            try? channel.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
        }
    }
}
