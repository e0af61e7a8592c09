-- Get as text (default)
local value = kv:get("key")

-- Get and parse as JSON
local data = kv:get("config", "json")
print(data.setting)

-- Non-existent keys return nil
local missing = kv:get("nonexistent")  -- nil
