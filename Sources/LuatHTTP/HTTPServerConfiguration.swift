/// How an `HTTPServer` listens and what it accepts. Every limit has the default `luat serve` uses.
public struct HTTPServerConfiguration: Sendable {
    /// Address to listen on (a host name, IPv4 or IPv6 address).
    public var host: String
    /// Port to listen on; 0 picks a free one (`HTTPServer.start` returns the one bound).
    public var port: Int
    /// Largest request body accepted; a larger one gets 413, refused by its `Content-Length`
    /// before reading it, or as soon as a chunked body passes the limit.
    public var maxBodySize: Int = 26 * 1024 * 1024
    /// Largest total of request-body bytes held at once by every connection (bodies being read
    /// and bodies whose handler has not answered yet). A body that does not fit gets 503 with
    /// `Retry-After`, and its connection is closed; requests without a body are never refused.
    public var maxInflightBodyBytes: Int = 256 * 1024 * 1024
    /// A connection that sends nothing for this long while no request of it is being handled
    /// (idle keep-alive, or a stalled request head or body) is closed.
    public var idleTimeout: Duration = .seconds(60)
    /// At shutdown, how long requests in flight may take before their connections are closed.
    public var shutdownGrace: Duration = .seconds(10)
    /// How long accepting pauses after `accept` fails for lack of file descriptors
    /// (EMFILE/ENFILE), instead of retrying at once and spinning.
    public var acceptBackoff: Duration = .seconds(1)
    /// The `Retry-After` seconds of a 503 for a full body budget.
    public var retryAfterSeconds = 1
    /// Event-loop threads (accepting, parsing, writing; handlers run their blocking work elsewhere).
    public var eventLoops: Int

    public init(host: String, port: Int, eventLoops: Int) {
        self.host = host
        self.port = port
        self.eventLoops = max(1, eventLoops)
    }
}
