function load(ctx)
    return {
        message = "The KV store examples of the Luat spec, served by luat serve",
        routes = {
            "POST /api/session, GET|DELETE /api/session/:id",
            "GET /api/posts (X-Cache: MISS, then HIT for 5 minutes)",
            "GET|POST /api/blog, GET|PUT|PATCH|DELETE /api/blog/:slug",
            "GET /blog, GET /blog/:slug",
            "GET /blog/:slug/edit, POST /blog/:slug/edit (save), POST /blog/:slug/edit?/delete",
        },
    }
end
