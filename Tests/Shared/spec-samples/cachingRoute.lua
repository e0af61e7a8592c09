-- src/routes/api/posts/+server.lua
local kv = KV.namespace("cache")

function GET(ctx)
    -- Check cache first
    local cached = kv:get("posts:all", "json")
    if cached then
        return {
            status = 200,
            body = cached,
            headers = { ["X-Cache"] = "HIT" }
        }
    end

    -- Fetch from database
    local posts = fetch_posts_from_db()

    -- Cache for 5 minutes
    kv:put("posts:all", json.encode(posts), {
        expirationTtl = 300
    })

    return {
        status = 200,
        body = posts,
        headers = { ["X-Cache"] = "MISS" }
    }
end
