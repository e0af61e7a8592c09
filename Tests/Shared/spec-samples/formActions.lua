-- src/routes/blog/[slug]/edit/+page.server.lua
local blog = require("blog")

function load(ctx)
    local post = blog.get_post(ctx.params.slug)
    if not post then
        return { error = "Post not found", status = 404 }
    end
    return { post = post }
end

actions = {
    default = function(ctx)
        local result, err = blog.update_post(ctx.params.slug, {
            title = ctx.form.title,
            content = ctx.form.content
        })

        if err then
            return fail(400, { error = err })
        end

        return { saved = true }
    end,

    delete = function(ctx)
        blog.delete_post(ctx.params.slug)
        return { redirect = "/blog" }
    end
}
