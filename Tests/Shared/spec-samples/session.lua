-- src/lib/session.lua
local kv = KV.namespace("sessions")

local M = {}

function M.create(user_id)
    local session_id = generate_id()
    kv:put("session:" .. session_id, json.encode({
        user_id = user_id,
        created = os.time()
    }), {
        expirationTtl = 86400  -- 24 hours
    })
    return session_id
end

function M.get(session_id)
    return kv:get("session:" .. session_id, "json")
end

function M.destroy(session_id)
    kv:delete("session:" .. session_id)
end

return M
