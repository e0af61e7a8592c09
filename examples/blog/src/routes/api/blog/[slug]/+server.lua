-- GET, PUT (or PATCH) and DELETE /api/blog/:slug.
local blog = require("blog")

function GET(ctx)
    local post = blog.get_post(ctx.params.slug)
    if not post then
        return { status = 404, body = { error = "Post not found" } }
    end
    return { status = 200, body = post }
end

function PUT(ctx)
    local data = {}
    for _, field in ipairs({ "title", "content", "author" }) do
        if ctx.form[field] ~= nil then data[field] = ctx.form[field] end
    end
    local post, err = blog.update_post(ctx.params.slug, data)
    if err then
        return { status = 404, body = { error = err } }
    end
    return { status = 200, body = post }
end

PATCH = PUT

function DELETE(ctx)
    blog.delete_post(ctx.params.slug)
    return { status = 204 }
end
