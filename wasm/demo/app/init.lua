-- Globals the spec's examples call but do not define; run once when the engine starts.

-- The session example's id generator: 32 hex digits.
function generate_id()
    local digits = {}
    for i = 1, 32 do digits[i] = string.format("%x", math.random(0, 15)) end
    return table.concat(digits)
end

-- The caching example's "database": the blog's posts.
function fetch_posts_from_db()
    return require("blog").get_posts()
end
