local value, meta = kv:getWithMetadata("key")

if value then
    print(value)
    print(meta.expiration)  -- Unix timestamp or nil
    print(meta.metadata)    -- Custom metadata table or nil
end
