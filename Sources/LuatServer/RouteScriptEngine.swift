import LuatRouting

/// One Lua state as `luat serve` sees it: a `RouteEngine` whose `ctx` is the server's
/// `RequestContext`. The rules that pick the function and turn its results into a response
/// live in `LuatRouting` (shared with the WASM engine); this module keeps the HTTP layer,
/// route matching on disk and the state pool.
public protocol RouteScriptEngine: RouteEngine where Context == RequestContext {}

extension RouteDispatcher {
    /// Answers `ctx` with the files of `route` (its `+server.lua`, `+page.server.lua` and layouts).
    public func respond<Engine: RouteScriptEngine>(route: Route, ctx: RequestContext, engine: Engine) -> RouteResponse {
        respond(files: RouteFiles(endpoint: route.endpoint, page: route.page, layouts: route.layouts),
                method: ctx.method, action: ctx.action, ctx: ctx, engine: engine)
    }
}
