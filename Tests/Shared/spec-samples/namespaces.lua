local users = KV.namespace("users")
local posts = KV.namespace("posts")

-- Data in "users" namespace doesn't affect "posts" namespace
users:put("key", "value1")
posts:put("key", "value2")
