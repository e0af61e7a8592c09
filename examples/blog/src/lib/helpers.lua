-- Helpers the spec's examples call as globals: `generate_id` (session.lua) and
-- `fetch_posts_from_db` (routes/api/posts/+server.lua). src/hooks.server.lua requires
-- this module when a Lua state starts, so every route file sees them.
local blog = require("blog")

-- 32 random hex digits.
function generate_id()
    local parts = {}
    for i = 1, 4 do
        parts[i] = string.format("%08x", math.random(0, 0xffffffff))
    end
    return table.concat(parts)
end

-- The "database" of this app is the blog namespace of the KV store.
function fetch_posts_from_db()
    return blog.get_posts()
end

return { generate_id = generate_id, fetch_posts_from_db = fetch_posts_from_db }
