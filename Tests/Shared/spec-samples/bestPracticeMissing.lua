local data = kv:get("key", "json") or {}
