-- Simple put
kv:put("key", "value")

-- Put with TTL (expires in 1 hour)
kv:put("session:abc", "data", {
    expirationTtl = 3600
})

-- Put with specific expiration
kv:put("token:xyz", "secret", {
    expiration = os.time() + 86400  -- Tomorrow
})

-- Put with metadata
kv:put("post:123", json.encode(post), {
    metadata = {
        author = "alice",
        created = os.time()
    }
})
