-- GET /blog/:slug: one post.
local blog = require("blog")

function load(ctx)
    local post = blog.get_post(ctx.params.slug)
    if not post then
        return { error = "Post not found", status = 404 }
    end
    return { post = post }
end
