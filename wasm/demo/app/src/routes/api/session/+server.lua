-- Sessions over the spec's session module: POST creates, GET reads, DELETE destroys.
local session = require("session")

function POST(ctx)
    local user_id = ctx.json and ctx.json.user_id or ctx.form.user_id
    if not user_id then
        return fail(400, { error = "user_id is required" })
    end
    local id = session.create(user_id)
    return { status = 201, body = { session_id = id }, headers = { ["Set-Cookie"] = "session=" .. id .. "; HttpOnly; Path=/" } }
end

function GET(ctx)
    local id = ctx.query.id or ctx.headers["X-Session-Id"]
    local data = id and session.get(id)
    if not data then
        return { status = 404, body = { error = "No such session" } }
    end
    return { body = data }
end

function DELETE(ctx)
    local id = ctx.query.id or ctx.headers["X-Session-Id"]
    if id then session.destroy(id) end
    return { status = 204 }
end
