-- POST /api/session with user_id (form or JSON): starts a session for 24 hours.
local session = require("session")

function POST(ctx)
    local user_id = ctx.form.user_id
    if user_id == nil or user_id == "" then
        return { status = 400, body = { error = "user_id is required" } }
    end
    local session_id = session.create(user_id)
    return {
        status = 201,
        body = { session_id = session_id },
        headers = { ["Set-Cookie"] = "session=" .. session_id .. "; Path=/; HttpOnly; SameSite=Lax" },
    }
end
