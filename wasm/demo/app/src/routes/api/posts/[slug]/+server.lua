-- One post: read, update, delete.
local blog = require("blog")

function GET(ctx)
    local post = blog.get_post(ctx.params.slug)
    if not post then
        return { status = 404, body = { error = "Post not found" } }
    end
    return { body = post }
end

function PUT(ctx)
    local post, err = blog.update_post(ctx.params.slug, ctx.json or ctx.form)
    if err then
        return fail(404, { error = err })
    end
    return { body = post }
end

PATCH = PUT

function DELETE(ctx)
    blog.delete_post(ctx.params.slug)
    return { status = 204 }
end
