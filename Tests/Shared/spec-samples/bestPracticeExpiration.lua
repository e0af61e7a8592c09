kv:put("cache:key", data, { expirationTtl = 3600 })
