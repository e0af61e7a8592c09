-- GET /blog: every post (the delete action redirects here).
local blog = require("blog")

function load(ctx)
    return { posts = blog.get_posts() }
end
