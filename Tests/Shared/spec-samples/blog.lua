-- src/lib/blog.lua
local kv = KV.namespace("blog")

local M = {}

function M.get_posts()
    local result = kv:list({ prefix = "post:" })
    local posts = {}

    for _, key in ipairs(result.keys) do
        local post = kv:get(key.name, "json")
        if post then
            table.insert(posts, post)
        end
    end

    return posts
end

function M.get_post(slug)
    return kv:get("post:" .. slug, "json")
end

function M.create_post(post)
    post.created = os.time()
    kv:put("post:" .. post.slug, json.encode(post), {
        metadata = {
            author = post.author,
            created = post.created
        }
    })
    return post
end

function M.update_post(slug, data)
    local existing = M.get_post(slug)
    if not existing then
        return nil, "Post not found"
    end

    for k, v in pairs(data) do
        existing[k] = v
    end
    existing.updated = os.time()

    kv:put("post:" .. slug, json.encode(existing))
    return existing
end

function M.delete_post(slug)
    kv:delete("post:" .. slug)
end

return M
