-- GET /api/blog lists posts; POST /api/blog creates one (slug, title, content, author).
local blog = require("blog")

function GET(ctx)
    return { status = 200, body = blog.get_posts() }
end

function POST(ctx)
    local slug = ctx.form.slug
    if type(slug) ~= "string" or not slug:match("^[%w_%-]+$") then
        return { status = 400, body = { error = "slug must be letters, digits, - or _" } }
    end
    if blog.get_post(slug) then
        return { status = 409, body = { error = "A post with this slug already exists" } }
    end
    local post = blog.create_post({
        slug = slug,
        title = ctx.form.title,
        content = ctx.form.content,
        author = ctx.form.author,
    })
    return { status = 201, body = post, headers = { Location = "/api/blog/" .. slug } }
end
