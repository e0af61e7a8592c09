/// The Lua half of the engine's route calls: loads a `+server.lua` or `+page.server.lua`
/// source into an environment of its own, builds `ctx`, picks the function the way
/// `luat serve` does, and turns what it returns into `status, headers, body`.
///
/// The rules mirror `LuatServer.RouteDispatcher` (issue 4):
/// - `+server.lua`: the global function named after the method; `HEAD` falls back to `GET`
///   without a body; a missing method is 405 with `Allow`. A returned table with `status`,
///   `body`, `headers` or `redirect` steers the response; a string is a text body, another
///   table a JSON body, `nil` an empty 200. `fail(status, data)` answers `status` with `data`.
/// - `+page.server.lua`: `load(ctx)` answers GET; `actions[name]` (name from `?/name`, else
///   `default`; a function or a table of per-method functions) answers POST/PUT/PATCH/DELETE;
///   `redirect` gives 303 + `Location`, `status` and `headers` keys steer, other keys are the
///   JSON body; `fail` sets the status.
/// - A Lua error is a 500 JSON error with the message and `file:line` (only a generic
///   message when the engine runs in production mode).
///
/// It is stored in the registry (`luat.wasm.dispatch`) and called with the request as JSON.
let routeGlueSource = #"""
local json, native_fail = json, fail
local type, pairs, ipairs, next, tostring, tonumber = type, pairs, ipairs, next, tostring, tonumber
local setmetatable, getmetatable, load, xpcall, error = setmetatable, getmetatable, load, xpcall, error
local sort, concat, lower, match, sub = table.sort, table.concat, string.lower, string.match, string.sub
local math_type = math.type
local G = _G

-- `fail` is the native one; the engine only notes which tables it made, so that an endpoint
-- can answer a failure with its data (a page reads `status` from any table).
local failures = setmetatable({}, { __mode = "k" })
G.fail = function(...)
    local t = native_fail(...)
    failures[t] = true
    return t
end

local OBJECT = { __jsontype = "object" }
local function object(t) return setmetatable(t or {}, OBJECT) end

local ENDPOINT_METHODS = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" }
local ACTION_METHODS = { "POST", "PUT", "PATCH", "DELETE" }
local IS_ACTION_METHOD = { POST = true, PUT = true, PATCH = true, DELETE = true }

-- Responses ---------------------------------------------------------------------------------

local function has_header(headers, name)
    local wanted = lower(name)
    for _, h in ipairs(headers) do
        if lower(h[1]) == wanted then return true end
    end
    return false
end

local function with_default(headers, name, value)
    if has_header(headers, name) then return headers end
    local out = { { name, value } }
    for _, h in ipairs(headers) do out[#out + 1] = h end
    return out
end

local function response(status, headers, body)
    return { status = status, headers = headers or {}, body = body or "" }
end

local function json_response(value, status, headers)
    return response(status, with_default(headers or {}, "Content-Type", "application/json"), json.encode(value))
end

local function text_response(text, status, headers)
    return response(status, with_default(headers or {}, "Content-Type", "text/plain; charset=utf-8"), text)
end

local function error_response(status, message, headers)
    return json_response(object({ error = message }), status, headers)
end

local function status_code(v)
    if math_type(v) == "integer" then
        if v >= 100 and v <= 599 then return v end
    elseif math_type(v) == "float" then
        if v == v // 1 and v >= 100 and v <= 599 then return math.tointeger(v) end
    elseif type(v) == "string" then
        local n = math.tointeger(tonumber(v))
        if n and n >= 100 and n <= 599 and match(v, "^%s*[+-]?%d+%s*$") then return n end
    end
    return nil
end

local function scalar_text(v)
    local t = type(v)
    if t == "string" then return v end
    if t == "number" then
        if math_type(v) == "integer" then return tostring(v) end
        local ok, text = pcall(json.encode, v)
        return ok and text or nil
    end
    if t == "boolean" then return v and "true" or "false" end
    return nil
end

local function header_list(h)
    local out = {}
    if type(h) ~= "table" then return out end
    local names = {}
    for k in pairs(h) do if type(k) == "string" then names[#names + 1] = k end end
    sort(names)
    for _, name in ipairs(names) do
        local v = h[name]
        if type(v) == "table" then
            for _, item in ipairs(v) do
                local s = scalar_text(item)
                if s then out[#out + 1] = { name, s } end
            end
        else
            local s = scalar_text(v)
            if s then out[#out + 1] = { name, s } end
        end
    end
    return out
end

local function is_empty_table(v)
    return type(v) == "table" and next(v) == nil
end

local function is_array(t)
    if type(t) ~= "table" then return false end
    local mt = getmetatable(t)
    if mt and mt.__jsontype == "object" then return false end
    if mt and mt.__jsontype == "array" then return true end
    local n = 0
    for k in pairs(t) do
        if math_type(k) ~= "integer" or k < 1 then return false end
        n = n + 1
    end
    return n > 0 and n == #t
end

local function body_response(body, status, headers)
    if type(body) == "string" then return text_response(body, status, headers) end
    return json_response(body, status, headers)
end

local function redirect_response(location, status, headers)
    local code = status_code(status)
    if not code or code < 300 or code > 399 then code = 303 end
    local out = { { "Location", location } }
    for _, h in ipairs(headers) do out[#out + 1] = h end
    return response(code, out, "")
end

local STEERING = { status = true, body = true, headers = true, redirect = true }

-- What a `+server.lua` function returned.
local function endpoint_response(result)
    if failures[result] then
        local data, any = object(), false
        for k, v in pairs(result) do
            if k ~= "status" then data[k] = v; any = true end
        end
        if not any then return response(result.status, {}, "") end
        return body_response(data, result.status, {})
    end
    if result == nil then return response(200, {}, "") end
    if type(result) == "string" then return text_response(result, 200) end
    if type(result) ~= "table" or is_array(result) then
        return body_response(result, 200, {})
    end
    local steering = false
    for k in pairs(STEERING) do if result[k] ~= nil then steering = true end end
    if not steering then
        if is_empty_table(result) then return response(200, {}, "") end
        return body_response(result, 200, {})
    end
    local headers = header_list(result.headers)
    if type(result.redirect) == "string" then
        return redirect_response(result.redirect, result.status, headers)
    end
    local status = status_code(result.status) or 200
    local body = result.body
    if body == nil or body == json.null then return response(status, headers, "") end
    return body_response(body, status, headers)
end

-- A page's data (`load` or an action result) as it builds up.
local function page_data(result)
    local data = { members = object(), headers = {} }
    if failures[result] then
        data.status, data.failed = result.status, true
        for k, v in pairs(result) do
            if k ~= "status" then data.members[k] = v end
        end
        return data
    end
    if result == nil then return data end
    if type(result) ~= "table" or is_array(result) then
        if not is_empty_table(result) then data.members.data = result end
        return data
    end
    for k, v in pairs(result) do
        if k == "status" then data.status = status_code(v)
        elseif k == "headers" then data.headers = header_list(v)
        elseif k == "redirect" and type(v) == "string" then data.redirect = v
        else data.members[k] = v end
    end
    return data
end

local function page_response(data)
    if data.redirect then return redirect_response(data.redirect, data.status, data.headers) end
    return json_response(data.members, data.status or 200, data.headers)
end

-- Requests ----------------------------------------------------------------------------------

local function headers_table(h)
    local t = {}
    if type(h) == "table" then
        for k, v in pairs(h) do if type(k) == "string" then t[k] = v end end
    end
    local by_lower = {}
    for k, v in pairs(t) do by_lower[lower(k)] = v end
    -- Case-insensitive lookup: ctx.headers["Content-Type"] finds "content-type".
    return setmetatable(t, {
        __jsontype = "object",
        __index = function(_, k) if type(k) == "string" then return by_lower[lower(k)] end end,
    })
end

local function plain(v, fallback)
    if v == nil or v == json.null then return fallback end
    return v
end

local function make_ctx(c)
    local ctx = {}
    for k, v in pairs(c) do ctx[k] = plain(v) end
    ctx.method = type(c.method) == "string" and c.method or "GET"
    ctx.params = plain(c.params, object())
    ctx.query = plain(c.query, object())
    ctx.form = plain(c.form, object())
    ctx.headers = headers_table(plain(c.headers, {}))
    return ctx
end

local function load_route(source, file)
    if sub(source, 1, 1) == "#" then source = "--" .. source end
    local env = setmetatable({}, { __index = G })
    local chunk, err = load(source, "@" .. file, "t", env)
    if not chunk then error(err, 0) end
    chunk()
    return env
end

local function endpoint(env, ctx)
    local method = ctx.method
    local fn = env[method]
    if type(rawget(env, method)) == "function" then
        return endpoint_response(fn(ctx))
    end
    if method == "HEAD" and type(rawget(env, "GET")) == "function" then
        local r = endpoint_response(env.GET(ctx))
        r.body = ""
        return r
    end
    local allow = {}
    for _, m in ipairs(ENDPOINT_METHODS) do
        if type(rawget(env, m)) == "function" or (m == "HEAD" and type(rawget(env, "GET")) == "function") then
            allow[#allow + 1] = m
        end
    end
    return error_response(405, "Method Not Allowed", { { "Allow", concat(allow, ", ") } })
end

local function page(env, ctx)
    local method = ctx.method
    if method == "GET" or method == "HEAD" then
        local data = { members = object(), headers = {} }
        if type(rawget(env, "load")) == "function" then data = page_data(env.load(ctx)) end
        local r = page_response(data)
        if method == "HEAD" then r.body = "" end
        return r
    end
    local actions = rawget(env, "actions")
    if type(actions) == "table" and IS_ACTION_METHOD[method] then
        local name = type(ctx.action) == "string" and ctx.action or "default"
        local action = actions[name]
        if type(action) == "function" then
            return page_response(page_data(action(ctx)))
        elseif type(action) == "table" then
            if type(action[method]) == "function" then
                return page_response(page_data(action[method](ctx)))
            end
            local allow = { "GET", "HEAD" }
            for _, m in ipairs(ACTION_METHODS) do
                if type(action[m]) == "function" then allow[#allow + 1] = m end
            end
            return error_response(405, "Method Not Allowed", { { "Allow", concat(allow, ", ") } })
        end
        return error_response(404, "No action named '" .. name .. "'")
    end
    local allow = { "GET", "HEAD" }
    if type(actions) == "table" then for _, m in ipairs(ACTION_METHODS) do allow[#allow + 1] = m end end
    return error_response(405, "Method Not Allowed", { { "Allow", concat(allow, ", ") } })
end

local function lua_error_response(e, production)
    if production then return error_response(500, "Internal Server Error") end
    local message = type(e) == "string" and e or tostring(e)
    local location, rest = match(message, "^([^\n]-%.lua:%d+): (.*)$")
    local body = object({ error = "Internal Server Error", message = rest or message })
    if location then body.location = location end
    return json_response(body, 500)
end

local function dispatch(request_json)
    local request = json.decode(request_json)
    local production = request.production == true
    local ok, r = xpcall(function()
        local env = load_route(request.source, request.file)
        local ctx = make_ctx(request.ctx or {})
        if request.kind == "api" then return endpoint(env, ctx) end
        return page(env, ctx)
    end, function(e) return e end)
    if not ok then r = lua_error_response(r, production) end
    local headers = {}
    for i, h in ipairs(r.headers) do headers[i] = { h[1], h[2] } end
    return r.status, json.encode(setmetatable(headers, { __jsontype = "array" })), r.body
end

debug.getregistry()["luat.wasm.dispatch"] = dispatch
"""#

/// Calls the stored dispatcher with the request (JSON) as its argument.
let routeCallSource = #"""
return debug.getregistry()["luat.wasm.dispatch"](...)
"""#
