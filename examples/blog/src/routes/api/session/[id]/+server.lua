-- GET /api/session/:id reads a session, DELETE /api/session/:id ends it.
local session = require("session")

function GET(ctx)
    local data = session.get(ctx.params.id)
    if not data then
        return { status = 404, body = { error = "Session not found" } }
    end
    return { status = 200, body = data }
end

function DELETE(ctx)
    session.destroy(ctx.params.id)
    return { status = 204 }
end
