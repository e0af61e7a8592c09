import LuatRouting

/// One Lua state as `luat serve` sees it: a `RouteEngine` whose `ctx` is the server's
/// `RequestContext`. The rules that pick the function and turn its results into a response
/// live in `LuatRouting` (shared with the WASM engine); this module keeps the HTTP layer,
/// route matching on disk and the state pool.
public protocol RouteScriptEngine: RouteEngine where Context == RequestContext {
    /// Runs `body` (one request: every call it makes into this engine) under one time budget.
    func withRequestBudget<R>(_ body: () -> R) -> R
    /// True once a call hit a limit of the state (time, memory): the pool replaces the state
    /// before its next request, so nothing a stopped script left half done is seen again.
    var needsReplacement: Bool { get }
}

extension RouteScriptEngine {
    public func withRequestBudget<R>(_ body: () -> R) -> R { body() }
    public var needsReplacement: Bool { false }
}

extension RouteDispatcher {
    /// Answers `ctx` with the files of `route` (its `+server.lua`, `+page.server.lua` and
    /// layouts), all of it under the engine's one request budget.
    public func respond<Engine: RouteScriptEngine>(route: Route, ctx: RequestContext, engine: Engine) -> RouteResponse {
        engine.withRequestBudget {
            respond(files: RouteFiles(endpoint: route.endpoint, page: route.page, layouts: route.layouts),
                    method: ctx.method, action: ctx.action, ctx: ctx, engine: engine)
        }
    }
}
