kv:put("user:123:profile", ...)
kv:put("user:123:settings", ...)
kv:list({ prefix = "user:123:" })
