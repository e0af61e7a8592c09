-- The blog as an API: list and create posts.
local blog = require("blog")

function GET(ctx)
    return { status = 200, body = blog.get_posts() }
end

function POST(ctx)
    local data = ctx.json or ctx.form
    if type(data) ~= "table" or type(data.slug) ~= "string" or data.slug == "" then
        return fail(400, { error = "slug is required" })
    end
    if blog.get_post(data.slug) then
        return fail(409, { error = "A post with this slug exists" })
    end
    local post = blog.create_post({
        slug = data.slug,
        title = data.title or data.slug,
        content = data.content or "",
        author = data.author or "anonymous",
    })
    return { status = 201, body = post, headers = { Location = "/api/posts/" .. post.slug } }
end
