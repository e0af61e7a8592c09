-- List all keys
local result = kv:list()
for _, key in ipairs(result.keys) do
    print(key.name)
end

-- List with prefix
local posts = kv:list({ prefix = "post:" })
for _, key in ipairs(posts.keys) do
    print(key.name)       -- e.g., "post:123"
    print(key.expiration) -- Unix timestamp or nil
    print(key.metadata)   -- Metadata table or nil
end

-- Pagination
local page1 = kv:list({ limit = 100 })
if not page1.list_complete then
    local page2 = kv:list({
        limit = 100,
        cursor = page1.cursor
    })
end
