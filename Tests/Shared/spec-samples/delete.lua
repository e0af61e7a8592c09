kv:delete("key")
