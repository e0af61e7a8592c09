-- Get a namespace
local kv = KV.namespace("my-namespace")

-- Store a value
kv:put("user:123", "Alice")

-- Retrieve a value
local name = kv:get("user:123")
print(name)  -- "Alice"

-- Delete a value
kv:delete("user:123")
