kv:put("doc:abc", content, {
    metadata = { author = user_id, version = 1 }
})
